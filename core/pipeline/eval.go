package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/pluginhost"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// Outputs of an eval stage, under DIR/eval/NAME/.
const (
	ResultsOutput = "results"     // one graded harness.Result per instance
	ReportFile    = "report.json" // SWE-bench's report over the results
	// LogsDir holds a folder per instance, as SWE-bench's
	// logs/run_evaluation/RUN/MODEL/INSTANCE: the patch graded
	// (patch.diff), the test run's output (test_output.txt), SWE-bench's
	// per-instance report (report.json, for graded instances) and, when it
	// could not be graded, why (run_instance.log).
	LogsDir = "logs"
)

// Pseudo-predictions an eval accepts instead of a file, as SWE-bench's
// harness accepts "gold".
const (
	PredictGold  = hcl.PredictGold  // each task's own patch
	PredictEmpty = hcl.PredictEmpty // an empty patch for every task
)

// Evaluator grades predictions in sandboxes, several tasks at a time.
type Evaluator struct {
	Envs    *taskenv.Manager
	Harness harness.Options
	Workers int
	Logger  *slog.Logger
	// LogParsers finds a plugin serving log_parser, for environments that
	// name a parser in place of their language's own reading of the test
	// output; nil allows none.
	LogParsers func(ctx context.Context, name string) (sdk.LogParser, error)
	// LogDir, when set, receives a folder per instance (see LogsDir).
	LogDir string
	// InstanceIDs, when set, restricts grading and the report to these
	// tasks (SWE-bench's --instance_ids).
	InstanceIDs []string
	// RetryErrors grades again the instances whose stored result is an
	// error (a patch that did not apply, a timeout, a run without results).
	RetryErrors bool
	// Remote, when set, grades elsewhere (swelego workers over a queue,
	// see eval_remote.go) instead of in this process's sandboxes.
	Remote RemoteGrader
}

// NotGradedError lists the instances the infrastructure could not grade
// (a repository or git bundle not found, an unknown language, an image
// that did not build, a sandbox that failed): their results are not
// stored, so the next run grades them again.
type NotGradedError struct {
	Failures []harness.Result // each with Error set
}

func (e *NotGradedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of the instances could not be graded because of the infrastructure; run again to grade them: ", len(e.Failures))
	const show = 10
	for i, r := range e.Failures {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(e.Failures)-show)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", r.InstanceID, r.Error)
	}
	return b.String()
}

// harnessOptions are the harness options for t: the language of its
// environment, and the environment's parser when it names one.
func (e *Evaluator) harnessOptions(ctx context.Context, t sdk.Task) (harness.Options, error) {
	opts := e.Harness
	env, err := e.Envs.Environment(t)
	if err != nil {
		return opts, err
	}
	if opts.Language, err = e.Envs.Language(ctx, t); err != nil {
		return opts, err
	}
	if env.Parser == "" {
		return opts, nil
	}
	if e.LogParsers == nil {
		return opts, fmt.Errorf("environment %q: no log parser plugin %q: no plugins are available", env.Name, env.Parser)
	}
	p, err := e.LogParsers(ctx, env.Parser)
	if err != nil {
		return opts, fmt.Errorf("environment %q: log parser: %w", env.Name, err)
	}
	opts.Parser = pluginParser{ctx: ctx, p: p, log: e.Logger}
	return opts, nil
}

// pluginParser lets a log_parser plugin serve as a harness.Parser.
type pluginParser struct {
	ctx context.Context
	p   sdk.LogParser
	log *slog.Logger
}

func (pp pluginParser) Parse(log string) map[string]harness.Status {
	st, err := pp.p.ParseLog(pp.ctx, nil, log)
	if err != nil {
		// No statuses: the harness grades the run as having no results.
		pp.log.Warn("log parser plugin failed", "error", err)
		return nil
	}
	return st
}

