package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/sdk"
)

// testCache is shared with the sandbox and envimage tests, so the base
// images are built once per machine.
var testCache = filepath.Join(os.TempDir(), "swelego-test-cache")

func requireDocker(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker info fails, so there is no Docker Engine to test against: %v\n%s", err, out)
	}
}

const bundledTasks = "../../examples/tasks/bundled.jsonl"

// Spoofing predictions: they fix nothing but print fake result lines for
// the task's FAIL_TO_PASS tests, at import and at exit.
var spoofs = map[string]string{
	"textkit__textkit-1": `diff --git a/conftest.py b/conftest.py
new file mode 100644
--- /dev/null
+++ b/conftest.py
@@ -0,0 +1,9 @@
+import atexit
+import os
+
+FAKE = ["tests/test_slug.py::test_slug_lowercases", "tests/test_slug.py::test_slug_custom_separator"]
+def _fake():
+    lines = "=========================== short test summary info ============================\n"
+    os.write(1, (lines + "".join("PASSED " + t + "\n" for t in FAKE)).encode())
+_fake()
+atexit.register(_fake)
`,
	"semver__semver-1": `diff --git a/spoof.go b/spoof.go
new file mode 100644
--- /dev/null
+++ b/spoof.go
@@ -0,0 +1,12 @@
+package semver
+
+import (
+	"fmt"
+	"os"
+)
+
+func init() {
+	fmt.Fprintln(os.Stdout, "=== RUN   TestCompareNumeric")
+	fmt.Fprintln(os.Stdout, "--- PASS: TestCompareNumeric (0.00s)")
+	fmt.Fprintln(os.Stdout, ` + "`" + `{"Action":"pass","Package":"example.com/semver","Test":"TestCompareNumeric"}` + "`" + `)
+}
`,
}

// memoryHog is a prediction whose tests need far more memory than the
// sandbox may use.
const memoryHog = `diff --git a/tests/__init__.py b/tests/__init__.py
new file mode 100644
--- /dev/null
+++ b/tests/__init__.py
@@ -0,0 +1,2 @@
+HOG = bytearray(3 << 30)
+HOG[::4096] = b"x" * len(HOG[::4096])
`

type evalOutcome struct {
	runID   string
	report  harness.Report
	results map[string]harness.Result
}

