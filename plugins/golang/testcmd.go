package golang

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// ShowCommand runs tests for a person.
const ShowCommand = "go test ./..."

// TestCommand implements sdk.Language.
//
// For PurposeGrade it is OpenCache, then the base command
// (DefaultTestCommand when req.Base is ""), with -json added after "go
// test" when the base lacks it and req.Tests as one -run '^(TestA|TestB)$'
// of their top-level names (subtests run with their parent). It names no
// file: go test reports through its output alone.
//
// For PurposeShow it is what a person types: req.Base, or ShowCommand,
// and the same -run.
func (Language) TestCommand(_ context.Context, _ sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	base := strings.TrimSpace(req.Base)
	run := ""
	if re := RunPattern(req.Tests); re != "" {
		run = " -run " + shellQuote(re)
	}
	switch req.Purpose {
	case sdk.PurposeShow:
		if base == "" {
			base = ShowCommand
		}
		return sdk.TestCommand{Command: base + run}, nil
	case sdk.PurposeGrade:
		if base == "" {
			base = DefaultTestCommand
		}
		if !strings.Contains(base, "-json") {
			base = strings.Replace(base, "go test", "go test -json", 1)
		}
		return sdk.TestCommand{Command: OpenCache + base + run + "\n"}, nil
	}
	return sdk.TestCommand{}, fmt.Errorf("test command: unknown purpose %q", req.Purpose)
}

// RunPattern is the -run regexp selecting the top-level tests of ids, ""
// for none. An id may name its package first ("pkg/x TestA/sub"): the
// test is the last word.
func RunPattern(ids []string) string {
	seen := map[string]bool{}
	var names []string
	for _, id := range ids {
		top := topLevel(id)
		if top == "" || seen[top] {
			continue
		}
		seen[top] = true
		names = append(names, regexp.QuoteMeta(top))
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "^(" + strings.Join(names, "|") + ")$"
}

// topLevel is the top-level test of a test id. go test writes subtest
// names with underscores for spaces, so a space separates a package.
func topLevel(id string) string {
	if i := strings.LastIndexByte(id, ' '); i >= 0 {
		id = id[i+1:]
	}
	top, _, _ := strings.Cut(id, "/")
	return top
}
