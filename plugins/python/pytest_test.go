package python

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// These tests were ported with the parsers from core/harness; the logs
// under testdata/pytest were captured from real pytest runs of
// testdata/pytest/test_sample.py.txt (as test_sample.py).

// checkGolden compares got, encoded as indented JSON, with the golden
// file, or rewrites the file with -update.
func checkGolden(t *testing.T, file string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, data) {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", file, want, data)
	}
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "pytest", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestParseRealLogs parses the captured logs and compares the statuses
// with golden files.
func TestParseRealLogs(t *testing.T) {
	cases := []struct {
		log, golden string
		parse       func(string) map[string]sdk.TestStatus
	}{
		{"plain.log", "plain.golden.json", ParsePytestLines},
		{"color.log", "color.golden.json", ParsePytestLines},
		{"verbose.log", "verbose.golden.json", ParsePytestLines},
		{"plain.log", "summary.golden.json", ParsePytestSummary},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			checkGolden(t, filepath.Join("testdata", "pytest", c.golden), c.parse(readTestdata(t, c.log)))
		})
	}
}

// sampleSummary is what the summaries of the captured logs say.
var sampleSummary = map[string]sdk.TestStatus{
	"test_sample.py::test_pass":              sdk.TestPassed,
	"test_sample.py::test_fail":              sdk.TestFailed,
	"test_sample.py::test_prints_fake_lines": sdk.TestPassed,
	"test_sample.py::test_param[a b-1]":      sdk.TestPassed,
	"test_sample.py::test_param[[x]-2]":      sdk.TestFailed,
	"test_sample.py::test_param[c - d-3]":    sdk.TestPassed,
	"test_sample.py::test_xfail":             sdk.TestXFail,
	"test_sample.py::test_xpass":             sdk.TestXPass,
	"test_sample.py::test_error_in_fixture":  sdk.TestError,
	"test_sample.py::TestGroup::test_method": sdk.TestPassed,
	"test_sample.py::TestGroup::test_long_id[this is a rather long parameter value that makes the id long this is a rather long parameter value that makes the id long ]": sdk.TestPassed,
}

// TestRealPytestLogFacts spells out what the golden files must say, so an
// -update cannot quietly accept a wrong parse.
func TestRealPytestLogFacts(t *testing.T) {
	for _, f := range []string{"plain.log", "color.log"} {
		if got := ParsePytestSummary(readTestdata(t, f)); !reflect.DeepEqual(got, sampleSummary) {
			t.Errorf("%s summary:\n got %v\nwant %v", f, got, sampleSummary)
		}
		if got := ParsePytestLog(readTestdata(t, f)); !reflect.DeepEqual(got, sampleSummary) {
			t.Errorf("%s: the log parser does not read the summary alone:\n got %v", f, got)
		}
	}
	// The whole plain log also holds the lines test_prints_fake_lines
	// printed: SWE-bench's parser believes them, the summary does not.
	if got := ParsePytestLines(readTestdata(t, "plain.log"))["test_sample.py::test_error_in_fixture"]; got != sdk.TestError {
		t.Errorf("whole log: last line wins, want ERROR, got %s", got)
	}
	// The verbose log adds the skipped test's id (-v names it).
	if got := ParsePytestLines(readTestdata(t, "verbose.log"))["test_sample.py::test_skipped"]; got != sdk.TestSkipped {
		t.Errorf("verbose: test_skipped = %q, want SKIPPED", got)
	}
	j, err := ParseJUnit([]byte(readTestdata(t, "junit.xml")))
	if err != nil {
		t.Fatal(err)
	}
	wantJ := map[string]sdk.TestStatus{"test_sample.py::test_skipped": sdk.TestSkipped}
	for k, v := range sampleSummary {
		wantJ[k] = v
	}
	wantJ["test_sample.py::test_xpass"] = sdk.TestPassed // the report cannot tell
	if !reflect.DeepEqual(j, wantJ) {
		t.Errorf("junit:\n got %v\nwant %v", j, wantJ)
	}
	// Reconciled, the xpass is the summary's, and the skipped test, which
	// only the report names, keeps its status: it is not a pass.
	rec, err := ReconcileJUnit([]byte(readTestdata(t, "junit.xml")), sampleSummary)
	if err != nil {
		t.Fatal(err)
	}
	wantJ["test_sample.py::test_xpass"] = sdk.TestXPass
	if !reflect.DeepEqual(rec, wantJ) {
		t.Errorf("reconciled:\n got %v\nwant %v", rec, wantJ)
	}
}

