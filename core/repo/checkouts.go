package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/swelego/swelego/core/gitsafe"
)

// Shared checkouts.
//
// Making a sanitised checkout costs a clone, a checkout and
// gitsafe.Sanitize (a few dozen git commands), and every grading of a task
// needs one. Prepared and Shared keep them on disk under Dir/checkouts, one
// folder per key, so that the gradings of one (repository, base commit)
// after the first only copy it. An entry is
//
//	checkouts/<key>/meta.json   what it holds (sharedMeta)
//	checkouts/<key>/repo/       the checkout
//
// and is made in checkouts/.tmp-* and renamed into place whole, so an entry
// that exists is complete; two processes that make the same entry at once
// both succeed and one of them keeps its copy. Entries are read-only by
// contract: callers copy them (sandbox backends copy Spec.Repo and never
// write to it) and hold a shared flock on the entry's folder while they
// do. Eviction takes the exclusive lock without waiting, renames the entry
// to checkouts/.old-* and removes it, so an entry in use is never removed
// and a caller that opened an entry just as it was evicted notices (the
// path no longer names the folder it locked) and makes it again.
//
// The key covers everything the content depends on: the source, the full
// commit id (a symbolic name is resolved first: a branch moves) and
// gitsafe.Version with sharedVersion, so a checkout made by an older
// sanitiser or by an older layout is never reused.

// sharedVersion changes whenever what an entry holds changes for a reason
// gitsafe.Version does not cover (the steps of Checkout, the layout).
const sharedVersion = "repo-shared/1"

// Defaults of the bounds on shared checkouts.
const (
	DefaultMaxCheckouts     = 32
	DefaultMaxCheckoutBytes = 8 << 30
)

// staleTemp is how old a checkouts/.tmp-* folder must be to be taken for
// the leftover of a killed process and removed.
const staleTemp = 6 * time.Hour

// sharedMeta is an entry's meta.json.
type sharedMeta struct {
	Version string    `json:"version"`
	Key     string    `json:"key"`
	Commit  string    `json:"commit"` // HEAD of repo/
	Bytes   int64     `json:"bytes"`  // size of repo/
	Created time.Time `json:"created"`
}

// Checkout is a shared, read-only checkout: Dir holds the repository with
// HEAD at Commit. Copy it, never write to it, and Release it when done.
type Checkout struct {
	Dir    string
	Commit string
	lock   *os.File
}

// Release drops the hold on the checkout; it may then be evicted. It may
// be called more than once.
func (s *Checkout) Release() {
	if s != nil && s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
		s.lock = nil
	}
}

// fullID matches a full SHA-1 or SHA-256 commit id.
var fullID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// Prepared returns a shared sanitised checkout of src at commit: what
// Checkout makes in a folder of its own, made once per (src, commit) and
// kept under Dir/checkouts (see Shared).
func (c *Cache) Prepared(ctx context.Context, src, commit string) (*Checkout, error) {
	id, err := c.CommitID(ctx, src, commit)
	if err != nil {
		return nil, err
	}
	key := Key("checkout", src, id)
	return c.Shared(ctx, key, func(ctx context.Context, dest string) (string, error) {
		if err := c.Checkout(ctx, src, id, dest); err != nil {
			return "", err
		}
		return id, nil
	})
}

// CommitID returns rev as a full commit id: rev itself when it is one,
// else the commit it names in src now (a branch moves, so a key must never
// hold its name).
func (c *Cache) CommitID(ctx context.Context, src, rev string) (string, error) {
	if id := strings.ToLower(rev); fullID.MatchString(id) {
		return id, nil
	}
	return c.Resolve(ctx, src, rev)
}

// Key names a shared entry made from parts, for Shared: the same parts
// give the same key, and the key changes with the versions of the
// sanitiser (gitsafe.Version) and of the entry layout.
func Key(parts ...string) string {
	h := sha256.New()
	for _, p := range append([]string{sharedVersion, gitsafe.Version}, parts...) {
		fmt.Fprintf(h, "%d:%s\x00", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:20])
}

// Shared returns the shared checkout named key, making it with make the
// first time: build fills dest (which does not exist yet) with a sanitised
// repository and returns the commit its HEAD is at. key must name
// everything the content depends on (Key helps). Calls with the same key
// share one entry, across goroutines and processes; entries beyond
// MaxCheckouts or MaxCheckoutBytes are evicted, least recently used first,
// unless in use.
func (c *Cache) Shared(ctx context.Context, key string, build func(ctx context.Context, dest string) (string, error)) (*Checkout, error) {
	if key == "" || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return nil, fmt.Errorf("shared checkout: invalid key %q", key)
	}
	root := filepath.Join(c.Dir, "checkouts")
	dir := filepath.Join(root, key)
	for range 5 {
		co, err := openShared(dir, key)
		if err == nil {
			return co, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("shared checkout: %w", err)
		}
		// One goroutine of this process makes it; the others wait and
		// find it made.
		l := c.lock("shared:" + key)
		l.Lock()
		co, err = openShared(dir, key)
		if err == nil {
			l.Unlock()
			return co, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			l.Unlock()
			return nil, fmt.Errorf("shared checkout: %w", err)
		}
		err = c.makeShared(ctx, root, dir, key, build)
		l.Unlock()
		if err != nil {
			return nil, err
		}
		c.evict(root, key)
	}
	return nil, fmt.Errorf("shared checkout %s: evicted each time it was made (MaxCheckouts too low for the work in flight?)", key)
}

