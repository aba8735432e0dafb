package main

import (
	"bytes"
	"encoding/json"
	"errors"
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

	"github.com/swelego/swelego/core/harness"
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

var itemStarted = regexp.MustCompile(`msg="item started".* key=(\S+)`)

// TestDistributedEval grades the bundled tasks (gold patches, one empty
// patch, and a task whose repository exists nowhere) through an embedded
// NATS JetStream server and three `swelego worker` processes on bwrap:
// one worker is SIGKILLed while it grades an item and another grades it;
// the coordinator is SIGKILLed with results still out and rerun; the task
// without a repository is parked after two attempts with their errors
// while the rest completes. Every instance is recorded exactly once, with
// the keys and statuses a local eval of the same files gives, and no
// sandbox folder is left.
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
	// The bwrap sandboxes' folders of this test, reachable by the sandbox
	// user (t.TempDir's folders are not).
	sbxTmp, err := os.MkdirTemp("", "swelego-queue-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sbxTmp) })
	if err := os.Chmod(sbxTmp, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SWELEGO_CACHE="+testCache, "TMPDIR="+sbxTmp)
	evalArgs := func(work string, extra ...string) []string {
		return append([]string{"eval", "--tasks", tasksFile, "--predictions", predsFile, "--backend", "bwrap",
			"--repos", abs(t, "../../examples/repos"), "--workdir", work}, extra...)
	}
	// notGraded runs a coordinator to its end: it exits 1 because the
	// ghost task cannot be graded.
	notGraded := func(cmd *exec.Cmd, out string, err error) {
		t.Helper()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "ghost__ghost-1") {
			t.Fatalf("swelego %s: %v, want exit 1 naming ghost__ghost-1\n%s", strings.Join(cmd.Args[1:], " "), err, tail(out, 4000))
		}
	}

	// The local eval the distributed one must equal.
	localWork := t.TempDir()
	local := swelegoCmd(dir, evalArgs(localWork, "--workers", "2")...)
	local.Env = append(local.Env, env...)
	out, err := local.CombinedOutput()
	notGraded(local, string(out), err)
	want := readResults(t, filepath.Join(localWork, "eval", "cli", "results.jsonl"))

	type worker struct {
		cmd *exec.Cmd
		log *lockedBuffer
	}
	var workers []*worker
	for i := range 3 {
		w := &worker{log: &lockedBuffer{}}
		w.cmd = swelegoCmd(dir, "worker", "--queue", url, "--backend", "bwrap", "--name", "w"+string(rune('0'+i)), "--stats-every", "5s")
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

	work := t.TempDir()
	args := evalArgs(work, "--queue", url, "--queue-ack-wait", "3s", "--queue-max-attempts", "2")
	coord := swelegoCmd(dir, args...)
	coord.Env = append(coord.Env, env...)
	var coordOut lockedBuffer
	coord.Stdout, coord.Stderr = &coordOut, &coordOut
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	coordDone := make(chan error, 1)
	go func() { coordDone <- coord.Wait() }()

	// SIGKILL a worker while it grades a real task. An item may finish
	// between the look and the kill; then another worker's is taken (at
	// most two of the three are killed).
	var killed []*worker
	var killedKey string
	inFlight := func(w *worker) string {
		log := w.log.String()
		for _, m := range itemStarted.FindAllStringSubmatch(log, -1) {
			if m[1] != ghost.InstanceID && !regexp.MustCompile(`msg="item done".* key=`+regexp.QuoteMeta(m[1])+`\b`).MatchString(log) {
				return m[1]
			}
		}
		return ""
	}
	for killedKey == "" && len(killed) < 2 {
		var victim *worker
		var key string
		waitUntil(t, "a worker to start grading", 5*time.Minute, func() bool {
			for _, w := range workers {
				if slices.Contains(killed, w) {
					continue
				}
				if key = inFlight(w); key != "" {
					victim = w
					return true
				}
			}
			return false
		})
		victim.cmd.Process.Signal(syscall.SIGKILL)
		victim.cmd.Wait()
		killed = append(killed, victim)
		if inFlight(victim) == key {
			killedKey = key
		}
	}
	if killedKey == "" {
		t.Fatal("no worker could be killed in the middle of an item")
	}
	t.Logf("killed a worker grading %s", killedKey)

	// SIGKILL the coordinator once it has stored two results.
	results := filepath.Join(work, "eval", "cli", "results.jsonl")
	waitUntil(t, "two results", 5*time.Minute, func() bool {
		select {
		case err := <-coordDone:
			t.Fatalf("the coordinator ended before it could be killed: %v\n%s", err, tail(coordOut.String(), 4000))
		default:
		}
		data, _ := os.ReadFile(results)
		return bytes.Count(data, []byte("\n")) >= 2
	})
	coord.Process.Signal(syscall.SIGKILL)
	<-coordDone

	rerun := swelegoCmd(dir, args...)
	rerun.Env = append(rerun.Env, env...)
	out, err = rerun.CombinedOutput()
	notGraded(rerun, string(out), err)
	if !strings.Contains(string(out), "parked after 2 failed attempts") {
		t.Errorf("the ghost task is not reported parked after 2 attempts:\n%s", tail(string(out), 4000))
	}

	// Every record exactly once, equal to the local eval's.
	seen := map[string]int{}
	for _, rec := range readJSONL(t, results) {
		id, _ := rec["instance_id"].(string)
		seen[id]++
	}
	got := readResults(t, results)
	if len(got) != len(want) || len(want) != len(tasks) {
		t.Errorf("%d distributed results, %d local, want %d each", len(got), len(want), len(tasks))
	}
	for id, w := range want {
		if seen[id] != 1 {
			t.Errorf("%s recorded %d times", id, seen[id])
		}
		if got[id].Status != w.Status {
			t.Errorf("%s: distributed %s, local %s", id, got[id].Status, w.Status)
		}
	}
	if _, ok := got[ghost.InstanceID]; ok {
		t.Errorf("the parked task has a stored result")
	}
	if got[emptyID].Status != harness.ResultEmptyPatch {
		t.Errorf("%s: %s, want an empty patch", emptyID, got[emptyID].Status)
	}

	// The killed worker's item was graded by another.
	done := regexp.MustCompile(`msg="item done".* key=` + regexp.QuoteMeta(killedKey) + `\b`)
	var others []string
	for _, w := range workers {
		if w != killed[len(killed)-1] {
			others = append(others, w.log.String())
		}
	}
	if !done.MatchString(strings.Join(others, "")) {
		t.Errorf("no other worker graded %s, the killed worker's item", killedKey)
	}

	// SIGTERM drains the others; they report their rate.
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
	// The killed worker's sandbox folder was swept by the rerun's backend;
	// nothing else is left.
	left, _ := filepath.Glob(filepath.Join(sbxTmp, "swelego-sandboxes", "sbx-*"))
	if len(left) > 0 {
		t.Errorf("sandbox folders left: %v", left)
	}
}