func TestParsePytestLines(t *testing.T) {
	P, F, E, S := sdk.TestPassed, sdk.TestFailed, sdk.TestError, sdk.TestSkipped
	cases := []struct {
		name string
		log  string
		want map[string]sdk.TestStatus
	}{
		{"status first", "PASSED tests/t.py::test_a", map[string]sdk.TestStatus{"tests/t.py::test_a": P}},
		{"verbose", "tests/t.py::test_a PASSED                    [ 50%]", map[string]sdk.TestStatus{"tests/t.py::test_a": P}},
		{"verbose at end of line", "tests/t.py::test_a FAILED", map[string]sdk.TestStatus{"tests/t.py::test_a": F}},
		{"failed with message", "FAILED tests/t.py::test_a - AssertionError: x - y", map[string]sdk.TestStatus{"tests/t.py::test_a": F}},
		{"param with spaces and brackets", "PASSED tests/t.py::test_x[a b-1]\nFAILED tests/t.py::test_x[[c] - d] - assert [1] == [2]",
			map[string]sdk.TestStatus{"tests/t.py::test_x[a b-1]": P, "tests/t.py::test_x[[c] - d]": F}},
		{"verbose param with spaces", "tests/t.py::test_x[a b-1] PASSED [ 10%]", map[string]sdk.TestStatus{"tests/t.py::test_x[a b-1]": P}},
		{"unbalanced param falls back to the first space", "FAILED tests/t.py::test_x[a - msg", map[string]sdk.TestStatus{"tests/t.py::test_x[a": F}},
		{"ansi colours", "\x1b[32mPASSED\x1b[0m tests/t.py::\x1b[1mtest_a\x1b[0m\n\x1b[31mFAILED\x1b[0m tests/t.py::\x1b[1mtest_b\x1b[0m - boom",
			map[string]sdk.TestStatus{"tests/t.py::test_a": P, "tests/t.py::test_b": F}},
		{"colour codes without ESC", "[32mPASSED[0m tests/t.py::[1mtest_a[0m", map[string]sdk.TestStatus{"tests/t.py::test_a": P}},
		{"collection error names the file", "ERROR tests/test_x.py - ImportError: no", map[string]sdk.TestStatus{"tests/test_x.py": E}},
		{"skip summary has no id", "SKIPPED [1] tests/t.py:12: not today\nSKIPPED [3] tests/u.py: module", map[string]sdk.TestStatus{}},
		{"skip with an id", "SKIPPED tests/t.py::test_s", map[string]sdk.TestStatus{"tests/t.py::test_s": S}},
		{"xfail and xpass", "XFAIL tests/t.py::test_a - reason: known\nXPASS tests/t.py::test_b fixed meanwhile",
			map[string]sdk.TestStatus{"tests/t.py::test_a": sdk.TestXFail, "tests/t.py::test_b": sdk.TestXPass}},
		{"crlf and carriage returns", "PASSED tests/t.py::test_a\r\ncollecting ... \rPASSED tests/t.py::test_b\r",
			map[string]sdk.TestStatus{"tests/t.py::test_a": P, "tests/t.py::test_b": P}},
		{"indented lines are ignored", "    PASSED tests/t.py::test_a\n\tFAILED tests/t.py::test_b", map[string]sdk.TestStatus{}},
		{"section rules are not tests", "_________ ERROR at setup of test_a _________\n=== FAILURES ===\nPASSED\nPASSES", map[string]sdk.TestStatus{}},
		{"last line wins", "PASSED tests/t.py::test_a\nERROR tests/t.py::test_a - teardown", map[string]sdk.TestStatus{"tests/t.py::test_a": E}},
		{"lower case is not a status", "passed tests/t.py::test_a\ntests/t.py::test_b passed", map[string]sdk.TestStatus{}},
		{"status must be a whole word", "PASSEDtests/t.py::test_a\ntests/t.py::test_b PASSED:", map[string]sdk.TestStatus{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParsePytestLines(c.log); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestSWEBenchParserCases replays SWE-bench's pytest log-parser tests
// against ParsePytestLines (whose line reading the summary parse shares).
func TestSWEBenchParserCases(t *testing.T) {
	P, F, S := sdk.TestPassed, sdk.TestFailed, sdk.TestSkipped
	cases := []struct {
		source string
		log    string
		want   map[string]sdk.TestStatus
	}{
		{"tests/test_log_parsers_pytest_v2.py::test_id_containing_spaces_is_not_split",
			"PASSED astropy/units/tests/test_format.py::test_unicode[m⁻\u00b9-unit3 extra]",
			map[string]sdk.TestStatus{"astropy/units/tests/test_format.py::test_unicode[m⁻\u00b9-unit3 extra]": P}},
		{"tests/test_log_parsers_pytest_v2.py::test_trailing_status_form_keeps_spaces",
			"tests/test_a.py::test_x[a b] PASSED", map[string]sdk.TestStatus{"tests/test_a.py::test_x[a b]": P}},
		{"tests/test_log_parsers_pytest_v2.py::test_failed_assertion_message_excluded_from_id",
			"FAILED tests/test_a.py::test_x[a b] - AssertionError: expected 1 got 2", map[string]sdk.TestStatus{"tests/test_a.py::test_x[a b]": F}},
		{"tests/test_log_parsers_pytest_v2.py::test_bare_status_line_is_skipped",
			"PASSED\nFAILED\ntests/test_a.py::test_y PASSED", map[string]sdk.TestStatus{"tests/test_a.py::test_y": P}},
		{"tests/test_log_parsers_pytest_v2.py::test_ansi_coloring_still_stripped",
			"\x1b[32mPASSED\x1b[0m tests/test_a.py::\x1b[1mtest_z\x1b[0m", map[string]sdk.TestStatus{"tests/test_a.py::test_z": P}},
		{"tests/test_log_parsers_skip_summary.py::test_skip_summary_excluded_from_all_pytest_parsers",
			"SKIPPED [1] tests/test_a.py:12: needs network\nPASSED tests/test_a.py::test_real\nSKIPPED [23] tests/test_b.py:4: unsupported platform\n",
			map[string]sdk.TestStatus{"tests/test_a.py::test_real": P}},
		{"tests/test_log_parsers_skip_summary.py::test_genuine_skipped_test_is_still_recorded",
			"SKIPPED tests/test_a.py::test_flaky", map[string]sdk.TestStatus{"tests/test_a.py::test_flaky": S}},
		{"tests/test_log_parsers_skip_summary.py::test_wrapped_progress_artifact_is_preserved",
			"PASSED [100%]", map[string]sdk.TestStatus{"[100%]": P}},
		{"tests/test_log_parsers_python.py::TestParseLogSeaborn::test_parse_pass_and_fail",
			"test_a.py::test_one PASSED [ 50%]\nPASSED test_b.py::test_two\nFAILED test_c.py::test_three\n",
			map[string]sdk.TestStatus{"test_a.py::test_one": P, "test_b.py::test_two": P, "test_c.py::test_three": F}},
		{"tests/test_log_parsers_python.py::TestParseLogSeaborn::test_bare_status_lines_do_not_crash",
			"test_a.py::test_one PASSED [ 50%]\nPASSED\nFAILED\n PASSED\ntest_b.py::test_two PASSED [100%]\n",
			map[string]sdk.TestStatus{"test_a.py::test_one": P, "test_b.py::test_two": P}},
	}
	for _, c := range cases {
		t.Run(c.source, func(t *testing.T) {
			if got := ParsePytestLines(c.log); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestJUnitIDs: the report's mangled ids find the summary's ids, also
// where pytest escaped characters or the file attribute names another
// file.
func TestJUnitIDs(t *testing.T) {
	cases := []struct {
		name    string
		summary map[string]sdk.TestStatus
		cases   string
		want    map[string]sdk.TestStatus
	}{
		{"class in a package",
			map[string]sdk.TestStatus{"a/b/test_c.py::TestK::test_m[x-1]": sdk.TestPassed},
			`<testcase classname="a.b.test_c.TestK" name="test_m[x-1]" file="a/b/test_c.py"/>`,
			map[string]sdk.TestStatus{"a/b/test_c.py::TestK::test_m[x-1]": sdk.TestPassed}},
		{"an inherited method reported under the mixin's file",
			map[string]sdk.TestStatus{"tests/test_impl.py::TestImpl::test_shared": sdk.TestPassed},
			`<testcase classname="tests.test_impl.TestImpl" name="test_shared" file="tests/mixins.py"/>`,
			map[string]sdk.TestStatus{"tests/test_impl.py::TestImpl::test_shared": sdk.TestPassed}},
		{"an astral character pytest escaped",
			map[string]sdk.TestStatus{"t.py::test_e[\U0001F600]": sdk.TestPassed},
			`<testcase classname="t" name="test_e[#x1F600]" file="t.py"/>`,
			map[string]sdk.TestStatus{"t.py::test_e[\U0001F600]": sdk.TestPassed}},
		{"two ids that mangle alike: the file decides",
			map[string]sdk.TestStatus{"a/b.py::C::t": sdk.TestPassed, "a/b/C.py::t": sdk.TestFailed},
			`<testcase classname="a.b.C" name="t" file="a/b/C.py"><failure message="x"/></testcase><testcase classname="a.b.C" name="t" file="a/b.py"/>`,
			map[string]sdk.TestStatus{"a/b.py::C::t": sdk.TestPassed, "a/b/C.py::t": sdk.TestFailed}},
		{"a strict xpass is a failure in both",
			map[string]sdk.TestStatus{"t.py::x": sdk.TestFailed},
			`<testcase classname="t" name="x" file="t.py"><skipped message="xfail-marked test passes unexpectedly"/></testcase>`,
			map[string]sdk.TestStatus{"t.py::x": sdk.TestFailed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReconcileJUnit([]byte("<testsuite>"+c.cases+"</testsuite>"), c.summary)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}
}
