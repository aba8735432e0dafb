package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/sdk"
)

// compileTimeout bounds one candidate's compile check.
const compileTimeout = 5 * time.Minute

// Exit statuses of the compile script besides the check's own.
const (
	exitNotApplied = 90
)

func synthQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// compileCheck applies each candidate in a sandbox at the source's commit,
// runs the language's compile check (CheckCommand) and undoes it: one sandbox per
// worker for all its candidates, so a Go build cache warms once. It
// rejects the candidates that do not apply or compile and returns the
// others, in their order.
func (r *synthRun) compileCheck(ctx context.Context, cands []synthCandidate) ([]synthCandidate, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	workers := max(1, min(r.cfg.Workers, len(cands)))
	passed := make([]bool, len(cands))
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = r.compileWorker(ctx, cands, w, workers, passed)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var out []synthCandidate
	for i, c := range cands {
		if passed[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

// compileWorker checks candidates w, w+n, w+2n, … in one sandbox.
func (r *synthRun) compileWorker(ctx context.Context, cands []synthCandidate, w, n int, passed []bool) error {
	var sb harness.Sandbox
	defer func() {
		if sb != nil {
			sb.Close(context.WithoutCancel(ctx))
		}
	}()
	for i := w; i < len(cands); i += n {
		c := cands[i]
		cmd, err := r.hopts.Language.CheckCommand(ctx, diff.ChangedFiles(c.Diff))
		if err != nil {
			return fmt.Errorf("compile check of %s: %w", c.id, err)
		}
		if cmd == "" {
			passed[i] = true
			r.count(c.modifier(), func(y *Yield) { y.Compiled++ })
			continue
		}
		if sb == nil {
			var err error
			sb, err = r.open(ctx, sdk.Task{InstanceID: "compile", Repo: r.env.Repo, Environment: r.env.Name, BaseCommit: r.commit, EnvironmentSetupCommit: r.commit, Language: r.env.Language})
			if err != nil {
				return fmt.Errorf("compile check: open sandbox: %w", err)
			}
		}
		step, reason, err := compileOne(ctx, sb, c.Diff, cmd)
		if err != nil {
			return fmt.Errorf("compile check of %s: %w", c.id, err)
		}
		if step != "" {
			r.prog.Add(1)
			if err := r.reject(ctx, c, Rejection{Step: step, Reason: reason}); err != nil {
				return err
			}
			continue
		}
		passed[i] = true
		r.count(c.modifier(), func(y *Yield) { y.Compiled++ })
	}
	return nil
}

// compileOne applies diff in sb, runs check and reverts the tree; step is
// "" when the candidate compiles, else StepApply or StepCompile with the
// reason.
func compileOne(ctx context.Context, sb harness.Sandbox, diff, check string) (step, reason string, err error) {
	const file = ".git/swelego-candidate.diff"
	if err := sb.WriteFile(ctx, file, []byte(diff)); err != nil {
		return "", "", err
	}
	script := fmt.Sprintf(`d=%s
git apply --whitespace=nowarn "$d" >/dev/null 2>&1 || { rm -f "$d"; exit %d; }
( %s ) 2>&1
rc=$?
git apply -R --whitespace=nowarn "$d" >/dev/null 2>&1 || { git checkout -q -- . && git clean -fdq; }
rm -f "$d"
exit $rc
`, synthQuote(file), exitNotApplied, check)
	res, err := sb.Exec(ctx, script, compileTimeout)
	if err != nil {
		return "", "", err
	}
	switch {
	case res.TimedOut:
		return StepCompile, fmt.Sprintf("the compile check timed out after %s", compileTimeout), nil
	case res.ExitCode == exitNotApplied:
		return StepApply, "the mutation does not apply to the repository", nil
	case res.ExitCode != 0:
		return StepCompile, "does not compile: " + lastLines(res.Output, 8), nil
	}
	return "", "", nil
}

// lastLines returns the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
