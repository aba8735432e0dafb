package pipeline

import (
	"strings"
	"testing"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/sdk"
)

const prDiff = `diff --git a/widgets/area.py b/widgets/area.py
index 1111111..2222222 100644
--- a/widgets/area.py
+++ b/widgets/area.py
@@ -1,2 +1,2 @@
 def area(w, h):
-    return w * h
+    return check(w) * h
diff --git a/tests/test_area.py b/tests/test_area.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/tests/test_area.py
@@ -0,0 +1,2 @@
+def test_negative():
+    assert raises(area, -1, 2)
diff --git a/widgets/old_test.py b/widgets/old_test.py
deleted file mode 100644
index 4444444..0000000
--- a/widgets/old_test.py
+++ /dev/null
@@ -1 +0,0 @@
-x = 1
diff --git a/README.md b/README.md
index 5555555..6666666 100644
--- a/README.md
+++ b/README.md
@@ -1 +1 @@
-Widgets
+Widgets, checked
`

func TestSplitPatch(t *testing.T) {
	py := []string{"test_*.py", "*_test.py", "tests/**"}
	cases := []struct {
		name             string
		globs            []string
		patchFiles, test []string
	}{
		{"python globs", py, []string{"widgets/area.py", "README.md"}, []string{"tests/test_area.py", "widgets/old_test.py"}},
		{"no globs: all code", nil, []string{"widgets/area.py", "tests/test_area.py", "widgets/old_test.py", "README.md"}, nil},
		{"everything is a test", []string{"*"}, nil, []string{"widgets/area.py", "tests/test_area.py", "widgets/old_test.py", "README.md"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			patch, tests, err := SplitPatch(prDiff, c.globs)
			if err != nil {
				t.Fatal(err)
			}
			if patch+tests == "" || len(patch)+len(tests) != len(prDiff) {
				t.Errorf("the split loses bytes: %d + %d of %d", len(patch), len(tests), len(prDiff))
			}
			for _, want := range []struct {
				text  string
				files []string
			}{{patch, c.patchFiles}, {tests, c.test}} {
				var got []string
				for _, sec := range strings.SplitAfter(want.text, "\n") {
					if name, ok := strings.CutPrefix(sec, "diff --git a/"); ok {
						got = append(got, strings.Fields(name)[0])
					}
				}
				if strings.Join(got, ",") != strings.Join(want.files, ",") {
					t.Errorf("files %v, want %v", got, want.files)
				}
			}
		})
	}
}

func TestIsCandidate(t *testing.T) {
	base := sdk.Task{InstanceID: "a", BaseCommit: "abc", Patch: "diff"}
	cases := []struct {
		name string
		edit func(*sdk.Task)
		want bool
	}{
		{"a mined pull request", func(*sdk.Task) {}, true},
		{"real", func(t *sdk.Task) { t.Source = sdk.SourceReal }, true},
		{"validated", func(t *sdk.Task) { t.FailToPass = []string{"x"} }, false},
		{"synthetic", func(t *sdk.Task) { t.Source = sdk.SourceSynthetic }, false},
		{"introduces", func(t *sdk.Task) { t.PatchDirection = sdk.PatchIntroduces }, false},
		{"no base", func(t *sdk.Task) { t.BaseCommit = "" }, false},
		{"no patch", func(t *sdk.Task) { t.Patch = "" }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task := base
			c.edit(&task)
			if got := IsCandidate(task); got != c.want {
				t.Errorf("IsCandidate = %v, want %v", got, c.want)
			}
		})
	}
}

func FuzzSplitPatch(f *testing.F) {
	f.Add(prDiff)
	f.Add("diff --git a/x b/x\n")
	f.Add("not a diff")
	f.Fuzz(func(t *testing.T, d string) {
		patch, tests, err := SplitPatch(d, []string{"tests/**", "*_test.go"})
		if err != nil {
			return
		}
		// Every section lands on one side, byte for byte.
		total := 0
		for _, sec := range diff.Sections(d) {
			total += len(sec)
			if !strings.Contains(patch, sec) && !strings.Contains(tests, sec) {
				t.Fatalf("section %q is lost", sec)
			}
		}
		if len(patch)+len(tests) != total {
			t.Fatalf("the split of %q made %d + %d bytes of %d", d, len(patch), len(tests), total)
		}
	})
}
