package trajfmt

import (
	"fmt"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/sdk"
)

// Normalize returns t as an export followed by an import gives it back:
//
//   - tool-call ids become llm.CallID(position of the assistant message,
//     position of the call), and tool messages follow their calls' ids;
//   - arguments become llm.CanonicalArguments (members in their order,
//     compact, no HTML escapes);
//   - tool messages are named after the tool their call named.
//
// Everything else — roles, contents, turn masks, loss weights, every
// non-message field — is kept as it is. Two limits hold besides: tool
// results come back in the order of their calls, and without tool schemas
// (Options.Tools or the record's) parameter values are typed by the JSON
// types recorded at export.
func Normalize(t sdk.Trajectory) (sdk.Trajectory, error) {
	out := t
	out.Messages = make([]sdk.Message, len(t.Messages))
	ids := map[string]sdk.ToolCall{}
	for i, m := range t.Messages {
		if len(m.ToolCalls) > 0 {
			calls := make([]sdk.ToolCall, len(m.ToolCalls))
			for k, c := range m.ToolCalls {
				args, err := llm.CanonicalArguments(orEmpty(c.Function.Arguments))
				if err != nil {
					return t, fmt.Errorf("message %d, call %d: %w", i, k, err)
				}
				nc := sdk.ToolCall{ID: llm.CallID(i, k), Type: "function", Function: sdk.FunctionCall{Name: c.Function.Name, Arguments: args}}
				ids[c.ID] = nc
				calls[k] = nc
			}
			m.ToolCalls = calls
		}
		if m.Role == "tool" {
			if c, ok := ids[m.ToolCallID]; ok {
				delete(ids, m.ToolCallID)
				m.ToolCallID = c.ID
				m.Name = c.Function.Name
			}
		}
		out.Messages[i] = m
	}
	return out, nil
}

func orEmpty(args string) string {
	if args == "" {
		return "{}"
	}
	return args
}
