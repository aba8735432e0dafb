package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/sdk"
)

// Sandbox is what the harness needs of a sandbox: the method set of
// core/sandbox.Sandbox, so any backend's sandbox is one.
type Sandbox interface {
	sdk.Sandbox
	Close(ctx context.Context) error
}

// Opener opens a fresh sandbox holding the task's repository at its base
// commit (a sandbox.Backend's Open with the task's image and repository).
type Opener func(ctx context.Context, t sdk.Task) (Sandbox, error)

// Defaults of Options.
const (
	// DefaultTimeout bounds one test run (SWE-bench's 1,800 s).
	DefaultTimeout = 30 * time.Minute
	// DefaultMaxLogBytes is how much of a test run's output a Result keeps.
	DefaultMaxLogBytes = 256 << 10
)

// Options tune Evaluate and Validate. The zero value is usable.
type Options struct {
	// Timeout bounds each test run; 0 means DefaultTimeout.
	Timeout time.Duration
	// Reruns is how many times Validate runs the tests on each tree; tests
	// whose status differs between runs are dropped as flaky. Below 1
	// means 1. Evaluate runs once.
	Reruns int
	// Language runs and reads the tests: it gives the test command and
	// parses what the command printed and wrote. Required.
	Language *language.Language
	// Parser, when set, reads the marked test output instead of Language
	// (a log_parser plugin an environment names); Language still gives the
	// command.
	Parser Parser
	// Command is the test command for tasks without test_cmd; empty means
	// the language's default.
	Command string
	// MaxLogBytes caps Result.Log; 0 means DefaultMaxLogBytes, negative
	// keeps no log.
	MaxLogBytes int
	// Rules are the grading rules (the zero value is swelego's default).
	Rules Rules
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) reruns() int {
	if o.Reruns < 1 {
		return 1
	}
	return o.Reruns
}

func (o Options) maxLog() int {
	if o.MaxLogBytes == 0 {
		return DefaultMaxLogBytes
	}
	return o.MaxLogBytes
}

// Evaluate grades modelPatch on task t as SWE-bench's run_instance does: an
// empty patch is empty_patch without opening a sandbox; otherwise a fresh
// sandbox is opened, the model patch applied (ApplyPatch), the files of
// the model patch that change how the test runner runs rather than what
// the code does (the language's HarnessFiles: see harnessFilesIn) put back
// as the base has them (Result.Discarded), the
// files the task's test_patch touches reset to the base commit and the
// test_patch applied, the task's tests run once (its test_cmd, or the
// language's command for its FAIL_TO_PASS and PASS_TO_PASS ids) under
// Options.Timeout,
// read by the language (its ParseTestRun, which must refuse a run whose
// result channels disagree) with the harness's exit-code rule, and graded
// with Options.Rules. A run found invalid grades every expected test as
// failed (Result.Invalid says why). A patch that does not apply, a
// timeout, a run without results and a sandbox failure give status "error"
// with Error set (Result.Infra when the infrastructure failed). For a task whose patch introduces the bug
// (patch_direction "introduce") on a clean base, the bug is applied first.
func Evaluate(ctx context.Context, open Opener, t sdk.Task, modelPatch string, opts Options) (r Result) {
	r = Result{InstanceID: t.InstanceID, ExitCode: -1}
	if modelPatch == "" {
		r.Status = ResultEmptyPatch
		return r
	}
	fail := func(format string, args ...any) Result {
		r.Status = ResultError
		err := fmt.Errorf(format, args...)
		r.Error = err.Error()
		r.Infra = isInfra(err)
		return r
	}
	if _, err := CheckPatch(modelPatch); err != nil {
		return fail("model patch: %w", err)
	}
	if opts.Language == nil {
		return fail("%w: the task's tests cannot be run", ErrNoLanguage)
	}
	start := time.Now()
	defer func() { r.Duration = time.Since(start) }()

	sb, err := open(ctx, t)
	if err != nil {
		return fail("open sandbox: %w", err)
	}
	defer closeSandbox(ctx, sb)

	if t.PatchDirection == sdk.PatchIntroduces && t.Patch != "" {
		clean, err := baseIsClean(ctx, sb, t.Patch)
		if err != nil {
			return fail("task patch: %w", err)
		}
		if clean {
			if _, err := applyPatch(ctx, sb, t.Patch, false); err != nil {
				return fail("introduce the bug: %w", err)
			}
		}
	}
	if err := ApplyPatch(ctx, sb, modelPatch); err != nil {
		return fail("model patch: %w", err)
	}
	r.PatchApplied = true
	if files := harnessFilesIn(modelPatch, opts.Language.Spec.HarnessFiles); len(files) > 0 {
		if err := resetToBase(ctx, sb, files); err != nil {
			return fail("undo the model patch's test harness files: %w", err)
		}
		r.Discarded = files
	}
	if err := applyTestPatch(ctx, sb, t.TestPatch); err != nil {
		return fail("test patch: %w", err)
	}

	run, err := runTests(ctx, sb, opts.Language, opts.Parser, gradeRequest(t, opts), opts.timeout())
	r.ExitCode, r.TimedOut = run.ExitCode, run.TimedOut
	if limit := opts.maxLog(); limit > 0 {
		r.Log = truncateLog(run.Output, limit)
	}
	if err != nil {
		return fail("run tests: %w", err)
	}
	statuses := run.Report.Statuses
	if len(statuses) == 0 && run.Report.Invalid == "" {
		return fail("run tests: %w: no test reported a status (exit status %d)", ErrNoResults, run.ExitCode)
	}

	resolution, ts := opts.Rules.Grade(t.FailToPass, t.PassToPass, statuses)
	if run.Report.Invalid != "" {
		// Nothing the run reported can be trusted: every expected test
		// fails, as SWE-bench grades a log it does not accept.
		resolution, ts = opts.Rules.Grade(t.FailToPass, t.PassToPass, nil)
		r.Invalid = run.Report.Invalid
	}
	r.Resolution = resolution
	r.Status = StatusOf(resolution)
	r.TestsStatus = &ts
	r.FailToPass = observed(t.FailToPass, statuses)
	r.PassToPass = observed(t.PassToPass, statuses)
	return r
}

