package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// copyDir copies the files of dir into a new temporary directory.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// runCommand runs a test command in dir with bash and returns its run.
func runCommand(t *testing.T, dir string, cmd sdk.TestCommand, tests []string) sdk.TestRun {
	t.Helper()
	c := exec.Command("bash", "-c", cmd.Command)
	c.Dir = dir
	out, err := c.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return sdk.TestRun{Tests: tests, Output: string(out), ExitCode: code}
}

// TestNodeRuns runs the grade command with the node on PATH (any version
// from 18 on) on the repositories under testdata/runs and checks that it
// reads the statuses recorded with Node 18, then runs a subset by id and
// checks that each asked test keeps its status.
func TestNodeRuns(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node on PATH")
	}
	ctx := context.Background()
	for _, name := range []string{"basic", "forge", "hooks"} {
		t.Run(name, func(t *testing.T) {
			var want sdk.TestReport
			b, err := os.ReadFile(filepath.Join("testdata", "runs", name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			dir := copyDir(t, filepath.Join("testdata", "runs", name))
			cmd, err := Language{}.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade})
			if err != nil {
				t.Fatal(err)
			}
			rep, _ := Language{}.ParseTestRun(ctx, nil, runCommand(t, dir, cmd, nil))
			if rep.Invalid != "" || !maps.Equal(rep.Statuses, want.Statuses) {
				t.Fatalf("whole run: invalid %q, statuses\n%v\nwant\n%v", rep.Invalid, rep.Statuses, want.Statuses)
			}
			for id, st := range want.Statuses {
				cmd, err := Language{}.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{id}})
				if err != nil {
					t.Fatal(err)
				}
				rep, _ := Language{}.ParseTestRun(ctx, nil, runCommand(t, dir, cmd, []string{id}))
				if rep.Invalid != "" || rep.Statuses[id] != st {
					t.Errorf("%s alone: %s (invalid %q), want %s", id, rep.Statuses[id], rep.Invalid, st)
				}
				if st == sdk.TestFailed && !strings.Contains(rep.Failures, id) {
					t.Errorf("%s alone: failures excerpt does not name it:\n%s", id, rep.Failures)
				}
			}
		})
	}
}
