package github_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/plugins/github"
	"github.com/swelego/swelego/plugins/github/githubtest"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

func fixture(t testing.TB) githubtest.Fixture {
	t.Helper()
	f, err := githubtest.LoadFixture(filepath.Join("testdata", "widgets.json"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// config is the block the tests mine octo/widgets with.
func config(srv *githubtest.Server, cache string, extra map[string]any) sdk.Config {
	c := map[string]any{
		"repos": []string{"octo/widgets"}, "base_url": srv.BaseURL(), "cache_dir": cache,
		"merged_after": "2024-03-01", "merged_before": "2024-12-01T00:00:00Z",
		"per_page": 3, "token_env": "SWELEGO_TEST_GITHUB_TOKEN", "min_issue_chars": 40, // the schema's default, which the host applies
	}
	for k, v := range extra {
		c[k] = v
	}
	data, _ := json.Marshal(c)
	return sdk.Config(data)
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

// sleep records the wait and really waits: the stand-in's limits are
// real time.
func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func mine(t *testing.T, src *github.Source, cfg sdk.Config) []sdk.Task {
	t.Helper()
	var out []sdk.Task
	if err := src.Tasks(context.Background(), cfg, func(task sdk.Task) error { out = append(out, task); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(tasks []sdk.Task) []string {
	var out []string
	for _, t := range tasks {
		out = append(out, t.InstanceID)
	}
	sort.Strings(out)
	return out
}

func TestFilters(t *testing.T) {
	cases := []struct {
		name   string
		extra  map[string]any
		want   []string
		counts map[string]int
	}{
		{
			name:  "every filter, test files given",
			extra: map[string]any{"test_files": []string{"tests/**", "test_*.py"}},
			want:  []string{"octo__widgets-1", "octo__widgets-9"},
			counts: map[string]int{github.Candidate: 2, github.ReasonNotMerged: 1, github.ReasonNoIssue: 1, github.ReasonSeveralIssues: 1,
				github.ReasonIssueShort: 1, github.ReasonTooManyFiles: 1, github.ReasonNoTestFiles: 1, github.ReasonOnlyTestFiles: 1,
				github.ReasonMergedEarly: 1, github.ReasonMergedLate: 1, github.ReasonIssueIsPull: 1},
		},
		{
			name: "the host checks test files",
			want: []string{"octo__widgets-1", "octo__widgets-7", "octo__widgets-8", "octo__widgets-9"},
			counts: map[string]int{github.Candidate: 4, github.ReasonNotMerged: 1, github.ReasonNoIssue: 1, github.ReasonSeveralIssues: 1,
				github.ReasonIssueShort: 1, github.ReasonTooManyFiles: 1, github.ReasonMergedEarly: 1, github.ReasonMergedLate: 1, github.ReasonIssueIsPull: 1},
		},
		{
			name:  "a longer issue threshold",
			extra: map[string]any{"min_issue_chars": 110},
			want:  []string{"octo__widgets-1", "octo__widgets-7", "octo__widgets-8"},
			counts: map[string]int{github.Candidate: 3, github.ReasonNotMerged: 1, github.ReasonNoIssue: 1, github.ReasonSeveralIssues: 1,
				github.ReasonIssueShort: 2, github.ReasonTooManyFiles: 1, github.ReasonMergedEarly: 1, github.ReasonMergedLate: 1, github.ReasonIssueIsPull: 1},
		},
		{
			name:  "more files allowed, two at least",
			extra: map[string]any{"min_files": 2, "max_files": 16},
			want:  []string{"octo__widgets-1", "octo__widgets-6", "octo__widgets-9"},
			counts: map[string]int{github.Candidate: 3, github.ReasonNotMerged: 1, github.ReasonNoIssue: 1, github.ReasonSeveralIssues: 1,
				github.ReasonIssueShort: 1, github.ReasonTooFewFiles: 2, github.ReasonMergedEarly: 1, github.ReasonMergedLate: 1, github.ReasonIssueIsPull: 1},
		},
		{
			name:  "no date range: older pull requests are listed too",
			extra: map[string]any{"merged_after": "", "merged_before": "", "test_files": []string{"tests/**"}},
			want:  []string{"octo__widgets-1", "octo__widgets-10", "octo__widgets-11", "octo__widgets-13", "octo__widgets-9"},
			counts: map[string]int{github.Candidate: 5, github.ReasonNotMerged: 1, github.ReasonNoIssue: 1, github.ReasonSeveralIssues: 1,
				github.ReasonIssueShort: 1, github.ReasonTooManyFiles: 1, github.ReasonNoTestFiles: 1, github.ReasonOnlyTestFiles: 1, github.ReasonIssueIsPull: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := githubtest.Start(fixture(t), githubtest.Options{})
			defer srv.Close()
			src := &github.Source{Log: &bytes.Buffer{}}
			got := mine(t, src, config(srv, t.TempDir(), c.extra))
			if !reflect.DeepEqual(ids(got), c.want) {
				t.Errorf("candidates %v, want %v", ids(got), c.want)
			}
			if counts := src.Counts()["octo/widgets"]; !reflect.DeepEqual(counts, c.counts) {
				t.Errorf("counts %v\nwant   %v", counts, c.counts)
			}
		})
	}
}

func TestCandidateTask(t *testing.T) {
	fix := fixture(t)
	srv := githubtest.Start(fix, githubtest.Options{})
	defer srv.Close()
	got := mine(t, &github.Source{Log: &bytes.Buffer{}}, config(srv, t.TempDir(), nil))
	var task sdk.Task
	for _, g := range got {
		if g.InstanceID == "octo__widgets-1" {
			task = g
		}
	}
	pr := fix.Repos[0].Pulls[0]
	if task.Repo != "octo/widgets" || task.BaseCommit != pr.MergeBase || task.Patch != pr.Diff || task.TestPatch != "" {
		t.Errorf("task %+v: want the merge base %s and the whole diff as patch", task, pr.MergeBase)
	}
	if task.Source != sdk.SourceReal || task.PatchDirection != sdk.PatchFixes || task.CreatedAt != pr.CreatedAt || len(task.FailToPass) != 0 {
		t.Errorf("task source %q direction %q created %q F2P %v", task.Source, task.PatchDirection, task.CreatedAt, task.FailToPass)
	}
	if !strings.HasPrefix(task.ProblemStatement, "area() accepts a negative width\nCalling widgets.area()") {
		t.Errorf("problem statement %q: want the issue's title and body", task.ProblemStatement)
	}
	// Only the comment made before the pull request's first commit.
	if task.HintsText != "Confirmed on 1.2: area(-1, 2) == -2." {
		t.Errorf("hints %q", task.HintsText)
	}
	var origin github.Origin
	if err := json.Unmarshal(task.Extra[github.GitHubField], &origin); err != nil || origin.Pull != 1 || origin.Issue != 10 || origin.MergedAt != pr.MergedAt {
		t.Errorf("origin %+v (%v)", origin, err)
	}
}

// TestSecondaryRateLimit: a 403 with Retry-After is waited out and the
// request retried; nothing is lost.
func TestSecondaryRateLimit(t *testing.T) {
	srv := githubtest.Start(fixture(t), githubtest.Options{Secondary: 2, RetryAfter: 1})
	defer srv.Close()
	var sl sleeps
	src := &github.Source{Log: &bytes.Buffer{}, Sleep: sl.sleep}
	got := mine(t, src, config(srv, t.TempDir(), nil))
	if want := []string{"octo__widgets-1", "octo__widgets-7", "octo__widgets-8", "octo__widgets-9"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("candidates %v, want %v", ids(got), want)
	}
	if c := srv.Counts(); c.Secondary != 2 {
		t.Errorf("the stand-in answered %d secondary-limit 403s, want 2", c.Secondary)
	}
	if len(sl.d) != 2 || sl.d[0] != time.Second || sl.d[1] != time.Second {
		t.Errorf("waits %v, want two of Retry-After's 1s", sl.d)
	}
}

// TestSecondaryWithoutRetryAfter: a secondary-limit 403 without
// Retry-After waits a minute, as GitHub asks, then retries.
func TestSecondaryWithoutRetryAfter(t *testing.T) {
	srv := githubtest.Start(fixture(t), githubtest.Options{Secondary: 1, RetryAfter: -1})
	defer srv.Close()
	var waits []time.Duration
	src := &github.Source{Log: &bytes.Buffer{}, Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	if got := mine(t, src, config(srv, t.TempDir(), nil)); len(got) != 4 {
		t.Errorf("%d candidates, want 4", len(got))
	}
	if len(waits) != 1 || waits[0] != time.Minute {
		t.Errorf("waits %v, want one of a minute", waits)
	}
}

// An answer that is not about a rate limit (bad credentials) is an error
// at once, without a wait.
func TestBadCredentialsIsAnError(t *testing.T) {
	srv := githubtest.Start(fixture(t), githubtest.Options{Token: "right"})
	defer srv.Close()
	t.Setenv("SWELEGO_TEST_GITHUB_TOKEN", "wrong")
	src := &github.Source{Log: &bytes.Buffer{}, Sleep: func(context.Context, time.Duration) error { t.Error("waited"); return nil }}
	err := src.Tasks(context.Background(), config(srv, t.TempDir(), nil), func(sdk.Task) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "401 Bad credentials") {
		t.Errorf("error %v, want the API's 401", err)
	}
}

// TestPrimaryRateLimit: when X-RateLimit-Remaining reaches 0 the client
// waits for X-RateLimit-Reset instead of drawing 403s.
func TestPrimaryRateLimit(t *testing.T) {
	srv := githubtest.Start(fixture(t), githubtest.Options{Limit: 25, Window: 2 * time.Second})
	defer srv.Close()
	var sl sleeps
	src := &github.Source{Log: &bytes.Buffer{}, Sleep: sl.sleep}
	got := mine(t, src, config(srv, t.TempDir(), nil))
	if len(got) != 4 {
		t.Errorf("%d candidates, want 4", len(got))
	}
	if len(sl.d) == 0 {
		t.Fatal("the client never waited for the primary limit's reset")
	}
	for _, d := range sl.d {
		if d <= 0 || d > 4*time.Second {
			t.Errorf("wait %v: want one up to the window's reset", d)
		}
	}
}

// TestETagCache: a second run with the journal gone asks again with
// If-None-Match, every answer is a 304 and the tasks are the same.
func TestETagCache(t *testing.T) {
	srv := githubtest.Start(fixture(t), githubtest.Options{})
	defer srv.Close()
	cache := t.TempDir()
	stats := &github.Stats{}
	src := &github.Source{Log: &bytes.Buffer{}, Stats: stats}
	first := mine(t, src, config(srv, cache, nil))
	before := srv.Counts()
	if before.NotModified != 0 {
		t.Fatalf("a fresh cache drew %d 304s", before.NotModified)
	}
	if err := os.RemoveAll(filepath.Join(cache, "journal")); err != nil {
		t.Fatal(err)
	}
	second := mine(t, src, config(srv, cache, nil))
	after := srv.Counts()
	if !reflect.DeepEqual(first, second) {
		t.Errorf("the cached run made other tasks")
	}
	reqs, n304 := after.Requests-before.Requests, after.NotModified-before.NotModified
	if reqs != before.Requests || n304 != reqs {
		t.Errorf("second run: %d requests, %d answered 304; want %d, all 304", reqs, n304, before.Requests)
	}
	if stats.NotModified.Load() != int64(n304) {
		t.Errorf("the transport counted %d 304s, the stand-in %d", stats.NotModified.Load(), n304)
	}
}

// TestJournalResume: a run stopped after the first candidate resumes from
// the journal: the pull requests decided are not asked about again and
// every candidate is sent.
func TestJournalResume(t *testing.T) {
	srv := githubtest.Start(fixture(t), githubtest.Options{})
	defer srv.Close()
	cache := t.TempDir()
	src := &github.Source{Log: &bytes.Buffer{}}
	stop := errors.New("killed")
	var sent []string
	err := src.Tasks(context.Background(), config(srv, cache, nil), func(task sdk.Task) error {
		sent = append(sent, task.InstanceID)
		return stop
	})
	if !errors.Is(err, stop) || len(sent) != 1 {
		t.Fatalf("first run: %v, sent %v", err, sent)
	}
	full := srv.Counts().Requests
	got := mine(t, src, config(srv, cache, nil))
	if want := []string{"octo__widgets-1", "octo__widgets-7", "octo__widgets-8", "octo__widgets-9"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("resumed run sent %v, want %v", ids(got), want)
	}
	// A third run decides nothing again: only the list pages are asked for.
	third := srv.Counts().Requests
	mine(t, src, config(srv, cache, nil))
	if pages := srv.Counts().Requests - third; pages != 5 {
		t.Errorf("a run with everything journaled made %d requests, want the 5 list pages (first run: %d)", pages, full)
	}
}

// TestTokenNeverLeaks mines with a token, then with a wrong one and a
// missing repository, and greps the errors, the log, the cache, the
// journal and the tasks for it.
func TestTokenNeverLeaks(t *testing.T) {
	const token = "ghp_SECRETtoken0123456789abcdefSECRET"
	t.Setenv("SWELEGO_TEST_GITHUB_TOKEN", token)
	srv := githubtest.Start(fixture(t), githubtest.Options{Token: token})
	defer srv.Close()
	cache := t.TempDir()
	var log bytes.Buffer
	src := &github.Source{Log: &log}
	var everything bytes.Buffer
	tasks := mine(t, src, config(srv, cache, nil))
	if len(tasks) != 4 {
		t.Fatalf("%d candidates with the right token, want 4", len(tasks))
	}
	for _, a := range srv.Authorizations() {
		if a != "Bearer "+token {
			t.Fatalf("the stand-in got Authorization %q", a)
		}
	}
	data, _ := json.Marshal(tasks)
	everything.Write(data)

	wrong := githubtest.Start(fixture(t), githubtest.Options{Token: "another"})
	defer wrong.Close()
	for _, cfg := range []sdk.Config{
		config(wrong, t.TempDir(), nil),
		config(srv, cache, map[string]any{"repos": []string{"octo/missing"}}),
	} {
		err := src.Tasks(context.Background(), cfg, func(sdk.Task) error { return nil })
		if err == nil {
			t.Fatal("no error")
		}
		everything.WriteString(err.Error() + "\n")
		everything.WriteString(strings.ReplaceAll(err.Error(), "%", "") + "\n")
	}
	// Through the plugin protocol too: the error the host sees.
	c := sdktest.Connect(t, &sdk.Plugin{Name: "github", TaskSource: src})
	err := c.TaskSource().Tasks(context.Background(), config(wrong, t.TempDir(), nil), func(sdk.Task) error { return nil })
	if err == nil {
		t.Fatal("no error through the protocol")
	}
	everything.WriteString(err.Error())
	everything.Write(log.Bytes())
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			everything.Write(data)
		}
		return nil
	})
	if everything.Len() < 1000 {
		t.Fatalf("only %d bytes of logs, errors and files to search", everything.Len())
	}
	if bytes.Contains(everything.Bytes(), []byte(token)) || bytes.Contains(everything.Bytes(), []byte("SECRETtoken")) {
		t.Error("the token appears in the errors, the log, the cache or the tasks")
	}
}

func TestValidateConfig(t *testing.T) {
	c := sdktest.Connect(t, github.New())
	cases := []struct {
		name string
		cfg  string
		want []string // attributes with an error
	}{
		{"good", `{"repos":["a/b"],"merged_after":"2024-01-01"}`, nil},
		{"nothing to mine", `{}`, []string{"repos"}},
		{"not owner/name", `{"repos":["ab"]}`, []string{"repos"}},
		{"bad date", `{"repos":["a/b"],"merged_after":"yesterday"}`, []string{"merged_after"}},
		{"empty range", `{"repos":["a/b"],"merged_after":"2024-02-01","merged_before":"2024-01-01"}`, []string{"merged_before"}},
		{"files", `{"repos":["a/b"],"min_files":3,"max_files":2}`, []string{"max_files"}},
		{"page", `{"repos":["a/b"],"per_page":101}`, []string{"per_page"}},
		{"wait", `{"repos":["a/b"],"max_wait":"soon"}`, []string{"max_wait"}},
		{"url", `{"repos":["a/b"],"base_url":"ghe.local"}`, []string{"base_url"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			diags, err := c.ValidateConfig(context.Background(), sdk.KindTaskSource, sdk.Config(tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diags {
				got = append(got, d.Path.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("diagnostics at %v, want %v (%v)", got, tc.want, diags)
			}
		})
	}
}
