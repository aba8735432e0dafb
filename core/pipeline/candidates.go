package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/sdk"
)

// This file turns real candidate tasks (a merged pull request, a fix
// commit: a base commit and the whole change, no FAIL_TO_PASS yet) into
// validated tasks, for any source stage: the change is split into patch
// and test_patch by the language's test files, and the harness runs the
// tests before and after exactly as it validates synthetic candidates.

// CandidatesFile is the per-repository report of a stage that validated
// candidates: repository → CandidateYield.
const CandidatesFile = "candidates.json"

// StepSplit: the candidate's change has no test file or no other file by
// the language's test-file globs.
const StepSplit = "split"

// CandidateYield counts what became of one repository's candidates; every
// candidate is counted once in Resumed, NoEnvironment, NoTests, NoCode or
// Validated, and Validated = Kept + NoFailToPass + TestsDoNotRun + Failed.
type CandidateYield struct {
	Candidates    int `json:"candidates"`
	Resumed       int `json:"resumed"` // decided by an earlier run
	NoEnvironment int `json:"no_environment"`
	NoTests       int `json:"no_test_files"`
	NoCode        int `json:"no_code_files"`
	Validated     int `json:"validated"`
	NoFailToPass  int `json:"no_fail_to_pass"`
	TestsDoNotRun int `json:"tests_do_not_run"`
	Failed        int `json:"failed"` // the patch does not apply, a run timed out, …
	Kept          int `json:"kept"`
}

// IsCandidate reports whether t is a real task still to validate: it has
// a base commit and a fix but no FAIL_TO_PASS.
func IsCandidate(t sdk.Task) bool {
	return len(t.FailToPass) == 0 && t.Source != sdk.SourceSynthetic && t.PatchDirection != sdk.PatchIntroduces &&
		t.BaseCommit != "" && t.Patch != ""
}

// SplitPatch cuts a change into the files testFiles match (the
// test_patch) and the others (the patch), each section byte for byte.
func SplitPatch(change string, testFiles []string) (patch, testPatch string, err error) {
	var code, tests strings.Builder
	for _, sec := range diff.Sections(change) {
		files, err := diff.Parse(sec)
		if err != nil {
			return "", "", err
		}
		if len(files) != 1 {
			return "", "", fmt.Errorf("a diff section names %d files", len(files))
		}
		name := files[0].NewName
		if files[0].IsDelete || name == "" {
			name = files[0].OldName
		}
		if sdk.MatchTestFile(testFiles, name) {
			tests.WriteString(sec)
		} else {
			code.WriteString(sec)
		}
	}
	return code.String(), tests.String(), nil
}

// candidateRun validates one stage's candidates and writes each as a task
// or a rejection.
type candidateRun struct {
	sc       *engine.StageContext
	envs     *taskenv.Manager
	harness  harness.Options // reruns, timeout, log cap
	parsers  func(ctx context.Context, name string) (sdk.LogParser, error)
	tasks    *engine.Writer
	rejected *engine.Writer

	mu    sync.Mutex
	yield map[string]*CandidateYield
	hopts map[string]harness.Options // by environment
}

func (r *candidateRun) count(repo string, f func(*CandidateYield)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.yield[repo] == nil {
		r.yield[repo] = &CandidateYield{}
	}
	f(r.yield[repo])
}

// validateCandidates validates cands (those not written before) with
// workers at a time, writes each to tasks or to the stage's rejected
// output, and writes and logs the per-repository report. reruns and
// timeout are the harness's.
func (s *stageBase) validateCandidates(ctx context.Context, sc *engine.StageContext, tasks *engine.Writer, cands []sdk.Task, workers, reruns int, timeout time.Duration) error {
	rejected, err := sc.OpenOutput(RejectedOutput, engine.KeyField("instance_id"))
	if err != nil {
		return err
	}
	defer rejected.Close()
	r := &candidateRun{sc: sc, tasks: tasks, rejected: rejected, yield: map[string]*CandidateYield{}, hopts: map[string]harness.Options{},
		harness: harness.Options{Reruns: reruns, Timeout: timeout, MaxLogBytes: rejectionLogBytes}}
	if s.host != nil {
		r.parsers = s.host.LogParser
	}
	var todo []sdk.Task
	for _, t := range cands {
		r.count(t.Repo, func(y *CandidateYield) { y.Candidates++ })
		if tasks.Has(t.InstanceID) || rejected.Has(t.InstanceID) {
			r.count(t.Repo, func(y *CandidateYield) { y.Resumed++ })
			continue
		}
		todo = append(todo, t)
	}
	if len(todo) > 0 {
		envs, closeEnvs, err := s.environments(ctx, sc, "")
		if err != nil {
			return err
		}
		defer closeEnvs()
		r.envs = envs
		prog := sc.Progress(len(todo))
		err = forEach(ctx, workers, todo, func(t sdk.Task) error {
			defer prog.Add(1)
			return r.one(ctx, t)
		})
		prog.Finish()
		if err != nil {
			return fmt.Errorf("%s: %w", s.block.Address, err)
		}
	}
	return r.report()
}

