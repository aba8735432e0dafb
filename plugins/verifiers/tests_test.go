package verifiers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

// brokenSandbox fails every Exec whose command contains failOn once
// failAfter such commands have run: a sandbox that dies mid-call.
type brokenSandbox struct {
	*dirSandbox
	failOn    string
	failAfter int
	seen      int
}

func (s *brokenSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	if strings.Contains(cmd, s.failOn) {
		s.seen++
		if s.seen > s.failAfter {
			return sdk.ExecResult{}, errors.New("sandbox: connection lost")
		}
	}
	return s.dirSandbox.Exec(ctx, cmd, timeout)
}

// TestTestsVerifierCorners runs the tests verifier in-process on the
// cases where it must fail rather than score, and on patches that break
// the test run itself.
func TestTestsVerifierCorners(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs pytest")
	}
	ctx := context.Background()
	task := sdk.Task{InstanceID: "calc-corner", Language: "python"}
	syntaxError := strings.Replace(readPatch(t, "py_breaks_mul.diff"), "+    return a ** b", "+    return a ** (b", 1)

	t.Run("no report at base", func(t *testing.T) {
		_, err := NewTestsVerifier().Verify(ctx, sdk.VerifyRequest{Config: sdk.Config(`{"test_cmd": "true", "runner": "pytest"}`),
			Task: task, Patch: readPatch(t, "py_keeps.diff"), Sandbox: fixtureSandbox(t, "pyrepo")})
		if !errors.Is(err, ErrNoBaseline) {
			t.Errorf("err = %v, want ErrNoBaseline", err)
		}
	})
	t.Run("sandbox not at base", func(t *testing.T) {
		sb := fixtureSandbox(t, "pyrepo")
		if err := os.WriteFile(filepath.Join(sb.dir, "calc", "ops.py"), []byte("changed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := NewTestsVerifier().Verify(ctx, sdk.VerifyRequest{Task: task, Patch: readPatch(t, "py_keeps.diff"), Sandbox: sb})
		if err == nil || !strings.Contains(err.Error(), "not at the base commit") {
			t.Errorf("err = %v, want the sandbox refused", err)
		}
	})
	t.Run("sandbox lost after the base run", func(t *testing.T) {
		sb := &brokenSandbox{dirSandbox: fixtureSandbox(t, "pyrepo"), failOn: "PYTEST_ADDOPTS", failAfter: 1}
		score, err := NewTestsVerifier().Verify(ctx, sdk.VerifyRequest{Task: task, Patch: readPatch(t, "py_keeps.diff"), Sandbox: sb})
		if err == nil || !strings.Contains(err.Error(), "connection lost") {
			t.Errorf("got %+v, %v; want the sandbox's error, not a score", score, err)
		}
	})
	t.Run("patch that breaks collection", func(t *testing.T) {
		score, err := NewTestsVerifier().Verify(ctx, sdk.VerifyRequest{Task: task, Patch: syntaxError, Sandbox: fixtureSandbox(t, "pyrepo")})
		if err != nil {
			t.Fatal(err)
		}
		if score.Value != 0 || score.Label != "some_fail" || score.Parts["total"] != 2 {
			t.Errorf("score %+v, want 0 of 2", score)
		}
	})
	t.Run("reproduce off", func(t *testing.T) {
		score, err := NewTestsVerifier().Verify(ctx, sdk.VerifyRequest{Config: sdk.Config(`{"reproduce": false, "timeout": 120}`),
			Task: task, Patch: readPatch(t, "py_adds_test.diff"), Sandbox: fixtureSandbox(t, "pyrepo")})
		if err != nil || score.Value != 1 || score.Parts["repro_total"] != 0 {
			t.Errorf("score %+v, %v; want 1 from the two base tests alone", score, err)
		}
	})
	t.Run("no tests at all", func(t *testing.T) {
		sb := fixtureSandbox(t, "pyrepo")
		score, err := NewTestsVerifier().Verify(ctx, sdk.VerifyRequest{Config: sdk.Config(`{"test_cmd": "pytest --no-header -p no:cacheprovider -k nothing_matches"}`),
			Task: task, Patch: readPatch(t, "py_keeps.diff"), Sandbox: sb})
		if err != nil || score.Value != 0 || score.Label != "no_tests" {
			t.Errorf("score %+v, %v; want no_tests", score, err)
		}
	})
}
