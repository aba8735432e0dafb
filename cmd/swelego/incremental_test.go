package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestRunPicksUpNewTasks: tasks appended to the file of a finished source
// are loaded and graded by the next run, which grades nothing twice; a run
// that finds nothing new leaves every stage's generation as it was;
// changing only an eval's workers keeps its results; a task that changed
// in the file keeps its loaded record, with a warning.
func TestRunPicksUpNewTasks(t *testing.T) {
	dir := t.TempDir()
	recipe := func(workers int) string {
		return `source "swebench" "t" {
  path = "tasks.jsonl"
}

eval "e" {
  tasks       = source.swebench.t
  predictions = "empty"
  backend     = "bwrap"
  workers     = ` + fmt.Sprint(workers) + `
}
`
	}
	work := filepath.Join(dir, "run")
	generations := func() map[string]string {
		out := map[string]string{}
		for _, st := range []string{"source.swebench.t", "eval.e"} {
			var s struct {
				Generation string `json:"generation"`
			}
			data, err := os.ReadFile(filepath.Join(work, "state", st+".json"))
			if err != nil || json.Unmarshal(data, &s) != nil {
				t.Fatalf("state of %s: %v", st, err)
			}
			out[st] = s.Generation
		}
		return out
	}
	steps := []struct {
		name       string
		tasks      []string
		workers    int
		edit       func(string) string // of the tasks file
		wantTasks  int
		wantGraded int
		wantLog    string
		sameGen    bool
	}{
		{name: "first run", tasks: []string{"a__a-1", "a__a-2"}, workers: 1, wantTasks: 2, wantGraded: 2},
		{name: "nothing new", tasks: []string{"a__a-1", "a__a-2"}, workers: 1, wantTasks: 2, wantLog: "stage done: nothing new", sameGen: true},
		{name: "appended task, other workers", tasks: []string{"a__a-1", "a__a-2", "a__a-3"}, workers: 4, wantTasks: 3, wantGraded: 1},
		{name: "changed task", tasks: []string{"a__a-1", "a__a-2", "a__a-3"}, workers: 4,
			edit:      func(s string) string { return strings.Replace(s, "p a__a-1", "a new statement", 1) },
			wantTasks: 3, wantLog: "tasks changed in the source since they were loaded", sameGen: true},
	}
	for _, step := range steps {
		path := filepath.Join(dir, "tasks.jsonl")
		writeTasks(t, path, step.tasks...)
		if step.edit != nil {
			data, _ := os.ReadFile(path)
			writeFile(t, path, step.edit(string(data)))
		}
		writeFile(t, filepath.Join(dir, "recipe.hcl"), recipe(step.workers))
		var before map[string]string
		if step.sameGen {
			before = generations()
		}
		out, errOut, code := swelego(t, dir, "run", "recipe.hcl", "--workdir", work)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", step.name, code, out, errOut)
		}
		if got := len(readJSONL(t, filepath.Join(work, "source", "swebench", "t", "tasks.jsonl"))); got != step.wantTasks {
			t.Errorf("%s: %d tasks, want %d", step.name, got, step.wantTasks)
		}
		if got := len(readResults(t, filepath.Join(work, "eval", "e", "results.jsonl"))); got != step.wantTasks {
			t.Errorf("%s: %d results, want %d", step.name, got, step.wantTasks)
		}
		if n := strings.Count(errOut, `"msg":"graded"`); n != step.wantGraded {
			t.Errorf("%s: graded %d, want %d\n%s", step.name, n, step.wantGraded, errOut)
		}
		if !strings.Contains(errOut, step.wantLog) {
			t.Errorf("%s: the log does not say %q:\n%s", step.name, step.wantLog, errOut)
		}
		if step.sameGen {
			if after := generations(); after["source.swebench.t"] != before["source.swebench.t"] || after["eval.e"] != before["eval.e"] {
				t.Errorf("%s: generations changed %v -> %v", step.name, before, after)
			}
		}
	}
}

// TestRolloutMissingBundle: a missing git bundle is refused when the
// recipe loads, at the git argument, before anything runs; an attempt
// whose bundle is there but unreadable is not played and not stored: the
// run exits 1 naming it, and the same command plays it once the bundle is
// good.
func TestRolloutMissingBundle(t *testing.T) {
	t.Parallel() // waits on a sandbox more than it computes
	dir := t.TempDir()
	bundle := filepath.Join(dir, "repos", "textkit.bundle")
	writeFile(t, filepath.Join(dir, "recipe.hcl"), fmt.Sprintf(`source "swebench" "one" {
  path         = %q
  instance_ids = ["textkit__textkit-1"]
}
environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = "repos/textkit.bundle"
  language = "python"
}
sandbox {
  backend = "bwrap"
}
model "teacher" {
  provider = "oracle"
  seed     = 1
}
rollout "teacher" {
  tasks = source.swebench.one
  model = model.teacher
}
`, abs(t, bundledTasks)))
	work := filepath.Join(dir, "run")
	trajectories := filepath.Join(work, "rollout", "teacher", "trajectories.jsonl")
	var stdout strings.Builder
	run := func() (string, int) {
		cmd := swelegoCmd(dir, "run", "recipe.hcl", "--workdir", work)
		cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
		var errb strings.Builder
		stdout.Reset()
		cmd.Stderr, cmd.Stdout = &errb, &stdout
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return errb.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return errb.String(), 0
	}
	errOut, code := run()
	if code != 1 || !strings.Contains(errOut, "recipe.hcl:7:14") || !strings.Contains(errOut, `no file exists at "repos/textkit.bundle"`) {
		t.Fatalf("missing bundle: exit %d, want 1 with a diagnostic at the git argument\n%s", code, tail(errOut, 3000))
	}
	if _, err := os.Stat(trajectories); !os.IsNotExist(err) {
		t.Fatalf("a recipe refused at load left trajectories: %v", err)
	}
	writeFile(t, bundle, "not a git bundle\n")
	errOut, code = run()
	if code != 1 || !strings.Contains(errOut, "1 attempts could not be played because of the infrastructure") || !strings.Contains(errOut, "textkit__textkit-1/1: ") {
		t.Fatalf("unreadable bundle: exit %d, want 1 naming the attempt\n%s", code, tail(errOut, 3000))
	}
	if recs := readJSONL(t, trajectories); len(recs) != 0 {
		t.Fatalf("%d trajectories stored for an attempt that was not played", len(recs))
	}
	// The summary names the failure and its reason; the exit status is 1.
	checkSummaryGolden(t, "rollout-missing-bundle", strings.ReplaceAll(stdout.String(), dir, "DIR"), strings.ReplaceAll(work, dir, "DIR"))
	data, err := os.ReadFile("../../examples/repos/textkit.bundle")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, bundle, string(data))
	if errOut, code = run(); code != 0 {
		t.Fatalf("with the bundle: exit %d\n%s", code, tail(errOut, 3000))
	}
	recs := readJSONL(t, trajectories)
	if len(recs) != 1 || recs[0]["status"] != sdk.StatusResolved {
		t.Errorf("trajectories after the rerun: %d, first %v", len(recs), recs)
	}
}
