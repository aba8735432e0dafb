package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/plugins/swetools"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// sandboxVerifier scores a rollout from what a command sees in the
// sandbox it is lent (the repository's tracked files) and from the patch,
// so that a score tells the sandbox and the patch it came from; it fails
// when it is shown the grade or the fix.
type sandboxVerifier struct{}

func (sandboxVerifier) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	if req.Sandbox == nil {
		return sdk.Score{}, errors.New("no sandbox lent")
	}
	if req.Task.Patch != "" || req.Trajectory.Status != "" || req.Trajectory.Tests != nil {
		return sdk.Score{}, errors.New("shown the fix or the grade")
	}
	r, err := req.Sandbox.Exec(ctx, "git ls-files | wc -l", time.Minute)
	if err != nil {
		return sdk.Score{}, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(r.Output))
	if err != nil {
		return sdk.Score{}, fmt.Errorf("ls-files: %q", r.Output)
	}
	return sdk.Score{Value: float64(n) + float64(len(req.Patch))/1e6, Details: string(req.Config)}, nil
}

// TestQueueRollouts plays oracle rollout attempts here and through an
// embedded JetStream server on in-process workers (bwrap), then scores
// them both ways, as rollouts and as reranked candidates: the distributed trajectories and scores equal the local
// ones; a worker that dies holding an item (its connection closed, its
// heartbeats stopped) loses it to another after the ack wait; an attempt
// no worker can play (its repository is nowhere) is parked and reported
// as not played, and nothing is stored for it; an attempt that plays
// longer than the ack wait keeps its item by heartbeats; a coordinator
// run again over results already published stores each once.
func TestQueueRollouts(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Setenv("SWELEGO_CACHE", benchStore) // the workers' store
	backend, err := sandbox.New(ctx, "bwrap", sandbox.Options{RunID: "test-queue-rollouts"})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	repos, _ := filepath.Abs("../../examples/repos")
	tasks := bundledTasks(t, "textkit__textkit-1")
	if len(tasks) != 1 {
		t.Fatalf("%d bundled tasks", len(tasks))
	}
	ghost := tasks[0]
	ghost.InstanceID, ghost.Repo = "ghost__ghost-1", "swelego-examples/ghost"
	tools := sdktest.Connect(t, swetools.New()).ToolSet()
	settings := AttemptSettings{MaxTurns: 60}
	model := AttemptModel{Oracle: true, ErrorRate: 0.3, Seed: 5}

	// Local: what a rollout stage without a queue plays.
	envs := taskenv.New(taskenv.Options{Store: benchStore, Languages: benchLanguages(), DefaultLanguage: "python", Backend: backend, RepoDirs: []string{repos}})
	ev := &Evaluator{Envs: envs, Logger: discardLogger()}
	local := map[string]sdk.Trajectory{}
	for n := 1; n <= 2; n++ {
		tr, infra := playAttempt(ctx, envs, ev, model, nil, settings.options(tools, nil, discardLogger()), attemptKey{tasks[0], n})
		if infra {
			t.Fatalf("attempt %d: %s", n, tr.Error)
		}
		local[rolloutKey(tr.InstanceID, n)] = tr
	}

	url := queuetest.Start(t)
	worker := &Worker{Backend: backend, Languages: benchLanguages(), DefaultLanguage: "python", RunID: "test-queue-rollouts",
		ToolSets:  func(context.Context, string) (sdk.ToolSet, error) { return tools, nil },
		Verifiers: func(context.Context, string) (sdk.Verifier, error) { return sandboxVerifier{}, nil }}
	work := func(name string, h queue.Handler) (stop func(), c *queue.Client) {
		c, err := queue.Connect(ctx, url, queue.Options{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		drain, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			c.Work(wctx, drain, h, queue.WorkOptions{Slots: 2, Kinds: WorkerKinds})
		}()
		return func() { close(drain); cancel(); <-done; c.Close() }, c
	}
	// The doomed worker takes an attempt and never answers (the ghost's
	// item fails here as on any worker).
	took := make(chan string, 1)
	release := make(chan struct{})
	stopDoomed, doomed := work("doomed", func(ctx context.Context, it queue.Item) (json.RawMessage, error) {
		if strings.HasPrefix(it.Key, ghost.InstanceID) {
			return nil, errors.New("no repository")
		}
		select {
		case took <- it.Key:
		default:
		}
		<-release
		return nil, errors.New("released")
	})
	defer stopDoomed()
	defer close(release)

	coord, err := queue.Connect(ctx, url, queue.Options{AckWait: 2 * time.Second, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	out, err := engine.OpenWriter(filepath.Join(t.TempDir(), "trajectories.jsonl"), engine.KeyFields("instance_id", "attempt"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	counts := &WorkerCounts{m: map[string]*WorkerCount{}}
	player := &QueuePlayer{Client: coord, Job: queue.JobID("run", "rollout.x"), Workers: counts}
	item := func(task sdk.Task, n int) RolloutItem {
		return RolloutItem{Task: task, Attempt: n, ItemRepos: ItemRepos{RepoDirs: []string{repos}}, Agent: settings, Toolset: "swetools", Model: model}
	}
	var (
		mu        sync.Mutex
		notPlayed []string
		dups      int
	)
	// record does what the rollout stage's does: an infrastructure
	// failure is reported, a trajectory appended by key.
	record := func(tr sdk.Trajectory, infra bool) error {
		mu.Lock()
		defer mu.Unlock()
		if infra {
			notPlayed = append(notPlayed, rolloutKey(tr.InstanceID, tr.Attempt)+": "+tr.Error)
			return nil
		}
		err := out.Append(ctx, rolloutKey(tr.InstanceID, tr.Attempt), tr)
		if errors.Is(err, engine.ErrDuplicateKey) {
			dups++
		}
		return err
	}
	played := make(chan error, 1)
	go func() {
		played <- player.PlayRemote(ctx, []RolloutItem{item(tasks[0], 1), item(tasks[0], 2), item(ghost, 1)}, record)
	}()
	select {
	case key := <-took:
		t.Logf("the doomed worker took %s", key)
	case err := <-played:
		t.Fatalf("played before the doomed worker took an item: %v", err)
	}
	doomed.Close() // dies: no heartbeat, no answer
	// The good worker: each of its runs counted, the longest timed.
	runs := map[string]int{}
	var longest time.Duration
	stopGood, _ := work("good", func(ctx context.Context, it queue.Item) (json.RawMessage, error) {
		began := time.Now()
		out, err := worker.Handle(ctx, it)
		mu.Lock()
		runs[it.Key]++
		longest = max(longest, time.Since(began))
		mu.Unlock()
		return out, err
	})
	defer stopGood()
	if err := <-played; err != nil {
		t.Fatal(err)
	}

	got := readTrajectoryFile(t, out.Path())
	if len(got) != len(local) {
		t.Errorf("stored %d trajectories, want %d: %v", len(got), len(local), got)
	}
	for key, want := range local {
		tr, ok := got[key]
		if !ok {
			t.Errorf("%s not stored", key)
			continue
		}
		if tr.Status != want.Status || tr.FinalPatch != want.FinalPatch || len(tr.Turns) != len(want.Turns) || tr.Model != want.Model {
			t.Errorf("%s: distributed %s, %d turns, model %s, patch %q; local %s, %d turns, model %s, patch %q", key,
				tr.Status, len(tr.Turns), tr.Model, tr.FinalPatch, want.Status, len(want.Turns), want.Model, want.FinalPatch)
		}
	}
	if len(notPlayed) != 1 || !strings.HasPrefix(notPlayed[0], "ghost__ghost-1/1: parked after 2 failed attempts") {
		t.Errorf("not played: %q, want the ghost's attempt parked", notPlayed)
	}
	// Heartbeats keep an attempt that plays longer than the ack wait:
	// the good worker ran each attempt once.
	mu.Lock()
	for key, n := range runs {
		if !strings.HasPrefix(key, ghost.InstanceID) && n != 1 {
			t.Errorf("%s ran %d times on the good worker (the longest item took %s, the ack wait is 2s)", key, n, longest)
		}
	}
	t.Logf("the longest item took %s", longest)
	mu.Unlock()
	if c := counts.m["good"]; c == nil || c.Items != 2 {
		t.Errorf("counts %+v, want 2 items for the good worker", counts.m)
	}
	// A coordinator run again over the same attempts (its records not
	// read) takes the published results and stores nothing twice.
	if err := player.PlayRemote(ctx, []RolloutItem{item(tasks[0], 1), item(tasks[0], 2)}, record); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 2 || dups != 2 {
		t.Errorf("%d records, %d duplicates refused; want 2 and 2", out.Len(), dups)
	}

	// Scores: the verifier in a sandbox here and on the worker, of each
	// rollout (with its trajectory) and of its patch as a reranked
	// candidate (numbered from 0 within a hypothetical predictions file).
	cfg := sdk.Config(`{"rubric":"x"}`)
	scorer := &QueueScorer{Client: coord, Job: queue.JobID("run", "tts.x", ScoreItemKind)}
	var items []ScoreItem
	localScores := map[string]sdk.Score{}
	lend := func(ctx context.Context, t sdk.Task) (sandbox.Sandbox, error) {
		_, sb, err := lendSandbox(ctx, envs, t)
		return sb, err
	}
	for key, tr := range got {
		s, err := verifyRollout(ctx, envs, sandboxVerifier{}, cfg, nil, tasks[0], tr)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		localScores[key] = s
		blind := blindTrajectory(tr)
		items = append(items, ScoreItem{Task: tasks[0], Candidate: tr.Attempt, Trajectory: &blind,
			ItemRepos: ItemRepos{RepoDirs: []string{repos}}, Verifier: "v", Config: json.RawMessage(cfg)})
		cand := rolloutKey(tr.InstanceID, tr.Attempt+10)
		if localScores[cand], err = verifyCandidate(ctx, lend, sandboxVerifier{}, cfg, nil, tasks[0], tr.FinalPatch); err != nil {
			t.Fatalf("%s: %v", cand, err)
		}
		items = append(items, ScoreItem{Task: tasks[0], Candidate: tr.Attempt + 10, Patch: tr.FinalPatch,
			ItemRepos: ItemRepos{RepoDirs: []string{repos}}, Verifier: "v", Config: json.RawMessage(cfg)})
	}
	scores := map[string]sdk.Score{}
	err = scorer.ScoreRemote(ctx, items, func(it ScoreItem, s sdk.Score, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", it.key(), err)
		}
		scores[it.key()] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != len(localScores) {
		t.Errorf("%d scores, want %d", len(scores), len(localScores))
	}
	for key, want := range localScores {
		if s := scores[key]; s.Value != want.Value || s.Details != want.Details || want.Value < 1 {
			t.Errorf("%s: distributed score %+v, local %+v", key, s, want)
		}
	}
}

// readTrajectoryFile reads a trajectories output by key.
func readTrajectoryFile(t *testing.T, path string) map[string]sdk.Trajectory {
	t.Helper()
	out := map[string]sdk.Trajectory{}
	err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var tr sdk.Trajectory
		if err := json.Unmarshal(raw, &tr); err != nil {
			return err
		}
		out[rolloutKey(tr.InstanceID, tr.Attempt)] = tr
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecodeRolloutItem: a worker takes only a rollout item keyed by its
// own attempt, with a model it can make.
func TestDecodeRolloutItem(t *testing.T) {
	payload := func(it RolloutItem) json.RawMessage {
		data, _ := json.Marshal(it)
		return data
	}
	task := sdk.Task{InstanceID: "a__b-1"}
	oracle := RolloutItem{Task: task, Attempt: 2, Toolset: "swetools", Model: AttemptModel{Oracle: true, Seed: 5}}
	endpoint := RolloutItem{Task: task, Attempt: 1, Model: AttemptModel{Endpoint: &llm.Config{BaseURL: "http://m/v1", APIKeyEnv: "KEY"}, Name: "m"}}
	cases := []struct {
		name string
		it   queue.Item
		want string // "" for accepted
	}{
		{name: "oracle", it: queue.Item{Key: "a__b-1/2", Kind: RolloutItemKind, Payload: payload(oracle)}},
		{name: "endpoint", it: queue.Item{Key: "a__b-1/1", Kind: RolloutItemKind, Payload: payload(endpoint)}},
		{name: "other kind", it: queue.Item{Key: "a__b-1/2", Kind: EvalItemKind, Payload: payload(oracle)}, want: `kind "eval"`},
		{name: "key of another attempt", it: queue.Item{Key: "a__b-1/1", Kind: RolloutItemKind, Payload: payload(oracle)}, want: "holds attempt 2"},
		{name: "no attempt", it: queue.Item{Key: "a__b-1/0", Kind: RolloutItemKind, Payload: payload(RolloutItem{Task: task, Model: oracle.Model})}, want: "holds attempt 0"},
		{name: "no model", it: queue.Item{Key: "a__b-1/1", Kind: RolloutItemKind, Payload: payload(RolloutItem{Task: task, Attempt: 1})}, want: "neither the oracle nor an endpoint"},
		{name: "not JSON", it: queue.Item{Key: "a__b-1/1", Kind: RolloutItemKind, Payload: json.RawMessage("[")}, want: "rollout item a__b-1/1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			item, err := DecodeRolloutItem(tc.it)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if data, _ := json.Marshal(item); string(data) != string(tc.it.Payload) {
					t.Errorf("decoded %s, sent %s", data, tc.it.Payload)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestDecodeScoreItem: a worker takes only a score item keyed by its own
// candidate (and rollout, when it holds one) that names a verifier.
func TestDecodeScoreItem(t *testing.T) {
	payload := func(it ScoreItem) json.RawMessage {
		data, _ := json.Marshal(it)
		return data
	}
	good := ScoreItem{Task: sdk.Task{InstanceID: "a"}, Candidate: 3, Trajectory: &sdk.Trajectory{InstanceID: "a", Attempt: 3}, Verifier: "v"}
	cases := []struct {
		name string
		it   queue.Item
		want string
	}{
		{name: "score item", it: queue.Item{Key: "a/3", Kind: ScoreItemKind, Payload: payload(good)}},
		{name: "other kind", it: queue.Item{Key: "a/3", Kind: RolloutItemKind, Payload: payload(good)}, want: `kind "rollout"`},
		{name: "reranked candidate", it: queue.Item{Key: "a/0", Kind: ScoreItemKind,
			Payload: payload(ScoreItem{Task: good.Task, Patch: "diff", Verifier: "v"})}},
		{name: "other kind", it: queue.Item{Key: "a/3", Kind: RolloutItemKind, Payload: payload(good)}, want: `kind "rollout"`},
		{name: "key of another candidate", it: queue.Item{Key: "a/1", Kind: ScoreItemKind, Payload: payload(good)}, want: "holds candidate 3"},
		{name: "trajectory of another instance", it: queue.Item{Key: "b/3", Kind: ScoreItemKind,
			Payload: payload(ScoreItem{Task: sdk.Task{InstanceID: "b"}, Candidate: 3, Trajectory: good.Trajectory, Verifier: "v"})}, want: `holds candidate 3 of "b"`},
		{name: "trajectory of another rollout", it: queue.Item{Key: "a/2", Kind: ScoreItemKind,
			Payload: payload(ScoreItem{Task: good.Task, Candidate: 2, Trajectory: good.Trajectory, Verifier: "v"})}, want: "holds candidate 2"},
		{name: "no verifier", it: queue.Item{Key: "a/3", Kind: ScoreItemKind,
			Payload: payload(ScoreItem{Task: good.Task, Candidate: 3, Trajectory: good.Trajectory})}, want: "names no verifier"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeScoreItem(tc.it)
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestQueueModels: over a queue, a rollout stage's attempts and a tts
// stage's rollouts (which it plays as a rollout stage does) refuse a
// model served from a local checkpoint on the coordinator's loopback,
// before anything runs; a verifier's endpoint travels as its client's
// settings, naming the variable that holds the key and never the key.
func TestQueueModels(t *testing.T) {
	const src = `
source "swebench" "a" {}
model "policy" {
  provider   = "local"
  checkpoint = "ck"
}
model "judge" {
  provider    = "openai"
  base_url    = "http://judge/v1"
  name        = "j"
  api_key_env = "JUDGE_KEY"
}
rollout "r" {
  tasks = source.swebench.a
  model = model.policy
}
tts "t" {
  tasks = source.swebench.a
  model = model.policy
  k     = 2
  verifier "v" {
    model = model.judge
  }
}
queue {
  url = "nats://q:4222"
}
`
	t.Setenv("JUDGE_KEY", "secret-judge-key")
	stages, err := Stages(loadRecipe(t, src, "ck/config.json"), nil, testLanguages)
	if err != nil {
		t.Fatal(err)
	}
	var ro *rolloutStage
	var tts *ttsStage
	for _, st := range stages {
		switch s := st.(type) {
		case *rolloutStage:
			ro = s
		case *ttsStage:
			tts = s
		}
	}
	tasks := []sdk.Task{{InstanceID: "a__b-1"}}
	for name, s := range map[string]*rolloutStage{"rollout": ro, "tts": tts.rollouts()} {
		_, err := s.playAttempts(context.Background(), nil, nil, nil, tasks, 1)
		if err == nil || !strings.Contains(err.Error(), "loopback, which workers cannot reach") {
			t.Errorf("%s: %v, want the local model refused", name, err)
		}
	}
	lent, err := tts.lentEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(ScoreItem{Model: lent})
	if lent.BaseURL != "http://judge/v1" || lent.APIKeyEnv != "JUDGE_KEY" || strings.Contains(string(data), "secret") {
		t.Errorf("lent endpoint %s", data)
	}
	for provider, want := range map[string]string{"local": "loopback", "oracle": "cannot judge"} {
		tts.cfg.VerifierModel = "model.policy"
		tts.recipe.Block("model.policy").Settings.(*hcl.Model).Provider = provider
		if _, err := tts.lentEndpoint(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("verifier model %s: %v, want %q", provider, err, want)
		}
	}
}
