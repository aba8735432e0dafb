package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// syntaxBroken are the recipes of the golden sets whose syntax is broken:
// an expression missing, a quote, a brace, an interpolation or a heredoc
// left open.
var syntaxBroken = []string{
	"hcl/testdata/broken/syntax_error.hcl",
	"hcl/testdata/broken/unclosed_quote.hcl",
	"hcl/testdata/broken/unclosed_brace.hcl",
	"hcl/testdata/broken/unclosed_interpolation.hcl",
	"hcl/testdata/broken/bad_heredoc.hcl",
}

// fmtRun runs swelego fmt in dir with stdin and returns what it printed.
func fmtRun(t *testing.T, dir, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := swelegoCmd(dir, append([]string{"fmt"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestFmtRefusesSyntaxErrors formats each recipe with broken syntax in
// every mode: each exits 2, prints the errors at file:line:col with the
// source line (NAME.golden under testdata/fmt), writes nothing on stdout
// and leaves the file byte-identical.
func TestFmtRefusesSyntaxErrors(t *testing.T) {
	for _, rel := range syntaxBroken {
		name := strings.TrimSuffix(filepath.Base(rel), ".hcl")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join("..", "..", rel))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := name + ".hcl"
			writeFile(t, filepath.Join(dir, file), string(src))
			modes := [][]string{{file}, {"--check", file}, {"--diff", file}, {"-diff", "-write=false", file}, {"--recursive", "."}, {"-"}}
			var first string
			for _, args := range modes {
				stdin := ""
				if args[0] == "-" {
					stdin = string(src)
				}
				stdout, stderr, code := fmtRun(t, dir, stdin, args...)
				if code != 2 {
					t.Errorf("fmt %v: exit %d, want 2\n%s", args, code, stderr)
				}
				if stdout != "" {
					t.Errorf("fmt %v printed on stdout:\n%s", args, stdout)
				}
				shown := file
				if args[0] == "-" {
					shown = stdinName
				}
				if !regexp.MustCompile(`(?m)^  on ` + regexp.QuoteMeta(shown) + `:\d+:\d+:\n +\d+ \| `).MatchString(stderr) {
					t.Errorf("fmt %v: no diagnostic at %s:line:col with its source line:\n%s", args, shown, stderr)
				}
				if got, _ := os.ReadFile(filepath.Join(dir, file)); string(got) != string(src) {
					t.Fatalf("fmt %v changed the file:\n%s", args, got)
				}
				if first == "" {
					first = fmt.Sprintf("exit %d\n--- stderr\n%s", code, stderr)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("fmt left files behind: %v", entries)
			}
			checkGolden(t, filepath.Join("testdata", "fmt", name+".golden"), first)
		})
	}
}

// TestFmtGoldenSet formats a copy of every recipe of the repository's golden
// sets and examples: those with broken syntax stay byte-identical (exit 2),
// every other one is formatted (exit 0) keeping each comment and every
// character but spaces, and formatting it again changes nothing.
func TestFmtGoldenSet(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		"hcl/testdata/*.hcl", "hcl/testdata/*/*.hcl", "cmd/swelego/testdata/*/*.hcl", "examples/*/*.hcl",
	} {
		m, err := filepath.Glob(filepath.Join("..", "..", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 60 {
		t.Fatalf("found %d recipes; the golden sets have more", len(files))
	}
	for _, p := range files {
		rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Base(p)
			path := filepath.Join(dir, file)
			writeFile(t, path, string(src))
			_, stderr, code := fmtRun(t, dir, "", file)
			got, _ := os.ReadFile(path)
			if slices.Contains(syntaxBroken, rel) {
				if code != 2 || string(got) != string(src) {
					t.Fatalf("exit %d (want 2), file changed: %v\n%s", code, string(got) != string(src), stderr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if noSpace(string(got)) != noSpace(string(src)) {
				t.Errorf("formatting changed more than spaces:\n--- before\n%s\n--- after\n%s", src, got)
			}
			if strings.Count(string(got), "\n") != strings.Count(string(src), "\n") {
				t.Errorf("formatting changed the number of lines")
			}
			for _, c := range comments(t, src) {
				if !strings.Contains(string(got), c) {
					t.Errorf("comment %q lost", c)
				}
			}
			stdout, stderr, code := fmtRun(t, dir, "", "--check", file)
			if code != 0 || stdout != "" {
				t.Errorf("fmt --check after fmt: exit %d, listed %q\n%s", code, stdout, stderr)
			}
			stdout, _, code = fmtRun(t, dir, string(got), "-")
			if code != 0 || stdout != string(got) {
				t.Errorf("fmt - of the formatted file: exit %d, output differs:\n%s", code, stdout)
			}
		})
	}
}

// noSpace is s without any white space.
func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}

// comments lists the comments of src, trailing spaces trimmed.
func comments(t *testing.T, src []byte) []string {
	t.Helper()
	toks, diags := hclsyntax.LexConfig(src, "x.hcl", hclv2.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var out []string
	for _, tok := range toks {
		if tok.Type == hclsyntax.TokenComment {
			out = append(out, strings.TrimRight(string(tok.Bytes), " \t\r\n"))
		}
	}
	return out
}

// TestFmtModes checks the flags against what terraform fmt does: folders
// are formatted one level deep unless --recursive, --check lists and exits
// 3, --diff prints a unified diff, "-" filters standard input, and a file
// with syntax errors does not stop the others from being formatted.
func TestFmtModes(t *testing.T) {
	messy := "# tasks\nsource   \"swebench\" \"x\"   {\npath=\"t.jsonl\" # the file\n  limit =   3\n}\n"
	tidy := "# tasks\nsource \"swebench\" \"x\" {\n  path  = \"t.jsonl\" # the file\n  limit = 3\n}\n"
	broken := "source \"swebench\" \"x\" {\n  path = \"t.jsonl\n}\n"
	diff := "--- old/a.hcl\n+++ new/a.hcl\n@@ -1,5 +1,5 @@\n # tasks\n-source   \"swebench\" \"x\"   {\n-path=\"t.jsonl\" # the file\n-  limit =   3\n+source \"swebench\" \"x\" {\n+  path  = \"t.jsonl\" # the file\n+  limit = 3\n }\n"
	tests := []struct {
		name       string
		args       []string
		stdin      string
		files      map[string]string // written before the run
		wantCode   int
		wantStdout string
		wantFiles  map[string]string // after the run
		wantStderr string            // a part of it
	}{
		{name: "folder", args: nil, files: map[string]string{"a.hcl": messy, "sub/b.hcl": messy},
			wantStdout: "a.hcl\n", wantFiles: map[string]string{"a.hcl": tidy, "sub/b.hcl": messy}},
		{name: "recursive", args: []string{"--recursive"}, files: map[string]string{"a.hcl": messy, "sub/b.hcl": messy, "testdata/c.hcl": messy, ".hidden/d.hcl": messy},
			wantStdout: "a.hcl\nsub/b.hcl\n", wantFiles: map[string]string{"a.hcl": tidy, "sub/b.hcl": tidy, "testdata/c.hcl": messy, ".hidden/d.hcl": messy}},
		{name: "single dash flags", args: []string{"-recursive", "-list=false"}, files: map[string]string{"a.hcl": messy, "sub/b.hcl": messy},
			wantFiles: map[string]string{"a.hcl": tidy, "sub/b.hcl": tidy}},
		{name: "explicit file of any name", args: []string{"recipe.vars"}, files: map[string]string{"recipe.vars": messy},
			wantStdout: "recipe.vars\n", wantFiles: map[string]string{"recipe.vars": tidy}},
		{name: "check", args: []string{"--check"}, files: map[string]string{"a.hcl": messy, "b.hcl": tidy},
			wantCode: 3, wantStdout: "a.hcl\n", wantFiles: map[string]string{"a.hcl": messy, "b.hcl": tidy}, wantStderr: "1 file(s) not formatted"},
		{name: "check formatted", args: []string{"-check"}, files: map[string]string{"b.hcl": tidy},
			wantFiles: map[string]string{"b.hcl": tidy}},
		{name: "diff writes too", args: []string{"--diff", "a.hcl"}, files: map[string]string{"a.hcl": messy},
			wantStdout: "a.hcl\n" + diff, wantFiles: map[string]string{"a.hcl": tidy}},
		{name: "diff only", args: []string{"--diff", "--write=false", "--list=false", "a.hcl"}, files: map[string]string{"a.hcl": messy},
			wantStdout: diff, wantFiles: map[string]string{"a.hcl": messy}},
		{name: "check and diff", args: []string{"--check", "--diff", "--list=false"}, files: map[string]string{"a.hcl": messy},
			wantCode: 3, wantStdout: diff, wantFiles: map[string]string{"a.hcl": messy}},
		{name: "stdin", args: []string{"-"}, stdin: messy, wantStdout: tidy},
		{name: "stdin formatted", args: []string{"-"}, stdin: tidy, wantStdout: tidy},
		{name: "stdin check", args: []string{"--check", "-"}, stdin: messy, wantCode: 3},
		{name: "stdin diff", args: []string{"--diff", "-"}, stdin: messy,
			wantStdout: strings.ReplaceAll(diff, "/a.hcl", "/"+stdinName)},
		{name: "broken file does not stop the others", args: []string{"."}, files: map[string]string{"a.hcl": messy, "b.hcl": broken},
			wantCode: 2, wantStdout: "a.hcl\n", wantFiles: map[string]string{"a.hcl": tidy, "b.hcl": broken}, wantStderr: "on b.hcl:2:18:"},
		{name: "missing target", args: []string{"nosuch.hcl"}, wantCode: 1, wantStderr: "no file or folder at nosuch.hcl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, filepath.Join(dir, name), content)
			}
			stdout, stderr, code := fmtRun(t, dir, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s", code, tt.wantCode, stderr)
			}
			if stdout != tt.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr)
			}
			for name, want := range tt.wantFiles {
				if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
					t.Errorf("%s:\n%s\nwant:\n%s", name, got, want)
				}
			}
		})
	}
}

// checkGolden compares got with the golden file, rewritten by -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *updateValidate {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/swelego -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}
