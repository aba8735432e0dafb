package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"
)

// Stage is one step of a pipeline, adapted by the CLI from a recipe block.
type Stage interface {
	// Address names the stage, e.g. "source.swebench.bundled": dot-separated
	// identifiers (letters, digits, '_' and '-'). It also names the stage's
	// state file and output directory.
	Address() string
	// DependsOn lists the addresses of the stages whose outputs this one
	// reads.
	DependsOn() []string
	// Fingerprint is a hash of the stage's evaluated configuration. Outputs
	// made under one fingerprint are never mixed with outputs of another.
	Fingerprint() string
	// Run does the stage's work. It must be idempotent over items: when it
	// runs again after an interruption it skips the items its Writers
	// already hold. It should return promptly once ctx is cancelled.
	Run(ctx context.Context, sc *StageContext) error
}

// Incremental is a Stage whose outputs are keyed records that only grow
// with its inputs (one record per task, per prediction): run again after
// it finished, it adds the items that are new and keeps what it has. The
// engine runs a finished incremental stage again at every Execute, so
// items added to its inputs since (tasks appended to a source file, tasks
// a source stage added) are picked up; a run that changes none of its
// outputs keeps the stage's generation, so its dependents stay up to date.
// An incremental stage also catches up, instead of being stale, when a
// dependency it was built from has grown the same way.
type Incremental interface {
	Stage
	// Incremental reports whether the stage may be extended as above.
	Incremental() bool
}

// FingerprintHistory is implemented by a Stage whose fingerprint earlier
// versions of its code computed differently from the same configuration:
// state made under one of PreviousFingerprints counts as made under
// Fingerprint (and records Fingerprint the next time the stage runs), so
// an upgrade does not ask to rerun what it would compute the same way.
type FingerprintHistory interface {
	PreviousFingerprints() []string
}

// sameConfiguration reports whether state made under fingerprint fp was
// made under s's configuration.
func sameConfiguration(s Stage, fp string) bool {
	if fp == s.Fingerprint() {
		return true
	}
	h, ok := s.(FingerprintHistory)
	return ok && slices.Contains(h.PreviousFingerprints(), fp)
}

func isIncremental(s Stage) bool {
	i, ok := s.(Incremental)
	return ok && i.Incremental()
}

// StageContext is what a running stage gets from the engine: its run, a
// logger that names it, progress reporting and its output files. Its
// methods are safe for concurrent use.
type StageContext struct {
	Run     *Run
	Address string
	Logger  *slog.Logger
	// Attempt counts the runs of this stage since its state was last
	// discarded: 1 the first time, more when resuming after an interruption
	// or a failure.
	Attempt int

	newProgress func(total int) *Progress

	mu       sync.Mutex
	writers  []*Writer
	outputs  map[string]*Writer
	progress []*Progress
	items    *ProgressState
	counts   map[string]int64
}

// Progress starts a progress display for total items (below zero when the
// total is not known yet). The engine finishes it when the stage returns,
// if the stage has not; the last one started is recorded in the stage's
// state.
func (sc *StageContext) Progress(total int) *Progress {
	p := sc.newProgress(total)
	sc.mu.Lock()
	sc.progress = append(sc.progress, p)
	sc.mu.Unlock()
	p.mu.Lock()
	p.onFinish = func(st ProgressState) {
		sc.mu.Lock()
		sc.items = &st
		sc.mu.Unlock()
	}
	p.mu.Unlock()
	return p
}

var outputNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// OpenOutput opens the stage's output NAME for appending, at
// Run.OutputPath(stage address, name), repairing it and loading its keys as
// OpenWriter does (opts such as WithDrop apply). The engine closes it when
// the stage returns, if the stage has not, and records its length in the
// stage's state.
func (sc *StageContext) OpenOutput(name string, key KeyFunc, opts ...WriterOption) (*Writer, error) {
	if !outputNameRE.MatchString(name) {
		return nil, fmt.Errorf("stage %s: invalid output name %q", sc.Address, name)
	}
	opts = append([]WriterOption{WithLogger(sc.Logger)}, opts...)
	w, err := OpenWriter(sc.Run.OutputPath(sc.Address, name), key, opts...)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", sc.Address, err)
	}
	sc.mu.Lock()
	sc.writers = append(sc.writers, w)
	sc.outputs[name] = w
	sc.mu.Unlock()
	return w, nil
}

// OutputPath returns the path of output name of the stage at address, for
// a stage reading an upstream stage's output with ReadRecords.
func (sc *StageContext) OutputPath(stage, name string) string {
	return sc.Run.OutputPath(stage, name)
}

// Dir returns the stage's own directory, where its outputs live, for
// artifacts that are not JSON Lines (checkpoints, reports). The stage
// creates it when it needs it; --rerun removes it.
func (sc *StageContext) Dir() string { return sc.Run.StageDir(sc.Address) }

