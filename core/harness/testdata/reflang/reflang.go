// Package reflang holds the reference languages of core's tests: pytest
// and go test as the harness ran and read them before languages became
// plugins (issue 14). It is a test fixture, not part of swelego: core's
// tests use it until plugins/python and plugins/golang serve
// sdk.Language, and then it goes.
package reflang

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/sdk"
)

// Status is a test's status.
type Status = sdk.TestStatus

// Test statuses.
const (
	StatusPassed  = sdk.TestPassed
	StatusFailed  = sdk.TestFailed
	StatusSkipped = sdk.TestSkipped
	StatusError   = sdk.TestError
	StatusXFail   = sdk.TestXFail
	StatusXPass   = sdk.TestXPass
)

// Passed reports whether st counts as a pass (PASSED, XFAIL).
func Passed(st Status) bool { return st == StatusPassed || st == StatusXFail }

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Parser kinds of the reference languages.
const (
	KindPytest = "pytest"
	KindGoTest = "gotest"
)

const (
	DefaultPytestCommand = "pytest --no-header -rA --tb=no -p no:cacheprovider"
	DefaultGoTestCommand = "go test -json ./..."
	GoCacheSeed          = "/opt/swelego/go-build-seed"
)

// statuses are the words a pytest result line may start or end with.
var statuses = []Status{StatusPassed, StatusFailed, StatusSkipped, StatusError, StatusXFail, StatusXPass}

