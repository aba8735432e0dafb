package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/sdk"
)

// TasksOutput names the records a source stage writes: DIR/source/TYPE/NAME/tasks.jsonl.
const TasksOutput = "tasks"

// candidateReruns are the extra test runs that drop flaky tests when a
// plugin source's candidates are validated (a synthetic or git_history
// source sets its own).
const candidateReruns = 2

// flushEvery bounds the task records a source stage has in flight.
const flushEvery = 512

// sourceStage streams a task source plugin's tasks into the run directory,
// one record per instance id. A resumed stage skips ids already written.
// Every task must pass sdk.Task.CheckGradable: the stages downstream grade
// it. It is incremental: a finished source streams its source again at every
// run and adds the tasks that are new (appended to its file); a task that
// changed since it was loaded keeps its stored record, with a warning.
//
// A real task without FAIL_TO_PASS is a candidate (IsCandidate: a mined
// pull request or commit): once the source has sent everything, each is
// split by its language's test files and validated by the harness in its
// environment (validateCandidates), and written as a task or a rejection.
type sourceStage struct{ stageBase }

func (s *sourceStage) Incremental() bool { return true }

func (s *sourceStage) Run(ctx context.Context, sc *engine.StageContext) error {
	src, err := s.host.TaskSource(ctx, s.block.Plugin)
	if err != nil {
		return err
	}
	w, err := sc.OpenOutput(TasksOutput, engine.KeyField("instance_id"))
	if err != nil {
		return err
	}
	defer w.Close()
	had := w.Len()
	stored := map[string]string{} // instance id -> digest of its record
	if had > 0 {
		err := engine.ReadRecords(w.Path(), func(_ int, raw json.RawMessage) error {
			var t struct {
				InstanceID string `json:"instance_id"`
			}
			if err := json.Unmarshal(raw, &t); err != nil {
				return err
			}
			stored[t.InstanceID] = recordDigest(raw)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", s.block.Address, err)
		}
	}
	var changed []string
	prog := sc.Progress(0)
	defer prog.Finish()
	prog.Skip(had)

	// Appends are kept in flight and waited for in windows, so a stream is
	// not slowed to one fsync per task; what a crash loses is re-streamed.
	var inflight []func() error
	flush := func() error {
		for _, wait := range inflight {
			if err := wait(); err != nil {
				return err
			}
		}
		inflight = inflight[:0]
		return nil
	}
	seen := map[string]bool{}
	var added, dups int
	var cands []sdk.Task
	err = src.Tasks(ctx, s.block.Config, func(t sdk.Task) error {
		if seen[t.InstanceID] {
			dups++
			sc.Logger.Warn("duplicate instance_id in the source; keeping the first", "instance_id", t.InstanceID)
			return nil
		}
		seen[t.InstanceID] = true
		if IsCandidate(t) {
			cands = append(cands, t)
			return nil
		}
		if err := t.CheckGradable(); err != nil {
			// Every stage downstream grades the task: one that cannot be
			// graded stops here, whichever plugin sent it.
			return fmt.Errorf("plugin %s sent a task that cannot be graded: %w", s.block.Plugin, err)
		}
		if w.Has(t.InstanceID) {
			if d, ok := stored[t.InstanceID]; ok {
				if raw, err := encodeRecord(t); err == nil && recordDigest(raw) != d {
					changed = append(changed, t.InstanceID)
				}
			}
			return nil
		}
		wait, err := w.AppendAsync(ctx, t.InstanceID, t)
		if err != nil {
			if errors.Is(err, engine.ErrDuplicateKey) {
				return nil
			}
			return err
		}
		inflight = append(inflight, wait)
		added++
		prog.Add(1)
		if len(inflight) >= flushEvery {
			return flush()
		}
		return nil
	})
	if ferr := flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	if len(cands) > 0 {
		if err := s.validateCandidates(ctx, sc, w, cands, 1, candidateReruns, 0); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		sc.Logger.Warn("tasks changed in the source since they were loaded; keeping the loaded ones (rerun the stage with --rerun to load them again)",
			"changed", len(changed), "instance_ids", firstFew(changed, 10))
	}
	sc.Count("skipped_duplicate", int64(dups))
	sc.Count("skipped_changed", int64(len(changed)))
	sc.Logger.Info("tasks loaded", "tasks", w.Len(), "new", added, "resumed", had, "duplicates", dups)
	return nil
}

// encodeRecord encodes v as the engine's Writer does (no HTML escaping),
// without the final newline.
func encodeRecord(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func recordDigest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// firstFew returns the first n of ids, with "…" when there are more.
func firstFew(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	return append(append([]string{}, ids[:n]...), "…")
}
