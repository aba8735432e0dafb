package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/sdk"
)

// RolloutItemKind is the queue item kind of playing and grading one
// rollout attempt.
const RolloutItemKind = "rollout"

// RolloutItem is what a worker needs to play and grade one attempt as
// playAttempt does here: the task and the attempt's number, where its
// repository is (ItemRepos), the
// agent's settings, the tool-set plugin (the worker's own plugin of that
// name) with its configuration, and the model as data.
type RolloutItem struct {
	Task    sdk.Task `json:"task"`
	Attempt int      `json:"attempt"`
	ItemRepos
	Agent      AttemptSettings `json:"agent"`
	Toolset    string          `json:"toolset"`
	ToolConfig json.RawMessage `json:"tool_config,omitempty"`
	Model      AttemptModel    `json:"model"`
}

// RolloutResult is a worker's answer to a RolloutItem: the graded
// trajectory and the digest of the item's payload, so that a result of
// other inputs is not taken.
type RolloutResult struct {
	Trajectory sdk.Trajectory `json:"trajectory"`
	Input      string         `json:"input"`
}

// QueuePlayer plays attempts over a NATS JetStream queue: it publishes a
// RolloutItem per attempt as job Job and records the trajectories swelego
// workers publish. A result of another digest (the item changed since)
// is not taken and the attempt played again; a parked item is recorded as
// an infrastructure failure with each attempt's error, so it is not
// stored and a rerun plays it again.
type QueuePlayer struct {
	Client *queue.Client
	Job    string
	// Workers, when set, counts what each worker did.
	Workers *WorkerCounts
}

// PlayRemote publishes items and calls record once with each attempt's
// trajectory (infra set for one no worker could play) until every item
// is recorded or ctx ends.
func (q *QueuePlayer) PlayRemote(ctx context.Context, items []RolloutItem, record func(tr sdk.Trajectory, infra bool) error) error {
	return digestedItems(ctx, q.Client, q.Job, RolloutItemKind, items,
		func(it RolloutItem) string { return rolloutKey(it.Task.InstanceID, it.Attempt) },
		func(r RolloutResult) string { return r.Input },
		func(it RolloutItem, r RolloutResult) bool {
			return r.Trajectory.InstanceID == it.Task.InstanceID && r.Trajectory.Attempt == it.Attempt
		},
		func(_ RolloutItem, r RolloutResult) error { return record(r.Trajectory, false) },
		func(it RolloutItem, err error) error {
			return record(sdk.Trajectory{InstanceID: it.Task.InstanceID, Attempt: it.Attempt, Status: sdk.StatusError, Error: err.Error()}, true)
		},
		q.Workers)
}

// playRemote plays the attempts of todo on swelego workers over the
// stage's queue; base holds what every item shares (the agent's settings,
// the tool set, the model), envs finds each task's repository.
func (s *rolloutStage) playRemote(ctx context.Context, sc *engine.StageContext, envs *taskenv.Manager, todo []attemptKey, base RolloutItem,
	record func(sdk.Trajectory, bool) error) error {
	if len(todo) == 0 {
		return nil
	}
	c, err := queueClient(ctx, s.queue, s.block.Address, sc.Logger)
	if err != nil {
		return err
	}
	defer c.Close()
	q := &QueuePlayer{Client: c, Job: queue.JobID(sc.Run.ID(), s.block.Address), Workers: LoadWorkerCounts(sc.Dir())}
	defer q.Workers.Write(sc.Dir(), sc.Logger)
	repos := s.repoShipper(c, sc.Logger)
	items := make([]RolloutItem, 0, len(todo))
	for _, k := range todo {
		it := base
		it.Task, it.Attempt = k.task, k.attempt
		if it.ItemRepos, err = repos.ForTask(ctx, envs, k.task); err != nil {
			return err
		}
		items = append(items, it)
	}
	return q.PlayRemote(ctx, items, record)
}

// handleRollout plays and grades one RolloutItem: a worker's handler of
// RolloutItemKind. An infrastructure failure is an error (the attempt
// failed, another worker may try); a trajectory, whatever its status, is
// the result.
func (w *Worker) handleRollout(ctx context.Context, it queue.Item) (json.RawMessage, error) {
	item, err := DecodeRolloutItem(it)
	if err != nil {
		return nil, err
	}
	if w.ToolSets == nil {
		return nil, fmt.Errorf("rollout item %s: this worker has no tool-set plugins", it.Key)
	}
	tools, err := w.ToolSets(ctx, item.Toolset)
	if err != nil {
		return nil, fmt.Errorf("tool set %q: %w", item.Toolset, err)
	}
	var shared *sharedModel
	if !item.Model.Oracle {
		// A model this worker cannot use (its API key missing here) fails
		// the attempt, not the trajectory.
		if shared, err = item.Model.endpointModel(); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
	}
	envs, err := w.managerFor(ctx, item.ItemRepos)
	if err != nil {
		return nil, err
	}
	ev := &Evaluator{Envs: envs, Logger: w.logger(), LogParsers: w.LogParsers}
	opts := item.Agent.options(tools, sdk.Config(item.ToolConfig), w.logger())
	tr, infra := playAttempt(ctx, envs, ev, item.Model, shared, opts, attemptKey{item.Task, item.Attempt})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if infra {
		return nil, errors.New(tr.Error)
	}
	return json.Marshal(RolloutResult{Trajectory: tr, Input: inputDigest(it.Payload)})
}

// DecodeRolloutItem reads the rollout item a queue item carries, checking
// that it is one and that its task and attempt are those of its key.
func DecodeRolloutItem(it queue.Item) (RolloutItem, error) {
	var item RolloutItem
	if it.Kind != RolloutItemKind {
		return item, fmt.Errorf("item kind %q: this worker plays %q items", it.Kind, RolloutItemKind)
	}
	if err := json.Unmarshal(it.Payload, &item); err != nil {
		return item, fmt.Errorf("rollout item %s: %w", it.Key, err)
	}
	if item.Task.InstanceID == "" || item.Attempt < 1 || it.Key != rolloutKey(item.Task.InstanceID, item.Attempt) {
		return item, fmt.Errorf("rollout item %q: holds attempt %d of %q", it.Key, item.Attempt, item.Task.InstanceID)
	}
	if !item.Model.Oracle && item.Model.Endpoint == nil {
		return item, fmt.Errorf("rollout item %s: its model is neither the oracle nor an endpoint", it.Key)
	}
	return item, nil
}
