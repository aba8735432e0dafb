// Package core_test holds checks over the whole of core: it knows no
// language (issue 14). Python and Go are plugins like any third party's,
// so no language or test-runner name may appear in core's code, and core
// may not import a plugin.
package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// languageWords are names of languages, test runners and their tools and
// files that core's code must not hold: it asks the language plugin
// instead. They are matched, without regard to case, against every
// identifier and string literal of core's non-test Go files (comments and
// import paths are not code).
var languageWords = regexp.MustCompile(`(?i)python|pytest|golang|py_compile|conftest|junit|gocache|gofmt|gopath|goroot|__pycache__|\bgo (test|build|mod|env|vet|run|install)\b|\.py\b|\*\.go\b|_test\.go\b|\.pyc\b|test2json|pip install|cargo|rustc|nodejs`)

// TestCoreNamesNoLanguage fails naming file:line for every identifier or
// string literal of core's non-test code that names a language or test
// runner.
func TestCoreNamesNoLanguage(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, hit := range languageNames(f) {
			t.Errorf("%s: %s names a language or test runner (%q): ask the language plugin", fset.Position(hit.pos), hit.what, hit.word)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d Go files under core: the walk went wrong", files)
	}
}

type hit struct {
	pos        token.Pos
	what, word string
}

// languageNames finds the identifiers and string literals of f, outside
// its imports, that languageWords matches.
func languageNames(f *ast.File) []hit {
	var out []hit
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ImportSpec:
			return false
		case *ast.Ident:
			if w := languageWords.FindString(n.Name); w != "" {
				out = append(out, hit{n.Pos(), "identifier " + n.Name, w})
			}
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil {
				s = n.Value
			}
			if w := languageWords.FindString(s); w != "" {
				out = append(out, hit{n.Pos(), "a string literal", w})
			}
		}
		return true
	})
	return out
}

// TestLanguageWordsCatch checks the check: what it must find and what it
// must let pass.
func TestLanguageWordsCatch(t *testing.T) {
	src := `package p

import "golang.org/x/sync/errgroup" // an import path is not code

// A comment may say python, pytest and go test.
const a = "python3 -m pytest"
var GoCacheSeed = "x"
var b = "go test ./..."
var c = []string{"*.py", "conftest.py", "junit.xml"}
var d = "ago tested nothing; algorithms; node_modules"
func e() { _ = errgroup.Group{} }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range languageNames(f) {
		got = append(got, fset.Position(h.pos).String()+" "+strings.ToLower(h.word))
	}
	want := []string{"p.go:6:11 python", "p.go:7:5 gocache", "p.go:8:9 go test", "p.go:9:18 .py", "p.go:9:26 conftest", "p.go:9:41 junit"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCoreImportsNoPlugin lists every package core's packages import,
// directly or not (tests aside), and fails for any under plugins/: core
// talks to plugins only through sdk.
func TestCoreImportsNoPlugin(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "-deps", "./...").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	const module = "github.com/swelego/swelego/"
	pkgs := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkgs++
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module+"plugins/") || strings.HasPrefix(imp, module+"examples/") || strings.HasPrefix(imp, module+"cmd/") {
				t.Errorf("%s imports %s: core talks to plugins only through sdk", fields[0], imp)
			}
		}
	}
	if pkgs < 30 {
		t.Fatalf("go list listed only %d packages", pkgs)
	}
}
