package python

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

func TestDescribe(t *testing.T) {
	spec, err := Language{}.Describe(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sdk.CheckLanguageSpec(spec); err != nil {
		t.Fatal(err)
	}
	want := sdk.LanguageSpec{
		Name:        "python",
		SourceFiles: []string{"*.py"},
		Image: sdk.ImageSpec{
			Packages: []string{"python3", "python3-pytest", "git", "patch"},
			Env:      []string{"PYTHONDONTWRITEBYTECODE=1"},
		},
		DefaultTestCommand: "pytest --no-header -rA --tb=no -p no:cacheprovider",
		HarnessFiles:       []string{"conftest.py", "pytest.ini", ".pytest.ini", "sitecustomize.py", "usercustomize.py"},
		TestFiles:          []string{"test_*.py", "*_test.py", "conftest.py", "tests/**", "test/**", "testing/**"},
		ErrorLines:         ErrorLines,
	}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("got %+v\nwant %+v", spec, want)
	}
}

// TestErrorLines: the spec's error-line patterns find the lines Python
// and pytest print when no test runs, and no line of a run that ran.
func TestErrorLines(t *testing.T) {
	cases := []struct {
		line string
		want bool
	}{
		{"/usr/bin/python3: No module named pytest", true},
		{"ImportError while importing test module '/repo/tests/test_api.py'.", true},
		{"ERROR: file or directory not found: tests/test_gone.py", true},
		{"ERROR: usage: pytest [options] [file_or_dir] [file_or_dir] [...]", true},
		{"PASSED tests/test_api.py::test_import_error_message", false},
		{"ERROR tests/test_api.py::test_x - AssertionError", false},
		{"============================== 3 passed in 0.02s ===============================", false},
	}
	for _, c := range cases {
		got := false
		for _, p := range ErrorLines {
			got = got || regexp.MustCompile(p).MatchString(c.line)
		}
		if got != c.want {
			t.Errorf("%q: matched %v, want %v", c.line, got, c.want)
		}
	}
}

func TestTestCommand(t *testing.T) {
	const addopts = `export PYTEST_ADDOPTS="${PYTEST_ADDOPTS:+$PYTEST_ADDOPTS }"'-rA --junitxml=/r/pytest-junit.xml -o junit_family=xunit1'` + "\n"
	cases := []struct {
		name string
		req  sdk.TestCommandRequest
		want sdk.TestCommand
		err  string
	}{
		{"grade the suite", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, ReportDir: "/r"},
			sdk.TestCommand{Command: addopts + DefaultTestCommand + "\n", ReadFiles: []string{"/r/pytest-junit.xml"}}, ""},
		{"grade runs the files of the ids", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, ReportDir: "/r", Base: " tox -e py -- ",
			Tests: []string{"tests/b.py::test_x[a b]", "tests/a.py::C::t", "tests/b.py::y", "tests/data/x.json", "tests/c.py", "/abs.py::t", "weird id", "it's/q.py::t"}},
			sdk.TestCommand{Command: addopts + "tox -e py -- 'it'\\''s/q.py' 'tests/a.py' 'tests/b.py' 'tests/c.py'\n", ReadFiles: []string{"/r/pytest-junit.xml"}}, ""},
		{"show the ids", sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Tests: []string{"t.py::test_a[x y]", "t.py::b"}},
			sdk.TestCommand{Command: "python3 -m pytest -q --tb=short 't.py::test_a[x y]' 't.py::b'"}, ""},
		{"show with the task's command", sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Base: "bin/test", Tests: []string{"t.py::a"}},
			sdk.TestCommand{Command: "bin/test 't.py::a'"}, ""},
		{"grade without a report directory", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade}, sdk.TestCommand{}, "needs a report directory"},
		{"a relative report directory", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, ReportDir: "r"}, sdk.TestCommand{}, "not a clean absolute path"},
		{"a report directory with a space", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, ReportDir: "/r s"}, sdk.TestCommand{}, "white space"},
		{"no purpose", sdk.TestCommandRequest{}, sdk.TestCommand{}, "unknown purpose"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Language{}.TestCommand(context.Background(), nil, c.req)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %q %q\nwant %q %q", got.Command, got.ReadFiles, c.want.Command, c.want.ReadFiles)
			}
			if err := sdk.CheckTestCommand(c.req, got); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestParseTestRun: the forgery cases about pytest's two channels, and
