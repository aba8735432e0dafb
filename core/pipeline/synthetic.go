package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// Outputs of a synthetic source besides its tasks.
const (
	RejectedOutput = "rejected"   // candidates that did not make a task, and why
	YieldFile      = "yield.json" // per-modifier counts
	// candidatesFile holds one injector block's candidates once the
	// injector has sent them all (%d is the block's index), so a resumed
	// stage does not ask again: an LM injector would answer differently.
	candidatesFile = "candidates-%d.jsonl"
)

// SyntheticField is the Extra member of a synthetic task that says where
// it came from (a SyntheticOrigin).
const SyntheticField = "synthetic"

// SyntheticOrigin records how a synthetic task was made: the injector
// block and mutation behind it, or the tasks a combination merged.
type SyntheticOrigin struct {
	// Block is the injector block ("injector[0]", in the source's order)
	// or "combine".
	Block      string `json:"block"`
	Plugin     string `json:"plugin,omitempty"`
	Kind       string `json:"kind,omitempty"`
	MutationID string `json:"mutation_id,omitempty"`
	File       string `json:"file,omitempty"`
	Line       int    `json:"line,omitempty"`
	Symbol     string `json:"symbol,omitempty"`
	// Per and Parts are set on combined tasks: the grouping (file or
	// package) and the instance ids of the tasks merged.
	Per   string   `json:"per,omitempty"`
	Parts []string `json:"parts,omitempty"`
	Files []string `json:"files,omitempty"`
	// Statement says who wrote the problem statement: "template" or
	// "model".
	Statement string `json:"statement"`
}

// Steps at which a candidate is rejected (Rejection.Step).
const (
	StepApply    = "apply"    // the mutation does not apply to the repository
	StepCompile  = "compile"  // the mutated code does not compile (the language's CheckCommand)
	StepValidate = "validate" // validation failed or the tests do not show the bug
	// StepBase: no test passes on the original tree (the fix applied), or
	// its run cannot be graded, so the environment's test command does not
	// run there at all: a missing module search path, an import error, a runner
	// that is not installed. The candidate says nothing about its bug; the
	// environment needs fixing.
	StepBase = "base"
)

// rejectionLogBytes caps Rejection.Log: the head and the tail of the run's
// output, where test runners print their collection errors and their
// summary.
const rejectionLogBytes = 8 << 10

// Rejection is a candidate mutation that did not become a task.
type Rejection struct {
	InstanceID string `json:"instance_id"`
	Injector   string `json:"injector,omitempty"`
	Kind       string `json:"kind"`
	File       string `json:"file"`
	Step       string `json:"step,omitempty"`
	Reason     string `json:"reason"`
	// Log is the output of the validation run that decided the rejection
	// (the fixed tree's for StepBase), cut to its first and last bytes, when
	// a test run decided it.
	Log string `json:"log,omitempty"`
}

// Yield counts what became of one modifier's candidates (the modifier is
// the task's injector: PLUGIN/KIND, or combine/PER). Every candidate is
// counted once in Duplicates, OverLimit, NotApplied, CompileFailed or
// Compiled; Compiled ≥ Validated ≥ Kept, and Validated ≥ TestsDoNotRun.
type Yield struct {
	Candidates    int `json:"candidates"`
	Duplicates    int `json:"duplicates"`
	OverLimit     int `json:"over_limit"`     // beyond max_candidates: not tried
	NotApplied    int `json:"not_applied"`    // the diff does not apply
	CompileFailed int `json:"compile_failed"` // rejected by the compile check
	Compiled      int `json:"compiled"`       // passed the compile check (or the language has none)
	Validated     int `json:"validated"`      // validation ran to the end
	// TestsDoNotRun counts the validated candidates rejected at StepBase:
	// no test passed on the original tree.
	TestsDoNotRun int `json:"tests_do_not_run"`
	Kept          int `json:"kept"` // ≥1 FAIL_TO_PASS and ≥1 PASS_TO_PASS
}

