package pipeline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/queue"
)

// TestWorkerRefuses: items a worker cannot run are failed attempts with
// a reason, before any sandbox is opened.
func TestWorkerRefuses(t *testing.T) {
	payload := func(it ValidateItem) json.RawMessage {
		data, _ := json.Marshal(it)
		return data
	}
	one := ValidateItem{InstanceID: "a", Mutations: []string{"diff"}}
	two := ValidateItem{InstanceID: "a", Mutations: []string{"d1", "d2"}, Compile: true}
	cases := []struct {
		name string
		it   queue.Item
		want string
	}{
		{"unknown kind", queue.Item{Key: "a", Kind: "train", Payload: payload(one)}, `kind "train"`},
		{"not JSON", queue.Item{Key: "a", Kind: ValidateItemKind, Payload: json.RawMessage("[")}, "validate item a"},
		{"another candidate", queue.Item{Key: "b", Kind: ValidateItemKind, Payload: payload(one)}, `holds the candidate "a"`},
		{"no mutation", queue.Item{Key: "a", Kind: ValidateItemKind, Payload: payload(ValidateItem{InstanceID: "a"})}, "0 mutations"},
		{"compile check of a combination", queue.Item{Key: "a", Kind: ValidateItemKind, Payload: payload(two)}, "2 mutations"},
		{"eval item of another kind's payload", queue.Item{Key: "a", Kind: EvalItemKind, Payload: payload(one)}, "eval item"},
	}
	w := &Worker{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.Handle(context.Background(), tc.it)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Handle: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
