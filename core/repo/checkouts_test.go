package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/swelego/swelego/core/gitsafe"
)

// sameEntry reports whether two checkouts are the same folder on disk.
func sameEntry(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	if err1 != nil || err2 != nil {
		t.Fatal(errors.Join(err1, err2))
	}
	return os.SameFile(fa, fb)
}

// TestPrepared makes shared checkouts of two bundled tasks: the same
// (source, commit) gives the same entry, made once; a branch name shares
// the entry of the commit it names; another commit gets its own; each
// entry is a sanitised checkout whose HEAD is its commit and from which
// the task's fix cannot be reached.
func TestPrepared(t *testing.T) {
	ctx := context.Background()
	c := NewCache(t.TempDir())
	tasks := bundledTasks(t)
	a, b := tasks[0], tasks[1]
	src, err := Locate([]string{"../../examples/repos"}, a.Repo)
	if err != nil {
		t.Fatal(err)
	}
	co1, err := c.Prepared(ctx, src, a.BaseCommit)
	if err != nil {
		t.Fatal(err)
	}
	co2, err := c.Prepared(ctx, src, a.BaseCommit)
	if err != nil {
		t.Fatal(err)
	}
	if co1.Dir != co2.Dir || !sameEntry(t, co1.Dir, co2.Dir) || co1.Commit != a.BaseCommit {
		t.Fatalf("same commit, different entries: %s, %s (commit %s)", co1.Dir, co2.Dir, co1.Commit)
	}
	co1.Release()
	co2.Release()
	co1.Release() // twice is fine

	other, err := c.Prepared(ctx, src, b.BaseCommit)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	if other.Dir == co1.Dir || other.Commit != b.BaseCommit {
		t.Fatalf("another commit shares %s", other.Dir)
	}

	// Each entry is what Checkout makes: HEAD at the commit, the fix
	// unreachable (gitsafe.Verify), nothing but the checkout in the folder.
	mirror, err := c.Mirror(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(t.TempDir(), "full")
	if _, err := git(ctx, "", "clone", "--quiet", "--no-local", mirror, full); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		dir, commit string
	}{{co1.Dir, a.BaseCommit}, {other.Dir, b.BaseCommit}} {
		if head := strings.TrimSpace(gitOut(t, x.dir, "rev-parse", "HEAD")); head != x.commit {
			t.Errorf("%s: HEAD %s, want %s", x.dir, head, x.commit)
		}
		if st := gitOut(t, x.dir, "status", "--porcelain", "--ignored"); st != "" {
			t.Errorf("%s is not clean:\n%s", x.dir, st)
		}
		fix := strings.TrimSpace(firstChild(t, mirror, x.commit))
		ev, err := gitsafe.Collect(ctx, full, x.commit, fix)
		if err != nil {
			t.Fatal(err)
		}
		if err := gitsafe.Verify(ctx, x.dir, ev); err != nil {
			t.Errorf("the fix is reachable from the shared checkout: %v", err)
		}
	}

	// A branch name is resolved: it shares the entry of the commit it
	// names now.
	head, err := c.Resolve(ctx, src, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	byID, err := c.Prepared(ctx, src, head)
	if err != nil {
		t.Fatal(err)
	}
	defer byID.Release()
	byName, err := c.Prepared(ctx, src, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	defer byName.Release()
	if byName.Dir != byID.Dir || byName.Commit != head {
		t.Errorf("HEAD gives %s at %s, its commit %s", byName.Dir, byName.Commit, byID.Dir)
	}
	entries, _ := os.ReadDir(filepath.Join(c.Dir, "checkouts"))
	if len(entries) != 3 {
		t.Errorf("%d entries in checkouts, want 3", len(entries))
	}
}

// TestSharedConcurrent has two caches on one folder, as two processes
// would, and many goroutines in each ask for the same entry at once: all
// get the same complete entry, each cache makes it at most once, and no
// temporary folder is left.
func TestSharedConcurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	caches := []*Cache{NewCache(dir), NewCache(dir)}
	key := Key("test", "concurrent")
	var builds [2]atomic.Int32
	var wg sync.WaitGroup
	dirs := make([]string, 16)
	errs := make([]error, 16)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			co, err := caches[i%2].Shared(ctx, key, func(ctx context.Context, dest string) (string, error) {
				builds[i%2].Add(1)
				if err := os.MkdirAll(dest, 0o755); err != nil {
					return "", err
				}
				return "c0ffee", os.WriteFile(filepath.Join(dest, "file"), []byte("content"), 0o644)
			})
			if err != nil {
				errs[i] = err
				return
			}
			defer co.Release()
			data, err := os.ReadFile(filepath.Join(co.Dir, "file"))
			if err != nil || string(data) != "content" || co.Commit != "c0ffee" {
				errs[i] = errors.Join(err, errors.New("incomplete entry "+co.Dir))
			}
			dirs[i] = co.Dir
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d != dirs[0] {
			t.Fatalf("entries differ: %s, %s", d, dirs[0])
		}
	}
	for i := range builds {
		if n := builds[i].Load(); n > 1 {
			t.Errorf("cache %d made the entry %d times", i, n)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "checkouts"))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("checkouts holds %v, want the one entry", names)
	}
}

// TestSharedEviction bounds the cache to two entries: making more evicts
// the least recently used, never one in use; an evicted entry is made
// again when asked for; an entry that is not valid is made anew; a failed
// make leaves nothing.
func TestSharedEviction(t *testing.T) {
	ctx := context.Background()
	c := NewCache(t.TempDir())
	c.MaxCheckouts = 2
	made := map[string]int{}
	get := func(name string) *Checkout {
		t.Helper()
		co, err := c.Shared(ctx, Key("test", name), func(ctx context.Context, dest string) (string, error) {
			made[name]++
			return name, os.MkdirAll(dest, 0o755)
		})
		if err != nil {
			t.Fatal(err)
		}
		return co
	}
	count := func() int {
		entries, _ := os.ReadDir(filepath.Join(c.Dir, "checkouts"))
		return len(entries)
	}
	a := get("a") // held throughout
	get("b").Release()
	get("c").Release() // evicts b, not a
	if n := count(); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	if _, err := os.Stat(a.Dir); err != nil {
		t.Fatalf("the entry in use was evicted: %v", err)
	}
	get("b").Release() // made again; evicts c
	if made["b"] != 2 {
		t.Errorf("b made %d times, want 2 (evicted once)", made["b"])
	}
	a.Release()
	get("d").Release() // a is free now and least recently used
	if _, err := os.Stat(a.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a, released and least recently used, was kept")
	}
	if n := count(); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}

	// An entry whose meta.json does not match is not trusted.
	d := get("d")
	d.Release()
	meta := filepath.Join(filepath.Dir(d.Dir), "meta.json")
	if err := os.WriteFile(meta, []byte(`{"version":"repo-shared/0","key":"x","commit":"d"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	get("d").Release()
	if made["d"] != 2 {
		t.Errorf("an invalid entry was reused")
	}

	// A failed make leaves no entry and no temporary folder.
	boom := errors.New("boom")
	if _, err := c.Shared(ctx, Key("test", "e"), func(ctx context.Context, dest string) (string, error) {
		return "", boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if n := count(); n != 2 {
		entries, _ := os.ReadDir(filepath.Join(c.Dir, "checkouts"))
		for _, e := range entries {
			t.Log(e.Name())
		}
		t.Errorf("%d entries after a failed make, want 2", n)
	}
	if Key("a", "bc") == Key("ab", "c") {
		t.Error("Key does not separate its parts")
	}
}
