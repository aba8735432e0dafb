package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// The marker lines the test command prints around each file's run. They
// start at column 0 and not with "#": inside a run, every line a test or
// the file's child process prints is re-emitted by the runner as a "# "
// comment, so these lines come from the command alone.
const (
	markFile    = "swelego-javascript: file "
	markExit    = "swelego-javascript: exit "
	markMissing = "swelego-javascript: missing "
)

// maxFailures caps the Failures excerpt.
const maxFailures = 16 << 10

// summaryKeys are the counters of the runner's closing summary that
// reconcile with the parsed test points.
var summaryKeys = []string{"tests", "pass", "fail", "cancelled", "skipped", "todo"}

// tapResult is one test point of a run.
type tapResult struct {
	id     string
	status sdk.TestStatus
	// kind is the counter of the runner's summary the point adds to:
	// pass, fail (fail or cancelled), skipped or todo.
	kind string
	// yaml is the point's diagnostic block, dedented.
	yaml []string
	// suite is set for a describe() block, which the runner reports but
	// does not count as a test.
	suite bool
	// top is set for a point at nesting 0.
	top bool
}

// fileRun is what the TAP of one file's run said.
type fileRun struct {
	file    string
	results []tapResult
	summary map[string]int
	exit    int
	exited  bool
	// comments are the "# " lines at nesting 0 before the plan: what the
	// file's process printed outside any test.
	comments []string
	// plan is the count of the top-level plan ("1..N"), -1 before it.
	plan     int
	problems []string
}

// tapRun is a parsed test command output.
type tapRun struct {
	files    []*fileRun
	missing  []string
	problems []string
}

// ParseTAP parses the output of a TestCommand: one section per test file,
// each the TAP stream of `node --test --test-reporter=tap FILE` between the
// command's markers. A test's id is "FILE::NAME", NAME the names of its
// enclosing suites and tests and its own joined by " > " (see doc.go).
func ParseTAP(output string) sdk.TestReport {
	run := parseTAP(output)
	return run.report(nil)
}

func parseTAP(output string) *tapRun {
	run := &tapRun{}
	var cur *fileRun
	var p tapParser
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case strings.HasPrefix(line, markFile):
			if cur != nil && !cur.exited {
				cur.problems = append(cur.problems, "the run of the file did not finish")
			}
			cur = &fileRun{file: strings.TrimPrefix(line, markFile), plan: -1}
			run.files = append(run.files, cur)
			p = tapParser{run: cur}
			continue
		case strings.HasPrefix(line, markMissing):
			run.missing = append(run.missing, strings.TrimPrefix(line, markMissing))
			continue
		case strings.HasPrefix(line, markExit):
			n, err := strconv.Atoi(strings.TrimPrefix(line, markExit))
			if cur == nil || cur.exited || err != nil {
				run.problems = append(run.problems, fmt.Sprintf("stray exit marker %q", line))
				continue
			}
			cur.exit, cur.exited = n, true
			continue
		}
		if cur == nil || cur.exited {
			if isTestPoint(strings.TrimLeft(line, " ")) {
				run.problems = append(run.problems, fmt.Sprintf("a test result outside any file's run: %q", line))
			}
			continue
		}
		p.line(line)
	}
	if cur != nil && !cur.exited {
		cur.problems = append(cur.problems, "the run of the file did not finish")
	}
	return run
}

// tapParser reads one file's TAP stream line by line.
type tapParser struct {
	run *fileRun
	// names[d] is the name of the open subtest at nesting d.
	names []string
	// inYAML is set inside a diagnostic block ("---" … "..."), whose
	// lines are indented yamlAt; the runner indents every value's lines
	// deeper, so text a test put in an error message cannot end it.
	// yamlOf is the result the block belongs to, nil when none.
	inYAML bool
	yamlAt int
	yamlOf *tapResult
	// done is set once the summary began.
	done bool
}

func (p *tapParser) line(line string) {
	trimmed := strings.TrimLeft(line, " ")
	indent := len(line) - len(trimmed)
	if p.inYAML {
		if trimmed == "..." && indent == p.yamlAt {
			p.inYAML = false
			if p.yamlOf != nil && slices.Contains(p.yamlOf.yaml, "type: 'suite'") {
				p.yamlOf.suite = true
			}
			return
		}
		if p.yamlOf != nil {
			p.yamlOf.yaml = append(p.yamlOf.yaml, strings.TrimPrefix(line, strings.Repeat(" ", p.yamlAt)))
		}
		return
	}
	depth := indent / 4
	switch {
	case trimmed == "---" && indent%4 == 2:
		p.inYAML, p.yamlAt = true, indent
	case strings.HasPrefix(trimmed, "# Subtest: ") && indent%4 == 0:
		if p.done {
			p.run.problems = append(p.run.problems, "a test began after the summary")
		}
		if depth > len(p.names) {
			p.run.problems = append(p.run.problems, fmt.Sprintf("a subtest at nesting %d inside none at %d", depth, depth-1))
			return
		}
		p.names = append(p.names[:depth], tapUnescape(strings.TrimPrefix(trimmed, "# Subtest: ")))
	case isTestPoint(trimmed) && indent%4 == 0:
		p.testPoint(depth, trimmed)
	case indent == 0 && strings.HasPrefix(trimmed, "1.."):
		n, err := strconv.Atoi(strings.TrimPrefix(trimmed, "1.."))
		if err != nil || p.run.plan >= 0 || p.done {
			p.run.problems = append(p.run.problems, fmt.Sprintf("a stray plan %q", trimmed))
			return
		}
		p.run.plan = n
	case strings.HasPrefix(trimmed, "Bail out!"):
		p.run.problems = append(p.run.problems, "the runner bailed out: "+trimmed)
	case indent == 0 && strings.HasPrefix(trimmed, "# "):
		p.comment(trimmed)
	}
}

