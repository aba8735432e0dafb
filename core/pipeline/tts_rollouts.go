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
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// RanksOutput names the records of a tts stage whose verifier ranks: one
// RankRecord per task.
const RanksOutput = "ranks"

// RankRecord is a verifier's set-level answer for one task: a selection
// score per rollout key (instance_id/index).
type RankRecord struct {
	InstanceID string `json:"instance_id"`
	Verifier   string `json:"verifier"`
	// K is the number of rollouts ranked together: a rank is made again
	// when the stage's k changes.
	K      int                `json:"k"`
	Scores map[string]float64 `json:"scores"`
}

// rolloutKey is the key that joins a rollout's trajectory, score and rank:
// instance_id/index, the index counting from 1.
func rolloutKey(id string, index int) string { return id + "/" + strconv.Itoa(index) }

// ttsRollouts is the part of a tts stage that rolls out a model: `tts
// "NAME" { tasks, model, toolset, k, max_turns, …, verifier "P" { model,
// … } }`. It plays k rollouts per task with the rollout machinery (each in
// its own sandbox, graded by the harness for the report only), has the
// verifier score each one in a fresh sandbox of the task at its base
// commit (lent with the verifier's model, when it names one), asks the
// verifier to rank each task's rollouts when it ranks, submits the pick
// and writes the report.
//
// With a queue, the rollouts are played and scored by swelego workers
// (rollout_remote.go, tts_remote.go); ranking and picking stay here.
//
// Everything is kept by key: a rerun plays only missing rollouts and
// scores only unscored ones. The rollouts do not depend on the verifier:
// the stage's fingerprint leaves it out, and scores and ranks carry the
// verifier's identity, so a swapped verifier rescores the rollouts the
// stage holds.
func (s *ttsStage) runRollouts(ctx context.Context, sc *engine.StageContext, st ttsSettings) error {
	vb, k := st.verifier, st.k
	if s.host == nil {
		return fmt.Errorf("%s: no plugin host", s.block.Address)
	}
	tasks, err := readTaskList(sc.OutputPath(st.tasks, TasksOutput))
	if err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	byID := make(map[string]sdk.Task, len(tasks))
	for _, t := range tasks {
		byID[t.InstanceID] = t
	}
	verifier, err := s.host.Verifier(ctx, vb.Plugin)
	if err != nil {
		return fmt.Errorf("%s: verifier: %w", s.block.Address, err)
	}
	vid := s.verifierIdentity(vb)

	envs, closeEnvs, err := s.environments(ctx, sc, "")
	if err != nil {
		return err
	}
	defer closeEnvs()
	trajOut, err := sc.OpenOutput(TrajectoriesOutput, engine.KeyFields("instance_id", "attempt"))
	if err != nil {
		return err
	}
	defer trajOut.Close()
	rs := s.rollouts()
	notPlayed, err := rs.playAttempts(ctx, sc, envs, trajOut, tasks, k)
	if err != nil {
		return err
	}
	trajs, err := readRollouts(trajOut.Path(), k)
	if err != nil {
		return err
	}

	stale := func(_ string, raw json.RawMessage) bool {
		var r struct {
			Verifier string `json:"verifier"`
		}
		return json.Unmarshal(raw, &r) != nil || r.Verifier != vid
	}
	scores, err := sc.OpenOutput(ScoresOutput, engine.KeyFields("instance_id", "candidate"), engine.WithDrop(stale))
	if err != nil {
		return err
	}
	defer scores.Close()
	otherK := func(key string, raw json.RawMessage) bool {
		var r RankRecord
		return stale(key, raw) || json.Unmarshal(raw, &r) != nil || r.K != k
	}
	ranks, err := sc.OpenOutput(RanksOutput, engine.KeyField("instance_id"), engine.WithDrop(otherK))
	if err != nil {
		return err
	}
	defer ranks.Close()
	errs, err := s.openErrors(sc)
	if err != nil {
		return err
	}
	defer errs.Close()

	var todo []sdk.Trajectory
	for _, tr := range trajs {
		if !scores.Has(rolloutKey(tr.InstanceID, tr.Attempt)) {
			todo = append(todo, tr)
		}
	}
	sort.Slice(todo, func(i, j int) bool {
		if todo[i].InstanceID != todo[j].InstanceID {
			return todo[i].InstanceID < todo[j].InstanceID
		}
		return todo[i].Attempt < todo[j].Attempt
	})
	prog := sc.Progress(len(trajs))
	prog.Skip(len(trajs) - len(todo))
	var (
		mu     sync.Mutex
		failed []string
	)
	fail := func(id string, index int, err error) error {
		mu.Lock()
		failed = append(failed, fmt.Sprintf("%s: %v", rolloutKey(id, index), err))
		mu.Unlock()
		sc.Logger.Warn("rollout not scored", "instance_id", id, "rollout", index, "error", err)
		return errs.Append(ctx, rolloutKey(id, index), ErrorRecord{InstanceID: id, Candidate: index, Error: err.Error()})
	}
	record := func(tr sdk.Trajectory, score sdk.Score, err error) error {
		if err != nil {
			return fail(tr.InstanceID, tr.Attempt, err)
		}
		prog.Add(1)
		return scores.Append(ctx, rolloutKey(tr.InstanceID, tr.Attempt), ScoreRecord{
			InstanceID: tr.InstanceID, Candidate: tr.Attempt, ModelNameOrPath: tr.Model,
			Score: score.Value, Label: score.Label, Details: score.Details, Parts: score.Parts, Verifier: vid,
		})
	}
	if s.queue != nil {
		err = s.scoreRemote(ctx, sc, vb, byID, todo, record)
	} else if len(todo) > 0 {
		lent, stop, lerr := s.lentModel(ctx, sc)
		if lerr != nil {
			return lerr
		}
		defer stop()
		err = forEach(ctx, st.workers, todo, func(tr sdk.Trajectory) error {
			score, err := verifyRollout(ctx, envs, verifier, vb.Config, lent, byID[tr.InstanceID], tr)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return record(tr, score, err)
		})
	}
	prog.Finish()
	if err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}

	stored, err := readScores(scores.Path())
	if err != nil {
		return err
	}
	complete := completeTasks(tasks, trajs, stored, k)
	indices := make(map[string][]int, len(complete))
	for _, id := range complete {
		for n := 1; n <= k; n++ {
			indices[id] = append(indices[id], n)
		}
	}
	ranked, err := s.rankTasks(ctx, sc, verifier, vb.Config, vid, byID, complete, indices, stored, ranks, fail)
	if err != nil {
		return err
	}
	rankOf, err := readRanks(ranks.Path())
	if err != nil {
		return err
	}
	var reportTasks []TaskRollouts
	picks := map[string]sdk.Trajectory{}
	for _, id := range complete {
		if ranked && rankOf[id] == nil {
			continue // its ranking failed: no pick until it is ranked
		}
		tr := TaskRollouts{InstanceID: id}
		for n := 1; n <= k; n++ {
			key := rolloutKey(id, n)
			ro := ScoredRollout{Index: n, Resolved: trajs[key].Status == sdk.StatusResolved, Score: stored[key].Score}
			ro.Selection = ro.Score
			if ranked {
				ro.Selection = rankOf[id][key]
			}
			tr.Rollouts = append(tr.Rollouts, ro)
		}
		reportTasks = append(reportTasks, tr)
		sel := make([]Rollout, len(tr.Rollouts))
		for i, ro := range tr.Rollouts {
			sel[i] = Rollout{Index: ro.Index, Resolved: ro.Resolved, Score: ro.Selection}
		}
		picks[id] = trajs[rolloutKey(id, SelectionOrder(sel)[0].Index)]
	}
	if err := s.writePicks(ctx, sc, tasks, picks); err != nil {
		return err
	}
	report := NewTTSReport(s.block.Address, vb.Plugin, ranked, k, reportTasks)
	if loc, err := s.host.Locate(vb.Plugin); err == nil {
		report.VerifierPlugin = loc.String()
	}
	if err := writeTTSReport(sc.Dir(), report); err != nil {
		return fmt.Errorf("%s: report: %w", s.block.Address, err)
	}
	sc.Logger.Info("tts report", "tasks", report.Tasks, "pass@1", report.PassAt1, "picks_resolved", report.SubmittedResolved, "report", TTSReportFile)

	if err := notPlayedError(s.block.Address, notPlayed); err != nil {
		return err
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return fmt.Errorf("%s: %d rollouts could not be scored or ranked (see %s); run again to retry them: %s",
			s.block.Address, len(failed), errs.Path(), strings.Join(firstFew(failed, 5), "; "))
	}
	return nil
}