// ModelOpener opens the chat model a recipe's model block describes, by
// its address ("model.NAME").
type ModelOpener func(ctx context.Context, address string) (sdk.Model, error)

// syntheticStage is `source "synthetic" "NAME" { repo, environment, model,
// injector "PLUGIN" {…} …, combine {…} }`: the candidate mutations of every
// injector block, deduplicated, checked to compile and validated in
// sandboxes; a candidate whose tests show the bug (≥1 FAIL_TO_PASS, ≥1
// PASS_TO_PASS) becomes a task whose patch is the fix (the mutation
// reversed) and whose base is a fresh single-commit history of the buggy
// tree. With a combine block, validated bugs of one file or package are
// then merged into harder tasks. With a model, the model is lent to the
// injectors (LM rules) and writes the problem statements.
//
// Validation runs each candidate's tests as evaluation will: the task as
// its environment completes it (taskenv.Manager.Prepare), so with the
// environment's test_cmd. A candidate on whose original tree no test passes
// is rejected at StepBase ("the tests do not run at base"), with the run's
// log, and counted in Yield.TestsDoNotRun. When that is the fate of every
// candidate validated, the environment's tests do not run at all: the
// stage logs an error naming the environment, its test command and the
// log's last lines, and fails (the run exits non-zero) rather than finish
// with no tasks; it stops validating once baseGiveUp candidates were
// rejected that way while none ran its tests.
//
// With a queue (a queue block, or `run --queue`), each candidate's compile
// check and validation, and each combination's validation, is an item
// (ValidateItemKind) that swelego workers run in their own sandboxes; the
// stage writes what they return by instance id, as it writes its own
// verdicts (synthetic_validate.go), and still asks the injectors, writes
// the statements and picks the combinations itself.
type syntheticStage struct {
	stageBase
	cfg *hcl.Synthetic
	// models opens the source's model; nil uses the recipe's model block
	// through stageBase.endpoint.
	models ModelOpener
}

// Fingerprint adds every injector block to the base fingerprint, which
// hashes only the first block of each nested type, and the environment the
// candidates are validated in: a changed test_cmd, setup, package list or
// parser makes the earlier verdicts stale, so the engine asks for --rerun
// instead of resuming from them.
func (s *syntheticStage) Fingerprint() string {
	return s.fingerprintOver(s.stageBase.Fingerprint(), true)
}

// PreviousFingerprints is the fingerprint earlier builds of swelego
// computed (engine.FingerprintHistory): over every setting, workers too,
// and the injector blocks, without the environment.
func (s *syntheticStage) PreviousFingerprints() []string {
	return []string{s.fingerprintOver(s.stageBase.fingerprint(newSettings), false)}
}

