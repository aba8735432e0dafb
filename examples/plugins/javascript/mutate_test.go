package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestMutateGolden mutates testdata/mutate/*.js and compares every diff
// with the golden file; with git on PATH each diff must apply, and with
// node each mutated file must pass `node --check`.
func TestMutateGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "mutate", "*.js"))
	if len(files) == 0 {
		t.Fatal("no sources")
	}
	_, gitErr := exec.LookPath("git")
	_, nodeErr := exec.LookPath("node")
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := Mutate("lib/sample.js", src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, m := range ms {
				b.WriteString("# " + m.Kind + " line " + strconv.Itoa(m.Line) + " in " + m.Symbol + "\n" + m.Diff)
			}
			golden(t, strings.TrimSuffix(name, ".js")+".diffs", []byte(b.String()))
			if gitErr != nil {
				return
			}
			for _, m := range ms {
				dir := t.TempDir()
				if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "lib", "sample.js"), src, 0o644); err != nil {
					t.Fatal(err)
				}
				apply := exec.Command("git", "apply", "-")
				apply.Dir, apply.Stdin = dir, strings.NewReader(m.Diff)
				if out, err := apply.CombinedOutput(); err != nil {
					t.Fatalf("%s at line %d: git apply: %v\n%s\n%s", m.Kind, m.Line, err, out, m.Diff)
				}
				if nodeErr != nil {
					continue
				}
				if out, err := exec.Command("node", "--check", filepath.Join(dir, "lib", "sample.js")).CombinedOutput(); err != nil {
					t.Errorf("%s at line %d: the mutated file does not parse: %s\n%s", m.Kind, m.Line, out, m.Diff)
				}
			}
		})
	}
}

// TestMutateNeverTouches checks that no rule reaches into strings,
// templates, regexps or comments.
func TestMutateNeverTouches(t *testing.T) {
	tests := []struct{ name, src string }{
		{"string", `const s = "a - b < c && true if (x) {} 1";`},
		{"single quotes", `const s = 'a - b < c && true 1';`},
		{"template", "const s = `a - b ${`x < y ${1 + 2}`} true`;"},
		{"regexp", `const r = /a-b<c|1/g; const q = x(/=1/);`},
		{"line comment", "// a - b < c && true if (x) { y(); } 1\nx;"},
		{"block comment", "/* a - b < c && true\n if (x) { y(); } 1 */ x;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Mutate("a.js", []byte(tt.src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) > 0 {
				t.Errorf("%d mutations, want none; first:\n%s", len(ms), ms[0].Diff)
			}
		})
	}
}

