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
	for _, name := range []string{"basic", "forge", "hooks", "yaml"} {
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

// TestCheckCommand runs the syntax check on good, broken and deleted
// files; files of other languages are not checked.
func TestCheckCommand(t *testing.T) {
	ctx := context.Background()
	cmd, err := Language{}.CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"README.md", "a.go"}})
	if err != nil || cmd != "" {
		t.Fatalf("no JavaScript changed: %q, %v", cmd, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node on PATH")
	}
	dir := t.TempDir()
	for name, src := range map[string]string{"ok.js": "const a = 1;\n", "ok.mjs": "export const a = 1;\n", "bad.js": "const a = ;\n", "it's.cjs": "module.exports = 1;\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		files []string
		ok    bool
	}{
		{[]string{"ok.js", "ok.mjs", "it's.cjs", "gone.js"}, true},
		{[]string{"ok.js", "bad.js"}, false},
	}
	for _, tt := range tests {
		cmd, err := Language{}.CheckCommand(ctx, nil, sdk.CheckRequest{Files: tt.files})
		if err != nil {
			t.Fatal(err)
		}
		c := exec.Command("bash", "-c", cmd)
		c.Dir = dir
		out, err := c.CombinedOutput()
		if (err == nil) != tt.ok {
			t.Errorf("%v: err %v, want ok %v\n%s", tt.files, err, tt.ok, out)
		}
	}
}

// TestShowCommand checks the command a person is shown.
func TestShowCommand(t *testing.T) {
	cmd, err := Language{}.TestCommand(context.Background(), nil, sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Tests: []string{"test/a.test.js::math > adds", "test/b.test.js::it's"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `node --test '--test-name-pattern=^math( > .*)?$' '--test-name-pattern=^it'\''s( > .*)?$' 'test/a.test.js' 'test/b.test.js'`
	if cmd.Command != want {
		t.Errorf("got  %s\nwant %s", cmd.Command, want)
	}
	if _, err := (Language{}).TestCommand(context.Background(), nil, sdk.TestCommandRequest{Purpose: "nope"}); err == nil {
		t.Error("an unknown purpose gave no error")
	}
}
