package verifiers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/swelego/swelego/sdk"
)

// Runners the tests verifier knows.
const (
	RunnerPytest = "pytest"
	RunnerGoTest = "gotest"
)

// Default test commands, run at the repository root when neither the
// configuration nor the task names one.
const (
	DefaultPytestCommand = "pytest --no-header -rA --tb=no -p no:cacheprovider"
	DefaultGoTestCommand = "go test -json ./..."
)

// ErrNoBaseline is wrapped by the error of a task whose tests leave no
// report at its base commit: the runner is missing or the command is
// wrong, which is not something a candidate patch can be blamed for.
var ErrNoBaseline = errors.New("the tests leave no report at the base commit")

// TestsConfig configures the tests verifier; absent attributes keep the
// defaults of DefaultTestsConfig.
type TestsConfig struct {
	// TestCmd replaces the task's test command (Task.TestCmd), which
	// replaces the runner's default.
	TestCmd string `json:"test_cmd"`
	// Runner is pytest or gotest; "" picks one from the test command, the
	// task's language, or the repository (a go.mod at its root).
	Runner string `json:"runner"`
	// Timeout bounds each test run, in seconds.
	Timeout float64 `json:"timeout"`
	// Reproduce runs the reproduction tests the agent wrote.
	Reproduce bool `json:"reproduce"`
}

// DefaultTestsConfig is the configuration of an empty block.
func DefaultTestsConfig() TestsConfig {
	return TestsConfig{Timeout: 1800, Reproduce: true}
}

func (c TestsConfig) check() error {
	switch {
	case c.Runner != "" && c.Runner != RunnerPytest && c.Runner != RunnerGoTest:
		return fmt.Errorf("%w: runner %q, want pytest or gotest", ErrConfig, c.Runner)
	case c.Timeout <= 0:
		return fmt.Errorf("%w: timeout is %g seconds, want more than 0", ErrConfig, c.Timeout)
	}
	return nil
}

func (c TestsConfig) timeout() time.Duration { return time.Duration(c.Timeout * float64(time.Second)) }

// TestsSchema is the configuration the tests verifier accepts.
var TestsSchema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"test_cmd":  {Type: sdk.TypeString, Description: "test command run at the repository root; default: the task's test_cmd, else the runner's (" + DefaultPytestCommand + " | " + DefaultGoTestCommand + ")"},
	"runner":    {Type: sdk.TypeString, Description: "pytest or gotest; default: from the test command, the task's language, or a go.mod at the repository root"},
	"timeout":   {Type: sdk.TypeNumber, Default: DefaultTestsConfig().Timeout, Description: "seconds each test run may take"},
	"reproduce": {Type: sdk.TypeBool, Default: DefaultTestsConfig().Reproduce, Description: "also run the reproduction tests the agent wrote: test files its patch adds and its reproduce script"},
}}

// Tests is the execution-based verifier. In the sandbox the host lends
// (the task's environment at its base commit) it runs the repository's
// own tests, keeps those that pass before the patch, applies the patch
// and runs them again, together with the reproduction tests the agent
// wrote; the score is the pass rate. The base run is made once per task
// and plugin process. Create it with NewTestsVerifier.
type Tests struct {
	mu    sync.Mutex
	bases map[string]*baseRun
}

// baseRun is the outcome of the tests at the base commit of one task,
// shared by the candidates that wait for it.
type baseRun struct {
	done    chan struct{}
	passing []string
	err     error
}

// NewTestsVerifier returns a tests verifier with an empty cache of base
// runs.
func NewTestsVerifier() *Tests { return &Tests{bases: map[string]*baseRun{}} }

