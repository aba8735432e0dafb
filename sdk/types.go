package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Task sources and languages named by the data model.
const (
	SourceReal      = "real"
	SourceSynthetic = "synthetic"

	// PatchFixes marks a Task whose Patch fixes the bug (SWE-bench's convention).
	PatchFixes = "fix"
	// PatchIntroduces marks a Task whose Patch introduces the bug (SWE-smith's).
	PatchIntroduces = "introduce"
)

// Task is one executable software-engineering task. Its JSON form is a
// superset of a SWE-bench instance, so SWE-bench, SWE-smith and SWE-rebench
// files decode unchanged and a Task encodes to a file those tools read.
// Fields it does not know are kept in Extra and written back out.
type Task struct {
	InstanceID             string     `json:"instance_id"`
	Repo                   string     `json:"repo"`
	BaseCommit             string     `json:"base_commit"`
	Patch                  string     `json:"patch"`
	TestPatch              string     `json:"test_patch"`
	ProblemStatement       string     `json:"problem_statement"`
	HintsText              string     `json:"hints_text"`
	CreatedAt              string     `json:"created_at"`
	Version                string     `json:"version"`
	EnvironmentSetupCommit string     `json:"environment_setup_commit"`
	FailToPass             StringList `json:"FAIL_TO_PASS"`
	PassToPass             StringList `json:"PASS_TO_PASS"`

	Source         string `json:"source,omitempty"`
	Injector       string `json:"injector,omitempty"`
	Language       string `json:"language,omitempty"`
	Image          string `json:"image,omitempty"`
	Environment    string `json:"environment,omitempty"`
	TestCmd        string `json:"test_cmd,omitempty"`
	PatchDirection string `json:"patch_direction,omitempty"`

	// Extra holds the fields of the record that Task does not name, by
	// their JSON key, so that a decode followed by an encode loses nothing.
	Extra map[string]json.RawMessage `json:"-"`
}

type taskFields Task

// taskKeys are the JSON keys Task names itself; everything else goes to Extra.
var taskKeys = jsonKeys(taskFields{})

// UnmarshalJSON decodes a SWE-bench / SWE-smith instance, keeping unknown
// fields in Extra.
func (t *Task) UnmarshalJSON(data []byte) error {
	var f taskFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	extra, err := extraFields(data, taskKeys)
	if err != nil {
		return err
	}
	f.Extra = extra
	*t = Task(f)
	return nil
}

// MarshalJSON encodes the task with its Extra fields.
func (t Task) MarshalJSON() ([]byte, error) {
	return marshalWithExtra(taskFields(t), t.Extra)
}

// StringList is a list of strings that decodes from a JSON array or from a
// JSON string holding an encoded array (SWE-bench stores FAIL_TO_PASS and
// PASS_TO_PASS both ways) or a Python list literal (SWE-smith's
// "['a', 'b']", see ParsePythonList). It always encodes as an array; null, "", [] and
// "[]" all decode to the empty list, nil.
type StringList []string

// UnmarshalJSON accepts ["a","b"], "[\"a\",\"b\"]", "['a', 'b']", "" and
// null.
func (l *StringList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		*l = nil
		return nil
	}
	if data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		inner := bytes.TrimSpace([]byte(s))
		if len(inner) == 0 {
			*l = nil
			return nil
		}
		if inner[0] != '[' {
			return fmt.Errorf("string list: want a JSON array encoded as a string, got %q", truncate(s, 40))
		}
		data = inner
	}
	var out []string
	if err := json.Unmarshal(data, &out); err != nil {
		// SWE-smith writes the lists as Python literals: "['a', 'b']".
		py, pyErr := ParsePythonList(string(data))
		if data[0] != '[' || pyErr != nil {
			return fmt.Errorf("string list: %w", err)
		}
		out = py
	}
	if len(out) == 0 {
		out = nil // one empty list, however it was spelled, so decoding is stable
	}
	*l = out
	return nil
}

// MarshalJSON writes the list as a JSON array, [] when empty.
func (l StringList) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(l))
}

// Trajectory statuses.
const (
	StatusResolved     = "resolved"
	StatusSemiResolved = "semi_resolved"
	StatusUnresolved   = "unresolved"
	StatusError        = "error"
)

