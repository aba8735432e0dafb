package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// LanguageName is the language as tasks and recipes name it.
const LanguageName = "javascript"

// defaultTestCommand runs a repository's tests with Node's own runner.
const defaultTestCommand = "node --test"

// sourceFiles are the globs of JavaScript source files.
var sourceFiles = []string{"*.js", "*.mjs", "*.cjs"}

// Language is the language kind for JavaScript on Node's built-in test
// runner (see doc.go for test ids and the output guard).
type Language struct{}

// Describe implements sdk.Language.
func (Language) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return sdk.LanguageSpec{
		Name:        LanguageName,
		Aliases:     []string{"js", "node", "nodejs"},
		SourceFiles: sourceFiles,
		// Node's runner finds *.test.js and files under test/ (a pull
		// request's changes to them make its test_patch).
		TestFiles:          []string{"*.test.js", "*.test.mjs", "*.test.cjs", "*.spec.js", "test/**", "tests/**", "__tests__/**"},
		Image:              sdk.ImageSpec{Packages: []string{"nodejs", "git", "patch"}},
		DefaultTestCommand: defaultTestCommand,
		// Node's test runner reads no configuration file (no conftest.py,
		// no pytest.ini): what it runs is the command line and the test
		// files, which each run in a process of their own. So no file
		// changes how the runner runs.
		HarnessFiles: nil,
	}, nil
}

// TestCommand implements sdk.Language. For PurposeGrade it runs each test
// file on its own, `BASE --test-reporter=tap [patterns] FILE`, between
// marker lines ParseTestRun reads; for PurposeShow it is the one command
// a person would type.
func (Language) TestCommand(_ context.Context, _ sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	base := strings.TrimSpace(req.Base)
	if base == "" {
		base = defaultTestCommand
	}
	files, patterns, err := selection(req.Tests)
	if err != nil {
		return sdk.TestCommand{}, err
	}
	var args []string
	for _, p := range patterns {
		args = append(args, shellQuote("--test-name-pattern="+p))
	}
	switch req.Purpose {
	case sdk.PurposeShow:
		for _, f := range files {
			args = append(args, shellQuote(f))
		}
		return sdk.TestCommand{Command: strings.TrimSpace(base + " " + strings.Join(args, " "))}, nil
	case sdk.PurposeGrade, "":
	default:
		return sdk.TestCommand{}, fmt.Errorf("javascript: unknown test purpose %q", req.Purpose)
	}
	run := base + " --test-reporter=tap " + strings.Join(args, " ")
	var b strings.Builder
	b.WriteString("rc=0\n")
	b.WriteString("run_file() {\n")
	b.WriteString("  if [ ! -f \"$1\" ]; then printf '" + markMissing + "%s\\n' \"$1\"; return; fi\n")
	b.WriteString("  printf '" + markFile + "%s\\n' \"$1\"\n")
	b.WriteString("  " + run + " \"$1\" </dev/null 2>&1\n")
	b.WriteString("  s=$?\n")
	b.WriteString("  printf '" + markExit + "%d\\n' \"$s\"\n")
	b.WriteString("  if [ \"$s\" -ne 0 ]; then rc=$s; fi\n")
	b.WriteString("}\n")
	if len(files) == 0 {
		// Node's own discovery: every .js, .cjs and .mjs file under a
		// directory named test, and test.js, test-*.js, *.test.js,
		// *-test.js, *_test.js (and .cjs, .mjs) anywhere, node_modules
		// left out.
		b.WriteString("while IFS= read -r -d '' f <&3; do\n")
		b.WriteString("  f=${f#./}; b=${f##*/}\n")
		b.WriteString("  case \"/$f\" in */test/*) run_file \"$f\"; continue;; esac\n")
		b.WriteString("  if [[ $b =~ ^(test(-.+)?|.+[._-]test)\\.[cm]?js$ ]]; then run_file \"$f\"; fi\n")
		b.WriteString("done 3< <(find . \\( -name node_modules -o -name .git \\) -prune -o -type f \\( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' \\) -print0 | LC_ALL=C sort -z)\n")
	} else {
		for _, f := range files {
			b.WriteString("run_file " + shellQuote(f) + "\n")
		}
	}
	b.WriteString("exit $rc\n")
	return sdk.TestCommand{Command: b.String()}, nil
}

