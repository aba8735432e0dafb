package sdk

import (
	"context"
	"encoding/json"
	"fmt"
)

// Kind names a plugin kind: what part of the pipeline a plugin serves.
type Kind string

// The plugin kinds. A single plugin binary may serve several.
const (
	KindTaskSource  Kind = "task_source"
	KindBugInjector Kind = "bug_injector"
	KindToolSet     Kind = "tool_set"
	KindLossMasker  Kind = "loss_masker"
	KindCurriculum  Kind = "curriculum"
	KindVerifier    Kind = "verifier"
	KindLogParser   Kind = "log_parser"
)

// Kinds lists every plugin kind in a stable order.
var Kinds = []Kind{KindTaskSource, KindBugInjector, KindToolSet, KindLossMasker, KindCurriculum, KindVerifier, KindLogParser, KindLanguage}

// Info describes a plugin binary: its name and version, the protocol
// versions it speaks and the kinds it serves.
type Info struct {
	Name             string `json:"name"`
	Version          string `json:"version"`
	Description      string `json:"description,omitempty"`
	ProtocolVersions []int  `json:"protocol_versions"`
	Kinds            []Kind `json:"kinds"`
}

// Serves reports whether the plugin serves kind k.
func (i Info) Serves(k Kind) bool {
	for _, have := range i.Kinds {
		if have == k {
			return true
		}
	}
	return false
}

// Config is the evaluated value of the recipe block that configures a plugin
// call, as JSON (an object whose members follow the kind's ConfigSchema).
// Plugins never see HCL.
type Config json.RawMessage

// Decode unmarshals the configuration into v; an empty Config leaves v as is.
func (c Config) Decode(v any) error {
	if len(c) == 0 {
		return nil
	}
	if err := json.Unmarshal(c, v); err != nil {
		return fmt.Errorf("decode plugin config: %w", err)
	}
	return nil
}

// MarshalJSON writes the raw configuration, or null when it is empty.
func (c Config) MarshalJSON() ([]byte, error) {
	if len(c) == 0 {
		return []byte("null"), nil
	}
	return c, nil
}

// UnmarshalJSON keeps a copy of the raw configuration.
func (c *Config) UnmarshalJSON(data []byte) error {
	*c = append((*c)[:0], data...)
	return nil
}

// TaskSource streams tasks described by its configuration: a SWE-bench file,
// merged pull requests of a repository, and so on.
type TaskSource interface {
	// Tasks sends every task of the source to send, in a stable order, and
	// stops at the first error send returns.
	Tasks(ctx context.Context, cfg Config, send func(Task) error) error
}

// InjectRequest asks a bug injector for candidate mutations of a repository
// snapshot that the host lends through Sandbox. Model is set when the recipe
// names a model for LM-based injectors.
type InjectRequest struct {
	Config   Config
	Repo     string
	Language string
	Sandbox  Sandbox
	Model    Model
}

// BugInjector proposes candidate bugs in a repository.
type BugInjector interface {
	Mutations(ctx context.Context, req InjectRequest, send func(Mutation) error) error
}

// ToolSchema declares one tool in OpenAI's function-calling shape;
// Parameters is a JSON Schema object.
type ToolSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// ToolRequest is one tool call to execute against the sandbox the host lends.
type ToolRequest struct {
	Config  Config
	Call    ToolCall
	Sandbox Sandbox
}

// ToolResult is the observation a tool call produced. Finished is set by a
// tool that ends the episode (finish).
type ToolResult struct {
	Output    string `json:"output"`
	ExitCode  int    `json:"exit_code"`
	Error     bool   `json:"error"`
	Truncated bool   `json:"truncated"`
	Finished  bool   `json:"finished"`
}

// ToolSet declares tools and executes calls to them.
type ToolSet interface {
	Tools(ctx context.Context, cfg Config) ([]ToolSchema, error)
	Execute(ctx context.Context, req ToolRequest) (ToolResult, error)
}

