package verifiers

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestJudgePromptGolden renders the judge prompt of a small trajectory,
// with a log budget that cuts its middle, against testdata/prompt.golden.
func TestJudgePromptGolden(t *testing.T) {
	task := sdk.Task{Repo: "example/calc", ProblemStatement: "mul adds its arguments\n\n`mul(2, 3)` returns 5.\n"}
	traj := sdk.Trajectory{Messages: []sdk.Message{
		{Role: "system", Content: "You are an agent."},
		{Role: "user", Content: "Fix the issue: mul adds its arguments."},
		{Role: "assistant", Content: "Let me look at the code.", ToolCalls: []sdk.ToolCall{{ID: "1", Type: "function",
			Function: sdk.FunctionCall{Name: "execute_bash", Arguments: `{"command":"cat calc/ops.py"}`}}}},
		{Role: "tool", Content: strings.Repeat("def mul(a, b):\n    return a + b\n", 20), ToolCallID: "1"},
		{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: "2", Type: "function",
			Function: sdk.FunctionCall{Name: "finish", Arguments: `{"message":"done"}`}}}},
	}}
	patch := "diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n def mul(a, b):\n-    return a + b\n+    return a * b\n"
	cfg := DefaultGenerativeConfig()
	cfg.MaxLogTokens = 100
	got := JudgePrompt(cfg, task, traj, patch)
	golden := filepath.Join("testdata", "prompt.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("judge prompt differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// A judge whose tokenizer splits the tag and merges its end with the
// verdict: the judgement token is found by position, and the score is the
// softmax of the YES and NO alternatives there (" yes" after the tag
// counts as a YES too).
func ExampleFindJudgement() {
	tokens := []sdk.TokenLogprob{
		{Token: "Looks"}, {Token: " right"}, {Token: ".\n"},
		{Token: "<judg"}, {Token: "ement"},
		{Token: ">YES", Logprob: -0.2, TopLogprobs: []sdk.TokenLogprob{
			{Token: ">YES", Logprob: -0.2}, {Token: ">NO", Logprob: -1.8}, {Token: "> yes", Logprob: -5},
		}},
		{Token: "</judgement>"},
	}
	j, err := FindJudgement(tokens)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, fallback, err := j.PYes()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("token %d %q, verdict %s, P(YES) = %.4f, fallback %t\n", j.Index, j.Chosen, j.Verdict, p, fallback)
	// Output:
	// token 5 ">YES", verdict YES, P(YES) = 0.8332, fallback false
}
