package agent

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/sdk"
)

// FinalPatch is the sandbox's diff against the base commit without the
// sections of test files (IsTestFile), binary files, interpreter caches
// and files whose base name is among drop (see Submittable): what an
// episode submits, as SWE-bench's harness replaces test files with the
// task's own.
func FinalPatch(ctx context.Context, sb sdk.Sandbox, drop ...string) (string, error) {
	diff, err := sb.Diff(ctx)
	if err != nil {
		return "", err
	}
	return Submittable(diff, drop...)
}

// Submittable drops the file sections of a unified git diff whose old or
// new path is a test file (IsTestFile), a cache (a folder named like
// __pycache__ or .pytest_cache) or has a base name among drop (a
// language's harness files), and binary sections, keeping every other
// section byte for byte.
func Submittable(d string, drop ...string) (string, error) {
	var out strings.Builder
	for _, sec := range diff.Sections(d) {
		files, err := diff.Parse(sec)
		if err != nil {
			return "", fmt.Errorf("parse diff: %w", err)
		}
		skip := false
		for _, f := range files {
			skip = skip || f.IsBinary || dropped(f.OldName, drop) || dropped(f.NewName, drop)
		}
		if !skip {
			out.WriteString(sec)
		}
	}
	return out.String(), nil
}

func dropped(p string, names []string) bool {
	if p == "" {
		return false
	}
	if IsTestFile(p) || slices.Contains(names, path.Base(p)) {
		return true
	}
	for _, d := range strings.Split(path.Dir(path.Clean("/"+p)), "/") {
		if isCacheDir(d) {
			return true
		}
	}
	return false
}

// isCacheDir reports whether a folder name is a tool's cache by the usual
// spellings: __NAME__ (a byte-code cache) or .NAME_cache.
func isCacheDir(d string) bool {
	return len(d) > 4 && strings.HasPrefix(d, "__") && strings.HasSuffix(d, "__") ||
		strings.HasPrefix(d, ".") && strings.HasSuffix(d, "cache")
}

// testDirs are folder names that hold tests.
var testDirs = map[string]bool{"test": true, "tests": true, "testing": true, "__tests__": true, "spec": true, "specs": true}

// IsTestFile reports whether a repository path is a test file by the
// naming conventions most languages share: a base name that starts with
// "test_" or "test." or whose stem ends in "_test", ".test" or ".spec"
// (test_a.py, a_test.py, x_test.go, a.test.js, a.spec.ts), or a file in a
// folder of tests (test, tests, testing,
// __tests__, spec, specs, testdata).
func IsTestFile(p string) bool {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	base := path.Base(p)
	stem := strings.TrimSuffix(base, path.Ext(base))
	switch {
	case path.Ext(base) == "":
	case strings.HasPrefix(base, "test_"), strings.HasPrefix(base, "test."),
		strings.HasSuffix(stem, "_test"), strings.HasSuffix(stem, ".test"), strings.HasSuffix(stem, ".spec"):
		return true
	}
	dirs := strings.Split(path.Dir(p), "/")
	for _, d := range dirs {
		if testDirs[d] || d == "testdata" {
			return true
		}
	}
	return false
}
