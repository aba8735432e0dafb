package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/sdk"
)

// Every sandbox backend's sandbox is a harness Sandbox, and back.
var (
	_ Sandbox         = sandbox.Sandbox(nil)
	_ sandbox.Sandbox = Sandbox(nil)
)

// localSandbox is a test-only Sandbox: bash -c in a temporary folder that
// holds a real git repository. Absolute paths are the host's own (the
// harness only uses fresh /tmp/swelego-* names).
type localSandbox struct {
	dir    string
	closed atomic.Bool
	execs  atomic.Int32
}

var _ Sandbox = (*localSandbox)(nil)

var testEnv = []string{
	"PYTHONDONTWRITEBYTECODE=1",
	"GIT_AUTHOR_NAME=swelego", "GIT_AUTHOR_EMAIL=swelego@example.com",
	"GIT_COMMITTER_NAME=swelego", "GIT_COMMITTER_EMAIL=swelego@example.com",
	"GIT_CONFIG_NOSYSTEM=1", "HOME=" + os.TempDir(),
	"GOFLAGS=-mod=mod", "GOTOOLCHAIN=local",
	// The go command's own build cache, which holds the standard library
	// compiled already: a cache under the HOME above starts cold on a new
	// machine and compiles it again for each Go test run here.
	"GOCACHE=" + goCache(),
}

// goCache is the build cache of the go command that runs these tests, or
// "" (Go's default) when it cannot say.
func goCache() string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func (s *localSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	if s.closed.Load() {
		return sdk.ExecResult{}, errors.New("sandbox closed")
	}
	s.execs.Add(1)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(rctx, "bash", "-c", cmd)
	c.Dir = s.dir
	c.Env = append(os.Environ(), testEnv...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	res := sdk.ExecResult{Output: out.String()}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if rctx.Err() != nil {
		res.TimedOut, res.ExitCode = true, -1
		return res, nil
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	case err != nil:
		return res, err
	}
	return res, nil
}

func (s *localSandbox) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.dir, p)
}

func (s *localSandbox) ReadFile(ctx context.Context, p string) ([]byte, error) {
	return os.ReadFile(s.path(p))
}

func (s *localSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	full := s.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, data, 0o644)
}

func (s *localSandbox) Diff(ctx context.Context) (string, error) {
	res, err := s.Exec(ctx, "git add -A -N . && git diff", time.Minute)
	return res.Output, err
}

func (s *localSandbox) Close(ctx context.Context) error {
	s.closed.Store(true)
	return os.RemoveAll(s.dir)
}

// git runs git in dir and returns its trimmed output.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), testEnv...)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// writeFiles writes files (path → content) under dir; a content starting
// with "symlink:" makes a symlink to the rest.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(full)
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newRepo makes a git repository holding files and returns its folder and
// commit.
func newRepo(t testing.TB, files map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main", ".")
	writeFiles(t, dir, files)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	return dir, git(t, dir, "rev-parse", "HEAD")
}

// commitFiles commits more changes to the repository in dir.
func commitFiles(t testing.TB, dir string, files map[string]string, remove ...string) string {
	t.Helper()
	writeFiles(t, dir, files)
	for _, p := range remove {
		git(t, dir, "rm", "-q", p)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "more")
	return git(t, dir, "rev-parse", "HEAD")
}

// readTree reads the regular files under src into a map for writeFiles.
func readTree(t testing.TB, src string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// cloneOpener opens sandboxes as fresh clones of the repository src,
// checked out at the task's base commit. It counts the sandboxes it opens.
func cloneOpener(t testing.TB, src string, opened *atomic.Int32) Opener {
	return func(ctx context.Context, task sdk.Task) (Sandbox, error) {
		n := 0
		if opened != nil {
			n = int(opened.Add(1))
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("sb%d", n))
		c := exec.CommandContext(ctx, "git", "clone", "-q", "--no-hardlinks", src, dir)
		if out, err := c.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("clone: %v: %s", err, out)
		}
		if task.BaseCommit != "" {
			git(t, dir, "checkout", "-q", task.BaseCommit)
		}
		return &localSandbox{dir: dir}, nil
	}
}

// sandboxIn returns a localSandbox over a fresh repository holding files.
func sandboxIn(t testing.TB, files map[string]string) *localSandbox {
	t.Helper()
	dir, _ := newRepo(t, files)
	return &localSandbox{dir: dir}
}