func IsStatus(s string) (Status, bool) {
	for _, st := range statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// refLanguage is a reference language: kind says which.
type refLanguage struct{ kind string }

// Pytest is the reference Python language: pytest, its -rA summary and a
// JUnit report that must agree.
func Pytest() sdk.Language { return refLanguage{KindPytest} }

// GoTest is the reference Go language: go test -json.
func GoTest() sdk.Language { return refLanguage{KindGoTest} }

// Lookup finds the reference languages by name.
var Lookup = language.Static(Pytest(), GoTest())

func (l refLanguage) Describe(ctx context.Context, cfg sdk.Config) (sdk.LanguageSpec, error) {
	if l.kind == KindGoTest {
		return sdk.LanguageSpec{Name: "go", Aliases: []string{"golang"}, SourceFiles: []string{"*.go"}, DefaultTestCommand: DefaultGoTestCommand,
			Image: sdk.ImageSpec{
				Packages:  []string{"git", "patch", "ca-certificates"},
				Backports: []string{"golang-1.23-go"},
				Links:     map[string]string{"/usr/local/bin/go": "/usr/lib/go-1.23/bin/go", "/usr/local/bin/gofmt": "/usr/lib/go-1.23/bin/gofmt"},
				Env:       []string{"GOTOOLCHAIN=local", "GOCACHE=/tmp/.cache/go-build"},
				OwnedDirs: []string{GoCacheSeed},
				Setup:     []string{"if [ -f go.mod ]; then go mod download; fi"},
				Warm:      []string{"GOCACHE=" + GoCacheSeed + " go test -count=1 -run '^$' ./... >/dev/null 2>&1"},
				Open:      SeedGoCache,
			}}, nil
	}
	return sdk.LanguageSpec{Name: "python", SourceFiles: []string{"*.py"}, DefaultTestCommand: DefaultPytestCommand,
		HarnessFiles: []string{"conftest.py", "pytest.ini", ".pytest.ini", "sitecustomize.py", "usercustomize.py"},
		Image: sdk.ImageSpec{
			Packages: []string{"python3", "python3-pytest", "git", "patch"},
			Env:      []string{"PYTHONDONTWRITEBYTECODE=1"},
		}}, nil
}

func junitFile(dir string) string { return dir + "/junit.xml" }

// Show commands: what a person runs (sdk.PurposeShow).
const (
	ShowPytestCommand = "python3 -m pytest -rA --tb=short -p no:cacheprovider"
	ShowGoTestCommand = "go test ./..."
)

func (l refLanguage) TestCommand(ctx context.Context, cfg sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	base := strings.TrimSpace(req.Base)
	show := req.Purpose == sdk.PurposeShow
	var cmd strings.Builder
	var tc sdk.TestCommand
	switch l.kind {
	case KindPytest:
		switch {
		case base == "" && show:
			base = ShowPytestCommand
		case base == "":
			base = DefaultPytestCommand
		}
		if req.ReportDir != "" {
			opts := "-rA --junitxml=" + junitFile(req.ReportDir) + " -o junit_family=xunit1"
			fmt.Fprintf(&cmd, "export PYTEST_ADDOPTS=\"${PYTEST_ADDOPTS:+$PYTEST_ADDOPTS }\"%s\n", shellQuote(opts))
			tc.ReadFiles = []string{junitFile(req.ReportDir)}
		}
		cmd.WriteString(base)
		tests := req.Tests
		if !show {
			tests = PytestFiles(tests)
		}
		for _, t := range tests {
			cmd.WriteString(" " + shellQuote(t))
		}
	default:
		switch {
		case base == "" && show:
			base = ShowGoTestCommand
		case base == "":
			base = DefaultGoTestCommand
		}
		if !show && !strings.Contains(base, "-json") {
			base = strings.Replace(base, "go test", "go test -json", 1)
		}
		if !show {
			cmd.WriteString(SeedGoCache)
		}
		var ids []string
		for _, id := range req.Tests {
			if !strings.HasSuffix(id, ".go") { // a test file: the whole suite runs
				ids = append(ids, id)
			}
		}
		re := GoRunPattern(ids)
		switch {
		case re != "" && show:
			base = strings.Replace(base, "go test", "go test -run "+shellQuote(re), 1)
		case re != "":
			base += " -run " + shellQuote(re)
		}
		cmd.WriteString(base)
	}
	tc.Command = cmd.String()
	return tc, nil
}

func (l refLanguage) ParseTestRun(ctx context.Context, cfg sdk.Config, run sdk.TestRun) (sdk.TestReport, error) {
	var rep sdk.TestReport
	switch l.kind {
	case KindPytest:
		var junit []byte
		for _, data := range run.Files {
			junit = []byte(data)
		}
		summary := ParsePytestSummary(run.Output)
		var err error
		rep.Statuses, err = ReconcilePytest(junit, summary)
		if err != nil {
			rep.Invalid = err.Error()
			rep.Statuses = make(map[string]Status)
			for id, st := range summary {
				if !Passed(st) {
					rep.Statuses[id] = st
				}
			}
		}
		if i := strings.Index(run.Output, "= FAILURES ="); i >= 0 {
			rep.Failures = run.Output[strings.LastIndexByte(run.Output[:i], '\n')+1:]
		}
	default:
		g := GoTestRun(run.Output)
		rep.Statuses, rep.Invalid = g.Statuses, g.Invalid
		if !strings.Contains(run.Output, `"Action"`) {
			rep.Failures = run.Output
		}
	}
	return rep, nil
}

func (l refLanguage) CheckCommand(ctx context.Context, cfg sdk.Config, req sdk.CheckRequest) (string, error) {
	if l.kind == KindGoTest {
		return SeedGoCache + "go build -o /dev/null ./...", nil
	}
	var py []string
	for _, f := range req.Files {
		if strings.HasSuffix(f, ".py") {
			py = append(py, shellQuote(f))
		}
	}
	if len(py) == 0 {
		return "", nil
	}
	return "PYTHONPYCACHEPREFIX=/tmp/swelego-pycache python3 -m py_compile " + strings.Join(py, " "), nil
}

// SeedGoCache copies GoCacheSeed into an empty GOCACHE, silently.
const SeedGoCache = `if [ -d ` + GoCacheSeed + ` ]; then swelego_gc=$(go env GOCACHE 2>/dev/null); ` +
	`if [ -n "$swelego_gc" ] && [ ! -e "$swelego_gc" ]; then mkdir -p "$swelego_gc" && cp -R ` + GoCacheSeed + `/. "$swelego_gc"/ 2>/dev/null; fi; fi
`

// GoRunPattern is the -run regexp selecting the top-level tests of ids.
func GoRunPattern(ids []string) string {
	seen := map[string]bool{}
	var names []string
	for _, id := range ids {
		top, _, _ := strings.Cut(id, "/")
		if top == "" || seen[top] {
			continue
		}
		seen[top] = true
		names = append(names, regexp.QuoteMeta(top))
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "^(" + strings.Join(names, "|") + ")$"
}

// PytestFiles returns the test files of pytest node ids.
func PytestFiles(ids []string) []string {
	var files []string
	for _, id := range ids {
		file, _, found := strings.Cut(id, "::")
		if !found && !strings.HasSuffix(id, ".py") && !strings.Contains(id, "/") {
			continue // not a pytest node id
		}
		if file == "" || strings.ContainsAny(file, " []") || strings.HasPrefix(file, "/") {
			continue
		}
		files = append(files, file)
	}
	if len(files) == 0 {
		return nil
	}
	sort.Strings(files)
	out := files[:1]
	for _, f := range files[1:] {
		if f != out[len(out)-1] {
			out = append(out, f)
		}
	}
	return out
}

// ---- pytest (was pytest.go) ----

// ParsePytest reads the result lines of a `pytest -rA` (or `pytest -v`)
// log as SWE-bench's parse_log_pytest / parse_log_pytest_v2 do:
//
//	PASSED tests/t.py::test_x            status first (the -rA summary)
//	tests/t.py::test_x PASSED [ 50%]     test first (verbose progress)
//	FAILED tests/t.py::test_y - message  the " - message" is not part of the id
//	ERROR tests/t.py                     a collection error names the file
//	SKIPPED [1] tests/t.py:12: reason    no test id: ignored
//
// ANSI colour codes and control characters are removed first. Unlike
// SWE-bench, which splits on white space, a parametrised id keeps the spaces
// inside its brackets (tests/t.py::test_x[a b-1]); ResolveTruncated maps
// SWE-bench's truncated spelling of such ids to them. When a test is reported twice
// the last line wins, as in SWE-bench. XPASS lines are read as XPASS (SWE-bench
// ignores them, so they grade as missing; Grade treats XPASS as a failure).
func ParsePytest(log string) map[string]Status {
	out := make(map[string]Status)
	for _, line := range strings.Split(log, "\n") {
		if id, st, ok := parsePytestLine(line); ok {
			out[id] = st
		}
	}
	return out
}

var (
	// ansiRe matches ANSI escape sequences: CSI (colours, cursor moves) and
	// two-byte escapes.
	ansiRe = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])`)
	// bareColourRe matches colour codes whose ESC byte was lost on the way
	// into the log ("[32mPASSED[0m"), as parse_log_pytest_v2 strips them.
	bareColourRe   = regexp.MustCompile(`\[[0-9;]*m`)
	bareStatusRe   = regexp.MustCompile(`\[[0-9;]*m(?:PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)\b`)
	skipCountRe    = regexp.MustCompile(`^\[\d+\]$`)
	summaryHeadRe  = regexp.MustCompile(`^=+ short test summary info =+$`)
	summaryStatsRe = regexp.MustCompile(`^=+ .* =+$`)
)

// cleanLine strips colour codes and control characters from one log line.
func cleanLine(line string) string {
	if strings.IndexByte(line, 0x1b) >= 0 {
		line = ansiRe.ReplaceAllString(line, "")
	}
	if bareStatusRe.MatchString(line) {
		line = bareColourRe.ReplaceAllString(line, "")
	}
	line = strings.TrimRight(line, "\r")
	if i := strings.LastIndexByte(line, '\r'); i >= 0 {
		line = line[i+1:] // a carriage return overwrote what came before
	}
	if strings.IndexFunc(line, isControl) >= 0 {
		line = strings.Map(func(r rune) rune {
			switch {
			case r == '\t':
				return ' '
			case isControl(r):
				return -1
			}
			return r
		}, line)
	}
	return line
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// parsePytestLine reads one result line; ok is false for any other line.
func parsePytestLine(line string) (id string, st Status, ok bool) {
	line = cleanLine(line)
	if line == "" || line[0] == ' ' {
		return "", "", false
	}
	first, rest := nextTestToken(line)
	if s, isSt := IsStatus(first); isSt {
		id, _ = nextTestToken(rest)
		if id == "" {
			return "", "", false
		}
		if s == StatusSkipped && skipCountRe.MatchString(id) {
			return "", "", false // "SKIPPED [1] file:line: reason" names no test
		}
		return id, s, true
	}
	second, after := nextTestToken(rest)
	s, isSt := IsStatus(second)
	if !isSt || (after != "" && after[0] != ' ') || !hasAlnum(first) {
		return "", "", false
	}
	return first, s, true
}

// nextTestToken skips leading spaces and returns the next token and what
// follows it. A token ends at a space outside square brackets, so that a
// parametrised id keeps the spaces of its parameters; when the brackets do
// not balance before the end of the line the token ends at the first space.
func nextTestToken(s string) (tok, rest string) {
	s = strings.TrimLeft(s, " ")
	if s == "" {
		return "", ""
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ' ':
			if depth == 0 {
				return s[:i], s[i:]
			}
		}
	}
	if depth == 0 {
		return s, ""
	}
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func hasAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// PytestSummaries returns the lines of every "short test summary info"
// section of a pytest log, each up to its statistics line ("=== 1 failed,
// 2 passed in 0.1s ===").
func PytestSummaries(log string) [][]string {
	var out [][]string
	var cur []string
	in := false
	for _, l := range strings.Split(log, "\n") {
		c := cleanLine(l)
		switch {
		case summaryHeadRe.MatchString(c):
			if in {
				out = append(out, cur)
			}
			cur, in = nil, true
		case in && summaryStatsRe.MatchString(c):
			out = append(out, cur)
			cur, in = nil, false
		case in:
			cur = append(cur, l)
		}
	}
	if in {
		out = append(out, cur)
	}
	return out
}

// ParsePytestSummary reads only the "short test summary info" sections of
// a pytest -rA log. Result lines a test printed are replayed by pytest in
// the PASSES and FAILURES sections, before the summary, and are left out.
// When the log holds several summaries (a command that runs pytest twice,
// or one a test printed, say from an atexit hook after pytest finished),
// each test gets the worst status any of them gives it, so a forged
// summary can add tests but cannot turn a real failure into a pass.
func ParsePytestSummary(log string) map[string]Status {
	out := make(map[string]Status)
	for _, sec := range PytestSummaries(log) {
		seen := make(map[string]Status)
		for _, line := range sec {
			if id, st, ok := parsePytestLine(line); ok {
				seen[id] = st // within one summary the last line wins
			}
		}
		for id, st := range seen {
			if prev, ok := out[id]; !ok || severity(st) >= severity(prev) {
				out[id] = st
			}
		}
	}
	return out
}

// severity orders statuses from passing to failing for merging reports:
// PASSED and XFAIL pass, SKIPPED passes only as a PASS_TO_PASS test, the
// rest fail.
func severity(st Status) int {
	switch st {
	case StatusPassed, StatusXFail:
		return 0
	case StatusSkipped:
		return 1
	}
	return 2
}

// junitCase is one <testcase> of a pytest JUnit XML report.
type junitCase struct {
	Classname string         `xml:"classname,attr"`
	Name      string         `xml:"name,attr"`
	File      string         `xml:"file,attr"`
	Failure   []junitMessage `xml:"failure"`
	Error     []junitMessage `xml:"error"`
	Skipped   []junitMessage `xml:"skipped"`
}

type junitMessage struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
}

// errJUnitNoFile: the report lacks the file attribute (junit_family other
// than xunit1), so pytest node ids cannot be rebuilt without guessing.
var errJUnitNoFile = errors.New("junit report has no file attributes (want junit_family=xunit1)")

// ParseJUnit reads a JUnit XML report written by pytest with
// `--junitxml=FILE -o junit_family=xunit1` and returns a status per pytest
// node id as the report's file attribute gives it (see ReconcilePytest for
// the ids the -rA summary prints). A testcase with an <error> is ERROR,
// with a <failure> FAILED, with <skipped type="pytest.xfail"> XFAIL, with
// another <skipped> SKIPPED (a strict XPASS, which pytest reports as a skip
// with the message "xfail-marked test passes unexpectedly", is FAILED, as
// the -rA summary says), and otherwise PASSED. A non-strict XPASS is
// indistinguishable from PASSED in the report; ReconcilePytest corrects it
// from the summary.
func ParseJUnit(data []byte) (map[string]Status, error) {
	cases, err := junitCases(data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Status, len(cases))
	for _, c := range cases {
		id := junitNodeID(c)
		if prev, ok := out[id]; !ok || severity(junitStatus(c)) > severity(prev) {
			out[id] = junitStatus(c)
		}
	}
	return out, nil
}

// junitCases reads every <testcase> of a report.
func junitCases(data []byte) ([]junitCase, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	var out []junitCase
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("junit xml: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "testcase" {
			continue
		}
		var c junitCase
		if err := dec.DecodeElement(&c, &se); err != nil {
			return nil, fmt.Errorf("junit xml: %w", err)
		}
		if c.File == "" {
			return nil, errJUnitNoFile
		}
		out = append(out, c)
	}
	return out, nil
}

func junitStatus(c junitCase) Status {
	switch {
	case len(c.Error) > 0:
		return StatusError
	case len(c.Failure) > 0:
		return StatusFailed
	case len(c.Skipped) > 0:
		s := c.Skipped[len(c.Skipped)-1]
		switch {
		case s.Type == "pytest.xfail":
			return StatusXFail
		case s.Message == "xfail-marked test passes unexpectedly":
			return StatusFailed
		}
		return StatusSkipped
	}
	return StatusPassed
}

// junitNodeID rebuilds the pytest node id from the file, classname and name
// pytest's junitxml plugin wrote (see mangle_test_address in pytest's
// junitxml.py: the file path becomes dotted without ".py", classes are
// appended with dots, the name keeps its parameters).
func junitNodeID(c junitCase) string {
	mangled := strings.TrimSuffix(strings.ReplaceAll(c.File, "/", "."), ".py")
	switch {
	case c.Classname == "" && c.Name == mangled:
		return c.File // a collection error reports the module itself
	case c.Classname == "":
		return c.File + "::" + c.Name
	case c.Classname == mangled:
		return c.File + "::" + c.Name
	case strings.HasPrefix(c.Classname, mangled+"."):
		classes := strings.ReplaceAll(c.Classname[len(mangled)+1:], ".", "::")
		return c.File + "::" + classes + "::" + c.Name
	}
	return c.File + "::" + c.Name
}

// junitKey is what pytest's junitxml plugin writes for a node id: its
// classname and name attributes (mangle_test_address in pytest's
// junitxml.py), with the name visually escaped as bin_xml_escape does.
type junitKey struct{ classname, name string }

// junitKeyOf mangles a pytest node id the way pytest's junitxml does: the
// part before any "[" is split at "::", the file path becomes dotted
// without ".py", the last part (with its parameters) is the name and the
// rest joined with dots the classname.
func junitKeyOf(nodeID string) junitKey {
	path, params, bracket := strings.Cut(nodeID, "[")
	names := strings.Split(path, "::")
	names[0] = strings.TrimSuffix(strings.ReplaceAll(names[0], "/", "."), ".py")
	if bracket {
		names[len(names)-1] += "[" + params
	}
	last := len(names) - 1
	return junitKey{classname: strings.Join(names[:last], "."), name: junitEscape(names[last])}
}

// junitEscape escapes what pytest's bin_xml_escape replaces with "#xNN"
// (not an XML escape: the characters are gone from the report). Its
// pattern means to allow every character XML 1.0 allows, but spells the
// astral range "\u10000-\u10ffff", which Python reads as U+1000, "0",
// "0"-U+10FF, "f", "f": so characters above U+FFFF are escaped, and so are
// the control characters other than tab, newline and carriage return, the
// surrogates and U+FFFE / U+FFFF; U+007F is not.
func junitEscape(s string) string {
	legal := func(r rune) bool {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return true
		case r >= 0x20 && r <= 0xD7FF:
			return true
		case r >= 0xE000 && r <= 0xFFFD:
			return true
		}
		return false
	}
	if strings.IndexFunc(s, func(r rune) bool { return !legal(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case legal(r):
			b.WriteRune(r)
		case r <= 0xFF:
			fmt.Fprintf(&b, "#x%02X", r)
		default:
			fmt.Fprintf(&b, "#x%04X", r)
		}
	}
	return b.String()
}

// ReconcilePytest combines the two channels a pytest run reports through,
// the JUnit report and the -rA "short test summary info", into one status
// per node id, so that a test counts as passed only when both say it
// passed:
//
//   - each testcase of the report is given the node id of the summary line
//     whose mangled form (classname, name) it carries. That is the id
//     pytest prints even where the report's file attribute names another
//     file (a test method inherited from a mixin defined elsewhere) or the
//     name lost characters to pytest's "#xNN" escaping (characters above
//     U+FFFF in parametrised ids). A testcase no summary line matches gets
//     the id its file, classname and name give;
//   - a test both channels report gets the worse of the two statuses (the
//     report cannot tell XPASS from PASSED; a rewritten report must not
//     outvote the summary, nor a forged summary line the report);
//   - a test only one channel reports keeps its status when that is not a
//     pass and is left out (missing) when it is: a pass nobody can
//     corroborate is not a pass.
//
// It returns an error when the report is unusable: a run whose report is
// missing, broken or not xunit1 cannot be graded, whatever the log says.
func ReconcilePytest(junit []byte, summary map[string]Status) (map[string]Status, error) {
	if len(bytes.TrimSpace(junit)) == 0 {
		return nil, errors.New("pytest wrote no JUnit report (the run was cut short, pytest did not run, or the report was removed)")
	}
	cases, err := junitCases(junit)
	if err != nil {
		return nil, fmt.Errorf("the JUnit report is unreadable: %w", err)
	}
	if len(cases) > 0 && len(summary) == 0 {
		return nil, fmt.Errorf("the JUnit report lists %d tests but the log has no pytest -rA summary (pytest's output must reach the test log)", len(cases))
	}
	byKey := make(map[junitKey][]string, len(summary))
	for id := range summary {
		k := junitKeyOf(id)
		byKey[k] = append(byKey[k], id)
	}
	fromReport := make(map[string]Status, len(cases))
	for _, c := range cases {
		id := junitNodeID(c)
		switch ids := byKey[junitKey{c.Classname, c.Name}]; len(ids) {
		case 0:
		case 1:
			id = ids[0]
		default:
			// Two summary ids mangle alike ("a/b.py::C::t" and
			// "a/b/C.py::t"): the file attribute decides, when it can.
			sort.Strings(ids)
			for _, cand := range ids {
				if file, _, _ := strings.Cut(cand, "::"); file == c.File {
					id = cand
					break
				}
			}
		}
		st := junitStatus(c)
		if prev, ok := fromReport[id]; !ok || severity(st) > severity(prev) {
			fromReport[id] = st
		}
	}
	out := make(map[string]Status, len(fromReport))
	for id, js := range fromReport {
		ss, inSummary := summary[id]
		switch {
		case inSummary && severity(ss) > severity(js):
			out[id] = ss
		case inSummary:
			out[id] = js
		case !Passed(js):
			out[id] = js
		}
	}
	for id, ss := range summary {
		if _, inReport := fromReport[id]; !inReport && !Passed(ss) {
			out[id] = ss
		}
	}
	return out, nil
}

// ---- go test (was gotest.go) ----

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
