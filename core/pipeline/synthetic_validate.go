package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/sdk"
)

// ValidateItemKind is the queue item kind of validating one synthetic
// candidate (or combination).
const ValidateItemKind = "validate"

// validator validates synthetic candidates in the sandboxes of envs: what
// a local synthetic stage and a worker do alike.
type validator struct {
	envs   *taskenv.Manager
	env    taskenv.Environment
	commit string
	hopts  harness.Options
}

// validate turns mutations (one, or several of a combination) into a task,
// or says at which step and why it cannot be one (a Rejection holding Step,
// Reason and Log); baseRan reports whether the tests ran on the original
// tree. Errors are for the stage (cancellation); a candidate's own failures
// are rejections.
//
// The harness validates the task as the environment completes it
// (taskenv.Manager.Prepare: its test command), exactly what evaluation
// runs. The task returned does not copy the test command: the environment
// stays the one place it is set.
func (v *validator) validate(ctx context.Context, id, injector string, mutations []string) (t sdk.Task, rej *Rejection, baseRan bool, err error) {
	fix, err := reverseDiff(ctx, v.envs, v.env, v.commit, mutations)
	if err != nil {
		if ctx.Err() != nil {
			return t, nil, false, ctx.Err()
		}
		return t, &Rejection{Step: StepValidate, Reason: "the mutation does not apply: " + err.Error()}, false, nil
	}
	t = sdk.Task{
		InstanceID: id, Repo: v.env.Repo, Source: sdk.SourceSynthetic, Injector: injector,
		Language: v.env.Language, Environment: v.env.Name, EnvironmentSetupCommit: v.commit,
		Patch: fix, PatchDirection: sdk.PatchFixes, Version: "synthetic",
		CreatedAt: time.Now().UTC().Format(time.RFC3339),
	}
	dir, err := os.MkdirTemp("", "swelego-synth-")
	if err != nil {
		return t, nil, false, err
	}
	defer os.RemoveAll(dir)
	t.BaseCommit, err = v.envs.SyntheticBase(ctx, v.env, t, filepath.Join(dir, "repo"))
	if err != nil {
		return t, &Rejection{Step: StepValidate, Reason: "the buggy tree cannot be built: " + err.Error()}, false, nil
	}
	run, err := v.envs.Prepare(t)
	if err != nil {
		return t, nil, false, err
	}
	open := func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) { return v.envs.Open(ctx, t) }
	f2p, p2p, err := harness.Validate(ctx, open, run, v.hopts)
	if ctx.Err() != nil {
		return t, nil, false, ctx.Err()
	}
	baseRan = err == nil || errors.Is(err, harness.ErrNoFailToPass)
	var ve *harness.ValidationError
	var log string
	if errors.As(err, &ve) {
		log = ve.Log
	}
	// The fixed tree of a synthetic task is the original code: a run there
	// that passes nothing, or that cannot be graded at all (the runner is
	// not installed, no report), is the environment's failure.
	invalidAtBase := ve != nil && ve.Side == "fixed" && errors.Is(err, harness.ErrInvalidRun)
	switch {
	case errors.Is(err, harness.ErrTestsDoNotRun) || invalidAtBase:
		why := err.Error()
		if ve != nil {
			why = fmt.Sprintf("%v (exit status %d)", ve.Err, ve.ExitCode)
		}
		if !strings.HasPrefix(why, harness.ErrTestsDoNotRun.Error()) {
			why = harness.ErrTestsDoNotRun.Error() + ": " + why
		}
		if ex := logExcerpt(log, 4, languageErrorLines(v.hopts.Language)); ex != "" {
			why += ": " + ex
		}
		return t, &Rejection{Step: StepBase, Reason: why, Log: log}, baseRan, nil
	case err != nil && !errors.Is(err, harness.ErrNoFailToPass):
		return t, &Rejection{Step: StepValidate, Reason: "validation failed: " + err.Error(), Log: log}, baseRan, nil
	case len(f2p) == 0:
		return t, &Rejection{Step: StepValidate, Reason: "no test fails because of the bug"}, baseRan, nil
	case len(p2p) == 0:
		return t, &Rejection{Step: StepValidate, Reason: "no test passes on both trees (the bug breaks everything, e.g. the build)"}, baseRan, nil
	}
	t.FailToPass, t.PassToPass = f2p, p2p
	return t, nil, baseRan, nil
}