// Validate computes the FAIL_TO_PASS and PASS_TO_PASS lists of a candidate
// task as SWE-smith's validation does: it runs the tests on the broken tree
// and on the fixed tree, each in a fresh sandbox, Options.Reruns times,
// drops every test whose status differs between runs of either tree
// (flaky), and returns, sorted,
//
//   - f2p: tests that PASS on the fixed tree and fail on the broken one
//     (FAILED, ERROR, SKIPPED, XPASS or missing: SWE-bench's test_failed);
//   - p2p: tests that PASS on both.
//
// For patch_direction "fix" (SWE-bench) the broken tree is base +
// test_patch and the fixed one base + test_patch + patch. For "introduce"
// (SWE-smith) the patch introduces the bug: when the base is clean (the
// patch applies forward) the broken tree is base + patch + test_patch and
// the fixed one base + test_patch; when the base already holds the bug (the
// patch applies only in reverse, as in SWE-smith's released tasks) the
// broken tree is base + test_patch and the fixed one is base with the patch
// applied in reverse + test_patch.
//
// The tests run are the task's test_cmd, else its FAIL_TO_PASS and
// PASS_TO_PASS ids and the test files its test_patch changes (see
// testPatchFiles), else the language's whole suite. A run that times out
// or leaves no results fails validation with a *ValidationError that keeps its log; a fixed tree on
// which no test passes fails it with ErrTestsDoNotRun (the test command
// does not work in the environment, whatever the bug). When no test is
// fail→pass, f2p is empty and the error wraps ErrNoFailToPass (p2p is
// still returned).
func Validate(ctx context.Context, open Opener, t sdk.Task, opts Options) (f2p, p2p []string, err error) {
	if t.Patch == "" {
		return nil, nil, fmt.Errorf("validate %s: the task has no patch", t.InstanceID)
	}
	if _, err := CheckPatch(t.Patch); err != nil {
		return nil, nil, fmt.Errorf("validate %s: task patch: %w", t.InstanceID, err)
	}
	if opts.Language == nil {
		return nil, nil, fmt.Errorf("validate %s: %w: the task's tests cannot be run", t.InstanceID, ErrNoLanguage)
	}
	req := gradeRequest(t, opts)
	if t.TestCmd == "" {
		req.Tests = append(req.Tests, testPatchFiles(t.TestPatch)...)
	}
	n := opts.reruns()

	type step struct {
		what    string
		patch   string
		reverse bool
		test    bool // a test patch: reset its files first
	}
	testPatch := step{what: "test patch", patch: t.TestPatch, test: true}
	fixPatch := step{what: "task patch", patch: t.Patch}
	var broken, fixed []step

	var lastFixed TestRun
	runSide := func(side string, setup func(Sandbox) error) ([]map[string]Status, error) {
		sb, err := open(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s tree: open sandbox: %w", side, err)
		}
		defer closeSandbox(ctx, sb)
		if err := setup(sb); err != nil {
			return nil, fmt.Errorf("%s tree: %w", side, err)
		}
		var runs []map[string]Status
		for i := 0; i < n; i++ {
			run, err := runTests(ctx, sb, opts.Language, opts.Parser, req, opts.timeout())
			if err != nil {
				return nil, &ValidationError{Side: side, ExitCode: run.ExitCode, Log: cutLog(run.Output, opts.maxLog()),
					Err: fmt.Errorf("run %d: %w", i+1, err)}
			}
			if side == "fixed" && run.Report.Invalid != "" {
				return nil, &ValidationError{Side: side, ExitCode: run.ExitCode, Log: cutLog(run.Output, opts.maxLog()),
					Err: fmt.Errorf("run %d: %w: %s", i+1, ErrInvalidRun, run.Report.Invalid)}
			}
			runs = append(runs, run.Report.Statuses)
			if side == "fixed" {
				lastFixed = run
			}
		}
		return runs, nil
	}
	applySteps := func(sb Sandbox, steps []step) error {
		for _, s := range steps {
			if s.patch == "" {
				continue
			}
			if s.test {
				if err := applyTestPatch(ctx, sb, s.patch); err != nil {
					return fmt.Errorf("%s: %w", s.what, err)
				}
				continue
			}
			if _, err := applyPatch(ctx, sb, s.patch, s.reverse); err != nil {
				return fmt.Errorf("%s: %w", s.what, err)
			}
		}
		return nil
	}

	brokenRuns, err := runSide("broken", func(sb Sandbox) error {
		switch t.PatchDirection {
		case sdk.PatchIntroduces:
			clean, err := baseIsClean(ctx, sb, t.Patch)
			if err != nil {
				return fmt.Errorf("task patch: %w", err)
			}
			if clean {
				broken = []step{fixPatch, testPatch}
				fixed = []step{testPatch}
			} else {
				broken = []step{testPatch}
				fixed = []step{{what: "task patch (reversed)", patch: t.Patch, reverse: true}, testPatch}
			}
		default:
			broken = []step{testPatch}
			fixed = []step{testPatch, fixPatch}
		}
		return applySteps(sb, broken)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("validate %s: %w", t.InstanceID, err)
	}
	fixedRuns, err := runSide("fixed", func(sb Sandbox) error { return applySteps(sb, fixed) })
	if err != nil {
		return nil, nil, fmt.Errorf("validate %s: %w", t.InstanceID, err)
	}

	brokenSM, flakyB := stableStatuses(brokenRuns)
	fixedSM, flakyF := stableStatuses(fixedRuns)
	passing := 0
	for _, st := range fixedSM {
		if st == StatusPassed {
			passing++
		}
	}
	if passing == 0 {
		why := "no test reported a status"
		if len(fixedSM)+len(flakyF) > 0 {
			why = fmt.Sprintf("none of the %d tests it reported passes", len(fixedSM)+len(flakyF))
		}
		return nil, nil, fmt.Errorf("validate %s: %w", t.InstanceID, &ValidationError{Side: "fixed", ExitCode: lastFixed.ExitCode,
			Log: cutLog(lastFixed.Output, opts.maxLog()), Err: fmt.Errorf("%w: %s", ErrTestsDoNotRun, why)})
	}
	for id, st := range fixedSM {
		if st != StatusPassed || flakyB[id] {
			continue
		}
		b, ok := brokenSM[id]
		switch {
		case ok && b == StatusPassed:
			p2p = append(p2p, id)
		case !ok || !Passed(b):
			f2p = append(f2p, id)
		}
	}
	sort.Strings(f2p)
	sort.Strings(p2p)
	if len(f2p) == 0 {
		return nil, p2p, fmt.Errorf("validate %s: %w", t.InstanceID, ErrNoFailToPass)
	}
	return f2p, p2p, nil
}

// stableStatuses keeps the tests reported with the same status by every
// run; the others are returned as flaky.
func stableStatuses(runs []map[string]Status) (map[string]Status, map[string]bool) {
	stable := make(map[string]Status)
	flaky := make(map[string]bool)
	if len(runs) == 0 {
		return stable, flaky
	}
	all := make(map[string]bool)
	for _, r := range runs {
		for id := range r {
			all[id] = true
		}
	}
	for id := range all {
		st, ok := runs[0][id]
		same := ok
		for _, r := range runs[1:] {
			if s, ok := r[id]; !ok || s != st {
				same = false
				break
			}
		}
		if same {
			stable[id] = st
		} else {
			flaky[id] = true
		}
	}
	return stable, flaky
}

// isInfra reports whether err is the infrastructure's failure (a sandbox
// or image that cannot be opened, an Exec that failed, a cancelled
// context) rather than the prediction's or the task's own (a patch that
// does not apply, a run that timed out, ran out of memory or left no
// results).
func isInfra(err error) bool {
	for _, final := range []error{ErrNotPatch, ErrUnsafePatch, ErrApply, ErrNoResults, ErrTimeout, sandbox.ErrOutOfMemory} {
		if errors.Is(err, final) {
			return false
		}
	}
	return err != nil
}

// closeSandbox closes sb even when ctx is already cancelled.
func closeSandbox(ctx context.Context, sb Sandbox) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	sb.Close(cctx) //nolint:errcheck // nothing useful to do with it
}

