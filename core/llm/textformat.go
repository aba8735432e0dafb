package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// WithTextFormat wraps a model that has no native tool calls so that the
// agent loop still sees them: each request's tools are described in the
// system prompt, earlier calls and results are written into the
// conversation as format text, no tools member is sent, and the reply's
// text is parsed back into ToolCalls with ids from CallID. A reply with a
// call that cannot be read comes back whole together with a
// *ToolCallError (see there). format must be FormatOpenHands or FormatQwen;
// FormatNative returns inner unchanged.
func WithTextFormat(inner sdk.Model, format Format) sdk.Model {
	if format == FormatNative || format == "" {
		return inner
	}
	return &textModel{inner: inner, format: format}
}

type textModel struct {
	inner  sdk.Model
	format Format
}

func (m *textModel) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	msgs, err := RenderMessages(m.format, req.Messages, req.Tools)
	if err != nil {
		return sdk.ChatResponse{}, fmt.Errorf("render conversation in %s format: %w", m.format, err)
	}
	inner := req
	inner.Messages = msgs
	inner.Tools = nil
	resp, err := m.inner.Chat(ctx, inner)
	if err != nil || len(resp.Message.ToolCalls) > 0 {
		// A server that parsed calls itself already did the work.
		return resp, err
	}
	msg, perr := ParseReply(m.format, resp.Message.Content, req.Tools, len(req.Messages))
	resp.Message = msg
	if perr != nil {
		return resp, perr
	}
	if len(msg.ToolCalls) > 0 && resp.FinishReason == "stop" {
		resp.FinishReason = "tool_calls"
	}
	return resp, nil
}

// textCodec is one text function-call format.
type textCodec interface {
	// instructions describes the tools and how to call them, for the end
	// of the system prompt.
	instructions(set *toolSet) string
	// renderCall writes one call; args are the canonical members.
	renderCall(name string, args []member) string
	// parse finds the calls in text. prefix is the text before the first
	// call; strict adds the checks against the tool schemas.
	parse(text string, set *toolSet, strict bool) (prefix string, calls []parsedCall, problems []CallProblem)
	// renderResults writes the results of one turn's calls as one message.
	renderResults(results []result) string
	// splitResults undoes renderResults given the turn's calls; ok is
	// false when text is not in that form.
	splitResults(text string, calls []sdk.ToolCall) (results []result, ok bool)
}

// parsedCall is a call read from text: its tool and canonical arguments.
type parsedCall struct {
	Name string
	Args string
}

// result is one tool result: which call of the turn it answers.
type result struct {
	Call    int
	Name    string
	Content string
}

func codecFor(f Format) (textCodec, error) {
	switch f {
	case FormatOpenHands:
		return openHands{}, nil
	case FormatQwen:
		return qwen{}, nil
	}
	return nil, fmt.Errorf("%q is not a text tool-call format", f)
}

// Instructions is the text a format appends to the system prompt to
// describe tools (empty when there are none).
func Instructions(f Format, tools []sdk.ToolSchema) (string, error) {
	codec, err := codecFor(f)
	if err != nil {
		return "", err
	}
	if len(tools) == 0 {
		return "", nil
	}
	return codec.instructions(newToolSet(tools)), nil
}

// RenderMessages writes a native conversation as format text: the tool
// descriptions go to the end of the first system message (one is added
// when there is none), an assistant message's calls are appended to its
// text (after a newline), and each run of tool messages becomes one user
// message holding their results in call order. Loss weights and turn
// masks stay on their messages. It fails when a call's arguments are not
// a JSON object.
func RenderMessages(f Format, msgs []sdk.Message, tools []sdk.ToolSchema) ([]sdk.Message, error) {
	codec, err := codecFor(f)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Message, 0, len(msgs)+1)
	if len(tools) > 0 {
		instr := codec.instructions(newToolSet(tools))
		if len(msgs) > 0 && msgs[0].Role == "system" {
			sys := msgs[0]
			sys.Content = joinInstructions(sys.Content, instr)
			out = append(out, sys)
			msgs = msgs[1:]
		} else {
			out = append(out, sdk.Message{Role: "system", Content: instr})
		}
	}
	var lastCalls []sdk.ToolCall
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		switch m.Role {
		case "assistant":
			text, err := renderAssistant(codec, m)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", i, err)
			}
			m.Content = text
			lastCalls = m.ToolCalls
			m.ToolCalls = nil
			out = append(out, m)
		case "tool":
			var results []result
			for ; i < len(msgs) && msgs[i].Role == "tool"; i++ {
				results = append(results, resultFor(msgs[i], lastCalls))
			}
			i--
			out = append(out, sdk.Message{Role: "user", Content: codec.renderResults(results)})
		default:
			out = append(out, m)
		}
	}
	return out, nil
}

func joinInstructions(system, instr string) string {
	if system == "" {
		return instr
	}
	return system + "\n\n" + instr
}

