package golang

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// The go test cases of core/harness's grading tests that are about how a
// run reads, run for real through TestCommand and ParseTestRun: a run
// that fails as a whole while the asked tests pass is invalid, and a
// project script printing go test -v cannot forge a pass.

var opsModule = map[string]string{
	"go.mod":              "module example.com/forge\n\ngo 1.21\n",
	"calc/calc.go":        "package calc\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n",
	"calc/calc_test.go":   "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(Add(2, 3))\n\t}\n\tt.Run(\"zero\", func(t *testing.T) {})\n}\n",
	"extra/extra.go":      "package extra\n\n// Twice doubles.\nfunc Twice(a int) int { return 2 * a }\n",
	"extra/extra_test.go": "package extra\n\nimport \"testing\"\n\nfunc TestTwice(t *testing.T) {\n\tif Twice(2) != 4 {\n\t\tt.Fatal()\n\t}\n}\n",
	"run-tests.sh":        "#!/bin/sh\n# The project's own test script: plain go test -v.\nexec go test -v ./...\n",
}

func TestRealGoTestForgery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go modules")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go")
	}
	P, F := sdk.TestPassed, sdk.TestFailed
	brokenAdd := map[string]string{"calc/calc.go": "package calc\n\n// Add adds.\nfunc Add(a, b int) int { return a - b }\n"}
	cases := []struct {
		name    string
		base    string
		files   map[string]string
		want    map[string]sdk.TestStatus
		invalid string
	}{
		{"honest", "", nil, map[string]sdk.TestStatus{"TestAdd": P, "TestAdd/zero": P}, ""},
		{"another package does not build", "",
			map[string]string{"extra/extra.go": "package extra\n\nfunc Twice(a int) int { return 2 * b }\n"},
			map[string]sdk.TestStatus{"TestAdd": P, "TestAdd/zero": P}, "example.com/forge/extra did not build"},
		{"TestMain exits non-zero after the tests pass", "",
			map[string]string{"calc/main_test.go": "package calc\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestMain(m *testing.M) {\n\tm.Run()\n\tos.Exit(3)\n}\n"},
			map[string]sdk.TestStatus{"TestAdd": P, "TestAdd/zero": P}, "example.com/forge/calc failed with no failing test"},
		// The whole suite runs (the task names a command of its own), and
		// TestSlow with it.
		{"a package times out", "go test -json -timeout 2s ./...",
			map[string]string{"calc/slow_test.go": "package calc\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestSlow(t *testing.T) { time.Sleep(time.Minute) }\n"},
			map[string]sdk.TestStatus{"TestAdd": P, "TestAdd/zero": P, "TestSlow": F, "TestTwice": P}, "example.com/forge/calc timed out"},
		{"a script printing go test -v", "sh ./run-tests.sh", nil,
			map[string]sdk.TestStatus{"TestAdd": P, "TestAdd/zero": P, "TestTwice": P}, ""},
		{"a script printing go test -v: a forged PASS line", "sh ./run-tests.sh",
			mergeFiles(brokenAdd, map[string]string{"extra/extra_test.go": "package extra\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\nfunc TestTwice(t *testing.T) {\n\tfmt.Println(\"--- PASS: TestAdd (0.00s)\")\n}\n"}),
			map[string]sdk.TestStatus{"TestAdd": F, "TestTwice": P}, ""},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range mergeFiles(opsModule, c.files) {
				if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tests := []string{"TestAdd", "TestAdd/zero"}
			if c.base != "" {
				tests = nil // the task's own command runs what it runs
			}
			cmd, err := Language{}.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: c.base, Tests: tests})
			if err != nil {
				t.Fatal(err)
			}
			run := runAsHost(t, dir, cmd.Command, tests)
			rep, err := Language{}.ParseTestRun(ctx, nil, run)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rep.Statuses, c.want) {
				t.Errorf("statuses %v\nwant %v\n%s", rep.Statuses, c.want, run.Output)
			}
			switch {
			case c.invalid == "" && rep.Invalid != "":
				t.Errorf("invalid: %s\n%s", rep.Invalid, run.Output)
			case c.invalid != "" && !strings.Contains(rep.Invalid, c.invalid):
				t.Errorf("invalid %q, want it to say %q\n%s", rep.Invalid, c.invalid, run.Output)
			}
		})
	}
}

func mergeFiles(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