// baseIsClean reports whether a bug-introducing patch applies forward to
// the sandbox's tree (a clean base: SWE-smith's candidate) rather than only
// in reverse (a base that already holds the bug: SWE-smith's released
// tasks). It checks with git apply --check, then with patch --dry-run.
func baseIsClean(ctx context.Context, sb Sandbox, patch string) (bool, error) {
	file := scratch + "check-" + NewNonce()[:16] + ".diff"
	if err := sb.WriteFile(ctx, file, []byte(patch)); err != nil {
		return false, err
	}
	f := shellQuote(file)
	script := fmt.Sprintf(`trap 'rm -f -- %[1]s' EXIT
can() { git apply --check $1 %[1]s >/dev/null 2>&1 || patch --dry-run --batch --forward --fuzz=5 -p1 $1 -i %[1]s >/dev/null 2>&1 </dev/null; }
if can ""; then echo forward; elif can -R; then echo reverse; else echo neither; fi
`, f)
	res, err := sb.Exec(ctx, script, applyTimeout)
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(res.Output) {
	case "forward":
		return true, nil
	case "reverse":
		return false, nil
	}
	return false, fmt.Errorf("%w: it applies to the base neither forward nor in reverse", ErrApply)
}

// applyTestPatch resets the files testPatch touches to the base commit
// (removing those the base does not have) and applies it, as SWE-bench's
// eval script does with `git checkout BASE FILES; git apply TEST_PATCH`.
func applyTestPatch(ctx context.Context, sb Sandbox, testPatch string) error {
	if testPatch == "" {
		return nil
	}
	paths, err := CheckPatch(testPatch)
	if err != nil {
		return err
	}
	_, err = applyPatchAfterReset(ctx, sb, testPatch, false, paths)
	return err
}