func (s *syntheticStage) fingerprintOver(base string, withEnv bool) string {
	h := sha256.New()
	h.Write([]byte(base))
	for i, inj := range s.cfg.Injectors {
		fmt.Fprintf(h, "\ninjector[%d]=%s:%s", i, inj.Plugin, inj.Config)
	}
	if e, ok := s.environmentBlock(); ok && withEnv {
		e.Git = "" // where the history is read from, not what it holds
		if data, err := json.Marshal(e); err == nil {
			fmt.Fprintf(h, "\nenvironment=%s", data)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// environmentBlock returns the recipe's environment the source validates
// in, as taskenv picks it: the one it names, else the one serving its
// repository.
func (s *syntheticStage) environmentBlock() (taskenv.Environment, bool) {
	envs := EnvironmentsOf(s.recipe)
	name := strings.TrimPrefix(s.cfg.Environment, "environment.")
	for _, e := range envs {
		if name != "" && e.Name == name {
			return e, true
		}
	}
	for _, e := range envs {
		if e.Repo != "" && e.Repo == s.cfg.Repo {
			return e, true
		}
	}
	return taskenv.Environment{}, false
}

// synthRun is one run of the stage: what every step shares.
type synthRun struct {
	*syntheticStage
	sc     *engine.StageContext
	envs   *taskenv.Manager
	env    taskenv.Environment
	commit string
	model  sdk.Model
	hopts  harness.Options
	open   harness.Opener
	// v validates here; remote, when set (a queue block), validates
	// through swelego workers instead.
	v      *validator
	remote RemoteValidator
	// itemRepos are where the remote validator's workers find the
	// repository.
	itemRepos ItemRepos
	tasks     *engine.Writer
	rejected  *engine.Writer
	prog      *engine.Progress

	ymu   sync.Mutex
	yield map[string]*Yield
	kept  []sdk.Task // single-bug tasks kept by this run
	// prior holds the records of an interrupted run, by instance id.
	priorTasks    map[string]sdk.Task
	priorRejected map[string]Rejection
	// base is the first StepBase rejection, of this run or an earlier one.
	base *Rejection
	// baseRan counts the candidates whose tests ran on the original tree
	// (validation got past the base run), earlier runs' kept tasks and
	// validation rejections included.
	baseRan int
	// parked are the candidates no worker could validate, with each
	// attempt's error.
	parked []string
}

// baseGiveUp is how many candidates may be rejected at StepBase, while no
// candidate's tests ran on the original tree, before the stage stops
// validating: the environment's tests do not run, and every further
// candidate would only say so again.
const baseGiveUp = 5

// errGiveUp stops the validation of a stage's candidates after baseGiveUp
// StepBase rejections (checkBase then fails the stage).
var errGiveUp = errors.New("the tests do not run at base: validation stopped")

// candidate is a mutation with the injector block that proposed it and
// the instance id its task gets.
type synthCandidate struct {
	sdk.Mutation
	block  int
	plugin string
	id     string
}

// modifier is the candidate's row of the yield report and its task's
// injector field.
func (c synthCandidate) modifier() string { return c.plugin + "/" + c.Kind }

func (r *synthRun) count(modifier string, f func(*Yield)) {
	r.ymu.Lock()
	defer r.ymu.Unlock()
	if r.yield[modifier] == nil {
		r.yield[modifier] = &Yield{}
	}
	f(r.yield[modifier])
}

func (s *syntheticStage) Run(ctx context.Context, sc *engine.StageContext) error {
	injectors := s.cfg.Injectors
	if len(injectors) == 0 {
		return fmt.Errorf("%s: an injector block is required", s.block.Address)
	}
	if s.host == nil {
		return fmt.Errorf("%s: no plugin host", s.block.Address)
	}
	envs, closeEnvs, err := s.environments(ctx, sc, "")
	if err != nil {
		return err
	}
	defer closeEnvs()
	r := &synthRun{syntheticStage: s, sc: sc, envs: envs, yield: map[string]*Yield{}}
	repoName := s.cfg.Repo
	probe := sdk.Task{Repo: repoName, Environment: strings.TrimPrefix(s.cfg.Environment, "environment.")}
	if r.env, err = envs.Environment(probe); err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	rev := s.cfg.Commit
	if rev == "" {
		rev = "HEAD"
	}
	if r.commit, err = envs.Resolve(ctx, r.env, rev); err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	if r.model, err = s.openModel(ctx); err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	if r.hopts, err = s.harnessOptions(ctx, sc, envs, r.env); err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	r.open = func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) { return envs.Open(ctx, t) }
	r.v = &validator{envs: envs, env: r.env, commit: r.commit, hopts: r.hopts}
	if s.queue != nil {
		c, err := queueClient(ctx, s.queue, s.block.Address, sc.Logger)
		if err != nil {
			return fmt.Errorf("%s: %w", s.block.Address, err)
		}
		defer c.Close()
		counts := LoadWorkerCounts(sc.Dir())
		defer counts.Write(sc.Dir(), sc.Logger)
		r.remote = &QueueValidator{Client: c, Job: queue.JobID(sc.Run.ID(), s.block.Address), Workers: counts}
		if r.itemRepos, err = s.repoShipper(c, sc.Logger).For(ctx, r.env); err != nil {
			return fmt.Errorf("%s: %w", s.block.Address, err)
		}
	}

	if r.tasks, err = sc.OpenOutput(TasksOutput, engine.KeyField("instance_id")); err != nil {
		return err
	}
	defer r.tasks.Close()
	if r.rejected, err = sc.OpenOutput(RejectedOutput, engine.KeyField("instance_id")); err != nil {
		return err
	}
	defer r.rejected.Close()
	if err := r.readPrior(); err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}

	var all []synthCandidate
	for i, inj := range injectors {
		cands, err := r.candidates(ctx, i, inj)
		if err != nil {
			return fmt.Errorf("%s: injector[%d] %q: %w", s.block.Address, i, inj.Plugin, err)
		}
		all = append(all, cands...)
	}
	return r.validateAll(ctx, r.pick(all))
}

// validateAll validates the candidates todo (here or through the remote
// validator), combines the bugs validated, writes the yield report and
// fails when the environment's tests do not run or candidates were
// parked.
func (r *synthRun) validateAll(ctx context.Context, todo []synthCandidate) error {
	s := r.syntheticStage
	var err error
	r.prog = r.sc.Progress(len(todo))
	defer r.prog.Finish()
	var notTried int
	if r.remote != nil {
		notTried, err = r.validateRemote(ctx, todo)
	} else {
		notTried, err = r.validateLocal(ctx, todo)
	}
	switch {
	case errors.Is(err, errGiveUp):
	case err != nil:
		return fmt.Errorf("%s: %w", s.block.Address, err)
	case len(r.parked) == 0:
		// Combinations are made of every validated bug: with some
		// candidates parked they wait for the run that validates them.
		if err := r.combine(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.block.Address, err)
		}
	}
	if err := r.report(); err != nil {
		return err
	}
	if err := r.checkBase(notTried); err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	if len(r.parked) > 0 {
		return fmt.Errorf("%s: %d candidates were parked: no worker could validate them (%s); run the same command again to retry them, and combine the bugs validated",
			s.block.Address, len(r.parked), strings.Join(r.parked, "; "))
	}
	return nil
}