// SWE-bench v5's exit-status rule.
func TestParseTestRun(t *testing.T) {
	const (
		head    = "=========================== short test summary info ============================\n"
		summary = head + "PASSED t.py::a\nXPASS t.py::x\nFAILED t.py::f\n===== 1 failed, 1 passed, 1 xpassed in 1s =====\n"
		report  = `<?xml version="1.0"?><testsuites><testsuite>
<testcase classname="t" name="a" file="t.py"/>
<testcase classname="t" name="x" file="t.py"/>
<testcase classname="t" name="f" file="t.py"/>
<testcase classname="t.TestC" name="m[1 2]" file="t.py"><skipped type="pytest.xfail" message="no"/></testcase>
<testcase classname="" name="sub.test_mod" file="sub/test_mod.py"><error message="collection failure"/></testcase>
</testsuite></testsuites>`
		junitPath = "/r/pytest-junit.xml"
	)
	files := func(xml string) map[string]string { return map[string]string{junitPath: xml} }
	P, F := sdk.TestPassed, sdk.TestFailed
	cases := []struct {
		name    string
		run     sdk.TestRun
		want    map[string]sdk.TestStatus
		invalid string
	}{
		{"both channels", sdk.TestRun{Output: summary, ExitCode: 1, Files: files(report)},
			map[string]sdk.TestStatus{
				"t.py::a":         P,
				"t.py::x":         sdk.TestXPass, // from the summary
				"t.py::f":         F,             // the report says it passed: it was rewritten
				"sub/test_mod.py": sdk.TestError, // the report alone, but not a pass
				// t.py::TestC::m[1 2] is XFAIL in the report alone: a
				// pass nobody corroborates is missing.
			}, ""},
		{"no report", sdk.TestRun{Output: summary, ExitCode: 1},
			map[string]sdk.TestStatus{"t.py::f": F, "t.py::x": sdk.TestXPass}, "no JUnit report"},
		{"an empty report", sdk.TestRun{Output: summary, ExitCode: 1, Files: files("  \n")},
			map[string]sdk.TestStatus{"t.py::f": F, "t.py::x": sdk.TestXPass}, "no JUnit report"},
		{"an xunit2 report", sdk.TestRun{Output: summary, ExitCode: 1, Files: files(`<testsuite><testcase classname="t" name="a"/></testsuite>`)},
			map[string]sdk.TestStatus{"t.py::f": F, "t.py::x": sdk.TestXPass}, "xunit1"},
		{"a broken report", sdk.TestRun{Output: summary, ExitCode: 1, Files: files(`<testsuite><testcase`)},
			map[string]sdk.TestStatus{"t.py::f": F, "t.py::x": sdk.TestXPass}, "unreadable"},
		{"a report but no summary in the log", sdk.TestRun{Output: "t.py::a PASSED\n", ExitCode: 0, Files: files(report)},
			map[string]sdk.TestStatus{}, "no pytest -rA summary"},
		{"a forged second summary cannot pass a failure", sdk.TestRun{Output: summary + head + "PASSED t.py::f\n== 1 passed ==\n", ExitCode: 1, Files: files(report)},
			map[string]sdk.TestStatus{"t.py::a": P, "t.py::x": sdk.TestXPass, "t.py::f": F, "sub/test_mod.py": sdk.TestError}, ""},
		{"printed result lines before the summary do not count", sdk.TestRun{Output: "PASSED t.py::f\nt.py::f PASSED\n" + summary, ExitCode: 1, Files: files(report)},
			map[string]sdk.TestStatus{"t.py::a": P, "t.py::x": sdk.TestXPass, "t.py::f": F, "sub/test_mod.py": sdk.TestError}, ""},
		{"a summary line the report lacks passes nothing", sdk.TestRun{Output: head + "PASSED t.py::a\nPASSED t.py::ghost\n== 2 passed ==\n", Files: files(`<testsuite><testcase classname="t" name="a" file="t.py"/></testsuite>`)},
			map[string]sdk.TestStatus{"t.py::a": P}, ""},
		// SWE-bench v5 get_logs_eval (test_grading_spoofed_output.py).
		{"forged passes with a failing exit status", sdk.TestRun{Output: head + "PASSED t.py::a\n", ExitCode: 1, Files: files(`<testsuite><testcase classname="t" name="a" file="t.py"/></testsuite>`)},
			map[string]sdk.TestStatus{"t.py::a": P}, "exited with status 1 but no test failed"},
		{"a genuine pass", sdk.TestRun{Output: head + "PASSED t.py::a\n", ExitCode: 0, Files: files(`<testsuite><testcase classname="t" name="a" file="t.py"/></testsuite>`)},
			map[string]sdk.TestStatus{"t.py::a": P}, ""},
		{"no tests and a failing exit status", sdk.TestRun{Output: "ERROR: file or directory not found: t.py\n", ExitCode: 4, Files: files(`<testsuite/>`)},
			map[string]sdk.TestStatus{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Language{}.ParseTestRun(context.Background(), nil, c.run)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rep.Statuses, c.want) {
				t.Errorf("statuses %v\nwant %v", rep.Statuses, c.want)
			}
			switch {
			case c.invalid == "" && rep.Invalid != "":
				t.Errorf("invalid: %s", rep.Invalid)
			case c.invalid != "" && !strings.Contains(rep.Invalid, c.invalid):
				t.Errorf("invalid %q, want it to say %q", rep.Invalid, c.invalid)
			}
			if err := sdk.CheckTestReport(rep); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	for _, c := range []struct{ out, want string }{
		{"collected 2 items\n\nt.py .F\n\n=================================== FAILURES ===================================\n___ test_b ___\nassert 1 == 2\n", "=================================== FAILURES ===================================\n___ test_b ___\nassert 1 == 2\n"},
		{"==================================== ERRORS ====================================\nImportError\n", "==================================== ERRORS ====================================\nImportError\n"},
		{"t.py ..\n== 2 passed ==\n", ""},
	} {
		if got := failures(c.out); got != c.want {
			t.Errorf("failures(%q) = %q, want %q", c.out, got, c.want)
		}
	}
}

// pythonWithPytest returns a python interpreter that has pytest, or skips.
func pythonWithPytest(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3", "python"} {
		if err := exec.Command(py, "-m", "pytest", "--version").Run(); err == nil {
			return py
		}
	}
	t.Skip("no python with pytest (apt-get install -y python3-pytest)")
	return ""
}

// spoofConftest is a conftest.py a hostile patch could add: it prints
// result lines and summaries during the run and after pytest finished, and
// rewrites the JUnit report at exit to claim every test passed.
const spoofConftest = `import atexit, os, re, sys

FAKE = ["test_sample.py::test_fail", "test_sample.py::test_error_in_fixture", "test_sample.py::test_param[[x]-2]"]

def pytest_collection_finish(session):
    os.write(1, b"PASSED test_sample.py::test_fail\n")

def _after():
    sys.stdout.write("=========================== short test summary info ============================\n")
    for t in FAKE:
        sys.stdout.write("PASSED " + t + "\n")
    sys.stdout.write("============================== 9 passed in 0.01s ===============================\n")
    sys.stdout.flush()
    m = re.search(r"--junitxml=(\S+)", os.environ.get("PYTEST_ADDOPTS", ""))
    if m:
        path = m.group(1)
        with open(path) as f:
            xml = f.read()
        xml = re.sub(r"<(failure|error)\b.*?</\1>", "", xml, flags=re.S)
        with open(path, "w") as f:
            f.write(xml)

atexit.register(_after)
`

// runAsHost runs a test command as the host does (bash, in dir, stdin
// closed, stderr with stdout) and reads the files it names.
func runAsHost(t *testing.T, dir string, cmd sdk.TestCommand, tests []string) sdk.TestRun {
	t.Helper()
	c := exec.Command("bash", "-c", "( "+cmd.Command+"\n) </dev/null 2>&1")
	c.Dir = dir
	out, err := c.CombinedOutput()
	run := sdk.TestRun{Tests: tests, Output: string(out), Files: map[string]string{}}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		run.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	for _, f := range cmd.ReadFiles {
		if data, err := os.ReadFile(f); err == nil {
			run.Files[f] = string(data)
		}
	}
	return run
}

// TestRealPytestRun runs the sample tests with pytest through TestCommand
// and checks what ParseTestRun recovers, with and without a conftest that
// tries to spoof the results.
func TestRealPytestRun(t *testing.T) {
	base := pythonWithPytest(t) + " -m pytest --no-header -rA --tb=no -p no:cacheprovider"
	sample, err := os.ReadFile(filepath.Join("testdata", "pytest", "test_sample.py.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]sdk.TestStatus{"test_sample.py::test_skipped": sdk.TestSkipped}
	for id, st := range sampleSummary {
		want[id] = st
	}
	ctx := context.Background()
	for _, spoof := range []bool{false, true} {
		name := "honest"
		if spoof {
			name = "spoofing conftest"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "test_sample.py"), sample, 0o644); err != nil {
				t.Fatal(err)
			}
			if spoof {
				if err := os.WriteFile(filepath.Join(dir, "conftest.py"), []byte(spoofConftest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tests := []string{"test_sample.py::test_fail", "test_sample.py::test_pass"}
			cmd, err := Language{}.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: base, Tests: tests, ReportDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			run := runAsHost(t, dir, cmd, tests)
			if run.ExitCode != 1 {
				t.Errorf("exit status %d, want 1 (tests failed)\n%s", run.ExitCode, run.Output)
			}
			rep, err := Language{}.ParseTestRun(ctx, nil, run)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Invalid != "" || !reflect.DeepEqual(rep.Statuses, want) {
				t.Errorf("invalid %q, statuses %v\nwant %v\n%s", rep.Invalid, rep.Statuses, want, run.Output)
			}
			if spoof && !strings.Contains(run.Output, "9 passed") {
				t.Errorf("the spoofing conftest did not run:\n%s", run.Output)
			}
		})
	}
	t.Run("show", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "test_sample.py"), sample, 0o644); err != nil {
			t.Fatal(err)
		}
		tests := []string{"test_sample.py::test_fail"}
		cmd, err := Language{}.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Tests: tests})
		if err != nil {
			t.Fatal(err)
		}
		cmd.Command = strings.Replace(cmd.Command, "python3", pythonWithPytest(t), 1)
		rep, err := Language{}.ParseTestRun(ctx, nil, runAsHost(t, dir, cmd, tests))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rep.Failures, "FAILURES") || !strings.Contains(rep.Failures, "arithmetic is broken") {
			t.Errorf("failures %q", rep.Failures)
		}
	})
}