// compileAlone runs the language's compile check on one candidate in a
// sandbox of its own at the source's commit (a worker's check; the local
// stage checks its candidates in a few long-lived sandboxes). A rejection
// says the candidate does not apply or does not compile; nil means it
// compiles, or the language checks none of its files.
func (v *validator) compileAlone(ctx context.Context, mutation string) (*Rejection, error) {
	cmd, err := v.hopts.Language.CheckCommand(ctx, diff.ChangedFiles(mutation))
	if err != nil || cmd == "" {
		return nil, err
	}
	sb, err := v.envs.Open(ctx, sdk.Task{InstanceID: "compile", Repo: v.env.Repo, Environment: v.env.Name, BaseCommit: v.commit, EnvironmentSetupCommit: v.commit, Language: v.env.Language})
	if err != nil {
		return nil, fmt.Errorf("compile check: open sandbox: %w", err)
	}
	defer sb.Close(context.WithoutCancel(ctx))
	step, reason, err := compileOne(ctx, sb, mutation, cmd)
	if err != nil || step == "" {
		return nil, err
	}
	return &Rejection{Step: step, Reason: reason}, nil
}

// RemoteValidator validates a synthetic stage's candidates somewhere else
// than in this process's sandboxes. It calls record once with the result
// of each item (Parked set for one it could not validate) and returns
// when every item is recorded, record fails, or ctx ends.
type RemoteValidator interface {
	ValidateRemote(ctx context.Context, items []ValidateItem, record func(ValidateItem, ValidateResult) error) error
}