// harnessFilesIn returns the paths of patch whose base names are among
// names: the files through which code changes how the test runner
// collects, runs and reports tests rather than what the code under test
// does (a language's HarnessFiles). A model
// patch's changes to them are undone before the tests run. SWE-bench's
// split of a pull request puts them in the test_patch, so a gold patch
// never needs them; a patch that adds one to skip tests, rewrite reports
// or print results of its own is left without effect.
func harnessFilesIn(patch string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	paths, err := CheckPatch(patch)
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range paths {
		if slices.Contains(names, path.Base(p)) {
			out = append(out, p)
		}
	}
	return out
}

// resetToBase puts paths back as the base commit has them, removing those
// it does not have; a path that resolves outside the repository is
// refused.
func resetToBase(ctx context.Context, sb Sandbox, paths []string) error {
	var list bytes.Buffer
	for _, p := range paths {
		list.WriteString(p)
		list.WriteByte(0)
	}
	file := scratch + "reset-" + NewNonce()[:16]
	script := fmt.Sprintf(`L=%s
trap 'rm -f -- "$L"' EXIT
printf '%%s' '%s' | base64 -d > "$L" || exit 93
root=$(pwd -P) || exit 90
while IFS= read -r -d '' p; do
  r=$(realpath -m -- "$p") || r=
  case "$r" in "$root"/*) ;; *) echo "refusing to reset $p: it resolves outside the repository"; exit 92;; esac
  if git cat-file -e "HEAD:$p" 2>/dev/null; then
    git checkout -q HEAD -- "$p" || exit 1
  else
    rm -f -- "$p" || exit 1
  fi
done < "$L"
`, shellQuote(file), base64.StdEncoding.EncodeToString(list.Bytes()))
	res, err := sb.Exec(ctx, script, applyTimeout)
	if err != nil {
		return fmt.Errorf("reset test files: %w", err)
	}
	if res.ExitCode != 0 || res.TimedOut {
		return fmt.Errorf("%w: reset test files: %s", ErrUnsafePatch, clip(strings.TrimSpace(res.Output), 300))
	}
	return nil
}