// openShared opens and holds the entry in dir. An entry that is missing,
// being evicted or unreadable is fs.ErrNotExist (make it anew).
func openShared(dir, key string) (*Checkout, error) {
	f, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	co := &Checkout{Dir: filepath.Join(dir, "repo"), lock: f}
	// Eviction renames an entry while holding it exclusively: the folder
	// locked must still be the one dir names.
	held, err1 := f.Stat()
	now, err2 := os.Stat(dir)
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		co.Release()
		return nil, fmt.Errorf("%s was evicted: %w", dir, fs.ErrNotExist)
	}
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	var m sharedMeta
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil || m.Version != sharedVersion || m.Key != key || m.Commit == "" {
		// Not an entry this code made: never trust it.
		co.Release()
		return nil, fmt.Errorf("%s is not a valid entry (%v): %w", dir, err, fs.ErrNotExist)
	}
	co.Commit = m.Commit
	// The folder's modification time orders entries for eviction.
	t := time.Now()
	_ = os.Chtimes(dir, t, t)
	return co, nil
}

// makeShared makes the entry key in a temporary folder and renames it to
// dir. An invalid entry already at dir is evicted first.
func (c *Cache) makeShared(ctx context.Context, root, dir, key string, build func(context.Context, string) (string, error)) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("shared checkout: %w", err)
	}
	if _, err := os.Lstat(dir); err == nil {
		// openShared refused it: remove it unless someone holds it.
		if !evictEntry(root, dir) {
			return fmt.Errorf("shared checkout: %s is invalid and in use", dir)
		}
	}
	tmp, err := os.MkdirTemp(root, ".tmp-")
	if err != nil {
		return fmt.Errorf("shared checkout: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("shared checkout: %w", err)
	}
	repoDir := filepath.Join(tmp, "repo")
	commit, err := build(ctx, repoDir)
	if err != nil {
		return err
	}
	size, err := treeSize(repoDir)
	if err != nil {
		return fmt.Errorf("shared checkout: %w", err)
	}
	data, _ := json.Marshal(sharedMeta{Version: sharedVersion, Key: key, Commit: commit, Bytes: size, Created: time.Now().UTC()})
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), data, 0o644); err != nil {
		return fmt.Errorf("shared checkout: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "meta.json")); serr == nil {
			return nil // another process made it first; ours goes
		}
		return fmt.Errorf("shared checkout: %w", err)
	}
	return nil
}

// treeSize is the bytes of the regular files under dir.
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// evict removes the least recently used entries of root beyond the
// cache's bounds, never keep nor one in use, and the leftovers of killed
// processes.
func (c *Cache) evict(root, keep string) {
	maxN, maxBytes := c.MaxCheckouts, c.MaxCheckoutBytes
	if maxN <= 0 {
		maxN = DefaultMaxCheckouts
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxCheckoutBytes
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	type entry struct {
		dir   string
		used  time.Time
		bytes int64
	}
	var live []entry
	var total int64
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		info, err := e.Info()
		if err != nil || !e.IsDir() {
			continue
		}
		switch {
		case strings.HasPrefix(e.Name(), ".old-"):
			_ = os.RemoveAll(p) // an eviction that was cut short
			continue
		case strings.HasPrefix(e.Name(), ".tmp-"):
			if time.Since(info.ModTime()) > staleTemp {
				_ = os.RemoveAll(p)
			}
			continue
		case strings.HasPrefix(e.Name(), "."):
			continue
		}
		var m sharedMeta
		if data, err := os.ReadFile(filepath.Join(p, "meta.json")); err == nil {
			_ = json.Unmarshal(data, &m)
		}
		total += m.Bytes
		if e.Name() == keep {
			continue
		}
		live = append(live, entry{dir: p, used: info.ModTime(), bytes: m.Bytes})
	}
	sort.Slice(live, func(i, j int) bool { return live[i].used.Before(live[j].used) })
	n := len(live) + 1 // keep counts
	for _, e := range live {
		if n <= maxN && total <= maxBytes {
			break
		}
		if evictEntry(root, e.dir) {
			n--
			total -= e.bytes
		}
	}
}

// evictEntry removes the entry in dir unless someone holds it, and
// reports whether it did.
func evictEntry(root, dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	held, err1 := f.Stat()
	now, err2 := os.Stat(dir)
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		return true // someone else evicted it already
	}
	old, err := os.MkdirTemp(root, ".old-")
	if err != nil {
		return false
	}
	// Into the folder MkdirTemp made: the name is ours.
	if err := os.Rename(dir, filepath.Join(old, "entry")); err != nil {
		os.Remove(old)
		return false
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = os.RemoveAll(old)
	return true
}
