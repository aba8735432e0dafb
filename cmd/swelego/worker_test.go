package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swelego/swelego/core/agent"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/core/queue/queuetest"
	"github.com/swelego/swelego/sdk"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond until it holds or the limit passes.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var itemStarted = regexp.MustCompile(`INF item started .*key=(\S+)`)

// queueWorker is a `swelego worker` process and its log.
type queueWorker struct {
	cmd *exec.Cmd
	log *lockedBuffer
}

// startQueueWorkers starts n `swelego worker` processes (bwrap) on the
// queue at url, killed when the test ends.
func startQueueWorkers(t *testing.T, dir, url string, env []string, n int) []*queueWorker {
	t.Helper()
	var workers []*queueWorker
	for i := range n {
		w := &queueWorker{log: &lockedBuffer{}}
		w.cmd = swelegoCmd(dir, "--log-format", "text", "worker", "--queue", url, "--backend", "bwrap", "--name", "w"+string(rune('0'+i)), "--stats-every", "5s")
		w.cmd.Env = append(w.cmd.Env, env...)
		w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
		if err := w.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if w.cmd.ProcessState == nil {
				w.cmd.Process.Kill()
				w.cmd.Wait()
			}
		})
		workers = append(workers, w)
	}
	return workers
}

// inFlight returns the key of an item the worker started and did not
// finish, "" when none.
func (w *queueWorker) inFlight() string {
	log := w.log.String()
	for _, m := range itemStarted.FindAllStringSubmatch(log, -1) {
		if !regexp.MustCompile(`INF item done .*key=` + regexp.QuoteMeta(m[1]) + `\b`).MatchString(log) {
			return m[1]
		}
	}
	return ""
}

// killMidItem SIGKILLs a worker while it runs an item. An item may finish
// between the look and the kill; then another worker's is taken (at most
// two are killed). It returns the workers killed, the last one killed in
// the middle of item key.
func killMidItem(t *testing.T, workers []*queueWorker) (killed []*queueWorker, key string) {
	t.Helper()
	for key == "" && len(killed) < 2 {
		var victim *queueWorker
		var k string
		waitUntil(t, "a worker to start an item", 5*time.Minute, func() bool {
			for _, w := range workers {
				if slices.Contains(killed, w) {
					continue
				}
				if k = w.inFlight(); k != "" {
					victim = w
					return true
				}
			}
			return false
		})
		victim.cmd.Process.Signal(syscall.SIGKILL)
		victim.cmd.Wait()
		killed = append(killed, victim)
		if victim.inFlight() == k {
			key = k
		}
	}
	if key == "" {
		t.Fatal("no worker could be killed in the middle of an item")
	}
	return killed, key
}

// allLogs joins the workers' logs.
func allLogs(workers []*queueWorker) string {
	var b strings.Builder
	for _, w := range workers {
		b.WriteString(w.log.String())
	}
	return b.String()
}

// drainWorkers SIGTERMs the workers not killed: each drains, exits 0 and
// has logged its rate.
func drainWorkers(t *testing.T, workers, killed []*queueWorker) {
	t.Helper()
	for _, w := range workers {
		if slices.Contains(killed, w) {
			continue
		}
		w.cmd.Process.Signal(syscall.SIGTERM)
		if err := w.cmd.Wait(); err != nil {
			t.Errorf("worker after SIGTERM: %v\n%s", err, tail(w.log.String(), 2000))
		}
		if !strings.Contains(w.log.String(), "items_per_min") {
			t.Errorf("worker log has no rate:\n%s", tail(w.log.String(), 2000))
		}
	}
}

