package report

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/core/trainer"
	"github.com/swelego/swelego/sdk"
)

// recordStage is an engine stage that writes fixed records, counts and an
// error, so a real run directory (state files, sidecars) holds what a
// pipeline stage of its kind would write.
type recordStage struct {
	address string
	deps    []string
	outputs map[string][]any // output name -> records (keyed by position)
	files   map[string]any   // JSON files in the stage directory
	counts  map[string]int64
	err     error
}

func (s *recordStage) Address() string     { return s.address }
func (s *recordStage) DependsOn() []string { return s.deps }
func (s *recordStage) Fingerprint() string { return "f" }
func (s *recordStage) Run(ctx context.Context, sc *engine.StageContext) error {
	for name, recs := range s.outputs {
		w, err := sc.OpenOutput(name, engine.KeyFields(keyOf[name]...))
		if err != nil {
			return err
		}
		for _, r := range recs {
			key, err := engine.KeyFields(keyOf[name]...)(mustJSON(r))
			if err != nil {
				return err
			}
			if err := w.Append(ctx, key, r); err != nil {
				return err
			}
		}
	}
	for name, v := range s.files {
		if err := os.MkdirAll(sc.Dir(), 0o755); err != nil {
			return err
		}
		data, err := jsonMarshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(sc.Dir(), name), data, 0o644); err != nil {
			return err
		}
	}
	for k, n := range s.counts {
		sc.Count(k, n)
	}
	return s.err
}

// keyOf gives each output's key fields, as the pipeline's stages key them.
var keyOf = map[string][]string{
	pipeline.TasksOutput:        {"instance_id"},
	pipeline.TrajectoriesOutput: {"instance_id", "attempt"},
	pipeline.ResultsOutput:      {"instance_id"},
	pipeline.MetricsOutput:      {"step"},
	pipeline.MasksOutput:        {"id", "message"},
}