// Select applies InstanceIDs to tasks and predictions and keeps the last
// prediction of each instance, as SWE-bench does, with a warning for
// every instance that had several. An id of InstanceIDs that is no task
// is an error.
func (e *Evaluator) Select(tasks []sdk.Task, preds []sdk.Prediction) ([]sdk.Task, []sdk.Prediction, error) {
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	if len(e.InstanceIDs) > 0 {
		want := make(map[string]bool, len(e.InstanceIDs))
		for _, id := range e.InstanceIDs {
			want[id] = true
		}
		var kept []sdk.Task
		for _, t := range tasks {
			if want[t.InstanceID] {
				kept = append(kept, t)
				delete(want, t.InstanceID)
			}
		}
		if len(want) > 0 {
			missing := make([]string, 0, len(want))
			for id := range want {
				missing = append(missing, id)
			}
			sort.Strings(missing)
			return nil, nil, fmt.Errorf("instance ids not among the tasks: %s", strings.Join(missing, ", "))
		}
		selected := make(map[string]bool, len(kept))
		for _, t := range kept {
			selected[t.InstanceID] = true
		}
		var kp []sdk.Prediction
		for _, p := range preds {
			if selected[p.InstanceID] {
				kp = append(kp, p)
			}
		}
		tasks, preds = kept, kp
	}
	preds, dups := harness.LatestPredictions(preds)
	if len(dups) > 0 {
		ids := make([]string, 0, len(dups))
		for id := range dups {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			e.Logger.Warn("duplicate predictions: grading the last one, as SWE-bench does", "instance_id", id, "records", dups[id])
		}
	}
	return tasks, preds, nil
}

// Grade grades predictions as an eval stage does: it selects them
// (Select), opens the stage's results, dropping those of predictions that
// changed since they were graded (and, with RetryErrors, error results),
// grades what is missing with a folder per instance under LogsDir, and
// writes the report. The report is written even when some instances could
// not be graded; the error is then a *NotGradedError.
func (e *Evaluator) Grade(ctx context.Context, sc *engine.StageContext, tasks []sdk.Task, preds []sdk.Prediction) (harness.Report, error) {
	tasks, preds, err := e.Select(tasks, preds)
	if err != nil {
		return harness.Report{}, err
	}
	graded := gradedDigests(tasks, preds)
	drop := func(key string, raw json.RawMessage) bool {
		var rec harness.Result
		var digest struct {
			Graded string `json:"graded_input"`
		}
		if json.Unmarshal(raw, &rec) != nil || json.Unmarshal(raw, &digest) != nil {
			return false
		}
		want, ok := graded[key]
		switch {
		case !ok:
			return false // not graded in this run: kept as it is
		case digest.Graded != "" && digest.Graded != want:
			return true // its prediction or task changed
		}
		// An infrastructure failure stored by an earlier swelego is no
		// grade; with RetryErrors, neither is any error.
		return rec.Infra || e.RetryErrors && rec.Status == harness.ResultError
	}
	out, err := sc.OpenOutput(ResultsOutput, engine.KeyField("instance_id"), engine.WithDrop(drop))
	if err != nil {
		return harness.Report{}, err
	}
	defer out.Close()
	if e.LogDir == "" {
		e.LogDir = filepath.Join(sc.Dir(), LogsDir)
	}
	prog := sc.Progress(0)
	defer prog.Finish()
	report, err := e.Run(ctx, tasks, preds, out, prog)
	var ng *NotGradedError
	if err != nil && !errors.As(err, &ng) {
		return report, err
	}
	if ng != nil {
		sc.Count("not_graded", int64(len(ng.Failures)))
	}
	if werr := writeJSON(filepath.Join(sc.Dir(), ReportFile), report); werr != nil {
		return report, werr
	}
	sc.Logger.Info("evaluation", "resolved", report.ResolvedInstances, "submitted", report.SubmittedInstances, "errors", report.ErrorInstances, "empty", report.EmptyPatchInstances)
	return report, err
}

