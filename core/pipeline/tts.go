package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// Outputs of a tts stage, under DIR/tts/NAME/.
const (
	ScoresOutput      = "scores"      // one record per scored candidate
	ErrorsOutput      = "errors"      // candidates whose scoring failed in the last run
	PredictionsOutput = "predictions" // the best candidate per task, as SWE-bench predictions
)

// ScoreRecord is one verifier judgement of a candidate.
type ScoreRecord struct {
	InstanceID      string  `json:"instance_id"`
	Candidate       int     `json:"candidate"`
	ModelNameOrPath string  `json:"model_name_or_path"`
	Score           float64 `json:"score"`
	Label           string  `json:"label,omitempty"`
	Details         string  `json:"details,omitempty"`
	// Parts are the named components of the score (sdk.Score.Parts).
	Parts map[string]float64 `json:"parts,omitempty"`
	// Verifier identifies the verifier (plugin, binary, configuration,
	// lent model) of a rolling-out stage's score; a score of another
	// verifier is dropped and the rollout scored again.
	Verifier string `json:"verifier,omitempty"`
}

// ErrorRecord is an item a stage could not process.
type ErrorRecord struct {
	InstanceID string `json:"instance_id"`
	Candidate  int    `json:"candidate"`
	Error      string `json:"error"`
}

// candidate is one candidate patch of a task, numbered within its task in
// file order.
type candidate struct {
	index int
	pred  sdk.Prediction
}

func (c candidate) key() string { return c.pred.InstanceID + "/" + strconv.Itoa(c.index) }

// ttsStage scores candidate patches with a verifier plugin and submits the
// best per task. With a model, it plays k rollouts per task and reports
// pass@1, TTS@K and pass@K (runRollouts); with candidates, they come from a
// predictions file that holds several records per instance (one per
// rollout).
type ttsStage struct {
	stageBase
	cfg *hcl.TTS
}

