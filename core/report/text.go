package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/sdk"
)

// ErrNotFound is wrapped when `show` is asked for a stage or an item the
// run does not hold.
var ErrNotFound = errors.New("not found")

// ShowStage writes a table of the items of the stage at address.
func ShowStage(w io.Writer, r *Run, address string) error {
	s := r.Stage(address)
	if s == nil {
		return r.noStage(address)
	}
	fmt.Fprintf(w, "%s  %s\n\n", s.Address, s.StageLine())
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	row := func(cols ...any) {
		for i, c := range cols {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	switch s.Kind {
	case KindTasks, KindSynthetic:
		if s.Kind == KindSynthetic {
			row("RULE", "CANDIDATES", "COMPILED", "VALIDATED", "KEPT")
			rules := make([]string, 0, len(s.Yield))
			for k := range s.Yield {
				rules = append(rules, k)
			}
			slices.Sort(rules)
			for _, k := range rules {
				y := s.Yield[k]
				row(k, y.Candidates, y.Compiled, y.Validated, y.Kept)
			}
			row()
			row("COUNT", "REJECTION REASON")
			for _, c := range s.TopRejections(0) {
				row(c.Count, c.Reason)
			}
			row()
		}
		row("INSTANCE", "REPO", "SOURCE", "LANGUAGE", "F2P", "P2P")
		for _, t := range s.Tasks {
			row(t.InstanceID, t.Repo, t.Source, t.Language, len(t.FailToPass), len(t.PassToPass))
		}
	case KindRollout, KindTTS:
		row("INSTANCE", "ATTEMPT", "STATUS", "TURNS", "ERROR TURNS", "MASKED", "STOP", "ERROR")
		for _, t := range s.Trajectories {
			v := r.view(s.Address, &t)
			row(t.InstanceID, t.Attempt, t.Status, len(t.Turns), v.ErrorTurns, v.Masked, t.StopReason, firstLine(t.Error))
		}
		if s.TTS != nil {
			row()
			row("K", "PASS@1", "TTS@K", "PASS@K")
			for _, p := range s.TTS.Curve {
				row(p.K, fmt.Sprintf("%.3f", p.PassAt1), fmt.Sprintf("%.3f", p.TTSAtK), fmt.Sprintf("%.3f", p.PassAtK))
			}
		}
	case KindEval:
		row("INSTANCE", "STATUS", "F2P", "P2P", "EXIT", "ERROR")
		for _, res := range s.Results {
			row(res.InstanceID, res.Status, passedOf(res.FailToPass), passedOf(res.PassToPass), res.ExitCode, firstLine(res.Error))
		}
	case KindSFT:
		row("STEP", "EPOCH", "STAGE", "LOSS", "LR", "GRAD NORM", "TOKENS/S")
		for _, m := range s.Metrics {
			row(m.Step, fmt.Sprintf("%.2f", m.Epoch), m.Stage, fmt.Sprintf("%.4f", m.Loss), fmt.Sprintf("%.3g", m.LR), fmt.Sprintf("%.3f", m.GradNorm), fmt.Sprintf("%.0f", m.TokensPerSec))
		}
		row()
		row("TRAJECTORY", "MESSAGE", "WEIGHT", "MASKER'S REASON")
		for _, m := range s.Masks {
			row(m.ID, m.Message, m.Weight, m.Reason)
		}
	}
	return tw.Flush()
}

// ShowItem writes one item of the stage at address: a trajectory (for a
// rollout or tts stage; INSTANCE or INSTANCE/ATTEMPT), a graded result
// with its per-test outcomes and test log (eval), a task or a rejected
// candidate with its log (sources).
func ShowItem(w io.Writer, r *Run, address, item string) error {
	s := r.Stage(address)
	if s == nil {
		return r.noStage(address)
	}
	id, attempt := item, 0
	if i := strings.LastIndexByte(item, '/'); i > 0 {
		if n, err := strconv.Atoi(item[i+1:]); err == nil {
			id, attempt = item[:i], n
		}
	}
	switch s.Kind {
	case KindRollout, KindTTS:
		t, _ := r.Trajectory(address, id, attempt)
		if t == nil {
			break
		}
		writeTrajectory(w, r.view(address, t))
		return nil
	case KindEval:
		for _, res := range s.Results {
			if res.InstanceID == id {
				writeResult(w, res)
				return nil
			}
		}
	case KindTasks, KindSynthetic:
		for _, t := range s.Tasks {
			if t.InstanceID == id {
				fmt.Fprintf(w, "%s (%s, %s)\nFAIL_TO_PASS: %s\nPASS_TO_PASS: %d tests\n\n%s\n\n%s", t.InstanceID, t.Repo, t.Source,
					strings.Join(t.FailToPass, ", "), len(t.PassToPass), t.ProblemStatement, t.Patch)
				return nil
			}
		}
		for _, rej := range s.Rejected {
			if rej.InstanceID == id {
				fmt.Fprintf(w, "%s rejected at %s: %s\n%s\n", rej.InstanceID, rej.Step, rej.Reason, rej.Log)
				return nil
			}
		}
	}
	msg := ""
	if near := sdk.Closest(id, s.itemIDs()); near != "" {
		msg = fmt.Sprintf(" (did you mean %q?)", near)
	}
	return fmt.Errorf("%s in stage %s: %w%s", item, address, ErrNotFound, msg)
}

// noStage is the error of a stage address the run does not hold, with the
// closest address it does.
func (r *Run) noStage(address string) error {
	near := ""
	if s := sdk.Closest(address, r.addresses()); s != "" {
		near = fmt.Sprintf("did you mean %q? ", s)
	}
	return fmt.Errorf("stage %s: %w in %s (%sstages: %s)", address, ErrNotFound, r.Dir, near, strings.Join(r.addresses(), ", "))
}

// itemIDs are the instance ids show finds in the stage.
func (s *Stage) itemIDs() []string {
	var ids []string
	for _, t := range s.Tasks {
		ids = append(ids, t.InstanceID)
	}
	for _, rej := range s.Rejected {
		ids = append(ids, rej.InstanceID)
	}
	for _, t := range s.Trajectories {
		ids = append(ids, t.InstanceID)
	}
	for _, res := range s.Results {
		ids = append(ids, res.InstanceID)
	}
	return ids
}

func writeTrajectory(w io.Writer, v viewTrajectory) {
	t := v.T
	fmt.Fprintf(w, "%s attempt %d: %s, %d turns (%d error, %d masked), stop %s\n", t.InstanceID, t.Attempt, t.Status, len(t.Turns), v.ErrorTurns, v.Masked, t.StopReason)
	if t.Error != "" {
		fmt.Fprintf(w, "error: %s\n", t.Error)
	}
	for _, m := range v.Messages {
		head := "── " + m.Role
		if m.Turn > 0 {
			head += fmt.Sprintf(" (turn %d)", m.Turn)
		}
		if m.ErrorTurn {
			head += " [error turn]"
		}
		if m.Masked {
			head += " [masked: " + m.MaskReason + "]"
		}
		fmt.Fprintln(w, head)
		if m.Content != "" {
			fmt.Fprintln(w, strings.TrimRight(m.Content, "\n"))
		}
		for _, c := range m.Calls {
			fmt.Fprintf(w, "→ %s %s\n", c.Name, c.Args)
		}
	}
	fmt.Fprintln(w, "── final patch")
	fmt.Fprint(w, t.FinalPatch)
}

func writeResult(w io.Writer, res harness.Result) {
	fmt.Fprintf(w, "%s: %s (patch applied: %v, exit %d)\n", res.InstanceID, res.Status, res.PatchApplied, res.ExitCode)
	if res.Error != "" {
		fmt.Fprintf(w, "error: %s\n", res.Error)
	}
	if res.Invalid != "" {
		fmt.Fprintf(w, "invalid run: %s\n", res.Invalid)
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TEST\tKIND\tOUTCOME")
	for _, kind := range []struct {
		name string
		m    map[string]harness.Status
	}{{"F2P", res.FailToPass}, {"P2P", res.PassToPass}} {
		names := make([]string, 0, len(kind.m))
		for n := range kind.m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", n, kind.name, kind.m[n])
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "── test log\n%s", res.Log)
	if !strings.HasSuffix(res.Log, "\n") {
		fmt.Fprintln(w)
	}
}

func passedOf(m map[string]harness.Status) string {
	n := 0
	for _, st := range m {
		if harness.Passed(st) {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(m))
}

func (r *Run) addresses() []string {
	var out []string
	for _, s := range r.Ordered() {
		out = append(out, s.Address)
	}
	return out
}
