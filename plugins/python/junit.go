package python

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/swelego/swelego/sdk"
)

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
// node id as the report's file attribute gives it (ReconcileJUnit matches
// the ids the -rA summary prints instead). A testcase with an <error> is
// ERROR, with a <failure> FAILED, with <skipped type="pytest.xfail">
// XFAIL, with another <skipped> SKIPPED (a strict XPASS, which pytest
// reports as a skip with the message "xfail-marked test passes
// unexpectedly", is FAILED, as the -rA summary says), and otherwise
// PASSED. A non-strict XPASS cannot be told from PASSED in the report;
// ReconcileJUnit corrects it from the summary.
func ParseJUnit(data []byte) (map[string]sdk.TestStatus, error) {
	cases, err := junitCases(data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]sdk.TestStatus, len(cases))
	for _, c := range cases {
		id, st := junitNodeID(c), junitStatus(c)
		if prev, ok := out[id]; !ok || badness(st) > badness(prev) {
			out[id] = st
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

func junitStatus(c junitCase) sdk.TestStatus {
	switch {
	case len(c.Error) > 0:
		return sdk.TestError
	case len(c.Failure) > 0:
		return sdk.TestFailed
	case len(c.Skipped) > 0:
		s := c.Skipped[len(c.Skipped)-1]
		switch {
		case s.Type == "pytest.xfail":
			return sdk.TestXFail
		case s.Message == "xfail-marked test passes unexpectedly":
			return sdk.TestFailed
		}
		return sdk.TestSkipped
	}
	return sdk.TestPassed
}

// junitNodeID rebuilds the pytest node id from the file, classname and
// name pytest's junitxml plugin wrote (mangle_test_address in pytest's
// junitxml.py: the file path becomes dotted without ".py", classes are
// appended with dots, the name keeps its parameters).
func junitNodeID(c junitCase) string {
	mangled := strings.TrimSuffix(strings.ReplaceAll(c.File, "/", "."), ".py")
	switch {
	case c.Classname == "" && c.Name == mangled:
		return c.File // a collection error reports the module itself
	case c.Classname == "", c.Classname == mangled:
		return c.File + "::" + c.Name
	case strings.HasPrefix(c.Classname, mangled+"."):
		classes := strings.ReplaceAll(c.Classname[len(mangled)+1:], ".", "::")
		return c.File + "::" + classes + "::" + c.Name
	}
	return c.File + "::" + c.Name
}

// junitKey is what pytest's junitxml plugin writes for a node id: its
// classname and name attributes, the name escaped as bin_xml_escape does.
type junitKey struct{ classname, name string }

// junitKeyOf mangles a pytest node id the way pytest's junitxml does: the
// part before any "[" is split at "::", the file path becomes dotted
// without ".py", the last part (with its parameters) is the name and the
// rest joined with dots the classname.
func junitKeyOf(nodeID string) junitKey {
	p, params, bracket := strings.Cut(nodeID, "[")
	names := strings.Split(p, "::")
	names[0] = strings.TrimSuffix(strings.ReplaceAll(names[0], "/", "."), ".py")
	if bracket {
		names[len(names)-1] += "[" + params
	}
	last := len(names) - 1
	return junitKey{classname: strings.Join(names[:last], "."), name: junitEscape(names[last])}
}

// junitEscape escapes what pytest's bin_xml_escape replaces with "#xNN"
// (not an XML escape: the characters are gone from the report). Its
// pattern means to allow every character XML 1.0 allows but spells the
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

// ReconcileJUnit combines the two channels a pytest run reports through,
// the JUnit report and the -rA "short test summary info" (summary, from
// ParsePytestSummary), into one status per node id, so that a test counts
// as passed only when both say it passed:
//
//   - each testcase of the report is given the node id of the summary line
//     whose mangled form (classname, name) it carries: the id pytest
//     prints even where the report's file attribute names another file (a
//     test method inherited from a mixin defined elsewhere) or the name
//     lost characters to pytest's "#xNN" escaping. A testcase no summary
//     line matches gets the id its file, classname and name give;
//   - a test both channels report gets the worse of the two statuses (the
//     report cannot tell XPASS from PASSED; a rewritten report must not
//     outvote the summary, nor a forged summary line the report);
//   - a test only one channel reports keeps its status when that is not a
//     pass and is left out (missing) when it is: a pass nobody can
//     corroborate is not a pass.
//
// It returns an error when the report is unusable: a run whose report is
// missing, broken or not xunit1 cannot be graded, whatever the log says.
func ReconcileJUnit(junit []byte, summary map[string]sdk.TestStatus) (map[string]sdk.TestStatus, error) {
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
	fromReport := make(map[string]sdk.TestStatus, len(cases))
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
		if prev, ok := fromReport[id]; !ok || badness(st) > badness(prev) {
			fromReport[id] = st
		}
	}
	out := make(map[string]sdk.TestStatus, len(fromReport))
	for id, js := range fromReport {
		ss, inSummary := summary[id]
		switch {
		case inSummary && badness(ss) > badness(js):
			out[id] = ss
		case inSummary:
			out[id] = js
		case !passes(js):
			out[id] = js
		}
	}
	for id, ss := range summary {
		if _, inReport := fromReport[id]; !inReport && !passes(ss) {
			out[id] = ss
		}
	}
	return out, nil
}

// passes reports whether st is a pass for a FAIL_TO_PASS test (SWE-bench:
// PASSED or XFAIL).
func passes(st sdk.TestStatus) bool { return st == sdk.TestPassed || st == sdk.TestXFail }
