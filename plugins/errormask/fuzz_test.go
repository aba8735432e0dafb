package errormask_test

import (
	"context"
	"errors"
	"testing"

	"github.com/swelego/swelego/plugins/errormask"
	"github.com/swelego/swelego/sdk"
)

// FuzzMask feeds configurations and observations from outside (a recipe's
// block, any text a command prints) to the masker: a configuration is
// accepted or refused with ErrConfig, never a panic, and an accepted one
// answers within the contract with one weight per assistant message. With
// the default configuration, an observation gets the same verdict as a
// tool message and as OpenHands' text result.
func FuzzMask(f *testing.F) {
	f.Add(``, "bash: line 1: grpe: command not found\n[Current working directory: /testbed]\n[Command finished with exit code 127]", false)
	f.Add(``, "[Current working directory: /testbed]\n[Command finished with exit code 1]", true)
	f.Add(`{"strategy": "last_k", "k": 1}`, "Error: /testbed/a.py does not exist. Use the create command to make a new file.", false)
	f.Add(`{"strategy": "keep_dataset"}`, "ok", true)
	f.Add(`{"patterns": {"x": "(?i)fatal"}, "disable_patterns": ["x"]}`, "FATAL", false)
	f.Add(`{"extra_patterns": {"traceback": "\\A"}}`, "Traceback (most recent call last):\n  File \"a.py\", line 1\nValueError: x\n[Command finished with exit code 1]", false)
	f.Add(`{"k": 1e400}`, "", false)
	m := &errormask.Masker{}
	f.Fuzz(func(t *testing.T, cfg, obs string, flag bool) {
		if _, err := errormask.ParseConfig(sdk.Config(cfg)); err != nil {
			if !errors.Is(err, errormask.ErrConfig) {
				t.Fatalf("config error %v does not wrap ErrConfig", err)
			}
			return
		}
		native := sdk.Trajectory{
			Messages: []sdk.Message{
				{Role: "user", Content: obs},
				{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: "a", Function: sdk.FunctionCall{Name: "execute_bash"}}}},
				{Role: "tool", ToolCallID: "a", Content: obs},
				{Role: "assistant"},
				{Role: "user", Content: obs},
			},
			Turns: []sdk.Turn{{Error: flag}, {}},
		}
		text := sdk.Trajectory{Messages: []sdk.Message{
			{Role: "assistant"},
			{Role: "user", Content: "EXECUTION RESULT of [execute_bash]:\n" + obs},
		}}
		var verdicts []float64
		for _, c := range []struct {
			tr         sdk.Trajectory
			assistants int
			turn       int // the message whose observation is obs
		}{{native, 2, 1}, {text, 1, 0}} {
			ws, err := m.Mask(context.Background(), sdk.Config(cfg), c.tr)
			if err != nil {
				t.Fatalf("mask: %v", err)
			}
			weights, err := sdk.ResolveLossWeights(c.tr, ws)
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != c.assistants {
				t.Fatalf("%d weights for %d assistant messages", len(ws), c.assistants)
			}
			verdicts = append(verdicts, weights[c.turn])
		}
		if cfg == "" && !flag && (verdicts[0] == 0) != (verdicts[1] == 0) {
			t.Fatalf("tool message weight %g, OpenHands text weight %g for %q", verdicts[0], verdicts[1], obs)
		}
	})
}