// gradeRequest asks the language for the tests Evaluate and Validate
// run: the task's test_cmd as it is, else the options' command (or the
// language's default) on the task's FAIL_TO_PASS and PASS_TO_PASS ids
// (none: the whole suite).
func gradeRequest(t sdk.Task, opts Options) sdk.TestCommandRequest {
	req := sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Task: testTask(t)}
	if t.TestCmd != "" {
		req.Base = t.TestCmd
		return req
	}
	req.Base = opts.Command
	seen := map[string]bool{}
	for _, id := range append(append([]string{}, t.FailToPass...), t.PassToPass...) {
		if !seen[id] {
			seen[id] = true
			req.Tests = append(req.Tests, id)
		}
	}
	return req
}

// testTask is what the language may know of t when it gives the test
// command and reads its run (sdk.TestCommandRequest.Task).
func testTask(t sdk.Task) *sdk.TestTask {
	tt := &sdk.TestTask{InstanceID: t.InstanceID, Repo: t.Repo, Version: t.Version, Image: t.Image,
		TestFiles: testPatchFiles(t.TestPatch)}
	if tt.Image == "" {
		_ = json.Unmarshal(t.Extra["image_name"], &tt.Image) // SWE-smith's field; absent or not a string: none
	}
	return tt
}

// nonTestExts are SWE-bench's NON_TEST_EXTS: files of a test_patch that are
// not passed to the test command.
var nonTestExts = []string{".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml"}

// testPatchFiles are the files of a test_patch that validation asks the
// language to run besides the task's test ids, as SWE-bench's test
// directives are: every changed path but SWE-bench's NON_TEST_EXTS. A
// language whose runner selects tests by file runs those files (a test id
// may name a file); one that does not ignores paths it cannot run.
func testPatchFiles(testPatch string) []string {
	if testPatch == "" {
		return nil
	}
	paths, err := CheckPatch(testPatch)
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range paths {
		if !slices.ContainsFunc(nonTestExts, func(ext string) bool { return strings.HasSuffix(p, ext) }) {
			out = append(out, p)
		}
	}
	return out
}

// cutLog is truncateLog with MaxLogBytes' meaning: a limit of 0 or less
// keeps nothing.
func cutLog(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	return truncateLog(s, limit)
}

// truncateLog keeps the first quarter and the last three quarters of limit
// bytes of s (a runner's summary is at the end), cut at rune boundaries.
func truncateLog(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	head, tail := limit/4, limit-limit/4
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	from := len(s) - tail
	for from < len(s) && !utf8.RuneStart(s[from]) {
		from++
	}
	return s[:head] + fmt.Sprintf("\n… [%d bytes cut] …\n", from-head) + s[from:]
}