// isTestPoint reports whether a line (indentation removed) is a TAP test
// point.
func isTestPoint(s string) bool {
	return s == "ok" || s == "not ok" || strings.HasPrefix(s, "ok ") || strings.HasPrefix(s, "not ok ")
}

func (p *tapParser) testPoint(depth int, s string) {
	p.yamlOf = nil
	if p.done {
		p.run.problems = append(p.run.problems, fmt.Sprintf("a test result after the summary: %q", s))
		return
	}
	ok := strings.HasPrefix(s, "ok")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "not "), "ok")
	s = strings.TrimLeft(s, " ")
	for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		s = s[1:]
	}
	s = strings.TrimPrefix(strings.TrimLeft(s, " "), "- ")
	desc, directive := splitDirective(s)
	name := tapUnescape(desc)
	if depth >= len(p.names) || p.names[depth] != name {
		p.run.problems = append(p.run.problems, fmt.Sprintf("result %q at nesting %d follows no subtest of that name", name, depth))
		return
	}
	path := append([]string(nil), p.names[:depth+1]...)
	p.names = p.names[:depth]
	r := tapResult{id: p.run.file + "::" + strings.Join(path, " > "), top: depth == 0}
	if depth == 0 && isFilePath(name, p.run.file) {
		r.id = p.run.file // the file's own pseudo-test: it did not load, or exited early
	}
	switch d := strings.ToUpper(directive); {
	case strings.HasPrefix(d, "SKIP"):
		r.status, r.kind = sdk.TestSkipped, "skipped"
	case strings.HasPrefix(d, "TODO"):
		// Neither a pass nor a failure to the runner; graded as skipped
		// so that marking a test todo never gets it past a grade.
		r.status, r.kind = sdk.TestSkipped, "todo"
	case ok:
		r.status, r.kind = sdk.TestPassed, "pass"
	default:
		r.status, r.kind = sdk.TestFailed, "fail"
	}
	p.run.results = append(p.run.results, r)
	p.yamlOf = &p.run.results[len(p.run.results)-1]
	// A later append may move the slice: the block follows at once, so
	// the pointer is only used before the next result.
}

// comment reads a "# " line at nesting 0. After the top-level plan the
// runner prints its summary, "# tests N" first; before it, such lines are
// what the file's process printed outside any test (a test that prints
// "tests 3" shows as "# tests 3" there, and must not count).
func (p *tapParser) comment(s string) {
	body := strings.TrimPrefix(s, "# ")
	if p.run.plan < 0 {
		if len(p.run.comments) < 200 {
			p.run.comments = append(p.run.comments, body)
		}
		return
	}
	key, val, _ := strings.Cut(body, " ")
	n, err := strconv.Atoi(val)
	switch {
	case key == "tests":
		if p.done {
			p.run.problems = append(p.run.problems, "a second summary")
			return
		}
		p.done = true
		p.run.summary = map[string]int{}
	case !p.done:
		p.run.problems = append(p.run.problems, fmt.Sprintf("%q after the plan and before the summary", s))
		return
	}
	if key == "duration_ms" {
		return
	}
	if err != nil {
		p.run.problems = append(p.run.problems, fmt.Sprintf("a summary line that is not a count: %q", s))
		return
	}
	if _, dup := p.run.summary[key]; dup {
		p.run.problems = append(p.run.problems, fmt.Sprintf("the summary counts %q twice", key))
	}
	p.run.summary[key] = n
}

// isFilePath reports whether a top-level test name is the path of the
// file the run is of: the runner names a file's pseudo-test so when the
// file fails to load or its process exits before its tests report.
func isFilePath(name, file string) bool {
	return name == file || strings.HasSuffix(name, "/"+strings.TrimPrefix(file, "./"))
}

// splitDirective splits a test point's description at its first unescaped
// " # ", the start of a SKIP or TODO directive.
func splitDirective(s string) (desc, directive string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '#':
			if i > 0 && s[i-1] == ' ' {
				return strings.TrimRight(s[:i], " "), strings.TrimSpace(s[i+1:])
			}
		}
	}
	return s, ""
}

