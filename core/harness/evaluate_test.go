package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

// pyTask is the tiny calculator repository of testdata/pyrepo with its
// commits and patches.
type pyTask struct {
	dir string
	// buggy is testdata/pyrepo as it is: mul adds.
	buggy string
	// buggyTests is buggy plus the task's tests (SWE-smith's released form).
	buggyTests string
	// clean is the fixed code with the tests (a SWE-smith candidate's base).
	clean   string
	patches map[string]string
}

func readPatch(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/pytask/" + name + ".diff")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func newPyTask(t testing.TB, extra map[string]string) pyTask {
	t.Helper()
	files := readTree(t, "testdata/pyrepo")
	for k, v := range extra {
		files[k] = v
	}
	p := pyTask{patches: map[string]string{}}
	for _, n := range []string{"gold", "test", "bug", "partial", "breaks_p2p", "spoof", "slow", "tamper_tests"} {
		p.patches[n] = readPatch(t, n)
	}
	p.dir, p.buggy = newRepo(t, files)
	apply := func(name string) {
		c := exec.Command("git", "apply", "testdata/pytask/"+name+".diff")
		wd, _ := os.Getwd()
		c.Args[2] = wd + "/" + c.Args[2]
		c.Dir = p.dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git apply %s: %v\n%s", name, err, out)
		}
	}
	apply("test")
	p.buggyTests = commitFiles(t, p.dir, nil)
	apply("gold")
	p.clean = commitFiles(t, p.dir, nil)
	git(t, p.dir, "checkout", "-q", p.buggy)
	return p
}

var (
	pyF2P = []string{
		"tests/test_mul.py::test_mul_negative",
		"tests/test_mul.py::test_mul_positive",
		"tests/test_mul.py::test_mul_table[zero [five]]",
		"tests/test_ops.py::test_mul_identity",
	}
	pyP2P = []string{
		"tests/test_mul.py::test_mul_table[two twos]",
		"tests/test_ops.py::test_add",
		"tests/test_ops.py::test_sub",
	}
)

func (p pyTask) task() sdk.Task {
	return sdk.Task{
		InstanceID: "calc__calc-1",
		Repo:       "calc/calc",
		BaseCommit: p.buggy,
		Patch:      p.patches["gold"],
		TestPatch:  p.patches["test"],
		FailToPass: append([]string{}, pyF2P...),
		// SWE-bench's white-space split would have stored the
		// parametrised id cut short; grading still finds it.
		PassToPass: []string{"tests/test_mul.py::test_mul_table[two", "tests/test_ops.py::test_add", "tests/test_ops.py::test_sub"},
		Language:   "python",
	}
}

