package python

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// FuzzMutate: arbitrary source never panics, and every mutation Mutate
// returns parses from scratch and differs from the source.
func FuzzMutate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.py"))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("def f(a):\n\twith a:\n\t\treturn a\n"))
	f.Add([]byte("def f():\n  try:\n    x = '''\nmulti'''\n  except E: pass\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rs, err := mutate("fuzz.py", src, Options{})
		if err != nil {
			return
		}
		for _, r := range rs {
			if string(r.mutated) == string(src) {
				t.Fatalf("%s: mutation changes nothing", r.Kind)
			}
			if !reparseClean(r.mutated) {
				t.Fatalf("%s: mutated source does not parse:\n%s", r.Kind, r.mutated)
			}
		}
	})
}

// FuzzParseTestRun: any output and JUnit report parse without a panic into
// a report that keeps the kind's contract, and a test is passed only when
// the -rA summary and the report both say it passed; an invalid run shows
// a pass only when it is invalid for its exit status alone.
func FuzzParseTestRun(f *testing.F) {
	for _, name := range []string{"plain.log", "color.log", "verbose.log"} {
		log, err := os.ReadFile(filepath.Join("testdata", "pytest", name))
		if err != nil {
			f.Fatal(err)
		}
		junit, err := os.ReadFile(filepath.Join("testdata", "pytest", "junit.xml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(log), string(junit), 1)
	}
	f.Add("=== short test summary info ===\nPASSED t.py::a\n== 1 passed ==\n", `<testsuite><testcase classname="t" name="a" file="t.py"/></testsuite>`, 0)
	f.Add("=== short test summary info ===\nPASSED t.py::a\n", `<testsuite><testcase classname="t" name="a" file="t.py"><failure/></testcase></testsuite>`, 1)
	// Both channels say passed, the exit status says otherwise: invalid,
	// with the observed pass kept (a CI fuzz run found the old invariant
	// did not allow for it).
	f.Add("=== short test summary info ===\nPASSED t.py::a\n== 1 passed ==\n", `<testsuite><testcase classname="t" name="a" file="t.py"/></testsuite>`, 1)
	f.Fuzz(func(t *testing.T, output, junit string, exit int) {
		run := sdk.TestRun{Output: output, ExitCode: exit, Files: map[string]string{"/r/" + JUnitFile: junit}}
		rep, err := Language{}.ParseTestRun(context.Background(), nil, run)
		if err != nil {
			t.Fatal(err)
		}
		if err := sdk.CheckTestReport(rep); err != nil {
			t.Fatal(err)
		}
		summary := ParsePytestSummary(output)
		report, _ := ParseJUnit([]byte(junit))
		for id, st := range rep.Statuses {
			if !passes(st) {
				continue
			}
			if !passes(summary[id]) {
				t.Fatalf("%s passes, but the summary says %q", id, summary[id])
			}
			if rep.Invalid != "" && !strings.Contains(rep.Invalid, "but no test failed") {
				t.Fatalf("%s passes in a run invalid for another reason: %s", id, rep.Invalid)
			}
			if len(report) == 0 {
				t.Fatalf("%s passes without a report", id)
			}
		}
	})
}
