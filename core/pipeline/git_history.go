package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/repo"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// HistoryFile is a git_history source's count of the commits it read, by
// what became of them ("candidate" or the filter that dropped them).
const HistoryFile = "history.json"

// HistoryField is the Extra member of a task a git_history source made:
// the commit it came from (a HistoryOrigin).
const HistoryField = "git_history"

// HistoryOrigin is the commit a git_history task came from.
type HistoryOrigin struct {
	Commit string `json:"commit"`
	Merge  bool   `json:"merge,omitempty"`
	Issue  int    `json:"issue_number,omitempty"`
}

// Filters of a git_history source (HistoryFile's keys).
const (
	historyCandidate   = "candidate"
	historyRoot        = "root_commit"
	historyExcluded    = "excluded_message"
	historyNoIssue     = "no_issue"
	historyIssueShort  = "issue_too_short"
	historyOutOfRange  = "out_of_date_range"
	historyTooFewFiles = "too_few_files"
	historyTooMany     = "too_many_files"
	historyOverLimit   = "over_max_candidates"
)

// historyIssue is a record of a git_history source's issues file.
type historyIssue struct {
	Number   int    `json:"number"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	Comments []struct {
		Body string `json:"body"`
	} `json:"comments"`
}

// gitHistoryStage is `source "git_history" "NAME" { repo, git, … }`: the
// commits of a repository's history that look like fixes (merge commits
// and commits whose message names an issue, changing 1–15 files) become
// candidates, validated like a task source's (validateCandidates).
type gitHistoryStage struct {
	stageBase
	cfg *hcl.GitHistory
}

func (s *gitHistoryStage) Run(ctx context.Context, sc *engine.StageContext) error {
	cands, counts, err := s.candidates(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", s.block.Address, err)
	}
	w, err := sc.OpenOutput(TasksOutput, engine.KeyField("instance_id"))
	if err != nil {
		return err
	}
	defer w.Close()
	if err := writeJSON(filepath.Join(sc.Dir(), HistoryFile), counts); err != nil {
		return err
	}
	sc.Logger.Info("history read", "repo", s.cfg.Repo, "commits", counts)
	if err := s.validateCandidates(ctx, sc, w, cands, s.cfg.Workers, s.cfg.Reruns, s.cfg.Timeout); err != nil {
		return err
	}
	sc.Logger.Info("tasks", "tasks", w.Len(), "candidates", len(cands))
	return nil
}

// source is where the history is read: the block's git, else its
// environment's, else a bundle or folder next to the recipe.
func (s *gitHistoryStage) source() (string, string, error) {
	envName := strings.TrimPrefix(s.cfg.Environment, "environment.")
	var env string
	for _, e := range EnvironmentsOf(s.recipe) {
		if (envName != "" && e.Name == envName) || (envName == "" && e.Repo == s.cfg.Repo) {
			if s.cfg.Git != "" {
				return s.cfg.Git, e.Name, nil
			}
			if e.Git != "" {
				return e.Git, e.Name, nil
			}
			env = e.Name
			break
		}
	}
	if s.cfg.Git != "" {
		return s.cfg.Git, env, nil
	}
	src, err := repo.Locate([]string{s.recipe.Dir, filepath.Join(s.recipe.Dir, "repos")}, s.cfg.Repo)
	return src, env, err
}

// candidates reads the history and returns its candidates, newest first,
// and the count of every commit by what became of it.
func (s *gitHistoryStage) candidates(ctx context.Context) ([]sdk.Task, map[string]int, error) {
	src, envName, err := s.source()
	if err != nil {
		return nil, nil, err
	}
	issueRe, err := regexp.Compile(s.cfg.IssuePattern)
	if err != nil {
		return nil, nil, err
	}
	var exclude *regexp.Regexp
	if s.cfg.ExcludeMessage != "" {
		if exclude, err = regexp.Compile(s.cfg.ExcludeMessage); err != nil {
			return nil, nil, err
		}
	}
	after, err := parseWhen(s.cfg.MergedAfter)
	if err != nil {
		return nil, nil, err
	}
	before, err := parseWhen(s.cfg.MergedBefore)
	if err != nil {
		return nil, nil, err
	}
	issues, err := readIssues(s.cfg.Issues)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "swelego-history-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	clone := filepath.Join(dir, "repo.git")
	if _, err := gitOut(ctx, "", "clone", "--quiet", "--mirror", src, clone); err != nil {
		return nil, nil, err
	}
	rev := s.cfg.Rev
	if rev == "" {
		rev = "HEAD"
	}
	log, err := gitOut(ctx, clone, "log", "--format=%H%x1f%P%x1f%cI%x1f%B%x1e", rev)
	if err != nil {
		return nil, nil, err
	}
	owner, name, _ := strings.Cut(s.cfg.Repo, "/")
	counts := map[string]int{}
	var out []sdk.Task
	usedIDs := map[string]bool{}
	for _, rec := range strings.Split(log, "\x1e") {
		f := strings.SplitN(strings.TrimLeft(rec, "\n"), "\x1f", 4)
		if len(f) < 4 {
			continue
		}
		commit, parents, msg := f[0], strings.Fields(f[1]), strings.TrimSpace(f[3])
		when, _ := time.Parse(time.RFC3339, f[2])
		reason, issue := "", 0
		if m := issueRe.FindStringSubmatch(msg); len(m) > 1 {
			issue, _ = strconv.Atoi(m[1])
		}
		switch {
		case len(parents) == 0:
			reason = historyRoot
		case exclude != nil && exclude.MatchString(msg):
			reason = historyExcluded
		case s.cfg.RequireIssue && issue == 0 && len(parents) < 2:
			reason = historyNoIssue
		case (!after.IsZero() && when.Before(after)) || (!before.IsZero() && !when.Before(before)):
			reason = historyOutOfRange
		}
		if reason != "" {
			counts[reason]++
			continue
		}
		base := parents[0]
		names, err := gitOut(ctx, clone, "diff", "--name-only", "--no-renames", base, commit)
		if err != nil {
			return nil, nil, err
		}
		nfiles := len(strings.Fields(names))
		switch {
		case nfiles < s.cfg.MinFiles:
			counts[historyTooFewFiles]++
			continue
		case nfiles > s.cfg.MaxFiles:
			counts[historyTooMany]++
			continue
		}
		statement, hints := msg, ""
		if is, ok := issues[issue]; ok && issue > 0 {
			statement = strings.TrimSpace(is.Title + "\n" + is.Body)
			var cs []string
			for _, c := range is.Comments {
				cs = append(cs, strings.TrimSpace(c.Body))
			}
			hints = strings.Join(cs, "\n")
			if len([]rune(statement)) < s.cfg.MinIssueChars {
				counts[historyIssueShort]++
				continue
			}
		} else if len(issues) > 0 && s.cfg.RequireIssue && len(parents) < 2 {
			counts[historyNoIssue]++
			continue
		}
		if s.cfg.MaxCandidates > 0 && len(out) >= s.cfg.MaxCandidates {
			counts[historyOverLimit]++
			continue
		}
		change, err := gitOut(ctx, clone, "diff", "--no-color", "--no-ext-diff", "--full-index", "--binary", "--src-prefix=a/", "--dst-prefix=b/", base, commit)
		if err != nil {
			return nil, nil, err
		}
		id := fmt.Sprintf("%s__%s-%s", owner, name, commit[:10])
		if issue > 0 && !usedIDs[fmt.Sprintf("%s__%s-%d", owner, name, issue)] {
			id = fmt.Sprintf("%s__%s-%d", owner, name, issue)
		}
		usedIDs[id] = true
		origin, _ := json.Marshal(HistoryOrigin{Commit: commit, Merge: len(parents) > 1, Issue: issue})
		counts[historyCandidate]++
		out = append(out, sdk.Task{
			InstanceID: id, Repo: s.cfg.Repo, BaseCommit: base, Patch: change,
			ProblemStatement: statement, HintsText: hints, CreatedAt: when.UTC().Format(time.RFC3339),
			Source: sdk.SourceReal, PatchDirection: sdk.PatchFixes, Environment: envName,
			Extra: map[string]json.RawMessage{HistoryField: origin},
		})
	}
	return out, counts, nil
}

// parseWhen reads an RFC 3339 time or a YYYY-MM-DD date; "" is zero.
func parseWhen(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

// readIssues reads a JSON Lines file of issues by number; "" is none.
func readIssues(path string) (map[int]historyIssue, error) {
	out := map[int]historyIssue{}
	if path == "" {
		return out, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var is historyIssue
		if err := json.Unmarshal(sc.Bytes(), &is); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if is.Number <= 0 {
			return nil, fmt.Errorf("%s:%d: an issue needs a positive number", path, line)
		}
		out[is.Number] = is
	}
	return out, sc.Err()
}

// gitOut runs git with a configuration the user's files cannot change and
// returns its output.
func gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "core.hooksPath=/dev/null"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}
