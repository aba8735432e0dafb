package github

import (
	"context"
	"encoding/json"

	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/swelego/swelego/sdk"
)

// Reasons a merged pull request is not a candidate (Counts' keys).
const (
	ReasonNotMerged     = "not_merged"
	ReasonMergedEarly   = "merged_before_range"
	ReasonMergedLate    = "merged_after_range"
	ReasonNoIssue       = "no_issue"
	ReasonSeveralIssues = "several_issues"
	ReasonIssueIsPull   = "issue_is_pull_request"
	ReasonIssueShort    = "issue_too_short"
	ReasonTooFewFiles   = "too_few_files"
	ReasonTooManyFiles  = "too_many_files"
	ReasonNoTestFiles   = "no_test_files"
	ReasonOnlyTestFiles = "only_test_files"
	ReasonNoDiff        = "no_diff"
	// Candidate counts the pull requests that became candidates.
	Candidate = "candidate"
)

// GitHubField is the Extra member of a mined task that says where it came
// from (an Origin).
const GitHubField = "github"

// Origin is where a mined task came from.
type Origin struct {
	Pull           int    `json:"pull_number"`
	Issue          int    `json:"issue_number"`
	MergedAt       string `json:"merged_at"`
	MergeCommitSHA string `json:"merge_commit_sha,omitempty"`
	URL            string `json:"html_url,omitempty"`
}

// Source mines merged pull requests into candidate tasks. The zero value
// is ready; the fields are for tests and the benchmark.
type Source struct {
	// HTTP is the transport below the etiquette layer; nil: the default.
	HTTP http.RoundTripper
	// Stats, when set, counts the transport's requests.
	Stats *Stats
	// Sleep waits for rate limits; nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives progress lines; nil: standard error.
	Log io.Writer

	mu     sync.Mutex
	counts map[string]map[string]int // repository → reason → pull requests
}

var (
	_ sdk.TaskSource      = (*Source)(nil)
	_ sdk.ConfigValidator = (*Source)(nil)
)

// New returns the plugin: a task source.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "github",
		Version:     Version,
		Description: "mines merged GitHub pull requests that resolve one issue into candidate tasks (SWE-rebench's filters)",
		TaskSource:  &Source{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindTaskSource: Schema},
	}
}

// Counts returns, per repository, the pull requests considered by reason
// (Candidate for those that became candidates) in the last Tasks call.
func (s *Source) Counts() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]int{}
	for r, m := range s.counts {
		out[r] = map[string]int{}
		for k, v := range m {
			out[r][k] = v
		}
	}
	return out
}

func (s *Source) count(repo, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts[repo] == nil {
		s.counts[repo] = map[string]int{}
	}
	s.counts[repo][reason]++
}

// miner is one Tasks call.
type miner struct {
	*Source
	cfg    settings
	client *gh.Client
	send   func(sdk.Task) error
}

// Tasks mines every repository in turn (repos, then the query's results)
// and sends each candidate. Pull requests are listed most recently
// updated first, so the listing stops at the first page older than
// merged_after.
func (s *Source) Tasks(ctx context.Context, cfg sdk.Config, send func(sdk.Task) error) error {
	c, diags, err := check(cfg)
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		var msgs []string
		for _, d := range diags {
			msgs = append(msgs, d.Path.String()+": "+d.Detail)
		}
		return fmt.Errorf("%w: %s", errConfig, strings.Join(msgs, "; "))
	}
	s.mu.Lock()
	s.counts = map[string]map[string]int{}
	s.mu.Unlock()
	m := &miner{Source: s, cfg: c, send: send}
	if m.client, err = s.newClient(c); err != nil {
		return err
	}
	repos := append([]string(nil), c.Repos...)
	if c.Query != "" {
		found, err := m.search(ctx)
		if err != nil {
			return err
		}
		repos = append(repos, found...)
	}
	seen := map[string]bool{}
	for _, repo := range repos {
		if seen[strings.ToLower(repo)] {
			continue
		}
		seen[strings.ToLower(repo)] = true
		if err := m.mineRepo(ctx, repo); err != nil {
			return err
		}
		s.logCounts(repo)
	}
	return nil
}

