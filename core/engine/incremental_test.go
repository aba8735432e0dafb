package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// incStage is a stage that copies the items of its input (a slice, or its
// dependency's output) into its own output, item by item; incremental
// says whether it declares itself Incremental.
type incStage struct {
	fakeStage
	incremental bool
}

func (s *incStage) Incremental() bool { return s.incremental }

// copier builds stages whose run appends, under key "id", every item of
// src (or of the dependency's "items" output) the output does not hold.
type copier struct {
	mu    sync.Mutex
	input []string
	ran   []string
}

func (c *copier) stage(addr string, incremental bool, deps ...string) *incStage {
	s := &incStage{incremental: incremental}
	s.addr, s.deps = addr, deps
	s.run = func(ctx context.Context, sc *StageContext) error {
		c.mu.Lock()
		c.ran = append(c.ran, addr)
		ids := slices.Clone(c.input)
		c.mu.Unlock()
		if len(deps) > 0 {
			ids = nil
			err := ReadRecords(sc.OutputPath(deps[0], "items"), func(_ int, raw json.RawMessage) error {
				var it item
				if err := json.Unmarshal(raw, &it); err != nil {
					return err
				}
				ids = append(ids, it.ID)
				return nil
			})
			if err != nil {
				return err
			}
		}
		w, err := sc.OpenOutput("items", KeyField("id"))
		if err != nil {
			return err
		}
		for _, id := range ids {
			if w.Has(id) {
				continue
			}
			if err := w.Append(ctx, id, item{ID: id}); err != nil {
				return err
			}
		}
		return nil
	}
	return s
}

func (c *copier) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ran := c.ran
	c.ran = nil
	return ran
}

// TestExecuteIncremental: a finished incremental stage runs again and
// picks up new items; when nothing is new it keeps its generation and a
// non-incremental dependent stays up to date; when something is new an
// incremental dependent catches up and a non-incremental one is stale; a
// dependency rebuilt with --rerun makes even an incremental dependent
// stale.
func TestExecuteIncremental(t *testing.T) {
	r := openRun(t)
	c := &copier{input: []string{"a", "b"}}
	stages := []Stage{
		c.stage("source.s", true),
		c.stage("eval.e", true, "source.s"),
		c.stage("sft.t", false, "eval.e"),
	}
	steps := []struct {
		name     string
		add      []string // appended to the source's input first
		opts     ExecOptions
		wantRan  []string
		wantErr  error
		wantHint string // in the error
		wantLen  int    // records of eval.e afterwards
		sameGen  bool   // every stage keeps its generation
	}{
		{name: "first run", wantRan: []string{"source.s", "eval.e", "sft.t"}, wantLen: 2},
		{name: "nothing new", wantRan: []string{"source.s", "eval.e"}, wantLen: 2, sameGen: true},
		{name: "new source items", add: []string{"c"}, wantRan: []string{"source.s", "eval.e"}, wantLen: 3,
			wantErr: ErrStaleInput, wantHint: "--rerun sft.t"},
		{name: "stale stays stale", wantRan: nil, wantLen: 3, wantErr: ErrStaleInput, wantHint: "--rerun sft.t"},
		{name: "rerun the stale stage", opts: ExecOptions{Rerun: []string{"sft.t"}}, wantRan: []string{"source.s", "eval.e", "sft.t"}, wantLen: 3},
		{name: "up to date again", wantRan: []string{"source.s", "eval.e"}, wantLen: 3, sameGen: true},
		{name: "rebuild the source alone", opts: ExecOptions{Only: []string{"source.s"}, Rerun: []string{"source.s"}}, wantRan: []string{"source.s"}, wantLen: 3},
		{name: "a rebuilt source is not growth", wantRan: nil, wantLen: 3, wantErr: ErrStaleInput, wantHint: "--rerun eval.e"},
	}
	gens := func() map[string]string {
		out := map[string]string{}
		for _, s := range stages {
			if st, ok, _ := r.StageState(s.Address()); ok {
				out[s.Address()] = st.Generation
			}
		}
		return out
	}
	for _, step := range steps {
		c.mu.Lock()
		c.input = append(c.input, step.add...)
		c.mu.Unlock()
		before := gens()
		var out bytes.Buffer
		step.opts.Out = &out
		err := r.Execute(context.Background(), stages, step.opts)
		if step.wantErr == nil && err != nil || step.wantErr != nil && !errors.Is(err, step.wantErr) {
			t.Fatalf("%s: err = %v, want %v\n%s", step.name, err, step.wantErr, out.String())
		}
		if err != nil && !strings.Contains(err.Error(), step.wantHint) {
			t.Errorf("%s: error %q does not say %q", step.name, err, step.wantHint)
		}
		if got := c.take(); !slices.Equal(got, step.wantRan) {
			t.Errorf("%s: ran %v, want %v", step.name, got, step.wantRan)
		}
		if got := len(keysOf(t, r.OutputPath("eval.e", "items"))); got != step.wantLen {
			t.Errorf("%s: eval.e holds %d items, want %d", step.name, got, step.wantLen)
		}
		if after := gens(); step.sameGen && !maps.Equal(before, after) {
			t.Errorf("%s: generations changed: %v -> %v", step.name, before, after)
		}
	}
}

