package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/sdk"
)

// TestWorkerRefuses: items a worker cannot run are failed attempts with
// a reason, before any sandbox is opened.
func TestWorkerRefuses(t *testing.T) {
	payload := func(it ValidateItem) json.RawMessage {
		data, _ := json.Marshal(it)
		return data
	}
	one := ValidateItem{InstanceID: "a", Mutations: []string{"diff"}}
	two := ValidateItem{InstanceID: "a", Mutations: []string{"d1", "d2"}, Compile: true}
	cases := []struct {
		name string
		it   queue.Item
		want string
	}{
		{"unknown kind", queue.Item{Key: "a", Kind: "train", Payload: payload(one)}, `kind "train"`},
		{"not JSON", queue.Item{Key: "a", Kind: ValidateItemKind, Payload: json.RawMessage("[")}, "validate item a"},
		{"another candidate", queue.Item{Key: "b", Kind: ValidateItemKind, Payload: payload(one)}, `holds the candidate "a"`},
		{"no mutation", queue.Item{Key: "a", Kind: ValidateItemKind, Payload: payload(ValidateItem{InstanceID: "a"})}, "0 mutations"},
		{"compile check of a combination", queue.Item{Key: "a", Kind: ValidateItemKind, Payload: payload(two)}, "2 mutations"},
		{"eval item of another kind's payload", queue.Item{Key: "a", Kind: EvalItemKind, Payload: payload(one)}, "eval item"},
	}
	w := &Worker{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.Handle(context.Background(), tc.it)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Handle: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestWorkerForgetsFailures: after a failed attempt the worker makes its
// environment managers afresh (a manager keeps a failed image build), and
// keeps them while items succeed.
func TestWorkerForgetsFailures(t *testing.T) {
	w := &Worker{Store: t.TempDir()}
	ctx := context.Background()
	repos := ItemRepos{RepoDirs: []string{"../../examples/repos"}}
	first, err := w.managerFor(ctx, repos)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := w.managerFor(ctx, repos); again != first {
		t.Fatalf("a second item of the same repositories got another manager")
	}
	if _, err := w.Handle(ctx, queue.Item{Key: "a", Kind: ValidateItemKind, Payload: json.RawMessage("[")}); err == nil {
		t.Fatal("a broken item did not fail")
	}
	if after, _ := w.managerFor(ctx, repos); after == first {
		t.Errorf("the manager of before the failed attempt is still used")
	}
}

// TestWorkerRefusesAgentWork: a rollout or score item this worker cannot
// run (no plugins of the kind, or an endpoint whose key variable is not
// set here) is a failed attempt, for another worker to take, before any
// sandbox is opened; no trajectory or score is made of it.
func TestWorkerRefusesAgentWork(t *testing.T) {
	t.Setenv("SWELEGO_TEST_UNSET_KEY", "")
	item := func(kind string, v any) queue.Item {
		data, _ := json.Marshal(v)
		return queue.Item{Key: "a/1", Kind: kind, Payload: data}
	}
	task := sdk.Task{InstanceID: "a"}
	oracle := RolloutItem{Task: task, Attempt: 1, Toolset: "swetools", Model: AttemptModel{Oracle: true}}
	keyless := RolloutItem{Task: task, Attempt: 1, Toolset: "swetools",
		Model: AttemptModel{Endpoint: &llm.Config{BaseURL: "http://m/v1", APIKeyEnv: "SWELEGO_TEST_UNSET_KEY"}, Name: "m"}}
	score := ScoreItem{Task: task, Candidate: 1, Trajectory: &sdk.Trajectory{InstanceID: "a", Attempt: 1}, Verifier: "v",
		Model: &llm.Config{BaseURL: "http://j/v1", APIKeyEnv: "SWELEGO_TEST_UNSET_KEY"}}
	plugins := &Worker{
		ToolSets:  func(context.Context, string) (sdk.ToolSet, error) { return nil, nil },
		Verifiers: func(context.Context, string) (sdk.Verifier, error) { return sandboxVerifier{}, nil },
	}
	missing := &Worker{
		ToolSets: func(_ context.Context, name string) (sdk.ToolSet, error) {
			return nil, fmt.Errorf("no plugin %q", name)
		},
	}
	cases := []struct {
		name string
		w    *Worker
		it   queue.Item
		want string
	}{
		{"rollout without tool sets", &Worker{}, item(RolloutItemKind, oracle), "no tool-set plugins"},
		{"rollout with a tool set missing", missing, item(RolloutItemKind, oracle), `tool set "swetools": no plugin "swetools"`},
		{"rollout without the endpoint's key", plugins, item(RolloutItemKind, keyless), "model: "},
		{"score without verifiers", &Worker{}, item(ScoreItemKind, score), "no verifier plugins"},
		{"score without the judge's key", plugins, item(ScoreItemKind, score), "verifier model: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.w.Handle(context.Background(), tc.it)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != nil {
				t.Errorf("Handle: %s, %v; want an error containing %q", out, err, tc.want)
			}
			if strings.Contains(tc.name, "key") && !errors.Is(err, llm.ErrNoAPIKey) {
				t.Errorf("Handle: %v, want llm.ErrNoAPIKey", err)
			}
		})
	}
}