// Count adds delta to a named counter recorded in the stage's state
// (e.g. "resolved", "skipped_flaky").
func (sc *StageContext) Count(name string, delta int64) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.counts == nil {
		sc.counts = make(map[string]int64)
	}
	sc.counts[name] += delta
}

// finish closes what the stage left open and collects its counts;
// changed says whether any of its Writers committed or dropped a record.
func (sc *StageContext) finish() (outputs map[string]int, items *ProgressState, counts map[string]int64, changed bool, err error) {
	sc.mu.Lock()
	progress := sc.progress
	writers := sc.writers
	sc.mu.Unlock()
	for _, p := range progress {
		p.Finish()
	}
	var errs []error
	for _, w := range writers {
		errs = append(errs, w.Close())
		if st := w.Stats(); st.Records > 0 || st.Dropped > 0 {
			changed = true
		}
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.outputs) > 0 {
		outputs = make(map[string]int, len(sc.outputs))
		for name, w := range sc.outputs {
			outputs[name] = w.Len()
		}
	}
	return outputs, sc.items, sc.counts, changed, errors.Join(errs...)
}

// StageStatus is the persisted status of a stage.
type StageStatus string

const (
	// StatusRunning: the stage started and has not ended — it is running, or
	// its process was interrupted; the next Execute resumes it.
	StatusRunning StageStatus = "running"
	// StatusDone: the stage finished; its outputs are complete.
	StatusDone StageStatus = "done"
	// StatusFailed: the stage returned an error; the next Execute runs it
	// again.
	StatusFailed StageStatus = "failed"
)

// StageState is the content of DIR/state/ADDRESS.json.
type StageState struct {
	Address     string      `json:"address"`
	Status      StageStatus `json:"status"`
	Fingerprint string      `json:"fingerprint"`
	// Attempts counts runs since the state was last discarded.
	Attempts int       `json:"attempts"`
	Started  time.Time `json:"started"` // of the latest attempt
	Ended    time.Time `json:"ended,omitzero"`
	Error    string    `json:"error,omitempty"`
	// Generation is new each time the stage finishes with outputs that
	// differ from those of its previous generation; dependents record it
	// in Inputs, so a rebuilt dependency makes them stale. A stage that
	// runs again keeps it until it is done.
	Generation string            `json:"generation,omitempty"`
	Inputs     map[string]string `json:"inputs,omitempty"`
	// Lineage is new when the stage starts without state (the first time,
	// or after --rerun discarded it) and kept while its outputs only grow;
	// dependents record it in InputLineages, so an incremental dependent
	// can tell a dependency that grew from one that was rebuilt.
	Lineage       string            `json:"lineage,omitempty"`
	InputLineages map[string]string `json:"input_lineages,omitempty"`
	// Outputs holds the number of records of each output the stage opened.
	Outputs map[string]int   `json:"outputs,omitempty"`
	Items   *ProgressState   `json:"items,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
}

func (r *Run) statePath(address string) string {
	return filepath.Join(r.dir, "state", address+".json")
}

// StageState reads the persisted state of the stage at address; ok is false
// if the stage has none.
func (r *Run) StageState(address string) (st StageState, ok bool, err error) {
	ok, err = readJSONFile(r.statePath(address), &st)
	if err != nil {
		return StageState{}, false, fmt.Errorf("stage %s: read state: %w", address, err)
	}
	return st, ok, nil
}

func (r *Run) writeStageState(st *StageState) error {
	path := r.statePath(st.Address)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := marshalIndent(st)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, b); err != nil {
		return fmt.Errorf("stage %s: write state: %w", st.Address, err)
	}
	return nil
}

// discardStage removes the state and outputs of the stage at address,
// keeping the output directories of the stages in others that nest inside
// its own (stage "a.b" lives inside stage "a"'s directory).
func (r *Run) discardStage(address string, others []string) error {
	if err := os.Remove(r.statePath(address)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var keep []string
	for _, o := range others {
		if o != address {
			keep = append(keep, r.StageDir(o))
		}
	}
	dir := r.StageDir(address)
	if err := removeExcept(dir, keep); err != nil {
		return fmt.Errorf("stage %s: discard outputs: %w", address, err)
	}
	// Make the removals durable before the stage writes anything new.
	for _, d := range []string{filepath.Dir(dir), dir, filepath.Join(r.dir, "state")} {
		if err := syncDir(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stage %s: discard outputs: %w", address, err)
		}
	}
	return nil
}

// removeExcept removes path recursively except for the directories in keep
// and their ancestors.
func removeExcept(path string, keep []string) error {
	inside := false
	for _, k := range keep {
		if k == path {
			return nil
		}
		if rel, err := filepath.Rel(path, k); err == nil && filepath.IsLocal(rel) {
			inside = true
		}
	}
	if !inside {
		err := os.RemoveAll(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := removeExcept(filepath.Join(path, e.Name()), keep); err != nil {
			return err
		}
	}
	return nil
}
