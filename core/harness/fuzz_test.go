package harness

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addFileSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(string(data))
		}
	}
}

// FuzzParsePytest feeds arbitrary text to the pytest line parser, the
// summary parser, the JUnit reader and ParseRun: none may panic, and every
// id comes with one of the six statuses.
func FuzzParsePytest(f *testing.F) {
	addFileSeeds(f, "testdata/pytest/*.log")
	addFileSeeds(f, "testdata/pytest/*.xml")
	for _, s := range []string{
		"PASSED t.py::a[x y]", "t.py::a[[ PASSED", "FAILED t.py::b - [", "SKIPPED [1] t.py:1: r",
		"\x1b[32mPASSED\x1b[0m x", "[0mPASSED[0m", "\r\rPASSED a\r", "=== short test summary info ===\nXPASS a b\n=== x ===",
		`<testcase file="a.py" classname="a" name="t"><failure/></testcase>`, "<testcase", "ERROR ]]]] [[[ ",
	} {
		f.Add(s)
	}
	const nonce = "fuzznonce"
	f.Fuzz(func(t *testing.T, log string) {
		check := func(m map[string]Status) {
			for id, st := range m {
				if id == "" {
					t.Errorf("empty id from %q", log)
				}
				if _, ok := isStatus(string(st)); !ok {
					t.Errorf("status %q for %q", st, id)
				}
			}
		}
		check(ParsePytest(log))
		check(ParsePytestSummary(log))
		if m, err := ParseJUnit([]byte(log)); err == nil {
			check(m)
		}
		out := startMarker(nonce) + "\n" + log + "\n" + endMarker(nonce) + " exit=1\n"
		run, err := ParseRun(KindPytest, out, nonce, []byte(log), 1)
		if err != nil {
			t.Fatalf("ParseRun on a marked log: %v", err)
		}
		check(run.Statuses)
		for id, st := range run.Statuses {
			if Passed(st) && ParsePytestSummary(log)[id] == "" {
				t.Errorf("%q passes without a summary line", id)
			}
		}
		if _, err := ParseRun(KindPytest, log, nonce, nil, 0); err != nil && !errors.Is(err, ErrNoResults) {
			t.Errorf("unmarked log: %v", err)
		}
		for _, id := range strings.Split(log, "\n") {
			st, ok := ResolveTruncated(id, run.Statuses)
			if _, exact := run.Statuses[id]; !ok || exact {
				continue
			}
			// Only an id cut inside its brackets may stand for others.
			if strings.Count(id, "[") <= strings.Count(id, "]") {
				t.Errorf("%q resolved to %s without being truncated", id, st)
			}
		}
	})
}

// FuzzParseGoTest feeds arbitrary text to the go test -json parser.
func FuzzParseGoTest(f *testing.F) {
	addFileSeeds(f, "testdata/gotest/*.json")
	for _, s := range []string{
		`{"Action":"run","Package":"p","Test":"T"}`, `{"Action":"fail","Package":"p"}`,
		`{"Action":"pass","Test":""}`, "{", `{"Action":5}`, "--- PASS: TestX (0.00s)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, log string) {
		for id, st := range ParseGoTest(log) {
			if id == "" || (st != StatusPassed && st != StatusFailed && st != StatusSkipped) {
				t.Errorf("%q: %q", id, st)
			}
		}
		nonce := "n"
		if _, err := ParseRun(KindGoTest, startMarker(nonce)+"\n"+log+endMarker(nonce), nonce, nil, 1); err != nil {
			t.Errorf("ParseRun: %v", err)
		}
	})
}

// FuzzCheckPatch feeds arbitrary text to CheckPatch: it may refuse, never
// panic, and every path it accepts must stay inside the repository.
func FuzzCheckPatch(f *testing.F) {
	addFileSeeds(f, "testdata/pytask/*.diff")
	for _, s := range []string{
		modifyPatch, "", "@@ -1 +1 @@", "--- a/x\n+++ b/x\n@@ -1,99999999999 +1 @@\n",
		"diff --git \"a/\\303\\251\" \"b/\\303\\251\"\nnew file mode 120000\n--- /dev/null\n+++ \"b/\\303\\251\"\n@@ -0,0 +1 @@\n+../x\n",
		"diff --git a/a b/a\nGIT binary patch\nliteral 1\nAcmZQz\n\ndiff --git a/../b b/../b\n",
		"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-- a\n+++ b/../../etc\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, patch string) {
		paths, err := CheckPatch(patch)
		if err != nil {
			if !errors.Is(err, ErrNotPatch) && !errors.Is(err, ErrUnsafePatch) {
				t.Errorf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(paths) == 0 {
			t.Error("accepted a patch touching nothing")
		}
		for _, p := range paths {
			if err := checkPath(p); err != nil || p == "" {
				t.Errorf("accepted unsafe path %q: %v", p, err)
			}
		}
	})
}

// FuzzReconcilePytest feeds arbitrary JUnit reports and logs to
// ReconcilePytest: a test it calls passed must pass in the summary, and in
// the report under its own or its mangled name.
func FuzzReconcilePytest(f *testing.F) {
	f.Add(`<testsuite><testcase classname="t.C" name="m[#x1F600]" file="mix.py"/></testsuite>`,
		"=== short test summary info ===\nPASSED t.py::C::m[\U0001F600]\n=== 1 passed ===\n")
	f.Add(`<testsuites><testsuite><testcase classname="t" name="a" file="t.py"><failure/></testcase></testsuite></testsuites>`,
		"=== short test summary info ===\nPASSED t.py::a\n=== x ===\n")
	f.Add(`<testsuite><testcase classname="" name="t" file="t.py"><error/></testcase>`, "")
	f.Fuzz(func(t *testing.T, junit, log string) {
		summary := ParsePytestSummary(log)
		out, err := ReconcilePytest([]byte(junit), summary)
		if err != nil {
			return
		}
		report, err := ParseJUnit([]byte(junit))
		if err != nil {
			t.Fatalf("ReconcilePytest accepted a report ParseJUnit refuses: %v", err)
		}
		for id, st := range out {
			if !Passed(st) {
				continue
			}
			if !Passed(summary[id]) {
				t.Errorf("%q passes (%s) but the summary says %q", id, st, summary[id])
			}
			if len(report) == 0 {
				t.Errorf("%q passes with an empty report", id)
			}
		}
	})
}
