package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// The JSON shapes of OpenAI's chat-completions API, as far as the client
// reads and writes them.

type wireMessage struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content"`
	Name       string         `json:"name,omitempty"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

type wireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type wireResponse struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role      string          `json:"role"`
			Content   json.RawMessage `json:"content"`
			ToolCalls []wireToolCall  `json:"tool_calls"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
		Logprobs     *struct {
			Content []wireLogprob `json:"content"`
		} `json:"logprobs"`
	} `json:"choices"`
	Usage *sdk.Usage `json:"usage"`
}

type wireLogprob struct {
	Token       string        `json:"token"`
	Logprob     float64       `json:"logprob"`
	Bytes       []int         `json:"bytes"`
	TopLogprobs []wireLogprob `json:"top_logprobs"`
}

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
func encodeMessages(msgs []sdk.Message) []wireMessage {
	out := make([]wireMessage, len(msgs))
	for i, m := range msgs {
		w := wireMessage{Role: m.Role, ToolCallID: m.ToolCallID}
		if m.Role != "tool" {
			w.Name = m.Name
		}
		content := m.Content
		if !(content == "" && len(m.ToolCalls) > 0) {
			w.Content = &content
		}
		for _, c := range m.ToolCalls {
			var wc wireToolCall
			wc.ID = c.ID
			wc.Type = c.Type
			if wc.Type == "" {
				wc.Type = "function"
			}
			wc.Function.Name = c.Function.Name
			args, _ := json.Marshal(c.Function.Arguments)
			wc.Function.Arguments = args
			w.ToolCalls = append(w.ToolCalls, wc)
		}
		out[i] = w
	}
	return out
}

func encodeTools(tools []sdk.ToolSchema) []wireTool {
	out := make([]wireTool, len(tools))
	for i, t := range tools {
		var w wireTool
		w.Type = "function"
		w.Function.Name = t.Name
		w.Function.Description = t.Description
		w.Function.Parameters = t.Parameters
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

func decodeLogprobs(in []wireLogprob) []sdk.TokenLogprob {
	if len(in) == 0 {
		return nil
	}
	out := make([]sdk.TokenLogprob, len(in))
	for i, lp := range in {
		out[i] = sdk.TokenLogprob{Token: lp.Token, Logprob: lp.Logprob, TopLogprobs: decodeLogprobs(lp.TopLogprobs)}
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
