package trajfmt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/trajfmt"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func ptr[T any](v T) *T { return &v }

func loadTools(t testing.TB) []sdk.ToolSchema {
	t.Helper()
	data, err := os.ReadFile("testdata/tools.json")
	if err != nil {
		t.Fatal(err)
	}
	var tools []sdk.ToolSchema
	if err := json.Unmarshal(data, &tools); err != nil {
		t.Fatal(err)
	}
	return tools
}

func call(msgIndex, k int, name, args string) sdk.ToolCall {
	return sdk.ToolCall{ID: llm.CallID(msgIndex, k), Type: "function", Function: sdk.FunctionCall{Name: name, Arguments: args}}
}

func toolMsg(msgIndex, k int, name, content string) sdk.Message {
	return sdk.Message{Role: "tool", Name: name, ToolCallID: llm.CallID(msgIndex, k), Content: content}
}

// agentTrajectory is what the agent loop records, with ids from
// llm.CallID and canonical arguments: it must survive a round trip as it is.
func agentTrajectory() sdk.Trajectory {
	return sdk.Trajectory{
		InstanceID: "demo__calc-17",
		RunID:      "run-1",
		Attempt:    2,
		Model:      "Qwen/Qwen3-8B",
		Messages: []sdk.Message{
			{Role: "system", Content: "You are a careful software engineer working in /testbed."},
			{Role: "user", Content: "<issue>\nadd(\"1\", 2) raises TypeError.\n</issue>"},
			{Role: "assistant", Content: "I'll look for add.", ToolCalls: []sdk.ToolCall{call(2, 0, "execute_bash", `{"command":"grep -rn \"def add\" /testbed","timeout":30}`)}},
			toolMsg(2, 0, "execute_bash", "/testbed/calc.py:3:def add(a, b):"),
			{Role: "assistant", TurnMask: ptr(true), ToolCalls: []sdk.ToolCall{call(4, 0, "str_replace_editor", `{"command":"str_replace","path":"/testbed/calc.py","old_str":"return a + b","new_str":"return int(a) + int(b)"}`)}},
			toolMsg(4, 0, "str_replace_editor", "ERROR: No replacement was performed, old_str `return a + b` did not appear verbatim in /testbed/calc.py."),
			{Role: "assistant", TurnMask: ptr(false), ToolCalls: []sdk.ToolCall{
				call(6, 0, "str_replace_editor", `{"command":"view","path":"/testbed/calc.py","view_range":[1,6]}`),
				call(6, 1, "think", `{"thought":"The body is indented with a tab; copy it exactly."}`),
			}},
			toolMsg(6, 0, "str_replace_editor", "     1\tdef add(a, b):\n     2\t\treturn a+b\n"),
			toolMsg(6, 1, "think", "Your thought has been logged."),
			{Role: "assistant", Content: "Now the edit.", LossWeight: ptr(1.0), ToolCalls: []sdk.ToolCall{call(9, 0, "str_replace_editor", `{"command":"str_replace","path":"/testbed/calc.py","old_str":"\treturn a+b\n","new_str":"\treturn int(a) + int(b)\n"}`)}},
			toolMsg(9, 0, "str_replace_editor", "The file /testbed/calc.py has been edited."),
			{Role: "assistant", Content: "All done, I think."},
			{Role: "user", Content: "Continue working on the task with the tools you have."},
			{Role: "assistant", ToolCalls: []sdk.ToolCall{call(13, 0, "finish", `{"message":"add now converts its arguments."}`)}},
		},
		Turns: []sdk.Turn{
			{ExitCode: 0, Duration: 120 * time.Millisecond},
			{ExitCode: 1, Error: true, Duration: 10 * time.Millisecond},
			{Duration: 30 * time.Millisecond},
			{Duration: 12 * time.Millisecond},
			{Duration: time.Millisecond},
			{Duration: time.Millisecond},
		},
		FinalPatch: "diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-\treturn a+b\n+\treturn int(a) + int(b)\n",
		Status:     sdk.StatusResolved,
		Tests:      map[string]string{"tests/test_calc.py::test_add_str": "PASSED"},
		Usage:      sdk.Usage{PromptTokens: 9000, CompletionTokens: 400, TotalTokens: 9400},
		Seed:       7,
	}
}

var equate = cmpopts.EquateEmpty()