// TestWriterDrop: WithDrop removes the selected records when the Writer is
// opened, the Writer then appends under the dropped keys again, and a
// crash in the middle of the rewrite (the sidecar removed, the data file
// not replaced yet) loses nothing.
func TestWriterDrop(t *testing.T) {
	isOdd := func(key string, raw json.RawMessage) bool {
		var it item
		json.Unmarshal(raw, &it)
		return it.N%2 == 1
	}
	tests := []struct {
		name     string
		drop     func(string, json.RawMessage) bool
		crash    bool // remove the sidecar only, as a crash after that step leaves it
		wantKeys []string
		wantDrop int
	}{
		{name: "odd records", drop: isOdd, wantKeys: []string{"k0", "k2", "k4"}, wantDrop: 2},
		{name: "nothing to drop", drop: func(string, json.RawMessage) bool { return false }, wantKeys: []string{"k0", "k1", "k2", "k3", "k4"}},
		{name: "everything", drop: func(string, json.RawMessage) bool { return true }, wantDrop: 5},
		{name: "by key", drop: func(k string, _ json.RawMessage) bool { return k == "k3" }, wantKeys: []string{"k0", "k1", "k2", "k4"}, wantDrop: 1},
		{name: "crash before the data file is replaced", drop: isOdd, crash: true, wantKeys: []string{"k0", "k2", "k4"}, wantDrop: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.jsonl")
			var items []item
			for i := range 5 {
				items = append(items, item{ID: fmt.Sprintf("k%d", i), N: i})
			}
			writeItems(t, path, "k0", "k1", "k2", "k3", "k4")
			if tt.crash {
				if err := os.Remove(path + SumSuffix); err != nil {
					t.Fatal(err)
				}
			}
			w, err := OpenWriter(path, KeyField("id"), WithLogger(quietLogger()), WithDrop(tt.drop))
			if err != nil {
				t.Fatal(err)
			}
			if got := w.Stats().Dropped; got != tt.wantDrop {
				t.Errorf("Dropped = %d, want %d", got, tt.wantDrop)
			}
			if w.Len() != len(tt.wantKeys) {
				t.Errorf("Len = %d, want %d", w.Len(), len(tt.wantKeys))
			}
			for _, it := range items {
				if w.Has(it.ID) != slices.Contains(tt.wantKeys, it.ID) {
					t.Errorf("Has(%s) = %v", it.ID, w.Has(it.ID))
				}
			}
			if got := keysOf(t, path); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("file holds %v, want %v", got, tt.wantKeys)
			}
			// A dropped key can be written again.
			if tt.wantDrop > 0 {
				if err := w.Append(context.Background(), "k1", item{ID: "k1", N: 10}); err != nil && !slices.Contains(tt.wantKeys, "k1") {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// The rewritten file reopens cleanly.
			w, err = OpenWriter(path, KeyField("id"), WithLogger(quietLogger()))
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
		})
	}
}

// histStage is a stage whose fingerprint was computed otherwise before.
type histStage struct {
	incStage
	previous []string
}

func (s *histStage) PreviousFingerprints() []string { return s.previous }

// TestExecuteUpgrade: state written by an earlier swelego — without
// lineages, under a fingerprint computed the old way — is taken as it is:
// nothing is stale or refused that the new code would compute the same way.
func TestExecuteUpgrade(t *testing.T) {
	tests := []struct {
		name     string
		upgrade  func(t *testing.T, r *Run, stages []Stage)
		wantRan  []string
		wantErr  error
		wantHint string
	}{
		{name: "state without lineages", upgrade: func(t *testing.T, r *Run, stages []Stage) {
			for _, s := range stages {
				st := stateOf(t, r, s.Address())
				st.Lineage, st.InputLineages = "", nil
				if err := r.writeStageState(&st); err != nil {
					t.Fatal(err)
				}
			}
		}, wantRan: []string{"source.s", "eval.e"}},
		{name: "a previous fingerprint", upgrade: func(t *testing.T, r *Run, stages []Stage) {
			h := stages[2].(*histStage)
			h.fp, h.previous = "fp-new", []string{"fp-sft.t"}
		}, wantRan: []string{"source.s", "eval.e"}},
		{name: "a fingerprint never seen", upgrade: func(t *testing.T, r *Run, stages []Stage) {
			h := stages[2].(*histStage)
			h.fp, h.previous = "fp-new", []string{"fp-older"}
		}, wantErr: ErrFingerprintChanged, wantHint: "--rerun sft.t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openRun(t)
			c := &copier{input: []string{"a", "b"}}
			sft := &histStage{incStage: *c.stage("sft.t", false, "eval.e")}
			stages := []Stage{c.stage("source.s", true), c.stage("eval.e", true, "source.s"), sft}
			if err := r.Execute(context.Background(), stages, ExecOptions{Out: &bytes.Buffer{}}); err != nil {
				t.Fatal(err)
			}
			c.take()
			tt.upgrade(t, r, stages)
			err := r.Execute(context.Background(), stages, ExecOptions{Out: &bytes.Buffer{}})
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantHint)) {
				t.Fatalf("err = %v, want %v with %q", err, tt.wantErr, tt.wantHint)
			}
			if got := c.take(); !slices.Equal(got, tt.wantRan) {
				t.Errorf("ran %v, want %v", got, tt.wantRan)
			}
		})
	}
}