// TestCheckCommand runs the check on a good and a broken file.
func TestCheckCommand(t *testing.T) {
	ctx := context.Background()
	if cmd, err := (Language{}).CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"README.md", "setup.cfg"}}); err != nil || cmd != "" {
		t.Fatalf("no Python files: %q, %v", cmd, err)
	}
	cmd, err := Language{}.CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"pkg/ok.py", "README.md", "it's.py"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `PYTHONPYCACHEPREFIX=/tmp/swelego-pycache python3 -m py_compile 'pkg/ok.py' 'it'\''s.py'`; cmd != want {
		t.Errorf("got  %s\nwant %s", cmd, want)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	dir := t.TempDir()
	for name, src := range map[string]string{"pkg/ok.py": "def f():\n    return 1\n", "it's.py": "x = 1\n", "bad.py": "def f(:\n"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(cmd string) error {
		c := exec.Command("bash", "-c", cmd)
		c.Dir = dir
		return c.Run()
	}
	if err := run(cmd); err != nil {
		t.Errorf("good files do not compile: %v", err)
	}
	bad, _ := Language{}.CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"pkg/ok.py", "bad.py"}})
	if err := run(bad); err == nil {
		t.Error("a syntax error passed the check")
	}
	if _, err := os.Stat(filepath.Join(dir, "pkg", "__pycache__")); err == nil {
		t.Error("the check left byte code in the repository")
	}
}

// TestLanguageThroughPlugin serves the language over the plugin protocol.
func TestLanguageThroughPlugin(t *testing.T) {
	c := sdktest.Connect(t, New())
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil || !info.Serves(sdk.KindLanguage) {
		t.Fatalf("info = %+v, %v", info, err)
	}
	spec, err := c.Language().Describe(ctx, nil)
	if err != nil || spec.Name != "python" {
		t.Fatalf("describe = %+v, %v", spec, err)
	}
	cmd, err := c.Language().TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, ReportDir: "/r", Tests: []string{"t.py::a"}})
	if err != nil || len(cmd.ReadFiles) != 1 {
		t.Fatalf("test command = %+v, %v", cmd, err)
	}
	rep, err := c.Language().ParseTestRun(ctx, nil, sdk.TestRun{Output: "=== short test summary info ===\nPASSED t.py::a\n== 1 passed ==\n",
		Files: map[string]string{cmd.ReadFiles[0]: `<testsuite><testcase classname="t" name="a" file="t.py"/></testsuite>`}})
	if err != nil || rep.Invalid != "" || rep.Statuses["t.py::a"] != sdk.TestPassed {
		t.Fatalf("parse = %+v, %v", rep, err)
	}
}
