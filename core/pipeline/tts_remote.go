package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// ScoreItemKind is the queue item kind of scoring one rollout with a
// verifier.
const ScoreItemKind = "score"

// ScoreItem is what a worker needs to score one candidate as this
// process does: the task, the candidate's number within its task, the
// rollout's trajectory as the verifier sees it (verifyRollout), or for a
// candidate of a reranked predictions file its patch (verifyCandidate),
// where its repository is (ItemRepos), the verifier plugin (the worker's own plugin of that name) with its
// configuration, and the endpoint lent to it, if any (the name of the
// variable holding its API key, never the key).
type ScoreItem struct {
	Task       sdk.Task        `json:"task"`
	Candidate  int             `json:"candidate"`
	Patch      string          `json:"patch,omitempty"`
	Trajectory *sdk.Trajectory `json:"trajectory,omitempty"`
	ItemRepos
	Verifier string          `json:"verifier"`
	Config   json.RawMessage `json:"config,omitempty"`
	Model    *llm.Config     `json:"model,omitempty"`
}

func (it ScoreItem) key() string { return rolloutKey(it.Task.InstanceID, it.Candidate) }

// ScoreResult is a worker's answer to a ScoreItem: the score and the
// digest of the item's payload.
type ScoreResult struct {
	Score sdk.Score `json:"score"`
	Input string    `json:"input"`
}

// QueueScorer scores rollouts over a NATS JetStream queue: it publishes a
// ScoreItem per rollout as job Job and records the scores swelego workers
// publish. A result of another digest is not taken and the rollout scored
// again; a parked item is recorded as a failure with each attempt's
// error, so it is not stored and a rerun scores it again.
type QueueScorer struct {
	Client *queue.Client
	Job    string
	// Workers, when set, counts what each worker did.
	Workers *WorkerCounts
}

// ScoreRemote publishes items and calls record once with each item's
// score, or the error that kept it from being scored, until every item is
// recorded or ctx ends.
func (q *QueueScorer) ScoreRemote(ctx context.Context, items []ScoreItem, record func(ScoreItem, sdk.Score, error) error) error {
	return digestedItems(ctx, q.Client, q.Job, ScoreItemKind, items, ScoreItem.key,
		func(r ScoreResult) string { return r.Input },
		func(ScoreItem, ScoreResult) bool { return true },
		func(it ScoreItem, r ScoreResult) error { return record(it, r.Score, nil) },
		func(it ScoreItem, err error) error { return record(it, sdk.Score{}, err) },
		q.Workers)
}

// scoreRemote scores the rollouts of todo on swelego workers over the
// stage's queue, with the verifier of vb and the endpoint lent to it.
func (s *ttsStage) scoreRemote(ctx context.Context, sc *engine.StageContext, vb *hcl.PluginBody, byID map[string]sdk.Task,
	todo []sdk.Trajectory, record func(sdk.Trajectory, sdk.Score, error) error) error {
	items := make([]ScoreItem, 0, len(todo))
	full := make(map[string]sdk.Trajectory, len(todo)) // the record keeps the model's name the blinded one drops
	for _, tr := range todo {
		blind := blindTrajectory(tr)
		items = append(items, ScoreItem{Task: byID[tr.InstanceID], Candidate: tr.Attempt, Trajectory: &blind})
		full[rolloutKey(tr.InstanceID, tr.Attempt)] = tr
	}
	return s.publishScores(ctx, sc, vb, items, func(it ScoreItem, score sdk.Score, err error) error {
		return record(full[it.key()], score, err)
	})
}

// publishScores completes items with what they share (the environments,
// the verifier, the lent endpoint) and scores them over the stage's queue.
func (s *ttsStage) publishScores(ctx context.Context, sc *engine.StageContext, vb *hcl.PluginBody, items []ScoreItem,
	record func(ScoreItem, sdk.Score, error) error) error {
	if len(items) == 0 {
		return nil
	}
	lent, err := s.lentEndpoint()
	if err != nil {
		return err
	}
	c, err := queueClient(ctx, s.queue, s.block.Address, sc.Logger)
	if err != nil {
		return err
	}
	defer c.Close()
	q := &QueueScorer{Client: c, Job: queue.JobID(sc.Run.ID(), s.block.Address, ScoreItemKind), Workers: LoadWorkerCounts(sc.Dir())}
	defer q.Workers.Write(sc.Dir(), sc.Logger)
	repos, probe := s.repoShipper(c, sc.Logger), s.probeEnvironments()
	for i := range items {
		if items[i].ItemRepos, err = repos.ForTask(ctx, probe, items[i].Task); err != nil {
			return err
		}
		items[i].Verifier, items[i].Config, items[i].Model = vb.Plugin, json.RawMessage(vb.Config), lent
	}
	return q.ScoreRemote(ctx, items, record)
}

