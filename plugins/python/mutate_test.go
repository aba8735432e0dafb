package python

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render writes mutations as the golden files hold them.
func render(ms []sdk.Mutation) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "### %s line %d %s (%s) id %s\n%s", m.Kind, m.Line, m.Symbol, m.Meta["swesmith"], m.ID, m.Diff)
	}
	return b.String()
}

// TestGolden runs each rule alone over testdata/RULE.py and compares the
// diffs with testdata/RULE.golden (refresh with -update).
func TestGolden(t *testing.T) {
	for _, rule := range Rules {
		t.Run(rule, func(t *testing.T) {
			name := rule + ".py"
			src, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			ms, err := Mutate(name, src, Options{Rules: []string{rule}})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 {
				t.Fatalf("rule %s proposed nothing for %s", rule, name)
			}
			for _, m := range ms {
				if m.Kind != rule || m.Injector != Injector || m.File != name || m.Line == 0 || m.Symbol == "" {
					t.Errorf("bad mutation fields: %+v", m)
				}
			}
			got := render(ms)
			golden := filepath.Join("testdata", rule+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./plugins/python -update)", err)
			}
			if got != string(want) {
				t.Errorf("mutations of %s differ from %s:\n--- got\n%s", name, golden, got)
			}
		})
	}
}

// testdataSources returns every testdata/*.py by name.
func testdataSources(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.py"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = src
	}
	return out
}

// TestByteIdentity checks that a mutation changes only its edit's range
// and that its diff, applied by git apply and by patch -p1, reproduces the
// mutated source exactly.
func TestByteIdentity(t *testing.T) {
	srcs := testdataSources(t)
	// Edge cases for the diff writer: no final newline, CRLF, a change in
	// the first and in the last line.
	srcs["nonl.py"] = []byte("def f(a, b):\n    return a - b")
	srcs["crlf.py"] = []byte("def f(a, b):\r\n    x = a + b\r\n    return x\r\n")
	srcs["first.py"] = []byte("def f(): return 1 + 2\n")
	for name, src := range srcs {
		rs, err := mutate(name, src, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rs) == 0 {
			t.Errorf("%s: no mutations", name)
		}
		for _, r := range rs {
			e := r.edit
			end := e.start + len(e.text)
			if !bytes.Equal(r.mutated[:e.start], src[:e.start]) || !bytes.Equal(r.mutated[end:], src[e.end:]) || string(r.mutated[e.start:end]) != e.text {
				t.Errorf("%s %s: bytes outside [%d,%d) changed", name, r.ID, e.start, e.end)
			}
			if bytes.Equal(r.mutated, src) {
				t.Errorf("%s %s: mutation changes nothing", name, r.ID)
			}
			for _, tool := range []string{"git", "patch"} {
				got := applyDiff(t, tool, name, src, r.Diff)
				if !bytes.Equal(got, r.mutated) {
					t.Errorf("%s %s: %s applied the diff to\n%q\nwant\n%q\ndiff:\n%s", name, r.ID, tool, got, r.mutated, r.Diff)
				}
			}
		}
	}
}

