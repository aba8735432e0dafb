package trajfmt_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/trajfmt"
)

// FuzzDecode feeds records to the importer. Nothing may panic, and a
// record that imports must export and import again to the same
// trajectory.
func FuzzDecode(f *testing.F) {
	tools := loadTools(f)
	for _, opts := range []trajfmt.Options{{Tools: tools}, {CallFormat: llm.FormatQwen, ObservationRole: "tool"}, {Style: trajfmt.OpenHands}} {
		rec, err := trajfmt.Encode(agentTrajectory(), opts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rec)
	}
	f.Add([]byte(`{"messages":[{"role":"assistant","content":"<function=execute_bash>\n<parameter=command>ls</parameter>\n</function>"},{"role":"user","content":"EXECUTION RESULT of [execute_bash]:\nx\n\nEXECUTION RESULT of [execute_bash]:\ny"}]}`))
	f.Add([]byte(`{"system":"s","conversations":[{"from":"gpt","value":"<tool_call>\n{\"name\":\"a\",\"arguments\":{}}\n</tool_call>"},{"from":"observation","value":"<tool_response>\n1\n</tool_response>"}],"tool_call_format":"qwen"}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"tools":"[{\"name\":\"x\",\"parameters\":{\"properties\":{\"n\":{\"type\":\"integer\"}}}}]","argument_types":{"x":{"n":"integer"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []trajfmt.Options{{}, {Style: trajfmt.OpenHands, CallFormat: llm.FormatQwen}} {
			first, err := trajfmt.Decode(data, opts)
			if err != nil {
				continue
			}
			rec, err := trajfmt.Encode(first, trajfmt.Options{CallFormat: opts.CallFormat})
			if err != nil {
				t.Fatalf("an imported trajectory does not export: %v\n%+v", err, first)
			}
			second, err := trajfmt.Decode(rec, trajfmt.Options{})
			if err != nil {
				t.Fatalf("an export does not import: %v\n%s", err, rec)
			}
			if diff := cmp.Diff(first, second, equate); diff != "" {
				t.Fatalf("import → export → import changed the trajectory (-first +second):\n%s\nrecord: %s", diff, rec)
			}
		}
	})
}
