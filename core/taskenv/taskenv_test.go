package taskenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/repo"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// testCache is shared with the other packages' tests (see core/sandbox).
var testCache = filepath.Join(os.TempDir(), "swelego-test-cache")

func bundled(t testing.TB) []sdk.Task {
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
			return out
		}
		out = append(out, task)
	}
}

func backends(t *testing.T) map[string]sandbox.Backend {
	t.Helper()
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker info fails, so there is no Docker Engine to test against: %v\n%s", err, out)
	}
	ctx := context.Background()
	out := map[string]sandbox.Backend{}
	for _, name := range []string{"docker", "bwrap"} {
		b, err := sandbox.New(ctx, name, sandbox.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c, ok := b.(interface{ Close() error }); ok {
			t.Cleanup(func() { c.Close() })
		}
		out[name] = b
	}
	return out
}

// fixOf returns the commit that fixed task (the child of its base commit
// in the bundle) and a line only the fix adds.
func fixOf(t *testing.T, task sdk.Task) (sha, text string) {
	t.Helper()
	bundle := filepath.Join("../../examples/repos", filepath.Base(task.Repo)+".bundle")
	dir := t.TempDir()
	if out, err := exec.Command("git", "clone", "-q", bundle, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	out, err := exec.Command("git", "-C", dir, "rev-list", "--all", "--children").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == task.BaseCommit {
			sha = f[1]
		}
	}
	for _, line := range strings.Split(task.Patch, "\n") {
		if strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "+++") && len(strings.TrimSpace(line)) > 12 {
			text = strings.TrimSpace(line[1:])
			break
		}
	}
	if sha == "" || text == "" {
		t.Fatalf("no fix commit or text for %s", task.InstanceID)
	}
	return sha, text
}

// TestNoGitHackingInsideSandbox opens a sandbox for bundled tasks on both
// backends and tries, from inside, what an agent would to find the fix in
// the repository's history.
func TestNoGitHackingInsideSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds environment images")
	}
	ctx := context.Background()
	tasks := bundled(t)
	picked := []sdk.Task{tasks[0], tasks[len(tasks)-1]} // one Python, one Go task
	for name, backend := range backends(t) {
		m := New(Options{Store: testCache, Languages: testLanguages, DefaultLanguage: "python", Backend: backend, RepoDirs: []string{"../../examples/repos"}})
		for _, task := range picked {
			t.Run(name+"/"+task.InstanceID, func(t *testing.T) {
				sha, text := fixOf(t, task)
				sb, err := m.Open(ctx, task)
				if err != nil {
					t.Fatal(err)
				}
				defer sb.Close(ctx)
				exec := func(cmd string) sdk.ExecResult {
					t.Helper()
					res, err := sb.Exec(ctx, cmd, time.Minute)
					if err != nil {
						t.Fatalf("%s: %v", cmd, err)
					}
					return res
				}
				if head := strings.TrimSpace(exec("git rev-parse HEAD").Output); head != task.BaseCommit {
					t.Fatalf("HEAD %s, want the base %s", head, task.BaseCommit)
				}
				quoted := "'" + strings.ReplaceAll(text, "'", `'\''`) + "'"
				probes := []struct{ cmd, what string }{
					{"git log --all --oneline -S " + quoted, "git log -S finds the fix"},
					{"git log --all --format=%H", "the fix commit is in the history"},
					{"git fsck --lost-found 2>&1", "fsck finds dangling objects"},
					{"git cat-file --batch-all-objects --batch-check", "the fix commit is in the object store"},
					{"git grep -F " + quoted + " $(git rev-list --all) 2>/dev/null", "the fix text is in a reachable commit"},
					{"git reflog --all 2>&1; git stash list; git branch -a; git tag; git remote -v", "a ref or remote names the fix"},
				}
				for _, p := range probes {
					out := exec(p.cmd).Output
					if strings.Contains(out, sha) || strings.Contains(out, sha[:10]) || strings.Contains(out, text) || strings.Contains(out, "dangling") {
						t.Errorf("%s:\n$ %s\n%s", p.what, p.cmd, out)
					}
				}
				if res := exec("git show " + sha + " 2>&1"); res.ExitCode == 0 {
					t.Errorf("git show %s succeeded inside the sandbox:\n%s", sha, res.Output)
				}
				if res := exec("cat $(find / -xdev -name '*.bundle' 2>/dev/null) 2>/dev/null | wc -c"); strings.TrimSpace(res.Output) != "0" {
					t.Errorf("a bundle of the repository is readable inside the sandbox")
				}
			})
		}
	}
}

