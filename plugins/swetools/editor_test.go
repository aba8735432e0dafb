package swetools

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run go test -update and read the diff):\n%s", file, lineDiff(string(want), got))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, a, b)
		}
	}
	return "(same lines)"
}

const modPy = `def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def twice(x):
    return add(x, x)
`

// editorFixture fills the sandbox's root with a small repository.
func editorFixture(t *testing.T, e *env) (outside string) {
	t.Helper()
	e.write("pkg/mod.py", modPy)
	e.write("pkg/__init__.py", "")
	e.write("pkg/sub/deep/too_deep.py", "x = 1\n")
	e.write("pkg/.cache/hidden.txt", "hidden\n")
	e.write(".git/config", "[core]\n")
	e.write("README.md", "hello\n")
	e.write("noeol.txt", "first\nsecond")
	e.write("data.bin", "\x00\x01\x02binary")
	outside = t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"escape": outside, "inlink.py": "pkg/mod.py", "dangling": "/nonexistent-swetools/x"} {
		if err := os.Symlink(to, e.path(link)); err != nil {
			t.Fatal(err)
		}
	}
	return outside
}

// TestEditor plays a sequence of editor calls and compares every
// observation with testdata/editor.golden; the files' content is checked
// along the way.
func TestEditor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	outside := editorFixture(t, e)
	root := e.sb.root
	p := func(rel string) string { return root + "/" + rel }
	type check struct {
		file, content string // content "" with gone: the file must not exist
		gone          bool
	}
	steps := []struct {
		name  string
		args  map[string]any
		error bool
		check *check
	}{
		{"view the root", map[string]any{"command": "view", "path": root}, false, nil},
		{"view a folder", map[string]any{"command": "view", "path": p("pkg")}, false, nil},
		{"view a file", map[string]any{"command": "view", "path": p("pkg/mod.py")}, false, nil},
		{"view a range", map[string]any{"command": "view", "path": p("pkg/mod.py"), "view_range": []int{5, 6}}, false, nil},
		{"view to the end", map[string]any{"command": "view", "path": p("pkg/mod.py"), "view_range": []int{9, -1}}, false, nil},
		{"view past the end", map[string]any{"command": "view", "path": p("pkg/mod.py"), "view_range": []int{9, 40}}, false, nil},
		{"view range from zero", map[string]any{"command": "view", "path": p("pkg/mod.py"), "view_range": []int{0, 3}}, true, nil},
		{"view range past the file", map[string]any{"command": "view", "path": p("pkg/mod.py"), "view_range": []int{11, 12}}, true, nil},
		{"view range backwards", map[string]any{"command": "view", "path": p("pkg/mod.py"), "view_range": []int{5, 2}}, true, nil},
		{"view range of one number", map[string]any{"command": "view", "path": p("pkg/mod.py"), "view_range": []int{5}}, true, nil},
		{"view range of a folder", map[string]any{"command": "view", "path": p("pkg"), "view_range": []int{1, 2}}, true, nil},
		{"view an empty file", map[string]any{"command": "view", "path": p("pkg/__init__.py")}, false, nil},
		{"view a link inside", map[string]any{"command": "view", "path": p("inlink.py"), "view_range": []int{1, 2}}, false, nil},
		{"view a binary file", map[string]any{"command": "view", "path": p("data.bin")}, true, nil},
		{"view a missing file", map[string]any{"command": "view", "path": p("nope.py")}, true, nil},
		{"relative path", map[string]any{"command": "view", "path": "pkg/mod.py"}, true, nil},
		{"path outside", map[string]any{"command": "view", "path": "/etc/passwd"}, true, nil},
		{"dot-dot escape", map[string]any{"command": "view", "path": p("pkg/../../etc/passwd")}, true, nil},
		{"symlink escape", map[string]any{"command": "view", "path": p("escape/secret.txt")}, true, nil},
		{"create through a symlink escape", map[string]any{"command": "create", "path": p("escape/new.txt"), "file_text": "x\n"}, true, nil},
		{"dangling symlink escape", map[string]any{"command": "create", "path": p("dangling"), "file_text": "x\n"}, true, nil},
		{"create over a file", map[string]any{"command": "create", "path": p("README.md"), "file_text": "new\n"}, true, &check{file: "README.md", content: "hello\n"}},
		{"create over a folder", map[string]any{"command": "create", "path": p("pkg"), "file_text": "new\n"}, true, nil},
		{"create without file_text", map[string]any{"command": "create", "path": p("new.py")}, true, &check{file: "new.py", gone: true}},
		{"create", map[string]any{"command": "create", "path": p("pkg/new/helper.py"), "file_text": "def helper():\n    return 42\n"}, false,
			&check{file: "pkg/new/helper.py", content: "def helper():\n    return 42\n"}},
		{"undo the creation", map[string]any{"command": "undo_edit", "path": p("pkg/new/helper.py")}, false, &check{file: "pkg/new/helper.py", gone: true}},
		{"undo with no history", map[string]any{"command": "undo_edit", "path": p("pkg/new/helper.py")}, true, nil},
		{"replace, no match", map[string]any{"command": "str_replace", "path": p("pkg/mod.py"), "old_str": "return a * b", "new_str": "x"}, true, &check{file: "pkg/mod.py", content: modPy}},
		{"replace, whitespace mismatch", map[string]any{"command": "str_replace", "path": p("pkg/mod.py"), "old_str": "def sub(a, b):\n  return a - b", "new_str": "x"}, true, nil},
		{"replace, several matches", map[string]any{"command": "str_replace", "path": p("pkg/mod.py"), "old_str": "(a, b):", "new_str": "(a, b, c):"}, true, &check{file: "pkg/mod.py", content: modPy}},
		{"replace, empty old_str", map[string]any{"command": "str_replace", "path": p("pkg/mod.py"), "old_str": "", "new_str": "x"}, true, nil},
		{"replace, same text", map[string]any{"command": "str_replace", "path": p("pkg/mod.py"), "old_str": "a - b", "new_str": "a - b"}, true, nil},
		{"replace, missing old_str", map[string]any{"command": "str_replace", "path": p("pkg/mod.py"), "new_str": "x"}, true, nil},
		{"replace in a folder", map[string]any{"command": "str_replace", "path": p("pkg"), "old_str": "a", "new_str": "b"}, true, nil},
		{"replace", map[string]any{"command": "str_replace", "path": p("pkg/mod.py"), "old_str": "    return a - b", "new_str": "    # subtract\n    return a - b"}, false,
			&check{file: "pkg/mod.py", content: strings.Replace(modPy, "    return a - b", "    # subtract\n    return a - b", 1)}},
		{"replace again through the link", map[string]any{"command": "str_replace", "path": p("inlink.py"), "old_str": "return add(x, x)", "new_str": "return 2 * x"}, false,
			&check{file: "pkg/mod.py", content: strings.Replace(strings.Replace(modPy, "    return a - b", "    # subtract\n    return a - b", 1), "return add(x, x)", "return 2 * x", 1)}},
		{"replace deleting", map[string]any{"command": "str_replace", "path": p("README.md"), "old_str": "hello\n"}, false, &check{file: "README.md", content: ""}},
		{"undo the deletion", map[string]any{"command": "undo_edit", "path": p("README.md")}, false, &check{file: "README.md", content: "hello\n"}},
		{"undo the replace through the link", map[string]any{"command": "undo_edit", "path": p("pkg/mod.py")}, false,
			&check{file: "pkg/mod.py", content: strings.Replace(modPy, "    return a - b", "    # subtract\n    return a - b", 1)}},
		{"undo the first replace", map[string]any{"command": "undo_edit", "path": p("pkg/mod.py")}, false, &check{file: "pkg/mod.py", content: modPy}},
		{"insert at the top", map[string]any{"command": "insert", "path": p("pkg/mod.py"), "insert_line": 0, "new_str": "import os\n"}, false,
			&check{file: "pkg/mod.py", content: "import os\n" + modPy}},
		{"insert at the end", map[string]any{"command": "insert", "path": p("pkg/mod.py"), "insert_line": 11, "new_str": "\n\nLIMIT = 3"}, false,
			&check{file: "pkg/mod.py", content: "import os\n" + modPy + "\n\nLIMIT = 3\n"}},
		{"insert past the end", map[string]any{"command": "insert", "path": p("pkg/mod.py"), "insert_line": 15, "new_str": "x"}, true, nil},
		{"insert below zero", map[string]any{"command": "insert", "path": p("pkg/mod.py"), "insert_line": -1, "new_str": "x"}, true, nil},
		{"insert without insert_line", map[string]any{"command": "insert", "path": p("pkg/mod.py"), "new_str": "x"}, true, nil},
		{"insert without new_str", map[string]any{"command": "insert", "path": p("pkg/mod.py"), "insert_line": 1}, true, nil},
		{"insert at the end of a file without a final newline", map[string]any{"command": "insert", "path": p("noeol.txt"), "insert_line": 2, "new_str": "third"}, false,
			&check{file: "noeol.txt", content: "first\nsecond\nthird"}},
		{"insert into an empty file", map[string]any{"command": "insert", "path": p("pkg/__init__.py"), "insert_line": 0, "new_str": "VERSION = 1"}, false,
			&check{file: "pkg/__init__.py", content: "VERSION = 1\n"}},
		{"undo the last insert", map[string]any{"command": "undo_edit", "path": p("pkg/mod.py")}, false, &check{file: "pkg/mod.py", content: "import os\n" + modPy}},
		{"undo the first insert", map[string]any{"command": "undo_edit", "path": p("pkg/mod.py")}, false, &check{file: "pkg/mod.py", content: modPy}},
		{"view_range with create", map[string]any{"command": "create", "path": p("x.py"), "file_text": "", "view_range": []int{1, 2}}, true, nil},
		{"create an empty file", map[string]any{"command": "create", "path": p("empty.py"), "file_text": ""}, false, &check{file: "empty.py", content: ""}},
	}
	var log strings.Builder
	for _, s := range steps {
		args, _ := json.Marshal(s.args)
		res := e.call(ToolEditor, string(args))
		if res.Error != s.error {
			t.Errorf("%s: error %v, want %v:\n%s", s.name, res.Error, s.error, res.Output)
		}
		if res.Finished {
			t.Errorf("%s: Finished set", s.name)
		}
		if c := s.check; c != nil {
			b, err := os.ReadFile(e.path(c.file))
			switch {
			case c.gone && !os.IsNotExist(err):
				t.Errorf("%s: %s exists (%v)", s.name, c.file, err)
			case !c.gone && err != nil:
				t.Errorf("%s: %v", s.name, err)
			case !c.gone && string(b) != c.content:
				t.Errorf("%s: %s holds\n%q\nwant\n%q", s.name, c.file, b, c.content)
			}
		}
		out := strings.ReplaceAll(res.Output, outside, "/outside")
		out = strings.ReplaceAll(out, root, "/testbed")
		fmt.Fprintf(&log, "### %s\n%s\n--- error=%v truncated=%v\n%s\n\n", s.name,
			strings.ReplaceAll(string(args), root, "/testbed"), res.Error, res.Truncated, out)
	}
	golden(t, "editor.golden", log.String())
	if b, err := os.ReadFile(filepath.Join(outside, "secret.txt")); err != nil || string(b) != "secret\n" {
		t.Errorf("the file outside changed: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new.txt")); !os.IsNotExist(err) {
		t.Errorf("a file was created outside the repository: %v", err)
	}
}

func TestEditorTruncatesLongFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, map[string]any{"max_output": 2000})
	e.write("long.txt", seqOutput(5000))
	res := e.call(ToolEditor, map[string]any{"command": "view", "path": e.path("long.txt")})
	if !res.Truncated || res.Error {
		t.Fatalf("truncated %v, error %v", res.Truncated, res.Error)
	}
	wantOutput(t, res, "     1\t1\n", "  5000\t5000\n", "bytes of output omitted here", "use view_range")
	if len(res.Output) > 2600 {
		t.Errorf("output of %d bytes", len(res.Output))
	}
	res = e.call(ToolEditor, map[string]any{"command": "view", "path": e.path("long.txt"), "view_range": []int{2500, 2502}})
	if res.Truncated {
		t.Error("a short range was truncated")
	}
	wantOutput(t, res, "  2500\t2500\n  2501\t2501\n  2502\t2502")
}

// TestEditorHistoryInSandbox checks that the undo history is the
// sandbox's: another tool set (a restarted plugin) undoes the edits of the
// first, and a second sandbox has a history of its own.
func TestEditorHistoryInSandbox(t *testing.T) {
	t.Parallel()
	a := newEnv(t, true, nil)
	b := newEnv(t, true, nil)
	for _, e := range []*env{a, b} {
		e.write("f.txt", "one\n")
	}
	a.call(ToolEditor, map[string]any{"command": "str_replace", "path": a.path("f.txt"), "old_str": "one", "new_str": "two"})
	a.ts = &ToolSet{}
	res := b.call(ToolEditor, map[string]any{"command": "undo_edit", "path": b.path("f.txt")})
	if !res.Error {
		t.Errorf("the other sandbox undid an edit it never made: %+v", res)
	}
	res = a.call(ToolEditor, map[string]any{"command": "undo_edit", "path": a.path("f.txt")})
	if res.Error || a.read("f.txt") != "one\n" {
		t.Errorf("undo from a new tool set: %+v, file %q", res, a.read("f.txt"))
	}
}

func TestEditorKeepsMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	e.write("run.sh", "#!/bin/sh\necho one\n")
	if err := os.Chmod(e.path("run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.call(ToolEditor, map[string]any{"command": "str_replace", "path": e.path("run.sh"), "old_str": "one", "new_str": "two"})
	res := e.bash("./run.sh")
	wantOutput(t, res, "two\n")
}