// selection returns the files the ids name and the name patterns that
// select their tests. A pattern matches the top-level test or suite that
// holds an id, exactly: a subset runs whole top-level tests, so a test's
// status never depends on which of its siblings were asked for (a test
// whose subtests were filtered out would pass where the whole run fails).
func selection(ids []string) (files, patterns []string, err error) {
	seen := map[string]bool{}
	for _, id := range ids {
		file, name, ok := strings.Cut(id, "::")
		if file == "" || ok && name == "" {
			return nil, nil, fmt.Errorf("javascript: test id %q: want FILE::NAME or FILE", id)
		}
		if !slices.Contains(files, file) {
			files = append(files, file)
		}
		if !ok {
			continue // a whole file: no pattern
		}
		root, _, _ := strings.Cut(name, " > ")
		p := "^" + namePattern(root) + "( > .*)?$"
		if !seen[p] {
			seen[p] = true
			patterns = append(patterns, p)
		}
	}
	// A file asked for whole runs with no pattern, which would also run
	// every test of the other files: patterns apply to all of them.
	for _, id := range ids {
		if !strings.Contains(id, "::") && len(patterns) > 0 {
			patterns = append(patterns, ".*")
			break
		}
	}
	slices.Sort(files)
	return files, patterns, nil
}

// namePattern is the regular expression that matches a name as an id
// writes it: metacharacters are escaped, and a control character the
// runner's output shows as "\n" matches the character itself.
func namePattern(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+1 < len(name) {
			if c, ok := controlEscapes[name[i+1]]; ok {
				fmt.Fprintf(&b, `(?:\x%02x|\\%c)`, c, name[i+1])
				i++
				continue
			}
		}
		b.WriteString(regexp.QuoteMeta(name[i : i+1]))
	}
	return b.String()
}

// controlEscapes are the control characters the TAP reporter writes as a
// backslash and a letter.
var controlEscapes = map[byte]byte{'b': '\b', 'f': '\f', 't': '\t', 'n': '\n', 'r': '\r', 'v': '\v'}

// ParseTestRun implements sdk.Language: see ParseTAP. Statuses of tests
// the command was not asked to run are reported too.
func (Language) ParseTestRun(_ context.Context, _ sdk.Config, run sdk.TestRun) (sdk.TestReport, error) {
	return parseTAP(run.Output).report(run.Tests), nil
}

// CheckCommand implements sdk.Language: `node --check` on each changed
// JavaScript file that still exists.
func (Language) CheckCommand(_ context.Context, _ sdk.Config, req sdk.CheckRequest) (string, error) {
	var b strings.Builder
	for _, f := range req.Files {
		if !isSource(f) {
			continue
		}
		q := shellQuote(f)
		fmt.Fprintf(&b, "if [ -f %s ]; then node --check %s || exit 1; fi\n", q, q)
	}
	return b.String(), nil
}

// isSource reports whether a path is a JavaScript source file.
func isSource(name string) bool {
	return strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".mjs") || strings.HasSuffix(name, ".cjs")
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LogParser serves the log_parser kind with the language's parser: the
// statuses of a TestCommand's output, none when the output cannot be
// trusted.
type LogParser struct{}

// ParseLog implements sdk.LogParser.
func (LogParser) ParseLog(_ context.Context, _ sdk.Config, log string) (map[string]sdk.TestStatus, error) {
	rep := ParseTAP(log)
	if rep.Invalid != "" {
		return map[string]sdk.TestStatus{}, nil
	}
	return rep.Statuses, nil
}

var (
	_ sdk.Language  = Language{}
	_ sdk.LogParser = LogParser{}
)