// ValidateItem is what a worker needs to validate one candidate: its
// instance id, modifier and mutations, the environment it is validated in
// (with the recipe's other environments and where the repository is:
// ItemRepos), the commit the bugs go into and the validation settings.
// The worker resolves the language and the log parser with its own
// plugins.
type ValidateItem struct {
	InstanceID string `json:"instance_id"`
	Injector   string `json:"injector"`
	// Mutations are the candidate's diff, or a combination's.
	Mutations []string `json:"mutations"`
	// Compile runs the language's compile check on the mutation first.
	Compile     bool   `json:"compile,omitempty"`
	Environment string `json:"environment"`
	Repo        string `json:"repo"`
	ItemRepos
	Commit      string        `json:"commit"`
	Reruns      int           `json:"reruns"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	MaxLogBytes int           `json:"max_log_bytes,omitempty"`
}

// ValidateResult is what validating an item gave: the task, or the
// rejection (at StepApply or StepCompile when the compile check refused
// it), and whether the tests ran on the original tree. Input is the
// digest of the item validated; a result of another digest is stale.
type ValidateResult struct {
	Task      *sdk.Task  `json:"task,omitempty"`
	Rejection *Rejection `json:"rejection,omitempty"`
	BaseRan   bool       `json:"base_ran,omitempty"`
	Input     string     `json:"validated_input"`
	// Worker names who validated it (set by the coordinator).
	Worker string `json:"-"`
	// Parked is set, with each attempt's error, when no worker could
	// validate the item.
	Parked bool     `json:"-"`
	Errors []string `json:"-"`
}

// inputDigest is the digest of an item's payload: what a result says it
// validated.
func inputDigest(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])[:16]
}

// QueueValidator validates over a NATS JetStream queue: it publishes a
// ValidateItem per candidate as job Job and hands on the results swelego
// workers publish. A result of another digest (the item changed since) is
// ignored and the item validated again; a parked item is handed on with
// Parked set.
type QueueValidator struct {
	Client *queue.Client
	Job    string
	// Workers, when set, counts what each worker did.
	Workers *WorkerCounts
}

var _ RemoteValidator = (*QueueValidator)(nil)

func (q *QueueValidator) ValidateRemote(ctx context.Context, items []ValidateItem, record func(ValidateItem, ValidateResult) error) error {
	byID := make(map[string]ValidateItem, len(items))
	digests := make(map[string]string, len(items))
	qitems := make([]queue.Item, 0, len(items))
	for _, it := range items {
		data, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("%s: %w", it.InstanceID, err)
		}
		byID[it.InstanceID], digests[it.InstanceID] = it, inputDigest(data)
		qitems = append(qitems, queue.Item{Key: it.InstanceID, Kind: ValidateItemKind, Payload: data})
	}
	return q.Client.Run(ctx, q.Job, qitems, func(ctx context.Context, o queue.Outcome) (bool, error) {
		it := byID[o.Key]
		if o.Parked {
			q.Workers.add(o)
			return true, record(it, ValidateResult{Parked: true, Errors: o.Errors, Worker: o.Worker})
		}
		var res ValidateResult
		if err := json.Unmarshal(o.Payload, &res); err != nil {
			return false, nil // unreadable: validated again
		}
		if res.Input != digests[o.Key] || (res.Task == nil) == (res.Rejection == nil) {
			return false, nil // validated from another item
		}
		res.Worker = o.Worker
		q.Workers.add(o)
		err := record(it, res)
		if errors.Is(err, engine.ErrDuplicateKey) {
			return true, nil
		}
		return true, err
	})
}

// handleValidate validates one ValidateItem: a worker's handler of
// ValidateItemKind. A rejection is a result like a task; an error (no
// sandbox, no language, the repository not found) is a failed attempt.
func (w *Worker) handleValidate(ctx context.Context, it queue.Item) (json.RawMessage, error) {
	var item ValidateItem
	if err := json.Unmarshal(it.Payload, &item); err != nil {
		return nil, fmt.Errorf("validate item %s: %w", it.Key, err)
	}
	if it.Key == "" || item.InstanceID != it.Key || len(item.Mutations) == 0 || (item.Compile && len(item.Mutations) != 1) {
		return nil, fmt.Errorf("validate item %q: holds the candidate %q with %d mutations", it.Key, item.InstanceID, len(item.Mutations))
	}
	envs, err := w.managerFor(ctx, item.ItemRepos)
	if err != nil {
		return nil, err
	}
	env, err := envs.Environment(sdk.Task{Repo: item.Repo, Environment: item.Environment})
	if err != nil {
		return nil, err
	}
	ev := &Evaluator{Envs: envs, Logger: w.logger(), LogParsers: w.LogParsers,
		Harness: harness.Options{Reruns: item.Reruns, Timeout: item.Timeout, MaxLogBytes: item.MaxLogBytes}}
	hopts, err := ev.harnessOptions(ctx, sdk.Task{Repo: env.Repo, Environment: env.Name})
	if err != nil {
		return nil, err
	}
	v := &validator{envs: envs, env: env, commit: item.Commit, hopts: hopts}
	res := ValidateResult{Input: inputDigest(it.Payload)}
	if item.Compile {
		rej, err := v.compileAlone(ctx, item.Mutations[0])
		if err != nil {
			return nil, err
		}
		if rej != nil {
			res.Rejection = rej
			return json.Marshal(res)
		}
	}
	t, rej, baseRan, err := v.validate(ctx, item.InstanceID, item.Injector, item.Mutations)
	if err != nil {
		return nil, err
	}
	res.BaseRan = baseRan
	if rej != nil {
		res.Rejection = rej
	} else {
		res.Task = &t
	}
	return json.Marshal(res)
}

// item is the ValidateItem of a candidate (compile: check it compiles
// first) or a combination.
func (r *synthRun) item(id, injector string, mutations []string, compile bool) ValidateItem {
	return ValidateItem{
		InstanceID: id, Injector: injector, Mutations: mutations, Compile: compile,
		Environment: r.env.Name, Repo: r.env.Repo, ItemRepos: r.itemRepos,
		Commit: r.commit, Reruns: r.hopts.Reruns, Timeout: r.hopts.Timeout, MaxLogBytes: r.hopts.MaxLogBytes,
	}
}

// validateRemote publishes every candidate (compile check and validation
// in one item) and writes what comes back by instance id, as
// validateLocal does. notTried counts the candidates left when validation
// gave up (errGiveUp); their items still waiting are withdrawn.
func (r *synthRun) validateRemote(ctx context.Context, todo []synthCandidate) (notTried int, err error) {
	byID := make(map[string]synthCandidate, len(todo))
	items := make([]ValidateItem, 0, len(todo))
	for _, c := range todo {
		byID[c.id] = c
		items = append(items, r.item(c.id, c.modifier(), []string{c.Diff}, true))
	}
	done := 0
	err = r.remote.ValidateRemote(ctx, items, func(it ValidateItem, res ValidateResult) error {
		done++
		c := byID[it.InstanceID]
		if res.Parked {
			r.prog.Add(1)
			r.park(it.InstanceID, res.Errors)
			return nil
		}
		if res.BaseRan {
			r.ymu.Lock()
			r.baseRan++
			r.ymu.Unlock()
		}
		if rej := res.Rejection; rej != nil && !afterCompile(rej.Step) {
			r.prog.Add(1)
			return r.reject(ctx, c, *rej)
		}
		r.count(c.modifier(), func(y *Yield) { y.Compiled++ })
		var t sdk.Task
		if res.Task != nil {
			t = *res.Task
		}
		return r.settle(ctx, c, t, res.Rejection)
	})
	if errors.Is(err, errGiveUp) {
		if w, ok := r.remote.(interface{ Withdraw(context.Context) error }); ok {
			if werr := w.Withdraw(context.WithoutCancel(ctx)); werr != nil {
				r.sc.Logger.Warn("cannot withdraw the candidates left", "error", werr)
			}
		}
		return len(todo) - done, err
	}
	return 0, err
}

// validateOneRemote validates one combination through the remote
// validator; a parked item fails the stage (as a local validation that
// cannot open its sandboxes does).
func (r *synthRun) validateOneRemote(ctx context.Context, id, injector string, mutations []string) (t sdk.Task, rej *Rejection, baseRan bool, err error) {
	var got *ValidateResult
	err = r.remote.ValidateRemote(ctx, []ValidateItem{r.item(id, injector, mutations, false)}, func(_ ValidateItem, res ValidateResult) error {
		got = &res
		return nil
	})
	switch {
	case err != nil:
		return t, nil, false, err
	case got == nil:
		return t, nil, false, fmt.Errorf("%s: no result", id)
	case got.Parked:
		return t, nil, false, fmt.Errorf("%s: parked after %d failed attempts: %s", id, len(got.Errors), strings.Join(got.Errors, "; "))
	case got.Task != nil:
		t = *got.Task
	}
	return t, got.Rejection, got.BaseRan, nil
}

// park notes a candidate no worker could validate.
func (r *synthRun) park(id string, errs []string) {
	r.sc.Logger.Error("candidate parked: no worker could validate it", "instance_id", id, "errors", errs)
	r.ymu.Lock()
	defer r.ymu.Unlock()
	r.parked = append(r.parked, fmt.Sprintf("%s: parked after %d failed attempts: %s", id, len(errs), strings.Join(errs, "; ")))
}

// Withdraw removes the job's items still waiting in the queue.
func (q *QueueValidator) Withdraw(ctx context.Context) error { return q.Client.Withdraw(ctx, q.Job) }
