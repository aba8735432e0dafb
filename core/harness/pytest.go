package harness

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

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
	if s, isSt := isStatus(first); isSt {
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
	s, isSt := isStatus(second)
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

// pytestSummaries returns the lines of every "short test summary info"
// section of a pytest log, each up to its statistics line ("=== 1 failed,
// 2 passed in 0.1s ===").
func pytestSummaries(log string) [][]string {
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
	for _, sec := range pytestSummaries(log) {
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
