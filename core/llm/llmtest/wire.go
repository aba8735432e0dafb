package llmtest

import (
	"github.com/swelego/swelego/core/llm/openai"
	"github.com/swelego/swelego/sdk"
)

// The wire shapes are core/llm/openai's, which pins the JSON each one
// makes; the names below keep this package's API.

// ChatRequest is the body of POST /chat/completions, as far as tests look
// at it; Members holds every member of the body as sent. Its messages are
// read strictly (content a string or null, arguments a string), so a
// client that sends anything else fails here.
type ChatRequest struct {
	Model       string         `json:"model"`
	Messages    []Message      `json:"messages"`
	Tools       []Tool         `json:"tools"`
	Temperature *float64       `json:"temperature"`
	MaxTokens   *int           `json:"max_tokens"`
	Logprobs    bool           `json:"logprobs"`
	TopLogprobs *int           `json:"top_logprobs"`
	Stream      bool           `json:"stream"`
	Members     map[string]any `json:"-"`
}

type (
	// Message is a chat message; Content is null for an assistant message
	// that only calls tools.
	Message = openai.Message
	// ToolCall is one function call; Arguments is a JSON text in a string.
	ToolCall = openai.ToolCall
	// FunctionCall names the function and carries its arguments.
	FunctionCall = openai.FunctionCall
	// Tool is one entry of the request's tools.
	Tool = openai.Tool
	// Choice is one completion choice; Logprobs is null unless asked for.
	Choice = openai.Choice[openai.Message]
	// Logprobs holds the per-token log-probabilities of a choice.
	Logprobs = openai.Logprobs
	// Logprob is one generated token, its UTF-8 bytes and the most likely
	// alternatives at its position.
	Logprob = openai.Logprob
	// TopLogprob is one alternative token.
	TopLogprob = openai.TopLogprob
	// ErrorBody is OpenAI's error shape, {"error": {…}}.
	ErrorBody = openai.ErrorBody
	// ErrorDetail is the inside of an ErrorBody.
	ErrorDetail = openai.ErrorDetail
)

// Completion is an object "chat.completion", with the system_fingerprint
// member OpenAI sends (null here).
type Completion struct {
	openai.Completion[openai.Message]
	SystemFingerprint *string `json:"system_fingerprint"`
}

// Usage counts tokens.
type Usage = sdk.Usage
