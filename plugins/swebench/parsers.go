package swebench

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// Parser names one of SWE-bench's log parsers.
type Parser string

// SWE-bench's log parsers for the Python repositories.
const (
	ParserPytest        Parser = "pytest"         // "STATUS id" lines
	ParserPytestOptions Parser = "pytest_options" // pytest, path options of parametrised ids shortened
	ParserPytestV2      Parser = "pytest_v2"      // colour codes removed, ids with spaces, "id STATUS" lines too
	ParserMatplotlib    Parser = "matplotlib"     // pytest, MouseButton.LEFT/RIGHT written 1/3
	ParserSeaborn       Parser = "seaborn"
	ParserDjango        Parser = "django" // unittest's verbose lines: "test_x (module.Class) ... ok"
	ParserSympy         Parser = "sympy"  // bin/test --verbose: "test_x ok", "test_y F", "test_z E"
	// ParserSWESmith reads SWE-smith's pytest --verbose runs: "id STATUS"
	// at the start of a line ("tests/x.py::test_a PASSED [ 50%]"), and the
	// -rA summary's "STATUS id" lines of commands that ask for one
	// (SWE-rebench's).
	ParserSWESmith Parser = "swesmith"
)

// Parse reads log with the parser and checks what it read against the
// runner's own totals. It returns every test's status and, when the log
// cannot be trusted, why not.
//
// Where SWE-bench's parsers let the last line about a test win, these let
// the worst win (error, failed, skipped, passed), so a line a test prints
// cannot turn a failure into a pass; and the passes must not outnumber
// what the runner's closing totals say passed, so lines for tests that
// never ran make the run Invalid. A log with statuses but without the
// runner's totals is Invalid too: the run did not finish as the runner
// finishes it.
func (p Parser) Parse(log string) (map[string]sdk.TestStatus, string) {
	switch p {
	case ParserDjango:
		return parseDjango(log)
	case ParserSympy:
		return parseSympy(log)
	}
	return parsePytestFamily(p, log)
}

// badness orders statuses: the worst line about a test wins.
func badness(st sdk.TestStatus) int {
	switch st {
	case sdk.TestPassed, sdk.TestXFail:
		return 0
	case sdk.TestSkipped:
		return 1
	case sdk.TestFailed:
		return 2
	}
	return 3
}

func setWorst(m map[string]sdk.TestStatus, id string, st sdk.TestStatus) {
	if id == "" {
		return
	}
	if prev, ok := m[id]; !ok || badness(st) > badness(prev) {
		m[id] = st
	}
}

func countPassed(m map[string]sdk.TestStatus, keep func(string) bool) int {
	n := 0
	for id, st := range m {
		if st == sdk.TestPassed && (keep == nil || keep(id)) {
			n++
		}
	}
	return n
}

// --- pytest and its variants -----------------------------------------

var (
	pytestStatuses = []sdk.TestStatus{sdk.TestFailed, sdk.TestPassed, sdk.TestSkipped, sdk.TestError, sdk.TestXFail}
	skipSummary    = regexp.MustCompile(`^\[\d+\]$`)
	optionID       = regexp.MustCompile(`^(.*?)\[(.*)\]$`)
	colourCode     = regexp.MustCompile(`\[(\d+)m`)
	summaryHead    = regexp.MustCompile(`^=+ short test summary info =+$`)
	equalsLine     = regexp.MustCompile(`^=+ .* =+$`)
	pytestTotals   = regexp.MustCompile(`^=+ (.*\bin [0-9.]+ ?s(?:econds)?\b.*) =+$`)
	totalsCount    = regexp.MustCompile(`(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)`)
)

func startsWithStatus(l string) (sdk.TestStatus, bool) {
	for _, st := range pytestStatuses {
		if strings.HasPrefix(l, string(st)) {
			return st, true
		}
	}
	return "", false
}

