package golang

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// These tests were ported with the parser from core/harness; the logs
// under testdata/gotest were captured from real go test runs (sample.json
// of testdata/gosample).

func readGoTestdata(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "gotest", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestParseRealLog compares the statuses of the captured -json log with
// its golden file (refresh with -update).
func TestParseRealLog(t *testing.T) {
	data, err := json.MarshalIndent(ParseTestJSON(readGoTestdata(t, "sample.json")), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	golden := filepath.Join("testdata", "gotest", "sample.golden.json")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readGoTestdata(t, "sample.golden.json"); !bytes.Equal([]byte(want), data) {
		t.Errorf("%s differs (run with -update to accept):\n%s", golden, data)
	}
}

// TestRealGoTestLogFacts spells out what the golden file must say.
func TestRealGoTestLogFacts(t *testing.T) {
	P, F := sdk.TestPassed, sdk.TestFailed
	want := map[string]sdk.TestStatus{
		"TestPass":            P,
		"TestFail":            F, // its fake "--- PASS: TestFail" lines do not count
		"TestSkip":            sdk.TestSkipped,
		"TestSub":             F,
		"TestSub/ok":          P,
		"TestSub/bad_case":    F,
		"TestSub/nested":      P,
		"TestSub/nested/deep": P,
		"TestPrintsFakeLines": P,
		"TestBefore":          P,
		"TestPanics":          F,
		// TestBroken's package did not build and TestAfter never ran:
		// both are missing.
	}
	if got := ParseTestJSON(readGoTestdata(t, "sample.json")); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestParseGoTestEdges(t *testing.T) {
	cases := []struct {
		name string
		log  string
		want map[string]sdk.TestStatus
	}{
		{"plain text result lines do not count", "--- PASS: TestA (0.00s)\nok  \tpkg\t0.1s\n=== RUN TestA", map[string]sdk.TestStatus{}},
		{"output events do not count", `{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}`, map[string]sdk.TestStatus{}},
		{"final action wins", `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA"}`, map[string]sdk.TestStatus{"TestA": sdk.TestPassed}},
		{"running test of a failed package fails", `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"run","Package":"q","Test":"TestB"}
{"Action":"fail","Package":"p"}`, map[string]sdk.TestStatus{"TestA": sdk.TestFailed}},
		{"build failure reports no tests", `{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"fail","Package":"p","FailedBuild":"p [p.test]"}`, map[string]sdk.TestStatus{}},
		{"a failure in either package wins", `{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"q","Test":"TestA"}`, map[string]sdk.TestStatus{"TestA": sdk.TestFailed}},
		{"garbage lines are skipped", "{not json\n{}\n{\"Action\":\"skip\",\"Package\":\"p\",\"Test\":\"TestS\"}", map[string]sdk.TestStatus{"TestS": sdk.TestSkipped}},
		{"text: a result after its run line counts", "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n    --- SKIP: TestB (0.00s)\nok  \tp\t0.1s\n",
			map[string]sdk.TestStatus{"TestA": sdk.TestPassed, "TestB": sdk.TestSkipped}},
		{"text: a failure is never undone", "=== RUN   TestA\n--- FAIL: TestA (0.00s)\n--- PASS: TestA (0.00s)\n", map[string]sdk.TestStatus{"TestA": sdk.TestFailed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParseTestJSON(c.log); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestGoTestRunWhole reads a real go test run of four packages, once with
// -json and once as plain -v text: gx/a times out in TestSlow, gx/b's
// TestMain exits 1 after its tests pass, gx/c does not build, gx/d has a
// test that prints a forged "--- PASS: TestForged" line and a test that
// fails. Both spellings give the same statuses and reject the run for a,
// b and c (d failed through a test of its own).
func TestGoTestRunWhole(t *testing.T) {
	want := map[string]sdk.TestStatus{
		"TestA": sdk.TestPassed, "TestB": sdk.TestPassed, "TestSlow": sdk.TestFailed,
		"TestD": sdk.TestPassed, "TestD/sub": sdk.TestPassed, "TestE": sdk.TestFailed,
	}
	const invalid = "package gx/a timed out, package gx/b failed with no failing test, package gx/c did not build"
	for _, file := range []string{"whole.json", "whole-v.txt"} {
		got := TestRunOf(readGoTestdata(t, file))
		w := map[string]sdk.TestStatus{}
		for k, v := range want {
			w[k] = v
		}
		if strings.HasSuffix(file, ".txt") {
			delete(w, "TestSlow") // plain text has no event for a test cut off by the timeout
		}
		if !reflect.DeepEqual(got.Statuses, w) {
			t.Errorf("%s: statuses %v\nwant %v", file, got.Statuses, w)
		}
		if !strings.Contains(got.Invalid, invalid) {
			t.Errorf("%s: invalid %q\nwant it to say %q", file, got.Invalid, invalid)
		}
		if _, forged := got.Statuses["TestForged"]; forged {
			t.Errorf("%s: a printed result line counted", file)
		}
	}
	ok := "=== RUN   TestA\n--- PASS: TestA (0.00s)\nPASS\nok  \tgx/a\t0.01s\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\nFAIL\nFAIL\tgx/b\t0.01s\nFAIL\n"
	if got := TestRunOf(ok); got.Invalid != "" || !reflect.DeepEqual(got.Statuses, map[string]sdk.TestStatus{"TestA": sdk.TestPassed, "TestB": sdk.TestFailed}) {
		t.Errorf("plain run with a failing test: %+v", got)
	}
	var many []string
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"} {
		many = append(many, `{"Action":"fail","Package":"`+p+`"}`)
	}
	if got := TestRunOf(strings.Join(many, "\n")).Invalid; !strings.HasSuffix(got, "package p5 failed with no failing test and 2 more") {
		t.Errorf("seven bad packages: %q", got)
	}
}