// Fingerprint: a stage that rolls out a model has rolloutFingerprint; one
// that reranks candidates the stage's own, with the model block lent to
// its verifier when it names one (its scores depend on that judge).
func (s *ttsStage) Fingerprint() string {
	if s.cfg.Model != "" {
		return s.rolloutFingerprint()
	}
	base := s.stageBase.Fingerprint()
	if s.cfg.Verifier == nil || s.cfg.VerifierModel == "" {
		return base
	}
	h := sha256.New()
	io.WriteString(h, base)
	if mb := s.recipe.Block(s.cfg.VerifierModel); mb != nil {
		fmt.Fprintf(h, "\nverifier model %s ", mb.Address)
		writeValue(h, mb.Value)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ttsSettings are what a run of a tts stage uses of its block's settings.
type ttsSettings struct {
	tasks      string // the source stage's address
	model      string // the policy's model block; "" when reranking
	candidates string // the predictions file reranked, resolved against the recipe
	k          int    // rollouts per task; reranking: candidates per task, 0 for all
	workers    int
	verifier   *hcl.PluginBody
}

func (s *ttsStage) settings() (ttsSettings, error) {
	v := ttsSettings{
		tasks:      s.cfg.Tasks,
		model:      s.cfg.Model,
		candidates: s.cfg.Candidates.Path,
		k:          s.cfg.K,
		workers:    max(s.cfg.Workers, 1),
		verifier:   s.cfg.Verifier,
	}
	if v.verifier == nil {
		return v, fmt.Errorf("%s: a verifier block is required", s.block.Address)
	}
	if v.model != "" {
		v.k = max(v.k, 1)
	}
	return v, nil
}

func (s *ttsStage) Run(ctx context.Context, sc *engine.StageContext) error {
	st, err := s.settings()
	if err != nil {
		return err
	}
	if st.model != "" {
		return s.runRollouts(ctx, sc, st)
	}
	vb := st.verifier
	tasks, err := readTasks(sc.Run.OutputPath(st.tasks, TasksOutput))
	if err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	cands, err := readCandidates(st.candidates, st.k)
	if err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	verifier, err := s.host.Verifier(ctx, vb.Plugin)
	if err != nil {
		return err
	}
	sandboxes := &candidateSandboxes{stage: s, sc: sc}
	defer sandboxes.close()

	scores, err := sc.OpenOutput(ScoresOutput, engine.KeyFields("instance_id", "candidate"))
	if err != nil {
		return err
	}
	defer scores.Close()
	errPath := sc.Run.OutputPath(s.block.Address, ErrorsOutput)
	for _, p := range []string{errPath, errPath + ".sum"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	errs, err := sc.OpenOutput(ErrorsOutput, engine.KeyFields("instance_id", "candidate"))
	if err != nil {
		return err
	}
	defer errs.Close()

	var todo []candidate
	for _, c := range cands {
		if !scores.Has(c.key()) {
			todo = append(todo, c)
		}
	}
	var lent sdk.Model
	if len(todo) > 0 && s.queue == nil {
		m, stop, err := s.lentModel(ctx, sc)
		if err != nil {
			return err
		}
		defer stop()
		lent = m
	}
	prog := sc.Progress(len(cands))
	defer prog.Finish()
	prog.Skip(len(cands) - len(todo))

	var (
		mu     sync.Mutex
		failed int
	)
	fail := func(c candidate, err error) error {
		mu.Lock()
		failed++
		mu.Unlock()
		sc.Logger.Warn("candidate failed", "instance_id", c.pred.InstanceID, "candidate", c.index, "error", err)
		return errs.Append(ctx, c.key(), ErrorRecord{InstanceID: c.pred.InstanceID, Candidate: c.index, Error: err.Error()})
	}
	record := func(c candidate, score sdk.Score, err error) error {
		if err != nil {
			return fail(c, err)
		}
		prog.Add(1)
		return scores.Append(ctx, c.key(), ScoreRecord{
			InstanceID: c.pred.InstanceID, Candidate: c.index, ModelNameOrPath: c.pred.ModelNameOrPath,
			Score: score.Value, Label: score.Label, Details: score.Details, Parts: score.Parts,
		})
	}
	noTask := func(c candidate) error { return fail(c, fmt.Errorf("no task %q in %s", c.pred.InstanceID, st.tasks)) }
	if s.queue != nil {
		err = s.scoreCandidatesRemote(ctx, sc, vb, tasks, todo, record, noTask)
	} else {
		err = forEach(ctx, st.workers, todo, func(c candidate) error {
			task, ok := tasks[c.pred.InstanceID]
			if !ok {
				return noTask(c)
			}
			score, err := verifyCandidate(ctx, sandboxes.open, verifier, vb.Config, lent, task, c.pred.ModelPatch)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return record(c, score, err)
		})
	}
	if err != nil {
		return err
	}
	rankOf, err := s.rankCandidates(ctx, sc, verifier, vb.Config, tasks, cands, func(id string, index int, err error) error {
		return fail(candidate{index: index, pred: sdk.Prediction{InstanceID: id}}, err)
	})
	if err != nil {
		return err
	}
	if err := s.submit(ctx, sc, cands, rankOf); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%s: %d of %d candidates could not be scored (see %s); run again to retry them", s.block.Address, failed, len(cands), errPath)
	}
	return nil
}

// rankCandidates has a verifier that ranks rank the candidates of every
// task whose candidates are all scored (see rankTasks) and returns the
// ranks by task, or nil when the verifier does not rank.
func (s *ttsStage) rankCandidates(ctx context.Context, sc *engine.StageContext, v sdk.Verifier, cfg sdk.Config,
	tasks map[string]sdk.Task, cands []candidate, fail func(string, int, error) error) (map[string]map[string]float64, error) {
	stored, err := readScores(sc.Run.OutputPath(s.block.Address, ScoresOutput))
	if err != nil {
		return nil, err
	}
	indices := map[string][]int{}
	var order []string
	for _, c := range cands {
		id := c.pred.InstanceID
		if indices[id] == nil {
			order = append(order, id)
		}
		indices[id] = append(indices[id], c.index)
	}
	var complete []string
	for _, id := range order {
		ok := tasks[id].InstanceID != ""
		for _, n := range indices[id] {
			_, scored := stored[rolloutKey(id, n)]
			ok = ok && scored
		}
		if ok {
			complete = append(complete, id)
		}
	}
	ranks, err := sc.OpenOutput(RanksOutput, engine.KeyField("instance_id"))
	if err != nil {
		return nil, err
	}
	defer ranks.Close()
	ranked, err := s.rankTasks(ctx, sc, v, cfg, "", tasks, complete, indices, stored, ranks, fail)
	if err != nil || !ranked {
		return nil, err
	}
	return readRanks(ranks.Path())
}

// submit writes, for every task whose candidates are all scored (and,
// when rankOf is not nil, ranked), the candidate with the highest score
// (rank), the first on ties, as a SWE-bench prediction.
func (s *ttsStage) submit(ctx context.Context, sc *engine.StageContext, cands []candidate, rankOf map[string]map[string]float64) error {
	best := map[string]ScoreRecord{}
	scored := map[string]int{}
	err := engine.ReadRecords(sc.Run.OutputPath(s.block.Address, ScoresOutput), func(_ int, raw json.RawMessage) error {
		var r ScoreRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		scored[r.InstanceID]++
		if rankOf != nil {
			// The selection score is the rank.
			r.Score = math.NaN()
			if rk, ok := rankOf[r.InstanceID]; ok {
				r.Score = rk[rolloutKey(r.InstanceID, r.Candidate)]
			}
		}
		if b, ok := best[r.InstanceID]; !ok || r.Score > b.Score || (r.Score == b.Score && r.Candidate < b.Candidate) || math.IsNaN(b.Score) && !math.IsNaN(r.Score) {
			best[r.InstanceID] = r
		}
		return nil
	})
	if err != nil {
		return err
	}
	total := map[string]int{}
	patch := map[string]sdk.Prediction{}
	var order []string
	for _, c := range cands {
		if total[c.pred.InstanceID] == 0 {
			order = append(order, c.pred.InstanceID)
		}
		total[c.pred.InstanceID]++
		patch[c.key()] = c.pred
	}
	preds, err := sc.OpenOutput(PredictionsOutput, engine.KeyField("instance_id"))
	if err != nil {
		return err
	}
	defer preds.Close()
	for _, id := range order {
		if scored[id] < total[id] || preds.Has(id) || rankOf != nil && rankOf[id] == nil {
			continue
		}
		b := best[id]
		p := patch[candidate{index: b.Candidate, pred: sdk.Prediction{InstanceID: id}}.key()]
		if err := preds.Append(ctx, id, p); err != nil {
			return err
		}
	}
	return nil
}

// readTasks loads a source stage's tasks by instance id.
func readTasks(path string) (map[string]sdk.Task, error) {
	list, err := readTaskList(path)
	if err != nil {
		return nil, err
	}
	tasks := make(map[string]sdk.Task, len(list))
	for _, t := range list {
		tasks[t.InstanceID] = t
	}
	return tasks, nil
}

// readCandidates reads a predictions file with any number of records per
// instance; k > 0 keeps the first k of each.
func readCandidates(path string, k int) ([]candidate, error) {
	if path == "" {
		return nil, errors.New("candidates: a predictions file is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	defer f.Close()
	dec := jsonl.NewDecoder(f, path)
	count := map[string]int{}
	var out []candidate
	for {
		var p sdk.Prediction
		err := dec.Next(&p)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("candidates: %w", err)
		}
		if p.InstanceID == "" {
			return nil, fmt.Errorf("candidates: %s:%d: record has no instance_id", path, dec.Line())
		}
		i := count[p.InstanceID]
		count[p.InstanceID]++
		if k > 0 && i >= k {
			continue
		}
		out = append(out, candidate{index: i, pred: p})
	}
}

// lentModel is the model a verifier block names, opened to be lent to the
// verifier (an endpoint, or a checkpoint served for as long as the stage
// runs), or nil when it names none. Call stop when the stage is done.
func (s *ttsStage) lentModel(ctx context.Context, sc *engine.StageContext) (m sdk.Model, stop func(), err error) {
	ref := s.cfg.VerifierModel
	if ref == "" {
		return nil, func() {}, nil
	}
	mb, mc, err := s.modelBlock(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: verifier model: %w", s.block.Address, err)
	}
	if mc.Provider == "oracle" {
		return nil, nil, fmt.Errorf("%s: the verifier's model %s is the oracle test teacher, which cannot judge; name an endpoint", s.block.Address, ref)
	}
	m, _, stop, err = s.openEndpoint(ctx, sc, mb)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: verifier model: %w", s.block.Address, err)
	}
	return m, stop, nil
}

// candidateSandboxes lends a reranking verifier a sandbox of a task's
// environment at its base commit, a fresh one per call, for tasks whose
// environment is known (an environment block, or the repository found
// beside the recipe); other tasks get none. The sandbox backend is opened
// on first need.
type candidateSandboxes struct {
	stage   *ttsStage
	sc      *engine.StageContext
	once    sync.Once
	envs    *taskenv.Manager
	closeFn func()
	err     error
}

func (c *candidateSandboxes) open(ctx context.Context, task sdk.Task) (sandbox.Sandbox, error) {
	probe := taskenv.New(taskenv.Options{Environments: EnvironmentsOf(c.stage.recipe), DefaultLanguage: c.stage.defaultLanguage,
		RepoDirs: []string{c.stage.recipe.Dir, filepath.Join(c.stage.recipe.Dir, "repos")}})
	if _, err := probe.Environment(task); err != nil {
		return nil, nil // no environment known: nothing to lend
	}
	c.once.Do(func() { c.envs, c.closeFn, c.err = c.stage.environments(ctx, c.sc, "") })
	if c.err != nil {
		return nil, c.err
	}
	_, sb, err := lendSandbox(ctx, c.envs, task)
	return sb, err
}

// lendSandbox prepares a task and opens a fresh sandbox of its
// environment at its base commit, to lend a verifier.
func lendSandbox(ctx context.Context, envs *taskenv.Manager, task sdk.Task) (sdk.Task, sandbox.Sandbox, error) {
	t, err := envs.Prepare(task)
	if err != nil {
		return t, nil, fmt.Errorf("prepare: %w", err)
	}
	sb, err := envs.Open(ctx, t)
	if err != nil {
		return t, nil, fmt.Errorf("open sandbox: %w", err)
	}
	return t, sb, nil
}

// verifyCandidate scores one candidate patch of a reranked predictions
// file, in this process or on a worker (handleScore): the verifier gets
// the task without its fix or hidden tests, the patch, the lent model and
// the sandbox open lends (none when it returns nil), closed after the
// call.
func verifyCandidate(ctx context.Context, open func(context.Context, sdk.Task) (sandbox.Sandbox, error), v sdk.Verifier, cfg sdk.Config,
	model sdk.Model, task sdk.Task, patch string) (sdk.Score, error) {
	req := sdk.VerifyRequest{Config: cfg, Task: blindTask(task), Patch: patch}
	if model != nil {
		req.Model = model
	}
	sb, err := open(ctx, task)
	if err != nil {
		return sdk.Score{}, err
	}
	if sb != nil {
		req.Sandbox = sb
		defer sb.Close(context.WithoutCancel(ctx))
	}
	return v.Verify(ctx, req)
}

func (c *candidateSandboxes) close() {
	if c.closeFn != nil {
		c.closeFn()
	}
}
