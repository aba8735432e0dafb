package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

// scriptModel replies with the scripted messages in order, then finishes.
type scriptModel struct {
	replies []sdk.ChatResponse
	errs    []error
	calls   int
	delay   time.Duration
}

func (m *scriptModel) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	i := m.calls
	m.calls++
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
		case <-ctx.Done():
			return sdk.ChatResponse{}, ctx.Err()
		}
	}
	if i < len(m.errs) && m.errs[i] != nil {
		return sdk.ChatResponse{}, m.errs[i]
	}
	if i < len(m.replies) {
		return m.replies[i], nil
	}
	return call("finish", `{"message":"done"}`), nil
}

func call(name, args string) sdk.ChatResponse {
	return sdk.ChatResponse{
		Message: sdk.Message{Role: "assistant", Content: "step", ToolCalls: []sdk.ToolCall{{ID: "c", Type: "function", Function: sdk.FunctionCall{Name: name, Arguments: args}}}},
		Usage:   sdk.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15},
	}
}

// echoTools is a tool set whose execute_bash echoes its command and exits
// with the code the command names ("exit N").
type echoTools struct{ executed []string }

func (e *echoTools) Tools(ctx context.Context, cfg sdk.Config) ([]sdk.ToolSchema, error) {
	return []sdk.ToolSchema{{Name: "execute_bash", Parameters: json.RawMessage(`{"type":"object"}`)}, {Name: "finish", Parameters: json.RawMessage(`{"type":"object"}`)}}, nil
}

func (e *echoTools) Execute(ctx context.Context, req sdk.ToolRequest) (sdk.ToolResult, error) {
	var args map[string]any
	if err := json.Unmarshal([]byte(req.Call.Function.Arguments), &args); err != nil {
		return sdk.ToolResult{Output: "bad arguments", Error: true, ExitCode: -1}, nil
	}
	switch req.Call.Function.Name {
	case "finish":
		return sdk.ToolResult{Output: "finished", Finished: true}, nil
	case "execute_bash":
		cmd, _ := args["command"].(string)
		e.executed = append(e.executed, cmd)
		code := 0
		fmt.Sscanf(cmd, "exit %d", &code)
		return sdk.ToolResult{Output: cmd, ExitCode: code, Truncated: strings.Contains(cmd, "long")}, nil
	}
	return sdk.ToolResult{Output: "unknown tool", Error: true, ExitCode: -1}, nil
}

// diffSandbox is a sandbox whose diff is fixed; the loop only asks for it.
type diffSandbox struct{ diff string }

func (d diffSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	return sdk.ExecResult{}, errors.New("not used")
}
func (d diffSandbox) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return nil, errors.New("not used")
}
func (d diffSandbox) WriteFile(ctx context.Context, path string, data []byte) error {
	return errors.New("not used")
}
func (d diffSandbox) Diff(ctx context.Context) (string, error) { return d.diff, nil }

type badCall struct{}

func (badCall) Error() string      { return "malformed call" }
func (badCall) Reply() sdk.Message { return sdk.Message{Content: "<function=execute_bash>oops"} }
func (badCall) Observation() string {
	return "Your tool call could not be read: unclosed <function> tag."
}

const srcDiff = "diff --git a/pkg/a.py b/pkg/a.py\n--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
const testDiff = "diff --git a/tests/test_a.py b/tests/test_a.py\n--- a/tests/test_a.py\n+++ b/tests/test_a.py\n@@ -1 +1 @@\n-y = 1\n+y = 2\n"