// validateLocal checks that the candidates compile, then validates them in
// this process's sandboxes, cfg.Workers at a time. notTried counts the
// candidates left when validation gave up (errGiveUp).
func (r *synthRun) validateLocal(ctx context.Context, todo []synthCandidate) (notTried int, err error) {
	compiled, err := r.compileCheck(ctx, todo)
	if err != nil {
		return 0, err
	}
	var done atomic.Int64
	err = forEach(ctx, r.cfg.Workers, compiled, func(c synthCandidate) error {
		defer done.Add(1)
		return r.validateCandidate(ctx, c)
	})
	if errors.Is(err, errGiveUp) {
		return len(compiled) - int(done.Load()), err
	}
	return 0, err
}

// openModel opens the source's model, or returns nil when it names none.
func (s *syntheticStage) openModel(ctx context.Context) (sdk.Model, error) {
	addr := s.cfg.Model
	if addr == "" {
		return nil, nil
	}
	if s.models != nil {
		return s.models(ctx, addr)
	}
	b := s.recipe.Block(addr)
	if b == nil {
		return nil, fmt.Errorf("no %s block", addr)
	}
	m, _, err := s.endpoint(b)
	return m, err
}

// harnessOptions are the validation options: reruns, timeout, the
// environment's language and its log parser plugin, if it names one.
func (s *syntheticStage) harnessOptions(ctx context.Context, sc *engine.StageContext, envs *taskenv.Manager, env taskenv.Environment) (harness.Options, error) {
	// The logs validation keeps are the rejections' (Rejection.Log).
	hopts := harness.Options{Reruns: s.cfg.Reruns, Timeout: s.cfg.Timeout, MaxLogBytes: rejectionLogBytes}
	ev := &Evaluator{Envs: envs, Harness: hopts, Logger: sc.Logger}
	if s.host != nil {
		ev.LogParsers = s.host.LogParser
	}
	return ev.harnessOptions(ctx, sdk.Task{Repo: env.Repo, Environment: env.Name})
}

