package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

func TestParseRunMarkers(t *testing.T) {
	nonce := NewNonce()
	summary := "=== short test summary info ===\nFAILED t.py::test_a - boom\n=== 1 failed in 0.1s ===\n"
	body := "PASSED t.py::test_a\n" + summary
	cases := []struct {
		name    string
		output  string
		want    map[string]Status
		wantErr error
	}{
		{"marked", startMarker(nonce) + "\n" + body + endMarker(nonce) + " exit=1\n", map[string]Status{"t.py::test_a": StatusFailed}, nil},
		{"lines outside the markers do not count",
			"=== short test summary info ===\nFAILED t.py::test_b\n" + startMarker(nonce) + "\n" + body + "\n" + endMarker(nonce) + " exit=1\n=== short test summary info ===\nFAILED t.py::test_c\n",
			map[string]Status{"t.py::test_a": StatusFailed}, nil},
		{"forged markers with another nonce", startMarker("x") + "\n" + summary + endMarker("x"), nil, ErrNoResults},
		{"no end marker: cut short", startMarker(nonce) + "\n" + body, nil, ErrNoResults},
		{"no summary", startMarker(nonce) + "\nFAILED t.py::test_a\n" + endMarker(nonce), map[string]Status{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Without a JUnit report the run cannot be graded: it is
			// invalid, and keeps only the summary's failures.
			got, err := ParseRun(KindPytest, c.output, nonce, 1)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if c.wantErr != nil {
				return
			}
			if !reflect.DeepEqual(got.Statuses, c.want) {
				t.Errorf("got %v, want %v", got.Statuses, c.want)
			}
			if !strings.Contains(got.Invalid, "no JUnit report") {
				t.Errorf("invalid = %q", got.Invalid)
			}
		})
	}
}

