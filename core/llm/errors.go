package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// Errors a Client returns, for errors.Is. Each is wrapped with the detail
// of the failure.
var (
	// ErrBadResponse: the endpoint answered 2xx with a body that is not a
	// chat completion (not JSON, or not the expected shape).
	ErrBadResponse = errors.New("malformed chat completion")
	// ErrEmptyChoices: the completion had no choices.
	ErrEmptyChoices = errors.New("chat completion has no choices")
	// ErrTimeout: the endpoint did not answer within Config.Timeout, on
	// every attempt.
	ErrTimeout = errors.New("no answer within the request timeout")
	// ErrNoAPIKey: Config.APIKeyEnv names an environment variable that is
	// unset or empty.
	ErrNoAPIKey = errors.New("api key environment variable is not set")
	// ErrProvider: New was given a provider this package does not serve.
	ErrProvider = errors.New("unsupported model provider")
)

// Problems with a tool call, wrapped by CallProblem.Err and reachable from
// a *ToolCallError with errors.Is.
var (
	// ErrUnclosedCall: a text-format call whose closing tag is missing.
	ErrUnclosedCall = errors.New("tool call is not closed")
	// ErrBadArguments: the arguments are not a JSON object (native calls,
	// Qwen's format) or the call's body cannot be read.
	ErrBadArguments = errors.New("tool call arguments cannot be read")
	// ErrUnknownTool: the call names a tool that was not offered.
	ErrUnknownTool = errors.New("unknown tool")
	// ErrMissingParameter: a required parameter is absent.
	ErrMissingParameter = errors.New("required parameter missing")
	// ErrBadParameter: a parameter is unknown to the tool, given twice, or
	// its value does not fit the parameter's type or allowed values.
	ErrBadParameter = errors.New("bad parameter")
)

// APIError is a non-2xx answer of the endpoint, with the message of
// OpenAI's {"error": {"message", "type", "code"}} body when there was one.
type APIError struct {
	StatusCode int
	Message    string
	Type       string
	Code       string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("endpoint answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Temporary reports whether the request is worth retrying: rate limits and
// server errors.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
}

// CallProblem is one unreadable tool call of a reply.
type CallProblem struct {
	// Index is the call's position in the reply (0-based).
	Index int
	// ID is the call's id for native calls, "" for text formats.
	ID string
	// Name is the tool the call names, when it could be read.
	Name string
	// Text is the call as the model wrote it: the arguments of a native
	// call, the tagged text of a text-format call.
	Text string
	// Err wraps one of ErrUnclosedCall, ErrBadArguments, ErrUnknownTool,
	// ErrMissingParameter or ErrBadParameter.
	Err error
}

// ToolCallError is returned by Chat, together with the full ChatResponse,
// when the model's reply holds a tool call that cannot be read (bad JSON
// arguments, an unclosed tag, an unknown tool, a missing required
// parameter). It is not a failure of the endpoint: the agent loop keeps
// Reply() as the assistant message, sends Observation() back (as a user
// message) and goes on. The response's usage still counts.
type ToolCallError struct {
	// Message is the reply as the model wrote it. Its ToolCalls hold the
	// native calls as received (text formats: none).
	Message  sdk.Message
	Problems []CallProblem
	// Format is how the calls were expected.
	Format Format
}

func (e *ToolCallError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.describe()
	}
	return "malformed tool call: " + strings.Join(parts, "; ")
}

// Unwrap gives the problems' errors, so errors.Is(err, ErrUnknownTool) works.
func (e *ToolCallError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Err
	}
	return out
}

// Reply is the assistant message as the model wrote it.
func (e *ToolCallError) Reply() sdk.Message { return e.Message }

// Observation is the text to send back to the model: what was wrong with
// each call and how a call is written. Nothing of the reply was executed.
func (e *ToolCallError) Observation() string {
	var b strings.Builder
	b.WriteString("ERROR: your last reply contained a tool call that could not be read, so no tool was run.\n")
	for _, p := range e.Problems {
		b.WriteString("- ")
		b.WriteString(p.describe())
		b.WriteString("\n")
	}
	b.WriteString(e.Format.callHint())
	return b.String()
}

func (p CallProblem) describe() string {
	who := fmt.Sprintf("call %d", p.Index+1)
	if p.Name != "" {
		who += " (" + p.Name + ")"
	}
	return who + ": " + p.Err.Error()
}

func (f Format) callHint() string {
	switch f {
	case FormatOpenHands:
		return "Write a tool call exactly like this, with every required parameter, and try again:\n" +
			"<function=TOOL_NAME>\n<parameter=PARAMETER_NAME>value</parameter>\n</function>"
	case FormatQwen:
		return "Write a tool call exactly like this, with a JSON object of every required argument, and try again:\n" +
			"<tool_call>\n{\"name\": \"TOOL_NAME\", \"arguments\": {\"PARAMETER_NAME\": \"value\"}}\n</tool_call>"
	default:
		return "Call an offered tool with its arguments as one JSON object holding every required parameter, and try again."
	}
}
