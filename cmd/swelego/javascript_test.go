package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/harness"
)

// TestJavaScriptRecipe runs examples/javascript/recipe.hcl: a language
// swelego does not ship, taught by examples/plugins/javascript, a plugin in
// its own Go module built here with `go build` and found by discovery
// beside the recipe, exactly as a third party would ship it. Its injector's
// mutations of urlkit are validated into tasks with FAIL_TO_PASS and
// PASS_TO_PASS tests read from Node's test runner, each task's own fix
// resolves it and an empty patch resolves none.
func TestJavaScriptRecipe(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("builds a JavaScript environment image and validates mutations")
	}
	// The recipe and the bundle it names, in the layout of examples/, with
	// the plugin built into the recipe's plugin folder.
	root := t.TempDir()
	recipe := filepath.Join(root, "examples", "javascript", "recipe.hcl")
	plugins := filepath.Join(root, "examples", "javascript", ".swelego", "plugins")
	for _, dir := range []string{plugins, filepath.Join(root, "examples", "repos")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for from, to := range map[string]string{
		"../../examples/javascript/recipe.hcl": recipe,
		"../../examples/repos/urlkit.bundle":   filepath.Join(root, "examples", "repos", "urlkit.bundle"),
	} {
		if err := copyTree(abs(t, from), to); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "swelego-plugin-javascript"), ".")
	build.Dir = abs(t, "../../examples/plugins/javascript")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the plugin in its own module: %v\n%s", err, out)
	}

	work := t.TempDir()
	cmd := swelegoCmd(t.TempDir(), "run", recipe, "--workdir", work, "-var", "sandbox_backend=bwrap",
		// Half the example's candidates, tests run once on each tree: CI
		// time (core/harness tests the flaky-test check).
		"-var", "max_candidates=6", "-var", "reruns=1")
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, tail(string(out), 4000))
	}

	tasks := synthTasks(t, work, "urlkit")
	if len(tasks) < 3 {
		t.Fatalf("%d validated tasks, want at least 3", len(tasks))
	}
	for _, task := range tasks {
		checkTask(t, task)
		if task.Language != "javascript" || !strings.HasPrefix(task.Injector, "javascript/") {
			t.Errorf("%s: language %q, injector %q", task.InstanceID, task.Language, task.Injector)
		}
		for _, id := range append(append([]string{}, task.FailToPass...), task.PassToPass...) {
			if file, name, ok := strings.Cut(id, "::"); !ok || !strings.HasPrefix(file, "test/") || name == "" {
				t.Errorf("%s: test id %q is not FILE::NAME of a test file", task.InstanceID, id)
			}
		}
	}
	checkYield(t, work, "urlkit")

	var report harness.Report
	data, err := os.ReadFile(filepath.Join(work, "eval", "urlkit", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	if report.TotalInstances != len(tasks) || report.ResolvedInstances != report.TotalInstances {
		t.Errorf("gold patches resolve %d of %d (%d tasks)", report.ResolvedInstances, report.TotalInstances, len(tasks))
	}

	o := runEvalCLI(t, "bwrap", "empty", "--recipe", recipe, "--tasks", filepath.Join(work, "source", "synthetic", "urlkit", "tasks.jsonl"))
	if o.report.TotalInstances != len(tasks) || o.report.ResolvedInstances != 0 || o.report.EmptyPatchInstances != o.report.TotalInstances {
		t.Errorf("empty patches: %d resolved, %d empty of %d", o.report.ResolvedInstances, o.report.EmptyPatchInstances, o.report.TotalInstances)
	}
	t.Logf("%d JavaScript tasks validated and graded", len(tasks))
}
