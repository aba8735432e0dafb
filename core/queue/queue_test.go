package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
)

func connect(t *testing.T, url, name string, opts queue.Options) *queue.Client {
	t.Helper()
	opts.Name = name
	c, err := queue.Connect(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func items(n int) []queue.Item {
	var out []queue.Item
	for i := range n {
		p, _ := json.Marshal(i)
		out = append(out, queue.Item{Key: fmt.Sprintf("item-%d", i), Kind: "square", Payload: p})
	}
	return out
}

// square is a handler: the square of the item's number, an error for
// the keys in fail.
func square(fail map[string]bool) queue.Handler {
	return func(ctx context.Context, it queue.Item) (json.RawMessage, error) {
		if fail[it.Key] {
			return nil, fmt.Errorf("cannot square %s", it.Key)
		}
		var n int
		if err := json.Unmarshal(it.Payload, &n); err != nil {
			return nil, err
		}
		return json.Marshal(n * n)
	}
}

// startWorkers runs n workers until the test ends (or stop is closed).
func startWorkers(t *testing.T, url string, n int, h queue.Handler) (stop func() []queue.Stats) {
	t.Helper()
	drain := make(chan struct{})
	var wg sync.WaitGroup
	stats := make([]queue.Stats, n)
	for i := range n {
		c := connect(t, url, fmt.Sprintf("w%d", i), queue.Options{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := c.Work(context.Background(), drain, h, queue.WorkOptions{Slots: 2})
			if err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
			stats[i] = st
		}()
	}
	var once sync.Once
	stop = func() []queue.Stats {
		once.Do(func() { close(drain); wg.Wait() })
		return stats
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestRunOutcomes(t *testing.T) {
	cases := []struct {
		name        string
		n           int
		workers     int
		fail        []string
		maxAttempts int
	}{
		{name: "all results", n: 12, workers: 3},
		{name: "one poison item", n: 6, workers: 2, fail: []string{"item-3"}, maxAttempts: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := queuetest.Start(t)
			fail := map[string]bool{}
			for _, k := range tc.fail {
				fail[k] = true
			}
			coord := connect(t, url, "coordinator", queue.Options{AckWait: 2 * time.Second, MaxAttempts: tc.maxAttempts})
			stop := startWorkers(t, url, tc.workers, square(fail))
			got := map[string]queue.Outcome{}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := coord.Run(ctx, queue.JobID("run", "stage"), items(tc.n), func(_ context.Context, o queue.Outcome) (bool, error) {
				if _, dup := got[o.Key]; dup {
					t.Errorf("%s settled twice", o.Key)
				}
				got[o.Key] = o
				return true, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n {
				t.Fatalf("%d outcomes, want %d", len(got), tc.n)
			}
			for i := range tc.n {
				key := fmt.Sprintf("item-%d", i)
				o := got[key]
				if fail[key] {
					if !o.Parked || len(o.Errors) != tc.maxAttempts {
						t.Errorf("%s: parked %v with %d errors, want parked with %d: %q", key, o.Parked, len(o.Errors), tc.maxAttempts, o.Errors)
					}
					for _, e := range o.Errors {
						if !strings.Contains(e, "cannot square "+key) || !strings.Contains(e, "(worker w") {
							t.Errorf("%s: attempt error %q does not say why or where", key, e)
						}
					}
					if len(o.FailedOn) != tc.maxAttempts {
						t.Errorf("%s: failed on %v, want the %d workers of the attempts", key, o.FailedOn, tc.maxAttempts)
					}
					continue
				}
				var sq int
				if o.Parked || json.Unmarshal(o.Payload, &sq) != nil || sq != i*i {
					t.Errorf("%s: outcome %+v, want %d", key, o, i*i)
				}
			}
			var done int64
			for _, st := range stop() {
				done += st.Done
			}
			if want := int64(tc.n - len(tc.fail)); done != want {
				t.Errorf("workers did %d items, want %d", done, want)
			}
		})
	}
}

// TestRunRerun kills a coordinator (its context) while the workers go on;
// a second coordinator of the same job settles every item exactly once,
// taking the results the workers published meanwhile without publishing
// them again.
func TestRunRerun(t *testing.T) {
	url := queuetest.Start(t)
	job := queue.JobID("run-rerun", "eval.x")
	release := make(chan struct{})
	var mu sync.Mutex
	ran := map[string]int{}
	h := func(ctx context.Context, it queue.Item) (json.RawMessage, error) {
		mu.Lock()
		ran[it.Key]++
		mu.Unlock()
		if it.Key == "item-0" {
			select { // the first item waits until the first coordinator is gone
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return square(nil)(ctx, it)
	}
	startWorkers(t, url, 2, h)
	first := connect(t, url, "coordinator-1", queue.Options{AckWait: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	firstGot := 0
	err := first.Run(ctx, job, items(5), func(_ context.Context, o queue.Outcome) (bool, error) {
		firstGot++
		if firstGot == 2 {
			cancel() // the coordinator dies with items still out
		}
		return true, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first coordinator: %v, want canceled", err)
	}
	first.Close()
	close(release)
	second := connect(t, url, "coordinator-2", queue.Options{AckWait: 2 * time.Second})
	got := map[string]int{}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	err = second.Run(ctx2, job, items(5), func(_ context.Context, o queue.Outcome) (bool, error) {
		got[o.Key]++
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if k := fmt.Sprintf("item-%d", i); got[k] != 1 {
			t.Errorf("%s settled %d times by the second coordinator, want 1", k, got[k])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 5 {
		if k := fmt.Sprintf("item-%d", i); ran[k] != 1 {
			t.Errorf("%s ran %d times, want once (the rerun publishes nothing already done or waiting)", k, ran[k])
		}
	}
}

// waiting counts the job's items in the work stream.
func waiting(t *testing.T, url, job string) int {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	ws, err := js.Stream(ctx, queue.WorkStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ws.Info(ctx, jetstream.WithSubjectFilter("swelego.work."+job+".>"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n
}

// TestRunChangedAndWithdrawn: a coordinator publishes with no worker
// running and dies; its successor's item whose payload changed since is
// published again (the stale one's outcome is refused, the new one
// settles it), the others are not. Withdraw then empties a job's waiting
// items.
func TestRunChangedAndWithdrawn(t *testing.T) {
	url := queuetest.Start(t)
	job := queue.JobID("run-changed", "eval.x")
	first := connect(t, url, "coordinator-1", queue.Options{AckWait: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := first.Run(ctx, job, items(3), func(context.Context, queue.Outcome) (bool, error) { return true, nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first coordinator without workers: %v, want its deadline", err)
	}
	if n := waiting(t, url, job); n != 3 {
		t.Fatalf("%d items waiting, want 3", n)
	}
	changed := items(3)
	changed[1].Payload = json.RawMessage("10")
	second := connect(t, url, "coordinator-2", queue.Options{AckWait: 2 * time.Second})
	stop := startWorkers(t, url, 1, square(nil))
	got := map[string]int{}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	err := second.Run(ctx2, job, changed, func(_ context.Context, o queue.Outcome) (bool, error) {
		var sq int
		json.Unmarshal(o.Payload, &sq)
		if o.Key == "item-1" && sq != 100 {
			return false, nil // the stale item's
		}
		got[o.Key] = sq
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"item-0": 0, "item-1": 100, "item-2": 4}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}

	// Withdraw: nothing of the job stays waiting.
	stop()
	idle := queue.JobID("run-withdrawn", "eval.x")
	third := connect(t, url, "coordinator-3", queue.Options{})
	ctx3, cancel3 := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel3()
	third.Run(ctx3, idle, items(2), func(context.Context, queue.Outcome) (bool, error) { return true, nil })
	if n := waiting(t, url, idle); n != 2 {
		t.Fatalf("%d items waiting, want 2", n)
	}
	if err := third.Withdraw(context.Background(), idle); err != nil {
		t.Fatal(err)
	}
	if n := waiting(t, url, idle); n != 0 {
		t.Errorf("%d items of a withdrawn job still waiting", n)
	}
	if n := waiting(t, url, job); n != 0 {
		t.Errorf("%d items of the settled job still waiting", n)
	}
}

// TestRunRefused: a coordinator that refuses the outcome of what it
// published gets ErrRefused instead of waiting for an outcome that will
// not come.
func TestRunRefused(t *testing.T) {
	url := queuetest.Start(t)
	startWorkers(t, url, 1, square(nil))
	coord := connect(t, url, "coordinator", queue.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := coord.Run(ctx, queue.JobID("run-refused", "x"), items(2), func(context.Context, queue.Outcome) (bool, error) { return false, nil })
	if !errors.Is(err, queue.ErrRefused) {
		t.Fatalf("Run: %v, want ErrRefused", err)
	}
}
