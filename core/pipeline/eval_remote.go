package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// EvalItemKind is the queue item kind of grading one prediction.
const EvalItemKind = "eval"

// RemoteGrader grades an Evaluator's predictions somewhere else than in
// this process's sandboxes. It calls record once with the result of each
// prediction (an infrastructure failure, Infra set, for one it could not
// grade) and returns when every prediction is recorded or ctx ends.
type RemoteGrader interface {
	GradeRemote(ctx context.Context, e *Evaluator, tasks map[string]sdk.Task, todo []sdk.Prediction,
		record func(sdk.Prediction, harness.Result) error) error
}

// EvalItem is what a worker needs to grade one prediction: the task, the
// prediction, the environments that say how to build its sandbox and
// where its repository is (ItemRepos), and how to grade.
type EvalItem struct {
	Task       sdk.Task       `json:"task"`
	Prediction sdk.Prediction `json:"prediction"`
	ItemRepos
	Timeout time.Duration `json:"timeout,omitempty"`
	Rules   harness.Rules `json:"rules"`
	// Graded is the digest of what is graded (gradedDigest); a result
	// that carries another is stale.
	Graded string `json:"graded_input"`
}

// QueueGrader grades over a NATS JetStream queue: it publishes an
// EvalItem per prediction as job Job and records the results swelego
// workers publish. A result of another digest (its task or prediction
// changed since) is ignored and the item graded again; a parked item is
// recorded as an infrastructure failure with each attempt's error, so it
// is not stored and a rerun tries it again.
type QueueGrader struct {
	Client *queue.Client
	Job    string
	// Repos makes what each item carries of the repositories: e.Envs
	// resolves the environment of each task on this machine.
	Repos *RepoShipper
	// Workers, when set, counts what each worker did.
	Workers *WorkerCounts
}

var _ RemoteGrader = (*QueueGrader)(nil)

func (q *QueueGrader) GradeRemote(ctx context.Context, e *Evaluator, tasks map[string]sdk.Task, todo []sdk.Prediction,
	record func(sdk.Prediction, harness.Result) error) error {
	byID := make(map[string]sdk.Prediction, len(todo))
	digests := make(map[string]string, len(todo))
	items := make([]queue.Item, 0, len(todo))
	for _, p := range todo {
		t := tasks[p.InstanceID]
		repos, err := q.Repos.ForTask(ctx, e.Envs, t)
		if err != nil {
			return err
		}
		it := EvalItem{Task: t, Prediction: p, ItemRepos: repos,
			Timeout: e.Harness.Timeout, Rules: e.Harness.Rules, Graded: gradedDigest(t, p)}
		data, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("%s: %w", p.InstanceID, err)
		}
		byID[p.InstanceID], digests[p.InstanceID] = p, it.Graded
		items = append(items, queue.Item{Key: p.InstanceID, Kind: EvalItemKind, Payload: data})
	}
	return q.Client.Run(ctx, q.Job, items, func(ctx context.Context, o queue.Outcome) (bool, error) {
		p := byID[o.Key]
		if o.Parked {
			q.Workers.add(o)
			r := harness.Result{InstanceID: o.Key, Status: harness.ResultError, ExitCode: -1, Infra: true,
				Error: fmt.Sprintf("parked after %d failed attempts: %s", len(o.Errors), strings.Join(o.Errors, "; "))}
			return true, record(p, r)
		}
		var rec struct {
			harness.Result
			Graded string `json:"graded_input"`
		}
		if err := json.Unmarshal(o.Payload, &rec); err != nil {
			e.Logger.Warn("unreadable result from a worker; ignored", "instance_id", o.Key, "worker", o.Worker, "error", err)
			return false, nil
		}
		if rec.Graded != digests[o.Key] || rec.InstanceID != o.Key {
			return false, nil // graded from another task or prediction
		}
		q.Workers.add(o)
		err := record(p, rec.Result)
		if errors.Is(err, engine.ErrDuplicateKey) {
			return true, nil
		}
		return true, err
	})
}

// handleEval grades one EvalItem: a worker's handler of EvalItemKind. An
// infrastructure failure is an error (the attempt failed, another worker
// may try); a grade, whatever its status, is the result.
func (w *Worker) handleEval(ctx context.Context, it queue.Item) (json.RawMessage, error) {
	item, err := DecodeEvalItem(it)
	if err != nil {
		return nil, err
	}
	envs, err := w.managerFor(ctx, item.ItemRepos)
	if err != nil {
		return nil, err
	}
	ev := &Evaluator{Envs: envs, Logger: w.logger(), LogParsers: w.LogParsers,
		Harness: harness.Options{Timeout: item.Timeout, Rules: item.Rules}}
	r := ev.gradeOne(ctx, item.Task, item.Prediction)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if r.Infra {
		return nil, errors.New(r.Error)
	}
	return json.Marshal(resultRecord{Result: r, Graded: item.Graded})
}

// DecodeEvalItem reads the eval item a queue item carries, checking that
// it is one and that its task and prediction are those of its key.
func DecodeEvalItem(it queue.Item) (EvalItem, error) {
	var item EvalItem
	if it.Kind != EvalItemKind {
		return item, fmt.Errorf("item kind %q: this worker grades %q items", it.Kind, EvalItemKind)
	}
	if err := json.Unmarshal(it.Payload, &item); err != nil {
		return item, fmt.Errorf("eval item %s: %w", it.Key, err)
	}
	if it.Key == "" || item.Prediction.InstanceID != it.Key || item.Task.InstanceID != it.Key {
		return item, fmt.Errorf("eval item %q: holds the task %q and the prediction of %q", it.Key, item.Task.InstanceID, item.Prediction.InstanceID)
	}
	return item, nil
}

// queueGrader connects to the queue block's server and makes the grader
// of the stage at address in run; close closes the connection.
func queueGrader(ctx context.Context, q *hcl.Queue, runID, address string, envs []taskenv.Environment, repoDirs []string, log *slog.Logger) (*QueueGrader, func(), error) {
	c, err := queueClient(ctx, q, address, log)
	if err != nil {
		return nil, nil, err
	}
	return &QueueGrader{Client: c, Job: queue.JobID(runID, address), Repos: NewRepoShipper(q.Repos, c, envs, repoDirs, log)}, c.Close, nil
}

// queueClient connects to the queue block's server as the coordinator of
// the stage at address.
func queueClient(ctx context.Context, q *hcl.Queue, address string, log *slog.Logger) (*queue.Client, error) {
	return queue.Connect(ctx, q.URL, queue.Options{AckWait: q.AckWait, MaxAttempts: q.MaxAttempts, Name: "swelego coordinator " + address, Logger: log})
}

// repoDirs are the folders where a stage's items find repositories: the
// recipe's folder and its repos/ folder, made absolute.
func (s *stageBase) repoDirs() []string {
	return absPaths([]string{s.recipe.Dir, filepath.Join(s.recipe.Dir, "repos")})
}

// absPaths makes each folder absolute: items carry paths every worker
// shares (a queue's repos = "shared"), not paths relative to the
// coordinator's folder.
func absPaths(dirs []string) []string {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if a, err := filepath.Abs(d); err == nil {
			d = a
		}
		out = append(out, d)
	}
	return out
}
