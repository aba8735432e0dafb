package errormask_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/swelego/swelego/plugins/errormask"
	"github.com/swelego/swelego/sdk"
)

// Observations of swetools' execute_bash, as it prints them.
const (
	okOut        = "README.md\nsetup.py\n[Current working directory: /testbed]\n[Command finished with exit code 0]"
	notFoundOut  = "bash: line 1: grpe: command not found\n[Current working directory: /testbed]\n[Command finished with exit code 127]"
	noMatchOut   = "[Current working directory: /testbed]\n[Command finished with exit code 1]"
	failedTests  = "F.\n=================================== FAILURES ===================================\n____ test_x ____\n\n    def test_x():\n>       assert f() == 2\nE       assert 1 == 2\n\ntests/test_x.py:3: AssertionError\n=========================== short test summary info ============================\nFAILED tests/test_x.py::test_x - assert 1 == 2\n1 failed, 1 passed in 0.02s\n[Current working directory: /testbed]\n[Command finished with exit code 1]"
	stillRunning = "Collecting...\n[The command has printed nothing new for 30 seconds and is still running (for 30 s now). Send an empty command with is_input=true to wait for more output, \"C-c\" with is_input=true to interrupt it, or other text with is_input=true to write it to the command's standard input.]"
	interrupted  = "^C\n[The command was interrupted.]\n[Current working directory: /testbed]\n[Command finished with exit code 130]"
)

func call(id, name string) sdk.ToolCall {
	return sdk.ToolCall{ID: id, Type: "function", Function: sdk.FunctionCall{Name: name, Arguments: "{}"}}
}

func asst(calls ...sdk.ToolCall) sdk.Message {
	return sdk.Message{Role: "assistant", Content: "step", ToolCalls: calls}
}

func tool(id, content string) sdk.Message {
	return sdk.Message{Role: "tool", ToolCallID: id, Content: content}
}

func user(content string) sdk.Message { return sdk.Message{Role: "user", Content: content} }

func ptr[T any](v T) *T { return &v }

var head = []sdk.Message{{Role: "system", Content: "You are a software engineer."}, user("Fix the issue.")}

func traj(turns []sdk.Turn, msgs ...sdk.Message) sdk.Trajectory {
	return sdk.Trajectory{InstanceID: "x", Messages: append(append([]sdk.Message{}, head...), msgs...), Turns: turns}
}

