package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// dirSandbox is a fake sdk.Sandbox over a directory.
type dirSandbox struct{ dir string }

var _ sdk.Sandbox = dirSandbox{}

func (s dirSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Dir = s.dir
	out, err := c.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return sdk.ExecResult{Output: string(out), ExitCode: exit.ExitCode(), TimedOut: ctx.Err() != nil}, nil
	}
	return sdk.ExecResult{Output: string(out)}, err
}

func (s dirSandbox) ReadFile(_ context.Context, path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(path)))
}

func (s dirSandbox) WriteFile(_ context.Context, path string, data []byte) error {
	return os.WriteFile(filepath.Join(s.dir, filepath.FromSlash(path)), data, 0o644)
}

func (s dirSandbox) Diff(ctx context.Context) (string, error) {
	r, err := s.Exec(ctx, "git diff", time.Minute)
	return r.Output, err
}

// TestInjectorOverGRPC serves the plugin over go-plugin's gRPC and asks
// its injector for the mutations of a repository with source, test,
// vendored and broken files.
func TestInjectorOverGRPC(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	sample, err := os.ReadFile(filepath.Join("testdata", "mutate", "sample.js"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"lib/sample.js":            sample,
		"lib/util.mjs":             []byte("export const inc = (n) => n + 1;\n"),
		"test/sample.test.js":      sample,
		"lib/sample.test.js":       sample,
		"node_modules/dep/main.js": sample,
		"lib/broken.js":            []byte("const s = 'unterminated\n"),
		"README.md":                []byte("a + b\n"),
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", "git init -q && git add -A")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	c := sdktest.Connect(t, New())
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil || info.Name != "javascript" || !info.Serves(sdk.KindBugInjector) || !info.Serves(sdk.KindLogParser) || !info.Serves(sdk.KindLanguage) {
		t.Fatalf("info %+v, %v", info, err)
	}
	collect := func(cfg string) ([]sdk.Mutation, error) {
		var ms []sdk.Mutation
		err := c.BugInjector().Mutations(ctx, sdk.InjectRequest{Config: sdk.Config(cfg), Repo: "x/y", Language: "javascript", Sandbox: dirSandbox{dir}}, func(m sdk.Mutation) error {
			ms = append(ms, m)
			return nil
		})
		return ms, err
	}
	filesOf := func(ms []sdk.Mutation) string {
		var fs []string
		for _, m := range ms {
			if !slices.Contains(fs, m.File) {
				fs = append(fs, m.File)
			}
		}
		return strings.Join(fs, " ")
	}
	tests := []struct {
		name, cfg, files string
		kinds            []string
		err              string
	}{
		{"defaults", `{}`, "lib/sample.js lib/util.mjs", Rules, ""},
		{"one rule", `{"rules": ["flip_boolean"]}`, "lib/sample.js", []string{RuleFlipBoolean}, ""},
		{"files", `{"files": ["**/*.mjs"]}`, "lib/util.mjs", []string{RuleChangeOperator, RuleChangeConstant}, ""},
		{"unknown rule", `{"rules": ["flip_bool"]}`, "", nil, "unknown rule"},
		{"bad glob", `{"files": ["["]}`, "", nil, "files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := collect(tt.cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := filesOf(ms); got != tt.files {
				t.Errorf("files %q, want %q", got, tt.files)
			}
			var kinds []string
			for _, m := range ms {
				if !slices.Contains(kinds, m.Kind) {
					kinds = append(kinds, m.Kind)
				}
			}
			slices.Sort(kinds)
			want := slices.Sorted(slices.Values(tt.kinds))
			if !slices.Equal(kinds, want) {
				t.Errorf("kinds %v, want %v", kinds, want)
			}
		})
	}
	// The log parser serves the language's parser.
	out, err := os.ReadFile(filepath.Join("testdata", "runs", "hooks.out"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.LogParser().ParseLog(ctx, nil, string(out))
	if err != nil || st["test/hooks.test.js::fine > runs"] != sdk.TestPassed || st["test/hooks.test.js::broken suite"] != sdk.TestFailed || len(st) != 4 {
		t.Errorf("ParseLog: %v, %v", st, err)
	}
	st, err = c.LogParser().ParseLog(ctx, nil, strings.Replace(string(out), "# tests 2", "", 1))
	if err != nil || len(st) != 0 {
		t.Errorf("ParseLog of a run without summary: %v, %v, want no statuses", st, err)
	}
}

// TestLanguageOverGRPC asks the served language what the host asks, with
// the sdk's contract checks on every answer.
func TestLanguageOverGRPC(t *testing.T) {
	c := sdktest.Connect(t, New())
	ctx := context.Background()
	lang := c.Language()
	spec, err := lang.Describe(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "javascript" || spec.DefaultTestCommand != "node --test" || !slices.Contains(spec.Image.Packages, "nodejs") || !slices.Contains(spec.SourceFiles, "*.mjs") {
		t.Errorf("spec %+v", spec)
	}
	req := sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"test/hooks.test.js::fine > runs"}}
	cmd, err := lang.TestCommand(ctx, nil, req)
	if err != nil || !strings.Contains(cmd.Command, "--test-name-pattern") || !strings.Contains(cmd.Command, "'test/hooks.test.js'") {
		t.Fatalf("grade command %q, %v", cmd.Command, err)
	}
	out, err := os.ReadFile(filepath.Join("testdata", "runs", "hooks.out"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lang.ParseTestRun(ctx, nil, sdk.TestRun{Tests: req.Tests, Output: string(out), ExitCode: 1})
	if err != nil || rep.Invalid != "" || rep.Statuses["test/hooks.test.js::fine > runs"] != sdk.TestPassed {
		t.Fatalf("report %+v, %v", rep, err)
	}
	check, err := lang.CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"lib/a.js", "README.md"}})
	if err != nil || check != "if [ -f 'lib/a.js' ]; then node --check 'lib/a.js' || exit 1; fi\n" {
		t.Errorf("check command %q, %v", check, err)
	}
}

func TestIsTestFile(t *testing.T) {
	for name, want := range map[string]bool{
		"test/a.js": true, "a/test/b/c.mjs": true, "test.js": true, "test-x.cjs": true, "a.test.js": true,
		"src/a-test.js": true, "a_test.mjs": true, "lib/a.js": false, "testing/a.js": false, "test-.js": false,
		"contest.js": false, "lib/test.json": false, "latest.js": false,
	} {
		if got := isTestFile(name); got != want {
			t.Errorf("isTestFile(%q) = %v, want %v", name, got, want)
		}
	}
}
