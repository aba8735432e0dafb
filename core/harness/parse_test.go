package harness

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestParseRealLogs parses logs captured from real pytest and go test runs
// (see TestCapture) and compares the statuses with golden files.
func TestParseRealLogs(t *testing.T) {
	cases := []struct {
		name, log, golden string
		parse             func(string) map[string]Status
	}{
		{"pytest plain", "testdata/pytest/plain.log", "testdata/pytest/plain.golden.json", ParsePytest},
		{"pytest colour", "testdata/pytest/color.log", "testdata/pytest/color.golden.json", ParsePytest},
		{"pytest verbose", "testdata/pytest/verbose.log", "testdata/pytest/verbose.golden.json", ParsePytest},
		{"pytest summary only", "testdata/pytest/plain.log", "testdata/pytest/summary.golden.json", ParsePytestSummary},
		{"go test -json", "testdata/gotest/sample.json", "testdata/gotest/sample.golden.json", ParseGoTest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := os.ReadFile(c.log)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.golden, c.parse(string(data)))
		})
	}
}

// TestRealPytestLogFacts spells out what the golden files must say, so an
// -update cannot quietly accept a wrong parse.
func TestRealPytestLogFacts(t *testing.T) {
	want := map[string]Status{
		"test_sample.py::test_pass":              StatusPassed,
		"test_sample.py::test_fail":              StatusFailed,
		"test_sample.py::test_prints_fake_lines": StatusPassed,
		"test_sample.py::test_param[a b-1]":      StatusPassed,
		"test_sample.py::test_param[[x]-2]":      StatusFailed,
		"test_sample.py::test_param[c - d-3]":    StatusPassed,
		"test_sample.py::test_xfail":             StatusXFail,
		"test_sample.py::test_xpass":             StatusXPass,
		"test_sample.py::test_error_in_fixture":  StatusError,
		"test_sample.py::TestGroup::test_method": StatusPassed,
		"test_sample.py::TestGroup::test_long_id[this is a rather long parameter value that makes the id long this is a rather long parameter value that makes the id long ]": StatusPassed,
	}
	for _, f := range []string{"plain.log", "color.log"} {
		data, err := os.ReadFile("testdata/pytest/" + f)
		if err != nil {
			t.Fatal(err)
		}
		got := ParsePytestSummary(string(data))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s summary:\n got %v\nwant %v", f, got, want)
		}
	}
	// The whole plain log also holds the lines test_prints_fake_lines
	// printed: SWE-bench's parser believes them, the summary does not.
	data, _ := os.ReadFile("testdata/pytest/plain.log")
	whole := ParsePytest(string(data))
	if whole["test_sample.py::test_error_in_fixture"] != StatusError {
		t.Errorf("whole log: last line wins, want ERROR, got %s", whole["test_sample.py::test_error_in_fixture"])
	}
	// The verbose log adds the skipped test's id (-v names it).
	data, _ = os.ReadFile("testdata/pytest/verbose.log")
	if got := ParsePytest(string(data))["test_sample.py::test_skipped"]; got != StatusSkipped {
		t.Errorf("verbose: test_skipped = %q, want SKIPPED", got)
	}

	junit, err := os.ReadFile("testdata/pytest/junit.xml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := ParseJUnit(junit)
	if err != nil {
		t.Fatal(err)
	}
	wantJ := map[string]Status{"test_sample.py::test_skipped": StatusSkipped}
	for k, v := range want {
		wantJ[k] = v
	}
	wantJ["test_sample.py::test_xpass"] = StatusPassed // the report cannot tell
	if !reflect.DeepEqual(j, wantJ) {
		t.Errorf("junit:\n got %v\nwant %v", j, wantJ)
	}
}

