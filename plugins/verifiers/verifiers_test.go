package verifiers

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestTestsVerifierPytest scores patches of a small pytest repository
// with the tests plugin process: a patch that keeps both tests passing, one
// that breaks one of the two, one that adds reproduction tests (one of
// them failing), one that does not apply, and an empty one.
func TestTestsVerifierPytest(t *testing.T) {
	c := startPlugin(t, NameTests)
	task := sdk.Task{InstanceID: "calc-1", Repo: "example/calc", Language: "python",
		FailToPass: sdk.StringList{"tests/test_hidden.py::test_never_run"}} // hidden lists are never read
	tests := []struct {
		patch string
		value float64
		label string
		parts map[string]float64
	}{
		{"py_keeps.diff", 1, "all_pass", map[string]float64{"pass_rate": 1, "passed": 2, "total": 2, "repro_total": 0}},
		{"py_breaks_mul.diff", 0.5, "some_fail", map[string]float64{"pass_rate": 0.5, "passed": 1, "total": 2, "repro_total": 0}},
		{"py_adds_test.diff", 0.75, "some_fail", map[string]float64{"pass_rate": 0.75, "passed": 3, "total": 4, "repro_total": 2}},
		{"py_stale.diff", 0, "not_applied", map[string]float64{"pass_rate": 0, "passed": 0, "total": 2}},
	}
	var sandboxes []*dirSandbox
	for _, tt := range tests {
		t.Run(tt.patch, func(t *testing.T) {
			sb := fixtureSandbox(t, "pyrepo")
			sandboxes = append(sandboxes, sb)
			got, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Task: task, Patch: readPatch(t, tt.patch), Sandbox: sb})
			if err != nil {
				t.Fatal(err)
			}
			if got.Value != tt.value || got.Label != tt.label || !reflect.DeepEqual(got.Parts, tt.parts) {
				t.Errorf("score %+v, want value %g label %s parts %v", got, tt.value, tt.label, tt.parts)
			}
			if st, _ := sb.Exec(context.Background(), "git status --porcelain --untracked-files=no", 0); strings.TrimSpace(st.Output) != "" {
				t.Errorf("sandbox left changed: %s", st.Output)
			}
		})
	}
	// The base run was made once, in the first candidate's sandbox.
	if n := sandboxes[0].count("pytest --no-header"); n != 2 {
		t.Errorf("first sandbox ran the tests %d times, want 2 (base and patched)", n)
	}
	if n := sandboxes[1].count("pytest --no-header"); n != 1 {
		t.Errorf("second sandbox ran the tests %d times, want 1 (the base run is cached)", n)
	}

	t.Run("empty patch", func(t *testing.T) {
		got, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Task: task, Patch: "\n", Sandbox: fixtureSandbox(t, "pyrepo")})
		if err != nil || got.Value != 0 || got.Label != "empty_patch" {
			t.Errorf("empty patch: %+v, %v", got, err)
		}
	})
	t.Run("no sandbox", func(t *testing.T) {
		_, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Task: task, Patch: readPatch(t, "py_keeps.diff")})
		if !errors.Is(err, sdk.ErrNotLent) || !strings.Contains(err.Error(), "sandbox") {
			t.Errorf("no sandbox: %v, want ErrNotLent naming the sandbox", err)
		}
	})
	t.Run("reproduce script from the trajectory", func(t *testing.T) {
		call := func(path, text string) sdk.Message {
			args := `{"command":"create","path":` + jsonString(path) + `,"file_text":` + jsonString(text) + `}`
			return sdk.Message{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: "c", Type: "function", Function: sdk.FunctionCall{Name: "str_replace_editor", Arguments: args}}}}
		}
		traj := sdk.Trajectory{Messages: []sdk.Message{
			call("/testbed/reproduce_issue.py", "import sys\nsys.exit(1)\n"),
			call("/testbed/reproduce_issue.py", "from calc import mul\nassert mul(2, 5) == 10\n"),
		}}
		for _, tt := range []struct {
			patch string
			want  float64
		}{{"py_keeps.diff", 1}, {"py_breaks_mul.diff", 1.0 / 3}} {
			sb := fixtureSandbox(t, "pyrepo")
			got, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Task: task, Trajectory: traj, Patch: readPatch(t, tt.patch), Sandbox: sb})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Value-tt.want) > 1e-12 || got.Parts["repro_total"] != 1 {
				t.Errorf("%s with a reproduce script: %+v, want %g with one reproduction test", tt.patch, got, tt.want)
			}
			if r, _ := sb.Exec(context.Background(), "test -e reproduce_issue.py", 0); r.ExitCode == 0 {
				t.Error("the reproduce script was left in the sandbox")
			}
		}
	})
}

