package serve

import (
	"context"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/tokenizer"
)

// TestCompletionHoldsBack: while tokens arrive, the streamable text never
// reaches into a tool call or a possible stop string, it is always a
// prefix of the final text, and a stop string cuts the text.
func TestCompletionHoldsBack(t *testing.T) {
	tok, err := tokenizer.Load(context.Background(), studentDir)
	if err != nil {
		t.Fatal(err)
	}
	call := "<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call>"
	for _, tc := range []struct {
		name, text, marker string
		stops              []string
		wantFinal          string
		maxStream          string // the streamable text never goes past this prefix
		stopped            bool
	}{
		{"plain", "Let me look at the files. é ü", "", nil, "Let me look at the files. é ü", "Let me look at the files. é ü", false},
		{"tool call", "Let me look.\n" + call, "<tool_call>", nil, "Let me look.\n" + call, "Let me look.\n", false},
		{"stop string", "first line\nsecond line\nthird", "", []string{"second"}, "first line\n", "first line\n", true},
		{"stop in two pieces", "abc END def", "", []string{" END"}, "abc", "abc", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCompletion(tok, tc.stops, tc.marker)
			stoppedAt := -1
			ids := tok.Encode(tc.text)
			for i, id := range ids {
				if !c.emit(infer.Token{ID: int32(id)}) {
					stoppedAt = i
					break
				}
				s, n := c.streamable()
				if n != i+1 || !strings.HasPrefix(tc.maxStream, s) {
					t.Fatalf("after token %d: streamable %q (%d tokens), not within %q", i, s, n, tc.maxStream)
				}
			}
			final, toks := c.final()
			if final != tc.wantFinal || (stoppedAt >= 0) != tc.stopped {
				t.Errorf("final %q (stopped at token %d), want %q", final, stoppedAt, tc.wantFinal)
			}
			if s, _ := c.streamable(); !tc.stopped && tc.marker == "" && s != final {
				t.Errorf("after the last token the streamable text is %q, not the whole %q", s, final)
			}
			if want := len(ids); !tc.stopped && len(toks) != want {
				t.Errorf("%d tokens kept, %d emitted", len(toks), want)
			}
		})
	}
}
