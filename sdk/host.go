package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotLent is returned by a host callback the host did not lend for this
// call (a verifier asking for a model when the recipe names none).
var ErrNotLent = errors.New("host did not lend this service for the call")

// ExecResult is the outcome of a command run in a sandbox.
type ExecResult struct {
	Output   string `json:"output"`
	ExitCode int    `json:"exit_code"`
	TimedOut bool   `json:"timed_out"`
}

// ExecMarkerEnv is set in the environment of every command a sandbox runs;
// when the command ends (or times out) the sandbox kills every process it
// left running that still carries the variable. A process started without
// it (env -u SWELEGO_EXEC …) may outlive the Exec that started it, in
// sandboxes that keep processes between Execs (docker does; bwrap, whose
// process namespace ends with each Exec, does not); it ends when the
// sandbox closes. Tool sets use this for commands that keep running
// between tool calls.
const ExecMarkerEnv = "SWELEGO_EXEC"

// RepoDir is where the repository sits inside every sandbox, as in
// SWE-bench's images: the working directory of every Exec.
const RepoDir = "/testbed"

// Sandbox is the isolated copy of a repository the host lends to tool sets,
// injectors and verifiers. Paths are relative to the repository root
// (RepoDir) or absolute inside the sandbox.
type Sandbox interface {
	Exec(ctx context.Context, cmd string, timeout time.Duration) (ExecResult, error)
	ReadFile(ctx context.Context, path string) ([]byte, error)
	WriteFile(ctx context.Context, path string, data []byte) error
	// Diff returns the unified diff of the working tree against the base commit.
	Diff(ctx context.Context) (string, error)
}

// ChatRequest is an OpenAI chat-completions request. Extra carries any other
// request members (temperature, stop, …) verbatim.
type ChatRequest struct {
	Model       string          `json:"model,omitempty"`
	Messages    []Message       `json:"messages"`
	Tools       []ToolSchema    `json:"tools,omitempty"`
	Temperature *float64        `json:"temperature,omitempty"`
	MaxTokens   int             `json:"max_tokens,omitempty"`
	Logprobs    bool            `json:"logprobs,omitempty"`
	TopLogprobs int             `json:"top_logprobs,omitempty"`
	Extra       json.RawMessage `json:"extra,omitempty"`
}

// TokenLogprob is the log-probability of one generated token and, when
// asked for, the most likely alternatives at its position.
type TokenLogprob struct {
	Token       string         `json:"token"`
	Logprob     float64        `json:"logprob"`
	TopLogprobs []TokenLogprob `json:"top_logprobs,omitempty"`
}

// ChatResponse is the first choice of a chat completion.
type ChatResponse struct {
	Message      Message        `json:"message"`
	FinishReason string         `json:"finish_reason"`
	Logprobs     []TokenLogprob `json:"logprobs,omitempty"`
	Usage        Usage          `json:"usage"`
}

// Model is a chat model the host lends (any OpenAI-compatible endpoint the
// recipe names), so plugins need no credentials of their own.
type Model interface {
	Chat(ctx context.Context, req ChatRequest) (ChatResponse, error)
}
