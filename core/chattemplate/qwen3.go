package chattemplate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// qwen3 is Qwen3's chat template without thinking (LLaMA-Factory's
// qwen3_nothink, which SWE-Lego trains with):
//
//	<|im_start|>system\n{system}\n\n# Tools\n…<tools>\n{tool JSON per line}\n</tools>…<|im_end|>\n
//	<|im_start|>user\n{content}<|im_end|>\n
//	<|im_start|>assistant\n{content}\n<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call><|im_end|>\n
//	<|im_start|>user\n<tool_response>\n{result}\n</tool_response>\n<tool_response>…<|im_end|>\n
//
// Tools are written as Python's json.dumps writes them (", " and ": "
// separators, non-ASCII as is), as the Hugging Face template's tojson does;
// call arguments are written as the model produced them. Unlike the
// Hugging Face template, no empty <think> block is added to the last
// assistant turn.
type qwen3 struct{}

func (qwen3) Name() string { return "qwen3" }

const (
	qwenToolsHeader = "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
		"You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
	qwenToolsFooter = "\n</tools>\n\nFor each function call, return a json object with function name and arguments " +
		"within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
)

func (qwen3) Render(c Conversation) ([]Piece, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var r chatML
	msgs := c.Messages
	first := 0
	if len(c.Tools) > 0 {
		r.open("system", -1)
		if len(msgs) > 0 && msgs[0].Role == "system" {
			r.add(Text, msgs[0].Content+"\n\n", 0, 0)
			first = 1
		}
		var b strings.Builder
		b.WriteString(qwenToolsHeader)
		for _, t := range c.Tools {
			js, err := toolJSON(t.Name, t.Description, t.Parameters)
			if err != nil {
				return nil, fmt.Errorf("%w: tool %s: %w", ErrConversation, t.Name, err)
			}
			b.WriteString("\n")
			b.WriteString(js)
		}
		b.WriteString(qwenToolsFooter)
		r.add(Text, b.String(), 0, -1)
		r.close(0, -1)
	} else if len(msgs) > 0 && msgs[0].Role == "system" {
		r.open("system", 0)
		r.add(Text, msgs[0].Content, 0, 0)
		r.close(0, 0)
		first = 1
	}
	for i := first; i < len(msgs); i++ {
		m := msgs[i]
		switch m.Role {
		case "system", "user":
			r.open(m.Role, i)
			r.add(Text, m.Content, 0, i)
			r.close(0, i)
		case "assistant":
			w := c.weight(i)
			r.open("assistant", i)
			r.add(Text, m.Content, w, i)
			for k, call := range m.ToolCalls {
				if k > 0 || m.Content != "" {
					r.add(Text, "\n", w, i)
				}
				args := strings.TrimSpace(call.Function.Arguments)
				if args == "" {
					args = "{}"
				}
				name, _ := json.Marshal(call.Function.Name)
				r.add(Tag, "<tool_call>", w, i)
				r.add(Text, "\n{\"name\": "+string(name)+", \"arguments\": "+args+"}\n", w, i)
				r.add(Tag, "</tool_call>", w, i)
			}
			r.close(w, i)
		case "tool":
			if i == first || msgs[i-1].Role != "tool" {
				r.add(Special, "<|im_start|>", 0, i)
				r.add(Text, "user", 0, i)
			}
			r.add(Text, "\n", 0, i)
			r.add(Tag, "<tool_response>", 0, i)
			r.add(Text, "\n"+m.Content+"\n", 0, i)
			r.add(Tag, "</tool_response>", 0, i)
			if i == len(msgs)-1 || msgs[i+1].Role != "tool" {
				r.close(0, i)
			}
		}
	}
	return r.pieces, nil
}

// toolJSON writes {"type": "function", "function": {"name": …,
// "description": …, "parameters": …}} as Python's json.dumps does.
func toolJSON(name, description string, params json.RawMessage) (string, error) {
	var b strings.Builder
	b.WriteString(`{"type": "function", "function": {"name": `)
	writePyString(&b, name)
	b.WriteString(`, "description": `)
	writePyString(&b, description)
	if len(params) > 0 {
		b.WriteString(`, "parameters": `)
		if err := writePyJSON(&b, params); err != nil {
			return "", err
		}
	}
	b.WriteString("}}")
	return b.String(), nil
}
