//go:build unix

package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The crash tests re-execute the test binary as a child process that does
// the work named in this variable, and kill it with SIGKILL.
const childEnv = "SWELEGO_ENGINE_TEST_CHILD"

// crashRecord is what the child appends; Pad's length is a function of N so
// the parent can check each record's content.
type crashRecord struct {
	ID  string `json:"id"`
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

func padLen(n int) int { return (n * 7919) % (96 << 10) }

func newCrashRecord(n int) crashRecord {
	return crashRecord{ID: fmt.Sprintf("k%06d", n), N: n, Pad: strings.Repeat(string(rune('a'+n%26)), padLen(n))}
}

// startChild runs this test binary as a child doing job and returns once
// it printed "ready" (if waitReady).
func startChild(t *testing.T, test, job string, waitReady bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+job)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	if waitReady {
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("child did not get ready")
		}
	}
	return cmd
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
}

// crashChild appends records from several goroutines until it is killed.
func crashChild(path string, slow bool) {
	w, err := OpenWriter(path, KeyField("id"), WithLogger(quietLogger()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	if slow {
		w.slowWrites = 3 * time.Millisecond
	}
	fmt.Println("ready")
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				n := int(next.Add(1) - 1)
				rec := newCrashRecord(n)
				if w.Has(rec.ID) {
					continue
				}
				if err := w.Append(context.Background(), rec.ID, rec); err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(2)
				}
			}
		})
	}
	wg.Wait()
}

// checkCrashRecords verifies the records of path and returns their numbers.
func checkCrashRecords(t *testing.T, path string) map[int]bool {
	t.Helper()
	seen := map[int]bool{}
	err := ReadRecords(path, func(line int, raw json.RawMessage) error {
		var r crashRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if r != newCrashRecord(r.N) {
			return fmt.Errorf("line %d: record %s has wrong content", line, r.ID)
		}
		if seen[r.N] {
			return fmt.Errorf("line %d: key %s twice", line, r.ID)
		}
		seen[r.N] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

func TestCrashRecovery(t *testing.T) {
	if job, ok := os.LookupEnv(childEnv); ok {
		if path, ok := strings.CutPrefix(job, "append:"); ok {
			crashChild(path, false)
		}
		if path, ok := strings.CutPrefix(job, "append-slow:"); ok {
			crashChild(path, true)
		}
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "out", "trajectories.jsonl")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	total, repaired := 0, 0
	// Eight rounds, and more (slow ones) until a kill has torn a batch: on
	// a loaded machine a child may not have begun writing when it is
	// killed, and recovery must be exercised, not left to chance.
	const rounds, maxRounds = 8, 40
	round := 0
	for ; round < rounds || (repaired == 0 && round < maxRounds); round++ {
		// Rounds 0 and 4 may kill the child while it is still opening (and
		// repairing) the file. Odd rounds, and the rounds after the eighth,
		// simulate a slow disk, so that the kill usually tears a batch.
		job := "append:"
		if round%2 == 1 || round >= rounds {
			job = "append-slow:"
		}
		cmd := startChild(t, "TestCrashRecovery", job+path, round%4 != 0)
		time.Sleep(time.Duration(rng.IntN(150)+5) * time.Millisecond)
		kill(t, cmd)

		// Before any repair, a reader sees only complete records. A child
		// killed before it opened the file (rounds 0 and 4 on a loaded
		// machine) left none.
		before := map[int]bool{}
		if _, err := os.Stat(path); err == nil || round%4 != 0 {
			before = checkCrashRecords(t, path)
		}
		var log strings.Builder
		w, err := OpenWriter(path, KeyField("id"), WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if strings.Contains(log.String(), "dropped") {
			repaired++
		}
		n := w.Len()
		w.Close()
		recs := checkArtifact(t, path)
		after := checkCrashRecords(t, path)
		if recs != n || len(after) != n || len(before) != n {
			t.Fatalf("round %d: Len %d, sidecar %d, records before repair %d, after %d", round, n, recs, len(before), len(after))
		}
		if n < total {
			t.Fatalf("round %d: %d records, fewer than the %d committed before", round, n, total)
		}
		t.Logf("round %d: %d records; %s", round, n, strings.TrimSpace(log.String()))
		total = n
	}

	t.Logf("%d of %d kills left a tail to repair", repaired, round)
	if repaired == 0 {
		t.Error("no kill left anything to repair: the test does not exercise recovery")
	}

	// Resume: write every key up to a bound, skipping those present.
	w, err := OpenWriter(path, KeyField("id"), WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	want := total + 50
	for n := range want {
		rec := newCrashRecord(n)
		if w.Has(rec.ID) {
			continue
		}
		if err := w.Append(context.Background(), rec.ID, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	seen := checkCrashRecords(t, path)
	if checkArtifact(t, path) != len(seen) {
		t.Fatal("sidecar and records disagree")
	}
	for n := range want {
		if !seen[n] {
			t.Errorf("key %d missing after resume", n)
		}
	}
	if len(seen) < want {
		t.Errorf("%d records, want at least %d", len(seen), want)
	}
}

func TestRunLockDiesWithProcess(t *testing.T) {
	if job, ok := os.LookupEnv(childEnv); ok {
		if dir, ok := strings.CutPrefix(job, "lock:"); ok {
			if _, err := Open(dir); err != nil {
				fmt.Fprintln(os.Stderr, "child:", err)
				os.Exit(2)
			}
			fmt.Println("ready")
			time.Sleep(time.Hour)
		}
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := filepath.Join(t.TempDir(), "run")
	cmd := startChild(t, "TestRunLockDiesWithProcess", "lock:"+dir, true)
	_, err := Open(dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		kill(t, cmd)
		t.Fatalf("Open while the child holds the run: err = %v", err)
	}
	kill(t, cmd)
	r, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after the child was killed: %v", err)
	}
	r.Close()
}