// applyDiff writes src as name in a fresh git repository, applies diff
// with git apply or patch -p1, and returns the result.
func applyDiff(t *testing.T, tool, name string, src []byte, diff string) []byte {
	t.Helper()
	dir := t.TempDir()
	run := func(stdin string, args ...string) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s\ndiff:\n%s", strings.Join(args, " "), err, out, diff)
		}
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
		t.Fatal(err)
	}
	switch tool {
	case "git":
		run("", "git", "init", "-q")
		run(diff, "git", "apply", "--whitespace=nowarn", "-")
	case "patch":
		run(diff, "patch", "-p1", "--quiet", "--batch")
	}
	got, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestUnifiedDiffHeaders(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"middle line", "a\nb\nc\nd\ne\nf\ng\nh\ni\n", "a\nb\nc\nd\nE\nf\ng\nh\ni\n",
			"@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"},
		{"first line", "a\nb\n", "A\nb\n", "@@ -1,2 +1,2 @@\n-a\n+A\n b\n"},
		{"removed lines", "a\nb\nc\n", "a\nc\n", "@@ -1,3 +1,2 @@\n a\n-b\n c\n"},
		{"one line file", "a\n", "b\n", "@@ -1 +1 @@\n-a\n+b\n"},
		{"no newline", "a\nb", "a\nc", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unifiedDiff("f.py", []byte(tt.old), []byte(tt.new))
			want := "diff --git a/f.py b/f.py\n--- a/f.py\n+++ b/f.py\n" + tt.want
			if got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestSkipsTestFiles(t *testing.T) {
	src := []byte("def f(a, b):\n    return a - b\n")
	for _, name := range []string{"test_x.py", "pkg/x_test.py", "tests/helpers.py", "a/test/b.py", "conftest.py"} {
		ms, err := Mutate(name, src, Options{})
		if err != nil || len(ms) != 0 {
			t.Errorf("%s: got %d mutations, %v; want none", name, len(ms), err)
		}
	}
	ms, err := Mutate("pkg/x.py", src, Options{})
	if err != nil || len(ms) == 0 {
		t.Errorf("pkg/x.py: got %d mutations, %v; want some", len(ms), err)
	}
	ms, err = Mutate("tests/x.py", src, Options{IncludeTests: true})
	if err != nil || len(ms) == 0 {
		t.Errorf("IncludeTests: got %d mutations, %v; want some", len(ms), err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := Mutate("bad.py", []byte("def f(:\n"), Options{}); !errors.Is(err, ErrSyntax) {
		t.Errorf("syntax error: got %v, want ErrSyntax", err)
	}
	for _, o := range []Options{
		{Rules: []string{"nope"}},
		{Probability: 1.5},
		{RuleProbability: map[string]float64{RuleInvertIf: -1}},
		{MaxPerFunction: -1},
	} {
		if _, err := Mutate("x.py", []byte("x = 1\n"), o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: got %v, want ErrOptions", o, err)
		}
	}
}

func TestOptions(t *testing.T) {
	srcs := testdataSources(t)
	all := func(o Options) []sdk.Mutation {
		var out []sdk.Mutation
		for _, rule := range Rules {
			name := rule + ".py"
			ms, err := Mutate(name, srcs[name], o)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ms...)
		}
		return out
	}
	full := all(Options{})

	t.Run("deterministic", func(t *testing.T) {
		a, b := all(Options{Seed: 7, Probability: 0.5}), all(Options{Seed: 7, Probability: 0.5})
		if render(a) != render(b) {
			t.Error("same seed, different mutations")
		}
		if len(a) == 0 || len(a) >= len(full) {
			t.Errorf("probability 0.5 kept %d of %d", len(a), len(full))
		}
		c := all(Options{Seed: 8, Probability: 0.5})
		if render(a) == render(c) {
			t.Error("seeds 7 and 8 gave the same sample")
		}
	})
	t.Run("rule probability 0 turns a rule off", func(t *testing.T) {
		for _, m := range all(Options{RuleProbability: map[string]float64{RuleChangeConstant: 0}}) {
			if m.Kind == RuleChangeConstant {
				t.Fatalf("change_constant emitted with probability 0")
			}
		}
	})
	t.Run("max per function", func(t *testing.T) {
		per := map[string]int{}
		for _, m := range all(Options{MaxPerFunction: 1}) {
			per[m.File+":"+m.Symbol]++
		}
		for k, n := range per {
			if n > 1 {
				t.Errorf("%s: %d mutations, want at most 1", k, n)
			}
		}
	})
	t.Run("statement filters", func(t *testing.T) {
		src := []byte("def small(a):\n    return a - 1\n\n\ndef big(a):\n    a = a + 1\n    a = a - 2\n    return a * 3\n")
		ms, _ := Mutate("f.py", src, Options{MinStatements: 2})
		for _, m := range ms {
			if m.Symbol != "big" {
				t.Errorf("min_statements: got a mutation in %s", m.Symbol)
			}
		}
		ms, _ = Mutate("f.py", src, Options{MaxStatements: 2})
		for _, m := range ms {
			if m.Symbol != "small" {
				t.Errorf("max_statements: got a mutation in %s", m.Symbol)
			}
		}
		if len(ms) == 0 {
			t.Error("max_statements dropped everything")
		}
		ms, _ = Mutate("f.py", []byte("def f(a):\n    if a and a > 1:\n        return a - 1\n    return a\n"), Options{MaxComplexity: 2})
		if len(ms) != 0 {
			t.Errorf("max_complexity 2 kept %d mutations of a function of complexity 3", len(ms))
		}
	})
	t.Run("max class size", func(t *testing.T) {
		ms, _ := Mutate("remove_base_class.py", srcs["remove_base_class.py"], Options{Rules: []string{RuleRemoveBaseClass}, MaxClassSize: 2})
		for _, m := range ms {
			if m.Symbol == "Child" {
				t.Error("a 3-line class passed max_class_size 2")
			}
		}
		if len(ms) == 0 {
			t.Error("max_class_size dropped every class")
		}
	})
	t.Run("module level code is not mutated", func(t *testing.T) {
		ms, _ := Mutate("m.py", []byte("X = 1 + 2\nif X > 2:\n    Y = 3\n"), Options{})
		if len(ms) != 0 {
			t.Errorf("got %d mutations of module-level code", len(ms))
		}
	})
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		glob, file string
		want       bool
	}{
		{"*.py", "a/b/c.py", true},
		{"src/**/*.py", "src/a/b.py", true},
		{"src/**/*.py", "src/b.py", true},
		{"src/**/*.py", "lib/b.py", false},
		{"src/*.py", "src/a/b.py", false},
		{"**/core.py", "x/y/core.py", true},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.glob, tt.file); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.glob, tt.file, got, tt.want)
		}
	}
}
