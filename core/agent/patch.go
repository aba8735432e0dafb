package agent

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/swelego/swelego/sdk"
)

// FinalPatch is the sandbox's diff against the base commit without the
// sections of test files (IsTestFile), binary files and interpreter caches:
// what an episode submits, as SWE-bench's harness replaces test files with
// the task's own.
func FinalPatch(ctx context.Context, sb sdk.Sandbox) (string, error) {
	diff, err := sb.Diff(ctx)
	if err != nil {
		return "", err
	}
	return Submittable(diff)
}

// Submittable drops the file sections of a unified git diff whose old or
// new path is a test file or a cache (__pycache__, *.pyc, .pytest_cache),
// and binary sections, keeping every other section byte for byte.
func Submittable(diff string) (string, error) {
	var out strings.Builder
	for _, sec := range splitSections(diff) {
		files, _, err := gitdiff.Parse(strings.NewReader(sec))
		if err != nil {
			return "", fmt.Errorf("parse diff: %w", err)
		}
		drop := false
		for _, f := range files {
			drop = drop || f.IsBinary || dropped(f.OldName) || dropped(f.NewName)
		}
		if !drop {
			out.WriteString(sec)
		}
	}
	return out.String(), nil
}

// splitSections cuts a diff at each "diff --git" line; text before the
// first one is dropped.
func splitSections(diff string) []string {
	var secs []string
	start := -1
	for i := 0; i < len(diff); {
		end := strings.IndexByte(diff[i:], '\n')
		if end < 0 {
			end = len(diff)
		} else {
			end += i + 1
		}
		if strings.HasPrefix(diff[i:], "diff --git ") {
			if start >= 0 {
				secs = append(secs, diff[start:i])
			}
			start = i
		}
		i = end
	}
	if start >= 0 {
		secs = append(secs, diff[start:])
	}
	return secs
}

func dropped(p string) bool {
	if p == "" {
		return false
	}
	return IsTestFile(p) || strings.HasSuffix(p, ".pyc") || strings.Contains("/"+p, "/__pycache__/") || strings.Contains("/"+p, "/.pytest_cache/")
}

// testDirs are folder names that hold tests.
var testDirs = map[string]bool{"test": true, "tests": true, "testing": true, "__tests__": true, "spec": true, "specs": true}

// IsTestFile reports whether a repository path is a test file by the usual
// conventions of Python (test_*.py, *_test.py, conftest.py, tests/ folders)
// and Go (*_test.go, testdata/).
func IsTestFile(p string) bool {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	base := path.Base(p)
	switch {
	case strings.HasSuffix(base, "_test.go"),
		strings.HasSuffix(base, ".py") && (strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py")),
		base == "conftest.py":
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