// one validates candidate t and writes its task or its rejection.
func (r *candidateRun) one(ctx context.Context, t sdk.Task) error {
	t, rej, err := r.validate(ctx, t)
	if err != nil {
		return err
	}
	if rej != nil {
		rej.InstanceID, rej.Kind = t.InstanceID, sdk.SourceReal
		return r.rejected.Append(ctx, t.InstanceID, *rej)
	}
	r.count(t.Repo, func(y *CandidateYield) { y.Kept++ })
	return r.tasks.Append(ctx, t.InstanceID, t)
}

// validate splits candidate t by its language's test files and runs its
// tests before and after the fix; a candidate that is no task gets a
// Rejection, errors are the stage's (cancellation).
func (r *candidateRun) validate(ctx context.Context, t sdk.Task) (sdk.Task, *Rejection, error) {
	env, err := r.envs.Environment(t)
	if err != nil {
		r.count(t.Repo, func(y *CandidateYield) { y.NoEnvironment++ })
		return t, &Rejection{Step: StepValidate, Reason: "no environment: " + err.Error()}, nil
	}
	t.Environment = env.Name
	hopts, err := r.options(ctx, t, env)
	if err != nil {
		r.count(t.Repo, func(y *CandidateYield) { y.NoEnvironment++ })
		return t, &Rejection{Step: StepValidate, Reason: "environment " + env.Name + ": " + err.Error()}, nil
	}
	if t.Language == "" {
		t.Language = hopts.Language.Spec.Name
	}
	if t.TestPatch == "" {
		globs := hopts.Language.Spec.TestFiles
		patch, tests, err := SplitPatch(t.Patch, globs)
		switch {
		case err != nil:
			r.count(t.Repo, func(y *CandidateYield) { y.NoCode++ })
			return t, &Rejection{Step: StepSplit, Reason: "the change is not a git diff: " + err.Error()}, nil
		case tests == "":
			r.count(t.Repo, func(y *CandidateYield) { y.NoTests++ })
			return t, &Rejection{Step: StepSplit, Reason: fmt.Sprintf("the change touches no test file (%s: %s)", hopts.Language.Spec.Name, strings.Join(globs, " "))}, nil
		case patch == "":
			r.count(t.Repo, func(y *CandidateYield) { y.NoCode++ })
			return t, &Rejection{Step: StepSplit, Reason: "the change touches only test files"}, nil
		}
		t.Patch, t.TestPatch = patch, tests
	}
	run, err := r.envs.Prepare(t)
	if err != nil {
		return t, nil, err
	}
	open := func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) { return r.envs.Open(ctx, t) }
	f2p, p2p, err := harness.Validate(ctx, open, run, hopts)
	if ctx.Err() != nil {
		return t, nil, ctx.Err()
	}
	r.count(t.Repo, func(y *CandidateYield) { y.Validated++ })
	var ve *harness.ValidationError
	var log string
	if errors.As(err, &ve) {
		log = ve.Log
	}
	switch {
	case errors.Is(err, harness.ErrTestsDoNotRun):
		r.count(t.Repo, func(y *CandidateYield) { y.TestsDoNotRun++ })
		return t, &Rejection{Step: StepBase, Reason: err.Error() + ": " + logExcerpt(log, 4, languageErrorLines(hopts.Language)), Log: log}, nil
	case errors.Is(err, harness.ErrNoFailToPass) || (err == nil && len(f2p) == 0):
		r.count(t.Repo, func(y *CandidateYield) { y.NoFailToPass++ })
		return t, &Rejection{Step: StepValidate, Reason: "no test fails before the fix and passes after it"}, nil
	case err != nil:
		r.count(t.Repo, func(y *CandidateYield) { y.Failed++ })
		return t, &Rejection{Step: StepValidate, Reason: "validation failed: " + err.Error(), Log: log}, nil
	}
	t.FailToPass, t.PassToPass = f2p, p2p
	return t, nil, nil
}

// options are the harness options of environment env: its language and
// its log parser, made once per environment.
func (r *candidateRun) options(ctx context.Context, t sdk.Task, env taskenv.Environment) (harness.Options, error) {
	r.mu.Lock()
	o, ok := r.hopts[env.Name]
	r.mu.Unlock()
	if ok {
		return o, nil
	}
	ev := &Evaluator{Envs: r.envs, Harness: r.harness, Logger: r.sc.Logger, LogParsers: r.parsers}
	o, err := ev.harnessOptions(ctx, t)
	if err != nil {
		return o, err
	}
	if o.Language == nil {
		return o, fmt.Errorf("no language")
	}
	r.mu.Lock()
	r.hopts[env.Name] = o
	r.mu.Unlock()
	return o, nil
}

// report writes the per-repository yield and logs it: candidates →
// validated → kept.
func (r *candidateRun) report() error {
	if err := writeJSON(filepath.Join(r.sc.Dir(), CandidatesFile), r.yield); err != nil {
		return err
	}
	repos := make([]string, 0, len(r.yield))
	for k := range r.yield {
		repos = append(repos, k)
	}
	sort.Strings(repos)
	for _, repo := range repos {
		y := r.yield[repo]
		r.sc.Logger.Info("candidates", "repo", repo, "candidates", y.Candidates, "resumed", y.Resumed, "no_environment", y.NoEnvironment,
			"no_test_files", y.NoTests, "no_code_files", y.NoCode, "validated", y.Validated, "no_fail_to_pass", y.NoFailToPass,
			"tests_do_not_run", y.TestsDoNotRun, "failed", y.Failed, "kept", y.Kept)
	}
	return nil
}
