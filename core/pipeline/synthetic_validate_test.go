package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
	"github.com/swelego/swelego/sdk"
)

// TestQueueValidator runs validate items through an embedded JetStream
// server and a worker whose handler stands in for the sandboxes: a result
// an earlier run published for other settings is not taken (the item is
// validated again), an item that fails on every attempt is handed on
// parked with each attempt's error, and the workers' counts hold both.
func TestQueueValidator(t *testing.T) {
	url := queuetest.Start(t)
	var mu sync.Mutex
	ran := map[string]int{}
	handler := func(ctx context.Context, it queue.Item) (json.RawMessage, error) {
		mu.Lock()
		ran[it.Key]++
		mu.Unlock()
		if it.Key == "bad" {
			return nil, errors.New("no sandbox here")
		}
		var item ValidateItem
		if err := json.Unmarshal(it.Payload, &item); err != nil {
			return nil, err
		}
		task := sdk.Task{InstanceID: item.InstanceID, FailToPass: []string{"t1"}, PassToPass: []string{"t2"}}
		if item.Reruns > 1 {
			task.PassToPass = nil // what these settings would give
		}
		return json.Marshal(ValidateResult{Task: &task, Input: inputDigest(it.Payload)})
	}
	wc, err := queue.Connect(context.Background(), url, queue.Options{Name: "w0"})
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	drain := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		wc.Work(context.Background(), drain, handler, queue.WorkOptions{Slots: 2, Kinds: WorkerKinds})
	}()
	defer func() { close(drain); <-done }()

	coord, err := queue.Connect(context.Background(), url, queue.Options{AckWait: 2 * time.Second, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	counts := &WorkerCounts{m: map[string]*WorkerCount{}}
	qv := &QueueValidator{Client: coord, Job: queue.JobID("run", "source.synthetic.x"), Workers: counts}
	run := func(items ...ValidateItem) map[string]ValidateResult {
		t.Helper()
		got := map[string]ValidateResult{}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := qv.ValidateRemote(ctx, items, func(it ValidateItem, r ValidateResult) error {
			if _, dup := got[it.InstanceID]; dup {
				t.Errorf("%s recorded twice", it.InstanceID)
			}
			got[it.InstanceID] = r
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	first := run(ValidateItem{InstanceID: "good", Mutations: []string{"d"}, Reruns: 1}, ValidateItem{InstanceID: "bad", Mutations: []string{"d"}})
	if r := first["good"]; r.Task == nil || len(r.Task.PassToPass) != 1 || r.Worker != "w0" {
		t.Errorf("good: %+v", r)
	}
	if r := first["bad"]; !r.Parked || len(r.Errors) != 2 {
		t.Errorf("bad: %+v, want parked with 2 errors", r)
	}
	// Other settings: the earlier result is not taken.
	second := run(ValidateItem{InstanceID: "good", Mutations: []string{"d"}, Reruns: 2})
	if r := second["good"]; r.Task == nil || len(r.Task.PassToPass) != 0 {
		t.Errorf("good with reruns 2: %+v, want the result of these settings", r)
	}
	mu.Lock()
	if ran["good"] != 2 || ran["bad"] != 2 {
		t.Errorf("ran %v, want good twice (two settings) and bad twice (max attempts)", ran)
	}
	mu.Unlock()
	if c := counts.m["w0"]; c == nil || c.Items != 2 || c.Failures != 2 {
		t.Errorf("counts %+v, want 2 items and 2 failures for w0", c)
	}
}
