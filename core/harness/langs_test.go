package harness

// The languages of the harness's tests are the first-party plugins, used
// in-process: the harness itself knows no test runner.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
)

// Kinds of test runs the tests ask for: a language's name.
const (
	KindPytest = "python"
	KindGoTest = "go"
)

// Log parsers of the plugins, for tests that read logs without a run.
var (
	ParsePytest = python.ParsePytestLines
	ParseGoTest = golang.ParseTestJSON
)

// TestLanguages finds the first-party languages by name, as a plugin host
// does.
var TestLanguages = language.Static(python.Language{}, golang.Language{})

// langOf returns the language kind names, as core uses it.
func langOf(t testing.TB, kind string) *language.Language {
	t.Helper()
	l, err := language.NewSet(TestLanguages).Get(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testParsers are text parsers tests register under a kind of their own:
// ParseRun reads with them as Options.Parser does.
var testParsers = map[string]Parser{}

// RegisterParser makes p the parser of kind in ParseRun.
func RegisterParser(kind string, p Parser) { testParsers[kind] = p }

// RunStatuses is what ParseRun read.
type RunStatuses struct {
	Statuses map[string]Status
	Invalid  string
}

// ParseRun reads output, a run of a command wrapped with nonce that
// exited with exitCode, as the harness does (readRun): with the parser
// registered under kind, else with the language kind names.
func ParseRun(kind, output, nonce string, exitCode int) (RunStatuses, error) {
	var (
		lang   *language.Language
		parser Parser
		err    error
	)
	if p, ok := testParsers[kind]; ok {
		parser = p
	} else if lang, err = language.NewSet(TestLanguages).Get(context.Background(), kind); err != nil {
		return RunStatuses{}, fmt.Errorf("no test parser %q: %w", kind, err)
	}
	rep, err := readRun(context.Background(), lang, parser, sdk.TestRun{Output: output, ExitCode: exitCode}, nonce)
	return RunStatuses{Statuses: rep.Statuses, Invalid: rep.Invalid}, err
}

// runRef runs tests of the language kind names in sb as Evaluate does.
func runRef(ctx context.Context, sb sdk.Sandbox, kind, base string, tests []string, timeout time.Duration) (TestRun, error) {
	lang, err := language.NewSet(TestLanguages).Get(ctx, kind)
	if err != nil {
		return TestRun{}, err
	}
	return runTests(ctx, sb, lang, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: base, Tests: tests}, timeout)
}
