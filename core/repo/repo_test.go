package repo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/gitsafe"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

func bundledTasks(t *testing.T) []sdk.Task {
	t.Helper()
	f, err := os.Open("../../examples/tasks/bundled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := jsonl.NewDecoder(f, "bundled.jsonl")
	var out []sdk.Task
	for {
		var task sdk.Task
		if err := dec.Next(&task); err != nil {
			break
		}
		out = append(out, task)
	}
	if len(out) < 8 {
		t.Fatalf("%d bundled tasks", len(out))
	}
	return out
}

func TestLocate(t *testing.T) {
	dirs := []string{"../../examples/repos"}
	for _, name := range []string{"swelego-examples/textkit", "swelego-examples/semver", "semver"} {
		p, err := Locate(dirs, name)
		if err != nil || !strings.HasSuffix(p, ".bundle") {
			t.Errorf("Locate(%s) = %s, %v", name, p, err)
		}
	}
	if _, err := Locate(dirs, "nobody/nothing"); !errors.Is(err, ErrNoSource) {
		t.Errorf("err = %v, want ErrNoSource", err)
	}
}

// TestCheckoutHidesTheFix checks out every bundled task at its base commit
// and proves with gitsafe.Verify that its fix is not reachable, while the
// mirror it came from does hold the fix.
func TestCheckoutHidesTheFix(t *testing.T) {
	ctx := context.Background()
	c := NewCache(t.TempDir())
	for _, task := range bundledTasks(t) {
		t.Run(task.InstanceID, func(t *testing.T) {
			src, err := Locate([]string{"../../examples/repos"}, task.Repo)
			if err != nil {
				t.Fatal(err)
			}
			mirror, err := c.Mirror(ctx, src, task.BaseCommit)
			if err != nil {
				t.Fatal(err)
			}
			fix := strings.TrimSpace(gitOut(t, mirror, "rev-list", "--all", "--ancestry-path", task.BaseCommit+"..", "--reverse", "-1"))
			if fix == "" {
				fix = strings.TrimSpace(firstChild(t, mirror, task.BaseCommit))
			}
			full := filepath.Join(t.TempDir(), "full")
			if _, err := git(ctx, "", "clone", "--quiet", "--no-local", mirror, full); err != nil {
				t.Fatal(err)
			}
			ev, err := gitsafe.Collect(ctx, full, task.BaseCommit, fix)
			if err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "repo")
			if err := c.Checkout(ctx, src, task.BaseCommit, dest); err != nil {
				t.Fatal(err)
			}
			if head := strings.TrimSpace(gitOut(t, dest, "rev-parse", "HEAD")); head != task.BaseCommit {
				t.Fatalf("HEAD = %s, want %s", head, task.BaseCommit)
			}
			if err := gitsafe.Verify(ctx, dest, ev); err != nil {
				t.Fatalf("the fix is reachable after checkout: %v", err)
			}
			if err := gitsafe.Verify(ctx, full, ev); err == nil {
				t.Fatal("Verify found nothing in a full clone, which holds the fix: the check proves nothing")
			}
			// The task's own patches apply to the checkout.
			for _, p := range []string{task.TestPatch, task.Patch} {
				cmd := exec.Command("git", "apply", "--check", "-")
				cmd.Dir = dest
				cmd.Stdin = strings.NewReader(p)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("patch does not apply: %v\n%s", err, out)
				}
			}
		})
	}
}

func firstChild(t *testing.T, dir, commit string) string {
	for _, line := range strings.Split(gitOut(t, dir, "rev-list", "--all", "--children"), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == commit {
			return f[1]
		}
	}
	t.Fatalf("no child of %s", commit)
	return ""
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(context.Background(), dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMirrorSharedCache: caches of several processes sharing one folder
// (workers with one SWELEGO_CACHE, a local run beside a coordinator) that
// mirror the same source at once all get the mirror; the one that loses
// the race takes the winner's.
func TestMirrorSharedCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := filepath.Abs("../../examples/repos/textkit.bundle")
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := NewCache(dir).Mirror(ctx, src, "")
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("mirror: %v", err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".mirror-*")); len(left) > 0 {
		t.Errorf("temporary mirrors left: %v", left)
	}
}
