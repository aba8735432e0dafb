package trajfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/sdk"
)

// Style is an export form.
type Style string

// Export styles. Both write one JSON object per trajectory whose
// "messages" hold system, user and assistant text with the tool calls
// written in the call format (OpenHands' by default, as SWE-Lego's
// released data) and each turn's tool results in one message after it,
// "EXECUTION RESULT of [TOOL]:\n…" per call in OpenHands' format.
const (
	// ShareGPT is LLaMA-Factory's "sharegpt" formatting in OpenAI message
	// style (see DatasetInfo), tool results under ObservationRole.
	ShareGPT Style = "sharegpt"
	// OpenHands is the message list OpenHands sends a model without native
	// function calling: tool results are user messages.
	OpenHands Style = "openhands"
)

// Options choose the form. The zero value is ShareGPT with OpenHands'
// call format and tool results as user messages.
type Options struct {
	Style Style
	// CallFormat is llm.FormatOpenHands ("" too) or llm.FormatQwen.
	CallFormat llm.Format
	// Tools are the tools the trajectory was made with. Export describes
	// them at the end of the system prompt and stores them in the record's
	// "tools" member (a JSON string, LLaMA-Factory's convention); import
	// uses the record's tools, or these when the record has none, to strip
	// the description and to type parameter values.
	Tools []sdk.ToolSchema
	// ObservationRole is the role of tool-result messages in ShareGPT
	// exports: "user" (the default; the text a text-format model sees at
	// inference), "tool" or "observation" (LLaMA-Factory's observation
	// tag). OpenHands exports always use "user".
	ObservationRole string
}

// ErrFormat: a record that is not a trajectory in the expected form.
var ErrFormat = errors.New("not a trajectory record")

// Record members written besides the trajectory's own.
const (
	memberMessages   = "messages"
	memberTools      = "tools"
	memberCallFormat = "tool_call_format"
	memberArgTypes   = "argument_types"
)

// message is one exported message.
type message struct {
	Role       string   `json:"role"`
	Content    string   `json:"content"`
	Name       string   `json:"name,omitempty"`
	TurnMask   *bool    `json:"turn_mask,omitempty"`
	LossWeight *float64 `json:"loss_weight,omitempty"`
}

func (o Options) callFormat() (llm.Format, error) {
	switch o.CallFormat {
	case "", llm.FormatOpenHands:
		return llm.FormatOpenHands, nil
	case llm.FormatQwen:
		return llm.FormatQwen, nil
	}
	return "", fmt.Errorf("call format %q: want openhands or qwen", o.CallFormat)
}

func (o Options) observationRole() (string, error) {
	if o.Style == OpenHands {
		return "user", nil
	}
	switch o.ObservationRole {
	case "", "user":
		return "user", nil
	case "tool", "observation":
		return o.ObservationRole, nil
	}
	return "", fmt.Errorf("observation role %q: want user, tool or observation", o.ObservationRole)
}

// Encode writes one trajectory as a record: the trajectory's own members
// (instance_id, status, final_patch, turns, usage, …) with "messages"
// replaced by the text messages, plus "tools" and "tool_call_format", and
// "argument_types" when no tools are given and a call has a value that is
// not a string. Turn masks and loss weights stay on their messages.
func Encode(t sdk.Trajectory, opts Options) ([]byte, error) {
	format, err := opts.callFormat()
	if err != nil {
		return nil, err
	}
	obsRole, err := opts.observationRole()
	if err != nil {
		return nil, err
	}
	text, err := llm.RenderMessages(format, t.Messages, opts.Tools)
	if err != nil {
		return nil, fmt.Errorf("trajectory %s: %w", t.InstanceID, err)
	}
	msgs := make([]message, len(text))
	for i, m := range text {
		msgs[i] = message{Role: m.Role, Content: m.Content, Name: m.Name, TurnMask: m.TurnMask, LossWeight: m.LossWeight}
	}
	msgs = markObservations(t.Messages, text, msgs, obsRole)

	base, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(base, &rec); err != nil {
		return nil, err
	}
	if rec[memberMessages], err = marshal(msgs); err != nil {
		return nil, err
	}
	rec[memberCallFormat], _ = marshal(string(format))
	if len(opts.Tools) > 0 {
		tools, err := marshal(opts.Tools)
		if err != nil {
			return nil, fmt.Errorf("tools: %w", err)
		}
		rec[memberTools], _ = marshal(string(tools))
	} else if types := argumentTypes(t.Messages); len(types) > 0 {
		rec[memberArgTypes], _ = marshal(types)
	}
	return marshal(rec)
}

// markObservations gives the message after each assistant turn with tool
// calls the observation role. RenderMessages keeps every non-tool message
// and merges each run of tool messages into one, so the two lists can be
// walked side by side.
func markObservations(native, text []sdk.Message, msgs []message, obsRole string) []message {
	j := 0
	if len(text) > 0 && text[0].Role == "system" && (len(native) == 0 || native[0].Role != "system") {
		j = 1 // a system message was added for the tool descriptions
	}
	for i := 0; i < len(native) && j < len(msgs); i++ {
		if native[i].Role == "tool" {
			msgs[j].Role = obsRole
			for i+1 < len(native) && native[i+1].Role == "tool" {
				i++
			}
		}
		j++
	}
	return msgs
}

// argumentTypes lists, per tool and parameter, the JSON type of values
// that are not strings, so an import without tool schemas can type them.
func argumentTypes(msgs []sdk.Message) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, m := range msgs {
		for _, c := range m.ToolCalls {
			var args map[string]json.RawMessage
			if json.Unmarshal([]byte(c.Function.Arguments), &args) != nil {
				continue
			}
			for k, v := range args {
				typ := jsonType(v)
				if typ == "string" {
					continue
				}
				if out[c.Function.Name] == nil {
					out[c.Function.Name] = map[string]string{}
				}
				out[c.Function.Name][k] = typ
			}
		}
	}
	return out
}

