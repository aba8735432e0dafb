package llm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/sdk"
)

// FuzzParseReply feeds model replies to both text formats, strictly (as
// the agent reads a reply) and leniently (as an import reads stored text).
// Nothing may panic, and whatever is read as calls must read the same
// after it is written back out.
func FuzzParseReply(f *testing.F) {
	seeds := []string{
		"plain text",
		"Let me look.\n<function=execute_bash>\n<parameter=command>ls -la</parameter>\n<parameter=timeout>30</parameter>\n</function>",
		"<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/a.py</parameter>\n<parameter=old_str>\n  x\n</parameter>\n<parameter=new_str>\n\ny\n\n</parameter>\n</function>",
		"<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/a</parameter>\n<parameter=view_range>[1, 9]</parameter>\n</function",
		"<function=execute_bash>\n<parameter=command>ls",
		"<function=execute_bash\n",
		"<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"finish\", \"arguments\": \"{}\"}\n</tool_call>",
		"<tool_call>\n{\"name\": \"x\", \"arguments\": {\"a\": [1, {\"b\": null}]}}\n</tool_call",
		"<tool_call>{\"name\": 1}</tool_call>",
		"<tool_call>\n{\"name\": \"think\", \"arguments\": {\"thought\": \"\\u003c\\ud83d\\ude00\"}}\n</tool_call>",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	tools := loadTools(f)
	f.Fuzz(func(t *testing.T, text string) {
		for _, format := range []llm.Format{llm.FormatOpenHands, llm.FormatQwen} {
			for _, ts := range [][]sdk.ToolSchema{nil, tools} {
				msg, err := llm.ParseReply(format, text, ts, 3)
				if err != nil {
					if msg.Content != text || len(msg.ToolCalls) != 0 {
						t.Fatalf("%s: a reply with an error must come back whole: %+v", format, msg)
					}
					continue
				}
				if len(msg.ToolCalls) == 0 {
					continue
				}
				rendered, err := llm.RenderMessages(format, []sdk.Message{msg}, nil)
				if err != nil {
					t.Fatalf("%s: cannot write back %+v: %v", format, msg, err)
				}
				again, err := llm.ParseReply(format, rendered[0].Content, ts, 3)
				if err != nil {
					t.Fatalf("%s: written-back reply %q does not read: %v", format, rendered[0].Content, err)
				}
				if diff := cmp.Diff(msg, again); diff != "" {
					t.Fatalf("%s: reply changed on a second round (-first +second):\n%s", format, diff)
				}
			}

			lenient, err := llm.ParseMessages(format, []sdk.Message{{Role: "assistant", Content: text}, {Role: "user", Content: text}}, tools)
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := llm.RenderMessages(format, lenient, nil)
			if err != nil {
				t.Fatalf("%s: cannot write back %+v: %v", format, lenient, err)
			}
			again, err := llm.ParseMessages(format, rendered, tools)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(lenient, again); diff != "" {
				t.Fatalf("%s: lenient reading changed on a second round (-first +second):\n%s", format, diff)
			}
		}
	})
}
