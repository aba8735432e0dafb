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
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/swelego/swelego/core/agent"
	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// TrajectoriesOutput names the records a rollout stage writes: one graded
// sdk.Trajectory per (instance_id, attempt).
const TrajectoriesOutput = "trajectories"

// DefaultToolSet is the tool-set plugin a rollout uses when it names none.
const DefaultToolSet = "swetools"

// rolloutStage runs the agent over a stage's tasks: `rollout "NAME" {
// tasks, model, toolset, max_turns, workers, attempts, token_budget,
// time_limit, system_prompt, task_prompt }`. Each attempt gets a fresh
// sanitised sandbox from the task's environment image; its final patch is
// graded in another fresh sandbox by the harness. With a queue, swelego
// workers play and grade the attempts (rollout_remote.go).
type rolloutStage struct {
	stageBase
	tasks, model string // block addresses
	attempts     int
	play         hcl.Attempt
}

// newRolloutStage makes the stage of a rollout block.
func newRolloutStage(base stageBase, cfg *hcl.Rollout) *rolloutStage {
	return &rolloutStage{stageBase: base, tasks: cfg.Tasks, model: cfg.Model, attempts: cfg.Attempts, play: cfg.Attempt}
}

// attemptKey is one unit of work: a task and an attempt number (from 1).
type attemptKey struct {
	task    sdk.Task
	attempt int
}

// Fingerprint adds what a rollout uses through references: the model
// block's settings and the tool-set plugin with its configuration, so a
// swapped teacher or tool set is noticed under a finished rollout.
func (s *rolloutStage) Fingerprint() string { return s.fingerprintOver(s.stageBase.Fingerprint()) }

// PreviousFingerprints: the fingerprint over the base earlier builds of
// swelego computed (see stageBase.PreviousFingerprints).
func (s *rolloutStage) PreviousFingerprints() []string {
	return []string{s.fingerprintOver(s.stageBase.fingerprint(newSettings))}
}