// TestTestsVerifierGo scores patches of a Go module with two packages.
func TestTestsVerifierGo(t *testing.T) {
	c := startPlugin(t, NameTests)
	task := sdk.Task{InstanceID: "shapes-1", Repo: "example/shapes"} // no language: go.mod decides
	tests := []struct {
		patch string
		parts map[string]float64
	}{
		{"go_breaks_mul.diff", map[string]float64{"pass_rate": 0.5, "passed": 1, "total": 2, "repro_total": 0}},
		{"go_adds_test.diff", map[string]float64{"pass_rate": 1, "passed": 3, "total": 3, "repro_total": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.patch, func(t *testing.T) {
			got, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Task: task, Patch: readPatch(t, tt.patch), Sandbox: fixtureSandbox(t, "gomod")})
			if err != nil {
				t.Fatal(err)
			}
			if got.Value != tt.parts["pass_rate"] || !reflect.DeepEqual(got.Parts, tt.parts) {
				t.Errorf("score %+v, want parts %v", got, tt.parts)
			}
		})
	}
}

// judgeTokens is a judge's answer whose <judgement> tag is split over
// several tokens, at no fixed index.
func judgeTokens(lpYes, lpNo float64) []sdk.TokenLogprob {
	return []sdk.TokenLogprob{
		tok("The", -0.2), tok(" edit", -0.9), tok(" is", -0.1), tok(" right", -0.4), tok(".", -0.1), tok("\n", 0),
		tok("<", 0), tok("judg", 0), tok("ement", 0),
		tok(">YES", lpYes, alt(">YES", lpYes), alt(">NO", lpNo), alt(">Maybe", -6)),
		tok("</judgement>", 0),
	}
}

// TestGenerativeProcess asks the generative plugin process with a lent
// judge whose log-probabilities the test sets.
func TestGenerativeProcess(t *testing.T) {
	c := startPlugin(t, NameGenerative)
	model := &scriptedModel{tokens: judgeTokens(-0.35, -1.2)}
	traj := sdk.Trajectory{Messages: []sdk.Message{
		{Role: "system", Content: "SYSTEM PROMPT OF THE AGENT"},
		{Role: "user", Content: "fix mul"},
		{Role: "assistant", Content: strings.Repeat("thinking hard. ", 2000)},
	}}
	req := sdk.VerifyRequest{
		Config:     sdk.Config(`{"max_log_tokens": 500, "top_logprobs": 5}`),
		Task:       sdk.Task{InstanceID: "calc-1", Repo: "example/calc", ProblemStatement: "mul adds instead of multiplying"},
		Trajectory: traj, Patch: "diff --git a/calc/ops.py b/calc/ops.py\n", Model: model,
	}
	got, err := c.Verifier().Verify(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := math.Exp(-0.35) / (math.Exp(-0.35) + math.Exp(-1.2))
	if math.Abs(got.Value-want) > 1e-6 || math.Abs(got.Parts["p_yes"]-want) > 1e-6 || got.Label != VerdictYes {
		t.Errorf("score %+v, want %.9f", got, want)
	}
	if len(model.reqs) != 1 {
		t.Fatalf("%d requests to the judge", len(model.reqs))
	}
	r := model.reqs[0]
	if !r.Logprobs || r.TopLogprobs != 5 || r.Temperature == nil || *r.Temperature != 0 || r.MaxTokens != 32 {
		t.Errorf("judge request: logprobs %t top %d temperature %v max_tokens %d", r.Logprobs, r.TopLogprobs, r.Temperature, r.MaxTokens)
	}
	prompt := r.Messages[len(r.Messages)-1].Content
	for _, want := range []string{"mul adds instead of multiplying", "example/calc", "diff --git a/calc/ops.py", "<judgement>YES</judgement>", "of the log cut here", "[user]\nfix mul"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt lacks %q", want)
		}
	}
	if strings.Contains(prompt, "SYSTEM PROMPT OF THE AGENT") || len(prompt) > len(DefaultPrompt)+500*BytesPerToken+300 {
		t.Errorf("prompt of %d bytes holds the agent's system prompt or more log than the budget", len(prompt))
	}

	t.Run("no model", func(t *testing.T) {
		_, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Task: req.Task, Patch: req.Patch})
		if !errors.Is(err, sdk.ErrNotLent) || !strings.Contains(err.Error(), "model") {
			t.Errorf("no model: %v, want ErrNotLent naming the model", err)
		}
	})
	t.Run("no judgement", func(t *testing.T) {
		req := req
		req.Model = &scriptedModel{tokens: []sdk.TokenLogprob{tok("I", -1), tok(" cannot", -1), tok(" tell", -1)}}
		got, err := c.Verifier().Verify(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), "no judgement") {
			t.Errorf("no judgement: %+v, %v, want an error", got, err)
		}
	})
}