// resultFor names the call a tool message answers.
func resultFor(m sdk.Message, calls []sdk.ToolCall) result {
	r := result{Call: -1, Name: m.Name, Content: m.Content}
	for k, c := range calls {
		if c.ID == m.ToolCallID {
			r.Call = k
			if r.Name == "" {
				r.Name = c.Function.Name
			}
		}
	}
	if r.Name == "" {
		r.Name = "unknown"
	}
	return r
}

func renderAssistant(codec textCodec, m sdk.Message) (string, error) {
	if len(m.ToolCalls) == 0 {
		return m.Content, nil
	}
	var b strings.Builder
	if m.Content != "" {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	for k, c := range m.ToolCalls {
		args := strings.TrimSpace(c.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		members, err := objectMembers([]byte(args))
		if err != nil {
			return "", fmt.Errorf("tool call %d (%s): arguments are not a JSON object: %w", k, c.Function.Name, err)
		}
		if k > 0 {
			b.WriteString("\n")
		}
		b.WriteString(codec.renderCall(c.Function.Name, members))
	}
	return b.String(), nil
}

// ParseReply reads a model's reply text in format f: the text before the
// first call becomes the content, the calls become ToolCalls with ids
// CallID(msgIndex, k), where msgIndex is the position the reply takes in
// the conversation. Calls are checked against tools (when given): a reply
// with any call that cannot be read returns the message with the full text
// as content and no calls, and a *ToolCallError.
func ParseReply(f Format, text string, tools []sdk.ToolSchema, msgIndex int) (sdk.Message, error) {
	msg := sdk.Message{Role: "assistant", Content: text}
	codec, err := codecFor(f)
	if err != nil {
		return msg, err
	}
	prefix, calls, problems := codec.parse(text, newToolSet(tools), true)
	if len(problems) > 0 {
		return msg, &ToolCallError{Message: msg, Problems: problems, Format: f}
	}
	if len(calls) == 0 {
		return msg, nil
	}
	msg.Content = prefix
	msg.ToolCalls = toolCalls(calls, msgIndex)
	return msg, nil
}

func toolCalls(calls []parsedCall, msgIndex int) []sdk.ToolCall {
	out := make([]sdk.ToolCall, len(calls))
	for k, c := range calls {
		out[k] = sdk.ToolCall{ID: CallID(msgIndex, k), Type: "function", Function: sdk.FunctionCall{Name: c.Name, Arguments: c.Args}}
	}
	return out
}

// ParseMessages undoes RenderMessages: it strips the tool descriptions
// from the system message, reads the calls out of assistant text and
// splits the message after a turn with calls back into tool messages (ids
// from CallID, Name set to the called tool). It is lenient, for reading
// stored data: text it cannot read as calls or results stays as it is, and
// so does an assistant text whose calls are not answered by results in
// the next message (the agent rejected them). The role of the results
// message does not matter (user, tool, observation).
// Without tools, every parameter value of OpenHands' format is text.
func ParseMessages(f Format, msgs []sdk.Message, tools []sdk.ToolSchema) ([]sdk.Message, error) {
	codec, err := codecFor(f)
	if err != nil {
		return nil, err
	}
	set := newToolSet(tools)
	out := make([]sdk.Message, 0, len(msgs))
	if len(tools) > 0 && len(msgs) > 0 && msgs[0].Role == "system" {
		instr := codec.instructions(set)
		sys := msgs[0]
		switch {
		case sys.Content == instr:
			msgs = msgs[1:]
		case strings.HasSuffix(sys.Content, "\n\n"+instr):
			sys.Content = strings.TrimSuffix(sys.Content, "\n\n"+instr)
			out = append(out, sys)
			msgs = msgs[1:]
		}
	}
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		if m.Role != "assistant" || len(m.ToolCalls) > 0 {
			out = append(out, m)
			continue
		}
		prefix, calls, problems := codec.parse(m.Content, set, false)
		if len(problems) > 0 || len(calls) == 0 {
			out = append(out, m)
			continue
		}
		// Text that reads as calls was a call only if the next message
		// holds its results (or the conversation ends there): the agent
		// answers a call it rejected with an error message instead.
		at := len(out)
		tc := toolCalls(calls, at)
		var results []result
		if i+1 < len(msgs) {
			next := msgs[i+1]
			ok := false
			if next.Role != "assistant" && next.Role != "system" {
				results, ok = codec.splitResults(next.Content, tc)
			}
			if !ok {
				out = append(out, m)
				continue
			}
			i++
		}
		m.Content = prefix
		m.ToolCalls = tc
		out = append(out, m)
		for _, r := range results {
			out = append(out, sdk.Message{Role: "tool", Content: r.Content, Name: tc[r.Call].Function.Name, ToolCallID: tc[r.Call].ID})
		}
	}
	return out, nil
}

// splitPrefix is the text before a call at pos, less the one newline
// renderAssistant puts between text and calls.
func splitPrefix(text string, pos int) string {
	return strings.TrimSuffix(text[:pos], "\n")
}

// buildArgs writes canonical arguments from parameter values already in
// canonical JSON.
func buildArgs(params []member) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range params {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(p.Key))
		b.WriteByte(':')
		b.Write(p.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// isJSONString reports whether raw is a JSON string and returns it.
func isJSONString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
