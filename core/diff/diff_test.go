package diff

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const fixDiff = `diff --git a/pkg/calc.py b/pkg/calc.py
--- a/pkg/calc.py
+++ b/pkg/calc.py
@@ -1,4 +1,4 @@
 def clamp(x, lo, hi):
-    if x <= lo:
+    if x < lo:
         return lo
     return x
`

// TestReverse: a reversed fix is the mutation, and reversing twice
// gives the patch back; git agrees on the direction.
func TestReverse(t *testing.T) {
	rev, err := Reverse(fixDiff)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rev, "+    if x <= lo:\n") || !strings.Contains(rev, "-    if x < lo:\n") || !strings.Contains(rev, "--- b/pkg/calc.py\n+++ a/pkg/calc.py\n") {
		t.Errorf("reversed:\n%s", rev)
	}
	back, err := Reverse(rev)
	if err != nil || back != fixDiff {
		t.Errorf("reversing twice: %v\n%s", err, back)
	}
	// git applies the fix to the buggy file and the reversed fix to the
	// fixed one.
	dir := t.TempDir()
	run := func(stdin string, args ...string) {
		t.Helper()
		c := exec.Command(args[0], args[1:]...)
		c.Dir = dir
		c.Stdin = strings.NewReader(stdin)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	os.MkdirAll(filepath.Join(dir, "pkg"), 0o755)
	os.WriteFile(filepath.Join(dir, "pkg", "calc.py"), []byte("def clamp(x, lo, hi):\n    if x <= lo:\n        return lo\n    return x\n"), 0o644)
	run("", "git", "init", "-q")
	run(fixDiff, "git", "apply", "-")
	run(rev, "git", "apply", "-")
	got, _ := os.ReadFile(filepath.Join(dir, "pkg", "calc.py"))
	if !strings.Contains(string(got), "if x <= lo:") {
		t.Errorf("fix then reversed fix gives\n%s", got)
	}
	if _, err := Reverse("diff --git a/x b/x\nnew file mode 100644\n"); err == nil {
		t.Error("a new file was reversed")
	}
}

func TestChangedFiles(t *testing.T) {
	files := ChangedFiles(fixDiff + "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n")
	if !reflect.DeepEqual(files, []string{"pkg/calc.py", "README.md"}) {
		t.Fatalf("ChangedFiles = %v", files)
	}
}

func TestSections(t *testing.T) {
	a := "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
	b := "diff --git a/y b/y\nBinary files a/y and b/y differ"
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"two sections", a + b, []string{a, b}},
		{"preamble dropped", "From abc\nSubject: fix\n\n" + a, []string{a}},
		{"header text inside a line is not a cut", a[:len(a)-1] + " diff --git a/z b/z\n", []string{a[:len(a)-1] + " diff --git a/z b/z\n"}},
		{"no git headers", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n", nil},
		{"empty", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Sections(c.in); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Sections = %q, want %q", got, c.want)
			}
		})
	}
}

func TestChangedLines(t *testing.T) {
	two := fixDiff + "diff --git a/pkg/b.py b/pkg/b.py\n--- a/pkg/b.py\n+++ b/pkg/b.py\n@@ -10,3 +10,4 @@\n x\n-y\n+y2\n+y3\n z\n@@ -40 +41 @@\n-q\n+r\n"
	cases := []struct {
		name string
		in   string
		want []Line
	}{
		{"one hunk", fixDiff, []Line{
			{File: "pkg/calc.py", Op: '-', N: 2, Text: "    if x <= lo:"},
			{File: "pkg/calc.py", Op: '+', N: 2, Text: "    if x < lo:"},
		}},
		{"two files, two hunks", two, []Line{
			{File: "pkg/calc.py", Op: '-', N: 2, Text: "    if x <= lo:"},
			{File: "pkg/calc.py", Op: '+', N: 2, Text: "    if x < lo:"},
			{File: "pkg/b.py", Op: '-', N: 11, Text: "y"},
			{File: "pkg/b.py", Op: '+', N: 11, Text: "y2"},
			{File: "pkg/b.py", Op: '+', N: 12, Text: "y3"},
			{File: "pkg/b.py", Op: '-', N: 40, Text: "q"},
			{File: "pkg/b.py", Op: '+', N: 41, Text: "r"},
		}},
		{"lines before a file name", "@@ -1 +1 @@\n-a\n+b\n", nil},
		{"not a diff", "hello\nworld\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ChangedLines(c.in); !reflect.DeepEqual(got, c.want) {
				t.Errorf("ChangedLines = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	files, err := Parse(fixDiff)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].NewName != "pkg/calc.py" || len(files[0].TextFragments) != 1 || files[0].TextFragments[0].LinesDeleted != 1 {
		t.Fatalf("Parse = %+v", files)
	}
	if files, err := Parse(" \n\t"); files != nil || err != nil {
		t.Errorf("Parse of white space = %v, %v", files, err)
	}
	if _, err := Parse("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n"); err == nil {
		t.Error("a hunk shorter than its header was parsed")
	}
}