// pytestLine reads one line as parser p does, SWE-bench's way.
func pytestLine(p Parser, l string) (string, sdk.TestStatus, bool) {
	switch p {
	case ParserSWESmith:
		if id, st, ok := progressLine(l); ok {
			return id, st, true
		}
		p = ParserPytest // and the -rA summary's "STATUS id"
	case ParserMatplotlib:
		l = strings.ReplaceAll(strings.ReplaceAll(l, "MouseButton.LEFT", "1"), "MouseButton.RIGHT", "3")
	case ParserPytestV2:
		l = colourCode.ReplaceAllString(l, "")
		l = strings.Map(func(r rune) rune {
			if r >= 1 && r < 32 {
				return -1
			}
			return r
		}, l)
	case ParserSeaborn:
		parts := strings.Fields(l)
		switch {
		case len(parts) < 2:
		case strings.HasPrefix(l, string(sdk.TestFailed)):
			return parts[1], sdk.TestFailed, true
		case strings.Contains(l, " PASSED ") && parts[1] == string(sdk.TestPassed):
			return parts[0], sdk.TestPassed, true
		case strings.HasPrefix(l, string(sdk.TestPassed)):
			return parts[1], sdk.TestPassed, true
		}
		return "", "", false
	}
	st, ok := startsWithStatus(l)
	if !ok {
		if p != ParserPytestV2 {
			return "", "", false
		}
		for _, s := range pytestStatuses {
			if strings.HasSuffix(l, string(s)) {
				f := strings.Fields(l)
				if len(f) >= 2 {
					return strings.Join(f[:len(f)-1], " "), s, true
				}
			}
		}
		return "", "", false
	}
	if st == sdk.TestFailed {
		if p == ParserPytestV2 {
			l, _, _ = strings.Cut(l, " - ")
		} else {
			l = strings.ReplaceAll(l, " - ", " ")
		}
	}
	f := strings.Fields(l)
	if len(f) < 2 || st == sdk.TestSkipped && skipSummary.MatchString(f[1]) {
		return "", "", false
	}
	id := f[1]
	switch p {
	case ParserPytestV2:
		id = strings.Join(f[1:], " ")
	case ParserPytestOptions:
		if m := optionID.FindStringSubmatch(id); m != nil {
			opt := m[2]
			if strings.HasPrefix(opt, "/") && !strings.HasPrefix(opt, "//") && !strings.Contains(opt, "*") {
				opt = "/" + opt[strings.LastIndexByte(opt, '/')+1:]
			}
			id = m[1] + "[" + opt + "]"
		}
	}
	return id, st, true
}

// progressLine reads pytest --verbose's "id STATUS [ NN%]".
func progressLine(l string) (string, sdk.TestStatus, bool) {
	f := strings.Fields(l)
	if len(f) < 2 || l[0] == ' ' || l[0] == '\t' || !strings.ContainsFunc(f[0], isAlnum) {
		return "", "", false
	}
	for _, st := range append(pytestStatuses, sdk.TestXPass) {
		if f[1] == string(st) {
			return f[0], st, true
		}
	}
	return "", "", false
}