func TestEvaluate(t *testing.T) {
	cmd := pytestCommand(t)
	p := newPyTask(t, nil)
	ctx := context.Background()
	allPass := map[string]Status{}
	for _, id := range pyF2P {
		allPass[id] = StatusPassed
	}

	cases := []struct {
		name       string
		patch      string
		edit       func(*sdk.Task)
		opts       Options
		open       func(Opener) Opener
		want       string
		resolution string
		f2p        map[string]Status
		p2p        map[string]Status
		errHas     string
		exitCode   int
		noSandbox  bool
		logHas     []string
		logLacks   []string
		discarded  []string
		invalid    string
	}{
		{name: "gold patch resolves", patch: p.patches["gold"], want: ResultResolved, resolution: ResolvedFull, f2p: allPass,
			p2p: map[string]Status{"tests/test_mul.py::test_mul_table[two": StatusPassed, "tests/test_ops.py::test_add": StatusPassed, "tests/test_ops.py::test_sub": StatusPassed}},
		{name: "partial fix", patch: p.patches["partial"], want: ResultPartial, resolution: ResolvedPartial, exitCode: 1,
			f2p: map[string]Status{"tests/test_mul.py::test_mul_negative": StatusFailed, "tests/test_mul.py::test_mul_positive": StatusPassed,
				"tests/test_mul.py::test_mul_table[zero [five]]": StatusPassed, "tests/test_ops.py::test_mul_identity": StatusPassed}},
		{name: "breaking a PASS_TO_PASS test", patch: p.patches["breaks_p2p"], want: ResultUnresolved, resolution: ResolvedNo, exitCode: 1, f2p: allPass,
			p2p: map[string]Status{"tests/test_mul.py::test_mul_table[two": StatusPassed, "tests/test_ops.py::test_add": StatusPassed, "tests/test_ops.py::test_sub": StatusFailed}},
		{name: "spoofed PASSED lines and a rewritten JUnit report", patch: p.patches["spoof"], want: ResultUnresolved, resolution: ResolvedNo, exitCode: 1,
			f2p: map[string]Status{"tests/test_mul.py::test_mul_negative": StatusFailed, "tests/test_mul.py::test_mul_positive": StatusFailed,
				"tests/test_mul.py::test_mul_table[zero [five]]": StatusFailed, "tests/test_ops.py::test_mul_identity": StatusFailed},
			// The conftest.py never runs: it is put back as the base has it
			// (none), so its forged lines are not in the log.
			discarded: []string{"conftest.py"}, logLacks: []string{"7 passed in 0.01s"}},
		{name: "rewriting the tests does not help: test files are reset", patch: p.patches["tamper_tests"], want: ResultUnresolved, resolution: ResolvedNo, exitCode: 1},
		{name: "the task's test_cmd runs instead of its test files", patch: p.patches["gold"],
			edit: func(tk *sdk.Task) { tk.TestCmd = cmd + " tests/test_mul.py" }, want: ResultUnresolved, resolution: ResolvedNo,
			f2p: map[string]Status{"tests/test_mul.py::test_mul_negative": StatusPassed, "tests/test_mul.py::test_mul_positive": StatusPassed,
				"tests/test_mul.py::test_mul_table[zero [five]]": StatusPassed, "tests/test_ops.py::test_mul_identity": StatusMissing}},
		{name: "empty patch", patch: "", want: ResultEmptyPatch, noSandbox: true, exitCode: -1},
		{name: "hostile patch is refused before a sandbox opens", patch: "--- a/../../x\n+++ b/../../x\n@@ -1 +1 @@\n-a\n+b\n",
			want: ResultError, errHas: "unsafe patch", noSandbox: true, exitCode: -1},
		{name: "patch that does not apply", patch: "--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n-nothing\n+here\n context\n",
			want: ResultError, errHas: "patch does not apply", exitCode: -1},
		{name: "timeout", patch: p.patches["slow"], opts: Options{Timeout: 3 * time.Second}, want: ResultError, errHas: "timed out", exitCode: -1},
		{name: "sandbox fails to open", patch: p.patches["gold"], want: ResultError, errHas: "open sandbox", exitCode: -1,
			open: func(Opener) Opener {
				return func(context.Context, sdk.Task) (Sandbox, error) { return nil, errors.New("no docker") }
			}},
		{name: "tests report nothing", patch: p.patches["gold"], edit: func(tk *sdk.Task) { tk.TestCmd = "true" },
			want: ResultUnresolved, resolution: ResolvedNo, invalid: "no JUnit report", exitCode: 0},
		{name: "a go test run reports nothing", patch: p.patches["gold"], opts: Options{Language: langOf(t, KindGoTest)}, edit: func(tk *sdk.Task) { tk.TestCmd = "true" },
			want: ResultError, errHas: "no test reported", exitCode: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opened atomic.Int32
			open := cloneOpener(t, p.dir, &opened)
			if c.open != nil {
				open = c.open(open)
			}
			task := p.task()
			if c.edit != nil {
				c.edit(&task)
			}
			opts := c.opts
			opts.Command = cmd
			if opts.Language == nil {
				opts.Language = langOf(t, KindPytest)
			}
			r := Evaluate(ctx, open, task, c.patch, opts)
			if r.Status != c.want || r.Resolution != c.resolution {
				t.Fatalf("status %q (%q), want %q (%q); error %q\n%s", r.Status, r.Resolution, c.want, c.resolution, r.Error, r.Log)
			}
			if r.InstanceID != task.InstanceID {
				t.Errorf("instance id %q", r.InstanceID)
			}
			if c.errHas != "" && !strings.Contains(r.Error, c.errHas) {
				t.Errorf("error %q lacks %q", r.Error, c.errHas)
			}
			if c.errHas == "" && r.Error != "" {
				t.Errorf("unexpected error %q", r.Error)
			}
			if r.ExitCode != c.exitCode {
				t.Errorf("exit code %d, want %d", r.ExitCode, c.exitCode)
			}
			if c.f2p != nil && !reflect.DeepEqual(r.FailToPass, c.f2p) {
				t.Errorf("FAIL_TO_PASS %v\nwant %v\n%s", r.FailToPass, c.f2p, r.Log)
			}
			if c.p2p != nil && !reflect.DeepEqual(r.PassToPass, c.p2p) {
				t.Errorf("PASS_TO_PASS %v\nwant %v", r.PassToPass, c.p2p)
			}
			if !strings.Contains(r.Invalid, c.invalid) || c.invalid == "" && r.Invalid != "" {
				t.Errorf("invalid %q, want %q", r.Invalid, c.invalid)
			}
			if !reflect.DeepEqual(r.Discarded, c.discarded) {
				t.Errorf("discarded %v, want %v", r.Discarded, c.discarded)
			}
			for _, h := range c.logLacks {
				if strings.Contains(r.Log, h) {
					t.Errorf("log has %q", h)
				}
			}
			for _, h := range c.logHas {
				if !strings.Contains(r.Log, h) {
					t.Errorf("log lacks %q", h)
				}
			}
			if c.noSandbox && opened.Load() != 0 {
				t.Errorf("%d sandboxes opened", opened.Load())
			}
			if r.Status == ResultResolved || r.Status == ResultPartial || r.Status == ResultUnresolved {
				if r.TestsStatus == nil || !r.PatchApplied || r.Log == "" || r.Duration <= 0 {
					t.Errorf("graded result lacks details: %+v", r)
				}
			}
		})
	}
}

