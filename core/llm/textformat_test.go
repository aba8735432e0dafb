package llm_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/llm/llmtest"
	"github.com/swelego/swelego/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func call(msgIndex, k int, name, args string) sdk.ToolCall {
	return sdk.ToolCall{ID: llm.CallID(msgIndex, k), Type: "function", Function: sdk.FunctionCall{Name: name, Arguments: args}}
}

// conversation is a native trajectory as the agent loop keeps it, with ids
// from llm.CallID and canonical arguments, so it survives a text round trip
// unchanged.
func conversation() []sdk.Message {
	return []sdk.Message{
		{Role: "system", Content: "You are a careful software engineer."},
		{Role: "user", Content: "parse(\"\") raises ValueError; it should return [].\nFix it."},
		{Role: "assistant", Content: "Let me find the function first.", ToolCalls: []sdk.ToolCall{
			call(2, 0, "execute_bash", `{"command":"grep -n \"def parse\" -r /testbed/src && echo <done>"}`),
		}},
		{Role: "tool", Name: "execute_bash", ToolCallID: llm.CallID(2, 0), Content: "/testbed/src/parse.py:12:def parse(s):"},
		{Role: "assistant", TurnMask: ptr(true), ToolCalls: []sdk.ToolCall{
			call(4, 0, "str_replace_editor", `{"command":"str_replace","path":"/testbed/src/parse.py","old_str":"    if not s:\n        raise ValueError(\"empty\")","new_str":"    if not s:\n        return []\n"}`),
			call(4, 1, "execute_bash", `{"command":"cd /testbed && python -m pytest -q tests/test_parse.py","timeout":120}`),
		}},
		{Role: "tool", Name: "str_replace_editor", ToolCallID: llm.CallID(4, 0), Content: "The file /testbed/src/parse.py has been edited."},
		{Role: "tool", Name: "execute_bash", ToolCallID: llm.CallID(4, 1), Content: "...\n3 passed in 0.02s\n\n"},
		{Role: "assistant", Content: "Let me view the result.\n", ToolCalls: []sdk.ToolCall{
			call(7, 0, "str_replace_editor", `{"command":"view","path":"/testbed/src/parse.py","view_range":[10,16]}`),
		}},
		{Role: "tool", Name: "str_replace_editor", ToolCallID: llm.CallID(7, 0), Content: "    10\t\n    11\t\n    12\tdef parse(s):"},
		{Role: "assistant", Content: "I should not need this.", LossWeight: ptr(0.0)},
		{Role: "user", Content: "Continue."},
		{Role: "assistant", ToolCalls: []sdk.ToolCall{call(11, 0, "finish", `{"message":"parse(\"\") now returns []."}`)}},
	}
}

