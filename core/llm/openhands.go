package llm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// openHands is OpenHands' text function-call format:
//
//	<function=NAME>
//	<parameter=P>value</parameter>
//	<parameter=Q>
//	a value on
//	several lines
//	</parameter>
//	</function>
//
// A value that holds a newline is written between a newline after its
// opening tag and one before its closing tag; the parser drops one leading
// and one trailing newline of every value, so values round-trip exactly.
// Values are typed by the tool's schema: integers, numbers, booleans,
// arrays and objects are read from their text, everything else is a
// string. Results come back as "EXECUTION RESULT of [NAME]:\n…".
type openHands struct{}

const (
	ohOpen       = "<function="
	ohClose      = "</function>"
	ohParamOpen  = "<parameter="
	ohParamClose = "</parameter>"
	ohResult     = "EXECUTION RESULT of ["
)

func (openHands) instructions(set *toolSet) string {
	var b strings.Builder
	b.WriteString(`# Tools

You can use the tools listed below. To use one, end your reply with a call written exactly in this form:

<function=TOOL_NAME>
<parameter=PARAMETER_NAME>value</parameter>
<parameter=OTHER_PARAMETER>
a value that
spans several lines
</parameter>
</function>

- Give every required parameter and leave out optional ones you do not need.
- A value on several lines starts on the line after its opening tag and ends on the line before its closing tag.
- Write numbers, true/false and JSON arrays as plain text; they are read as the parameter's type.
- The result of the call comes back in the next message.
`)
	for _, t := range set.order {
		b.WriteString("\n## ")
		b.WriteString(t.Name)
		b.WriteString("\n")
		if d := strings.TrimSpace(t.Description); d != "" {
			b.WriteString(d)
			b.WriteString("\n")
		}
		if len(t.Params) == 0 {
			b.WriteString("Parameters: none\n")
			continue
		}
		b.WriteString("Parameters:\n")
		for _, p := range t.Params {
			fmt.Fprintf(&b, "- %s (%s)", p.Name, p.describe())
			if d := strings.TrimSpace(p.Description); d != "" {
				b.WriteString(": ")
				b.WriteString(strings.ReplaceAll(d, "\n", "\n  "))
			}
			b.WriteString("\n")
			if len(p.Enum) > 0 {
				b.WriteString("  Allowed values: ")
				b.WriteString(strings.Join(p.Enum, ", "))
				b.WriteString("\n")
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (openHands) renderCall(name string, args []member) string {
	var b strings.Builder
	b.WriteString(ohOpen + name + ">\n")
	for _, a := range args {
		value, ok := isJSONString(a.Value)
		if !ok {
			value, _ = canonicalJSON(a.Value)
		}
		b.WriteString(ohParamOpen + a.Key + ">")
		if strings.Contains(value, "\n") {
			b.WriteString("\n" + value + "\n")
		} else {
			b.WriteString(value)
		}
		b.WriteString(ohParamClose + "\n")
	}
	b.WriteString(ohClose)
	return b.String()
}

func (openHands) parse(text string, set *toolSet, strict bool) (string, []parsedCall, []CallProblem) {
	first := strings.Index(text, ohOpen)
	if first < 0 {
		return text, nil, nil
	}
	prefix := splitPrefix(text, first)
	var calls []parsedCall
	var problems []CallProblem
	pos := first
	for k := 0; ; k++ {
		start := strings.Index(text[pos:], ohOpen)
		if start < 0 {
			break
		}
		pos += start
		call, end, err := readOpenHandsCall(text, pos, set, strict)
		if err != nil {
			problems = append(problems, CallProblem{Index: k, Name: call.Name, Text: excerptString(text[pos:end]), Err: err})
		} else {
			calls = append(calls, call)
		}
		pos = end
	}
	return prefix, calls, problems
}

// readOpenHandsCall reads the call that starts at text[pos:] and returns
// where it ends.
func readOpenHandsCall(text string, pos int, set *toolSet, strict bool) (parsedCall, int, error) {
	var call parsedCall
	nameStart := pos + len(ohOpen)
	gt := strings.IndexAny(text[nameStart:], ">\n")
	if gt < 0 || text[nameStart+gt] != '>' {
		return call, len(text), fmt.Errorf("%w: %q has no '>' after the tool name", ErrUnclosedCall, ohOpen)
	}
	call.Name = strings.TrimSpace(text[nameStart : nameStart+gt])
	if call.Name == "" {
		// Not a call: the text it starts is read on as text.
		return call, nameStart + gt + 1, fmt.Errorf("%w: %q names no tool", ErrUnknownTool, text[pos:nameStart+gt+1])
	}
	spec := set.lookup(call.Name)
	if strict && !set.empty() && spec == nil {
		// Still find the end of the call, so later calls are read.
		end := strings.Index(text[nameStart:], ohClose)
		if end < 0 {
			return call, len(text), fmt.Errorf("%w %q (offered: %s)", ErrUnknownTool, call.Name, strings.Join(toolNames(set), ", "))
		}
		return call, nameStart + end + len(ohClose), fmt.Errorf("%w %q (offered: %s)", ErrUnknownTool, call.Name, strings.Join(toolNames(set), ", "))
	}
	p := nameStart + gt + 1
	var params []member
	seen := map[string]bool{}
	var firstErr error
	for {
		nextParam := strings.Index(text[p:], ohParamOpen)
		nextClose := strings.Index(text[p:], ohClose)
		if nextClose < 0 && strings.TrimSpace(text[p:]) == "</function" {
			// A server stopped at the stop word "</function".
			p = len(text)
			break
		}
		if nextClose >= 0 && (nextParam < 0 || nextClose < nextParam) {
			p += nextClose + len(ohClose)
			break
		}
		if nextParam < 0 {
			return call, len(text), fmt.Errorf("%w: no %s for <function=%s>", ErrUnclosedCall, ohClose, call.Name)
		}
		p += nextParam + len(ohParamOpen)
		gt := strings.IndexAny(text[p:], ">\n")
		if gt < 0 || text[p+gt] != '>' {
			return call, len(text), fmt.Errorf("%w: %q has no '>' after the parameter name", ErrUnclosedCall, ohParamOpen)
		}
		name := strings.TrimSpace(text[p : p+gt])
		p += gt + 1
		end := strings.Index(text[p:], ohParamClose)
		if end < 0 {
			return call, len(text), fmt.Errorf("%w: no %s for parameter %q", ErrUnclosedCall, ohParamClose, name)
		}
		value := text[p : p+end]
		p += end + len(ohParamClose)
		value = strings.TrimPrefix(value, "\n")
		value = strings.TrimSuffix(value, "\n")
		if seen[name] {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: %q is given twice", ErrBadParameter, name)
			}
			continue
		}
		seen[name] = true
		var ps *paramSpec
		if spec != nil {
			ps = spec.param(name)
			if ps == nil && strict && firstErr == nil {
				firstErr = fmt.Errorf("%w: tool %s has no parameter %q", ErrBadParameter, call.Name, name)
			}
		}
		raw, err := typedValue(ps, value, strict)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		params = append(params, member{Key: name, Value: json.RawMessage(raw)})
	}
	if firstErr == nil && strict && spec != nil {
		firstErr = checkRequired(spec, params)
	}
	if firstErr != nil {
		return call, p, firstErr
	}
	call.Args = buildArgs(params)
	return call, p, nil
}

// typedValue turns a parameter's text into canonical JSON of the type its
// schema names. Lenient reading keeps any JSON value that does not fit the
// type as that value, and anything else as a string.
func typedValue(p *paramSpec, value string, strict bool) (string, error) {
	if p == nil || p.Type == "" || p.Type == "string" {
		s := jsonString(value)
		if p != nil && strict && len(p.Enum) > 0 && !contains(p.Enum, s) {
			return s, fmt.Errorf("%w: %s must be one of %s, not %s", ErrBadParameter, p.Name, strings.Join(p.Enum, ", "), s)
		}
		return s, nil
	}
	v, err := typedJSON(p.Type, strings.TrimSpace(value))
	if err != nil {
		if strict {
			return "", fmt.Errorf("%w: %s: want %s, got %q", ErrBadParameter, p.Name, p.Type, excerptString(value))
		}
		if c, err := canonicalJSON([]byte(value)); err == nil && c != "" && c[0] != '"' {
			return c, nil
		}
		return jsonString(value), nil
	}
	if strict && len(p.Enum) > 0 && !contains(p.Enum, v) {
		return v, fmt.Errorf("%w: %s must be one of %s, not %s", ErrBadParameter, p.Name, strings.Join(p.Enum, ", "), v)
	}
	return v, nil
}

func typedJSON(typ, s string) (string, error) {
	switch typ {
	case "integer":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(n, 10), nil
	case "boolean":
		switch strings.ToLower(s) {
		case "true":
			return "true", nil
		case "false":
			return "false", nil
		}
		return "", fmt.Errorf("not a boolean")
	}
	c, err := canonicalJSON([]byte(s))
	if err != nil || c == "" {
		return "", fmt.Errorf("not JSON")
	}
	ok := false
	switch typ {
	case "number":
		ok = c[0] == '-' || (c[0] >= '0' && c[0] <= '9')
	case "array":
		ok = c[0] == '['
	case "object":
		ok = c[0] == '{'
	case "null":
		ok = c == "null"
	default:
		ok = true
	}
	if !ok {
		return "", fmt.Errorf("not %s", typ)
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (openHands) renderResults(results []result) string {
	parts := make([]string, len(results))
	for i, r := range results {
		parts[i] = ohResult + r.Name + "]:\n" + r.Content
	}
	return strings.Join(parts, "\n\n")
}

// splitResults reads blocks "EXECUTION RESULT of [NAME]:\n…" joined by a
// blank line; each block answers the first call of that name not yet
// answered. A block ends where a header naming a call still unanswered
// begins.
func (openHands) splitResults(text string, calls []sdk.ToolCall) ([]result, bool) {
	answered := make([]bool, len(calls))
	header := func(k int) string { return ohResult + calls[k].Function.Name + "]:\n" }
	var out []result
	pos := 0
	for pos <= len(text) && len(out) < len(calls) {
		k := -1
		for j := range calls {
			if !answered[j] && strings.HasPrefix(text[pos:], header(j)) {
				k = j
				break
			}
		}
		if k < 0 {
			return nil, false
		}
		answered[k] = true
		start := pos + len(header(k))
		end := len(text)
		for j := range calls {
			if answered[j] {
				continue
			}
			if i := strings.Index(text[start:], "\n\n"+header(j)); i >= 0 && start+i < end {
				end = start + i
			}
		}
		out = append(out, result{Call: k, Name: calls[k].Function.Name, Content: text[start:end]})
		if end == len(text) {
			return out, true
		}
		pos = end + 2
	}
	return nil, false
}

func excerptString(s string) string { return excerpt([]byte(s)) }