// TestMutateRules checks each rule on one line.
func TestMutateRules(t *testing.T) {
	tests := []struct {
		rule, src string
		want      []string // the mutated sources, in order
	}{
		{RuleChangeOperator, "x = a + b;", []string{"x = a - b;"}},
		{RuleChangeOperator, "x = -a;", nil},
		{RuleChangeOperator, "x = a+-b;", nil},
		{RuleChangeOperator, "if (a <= b && c) f();", []string{"if (a < b && c) f();", "if (a <= b || c) f();"}},
		{RuleChangeOperator, "function* g() { yield* h(); }", nil},
		{RuleSwapOperands, "x = a.b - c;", []string{"x = c - a.b;"}},
		{RuleSwapOperands, "x = y * a - c;", nil},
		{RuleSwapOperands, "x = a - c * y;", nil},
		{RuleSwapOperands, "return a < b && c;", []string{"return b < a && c;"}},
		{RuleSwapOperands, "x = f(a) - c;", nil},
		{RuleChangeConstant, "x = 2;", []string{"x = 3;", "x = 1;"}},
		{RuleChangeConstant, "x = 0; y = 1.5; z = 0x10; w = a[0];", []string{"x = 1; y = 1.5; z = 0x10; w = a[0];", "x = 0; y = 1.5; z = 0x10; w = a[1];"}},
		{RuleFlipBoolean, "x = true; o = {false: 1}; p.true;", []string{"x = false; o = {false: 1}; p.true;"}},
		{RuleFlipBoolean, "x = c ? true : false;", []string{"x = c ? false : false;", "x = c ? true : true;"}},
		{RuleInvertCondition, "if (a) b();", []string{"if (!(a)) b();"}},
		{RuleRemoveConditional, "f();\nif (a) {\n  b();\n}\ng();\n", []string{"f();\ng();\n"}},
		{RuleRemoveConditional, "if (a) { b(); } else { c(); }", nil},
		{RuleRemoveConditional, "if (a) { b(); } else if (c) { d(); }", nil},
		{RuleRemoveConditional, "for (;;) if (a) { b(); }", nil},
	}
	for _, tt := range tests {
		t.Run(tt.rule+" "+tt.src, func(t *testing.T) {
			src := []byte(tt.src)
			toks, err := lex(src)
			if err != nil {
				t.Fatal(err)
			}
			f := newFile(src, toks)
			var got []string
			for _, c := range f.candidates() {
				if c.rule == tt.rule {
					got = append(got, string(c.apply(src)))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestMutateDeterministic: the same seed gives the same mutations, a
// probability below one keeps fewer, and MaxPerFile caps them.
func TestMutateDeterministic(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "mutate", "sample.js"))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Mutate("a.js", src, Options{})
	half := map[string]float64{}
	for _, r := range Rules {
		half[r] = 0.5
	}
	a, _ := Mutate("a.js", src, Options{Rules: half, Seed: 7})
	b, _ := Mutate("a.js", src, Options{Rules: half, Seed: 7})
	c, _ := Mutate("a.js", src, Options{Rules: half, Seed: 8})
	ids := func(ms []sdk.Mutation) string {
		var s []string
		for _, m := range ms {
			s = append(s, m.ID)
		}
		return strings.Join(s, ",")
	}
	if ids(a) != ids(b) {
		t.Error("the same seed gave different mutations")
	}
	if ids(a) == ids(c) {
		t.Error("two seeds gave the same sample")
	}
	if len(a) == 0 || len(a) >= len(all) {
		t.Errorf("probability 0.5 kept %d of %d", len(a), len(all))
	}
	if capped, _ := Mutate("a.js", src, Options{MaxPerFile: 3, Seed: 1}); len(capped) != 3 {
		t.Errorf("MaxPerFile 3 kept %d", len(capped))
	}
	if _, err := Mutate("a.js", src, Options{Rules: map[string]float64{"nope": 1}}); err == nil {
		t.Error("an unknown rule gave no error")
	}
}

// FuzzMutate: any source never panics, and every mutation changes the
// source, applies as its edit and leaves a file that lexes.
func FuzzMutate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "mutate", "*.js"))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("if (a) { b(`${c - d}`); }\nx = y / 2 / z; r = /x/.test(s) - 1;"))
	f.Fuzz(func(t *testing.T, src []byte) {
		toks, err := lex(src)
		if err != nil {
			return
		}
		fl := newFile(src, toks)
		for _, c := range fl.candidates() {
			if c.start < 0 || c.end > len(src) || c.start > c.end {
				t.Fatalf("%s: edit %d-%d out of range", c.rule, c.start, c.end)
			}
		}
		ms, err := Mutate("f.js", src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if !strings.HasPrefix(m.Diff, "diff --git a/f.js b/f.js\n") {
				t.Fatalf("%s: diff %q", m.Kind, m.Diff)
			}
		}
		for _, c := range fl.candidates() {
			mutated := c.apply(src)
			if string(mutated) == string(src) && c.rule != RuleChangeConstant {
				continue
			}
			if _, err := lex(mutated); err != nil {
				t.Fatalf("%s at %d: the mutated source does not lex: %v\n%s", c.rule, c.start, err, mutated)
			}
		}
	})
}
