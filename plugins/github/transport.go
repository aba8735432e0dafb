package github

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what the transport did.
type Stats struct {
	Requests    atomic.Int64 // requests sent to the API
	NotModified atomic.Int64 // 304 answers served from the cache
	Waits       atomic.Int64 // waits for a rate limit
}

// maxRetries bounds the retries of one request after a rate-limit answer
// or a server error.
const maxRetries = 6

// transport makes the API requests: it adds the token, sends conditional
// requests with the ETag of the cached answer and serves a 304 from the
// cache, waits for the primary rate limit's reset when it is spent, and
// backs off on a secondary rate limit (403/429 with Retry-After) and on
// server errors. It is the only place that waits: every answer it returns
// carries X-From-Cache so go-github keeps no rate-limit state of its own.
type transport struct {
	base    http.RoundTripper
	token   string
	cache   string // folder of cached answers; empty: no cache
	maxWait time.Duration
	stats   *Stats
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time

	mu    sync.Mutex
	reset time.Time // when the spent primary limit resets; zero: not spent
}

// cached is an answer kept on disk, by method, URL and Accept header.
type cached struct {
	ETag   string      `json:"etag"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// keptHeaders are the headers of an answer the cache keeps (the Link
// header makes pagination work from the cache).
var keptHeaders = []string{"Content-Type", "Link", "ETag"}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	key := t.key(req)
	entry := t.load(key)
	for attempt := 0; ; attempt++ {
		if err := t.waitPrimary(ctx); err != nil {
			return nil, err
		}
		r := req.Clone(ctx)
		if t.token != "" {
			r.Header.Set("Authorization", "Bearer "+t.token)
		}
		if entry != nil {
			r.Header.Set("If-None-Match", entry.ETag)
		}
		t.stats.Requests.Add(1)
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		t.notePrimary(resp)
		switch {
		case resp.StatusCode == http.StatusNotModified && entry != nil:
			resp.Body.Close()
			t.stats.NotModified.Add(1)
			return entry.response(req, resp), nil
		case (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) && attempt < maxRetries:
			wait, ok := t.backoff(resp, attempt)
			if !ok {
				break
			}
			drain(resp)
			if err := t.wait(ctx, wait); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode >= 500 && attempt < 3:
			drain(resp)
			if err := t.wait(ctx, time.Duration(1<<attempt)*time.Second); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "" && t.cache != "":
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			c := &cached{ETag: resp.Header.Get("ETag"), Header: http.Header{}, Body: body}
			for _, h := range keptHeaders {
				if v := resp.Header.Values(h); len(v) > 0 {
					c.Header[h] = v
				}
			}
			t.store(key, c)
			resp.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp.Header.Set("X-From-Cache", "1")
		return resp, nil
	}
}

// backoff says how long to wait after a 403 or 429: Retry-After when the
// answer gives it (a secondary rate limit), the primary limit's reset when
// X-RateLimit-Remaining is 0, else a growing wait when the body says it is
// a rate limit. ok is false for a 403 that is not about rate limits.
func (t *transport) backoff(resp *http.Response, attempt int) (time.Duration, bool) {
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		return 0, true // waitPrimary waits for the reset noted
	}
	// GitHub's advice for a secondary limit without Retry-After: wait at
	// least a minute, longer on each retry.
	if resp.StatusCode == http.StatusTooManyRequests || bodySays(resp, "rate limit") {
		return time.Duration(60<<attempt) * time.Second, true
	}
	return 0, false
}

// bodySays reports whether the start of the answer's body mentions what
// (case-insensitively), leaving the body readable.
func bodySays(resp *http.Response, what string) bool {
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return bytes.Contains(bytes.ToLower(head), []byte(what))
}

// notePrimary remembers the primary limit's reset when an answer says the
// limit is spent.
func (t *transport) notePrimary(resp *http.Response) {
	if resp.Header.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	secs, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return
	}
	t.mu.Lock()
	t.reset = time.Unix(secs, 0)
	t.mu.Unlock()
}

// waitPrimary waits until a spent primary limit resets.
func (t *transport) waitPrimary(ctx context.Context) error {
	t.mu.Lock()
	reset := t.reset
	t.reset = time.Time{}
	t.mu.Unlock()
	if reset.IsZero() {
		return nil
	}
	// One second past the reset: GitHub's clock and ours differ a little.
	return t.wait(ctx, reset.Sub(t.now())+time.Second)
}

func (t *transport) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if d > t.maxWait {
		return fmt.Errorf("github: the rate limit resets in %s, more than max_wait (%s)", d.Round(time.Second), t.maxWait)
	}
	t.stats.Waits.Add(1)
	return t.sleep(ctx, d)
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// key names a cached answer: method, URL and the Accept header (the diff
// and the JSON of a pull request share a URL).
func (t *transport) key(req *http.Request) string {
	sum := sha256.Sum256([]byte(req.Method + " " + req.URL.String() + "\n" + req.Header.Get("Accept")))
	return hex.EncodeToString(sum[:])
}

func (t *transport) path(key string) string {
	return filepath.Join(t.cache, "http", key[:2], key+".json")
}

func (t *transport) load(key string) *cached {
	if t.cache == "" {
		return nil
	}
	data, err := os.ReadFile(t.path(key))
	if err != nil {
		return nil
	}
	var c cached
	if json.Unmarshal(data, &c) != nil || c.ETag == "" {
		return nil
	}
	return &c
}

// store writes an answer atomically; a failure only costs a full request
// next time.
func (t *transport) store(key string, c *cached) {
	data, err := json.Marshal(c)
	if err != nil {
		return
	}
	p := t.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-")
	if err != nil {
		return
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr != nil || cerr != nil {
		os.Remove(f.Name())
		return
	}
	if os.Rename(f.Name(), p) != nil {
		os.Remove(f.Name())
	}
}

// response turns a cached answer into the 200 a 304 stands for, with the
// 304's rate-limit headers.
func (c *cached) response(req *http.Request, notModified *http.Response) *http.Response {
	h := notModified.Header.Clone()
	for k, v := range c.Header {
		h[k] = v
	}
	h.Set("X-From-Cache", "1")
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: notModified.Proto,
		ProtoMajor: notModified.ProtoMajor, ProtoMinor: notModified.ProtoMinor,
		Header: h, Body: io.NopCloser(bytes.NewReader(c.Body)),
		ContentLength: int64(len(c.Body)), Request: req,
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