func TestRun(t *testing.T) {
	task := sdk.Task{InstanceID: "demo-1", Repo: "o/r", ProblemStatement: "x is wrong"}
	tests := []struct {
		name       string
		model      *scriptModel
		opts       Options
		stop       string
		turns      int
		errorTurns int
		wantMsgs   []string // roles of the messages after system and user
	}{
		{
			name:     "finish",
			model:    &scriptModel{replies: []sdk.ChatResponse{call("execute_bash", `{"command":"ls"}`)}},
			stop:     StopFinished,
			turns:    2,
			wantMsgs: []string{"assistant", "tool", "assistant", "tool"},
		},
		{
			name:     "max turns",
			model:    &scriptModel{replies: []sdk.ChatResponse{call("execute_bash", `{"command":"ls"}`), call("execute_bash", `{"command":"ls"}`), call("execute_bash", `{"command":"ls"}`)}},
			opts:     Options{MaxTurns: 2},
			stop:     StopMaxTurns,
			turns:    2,
			wantMsgs: []string{"assistant", "tool", "assistant", "tool"},
		},
		{
			name:     "token budget",
			model:    &scriptModel{replies: []sdk.ChatResponse{call("execute_bash", `{"command":"ls"}`), call("execute_bash", `{"command":"ls"}`)}},
			opts:     Options{TokenBudget: 20},
			stop:     StopTokenBudget,
			turns:    2,
			wantMsgs: []string{"assistant", "tool", "assistant", "tool"},
		},
		{
			name:       "command not found is an error turn, a failing command is not",
			model:      &scriptModel{replies: []sdk.ChatResponse{call("execute_bash", `{"command":"exit 127"}`), call("execute_bash", `{"command":"exit 1"}`)}},
			stop:       StopFinished,
			turns:      3,
			errorTurns: 1,
			wantMsgs:   []string{"assistant", "tool", "assistant", "tool", "assistant", "tool"},
		},
		{
			name:     "no tool call asks the model to go on",
			model:    &scriptModel{replies: []sdk.ChatResponse{{Message: sdk.Message{Role: "assistant", Content: "I think it is fixed."}}}},
			stop:     StopFinished,
			turns:    2,
			wantMsgs: []string{"assistant", "user", "assistant", "tool"},
		},
		{
			name:       "malformed call becomes an error observation",
			model:      &scriptModel{errs: []error{fmt.Errorf("chat: %w", badCall{})}},
			stop:       StopFinished,
			turns:      2,
			errorTurns: 1,
			wantMsgs:   []string{"assistant", "user", "assistant", "tool"},
		},
		{
			name:     "model failure ends the episode",
			model:    &scriptModel{errs: []error{nil, errors.New("500 after retries")}, replies: []sdk.ChatResponse{call("execute_bash", `{"command":"ls"}`)}},
			stop:     StopModelError,
			turns:    1,
			wantMsgs: []string{"assistant", "tool"},
		},
		{
			name:     "time limit",
			model:    &scriptModel{delay: 30 * time.Millisecond, replies: []sdk.ChatResponse{call("execute_bash", `{"command":"ls"}`), call("execute_bash", `{"command":"ls"}`), call("execute_bash", `{"command":"ls"}`)}},
			opts:     Options{TimeLimit: 50 * time.Millisecond},
			stop:     StopTimeLimit,
			turns:    1,
			wantMsgs: []string{"assistant", "tool"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Model, opts.Tools, opts.ModelName = tc.model, &echoTools{}, "m"
			tr, err := Run(context.Background(), diffSandbox{srcDiff + testDiff}, task, opts)
			if err != nil {
				t.Fatal(err)
			}
			if tr.StopReason != tc.stop {
				t.Errorf("stop reason %q, want %q", tr.StopReason, tc.stop)
			}
			if len(tr.Turns) != tc.turns {
				t.Errorf("%d turns, want %d", len(tr.Turns), tc.turns)
			}
			errs := 0
			for _, turn := range tr.Turns {
				if turn.Error {
					errs++
				}
			}
			if errs != tc.errorTurns {
				t.Errorf("%d error turns, want %d", errs, tc.errorTurns)
			}
			var roles []string
			for _, m := range tr.Messages[2:] {
				roles = append(roles, m.Role)
			}
			if strings.Join(roles, ",") != strings.Join(tc.wantMsgs, ",") {
				t.Errorf("roles %v, want %v", roles, tc.wantMsgs)
			}
			if tr.Messages[0].Role != "system" || !strings.Contains(tr.Messages[1].Content, "x is wrong") {
				t.Errorf("prompts: %+v", tr.Messages[:2])
			}
			if tr.FinalPatch != srcDiff {
				t.Errorf("final patch keeps test files or loses source files:\n%s", tr.FinalPatch)
			}
			for i, m := range tr.Messages {
				if m.Role == "tool" && (m.ToolCallID == "" || m.Name == "") {
					t.Errorf("message %d: tool message without call id or name", i)
				}
			}
			if tr.Model != "m" || tr.InstanceID != "demo-1" {
				t.Errorf("model %q instance %q", tr.Model, tr.InstanceID)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &scriptModel{delay: time.Second}
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := Run(ctx, diffSandbox{}, sdk.Task{InstanceID: "x"}, Options{Model: m, Tools: &echoTools{}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRenderPrompts(t *testing.T) {
	task := sdk.Task{Repo: "o/r", ProblemStatement: "It breaks."}
	sys, user, err := RenderPrompts("", "Fix {{.Task.Repo}} in {{.RepoDir}}: {{.Task.ProblemStatement}}", task)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sys, "/testbed") || user != "Fix o/r in /testbed: It breaks." {
		t.Errorf("system %q\nuser %q", sys, user)
	}
	if _, _, err := RenderPrompts("{{.Nope}}", "", task); err == nil || !strings.Contains(err.Error(), "system_prompt") {
		t.Errorf("bad template: err = %v", err)
	}
}

func TestSubmittable(t *testing.T) {
	pyc := "diff --git a/pkg/__pycache__/a.cpython-311.pyc b/pkg/__pycache__/a.cpython-311.pyc\nnew file mode 100644\nindex 0000000..1111111\nBinary files /dev/null and b/pkg/__pycache__/a.cpython-311.pyc differ\n"
	goTest := "diff --git a/x_test.go b/x_test.go\nnew file mode 100644\n--- /dev/null\n+++ b/x_test.go\n@@ -0,0 +1 @@\n+package x\n"
	conftest := "diff --git a/conftest.py b/conftest.py\nnew file mode 100644\n--- /dev/null\n+++ b/conftest.py\n@@ -0,0 +1 @@\n+x = 1\n"
	tests := []struct{ name, in, want string }{
		{"source only", srcDiff, srcDiff},
		{"test file dropped", testDiff + srcDiff, srcDiff},
		{"cache and binary dropped", srcDiff + pyc, srcDiff},
		{"go test file dropped", goTest + srcDiff, srcDiff},
		{"a harness file dropped", conftest + srcDiff, srcDiff},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Submittable(tc.in, "conftest.py")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestIsTestFile(t *testing.T) {
	for p, want := range map[string]bool{
		"tests/test_a.py": true, "pkg/test_a.py": true, "pkg/a_test.py": true, "web/a.test.js": true, "web/a.spec.ts": true,
		"conftest.py": false, "Makefile": false, "tests": false,
		"x_test.go": true, "pkg/testdata/in.txt": true, "src/testing/util.py": true,
		"pkg/a.py": false, "latest.py": false, "contest.go": false, "pkg/attest/a.go": false,
	} {
		if got := IsTestFile(p); got != want {
			t.Errorf("IsTestFile(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestToolArgsUnescaped(t *testing.T) {
	got := toolArgs(map[string]any{"command": "cd /testbed && go test ./... 2>&1 | tail -n 5 <in"})
	if want := `{"command":"cd /testbed && go test ./... 2>&1 | tail -n 5 <in"}`; got != want {
		t.Errorf("toolArgs = %s, want %s", got, want)
	}
}