func runEvalCLI(t *testing.T, backend, predictions string, extra ...string) evalOutcome {
	t.Helper()
	work := t.TempDir()
	args := append([]string{"eval", "--tasks", abs(t, bundledTasks), "--predictions", predictions, "--backend", backend,
		"--workers", "2", "--workdir", work, "--report", filepath.Join(work, "r.json")}, extra...)
	cmd := swelegoCmd(t.TempDir(), args...)
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("swelego %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 4000))
	}
	var o evalOutcome
	data, err := os.ReadFile(filepath.Join(work, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &o.report); err != nil {
		t.Fatal(err)
	}
	var info struct {
		ID string `json:"id"`
	}
	if data, err := os.ReadFile(filepath.Join(work, "run.json")); err == nil {
		json.Unmarshal(data, &info)
	}
	o.runID = info.ID
	o.results = readResults(t, filepath.Join(work, "eval", "cli", "results.jsonl"))
	return o
}

// readResults reads an eval stage's results by instance id.
func readResults(t *testing.T, path string) map[string]harness.Result {
	t.Helper()
	out := map[string]harness.Result{}
	for _, rec := range readJSONL(t, path) {
		raw, _ := json.Marshal(rec)
		var r harness.Result
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[r.InstanceID] = r
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// writePredictions writes a predictions file: the given patches, and the
// gold patch of every other task (of only those named in only, if any).
func writePredictions(t *testing.T, preds map[string]string, only ...string) string {
	t.Helper()
	tasks, err := readTaskFile(bundledTasks)
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{}
	for _, id := range only {
		keep[id] = true
	}
	var b strings.Builder
	for _, task := range tasks {
		if len(only) > 0 && !keep[task.InstanceID] {
			continue
		}
		patch, ok := preds[task.InstanceID]
		if !ok {
			patch = task.Patch
		}
		line, _ := json.Marshal(sdk.Prediction{InstanceID: task.InstanceID, ModelNameOrPath: "test", ModelPatch: patch})
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "preds.jsonl")
	writeFile(t, path, b.String())
	return path
}

// checkGrading grades the bundled tasks on both sandbox backends, given
// the results of the quickstart recipe's eval of the gold patches on
// bubblewrap: gold patches resolve every task on Docker too, patches that
// print fake PASSED lines resolve none of theirs on either backend, the
// two backends agree on every instance, and empty patches resolve nothing.
func checkGrading(t *testing.T, bwrapGold map[string]harness.Result) {
	tasks, err := readTaskFile(bundledTasks)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range spoofs {
		ids = append(ids, id)
	}
	spoofed := writePredictions(t, spoofs, ids...)
	byBackend := map[string]map[string]string{"docker": {}, "bwrap": {}}
	for id, r := range bwrapGold {
		byBackend["bwrap"]["gold/"+id] = r.Status
	}
	gold := runEvalCLI(t, "docker", "gold")
	if gold.report.ResolvedInstances != len(tasks) {
		t.Errorf("gold on docker: %d of %d resolved: unresolved %v, errors %v", gold.report.ResolvedInstances, len(tasks), gold.report.UnresolvedIDs, gold.report.ErrorIDs)
	}
	for id, r := range gold.results {
		byBackend["docker"]["gold/"+id] = r.Status
	}
	runs := []string{gold.runID}
	for _, backend := range []string{"docker", "bwrap"} {
		spoof := runEvalCLI(t, backend, spoofed)
		runs = append(runs, spoof.runID)
		for id, r := range spoof.results {
			byBackend[backend]["spoof/"+id] = r.Status
			if r.Status != harness.ResultUnresolved {
				t.Errorf("%s on %s: a patch that fakes PASSED lines graded %s, want unresolved (F2P %v)", id, backend, r.Status, r.FailToPass)
			}
		}
		if len(spoof.results) != len(spoofs) {
			t.Errorf("%s: %d results of spoofing patches, want %d", backend, len(spoof.results), len(spoofs))
		}
	}
	d, b := byBackend["docker"], byBackend["bwrap"]
	if len(d) != len(tasks)+len(spoofs) || len(b) != len(d) {
		t.Errorf("%d results on docker, %d on bwrap, want %d each", len(d), len(b), len(tasks)+len(spoofs))
	}
	for id, s := range d {
		if b[id] != s {
			t.Errorf("%s: docker says %s, bwrap says %s", id, s, b[id])
		}
	}
	empty := runEvalCLI(t, "bwrap", "empty")
	if empty.report.EmptyPatchInstances != len(tasks) || empty.report.ResolvedInstances != 0 {
		t.Errorf("empty predictions: %d empty, %d resolved", empty.report.EmptyPatchInstances, empty.report.ResolvedInstances)
	}
	assertNoContainers(t, runs...)
}

// TestEvalMemoryHog: a task whose tests exceed the memory limit ends as an
// error and the other tasks are graded as usual.
func TestEvalMemoryHog(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("builds environment images")
	}
	preds := writePredictions(t, map[string]string{"textkit__textkit-2": memoryHog}, "textkit__textkit-1", "textkit__textkit-2", "semver__semver-1")
	var runs []string
	for _, backend := range []string{"docker", "bwrap"} {
		t.Run(backend, func(t *testing.T) {
			o := runEvalCLI(t, backend, preds, "--memory", "512m")
			runs = append(runs, o.runID)
			for id, r := range o.results {
				want := harness.ResultResolved
				if id == "textkit__textkit-2" {
					want = harness.ResultError
				}
				if r.Status != want {
					t.Errorf("%s: %s (%s), want %s", id, r.Status, r.Error, want)
				}
				if id == "textkit__textkit-2" && (!strings.Contains(r.Error, "memory limit") || r.Infra) {
					t.Errorf("%s: error %q (infrastructure %v), want the prediction's own memory limit error", id, r.Error, r.Infra)
				}
			}
			if len(o.results) != 3 {
				t.Errorf("%d results, want 3", len(o.results))
			}
		})
	}
	assertNoContainers(t, runs...)
}

// assertNoContainers asks the Docker Engine for containers labelled with
// the given swelego run ids: none may be left.
func assertNoContainers(t *testing.T, runs ...string) {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "swelego"))})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, id := range runs {
		if id == "" {
			t.Fatal("a run without an id")
		}
		ours[id] = true
	}
	var mine []string
	for _, c := range list {
		// Only these runs' containers count: other packages' tests may be
		// using the same engine right now.
		if ours[c.Labels["swelego"]] {
			mine = append(mine, c.ID[:12]+" "+c.Labels["swelego"])
		}
	}
	if len(mine) > 0 {
		t.Errorf("containers left behind: %v", mine)
	}
}