func TestExportGolden(t *testing.T) {
	tools := loadTools(t)
	tests := []struct {
		name string
		opts trajfmt.Options
	}{
		{name: "sharegpt_openhands", opts: trajfmt.Options{Tools: tools}},
		{name: "sharegpt_qwen_tool_role", opts: trajfmt.Options{Style: trajfmt.ShareGPT, CallFormat: llm.FormatQwen, ObservationRole: "tool", Tools: tools}},
		{name: "openhands", opts: trajfmt.Options{Style: trajfmt.OpenHands, Tools: tools}},
		{name: "openhands_no_tools", opts: trajfmt.Options{Style: trajfmt.OpenHands}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := trajfmt.Encode(agentTrajectory(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, rec, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden(t, tt.name+".golden.json", pretty.String())

			back, err := trajfmt.Decode(rec, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(agentTrajectory(), back, equate); diff != "" {
				t.Errorf("export → import changed the trajectory (-want +got):\n%s", diff)
			}
			// A record carries what it needs: import without options too.
			back, err = trajfmt.Decode(rec, trajfmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(agentTrajectory(), back, equate); diff != "" {
				t.Errorf("import without options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDatasetInfo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dataset_info.json")
	if err := os.WriteFile(path, []byte(`{"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	entry, err := trajfmt.DatasetInfo("swelego_trajectories.jsonl", trajfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := trajfmt.WriteDatasetInfo(path, "swelego", entry); err != nil {
		t.Fatal(err)
	}
	obs, _ := trajfmt.DatasetInfo("swelego_obs.jsonl", trajfmt.Options{ObservationRole: "observation"})
	if err := trajfmt.WriteDatasetInfo(path, "swelego_obs", obs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dataset_info.golden.json", string(data))
	if _, err := trajfmt.DatasetInfo("x", trajfmt.Options{ObservationRole: "gpt"}); err == nil {
		t.Error("an unknown observation role was accepted")
	}
}

func TestRoundTrip(t *testing.T) {
	tools := loadTools(t)
	native := sdk.Trajectory{
		InstanceID: "native-ids",
		Messages: []sdk.Message{
			{Role: "user", Content: "go"},
			{Role: "assistant", Content: "", ToolCalls: []sdk.ToolCall{
				{ID: "chatcmpl-tool-9f1", Type: "function", Function: sdk.FunctionCall{Name: "execute_bash", Arguments: `{"command": "ls && echo \u003cok\u003e", "timeout": 10}`}},
				{ID: "call_0", Type: "function", Function: sdk.FunctionCall{Name: "think", Arguments: `{ "thought" : "é" }`}},
			}},
			{Role: "tool", ToolCallID: "chatcmpl-tool-9f1", Content: "a\nb"},
			{Role: "tool", ToolCallID: "call_0", Content: ""},
			{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: "call_0", Type: "function", Function: sdk.FunctionCall{Name: "finish", Arguments: ""}}}},
			{Role: "tool", ToolCallID: "call_0", Content: "bye"},
		},
	}
	tests := []struct {
		name string
		traj sdk.Trajectory
		opts trajfmt.Options
	}{
		{name: "agent trajectory, qwen, observation role", traj: agentTrajectory(), opts: trajfmt.Options{CallFormat: llm.FormatQwen, ObservationRole: "observation", Tools: tools}},
		{name: "agent trajectory without tool schemas", traj: agentTrajectory(), opts: trajfmt.Options{}},
		{name: "foreign ids and argument spelling", traj: native, opts: trajfmt.Options{Tools: tools}},
		{name: "foreign ids, qwen", traj: native, opts: trajfmt.Options{CallFormat: llm.FormatQwen}},
		{
			name: "malformed text call kept as text",
			traj: sdk.Trajectory{InstanceID: "bad-call", Messages: []sdk.Message{
				{Role: "system", Content: "sys"},
				{Role: "user", Content: "task"},
				{Role: "assistant", Content: "Trying.\n<function=execute_bash>\n<parameter=command>ls\n"},
				{Role: "user", Content: "ERROR: your last reply contained a tool call that could not be read, so no tool was run."},
				{Role: "assistant", Content: "<function=nope>\n</function>"},
				{Role: "user", Content: "ERROR: unknown tool"},
			}},
			opts: trajfmt.Options{Style: trajfmt.OpenHands, Tools: tools},
		},
		{
			name: "ends with an observation (turn limit)",
			traj: sdk.Trajectory{InstanceID: "limit", Status: sdk.StatusUnresolved, Messages: []sdk.Message{
				{Role: "user", Content: "task"},
				{Role: "assistant", ToolCalls: []sdk.ToolCall{call(1, 0, "execute_bash", `{"command":"sleep 1"}`)}},
				toolMsg(1, 0, "execute_bash", ""),
			}},
			opts: trajfmt.Options{ObservationRole: "tool", Tools: tools},
		},
		{name: "no messages", traj: sdk.Trajectory{InstanceID: "empty", Status: sdk.StatusError}, opts: trajfmt.Options{Tools: tools}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := trajfmt.Normalize(tt.traj)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := trajfmt.Export(context.Background(), &buf, []sdk.Trajectory{tt.traj, tt.traj}, tt.opts); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(buf.String(), "\n"); n != 2 {
				t.Fatalf("export wrote %d lines, want 2", n)
			}
			got, err := trajfmt.Import(context.Background(), &buf, "export.jsonl", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("imported %d trajectories, want 2", len(got))
			}
			for _, g := range got {
				if diff := cmp.Diff(want, g, equate); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
			}
			again, err := trajfmt.Normalize(got[0])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got[0], again, equate); diff != "" {
				t.Errorf("an imported trajectory is not normal (-imported +normalized):\n%s", diff)
			}
		})
	}
}

func TestImportForeign(t *testing.T) {
	tools := loadTools(t)
	tests := []struct {
		name    string
		input   string
		want    []sdk.Message
		wantErr error
	}{
		{
			name: "SWE-Lego style: OpenHands text, user observations, turn_mask, no tools member",
			input: `{"instance_id": "x__y-1", "resolved": true, "messages": [` +
				`{"role": "system", "content": "You are OpenHands agent."},` +
				`{"role": "user", "content": "Fix it."},` +
				`{"role": "assistant", "content": "Look.\n<function=execute_bash>\n<parameter=command>\nls\n</parameter>\n<parameter=timeout>30</parameter>\n</function>", "turn_mask": true},` +
				`{"role": "user", "content": "EXECUTION RESULT of [execute_bash]:\na.py"},` +
				`{"role": "assistant", "content": "<function=finish>\n<parameter=message>ok</parameter>\n</function>", "turn_mask": false}]}`,
			want: []sdk.Message{
				{Role: "system", Content: "You are OpenHands agent."},
				{Role: "user", Content: "Fix it."},
				{Role: "assistant", Content: "Look.", TurnMask: ptr(true), ToolCalls: []sdk.ToolCall{call(2, 0, "execute_bash", `{"command":"ls","timeout":30}`)}},
				toolMsg(2, 0, "execute_bash", "a.py"),
				{Role: "assistant", TurnMask: ptr(false), ToolCalls: []sdk.ToolCall{call(4, 0, "finish", `{"message":"ok"}`)}},
			},
		},
		{
			name: "classic ShareGPT conversations with list content elsewhere",
			input: `{"system": "sys", "conversations": [{"from": "human", "value": "hi"},` +
				`{"from": "gpt", "value": "<tool_call>\n{\"name\": \"think\", \"arguments\": {\"thought\": \"t\"}}\n</tool_call>"},` +
				`{"from": "observation", "value": "<tool_response>\nlogged\n</tool_response>"}, {"from": "gpt", "value": "done"}], "tool_call_format": "qwen"}`,
			want: []sdk.Message{
				{Role: "system", Content: "sys"},
				{Role: "user", Content: "hi"},
				{Role: "assistant", ToolCalls: []sdk.ToolCall{call(2, 0, "think", `{"thought":"t"}`)}},
				toolMsg(2, 0, "think", "logged"),
				{Role: "assistant", Content: "done"},
			},
		},
		{
			name:  "OpenHands list-of-parts content",
			input: `{"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, {"role": "tool", "content": "orphan"}]}`,
			want:  []sdk.Message{{Role: "user", Content: "ab"}, {Role: "user", Content: "orphan"}},
		},
		{name: "not an object", input: `[1, 2]`, wantErr: trajfmt.ErrFormat},
		{name: "no messages", input: `{"instance_id": "a"}`, wantErr: trajfmt.ErrFormat},
		{name: "message without role", input: `{"messages": [{"content": "x"}]}`, wantErr: trajfmt.ErrFormat},
		{name: "unknown speaker", input: `{"conversations": [{"from": "bot", "value": "x"}]}`, wantErr: trajfmt.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trajfmt.Import(context.Background(), strings.NewReader("\n"+tt.input+"\n"), "data.jsonl", trajfmt.Options{Tools: tools})
			if tt.wantErr != nil {
				var le *jsonl.Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &le) || le.Line != 2 || le.File != "data.jsonl" {
					t.Fatalf("err = %v, want %v at data.jsonl:2", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got[0].Messages, equate); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	bad := sdk.Trajectory{Messages: []sdk.Message{{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: "1", Function: sdk.FunctionCall{Name: "x", Arguments: `{"a": `}}}}}}
	if _, err := trajfmt.Encode(bad, trajfmt.Options{}); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("err = %v, want one about the arguments", err)
	}
	if _, err := trajfmt.Encode(agentTrajectory(), trajfmt.Options{CallFormat: llm.FormatNative}); err == nil {
		t.Error("the native format was accepted for a text export")
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
