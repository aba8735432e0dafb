package sdk_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestRoundTrip sends every kind's data through real gRPC and checks it
// arrives unchanged in both directions.
func TestRoundTrip(t *testing.T) {
	cfg := sdk.Config(`{"threshold": 0.5, "tests": ["a", "b"]}`)
	tests := []struct {
		name string
		run  func(t *testing.T, c *sdk.Client, k *kinds)
	}{
		{"info", func(t *testing.T, c *sdk.Client, k *kinds) {
			got, err := c.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := sdk.Info{Name: "kinds", Version: "1.2.3", Description: "every kind", ProtocolVersions: []int{sdk.ProtocolVersion}, Kinds: sdk.Kinds}
			equal(t, "info", got, want)
		}},
		{"config schema", func(t *testing.T, c *sdk.Client, k *kinds) {
			got, err := c.ConfigSchema(context.Background(), sdk.KindVerifier)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "verifier schema", got, k.plugin().Schemas[sdk.KindVerifier])
			got, err = c.ConfigSchema(context.Background(), sdk.KindCurriculum)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "schema of a kind without one", got, sdk.Schema{})
		}},
		{"task source", func(t *testing.T, c *sdk.Client, k *kinds) {
			k.tasks = []sdk.Task{decodeTask(t, sweBenchTask), decodeTask(t, sweSmithTask), bigTask()}
			var got []sdk.Task
			err := c.TaskSource().Tasks(context.Background(), cfg, func(task sdk.Task) error {
				got = append(got, task)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "tasks", got, k.tasks)
			equal(t, "config", k.gotConfig, cfg)
			sameJSON(t, got[0], k.tasks[0])
		}},
		{"bug injector", func(t *testing.T, c *sdk.Client, k *kinds) {
			k.mutations = []sdk.Mutation{
				{ID: "m1", Injector: "ast", Kind: "flip_operator", File: "a.py", Line: 12, Symbol: "f", Diff: "diff --git a/a.py b/a.py\n", Meta: map[string]string{"op": "<"}},
				{ID: "m2", Injector: "lm", Kind: "rewrite", File: "b.py", Diff: "diff\n"},
			}
			req := sdk.InjectRequest{Config: cfg, Repo: "astropy/astropy", Language: "python", Sandbox: newHostSandbox(), Model: &hostModel{}}
			var got []sdk.Mutation
			err := c.BugInjector().Mutations(context.Background(), req, func(m sdk.Mutation) error {
				got = append(got, m)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "mutations", got, k.mutations)
			equal(t, "request", k.gotInject, sdk.InjectRequest{Config: cfg, Repo: "astropy/astropy", Language: "python"})
			equal(t, "lent sandbox, model", k.lentInject, [2]bool{true, true})
		}},
		{"tool set", func(t *testing.T, c *sdk.Client, k *kinds) {
			k.tools = []sdk.ToolSchema{
				{Name: "execute_bash", Description: "Run a command.", Parameters: json.RawMessage(`{"type":"object","properties":{"command":{"type":"string"}}}`)},
				{Name: "finish", Description: "Finish."},
			}
			got, err := c.ToolSet().Tools(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "tools", got, k.tools)
			sb := newHostSandbox()
			call := sdk.ToolCall{ID: "call_9", Type: "function", Function: sdk.FunctionCall{Name: "finish", Arguments: "pytest -rA"}}
			res, err := c.ToolSet().Execute(context.Background(), sdk.ToolRequest{Config: cfg, Call: call, Sandbox: sb})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "result", res, sdk.ToolResult{Output: "PASSED tests/test_x.py::test_fix\n", Finished: true})
			equal(t, "request", k.gotTool, sdk.ToolRequest{Config: cfg, Call: call})
			equal(t, "sandbox execs", sb.execs, []string{"pytest -rA (0s)"})
		}},
		{"loss masker", func(t *testing.T, c *sdk.Client, k *kinds) {
			traj := trajectory()
			got, err := c.LossMasker().Mask(context.Background(), cfg, traj)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "trajectory", k.gotTraj, traj)
			equal(t, "weights", got, []sdk.LossWeight{{Index: 2, Weight: 0, Reason: "turn_mask"}, {Index: 4, Weight: 1}})
		}},
		{"log parser", func(t *testing.T, c *sdk.Client, k *kinds) {
			log := "ok tests/a.t::first case\nnot ok tests/b.t::[weird] id\n# comment\n"
			got, err := c.LogParser().ParseLog(context.Background(), cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "log", k.gotLog, log)
			equal(t, "config", k.gotConfig, cfg)
			equal(t, "statuses", got, map[string]sdk.TestStatus{"tests/a.t::first case": sdk.TestPassed, "tests/b.t::[weird] id": sdk.TestFailed})
		}},
		{"curriculum", func(t *testing.T, c *sdk.Client, k *kinds) {
			stats := []sdk.TrajectoryStats{{ID: "a", Turns: 8, Tokens: 9000, Resolved: true}, {ID: "b", Turns: 60, Tokens: 90000}, {ID: "c", Turns: 20}}
			got, err := c.Curriculum().Stages(context.Background(), cfg, stats)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "stats", k.gotStats, stats)
			equal(t, "stages", got, []sdk.CurriculumStage{{Name: "easy", IDs: []string{"a", "c"}, Epochs: 1.5}, {Name: "hard", IDs: []string{"b"}, Epochs: 2.5}})
		}},
		{"verifier", func(t *testing.T, c *sdk.Client, k *kinds) {
			req := sdk.VerifyRequest{Config: cfg, Task: decodeTask(t, sweBenchTask), Trajectory: trajectory(), Patch: "diff --git a/x b/x\n"}
			got, err := c.Verifier().Verify(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "score", got, sdk.Score{Value: 0.75, Label: "YES", Details: "19 bytes of patch", Parts: map[string]float64{"p_yes": 0.75, "pass_rate": 0.5}})
			equal(t, "request", k.gotVerify, req)
			sameJSON(t, k.gotVerify.Task, req.Task)
		}},
		{"verifier rank", func(t *testing.T, c *sdk.Client, k *kinds) {
			req := sdk.RankRequest{Config: cfg, Task: decodeTask(t, sweBenchTask), Candidates: []sdk.RankCandidate{
				{Key: "rollout-2", Score: sdk.Score{Value: 0.9, Label: "YES", Parts: map[string]float64{"p_yes": 0.9, "pass_rate": 0.5}}},
				{Key: "rollout-0", Score: sdk.Score{Value: 0.2, Details: "no judgement", Parts: map[string]float64{"pass_rate": 1}}},
				{Key: "rollout-1", Score: sdk.Score{Value: 0}},
			}}
			got, err := c.Verifier().(sdk.Ranker).Rank(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "request", k.gotRank, req)
			sameJSON(t, k.gotRank.Task, req.Task)
			equal(t, "selection scores", got, map[string]float64{"rollout-2": 5.9, "rollout-0": 10.2, "rollout-1": 0})
		}},
		{"verifier with a bare patch", func(t *testing.T, c *sdk.Client, k *kinds) {
			req := sdk.VerifyRequest{Task: sdk.Task{InstanceID: "x"}, Patch: "p"}
			if _, err := c.Verifier().Verify(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			equal(t, "request", k.gotVerify, req)
		}},
		{"payload over 8 MiB", func(t *testing.T, c *sdk.Client, k *kinds) {
			big := bigTask()
			k.tasks = []sdk.Task{big}
			var got sdk.Task
			err := c.TaskSource().Tasks(context.Background(), nil, func(task sdk.Task) error { got = task; return nil })
			if err != nil {
				t.Fatalf("plugin to host: %v", err)
			}
			equal(t, "streamed task", got, big)
			if _, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Task: big, Patch: big.Patch}); err != nil {
				t.Fatalf("host to plugin: %v", err)
			}
			equal(t, "verified task", k.gotVerify.Task, big)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &kinds{}
			tt.run(t, sdktest.Connect(t, k.plugin()), k)
		})
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

// sameJSON checks that two tasks encode to the same bytes.
func sameJSON(t *testing.T, got, want sdk.Task) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("task JSON:\n got %s\nwant %s", g, w)
	}
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 2000 {
		return reflect.TypeOf(v).String() + " (too long to show)"
	}
	return string(b)
}
