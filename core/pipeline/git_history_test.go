package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/swelego/swelego/hcl"
)

// historyRepo makes a repository whose history holds one commit for each
// of the git_history filters, and returns its folder.
func historyRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
			"GIT_AUTHOR_DATE=2024-05-01T00:00:00Z", "GIT_COMMITTER_DATE=2024-05-01T00:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(msg string, files ...string) {
		for _, f := range files {
			data, _ := os.ReadFile(filepath.Join(dir, f))
			write(f, string(data)+msg+"\n")
		}
		git("add", "-A")
		git("commit", "-q", "-m", msg)
	}
	git("init", "-q", "-b", "main")
	commit("initial", "pkg/a.py", "tests/test_a.py")
	commit("Fix the width check\n\nFixes #3", "pkg/a.py", "tests/test_a.py")
	commit("Refactor the module", "pkg/a.py")
	commit("Rework everything, fixes #4", "pkg/a.py", "pkg/b.py", "pkg/c.py", "tests/test_a.py")
	commit("Add a feature, closes #5", "pkg/d.py", "tests/test_d.py")
	git("checkout", "-q", "-b", "topic")
	commit("height: reject zero", "pkg/a.py", "tests/test_a.py")
	git("checkout", "-q", "main")
	git("merge", "-q", "--no-ff", "-m", "Merge pull request #9 from topic", "topic")
	return dir
}

func TestGitHistoryCandidates(t *testing.T) {
	src := historyRepo(t)
	issues := filepath.Join(t.TempDir(), "issues.jsonl")
	os.WriteFile(issues, []byte(`{"number":3,"title":"width() accepts negatives","body":"width(-1) returns -1 instead of raising.","comments":[{"body":"confirmed"}]}
{"number":5,"title":"short","body":""}
`), 0o644)
	base := hcl.GitHistory{Repo: "octo/widgets", Git: src, Rev: "HEAD", IssuePattern: hcl.DefaultIssuePattern, RequireIssue: true, MinFiles: 1, MaxFiles: 3}
	cases := []struct {
		name   string
		edit   func(*hcl.GitHistory)
		ids    []string
		counts map[string]int
	}{
		{"issues named, up to 3 files", func(*hcl.GitHistory) {},
			[]string{"octo__widgets-3", "octo__widgets-5", "octo__widgets-" + "merge"},
			map[string]int{historyCandidate: 3, historyRoot: 1, historyNoIssue: 2, historyTooMany: 1}},
		{"every commit", func(c *hcl.GitHistory) { c.RequireIssue = false; c.MaxFiles = 15 },
			[]string{"octo__widgets-3", "octo__widgets-4", "octo__widgets-5", "octo__widgets-merge", "refactor", "topic"},
			map[string]int{historyCandidate: 6, historyRoot: 1}},
		{"feature commits excluded", func(c *hcl.GitHistory) { c.ExcludeMessage = "^Add " },
			[]string{"octo__widgets-3", "octo__widgets-merge"},
			map[string]int{historyCandidate: 2, historyRoot: 1, historyNoIssue: 2, historyTooMany: 1, historyExcluded: 1}},
		{"issue texts given and long enough", func(c *hcl.GitHistory) { c.Issues = issues; c.MinIssueChars = 20 },
			[]string{"octo__widgets-3", "octo__widgets-merge"},
			map[string]int{historyCandidate: 2, historyRoot: 1, historyNoIssue: 2, historyTooMany: 1, historyIssueShort: 1}},
		{"out of the date range", func(c *hcl.GitHistory) { c.MergedAfter = "2025-01-01" },
			nil, map[string]int{historyRoot: 1, historyNoIssue: 2, historyOutOfRange: 4}},
		{"at most one candidate", func(c *hcl.GitHistory) { c.MaxCandidates = 1 },
			[]string{"octo__widgets-merge"},
			map[string]int{historyCandidate: 1, historyRoot: 1, historyNoIssue: 2, historyTooMany: 1, historyOverLimit: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			s := &gitHistoryStage{stageBase: stageBase{recipe: &hcl.Recipe{Dir: t.TempDir()}}, cfg: &cfg}
			tasks, counts, err := s.candidates(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, task := range tasks {
				var o HistoryOrigin
				json.Unmarshal(task.Extra[HistoryField], &o)
				id := task.InstanceID
				switch {
				case o.Merge:
					id = "octo__widgets-merge"
				case strings.HasPrefix(task.ProblemStatement, "Refactor"):
					id = "refactor"
				case strings.HasPrefix(task.ProblemStatement, "height"):
					id = "topic"
				}
				ids = append(ids, id)
				if !IsCandidate(task) || task.BaseCommit == "" || !strings.Contains(task.Patch, "diff --git a/pkg/") {
					t.Errorf("%s is no candidate: base %q patch %q", task.InstanceID, task.BaseCommit, task.Patch)
				}
				if task.InstanceID == "octo__widgets-3" && cfg.Issues != "" &&
					(task.ProblemStatement != "width() accepts negatives\nwidth(-1) returns -1 instead of raising." || task.HintsText != "confirmed") {
					t.Errorf("statement %q, hints %q: want the issue's", task.ProblemStatement, task.HintsText)
				}
			}
			sort.Strings(ids)
			if !reflect.DeepEqual(ids, c.ids) {
				t.Errorf("candidates %v, want %v", ids, c.ids)
			}
			if !reflect.DeepEqual(counts, c.counts) {
				t.Errorf("counts %v, want %v", counts, c.counts)
			}
		})
	}
}
