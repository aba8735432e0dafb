package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/sdk"
)

// kindRank orders stages in the summary as the pipeline runs them.
var kindRank = map[string]int{KindTasks: 0, KindSynthetic: 1, KindRollout: 2, KindTTS: 3, KindEval: 4, KindSFT: 5}

// Ordered returns the run's stages in pipeline order (tasks, synthetic,
// rollout, tts, eval, sft, then any other), by address within a kind.
func (r *Run) Ordered() []*Stage {
	out := slices.Clone(r.Stages)
	rank := func(s *Stage) int {
		if n, ok := kindRank[s.Kind]; ok {
			return n
		}
		return len(kindRank)
	}
	slices.SortStableFunc(out, func(a, b *Stage) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Address, b.Address))
	})
	return out
}

// Failure is a reason items of a stage failed, with how many did.
type Failure struct {
	Stage  string
	Reason string
	Count  int
	// Infra says the infrastructure failed (not the item): a run with
	// such a failure exits non-zero.
	Infra bool
}

// Failures lists what failed in the run: stages that failed, items the
// infrastructure could not process (attempts not played, instances not
// graded, candidates the verifier could not score) and items that ended
// in an error of their own (rollouts with status error, eval errors), with
// their reason counts.
func (r *Run) Failures() []Failure {
	var out []Failure
	for _, s := range r.Ordered() {
		st := s.State
		if st.Status == engine.StatusFailed {
			out = append(out, Failure{Stage: s.Address, Reason: "stage failed: " + stageReason(s.Address, st.Error), Count: 1, Infra: true})
		}
		if n := st.Counts["not_played"]; n > 0 {
			out = append(out, Failure{Stage: s.Address, Reason: "attempts not played (infrastructure)", Count: int(n), Infra: true})
		}
		if n := st.Counts["not_graded"]; n > 0 {
			out = append(out, Failure{Stage: s.Address, Reason: "instances not graded (infrastructure)", Count: int(n), Infra: true})
		}
		if s.TTSErrors > 0 {
			out = append(out, Failure{Stage: s.Address, Reason: "candidates the verifier could not score", Count: s.TTSErrors, Infra: true})
		}
		var reasons []string
		for _, t := range s.Trajectories {
			if t.Status == sdk.StatusError {
				reasons = append(reasons, "rollout error: "+reasonClass(t.Error))
			}
		}
		for _, res := range s.Results {
			if res.Status == harness.ResultError {
				reasons = append(reasons, "eval error: "+reasonClass(res.Error))
			}
		}
		for _, c := range countReasons(reasons) {
			out = append(out, Failure{Stage: s.Address, Reason: c.reason, Count: c.n})
		}
	}
	return out
}

// InfraFailures counts the items (and stages) the infrastructure failed.
func (r *Run) InfraFailures() int {
	n := 0
	for _, f := range r.Failures() {
		if f.Infra {
			n += f.Count
		}
	}
	return n
}

// StageLine says in one line what a stage produced.
func (s *Stage) StageLine() string {
	var b strings.Builder
	switch s.Kind {
	case KindTasks:
		fmt.Fprintf(&b, "tasks: %d loaded", len(s.Tasks))
		fmt.Fprintf(&b, ", %d skipped", s.State.Counts["skipped_duplicate"]+s.State.Counts["skipped_changed"])
	case KindSynthetic:
		var y struct{ cand, comp, val, kept int }
		for _, v := range s.Yield {
			y.cand += v.Candidates
			y.comp += v.Compiled
			y.val += v.Validated
			y.kept += v.Kept
		}
		fmt.Fprintf(&b, "synthetic: %d candidates → %d compiled → %d validated → %d kept; %d tasks", y.cand, y.comp, y.val, y.kept, len(s.Tasks))
		if top := s.TopRejections(3); len(top) > 0 {
			var parts []string
			for _, c := range top {
				parts = append(parts, fmt.Sprintf("%d %s", c.Count, c.Reason))
			}
			fmt.Fprintf(&b, "; top rejections: %s", strings.Join(parts, ", "))
		}
	case KindRollout:
		c := statusCounts(s.Trajectories)
		fmt.Fprintf(&b, "rollouts: %d resolved, %d semi-resolved, %d unresolved, %d error; %d error turns",
			c[sdk.StatusResolved], c[sdk.StatusSemiResolved], c[sdk.StatusUnresolved], c[sdk.StatusError], errorTurns(s.Trajectories))
	case KindEval:
		if rep := s.EvalReport; rep != nil {
			fmt.Fprintf(&b, "eval: %d resolved of %d submitted (%d unresolved, %d empty patch, %d error)",
				rep.ResolvedInstances, rep.SubmittedInstances, rep.UnresolvedInstances, rep.EmptyPatchInstances, rep.ErrorInstances)
		} else {
			fmt.Fprintf(&b, "eval: %d results, no report", len(s.Results))
		}
	case KindSFT:
		if len(s.Metrics) == 0 {
			b.WriteString("sft: no step trained")
			break
		}
		last := s.Metrics[len(s.Metrics)-1]
		fmt.Fprintf(&b, "sft: %d steps, final loss %.3f (first %.3f), %d masked turns", last.Step, last.Loss, s.Metrics[0].Loss, len(s.Masks))
		if s.Checkpoint != "" {
			fmt.Fprintf(&b, "; checkpoint %s", s.Checkpoint)
		}
	case KindTTS:
		if rep := s.TTS; rep != nil && len(rep.Curve) > 0 {
			top := rep.Curve[len(rep.Curve)-1]
			fmt.Fprintf(&b, "tts: pass@1 %.3f, TTS@%d %.3f, pass@%d %.3f over %d tasks (%s)", rep.PassAt1, top.K, top.TTSAtK, top.K, top.PassAtK, rep.Tasks, rep.Verifier)
		} else {
			fmt.Fprintf(&b, "tts: %d rollouts, no report", len(s.Trajectories))
		}
	default:
		fmt.Fprintf(&b, "%s", s.Kind)
	}
	if s.State.Status != engine.StatusDone {
		fmt.Fprintf(&b, " [%s]", s.State.Status)
	}
	return b.String()
}

