package python

import (
	"context"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// Language serves sdk.Language for Python with pytest: the image's
// packages, pytest commands that report through both the -rA summary and
// a JUnit report, and a parse that trusts a pass only when both agree.
type Language struct{}

var _ sdk.Language = Language{}

// DefaultTestCommand runs a repository's whole suite (SWE-bench's test_cmd
// for most Python repositories); TestCommand adds the reports it needs.
const DefaultTestCommand = "pytest --no-header -rA --tb=no -p no:cacheprovider"

// HarnessFiles are the files through which a patch changes how pytest
// collects, runs and reports tests rather than what the code does: a model
// patch's changes to them are undone before grading. SWE-bench's split of
// a pull request puts them in the test_patch, so a gold patch never needs
// them.
var HarnessFiles = []string{"conftest.py", "pytest.ini", ".pytest.ini", "sitecustomize.py", "usercustomize.py"}

// TestFileGlobs are pytest's test files and the folders tests live in, as
// sdk.MatchTestFile reads them: a pull request's changes to them make its
// test_patch. conftest.py is a harness file that SWE-bench's split puts in
// the test_patch too.
var TestFileGlobs = []string{"test_*.py", "*_test.py", "conftest.py", "tests/**", "test/**", "testing/**"}

// ErrorLines are Python's and pytest's lines that say why no test ran: a
// runner or module that is not installed (`python3: No module named
// pytest`), a test module that does not import, a usage error.
var ErrorLines = []string{`No module named`, `^ImportError while importing`, `^ERROR: (usage|file or directory not found)`}

// Describe implements sdk.Language; cfg is unused.
func (Language) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return sdk.LanguageSpec{
		Name:        "python",
		SourceFiles: []string{"*.py"},
		Image: sdk.ImageSpec{
			Packages: []string{"python3", "python3-pytest", "git", "patch"},
			Env:      []string{"PYTHONDONTWRITEBYTECODE=1"},
		},
		DefaultTestCommand: DefaultTestCommand,
		HarnessFiles:       append([]string(nil), HarnessFiles...),
		TestFiles:          append([]string(nil), TestFileGlobs...),
		ErrorLines:         append([]string(nil), ErrorLines...),
	}, nil
}

// pycachePrefix is where CheckCommand's byte code goes: outside the
// repository, so the check leaves no file in the tree a diff would see.
const pycachePrefix = "/tmp/swelego-pycache"

// CheckCommand implements sdk.Language: python3 -m py_compile on the
// changed .py files, "" when none changed.
func (Language) CheckCommand(_ context.Context, _ sdk.Config, req sdk.CheckRequest) (string, error) {
	var py []string
	for _, f := range req.Files {
		if strings.HasSuffix(f, ".py") {
			py = append(py, shellQuote(f))
		}
	}
	if len(py) == 0 {
		return "", nil
	}
	return "PYTHONPYCACHEPREFIX=" + pycachePrefix + " python3 -m py_compile " + strings.Join(py, " "), nil
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
