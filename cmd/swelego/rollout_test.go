package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/trajfmt"
	"github.com/swelego/swelego/sdk"
)

// rolloutRecipe writes a recipe over the bundled tasks ids names (all
// of them when it names none) with one oracle rollout per error rate.
func rolloutRecipe(t *testing.T, backend string, workers int, rates map[string]float64, ids ...string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = strconv.Quote(id)
	}
	instanceIDs := ""
	if len(ids) > 0 {
		instanceIDs = "\n  instance_ids = [" + strings.Join(quoted, ", ") + "]"
	}
	fmt.Fprintf(&b, `source "swebench" "bundled" {
  path = %q%s
}
environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = %q
  language = "python"
}
environment "semver" {
  repo     = "swelego-examples/semver"
  git      = %q
  language = "go"
}
sandbox {
  backend = %q
  memory  = "2g"
}
toolset "swe" {
  plugin = "swetools"
}
`, abs(t, bundledTasks), instanceIDs, abs(t, "../../examples/repos/textkit.bundle"), abs(t, "../../examples/repos/semver.bundle"), backend)
	for name, rate := range rates {
		fmt.Fprintf(&b, `model %q {
  provider   = "oracle"
  error_rate = %g
  seed       = 5
}
rollout %q {
  tasks     = source.swebench.bundled
  model     = model.%s
  toolset   = toolset.swe
  max_turns = 60
  workers   = %d
}
`, name, rate, name, name, workers)
	}
	path := filepath.Join(dir, "recipe.hcl")
	writeFile(t, path, b.String())
	return path
}

func readTrajectories(t *testing.T, path string) []sdk.Trajectory {
	t.Helper()
	var out []sdk.Trajectory
	for _, rec := range readJSONL(t, path) {
		raw, _ := json.Marshal(rec)
		var tr sdk.Trajectory
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatal(err)
		}
		out = append(out, tr)
	}
	return out
}

// checkOracleRollout checks a finished oracle rollout over tasks of the
// bundled ones: every task resolved by a finished episode, error turns
// present exactly when wantErrors, and predictions for every task.
func checkOracleRollout(t *testing.T, dir string, tasks int, wantErrors bool) {
	t.Helper()
	trs := readTrajectories(t, filepath.Join(dir, "trajectories.jsonl"))
	if len(trs) != tasks {
		t.Fatalf("%s: %d trajectories, want %d", dir, len(trs), tasks)
	}
	errorTurns := 0
	for _, tr := range trs {
		if tr.Status != sdk.StatusResolved {
			t.Errorf("%s is %s (%s)", tr.InstanceID, tr.Status, tr.Error)
		}
		if !strings.Contains(tr.Model, "test teacher") || tr.StopReason != "finished" || tr.FinalPatch == "" || tr.RunID == "" {
			t.Errorf("%s: model %q, stop %q, patch %d bytes, run %q", tr.InstanceID, tr.Model, tr.StopReason, len(tr.FinalPatch), tr.RunID)
		}
		if len(tr.Turns) < 5 || len(tr.Messages) < 2+2*len(tr.Turns) {
			t.Errorf("%s: %d turns, %d messages", tr.InstanceID, len(tr.Turns), len(tr.Messages))
		}
		for _, turn := range tr.Turns {
			if turn.Error {
				errorTurns++
			}
		}
		for id, st := range tr.Tests {
			if st != "PASSED" && st != "XFAIL" {
				t.Errorf("%s: test %s is %s", tr.InstanceID, id, st)
			}
		}
	}
	if wantErrors != (errorTurns > 0) {
		t.Errorf("%s: %d error turns", dir, errorTurns)
	}
	if preds := readJSONL(t, filepath.Join(dir, "predictions.jsonl")); len(preds) != tasks {
		t.Errorf("%s: %d predictions, want %d", dir, len(preds), tasks)
	}
}

// TestQuickstartRecipe runs examples/quickstart/recipe.hcl from tasks to
// graded trajectories: the gold patches resolve every task, the oracle
// test teacher at error_rate 0.3 makes error turns and still resolves
// every task, and the eval of its patches agrees. Its trajectories then go
// through export and import in both styles unchanged, and its eval of the
// gold patches is the bubblewrap side of checkGrading's comparison of the
// two backends. It runs on bubblewrap: a sandbox costs a tenth of a
// Docker one, and the Docker path of each stage is tested on its own
// (checkGrading's evals, TestRolloutSIGKILL's rollouts).
func TestQuickstartRecipe(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("opens sandboxes for every bundled task")
	}
	work := t.TempDir()
	// The student's SFT is shortened from 24 epochs to 4 (18 steps; the
	// loss ends about two thirds of the first step's).
	cmd := swelegoCmd(t.TempDir(), "run", abs(t, "../../examples/quickstart/recipe.hcl"), "--workdir", work, "-var", "student_epochs=4", "-var", "sandbox_backend=bwrap")
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(string(out), 4000))
	}
	if !strings.Contains(string(out), "test teacher") {
		t.Errorf("the run's output does not say the oracle is a test teacher:\n%s", tail(string(out), 2000))
	}
	checkOracleRollout(t, filepath.Join(work, "rollout", "teacher"), len(readJSONL(t, abs(t, bundledTasks))), true)
	checkMaskedErrorTurns(t, string(out))
	checkSummaryGolden(t, "quickstart", string(out), work)
	t.Run("report", func(t *testing.T) {
		checkRunReport(t, work, reportWant{sections: []string{"summary", "plots", "tasks", "rollouts", "eval", "sft", "trajectories"}, plots: 5, masked: true})
	})
	tasks := len(readJSONL(t, abs(t, bundledTasks)))
	for _, name := range []string{"gold", "teacher"} {
		var report harness.Report
		data, err := os.ReadFile(filepath.Join(work, "eval", name, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &report); err != nil {
			t.Fatal(err)
		}
		if report.ResolvedInstances != tasks {
			t.Errorf("eval %s: %d of %d resolved", name, report.ResolvedInstances, tasks)
		}
	}
	exportRoundTrip(t, filepath.Join(work, "rollout", "teacher", "trajectories.jsonl"))

	gold := readResults(t, filepath.Join(work, "eval", "gold", "results.jsonl"))
	t.Run("grading", func(t *testing.T) { checkGrading(t, gold) })
	t.Run("sft", func(t *testing.T) {
		mets := readMetrics(t, filepath.Join(work, "sft", "student", "metrics.jsonl"))
		if len(mets) < 10 {
			t.Fatalf("%d sft steps", len(mets))
		}
		if first, last := mets[0].Loss, mets[len(mets)-1].Loss; !(last < 0.75*first) {
			t.Errorf("student loss %.3f → %.3f: not well below the first", first, last)
		}
		if len(readJSONL(t, filepath.Join(work, "sft", "student", "masks.jsonl"))) == 0 {
			t.Error("no turn of the oracle's trajectories was masked (error_rate is 0.3)")
		}
		if _, err := os.Stat(filepath.Join(work, "sft", "student", "model", "model.safetensors")); err != nil {
			t.Error(err)
		}
	})
}