// TestSyntheticTask injects a bug into the semver example at its newest
// commit, as a bug injector would, and checks the whole path of a
// synthetic task: a reproducible single-commit base, a sandbox that holds
// the bug and no history of the fix, validation that finds the failing
// tests, and grading of the fix.
func TestSyntheticTask(t *testing.T) {
	if testing.Short() {
		t.Skip("builds environment images")
	}
	ctx := context.Background()
	bundle, _ := filepath.Abs("../../examples/repos/semver.bundle")
	work := t.TempDir()
	clone := filepath.Join(work, "clone")
	run := func(dir string, args ...string) string {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if dir != "" {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Dir = dir
			out, err = cmd.CombinedOutput()
		}
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("", "git", "clone", "-q", bundle, clone)
	head := run(clone, "git", "rev-parse", "HEAD")
	src, err := os.ReadFile(filepath.Join(clone, "semver.go"))
	if err != nil {
		t.Fatal(err)
	}
	const good, bad = "if d[0] < d[1] {", "if d[0] > d[1] {"
	if !strings.Contains(string(src), good) {
		t.Fatalf("semver.go has no %q", good)
	}
	os.WriteFile(filepath.Join(clone, "semver.go"), []byte(strings.Replace(string(src), good, bad, 1)), 0o644)
	fix := run(clone, "git", "diff", "-R") + "\n" // the reverse of the mutation fixes it

	task := sdk.Task{
		InstanceID: "semver__semver.synthetic-1", Repo: "swelego-examples/semver", Source: sdk.SourceSynthetic,
		EnvironmentSetupCommit: head, Patch: fix, PatchDirection: sdk.PatchFixes, Language: "go", Injector: "test",
	}
	repos := repo.NewCache(filepath.Join(work, "mirrors"))
	base1, err := SyntheticBase(ctx, repos, bundle, task, filepath.Join(work, "a"))
	if err != nil {
		t.Fatal(err)
	}
	base2, err := SyntheticBase(ctx, repos, bundle, task, filepath.Join(work, "b"))
	if err != nil || base1 != base2 {
		t.Fatalf("base commit not reproducible: %s, %s (%v)", base1, base2, err)
	}
	task.BaseCommit = base1

	b, err := sandbox.New(ctx, "bwrap", sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Store: testCache, Languages: testLanguages, DefaultLanguage: "python", Backend: b, RepoDirs: []string{"../../examples/repos"}})
	sb, err := m.Open(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sb.Exec(ctx, "git log --oneline | wc -l; git log --all -S '"+good+"' --oneline; grep -cF '"+bad+"' semver.go", time.Minute)
	sb.Close(ctx)
	if err != nil || strings.Fields(res.Output)[0] != "1" || !strings.HasSuffix(strings.TrimSpace(res.Output), "1") || len(strings.Fields(res.Output)) != 2 {
		t.Fatalf("inside the sandbox: want one commit, no history of the fix and the bug in place; got %q (%v)", res.Output, err)
	}

	open := func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) { return m.Open(ctx, t) }
	f2p, p2p, err := harness.Validate(ctx, open, task, harness.Options{Language: mustLanguage(t, m, task), Reruns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f2p, "TestCompareNumeric") || len(p2p) == 0 || slices.Contains(p2p, "TestCompareNumeric") {
		t.Fatalf("validation: F2P %v, P2P %v", f2p, p2p)
	}
	t.Logf("F2P %v, P2P %v", f2p, p2p)
	task.FailToPass, task.PassToPass = f2p, p2p
	if r := harness.Evaluate(ctx, open, task, task.Patch, harness.Options{Language: mustLanguage(t, m, task)}); r.Status != harness.ResultResolved {
		t.Errorf("the fix grades %s: %s", r.Status, r.Error)
	}
	if r := harness.Evaluate(ctx, open, task, "", harness.Options{Language: mustLanguage(t, m, task)}); r.Status != harness.ResultEmptyPatch {
		t.Errorf("no fix grades %s", r.Status)
	}

	// A task whose recorded base does not match its tree is refused.
	task.BaseCommit = strings.Repeat("0", 40)
	if _, err := m.Open(ctx, task); !errors.Is(err, ErrNotReproduced) {
		t.Errorf("wrong base commit: err = %v, want ErrNotReproduced", err)
	}
}

// TestSharedCheckout grades a bundled task twice on each backend, after a
// sandbox of the same task wrote to its repository, its history and /tmp:
// both gradings resolve, each finds the base commit clean, and both use
// the one shared checkout made when the first sandbox opened, which the
// writes did not reach. A task at another commit gets a checkout of its
// own.
func TestSharedCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds environment images")
	}
	ctx := context.Background()
	tasks := bundled(t)
	task, other := tasks[0], tasks[1]
	if task.Repo != other.Repo || task.BaseCommit == other.BaseCommit {
		t.Fatal("want two tasks of one repository at different commits")
	}
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			m := New(Options{Store: testCache, Languages: testLanguages, DefaultLanguage: "python", Backend: backend, RepoDirs: []string{"../../examples/repos"}})
			m.repos = repo.NewCache(t.TempDir()) // checkouts of this test alone
			entries := func() []os.FileInfo {
				t.Helper()
				root := filepath.Join(m.repos.Dir, "checkouts")
				list, err := os.ReadDir(root)
				if err != nil {
					t.Fatal(err)
				}
				var out []os.FileInfo
				for _, e := range list {
					if info, err := os.Stat(filepath.Join(root, e.Name())); err == nil {
						out = append(out, info)
					}
				}
				return out
			}
			run := func(sb sandbox.Sandbox, cmd string) string {
				t.Helper()
				res, err := sb.Exec(ctx, cmd, time.Minute)
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("%s: exit %d, %v\n%s", cmd, res.ExitCode, err, res.Output)
				}
				return strings.TrimSpace(res.Output)
			}

			sb, err := m.Open(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			made := entries()
			if len(made) != 1 {
				t.Fatalf("%d shared checkouts after the first open, want 1", len(made))
			}
			run(sb, `echo leak > leaked.txt && echo leak >> README.md && git add -A && `+
				`git -c user.name=x -c user.email=x commit -qm leak && git tag leaked && echo leak > /tmp/leaked`)
			sb.Close(ctx)

			clean := func(ctx context.Context, tk sdk.Task) (harness.Sandbox, error) {
				sb, err := m.Open(ctx, tk)
				if err != nil {
					return nil, err
				}
				got := run(sb, `git rev-parse HEAD; git status --porcelain --ignored; git tag; ls leaked.txt /tmp/leaked 2>&1 | grep -v 'No such' || true`)
				if got != tk.BaseCommit {
					t.Errorf("a new sandbox sees what an earlier one wrote (want only the base commit %s):\n%s", tk.BaseCommit, got)
				}
				return sb, nil
			}
			for i := range 2 {
				if r := harness.Evaluate(ctx, clean, task, task.Patch, harness.Options{Language: mustLanguage(t, m, task)}); r.Status != harness.ResultResolved {
					t.Fatalf("grading %d: %s: %s\n%s", i+1, r.Status, r.Error, r.Log)
				}
			}
			now := entries()
			if len(now) != 1 || !os.SameFile(now[0], made[0]) {
				t.Fatalf("the gradings did not reuse the shared checkout: %d entries", len(now))
			}

			sb, err = m.Open(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			head := run(sb, "git rev-parse HEAD")
			sb.Close(ctx)
			if head != other.BaseCommit {
				t.Errorf("the other task's sandbox is at %s, want %s", head, other.BaseCommit)
			}
			if n := len(entries()); n != 2 {
				t.Errorf("%d shared checkouts after another commit, want 2", n)
			}
		})
	}
}