func TestRealGoTestLogFacts(t *testing.T) {
	data, err := os.ReadFile("testdata/gotest/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	got := ParseGoTest(string(data))
	want := map[string]Status{
		"TestPass":            StatusPassed,
		"TestFail":            StatusFailed, // its fake "--- PASS: TestFail" lines do not count
		"TestSkip":            StatusSkipped,
		"TestSub":             StatusFailed,
		"TestSub/ok":          StatusPassed,
		"TestSub/bad_case":    StatusFailed,
		"TestSub/nested":      StatusPassed,
		"TestSub/nested/deep": StatusPassed,
		"TestPrintsFakeLines": StatusPassed,
		"TestBefore":          StatusPassed,
		"TestPanics":          StatusFailed,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// TestBroken's package did not build and TestAfter never ran: both are
	// missing, so they grade as failures.
	res, _ := Grade([]string{"TestBroken", "TestAfter"}, nil, got)
	if res != ResolvedNo {
		t.Errorf("missing tests graded %s", res)
	}
}

func TestParsePytestLines(t *testing.T) {
	cases := []struct {
		name string
		log  string
		want map[string]Status
	}{
		{"status first", "PASSED tests/t.py::test_a", map[string]Status{"tests/t.py::test_a": StatusPassed}},
		{"verbose", "tests/t.py::test_a PASSED                    [ 50%]", map[string]Status{"tests/t.py::test_a": StatusPassed}},
		{"verbose at end of line", "tests/t.py::test_a FAILED", map[string]Status{"tests/t.py::test_a": StatusFailed}},
		{"failed with message", "FAILED tests/t.py::test_a - AssertionError: x - y", map[string]Status{"tests/t.py::test_a": StatusFailed}},
		{"param with spaces and brackets", "PASSED tests/t.py::test_x[a b-1]\nFAILED tests/t.py::test_x[[c] - d] - assert [1] == [2]",
			map[string]Status{"tests/t.py::test_x[a b-1]": StatusPassed, "tests/t.py::test_x[[c] - d]": StatusFailed}},
		{"verbose param with spaces", "tests/t.py::test_x[a b-1] PASSED [ 10%]", map[string]Status{"tests/t.py::test_x[a b-1]": StatusPassed}},
		{"unbalanced param falls back to the first space", "FAILED tests/t.py::test_x[a - msg", map[string]Status{"tests/t.py::test_x[a": StatusFailed}},
		{"ansi colours", "\x1b[32mPASSED\x1b[0m tests/t.py::\x1b[1mtest_a\x1b[0m\n\x1b[31mFAILED\x1b[0m tests/t.py::\x1b[1mtest_b\x1b[0m - boom",
			map[string]Status{"tests/t.py::test_a": StatusPassed, "tests/t.py::test_b": StatusFailed}},
		{"colour codes without ESC", "[32mPASSED[0m tests/t.py::[1mtest_a[0m", map[string]Status{"tests/t.py::test_a": StatusPassed}},
		{"collection error names the file", "ERROR tests/test_x.py - ImportError: no", map[string]Status{"tests/test_x.py": StatusError}},
		{"skip summary has no id", "SKIPPED [1] tests/t.py:12: not today\nSKIPPED [3] tests/u.py: module", map[string]Status{}},
		{"skip with an id", "SKIPPED tests/t.py::test_s", map[string]Status{"tests/t.py::test_s": StatusSkipped}},
		{"xfail and xpass", "XFAIL tests/t.py::test_a - reason: known\nXPASS tests/t.py::test_b fixed meanwhile",
			map[string]Status{"tests/t.py::test_a": StatusXFail, "tests/t.py::test_b": StatusXPass}},
		{"crlf and carriage returns", "PASSED tests/t.py::test_a\r\ncollecting ... \rPASSED tests/t.py::test_b\r",
			map[string]Status{"tests/t.py::test_a": StatusPassed, "tests/t.py::test_b": StatusPassed}},
		{"indented lines are ignored", "    PASSED tests/t.py::test_a\n\tFAILED tests/t.py::test_b", map[string]Status{}},
		{"section rules are not tests", "_________ ERROR at setup of test_a _________\n=== FAILURES ===\nPASSED\nPASSES", map[string]Status{}},
		{"last line wins", "PASSED tests/t.py::test_a\nERROR tests/t.py::test_a - teardown", map[string]Status{"tests/t.py::test_a": StatusError}},
		{"lower case is not a status", "passed tests/t.py::test_a\ntests/t.py::test_b passed", map[string]Status{}},
		{"status must be a whole word", "PASSEDtests/t.py::test_a\ntests/t.py::test_b PASSED:", map[string]Status{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParsePytest(c.log)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseGoTestEdges(t *testing.T) {
	cases := []struct {
		name string
		log  string
		want map[string]Status
	}{
		{"plain text result lines do not count", "--- PASS: TestA (0.00s)\nok  \tpkg\t0.1s\n=== RUN TestA", map[string]Status{}},
		{"output events do not count", `{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}`, map[string]Status{}},
		{"final action wins", `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA"}`, map[string]Status{"TestA": StatusPassed}},
		{"running test of a failed package fails", `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"run","Package":"q","Test":"TestB"}
{"Action":"fail","Package":"p"}`, map[string]Status{"TestA": StatusFailed}},
		{"build failure reports no tests", `{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"fail","Package":"p","FailedBuild":"p [p.test]"}`, map[string]Status{}},
		{"a failure in either package wins", `{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"q","Test":"TestA"}`, map[string]Status{"TestA": StatusFailed}},
		{"garbage lines are skipped", "{not json\n{}\n{\"Action\":\"skip\",\"Package\":\"p\",\"Test\":\"TestS\"}", map[string]Status{"TestS": StatusSkipped}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseGoTest(c.log)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestResolveTruncated follows SWE-bench v5's _resolve_case: only ids cut
// inside their brackets fall back to prefixes, and only when the matches
// agree on pass or fail.
func TestResolveTruncated(t *testing.T) {
	parsed := map[string]Status{
		"tests/t.py::test_x[a b-1]":         StatusPassed,
		"tests/t.py::test_long_name_cut...": StatusPassed,
		"tests/t.py::test_y[p q]":           StatusPassed,
		"tests/t.py::test_y[p r]":           StatusFailed,
		"tests/t.py::test_z[one two]":       StatusPassed,
		"tests/t.py::test_z[one three]":     StatusXFail,
		"tests/t.py::test_w[k 1]":           StatusFailed,
		"tests/t.py::test_w[k 2]":           StatusSkipped,
		"tests/...":                         StatusPassed,
	}
	cases := []struct {
		id     string
		want   Status
		found  bool
		reason string
	}{
		{"tests/t.py::test_x[a b-1]", StatusPassed, true, "exact"},
		{"tests/t.py::test_x[a", StatusPassed, true, "cut inside its brackets, one match"},
		{"tests/t.py::test_long_name_cut_by_a_tool", "", false, "a reported id ending in ... is not a wildcard"},
		{"tests/t.py::test_anything", "", false, "nor is tests/..."},
		{"tests/t.py::test_y[p", "", false, "matches disagree on pass or fail"},
		{"tests/t.py::test_z[one", StatusXFail, true, "PASSED and XFAIL agree (first in sorted order)"},
		{"tests/t.py::test_w[k", StatusFailed, true, "FAILED and SKIPPED both fail"},
		{"tests/t.py::test_x", "", false, "balanced brackets: exact match only"},
		{"tests/t.py::test_x[a b-1", StatusPassed, true, "one bracket open"},
		{"handles foo] gracefully", "", false, "a surplus ] is no truncation"},
	}
	for _, c := range cases {
		st, ok := ResolveTruncated(c.id, parsed)
		if ok != c.found || st != c.want {
			t.Errorf("%s: %q: got %q %v, want %q %v", c.reason, c.id, st, ok, c.want, c.found)
		}
	}
	if len(parsed) != 9 {
		t.Error("ResolveTruncated modified its input")
	}
}

// TestParserOverride: a log parser an environment names reads the output
// between the markers in place of the language, and the exit-code rule
// still applies.
func TestParserOverride(t *testing.T) {
	RegisterParser("upper-test", ParserFunc(func(log string) map[string]Status {
		out := map[string]Status{}
		for _, l := range strings.Split(log, "\n") {
			if name, ok := strings.CutPrefix(l, "OK "); ok {
				out[name] = StatusPassed
			}
		}
		return out
	}))
	nonce := NewNonce()
	out := "OK fake\n" + startMarker(nonce) + "\nOK real\n" + endMarker(nonce) + " exit=0\nOK late\n"
	got, err := ParseRun("upper-test", out, nonce, nil, 0)
	if err != nil || got.Invalid != "" || !reflect.DeepEqual(got.Statuses, map[string]Status{"real": StatusPassed}) {
		t.Errorf("parser: %v %v", got, err)
	}
	got, err = ParseRun("upper-test", out, nonce, nil, 2)
	if err != nil || !strings.Contains(got.Invalid, "exited with status 2 but no test failed") {
		t.Errorf("exit-code rule: %v %v", got, err)
	}
}

// TestGoTestRunWhole reads a real go test run of four packages, once with
// -json and once as plain -v text: gx/a times out in TestSlow, gx/b's
// TestMain exits 1 after its tests pass, gx/c does not build, gx/d has a
// test that prints a forged "--- PASS: TestForged" line and a test that
// fails. Both spellings must give the same statuses and reject the run for
// a, b and c (d failed through a test of its own).
func TestGoTestRunWhole(t *testing.T) {
	want := map[string]Status{
		"TestA": StatusPassed, "TestB": StatusPassed, "TestSlow": StatusFailed,
		"TestD": StatusPassed, "TestD/sub": StatusPassed, "TestE": StatusFailed,
	}
	for _, c := range []struct{ file, invalid string }{
		{"testdata/gotest/whole.json", "package gx/a timed out, package gx/b failed with no failing test, package gx/c did not build"},
		{"testdata/gotest/whole-v.txt", "package gx/a timed out, package gx/b failed with no failing test, package gx/c did not build"},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		got := GoTestRun(string(data))
		w := want
		if strings.HasSuffix(c.file, ".txt") {
			// Plain text has no event for a test cut off by the timeout.
			w = map[string]Status{}
			for k, v := range want {
				w[k] = v
			}
			delete(w, "TestSlow")
		}
		if !reflect.DeepEqual(got.Statuses, w) {
			t.Errorf("%s: statuses %v\nwant %v", c.file, got.Statuses, w)
		}
		if !strings.Contains(got.Invalid, c.invalid) {
			t.Errorf("%s: invalid %q\nwant it to say %q", c.file, got.Invalid, c.invalid)
		}
		if _, forged := got.Statuses["TestForged"]; forged {
			t.Errorf("%s: a printed result line counted", c.file)
		}
	}
	// One package that passes, one whose test fails: nothing to reject.
	ok := "=== RUN   TestA\n--- PASS: TestA (0.00s)\nPASS\nok  \tgx/a\t0.01s\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\nFAIL\nFAIL\tgx/b\t0.01s\nFAIL\n"
	if got := GoTestRun(ok); got.Invalid != "" || !reflect.DeepEqual(got.Statuses, map[string]Status{"TestA": StatusPassed, "TestB": StatusFailed}) {
		t.Errorf("plain run with a failing test: %+v", got)
	}
}
