package diff

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addFileSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(string(data))
		}
	}
}

// FuzzCheck feeds arbitrary text to Check: it may refuse, never panic, and
// every path it accepts must stay inside the repository.
func FuzzCheck(f *testing.F) {
	addFileSeeds(f, "testdata/seeds/*.diff")
	for _, s := range []string{
		modifyPatch, "", "@@ -1 +1 @@", "--- a/x\n+++ b/x\n@@ -1,99999999999 +1 @@\n",
		"diff --git \"a/\\303\\251\" \"b/\\303\\251\"\nnew file mode 120000\n--- /dev/null\n+++ \"b/\\303\\251\"\n@@ -0,0 +1 @@\n+../x\n",
		"diff --git a/a b/a\nGIT binary patch\nliteral 1\nAcmZQz\n\ndiff --git a/../b b/../b\n",
		"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-- a\n+++ b/../../etc\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, patch string) {
		got, err := Check(patch)
		if err != nil {
			if !errors.Is(err, ErrNotPatch) && !errors.Is(err, ErrUnsafePatch) {
				t.Errorf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(got.Paths) == 0 {
			t.Error("accepted a patch touching nothing")
		}
		for _, p := range got.Paths {
			if err := checkPath(p); err != nil || p == "" {
				t.Errorf("accepted unsafe path %q: %v", p, err)
			}
		}
		for _, l := range got.Links {
			if err := checkPath(l.Path); err != nil || l.Path == "" || strings.HasPrefix(l.Target, "/") {
				t.Errorf("accepted unsafe link %q -> %q: %v", l.Path, l.Target, err)
			}
		}
	})
}

// FuzzSections: the sections of any text start at a "diff --git" line and,
// put together, are its tail from the first one on.
func FuzzSections(f *testing.F) {
	addFileSeeds(f, "testdata/seeds/*.diff")
	f.Add("preamble\ndiff --git a/x b/x\n+a\ndiff --git a/y b/y")
	f.Fuzz(func(t *testing.T, d string) {
		secs := Sections(d)
		for _, s := range secs {
			if !strings.HasPrefix(s, "diff --git ") {
				t.Fatalf("section %q does not start at a file header", s)
			}
		}
		if joined := strings.Join(secs, ""); !strings.HasSuffix(d, joined) || (len(secs) == 0) != (joined == "") {
			t.Errorf("sections %q are not the tail of %q", secs, d)
		}
	})
}

// FuzzReverse: reversing any text never panics and keeps its lines.
func FuzzReverse(f *testing.F) {
	addFileSeeds(f, "testdata/seeds/*.diff")
	f.Add(modifyPatch)
	f.Fuzz(func(t *testing.T, d string) {
		rev, err := Reverse(d)
		if err != nil {
			return
		}
		if strings.Count(rev, "\n") != strings.Count(d, "\n") {
			t.Errorf("reversing %q gives %q: the lines changed", d, rev)
		}
	})
}

// FuzzChangedLines: every changed line of any text is a removal or an
// addition in a named file.
func FuzzChangedLines(f *testing.F) {
	addFileSeeds(f, "testdata/seeds/*.diff")
	f.Add(modifyPatch)
	f.Fuzz(func(t *testing.T, d string) {
		for _, l := range ChangedLines(d) {
			if l.File == "" || (l.Op != '-' && l.Op != '+') || strings.Contains(l.Text, "\n") {
				t.Errorf("changed line %+v of %q", l, d)
			}
		}
	})
}