// newClient makes the go-github client over the etiquette transport.
func (s *Source) newClient(c settings) (*gh.Client, error) {
	base := s.HTTP
	if base == nil {
		base = http.DefaultTransport
	}
	stats := s.Stats
	if stats == nil {
		stats = &Stats{}
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	t := &transport{base: base, token: c.token, cache: c.CacheDir, maxWait: c.maxWait, stats: stats, sleep: sleep, now: time.Now}
	client := gh.NewClient(&http.Client{Transport: t})
	if c.BaseURL != "" {
		var err error
		if client, err = client.WithEnterpriseURLs(c.BaseURL, c.BaseURL); err != nil {
			return nil, fmt.Errorf("github: base_url: %w", err)
		}
	}
	return client, nil
}

func (s *Source) logf(format string, args ...any) {
	w := s.Log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, format+"\n", args...)
}

func (s *Source) logCounts(repo string) {
	counts := s.Counts()[repo]
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	s.logf("github: %s: %s", repo, strings.Join(parts, " "))
}

// search returns the full names of the repositories the query finds, at
// most max_repos, best match first.
func (m *miner) search(ctx context.Context) ([]string, error) {
	var out []string
	opts := &gh.SearchOptions{ListOptions: gh.ListOptions{PerPage: min(m.cfg.PerPage, m.cfg.MaxRepos)}}
	for len(out) < m.cfg.MaxRepos {
		res, resp, err := m.client.Search.Repositories(ctx, m.cfg.Query, opts)
		if err != nil {
			return nil, fmt.Errorf("github: search repositories: %w", err)
		}
		for _, r := range res.Repositories {
			if len(out) < m.cfg.MaxRepos {
				out = append(out, r.GetFullName())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// mineRepo lists a repository's closed pull requests page by page and
// decides each merged one, from the journal when it was decided before.
func (m *miner) mineRepo(ctx context.Context, repo string) error {
	owner, name, _ := strings.Cut(repo, "/")
	j, err := openJournal(filepath.Join(m.cfg.CacheDir, "journal"), journalName(m.cfg, repo))
	if err != nil {
		return err
	}
	defer j.Close()
	opts := &gh.PullRequestListOptions{State: "closed", Sort: "updated", Direction: "desc",
		ListOptions: gh.ListOptions{PerPage: m.cfg.PerPage}}
	considered := 0
	for {
		prs, resp, err := m.client.PullRequests.List(ctx, owner, name, opts)
		if err != nil {
			return fmt.Errorf("github: %s: list pull requests (page %d): %w", repo, max(opts.Page, 1), err)
		}
		older := false
		for _, pr := range prs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !m.cfg.after.IsZero() && pr.GetUpdatedAt().Before(m.cfg.after) {
				older = true // merged no later than updated: all that follow are older
				break
			}
			if pr.MergedAt == nil {
				m.count(repo, ReasonNotMerged)
				continue
			}
			if m.cfg.MaxPulls > 0 && considered >= m.cfg.MaxPulls {
				return nil
			}
			considered++
			if err := m.decide(ctx, j, owner, name, pr); err != nil {
				return err
			}
		}
		if older || resp.NextPage == 0 {
			return nil
		}
		opts.Page = resp.NextPage
	}
}

// decide makes pull request pr a candidate or a rejection, records it in
// the journal and sends the candidate.
func (m *miner) decide(ctx context.Context, j *journal, owner, name string, pr *gh.PullRequest) error {
	repo := owner + "/" + name
	updated := pr.GetUpdatedAt().UTC().Format(time.RFC3339)
	d, ok := j.lookup(pr.GetNumber(), updated)
	if !ok {
		task, reason, err := m.candidate(ctx, owner, name, pr)
		if err != nil {
			return err
		}
		d = decision{Number: pr.GetNumber(), UpdatedAt: updated, Reason: reason}
		if reason == "" {
			d.Task = &task
		}
		if err := j.record(d); err != nil {
			return err
		}
	}
	if d.Task == nil {
		m.count(repo, d.Reason)
		return nil
	}
	m.count(repo, Candidate)
	return m.send(*d.Task)
}

// candidate applies the filters to a merged pull request, cheapest first,
// and builds its task. A filtered-out pull request gets a reason and no
// error; errors are the API's.
func (m *miner) candidate(ctx context.Context, owner, name string, pr *gh.PullRequest) (sdk.Task, string, error) {
	repo := owner + "/" + name
	num := pr.GetNumber()
	merged := pr.GetMergedAt().Time
	switch {
	case !m.cfg.after.IsZero() && merged.Before(m.cfg.after):
		return sdk.Task{}, ReasonMergedEarly, nil
	case !m.cfg.before.IsZero() && !merged.Before(m.cfg.before):
		return sdk.Task{}, ReasonMergedLate, nil
	}
	issues, _ := closingIssues(pr.GetTitle()+"\n"+pr.GetBody(), repo)
	if len(issues) == 0 {
		var err error
		if issues, err = m.timelineIssues(ctx, owner, name, num); err != nil {
			return sdk.Task{}, "", err
		}
	}
	switch {
	case len(issues) == 0:
		return sdk.Task{}, ReasonNoIssue, nil
	case len(issues) > 1:
		return sdk.Task{}, ReasonSeveralIssues, nil
	}
	issue, _, err := m.client.Issues.Get(ctx, owner, name, issues[0])
	if err != nil {
		return sdk.Task{}, "", fmt.Errorf("github: %s: issue %d: %w", repo, issues[0], err)
	}
	if issue.IsPullRequest() {
		return sdk.Task{}, ReasonIssueIsPull, nil
	}
	statement := strings.TrimSpace(issue.GetTitle() + "\n" + issue.GetBody())
	if len([]rune(statement)) < m.cfg.MinIssueChars {
		return sdk.Task{}, ReasonIssueShort, nil
	}
	files, err := m.files(ctx, owner, name, num)
	if err != nil {
		return sdk.Task{}, "", err
	}
	switch {
	case len(files) < m.cfg.MinFiles:
		return sdk.Task{}, ReasonTooFewFiles, nil
	case len(files) > m.cfg.MaxFiles:
		return sdk.Task{}, ReasonTooManyFiles, nil
	}
	if len(m.cfg.TestFiles) > 0 {
		tests := 0
		for _, f := range files {
			if sdk.MatchTestFile(m.cfg.TestFiles, f) {
				tests++
			}
		}
		switch {
		case tests == 0:
			return sdk.Task{}, ReasonNoTestFiles, nil
		case tests == len(files):
			return sdk.Task{}, ReasonOnlyTestFiles, nil
		}
	}
	diff, _, err := m.client.PullRequests.GetRaw(ctx, owner, name, num, gh.RawOptions{Type: gh.Diff})
	if err != nil {
		return sdk.Task{}, "", fmt.Errorf("github: %s: pull request %d: diff: %w", repo, num, err)
	}
	if strings.TrimSpace(diff) == "" {
		return sdk.Task{}, ReasonNoDiff, nil
	}
	base, err := m.mergeBase(ctx, owner, name, pr)
	if err != nil {
		return sdk.Task{}, "", err
	}
	firstCommit, err := m.firstCommit(ctx, owner, name, num)
	if err != nil {
		return sdk.Task{}, "", err
	}
	hints, err := m.hints(ctx, owner, name, issues[0], firstCommit)
	if err != nil {
		return sdk.Task{}, "", err
	}
	origin, _ := json.Marshal(Origin{Pull: num, Issue: issues[0], MergedAt: merged.UTC().Format(time.RFC3339),
		MergeCommitSHA: pr.GetMergeCommitSHA(), URL: pr.GetHTMLURL()})
	return sdk.Task{
		InstanceID:       fmt.Sprintf("%s__%s-%d", owner, name, num),
		Repo:             repo,
		BaseCommit:       base,
		Patch:            diff,
		ProblemStatement: statement,
		HintsText:        hints,
		CreatedAt:        pr.GetCreatedAt().UTC().Format(time.RFC3339),
		Source:           sdk.SourceReal,
		PatchDirection:   sdk.PatchFixes,
		Extra:            map[string]json.RawMessage{GitHubField: origin},
	}, "", nil
}

// timelineIssues returns the issues of the same repository that the pull
// request's timeline links to: cross-references from an issue (not a pull
// request), as the sidebar's "linked issues" make them.
func (m *miner) timelineIssues(ctx context.Context, owner, name string, num int) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	opts := &gh.ListOptions{PerPage: m.cfg.PerPage}
	for {
		events, resp, err := m.client.Issues.ListIssueTimeline(ctx, owner, name, num, opts)
		if err != nil {
			return nil, fmt.Errorf("github: %s/%s: pull request %d: timeline: %w", owner, name, num, err)
		}
		for _, e := range events {
			if e.GetEvent() != "cross-referenced" || e.Source == nil || e.Source.Issue == nil {
				continue
			}
			is := e.Source.Issue
			if is.IsPullRequest() || !sameRepo(is, owner, name) || seen[is.GetNumber()] {
				continue
			}
			seen[is.GetNumber()] = true
			out = append(out, is.GetNumber())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.Ints(out)
	return out, nil
}

// sameRepo reports whether an issue belongs to owner/name, by its
// repository or its API URL.
func sameRepo(is *gh.Issue, owner, name string) bool {
	if r := is.GetRepository(); r != nil && r.GetFullName() != "" {
		return strings.EqualFold(r.GetFullName(), owner+"/"+name)
	}
	if u := is.GetRepositoryURL(); u != "" {
		return strings.HasSuffix(strings.ToLower(u), strings.ToLower("/repos/"+owner+"/"+name))
	}
	return false
}

// files returns the names of the files a pull request changes (a rename
// counts once, by its new name).
func (m *miner) files(ctx context.Context, owner, name string, num int) ([]string, error) {
	var out []string
	opts := &gh.ListOptions{PerPage: m.cfg.PerPage}
	for {
		fs, resp, err := m.client.PullRequests.ListFiles(ctx, owner, name, num, opts)
		if err != nil {
			return nil, fmt.Errorf("github: %s/%s: pull request %d: files: %w", owner, name, num, err)
		}
		for _, f := range fs {
			out = append(out, f.GetFilename())
		}
		if resp.NextPage == 0 || len(out) > m.cfg.MaxFiles {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// mergeBase is the commit the pull request's branch forked from its base
// branch: the task's base commit.
func (m *miner) mergeBase(ctx context.Context, owner, name string, pr *gh.PullRequest) (string, error) {
	cmp, _, err := m.client.Repositories.CompareCommits(ctx, owner, name, pr.GetBase().GetSHA(), pr.GetHead().GetSHA(), &gh.ListOptions{PerPage: 1})
	if err != nil {
		return "", fmt.Errorf("github: %s/%s: pull request %d: merge base: %w", owner, name, pr.GetNumber(), err)
	}
	sha := cmp.GetMergeBaseCommit().GetSHA()
	if sha == "" {
		return "", fmt.Errorf("github: %s/%s: pull request %d: the comparison names no merge base", owner, name, pr.GetNumber())
	}
	return sha, nil
}

// firstCommit returns when the pull request's first commit was made.
func (m *miner) firstCommit(ctx context.Context, owner, name string, num int) (time.Time, error) {
	cs, _, err := m.client.PullRequests.ListCommits(ctx, owner, name, num, &gh.ListOptions{PerPage: m.cfg.PerPage})
	if err != nil {
		return time.Time{}, fmt.Errorf("github: %s/%s: pull request %d: commits: %w", owner, name, num, err)
	}
	var first time.Time
	for _, c := range cs {
		when := c.GetCommit().GetCommitter().GetDate().Time
		if a := c.GetCommit().GetAuthor().GetDate().Time; !a.IsZero() && (when.IsZero() || a.Before(when)) {
			when = a
		}
		if !when.IsZero() && (first.IsZero() || when.Before(first)) {
			first = when
		}
	}
	return first, nil
}

// hints joins the issue's comments made before the pull request's first
// commit, as SWE-bench's hints_text.
func (m *miner) hints(ctx context.Context, owner, name string, issue int, before time.Time) (string, error) {
	var parts []string
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: m.cfg.PerPage}}
	for {
		cs, resp, err := m.client.Issues.ListComments(ctx, owner, name, issue, opts)
		if err != nil {
			return "", fmt.Errorf("github: %s/%s: issue %d: comments: %w", owner, name, issue, err)
		}
		for _, c := range cs {
			if before.IsZero() || c.GetCreatedAt().Before(before) {
				parts = append(parts, strings.TrimSpace(c.GetBody()))
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return strings.Join(parts, "\n"), nil
}
