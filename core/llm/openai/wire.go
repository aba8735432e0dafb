package openai

import (
	"encoding/json"

	"github.com/swelego/swelego/sdk"
)

// Message is a chat message as it is written: by a client in a request,
// by a server in a completion. Content is null for an assistant message
// that only calls tools.
type Message struct {
	Role       string     `json:"role"`
	Content    *string    `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// Text is the message's content, "" for null.
func (m Message) Text() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

// ToolCall is one function call; Index numbers the calls of a streamed
// delta and is left out elsewhere.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments, JSON text in
// a string: the sdk's type is OpenAI's shape (wire_test.go pins it).
type FunctionCall = sdk.FunctionCall

// ReceivedMessage is a message as it is read from the other side, its
// content and arguments kept raw: content may be a string, null or a list
// of parts, and arguments a string or an object, depending on the sender.
type ReceivedMessage struct {
	Role       string             `json:"role"`
	Content    json.RawMessage    `json:"content"`
	Name       string             `json:"name"`
	ToolCalls  []ReceivedToolCall `json:"tool_calls"`
	ToolCallID string             `json:"tool_call_id"`
}

// ReceivedToolCall is a tool call as it is read, its arguments raw.
type ReceivedToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// Tool is one entry of a request's tools.
type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction describes a tool: its parameters are a JSON schema.
type ToolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// ChatRequest is the body of POST /chat/completions as a server reads it.
// Members that may be absent or null are pointers or raw.
type ChatRequest struct {
	Model               string            `json:"model"`
	Messages            []ReceivedMessage `json:"messages"`
	Tools               []Tool            `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	Seed                *int64            `json:"seed"`
	N                   *int              `json:"n"`
	Stop                json.RawMessage   `json:"stop"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Stream              bool              `json:"stream"`
	StreamOptions       *StreamOptions    `json:"stream_options"`
	Logprobs            bool              `json:"logprobs"`
	TopLogprobs         *int              `json:"top_logprobs"`
}

// StreamOptions asks a streamed completion for a last chunk with usage.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Completion is an object "chat.completion", or one "chat.completion.chunk"
// of a streamed completion. M is the message type: Message where it is
// written, ReceivedMessage where a client reads it.
type Completion[M any] struct {
	ID      string      `json:"id"`
	Object  string      `json:"object"`
	Created int64       `json:"created"`
	Model   string      `json:"model"`
	Choices []Choice[M] `json:"choices"`
	Usage   *sdk.Usage  `json:"usage,omitempty"`
}

// Choice is one completion choice: a Message in a completion, a Delta in a
// chunk. Logprobs is null unless asked for; FinishReason is null in the
// chunks before the last.
type Choice[M any] struct {
	Index        int       `json:"index"`
	Message      *M        `json:"message,omitempty"`
	Delta        *Delta    `json:"delta,omitempty"`
	Logprobs     *Logprobs `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

// Delta is what a streamed chunk adds to the message.
type Delta struct {
	Role      string     `json:"role,omitempty"`
	Content   *string    `json:"content,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// Logprobs holds the per-token log-probabilities of a choice.
type Logprobs struct {
	Content []Logprob `json:"content"`
}

// Logprob is one generated token, its UTF-8 bytes and the most likely
// alternatives at its position.
type Logprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one alternative token.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// ErrorBody is OpenAI's error shape, {"error": {…}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of an ErrorBody; Param and Code are null when
// they do not apply.
type ErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}
