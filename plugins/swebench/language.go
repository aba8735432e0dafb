package swebench

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// LanguageName is the language tasks and environments name to be run as
// SWE-bench runs them.
const LanguageName = "swebench"

// Language serves sdk.Language with SWE-bench's knowledge of its
// repositories: for a task of a repository and version SWE-bench's table
// holds (SpecFor), the conda activation its images expect, the spec's
// eval_commands, its test_cmd and its test directives, and the spec's log
// parser. A task the table does not hold is run as SWE-smith runs its
// tasks: one test command for the whole repository (the task's or the
// environment's test_cmd, else TestSWESmith) read by ParserSWESmith.
type Language struct{}

var _ sdk.Language = Language{}

// HarnessFiles are the base names of files through which a patch changes
// how the tests run or report rather than what the code does: pytest's
// configuration, Django's runner and test settings, SymPy's bin/test.
var HarnessFiles = []string{"conftest.py", "pytest.ini", ".pytest.ini", "sitecustomize.py", "usercustomize.py",
	"runtests.py", "test_sqlite.py", "test"}

// Describe implements sdk.Language; cfg is unused. The image part serves
// environments swelego builds itself from Debian; SWE-bench's published
// images bring their own conda environment.
func (Language) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return sdk.LanguageSpec{
		Name:        LanguageName,
		Aliases:     []string{"swe-bench", "swesmith", "swe-smith"},
		SourceFiles: []string{"*.py"},
		Image: sdk.ImageSpec{
			Packages: []string{"python3", "python3-pytest", "git", "patch"},
			Env:      []string{"PYTHONDONTWRITEBYTECODE=1"},
		},
		DefaultTestCommand: TestSWESmith,
		HarnessFiles:       append([]string(nil), HarnessFiles...),
		ErrorLines:         []string{`No module named`, `^ImportError while importing`, `^ERROR: (usage|file or directory not found)`},
	}, nil
}

// TestCommand implements sdk.Language. The command activates SWE-bench's
// conda environment where the image has one, runs the spec's
// eval_commands (each on its own line: a failing one does not stop the
// rest, as in SWE-bench's eval script) and then the test command:
//
//   - req.Base when set (a task's or environment's test_cmd), else the
//     spec's test_cmd, else TestSWESmith;
//   - followed, when req.Tests names tests, by SWE-bench's test
//     directives: the task's test_patch files (req.Task.TestFiles), as
//     Django module labels for Django, or, without them, what the test
//     ids name (TestDirectives).
//
// Both purposes get the same command; nothing is read but the output.
func (Language) TestCommand(_ context.Context, _ sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	if req.Purpose != sdk.PurposeGrade && req.Purpose != sdk.PurposeShow {
		return sdk.TestCommand{}, fmt.Errorf("test command: unknown purpose %q", req.Purpose)
	}
	spec, known := specOf(req.Task)
	cmd := strings.TrimSpace(req.Base)
	if cmd == "" {
		cmd = spec.TestCmd
	}
	if cmd == "" {
		cmd = TestSWESmith
	}
	if len(req.Tests) > 0 {
		var files []string
		if req.Task != nil {
			files = req.Task.TestFiles
		}
		for _, d := range TestDirectives(spec.Parser, files, req.Tests) {
			cmd += " " + shellQuote(d)
		}
	}
	var b strings.Builder
	b.WriteString(Activate + "\n")
	if known {
		for _, c := range spec.EvalCommands {
			b.WriteString(c + "\n")
		}
	}
	b.WriteString(cmd + "\n")
	return sdk.TestCommand{Command: b.String()}, nil
}

// specOf returns SWE-bench's spec of the task's repository and version;
// for a repository the table holds at another version, its parser only;
// otherwise SWE-smith's command and the pytest parser.
func specOf(t *sdk.TestTask) (Spec, bool) {
	if t == nil {
		return Spec{Parser: ParserSWESmith}, false
	}
	if s, ok := SpecFor(t.Repo, t.Version); ok {
		return s, true
	}
	if p, ok := repoParsers[t.Repo]; ok {
		return Spec{Parser: p}, false
	}
	return Spec{Parser: ParserSWESmith}, false
}

// TestDirectives returns what SWE-bench appends to a test command: the
// test files of a task's test_patch (files), for Django as module labels
// ("tests/admin_views/tests.py" → "admin_views.tests"), and — beyond
// SWE-bench, which takes the test_patch's files alone — the files the
// test ids name: a pytest node id's file ("tests/x.py::test_a" →
// "tests/x.py"), a Django id's module ("test_a (admin_views.tests.AdminTests)"
// → "admin_views.tests"). For SWE-bench's own tasks the ids' files are
// among the test_patch's; a task validated by running the whole suite
// (swelego's, SWE-smith's) has PASS_TO_PASS tests in other files, and
// leaving them out of the run would fail them as missing. SymPy's ids
// (bare function names) name no file. With no directive at all the whole
// suite runs. The result is sorted and has no duplicates.
func TestDirectives(p Parser, files, ids []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(d string) {
		if d != "" && !seen[d] && !strings.ContainsAny(d, "\n\x00") {
			seen[d] = true
			out = append(out, d)
		}
	}
	if len(files) > 0 {
		for _, f := range files {
			if p == ParserDjango {
				f = strings.TrimSuffix(f, ".py")
				f = strings.TrimPrefix(f, "tests/")
				f = strings.ReplaceAll(f, "/", ".")
			}
			add(f)
		}
	}
	for _, id := range ids {
		switch p {
		case ParserDjango:
			add(djangoModule(id))
		case ParserSympy:
			if strings.HasSuffix(id, ".py") {
				add(id)
			}
		default:
			file, _, _ := strings.Cut(id, "::")
			if strings.HasSuffix(file, ".py") && !path.IsAbs(file) && !strings.ContainsAny(file, " []") {
				add(file)
			}
		}
	}
	sort.Strings(out)
	return out
}

// djangoModule returns the test module of a Django test id, "" when the
// id is not "name (module.Class)" or "name (module.Class.name)" (Python
// 3.11's unittest).
func djangoModule(id string) string {
	name, rest, ok := strings.Cut(id, " (")
	if !ok || !strings.HasSuffix(rest, ")") {
		return ""
	}
	parts := strings.Split(strings.TrimSuffix(rest, ")"), ".")
	if len(parts) > 2 && parts[len(parts)-1] == name {
		parts = parts[:len(parts)-1]
	}
	if len(parts) < 2 {
		return ""
	}
	for _, p := range parts {
		if p == "" || strings.ContainsFunc(p, func(r rune) bool { return r != '_' && !isAlnum(r) }) {
			return ""
		}
	}
	return strings.Join(parts[:len(parts)-1], ".")
}

// ParseTestRun implements sdk.Language with the log parser of the run's
// repository (Parser.Parse): the statuses, and Invalid when the log
// disagrees with the runner's own totals.
func (Language) ParseTestRun(_ context.Context, _ sdk.Config, run sdk.TestRun) (sdk.TestReport, error) {
	spec, _ := specOf(run.Task)
	statuses, invalid := spec.Parser.Parse(run.Output)
	return sdk.TestReport{Statuses: statuses, Invalid: invalid}, nil
}

// CheckCommand implements sdk.Language: python -m py_compile on the
// changed .py files in the image's environment, "" when none changed.
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
	return Activate + "\nPYTHONPYCACHEPREFIX=/tmp/swelego-pycache python3 -m py_compile " + strings.Join(py, " ") + "\n", nil
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '_' || r == '-' || r == '.' || r == '/' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