// verifyRollout scores one rollout, in this process or on a worker
// (handleScore): the verifier gets the task and the trajectory without
// anything that tells the grade or the fix, the final patch, the lent
// model and a fresh sandbox of the task's environment at its base commit,
// closed after the call.
func verifyRollout(ctx context.Context, envs *taskenv.Manager, v sdk.Verifier, cfg sdk.Config, model sdk.Model, task sdk.Task, tr sdk.Trajectory) (sdk.Score, error) {
	t, sb, err := lendSandbox(ctx, envs, task)
	if err != nil {
		return sdk.Score{}, err
	}
	defer sb.Close(context.WithoutCancel(ctx))
	req := sdk.VerifyRequest{Config: cfg, Task: blindTask(t), Trajectory: blindTrajectory(tr), Patch: tr.FinalPatch, Sandbox: sb}
	if model != nil {
		req.Model = model
	}
	score, err := v.Verify(ctx, req)
	if err != nil {
		return score, fmt.Errorf("verify: %w", err)
	}
	if math.IsNaN(score.Value) || math.IsInf(score.Value, 0) {
		return score, fmt.Errorf("verify: the verifier answered %g, not a finite score", score.Value)
	}
	return score, nil
}

// blindTask is the task as a verifier sees it: no fix, no hidden tests.
func blindTask(t sdk.Task) sdk.Task {
	t.Patch, t.TestPatch, t.FailToPass, t.PassToPass = "", "", nil, nil
	return t
}