// TestGoCacheWarm opens a Go task's sandbox on each backend: its build
// cache starts warm (a copy of the image's seed on bwrap, a link to it on
// docker), so building the package compiles none of the standard library;
// what one sandbox writes to its cache is not seen by the next.
func TestGoCacheWarm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds environment images")
	}
	ctx := context.Background()
	tasks := bundled(t)
	task := tasks[len(tasks)-1]
	if task.Language != "go" {
		t.Fatalf("%s is not a Go task", task.InstanceID)
	}
	for name, backend := range backends(t) {
		t.Run(name, func(t *testing.T) {
			m := New(Options{Store: testCache, Languages: testLanguages, DefaultLanguage: "python", Backend: backend, RepoDirs: []string{"../../examples/repos"}})
			run := func(sb sandbox.Sandbox, cmd string) string {
				t.Helper()
				res, err := sb.Exec(ctx, cmd, 5*time.Minute)
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("%s: exit %d, %v\n%s", cmd, res.ExitCode, err, res.Output)
				}
				return strings.TrimSpace(res.Output)
			}
			sb, err := m.Open(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			// -x prints a compile step for every package built, none for
			// one found in the cache; the standard library's carry -std.
			if out := run(sb, `go test -count=1 -run '^$' -x ./... 2>&1 | grep '/compile ' | grep -c -e ' -std ' || true`); out != "0" {
				t.Errorf("go test compiled %s packages of the standard library: the cache did not start warm", out)
			}
			run(sb, `echo leak > "$(go env GOCACHE)/swelego-leak"`)
			sb.Close(ctx)
			sb, err = m.Open(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close(ctx)
			if out := run(sb, `ls "$(go env GOCACHE)/swelego-leak" `+golang.CacheSeed+`/swelego-leak 2>&1 | grep -v 'No such' || true`); out != "" {
				t.Errorf("a new sandbox sees what an earlier one wrote to its build cache:\n%s", out)
			}
		})
	}
}

// testLanguages are the reference languages of core's tests.
var testLanguages = language.NewSet(language.Static(python.Language{}, golang.Language{}))

// mustLanguage is the language of task's environment in m.
func mustLanguage(t testing.TB, m *Manager, task sdk.Task) *language.Language {
	t.Helper()
	l, err := m.Language(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
