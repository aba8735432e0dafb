package llm

import (
	"fmt"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// qwen is the format of Qwen's chat templates (Hermes style): each call is
// a JSON object between tags,
//
//	<tool_call>
//	{"name": "NAME", "arguments": {…}}
//	</tool_call>
//
// several calls may follow one another, and results come back as
// "<tool_response>\n…\n</tool_response>" blocks in one user message.
type qwen struct{}

const (
	qwOpen        = "<tool_call>"
	qwClose       = "</tool_call>"
	qwResultOpen  = "<tool_response>\n"
	qwResultClose = "\n</tool_response>"
)

func (qwen) instructions(set *toolSet) string {
	var b strings.Builder
	b.WriteString("# Tools\n\nYou can call the functions whose JSON signatures are listed between <tools> and </tools>:\n<tools>\n")
	for _, t := range set.order {
		params := "{}"
		if c, err := canonicalJSON(set.schemas[t.Name]); err == nil {
			params = c
		}
		fmt.Fprintf(&b, `{"type":"function","function":{"name":%s,"description":%s,"parameters":%s}}`+"\n",
			jsonString(t.Name), jsonString(t.Description), params)
	}
	b.WriteString(`</tools>

To call a function, write a JSON object with its name and its arguments between <tool_call> and </tool_call>:
<tool_call>
{"name": "FUNCTION_NAME", "arguments": {"ARGUMENT_NAME": "value"}}
</tool_call>
Several calls may follow one another, one tagged object each. Results come back between <tool_response> and </tool_response>.`)
	return b.String()
}

func (qwen) renderCall(name string, args []member) string {
	canon := make([]member, len(args))
	for i, a := range args {
		c, err := canonicalJSON(a.Value)
		if err != nil {
			c = "null"
		}
		canon[i] = member{Key: a.Key, Value: []byte(c)}
	}
	return qwOpen + "\n{\"name\": " + jsonString(name) + ", \"arguments\": " + buildArgs(canon) + "}\n" + qwClose
}

func (qwen) parse(text string, set *toolSet, strict bool) (string, []parsedCall, []CallProblem) {
	first := strings.Index(text, qwOpen)
	if first < 0 {
		return text, nil, nil
	}
	prefix := splitPrefix(text, first)
	var calls []parsedCall
	var problems []CallProblem
	pos := first
	for k := 0; ; k++ {
		start := strings.Index(text[pos:], qwOpen)
		if start < 0 {
			break
		}
		pos += start + len(qwOpen)
		end := strings.Index(text[pos:], qwClose)
		var body string
		if end < 0 {
			rest := strings.TrimSpace(text[pos:])
			if !strings.HasSuffix(rest, "</tool_call") {
				problems = append(problems, CallProblem{Index: k, Text: excerptString(text[pos-len(qwOpen):]), Err: fmt.Errorf("%w: no %s", ErrUnclosedCall, qwClose)})
				break
			}
			// A server stopped at the stop word "</tool_call".
			body = strings.TrimSuffix(rest, "</tool_call")
			pos = len(text)
		} else {
			body = text[pos : pos+end]
			pos += end + len(qwClose)
		}
		call, err := readQwenCall(strings.TrimSpace(body), set, strict)
		if err != nil {
			problems = append(problems, CallProblem{Index: k, Name: call.Name, Text: excerptString(body), Err: err})
			continue
		}
		calls = append(calls, call)
	}
	return prefix, calls, problems
}

func readQwenCall(body string, set *toolSet, strict bool) (parsedCall, error) {
	var call parsedCall
	members, err := objectMembers([]byte(body))
	if err != nil {
		return call, fmt.Errorf("%w: not a JSON object: %v", ErrBadArguments, err)
	}
	var args []member
	haveName := false
	for _, m := range members {
		switch m.Key {
		case "name":
			name, ok := isJSONString(m.Value)
			if !ok {
				return call, fmt.Errorf("%w: name is not a string", ErrBadArguments)
			}
			call.Name, haveName = name, true
		case "arguments", "parameters":
			raw := m.Value
			if s, ok := isJSONString(raw); ok {
				raw = []byte(s)
			}
			if string(raw) == "null" {
				continue
			}
			args, err = objectMembers(raw)
			if err != nil {
				return call, fmt.Errorf("%w: arguments are not a JSON object: %v", ErrBadArguments, err)
			}
		}
	}
	if !haveName || strings.TrimSpace(call.Name) == "" {
		return call, fmt.Errorf("%w: the object names no tool", ErrBadArguments)
	}
	canon := make([]member, len(args))
	for i, a := range args {
		c, err := canonicalJSON(a.Value)
		if err != nil {
			return call, fmt.Errorf("%w: %v", ErrBadArguments, err)
		}
		canon[i] = member{Key: a.Key, Value: []byte(c)}
	}
	if strict && !set.empty() {
		spec := set.lookup(call.Name)
		if spec == nil {
			return call, fmt.Errorf("%w %q (offered: %s)", ErrUnknownTool, call.Name, strings.Join(toolNames(set), ", "))
		}
		if err := checkRequired(spec, canon); err != nil {
			return call, err
		}
	}
	call.Args = buildArgs(canon)
	return call, nil
}

func (qwen) renderResults(results []result) string {
	parts := make([]string, len(results))
	for i, r := range results {
		parts[i] = qwResultOpen + r.Content + qwResultClose
	}
	return strings.Join(parts, "\n")
}

func (qwen) splitResults(text string, calls []sdk.ToolCall) ([]result, bool) {
	if !strings.HasPrefix(text, qwResultOpen) || !strings.HasSuffix(text, qwResultClose) || len(text) < len(qwResultOpen)+len(qwResultClose) {
		return nil, false
	}
	inner := text[len(qwResultOpen) : len(text)-len(qwResultClose)]
	parts := strings.Split(inner, qwResultClose+"\n"+qwResultOpen)
	if len(parts) > len(calls) {
		return nil, false
	}
	out := make([]result, len(parts))
	for i, p := range parts {
		out[i] = result{Call: i, Name: calls[i].Function.Name, Content: p}
	}
	return out, true
}