// blindTrajectory is a trajectory as a verifier sees it: without the
// harness's grade.
func blindTrajectory(tr sdk.Trajectory) sdk.Trajectory {
	tr.Status, tr.Tests = "", nil
	if strings.HasPrefix(tr.Error, "grade:") {
		tr.Error = ""
	}
	return tr
}

// rankTasks asks the verifier to rank every complete task that has no
// rank yet, over the candidates of indices[task], and reports whether the
// verifier ranks: a verifier that does not (sdk.ErrNotServed) leaves the
// pick to the scores.
func (s *ttsStage) rankTasks(ctx context.Context, sc *engine.StageContext, v sdk.Verifier, cfg sdk.Config, vid string,
	byID map[string]sdk.Task, complete []string, indices map[string][]int, stored map[string]ScoreRecord, ranks *engine.Writer,
	fail func(string, int, error) error) (bool, error) {
	ranker, ok := v.(sdk.Ranker)
	if !ok {
		return false, nil
	}
	ranking := ranks.Len() > 0 // ranks of this verifier are stored: it ranks
	for _, id := range complete {
		if ranks.Has(id) {
			continue
		}
		req := sdk.RankRequest{Config: cfg, Task: blindTask(byID[id])}
		for _, n := range indices[id] {
			r := stored[rolloutKey(id, n)] // complete: every one is scored
			req.Candidates = append(req.Candidates, sdk.RankCandidate{Key: rolloutKey(id, n),
				Score: sdk.Score{Value: r.Score, Label: r.Label, Details: r.Details, Parts: r.Parts}})
		}
		got, err := ranker.Rank(ctx, req)
		if errors.Is(err, sdk.ErrNotServed) && !ranking {
			return false, nil
		}
		ranking = true
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		if err == nil {
			err = sdk.CheckRanking(req, got)
		}
		if err != nil {
			if err := fail(id, 0, fmt.Errorf("rank: %w", err)); err != nil {
				return true, err
			}
			continue
		}
		if err := ranks.Append(ctx, id, RankRecord{InstanceID: id, Verifier: vid, K: len(indices[id]), Scores: got}); err != nil {
			return true, err
		}
	}
	if ranking {
		sc.Logger.Info("the verifier ranks each task's rollouts", "tasks", ranks.Len())
	}
	return ranking, nil
}