// readPrior loads what an interrupted run already wrote.
func (r *synthRun) readPrior() error {
	r.priorTasks = map[string]sdk.Task{}
	r.priorRejected = map[string]Rejection{}
	err := engine.ReadRecords(r.tasks.Path(), func(line int, raw json.RawMessage) error {
		var t sdk.Task
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("%s:%d: %w", r.tasks.Path(), line, err)
		}
		r.priorTasks[t.InstanceID] = t
		r.baseRan++
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	err = engine.ReadRecords(r.rejected.Path(), func(line int, raw json.RawMessage) error {
		var rej Rejection
		if err := json.Unmarshal(raw, &rej); err != nil {
			return fmt.Errorf("%s:%d: %w", r.rejected.Path(), line, err)
		}
		r.priorRejected[rej.InstanceID] = rej
		switch {
		case rej.Step == StepBase && r.base == nil:
			r.base = &rej
		case rej.Step == StepValidate:
			r.baseRan++
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// candidates returns injector block i's mutations of the repository at
// the source's commit: from the file a previous run kept, else from the
// injector, lent a sandbox holding that commit and the source's model.
func (r *synthRun) candidates(ctx context.Context, i int, inj *hcl.PluginBody) ([]synthCandidate, error) {
	wrap := func(ms []sdk.Mutation) []synthCandidate {
		out := make([]synthCandidate, len(ms))
		for k, m := range ms {
			out[k] = synthCandidate{Mutation: m, block: i, plugin: inj.Plugin}
		}
		return out
	}
	path := filepath.Join(r.sc.Dir(), fmt.Sprintf(candidatesFile, i))
	var kept []sdk.Mutation
	err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var m sdk.Mutation
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		kept = append(kept, m)
		return nil
	})
	if err == nil {
		return wrap(kept), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}

	injector, err := r.host.BugInjector(ctx, inj.Plugin)
	if err != nil {
		return nil, err
	}
	sb, err := r.envs.Open(ctx, sdk.Task{InstanceID: "candidates", Repo: r.env.Repo, Environment: r.env.Name, BaseCommit: r.commit, EnvironmentSetupCommit: r.commit, Language: r.env.Language})
	if err != nil {
		return nil, err
	}
	defer sb.Close(context.WithoutCancel(ctx))
	var ms []sdk.Mutation
	req := sdk.InjectRequest{Config: inj.Config, Repo: r.env.Repo, Language: r.env.Language, Sandbox: sb, Model: r.model}
	err = injector.Mutations(ctx, req, func(m sdk.Mutation) error {
		ms = append(ms, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := writeMutations(path, ms); err != nil {
		return nil, err
	}
	return wrap(ms), nil
}

// writeMutations writes the candidates to path atomically, one a line.
func writeMutations(path string, ms []sdk.Mutation) error {
	var b strings.Builder
	for _, m := range ms {
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// pick drops duplicate diffs (the first block's candidate wins), keeps
// each block's first max_candidates by mutation id, gives every candidate
// its instance id and counts the ones a previous run decided. It returns
// the candidates still to try.
func (r *synthRun) pick(all []synthCandidate) []synthCandidate {
	repoName := r.cfg.Repo
	seen := map[string]bool{}
	byBlock := map[int][]synthCandidate{}
	var blocks []int
	for _, c := range all {
		r.count(c.modifier(), func(y *Yield) { y.Candidates++ })
		if seen[c.Diff] {
			r.count(c.modifier(), func(y *Yield) { y.Duplicates++ })
			continue
		}
		seen[c.Diff] = true
		if _, ok := byBlock[c.block]; !ok {
			blocks = append(blocks, c.block)
		}
		byBlock[c.block] = append(byBlock[c.block], c)
	}
	limit := r.cfg.MaxCandidates
	ids := map[string]string{} // instance id → diff
	var todo []synthCandidate
	sort.Ints(blocks)
	for _, b := range blocks {
		cs := byBlock[b]
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
		for k, c := range cs {
			if limit > 0 && k >= limit {
				r.count(c.modifier(), func(y *Yield) { y.OverLimit++ })
				continue
			}
			c.id = syntheticID(repoName, c.Mutation)
			if d, taken := ids[c.id]; taken && d != c.Diff {
				// Same mutation id, another diff (the same rule with
				// another seed, say): tell them apart by the diff.
				sum := sha256.Sum256([]byte(c.Diff))
				c.id += "-" + hex.EncodeToString(sum[:3])
			}
			ids[c.id] = c.Diff
			if _, ok := r.priorTasks[c.id]; ok {
				r.count(c.modifier(), func(y *Yield) { y.Compiled++; y.Validated++; y.Kept++ })
				continue
			}
			if rej, ok := r.priorRejected[c.id]; ok {
				r.count(c.modifier(), func(y *Yield) {
					countRejection(y, rej.Step)
					if afterCompile(rej.Step) {
						y.Compiled++ // counted by the compile check when it ran
					}
				})
				continue
			}
			todo = append(todo, c)
		}
	}
	return todo
}

// countRejection counts a rejection at step in y; a candidate rejected by
// validation was counted as compiled when it passed the compile check.
func countRejection(y *Yield, step string) {
	switch step {
	case StepApply:
		y.NotApplied++
	case StepCompile:
		y.CompileFailed++
	case StepBase:
		y.Validated++
		y.TestsDoNotRun++
	default:
		y.Validated++
	}
}

// afterCompile reports whether a rejection at step came after the
// candidate passed the compile check.
func afterCompile(step string) bool { return step != StepApply && step != StepCompile }

// reject records why candidate c did not make a task: rej's Step, Reason
// and Log; the rest is filled in from c.
func (r *synthRun) reject(ctx context.Context, c synthCandidate, rej Rejection) error {
	rej.InstanceID, rej.Injector, rej.Kind, rej.File = c.id, c.modifier(), c.Kind, c.File
	return r.record(ctx, c.modifier(), rej)
}

// record counts rejection rej of a candidate of modifier and writes it.
func (r *synthRun) record(ctx context.Context, modifier string, rej Rejection) error {
	r.count(modifier, func(y *Yield) { countRejection(y, rej.Step) })
	if rej.Step == StepBase {
		r.ymu.Lock()
		if r.base == nil {
			r.base = &rej
		}
		r.ymu.Unlock()
	}
	return r.rejected.Append(ctx, rej.InstanceID, rej)
}

// validateCandidate validates one compiled candidate and writes its task
// or its rejection.
func (r *synthRun) validateCandidate(ctx context.Context, c synthCandidate) error {
	t, rej, err := r.validate(ctx, c.id, c.modifier(), []string{c.Diff})
	if err != nil {
		return err
	}
	return r.settle(ctx, c, t, rej)
}

// settle writes the task or the rejection validation gave compiled
// candidate c; errGiveUp says to validate no more.
func (r *synthRun) settle(ctx context.Context, c synthCandidate, t sdk.Task, rej *Rejection) error {
	r.prog.Add(1)
	if rej != nil {
		if err := r.reject(ctx, c, *rej); err != nil {
			return err
		}
		if rej.Step == StepBase && r.giveUp() {
			return errGiveUp
		}
		return nil
	}
	origin := SyntheticOrigin{
		Block: fmt.Sprintf("injector[%d]", c.block), Plugin: c.plugin, Kind: c.Kind,
		MutationID: c.ID, File: c.File, Line: c.Line, Symbol: c.Symbol,
	}
	origin.Statement = r.writeStatement(ctx, &t, []string{c.Diff})
	if err := setOrigin(&t, origin); err != nil {
		return err
	}
	r.count(c.modifier(), func(y *Yield) { y.Validated++; y.Kept++ })
	r.ymu.Lock()
	r.kept = append(r.kept, t)
	r.ymu.Unlock()
	return r.tasks.Append(ctx, c.id, t)
}

func setOrigin(t *sdk.Task, o SyntheticOrigin) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if t.Extra == nil {
		t.Extra = map[string]json.RawMessage{}
	}
	t.Extra[SyntheticField] = data
	return nil
}

// Origin reads the SyntheticOrigin of a synthetic task; ok is false when
// the task has none.
func Origin(t sdk.Task) (o SyntheticOrigin, ok bool) {
	raw, ok := t.Extra[SyntheticField]
	if !ok || json.Unmarshal(raw, &o) != nil {
		return SyntheticOrigin{}, false
	}
	return o, true
}

// validate turns mutations (one, or several of a combination) into a task,
// or says at which step and why it cannot be one (validator.validate),
// here or through the remote validator, and counts a run of the tests on
// the original tree.
func (r *synthRun) validate(ctx context.Context, id, injector string, mutations []string) (t sdk.Task, rej *Rejection, err error) {
	var baseRan bool
	if r.remote != nil {
		t, rej, baseRan, err = r.validateOneRemote(ctx, id, injector, mutations)
	} else {
		t, rej, baseRan, err = r.v.validate(ctx, id, injector, mutations)
	}
	if baseRan {
		r.ymu.Lock()
		r.baseRan++
		r.ymu.Unlock()
	}
	return t, rej, err
}

// errorLine is the host's own pattern of a line that says why no test
// ran: an exception or error message, a shell's complaint. A language adds
// its runner's (sdk.LanguageSpec.ErrorLines).
const errorLine = `\w*(Error|Exception): |\berror: |command not found`

// errorLineRe matches errorLine or one of a language's ErrorLines (which
// CheckLanguageSpec found to compile; one that does not is left out).
func errorLineRe(langLines []string) *regexp.Regexp {
	alts := []string{errorLine}
	for _, l := range langLines {
		if _, err := regexp.Compile(l); err == nil {
			alts = append(alts, l)
		}
	}
	return regexp.MustCompile("(?:" + strings.Join(alts, ")|(?:") + ")")
}

// languageErrorLines is l's ErrorLines, none without a language.
func languageErrorLines(l *language.Language) []string {
	if l == nil {
		return nil
	}
	return l.Spec.ErrorLines
}

// logExcerpt sums up a test run's log in one line: its first line that
// looks like an error (a runner may print the import error of a test
// module long before its summary) and its last n non-empty lines, without the
// harness's marker lines, joined by " | ". errorLines are the language's
// patterns of an error line.
func logExcerpt(log string, n int, errorLines []string) string {
	errorLineRe := errorLineRe(errorLines)
	var keep []string
	first := ""
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), ">>>>> swelego test output ") {
			continue
		}
		if len(l) > 300 {
			cut := 300
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			l = l[:cut] + "…"
		}
		keep = append(keep, l)
		if first == "" && errorLineRe.MatchString(l) {
			first = strings.TrimSpace(l)
		}
	}
	tail := lastLines(strings.Join(keep, "\n"), n)
	if first == "" || strings.Contains(tail, first) {
		return tail
	}
	return first + " | … | " + tail
}

// giveUp reports whether baseGiveUp candidates were rejected at StepBase
// while no candidate's tests ran on the original tree.
func (r *synthRun) giveUp() bool {
	r.ymu.Lock()
	defer r.ymu.Unlock()
	base := 0
	for _, y := range r.yield {
		base += y.TestsDoNotRun
	}
	return r.baseRan == 0 && base >= baseGiveUp
}

// checkBase fails the stage when every candidate validated was rejected at
// StepBase, or validation stopped after baseGiveUp of them (notTried
// candidates were left): the environment's tests do not run, and no
// candidate can be validated until its test command is fixed. When only
// some were, it warns.
func (r *synthRun) checkBase(notTried int) error {
	var validated, base int
	for _, y := range r.yield {
		validated += y.Validated
		base += y.TestsDoNotRun
	}
	if base == 0 || r.base == nil {
		return nil
	}
	cmd := r.testCommand()
	excerpt := logExcerpt(r.base.Log, 8, languageErrorLines(r.hopts.Language))
	if base < validated && notTried == 0 {
		r.sc.Logger.Warn("the tests did not run at base for some candidates", "environment", r.env.Name, "test_cmd", cmd,
			"tests_do_not_run", base, "validated", validated, "first", r.base.InstanceID, "log", excerpt)
		return nil
	}
	r.sc.Logger.Error("the tests do not run at base: no candidate can be validated until the environment's test command runs its tests",
		"environment", r.env.Name, "test_cmd", cmd, "candidates", base, "not_tried", notTried, "first", r.base.InstanceID, "log", excerpt)
	which := fmt.Sprintf("any of the %d candidates validated", base)
	if notTried > 0 {
		which = fmt.Sprintf("the first %d candidates validated, so the other %d were not tried", base, notTried)
	}
	return fmt.Errorf("environment %q, test command %q: %w for %s (%s: %s); fix the environment's test_cmd or setup, then run the stage again with --rerun %s",
		r.env.Name, cmd, harness.ErrTestsDoNotRun, which, r.base.InstanceID, r.base.Reason, r.block.Address)
}

// testCommand is the command validation runs the tests with: the
// environment's test_cmd, else its language's default.
func (r *synthRun) testCommand() string {
	if t, err := r.envs.Prepare(sdk.Task{Repo: r.env.Repo, Environment: r.env.Name}); err == nil && t.TestCmd != "" {
		return t.TestCmd
	}
	if r.hopts.Command != "" {
		return r.hopts.Command
	}
	if l := r.hopts.Language; l != nil && l.Spec.DefaultTestCommand != "" {
		return l.Spec.DefaultTestCommand
	}
	return "the language's default"
}

// report writes the yield report and logs it.
func (r *synthRun) report() error {
	if err := writeJSON(filepath.Join(r.sc.Dir(), YieldFile), r.yield); err != nil {
		return err
	}
	kinds := make([]string, 0, len(r.yield))
	for k := range r.yield {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		y := r.yield[k]
		r.sc.Logger.Info("yield", "modifier", k, "candidates", y.Candidates, "duplicates", y.Duplicates, "over_limit", y.OverLimit,
			"not_applied", y.NotApplied, "compile_failed", y.CompileFailed, "compiled", y.Compiled, "validated", y.Validated,
			"tests_do_not_run", y.TestsDoNotRun, "kept", y.Kept)
	}
	return nil
}

// reverseDiff returns the diff that undoes mutations: apply them in turn
// to a checkout of commit and diff back. Mutations that overlap do not
// apply together.
func reverseDiff(ctx context.Context, envs *taskenv.Manager, env taskenv.Environment, commit string, mutations []string) (string, error) {
	dir, err := os.MkdirTemp("", "swelego-rev-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	co := filepath.Join(dir, "repo")
	if err := envs.Checkout(ctx, env, commit, co); err != nil {
		return "", err
	}
	for i, m := range mutations {
		apply := exec.CommandContext(ctx, "git", "apply", "-")
		apply.Dir = co
		apply.Stdin = strings.NewReader(m)
		if out, err := apply.CombinedOutput(); err != nil {
			if len(mutations) > 1 {
				return "", fmt.Errorf("mutation %d of %d: %w: %s", i+1, len(mutations), err, strings.TrimSpace(string(out)))
			}
			return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	// -R swaps the prefixes too: these give the usual a/ and b/ headers.
	diff := exec.CommandContext(ctx, "git", "diff", "-R", "--src-prefix=b/", "--dst-prefix=a/")
	diff.Dir = co
	out, err := diff.Output()
	if err != nil {
		return "", err
	}
	if len(out) == 0 {
		return "", fmt.Errorf("the mutation changes nothing")
	}
	return string(out), nil
}

// syntheticID names a synthetic task: repository, modifier and mutation.
func syntheticID(repo string, m sdk.Mutation) string {
	id := m.ID
	if len(id) > 10 {
		id = id[:10]
	}
	return strings.ReplaceAll(repo, "/", "__") + "." + m.Kind + "." + id
}