// exportRoundTrip exports real trajectories in both styles with the CLI,
// imports them back and checks they come back unchanged (as trajfmt
// normalises them: regenerated call ids, compact arguments).
func exportRoundTrip(t *testing.T, path string) {
	t.Helper()
	var orig []sdk.Trajectory // export leaves out those with status error
	for _, tr := range readTrajectories(t, path) {
		if tr.Status != sdk.StatusError {
			orig = append(orig, tr)
		}
	}
	for _, style := range []string{"sharegpt", "openhands"} {
		dir := t.TempDir()
		out := filepath.Join(dir, style+".jsonl")
		args := []string{"trajectories", "export", "--style", style, "-o", out, path}
		if style == "sharegpt" {
			args = append(args, "--dataset-info", filepath.Join(dir, "dataset_info.json"))
		}
		if _, errOut, code := swelego(t, dir, args...); code != 0 {
			t.Fatalf("export %s: exit %d\n%s", style, code, errOut)
		}
		back := filepath.Join(dir, "back.jsonl")
		if _, errOut, code := swelego(t, dir, "trajectories", "import", "--style", style, "-o", back, out); code != 0 {
			t.Fatalf("import %s: exit %d\n%s", style, code, errOut)
		}
		got := readTrajectories(t, back)
		if len(got) != len(orig) {
			t.Fatalf("%s: %d trajectories back, want %d", style, len(got), len(orig))
		}
		for i := range orig {
			want, err := trajfmt.Normalize(orig[i])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got[i]); diff != "" {
				t.Errorf("%s: %s changed in the round trip (-want +got):\n%s", style, orig[i].InstanceID, diff)
			}
		}
		if style == "sharegpt" {
			var info map[string]map[string]any
			data, err := os.ReadFile(filepath.Join(dir, "dataset_info.json"))
			if err != nil || json.Unmarshal(data, &info) != nil || info["sharegpt"]["formatting"] != "sharegpt" {
				t.Errorf("dataset_info.json: %v\n%s", err, data)
			}
		}
	}
}

// runIDOf reads the id of the run in work.
func runIDOf(t *testing.T, work string) string {
	t.Helper()
	var info struct {
		ID string `json:"id"`
	}
	data, err := os.ReadFile(filepath.Join(work, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	return info.ID
}

// TestRolloutSIGKILL kills a two-worker rollout of the oracle without
// mistakes midway; the rerun finishes it with each (task, attempt)
// trajectory exactly once, every task resolved and no error turn. Four of
// the bundled tasks, two of each language, on Docker (the killed run's
// containers are what the rerun must not leave behind).
func TestRolloutSIGKILL(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("opens sandboxes for every bundled task")
	}
	ids := []string{"textkit__textkit-1", "textkit__textkit-4", "semver__semver-2", "semver__semver-3"}
	recipe := rolloutRecipe(t, "docker", 2, map[string]float64{"kill": 0}, ids...)
	work := t.TempDir()
	out := filepath.Join(work, "rollout", "kill", "trajectories.jsonl")
	cmd := swelegoCmd(filepath.Dir(recipe), "run", recipe, "--workdir", work)
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	var first bytes.Buffer
	cmd.Stdout, cmd.Stderr = &first, &first
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Minute, func() bool { return countLines(out) >= 2 }, "two trajectories")
	cmd.Process.Kill()
	cmd.Wait()
	killed := countLines(out)
	tasks := len(ids)
	if killed >= tasks {
		t.Fatalf("the first run finished all %d tasks before it was killed", tasks)
	}
	waitFor(t, 10*time.Second, func() bool { return len(pluginProcesses(filepath.Dir(recipe))) == 0 }, "the orphaned plugins to die")

	cmd = swelegoCmd(filepath.Dir(recipe), "run", recipe, "--workdir", work)
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, tail(string(b), 4000))
	}
	seen := map[string]int{}
	for _, tr := range readTrajectories(t, out) {
		seen[fmt.Sprintf("%s/%d", tr.InstanceID, tr.Attempt)]++
	}
	if len(seen) != tasks {
		t.Errorf("%d distinct (task, attempt) pairs, want %d (first run stored %d)", len(seen), tasks, killed)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s stored %d times", k, n)
		}
	}
	checkOracleRollout(t, filepath.Dir(out), tasks, false)
	assertNoContainers(t, runIDOf(t, work))
}
