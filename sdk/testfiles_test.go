package sdk_test

import (
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestMatchTestFile(t *testing.T) {
	py := []string{"test_*.py", "*_test.py", "conftest.py", "tests/**", "testing/**"}
	cases := []struct {
		name  string
		globs []string
		file  string
		want  bool
	}{
		{"base name prefix", py, "pkg/test_slug.py", true},
		{"base name suffix", py, "slug_test.py", true},
		{"tests folder at the root", py, "tests/data/input.txt", true},
		{"tests folder deeper", py, "src/pkg/tests/helpers.py", true},
		{"testing folder", py, "testing/util.py", true},
		{"code file", py, "textkit/slug.py", false},
		{"a name that only starts like a folder", py, "testsuite/x.py", false},
		{"a file named tests", py, "docs/tests", false},
		{"go test file", []string{"*_test.go"}, "semver/compare_test.go", true},
		{"go code file", []string{"*_test.go"}, "semver/compare.go", false},
		{"rooted folder glob", []string{"spec/unit/**"}, "spec/unit/a.js", true},
		{"rooted folder glob elsewhere", []string{"spec/unit/**"}, "lib/spec/unit/a.js", false},
		{"whole-path glob", []string{"test/*.test.js"}, "test/slug.test.js", true},
		{"whole-path glob deeper", []string{"test/*.test.js"}, "a/test/slug.test.js", false},
		{"no globs", nil, "tests/a.py", false},
		{"malformed glob", []string{"[", "tests/**"}, "tests/a.py", true},
		{"dot-dot is cleaned", py, "../tests/a.py", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := sdk.MatchTestFile(c.globs, c.file); got != c.want {
				t.Errorf("MatchTestFile(%q, %q) = %v, want %v", c.globs, c.file, got, c.want)
			}
		})
	}
}