// gradedDigests returns, for every prediction of a task, the digest of
// what grading it depends on (see gradedDigest).
func gradedDigests(tasks []sdk.Task, preds []sdk.Prediction) map[string]string {
	byID := make(map[string]sdk.Task, len(tasks))
	for _, t := range tasks {
		byID[t.InstanceID] = t
	}
	out := make(map[string]string, len(preds))
	for _, p := range preds {
		if t, ok := byID[p.InstanceID]; ok {
			out[p.InstanceID] = gradedDigest(t, p)
		}
	}
	return out
}

// gradedDigest hashes what a result depends on: the prediction's patch and
// the fields of its task that grading reads (not its problem statement or
// hints), so a result is graded again when one of them changes.
func gradedDigest(t sdk.Task, p sdk.Prediction) string {
	h := sha256.New()
	json.NewEncoder(h).Encode([]any{p.ModelPatch, t.Repo, t.BaseCommit, t.EnvironmentSetupCommit, t.Patch, t.TestPatch,
		t.FailToPass, t.PassToPass, t.Source, t.PatchDirection, t.Language, t.Environment, t.Image, t.TestCmd})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// resultRecord is one line of an eval stage's results: the harness
// result and the digest of what was graded.
type resultRecord struct {
	harness.Result
	Graded string
}

// MarshalJSON writes the result's fields and graded_input.
func (r resultRecord) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(r.Result)
	if err != nil || r.Graded == "" || len(data) < 2 {
		return data, err
	}
	tail, _ := json.Marshal(r.Graded)
	data = append(data[:len(data)-1], `,"graded_input":`...)
	return append(append(data, tail...), '}'), nil
}

// Run grades every prediction whose task is known and whose instance out
// does not hold yet, writes each result to out, and returns the report
// over all results out holds. Predictions should have been through
// Select. An instance the infrastructure could not grade (harness.Result
// Infra, or an environment that cannot be prepared) gets no result; Run
// then goes on with the others and returns the report with a
// *NotGradedError.
func (e *Evaluator) Run(ctx context.Context, tasks []sdk.Task, preds []sdk.Prediction, out *engine.Writer, prog *engine.Progress) (harness.Report, error) {
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	preds, _ = harness.LatestPredictions(preds)
	byID := make(map[string]sdk.Task, len(tasks))
	for _, t := range tasks {
		byID[t.InstanceID] = t
	}
	var todo []sdk.Prediction
	for _, p := range preds {
		if _, ok := byID[p.InstanceID]; !ok {
			e.Logger.Warn("prediction for an unknown task; skipped", "instance_id", p.InstanceID)
			continue
		}
		if !out.Has(p.InstanceID) {
			todo = append(todo, p)
		}
	}
	if prog != nil {
		prog.SetTotal(len(todo) + out.Len())
		prog.Skip(out.Len())
	}
	var mu sync.Mutex
	var failed []harness.Result
	record := func(p sdk.Prediction, r harness.Result) error {
		if err := e.writeLogs(p, r); err != nil {
			e.Logger.Warn("cannot write the instance's logs", "instance_id", r.InstanceID, "error", err)
		}
		if r.Infra {
			e.Logger.Error("not graded: infrastructure failure", "instance_id", r.InstanceID, "error", r.Error)
			mu.Lock()
			failed = append(failed, r)
			mu.Unlock()
			return nil
		}
		e.Logger.Info("graded", "instance_id", r.InstanceID, "status", r.Status, "error", r.Error)
		if prog != nil {
			prog.Add(1)
		}
		return out.Append(ctx, r.InstanceID, resultRecord{Result: r, Graded: gradedDigest(byID[p.InstanceID], p)})
	}
	var err error
	if e.Remote != nil {
		err = e.Remote.GradeRemote(ctx, e, byID, todo, record)
	} else {
		err = forEach(ctx, e.Workers, todo, func(p sdk.Prediction) error {
			r := e.gradeOne(ctx, byID[p.InstanceID], p)
			if ctx.Err() != nil {
				return ctx.Err() // an interrupted grade is not a result
			}
			return record(p, r)
		})
	}
	if err != nil {
		return harness.Report{}, err
	}
	var results []harness.Result
	err = engine.ReadRecords(out.Path(), func(line int, raw json.RawMessage) error {
		var r harness.Result
		if err := jsonUnmarshal(raw, &r); err != nil {
			return fmt.Errorf("%s:%d: %w", out.Path(), line, err)
		}
		results = append(results, r)
		return nil
	})
	if err != nil {
		return harness.Report{}, err
	}
	report := harness.NewReport(tasks, preds, results)
	if len(failed) > 0 {
		sort.Slice(failed, func(i, j int) bool { return failed[i].InstanceID < failed[j].InstanceID })
		return report, &NotGradedError{Failures: failed}
	}
	return report, nil
}