// parsePytestFamily reads a pytest log. When it has "short test summary
// info" sections, only their lines count (pytest replays what tests
// printed before them); otherwise every line does. SWE-smith's verbose
// runs have a summary of failures only, so for ParserSWESmith verbose
// progress lines count wherever they are. The passes must not
// outnumber the "N passed" of pytest's last totals line.
func parsePytestFamily(p Parser, log string) (map[string]sdk.TestStatus, string) {
	lines := strings.Split(log, "\n")
	inSummary := make([]bool, len(lines))
	hasSummary := false
	open := false
	var totals string
	for i, l := range lines {
		c := strings.TrimRight(l, "\r")
		switch {
		case summaryHead.MatchString(c):
			open, hasSummary = true, true
			continue
		case equalsLine.MatchString(c):
			open = false
		}
		inSummary[i] = open
		if m := pytestTotals.FindStringSubmatch(colourCode.ReplaceAllString(stripEsc(c), "")); m != nil {
			totals = m[1]
		}
	}
	out := map[string]sdk.TestStatus{}
	for i, l := range lines {
		if hasSummary && !inSummary[i] {
			if _, _, progress := progressLine(l); p != ParserSWESmith || !progress {
				continue
			}
		}
		if id, st, ok := pytestLine(p, strings.TrimRight(l, "\r")); ok {
			setWorst(out, id, st)
		}
	}
	if len(out) == 0 {
		return out, ""
	}
	if totals == "" {
		return out, "pytest's totals line (\"N passed in Ts\") is missing: the run did not finish as pytest finishes"
	}
	passed := 0
	for _, m := range totalsCount.FindAllStringSubmatch(totals, -1) {
		if m[2] == "passed" {
			passed, _ = strconv.Atoi(m[1])
		}
	}
	if n := countPassed(out, nil); n > passed {
		return out, fmt.Sprintf("the log shows %d passing tests but pytest's totals say %d passed", n, passed)
	}
	return out, ""
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func stripEsc(s string) string { return strings.ReplaceAll(s, "\x1b", "") }

// --- Django -----------------------------------------------------------

var (
	djangoPass      = []string{" ... ok", " ... OK", " ...  OK"}
	djangoRan       = regexp.MustCompile(`^Ran (\d+) tests? in `)
	djangoResult    = regexp.MustCompile(`^(OK|FAILED)\b(?: \((.*)\))?$`)
	djangoCounts    = regexp.MustCompile(`(failures|errors|skipped|expected failures|unexpected successes)=(\d+)`)
	djangoMultiline = []*regexp.Regexp{
		regexp.MustCompile(`(?m)^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$`),
		regexp.MustCompile(`(?m)^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$`),
		regexp.MustCompile(`(?m)^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$`),
	}
)

// parseDjango reads Django's runtests.py at verbosity 2 (unittest's
// verbose lines) as SWE-bench's parse_log_django does: "ID ... ok"
// (also with OK), "ID ... skipped 'why'", "ID ... FAIL", "ID ... ERROR",
// "FAIL: name" and "ERROR: name" headers (under the bare method name, as
// SWE-bench records them), and a bare "ok" line after output a test
// printed, which passes the last test that started (and, beyond SWE-bench,
// a bare "FAIL" or "ERROR" line there, which fails it). ID is the text
// before the first " ... ": "test_x (module.Class)", or the first line
// of a test's docstring. Then it checks the totals of the last "Ran N
// tests" line and the OK/FAILED line after it.
func parseDjango(log string) (map[string]sdk.TestStatus, string) {
	out := map[string]sdk.TestStatus{}
	var prev string
	ran, result, resultArgs := -1, "", ""
	lines := strings.Split(log, "\n")
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		if strings.Contains(l, "--version is equivalent to version") {
			setWorst(out, "--version is equivalent to version", sdk.TestPassed)
		}
		if m := djangoRan.FindStringSubmatch(l); m != nil {
			ran, _ = strconv.Atoi(m[1])
			result, resultArgs = "", ""
			for _, next := range lines[i+1:] {
				next = strings.TrimSpace(next)
				if next == "" {
					continue
				}
				if r := djangoResult.FindStringSubmatch(next); r != nil {
					result, resultArgs = r[1], r[2]
				}
				break
			}
			continue
		}
		if strings.HasPrefix(l, "Applying sites.0002_alter_domain_unique...test_no_migrations") {
			_, l, _ = strings.Cut(l, "...")
			l = strings.TrimSpace(l)
		}
		if id, _, ok := strings.Cut(l, " ... "); ok {
			prev = id
			switch {
			case hasAnySuffix(l, djangoPass):
				setWorst(out, id, sdk.TestPassed)
			case strings.Contains(l, " ... skipped"):
				setWorst(out, id, sdk.TestSkipped)
			case strings.HasSuffix(l, " ... FAIL"):
				setWorst(out, id, sdk.TestFailed)
			case strings.HasSuffix(l, " ... ERROR"):
				setWorst(out, id, sdk.TestError)
			}
			continue
		}
		if f := strings.Fields(l); len(f) >= 2 && (f[0] == "FAIL:" || f[0] == "ERROR:") {
			st := sdk.TestFailed
			if f[0] == "ERROR:" {
				st = sdk.TestError
			}
			setWorst(out, f[1], st)
			continue
		}
		switch {
		case prev == "":
		case strings.HasPrefix(l, "ok"):
			setWorst(out, prev, sdk.TestPassed)
		case l == "FAIL":
			// Not in SWE-bench's parser: the result of a test that printed
			// something, on a line of its own. Without it a printed "ok"
			// line would be the only word about the test.
			setWorst(out, prev, sdk.TestFailed)
		case l == "ERROR":
			setWorst(out, prev, sdk.TestError)
		}
	}
	for _, re := range djangoMultiline {
		for _, m := range re.FindAllStringSubmatch(log, -1) {
			setWorst(out, m[1], sdk.TestPassed)
		}
	}
	if len(out) == 0 {
		return out, ""
	}
	if ran < 0 || result == "" {
		return out, "the runner's totals (\"Ran N tests\" and OK or FAILED) are missing: the run did not finish as the runner finishes"
	}
	notPassed := 0
	for _, m := range djangoCounts.FindAllStringSubmatch(resultArgs, -1) {
		n, _ := strconv.Atoi(m[2])
		notPassed += n
	}
	if n := countPassed(out, func(id string) bool { return id != "--version is equivalent to version" }); n > ran-notPassed {
		return out, fmt.Sprintf("the log shows %d passing tests but the runner ran %d of which %d did not pass", n, ran, notPassed)
	}
	if result == "OK" && hasFailure(out) {
		return out, "the runner says OK but the log shows failing tests"
	}
	return out, ""
}

