package githubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fixture describes the repositories the stand-in serves.
type Fixture struct {
	Repos []Repo `json:"repos"`
}

// Repo is one repository.
type Repo struct {
	FullName string  `json:"full_name"`
	Pulls    []Pull  `json:"pulls"`
	Issues   []Issue `json:"issues"`
}

// Pull is a pull request.
type Pull struct {
	Number    int      `json:"number"`
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
	MergedAt  string   `json:"merged_at,omitempty"` // empty: closed without merging
	BaseSHA   string   `json:"base_sha"`
	HeadSHA   string   `json:"head_sha"`
	MergeBase string   `json:"merge_base"`
	MergeSHA  string   `json:"merge_commit_sha"`
	Diff      string   `json:"diff"`
	Files     []string `json:"files"`
	// Commits are the dates of the pull request's commits (RFC 3339).
	Commits []string `json:"commits"`
	// Linked are issues whose timeline event links them to the pull
	// request (cross-referenced from the issue).
	Linked []int `json:"linked,omitempty"`
}

// Issue is an issue (or, with IsPull, a pull request seen as an issue).
type Issue struct {
	Number   int       `json:"number"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	IsPull   bool      `json:"is_pull,omitempty"`
	Comments []Comment `json:"comments,omitempty"`
}

// Comment is an issue comment.
type Comment struct {
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
}

// LoadFixture reads a fixture file.
func LoadFixture(path string) (Fixture, error) {
	var f Fixture
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Options tune the stand-in.
type Options struct {
	// Token, when set, is the only token accepted (Authorization: Bearer
	// or token); other requests get 401.
	Token string
	// Limit is the primary rate limit per window (default 5000); Window
	// its length (default an hour). A 304 does not count, as on GitHub.
	Limit  int
	Window time.Duration
	// Secondary answers this many requests with 403 and Retry-After:
	// RetryAfter seconds (a negative RetryAfter: no header, as some
	// secondary-limit answers come) before serving normally again.
	Secondary  int
	RetryAfter int
	// Delay is added to every answer.
	Delay time.Duration
}

// Server is a running stand-in.
type Server struct {
	*httptest.Server
	opts  Options
	repos map[string]*Repo

	mu          sync.Mutex
	requests    int
	notModified int
	secondary   int
	used        int
	windowEnd   time.Time
	paths       map[string]int
	auth        []string
}

// Start serves fixture until the test's cleanup (or Close).
func Start(fix Fixture, opts Options) *Server {
	if opts.Limit == 0 {
		opts.Limit = 5000
	}
	if opts.Window == 0 {
		opts.Window = time.Hour
	}
	s := &Server{opts: opts, repos: map[string]*Repo{}, paths: map[string]int{}}
	for i := range fix.Repos {
		r := &fix.Repos[i]
		s.repos[strings.ToLower(r.FullName)] = r
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the API root to give the client ("http://127.0.0.1:PORT/api/v3/").
func (s *Server) BaseURL() string { return s.URL + "/api/v3/" }

// Counts are what the stand-in answered.
type Counts struct {
	Requests    int // every request
	NotModified int // 304 answers
	Secondary   int // 403 answers with Retry-After
}

// Counts returns what the stand-in answered so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Counts{Requests: s.requests, NotModified: s.notModified, Secondary: s.secondary}
}

// Authorizations returns the Authorization headers received.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

type answer struct {
	status int
	body   []byte
	ctype  string
	link   string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.opts.Delay > 0 {
		time.Sleep(s.opts.Delay)
	}
	s.mu.Lock()
	s.requests++
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	now := time.Now()
	if now.After(s.windowEnd) {
		s.windowEnd, s.used = now.Add(s.opts.Window), 0
	}
	secondary := s.secondary < s.opts.Secondary
	if secondary {
		s.secondary++
	}
	s.mu.Unlock()

	w.Header().Set("X-GitHub-Api-Version", "2022-11-28")
	if s.opts.Token != "" {
		got := r.Header.Get("Authorization")
		if got != "Bearer "+s.opts.Token && got != "token "+s.opts.Token {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
	}
	if secondary {
		if s.opts.RetryAfter >= 0 {
			w.Header().Set("Retry-After", strconv.Itoa(s.opts.RetryAfter))
		}
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
		return
	}
	a := s.route(r)
	etag := ""
	if a.status == http.StatusOK {
		sum := sha256.Sum256(append([]byte(r.Header.Get("Accept")+"\n"), a.body...))
		etag = `W/"` + hex.EncodeToString(sum[:16]) + `"`
	}
	s.mu.Lock()
	notModified := etag != "" && r.Header.Get("If-None-Match") == etag
	limited := false
	if notModified {
		s.notModified++
	} else if s.used >= s.opts.Limit {
		limited = true
	} else {
		s.used++
	}
	remaining, reset := s.opts.Limit-s.used, s.windowEnd
	s.paths[r.URL.Path]++
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.opts.Limit-remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	if limited {
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           "API rate limit exceeded for user ID 1.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
		return
	}
	if etag != "" {
		h.Set("ETag", etag)
	}
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if a.link != "" {
		h.Set("Link", a.link)
	}
	h.Set("Content-Type", a.ctype)
	w.WriteHeader(a.status)
	w.Write(a.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func jsonAnswer(v any) answer {
	data, _ := json.Marshal(v)
	return answer{status: http.StatusOK, body: data, ctype: "application/json; charset=utf-8"}
}

func notFound() answer {
	data, _ := json.Marshal(map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	return answer{status: http.StatusNotFound, body: data, ctype: "application/json; charset=utf-8"}
}

// route answers a GET below /api/v3.
func (s *Server) route(r *http.Request) answer {
	if r.Method != http.MethodGet {
		return notFound()
	}
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) == 2 && parts[0] == "search" && parts[1] == "repositories" {
		return s.search(r)
	}
	if len(parts) < 4 || parts[0] != "repos" {
		return notFound()
	}
	repo := s.repos[strings.ToLower(parts[1]+"/"+parts[2])]
	if repo == nil {
		return notFound()
	}
	rest := parts[3:]
	switch {
	case len(rest) == 1 && rest[0] == "pulls":
		return s.listPulls(r, repo)
	case len(rest) >= 2 && rest[0] == "pulls":
		pr := repo.pull(rest[1])
		if pr == nil {
			return notFound()
		}
		switch {
		case len(rest) == 2 && strings.Contains(r.Header.Get("Accept"), "diff"):
			return answer{status: http.StatusOK, body: []byte(pr.Diff), ctype: "text/plain; charset=utf-8"}
		case len(rest) == 2:
			return jsonAnswer(s.pullJSON(repo, pr))
		case len(rest) == 3 && rest[2] == "files":
			var out []any
			for _, f := range pr.Files {
				out = append(out, map[string]any{"sha": sha(f), "filename": f, "status": "modified", "additions": 1, "deletions": 1, "changes": 2,
					"blob_url": s.URL + "/" + repo.FullName + "/blob/" + pr.HeadSHA + "/" + f})
			}
			return s.page(r, out)
		case len(rest) == 3 && rest[2] == "commits":
			var out []any
			for i, when := range pr.Commits {
				who := map[string]any{"name": "Dev", "email": "dev@example.com", "date": when}
				out = append(out, map[string]any{"sha": sha(fmt.Sprint(pr.Number, i)), "commit": map[string]any{"author": who, "committer": who, "message": "work"}})
			}
			return s.page(r, out)
		}
	case len(rest) == 2 && rest[0] == "compare":
		base, head, ok := strings.Cut(rest[1], "...")
		for i := range repo.Pulls {
			pr := &repo.Pulls[i]
			if ok && pr.BaseSHA == base && pr.HeadSHA == head {
				return jsonAnswer(map[string]any{"url": s.URL, "status": "ahead", "ahead_by": len(pr.Commits), "behind_by": 0,
					"base_commit": map[string]any{"sha": base}, "merge_base_commit": map[string]any{"sha": pr.MergeBase}, "commits": []any{}, "files": []any{}})
			}
		}
		return notFound()
	case len(rest) >= 2 && rest[0] == "issues":
		n, _ := strconv.Atoi(rest[1])
		if len(rest) == 3 && rest[2] == "timeline" {
			return s.timeline(r, repo, n)
		}
		is := repo.issue(n)
		if is == nil {
			return notFound()
		}
		switch {
		case len(rest) == 2:
			return jsonAnswer(s.issueJSON(repo, is))
		case len(rest) == 3 && rest[2] == "comments":
			var out []any
			for i, c := range is.Comments {
				out = append(out, map[string]any{"id": n*1000 + i, "body": c.Body, "created_at": c.CreatedAt, "updated_at": c.CreatedAt,
					"user": map[string]any{"login": "user", "id": 7, "type": "User"}, "author_association": "NONE"})
			}
			return s.page(r, out)
		}
	}
	return notFound()
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:20])
}

func (r *Repo) pull(num string) *Pull {
	n, _ := strconv.Atoi(num)
	for i := range r.Pulls {
		if r.Pulls[i].Number == n {
			return &r.Pulls[i]
		}
	}
	return nil
}

func (r *Repo) issue(n int) *Issue {
	for i := range r.Issues {
		if r.Issues[i].Number == n {
			return &r.Issues[i]
		}
	}
	return nil
}

func (s *Server) repoURL(repo *Repo) string { return s.URL + "/api/v3/repos/" + repo.FullName }

func (s *Server) pullJSON(repo *Repo, pr *Pull) map[string]any {
	state := "closed"
	var merged any
	if pr.MergedAt != "" {
		merged = pr.MergedAt
	}
	owner, _, _ := strings.Cut(repo.FullName, "/")
	return map[string]any{
		"url": s.repoURL(repo) + "/pulls/" + strconv.Itoa(pr.Number), "id": pr.Number + 100000, "number": pr.Number,
		"state": state, "locked": false, "title": pr.Title, "body": pr.Body,
		"user":       map[string]any{"login": "dev", "id": 8, "type": "User"},
		"created_at": pr.CreatedAt, "updated_at": pr.UpdatedAt, "closed_at": pr.UpdatedAt, "merged_at": merged,
		"merge_commit_sha": pr.MergeSHA, "draft": false,
		"html_url": "https://github.com/" + repo.FullName + "/pull/" + strconv.Itoa(pr.Number),
		"diff_url": "https://github.com/" + repo.FullName + "/pull/" + strconv.Itoa(pr.Number) + ".diff",
		"head":     map[string]any{"label": owner + ":fix", "ref": "fix", "sha": pr.HeadSHA},
		"base":     map[string]any{"label": owner + ":main", "ref": "main", "sha": pr.BaseSHA},
	}
}

func (s *Server) issueJSON(repo *Repo, is *Issue) map[string]any {
	out := map[string]any{
		"url": s.repoURL(repo) + "/issues/" + strconv.Itoa(is.Number), "repository_url": s.repoURL(repo),
		"id": is.Number + 200000, "number": is.Number, "title": is.Title, "body": is.Body, "state": "closed",
		"user": map[string]any{"login": "reporter", "id": 9, "type": "User"}, "labels": []any{}, "comments": len(is.Comments),
		"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
		"html_url": "https://github.com/" + repo.FullName + "/issues/" + strconv.Itoa(is.Number),
	}
	if is.IsPull {
		out["pull_request"] = map[string]any{"url": s.repoURL(repo) + "/pulls/" + strconv.Itoa(is.Number)}
	}
	return out
}

// listPulls serves GET /repos/O/R/pulls: closed pull requests, most
// recently updated first.
func (s *Server) listPulls(r *http.Request, repo *Repo) answer {
	pulls := append([]Pull(nil), repo.Pulls...)
	sort.SliceStable(pulls, func(i, j int) bool { return pulls[i].UpdatedAt > pulls[j].UpdatedAt })
	if r.URL.Query().Get("direction") == "asc" {
		sort.SliceStable(pulls, func(i, j int) bool { return pulls[i].UpdatedAt < pulls[j].UpdatedAt })
	}
	out := make([]any, len(pulls))
	for i := range pulls {
		out[i] = s.pullJSON(repo, &pulls[i])
	}
	return s.page(r, out)
}

// timeline serves an issue's timeline: for a pull request, a
// cross-referenced event from each linked issue.
func (s *Server) timeline(r *http.Request, repo *Repo, n int) answer {
	var out []any
	if pr := repo.pull(strconv.Itoa(n)); pr != nil {
		out = append(out, map[string]any{"event": "committed", "sha": pr.HeadSHA})
		for _, num := range pr.Linked {
			if is := repo.issue(num); is != nil {
				out = append(out, map[string]any{"event": "cross-referenced", "created_at": pr.CreatedAt,
					"actor":  map[string]any{"login": "reporter", "id": 9},
					"source": map[string]any{"type": "issue", "issue": s.issueJSON(repo, is)}})
			}
		}
	}
	return s.page(r, out)
}

// search serves GET /search/repositories: every repository whose name
// contains the query's first word.
func (s *Server) search(r *http.Request) answer {
	q := strings.Fields(r.URL.Query().Get("q"))
	var items []any
	var names []string
	for name := range s.repos {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(q) == 0 || strings.Contains(name, strings.ToLower(q[0])) {
			items = append(items, map[string]any{"id": len(items) + 1, "full_name": s.repos[name].FullName, "name": name})
		}
	}
	a := s.page(r, items)
	var page []any
	json.Unmarshal(a.body, &page)
	a2 := jsonAnswer(map[string]any{"total_count": len(items), "incomplete_results": false, "items": page})
	a2.link = a.link
	return a2
}

// page serves one page of items (per_page, page) with GitHub's Link
// header.
func (s *Server) page(r *http.Request, items []any) answer {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	if per > 100 {
		per = 100
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	last := (len(items) + per - 1) / per
	if last == 0 {
		last = 1
	}
	lo, hi := min((page-1)*per, len(items)), min(page*per, len(items))
	a := jsonAnswer(append([]any{}, items[lo:hi]...))
	link := func(p int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		u.RawQuery = v.Encode()
		return fmt.Sprintf(`<%s>; rel="%s"`, u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	a.link = strings.Join(links, ", ")
	return a
}