// LossMasker gives each message of a trajectory a training weight. The
// prepare stage calls Mask once per trajectory, before the chat template
// renders it; a masked turn stays in the context, only its loss changes.
//
// The contract of the answer, which the host checks (ResolveLossWeights) and
// reports as an error naming the trajectory:
//   - at most one LossWeight per message; Index is the message's position
//     in t.Messages, so a duplicate or an index outside the messages is an
//     error;
//   - Weight is finite and >= 0: 1 trains the message normally, 0 keeps it
//     in context with no loss, any other value scales its loss;
//   - an assistant message with no entry keeps weight 1, so an empty answer
//     trains every assistant message;
//   - a weight on a system, user or tool message is ignored: chat templates
//     never train those, whatever the masker says;
//   - the answer is final: the host does not combine it with the messages'
//     own TurnMask and LossWeight. A masker that should honour the marks a
//     dataset carries (SWE-Lego's released data sets turn_mask) reads them
//     from t and answers accordingly;
//   - Reason is free text the host records with the weight, such as
//     "error: command not found"; it may be empty.
//
// The first-party errormask plugin masks turns whose tool call failed to
// execute, as SWE-Lego's refined SFT does.
type LossMasker interface {
	Mask(ctx context.Context, cfg Config, t Trajectory) ([]LossWeight, error)
}

// Curriculum orders trajectories into stages trained one after the other.
// The prepare stage calls Stages once per run with the statistics of every
// trajectory it will train on.
//
// The contract of the answer, which the host checks (CheckStages):
//   - stages come in training order: the host trains stage 1 to the end,
//     then stage 2, and so on;
//   - every id is one of the ids of stats; an unknown id is an error. An id
//     in no stage is not trained (the host logs how many were left out);
//   - stages may overlap: a cumulative curriculum revisits earlier tiers,
//     and an id listed in two stages is trained in both. An id appears at
//     most once within one stage;
//   - the order of ids inside a stage is not significant: the host shuffles
//     each stage with the run's seed every epoch;
//   - Epochs is the stage's share of the run, in epochs over its own ids
//     (fractions allowed): stage i trains for Epochs_i epochs. Either every
//     stage has Epochs 0, and the host splits the recipe's epochs equally
//     between the stages, or every stage has a finite Epochs > 0; a mix is
//     an error;
//   - a stage with no ids is dropped before anything else (it takes no
//     share of the epochs); no stages at all trains nothing.
type Curriculum interface {
	Stages(ctx context.Context, cfg Config, stats []TrajectoryStats) ([]CurriculumStage, error)
}

// VerifyRequest is one candidate to score: the task, the trajectory that
// produced the candidate (may be empty when only a patch is known) and the
// patch. Model and Sandbox are lent by the host when the recipe provides them.
type VerifyRequest struct {
	Config     Config
	Task       Task
	Trajectory Trajectory
	Patch      string
	Model      Model
	Sandbox    Sandbox
}

// Verifier scores candidate solutions of a task.
type Verifier interface {
	Verify(ctx context.Context, req VerifyRequest) (Score, error)
}

// RankCandidate is one scored candidate of a task as the host hands it to
// a Ranker: Key is the host's id of the candidate, Score what Verify
// answered for it.
type RankCandidate struct {
	Key   string `json:"key"`
	Score Score  `json:"score"`
}

// RankRequest holds every scored candidate of one task.
type RankRequest struct {
	Config     Config
	Task       Task
	Candidates []RankCandidate
}

// Ranker is the optional, set-level call of a verifier whose pick depends
// on all candidates of a task (a hybrid verifier that keeps the top half
// by one score and then picks by another). A plugin ranks by having its
// Verifier value also implement Ranker.
//
// The contract, which the host checks (CheckRanking):
//   - the host calls Rank once per task, after every candidate of the task
//     is scored, with the candidates in its own order;
//   - the answer holds a final selection score for every candidate's Key,
//     exactly once, and no other key; every score is a finite number
//     (not limited to [0, 1]);
//   - the host submits the candidate with the highest selection score;
//     ties are broken by the host's candidate order (the first wins).
//
// A verifier that does not rank leaves the pick to the host, which takes
// the highest Score.Value. On the host side the Verifier of a Client also
// implements Ranker; its Rank returns an error that matches ErrNotServed
// when the plugin does not rank.
type Ranker interface {
	Rank(ctx context.Context, req RankRequest) (map[string]float64, error)
}

// TestStatus is the outcome of one test as a log parser reports it; the
// values are SWE-bench's.
type TestStatus string

// Test statuses.
const (
	TestPassed  TestStatus = "PASSED"
	TestFailed  TestStatus = "FAILED"
	TestSkipped TestStatus = "SKIPPED"
	TestError   TestStatus = "ERROR"
	TestXFail   TestStatus = "XFAIL"
	TestXPass   TestStatus = "XPASS"
)

// LogParser reads the output of a repository's test command into a status
// per test id: a language plugin serves one for a test runner the harness
// does not know.
type LogParser interface {
	ParseLog(ctx context.Context, cfg Config, log string) (map[string]TestStatus, error)
}