// writePicks writes the pick of every task, in task order, as SWE-bench
// predictions; the file is rewritten each run, since a swapped verifier
// picks again.
func (s *ttsStage) writePicks(ctx context.Context, sc *engine.StageContext, tasks []sdk.Task, picks map[string]sdk.Trajectory) error {
	path := sc.Run.OutputPath(s.block.Address, PredictionsOutput)
	for _, p := range []string{path, path + ".sum"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	preds, err := sc.OpenOutput(PredictionsOutput, engine.KeyField("instance_id"))
	if err != nil {
		return err
	}
	defer preds.Close()
	for _, t := range tasks {
		tr, ok := picks[t.InstanceID]
		if !ok {
			continue
		}
		p := sdk.Prediction{InstanceID: t.InstanceID, ModelNameOrPath: tr.Model, ModelPatch: tr.FinalPatch}
		if err := preds.Append(ctx, t.InstanceID, p); err != nil {
			return err
		}
	}
	return preds.Close()
}

// openErrors opens the errors output afresh: it lists what failed in
// this run only.
func (s *ttsStage) openErrors(sc *engine.StageContext) (*engine.Writer, error) {
	errPath := sc.Run.OutputPath(s.block.Address, ErrorsOutput)
	for _, p := range []string{errPath, errPath + ".sum"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return sc.OpenOutput(ErrorsOutput, engine.KeyFields("instance_id", "candidate"))
}

// verifierIdentity names the verifier the scores come from: the plugin
// and its binary, its configuration and the model lent to it.
func (s *ttsStage) verifierIdentity(vb *hcl.PluginBody) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", vb.Plugin, vb.Config)
	s.writePlugin(h, vb.Plugin)
	if mb := s.recipe.Block(s.cfg.VerifierModel); mb != nil {
		fmt.Fprintf(h, "\nmodel %s ", mb.Address)
		writeValue(h, mb.Value)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// rolloutFingerprint is a rolling-out tts stage's fingerprint: its
// settings but workers and k, the model and toolset blocks and the
// tool-set plugin — not the verifier, whose scores carry its identity
// instead. Rollout i is the same whatever k is, so a larger k plays only
// the rollouts added and a smaller one reports over the first k.
func (s *ttsStage) rolloutFingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\ntts rollouts\n", s.block.Address)
	if v := s.block.Value; v != cty.NilVal && v.IsWhollyKnown() && v.Type().IsObjectType() && !v.IsNull() {
		attrs := map[string]cty.Value{}
		for name, av := range v.AsValueMap() {
			if !notFingerprinted[name] && name != "k" {
				attrs[name] = av
			}
		}
		writeValue(h, cty.ObjectVal(attrs))
	}
	rs := s.rollouts()
	return rs.fingerprintOver(hex.EncodeToString(h.Sum(nil)))
}

func writeValue(w io.Writer, v cty.Value) {
	if v == cty.NilVal || !v.IsWhollyKnown() {
		return
	}
	if data, err := ctyjson.Marshal(v, v.Type()); err == nil {
		w.Write(data)
	}
}

// readRollouts reads a tts stage's trajectories with index 1..k by key.
func readRollouts(path string, k int) (map[string]sdk.Trajectory, error) {
	out := map[string]sdk.Trajectory{}
	err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var tr sdk.Trajectory
		if err := json.Unmarshal(raw, &tr); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if tr.Attempt >= 1 && tr.Attempt <= k {
			out[rolloutKey(tr.InstanceID, tr.Attempt)] = tr
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return out, err
}

// readScores reads a tts stage's scores by key.
func readScores(path string) (map[string]ScoreRecord, error) {
	out := map[string]ScoreRecord{}
	err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var r ScoreRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out[rolloutKey(r.InstanceID, r.Candidate)] = r
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return out, err
}

// readRanks reads a tts stage's ranks by task.
func readRanks(path string) (map[string]map[string]float64, error) {
	out := map[string]map[string]float64{}
	err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var r RankRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out[r.InstanceID] = r.Scores
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return out, err
}

// completeTasks lists, in task order, the tasks whose k rollouts are all
// stored and scored.
func completeTasks(tasks []sdk.Task, trajs map[string]sdk.Trajectory, scores map[string]ScoreRecord, k int) []string {
	var out []string
	for _, t := range tasks {
		ok := true
		for n := 1; n <= k && ok; n++ {
			key := rolloutKey(t.InstanceID, n)
			_, played := trajs[key]
			_, scored := scores[key]
			ok = played && scored
		}
		if ok {
			out = append(out, t.InstanceID)
		}
	}
	return out
}

// rollouts is the rollout stage that plays a rolling-out tts stage's k
// rollouts per task, in its model, tool set and attempt settings.
func (s *ttsStage) rollouts() *rolloutStage {
	return &rolloutStage{stageBase: s.stageBase, tasks: s.cfg.Tasks, model: s.cfg.Model, play: s.cfg.Attempt}
}
