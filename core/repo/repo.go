package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/swelego/swelego/core/gitsafe"
)

// ErrNoSource is returned when a task's repository has no known source.
var ErrNoSource = errors.New("no source for repository")

// Cache keeps mirrors of source repositories under Dir, and shared
// sanitised checkouts under Dir/checkouts (Prepared).
type Cache struct {
	Dir string
	// MaxCheckouts and MaxCheckoutBytes bound the shared checkouts kept
	// (DefaultMaxCheckouts and DefaultMaxCheckoutBytes when zero).
	MaxCheckouts     int
	MaxCheckoutBytes int64

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// NewCache returns a cache of mirrors stored in dir.
func NewCache(dir string) *Cache {
	return &Cache{Dir: dir, locks: map[string]*sync.Mutex{}}
}

func (c *Cache) lock(key string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.locks[key]
	if !ok {
		m = &sync.Mutex{}
		c.locks[key] = m
	}
	return m
}

// Mirror returns a bare mirror of src (a bundle file, a repository folder or
// a URL), cloning it the first time and fetching it when it lacks commit.
func (c *Cache) Mirror(ctx context.Context, src, commit string) (string, error) {
	sum := sha256.Sum256([]byte(src))
	key := hex.EncodeToString(sum[:8])
	l := c.lock(key)
	l.Lock()
	defer l.Unlock()
	dir := filepath.Join(c.Dir, key+".git")
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return "", err
		}
		tmp, err := os.MkdirTemp(c.Dir, ".mirror-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		if _, err := git(ctx, "", "clone", "--quiet", "--mirror", src, tmp); err != nil {
			return "", fmt.Errorf("mirror %s: %w", src, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			// Another process sharing the cache (a second worker, a
			// local run beside a coordinator) made the mirror meanwhile.
			if _, serr := os.Stat(filepath.Join(dir, "HEAD")); serr != nil {
				return "", err
			}
		}
	}
	if commit != "" && !hasCommit(ctx, dir, commit) {
		if _, err := git(ctx, dir, "fetch", "--quiet", "--prune", src, "+refs/*:refs/*"); err != nil {
			return "", fmt.Errorf("update mirror of %s: %w", src, err)
		}
		if !hasCommit(ctx, dir, commit) {
			return "", fmt.Errorf("commit %s is not in %s", commit, src)
		}
	}
	return dir, nil
}

func hasCommit(ctx context.Context, dir, commit string) bool {
	_, err := git(ctx, dir, "cat-file", "-e", commit+"^{commit}")
	return err == nil
}

// Checkout makes dest a private, sanitised clone of src at commit: only
// commit and its ancestors are reachable, with no remotes, other refs or
// reflog. dest must not exist.
func (c *Cache) Checkout(ctx context.Context, src, commit, dest string) error {
	mirror, err := c.Mirror(ctx, src, commit)
	if err != nil {
		return err
	}
	if _, err := git(ctx, "", "clone", "--quiet", "--no-local", "--no-checkout", mirror, dest); err != nil {
		return fmt.Errorf("clone %s: %w", src, err)
	}
	if _, err := git(ctx, dest, "checkout", "--quiet", "--detach", commit); err != nil {
		return fmt.Errorf("check out %s: %w", commit, err)
	}
	if err := gitsafe.Sanitize(ctx, dest, commit, gitsafe.Options{}); err != nil {
		return fmt.Errorf("sanitise %s at %s: %w", src, commit, err)
	}
	return nil
}

// git runs git with a configuration the user's files cannot change.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Locate finds the source of repository repo ("owner/name") in dirs: a
// bundle NAME.bundle or OWNER__NAME.bundle, or a repository folder NAME or
// OWNER__NAME, first match winning.
func Locate(dirs []string, repo string) (string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		owner, name = "", repo
	}
	candidates := []string{name + ".bundle", owner + "__" + name + ".bundle", name, owner + "__" + name}
	for _, d := range dirs {
		for _, c := range candidates {
			p := filepath.Join(d, c)
			fi, err := os.Stat(p)
			if err != nil {
				continue
			}
			if !fi.IsDir() || isRepo(p) {
				return filepath.Abs(p)
			}
		}
	}
	return "", fmt.Errorf("%w %q in %s (looked for %s)", ErrNoSource, repo, strings.Join(dirs, ", "), strings.Join(candidates, ", "))
}

func isRepo(dir string) bool {
	for _, p := range []string{".git", "HEAD"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return true
		}
	}
	return false
}

// Resolve returns the commit id rev ("HEAD", a branch, a tag or an id)
// names in src.
func (c *Cache) Resolve(ctx context.Context, src, rev string) (string, error) {
	mirror, err := c.Mirror(ctx, src, "")
	if err != nil {
		return "", err
	}
	out, err := git(ctx, mirror, "rev-parse", "--verify", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("resolve %s in %s: %w", rev, src, err)
	}
	return strings.TrimSpace(out), nil
}