func hasAnySuffix(s string, suffixes []string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

func hasFailure(m map[string]sdk.TestStatus) bool {
	for _, st := range m {
		if st == sdk.TestFailed || st == sdk.TestError {
			return true
		}
	}
	return false
}

// --- SymPy ------------------------------------------------------------

var (
	sympyHeader   = regexp.MustCompile(`(_*) (.*)\.py:(.*) (_*)`)
	sympyFileMark = regexp.MustCompile(`\s+\[(OK|FAIL)\]$`)
	sympyTotals   = regexp.MustCompile(`tests finished:((?s:.*?))\bin [0-9.]+ seconds`)
	sympyPassed   = regexp.MustCompile(`(\d+) passed`)
)

// parseSympy reads SymPy's bin/test --verbose output as SWE-bench's
// parse_log_sympy does: the "____ path.py:name ____" headers of failures
// (failed, under "path.py:name"), and lines "test_x ok", "test_x F",
// "test_x E". Unlike SWE-bench, it first removes the " [OK]" or " [FAIL]"
// that ends the last test line of each file, so the last test of a file
// is read too. Then it checks the passes against the "tests finished: N
// passed, …" totals (the last ones).
func parseSympy(log string) (map[string]sdk.TestStatus, string) {
	out := map[string]sdk.TestStatus{}
	for _, m := range sympyHeader.FindAllStringSubmatch(log, -1) {
		setWorst(out, m[2]+".py:"+m[3], sdk.TestFailed)
	}
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimSpace(sympyFileMark.ReplaceAllString(strings.TrimSpace(l), ""))
		if !strings.HasPrefix(l, "test_") {
			continue
		}
		id := strings.Fields(l)[0]
		switch {
		case strings.HasSuffix(l, " E"):
			setWorst(out, id, sdk.TestError)
		case strings.HasSuffix(l, " F"):
			setWorst(out, id, sdk.TestFailed)
		case strings.HasSuffix(l, " ok"):
			setWorst(out, id, sdk.TestPassed)
		}
	}
	if len(out) == 0 {
		return out, ""
	}
	all := sympyTotals.FindAllStringSubmatch(log, -1)
	if len(all) == 0 {
		return out, "SymPy's totals (\"tests finished: N passed\") are missing: the run did not finish as bin/test finishes"
	}
	passed := 0
	if m := sympyPassed.FindStringSubmatch(all[len(all)-1][1]); m != nil {
		passed, _ = strconv.Atoi(m[1])
	}
	if n := countPassed(out, nil); n > passed {
		return out, fmt.Sprintf("the log shows %d passing tests but bin/test's totals say %d passed", n, passed)
	}
	return out, ""
}