// sandboxTmp is a TMPDIR for a test's bwrap sandboxes that the sandbox
// user can reach (t.TempDir's folders are not).
func sandboxTmp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "swelego-queue-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDistributedEval grades the bundled tasks (gold patches, one empty
// patch, and a task whose repository exists nowhere) through an embedded
// NATS JetStream server and two `swelego worker` processes on bwrap. The
// repositories travel through the server's object store: the
// coordinator's copy of them is deleted once its items are published, so
// the workers grade from the bundles they fetched. The
// task without a repository is parked after two attempts with their
// errors while the rest completes, every instance is recorded once, with
// the status a local eval gives (resolved, the empty patch empty), the
// workers' counts hold every item and the two failed attempts; then the
// same workers play a recipe's rollout attempts (distributedRollout); no
// sandbox folder is left. TestDistributedSynthetic kills workers and the
// coordinator and compares with a local run.
func TestDistributedEval(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap is not installed")
	}
	url := queuetest.Start(t)
	tasks, err := readTaskFile(bundledTasks)
	if err != nil {
		t.Fatal(err)
	}
	ghost := tasks[0]
	ghost.InstanceID, ghost.Repo = "ghost__ghost-1", "swelego-examples/ghost"
	var tb strings.Builder
	for _, task := range append(tasks, ghost) {
		line, _ := json.Marshal(task)
		tb.Write(line)
		tb.WriteByte('\n')
	}
	dir := t.TempDir()
	tasksFile := filepath.Join(dir, "tasks.jsonl")
	writeFile(t, tasksFile, tb.String())
	emptyID := tasks[1].InstanceID
	var pb strings.Builder
	for _, task := range append(tasks, ghost) {
		patch := task.Patch
		if task.InstanceID == emptyID {
			patch = ""
		}
		line, _ := json.Marshal(sdk.Prediction{InstanceID: task.InstanceID, ModelNameOrPath: "test", ModelPatch: patch})
		pb.Write(line)
		pb.WriteByte('\n')
	}
	predsFile := filepath.Join(dir, "preds.jsonl")
	writeFile(t, predsFile, pb.String())
	sbxTmp := sandboxTmp(t)
	env := append(os.Environ(), "SWELEGO_CACHE="+testCache, "TMPDIR="+sbxTmp)
	// The coordinator's repositories, in a folder no worker is told of,
	// deleted once the items are published.
	coordRepos := filepath.Join(t.TempDir(), "repos")
	if out, err := exec.Command("cp", "-r", abs(t, "../../examples/repos"), coordRepos).CombinedOutput(); err != nil {
		t.Fatalf("copy the repositories: %v: %s", err, out)
	}
	evalArgs := func(work string, extra ...string) []string {
		return append([]string{"--log-format", "text", "eval", "--tasks", tasksFile, "--predictions", predsFile, "--backend", "bwrap",
			"--repos", coordRepos, "--workdir", work}, extra...)
	}
	// notGraded checks a coordinator ran to its end: it exits 1 because
	// the ghost task cannot be graded.
	notGraded := func(cmd *exec.Cmd, out string, err error) {
		t.Helper()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "ghost__ghost-1") {
			t.Errorf("swelego %s: %v, want exit 1 naming ghost__ghost-1\n%s", strings.Join(cmd.Args[1:], " "), err, tail(out, 4000))
		}
	}

	workers := startQueueWorkers(t, dir, url, env, 2)
	defer func() {
		if t.Failed() {
			t.Logf("workers' logs:\n%s", tail(allLogs(workers), 8000))
		}
	}()
	work := t.TempDir()
	coord := swelegoCmd(dir, evalArgs(work, "--queue", url, "--queue-ack-wait", "3s", "--queue-max-attempts", "2")...)
	coord.Env = append(coord.Env, env...)
	var coordOut lockedBuffer
	coord.Stdout, coord.Stderr = &coordOut, &coordOut
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	coordDone := make(chan error, 1)
	go func() { coordDone <- coord.Wait() }()
	waitUntil(t, "the items published", 2*time.Minute, func() bool {
		select {
		case err := <-coordDone:
			t.Fatalf("the coordinator ended before publishing: %v\n%s", err, tail(coordOut.String(), 4000))
		default:
		}
		return strings.Contains(coordOut.String(), "queue: published")
	})
	if !strings.Contains(coordOut.String(), "queue: uploaded") && !strings.Contains(coordOut.String(), "queue: repository in the object store") {
		t.Errorf("the coordinator sent no repository to the object store:\n%s", tail(coordOut.String(), 4000))
	}
	if err := os.RemoveAll(coordRepos); err != nil {
		t.Fatal(err)
	}
	err = <-coordDone
	out := []byte(coordOut.String())
	notGraded(coord, string(out), err)
	if !strings.Contains(string(out), "parked after 2 failed attempts") {
		t.Errorf("the ghost task is not reported parked after 2 attempts:\n%s", tail(string(out), 4000))
	}

	// Every record exactly once, with the status a local eval gives
	// (the gold patches resolve their tasks: TestQuickstartRecipe's
	// Docker eval, BenchmarkEvalBundled).
	results := filepath.Join(work, "eval", "cli", "results.jsonl")
	seen := map[string]int{}
	for _, rec := range readJSONL(t, results) {
		id, _ := rec["instance_id"].(string)
		seen[id]++
	}
	got := readResults(t, results)
	if len(got) != len(tasks) {
		t.Errorf("%d results, want %d\n%s", len(got), len(tasks), tail(string(out), 6000))
	}
	for _, task := range tasks {
		id := task.InstanceID
		if seen[id] != 1 {
			t.Errorf("%s recorded %d times", id, seen[id])
		}
		want := harness.ResultResolved
		if id == emptyID {
			want = harness.ResultEmptyPatch
		}
		if got[id].Status != want {
			t.Errorf("%s: %s, want %s", id, got[id].Status, want)
		}
	}
	if _, ok := got[ghost.InstanceID]; ok {
		t.Errorf("the parked task has a stored result")
	}
	// The workers' counts: every graded item by one of them, the ghost's
	// two failed attempts.
	var counts map[string]pipeline.WorkerCount
	data, _ := os.ReadFile(filepath.Join(work, "eval", "cli", pipeline.WorkersFile))
	json.Unmarshal(data, &counts)
	items, failures := 0, 0
	for _, c := range counts {
		items += c.Items
		failures += c.Failures
	}
	if items != len(tasks) || failures != 2 {
		t.Errorf("workers' counts %+v: %d items, %d failures; want %d and 2", counts, items, failures, len(tasks))
	}
	distributedRollout(t, dir, url, env, tasks)
	drainWorkers(t, workers, nil)
	left, _ := filepath.Glob(filepath.Join(sbxTmp, "swelego-sandboxes", "sbx-*"))
	if len(left) > 0 {
		t.Errorf("sandbox folders left: %v", left)
	}
	// What the workers graded from: the bundles fetched into their cache.
	for _, task := range tasks {
		name := strings.SplitN(task.Repo, "/", 2)[1] + ".bundle"
		if got, _ := filepath.Glob(filepath.Join(testCache, pipeline.ObjectsDir, "*", name)); len(got) == 0 {
			t.Errorf("no %s in the workers' cache of fetched bundles", name)
		}
	}
}

