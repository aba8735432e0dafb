package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/swelego/swelego/core/llm/openai"
	"github.com/swelego/swelego/sdk"
)

// wireResponse is a completion as the client reads it.
type wireResponse = openai.Completion[openai.ReceivedMessage]

// wireError is an error body as the client reads it: code may be a
// string, a number or null.
type wireError struct {
	Error *struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
	// Some servers (older vLLM) put the error members at the top level.
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// encodeMessages turns sdk messages into wire messages. An assistant
// message with tool calls and no text sends content null, as OpenAI does.
func encodeMessages(msgs []sdk.Message) []openai.Message {
	out := make([]openai.Message, len(msgs))
	for i, m := range msgs {
		w := openai.Message{Role: m.Role, ToolCallID: m.ToolCallID}
		if m.Role != "tool" {
			w.Name = m.Name
		}
		content := m.Content
		if !(content == "" && len(m.ToolCalls) > 0) {
			w.Content = &content
		}
		for _, c := range m.ToolCalls {
			wc := openai.ToolCall{ID: c.ID, Type: c.Type, Function: c.Function}
			if wc.Type == "" {
				wc.Type = "function"
			}
			w.ToolCalls = append(w.ToolCalls, wc)
		}
		out[i] = w
	}
	return out
}

func encodeTools(tools []sdk.ToolSchema) []openai.Tool {
	out := make([]openai.Tool, len(tools))
	for i, t := range tools {
		w := openai.Tool{Type: "function", Function: openai.ToolFunction{Name: t.Name, Description: t.Description, Parameters: t.Parameters}}
		if len(bytes.TrimSpace(t.Parameters)) == 0 {
			w.Function.Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out[i] = w
	}
	return out
}

// decodeContent reads a message's content: a string, null, or a list of
// parts whose text is concatenated.
func decodeContent(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("content is neither a string nor a list of parts")
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// decodeArguments reads function.arguments: normally a string holding JSON,
// but some servers send the object itself.
func decodeArguments(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

func decodeLogprobs(in []openai.Logprob) []sdk.TokenLogprob {
	if len(in) == 0 {
		return nil
	}
	out := make([]sdk.TokenLogprob, len(in))
	for i, lp := range in {
		out[i] = sdk.TokenLogprob{Token: lp.Token, Logprob: lp.Logprob}
		for _, alt := range lp.TopLogprobs {
			out[i].TopLogprobs = append(out[i].TopLogprobs, sdk.TokenLogprob{Token: alt.Token, Logprob: alt.Logprob})
		}
	}
	return out
}

// errorText reads the code member, a string, a number or null.
func errorCode(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// CallID is the id the text formats and trajectory imports give the k-th
// tool call (0-based) of the message at position msgIndex of a
// conversation, so regenerated ids are the same every time.
func CallID(msgIndex, k int) string {
	return fmt.Sprintf("call_%d_%d", msgIndex, k)
}
