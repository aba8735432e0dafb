package harness

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// goEvent is one test2json event (go doc test2json).
type goEvent struct {
	Action      string
	Package     string
	Test        string
	Output      string
	FailedBuild string
	ImportPath  string
}

// ParseGoTest reads go test output: test2json events (`go test -json`)
// when the log has any, else the plain text of `go test -v` (what a
// wrapper such as `make test` prints). See GoTestRun.
func ParseGoTest(log string) map[string]Status {
	return GoTestRun(log).Statuses
}

// GoRun is what a go test log says: a status per test, and whether the
// run as a whole failed in a way the statuses do not show.
type GoRun struct {
	Statuses map[string]Status
	// Invalid names the packages that failed with no failing test (a build
	// failure, a TestMain that exited non-zero, a panic outside a test, a
	// -timeout): their tests after the failure never ran and those before
	// it cannot vouch for the package. Empty when there were none.
	Invalid string
}

// GoTestRun reads a go test log. With -json, a test's status is its final
// pass, fail or skip event; subtests are "TestX/sub"; text a test prints is
// carried in "output" events and never counts, so a test printing
// "--- PASS: TestY" cannot pass TestY; a test still running when its
// package fails (the test binary crashed or timed out) is FAILED. Without
// any test2json event the log is read as `go test -v` text, as SWE-bench's
// parse_log_gotest does ("--- PASS: TestX (0.00s)", indented for
// subtests), except that a PASS or SKIP line counts only after the
// "=== RUN" line of the same test: plain text has no framing, so this is
// the one check against a test printing result lines of its own.
//
// Test ids carry no package, as in SWE-bench's parse_log_gotest; when two
// packages report the same test id, a failure in either wins.
func GoTestRun(log string) GoRun {
	if r, ok := goJSONRun(log); ok {
		return r
	}
	return goTextRun(log)
}

func goJSONRun(log string) (GoRun, bool) {
	type key struct{ pkg, test string }
	final := make(map[key]Status)
	running := make(map[key]bool)
	realFail := make(map[string]bool) // packages with a test that failed itself
	pkgWhy := make(map[string]string) // what the package's own output says went wrong
	var badPkgs []string
	var order []key
	events := 0
	for _, line := range strings.Split(log, "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 2 || line[0] != '{' {
			continue
		}
		var ev goEvent
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Action == "" {
			continue
		}
		events++
		k := key{ev.Package, ev.Test}
		if ev.Action == "output" && ev.Package != "" {
			switch {
			case strings.HasPrefix(ev.Output, "panic: test timed out after"):
				pkgWhy[ev.Package] = "timed out"
			case strings.Contains(ev.Output, "[build failed]"), strings.Contains(ev.Output, "[setup failed]"):
				pkgWhy[ev.Package] = "did not build"
			}
		}
		if ev.Test == "" {
			if ev.Action == "fail" && ev.Package != "" {
				for rk := range running {
					if rk.pkg == ev.Package {
						final[rk] = StatusFailed
						delete(running, rk)
					}
				}
				if !realFail[ev.Package] {
					why := "failed with no failing test"
					if w, ok := pkgWhy[ev.Package]; ok {
						why = w
					}
					if ev.FailedBuild != "" {
						why = "did not build"
					}
					badPkgs = append(badPkgs, ev.Package+" "+why)
				}
			}
			continue
		}
		var st Status
		switch ev.Action {
		case "run":
			if _, seen := final[k]; !seen && !running[k] {
				order = append(order, k)
			}
			running[k] = true
			continue
		case "pass":
			st = StatusPassed
		case "fail":
			st = StatusFailed
			realFail[ev.Package] = true
		case "skip":
			st = StatusSkipped
		default:
			continue
		}
		if _, seen := final[k]; !seen && !running[k] {
			order = append(order, k)
		}
		delete(running, k)
		final[k] = st
	}
	if events == 0 {
		return GoRun{}, false
	}
	out := make(map[string]Status, len(final))
	for _, k := range order {
		st, ok := final[k]
		if !ok {
			continue // still running when the log ended: missing
		}
		if prev, dup := out[k.test]; dup && prev == StatusFailed {
			continue
		}
		out[k.test] = st
	}
	return GoRun{Statuses: out, Invalid: invalidPackages(badPkgs)}, true
}

var (
	goResultRe = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(([^)]*)\)$`)
	goRunRe    = regexp.MustCompile(`^=== (?:RUN|CONT|PAUSE|NAME)\s+(\S+)$`)
	// goPkgFailRe is go test's line for a package that failed:
	// "FAIL\tpkg\t0.01s", "FAIL\tpkg [build failed]", "FAIL\tpkg [setup failed]".
	goPkgFailRe = regexp.MustCompile(`^FAIL\s+(\S+)\s+(?:\[(build|setup) failed\]|\d+(?:\.\d+)?s)\s*$`)
	goPkgOKRe   = regexp.MustCompile(`^ok\s+(\S+)\s`)
)

// goTextRun reads plain `go test -v` output. go test prints each package's
// output in one piece, ending with its "ok" or "FAIL" line, so the tests
// that failed since the previous package line belong to the package.
func goTextRun(log string) GoRun {
	out := make(map[string]Status)
	started := make(map[string]bool)
	var badPkgs []string
	failedHere := false
	timedOut := false
	for _, raw := range strings.Split(log, "\n") {
		line := strings.TrimSpace(cleanLine(raw))
		if m := goRunRe.FindStringSubmatch(line); m != nil {
			started[m[1]] = true
			continue
		}
		if m := goResultRe.FindStringSubmatch(line); m != nil {
			name := m[2]
			switch m[1] {
			case "FAIL":
				out[name] = StatusFailed
				failedHere = true
			case "PASS", "SKIP":
				if !started[name] {
					continue // a result line of a test that never started
				}
				if out[name] == StatusFailed {
					continue
				}
				out[name] = StatusPassed
				if m[1] == "SKIP" {
					out[name] = StatusSkipped
				}
			}
			continue
		}
		if strings.HasPrefix(line, "panic: test timed out after") {
			timedOut = true
			continue
		}
		if m := goPkgFailRe.FindStringSubmatch(line); m != nil {
			switch {
			case m[2] != "":
				badPkgs = append(badPkgs, m[1]+" did not build")
			case timedOut:
				badPkgs = append(badPkgs, m[1]+" timed out")
			case !failedHere:
				badPkgs = append(badPkgs, m[1]+" failed with no failing test")
			}
			failedHere, timedOut = false, false
			started = make(map[string]bool)
			continue
		}
		if goPkgOKRe.MatchString(line) {
			failedHere, timedOut = false, false
			started = make(map[string]bool)
		}
	}
	return GoRun{Statuses: out, Invalid: invalidPackages(badPkgs)}
}

func invalidPackages(bad []string) string {
	if len(bad) == 0 {
		return ""
	}
	sort.Strings(bad)
	const max = 5
	more := ""
	if len(bad) > max {
		more = fmt.Sprintf(" and %d more", len(bad)-max)
		bad = bad[:max]
	}
	return "go test failed as a whole: package " + strings.Join(bad, ", package ") + more
}
