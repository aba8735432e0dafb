package errormask_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/plugins/errormask"
	"github.com/swelego/swelego/sdk"
)

// observation is one record of testdata/observations.jsonl: a tool call
// and the observation the swetools plugin really printed for it. They were
// captured by testdata/capture (see its doc comment): the oracle teacher's
// steps and mistakes on the bundled tasks textkit__textkit-1 and
// semver__semver-1, and other failing commands, run through swetools in a
// bubblewrap sandbox with the repository at /testbed. Want is the verdict
// written by hand: the name of the default pattern that must mask the turn,
// or "" for a turn that is trained (a grep that finds nothing, failing
// tests, a build that fails).
type observation struct {
	Name      string `json:"name"`
	Task      string `json:"task"`
	Tool      string `json:"tool"`
	Arguments string `json:"arguments"`
	Output    string `json:"output"`
	ExitCode  int    `json:"exit_code"`
	Error     bool   `json:"error"`
	// TurnError is the turn flag core/agent records: a tool error, or
	// execute_bash exiting 126 or 127 (the shell could not run it).
	TurnError bool   `json:"turn_error"`
	Want      string `json:"want"`
}

func readObservations(t *testing.T) []observation {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "observations.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []observation
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var o observation
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("observations.jsonl:%d: %v", line, err)
		}
		out = append(out, o)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no observations")
	}
	return out
}

// nativeTrajectory is a rollout's trajectory of one turn with native tool
// calls; turns adds the turn metadata the rollout records.
func nativeTrajectory(o observation, turns bool) sdk.Trajectory {
	t := sdk.Trajectory{InstanceID: o.Task, Messages: []sdk.Message{
		{Role: "system", Content: "You are a software engineer."},
		{Role: "user", Content: "Fix the issue."},
		{Role: "assistant", Content: "Next step.", ToolCalls: []sdk.ToolCall{{ID: "call_1", Type: "function", Function: sdk.FunctionCall{Name: o.Tool, Arguments: o.Arguments}}}},
		{Role: "tool", Name: o.Tool, ToolCallID: "call_1", Content: o.Output},
	}}
	if turns {
		t.Turns = []sdk.Turn{{ExitCode: o.ExitCode, Error: o.TurnError}}
	}
	return t
}

// textTrajectory is the same turn as OpenHands' text function calls write
// it (SWE-Lego's released data, swelego's exports): the result comes back
// in a user message, and there is no turn metadata.
func textTrajectory(o observation) sdk.Trajectory {
	return sdk.Trajectory{InstanceID: o.Task, Messages: []sdk.Message{
		{Role: "system", Content: "You are a software engineer."},
		{Role: "user", Content: "Fix the issue."},
		{Role: "assistant", Content: "Next step.\n<function=" + o.Tool + ">\n</function>"},
		{Role: "user", Content: "EXECUTION RESULT of [" + o.Tool + "]:\n" + o.Output},
	}}
}

// TestCapturedObservations masks every captured observation in the three
// forms a trajectory comes in and checks the verdict.
func TestCapturedObservations(t *testing.T) {
	m := &errormask.Masker{}
	for _, o := range readObservations(t) {
		t.Run(o.Name, func(t *testing.T) {
			byPattern := ""
			if o.Want != "" {
				byPattern = "pattern: " + o.Want
			}
			withFlags := byPattern
			if o.TurnError {
				withFlags = errormask.ReasonTurnFlag
			}
			if o.TurnError && o.Want == "" {
				t.Errorf("the rollout flags this turn but no pattern masks it: imported copies of it would be trained")
			}
			forms := []struct {
				name string
				traj sdk.Trajectory
				want string
			}{
				{"rollout with turn metadata", nativeTrajectory(o, true), withFlags},
				{"tool calls without turn metadata", nativeTrajectory(o, false), byPattern},
				{"OpenHands text", textTrajectory(o), byPattern},
			}
			for _, f := range forms {
				ws, err := m.Mask(context.Background(), nil, f.traj)
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				if got := verdict(t, f.traj, ws, 2); got != f.want {
					t.Errorf("%s: verdict %q, want %q\nobservation:\n%s", f.name, got, f.want, o.Output)
				}
			}
		})
	}
}

// verdict checks ws against the contract and returns the reason of the
// assistant message at idx when it is masked, "" when it is trained.
func verdict(t *testing.T, traj sdk.Trajectory, ws []sdk.LossWeight, idx int) string {
	t.Helper()
	weights, err := sdk.ResolveLossWeights(traj, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.Index == idx {
			if (weights[idx] == 0) != (w.Reason != "") {
				t.Errorf("weight %g with reason %q", weights[idx], w.Reason)
			}
			return w.Reason
		}
	}
	t.Fatalf("no weight for message %d in %+v", idx, ws)
	return ""
}

// TestSwetoolsGoldens keeps the default patterns in step with the wording
// of the swetools plugin: every failure its editor and argument checks
// report (its golden files, error=true) must match a default pattern, and
// no successful editor observation may.
func TestSwetoolsGoldens(t *testing.T) {
	m := &errormask.Masker{}
	check := func(name, output string, failed bool) {
		o := observation{Name: name, Tool: "str_replace_editor", Output: output}
		traj := nativeTrajectory(o, false)
		ws, err := m.Mask(context.Background(), nil, traj)
		if err != nil {
			t.Fatal(err)
		}
		if got := verdict(t, traj, ws, 2); (got != "") != failed {
			t.Errorf("%s: verdict %q, want masked %v:\n%s", name, got, failed, output)
		}
	}
	editor := readGolden(t, "editor.golden")
	failed, n := 0, 0
	for _, c := range strings.Split(editor, "\n### ") {
		name, rest, _ := strings.Cut(c, "\n")
		_, rest, _ = strings.Cut(rest, "\n") // the arguments
		head, output, ok := strings.Cut(rest, "\n")
		if !ok || !strings.HasPrefix(head, "--- error=") {
			continue
		}
		n++
		if strings.HasPrefix(head, "--- error=true") {
			failed++
		}
		check("editor.golden: "+name, output, strings.HasPrefix(head, "--- error=true"))
	}
	if failed < 20 || n-failed < 20 {
		t.Errorf("read %d failed and %d successful cases from editor.golden; its format changed?", failed, n-failed)
	}
	malformed := readGolden(t, "malformed.golden")
	n = 0
	for _, c := range strings.Split(malformed, "\n### ") {
		name, rest, _ := strings.Cut(c, "\n")
		_, output, ok := strings.Cut(rest, "\n")
		if !ok || !strings.HasPrefix(output, "Error: ") {
			continue
		}
		n++
		check("malformed.golden: "+name, output, true)
	}
	if n == 0 {
		t.Error("no cases read from malformed.golden")
	}
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "swetools", "testdata", name))
	if os.IsNotExist(err) {
		t.Skipf("swetools' %s is not here", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return "\n" + string(b)
}
