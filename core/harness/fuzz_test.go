package harness

import (
	"errors"
	"os"
	"path/filepath"
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

// FuzzCheckPatch feeds arbitrary text to CheckPatch: it may refuse, never
// panic, and every path it accepts must stay inside the repository.
func FuzzCheckPatch(f *testing.F) {
	addFileSeeds(f, "testdata/pytask/*.diff")
	for _, s := range []string{
		modifyPatch, "", "@@ -1 +1 @@", "--- a/x\n+++ b/x\n@@ -1,99999999999 +1 @@\n",
		"diff --git \"a/\\303\\251\" \"b/\\303\\251\"\nnew file mode 120000\n--- /dev/null\n+++ \"b/\\303\\251\"\n@@ -0,0 +1 @@\n+../x\n",
		"diff --git a/a b/a\nGIT binary patch\nliteral 1\nAcmZQz\n\ndiff --git a/../b b/../b\n",
		"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-- a\n+++ b/../../etc\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, patch string) {
		paths, err := CheckPatch(patch)
		if err != nil {
			if !errors.Is(err, ErrNotPatch) && !errors.Is(err, ErrUnsafePatch) {
				t.Errorf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(paths) == 0 {
			t.Error("accepted a patch touching nothing")
		}
		for _, p := range paths {
			if err := checkPath(p); err != nil || p == "" {
				t.Errorf("accepted unsafe path %q: %v", p, err)
			}
		}
	})
}