// gradeOne grades one prediction of task in a sandbox of its environment
// (an empty patch without one, as SWE-bench does). An environment that
// cannot be prepared gives an infrastructure failure.
func (e *Evaluator) gradeOne(ctx context.Context, task sdk.Task, p sdk.Prediction) harness.Result {
	t, err := task, error(nil)
	var opts harness.Options
	if p.ModelPatch != "" {
		t, err = e.Envs.Prepare(task)
		if err == nil {
			opts, err = e.harnessOptions(ctx, t)
		}
	}
	if err != nil {
		// The environment could not be prepared (a repository or git
		// bundle not found, a log parser plugin missing): that says
		// nothing about the prediction.
		return harness.Result{InstanceID: p.InstanceID, Status: harness.ResultError, ExitCode: -1, Error: err.Error(), Infra: true}
	}
	open := func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) { return e.Envs.Open(ctx, t) }
	return harness.Evaluate(ctx, open, t, p.ModelPatch, opts)
}

// writeLogs writes the instance's folder under LogDir, replacing what an
// earlier grade of it left.
func (e *Evaluator) writeLogs(p sdk.Prediction, r harness.Result) error {
	if e.LogDir == "" {
		return nil
	}
	dir := filepath.Join(e.LogDir, instanceDirName(p.InstanceID))
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{}
	if p.ModelPatch != "" {
		files["patch.diff"] = []byte(p.ModelPatch)
	}
	if r.Log != "" {
		files["test_output.txt"] = []byte(r.Log)
	}
	switch r.Status {
	case harness.ResultError:
		why := "error"
		if r.Infra {
			why = "infrastructure error (not graded; run again to retry)"
		}
		files["run_instance.log"] = []byte(fmt.Sprintf("%s: %s: %s\n", p.InstanceID, why, r.Error))
	case harness.ResultEmptyPatch:
	default:
		data, err := json.MarshalIndent(map[string]any{p.InstanceID: instanceReport(r)}, "", "    ")
		if err != nil {
			return err
		}
		files["report.json"] = append(data, '\n')
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// instanceReport is SWE-bench's per-instance report.json entry.
func instanceReport(r harness.Result) map[string]any {
	empty := harness.Outcome{Success: []string{}, Failure: []string{}}
	ts := harness.TestsStatus{FailToPass: empty, PassToPass: empty}
	if r.TestsStatus != nil {
		ts = *r.TestsStatus
	}
	list := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	group := func(o harness.Outcome) map[string][]string {
		return map[string][]string{"success": list(o.Success), "failure": list(o.Failure)}
	}
	return map[string]any{
		"patch_is_None":              false,
		"patch_exists":               true,
		"patch_successfully_applied": r.PatchApplied,
		"resolved":                   r.Status == harness.ResultResolved,
		"tests_status": map[string]any{
			"FAIL_TO_PASS": group(ts.FailToPass),
			"PASS_TO_PASS": group(ts.PassToPass),
			"FAIL_TO_FAIL": group(empty),
			"PASS_TO_FAIL": group(empty),
		},
	}
}

// instanceDirName turns an instance id into one safe path element.
func instanceDirName(id string) string {
	name := url.PathEscape(id)
	if strings.Trim(name, ".") == "" {
		name = strings.ReplaceAll(name, ".", "%2E")
	}
	return name
}

// LoadPredictions reads a predictions file, or makes the gold or empty
// predictions of tasks.
func LoadPredictions(spec string, tasks []sdk.Task) ([]sdk.Prediction, error) {
	switch spec {
	case PredictGold, PredictEmpty:
		out := make([]sdk.Prediction, 0, len(tasks))
		for _, t := range tasks {
			p := sdk.Prediction{InstanceID: t.InstanceID, ModelNameOrPath: spec}
			if spec == PredictGold {
				if t.PatchDirection == sdk.PatchIntroduces {
					return nil, fmt.Errorf("gold predictions: %s's patch introduces its bug; its fix is the reverse", t.InstanceID)
				}
				p.ModelPatch = t.Patch
			}
			out = append(out, p)
		}
		return out, nil
	case "":
		return nil, errors.New("predictions: a file, \"gold\" or \"empty\" is required")
	}
	return harness.ReadPredictions(spec)
}

// EnvironmentsOf turns a recipe's environment blocks into taskenv
// environments; their git sources are resolved against the recipe's
// folder at load.
func EnvironmentsOf(rec *hcl.Recipe) []taskenv.Environment {
	var out []taskenv.Environment
	for _, b := range rec.Blocks {
		e, ok := b.Settings.(*hcl.Environment)
		if b.Type != "environment" || !ok {
			continue
		}
		out = append(out, taskenv.Environment{
			Name:     b.Labels[0],
			Repo:     e.Repo,
			Git:      e.Git,
			Language: e.Language,
			Release:  e.Base,
			Packages: e.Packages,
			Setup:    e.Setup,
			TestCmd:  e.TestCmd,
			Parser:   e.Parser,

			Image:          e.Image,
			ImageNaming:    e.ImageNaming,
			ImageNamespace: e.ImageNamespace,
			ImageArchives:  nonEmpty(e.ImageArchive),
		})
	}
	return out
}

// nonEmpty is s as a list, nil when s is empty.
func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// evalStage grades predictions of a recipe's tasks: `eval "NAME" { tasks,
// predictions, backend, workers, instance_ids }`. It is incremental: run
// again after it finished, it grades the predictions it has no result for
// (new tasks, new predictions, changed ones) and keeps the others.
type evalStage struct {
	stageBase
	grader evalGrader
}

func (s *evalStage) Incremental() bool { return true }

// Fingerprint adds the sandbox block's limits (a test run's timeout and
// memory change grades) to the block's own settings; workers and
// instance_ids are left out (see stageBase.Fingerprint).
func (s *evalStage) Fingerprint() string {
	h := sha256.New()
	io.WriteString(h, s.stageBase.Fingerprint())
	if b := s.recipe.Block("sandbox"); b != nil && b.Value != (cty.Value{}) && b.Value.IsWhollyKnown() {
		if data, err := ctyjson.Marshal(b.Value, b.Value.Type()); err == nil {
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (s *evalStage) Run(ctx context.Context, sc *engine.StageContext) error {
	if err := s.grader.grade(ctx, sc); err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	return nil
}

// newEvalStage makes the stage of a recipe's eval block.
func newEvalStage(base stageBase, cfg *hcl.Eval, retryErrors bool) *evalStage {
	s := &evalStage{stageBase: base}
	s.grader = evalGrader{cfg: cfg, retryErrors: retryErrors, host: base.host, address: base.block.Address,
		environments: EnvironmentsOf(base.recipe), repoDirs: []string{base.recipe.Dir, filepath.Join(base.recipe.Dir, "repos")},
		envs: func(ctx context.Context, sc *engine.StageContext) (*taskenv.Manager, func(), error) {
			return s.environments(ctx, sc, cfg.Backend)
		}}
	s.grader.queue = base.queue
	return s
}

// evalGrader is what an eval stage does, inside a recipe or outside one
// (`swelego eval`): read the tasks and predictions its settings name, open
// the environments and grade every prediction with the harness.
type evalGrader struct {
	cfg *hcl.Eval
	// tasks are the tasks graded when they come from no stage (a file the
	// CLI read); nil reads the output of cfg.Tasks.
	tasks []sdk.Task
	// preds are the predictions graded when the caller read them; nil
	// loads cfg.Predictions.
	preds       []sdk.Prediction
	retryErrors bool
	// timeout limits one test run; 0 is the harness's default.
	timeout time.Duration
	host    *pluginhost.Host
	envs    func(ctx context.Context, sc *engine.StageContext) (*taskenv.Manager, func(), error)
	// queue, when set, grades through swelego workers (eval_remote.go);
	// the environments and repository folders travel in each item.
	queue        *hcl.Queue
	address      string
	environments []taskenv.Environment
	repoDirs     []string
}

func (g *evalGrader) grade(ctx context.Context, sc *engine.StageContext) error {
	tasks := g.tasks
	if tasks == nil {
		var err error
		if tasks, err = readTaskList(sc.OutputPath(g.cfg.Tasks, TasksOutput)); err != nil {
			return err
		}
	}
	preds := g.preds
	if preds == nil {
		spec := g.cfg.Predictions.Path // a file resolved at load, "gold" or "empty"
		if ref := g.cfg.Predictions.Ref; ref != "" {
			spec = sc.OutputPath(ref, PredictionsOutput)
		}
		var err error
		if preds, err = LoadPredictions(spec, tasks); err != nil {
			return err
		}
	}
	envs, closeEnvs, err := g.envs(ctx, sc)
	if err != nil {
		return err
	}
	defer closeEnvs()
	ev := &Evaluator{
		Envs:        envs,
		Workers:     g.cfg.Workers,
		Logger:      sc.Logger,
		InstanceIDs: g.cfg.InstanceIDs,
		RetryErrors: g.retryErrors,
		Harness:     harness.Options{Timeout: g.timeout, Rules: harness.Rules{SkippedMaintains: g.cfg.SkippedPassToPass == "maintained"}},
	}
	if g.host != nil {
		ev.LogParsers = g.host.LogParser
	}
	if g.queue != nil {
		qg, closeQueue, err := queueGrader(ctx, g.queue, sc.Run.ID(), g.address, g.environments, g.repoDirs, sc.Logger)
		if err != nil {
			return err
		}
		defer closeQueue()
		qg.Workers = LoadWorkerCounts(sc.Dir())
		defer qg.Workers.Write(sc.Dir(), sc.Logger)
		ev.Remote = qg
	}
	_, err = ev.Grade(ctx, sc, tasks, preds)
	return err
}

// StandaloneEval is an eval outside a recipe, `swelego eval`'s: the eval
// block's settings with the tasks read from a file, and what a recipe
// would otherwise give.
type StandaloneEval struct {
	// Address and Fingerprint identify the stage in its run directory.
	Address, Fingerprint string
	// Settings are the eval block's; Settings.Tasks is unused.
	Settings *hcl.Eval
	Tasks    []sdk.Task
	// Predictions, when not nil, are graded instead of loading
	// Settings.Predictions.
	Predictions []sdk.Prediction
	// Backend is the sandbox backend, opened by the caller.
	Backend sandbox.Backend
	// Environments and RepoDirs find the tasks' repositories.
	Environments []taskenv.Environment
	RepoDirs     []string
	Host         *pluginhost.Host
	Languages    *language.Set
	// DefaultLanguage is the language of tasks that name none.
	DefaultLanguage string
	// Timeout limits one test run; 0 is the harness's default.
	Timeout     time.Duration
	RetryErrors bool
	// Images are the defaults of published task images (naming, archives,
	// pull progress).
	Images taskenv.ImageDefaults
	// Queue, when set, grades through swelego workers over NATS
	// JetStream instead of Backend.
	Queue *hcl.Queue
}

// NewStandaloneEval makes the stage of an eval outside a recipe; it grades
// as a recipe's eval block does, through the same code.
func NewStandaloneEval(e StandaloneEval) engine.Stage {
	return &standaloneEvalStage{address: e.Address, fingerprint: e.Fingerprint, grader: evalGrader{
		cfg: e.Settings, tasks: e.Tasks, preds: e.Predictions, retryErrors: e.RetryErrors, timeout: e.Timeout, host: e.Host,
		queue: e.Queue, address: e.Address, environments: e.Environments, repoDirs: e.RepoDirs,
		envs: func(_ context.Context, sc *engine.StageContext) (*taskenv.Manager, func(), error) {
			envs := taskenv.New(taskenv.Options{Backend: e.Backend, Environments: e.Environments, RepoDirs: e.RepoDirs,
				RunID: sc.Run.ID(), Logger: sc.Logger, Languages: e.Languages, DefaultLanguage: e.DefaultLanguage, Images: e.Images})
			return envs, func() {}, nil
		}}}
}

type standaloneEvalStage struct {
	address, fingerprint string
	grader               evalGrader
}

func (s *standaloneEvalStage) Address() string     { return s.address }
func (s *standaloneEvalStage) DependsOn() []string { return nil }
func (s *standaloneEvalStage) Fingerprint() string { return s.fingerprint }
func (s *standaloneEvalStage) Incremental() bool   { return true }

func (s *standaloneEvalStage) Run(ctx context.Context, sc *engine.StageContext) error {
	return s.grader.grade(ctx, sc)
}

// environments opens the sandbox backend the recipe's sandbox block names
// (or backend, when set) and a taskenv.Manager over the recipe's
// environments; close releases the backend.
func (s *stageBase) environments(ctx context.Context, sc *engine.StageContext, backend string) (*taskenv.Manager, func(), error) {
	opts, name, err := SandboxOptions(s.recipe)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.block.Address, err)
	}
	if backend != "" {
		name = backend
	}
	opts.RunID = sc.Run.ID()
	b, err := sandbox.New(ctx, name, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.block.Address, err)
	}
	closeFn := func() {
		if err := b.Close(); err != nil {
			sc.Logger.Warn("close the sandbox backend", "backend", b.Name(), "error", err)
		}
	}
	envs := taskenv.New(taskenv.Options{
		Backend: b, Environments: EnvironmentsOf(s.recipe), RunID: sc.Run.ID(), Logger: sc.Logger,
		RepoDirs:  []string{s.recipe.Dir, filepath.Join(s.recipe.Dir, "repos")},
		Languages: s.languages, DefaultLanguage: s.defaultLanguage,
	})
	return envs, closeFn, nil
}

// SandboxOptions reads the recipe's sandbox block: the backend's name
// ("auto" when unset) and its limits, checked at load.
func SandboxOptions(rec *hcl.Recipe) (sandbox.Options, string, error) {
	var opts sandbox.Options
	b := rec.Block("sandbox")
	if b == nil {
		return opts, "auto", nil
	}
	sb, err := settingsOf[hcl.Sandbox](b)
	if err != nil {
		return opts, "", err
	}
	opts.Limits = sandbox.Limits{Memory: sb.Memory, CPUs: sb.CPUs, Pids: int64(sb.Pids), Timeout: sb.Timeout}
	return opts, sb.Backend, nil
}

// readTaskList loads a source stage's tasks in file order.
func readTaskList(path string) ([]sdk.Task, error) {
	var tasks []sdk.Task
	err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var t sdk.Task
		if err := jsonUnmarshal(raw, &t); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		tasks = append(tasks, t)
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no tasks at %s: run the source stage first", path)
	}
	return tasks, err
}

var writeMu sync.Mutex

// writeJSON writes v to path atomically, indented.
func writeJSON(path string, v any) error {
	writeMu.Lock()
	defer writeMu.Unlock()
	data, err := jsonMarshalIndent(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
