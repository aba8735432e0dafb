package harness

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// bundledLogCases are tasks of the bundled repositories whose real test
// output, on the broken and on the fixed tree, is kept under
// testdata/bundled (re-captured with -capture).
var bundledLogCases = []struct {
	task, kind string
}{
	{"textkit__textkit-4", KindPytest},
	{"textkit__textkit-5", KindPytest},
	{"semver__semver-1", KindGoTest},
	{"semver__semver-4", KindGoTest},
}

func bundledTask(t *testing.T, id string) sdk.Task {
	t.Helper()
	data, err := os.ReadFile("../../examples/tasks/bundled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var task sdk.Task
		if err := json.Unmarshal([]byte(line), &task); err != nil {
			t.Fatal(err)
		}
		if task.InstanceID == id {
			return task
		}
	}
	t.Fatalf("no bundled task %s", id)
	return sdk.Task{}
}

// captureBundled runs the task's tests in a checkout of its bundle at the
// base commit with the test patch (broken) and with the fix too (fixed).
func captureBundled(t *testing.T, task sdk.Task, kind string) map[string]string {
	t.Helper()
	bundle := filepath.Join("../../examples/repos", filepath.Base(task.Repo)+".bundle")
	logs := map[string]string{}
	for _, state := range []string{"broken", "fixed"} {
		dir := t.TempDir()
		run := func(stdin string, name string, args ...string) string {
			cmd := exec.Command(name, args...)
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader(stdin)
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "NO_COLOR=1")
			out, _ := cmd.CombinedOutput()
			return string(out)
		}
		if out, err := exec.Command("git", "clone", "-q", bundle, dir).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		run("", "git", "checkout", "-q", task.BaseCommit)
		run(task.TestPatch, "git", "apply", "-")
		if state == "fixed" {
			run(task.Patch, "git", "apply", "-")
		}
		if kind == KindPytest {
			logs[state] = run("", pythonWithPytest(t), "-m", "pytest", "-rA", "-p", "no:cacheprovider")
		} else {
			logs[state] = run("", "go", "test", "-json", "./...")
		}
	}
	return logs
}

// TestParseBundledLogs parses real test output of the bundled repositories
// and checks it against golden files and against the tasks' own
// FAIL_TO_PASS / PASS_TO_PASS: broken fails the F2P tests, fixed passes all.
func TestParseBundledLogs(t *testing.T) {
	for _, c := range bundledLogCases {
		t.Run(c.task, func(t *testing.T) {
			task := bundledTask(t, c.task)
			base := filepath.Join("testdata", "bundled", c.task)
			if *capture {
				for state, log := range captureBundled(t, task, c.kind) {
					if err := os.WriteFile(base+"."+state+".log", []byte(log), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, state := range []string{"broken", "fixed"} {
				log, err := os.ReadFile(base + "." + state + ".log")
				if err != nil {
					t.Fatalf("%v (capture with -capture)", err)
				}
				p := map[string]Parser{KindPytest: ParserFunc(ParsePytest), KindGoTest: ParserFunc(ParseGoTest)}[c.kind]
				parsed := p.Parse(string(log))
				checkGolden(t, base+"."+state+".golden.json", parsed)
				resolution, _ := Grade(task.FailToPass, task.PassToPass, parsed)
				want := ResolvedFull
				if state == "broken" {
					want = ResolvedNo
				}
				if resolution != want {
					t.Errorf("%s tree grades %s, want %s (parsed %v)", state, resolution, want, parsed)
				}
			}
		})
	}
}