// TopRejections counts the synthetic stage's rejections by reason (the
// reason's kind: what precedes its first colon), most frequent first; the
// first n (all when n is 0).
func (s *Stage) TopRejections(n int) []Failure {
	var reasons []string
	for _, r := range s.Rejected {
		reasons = append(reasons, reasonClass(r.Reason))
	}
	var out []Failure
	for _, c := range countReasons(reasons) {
		out = append(out, Failure{Stage: s.Address, Reason: c.reason, Count: c.n})
	}
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// WriteSummary writes the end-of-run summary: a line per stage, the
// failures with their counts, the run directory and the report's path
// (empty: none was written).
func WriteSummary(w io.Writer, r *Run, reportPath string) error {
	fmt.Fprintf(w, "summary of run %s\n", r.Info.ID)
	width := 0
	for _, s := range r.Stages {
		width = max(width, len(s.Address))
	}
	for _, s := range r.Ordered() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.Address, s.StageLine())
	}
	if ws := r.Workers(); len(ws) > 0 {
		fmt.Fprintln(w, "workers:")
		nw := 0
		for _, c := range ws {
			nw = max(nw, len(c.Name))
		}
		for _, c := range ws {
			fmt.Fprintf(w, "  %-*s  %d items, %d failed attempts\n", nw, c.Name, c.Items, c.Failures)
		}
	}
	fails := r.Failures()
	if len(fails) == 0 {
		fmt.Fprintln(w, "failures: none")
	} else {
		fmt.Fprintln(w, "failures:")
		for _, f := range fails {
			infra := ""
			if f.Infra {
				infra = " [infrastructure]"
			}
			fmt.Fprintf(w, "  %-*s  %d × %s%s\n", width, f.Stage, f.Count, f.Reason, infra)
		}
	}
	_, err := fmt.Fprintf(w, "run directory: %s\n", r.Dir)
	if reportPath != "" && err == nil {
		_, err = fmt.Fprintf(w, "report: %s\n", reportPath)
	}
	return err
}

// WorkerLine is what one swelego worker did over the whole run.
type WorkerLine struct {
	Name string
	pipeline.WorkerCount
}

// Workers sums what each swelego worker did for the run's stages, by
// name; none when no stage went over a queue.
func (r *Run) Workers() []WorkerLine {
	sum := map[string]pipeline.WorkerCount{}
	for _, s := range r.Stages {
		for name, c := range s.Workers {
			t := sum[name]
			t.Items += c.Items
			t.Failures += c.Failures
			sum[name] = t
		}
	}
	out := make([]WorkerLine, 0, len(sum))
	for _, name := range slices.Sorted(maps.Keys(sum)) {
		out = append(out, WorkerLine{Name: name, WorkerCount: sum[name]})
	}
	return out
}

// DefaultReportPath is where `swelego run` writes the run's report.
func DefaultReportPath(dir string) string { return filepath.Join(dir, "report.html") }

type reasonCount struct {
	reason string
	n      int
}

// countReasons counts equal reasons, most frequent first, then by reason.
func countReasons(reasons []string) []reasonCount {
	m := map[string]int{}
	for _, r := range reasons {
		m[r]++
	}
	out := make([]reasonCount, 0, len(m))
	for r, n := range m {
		out = append(out, reasonCount{r, n})
	}
	slices.SortFunc(out, func(a, b reasonCount) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.reason, b.reason)) })
	return out
}

// reasonClass keeps what kind of reason msg is: its first line, up to
// its first colon, so reasons that differ only in details count together.
func reasonClass(msg string) string {
	msg = firstLine(msg)
	if i := strings.Index(msg, ": "); i > 0 {
		msg = msg[:i]
	}
	if msg == "" {
		return "(no reason given)"
	}
	return msg
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func statusCounts(ts []sdk.Trajectory) map[string]int {
	m := map[string]int{}
	for _, t := range ts {
		m[t.Status]++
	}
	return m
}

func errorTurns(ts []sdk.Trajectory) int {
	n := 0
	for _, t := range ts {
		for _, turn := range t.Turns {
			if turn.Error {
				n++
			}
		}
	}
	return n
}

// stageReason is what a failed stage's error says before its details
// (which the logs hold): without the stage's own address in front, up to
// the first colon.
func stageReason(address, msg string) string {
	msg = firstLine(msg)
	for _, p := range []string{"stage " + address + ": ", address + ": "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return reasonClass(msg)
}
