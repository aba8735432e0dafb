package github

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Config is the `source "github" "NAME" { … }` block.
type Config struct {
	// Repos are the repositories mined ("owner/name").
	Repos []string `json:"repos"`
	// Query is a repository search query (GitHub's search syntax); its
	// results are mined after Repos.
	Query string `json:"query"`
	// MaxRepos caps the repositories a query yields.
	MaxRepos int `json:"max_repos"`
	// MergedAfter and MergedBefore bound a pull request's merge date
	// (RFC 3339 or YYYY-MM-DD; either may be empty).
	MergedAfter  string `json:"merged_after"`
	MergedBefore string `json:"merged_before"`
	// TokenEnv names the environment variable holding the API token.
	TokenEnv string `json:"token_env"`
	// BaseURL is the API root of a GitHub Enterprise server
	// ("https://ghe.example.com/api/v3/"); empty: api.github.com.
	BaseURL string `json:"base_url"`
	// CacheDir holds the ETag cache and the journal.
	CacheDir string `json:"cache_dir"`
	// MinIssueChars is the shortest issue text (title and body) kept.
	MinIssueChars int `json:"min_issue_chars"`
	// MinFiles and MaxFiles bound the files a pull request changes.
	MinFiles int `json:"min_files"`
	MaxFiles int `json:"max_files"`
	// TestFiles, when set, are globs (sdk.MatchTestFile) of test files:
	// a pull request must change both a test file and another file.
	// Empty: the host checks it with the language's globs when it splits
	// the patch.
	TestFiles []string `json:"test_files"`
	// PerPage is the page size of list requests (at most 100).
	PerPage int `json:"per_page"`
	// MaxPulls caps the merged pull requests considered per repository.
	MaxPulls int `json:"max_pulls"`
	// MaxWait is the longest wait for a rate limit before failing.
	MaxWait string `json:"max_wait"`
}

// Schema is the configuration the task source accepts.
var Schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"repos":           {Type: sdk.TypeStringList, Description: "repositories to mine (owner/name)"},
	"query":           {Type: sdk.TypeString, Description: "a repository search query whose results are mined too (GitHub's search syntax, e.g. \"language:python stars:>500\")"},
	"max_repos":       {Type: sdk.TypeNumber, Default: 10, Description: "repositories a query yields at most"},
	"merged_after":    {Type: sdk.TypeString, Description: "keep pull requests merged at or after this time (RFC 3339 or YYYY-MM-DD), e.g. a model's cutoff"},
	"merged_before":   {Type: sdk.TypeString, Description: "keep pull requests merged before this time (RFC 3339 or YYYY-MM-DD)"},
	"token_env":       {Type: sdk.TypeString, Default: "GITHUB_TOKEN", Description: "environment variable holding the API token (never logged or stored)"},
	"base_url":        {Type: sdk.TypeString, Description: "API root of a GitHub Enterprise server (https://HOST/api/v3/); default api.github.com"},
	"cache_dir":       {Type: sdk.TypeString, Description: "folder of the ETag cache and the journal that makes a run resumable; default the user's cache folder (swelego/github)"},
	"min_issue_chars": {Type: sdk.TypeNumber, Default: 40, Description: "shortest issue text (title and body) kept"},
	"min_files":       {Type: sdk.TypeNumber, Default: 1, Description: "fewest files a pull request changes"},
	"max_files":       {Type: sdk.TypeNumber, Default: 15, Description: "most files a pull request changes"},
	"test_files":      {Type: sdk.TypeStringList, Description: "globs of test files; when set, a pull request must change a test file and a non-test file (the host checks it with the language's globs otherwise)"},
	"per_page":        {Type: sdk.TypeNumber, Default: 100, Description: "page size of list requests (at most 100)"},
	"max_pulls":       {Type: sdk.TypeNumber, Default: 0, Description: "merged pull requests considered per repository; 0: all"},
	"max_wait":        {Type: sdk.TypeString, Default: "1h", Description: "longest wait for a rate limit to reset before failing"},
}}

// settings is a checked Config.
type settings struct {
	Config
	after, before time.Time
	maxWait       time.Duration
	token         string
}

// check decodes and checks cfg; each problem names its attribute.
func check(cfg sdk.Config) (settings, sdk.Diagnostics, error) {
	var s settings
	if err := cfg.Decode(&s.Config); err != nil {
		return s, nil, fmt.Errorf("github: %w", err)
	}
	c := &s.Config
	if c.TokenEnv == "" {
		c.TokenEnv = "GITHUB_TOKEN"
	}
	if c.MinFiles == 0 && c.MaxFiles == 0 {
		c.MinFiles, c.MaxFiles = 1, 15
	}
	if c.PerPage == 0 {
		c.PerPage = 100
	}
	if c.MaxRepos == 0 {
		c.MaxRepos = 10
	}
	if c.MaxWait == "" {
		c.MaxWait = "1h"
	}
	var diags sdk.Diagnostics
	bad := func(attr, format string, args ...any) {
		diags = append(diags, sdk.Errorf(sdk.Attr(attr), "Invalid "+attr, format, args...))
	}
	if len(c.Repos) == 0 && c.Query == "" {
		bad("repos", "Give repos = [\"owner/name\", …] or a search query.")
	}
	for _, r := range c.Repos {
		if o, n, ok := strings.Cut(r, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
			bad("repos", "%q is not owner/name.", r)
		}
	}
	var err error
	if s.after, err = parseDate(c.MergedAfter); err != nil {
		bad("merged_after", "%v.", err)
	}
	if s.before, err = parseDate(c.MergedBefore); err != nil {
		bad("merged_before", "%v.", err)
	}
	if !s.after.IsZero() && !s.before.IsZero() && !s.after.Before(s.before) {
		bad("merged_before", "merged_before (%s) is not after merged_after (%s).", c.MergedBefore, c.MergedAfter)
	}
	if c.MinFiles < 1 || c.MaxFiles < c.MinFiles {
		bad("max_files", "Want 1 <= min_files <= max_files, not %d and %d.", c.MinFiles, c.MaxFiles)
	}
	if c.MinIssueChars < 0 {
		bad("min_issue_chars", "%d is negative.", c.MinIssueChars)
	}
	if c.PerPage < 1 || c.PerPage > 100 {
		bad("per_page", "%d is not between 1 and 100.", c.PerPage)
	}
	if c.MaxPulls < 0 || c.MaxRepos < 1 {
		bad("max_pulls", "max_pulls must not be negative and max_repos must be at least 1.")
	}
	if s.maxWait, err = time.ParseDuration(c.MaxWait); err != nil || s.maxWait < 0 {
		bad("max_wait", "%q is not a duration like \"30m\".", c.MaxWait)
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		bad("base_url", "%q is not an http(s) URL.", c.BaseURL)
	}
	if c.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		c.CacheDir = filepath.Join(dir, "swelego", "github")
	}
	s.token = os.Getenv(c.TokenEnv)
	return s, diags, nil
}

// parseDate reads an RFC 3339 time or a YYYY-MM-DD date (midnight UTC).
func parseDate(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", v)
}

// ValidateConfig implements sdk.ConfigValidator.
func (*Source) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	_, diags, err := check(req.Config)
	return sdk.ValidateConfigResponse{Diagnostics: diags}, err
}

// errConfig is returned when the configuration does not pass check.
var errConfig = errors.New("github: invalid configuration")
