package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// The language kind of the kinds fake: a TAP-like language whose answers
// are built from the requests, so a round trip shows both directions.

func (k *kinds) Describe(_ context.Context, cfg sdk.Config) (sdk.LanguageSpec, error) {
	k.record(func() { k.gotConfig = cfg; k.gotLang = append(k.gotLang, "describe") })
	return tapSpec, nil
}

func (k *kinds) TestCommand(_ context.Context, cfg sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	k.record(func() { k.gotConfig = cfg; k.gotLang = append(k.gotLang, req) })
	cmd := sdk.TestCommand{Command: "prove " + strings.Join(req.Tests, " ")}
	if req.Purpose == sdk.PurposeGrade {
		cmd.ReadFiles = []string{req.ReportDir + "/tap.xml"}
	}
	return cmd, nil
}

func (k *kinds) ParseTestRun(_ context.Context, cfg sdk.Config, run sdk.TestRun) (sdk.TestReport, error) {
	k.record(func() { k.gotConfig = cfg; k.gotLang = append(k.gotLang, run) })
	st, _ := k.ParseLog(context.Background(), cfg, run.Output)
	rep := sdk.TestReport{Statuses: st}
	if _, ok := run.Files["/r/tap.xml"]; !ok {
		rep.Invalid = "no report"
	}
	if run.ExitCode != 0 {
		rep.Failures = "exit " + strings.Join(run.Tests, ",")
	}
	return rep, nil
}

func (k *kinds) CheckCommand(_ context.Context, cfg sdk.Config, req sdk.CheckRequest) (string, error) {
	k.record(func() { k.gotConfig = cfg; k.gotLang = append(k.gotLang, req) })
	if len(req.Files) == 0 {
		return "", nil
	}
	return "perl -c " + strings.Join(req.Files, " "), nil
}

var tapSpec = sdk.LanguageSpec{
	Name: "perl", Aliases: []string{"pl", "perl5"}, SourceFiles: []string{"*.pl", "*.pm"},
	Image: sdk.ImageSpec{
		Packages: []string{"perl"}, Backports: []string{"perl-doc"},
		Links: map[string]string{"/usr/local/bin/prove": "/usr/bin/prove"},
		Env:   []string{"PERL5LIB=/testbed/lib"}, OwnedDirs: []string{"/opt/cpan"},
		Setup: []string{"cpanm --installdeps ."}, Warm: []string{"prove -l t/00-load.t"}, Open: "ln -s /opt/cpan ~/.cpan",
	},
	DefaultTestCommand: "prove -lr t", HarnessFiles: []string{".proverc"},
}

func (f failing) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return sdk.LanguageSpec{}, f.err
}
func (f failing) TestCommand(context.Context, sdk.Config, sdk.TestCommandRequest) (sdk.TestCommand, error) {
	return sdk.TestCommand{}, f.err
}
func (f failing) ParseTestRun(context.Context, sdk.Config, sdk.TestRun) (sdk.TestReport, error) {
	return sdk.TestReport{}, f.err
}
func (f failing) CheckCommand(context.Context, sdk.Config, sdk.CheckRequest) (string, error) {
	return "", f.err
}

// TestLanguageRoundTrip sends every call of the language kind through real
// gRPC and checks requests and answers arrive unchanged.
func TestLanguageRoundTrip(t *testing.T) {
	cfg := sdk.Config(`{"python":"3.11"}`)
	k := &kinds{}
	c := sdktest.Connect(t, k.plugin()).Language()
	ctx := context.Background()

	spec, err := c.Describe(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "spec", spec, tapSpec)

	req := sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: "prove -v", Tests: []string{"t/a.t", "t/b c.t"}, ReportDir: "/r"}
	cmd, err := c.TestCommand(ctx, cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "test command", cmd, sdk.TestCommand{Command: "prove t/a.t t/b c.t", ReadFiles: []string{"/r/tap.xml"}})

	run := sdk.TestRun{Tests: req.Tests, Output: "ok t/a.t\nnot ok t/b c.t\n\x1b[31mcolour\x00\n", ExitCode: 1, Files: map[string]string{"/r/tap.xml": "<x/>"}}
	rep, err := c.ParseTestRun(ctx, cfg, run)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "report", rep, sdk.TestReport{Statuses: map[string]sdk.TestStatus{"t/a.t": sdk.TestPassed, "t/b c.t": sdk.TestFailed}, Failures: "exit t/a.t,t/b c.t"})

	rep, err = c.ParseTestRun(ctx, nil, sdk.TestRun{Output: "nothing\n"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "report of a run without its file", rep, sdk.TestReport{Statuses: map[string]sdk.TestStatus{}, Invalid: "no report"})

	check, err := c.CheckCommand(ctx, cfg, sdk.CheckRequest{Files: []string{"lib/A.pm"}})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "check command", check, "perl -c lib/A.pm")
	if check, err = c.CheckCommand(ctx, cfg, sdk.CheckRequest{}); err != nil || check != "" {
		t.Errorf("check of no files = %q, %v", check, err)
	}

	equal(t, "config", k.gotConfig, cfg)
	equal(t, "requests", k.gotLang, []any{"describe", req, run, sdk.TestRun{Output: "nothing\n"}, sdk.CheckRequest{Files: []string{"lib/A.pm"}}, sdk.CheckRequest{}})
}

