package pipeline

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

func TestDecodeEvalItem(t *testing.T) {
	good, _ := json.Marshal(EvalItem{Task: sdk.Task{InstanceID: "a__b-1"}, Prediction: sdk.Prediction{InstanceID: "a__b-1", ModelPatch: "x"},
		Rules: harness.Rules{SkippedMaintains: true}, Graded: "d"})
	cases := []struct {
		name string
		it   queue.Item
		ok   bool
	}{
		{name: "eval item", it: queue.Item{Key: "a__b-1", Kind: EvalItemKind, Payload: good}, ok: true},
		{name: "other kind", it: queue.Item{Key: "a__b-1", Kind: "rollout", Payload: good}},
		{name: "key of another instance", it: queue.Item{Key: "a__b-2", Kind: EvalItemKind, Payload: good}},
		{name: "not JSON", it: queue.Item{Key: "a__b-1", Kind: EvalItemKind, Payload: json.RawMessage(`{`)}},
		{name: "no key", it: queue.Item{Kind: EvalItemKind, Payload: json.RawMessage(`{}`)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			item, err := DecodeEvalItem(tc.it)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && (!item.Rules.SkippedMaintains || item.Graded != "d" || item.Prediction.ModelPatch != "x") {
				t.Errorf("decoded %+v", item)
			}
		})
	}
}

// FuzzDecodeEvalItem feeds what a worker receives from the network to
// its decoder: it never panics, and what it accepts is keyed consistently.
func FuzzDecodeEvalItem(f *testing.F) {
	good, _ := json.Marshal(EvalItem{Task: sdk.Task{InstanceID: "a"}, Prediction: sdk.Prediction{InstanceID: "a"}})
	f.Add("a", EvalItemKind, good)
	f.Add("a", EvalItemKind, []byte(`{"task":{"instance_id":"a","FAIL_TO_PASS":"[\"t\"]"},"prediction":{"instance_id":"a"}}`))
	f.Add("", "", []byte(`null`))
	f.Fuzz(func(t *testing.T, key, kind string, payload []byte) {
		item, err := DecodeEvalItem(queue.Item{Key: key, Kind: kind, Payload: payload})
		if err == nil && (item.Task.InstanceID != key || item.Prediction.InstanceID != key || key == "") {
			t.Errorf("accepted an item keyed %q holding %q and %q", key, item.Task.InstanceID, item.Prediction.InstanceID)
		}
	})
}

// TestEvalStageQueue: a recipe's queue block, or WithQueue (`run
// --queue`) in its place, makes its eval stages grade through the queue
// (and every stage get it: synthetic sources validate through it), and
// leaves their fingerprints alone, so a run may go from local to
// distributed grading and keep its results.
func TestEvalStageQueue(t *testing.T) {
	const body = "source \"swebench\" \"a\" {}\neval \"final\" {\n tasks = source.swebench.a\n predictions = \"gold\"\n}\n"
	const block = "queue {\n url = \"nats://q:4222\"\n max_attempts = 2\n}\n"
	flag := &hcl.Queue{URL: "nats://other:4222"}
	cases := []struct {
		name string
		src  string
		opts []Option
		want *hcl.Queue
	}{
		{name: "local", src: body},
		{name: "queue", src: body + block, want: &hcl.Queue{URL: "nats://q:4222", MaxAttempts: 2, Repos: hcl.QueueReposObjectStore}},
		{name: "shared repositories", src: body + strings.Replace(block, "}", " repos = \"shared\"\n}", 1),
			want: &hcl.Queue{URL: "nats://q:4222", MaxAttempts: 2, Repos: hcl.QueueReposShared}},
		{name: "flag", src: body, opts: []Option{WithQueue(flag)}, want: flag},
		{name: "flag over block", src: body + block, opts: []Option{WithQueue(flag)}, want: flag},
	}
	var prints []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stages, err := Stages(loadRecipe(t, tc.src), nil, append([]Option{testLanguages}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			var ev *evalStage
			for _, s := range stages {
				if e, ok := s.(*evalStage); ok {
					ev = e
				}
			}
			if ev == nil {
				t.Fatal("no eval stage")
			}
			got := ev.grader.queue
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Errorf("queue %+v, want %+v", got, tc.want)
			}
			if src, ok := stages[0].(*sourceStage); !ok || src.queue != got {
				t.Errorf("the source stage's queue is not the eval's: %+v", stages[0])
			}
			if ev.grader.address != "eval.final" || len(ev.grader.repoDirs) != 2 {
				t.Errorf("address %q, repository folders %v", ev.grader.address, ev.grader.repoDirs)
			}
			prints = append(prints, ev.Fingerprint())
		})
	}
	for _, p := range prints {
		if p != prints[0] {
			t.Errorf("the queue changed the eval stage's fingerprint: %v", prints)
			break
		}
	}
}
