package golang

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// LogParser reads go test output into a status per test id (ParseTestRun's
// parse, TestRunOf): test2json events when the log has any, else go test
// -v text.
type LogParser struct{}

var _ sdk.LogParser = LogParser{}

// ParseLog implements sdk.LogParser; cfg is unused.
func (LogParser) ParseLog(_ context.Context, _ sdk.Config, log string) (map[string]sdk.TestStatus, error) {
	return ParseTestJSON(log), nil
}

// ParseTestJSON is LogParser's parse, usable without a plugin host: the
// statuses of TestRunOf.
func ParseTestJSON(log string) map[string]sdk.TestStatus {
	return TestRunOf(log).Statuses
}

// Run is what a go test log says: a status per test, and whether the run
// as a whole failed in a way the statuses do not show.
type Run struct {
	Statuses map[string]sdk.TestStatus
	// Invalid names the packages that failed with no failing test (a build
	// failure, a TestMain that exited non-zero, a panic outside a test, a
	// -timeout): their tests after the failure never ran and those before
	// it cannot vouch for the package. Empty when there were none.
	Invalid string
	// JSON is set when the log held test2json events.
	JSON bool
}

// event is the part of a test2json event (go doc test2json) the parser
// reads.
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	FailedBuild string
}

// TestRunOf reads a go test log. With -json, a test's status is its final
// pass, fail or skip event; subtests are "TestX/sub"; text a test prints
// is carried in "output" events and never counts, so a test printing
// "--- PASS: TestY" cannot pass TestY; a test still running when its
// package fails (the test binary crashed or timed out) is FAILED. Without
// any test2json event the log is read as `go test -v` text, as SWE-bench's
// parse_log_gotest does ("--- PASS: TestX (0.00s)", indented for
// subtests), except that a PASS or SKIP line counts only after the "===
// RUN" line of the same test: plain text has no framing, so this is the
// one check against a test printing result lines of its own.
//
// Test ids carry no package, as in SWE-bench's parse_log_gotest; when two
// packages report the same test id, a failure in either wins.
func TestRunOf(log string) Run {
	if r, ok := jsonRun(log); ok {
		return r
	}
	return textRun(log)
}

// events returns the test2json events of a log; lines that are not JSON
// objects with an Action are skipped.
func events(log string) []event {
	var out []event
	for _, line := range strings.Split(log, "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 2 || line[0] != '{' {
			continue
		}
		var ev event
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Action == "" {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func jsonRun(log string) (Run, bool) {
	evs := events(log)
	if len(evs) == 0 {
		return Run{}, false
	}
	type key struct{ pkg, test string }
	final := map[key]sdk.TestStatus{}
	running := map[key]bool{}
	realFail := map[string]bool{} // packages with a test that failed itself
	pkgWhy := map[string]string{} // what the package's own output says went wrong
	var badPkgs []string
	var order []key
	for _, ev := range evs {
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
						final[rk] = sdk.TestFailed
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
		var st sdk.TestStatus
		switch ev.Action {
		case "run":
			if _, seen := final[k]; !seen && !running[k] {
				order = append(order, k)
			}
			running[k] = true
			continue
		case "pass":
			st = sdk.TestPassed
		case "fail":
			st = sdk.TestFailed
			realFail[ev.Package] = true
		case "skip":
			st = sdk.TestSkipped
		default:
			continue
		}
		if _, seen := final[k]; !seen && !running[k] {
			order = append(order, k)
		}
		delete(running, k)
		final[k] = st
	}
	out := make(map[string]sdk.TestStatus, len(final))
	for _, k := range order {
		st, ok := final[k]
		if !ok {
			continue // still running when the log ended: missing
		}
		if prev, dup := out[k.test]; dup && prev == sdk.TestFailed {
			continue
		}
		out[k.test] = st
	}
	return Run{Statuses: out, Invalid: invalidPackages(badPkgs), JSON: true}, true
}

var (
	resultRe = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(([^)]*)\)$`)
	runRe    = regexp.MustCompile(`^=== (?:RUN|CONT|PAUSE|NAME)\s+(\S+)$`)
	// pkgFailRe is go test's line for a package that failed:
	// "FAIL\tpkg\t0.01s", "FAIL\tpkg [build failed]", "FAIL\tpkg [setup failed]".
	pkgFailRe = regexp.MustCompile(`^FAIL\s+(\S+)\s+(?:\[(build|setup) failed\]|\d+(?:\.\d+)?s)\s*$`)
	pkgOKRe   = regexp.MustCompile(`^ok\s+(\S+)\s`)
	escapeSeq = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])`)
)

// textRun reads plain `go test -v` output. go test prints each package's
// output in one piece, ending with its "ok" or "FAIL" line, so the tests
// that failed since the previous package line belong to the package.
func textRun(log string) Run {
	out := map[string]sdk.TestStatus{}
	started := map[string]bool{}
	var badPkgs []string
	failedHere, timedOut := false, false
	for _, raw := range strings.Split(log, "\n") {
		line := strings.TrimSpace(plainLine(raw))
		if m := runRe.FindStringSubmatch(line); m != nil {
			started[m[1]] = true
			continue
		}
		if m := resultRe.FindStringSubmatch(line); m != nil {
			name := m[2]
			switch m[1] {
			case "FAIL":
				out[name] = sdk.TestFailed
				failedHere = true
			case "PASS", "SKIP":
				if !started[name] || out[name] == sdk.TestFailed {
					continue // a result line of a test that never started
				}
				out[name] = sdk.TestPassed
				if m[1] == "SKIP" {
					out[name] = sdk.TestSkipped
				}
			}
			continue
		}
		if strings.HasPrefix(line, "panic: test timed out after") {
			timedOut = true
			continue
		}
		if m := pkgFailRe.FindStringSubmatch(line); m != nil {
			switch {
			case m[2] != "":
				badPkgs = append(badPkgs, m[1]+" did not build")
			case timedOut:
				badPkgs = append(badPkgs, m[1]+" timed out")
			case !failedHere:
				badPkgs = append(badPkgs, m[1]+" failed with no failing test")
			}
			failedHere, timedOut = false, false
			started = map[string]bool{}
			continue
		}
		if pkgOKRe.MatchString(line) {
			failedHere, timedOut = false, false
			started = map[string]bool{}
		}
	}
	return Run{Statuses: out, Invalid: invalidPackages(badPkgs)}
}

// plainLine removes colour codes, what a carriage return overwrote, and
// control characters (tabs become spaces).
func plainLine(l string) string {
	if strings.IndexByte(l, 0x1b) >= 0 {
		l = escapeSeq.ReplaceAllString(l, "")
	}
	l = strings.TrimRight(l, "\r")
	if i := strings.LastIndexByte(l, '\r'); i >= 0 {
		l = l[i+1:]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, l)
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
