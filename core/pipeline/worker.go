package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/sdk"
)

// Worker runs the queue items coordinators publish (grading predictions,
// validating synthetic candidates, playing rollout attempts, scoring
// rollouts) with its own sandbox backend and plugins: the handler of
// `swelego worker`.
type Worker struct {
	Backend         sandbox.Backend
	Languages       *language.Set
	DefaultLanguage string
	LogParsers      func(ctx context.Context, name string) (sdk.LogParser, error)
	// ToolSets and Verifiers find the worker's plugins of a name, for
	// rollout and score items; nil refuses those items.
	ToolSets  func(ctx context.Context, name string) (sdk.ToolSet, error)
	Verifiers func(ctx context.Context, name string) (sdk.Verifier, error)
	// RunID labels the worker's sandboxes.
	RunID  string
	Logger *slog.Logger
	// Objects fetches the repository bundles items name (the queue
	// client); Store is the worker's cache: its images, mirrors, and the
	// bundles fetched, under ObjectsDir (default taskenv.DefaultStore()).
	Objects Fetcher
	Store   string

	mu   sync.Mutex
	envs map[string]*taskenv.Manager // by the environments and folders an item names
}

// WorkerKinds are the item kinds a Worker runs.
var WorkerKinds = []string{EvalItemKind, ValidateItemKind, RolloutItemKind, ScoreItemKind}

// Handle runs one item of any kind in WorkerKinds. After a failed
// attempt the worker's environment managers are dropped: a manager keeps
// what it failed at (an image build that met a passing fault, such as a
// cache another process was writing), and a long-lived worker would fail
// every later item of that environment the same way. The images and
// mirrors on disk stay.
func (w *Worker) Handle(ctx context.Context, it queue.Item) (json.RawMessage, error) {
	out, err := w.handle(ctx, it)
	if err != nil && ctx.Err() == nil {
		w.mu.Lock()
		w.envs = nil
		w.mu.Unlock()
	}
	return out, err
}

func (w *Worker) handle(ctx context.Context, it queue.Item) (json.RawMessage, error) {
	switch it.Kind {
	case EvalItemKind:
		return w.handleEval(ctx, it)
	case ValidateItemKind:
		return w.handleValidate(ctx, it)
	case RolloutItemKind:
		return w.handleRollout(ctx, it)
	case ScoreItemKind:
		return w.handleScore(ctx, it)
	}
	return nil, fmt.Errorf("item %s: kind %q: this worker runs %v", it.Key, it.Kind, WorkerKinds)
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// manager returns the environment manager of an item's environments and
// repository folders, made once per distinct set.
func (w *Worker) manager(envs []taskenv.Environment, repoDirs []string) *taskenv.Manager {
	h := sha256.New()
	json.NewEncoder(h).Encode([]any{envs, repoDirs})
	key := hex.EncodeToString(h.Sum(nil))
	w.mu.Lock()
	defer w.mu.Unlock()
	if m, ok := w.envs[key]; ok {
		return m
	}
	if w.envs == nil {
		w.envs = map[string]*taskenv.Manager{}
	}
	m := taskenv.New(taskenv.Options{Store: w.Store, Backend: w.Backend, Environments: envs, RepoDirs: repoDirs,
		RunID: w.RunID, Logger: w.logger(), Languages: w.Languages, DefaultLanguage: w.DefaultLanguage})
	w.envs[key] = m
	return m
}

// WorkersFile is the file in a stage's folder that counts what each
// worker did for the stage, when its items went over a queue.
const WorkersFile = "workers.json"

// WorkerCount is what one worker did for a stage, as its coordinators saw
// it: the items whose results it published, and its attempts that failed
// (known when another worker's outcome, or the parked item, tells them).
type WorkerCount struct {
	Items    int `json:"items"`
	Failures int `json:"failures"`
}

// WorkerCounts counts what each worker did for a stage, by worker name;
// a nil *WorkerCounts counts nothing.
type WorkerCounts struct {
	mu sync.Mutex
	m  map[string]*WorkerCount
}

// LoadWorkerCounts reads the stage folder's WorkersFile, so a resumed
// stage adds to what earlier coordinators counted; a missing or
// unreadable file starts from nothing.
func LoadWorkerCounts(dir string) *WorkerCounts {
	w := &WorkerCounts{m: map[string]*WorkerCount{}}
	if data, err := os.ReadFile(filepath.Join(dir, WorkersFile)); err == nil {
		json.Unmarshal(data, &w.m)
	}
	return w
}

// add counts an outcome that settled its item.
func (w *WorkerCounts) add(o queue.Outcome) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	get := func(name string) *WorkerCount {
		if w.m[name] == nil {
			w.m[name] = &WorkerCount{}
		}
		return w.m[name]
	}
	if !o.Parked && o.Worker != "" {
		get(o.Worker).Items++
	}
	for _, name := range o.FailedOn {
		get(name).Failures++
	}
}

// Write writes the counts to the stage folder's WorkersFile; a failure is
// logged, the stage's records are what counts.
func (w *WorkerCounts) Write(dir string, log *slog.Logger) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m) == 0 {
		return
	}
	if err := writeJSON(filepath.Join(dir, WorkersFile), w.m); err != nil {
		log.Warn("cannot write the workers' counts", "error", err)
	}
}
