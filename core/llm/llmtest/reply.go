package llmtest

import (
	"embed"
	"fmt"
	"net/http"
	"time"
)

// Reply is one scripted answer. The zero Reply answers an empty text
// completion. Exactly one way of answering is used, in this order: Drop,
// Hang, Body, Error, Completion.
type Reply struct {
	// Status is the HTTP status; 0 means 200 (or the status an Error
	// builder chose).
	Status int
	// Header is added to the response (Retry-After, say).
	Header http.Header
	// Delay is waited before answering (cut short when the client gives up).
	Delay time.Duration

	// Drop closes the connection without answering.
	Drop bool
	// Hang answers nothing until the client gives up or the server stops.
	Hang bool
	// Body is sent as it is (a fixture, or a malformed body).
	Body []byte
	// Error is sent as {"error": …}.
	Error *ErrorDetail
	// Completion is sent as JSON; the server fills in an empty id, object,
	// created, model and usage.
	Completion *Completion
}

// Text answers a completion whose message is content, finish_reason "stop".
func Text(content string) Reply {
	return reply(Message{Role: "assistant", Content: &content}, "stop")
}

// Calls answers a completion with native tool calls (content null,
// finish_reason "tool_calls"). Calls without an id get
// "call_<request>_<n>" when served, unique over the server's life.
func Calls(calls ...ToolCall) Reply {
	calls = append([]ToolCall(nil), calls...)
	for i := range calls {
		if calls[i].Type == "" {
			calls[i].Type = "function"
		}
	}
	return reply(Message{Role: "assistant", ToolCalls: calls}, "tool_calls")
}

// reply is a completion of one choice.
func reply(m Message, finish string) Reply {
	var c Completion
	c.Choices = []Choice{{Message: &m, FinishReason: &finish}}
	return Reply{Completion: &c}
}

// Call is a tool call of name with arguments (a JSON text, sent as it is,
// valid or not).
func Call(name, arguments string) ToolCall {
	return ToolCall{Type: "function", Function: FunctionCall{Name: name, Arguments: arguments}}
}

// Error answers status with OpenAI's error body.
func Error(status int, typ, message string) Reply {
	return Reply{Status: status, Error: &ErrorDetail{Message: message, Type: typ}}
}

// RateLimited answers 429 with a Retry-After header (seconds; "" for none).
func RateLimited(retryAfter string) Reply {
	r := Error(http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached for requests; please try again later.")
	if retryAfter != "" {
		r.Header = http.Header{"Retry-After": {retryAfter}}
	}
	return r
}

// ServerError answers 500 with an error body.
func ServerError() Reply {
	return Error(http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
}

// Hang never answers; the client must give up.
func Hang() Reply { return Reply{Hang: true} }

// Drop closes the connection without an answer.
func Drop() Reply { return Reply{Drop: true} }

// Raw answers status with body as it is.
func Raw(status int, body string) Reply { return Reply{Status: status, Body: []byte(body)} }

// WithFinishReason sets the first choice's finish_reason ("length", say).
func (r Reply) WithFinishReason(reason string) Reply {
	if r.Completion != nil && len(r.Completion.Choices) > 0 {
		c := *r.Completion
		c.Choices = append([]Choice(nil), c.Choices...)
		c.Choices[0].FinishReason = &reason
		r.Completion = &c
	}
	return r
}

// WithLogprobs sets the first choice's logprobs.
func (r Reply) WithLogprobs(tokens ...Logprob) Reply {
	if r.Completion != nil && len(r.Completion.Choices) > 0 {
		c := *r.Completion
		c.Choices = append([]Choice(nil), c.Choices...)
		c.Choices[0].Logprobs = &Logprobs{Content: tokens}
		r.Completion = &c
	}
	return r
}

// WithUsage sets the completion's usage instead of the server's estimate.
func (r Reply) WithUsage(prompt, completion int) Reply {
	if r.Completion != nil {
		c := *r.Completion
		c.Usage = &Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
		r.Completion = &c
	}
	return r
}

// Token is a Logprob with its bytes filled in from token.
func Token(token string, logprob float64, top ...TopLogprob) Logprob {
	return Logprob{Token: token, Logprob: logprob, Bytes: tokenBytes(token), TopLogprobs: top}
}

// Alt is a TopLogprob with its bytes filled in.
func Alt(token string, logprob float64) TopLogprob {
	return TopLogprob{Token: token, Logprob: logprob, Bytes: tokenBytes(token)}
}

func tokenBytes(s string) []int {
	out := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = int(s[i])
	}
	return out
}

//go:embed testdata/*.json
var fixtures embed.FS

// Fixture answers with one of the recorded-shape bodies under testdata/
// (hand-written from OpenAI's and vLLM's documented responses), with
// status 200 unless the name starts with "error_<status>".
func Fixture(name string) Reply {
	body, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("llmtest: no fixture %q", name))
	}
	status := http.StatusOK
	var code int
	if _, err := fmt.Sscanf(name, "error_%d", &code); err == nil {
		status = code
	}
	return Reply{Status: status, Body: body}
}

// FixtureNames lists the fixtures.
func FixtureNames() []string {
	entries, _ := fixtures.ReadDir("testdata")
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