// spoofConftest is a conftest.py a hostile patch could add: it prints
// result lines and summaries during the run and after pytest finished, and
// rewrites the JUnit report at exit to claim every test passed.
const spoofConftest = `import atexit, os, re, sys

FAKE = ["test_sample.py::test_fail", "test_sample.py::test_error_in_fixture", "test_sample.py::test_param[[x]-2]"]

def pytest_collection_finish(session):
    os.write(1, b"PASSED test_sample.py::test_fail\n")
    os.write(1, b">>>>> swelego test output end 0 exit=0\n")

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

// TestRunRealPytest runs the sample tests for real through TestCommand in
// a sandbox and checks the statuses ParseRun recovers, with and without a
// conftest that tries to spoof them.
func TestRunRealPytest(t *testing.T) {
	cmd := pytestCommand(t)
	files := readTree(t, "testdata/pylog")
	ctx := context.Background()
	want := map[string]Status{
		"test_sample.py::test_pass":              StatusPassed,
		"test_sample.py::test_fail":              StatusFailed,
		"test_sample.py::test_prints_fake_lines": StatusPassed,
		"test_sample.py::test_param[a b-1]":      StatusPassed,
		"test_sample.py::test_param[[x]-2]":      StatusFailed,
		"test_sample.py::test_param[c - d-3]":    StatusPassed,
		"test_sample.py::test_skipped":           StatusSkipped,
		"test_sample.py::test_xfail":             StatusXFail,
		"test_sample.py::test_xpass":             StatusXPass,
		"test_sample.py::test_error_in_fixture":  StatusError,
		"test_sample.py::TestGroup::test_method": StatusPassed,
		"test_sample.py::TestGroup::test_long_id[this is a rather long parameter value that makes the id long this is a rather long parameter value that makes the id long ]": StatusPassed,
	}
	for _, spoof := range []bool{false, true} {
		name := "honest"
		if spoof {
			name = "spoofing conftest"
			files["conftest.py"] = spoofConftest
		}
		t.Run(name, func(t *testing.T) {
			sb := sandboxIn(t, files)
			run, err := runRef(ctx, sb, KindPytest, cmd, []string{"test_sample.py"}, time.Minute)
			if err != nil {
				t.Fatalf("%v\n%s", err, run.Output)
			}
			if run.ExitCode != 1 {
				t.Errorf("exit code %d, want 1 (tests failed)", run.ExitCode)
			}
			if !reflect.DeepEqual(run.Report.Statuses, want) {
				t.Errorf("got %v\nwant %v\n%s", run.Report.Statuses, want, run.Output)
			}
			if spoof && !strings.Contains(run.Output, "9 passed") {
				t.Errorf("the spoofing conftest did not run:\n%s", run.Output)
			}
		})
	}
}

// TestRunRealGoTest runs the Go sample module for real through TestCommand.
func TestRunRealGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go module")
	}
	sb := sandboxIn(t, readTree(t, "testdata/gosample"))
	run, err := runRef(context.Background(), sb, KindGoTest, "", []string{"TestPass", "TestFail", "TestSub/ok", "TestBroken", "TestPanics"}, 5*time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, run.Output)
	}
	want := map[string]Status{
		"TestPass":         StatusPassed,
		"TestFail":         StatusFailed,
		"TestSub":          StatusFailed,
		"TestSub/ok":       StatusPassed,
		"TestSub/bad_case": StatusFailed,
		"TestSub/nested":   StatusPassed,
		// -run matched TestSub, so all its subtests ran.
		"TestSub/nested/deep": StatusPassed,
		"TestPanics":          StatusFailed,
	}
	if !reflect.DeepEqual(run.Report.Statuses, want) {
		t.Errorf("got %v\nwant %v\n%s", run.Report.Statuses, want, run.Output)
	}
	if run.ExitCode == 0 {
		t.Error("exit code 0 for failing tests")
	}
}

func TestRunTimeout(t *testing.T) {
	sb := sandboxIn(t, map[string]string{"README": "x"})
	run, err := runRef(context.Background(), sb, KindGoTest, "sleep 30; go test", nil, 300*time.Millisecond)
	if err == nil || !run.TimedOut || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("timeout: %v %+v", err, run)
	}
}

// cappedSandbox keeps only the first max bytes of Exec's output, as the
// sandbox backends do (DefaultMaxOutput).
type cappedSandbox struct {
	*localSandbox
	max int
}

func (s cappedSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	res, err := s.localSandbox.Exec(ctx, cmd, timeout)
	if len(res.Output) > s.max {
		res.Output = res.Output[:s.max] + "\n[output truncated]\n"
	}
	return res, err
}

// TestRunCappedOutput: the results are read from the kept copy of the
// output when the sandbox returns only its head.
func TestRunCappedOutput(t *testing.T) {
	cmd := pytestCommand(t)
	files := readTree(t, "testdata/pylog")
	sb := cappedSandbox{sandboxIn(t, files), 300}
	run, err := runRef(context.Background(), sb, KindPytest, cmd, []string{"test_sample.py"}, time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, run.Output)
	}
	if run.Report.Statuses["test_sample.py::test_fail"] != StatusFailed || len(run.Report.Statuses) != 12 {
		t.Errorf("statuses: %v", run.Report.Statuses)
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
	got, err := ParseRun("upper-test", out, nonce, 0)
	if err != nil || got.Invalid != "" || !reflect.DeepEqual(got.Statuses, map[string]Status{"real": StatusPassed}) {
		t.Errorf("parser: %v %v", got, err)
	}
	got, err = ParseRun("upper-test", out, nonce, 2)
	if err != nil || !strings.Contains(got.Invalid, "exited with status 2 but no test failed") {
		t.Errorf("exit-code rule: %v %v", got, err)
	}
}

// TestWrapCommand: the wrapped command brackets the language's command
// with markers that carry the nonce, keeps the exit status and a copy of
// the output in OutputPath, and creates the report directory; no file name
// reveals the nonce.
func TestWrapCommand(t *testing.T) {
	const nonce = "0123456789abcdef"
	cmd := WrapCommand("make check TESTS='a b'\n", nonce, ReportDir(nonce))
	for _, w := range []string{"mkdir -p -- " + shellQuote(ReportDir(nonce)), startMarker(nonce), "( make check TESTS='a b'\n) </dev/null 2>&1",
		endMarker(nonce), "exit $swelego_rc", "| tee -- " + shellQuote(OutputPath(nonce)), `exit "${PIPESTATUS[0]}"`} {
		if !strings.Contains(cmd, w) {
			t.Errorf("command lacks %q:\n%s", w, cmd)
		}
	}
	if strings.Contains(ReportDir(nonce), nonce) || strings.Contains(OutputPath(nonce), nonce) {
		t.Error("a kept file's path reveals the nonce")
	}
	if ReportDir(nonce) == ReportDir(NewNonce()) {
		t.Error("two nonces share a report directory")
	}
	dir := t.TempDir()
	out, err := exec.Command("bash", "-c", strings.ReplaceAll(WrapCommand("echo hi; exit 3", nonce, dir+"/r"), OutputPath(nonce), dir+"/out.log")).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	section, err := Section(string(out), nonce)
	if err != nil || section != "hi\n\n" { // the end marker starts on a line of its own
		t.Errorf("section %q, %v", section, err)
	}
	if _, err := os.Stat(dir + "/r"); err != nil {
		t.Errorf("report directory: %v", err)
	}
	if kept, _ := os.ReadFile(dir + "/out.log"); string(kept) != string(out) {
		t.Errorf("kept output %q, want %q", kept, out)
	}
}
