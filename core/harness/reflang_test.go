package harness

// The reference languages of the harness's tests (testdata/reflang) under
// the names the tests used when the harness held them, and the harness's
// old entry points over them.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swelego/swelego/core/harness/testdata/reflang"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/sdk"
)

const (
	KindPytest           = reflang.KindPytest
	KindGoTest           = reflang.KindGoTest
	DefaultPytestCommand = reflang.DefaultPytestCommand
	GoCacheSeed          = reflang.GoCacheSeed
	seedGoCache          = reflang.SeedGoCache
)

var (
	ParsePytest        = reflang.ParsePytest
	ParsePytestSummary = reflang.ParsePytestSummary
	ParseJUnit         = reflang.ParseJUnit
	ReconcilePytest    = reflang.ReconcilePytest
	ParseGoTest        = reflang.ParseGoTest
	GoTestRun          = reflang.GoTestRun
	pytestSummaries    = reflang.PytestSummaries
	isStatus           = reflang.IsStatus
)

// statuses are the statuses a parser may report.
var statuses = []Status{StatusPassed, StatusFailed, StatusSkipped, StatusError, StatusXFail, StatusXPass}

// RefLanguage is langOf for the external test package.
func RefLanguage(t testing.TB, kind string) *language.Language { return langOf(t, kind) }

func refImpl(kind string) sdk.Language {
	if kind == KindGoTest {
		return reflang.GoTest()
	}
	return reflang.Pytest()
}

// langOf returns the reference language of kind as core uses it.
func langOf(t testing.TB, kind string) *language.Language {
	t.Helper()
	l, err := language.New(context.Background(), refImpl(kind), nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// ---- the harness's old entry points, over the reference languages ----

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

// JUnitPath is where the reference pytest command run with nonce writes
// its JUnit report.
func JUnitPath(nonce string) string { return ReportDir(nonce) + "/junit.xml" }

// testCommand is the wrapped grading command of the reference language
// kind for base and tests.
func testCommand(kind, base string, tests []string, nonce string) string {
	tc, err := refImpl(kind).TestCommand(context.Background(), nil,
		sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: base, Tests: tests, ReportDir: ReportDir(nonce)})
	if err != nil {
		panic(err)
	}
	return WrapCommand(tc.Command, nonce, ReportDir(nonce))
}

// ParseRun reads a run of testCommand(kind, …, nonce) as the harness does
// (readRun), kind being a reference language or a registered parser.
func ParseRun(kind, output, nonce string, junit []byte, exitCode int) (RunStatuses, error) {
	var (
		lang   *language.Language
		parser Parser
	)
	if p, ok := testParsers[kind]; ok {
		parser = p
	} else if kind == KindPytest || kind == KindGoTest {
		var err error
		if lang, err = language.New(context.Background(), refImpl(kind), nil); err != nil {
			return RunStatuses{}, err
		}
	} else {
		return RunStatuses{}, fmt.Errorf("no test parser %q", kind)
	}
	files := map[string]string{}
	if junit != nil {
		files[JUnitPath(nonce)] = string(junit)
	}
	rep, err := readRun(context.Background(), lang, parser, sdk.TestRun{Output: output, ExitCode: exitCode, Files: files}, nonce)
	return RunStatuses{Statuses: rep.Statuses, Invalid: rep.Invalid}, err
}

// runRef runs tests of the reference language kind in sb as Evaluate
// does.
func runRef(ctx context.Context, sb sdk.Sandbox, kind, base string, tests []string, timeout time.Duration) (TestRun, error) {
	lang, err := language.New(ctx, refImpl(kind), nil)
	if err != nil {
		return TestRun{}, err
	}
	return runTests(ctx, sb, lang, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: base, Tests: tests}, timeout)
}
