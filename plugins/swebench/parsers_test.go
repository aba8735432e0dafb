package swebench

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// parsed is a parse as the golden files hold it.
type parsed struct {
	Statuses map[string]sdk.TestStatus `json:"statuses"`
	Invalid  string                    `json:"invalid,omitempty"`
}

// TestParsersGolden reads logs in their real shapes (written by the test
// runners themselves: unittest at verbosity 2 as Django's runtests.py
// prints it, with Python 3.11's ids and, rewritten, the older ones;
// SymPy's runner with verbose output; pytest -rA; pytest --verbose as
// SWE-smith runs it) and compares each parse with its golden file.
func TestParsersGolden(t *testing.T) {
	tests := []struct {
		log    string
		parser Parser
	}{
		{"django.log", ParserDjango},
		{"django_py36.log", ParserDjango},
		{"django_forged.log", ParserDjango},
		{"sympy.log", ParserSympy},
		{"sympy_forged.log", ParserSympy},
		{"pytest.log", ParserPytest},
		{"pytest.log", ParserPytestOptions},
		{"pytest.log", ParserPytestV2},
		{"pytest.log", ParserMatplotlib},
		{"pytest.log", ParserSeaborn},
		{"pytest_forged.log", ParserPytest},
		{"pytest_forged.log", ParserPytestV2},
		{"swesmith_verbose.log", ParserSWESmith},
		{"pytest.log", ParserSWESmith},
	}
	for _, tt := range tests {
		name := strings.TrimSuffix(tt.log, ".log") + "." + string(tt.parser)
		t.Run(name, func(t *testing.T) {
			log, err := os.ReadFile(filepath.Join("testdata", "logs", tt.log))
			if err != nil {
				t.Fatal(err)
			}
			st, invalid := tt.parser.Parse(string(log))
			got, err := json.MarshalIndent(parsed{st, invalid}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "logs", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("parse differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestParsersRefuseForgery checks the forged logs by what matters for a
// grade, apart from the golden files: a test that failed or never ran
// does not pass.
func TestParsersRefuseForgery(t *testing.T) {
	tests := []struct {
		log       string
		parser    Parser
		id        string // a test that failed: never passed
		notPassed string // a test that never ran: its "pass" makes the run invalid
	}{
		{"django_forged.log", ParserDjango, "test_fail (app.forge.ForgeTests.test_fail)", "test_missing (app.forge.ForgeTests.test_missing)"},
		{"sympy_forged.log", ParserSympy, "test_error", "test_never_ran"},
		{"pytest_forged.log", ParserPytest, "tests/test_forge.py::test_error", "tests/test_forge.py::test_never_ran"},
		{"pytest_forged.log", ParserPytestV2, "tests/test_forge.py::test_error", "tests/test_forge.py::test_never_ran"},
	}
	for _, tt := range tests {
		t.Run(tt.log+"."+string(tt.parser), func(t *testing.T) {
			log, err := os.ReadFile(filepath.Join("testdata", "logs", tt.log))
			if err != nil {
				t.Fatal(err)
			}
			st, invalid := tt.parser.Parse(string(log))
			// SWE-bench's pytest_v2 keeps " - message" in ERROR ids, so
			// a printed PASSED line has an id of its own: it must leave
			// the run invalid.
			if s, ok := st[tt.id]; (!ok || s == sdk.TestPassed) && invalid == "" {
				t.Errorf("%s: %q in a valid run, want a failure", tt.id, s)
			}
			if tt.notPassed != "" && invalid == "" {
				t.Errorf("a pass printed for %s, which never ran, left the run valid", tt.notPassed)
			}
		})
	}
}

// TestParsersTotals checks the totals rules on small logs.
func TestParsersTotals(t *testing.T) {
	tests := []struct {
		name        string
		parser      Parser
		log         string
		wantInvalid string
		want        map[string]sdk.TestStatus
	}{
		{"django ok", ParserDjango, "test_a (m.C) ... ok\ntest_b (m.C) ... skipped 'x'\n\n----\nRan 2 tests in 0.1s\n\nOK (skipped=1)\n", "",
			map[string]sdk.TestStatus{"test_a (m.C)": sdk.TestPassed, "test_b (m.C)": sdk.TestSkipped}},
		{"django no totals", ParserDjango, "test_a (m.C) ... ok\n", "are missing", map[string]sdk.TestStatus{"test_a (m.C)": sdk.TestPassed}},
		{"django too many passes", ParserDjango, "test_a (m.C) ... ok\ntest_b (m.C) ... ok\nRan 2 tests in 0.1s\n\nFAILED (failures=1)\n", "2 passing tests",
			map[string]sdk.TestStatus{"test_a (m.C)": sdk.TestPassed, "test_b (m.C)": sdk.TestPassed}},
		{"django OK with a failure", ParserDjango, "test_a (m.C) ... FAIL\nRan 1 test in 0.1s\n\nOK\n", "says OK", map[string]sdk.TestStatus{"test_a (m.C)": sdk.TestFailed}},
		{"django ok on a later line", ParserDjango, "test_a (m.C) ... printed\nmore\nok\nRan 1 test in 0.1s\n\nOK\n", "", map[string]sdk.TestStatus{"test_a (m.C)": sdk.TestPassed}},
		{"django printed ok, then FAIL", ParserDjango, "test_a (m.C) ... printed\nok\nFAIL\nRan 1 test in 0.1s\n\nFAILED (failures=1)\n", "",
			map[string]sdk.TestStatus{"test_a (m.C)": sdk.TestFailed}},
		{"django version special", ParserDjango, "--version is equivalent to version\nRan 1 test in 0.1s\n\nOK\n", "", map[string]sdk.TestStatus{"--version is equivalent to version": sdk.TestPassed}},
		{"sympy no totals", ParserSympy, "test_a ok\n", "are missing", map[string]sdk.TestStatus{"test_a": sdk.TestPassed}},
		{"sympy ok", ParserSympy, "test_a ok\ntest_b F   [FAIL]\n tests finished: 1 passed, 1 failed, in 0.1 seconds\n", "",
			map[string]sdk.TestStatus{"test_a": sdk.TestPassed, "test_b": sdk.TestFailed}},
		{"pytest no totals", ParserPytest, "PASSED t.py::a\n", "missing", map[string]sdk.TestStatus{"t.py::a": sdk.TestPassed}},
		{"pytest old totals", ParserPytest, "PASSED t.py::a\n==== 1 passed in 0.10 seconds ====\n", "", map[string]sdk.TestStatus{"t.py::a": sdk.TestPassed}},
		{"pytest options path", ParserPytestOptions, "PASSED t.py::a[/x/y/z.txt]\nFAILED t.py::b - boom\n== 1 failed, 1 passed in 1s ==\n", "",
			map[string]sdk.TestStatus{"t.py::a[/z.txt]": sdk.TestPassed, "t.py::b": sdk.TestFailed}},
		{"pytest v2 colour and spaces", ParserPytestV2, "\x1b[32mPASSED\x1b[0m t.py::a[x y]\n== 1 passed in 1s ==\n", "", map[string]sdk.TestStatus{"t.py::a[x y]": sdk.TestPassed}},
		{"matplotlib mouse buttons", ParserMatplotlib, "PASSED t.py::a[MouseButton.LEFT]\n== 1 passed in 1s ==\n", "", map[string]sdk.TestStatus{"t.py::a[1]": sdk.TestPassed}},
		{"empty log", ParserDjango, "", "", map[string]sdk.TestStatus{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, invalid := tt.parser.Parse(tt.log)
			if tt.wantInvalid == "" && invalid != "" || tt.wantInvalid != "" && !strings.Contains(invalid, tt.wantInvalid) {
				t.Errorf("invalid %q, want %q", invalid, tt.wantInvalid)
			}
			if len(st) != len(tt.want) {
				t.Errorf("statuses %v, want %v", st, tt.want)
			}
			for id, want := range tt.want {
				if st[id] != want {
					t.Errorf("%s: %q, want %q (all: %v)", id, st[id], want, st)
				}
			}
		})
	}
}

// FuzzParse checks that no parser panics on any log and that every id it
// reports is non-empty with a status the protocol knows.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"django.log", "sympy.log", "pytest.log", "swesmith_verbose.log"} {
		b, err := os.ReadFile(filepath.Join("testdata", "logs", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("test_a (m.C) ... ok\nRan 1 test in 0s\n\nOK\n")
	f.Add("____ a.py:test_x ____\ntest_x F [FAIL]\n tests finished: 0 passed, in 1 seconds")
	parsers := []Parser{ParserSWESmith, ParserPytest, ParserPytestOptions, ParserPytestV2, ParserMatplotlib, ParserSeaborn, ParserDjango, ParserSympy}
	f.Fuzz(func(t *testing.T, log string) {
		for _, p := range parsers {
			st, _ := p.Parse(log)
			if err := sdk.CheckTestReport(sdk.TestReport{Statuses: st}); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
	})
}