// TestHybridProcess scores candidates with the hybrid plugin process and
// ranks them over gRPC.
func TestHybridProcess(t *testing.T) {
	c := startPlugin(t, NameHybrid)
	task := sdk.Task{InstanceID: "calc-1", Repo: "example/calc", Language: "python", ProblemStatement: "add sub"}
	cands := []struct {
		key, patch    string
		lpYes, lpNo   float64
		wantPassRate  float64
		wantSelection float64
	}{
		// The judge prefers r0, r2 and r3 (kept: at least 3 of 4); the
		// tests then pick r3, which the judge likes least of the three.
		{"r0", "py_breaks_mul.diff", -0.1, -2.4, 0.5, 1},
		{"r1", "py_keeps.diff", -3.0, -0.05, 1, 0},
		{"r2", "py_adds_test.diff", -0.2, -1.8, 0.75, 2},
		{"r3", "py_keeps.diff", -0.6, -0.8, 1, 3},
	}
	rank := sdk.RankRequest{Task: task}
	for _, cd := range cands {
		got, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{
			Task: task, Patch: readPatch(t, cd.patch), Sandbox: fixtureSandbox(t, "pyrepo"), Model: &scriptedModel{tokens: judgeTokens(cd.lpYes, cd.lpNo)},
		})
		if err != nil {
			t.Fatal(err)
		}
		pYes := math.Exp(cd.lpYes) / (math.Exp(cd.lpYes) + math.Exp(cd.lpNo))
		if math.Abs(got.Parts["p_yes"]-pYes) > 1e-6 || got.Parts["pass_rate"] != cd.wantPassRate || math.Abs(got.Value-(pYes+cd.wantPassRate)/2) > 1e-6 {
			t.Errorf("%s: score %+v, want p_yes %.6f pass_rate %g", cd.key, got, pYes, cd.wantPassRate)
		}
		rank.Candidates = append(rank.Candidates, sdk.RankCandidate{Key: cd.key, Score: got})
	}
	scores, err := c.Verifier().(sdk.Ranker).Rank(context.Background(), rank)
	if err != nil {
		t.Fatal(err)
	}
	for _, cd := range cands {
		if scores[cd.key] != cd.wantSelection {
			t.Errorf("selection scores %v, want %s at %g", scores, cd.key, cd.wantSelection)
		}
	}

	t.Run("a verifier that does not rank", func(t *testing.T) {
		_, err := startPlugin(t, NameGenerative).Verifier().(sdk.Ranker).Rank(context.Background(), rank)
		if !errors.Is(err, sdk.ErrNotServed) {
			t.Errorf("rank by the generative verifier: %v, want ErrNotServed", err)
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
