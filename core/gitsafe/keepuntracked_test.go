package gitsafe

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSanitizeKeepUntracked is a published task image's repository: full
// history with the fix, a tag and a remote, a tracked file changed after
// set-up, and files the set-up built (untracked and ignored) that the
// tests need. KeepUntracked removes the history, tag and remote and
// resets the tracked file, and keeps the built files.
func TestSanitizeKeepUntracked(t *testing.T) {
	ctx := context.Background()
	up := newTestRepo(t, "upstream")
	up.write(".gitignore", "*.egg-info/\n")
	up.write("calc.go", "package calc\n\nfunc Sum(n int) int { return n }\n")
	base := up.commit("base")
	up.write("calc.go", "package calc\n\n// "+fixText+"\nfunc Sum(n int) int { return n + 1 }\n")
	fix := up.commit(msgText)
	up.git("tag", "-a", "-m", tagText, "v1.0")

	r := openTestRepo(t, filepath.Join(filepath.Dir(up.dir), "testbed"))
	r.git("clone", "-q", "--no-local", up.dir, r.dir)
	r.git("reset", "-q", "--hard", base)
	r.write("calc.go", "package calc\n\n// changed by set-up\n")
	built := map[string]string{
		"calc.egg-info/PKG-INFO": "Name: calc\n",       // ignored
		"build/ext.so":           "\x7fELF compiled\n", // untracked
	}
	for p, c := range built {
		r.write(p, c)
	}
	ev, err := Collect(ctx, r.dir, base, fix, "v1.0")
	if err != nil {
		t.Fatal(err)
	}
	ev.Texts = []string{fixText, msgText, tagText}
	if err := Verify(ctx, r.dir, ev); err == nil {
		t.Fatal("Verify: the unsanitised repository does not leak")
	}

	if err := Sanitize(ctx, r.dir, base, Options{KeepUntracked: true}); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, r.dir, ev); err != nil {
		t.Fatalf("after Sanitize: %v", err)
	}
	for p, want := range built {
		got, err := os.ReadFile(filepath.Join(r.dir, p))
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want it kept as %q", p, got, err, want)
		}
	}
	if got := files(t, r.dir)["calc.go"]; got != up.treeFiles(base)["calc.go"] {
		t.Errorf("calc.go = %q, want base's", got)
	}
	for _, args := range [][]string{{"tag"}, {"remote"}, {"stash", "list"}} {
		if out := r.git(args...); out != "" {
			t.Errorf("git %v: %q, want nothing", args, out)
		}
	}
}
