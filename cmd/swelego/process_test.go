package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashRecipe scores one candidate per task with the crashy test plugin.
const crashRecipe = `plugin "crashy" {
  source = "./bin/swelego-plugin-crashy"
}

source "swebench" "t" {
  path = "tasks.jsonl"
}

tts "score" {
  tasks      = source.swebench.t
  candidates = "candidates.jsonl"
  workers    = 2
  verifier "crashy" {}
}
`

func writeCandidates(t *testing.T, path string, ids ...string) {
	t.Helper()
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, `{"instance_id":%q,"model_name_or_path":"m","model_patch":"diff --git a/x b/x\n"}`+"\n", id)
	}
	writeFile(t, path, b.String())
}

// TestPluginCrashFailsOnlyItsItem: a plugin that panics or exits during a
// call gives an error record for that item; the other items are scored.
func TestPluginCrashFailsOnlyItsItem(t *testing.T) {
	dir := t.TempDir()
	copyBin(t, "swelego-plugin-crashy", filepath.Join(dir, "bin", "swelego-plugin-crashy"))
	ids := []string{"ok-1", "panic-2", "exit-3", "ok-4", "fail-5", "ok-6"}
	writeTasks(t, filepath.Join(dir, "tasks.jsonl"), ids...)
	writeCandidates(t, filepath.Join(dir, "candidates.jsonl"), ids...)
	writeFile(t, filepath.Join(dir, "recipe.hcl"), crashRecipe)
	work := filepath.Join(dir, "run")
	_, errOut, code := swelego(t, dir, "run", "recipe.hcl", "--workdir", work)
	if code == 0 {
		t.Fatalf("exit 0 although three items failed\n%s", errOut)
	}
	if !strings.Contains(errOut, "3 of 6 candidates could not be scored") {
		t.Errorf("stderr does not report the failed items:\n%s", errOut)
	}
	scored := idsOf(readJSONL(t, filepath.Join(work, "tts", "score", "scores.jsonl")))
	failed := idsOf(readJSONL(t, filepath.Join(work, "tts", "score", "errors.jsonl")))
	if scored != "ok-1 ok-4 ok-6" {
		t.Errorf("scored %s, want ok-1 ok-4 ok-6", scored)
	}
	if failed != "exit-3 fail-5 panic-2" {
		t.Errorf("error records for %s, want exit-3 fail-5 panic-2", failed)
	}
	preds := idsOf(readJSONL(t, filepath.Join(work, "tts", "score", "predictions.jsonl")))
	if preds != "ok-1 ok-4 ok-6" {
		t.Errorf("predictions for %s", preds)
	}
	assertNoPlugins(t, dir)
}

func idsOf(recs []map[string]any) string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, fmt.Sprint(r["instance_id"]))
	}
	sort.Strings(ids)
	return strings.Join(ids, " ")
}

// TestSIGTERMLeavesNoPluginProcess stops a run while plugin calls are in
// flight and checks the process table for plugin processes.
func TestSIGTERMLeavesNoPluginProcess(t *testing.T) {
	dir := t.TempDir()
	copyBin(t, "swelego-plugin-crashy", filepath.Join(dir, "bin", "swelego-plugin-crashy"))
	ids := []string{"slow-1", "slow-2", "slow-3"}
	writeTasks(t, filepath.Join(dir, "tasks.jsonl"), ids...)
	writeCandidates(t, filepath.Join(dir, "candidates.jsonl"), ids...)
	writeFile(t, filepath.Join(dir, "recipe.hcl"), crashRecipe)
	cmd := swelegoCmd(dir, "run", "recipe.hcl", "--workdir", filepath.Join(dir, "run"))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the verifier plugin and the built-in source have started.
	waitFor(t, 30*time.Second, func() bool {
		return len(pluginProcesses(dir)) >= 1
	}, "a plugin process to start")
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee interface{ ExitCode() int }
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("swelego exited with %v after SIGTERM, want a non-zero code", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("swelego did not exit within 20s of SIGTERM\n%s", errb.String())
	}
	assertNoPlugins(t, dir)
}

// TestSIGKILLDuringTasksStage kills the run while a source streams tasks
// through a named pipe, reruns it, and checks every task is recorded once.
func TestSIGKILLDuringTasksStage(t *testing.T) {
	const n = 400
	dir := t.TempDir()
	fifo := filepath.Join(dir, "tasks.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "recipe.hcl"), "source \"swebench\" \"pipe\" {\n  path = \"tasks.fifo\"\n}\n")
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"instance_id":"task-%04d","repo":"o/r","base_commit":"c","test_patch":"diff","FAIL_TO_PASS":"[\"a\"]","PASS_TO_PASS":[]}`, i)
	}
	work := filepath.Join(dir, "run")
	out := filepath.Join(work, "source", "swebench", "pipe", "tasks.jsonl")

	// First run: feed half the tasks, wait until some are stored, SIGKILL.
	cmd := swelegoCmd(dir, "run", "recipe.hcl", "--workdir", work)
	var firstErr bytes.Buffer
	cmd.Stderr = &firstErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[:n/2] {
		if _, err := w.WriteString(l + "\n"); err != nil {
			cmd.Wait()
			t.Fatalf("feed the first run: %v\n%s", err, firstErr.String())
		}
	}
	waitFor(t, 30*time.Second, func() bool { return countLines(out) >= 10 }, "tasks to be stored")
	cmd.Process.Kill()
	cmd.Wait()
	w.Close()
	first := countLines(out)
	if first >= n {
		t.Fatalf("the first run stored all %d tasks before it was killed", first)
	}
	waitFor(t, 10*time.Second, func() bool { return len(pluginProcesses(dir)) == 0 }, "the orphaned plugin to die")

	// Second run: feed everything; the result holds each task once.
	cmd = swelegoCmd(dir, "run", "recipe.hcl", "--workdir", work)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w, err = os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if _, err := w.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second run: %v\n%s", err, errb.String())
	}
	recs := readJSONL(t, out)
	seen := map[string]int{}
	for _, r := range recs {
		seen[fmt.Sprint(r["instance_id"])]++
	}
	if len(recs) != n || len(seen) != n {
		t.Fatalf("%d records, %d distinct ids after resume (first run stored %d), want %d each", len(recs), len(seen), first, n)
	}
}

func countLines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n"))
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pluginProcesses lists the pids of live plugin processes of this test:
// swelego-plugin-* binaries under dir, and `swelego plugin serve` run from
// the test's swelego binary.
func pluginProcesses(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	self := filepath.Join(bin, "swelego")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && isZombie(stat) {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		isPlugin := strings.HasPrefix(filepath.Base(args[0]), "swelego-plugin-") && strings.HasPrefix(args[0], dir)
		// Built-ins run in the recipe's folder: other tests' runs, going on
		// in parallel, have their own.
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		isServe := args[0] == self && len(args) >= 3 && args[1] == "plugin" && args[2] == "serve" && strings.HasPrefix(cwd, dir)
		if isPlugin || isServe {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isZombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func assertNoPlugins(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := pluginProcesses(dir)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin processes left behind: %v", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
