package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const modifyPatch = `diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,3 +1,3 @@
 def f():
-    return 1
+    return 2
 
`

// TestCheckPatch: the harness's CheckPatch is diff.Check, whose refusals
// are the harness's own ErrNotPatch and ErrUnsafePatch (the full table is
// core/diff's).
func TestCheckPatch(t *testing.T) {
	cases := []struct {
		name    string
		patch   string
		want    []string
		wantErr error
	}{
		{"git modify", modifyPatch, []string{"src/app.py"}, nil},
		{"prose", "Here is my fix: change return 1 to return 2.\n", nil, ErrNotPatch},
		{"traversal", "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", nil, ErrUnsafePatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CheckPatch(c.patch)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("paths = %q, want %q", got, c.want)
			}
		})
	}
}

func TestApplyPatch(t *testing.T) {
	base := map[string]string{
		"src/app.py": "def f():\n    return 1\n\n",
		"lines.txt":  "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\n",
	}
	cases := []struct {
		name    string
		files   map[string]string // more files in the repository
		patch   string
		wantErr error
		errHas  []string
		check   map[string]string // file → content after
		method  int               // 1-based index in applyMethods that must have worked
	}{
		{name: "git apply", patch: modifyPatch, check: map[string]string{"src/app.py": "def f():\n    return 2\n\n"}, method: 1},
		{name: "needs fuzz: falls through to patch --fuzz",
			files: map[string]string{"lines.txt": "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\n"},
			patch: "--- a/lines.txt\n+++ b/lines.txt\n@@ -1,5 +1,5 @@\n one\n two\n three\n-four\n+FOUR\n five\n",
			check: map[string]string{"lines.txt": "one\ntwo\nTHREE\nFOUR\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\n"}, method: 3},
		{name: "--reject applies one hunk of two, the tree is restored, patch --fuzz applies both",
			files: map[string]string{"lines.txt": "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nNINE\nten\neleven\ntwelve\n"},
			patch: "--- a/lines.txt\n+++ b/lines.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n@@ -8,5 +8,5 @@\n eight\n nine\n-ten\n+TEN\n eleven\n twelve\n",
			check: map[string]string{"lines.txt": "one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\nNINE\nTEN\neleven\ntwelve\n", "lines.txt.rej": ""}, method: 3},
		{name: "does not apply anywhere: every method reported, tree unchanged",
			patch:   "--- a/lines.txt\n+++ b/lines.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n@@ -20,3 +20,3 @@\n x\n-y\n+z\n w\n",
			wantErr: ErrApply, errHas: []string{"git apply --verbose:", "git apply --verbose --reject:", "Rejected hunk", "patch --batch --fuzz=5 -p1"},
			check: map[string]string{"lines.txt": base["lines.txt"], "lines.txt.rej": ""}},
		{name: "new file in a new folder", patch: "diff --git a/pkg/new.py b/pkg/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+x = 1\n",
			check: map[string]string{"pkg/new.py": "x = 1\n"}},
		{name: "not a patch", patch: "just words\n", wantErr: ErrNotPatch},
		{name: "traversal", patch: "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n", wantErr: ErrUnsafePatch},
		{name: "existing symlink folder pointing out",
			files:   map[string]string{"out": "symlink:OUTSIDE"},
			patch:   "diff --git a/out/evil.txt b/out/evil.txt\nnew file mode 100644\n--- /dev/null\n+++ b/out/evil.txt\n@@ -0,0 +1 @@\n+pwned\n",
			wantErr: ErrUnsafePatch, errHas: []string{`"out/evil.txt" resolves outside`}},
		{name: "existing symlink file pointing out",
			files:   map[string]string{"conf.txt": "symlink:OUTSIDE/victim.txt"},
			patch:   "--- a/conf.txt\n+++ b/conf.txt\n@@ -1 +1 @@\n-victim\n+pwned\n",
			wantErr: ErrUnsafePatch},
		{name: "new symlink whose target leaves through an existing symlink",
			files:   map[string]string{"deep": "symlink:OUTSIDE/a/b"},
			patch:   "diff --git a/esc b/esc\nnew file mode 120000\n--- /dev/null\n+++ b/esc\n@@ -0,0 +1 @@\n+deep/../..\n\\ No newline at end of file\n",
			wantErr: ErrUnsafePatch, errHas: []string{`symlink "esc"`}},
		{name: "new symlink inside", patch: "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n@@ -0,0 +1 @@\n+src/app.py\n\\ No newline at end of file\n",
			check: map[string]string{"link": "def f():\n    return 1\n\n"}},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outside := t.TempDir()
			os.MkdirAll(filepath.Join(outside, "a", "b"), 0o755)
			os.WriteFile(filepath.Join(outside, "victim.txt"), []byte("victim\n"), 0o644)
			files := map[string]string{}
			for k, v := range base {
				files[k] = v
			}
			for k, v := range c.files {
				files[k] = strings.ReplaceAll(v, "OUTSIDE", outside)
			}
			sb := sandboxIn(t, files)
			method, err := applyPatch(ctx, sb, c.patch, false)
			if c.method > 0 && method != applyMethods[c.method-1] {
				t.Errorf("applied with %q, want %q", method, applyMethods[c.method-1])
			}
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				for _, h := range c.errHas {
					if !strings.Contains(err.Error(), h) {
						t.Errorf("error lacks %q:\n%v", h, err)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			for f, want := range c.check {
				data, err := os.ReadFile(filepath.Join(sb.dir, f))
				if want == "" {
					if err == nil {
						t.Errorf("%s exists", f)
					}
					continue
				}
				if err != nil || string(data) != want {
					t.Errorf("%s = %q (%v), want %q", f, data, err, want)
				}
			}
			// Nothing may leak out and no stray files may stay behind.
			if data, _ := os.ReadFile(filepath.Join(outside, "victim.txt")); string(data) != "victim\n" {
				t.Errorf("the file outside was changed: %q", data)
			}
			if _, err := os.Stat(filepath.Join(outside, "evil.txt")); err == nil {
				t.Error("a file was written outside the repository")
			}
			status := git(t, sb.dir, "status", "--porcelain", "--ignored")
			for _, l := range strings.Split(status, "\n") {
				if strings.HasSuffix(l, ".orig") || strings.HasSuffix(l, ".rej") {
					t.Errorf("stray file: %s", l)
				}
			}
			if c.wantErr != nil && status != "" {
				t.Errorf("a failed patch changed the tree:\n%s", status)
			}
		})
	}
}