func dump(msgs []sdk.Message) string {
	var b strings.Builder
	for i, m := range msgs {
		fmt.Fprintf(&b, "### [%d] %s", i, m.Role)
		if m.TurnMask != nil {
			fmt.Fprintf(&b, " turn_mask=%v", *m.TurnMask)
		}
		if m.LossWeight != nil {
			fmt.Fprintf(&b, " loss_weight=%v", *m.LossWeight)
		}
		if len(m.ToolCalls) > 0 || m.ToolCallID != "" {
			fmt.Fprintf(&b, " (native tool fields left: %d calls, id %q)", len(m.ToolCalls), m.ToolCallID)
		}
		b.WriteString("\n")
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
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

func TestRenderMessagesGolden(t *testing.T) {
	tools := loadTools(t)
	for _, f := range []llm.Format{llm.FormatOpenHands, llm.FormatQwen} {
		t.Run(string(f), func(t *testing.T) {
			text, err := llm.RenderMessages(f, conversation(), tools)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "render_"+string(f)+".golden", dump(text))

			back, err := llm.ParseMessages(f, text, tools)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(conversation(), back); diff != "" {
				t.Errorf("render → parse changed the conversation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderMessagesWithoutSystem(t *testing.T) {
	tools := loadTools(t)
	conv := conversation()[1:]
	for i := range conv { // ids follow positions, which moved by one
		for k := range conv[i].ToolCalls {
			conv[i].ToolCalls[k].ID = llm.CallID(i, k)
		}
		if conv[i].Role == "tool" {
			conv[i].ToolCallID = ""
		}
	}
	for i := range conv {
		if conv[i].Role == "tool" {
			for j := i - 1; j >= 0; j-- {
				if conv[j].Role == "assistant" {
					for _, c := range conv[j].ToolCalls {
						if c.Function.Name == conv[i].Name && !answered(conv[:i], c.ID) {
							conv[i].ToolCallID = c.ID
							break
						}
					}
					break
				}
			}
		}
	}
	for _, f := range []llm.Format{llm.FormatOpenHands, llm.FormatQwen} {
		text, err := llm.RenderMessages(f, conv, tools)
		if err != nil {
			t.Fatal(err)
		}
		instr, _ := llm.Instructions(f, tools)
		if text[0].Role != "system" || text[0].Content != instr {
			t.Fatalf("%s: first message %+v, want a system message of the instructions", f, text[0])
		}
		back, err := llm.ParseMessages(f, text, tools)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(conv, back); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", f, diff)
		}
	}
}

func answered(msgs []sdk.Message, id string) bool {
	for _, m := range msgs {
		if m.Role == "tool" && m.ToolCallID == id {
			return true
		}
	}
	return false
}

func TestParseReply(t *testing.T) {
	tools := loadTools(t)
	tests := []struct {
		name    string
		format  llm.Format
		text    string
		want    sdk.Message
		wantErr error
	}{
		{
			name:   "openhands: no call",
			format: llm.FormatOpenHands,
			text:   "I am done thinking.",
			want:   sdk.Message{Role: "assistant", Content: "I am done thinking."},
		},
		{
			name:   "openhands: inline and multi-line values, typed by schema",
			format: llm.FormatOpenHands,
			text: "Now edit.\n<function=str_replace_editor>\n<parameter=command>insert</parameter>\n<parameter=path>/testbed/a.py</parameter>\n" +
				"<parameter=insert_line> 7 </parameter>\n<parameter=new_str>\n    x = 1\n    return x\n</parameter>\n<parameter=view_range>[1, 2]</parameter>\n</function>",
			want: sdk.Message{Role: "assistant", Content: "Now edit.", ToolCalls: []sdk.ToolCall{
				call(5, 0, "str_replace_editor", `{"command":"insert","path":"/testbed/a.py","insert_line":7,"new_str":"    x = 1\n    return x","view_range":[1,2]}`),
			}},
		},
		{
			name:   "openhands: stopped at the stop word",
			format: llm.FormatOpenHands,
			text:   "<function=execute_bash>\n<parameter=command>ls</parameter>\n</function",
			want:   sdk.Message{Role: "assistant", ToolCalls: []sdk.ToolCall{call(5, 0, "execute_bash", `{"command":"ls"}`)}},
		},
		{
			name:   "openhands: value holding tags of the format",
			format: llm.FormatOpenHands,
			text:   "<function=str_replace_editor>\n<parameter=command>create</parameter>\n<parameter=path>/testbed/doc.md</parameter>\n<parameter=file_text>\nwrite <function=NAME> to call\n</function> ends it\n</parameter>\n</function>",
			want: sdk.Message{Role: "assistant", ToolCalls: []sdk.ToolCall{
				call(5, 0, "str_replace_editor", `{"command":"create","path":"/testbed/doc.md","file_text":"write <function=NAME> to call\n</function> ends it"}`),
			}},
		},
		{name: "openhands: unclosed function", format: llm.FormatOpenHands, text: "<function=execute_bash>\n<parameter=command>ls</parameter>\n", wantErr: llm.ErrUnclosedCall},
		{name: "openhands: unclosed parameter", format: llm.FormatOpenHands, text: "<function=execute_bash>\n<parameter=command>ls\n</function>", wantErr: llm.ErrUnclosedCall},
		{name: "openhands: unknown tool", format: llm.FormatOpenHands, text: "<function=python>\n<parameter=code>1</parameter>\n</function>", wantErr: llm.ErrUnknownTool},
		{name: "openhands: missing required", format: llm.FormatOpenHands, text: "<function=str_replace_editor>\n<parameter=command>view</parameter>\n</function>", wantErr: llm.ErrMissingParameter},
		{name: "openhands: integer that is not", format: llm.FormatOpenHands, text: "<function=str_replace_editor>\n<parameter=command>insert</parameter>\n<parameter=path>/a</parameter>\n<parameter=insert_line>seven</parameter>\n</function>", wantErr: llm.ErrBadParameter},
		{name: "openhands: value outside the enum", format: llm.FormatOpenHands, text: "<function=str_replace_editor>\n<parameter=command>delete</parameter>\n<parameter=path>/a</parameter>\n</function>", wantErr: llm.ErrBadParameter},
		{name: "openhands: unknown parameter", format: llm.FormatOpenHands, text: "<function=execute_bash>\n<parameter=command>ls</parameter>\n<parameter=cwd>/</parameter>\n</function>", wantErr: llm.ErrBadParameter},
		{name: "openhands: no tool name", format: llm.FormatOpenHands, text: "<function= >\n</function>", wantErr: llm.ErrUnknownTool},
		{name: "openhands: parameter twice", format: llm.FormatOpenHands, text: "<function=execute_bash>\n<parameter=command>ls</parameter>\n<parameter=command>pwd</parameter>\n</function>", wantErr: llm.ErrBadParameter},
		{
			name:   "qwen: two calls",
			format: llm.FormatQwen,
			text:   "Two things.\n<tool_call>\n{\"name\": \"think\", \"arguments\": {\"thought\": \"a < b && c\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"ls\", \"timeout\": 30}}\n</tool_call>",
			want: sdk.Message{Role: "assistant", Content: "Two things.", ToolCalls: []sdk.ToolCall{
				call(5, 0, "think", `{"thought":"a < b && c"}`),
				call(5, 1, "execute_bash", `{"command":"ls","timeout":30}`),
			}},
		},
		{
			name:   "qwen: arguments as a JSON string",
			format: llm.FormatQwen,
			text:   "<tool_call>\n{\"name\": \"finish\", \"arguments\": \"{\\\"message\\\": \\\"done\\\"}\"}\n</tool_call>",
			want:   sdk.Message{Role: "assistant", ToolCalls: []sdk.ToolCall{call(5, 0, "finish", `{"message":"done"}`)}},
		},
		{name: "qwen: bad JSON", format: llm.FormatQwen, text: "<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"ls}\n</tool_call>", wantErr: llm.ErrBadArguments},
		{name: "qwen: no name", format: llm.FormatQwen, text: "<tool_call>\n{\"arguments\": {}}\n</tool_call>", wantErr: llm.ErrBadArguments},
		{name: "qwen: empty name", format: llm.FormatQwen, text: "<tool_call>\n{\"name\": \" \", \"arguments\": {}}\n</tool_call>", wantErr: llm.ErrBadArguments},
		{name: "qwen: unclosed", format: llm.FormatQwen, text: "<tool_call>\n{\"name\": \"finish\", \"arguments\": {}}", wantErr: llm.ErrUnclosedCall},
		{name: "qwen: unknown tool", format: llm.FormatQwen, text: "<tool_call>\n{\"name\": \"browse\", \"arguments\": {}}\n</tool_call>", wantErr: llm.ErrUnknownTool},
		{name: "qwen: missing required", format: llm.FormatQwen, text: "<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"timeout\": 5}}\n</tool_call>", wantErr: llm.ErrMissingParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := llm.ParseReply(tt.format, tt.text, tools, 5)
			if tt.wantErr != nil {
				var tce *llm.ToolCallError
				if !errors.As(err, &tce) || !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want a *ToolCallError wrapping %v", err, tt.wantErr)
				}
				if got.Content != tt.text || len(got.ToolCalls) != 0 {
					t.Errorf("a malformed reply must come back as its full text, without calls: %+v", got)
				}
				if tce.Reply().Content != tt.text {
					t.Errorf("Reply() = %+v", tce.Reply())
				}
				obs := tce.Observation()
				hint := "<function=TOOL_NAME>"
				if tt.format == llm.FormatQwen {
					hint = "<tool_call>"
				}
				if !strings.Contains(obs, hint) || !strings.Contains(obs, "call 1") {
					t.Errorf("observation does not show how to call:\n%s", obs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parsed (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTextFormatModel drives a text-format model through the stand-in
// server: what the server sees is plain text, what the caller sees are
// native tool calls.
func TestTextFormatModel(t *testing.T) {
	tools := loadTools(t)
	replies := map[llm.Format][]string{
		llm.FormatOpenHands: {
			"I will list the files.\n<function=execute_bash>\n<parameter=command>ls /testbed</parameter>\n<parameter=timeout>30</parameter>\n</function>",
			"<function=finish>\n<parameter=message>done",
		},
		llm.FormatQwen: {
			"I will list the files.\n<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"ls /testbed\", \"timeout\": 30}}\n</tool_call>",
			"<tool_call>\n{\"name\": \"finish\", \"arguments\": {\"message\": \"done\"}",
		},
	}
	for _, f := range []llm.Format{llm.FormatOpenHands, llm.FormatQwen} {
		t.Run(string(f), func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(llmtest.Text(replies[f][0]), llmtest.Text(replies[f][1]))
			model, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "plain-model", Format: f})
			if err != nil {
				t.Fatal(err)
			}
			msgs := []sdk.Message{{Role: "system", Content: "Be careful."}, {Role: "user", Content: "Fix the bug."}}
			resp, err := model.Chat(context.Background(), sdk.ChatRequest{Messages: msgs, Tools: tools})
			if err != nil {
				t.Fatal(err)
			}
			want := sdk.Message{Role: "assistant", Content: "I will list the files.", ToolCalls: []sdk.ToolCall{call(2, 0, "execute_bash", `{"command":"ls /testbed","timeout":30}`)}}
			if diff := cmp.Diff(want, resp.Message); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
			if resp.FinishReason != "tool_calls" {
				t.Errorf("finish_reason %q, want tool_calls", resp.FinishReason)
			}

			// The second turn carries the call and its result as text.
			msgs = append(msgs, resp.Message, sdk.Message{Role: "tool", Name: "execute_bash", ToolCallID: resp.Message.ToolCalls[0].ID, Content: "setup.py\nsrc"})
			resp, err = model.Chat(context.Background(), sdk.ChatRequest{Messages: msgs, Tools: tools})
			var tce *llm.ToolCallError
			if !errors.As(err, &tce) || !errors.Is(err, llm.ErrUnclosedCall) {
				t.Fatalf("err = %v, want a *ToolCallError for the unclosed call", err)
			}
			if resp.Message.Content != replies[f][1] || resp.Usage.TotalTokens == 0 {
				t.Errorf("response with the error: %+v", resp)
			}

			reqs := srv.Requests()
			for i, r := range reqs {
				if len(r.Chat.Tools) != 0 || r.Chat.Members["tools"] != nil {
					t.Errorf("request %d sent tools to a text-format model", i)
				}
				for _, m := range r.Chat.Messages {
					if len(m.ToolCalls) != 0 || m.Role == "tool" {
						t.Errorf("request %d sent native tool fields: %+v", i, m)
					}
				}
			}
			instr, _ := llm.Instructions(f, tools)
			if got := reqs[0].Chat.Messages[0].Text(); got != "Be careful.\n\n"+instr {
				t.Errorf("system prompt:\n%s", got)
			}
			second := reqs[1].Chat.Messages
			if len(second) != 4 || second[2].Role != "assistant" || second[3].Role != "user" {
				t.Fatalf("second request messages: %+v", second)
			}
			if !strings.HasPrefix(second[2].Text(), "I will list the files.\n") || !strings.Contains(second[2].Text(), "ls /testbed") {
				t.Errorf("assistant turn not rendered as text: %q", second[2].Text())
			}
			if !strings.Contains(second[3].Text(), "setup.py\nsrc") {
				t.Errorf("tool result not rendered: %q", second[3].Text())
			}
		})
	}
}

func TestCanonicalArguments(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "spaces and order", in: `{ "b" : 1, "a" : [1, 2] }`, want: `{"b":1,"a":[1,2]}`},
		{name: "escapes", in: `{"c": "\u003c\u0026\u003e \u00e9"}`, want: `{"c":"<&> é"}`},
		{name: "numbers keep their text", in: `{"x": 1.50, "y": 1e3}`, want: `{"x":1.50,"y":1e3}`},
		{name: "not an object", in: `[1]`, wantErr: true},
		{name: "trailing junk", in: `{} {}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := llm.CanonicalArguments(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