// tapUnescape undoes the runner's escaping of names: "\\" is a backslash
// and "\#" a hash. Control characters stay written as "\n", "\t" and so
// on, which is how an id shows them.
func tapUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '#') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// report turns the parsed run into a TestReport; asked are the ids the
// command ran (nil: all), whose failures the excerpt shows.
func (run *tapRun) report(asked []string) sdk.TestReport {
	rep := sdk.TestReport{Statuses: map[string]sdk.TestStatus{}}
	var problems []string
	problems = append(problems, run.problems...)
	if len(run.files) == 0 && len(run.missing) == 0 {
		problems = append(problems, "no test file ran")
	}
	var failures strings.Builder
	want := map[string]bool{}
	for _, id := range asked {
		want[id] = true
	}
	for _, f := range run.files {
		for _, pr := range f.problems {
			problems = append(problems, f.file+": "+pr)
		}
		problems = append(problems, f.reconcile()...)
		for _, r := range f.results {
			if r.suite {
				// A suite is no test, but one that failed (its describe()
				// body threw, a hook failed) is reported failed: the
				// runner exits non-zero for it, and a run with a
				// non-zero exit must show a failure.
				if r.status == sdk.TestFailed && !slices.Contains(r.yaml, "failureType: 'subtestsFailed'") {
					rep.Statuses[r.id] = sdk.TestFailed
					if len(want) == 0 || wantsUnder(want, r.id) {
						writeFailure(&failures, r, nil)
					}
				}
				continue
			}
			if old, ok := rep.Statuses[r.id]; !ok || worse(r.status, old) {
				rep.Statuses[r.id] = r.status
			}
			if r.status == sdk.TestFailed && (len(want) == 0 || want[r.id] || r.id == f.file) {
				var comments []string
				if r.id == f.file {
					comments = f.comments
				}
				writeFailure(&failures, r, comments)
			}
		}
	}
	if len(problems) > 0 {
		rep.Invalid = strings.Join(problems, "; ")
	}
	rep.Failures = failures.String()
	if len(rep.Failures) > maxFailures {
		rep.Failures = rep.Failures[:maxFailures] + "\n…\n"
	}
	return rep
}

// writeFailure adds a failed test's diagnostics to the excerpt: what its
// process printed (for a file that did not load) and the runner's block,
// durations left out.
func writeFailure(w *strings.Builder, r tapResult, comments []string) {
	if w.Len() >= maxFailures {
		return
	}
	fmt.Fprintf(w, "✖ %s\n", r.id)
	for _, c := range comments {
		fmt.Fprintf(w, "  %s\n", c)
	}
	for _, y := range r.yaml {
		if !strings.HasPrefix(y, "duration_ms:") {
			fmt.Fprintf(w, "  %s\n", y)
		}
	}
}

// wantsUnder reports whether an asked id is id or a test inside it.
func wantsUnder(want map[string]bool, id string) bool {
	for w := range want {
		if w == id || strings.HasPrefix(w, id+" > ") {
			return true
		}
	}
	return false
}

// worse reports whether status a grades worse than b: a failure beats
// anything, a skip beats a pass. A test reported twice under one id (two
// tests of one name) gets its worst status.
func worse(a, b sdk.TestStatus) bool {
	rank := func(s sdk.TestStatus) int {
		switch s {
		case sdk.TestPassed:
			return 0
		case sdk.TestSkipped:
			return 1
		}
		return 2
	}
	return rank(a) > rank(b)
}

// reconcile checks the parsed test points against the runner's summary
// and exit status.
func (f *fileRun) reconcile() []string {
	if f.summary == nil {
		return []string{f.file + ": the runner printed no summary"}
	}
	var out []string
	got, top := map[string]int{}, 0
	for _, r := range f.results {
		if r.top {
			top++
		}
		if !r.suite {
			got["tests"]++
			got[r.kind]++
		}
	}
	if f.plan != top {
		out = append(out, fmt.Sprintf("%s: the plan counts %d top-level tests, the results %d", f.file, f.plan, top))
	}
	for _, k := range summaryKeys {
		want, ok := f.summary[k]
		if !ok {
			if k == "cancelled" || k == "todo" {
				continue
			}
			out = append(out, fmt.Sprintf("%s: the summary has no %q count", f.file, k))
			continue
		}
		have := got[k]
		if k == "fail" {
			want += f.summary["cancelled"]
		}
		if k == "cancelled" {
			continue
		}
		if have != want {
			out = append(out, fmt.Sprintf("%s: the summary counts %d %s, the results %d", f.file, want, k, have))
		}
	}
	// The runner exits 1 when a test failed or was cancelled, or a suite
	// failed (a describe() body that throws fails no test).
	failed := f.summary["fail"]+f.summary["cancelled"] > 0
	for _, r := range f.results {
		failed = failed || r.suite && r.status == sdk.TestFailed
	}
	if f.exited && failed != (f.exit != 0) {
		out = append(out, fmt.Sprintf("%s: the runner exited %d with %d failed tests", f.file, f.exit, f.summary["fail"]+f.summary["cancelled"]))
	}
	return out
}