// TestApplyPatchAlreadyApplied: a patch whose changes the tree already
// holds is applied, as SWE-bench's `git apply --check --reverse` accepts it;
// one that is only partly there still fails.
func TestApplyPatchAlreadyApplied(t *testing.T) {
	ctx := context.Background()
	patch := "--- a/lines.txt\n+++ b/lines.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n@@ -8,3 +8,3 @@\n eight\n-nine\n+NINE\n ten\n"
	cases := []struct {
		name, lines string
		wantErr     error
		method      string
	}{
		{"already applied", "one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\nNINE\nten\n", nil, AlreadyApplied},
		{"half applied", "one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\nnine-ish\nten\n", ErrApply, ""},
		{"not applied", "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n", nil, applyMethods[0]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sb := sandboxIn(t, map[string]string{"lines.txt": c.lines})
			method, err := applyPatch(ctx, sb, patch, false)
			if !errors.Is(err, c.wantErr) || method != c.method {
				t.Fatalf("method %q, err %v; want %q, %v", method, err, c.method, c.wantErr)
			}
			data, _ := os.ReadFile(filepath.Join(sb.dir, "lines.txt"))
			if c.wantErr == nil && !strings.Contains(string(data), "TWO") || c.wantErr != nil && string(data) != c.lines {
				t.Errorf("lines.txt = %q", data)
			}
		})
	}
	// In reverse, the same: a tree that already lacks the patch.
	sb := sandboxIn(t, map[string]string{"lines.txt": "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n"})
	if method, err := applyPatch(ctx, sb, patch, true); err != nil || method != AlreadyApplied {
		t.Errorf("reverse on a tree without the patch: %q %v", method, err)
	}
}

func TestApplyPatchReverse(t *testing.T) {
	sb := sandboxIn(t, map[string]string{"src/app.py": "def f():\n    return 2\n\n"})
	method, err := applyPatch(context.Background(), sb, modifyPatch, true)
	if err != nil {
		t.Fatal(err)
	}
	if method != applyMethods[0] {
		t.Errorf("method %q", method)
	}
	data, _ := os.ReadFile(filepath.Join(sb.dir, "src/app.py"))
	if string(data) != "def f():\n    return 1\n\n" {
		t.Errorf("reverse: %q", data)
	}
}