// testRun executes stages of every kind through the engine into a fresh
// run directory and loads it.
func testRun(t *testing.T) *Run {
	t.Helper()
	dir := t.TempDir()
	run, err := engine.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	task := sdk.Task{InstanceID: "demo__demo-1", Repo: "demo/demo", Source: "real", Language: "python"}
	traj := sdk.Trajectory{InstanceID: "demo__demo-1", Attempt: 1, Status: sdk.StatusResolved, StopReason: "finished",
		Messages: []sdk.Message{
			{Role: "system", Content: "you are an agent"},
			{Role: "user", Content: "fix <the> bug"},
			{Role: "assistant", Content: "let me look", ToolCalls: []sdk.ToolCall{{ID: "c1", Type: "function", Function: sdk.FunctionCall{Name: "str_replace_editor", Arguments: `{"command":"view","path":"/nope"}`}}}},
			{Role: "tool", ToolCallID: "c1", Content: "ERROR: no such file"},
			{Role: "assistant", Content: "done", ToolCalls: []sdk.ToolCall{{ID: "c2", Type: "function", Function: sdk.FunctionCall{Name: "finish", Arguments: `{}`}}}},
		},
		Turns:      []sdk.Turn{{Error: true}, {}},
		FinalPatch: "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n",
	}
	bad := traj
	bad.InstanceID, bad.Status, bad.Error = "demo__demo-2", sdk.StatusError, "tool set failed: boom"
	stages := []engine.Stage{
		&recordStage{address: "source.swebench.demo", outputs: map[string][]any{pipeline.TasksOutput: {task}}, counts: map[string]int64{"skipped_duplicate": 2},
			files: map[string]any{pipeline.WorkersFile: map[string]pipeline.WorkerCount{"w0": {Items: 3}}}},
		&recordStage{address: "rollout.teacher", deps: []string{"source.swebench.demo"}, outputs: map[string][]any{pipeline.TrajectoriesOutput: {traj, bad}},
			counts: map[string]int64{"not_played": 3}, err: errors.New("3 attempts could not be played because of the infrastructure")},
		&recordStage{address: "eval.gold", deps: []string{"source.swebench.demo"}, outputs: map[string][]any{pipeline.ResultsOutput: {harness.Result{
			InstanceID: "demo__demo-1", Status: harness.ResultResolved, PatchApplied: true,
			FailToPass: map[string]harness.Status{"test_a": harness.StatusPassed}, PassToPass: map[string]harness.Status{"test_b": harness.StatusPassed},
			Log: "test_a PASSED\ntest_b PASSED\n"}}},
			files: map[string]any{pipeline.ReportFile: harness.Report{TotalInstances: 1, SubmittedInstances: 1, ResolvedInstances: 1},
				pipeline.WorkersFile: map[string]pipeline.WorkerCount{"w0": {Items: 2, Failures: 1}, "worker-b": {Items: 1}}}},
		&recordStage{address: "sft.student", outputs: map[string][]any{
			pipeline.MetricsOutput: {trainer.Metrics{Step: 1, Stage: "easy", Loss: 2, LR: 1e-3, TokensPerSec: 100}, trainer.Metrics{Step: 2, Stage: "hard", Loss: 1, LR: 5e-4, TokensPerSec: 120}},
			pipeline.MasksOutput:   {Mask{ID: "demo__demo-1/1", Message: 2, Weight: 0, Reason: "the tool call failed"}},
		}},
	}
	var logs bytes.Buffer
	if err := run.Execute(context.Background(), stages, engine.ExecOptions{Out: &logs}); err == nil || !strings.Contains(err.Error(), "rollout.teacher") {
		t.Fatalf("the failing rollout did not fail the run alone: %v\n%s", err, logs.String())
	}
	run.Close()
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSummary(t *testing.T) {
	t.Parallel()
	r := testRun(t)
	var b bytes.Buffer
	if err := WriteSummary(&b, r, "REPORT"); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(strings.ReplaceAll(b.String(), r.Dir, "RUNDIR"), r.Info.ID, "RUNID")
	for _, want := range []string{
		"summary of run RUNID\n",
		"  source.swebench.demo  tasks: 1 loaded, 2 skipped\n",
		"  rollout.teacher       rollouts: 1 resolved, 0 semi-resolved, 0 unresolved, 1 error; 2 error turns [failed]\n",
		"  eval.gold             eval: 1 resolved of 1 submitted (0 unresolved, 0 empty patch, 0 error)\n",
		"  sft.student           sft: 2 steps, final loss 1.000 (first 2.000), 1 masked turns\n",
		// What each worker did, over the stages whose items went over a queue.
		"workers:\n  w0        5 items, 1 failed attempts\n  worker-b  1 items, 0 failed attempts\nfailures:\n",
		"  rollout.teacher       1 × stage failed: 3 attempts could not be played because of the infrastructure [infrastructure]\n",
		"  rollout.teacher       3 × attempts not played (infrastructure) [infrastructure]\n",
		"  rollout.teacher       1 × rollout error: tool set failed [infrastructure]",
		"run directory: RUNDIR\nreport: REPORT\n",
	} {
		if want == "  rollout.teacher       1 × rollout error: tool set failed [infrastructure]" {
			if strings.Contains(got, want) {
				t.Errorf("a rollout's own error counts as an infrastructure failure:\n%s", got)
			}
			continue
		}
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if n := r.InfraFailures(); n != 4 {
		t.Errorf("InfraFailures = %d, want 4 (the failed stage and its 3 attempts)", n)
	}
}

func TestHTML(t *testing.T) {
	t.Parallel()
	r := testRun(t)
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if d := os.Getenv("SWELEGO_TEST_ARTIFACTS"); d != "" {
		if err := os.WriteFile(filepath.Join(d, "report-unit.html"), b.Bytes(), 0o644); err != nil {
			t.Error(err)
		}
	}
	for _, want := range []string{
		`<section id="rollouts">`, `<section id="eval">`, `<section id="sft">`, `<section id="trajectories">`,
		`id="plot-eval-gold-status"`, `id="plot-sft-student-loss"`, `id="plot-sft-student-lr"`, `id="plot-sft-student-tps"`,
		`masked: the tool call failed (weight 0)`, `error turn`,
		`<span class="add">+a = 2`, `fix &lt;the&gt; bug`, `test_a PASSED`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(page, "http://") && !strings.Contains(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("the report names an http URL")
	}
	for _, bad := range []string{"<link", " src=\"http", " href=\"http", "fix <the> bug"} {
		if strings.Contains(page, bad) {
			t.Errorf("the report holds %q", bad)
		}
	}
}

func TestShow(t *testing.T) {
	t.Parallel()
	r := testRun(t)
	for _, tc := range []struct {
		address, item string
		want          []string
	}{
		{"rollout.teacher", "", []string{"demo__demo-1", "resolved", "demo__demo-2", "tool set failed: boom"}},
		{"rollout.teacher", "demo__demo-1/1", []string{"assistant (turn 1) [error turn] [masked: the tool call failed (weight 0)]", "→ finish {}", "+a = 2"}},
		{"eval.gold", "demo__demo-1", []string{"test_a  F2P   PASSED", "── test log\ntest_a PASSED"}},
		{"sft.student", "", []string{"demo__demo-1/1", "the tool call failed", "easy", "hard"}},
	} {
		t.Run(tc.address+"/"+tc.item, func(t *testing.T) {
			var b bytes.Buffer
			var err error
			if tc.item == "" {
				err = ShowStage(&b, r, tc.address)
			} else {
				err = ShowItem(&b, r, tc.address, tc.item)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // what the message suggests, or "" for no suggestion
	}{
		{"unknown instance", ShowItem(io.Discard, r, "eval.gold", "nope"), ""},
		{"misspelt instance", ShowItem(io.Discard, r, "eval.gold", "demo__demo1"), `(did you mean "demo__demo-1"?)`},
		{"misspelt attempt's instance", ShowItem(io.Discard, r, "rollout.teacher", "demo__dmo-2/1"), `(did you mean "demo__demo-2"?)`},
		{"unknown stage", ShowStage(io.Discard, r, "eval.nope"), ""},
		{"misspelt stage", ShowStage(io.Discard, r, "eval.gol"), `did you mean "eval.gold"?`},
		{"misspelt stage of an item", ShowItem(io.Discard, r, "rollout.teachr", "demo__demo-1"), `did you mean "rollout.teacher"?`},
	} {
		if !errors.Is(tc.err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", tc.name, tc.err)
			continue
		}
		if got := tc.err.Error(); tc.want == "" && strings.Contains(got, "did you mean") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want it to suggest %q", tc.name, got, tc.want)
		}
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, ErrNotRun) {
		t.Errorf("Load of an empty directory: %v, want ErrNotRun", err)
	}
}

func mustJSON(v any) []byte {
	data, err := jsonMarshal(v)
	if err != nil {
		panic(err)
	}
	return data
}