// Trajectory is one agent attempt at a task: OpenAI chat-completions messages
// with tool calls plus per-turn metadata and the graded outcome.
type Trajectory struct {
	InstanceID string            `json:"instance_id"`
	RunID      string            `json:"run_id,omitempty"`
	Attempt    int               `json:"attempt,omitempty"`
	Model      string            `json:"model,omitempty"`
	Messages   []Message         `json:"messages"`
	Turns      []Turn            `json:"turns,omitempty"`
	FinalPatch string            `json:"final_patch,omitempty"`
	Status     string            `json:"status,omitempty"`
	Tests      map[string]string `json:"tests,omitempty"`
	Usage      Usage             `json:"usage,omitempty"`
	Seed       int64             `json:"seed,omitempty"`
	// StopReason says why the episode ended: finished, max_turns,
	// token_budget, time_limit or model_error.
	StopReason string `json:"stop_reason,omitempty"`
	// Error says why an attempt has status error (its sandbox could not be
	// opened, the tool set failed, grading failed).
	Error string `json:"error,omitempty"`
}

// Message is one chat message in OpenAI's shape. LossWeight and TurnMask
// apply to assistant messages only: TurnMask true (SWE-Lego's released data)
// or LossWeight 0 keeps the turn in context without training on it.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	LossWeight *float64   `json:"loss_weight,omitempty"`
	TurnMask   *bool      `json:"turn_mask,omitempty"`
}

// ToolCall is an OpenAI tool call; Function.Arguments is the JSON text of
// the arguments exactly as the model produced it.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names a tool and carries its arguments as JSON text.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Turn is the metadata of one agent turn (one assistant message and the
// observations it caused). ExitCode is the last tool's; Error is set when a
// tool reported an error (a bad edit, a malformed call) or the shell could
// not run a command — not for a command that ran and exited non-zero.
type Turn struct {
	ExitCode  int           `json:"exit_code"`
	Error     bool          `json:"error"`
	Duration  time.Duration `json:"duration"`
	Truncated bool          `json:"truncated"`
}

// Usage counts tokens as OpenAI-compatible servers report them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Mutation is a candidate bug a bug injector proposes: a unified diff that
// introduces it, what kind of change it is and where.
type Mutation struct {
	ID       string            `json:"id"`
	Injector string            `json:"injector"`
	Kind     string            `json:"kind"`
	File     string            `json:"file"`
	Line     int               `json:"line,omitempty"`
	Symbol   string            `json:"symbol,omitempty"`
	Diff     string            `json:"diff"`
	Meta     map[string]string `json:"meta,omitempty"`
}

// Score is a verifier's judgement of one candidate: Value in [0, 1], higher
// is better, with an optional explanation. Parts names the components the
// value was made from ("p_yes", "pass_rate"), so a report or a Ranker can
// read them; an empty Parts is nil.
type Score struct {
	Value   float64            `json:"value"`
	Label   string             `json:"label,omitempty"`
	Details string             `json:"details,omitempty"`
	Parts   map[string]float64 `json:"parts,omitempty"`
}

// LossWeight is the training weight a loss masker gives one message of a
// trajectory (see LossMasker for the rules).
type LossWeight struct {
	// Index is the message's position in Trajectory.Messages.
	Index int `json:"index"`
	// Weight is finite and >= 0: 1 trains the message, 0 masks it (it
	// stays in context with no loss), other values scale its loss.
	Weight float64 `json:"weight"`
	// Reason says why, for the host's records ("error: command not found").
	Reason string `json:"reason,omitempty"`
}

// TrajectoryStats are what a curriculum sees of each trajectory.
type TrajectoryStats struct {
	// ID names the trajectory in the run; stages list these ids.
	ID string `json:"id"`
	// Turns is the number of assistant messages (agent turns).
	Turns int `json:"turns"`
	// Tokens is the trajectory's length in tokens of the training
	// tokenizer, 0 when the host has not counted them.
	Tokens int `json:"tokens"`
	// Resolved says whether the trajectory's patch resolved its task.
	Resolved bool `json:"resolved"`
}

// CurriculumStage is one stage of a curriculum: trajectories trained
// together, in the order stages are returned (see Curriculum for the
// rules).
type CurriculumStage struct {
	// Name labels the stage in logs and reports ("tier1").
	Name string `json:"name"`
	// IDs are ids of TrajectoryStats; their order is not significant.
	IDs []string `json:"ids"`
	// Epochs is how many epochs over IDs the stage trains for; 0 in every
	// stage splits the recipe's epochs equally between the stages.
	Epochs float64 `json:"epochs,omitempty"`
}

// Prediction is a SWE-bench predictions record.
type Prediction struct {
	InstanceID      string `json:"instance_id"`
	ModelNameOrPath string `json:"model_name_or_path"`
	ModelPatch      string `json:"model_patch"`
}