// Verify scores the candidate by the pass rate of the tests.
func (v *Tests) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	cfg := DefaultTestsConfig()
	if err := req.Config.Decode(&cfg); err != nil {
		return sdk.Score{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := cfg.check(); err != nil {
		return sdk.Score{}, err
	}
	return v.run(ctx, cfg, req)
}

// testPlan is how one task's tests run.
type testPlan struct {
	runner  string
	command string
}

func (v *Tests) run(ctx context.Context, cfg TestsConfig, req sdk.VerifyRequest) (sdk.Score, error) {
	sb := req.Sandbox
	if sb == nil {
		return sdk.Score{}, fmt.Errorf("tests verifier: the host lent no sandbox of the task's environment: %w", sdk.ErrNotLent)
	}
	if strings.TrimSpace(req.Patch) == "" {
		return sdk.Score{Value: 0, Label: "empty_patch", Details: "the candidate changes nothing",
			Parts: map[string]float64{"pass_rate": 0, "passed": 0, "total": 0}}, nil
	}
	if err := checkClean(ctx, sb); err != nil {
		return sdk.Score{}, err
	}
	plan, err := planTests(ctx, cfg, req.Task, sb)
	if err != nil {
		return sdk.Score{}, err
	}
	basePassing, err := v.baseline(ctx, cfg, plan, req.Task, sb)
	if err != nil {
		return sdk.Score{}, err
	}

	applied, err := applyPatch(ctx, sb, req.Patch, false)
	if err != nil {
		return sdk.Score{}, err
	}
	if applied != "" {
		return sdk.Score{Value: 0, Label: "not_applied", Details: "git apply: " + clip(applied, 500),
			Parts: map[string]float64{"pass_rate": 0, "passed": 0, "total": float64(len(basePassing))}}, nil
	}
	// Leave the sandbox at base again, as far as git can: a host that lends
	// the same sandbox for the next candidate finds it clean.
	defer func() { _, _ = applyPatch(ctx, sb, req.Patch, true) }()

	after, afterErr := runTests(ctx, cfg, plan, "", sb)
	if afterErr != nil && !errors.Is(afterErr, errNoReport) {
		return sdk.Score{}, fmt.Errorf("tests verifier: run the tests after the patch: %w", afterErr)
	}
	passed := 0
	var broken []string
	for _, id := range basePassing {
		if passes(after[id]) {
			passed++
		} else {
			broken = append(broken, id)
		}
	}
	repro := reproResult{}
	if cfg.Reproduce {
		repro, err = runRepro(ctx, cfg, plan, req, sb)
		if err != nil {
			return sdk.Score{}, err
		}
	}
	total := len(basePassing) + repro.total
	passed += repro.passed

	var details strings.Builder
	fmt.Fprintf(&details, "%d of %d tests that pass at base pass with the patch", len(basePassing)-len(broken), len(basePassing))
	if afterErr != nil {
		fmt.Fprintf(&details, " (%v)", afterErr)
	}
	if len(broken) > 0 {
		fmt.Fprintf(&details, "; broken: %s", listSome(broken, 10))
	}
	if cfg.Reproduce {
		fmt.Fprintf(&details, "; reproduction tests: %d of %d pass", repro.passed, repro.total)
		if len(repro.failed) > 0 {
			fmt.Fprintf(&details, " (failing: %s)", listSome(repro.failed, 10))
		}
	}
	parts := map[string]float64{"pass_rate": 0, "passed": float64(passed), "total": float64(total), "repro_total": float64(repro.total)}
	if total == 0 {
		return sdk.Score{Value: 0, Label: "no_tests", Details: "no test passes at base and the agent wrote no reproduction test; " + details.String(), Parts: parts}, nil
	}
	rate := float64(passed) / float64(total)
	parts["pass_rate"] = rate
	label := "all_pass"
	if passed < total {
		label = "some_fail"
	}
	return sdk.Score{Value: rate, Label: label, Details: details.String(), Parts: parts}, nil
}

// applyPatch applies patch (or reverts it) with git apply in the
// sandbox's repository. The patch travels as a file at the repository
// root, since sandboxes let the host write only there, and is removed by
// the command that applies it. It returns git's complaint when the patch
// does not apply, "" when it does.
func applyPatch(ctx context.Context, sb sdk.Sandbox, patch string, reverse bool) (string, error) {
	file := ".swelego-verifier-" + newNonce() + ".diff"
	if err := sb.WriteFile(ctx, file, []byte(patch)); err != nil {
		return "", fmt.Errorf("tests verifier: write the patch: %w", err)
	}
	flags := "--whitespace=nowarn"
	if reverse {
		flags += " -R"
	}
	q := shellQuote(file)
	res, err := sb.Exec(ctx, fmt.Sprintf("git apply %s %s 2>&1; rc=$?; rm -f -- %s; exit $rc", flags, q, q), 2*time.Minute)
	if err != nil {
		return "", fmt.Errorf("tests verifier: apply the patch: %w", err)
	}
	if res.ExitCode != 0 || res.TimedOut {
		out := strings.TrimSpace(strings.ReplaceAll(res.Output, file, "patch"))
		if out == "" {
			out = fmt.Sprintf("exit %d (timed out: %t)", res.ExitCode, res.TimedOut)
		}
		return out, nil
	}
	return "", nil
}

// checkClean refuses a sandbox whose tracked files differ from its
// commit: the verifier must start from the task's base.
func checkClean(ctx context.Context, sb sdk.Sandbox) error {
	res, err := sb.Exec(ctx, "git status --porcelain --untracked-files=no", time.Minute)
	if err != nil {
		return fmt.Errorf("tests verifier: git status: %w", err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("tests verifier: the sandbox holds no git repository at its root: %s", clip(strings.TrimSpace(res.Output), 300))
	}
	if out := strings.TrimSpace(res.Output); out != "" {
		return fmt.Errorf("tests verifier: the lent sandbox is not at the base commit, tracked files differ: %s", clip(out, 300))
	}
	return nil
}

// planTests picks the runner and the command of a task.
func planTests(ctx context.Context, cfg TestsConfig, t sdk.Task, sb sdk.Sandbox) (testPlan, error) {
	cmd := strings.TrimSpace(cfg.TestCmd)
	if cmd == "" {
		cmd = strings.TrimSpace(t.TestCmd)
	}
	runner := cfg.Runner
	if runner == "" {
		switch lang := strings.ToLower(t.Language); {
		case strings.Contains(cmd, "go test"):
			runner = RunnerGoTest
		case strings.Contains(cmd, "pytest"):
			runner = RunnerPytest
		case lang == "go" || lang == "golang":
			runner = RunnerGoTest
		case lang == "python":
			runner = RunnerPytest
		default:
			res, err := sb.Exec(ctx, "test -f go.mod", time.Minute)
			if err != nil {
				return testPlan{}, fmt.Errorf("tests verifier: look for go.mod: %w", err)
			}
			runner = RunnerPytest
			if res.ExitCode == 0 {
				runner = RunnerGoTest
			}
		}
	}
	if cmd == "" {
		cmd = DefaultPytestCommand
		if runner == RunnerGoTest {
			cmd = DefaultGoTestCommand
		}
	}
	return testPlan{runner: runner, command: cmd}, nil
}

// baseline returns the tests that pass at the task's base commit, running
// them in sb the first time a task is seen; concurrent candidates of the
// task wait for that run. A failed run is not kept, so the next candidate
// tries again.
func (v *Tests) baseline(ctx context.Context, cfg TestsConfig, plan testPlan, t sdk.Task, sb sdk.Sandbox) ([]string, error) {
	key := strings.Join([]string{t.InstanceID, t.BaseCommit, plan.runner, plan.command}, "\x00")
	for {
		v.mu.Lock()
		b, ok := v.bases[key]
		if !ok {
			b = &baseRun{done: make(chan struct{})}
			v.bases[key] = b
			v.mu.Unlock()
			b.passing, b.err = baseRunIn(ctx, cfg, plan, sb)
			if b.err != nil {
				v.mu.Lock()
				delete(v.bases, key)
				v.mu.Unlock()
			}
			close(b.done)
			return b.passing, b.err
		}
		v.mu.Unlock()
		select {
		case <-b.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if b.err == nil {
			return b.passing, nil
		}
		// The run this candidate waited for failed; try in its own sandbox.
	}
}

func baseRunIn(ctx context.Context, cfg TestsConfig, plan testPlan, sb sdk.Sandbox) ([]string, error) {
	statuses, err := runTests(ctx, cfg, plan, "", sb)
	if errors.Is(err, errNoReport) {
		return nil, fmt.Errorf("tests verifier: %w: %w", ErrNoBaseline, err)
	}
	if err != nil {
		return nil, fmt.Errorf("tests verifier: run the tests at base: %w", err)
	}
	var passing []string
	for id, st := range statuses {
		if passes(st) {
			passing = append(passing, id)
		}
	}
	sort.Strings(passing)
	return passing, nil
}

// errNoReport is wrapped by runTests' error when the tests ran but left
// no report to read: the fault of the code under test (or of the
// environment, at base), not of the sandbox.
var errNoReport = errors.New("no test report")

// runTests runs the plan's command (with args appended, shell-quoted
// already) and returns the status of every test it reported. An error
// wrapping errNoReport says why the run left no report; any other error
// is the sandbox's (an Exec or ReadFile that failed).
func runTests(ctx context.Context, cfg TestsConfig, plan testPlan, args string, sb sdk.Sandbox) (map[string]sdk.TestStatus, error) {
	nonce := newNonce()
	cmd := plan.command
	if args != "" {
		cmd += " " + args
	}
	switch plan.runner {
	case RunnerGoTest:
		out := "/tmp/swelego-verifier-" + nonce + ".json"
		script := fmt.Sprintf("%s( %s ) </dev/null >%s 2>&1", seedGoCache, withGoJSON(cmd), shellQuote(out))
		res, err := sb.Exec(ctx, script, cfg.timeout())
		if err != nil {
			return nil, fmt.Errorf("run %q: %w", cmd, err)
		}
		data, err := sb.ReadFile(ctx, out)
		cleanup(ctx, sb, out)
		if err != nil {
			return nil, fmt.Errorf("read the output of %q: %w", cmd, err)
		}
		statuses := ParseGoTestJSON(data)
		if len(statuses) == 0 && (res.ExitCode != 0 || res.TimedOut) {
			return statuses, fmt.Errorf("%w: %q reported no test and exited %d (timed out: %t): %s", errNoReport, cmd, res.ExitCode, res.TimedOut, clip(strings.TrimSpace(string(data)), 300))
		}
		return statuses, nil
	default:
		report := "/tmp/swelego-verifier-" + nonce + ".xml"
		log := "/tmp/swelego-verifier-" + nonce + ".log"
		script := fmt.Sprintf("export PYTEST_ADDOPTS=%s\" ${PYTEST_ADDOPTS:-}\"\n( %s ) </dev/null >%s 2>&1",
			shellQuote("--junitxml="+report+" -o junit_family=xunit1"), cmd, shellQuote(log))
		res, err := sb.Exec(ctx, script, cfg.timeout())
		if err != nil {
			return nil, fmt.Errorf("run %q: %w", cmd, err)
		}
		data, rerr := sb.ReadFile(ctx, report)
		var output []byte
		if rerr != nil {
			output, _ = sb.ReadFile(ctx, log)
		}
		cleanup(ctx, sb, report, log)
		if rerr != nil {
			return nil, fmt.Errorf("%w: %q wrote no JUnit report (exit %d, timed out: %t): %s", errNoReport, cmd, res.ExitCode, res.TimedOut, clip(strings.TrimSpace(string(output)), 300))
		}
		statuses, err := ParseJUnit(data)
		if err != nil {
			return nil, fmt.Errorf("%w: the report of %q: %w", errNoReport, cmd, err)
		}
		return statuses, nil
	}
}

// GoCacheSeed is where swelego's Go environment images keep a build
// cache warmed when the image was built.
const GoCacheSeed = "/opt/swelego/go-build-seed"

// seedGoCache copies GoCacheSeed into an empty GOCACHE before a go test
// run, silently, so the run compiles only what the patch changed.
const seedGoCache = `if [ -d ` + GoCacheSeed + ` ]; then gc=$(go env GOCACHE 2>/dev/null); ` +
	`if [ -n "$gc" ] && [ ! -e "$gc" ]; then mkdir -p "$gc" && cp -R ` + GoCacheSeed + `/. "$gc"/ 2>/dev/null; fi; fi
`

// withGoJSON adds -json to the first `go test` of cmd that lacks it.
func withGoJSON(cmd string) string {
	if strings.Contains(cmd, "-json") {
		return cmd
	}
	return strings.Replace(cmd, "go test", "go test -json", 1)
}

func cleanup(ctx context.Context, sb sdk.Sandbox, files ...string) {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = shellQuote(f)
	}
	_, _ = sb.Exec(ctx, "rm -f -- "+strings.Join(quoted, " "), time.Minute) // best effort: /tmp of a sandbox
}

// reproResult counts the reproduction tests of a candidate.
type reproResult struct {
	passed, total int
	failed        []string
}

// reproScript matches the base name of a reproduction script an agent
// writes: reproduce.py, repro_issue.sh, reproduce-bug.go and the like.
var reproScript = regexp.MustCompile(`(?i)^repro(duce)?([_-][\w-]*)?\.(py|sh|go)$`)

// runRepro runs the reproduction tests the agent wrote, after the patch:
//   - every test file the patch adds (pytest: test_*.py or *_test.py;
//     gotest: *_test.go), each test it holds being one reproduction test;
//     a file that yields no result counts as one failed test;
//   - the agent's reproduce script: a file whose base name matches
//     reproScript that the patch adds, or else the last one the trajectory
//     created with a tool call carrying "path" and "file_text" arguments
//     (str_replace_editor's create), written at the repository root under
//     its base name unless a file of that name exists there. It runs with
//     python3, bash or `go run`; exit status 0 passes.
func runRepro(ctx context.Context, cfg TestsConfig, plan testPlan, req sdk.VerifyRequest, sb sdk.Sandbox) (reproResult, error) {
	var r reproResult
	added := AddedFiles(req.Patch)
	var pyFiles []string
	goTests := map[string][]string{} // package dir -> test names
	script := ""
	for _, f := range added {
		base := path.Base(f.Path)
		switch {
		case plan.runner == RunnerPytest && strings.HasSuffix(base, ".py") && (strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py")):
			pyFiles = append(pyFiles, f.Path)
		case plan.runner == RunnerGoTest && strings.HasSuffix(base, "_test.go"):
			dir := "./" + path.Dir(f.Path)
			if path.Dir(f.Path) == "." {
				dir = "."
			}
			names := goTestNames(f.Lines)
			if len(names) == 0 {
				continue
			}
			goTests[dir] = append(goTests[dir], names...)
		case reproScript.MatchString(base):
			script = f.Path
		}
	}

	if len(pyFiles) > 0 {
		args := make([]string, len(pyFiles))
		for i, f := range pyFiles {
			args[i] = shellQuote(f)
		}
		statuses, err := runTests(ctx, cfg, testPlan{runner: RunnerPytest, command: DefaultPytestCommand}, strings.Join(args, " "), sb)
		if err != nil && !errors.Is(err, errNoReport) {
			return r, fmt.Errorf("tests verifier: run the reproduction tests: %w", err)
		}
		// The run holds only the added files, so every test it reports is
		// a reproduction test; a file none of them comes from counts as
		// one failed test.
		ids := make([]string, 0, len(statuses))
		for id := range statuses {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			r.count(id, passes(statuses[id]))
		}
		for _, f := range pyFiles {
			found := false
			for _, id := range ids {
				found = found || belongsTo(id, f)
			}
			if !found {
				r.count(f+" (no test result)", false)
			}
		}
	}
	dirs := make([]string, 0, len(goTests))
	for d := range goTests {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		names := goTests[dir]
		cmd := fmt.Sprintf("go test -json -count=1 -run %s %s", shellQuote("^("+strings.Join(names, "|")+")$"), shellQuote(dir))
		statuses, err := runTests(ctx, cfg, testPlan{runner: RunnerGoTest, command: cmd}, "", sb)
		if err != nil && !errors.Is(err, errNoReport) {
			return r, fmt.Errorf("tests verifier: run the reproduction tests: %w", err)
		}
		for _, name := range names {
			ok := false
			for id, st := range statuses {
				if strings.HasSuffix(id, "/"+name) && st == sdk.TestPassed {
					ok = true
				}
			}
			r.count(dir+" "+name, ok)
		}
	}

	if script == "" {
		name, text := scriptFromTrajectory(req.Trajectory)
		if name != "" {
			res, err := sb.Exec(ctx, "test -e "+shellQuote(name), time.Minute)
			if err != nil {
				return r, fmt.Errorf("tests verifier: look for %s: %w", name, err)
			}
			if res.ExitCode != 0 {
				if err := sb.WriteFile(ctx, name, []byte(text)); err != nil {
					return r, fmt.Errorf("tests verifier: write the reproduce script: %w", err)
				}
				script = name
				defer cleanup(ctx, sb, name)
			}
		}
	}
	if script != "" {
		var run string
		switch path.Ext(script) {
		case ".py":
			run = "$(command -v python3 || command -v python) " + shellQuote(script)
		case ".sh":
			run = "bash " + shellQuote(script)
		case ".go":
			run = "go run " + shellQuote(script)
		}
		res, err := sb.Exec(ctx, "( "+run+" ) </dev/null >/dev/null 2>&1", cfg.timeout())
		if err != nil {
			return r, fmt.Errorf("tests verifier: run the reproduce script: %w", err)
		}
		r.count(script, res.ExitCode == 0 && !res.TimedOut)
	}
	return r, nil
}

func (r *reproResult) count(id string, ok bool) {
	r.total++
	if ok {
		r.passed++
	} else {
		r.failed = append(r.failed, id)
	}
}

// belongsTo reports whether a JUnit id is a test of file
// ("tests/test_x.py"). pytest's xunit1 classname is the module's dotted
// path relative to the rootdir, maybe followed by a class
// ("tests.test_x.TestC::name"); the rootdir may cut the leading folders, so
// the file's module name is looked for as a whole segment of it.
func belongsTo(id, file string) bool {
	mod := strings.TrimSuffix(path.Base(file), ".py")
	class, _, _ := strings.Cut(id, "::")
	for _, seg := range strings.Split(class, ".") {
		if seg == mod {
			return true
		}
	}
	return false
}

// scriptFromTrajectory returns the base name and content of the last
// reproduce script the trajectory created, or "".
func scriptFromTrajectory(t sdk.Trajectory) (name, text string) {
	for _, m := range t.Messages {
		for _, c := range m.ToolCalls {
			var args struct {
				Command  string  `json:"command"`
				Path     string  `json:"path"`
				FileText *string `json:"file_text"`
			}
			if json.Unmarshal([]byte(c.Function.Arguments), &args) != nil || args.FileText == nil {
				continue
			}
			if args.Command != "" && args.Command != "create" {
				continue
			}
			if base := path.Base(args.Path); reproScript.MatchString(base) {
				name, text = base, *args.FileText
			}
		}
	}
	return name, text
}

// listSome joins up to n ids and says how many more there are.
func listSome(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:n], ", "), len(ids)-n)
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported systems
	return hex.EncodeToString(b[:])
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