// w is an expected weight: message index, weight, reason.
type w = sdk.LossWeight

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		traj sdk.Trajectory
		want []sdk.LossWeight
	}{
		{
			name: "clean trajectory: every turn trained",
			traj: traj(nil, asst(call("a", "execute_bash")), tool("a", okOut), asst(call("b", "finish")), tool("b", "Done.")),
			want: []w{{Index: 2, Weight: 1}, {Index: 4, Weight: 1}},
		},
		{
			name: "no assistant message: no weights",
			traj: traj(nil),
			want: []w{},
		},
		{
			name: "turn flag masks; a non-zero exit code alone does not",
			traj: traj([]sdk.Turn{{ExitCode: 1, Error: true}, {ExitCode: 1}},
				asst(call("a", "str_replace_editor")), tool("a", "something odd"),
				asst(call("b", "execute_bash")), tool("b", failedTests)),
			want: []w{{Index: 2, Weight: 0, Reason: errormask.ReasonTurnFlag}, {Index: 4, Weight: 1}},
		},
		{
			name: "grep that finds nothing and failing tests are trained",
			traj: traj(nil, asst(call("a", "execute_bash")), tool("a", noMatchOut), asst(call("b", "execute_bash")), tool("b", failedTests)),
			want: []w{{Index: 2, Weight: 1}, {Index: 4, Weight: 1}},
		},
		{
			name: "a command still running, or interrupted on purpose, is trained",
			traj: traj(nil, asst(call("a", "execute_bash")), tool("a", stillRunning), asst(call("b", "execute_bash")), tool("b", interrupted)),
			want: []w{{Index: 2, Weight: 1}, {Index: 4, Weight: 1}},
		},
		{
			name: "use_turn_flags false: only patterns mask",
			cfg:  `{"use_turn_flags": false}`,
			traj: traj([]sdk.Turn{{Error: true}, {Error: false}}, asst(call("a", "x")), tool("a", "odd"), asst(call("b", "x")), tool("b", notFoundOut)),
			want: []w{{Index: 2, Weight: 1}, {Index: 4, Weight: 0, Reason: "pattern: command_not_found"}},
		},
		{
			name: "two calls in one turn: either failing masks the turn",
			traj: traj(nil, asst(call("a", "execute_bash"), call("b", "execute_bash")), tool("a", okOut), tool("b", notFoundOut)),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: command_not_found"}},
		},
		{
			name: "a late tool message answers the turn that made its call",
			traj: traj(nil, asst(call("a", "execute_bash")), asst(call("b", "execute_bash")), tool("b", okOut), tool("a", notFoundOut)),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: command_not_found"}, {Index: 3, Weight: 1}},
		},
		{
			name: "call ids reused every turn: the nearest turn that made the call",
			traj: traj(nil, asst(call("call_0", "execute_bash")), tool("call_0", okOut), asst(call("call_0", "execute_bash")), tool("call_0", notFoundOut)),
			want: []w{{Index: 2, Weight: 1}, {Index: 4, Weight: 0, Reason: "pattern: command_not_found"}},
		},
		{
			name: "tool message without an id answers the turn before it",
			traj: traj(nil, asst(call("", "execute_bash")), tool("", notFoundOut), asst(), tool("", okOut)),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: command_not_found"}, {Index: 4, Weight: 1}},
		},
		{
			name: "LLaMA-Factory observation role",
			traj: traj(nil, asst(), sdk.Message{Role: "observation", Content: notFoundOut}),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: command_not_found"}},
		},
		{
			name: "OpenHands text results: several calls in one user message",
			traj: traj(nil, sdk.Message{Role: "assistant", Content: "<function=execute_bash>…</function>"},
				user("EXECUTION RESULT of [execute_bash]:\n"+okOut+"\n\nEXECUTION RESULT of [str_replace_editor]:\nError: /testbed/a.py does not exist. Use the create command to make a new file.")),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: invalid_path"}},
		},
		{
			name: "Qwen text results",
			traj: traj(nil, sdk.Message{Role: "assistant", Content: "<tool_call>{}</tool_call>"}, user("<tool_response>\n"+notFoundOut+"\n</tool_response>")),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: command_not_found"}},
		},
		{
			name: "user messages that are not results are not read",
			traj: traj(nil, sdk.Message{Role: "assistant", Content: "I think we are done."},
				user("Continue working on the task. Earlier you saw: bash: grpe: command not found")),
			want: []w{{Index: 2, Weight: 1}},
		},
		{
			name: "the task prompt answers no turn",
			traj: sdk.Trajectory{Messages: []sdk.Message{user("EXECUTION RESULT of [x]:\n" + notFoundOut), asst(call("a", "x")), tool("a", okOut)}},
			want: []w{{Index: 1, Weight: 1}},
		},
		{
			name: "a reply whose call could not be read: turn flag, or the pattern without metadata",
			traj: traj([]sdk.Turn{{ExitCode: -1, Error: true}}, sdk.Message{Role: "assistant", Content: "<function=execute_bash"},
				user("ERROR: your last reply contained a tool call that could not be read, so no tool was run.\n- call 1 (execute_bash): unclosed <function> tag\n")),
			want: []w{{Index: 2, Weight: 0, Reason: errormask.ReasonTurnFlag}},
		},
		{
			name: "the same reply without turn metadata",
			traj: traj(nil, sdk.Message{Role: "assistant", Content: "<function=execute_bash"},
				user("ERROR: your last reply contained a tool call that could not be read, so no tool was run.\n- call 1 (execute_bash): unclosed <function> tag\n")),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: bad_tool_call"}},
		},
		{
			name: "OpenHands' editor wording",
			traj: traj(nil,
				asst(call("a", "str_replace_editor")), tool("a", "ERROR:\nNo replacement was performed, old_str `x = 1` did not appear verbatim in /workspace/a.py."),
				asst(call("b", "str_replace_editor")), tool("b", "ERROR:\nNo replacement was performed. Multiple occurrences of old_str `x` in lines [1, 5]. Please ensure it is unique."),
				asst(call("c", "str_replace_editor")), tool("c", "ERROR:\nInvalid `path` parameter: /workspace/b.py. The path /workspace/b.py does not exist. Please provide a valid path."),
				asst(call("d", "str_replace_editor")), tool("d", "ERROR:\nInvalid `path` parameter: /workspace/a.py. File already exists at: /workspace/a.py. Cannot overwrite files using command `create`."),
				asst(call("e", "execute_bash")), tool("e", "bash: grpe: command not found\n[The command completed with exit code 127.]"),
				asst(call("f", "execute_bash")), tool("f", "Traceback (most recent call last):\n  File \"/workspace/r.py\", line 1, in <module>\n    import foo\nModuleNotFoundError: No module named 'foo'\n[The command completed with exit code 1.]"),
			),
			want: []w{
				{Index: 2, Weight: 0, Reason: "pattern: old_str_not_found"},
				{Index: 4, Weight: 0, Reason: "pattern: old_str_not_unique"},
				{Index: 6, Weight: 0, Reason: "pattern: invalid_path"},
				{Index: 8, Weight: 0, Reason: "pattern: file_exists"},
				{Index: 10, Weight: 0, Reason: "pattern: command_not_found"},
				{Index: 12, Weight: 0, Reason: "pattern: traceback"},
			},
		},
		{
			name: "respect_turn_mask (default): dataset marks stay masked",
			traj: traj(nil, sdk.Message{Role: "assistant", TurnMask: ptr(true)}, sdk.Message{Role: "assistant", LossWeight: ptr(0.0)},
				sdk.Message{Role: "assistant", LossWeight: ptr(0.5)}, sdk.Message{Role: "assistant", TurnMask: ptr(false)}),
			want: []w{{Index: 2, Weight: 0, Reason: errormask.ReasonTurnMask}, {Index: 3, Weight: 0, Reason: errormask.ReasonLossWeight},
				{Index: 4, Weight: 1}, {Index: 5, Weight: 1}},
		},
		{
			name: "respect_turn_mask false: dataset marks are ignored",
			cfg:  `{"respect_turn_mask": false}`,
			traj: traj(nil, sdk.Message{Role: "assistant", TurnMask: ptr(true)}, sdk.Message{Role: "assistant", LossWeight: ptr(0.0)}),
			want: []w{{Index: 2, Weight: 1}, {Index: 3, Weight: 1}},
		},
		{
			name: "patterns replace the defaults",
			cfg:  `{"patterns": {"pip": "ERROR: Could not find a version"}}`,
			traj: traj(nil, asst(call("a", "x")), tool("a", notFoundOut), asst(call("b", "x")), tool("b", "ERROR: Could not find a version that satisfies numpy==9")),
			want: []w{{Index: 2, Weight: 1}, {Index: 4, Weight: 0, Reason: "pattern: pip"}},
		},
		{
			name: "patterns {} leaves only the turn flags",
			cfg:  `{"patterns": {}}`,
			traj: traj([]sdk.Turn{{}, {Error: true}}, asst(call("a", "x")), tool("a", notFoundOut), asst(call("b", "x")), tool("b", okOut)),
			want: []w{{Index: 2, Weight: 1}, {Index: 4, Weight: 0, Reason: errormask.ReasonTurnFlag}},
		},
		{
			name: "extra_patterns add to the defaults",
			cfg:  `{"extra_patterns": {"pip": "ERROR: Could not find a version"}}`,
			traj: traj(nil, asst(call("a", "x")), tool("a", notFoundOut), asst(call("b", "x")), tool("b", "ERROR: Could not find a version that satisfies numpy==9")),
			want: []w{{Index: 2, Weight: 0, Reason: "pattern: command_not_found"}, {Index: 4, Weight: 0, Reason: "pattern: pip"}},
		},
		{
			name: "disable_patterns leaves a default out",
			cfg:  `{"disable_patterns": ["traceback"]}`,
			traj: traj(nil, asst(call("a", "x")), tool("a", "Traceback (most recent call last):\n  File \"r.py\", line 3, in <module>\n    f()\nValueError: boom\n[Current working directory: /testbed]\n[Command finished with exit code 1]")),
			want: []w{{Index: 2, Weight: 1}},
		},
		{
			name: "strategy none trains every assistant message",
			cfg:  `{"strategy": "none"}`,
			traj: traj([]sdk.Turn{{Error: true}}, sdk.Message{Role: "assistant", TurnMask: ptr(true)}, tool("", notFoundOut)),
			want: []w{{Index: 2, Weight: 1}},
		},
		{
			name: "keep_dataset applies turn_mask and loss_weight only",
			cfg:  `{"strategy": "keep_dataset"}`,
			traj: traj([]sdk.Turn{{Error: true}, {}, {}, {}, {}},
				sdk.Message{Role: "assistant", TurnMask: ptr(true), LossWeight: ptr(1.0)}, tool("", notFoundOut),
				sdk.Message{Role: "assistant", LossWeight: ptr(0.0)},
				sdk.Message{Role: "assistant", LossWeight: ptr(0.25)},
				sdk.Message{Role: "assistant", LossWeight: ptr(1.0), TurnMask: ptr(false)},
				sdk.Message{Role: "assistant"}),
			want: []w{{Index: 2, Weight: 0, Reason: errormask.ReasonTurnMask}, {Index: 4, Weight: 0, Reason: errormask.ReasonLossWeight},
				{Index: 5, Weight: 0.25, Reason: errormask.ReasonLossWeight}, {Index: 6, Weight: 1}, {Index: 7, Weight: 1}},
		},
		{
			name: "last_k trains the last k turns",
			cfg:  `{"strategy": "last_k", "k": 2}`,
			traj: traj(nil, asst(), tool("", okOut), asst(), tool("", notFoundOut), asst(), asst()),
			want: []w{{Index: 2, Weight: 0, Reason: "last_k: before the last 2 turns"}, {Index: 4, Weight: 0, Reason: "last_k: before the last 2 turns"},
				{Index: 6, Weight: 1}, {Index: 7, Weight: 1}},
		},
		{
			name: "last_k with k past the turns trains them all, dataset marks kept",
			cfg:  `{"strategy": "last_k", "k": 10}`,
			traj: traj(nil, asst(), sdk.Message{Role: "assistant", TurnMask: ptr(true)}),
			want: []w{{Index: 2, Weight: 1}, {Index: 3, Weight: 0, Reason: errormask.ReasonTurnMask}},
		},
	}
	m := &errormask.Masker{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg sdk.Config
			if tt.cfg != "" {
				cfg = sdk.Config(tt.cfg)
			}
			got, err := m.Mask(context.Background(), cfg, tt.traj)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []sdk.LossWeight{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("weights\n got %+v\nwant %+v", got, tt.want)
			}
			if _, err := sdk.ResolveLossWeights(tt.traj, got); err != nil {
				t.Errorf("answer breaks the contract: %v", err)
			}
		})
	}
}

func TestMaskErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		traj sdk.Trajectory
		is   error
	}{
		{"more turns than assistant messages", "", traj([]sdk.Turn{{}, {}}, asst()), errormask.ErrTurns},
		{"fewer turns than assistant messages", "", traj([]sdk.Turn{{}}, asst(), asst()), errormask.ErrTurns},
		{"keep_dataset with a negative loss_weight", `{"strategy": "keep_dataset"}`, traj(nil, sdk.Message{Role: "assistant", LossWeight: ptr(-1.0)}), nil},
		{"bad configuration", `{"strategy": "everything"}`, traj(nil, asst()), errormask.ErrConfig},
	}
	m := &errormask.Masker{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Mask(context.Background(), sdk.Config(tt.cfg), tt.traj)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want one wrapping %v", err, tt.is)
			}
		})
	}
	// Turn metadata that does not line up is fine when flags are not read.
	if _, err := m.Mask(context.Background(), sdk.Config(`{"use_turn_flags": false}`), traj([]sdk.Turn{{}, {}}, asst())); err != nil {
		t.Errorf("use_turn_flags false: %v", err)
	}
}