func (s *rolloutStage) fingerprintOver(base string) string {
	h := sha256.New()
	io.WriteString(h, base)
	for _, ref := range []struct{ attr, addr string }{{"model", s.model}, {"toolset", s.play.Toolset}} {
		if b := s.recipe.Block(ref.addr); b != nil {
			fmt.Fprintf(h, "\n%s %s %s", ref.attr, b.Address, b.Config)
			if v := withoutNull(b.Value, newModelSettings); v != (cty.Value{}) && v.IsWhollyKnown() {
				if data, err := ctyjson.Marshal(v, v.Type()); err == nil {
					h.Write(data)
				}
			}
		}
	}
	plugin := DefaultToolSet
	if b := s.recipe.Block(s.play.Toolset); b != nil {
		plugin = b.Plugin
	}
	s.writePlugin(h, plugin)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (s *rolloutStage) Run(ctx context.Context, sc *engine.StageContext) error {
	tasks, err := readTaskList(sc.OutputPath(s.tasks, TasksOutput))
	if err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	envs, closeEnvs, err := s.environments(ctx, sc, "")
	if err != nil {
		return err
	}
	defer closeEnvs()
	out, err := sc.OpenOutput(TrajectoriesOutput, engine.KeyFields("instance_id", "attempt"))
	if err != nil {
		return err
	}
	defer out.Close()
	notPlayed, err := s.playAttempts(ctx, sc, envs, out, tasks, max(s.attempts, 1))
	if err != nil {
		return err
	}
	if err := s.writePredictions(ctx, sc, out.Path()); err != nil {
		return err
	}
	return notPlayedError(s.block.Address, notPlayed)
}

// notPlayedError is the error of a stage some of whose attempts the
// infrastructure kept from being played, or nil.
func notPlayedError(address string, notPlayed []string) error {
	if len(notPlayed) == 0 {
		return nil
	}
	sort.Strings(notPlayed)
	return fmt.Errorf("%s: %d attempts could not be played because of the infrastructure; run again to play them: %s",
		address, len(notPlayed), strings.Join(firstFew(notPlayed, 10), "; "))
}

// playAttempts plays attempts 1..attempts of every task that out does not
// hold yet, in the block's model, toolset and rollout settings, and
// appends each graded trajectory to out (keyed instance_id/attempt). The
// tts stage plays its k rollouts per task with it. notPlayed lists the
// attempts the infrastructure kept from being played: they are not
// stored, and the next run plays them.
func (s *rolloutStage) playAttempts(ctx context.Context, sc *engine.StageContext, envs *taskenv.Manager, out *engine.Writer, tasks []sdk.Task, attempts int) (notPlayed []string, err error) {
	model, mc, err := s.modelBlock(s.model)
	if err != nil {
		return nil, err
	}
	am, err := attemptModelOf(model, mc)
	if err != nil {
		return nil, err
	}
	if s.queue != nil && mc.Provider == "local" {
		return nil, fmt.Errorf("%s: model %s (provider local) is served on this machine's loopback, which workers cannot reach; "+
			"serve the checkpoint with `swelego serve --addr HOST:PORT` where the workers reach it and name it as an openai model (base_url), or run without a queue",
			s.block.Address, model.Address)
	}
	toolPlugin, toolConfig := DefaultToolSet, sdk.Config(nil)
	if ref := s.play.Toolset; ref != "" {
		tb := s.recipe.Block(ref)
		if tb == nil {
			return nil, fmt.Errorf("%s: toolset %q is not in the recipe", s.block.Address, ref)
		}
		toolPlugin, toolConfig = tb.Plugin, tb.Config
	}
	if s.host == nil {
		return nil, fmt.Errorf("%s: no plugin host", s.block.Address)
	}
	settings := AttemptSettings{
		MaxTurns:     s.play.MaxTurns,
		TokenBudget:  s.play.TokenBudget,
		TimeLimit:    s.play.TimeLimit,
		SystemPrompt: s.play.SystemPrompt,
		TaskPrompt:   s.play.TaskPrompt,
		MaxTokens:    mc.MaxTokens,
	}
	if mc.Temperature != nil {
		f := *mc.Temperature
		settings.Temperature = &f
	}
	// Prompts must render before any sandbox is opened.
	if len(tasks) > 0 {
		if _, _, err := agent.RenderPrompts(settings.SystemPrompt, settings.TaskPrompt, tasks[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", s.block.Address, err)
		}
	}

	var todo []attemptKey
	done := 0
	for _, t := range tasks {
		for n := 1; n <= attempts; n++ {
			if out.Has(rolloutKey(t.InstanceID, n)) {
				done++
				continue
			}
			todo = append(todo, attemptKey{t, n})
		}
	}
	prog := sc.Progress(len(todo) + done)
	prog.Skip(done)
	defer prog.Finish()
	if am.Oracle {
		sc.Logger.Warn("the oracle model is a test teacher: it replays each task's known fix", "model", model.Address)
	}
	var mu sync.Mutex
	record := func(tr sdk.Trajectory, infra bool) error {
		if infra {
			sc.Logger.Error("attempt not played: infrastructure failure", "instance_id", tr.InstanceID, "attempt", tr.Attempt, "error", tr.Error)
			sc.Count("not_played", 1)
			mu.Lock()
			notPlayed = append(notPlayed, fmt.Sprintf("%s/%d: %s", tr.InstanceID, tr.Attempt, tr.Error))
			mu.Unlock()
			return nil
		}
		tr.RunID = sc.Run.ID()
		sc.Count("status."+tr.Status, 1)
		sc.Logger.Info("rollout", "instance_id", tr.InstanceID, "attempt", tr.Attempt, "status", tr.Status,
			"turns", len(tr.Turns), "stop", tr.StopReason, "error", tr.Error)
		prog.Add(1)
		return out.Append(ctx, rolloutKey(tr.InstanceID, tr.Attempt), tr)
	}
	if s.queue != nil {
		err = s.playRemote(ctx, sc, envs, todo, RolloutItem{Agent: settings, Toolset: toolPlugin, ToolConfig: json.RawMessage(toolConfig), Model: am}, record)
	} else {
		err = s.playLocal(ctx, sc, envs, model, am, settings, toolPlugin, toolConfig, todo, record)
	}
	if err != nil {
		return notPlayed, fmt.Errorf("%s: %w", s.block.Address, err)
	}
	return notPlayed, nil
}

// playLocal plays the attempts of todo in this process's sandboxes,
// s.play.Workers at a time, and records each.
func (s *rolloutStage) playLocal(ctx context.Context, sc *engine.StageContext, envs *taskenv.Manager, model *hcl.Block, am AttemptModel,
	settings AttemptSettings, toolPlugin string, toolConfig sdk.Config, todo []attemptKey, record func(sdk.Trajectory, bool) error) error {
	if len(todo) == 0 {
		return nil
	}
	tools, err := s.host.ToolSet(ctx, toolPlugin)
	if err != nil {
		return fmt.Errorf("tool set: %w", err)
	}
	opts := settings.options(tools, toolConfig, sc.Logger)
	ev := &Evaluator{Envs: envs, Logger: sc.Logger, LogParsers: s.host.LogParser}
	// An endpoint (or the local server of a checkpoint) serves every
	// attempt; the oracle is made per attempt.
	var shared *sharedModel
	if !am.Oracle {
		m, name, stop, err := s.openEndpoint(ctx, sc, model)
		if err != nil {
			return err
		}
		defer stop()
		shared = &sharedModel{m, name}
	}
	return forEach(ctx, s.play.Workers, todo, func(k attemptKey) error {
		tr, infra := playAttempt(ctx, envs, ev, am, shared, opts, k)
		if ctx.Err() != nil {
			return ctx.Err() // an interrupted attempt is not a result
		}
		return record(tr, infra)
	})
}

// AttemptSettings are the agent's settings of a stage's attempts that are
// data (what a rollout item carries): the attempt block's and the model
// block's request defaults.
type AttemptSettings struct {
	MaxTurns     int           `json:"max_turns,omitempty"`
	TokenBudget  int           `json:"token_budget,omitempty"`
	TimeLimit    time.Duration `json:"time_limit,omitempty"`
	SystemPrompt string        `json:"system_prompt,omitempty"`
	TaskPrompt   string        `json:"task_prompt,omitempty"`
	MaxTokens    int           `json:"max_tokens,omitempty"`
	Temperature  *float64      `json:"temperature,omitempty"`
}

// options are the agent's options of these settings with a tool set; the
// model and the seed are set per attempt.
func (a AttemptSettings) options(tools sdk.ToolSet, toolConfig sdk.Config, log *slog.Logger) agent.Options {
	opts := agent.Options{
		Tools: tools, ToolConfig: toolConfig,
		MaxTurns:     a.MaxTurns,
		TokenBudget:  a.TokenBudget,
		TimeLimit:    a.TimeLimit,
		SystemPrompt: a.SystemPrompt,
		TaskPrompt:   a.TaskPrompt,
		MaxTokens:    a.MaxTokens,
		Logger:       log,
	}
	if a.Temperature != nil {
		f := *a.Temperature
		opts.Temperature = &f
	}
	return opts
}

// AttemptModel is the model of a stage's attempts as data: the oracle test
// teacher's settings (it is made per attempt, in the attempt's sandbox),
// or an OpenAI-compatible endpoint's client settings, which name the
// environment variable holding the API key, never the key. A model
// served from a local checkpoint has no Endpoint: the stage serves it.
type AttemptModel struct {
	Oracle    bool    `json:"oracle,omitempty"`
	ErrorRate float64 `json:"error_rate,omitempty"`
	Seed      int64   `json:"seed,omitempty"`
	// Endpoint and Name (what trajectories record) of an endpoint.
	Endpoint *llm.Config `json:"endpoint,omitempty"`
	Name     string      `json:"name,omitempty"`
}

// attemptModelOf is the AttemptModel of a model block.
func attemptModelOf(b *hcl.Block, mc *hcl.Model) (AttemptModel, error) {
	am := AttemptModel{Seed: mc.Seed}
	switch mc.Provider {
	case "oracle":
		am.Oracle, am.ErrorRate = true, mc.ErrorRate
		return am, nil
	case "local":
		return am, nil
	}
	cfg, err := LLMConfig(b.Address, mc)
	if err != nil {
		return am, err
	}
	am.Endpoint, am.Name = &cfg, cfg.Model
	if am.Name == "" {
		am.Name = b.Address
	}
	return am, nil
}

// endpointModel makes the client of an endpoint model; a missing API key
// is an error here, before any attempt.
func (am AttemptModel) endpointModel() (*sharedModel, error) {
	if am.Endpoint == nil {
		return nil, errors.New("the model is no endpoint")
	}
	m, err := llm.New(*am.Endpoint)
	if err != nil {
		return nil, err
	}
	return &sharedModel{m, am.Name}, nil
}

// playAttempt plays and grades one attempt, in this process or on a
// worker (handleRollout); failures become a trajectory with
// status error. infra says the failure was the infrastructure's (the
// task's environment could not be prepared, its sandbox not opened, its
// grade not run): such a trajectory is no result of the attempt and is
// not stored, so the next run plays it again.
func playAttempt(ctx context.Context, envs *taskenv.Manager, ev *Evaluator, am AttemptModel, shared *sharedModel, opts agent.Options, k attemptKey) (tr sdk.Trajectory, infra bool) {
	tr = sdk.Trajectory{InstanceID: k.task.InstanceID, Attempt: k.attempt, Status: sdk.StatusError}
	fail := func(format string, args ...any) (sdk.Trajectory, bool) {
		tr.Status = sdk.StatusError
		tr.Error = fmt.Sprintf(format, args...)
		return tr, false
	}
	infraFail := func(format string, args ...any) (sdk.Trajectory, bool) {
		tr, _ = fail(format, args...)
		return tr, true
	}
	t, err := envs.Prepare(k.task)
	if err != nil {
		return infraFail("prepare: %v", err)
	}
	lang, err := envs.Language(ctx, t)
	if err != nil {
		return infraFail("prepare: %v", err)
	}
	opts.HarnessFiles = lang.Spec.HarnessFiles
	sb, err := envs.Open(ctx, t)
	if err != nil {
		return infraFail("open sandbox: %v", err)
	}
	closed := false
	closeSB := func() {
		if !closed {
			closed = true
			sb.Close(context.WithoutCancel(ctx))
		}
	}
	defer closeSB()
	m, name, err := am.open(ctx, shared, sb, t, lang, k.attempt)
	if err != nil {
		return fail("model: %v", err)
	}
	opts.Model, opts.ModelName, opts.Seed = m, name, am.Seed
	played, err := agent.Run(ctx, sb, t, opts)
	played.Attempt = k.attempt
	tr = played
	if err != nil {
		return fail("agent: %v", err)
	}
	closeSB()

	hopts, err := ev.harnessOptions(ctx, t)
	if err != nil {
		return infraFail("grade: %v", err)
	}
	open := func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) { return envs.Open(ctx, t) }
	r := harness.Evaluate(ctx, open, t, tr.FinalPatch, hopts)
	tr.Tests = map[string]string{}
	for id, st := range r.FailToPass {
		tr.Tests[id] = string(st)
	}
	for id, st := range r.PassToPass {
		tr.Tests[id] = string(st)
	}
	switch {
	case r.Status == harness.ResultResolved:
		tr.Status = sdk.StatusResolved
	case r.Status == harness.ResultError && r.Infra:
		return infraFail("grade: %s", r.Error)
	case r.Status == harness.ResultError && tr.FinalPatch != "":
		tr.Status, tr.Error = sdk.StatusError, "grade: "+r.Error
	case touchesGoldFiles(tr.FinalPatch, t.Patch):
		tr.Status = sdk.StatusSemiResolved
	default:
		tr.Status = sdk.StatusUnresolved
	}
	return tr, false
}

// sharedModel is the model every attempt of a stage talks to.
type sharedModel struct {
	m    sdk.Model
	name string
}

// open makes the model of one attempt: the oracle test teacher is made
// per attempt; an endpoint (shared) serves every attempt.
func (am AttemptModel) open(ctx context.Context, shared *sharedModel, sb sdk.Sandbox, t sdk.Task, lang *language.Language, attempt int) (sdk.Model, string, error) {
	if am.Oracle {
		o, err := agent.NewOracle(ctx, sb, t, agent.OracleOptions{ErrorRate: am.ErrorRate, Seed: am.Seed, Attempt: attempt, Language: lang})
		if err != nil {
			return nil, "", err
		}
		return o, agent.OracleName, nil
	}
	if shared == nil {
		return nil, "", errors.New("no model serves the attempt")
	}
	return shared.m, shared.name, nil
}

// touchesGoldFiles reports whether a patch changes a file the gold patch
// changes (SWE-Lego's semi-resolved: the right place, not all tests pass).
func touchesGoldFiles(patch, gold string) bool {
	if patch == "" || gold == "" {
		return false
	}
	goldFiles, err := harness.CheckPatch(gold)
	if err != nil {
		return false
	}
	files, err := harness.CheckPatch(patch)
	if err != nil {
		return false
	}
	for _, f := range files {
		if slices.Contains(goldFiles, f) {
			return true
		}
	}
	return false
}

// writePredictions writes the first attempt of each task as SWE-bench
// predictions, so an eval stage can grade a rollout as it grades a file.
func (s *rolloutStage) writePredictions(ctx context.Context, sc *engine.StageContext, path string) error {
	preds, err := sc.OpenOutput(PredictionsOutput, engine.KeyField("instance_id"))
	if err != nil {
		return err
	}
	defer preds.Close()
	err = engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var tr sdk.Trajectory
		if err := json.Unmarshal(raw, &tr); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if tr.Attempt != 1 || preds.Has(tr.InstanceID) {
			return nil
		}
		return preds.Append(ctx, tr.InstanceID, sdk.Prediction{InstanceID: tr.InstanceID, ModelNameOrPath: tr.Model, ModelPatch: tr.FinalPatch})
	})
	if err != nil {
		return err
	}
	sc.Logger.Info("rollout predictions", "path", filepath.Base(preds.Path()), "count", preds.Len())
	return nil
}