// badLanguage answers what it is told to, to test the host's checks.
type badLanguage struct {
	spec sdk.LanguageSpec
	cmd  sdk.TestCommand
	rep  sdk.TestReport
}

func (b badLanguage) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return b.spec, nil
}
func (b badLanguage) TestCommand(context.Context, sdk.Config, sdk.TestCommandRequest) (sdk.TestCommand, error) {
	return b.cmd, nil
}
func (b badLanguage) ParseTestRun(context.Context, sdk.Config, sdk.TestRun) (sdk.TestReport, error) {
	return b.rep, nil
}
func (b badLanguage) CheckCommand(context.Context, sdk.Config, sdk.CheckRequest) (string, error) {
	return "", nil
}

// TestLanguageContract: answers that break the language kind's contract
// reach the host as errors wrapping ErrContract.
func TestLanguageContract(t *testing.T) {
	good := badLanguage{spec: sdk.LanguageSpec{Name: "x"}, cmd: sdk.TestCommand{Command: "run"}}
	cases := []struct {
		name string
		lang func(badLanguage) badLanguage
		call func(sdk.Language) error
		ok   bool
	}{
		{"a good spec", func(b badLanguage) badLanguage { return b }, describe, true},
		{"no name", func(b badLanguage) badLanguage { b.spec.Name = ""; return b }, describe, false},
		{"an alias with a space", func(b badLanguage) badLanguage { b.spec.Aliases = []string{"x y"}; return b }, describe, false},
		{"an alias that is the name", func(b badLanguage) badLanguage { b.spec.Aliases = []string{"x"}; return b }, describe, false},
		{"an alias that is the name in capitals", func(b badLanguage) badLanguage { b.spec.Aliases = []string{"X"}; return b }, describe, false},
		{"error line patterns", func(b badLanguage) badLanguage {
			b.spec.ErrorLines = []string{`No module named`, `(?i)^fatal: `}
			return b
		}, describe, true},
		{"an error line pattern that does not compile", func(b badLanguage) badLanguage { b.spec.ErrorLines = []string{`(unclosed`}; return b }, describe, false},
		{"a good command", func(b badLanguage) badLanguage { b.cmd.ReadFiles = []string{"/r/j.xml"}; return b }, testCommand(sdk.PurposeGrade), true},
		{"an empty command", func(b badLanguage) badLanguage { b.cmd.Command = " \n"; return b }, testCommand(sdk.PurposeGrade), false},
		{"a relative read file", func(b badLanguage) badLanguage { b.cmd.ReadFiles = []string{"j.xml"}; return b }, testCommand(sdk.PurposeGrade), false},
		{"an unclean read file", func(b badLanguage) badLanguage { b.cmd.ReadFiles = []string{"/r/../etc/x"}; return b }, testCommand(sdk.PurposeGrade), false},
		{"read files for a person", func(b badLanguage) badLanguage { b.cmd.ReadFiles = []string{"/r/j.xml"}; return b }, testCommand(sdk.PurposeShow), false},
		{"a good report", func(b badLanguage) badLanguage {
			b.rep.Statuses = map[string]sdk.TestStatus{"a": sdk.TestXPass, "b": sdk.TestError}
			return b
		}, parse, true},
		{"an unknown status", func(b badLanguage) badLanguage { b.rep.Statuses = map[string]sdk.TestStatus{"a": "OK"}; return b }, parse, false},
		{"an empty id", func(b badLanguage) badLanguage {
			b.rep.Statuses = map[string]sdk.TestStatus{"": sdk.TestPassed}
			return b
		}, parse, false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := sdktest.Connect(t, &sdk.Plugin{Name: "bad", Language: tt.lang(good)})
			err := tt.call(c.Language())
			switch {
			case tt.ok && err != nil:
				t.Errorf("error %v for a good answer", err)
			case !tt.ok && !errors.Is(err, sdk.ErrContract):
				t.Errorf("error %v, want one wrapping ErrContract", err)
			}
		})
	}
}

func describe(l sdk.Language) error {
	_, err := l.Describe(context.Background(), nil)
	return err
}

func testCommand(p sdk.TestPurpose) func(sdk.Language) error {
	return func(l sdk.Language) error {
		_, err := l.TestCommand(context.Background(), nil, sdk.TestCommandRequest{Purpose: p, ReportDir: "/r"})
		return err
	}
}

func parse(l sdk.Language) error {
	_, err := l.ParseTestRun(context.Background(), nil, sdk.TestRun{})
	return err
}
