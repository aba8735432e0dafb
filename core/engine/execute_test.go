package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeStage struct {
	addr string
	deps []string
	fp   string
	run  func(ctx context.Context, sc *StageContext) error
}

func (s *fakeStage) Address() string     { return s.addr }
func (s *fakeStage) DependsOn() []string { return s.deps }
func (s *fakeStage) Fingerprint() string {
	if s.fp == "" {
		return "fp-" + s.addr
	}
	return s.fp
}
func (s *fakeStage) Run(ctx context.Context, sc *StageContext) error {
	if s.run == nil {
		return nil
	}
	return s.run(ctx, sc)
}

// recorder notes which stages ran, in order.
type recorder struct {
	mu  sync.Mutex
	ran []string
}

func (r *recorder) stage(addr string, deps ...string) *fakeStage {
	return &fakeStage{addr: addr, deps: deps, run: func(ctx context.Context, sc *StageContext) error {
		r.mu.Lock()
		r.ran = append(r.ran, sc.Address)
		r.mu.Unlock()
		return nil
	}}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ran := r.ran
	r.ran = nil
	return ran
}

func openRun(t *testing.T) *Run {
	t.Helper()
	r, err := Open(filepath.Join(t.TempDir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func stateOf(t *testing.T, r *Run, addr string) StageState {
	t.Helper()
	st, ok, err := r.StageState(addr)
	if err != nil || !ok {
		t.Fatalf("state of %s: ok=%v err=%v", addr, ok, err)
	}
	return st
}

func TestExecuteOrder(t *testing.T) {
	r := openRun(t)
	var rec recorder
	// Given out of order on purpose: the scheduler must respect the edges.
	stages := []Stage{
		rec.stage("report.final", "eval.main", "tts.main"),
		rec.stage("eval.main", "tts.main"),
		rec.stage("tts.main", "train.main", "tasks.main"),
		rec.stage("train.main", "prepare.main"),
		rec.stage("prepare.main", "rollout.main"),
		rec.stage("rollout.main", "tasks.main"),
		rec.stage("tasks.main", "source.a", "source.b"),
		rec.stage("source.b"),
		rec.stage("source.a"),
	}
	if err := r.Execute(context.Background(), stages, ExecOptions{Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	want := []string{"source.b", "source.a", "tasks.main", "rollout.main", "prepare.main", "train.main", "tts.main", "eval.main", "report.final"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	for _, s := range stages {
		st := stateOf(t, r, s.Address())
		if st.Status != StatusDone || st.Fingerprint != s.Fingerprint() || st.Generation == "" || st.Ended.Before(st.Started) {
			t.Errorf("state of %s = %+v", s.Address(), st)
		}
		for _, d := range s.DependsOn() {
			if st.Inputs[d] != stateOf(t, r, d).Generation {
				t.Errorf("%s: input %s = %q, want the dependency's generation", s.Address(), d, st.Inputs[d])
			}
		}
	}

	// Only selects a stage and its dependencies; everything is up to date.
	var out bytes.Buffer
	if err := r.Execute(context.Background(), stages, ExecOptions{Only: []string{"rollout.main"}, Out: &out}); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("up-to-date stages ran again: %v", got)
	}
	if n := strings.Count(out.String(), `"msg":"up to date"`); n != 4 {
		t.Errorf("%d up-to-date lines, want 4 (source.a, source.b, tasks.main, rollout.main):\n%s", n, out.String())
	}
}

func TestExecuteParallel(t *testing.T) {
	for _, tt := range []struct{ parallel, want int }{{0, 1}, {1, 1}, {3, 3}} {
		t.Run(fmt.Sprint(tt.parallel), func(t *testing.T) {
			r := openRun(t)
			var running, peak atomic.Int32
			var stages []Stage
			for i := range 6 {
				stages = append(stages, &fakeStage{addr: fmt.Sprintf("s.%d", i), run: func(ctx context.Context, sc *StageContext) error {
					n := running.Add(1)
					defer running.Add(-1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					// Hold the slot until the pool is full (or long enough
					// to show it will not fill).
					deadline := time.Now().Add(300 * time.Millisecond)
					for running.Load() < int32(tt.want) && time.Now().Before(deadline) {
						time.Sleep(time.Millisecond)
					}
					time.Sleep(20 * time.Millisecond)
					return nil
				}})
			}
			if err := r.Execute(context.Background(), stages, ExecOptions{Parallel: tt.parallel, Out: &bytes.Buffer{}}); err != nil {
				t.Fatal(err)
			}
			if got := int(peak.Load()); got != tt.want {
				t.Errorf("peak concurrency %d, want %d", got, tt.want)
			}
		})
	}
}

func TestExecuteConfigChanges(t *testing.T) {
	r := openRun(t)
	var rec recorder
	a, b := rec.stage("gen.a"), rec.stage("use.b", "gen.a")
	stages := []Stage{a, b}
	ctx := context.Background()
	exec := func(opts ExecOptions) error {
		opts.Out = &bytes.Buffer{}
		return r.Execute(ctx, stages, opts)
	}
	if err := exec(ExecOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.take()

	// A changed fingerprint is refused, naming the flag to use.
	a.fp = "new"
	err := exec(ExecOptions{})
	if !errors.Is(err, ErrFingerprintChanged) || !strings.Contains(err.Error(), "--rerun gen.a") {
		t.Fatalf("err = %v, want ErrFingerprintChanged telling to --rerun gen.a", err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("stages ran despite the error: %v", got)
	}

	// Rerunning a alone would leave b built from a's old outputs.
	err = exec(ExecOptions{Rerun: []string{"gen.a"}})
	if !errors.Is(err, ErrStaleInput) || !strings.Contains(err.Error(), "--rerun use.b") {
		t.Fatalf("err = %v, want ErrStaleInput telling to --rerun use.b", err)
	}
	// Rerunning only a, without its dependents in scope, is allowed...
	if err := exec(ExecOptions{Only: []string{"gen.a"}, Rerun: []string{"gen.a"}}); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"gen.a"}) {
		t.Fatalf("ran %v", got)
	}
	// ...but then b is stale.
	err = exec(ExecOptions{})
	if !errors.Is(err, ErrStaleInput) || !strings.Contains(err.Error(), "rebuilt since") {
		t.Fatalf("err = %v, want ErrStaleInput", err)
	}
	if err := exec(ExecOptions{Rerun: []string{"use.b"}}); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"use.b"}) {
		t.Fatalf("ran %v", got)
	}
	if err := exec(ExecOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("ran %v after everything was rebuilt", got)
	}
}

func TestExecuteRerunDiscardsOutputs(t *testing.T) {
	r := openRun(t)
	ctx := context.Background()
	var lens sync.Map // address -> Len() of its output when it started
	writer := func(addr string, deps ...string) *fakeStage {
		return &fakeStage{addr: addr, deps: deps, run: func(ctx context.Context, sc *StageContext) error {
			w, err := sc.OpenOutput("items", KeyField("id"))
			if err != nil {
				return err
			}
			lens.Store(addr, w.Len())
			for i := range 5 {
				id := fmt.Sprint(i)
				if w.Has(id) {
					continue
				}
				if err := w.Append(ctx, id, item{ID: id}); err != nil {
					return err
				}
			}
			// Something that is not JSON Lines in the stage directory.
			return os.WriteFile(filepath.Join(sc.Dir(), "model.bin"), []byte("x"), 0o644)
		}}
	}
	stages := []Stage{writer("gen"), writer("gen.sub")}
	if err := r.Execute(ctx, stages, ExecOptions{Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, r, "gen"); st.Outputs["items"] != 5 {
		t.Errorf("outputs in state = %v", st.Outputs)
	}
	if err := r.Execute(ctx, stages, ExecOptions{Rerun: []string{"gen"}, Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := lens.Load("gen"); n != 0 {
		t.Errorf("rerun stage found %d old records", n)
	}
	if st := stateOf(t, r, "gen"); st.Attempts != 1 || st.Status != StatusDone {
		t.Errorf("state after rerun = %+v", st)
	}
	// The nested stage's outputs survived the rerun of its parent address.
	if got := len(keysOf(t, r.OutputPath("gen.sub", "items"))); got != 5 {
		t.Errorf("gen.sub has %d records after rerun of gen, want 5", got)
	}
	if _, err := os.Stat(filepath.Join(r.StageDir("gen.sub"), "model.bin")); err != nil {
		t.Error(err)
	}
}

func TestExecuteFailureIsolation(t *testing.T) {
	r := openRun(t)
	var rec recorder
	broken := true
	a := &fakeStage{addr: "a", run: func(ctx context.Context, sc *StageContext) error {
		rec.stage("a").run(ctx, sc)
		if broken {
			return errors.New("sandbox exploded")
		}
		return nil
	}}
	stages := []Stage{a, rec.stage("b", "a"), rec.stage("c"), rec.stage("d", "c"), rec.stage("e", "b", "d")}
	err := r.Execute(context.Background(), stages, ExecOptions{Out: &bytes.Buffer{}})
	var ee *ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *ExecError", err)
	}
	if len(ee.Failed) != 1 || ee.Failed[0].Address != "a" || !slices.Equal(ee.Blocked, []string{"b", "e"}) {
		t.Errorf("failed %v, blocked %v", ee.Failed, ee.Blocked)
	}
	if !strings.Contains(err.Error(), "a: sandbox exploded") {
		t.Errorf("error %q does not name the failed stage", err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"a", "c", "d"}) {
		t.Errorf("ran %v, want the failed stage and the independent ones", got)
	}
	if st := stateOf(t, r, "a"); st.Status != StatusFailed || st.Error != "sandbox exploded" {
		t.Errorf("state of a = %+v", st)
	}
	if _, ok, _ := r.StageState("b"); ok {
		t.Error("blocked stage has state")
	}

	broken = false
	if err := r.Execute(context.Background(), stages, ExecOptions{Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"a", "b", "e"}) {
		t.Errorf("second run ran %v", got)
	}
	if st := stateOf(t, r, "a"); st.Status != StatusDone || st.Attempts != 2 || st.Error != "" {
		t.Errorf("state of a = %+v", st)
	}
}

func TestExecutePanic(t *testing.T) {
	r := openRun(t)
	var out bytes.Buffer
	err := r.Execute(context.Background(), []Stage{&fakeStage{addr: "p", run: func(context.Context, *StageContext) error {
		var m map[string]int
		m["x"] = 1
		return nil
	}}}, ExecOptions{Out: &out})
	if err == nil || !strings.Contains(err.Error(), "p: panic: assignment to entry in nil map") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(out.String(), "stage panicked") {
		t.Errorf("log:\n%s", out.String())
	}
}

func TestExecuteGraphErrors(t *testing.T) {
	s := func(addr string, deps ...string) Stage { return &fakeStage{addr: addr, deps: deps} }
	tests := []struct {
		name    string
		stages  []Stage
		opts    ExecOptions
		wantErr string
	}{
		{name: "unknown dependency", stages: []Stage{s("a", "nope")}, wantErr: `stage a depends on unknown stage "nope"`},
		{name: "cycle", stages: []Stage{s("x"), s("a", "c"), s("b", "a"), s("c", "b", "x")}, wantErr: "dependency cycle a -> c -> b -> a"},
		{name: "self", stages: []Stage{s("a", "a")}, wantErr: "dependency cycle a -> a"},
		{name: "duplicate", stages: []Stage{s("a"), s("a")}, wantErr: "stage a is defined twice"},
		{name: "bad address", stages: []Stage{s("a/../b")}, wantErr: `stage address "a/../b"`},
		{name: "empty segment", stages: []Stage{s("a..b")}, wantErr: `stage address "a..b"`},
		{name: "reserved", stages: []Stage{s("state.x")}, wantErr: "reserved"},
		{name: "unknown only", stages: []Stage{s("a")}, opts: ExecOptions{Only: []string{"b"}}, wantErr: "--only b: no such stage"},
		{name: "unknown rerun", stages: []Stage{s("a")}, opts: ExecOptions{Rerun: []string{"b"}}, wantErr: "--rerun b: no such stage"},
		{name: "misspelt rerun", stages: []Stage{s("source.tasks"), s("eval.gold", "source.tasks")}, opts: ExecOptions{Rerun: []string{"eval.gol"}},
			wantErr: `--rerun eval.gol: no such stage (did you mean "eval.gold"?); stages: source.tasks, eval.gold`},
		{name: "far from any", stages: []Stage{s("eval.gold")}, opts: ExecOptions{Only: []string{"sft.student"}}, wantErr: "--only sft.student: no such stage; stages: eval.gold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openRun(t)
			tt.opts.Out = &bytes.Buffer{}
			err := r.Execute(context.Background(), tt.stages, tt.opts)
			if !errors.Is(err, ErrInvalidGraph) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrInvalidGraph with %q", err, tt.wantErr)
			}
			if _, err := os.Stat(r.Path("state")); !errors.Is(err, os.ErrNotExist) {
				t.Error("state written despite the invalid graph")
			}
		})
	}
}

func TestExecuteCancelAndResume(t *testing.T) {
	r := openRun(t)
	const items = 100
	ctx, cancel := context.WithCancel(context.Background())
	var attempts []int
	produce := &fakeStage{addr: "rollout.main", run: func(ctx context.Context, sc *StageContext) error {
		attempts = append(attempts, sc.Attempt)
		w, err := sc.OpenOutput("trajectories", KeyField("id"))
		if err != nil {
			return err
		}
		p := sc.Progress(items)
		p.Skip(w.Len())
		for i := range items {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := fmt.Sprintf("t%03d", i)
			if w.Has(id) {
				continue
			}
			if err := w.Append(ctx, id, item{ID: id, N: i}); err != nil {
				return err
			}
			p.Add(1)
			sc.Count("written", 1)
			if i == 30 {
				cancel() // what SIGINT does through the caller's context
			}
		}
		return nil
	}}
	var consumed []string
	consume := &fakeStage{addr: "judge.main", deps: []string{"rollout.main"}, run: func(ctx context.Context, sc *StageContext) error {
		return ReadRecords(sc.OutputPath("rollout.main", "trajectories"), func(_ int, raw json.RawMessage) error {
			var it item
			if err := json.Unmarshal(raw, &it); err != nil {
				return err
			}
			consumed = append(consumed, it.ID)
			return nil
		})
	}}
	stages := []Stage{produce, consume}

	start := time.Now()
	err := r.Execute(ctx, stages, ExecOptions{Out: &bytes.Buffer{}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled Execute took %v", d)
	}
	if st := stateOf(t, r, "rollout.main"); st.Status != StatusRunning {
		t.Errorf("interrupted stage state = %q, want running", st.Status)
	}
	if _, ok, _ := r.StageState("judge.main"); ok {
		t.Error("dependent of an interrupted stage has state")
	}

	if err := r.Execute(context.Background(), stages, ExecOptions{Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(attempts, []int{1, 2}) {
		t.Errorf("attempts = %v", attempts)
	}
	if len(consumed) != items {
		t.Errorf("consumer read %d records, want %d", len(consumed), items)
	}
	seen := map[string]bool{}
	for _, id := range consumed {
		if seen[id] {
			t.Errorf("%s twice", id)
		}
		seen[id] = true
	}
	st := stateOf(t, r, "rollout.main")
	if st.Status != StatusDone || st.Attempts != 2 || st.Outputs["trajectories"] != items ||
		st.Items == nil || st.Items.Done != items || st.Items.Skipped != 31 || st.Counts["written"] != items-31 {
		t.Errorf("state = %+v items %+v", st, st.Items)
	}
}

func TestExecuteBusyRun(t *testing.T) {
	r := openRun(t)
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- r.Execute(context.Background(), []Stage{&fakeStage{addr: "slow", run: func(context.Context, *StageContext) error {
			close(started)
			<-release
			return nil
		}}}, ExecOptions{Out: &bytes.Buffer{}})
	}()
	<-started
	if err := r.Execute(context.Background(), nil, ExecOptions{Out: &bytes.Buffer{}}); err == nil || !strings.Contains(err.Error(), "already executing") {
		t.Errorf("concurrent Execute: err = %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
