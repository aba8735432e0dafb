package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

func TestTestCommand(t *testing.T) {
	const nonce = "0123456789abcdef"
	cases := []struct {
		name, kind, base string
		tests            []string
		want, wantNot    []string
	}{
		{"pytest default", KindPytest, "", []string{"tests/t.py", "tests/it's.py"},
			[]string{DefaultPytestCommand + " 'tests/it'\\''s.py' 'tests/t.py'", "PYTEST_ADDOPTS=", "--junitxml=" + JUnitPath(nonce), "junit_family=xunit1", "-rA"},
			nil},
		{"pytest task command", KindPytest, "tox -e py -- -x", nil, []string{"\ntox -e py -- -x\n)"}, nil},
		{"gotest selects top-level tests", KindGoTest, "", []string{"TestB/sub case", "TestA", "TestB"},
			[]string{"go test -json ./... -run '^(TestA|TestB)$'"}, nil},
		{"gotest adds -json", KindGoTest, "go test ./pkg/...", nil, []string{"go test -json ./pkg/..."}, []string{"-run"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := testCommand(c.kind, c.base, c.tests, nonce)
			for _, w := range append(c.want, startMarker(nonce), endMarker(nonce), "exit $swelego_rc", "| tee -- "+shellQuote(OutputPath(nonce))) {
				if !strings.Contains(cmd, w) {
					t.Errorf("command lacks %q:\n%s", w, cmd)
				}
			}
			for _, w := range c.wantNot {
				if strings.Contains(cmd, w) {
					t.Errorf("command has %q:\n%s", w, cmd)
				}
			}
			if strings.Contains(JUnitPath(nonce), nonce) || strings.Contains(OutputPath(nonce), nonce) {
				t.Error("a kept file's path reveals the nonce")
			}
		})
	}
}

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
			got, err := ParseRun(KindPytest, c.output, nonce, nil, 1)
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

func TestParseRunJUnit(t *testing.T) {
	nonce := NewNonce()
	out := startMarker(nonce) + "\n=== short test summary info ===\nPASSED t.py::a\nXPASS t.py::x\nFAILED t.py::f\n=== done in 1s ===\n" + endMarker(nonce) + " exit=1\n"
	junit := `<?xml version="1.0"?><testsuites><testsuite>
<testcase classname="t" name="a" file="t.py"/>
<testcase classname="t" name="x" file="t.py"/>
<testcase classname="t" name="f" file="t.py"/>
<testcase classname="t.TestC" name="m[1 2]" file="t.py"><skipped type="pytest.xfail" message="no"/></testcase>
<testcase classname="" name="sub.test_mod" file="sub/test_mod.py"><error message="collection failure"/></testcase>
</testsuite></testsuites>`
	got, err := ParseRun(KindPytest, out, nonce, []byte(junit), 1)
	if err != nil || got.Invalid != "" {
		t.Fatal(err, got.Invalid)
	}
	want := map[string]Status{
		"t.py::a":         StatusPassed,
		"t.py::x":         StatusXPass,  // from the summary
		"t.py::f":         StatusFailed, // the report says it passed: it was rewritten
		"sub/test_mod.py": StatusError,  // the report alone, but not a pass
		// t.py::TestC::m[1 2] is XFAIL in the report alone: a pass nobody
		// corroborates is missing.
	}
	if !reflect.DeepEqual(got.Statuses, want) {
		t.Errorf("got %v\nwant %v", got.Statuses, want)
	}
	// A report without file attributes (xunit2), broken XML, or none at all
	// make the run invalid, whatever the summary says; its failures stay.
	for _, bad := range []string{`<testsuite><testcase classname="t" name="a"/></testsuite>`, `<testsuite><testcase`, "", "  \n"} {
		got, err := ParseRun(KindPytest, out, nonce, []byte(bad), 1)
		if err != nil || got.Invalid == "" || !reflect.DeepEqual(got.Statuses, map[string]Status{"t.py::f": StatusFailed, "t.py::x": StatusXPass}) {
			t.Errorf("report %q: %v %q %v", bad, got.Statuses, got.Invalid, err)
		}
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
	run, err := runRef(context.Background(), sb, "gotest", "sleep 30; go test", nil, 300*time.Millisecond)
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

// TestGoCacheSeed runs the go test command's seeding step in a shell: an
// empty GOCACHE is filled from the seed, a populated one is left alone.
func TestGoCacheSeed(t *testing.T) {
	if !strings.Contains(testCommand(KindGoTest, "", nil, "n"), GoCacheSeed) {
		t.Fatal("the go test command does not seed GOCACHE")
	}
	if strings.Contains(testCommand(KindPytest, "", nil, "n"), GoCacheSeed) {
		t.Fatal("the pytest command seeds a Go cache")
	}
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed")
	os.MkdirAll(filepath.Join(seed, "ab"), 0o755)
	os.WriteFile(filepath.Join(seed, "ab", "entry-a"), []byte("x"), 0o644)
	script := strings.ReplaceAll(seedGoCache, GoCacheSeed, seed)
	for _, c := range []struct {
		name    string
		prepare func(cache string)
		want    bool // entry copied
	}{
		{"empty cache is seeded", func(string) {}, true},
		{"existing cache is kept", func(cache string) { os.MkdirAll(cache, 0o755) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "gocache")
			c.prepare(cache)
			cmd := exec.Command("bash", "-c", "go() { echo \"$GOCACHE\"; }\n"+script)
			cmd.Env = append(os.Environ(), "GOCACHE="+cache)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			_, err := os.Stat(filepath.Join(cache, "ab", "entry-a"))
			if (err == nil) != c.want {
				t.Errorf("entry copied = %v, want %v", err == nil, c.want)
			}
		})
	}
}