// scoreCandidatesRemote scores the candidates of a reranked predictions
// file on swelego workers over the stage's queue; candidates of a task
// not in tasks fail here, as they do in a local run.
func (s *ttsStage) scoreCandidatesRemote(ctx context.Context, sc *engine.StageContext, vb *hcl.PluginBody, tasks map[string]sdk.Task,
	todo []candidate, record func(candidate, sdk.Score, error) error, noTask func(candidate) error) error {
	items := make([]ScoreItem, 0, len(todo))
	byKey := make(map[string]candidate, len(todo))
	for _, c := range todo {
		task, ok := tasks[c.pred.InstanceID]
		if !ok {
			if err := noTask(c); err != nil {
				return err
			}
			continue
		}
		items = append(items, ScoreItem{Task: task, Candidate: c.index, Patch: c.pred.ModelPatch})
		byKey[c.key()] = c
	}
	return s.publishScores(ctx, sc, vb, items, func(it ScoreItem, score sdk.Score, err error) error {
		return record(byKey[it.key()], score, err)
	})
}

// lentEndpoint is the client settings of the endpoint the verifier block
// lends its verifier, for workers to make their own client; nil when it
// names no model. A checkpoint served on this machine's loopback cannot
// be reached by workers and is refused, as the oracle is.
func (s *ttsStage) lentEndpoint() (*llm.Config, error) {
	ref := s.cfg.VerifierModel
	if ref == "" {
		return nil, nil
	}
	mb, mc, err := s.modelBlock(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: verifier model: %w", s.block.Address, err)
	}
	switch mc.Provider {
	case "oracle":
		return nil, fmt.Errorf("%s: the verifier's model %s is the oracle test teacher, which cannot judge; name an endpoint", s.block.Address, ref)
	case "local":
		return nil, fmt.Errorf("%s: the verifier's model %s (provider local) is served on this machine's loopback, which workers cannot reach; "+
			"serve the checkpoint with `swelego serve` where the workers reach it and name it as an openai model (base_url), or run without a queue", s.block.Address, ref)
	}
	cfg, err := LLMConfig(mb.Address, mc)
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}

// handleScore scores one ScoreItem: a worker's handler of ScoreItemKind.
// Any failure to score is an error (the attempt failed, another worker
// may try), as a local run keeps no score of a failed verification.
func (w *Worker) handleScore(ctx context.Context, it queue.Item) (json.RawMessage, error) {
	item, err := DecodeScoreItem(it)
	if err != nil {
		return nil, err
	}
	if w.Verifiers == nil {
		return nil, fmt.Errorf("score item %s: this worker has no verifier plugins", it.Key)
	}
	v, err := w.Verifiers(ctx, item.Verifier)
	if err != nil {
		return nil, fmt.Errorf("verifier %q: %w", item.Verifier, err)
	}
	var model sdk.Model
	if item.Model != nil {
		if model, err = llm.New(*item.Model); err != nil {
			return nil, fmt.Errorf("verifier model: %w", err)
		}
	}
	envs, err := w.managerFor(ctx, item.ItemRepos)
	if err != nil {
		return nil, err
	}
	var score sdk.Score
	if item.Trajectory != nil {
		score, err = verifyRollout(ctx, envs, v, sdk.Config(item.Config), model, item.Task, *item.Trajectory)
	} else {
		open := func(ctx context.Context, t sdk.Task) (sandbox.Sandbox, error) {
			if _, err := envs.Environment(t); err != nil {
				return nil, nil // no environment known: nothing to lend
			}
			_, sb, err := lendSandbox(ctx, envs, t)
			return sb, err
		}
		score, err = verifyCandidate(ctx, open, v, sdk.Config(item.Config), model, item.Task, item.Patch)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(ScoreResult{Score: score, Input: inputDigest(it.Payload)})
}

// DecodeScoreItem reads the score item a queue item carries, checking
// that it is one and that its task and rollout are those of its key.
func DecodeScoreItem(it queue.Item) (ScoreItem, error) {
	var item ScoreItem
	if it.Kind != ScoreItemKind {
		return item, fmt.Errorf("item kind %q: this worker scores %q items", it.Kind, ScoreItemKind)
	}
	if err := json.Unmarshal(it.Payload, &item); err != nil {
		return item, fmt.Errorf("score item %s: %w", it.Key, err)
	}
	if item.Task.InstanceID == "" || it.Key != item.key() ||
		item.Trajectory != nil && (item.Trajectory.InstanceID != item.Task.InstanceID || item.Trajectory.Attempt != item.Candidate) {
		return item, fmt.Errorf("score item %q: holds candidate %d of %q", it.Key, item.Candidate, item.Task.InstanceID)
	}
	if item.Verifier == "" {
		return item, fmt.Errorf("score item %s: names no verifier", it.Key)
	}
	return item, nil
}