// distributedRollout runs a recipe's rollout stage and a tts stage (k=1),
// one oracle attempt of two bundled textkit tasks (whose image the eval
// built) each, with --queue on the workers of url: they play and grade
// the attempts with their own swetools plugin and score the tts stage's
// with their own tests verifier; each trajectory and score is stored
// once, the trajectories resolved as a local run's are
// (TestRolloutSIGKILL, checkOracleRollout).
func distributedRollout(t *testing.T, dir, url string, env []string, tasks []sdk.Task) {
	t.Helper()
	var tb strings.Builder
	var ids []string
	for _, task := range tasks {
		if task.Repo == "swelego-examples/textkit" && len(ids) < 2 {
			line, _ := json.Marshal(task)
			tb.Write(line)
			tb.WriteByte('\n')
			ids = append(ids, task.InstanceID)
		}
	}
	tasksFile := filepath.Join(dir, "textkit.jsonl")
	writeFile(t, tasksFile, tb.String())
	recipe := filepath.Join(dir, "rollout.hcl")
	writeFile(t, recipe, fmt.Sprintf(`source "swebench" "textkit" {
  path = %q
}
environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = %q
  language = "python"
}
sandbox {
  backend = "bwrap"
}
model "oracle" {
  provider = "oracle"
  seed     = 5
}
rollout "r" {
  tasks     = source.swebench.textkit
  model     = model.oracle
  max_turns = 60
}
tts "t" {
  tasks     = source.swebench.textkit
  model     = model.oracle
  k         = 1
  max_turns = 60
  verifier "verifier-tests" {}
}
`, tasksFile, abs(t, "../../examples/repos/textkit.bundle")))
	work := t.TempDir()
	cmd := swelegoCmd(dir, "run", recipe, "--workdir", work, "--queue", url)
	cmd.Env = append(cmd.Env, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("distributed rollout: %v\n%s", err, tail(string(out), 4000))
	}
	seen := map[string]int{}
	played := map[string]string{} // the rollout stage's patches
	for _, tr := range readTrajectories(t, filepath.Join(work, "rollout", "r", "trajectories.jsonl")) {
		seen[tr.InstanceID]++
		played[tr.InstanceID] = tr.FinalPatch
		if tr.Attempt != 1 || tr.Status != sdk.StatusResolved || tr.Model != agent.OracleName || tr.FinalPatch == "" {
			t.Errorf("%s/%d: %s by %q (%s), patch %d bytes; want attempt 1 resolved by the oracle", tr.InstanceID, tr.Attempt, tr.Status, tr.Model, tr.Error, len(tr.FinalPatch))
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("%s stored %d times", id, seen[id])
		}
	}
	// The tts stage's rollout of each task is the rollout stage's (the
	// oracle's seed and attempt are the same); each is scored once by
	// the tests verifier on a worker.
	for _, tr := range readTrajectories(t, filepath.Join(work, "tts", "t", "trajectories.jsonl")) {
		if tr.Attempt != 1 || tr.Status != sdk.StatusResolved || tr.FinalPatch != played[tr.InstanceID] {
			t.Errorf("tts %s/%d: %s, its patch the rollout stage's: %v", tr.InstanceID, tr.Attempt, tr.Status, tr.FinalPatch == played[tr.InstanceID])
		}
	}
	scored := map[string]int{}
	for _, rec := range readJSONL(t, filepath.Join(work, "tts", "t", "scores.jsonl")) {
		id, _ := rec["instance_id"].(string)
		scored[id]++
		if v, _ := rec["score"].(float64); v <= 0 {
			t.Errorf("tts %s: score %v, want the pass rate of a resolving patch", id, rec["score"])
		}
	}
	for _, id := range ids {
		if scored[id] != 1 {
			t.Errorf("tts %s scored %d times", id, scored[id])
		}
	}
	// Each stage's workers.json: the rollout stage's attempts, the tts
	// stage's attempts and scores.
	for stage, want := range map[string]int{"rollout/r": len(ids), "tts/t": 2 * len(ids)} {
		var counts map[string]pipeline.WorkerCount
		data, _ := os.ReadFile(filepath.Join(work, stage, pipeline.WorkersFile))
		json.Unmarshal(data, &counts)
		items := 0
		for _, c := range counts {
			items += c.Items
		}
		if items != want {
			t.Errorf("%s: workers' counts %+v, want %d items", stage, counts, want)
		}
	}
}

