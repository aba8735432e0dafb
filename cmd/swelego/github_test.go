package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/plugins/github/githubtest"
	"github.com/swelego/swelego/sdk"
)

// readTasks reads a source stage's tasks.
func readTasks(t *testing.T, path string) []sdk.Task {
	t.Helper()
	var out []sdk.Task
	for _, rec := range readJSONL(t, path) {
		raw, _ := json.Marshal(rec)
		var task sdk.Task
		if err := json.Unmarshal(raw, &task); err != nil {
			t.Fatal(err)
		}
		out = append(out, task)
	}
	return out
}

// bundledByBase reads examples/tasks/bundled.jsonl by base commit: the
// tasks its build script validated by hand, one per bug-fix commit.
func bundledByBase(t *testing.T) map[string]sdk.Task {
	t.Helper()
	out := map[string]sdk.Task{}
	for _, task := range readTasks(t, abs(t, "../../examples/tasks/bundled.jsonl")) {
		out[task.BaseCommit] = task
	}
	return out
}

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

// TestGitHistoryRecipe runs examples/github/history.hcl: the bug-fix
// commits of the bundled repositories become tasks whose FAIL_TO_PASS is
// what the bundled tasks record for the same commits, each task's own fix
// resolves it and an empty patch resolves none.
func TestGitHistoryRecipe(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	if testing.Short() {
		t.Skip("validates the bundled repositories' fix commits in sandboxes")
	}
	work := t.TempDir()
	cmd := swelegoCmd(t.TempDir(), "run", abs(t, "../../examples/github/history.hcl"), "--workdir", work, "-var", "sandbox_backend=bwrap")
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, tail(string(out), 4000))
	}
	bundled := bundledByBase(t)
	for name, want := range map[string]int{"textkit": 5, "semver": 4} {
		tasks := readTasks(t, filepath.Join(work, "source", "git_history", name, "tasks.jsonl"))
		if len(tasks) != want {
			t.Errorf("%s: %d tasks, want its %d bug-fix commits", name, len(tasks), want)
		}
		for _, task := range tasks {
			known, ok := bundled[task.BaseCommit]
			if !ok {
				t.Errorf("%s: task %s at %s is no bug-fix commit's", name, task.InstanceID, task.BaseCommit)
				continue
			}
			if !slices.Equal(sorted(task.FailToPass), sorted(known.FailToPass)) {
				t.Errorf("%s: FAIL_TO_PASS %v, the bundled task %s has %v", task.InstanceID, task.FailToPass, known.InstanceID, known.FailToPass)
			}
			if task.TestPatch == "" || strings.Contains(task.Patch, "/tests/") || strings.Contains(task.Patch, "_test.go") {
				t.Errorf("%s: the test files are not split off:\npatch %s\ntest_patch %s", task.InstanceID, task.Patch, task.TestPatch)
			}
			// PASS_TO_PASS may be empty: validation runs the test files the
			// test_patch changes, as SWE-bench's harness does, and a fix's
			// test file may hold only the new test.
			if task.Source != sdk.SourceReal || task.Language == "" || task.Environment != name {
				t.Errorf("%s: source %q, language %q, environment %q", task.InstanceID, task.Source, task.Language, task.Environment)
			}
		}
		for eval, resolved := range map[string]int{name + "_gold": want, name + "_empty": 0} {
			var report harness.Report
			data, err := os.ReadFile(filepath.Join(work, "eval", eval, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(data, &report)
			if report.TotalInstances != want || report.ResolvedInstances != resolved {
				t.Errorf("%s: %d of %d resolved, want %d of %d", eval, report.ResolvedInstances, report.TotalInstances, resolved, want)
			}
		}
	}
}

// textkitFixture describes textkit's bug-fix commits as merged pull
// requests, each closing an issue, so the stand-in serves a repository
// whose candidates really validate.
func textkitFixture(t *testing.T) githubtest.Fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "textkit")
	gitRun := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
	if out, err := exec.Command("git", "clone", "-q", abs(t, "../../examples/repos/textkit.bundle"), dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	repo := githubtest.Repo{FullName: "swelego-examples/textkit"}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(gitRun("log", "--reverse", "--format=%H %P|%s")), "\n") {
		shas, subject, _ := strings.Cut(line, "|")
		f := strings.Fields(shas)
		if len(f) != 2 || strings.HasPrefix(subject, "Add ") {
			continue
		}
		n++
		day := fmt.Sprintf("2024-06-%02dT12:00:00Z", n)
		repo.Pulls = append(repo.Pulls, githubtest.Pull{
			Number: n, Title: subject, Body: fmt.Sprintf("Fixes #%d", 100+n),
			CreatedAt: day, UpdatedAt: day, MergedAt: day,
			BaseSHA: f[1], HeadSHA: f[0], MergeBase: f[1], MergeSHA: f[0],
			Diff:    gitRun("diff", f[1], f[0]),
			Files:   strings.Fields(gitRun("diff", "--name-only", f[1], f[0])),
			Commits: []string{day},
		})
		repo.Issues = append(repo.Issues, githubtest.Issue{Number: 100 + n, Title: subject,
			Body: "The behaviour is wrong: " + subject + ". The tests show it."})
	}
	if n != 5 {
		t.Fatalf("%d bug-fix commits in textkit, want 5", n)
	}
	return githubtest.Fixture{Repos: []githubtest.Repo{repo}}
}

