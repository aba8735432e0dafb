package taskenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/sdk"
)

// Overhead goals of a grading (issue 12): the harness's own time around
// the test command, per task.
const (
	overheadLimitBwrap  = 500 * time.Millisecond
	overheadLimitDocker = time.Second
	// For a suite that runs longer than longSuite the limit is
	// longSuiteShare of the test time instead.
	longSuite      = 5 * time.Second
	longSuiteShare = 0.10
)

// BenchmarkGrading grades gold patches with harness.Evaluate through
// Manager.Open on each backend and reports, per task, the harness's time
// minus the test time next to the test time itself, the limit the goal
// sets, and where the harness's time goes (ms per phase). The test time is
// taken inside the sandbox, around the test command alone (see
// timedSandbox). Tasks: a small Python and a small Go task of the bundled
// examples, and testdata/slowsuite, whose suite sleeps for about six
// seconds. Images are built and the shared checkout made before the timer
// starts; the first grading's overhead (which makes the shared checkout)
// is logged as cold.
func BenchmarkGrading(b *testing.B) {
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		b.Skipf("docker info fails: %v\n%s", err, out)
	}
	ctx := context.Background()
	tasks := map[string]sdk.Task{}
	all := bundled(b)
	for _, t := range all {
		switch t.InstanceID {
		case "textkit__textkit-1":
			tasks["small-python"] = t
		case "semver__semver-1":
			tasks["small-go"] = t
		}
	}
	repos := b.TempDir()
	tasks["slow-python"] = slowSuiteTask(b, repos)
	names := []string{"small-python", "small-go", "slow-python"}

	for _, backendName := range []string{"docker", "bwrap"} {
		backend, err := sandbox.New(ctx, backendName, sandbox.Options{})
		if err != nil {
			b.Fatal(err)
		}
		m := New(Options{Store: testCache, Languages: testLanguages, DefaultLanguage: "python", Backend: backend, RepoDirs: []string{"../../examples/repos", repos}})
		clock := &phaseClock{}
		m.trace = clock.add
		for _, name := range names {
			task := tasks[name]
			b.Run(backendName+"/"+name, func(b *testing.B) {
				if _, err := m.Image(ctx, task); err != nil {
					b.Fatal(err)
				}
				grade := func() {
					r := harness.Evaluate(ctx, clock.opener(m), task, task.Patch, harness.Options{Language: mustLanguage(b, m, task)})
					if r.Status != harness.ResultResolved {
						b.Fatalf("%s grades %s: %s\n%s", task.InstanceID, r.Status, r.Error, r.Log)
					}
				}
				clock.reset()
				start := time.Now()
				grade()
				cold := time.Since(start) - clock.test
				clock.reset()
				n := 0
				start = time.Now()
				for b.Loop() {
					grade()
					n++
				}
				if err := clock.failed(); err != nil {
					b.Fatal(err)
				}
				total := time.Since(start)
				per := func(d time.Duration) float64 { return d.Seconds() / float64(n) }
				test := clock.test / time.Duration(n)
				overhead := (total - clock.test) / time.Duration(n)
				limit, what := overheadLimitBwrap, "per task"
				if backendName == "docker" {
					limit = overheadLimitDocker
				}
				if test > longSuite {
					limit, what = time.Duration(float64(test)*longSuiteShare), fmt.Sprintf("%.0f %% of test time", longSuiteShare*100)
				}
				b.ReportMetric(per(total-clock.test), "overhead-s/task")
				b.ReportMetric(per(clock.test), "test-s/task")
				b.ReportMetric(limit.Seconds(), "limit-s/task")
				for _, p := range clock.phases() {
					b.ReportMetric(float64(clock.d[p].Milliseconds())/float64(n), p+"-ms")
				}
				verdict := "within the limit"
				if overhead > limit {
					verdict = "OVER the limit"
				}
				b.Logf("%s %s: harness overhead %.3f s/task, test %.3f s/task; limit %.3f s (%s): %s; cold (makes the shared checkout) %.3f s",
					backendName, name, overhead.Seconds(), test.Seconds(), limit.Seconds(), what, verdict, cold.Seconds())
			})
		}
		if c, ok := backend.(interface{ Close() error }); ok {
			c.Close()
		}
	}
}

// slowSuiteTask makes testdata/slowsuite a git repository in dir/slowsuite
// (one commit with fixed dates, so its id and the environment image stay
// the same from run to run) and returns its task: fix.diff fixes the bug
// that test.diff's two tests catch.
func slowSuiteTask(b *testing.B, dir string) sdk.Task {
	b.Helper()
	repo := filepath.Join(dir, "slowsuite")
	if err := os.CopyFS(repo, os.DirFS("testdata/slowsuite/repo")); err != nil {
		b.Fatal(err)
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=swelego", "GIT_AUTHOR_EMAIL=bench@swelego.invalid",
			"GIT_COMMITTER_NAME=swelego", "GIT_COMMITTER_EMAIL=bench@swelego.invalid",
			"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "slowsuite")
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("testdata/slowsuite", name))
		if err != nil {
			b.Fatal(err)
		}
		return string(data)
	}
	p2p := []string{"test_seconds", "test_minutes", "test_days", "test_combined", "test_spaces", "test_empty",
		"test_garbage", "test_format_zero", "test_format_seconds", "test_format_minutes", "test_format_negative", "test_round_trip"}
	for i, name := range p2p {
		p2p[i] = "tests/test_durations.py::" + name
	}
	return sdk.Task{
		InstanceID: "slowsuite-1", Repo: "swelego-bench/slowsuite", Language: "python",
		BaseCommit: git("rev-parse", "HEAD"), Patch: read("fix.diff"), TestPatch: read("test.diff"),
		FailToPass: []string{"tests/test_durations.py::test_hours", "tests/test_durations.py::test_format_hours"},
		PassToPass: p2p,
	}
}