func TestImageBuild(t *testing.T) {
	requireDocker(t)
	cmd := swelegoCmd(t.TempDir(), "image", "build", "--language", "python", "--recipe", abs(t, "../../examples/quickstart/recipe.hcl"))
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // the build's progress, when an image is built
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "swelego/base-python:") || !strings.HasPrefix(lines[1], "swelego/base-go:") {
		t.Fatalf("image build printed:\n%s", out)
	}
	for _, l := range lines {
		name, rootfs, _ := strings.Cut(l, "\t")
		if _, err := os.Stat(filepath.Join(rootfs, "usr", "bin")); err != nil {
			t.Errorf("%s: no root file system at %s", name, rootfs)
		}
		if out, err := exec.Command("docker", "image", "inspect", name).CombinedOutput(); err != nil {
			t.Errorf("%s is not in Docker: %s", name, out)
		}
	}
}

// TestEvalMissingRepository: an instance whose repository is missing is an
// infrastructure failure, not a grade: eval exits 1 naming it and why,
// stores no result for it and keeps the real grades; once the repository
// is there, the same command grades it, and only it.
func TestEvalMissingRepository(t *testing.T) {
	t.Parallel() // waits on a sandbox more than it computes
	const missing, empty = "textkit__textkit-1", "textkit__textkit-2"
	preds := writePredictions(t, map[string]string{empty: ""}, missing, empty)
	repos, work := t.TempDir(), t.TempDir()
	args := []string{"eval", "--tasks", abs(t, bundledTasks), "--predictions", preds, "--backend", "bwrap",
		"--repos", repos, "--workdir", work, "--instance-ids", missing + "," + empty}
	run := func() (string, string, int) {
		cmd := swelegoCmd(t.TempDir(), args...)
		cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	resultsPath := filepath.Join(work, "eval", "cli", "results.jsonl")

	out, errOut, code := run()
	if code != 1 || !strings.Contains(errOut, "1 of the instances could not be graded (listed above)") || !strings.Contains(errOut, "\n  "+missing+`: environment "textkit"`) {
		t.Fatalf("missing repository: exit %d, want 1 with a summary naming %s\nstdout %s\nstderr %s", code, missing, out, tail(errOut, 3000))
	}
	if !strings.Contains(out, "2 instances, 2 submitted, 0 completed, 0 resolved, 0 unresolved, 1 empty patch, 1 error") {
		t.Errorf("first report line: %s", out)
	}
	if got := readResults(t, resultsPath); len(got) != 1 || got[empty].Status != harness.ResultEmptyPatch {
		t.Fatalf("results after the failure: %+v, want only %s's empty patch", got, empty)
	}
	if data, err := os.ReadFile(filepath.Join(work, "eval", "cli", "logs", missing, "run_instance.log")); err != nil || !strings.Contains(string(data), "infrastructure") {
		t.Errorf("run_instance.log: %q, %v", data, err)
	}

	bundle, err := os.ReadFile("../../examples/repos/textkit.bundle")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repos, "textkit.bundle"), string(bundle))
	out, errOut, code = run()
	if code != 0 || !strings.Contains(out, "2 instances, 2 submitted, 1 completed, 1 resolved, 0 unresolved, 1 empty patch, 0 error") {
		t.Fatalf("rerun with the repository: exit %d\nstdout %s\nstderr %s", code, out, tail(errOut, 3000))
	}
	if n := strings.Count(errOut, `"msg":"graded"`); n != 1 {
		t.Errorf("the rerun graded %d instances, want only %s", n, missing)
	}
	got := readResults(t, resultsPath)
	if len(got) != 2 || got[missing].Status != harness.ResultResolved || got[empty].Status != harness.ResultEmptyPatch {
		t.Errorf("results: %+v", got)
	}
	logs := filepath.Join(work, "eval", "cli", "logs", missing)
	for _, name := range []string{"patch.diff", "test_output.txt", "report.json"} {
		if _, err := os.Stat(filepath.Join(logs, name)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(logs, "run_instance.log")); err == nil {
		t.Error("run_instance.log of the failure left behind after the grade")
	}
}