// TestGitHubMiningKilled mines textkit's pull requests from the stand-in
// with `swelego run`, kills the whole process group with SIGKILL while it
// mines, runs it again, and finds every pull request validated into a
// task exactly once; the token appears in no log or artifact.
func TestGitHubMiningKilled(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	if testing.Short() {
		t.Skip("validates mined candidates in sandboxes")
	}
	const token = "ghp_swelegoTESTtoken_9f8e7d6c5b4a"
	srv := githubtest.Start(textkitFixture(t), githubtest.Options{Token: token, Delay: 150 * time.Millisecond})
	defer srv.Close()
	dir := t.TempDir()
	work := filepath.Join(dir, "run")
	cache := filepath.Join(dir, "github-cache")
	recipe := filepath.Join(dir, "recipe.hcl")
	writeFile(t, recipe, fmt.Sprintf(`
source "github" "prs" {
  repos           = ["swelego-examples/textkit"]
  base_url        = %q
  cache_dir       = %q
  token_env       = "SWELEGO_TEST_GH_TOKEN"
  merged_after    = "2024-01-01"
  per_page        = 2
}

environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = %q
  language = "python"
}

sandbox {
  backend = "bwrap"
}
`, srv.BaseURL(), cache, abs(t, "../../examples/repos/textkit.bundle")))
	run := func() *exec.Cmd {
		cmd := swelegoCmd(dir, "run", recipe, "--workdir", work)
		cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache, "SWELEGO_TEST_GH_TOKEN="+token)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}
	var logs bytes.Buffer
	first := run()
	first.Stdout, first.Stderr = &logs, &logs
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the miner is past its first candidates, before the end
	// of the listing (every candidate takes several requests).
	deadline := time.Now().Add(2 * time.Minute)
	for srv.Counts().Requests < 12 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-first.Process.Pid, syscall.SIGKILL)
	first.Wait()
	killedAt := srv.Counts().Requests
	if killedAt < 12 || killedAt > 30 {
		t.Fatalf("killed after %d requests: not mid-mining", killedAt)
	}
	second := run()
	out, err := second.CombinedOutput()
	logs.Write(out)
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, tail(string(out), 4000))
	}
	tasks := readTasks(t, filepath.Join(work, "source", "github", "prs", "tasks.jsonl"))
	seen := map[string]int{}
	for _, task := range tasks {
		seen[task.InstanceID]++
		if len(task.FailToPass) == 0 || task.TestPatch == "" || task.Patch == "" {
			t.Errorf("%s: not validated and split: F2P %v", task.InstanceID, task.FailToPass)
		}
	}
	for i := 1; i <= 5; i++ {
		if id := fmt.Sprintf("swelego-examples__textkit-%d", i); seen[id] != 1 {
			t.Errorf("%s written %d times, want once", id, seen[id])
		}
	}
	if len(tasks) != 5 {
		t.Errorf("%d tasks, want 5", len(tasks))
	}
	// Logs, the run folder and the cache: no token.
	all := logs.Bytes()
	for _, root := range []string{work, cache} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				data, _ := os.ReadFile(p)
				all = append(all, data...)
			}
			return nil
		})
	}
	if bytes.Contains(all, []byte(token)) || bytes.Contains(all, []byte("TESTtoken")) {
		t.Error("the token appears in the logs, the run folder or the cache")
	}
	for _, a := range srv.Authorizations() {
		if a != "Bearer "+token {
			t.Fatalf("the stand-in got Authorization %q", a)
		}
	}
}