func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "null"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	if bytes.ContainsAny(v, ".eE") {
		return "number"
	}
	return "integer"
}

// typesAsTools turns argument_types into tool schemas that only type
// parameters.
func typesAsTools(types map[string]map[string]string) []sdk.ToolSchema {
	var out []sdk.ToolSchema
	for name, params := range types {
		props := map[string]map[string]string{}
		for p, typ := range params {
			props[p] = map[string]string{"type": typ}
		}
		schema, _ := marshal(map[string]any{"type": "object", "properties": props})
		out = append(out, sdk.ToolSchema{Name: name, Parameters: schema})
	}
	return out
}

// Decode reads one record back into a trajectory: the text messages are
// parsed into native tool calls (ids from llm.CallID, tool messages named
// after their call) and the other members fill the trajectory's fields.
// Records in LLaMA-Factory's classic form ("conversations" of from/value,
// "system") are read too. Members Trajectory does not know are dropped.
func Decode(data []byte, opts Options) (sdk.Trajectory, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(data, &rec); err != nil {
		return sdk.Trajectory{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if rec == nil {
		return sdk.Trajectory{}, fmt.Errorf("%w: null", ErrFormat)
	}
	format, err := opts.callFormat()
	if err != nil {
		return sdk.Trajectory{}, err
	}
	if raw, ok := rec[memberCallFormat]; ok {
		var f string
		if json.Unmarshal(raw, &f) == nil && (f == string(llm.FormatOpenHands) || f == string(llm.FormatQwen)) {
			format = llm.Format(f)
		}
	}
	tools := opts.Tools
	describe := len(tools) > 0
	if raw, ok := rec[memberTools]; ok {
		if rt, err := decodeTools(raw); err == nil && len(rt) > 0 {
			tools, describe = rt, true
		}
	}
	if !describe {
		var types map[string]map[string]string
		if raw, ok := rec[memberArgTypes]; ok && json.Unmarshal(raw, &types) == nil {
			tools = typesAsTools(types)
		}
	}
	msgs, err := recordMessages(rec)
	if err != nil {
		return sdk.Trajectory{}, err
	}
	// Tools from argument_types were never described, so the system prompt
	// cannot end with their description and nothing is stripped.
	msgs, err = llm.ParseMessages(format, msgs, tools)
	if err != nil {
		return sdk.Trajectory{}, err
	}
	for i := range msgs {
		if r := msgs[i].Role; (r == "tool" || r == "observation") && msgs[i].ToolCallID == "" {
			msgs[i].Role = "user" // a result that answers no call
		}
	}
	for _, k := range []string{memberMessages, memberTools, memberCallFormat, memberArgTypes, "conversations", "system"} {
		delete(rec, k)
	}
	rest, err := marshal(rec)
	if err != nil {
		return sdk.Trajectory{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	var t sdk.Trajectory
	if err := json.Unmarshal(rest, &t); err != nil {
		return sdk.Trajectory{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	t.Messages = msgs
	return t, nil
}

func decodeTools(raw json.RawMessage) ([]sdk.ToolSchema, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var tools []sdk.ToolSchema
	if err := json.Unmarshal(raw, &tools); err != nil {
		return nil, err
	}
	return tools, nil
}

// recordMessages reads "messages" (role/content) or "conversations"
// (from/value, LLaMA-Factory's classic ShareGPT with a "system" member).
func recordMessages(rec map[string]json.RawMessage) ([]sdk.Message, error) {
	if raw, ok := rec[memberMessages]; ok {
		var in []struct {
			Role       string          `json:"role"`
			Content    json.RawMessage `json:"content"`
			Name       string          `json:"name"`
			TurnMask   *bool           `json:"turn_mask"`
			LossWeight *float64        `json:"loss_weight"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("%w: messages: %v", ErrFormat, err)
		}
		out := make([]sdk.Message, len(in))
		for i, m := range in {
			content, err := contentText(m.Content)
			if err != nil {
				return nil, fmt.Errorf("%w: message %d: %v", ErrFormat, i, err)
			}
			if m.Role == "" {
				return nil, fmt.Errorf("%w: message %d has no role", ErrFormat, i)
			}
			out[i] = sdk.Message{Role: m.Role, Content: content, Name: m.Name, TurnMask: m.TurnMask, LossWeight: m.LossWeight}
		}
		return out, nil
	}
	if raw, ok := rec["conversations"]; ok {
		var in []struct {
			From     string `json:"from"`
			Value    string `json:"value"`
			TurnMask *bool  `json:"turn_mask"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("%w: conversations: %v", ErrFormat, err)
		}
		var out []sdk.Message
		var system string
		if s, ok := rec["system"]; ok && json.Unmarshal(s, &system) == nil && system != "" {
			out = append(out, sdk.Message{Role: "system", Content: system})
		}
		roles := map[string]string{"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
			"function_call": "assistant", "observation": "tool", "tool": "tool", "system": "system"}
		for i, m := range in {
			role, ok := roles[m.From]
			if !ok {
				return nil, fmt.Errorf("%w: conversations[%d]: unknown speaker %q", ErrFormat, i, m.From)
			}
			out = append(out, sdk.Message{Role: role, Content: m.Value, TurnMask: m.TurnMask})
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: no messages", ErrFormat)
}

// contentText reads a string, null, or OpenHands' list of text parts.
func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
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
		return "", errors.New("content is neither a string nor a list of text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// marshal encodes v without HTML escaping.
func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