func TestEvaluateLogIsCut(t *testing.T) {
	cmd := pytestCommand(t)
	p := newPyTask(t, nil)
	r := Evaluate(context.Background(), cloneOpener(t, p.dir, nil), p.task(), p.patches["gold"], Options{Language: langOf(t, KindPytest), Command: cmd, MaxLogBytes: 400})
	if r.Status != ResultResolved {
		t.Fatalf("%+v", r)
	}
	if len(r.Log) > 480 || !strings.Contains(r.Log, "bytes cut") || !strings.Contains(r.Log, "swelego test output end") {
		t.Errorf("log not cut to size (%d bytes):\n%s", len(r.Log), r.Log)
	}
	r = Evaluate(context.Background(), cloneOpener(t, p.dir, nil), p.task(), p.patches["gold"], Options{Language: langOf(t, KindPytest), Command: cmd, MaxLogBytes: -1})
	if r.Log != "" {
		t.Error("MaxLogBytes < 0 kept a log")
	}
}

func TestEvaluateIntroducedBug(t *testing.T) {
	cmd := pytestCommand(t)
	p := newPyTask(t, nil)
	for _, base := range []struct{ name, commit string }{{"clean base", p.clean}, {"base holding the bug", p.buggyTests}} {
		t.Run(base.name, func(t *testing.T) {
			task := p.task()
			task.BaseCommit = base.commit
			task.PatchDirection = sdk.PatchIntroduces
			task.Patch = p.patches["bug"]
			task.TestPatch = ""
			r := Evaluate(context.Background(), cloneOpener(t, p.dir, nil), task, p.patches["gold"], Options{Language: langOf(t, KindPytest), Command: cmd})
			if r.Status != ResultResolved {
				t.Errorf("gold fix: %s %s\n%s", r.Status, r.Error, r.Log)
			}
			r = Evaluate(context.Background(), cloneOpener(t, p.dir, nil), task, "--- a/README\n+++ b/README\n@@ -0,0 +1 @@\n+hi\n", Options{Language: langOf(t, KindPytest), Command: cmd})
			if r.Status != ResultUnresolved {
				t.Errorf("no fix: %s %s\n%s", r.Status, r.Error, r.Log)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cmd := pytestCommand(t)
	flaky := map[string]string{"tests/test_flaky.py": `import os


def test_flaky():
    # Passes on the first run in a sandbox, fails on the second.
    n = int(open(".flaky").read()) if os.path.exists(".flaky") else 0
    with open(".flaky", "w") as f:
        f.write(str(n + 1))
    assert n % 2 == 0
`}
	p := newPyTask(t, flaky)
	ctx := context.Background()
	withFlaky := append([]string{"tests/test_flaky.py::test_flaky"}, pyP2P...)
	cases := []struct {
		name     string
		edit     func(*sdk.Task)
		reruns   int
		f2p, p2p []string
		wantErr  error
		sandbox  int32
	}{
		{name: "SWE-bench task: broken = base + test_patch, fixed = + patch", f2p: pyF2P, p2p: pyP2P, sandbox: 2,
			edit: func(tk *sdk.Task) { tk.FailToPass, tk.PassToPass = nil, nil }},
		{name: "SWE-smith candidate: clean base, the patch introduces the bug", reruns: 1, f2p: pyF2P, p2p: withFlaky, sandbox: 2,
			edit: func(tk *sdk.Task) {
				tk.BaseCommit, tk.PatchDirection, tk.Patch, tk.TestPatch = p.clean, sdk.PatchIntroduces, p.patches["bug"], ""
				tk.FailToPass, tk.PassToPass = nil, nil
			}},
		{name: "SWE-smith task: the base holds the bug, the patch is reversed to fix it", reruns: 2, f2p: pyF2P, p2p: pyP2P, sandbox: 2,
			edit: func(tk *sdk.Task) {
				tk.BaseCommit, tk.PatchDirection, tk.Patch, tk.TestPatch = p.buggyTests, sdk.PatchIntroduces, p.patches["bug"], ""
				tk.FailToPass, tk.PassToPass = nil, nil
			}},
		{name: "reruns drop the flaky test", reruns: 3, f2p: pyF2P, p2p: pyP2P, sandbox: 2,
			edit: func(tk *sdk.Task) {
				tk.BaseCommit, tk.PatchDirection, tk.Patch, tk.TestPatch = p.clean, sdk.PatchIntroduces, p.patches["bug"], ""
			}},
		{name: "a patch that fixes nothing tested", wantErr: ErrNoFailToPass, p2p: pyP2P, sandbox: 2,
			edit: func(tk *sdk.Task) {
				tk.Patch = "diff --git a/NOTES b/NOTES\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES\n@@ -0,0 +1 @@\n+nothing\n"
				tk.TestPatch = ""
				tk.BaseCommit = p.buggyTests
				tk.TestCmd = cmd + " tests/test_ops.py::test_add tests/test_ops.py::test_sub tests/test_mul.py"
			}},
		{name: "a timeout fails validation", wantErr: ErrNoResults, sandbox: 1,
			edit: func(tk *sdk.Task) { tk.TestCmd = "echo '>>>>> swelego test output end'; sleep 30" }},
		{name: "a hostile patch is refused", wantErr: ErrUnsafePatch, sandbox: 0,
			edit: func(tk *sdk.Task) { tk.Patch = "--- a/x\n+++ /etc/x\n@@ -1 +1 @@\n-a\n+b\n" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task := p.task()
			if c.edit != nil {
				c.edit(&task)
			}
			var opened atomic.Int32
			opts := Options{Language: langOf(t, KindPytest), Command: cmd, Reruns: c.reruns, Timeout: 20 * time.Second}
			if c.name == "a timeout fails validation" {
				opts.Timeout = time.Second
			}
			f2p, p2p, err := Validate(ctx, cloneOpener(t, p.dir, &opened), task, opts)
			switch {
			case c.wantErr == ErrNoResults:
				if err == nil || !strings.Contains(err.Error(), "timed out") {
					t.Fatalf("err = %v, want a timeout", err)
				}
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if c.wantErr == nil || c.wantErr == ErrNoFailToPass {
				if !reflect.DeepEqual(f2p, c.f2p) {
					t.Errorf("FAIL_TO_PASS %q\nwant %q", f2p, c.f2p)
				}
				if !reflect.DeepEqual(p2p, c.p2p) {
					t.Errorf("PASS_TO_PASS %q\nwant %q", p2p, c.p2p)
				}
			}
			if opened.Load() != c.sandbox {
				t.Errorf("%d sandboxes opened, want %d", opened.Load(), c.sandbox)
			}
		})
	}
}

func TestStableStatuses(t *testing.T) {
	runs := []map[string]Status{
		{"a": StatusPassed, "b": StatusFailed, "c": StatusPassed, "d": StatusSkipped},
		{"a": StatusPassed, "b": StatusPassed, "d": StatusSkipped, "e": StatusFailed},
	}
	stable, flaky := stableStatuses(runs)
	if !reflect.DeepEqual(stable, map[string]Status{"a": StatusPassed, "d": StatusSkipped}) {
		t.Errorf("stable %v", stable)
	}
	if !reflect.DeepEqual(flaky, map[string]bool{"b": true, "c": true, "e": true}) {
		t.Errorf("flaky %v", flaky)
	}
}

func TestTruncateLog(t *testing.T) {
	s := strings.Repeat("é", 100) // two bytes a rune
	got := truncateLog(s, 51)
	if !strings.HasPrefix(got, strings.Repeat("é", 6)+"\n…") || !strings.HasSuffix(got, strings.Repeat("é", 19)) {
		t.Errorf("%q", got)
	}
	if truncateLog("short", 10) != "short" {
		t.Error("short log changed")
	}
}
