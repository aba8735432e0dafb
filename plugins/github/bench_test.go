package github_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/swelego/swelego/plugins/github"
	"github.com/swelego/swelego/plugins/github/githubtest"
	"github.com/swelego/swelego/sdk"
)

// benchFixture is a repository of n merged pull requests, a third of
// which the filters reject (no issue), listed 100 a page.
func benchFixture(n int) githubtest.Fixture {
	repo := githubtest.Repo{FullName: "octo/bench"}
	for i := 1; i <= n; i++ {
		day := fmt.Sprintf("2024-%02d-%02dT%02d:%02d:00Z", 1+i%12, 1+i%28, i%24, i%60)
		body := fmt.Sprintf("Fixes #%d", 10000+i)
		if i%3 == 0 {
			body = "No issue."
		}
		repo.Pulls = append(repo.Pulls, githubtest.Pull{
			Number: i, Title: "fix", Body: body, CreatedAt: day, UpdatedAt: day, MergedAt: day,
			BaseSHA: fmt.Sprintf("b%039d", i), HeadSHA: fmt.Sprintf("h%039d", i), MergeBase: fmt.Sprintf("m%039d", i),
			Diff:  "diff --git a/pkg/a.py b/pkg/a.py\n--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -1 +1 @@\n-a\n+b\n",
			Files: []string{"pkg/a.py", "tests/test_a.py"}, Commits: []string{day},
		})
		repo.Issues = append(repo.Issues, githubtest.Issue{Number: 10000 + i, Title: "a bug",
			Body: "Something is wrong in a way that takes more than forty characters to say."})
	}
	return githubtest.Fixture{Repos: []githubtest.Repo{repo}}
}

// BenchmarkMine mines 300 pull requests from the stand-in with a cold
// cache (every request answered in full) and with a warm ETag cache and
// no journal (every request answered 304), and reports candidate pull
// requests processed per second and API requests per task. The two are
// each other's peer: the cache saves the API's rate limit, not requests.
func BenchmarkMine(b *testing.B) {
	const pulls = 300
	srv := githubtest.Start(benchFixture(pulls), githubtest.Options{Limit: 1 << 30})
	defer srv.Close()
	cfgFor := func(cache string) sdk.Config {
		return sdk.Config(fmt.Sprintf(`{"repos":["octo/bench"],"base_url":%q,"cache_dir":%q,"min_issue_chars":40,"per_page":100}`, srv.BaseURL(), cache))
	}
	mineOnce := func(b *testing.B, src *github.Source, cache string) int {
		n := 0
		if err := src.Tasks(context.Background(), cfgFor(cache), func(sdk.Task) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		return n
	}
	for _, warm := range []bool{false, true} {
		name := "cold-cache"
		if warm {
			name = "etag-cache"
		}
		b.Run(name, func(b *testing.B) {
			cache := b.TempDir()
			stats := &github.Stats{}
			src := &github.Source{Log: &bytes.Buffer{}, Stats: stats}
			if warm {
				mineOnce(b, src, cache)
			}
			stats.Requests.Store(0)
			stats.NotModified.Store(0)
			tasks := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := filepath.Join(cache, fmt.Sprint(i))
				if warm {
					dir = cache
					os.RemoveAll(filepath.Join(cache, "journal"))
				}
				b.StartTimer()
				tasks += mineOnce(b, src, dir)
			}
			b.StopTimer()
			b.ReportMetric(float64(pulls*b.N)/b.Elapsed().Seconds(), "prs/s")
			b.ReportMetric(float64(stats.Requests.Load())/float64(tasks), "requests/task")
			// A 304 does not count against GitHub's primary rate limit.
			b.ReportMetric(float64(stats.Requests.Load()-stats.NotModified.Load())/float64(tasks), "limited-requests/task")
		})
	}
}
