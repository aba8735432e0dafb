package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/swelego/swelego/core/llm/openai"
	"github.com/swelego/swelego/sdk"
)

// Request is a chat-completions request, decoded and checked.
type Request struct {
	Model    string
	Messages []sdk.Message
	Tools    []sdk.ToolSchema
	// NoTools is set by tool_choice "none": the tools are described but
	// replies are not parsed for calls.
	NoTools     bool
	Temperature float64
	TopP        float64
	Seed        *uint64
	Stop        []string
	// MaxTokens is max_completion_tokens, else max_tokens; 0 when neither
	// was given (the rest of the context).
	MaxTokens    int
	Stream       bool
	IncludeUsage bool
	Logprobs     bool
	TopLogprobs  int
}

// Limits of request values.
const (
	maxStops       = 4
	maxTopLogprobs = 20
)

// ParseRequest decodes and checks a chat-completions request body. Its
// errors are *APIError values with the parameter at fault.
func ParseRequest(body []byte) (Request, error) {
	var w openai.ChatRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Request{}, invalid(te.Field, "%s: expected %s, got a JSON %s", te.Field, te.Type, te.Value)
		}
		return Request{}, &APIError{Status: 400, Type: typeInvalid, Message: "the request body is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return Request{}, &APIError{Status: 400, Type: typeInvalid, Message: "the request body is not valid JSON: data after the object"}
	}
	r := Request{Temperature: 1, TopP: 1}
	if w.Model == "" {
		return r, invalid("model", "model is required")
	}
	r.Model = w.Model
	if len(w.Messages) == 0 {
		return r, invalid("messages", "messages must hold at least one message")
	}
	for i, m := range w.Messages {
		msg, err := decodeMessage(m, i)
		if err != nil {
			return r, err
		}
		r.Messages = append(r.Messages, msg)
	}
	for i, t := range w.Tools {
		if t.Type != "function" && t.Type != "" {
			return r, invalid(fmt.Sprintf("tools[%d].type", i), "tool type %q is not function", t.Type)
		}
		if t.Function.Name == "" {
			return r, invalid(fmt.Sprintf("tools[%d].function.name", i), "a tool needs a name")
		}
		params := t.Function.Parameters
		if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		r.Tools = append(r.Tools, sdk.ToolSchema{Name: t.Function.Name, Description: t.Function.Description, Parameters: params})
	}
	if err := r.toolChoice(w.ToolChoice); err != nil {
		return r, err
	}
	if v := w.Temperature; v != nil {
		if !(*v >= 0 && *v <= 2) {
			return r, invalid("temperature", "temperature %v is outside 0 … 2", *v)
		}
		r.Temperature = *v
	}
	if v := w.TopP; v != nil {
		if !(*v > 0 && *v <= 1) {
			return r, invalid("top_p", "top_p %v is outside (0, 1]", *v)
		}
		r.TopP = *v
	}
	if w.Seed != nil {
		s := uint64(*w.Seed)
		r.Seed = &s
	}
	if w.N != nil && *w.N != 1 {
		return r, invalid("n", "n = %d: this server returns one choice (n = 1)", *w.N)
	}
	stops, err := decodeStop(w.Stop)
	if err != nil {
		return r, err
	}
	r.Stop = stops
	for _, f := range []struct {
		name string
		v    *int
	}{{"max_tokens", w.MaxTokens}, {"max_completion_tokens", w.MaxCompletionTokens}} {
		if f.v == nil {
			continue
		}
		if *f.v < 1 {
			return r, invalid(f.name, "%s must be at least 1, got %d", f.name, *f.v)
		}
		r.MaxTokens = *f.v // max_completion_tokens, later, wins
	}
	r.Stream = w.Stream
	if w.StreamOptions != nil {
		if !r.Stream {
			return r, invalid("stream_options", "stream_options is only allowed with stream = true")
		}
		r.IncludeUsage = w.StreamOptions.IncludeUsage
	}
	r.Logprobs = w.Logprobs
	if v := w.TopLogprobs; v != nil {
		if *v < 0 || *v > maxTopLogprobs {
			return r, invalid("top_logprobs", "top_logprobs %d is outside 0 … %d", *v, maxTopLogprobs)
		}
		if *v > 0 && !r.Logprobs {
			return r, invalid("top_logprobs", "top_logprobs needs logprobs = true")
		}
		r.TopLogprobs = *v
	}
	return r, nil
}

func decodeMessage(m openai.ReceivedMessage, i int) (sdk.Message, error) {
	param := func(f string) string { return fmt.Sprintf("messages[%d]%s", i, f) }
	switch m.Role {
	case "system", "developer", "user", "assistant", "tool":
	case "":
		return sdk.Message{}, invalid(param(".role"), "message %d has no role", i)
	default:
		return sdk.Message{}, invalid(param(".role"), "message %d has role %q (want system, user, assistant or tool)", i, m.Role)
	}
	role := m.Role
	if role == "developer" {
		role = "system"
	}
	content, err := decodeContent(m.Content)
	if err != nil {
		return sdk.Message{}, invalid(param(".content"), "message %d: %v", i, err)
	}
	msg := sdk.Message{Role: role, Content: content, Name: m.Name, ToolCallID: m.ToolCallID}
	if len(m.ToolCalls) > 0 && role != "assistant" {
		return msg, invalid(param(".tool_calls"), "message %d: only assistant messages have tool_calls", i)
	}
	for k, c := range m.ToolCalls {
		if c.Function.Name == "" {
			return msg, invalid(param(fmt.Sprintf(".tool_calls[%d].function.name", k)), "tool call %d of message %d has no name", k, i)
		}
		args, err := decodeArguments(c.Function.Arguments)
		if err != nil {
			return msg, invalid(param(fmt.Sprintf(".tool_calls[%d].function.arguments", k)), "tool call %d of message %d: %v", k, i, err)
		}
		typ := c.Type
		if typ == "" {
			typ = "function"
		}
		msg.ToolCalls = append(msg.ToolCalls, sdk.ToolCall{ID: c.ID, Type: typ, Function: sdk.FunctionCall{Name: c.Function.Name, Arguments: args}})
	}
	return msg, nil
}

// decodeContent reads a message's content: a string, null, or an array
// of text parts.
func decodeContent(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("content must be a string, null or an array of text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", fmt.Errorf("content part of type %q: only text parts are supported", p.Type)
		}
		b.WriteString(*p.Text)
	}
	return b.String(), nil
}

// decodeArguments reads a call's arguments: JSON text in a string, as
// OpenAI sends them, or an object.
func decodeArguments(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if raw[0] == '{' {
		return string(raw), nil
	}
	return "", errors.New("arguments must be a JSON string or object")
}

func decodeStop(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, invalid("stop", "a stop sequence cannot be empty")
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid("stop", "stop must be a string or an array of strings")
	}
	if len(list) > maxStops {
		return nil, invalid("stop", "%d stop sequences: at most %d", len(list), maxStops)
	}
	for _, s := range list {
		if s == "" {
			return nil, invalid("stop", "a stop sequence cannot be empty")
		}
	}
	return list, nil
}

func (r *Request) toolChoice(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch s {
		case "none":
			r.NoTools = true
			return nil
		case "auto", "required":
			return nil
		}
		return invalid("tool_choice", "tool_choice %q is not none, auto or required", s)
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Function.Name == "" {
		return invalid("tool_choice", "tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}")
	}
	for _, t := range r.Tools {
		if t.Name == named.Function.Name {
			return nil
		}
	}
	return invalid("tool_choice", "tool_choice names %q, which is not in tools", named.Function.Name)
}