// synthRecords reads a synthetic source's tasks and rejections by
// instance id, failing on an id recorded twice.
func synthRecords(t *testing.T, work, name string) (map[string]sdk.Task, map[string]pipeline.Rejection) {
	t.Helper()
	tasks := map[string]sdk.Task{}
	for _, task := range synthTasks(t, work, name) {
		if _, dup := tasks[task.InstanceID]; dup {
			t.Errorf("%s: task %s recorded twice", name, task.InstanceID)
		}
		tasks[task.InstanceID] = task
	}
	rejected := map[string]pipeline.Rejection{}
	for _, r := range synthRejections(t, work, name) {
		if _, dup := rejected[r.InstanceID]; dup {
			t.Errorf("%s: rejection %s recorded twice", name, r.InstanceID)
		}
		if _, dup := tasks[r.InstanceID]; dup {
			t.Errorf("%s: %s recorded as a task and a rejection", name, r.InstanceID)
		}
		rejected[r.InstanceID] = r
	}
	return tasks, rejected
}

// TestDistributedSynthetic runs the synthetic example recipe's sources
// (two candidates per injector, to stay cheap) through an embedded NATS
// JetStream server and three `swelego worker` processes on bwrap, while
// the same recipe runs locally: one worker is SIGKILLed in the middle of a
// candidate and another validates it; the coordinator is SIGKILLed once
// it has stored records and run again. Its tasks equal the local run's
// (keys, FAIL_TO_PASS, PASS_TO_PASS, fix, base commit), as do its
// rejections (keys and steps) and yield reports; combinations whose bugs
// apply together are validated by workers; every record appears once,
// the summary counts what each worker did, and no sandbox folder is left.
func TestDistributedSynthetic(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap is not installed")
	}
	if testing.Short() {
		t.Skip("builds environment images and validates mutations")
	}
	url := queuetest.Start(t)
	dir := t.TempDir()
	sbxTmp := sandboxTmp(t)
	env := append(os.Environ(), "SWELEGO_CACHE="+testCache, "TMPDIR="+sbxTmp)
	recipe := abs(t, "../../examples/synthetic/recipe.hcl")
	runArgs := func(work string, extra ...string) []string {
		return append([]string{"run", recipe, "--stage", "tasks", "--workdir", work,
			"-var", "sandbox_backend=bwrap", "-var", "max_candidates=2"}, extra...)
	}

	// The local run the distributed one must equal, meanwhile.
	localWork := t.TempDir()
	local := swelegoCmd(dir, runArgs(localWork)...)
	local.Env = append(local.Env, env...)
	var localOut lockedBuffer
	local.Stdout, local.Stderr = &localOut, &localOut
	if err := local.Start(); err != nil {
		t.Fatal(err)
	}
	var localErr error
	localDone := make(chan struct{})
	go func() { localErr = local.Wait(); close(localDone) }()
	t.Cleanup(func() {
		local.Process.Kill()
		<-localDone
	})

	workers := startQueueWorkers(t, dir, url, env, 3)
	work := t.TempDir()
	args := runArgs(work, "--queue", url, "--queue-ack-wait", "3s")
	coord := swelegoCmd(dir, args...)
	coord.Env = append(coord.Env, env...)
	var coordOut lockedBuffer
	coord.Stdout, coord.Stderr = &coordOut, &coordOut
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	coordDone := make(chan error, 1)
	go func() { coordDone <- coord.Wait() }()

	began := time.Now()
	killed, killedKey := killMidItem(t, workers)
	t.Logf("killed a worker validating %s after %s", killedKey, time.Since(began).Round(time.Second))

	// SIGKILL the coordinator once it has stored two records.
	stored := func() int {
		n := 0
		for _, name := range []string{"textkit", "semver"} {
			for _, f := range []string{"tasks.jsonl", pipeline.RejectedOutput + ".jsonl"} {
				data, _ := os.ReadFile(filepath.Join(work, "source", "synthetic", name, f))
				n += bytes.Count(data, []byte("\n"))
			}
		}
		return n
	}
	waitUntil(t, "two records", 5*time.Minute, func() bool {
		select {
		case err := <-coordDone:
			t.Fatalf("the coordinator ended before it could be killed: %v\n%s", err, tail(coordOut.String(), 4000))
		default:
		}
		return stored() >= 2
	})
	coord.Process.Signal(syscall.SIGKILL)
	<-coordDone
	t.Logf("killed the coordinator after %s", time.Since(began).Round(time.Second))

	rerun := swelegoCmd(dir, args...)
	rerun.Env = append(rerun.Env, env...)
	out, err := rerun.CombinedOutput()
	if err != nil {
		t.Fatalf("rerun of the coordinator: %v\n%s", err, tail(string(out), 6000))
	}
	t.Logf("rerun done after %s", time.Since(began).Round(time.Second))
	<-localDone
	if localErr != nil {
		t.Fatalf("local run: %v\n%s", localErr, tail(localOut.String(), 6000))
	}
	t.Logf("local done after %s", time.Since(began).Round(time.Second))

	// The same tasks and rejections as the local run, each once.
	for _, name := range []string{"textkit", "semver"} {
		wantTasks, wantRejected := synthRecords(t, localWork, name)
		gotTasks, gotRejected := synthRecords(t, work, name)
		if len(wantTasks) == 0 {
			t.Errorf("%s: the local run kept no task", name)
		}
		for id, w := range wantTasks {
			g, ok := gotTasks[id]
			if !ok {
				t.Errorf("%s: task %s of the local run is missing", name, id)
				continue
			}
			checkTask(t, g)
			if !slices.Equal(g.FailToPass, w.FailToPass) || !slices.Equal(g.PassToPass, w.PassToPass) || g.Patch != w.Patch || g.BaseCommit != w.BaseCommit {
				t.Errorf("%s: task %s differs from the local run's:\nF2P %v\nwant %v\nP2P %v\nwant %v", name, id, g.FailToPass, w.FailToPass, g.PassToPass, w.PassToPass)
			}
		}
		for id := range gotTasks {
			if _, ok := wantTasks[id]; !ok {
				t.Errorf("%s: task %s is not the local run's", name, id)
			}
		}
		if len(gotRejected) != len(wantRejected) {
			t.Errorf("%s: %d rejections, the local run %d", name, len(gotRejected), len(wantRejected))
		}
		for id, w := range wantRejected {
			if g, ok := gotRejected[id]; !ok || g.Step != w.Step {
				t.Errorf("%s: rejection %s: step %q, the local run's %q", name, id, g.Step, w.Step)
			}
		}
		gy, wy := checkYield(t, work, name), checkYield(t, localWork, name)
		if fmt.Sprint(gy) != fmt.Sprint(wy) {
			t.Errorf("%s: yield %+v, the local run's %+v", name, gy, wy)
		}
		// Combinations whose bugs apply together were validated by workers.
		var combos []string
		for id, task := range wantTasks {
			if o, _ := pipeline.Origin(task); o.Block == "combine" {
				combos = append(combos, id)
			}
		}
		for id, r := range wantRejected {
			if strings.HasPrefix(r.Injector, "combine/") && r.Step != pipeline.StepApply {
				combos = append(combos, id)
			}
		}
		for _, id := range combos {
			if !regexp.MustCompile(`INF item done .*key=` + regexp.QuoteMeta(id) + `\b`).MatchString(allLogs(workers)) {
				t.Errorf("%s: combination %s was not validated by a worker", name, id)
			}
		}
		t.Logf("%s: %d tasks, %d rejections, %d combinations validated", name, len(gotTasks), len(gotRejected), len(combos))
	}

	// The killed worker's candidate was validated by another; the summary
	// shows what each worker did.
	done := regexp.MustCompile(`INF item done .*key=` + regexp.QuoteMeta(killedKey) + `\b`)
	var others []string
	for _, w := range workers {
		if w != killed[len(killed)-1] {
			others = append(others, w.log.String())
		}
	}
	if !done.MatchString(strings.Join(others, "")) {
		t.Errorf("no other worker validated %s, the killed worker's item", killedKey)
	}
	if !regexp.MustCompile(`(?m)^workers:\n(  w[0-2] .*items.*\n)+`).MatchString(string(out)) {
		t.Errorf("the summary does not count each worker's items:\n%s", tail(string(out), 3000))
	}
	drainWorkers(t, workers, killed)
	left, _ := filepath.Glob(filepath.Join(sbxTmp, "swelego-sandboxes", "sbx-*"))
	if len(left) > 0 {
		t.Errorf("sandbox folders left: %v", left)
	}
}
