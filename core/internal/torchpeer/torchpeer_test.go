package torchpeer

import (
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
)

func TestPeerEnv(t *testing.T) {
	got := peerEnv([]string{"PATH=bin", "OPENBLAS_CORETYPE=Haswell", "OPENBLAS_L2_SIZE=1048576", "OPENBLAS_NUM_THREADS=2", "HOME=home"})
	want := []string{"PATH=bin", "OPENBLAS_NUM_THREADS=2", "HOME=home"}
	if !slices.Equal(got, want) {
		t.Errorf("peerEnv = %q, want %q", got, want)
	}
}

// TestRun runs testdata/echo.py: the script gets --threads, runs once per
// arguments, and OpenBLAS's tuning stays out of its environment.
func TestRun(t *testing.T) {
	script := filepath.Join("testdata", "echo.py")
	if py, err := Interpreter(script); err != nil || py == "" {
		t.Skipf("no interpreter with torch for %s (%v)", script, err)
	}
	t.Setenv("OPENBLAS_CORETYPE", "Haswell")
	type echo struct {
		Args     []string `json:"args"`
		PID      int      `json:"pid"`
		OpenBLAS string   `json:"openblas"`
	}
	var a, again, other echo
	for _, run := range []struct {
		out  *echo
		args []string
	}{{&a, []string{"--x", "1"}}, {&again, []string{"--x", "1"}}, {&other, []string{"--x", "2"}}} {
		if why := Run(t, run.out, script, run.args...); why != "" {
			t.Fatal(why)
		}
	}
	if want := []string{"--x", "1", "--threads", strconv.Itoa(runtime.GOMAXPROCS(0))}; !slices.Equal(a.Args, want) {
		t.Errorf("args %q, want %q", a.Args, want)
	}
	if a.PID == 0 || again.PID != a.PID || other.PID == a.PID {
		t.Errorf("runs: pid %d, same arguments again %d, other arguments %d; want one run per arguments", a.PID, again.PID, other.PID)
	}
	if a.OpenBLAS != "" {
		t.Errorf("the script saw OPENBLAS_CORETYPE=%s", a.OpenBLAS)
	}
}