// phaseClock adds up where the time of gradings goes: the steps of
// Manager.Open (through its trace hook) and the calls the harness makes on
// the sandbox, sorted into phases by what they do.
type phaseClock struct {
	mu   sync.Mutex
	d    map[string]time.Duration
	test time.Duration // inside the sandbox, the test command alone
	err  error
}

func (c *phaseClock) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d, c.test, c.err = map[string]time.Duration{}, 0, nil
}

func (c *phaseClock) add(phase string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d[phase] += d
}

func (c *phaseClock) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *phaseClock) phases() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for p := range c.d {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (c *phaseClock) opener(m *Manager) harness.Opener {
	return func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) {
		sb, err := m.Open(ctx, t)
		if err != nil {
			return nil, err
		}
		return &timedSandbox{Sandbox: sb, clock: c}, nil
	}
}

// timedSandbox times the harness's calls on a sandbox. The phases:
// "patch" (writing and applying the model patch), "testpatch" (resetting
// the test files and applying the test patch), "testexec" (the test
// command's Exec less the test time: bash, tee, the Go cache seed check,
// the backend's exec), "results" (reading the kept output and report and
// removing them), "close", and "other" for anything else. The test command
// is instrumented to print, on a descriptor of its own, the time
// ($EPOCHREALTIME) just before and after the test command proper runs.
type timedSandbox struct {
	harness.Sandbox
	clock     *phaseClock
	testPatch bool // the test files were reset: the next apply is the test patch's
}

const benchMark = "@@swelego-bench-test "

func (s *timedSandbox) patchPhase() string {
	if s.testPatch {
		return "testpatch"
	}
	return "patch"
}

func (s *timedSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	phase := "other"
	test := strings.Contains(cmd, ">>>>> swelego test output start")
	switch {
	case test:
		phase = "testexec"
		var ok bool
		if cmd, ok = instrument(cmd); !ok {
			s.clock.mu.Lock()
			s.clock.err = fmt.Errorf("the harness's test command changed shape; BenchmarkGrading cannot time it:\n%s", cmd)
			s.clock.mu.Unlock()
		}
	case strings.Contains(cmd, "refusing to reset"), strings.Contains(cmd, "unsafe reset"):
		phase, s.testPatch = "testpatch", true
	case strings.Contains(cmd, "attempt 1 "), strings.Contains(cmd, "elif can -R"):
		phase = s.patchPhase()
	case strings.HasPrefix(cmd, "rm -f -- "):
		phase = "results"
	}
	start := time.Now()
	res, err := s.Sandbox.Exec(ctx, cmd, timeout)
	took := time.Since(start)
	if test {
		inside, rest, ok := testTime(res.Output)
		res.Output = rest
		s.clock.mu.Lock()
		if !ok && s.clock.err == nil {
			s.clock.err = fmt.Errorf("the test command printed no timing:\n%s", res.Output)
		}
		s.clock.test += inside
		s.clock.mu.Unlock()
		took -= inside
	}
	s.clock.add(phase, took)
	return res, err
}

// instrument makes the harness's test command print, on file descriptor 3
// (the Exec's output, not the kept log), when the test command proper
// started and ended.
func instrument(cmd string) (string, bool) {
	const open, shut = "\n( ", "\n) </dev/null 2>&1\n"
	i, j := strings.Index(cmd, open), strings.Index(cmd, shut)
	if i < 0 || j < i {
		return cmd, false
	}
	return "exec 3>&1\n" + cmd[:i] + "\nswelego_bench_t0=$EPOCHREALTIME" + cmd[i:j] +
		"\n) </dev/null 2>&1 3>&-\nswelego_bench_rc=$?\nprintf '\\n" + benchMark + "%s %s\\n' \"$swelego_bench_t0\" \"$EPOCHREALTIME\" >&3\n(exit $swelego_bench_rc)\n" +
		cmd[j+len(shut):], true
}

// testTime finds the instrumented command's timing line in out and
// returns the time between its two stamps and out without the line.
func testTime(out string) (time.Duration, string, bool) {
	i := strings.Index(out, benchMark)
	if i < 0 {
		return 0, out, false
	}
	line, rest, _ := strings.Cut(out[i+len(benchMark):], "\n")
	f := strings.Fields(line)
	if len(f) != 2 {
		return 0, out, false
	}
	t0, err0 := strconv.ParseFloat(f[0], 64)
	t1, err1 := strconv.ParseFloat(f[1], 64)
	if err0 != nil || err1 != nil || t1 < t0 {
		return 0, out, false
	}
	return time.Duration((t1 - t0) * float64(time.Second)), strings.TrimSuffix(out[:i], "\n") + rest, true
}

func (s *timedSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	phase := "other"
	switch {
	case strings.Contains(p, "swelego-reset-"):
		phase, s.testPatch = "testpatch", true
	case strings.Contains(p, "swelego-patch-"), strings.Contains(p, "swelego-check-"):
		phase = s.patchPhase()
	}
	start := time.Now()
	err := s.Sandbox.WriteFile(ctx, p, data)
	s.clock.add(phase, time.Since(start))
	return err
}

func (s *timedSandbox) ReadFile(ctx context.Context, p string) ([]byte, error) {
	start := time.Now()
	data, err := s.Sandbox.ReadFile(ctx, p)
	s.clock.add("results", time.Since(start))
	return data, err
}

func (s *timedSandbox) Close(ctx context.Context) error {
	start := time.Now()
	err := s.Sandbox.Close(ctx)
	s.clock.add("close", time.Since(start))
	return err
}
