package python

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// JUnitFile is the name of the JUnit report a graded run writes into the
// request's ReportDir.
const JUnitFile = "pytest-junit.xml"

// ShowCommand runs tests for a person: quiet progress, short tracebacks.
const ShowCommand = "python3 -m pytest -q --tb=short"

// TestCommand implements sdk.Language.
//
// For PurposeGrade the base command (DefaultTestCommand when req.Base is
// "") runs the test files of req.Tests (SWE-bench runs files, not ids: an
// id may be truncated or hold spaces), with `-rA --junitxml=REPORT -o
// junit_family=xunit1` added through PYTEST_ADDOPTS, so wrappers that call
// pytest still honour them; REPORT is JUnitFile in req.ReportDir, and
// ParseTestRun needs both channels.
//
// For PurposeShow it is what a person types: req.Base, or ShowCommand, and
// the test ids.
func (Language) TestCommand(_ context.Context, _ sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	base := strings.TrimSpace(req.Base)
	switch req.Purpose {
	case sdk.PurposeShow:
		if base == "" {
			base = ShowCommand
		}
		return sdk.TestCommand{Command: base + quotedArgs(req.Tests)}, nil
	case sdk.PurposeGrade:
		if err := checkReportDir(req.ReportDir); err != nil {
			return sdk.TestCommand{}, err
		}
		if base == "" {
			base = DefaultTestCommand
		}
		report := path.Join(req.ReportDir, JUnitFile)
		opts := "-rA --junitxml=" + report + " -o junit_family=xunit1"
		cmd := fmt.Sprintf("export PYTEST_ADDOPTS=\"${PYTEST_ADDOPTS:+$PYTEST_ADDOPTS }\"%s\n%s%s\n",
			shellQuote(opts), base, quotedArgs(TestFiles(req.Tests)))
		return sdk.TestCommand{Command: cmd, ReadFiles: []string{report}}, nil
	}
	return sdk.TestCommand{}, fmt.Errorf("test command: unknown purpose %q", req.Purpose)
}

// checkReportDir refuses a report directory pytest's option parsing would
// split or misread.
func checkReportDir(dir string) error {
	switch {
	case dir == "":
		return errors.New("test command: a graded pytest run needs a report directory")
	case !path.IsAbs(dir) || path.Clean(dir) != dir:
		return fmt.Errorf("test command: report directory %q is not a clean absolute path", dir)
	case strings.ContainsFunc(dir, func(r rune) bool { return r <= ' ' || strings.ContainsRune(`'"\`, r) }):
		return fmt.Errorf("test command: report directory %q holds white space or quotes", dir)
	}
	return nil
}

func quotedArgs(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(" " + shellQuote(a))
	}
	return b.String()
}

// TestFiles returns the test files of pytest node ids (and of paths that
// are files already, such as those of a test patch), sorted and without
// duplicates; what is not a relative path without spaces or brackets is
// left out, and so are SWE-bench's NON_TEST_EXTS (data files a test patch
// touches).
func TestFiles(ids []string) []string {
	seen := map[string]bool{}
	var files []string
	for _, id := range ids {
		file, _, found := strings.Cut(id, "::")
		if !found && !strings.HasSuffix(id, ".py") && !strings.Contains(id, "/") {
			continue // not a pytest node id
		}
		if file == "" || strings.ContainsAny(file, " []") || path.IsAbs(file) || seen[file] || nonTest(file) {
			continue
		}
		seen[file] = true
		files = append(files, file)
	}
	sort.Strings(files)
	return files
}

// nonTestExts are SWE-bench's NON_TEST_EXTS ("csv" without its dot, as
// SWE-bench spells it).
var nonTestExts = []string{".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml"}

func nonTest(file string) bool {
	for _, ext := range nonTestExts {
		if strings.HasSuffix(file, ext) {
			return true
		}
	}
	return false
}
