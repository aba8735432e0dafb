package golang

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

func TestDescribe(t *testing.T) {
	spec, err := Language{}.Describe(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sdk.CheckLanguageSpec(spec); err != nil {
		t.Fatal(err)
	}
	if spec.Name != "go" || !reflect.DeepEqual(spec.Aliases, []string{"golang"}) || !reflect.DeepEqual(spec.SourceFiles, []string{"*.go"}) {
		t.Errorf("names %q %q %q", spec.Name, spec.Aliases, spec.SourceFiles)
	}
	if len(spec.HarnessFiles) != 0 || spec.DefaultTestCommand != "go test -json ./..." {
		t.Errorf("harness files %q, default command %q", spec.HarnessFiles, spec.DefaultTestCommand)
	}
	img := spec.Image
	want := sdk.ImageSpec{
		Packages:  []string{"git", "patch", "ca-certificates"},
		Backports: []string{"golang-1.23-go"},
		Links:     map[string]string{"/usr/local/bin/go": "/usr/lib/go-1.23/bin/go", "/usr/local/bin/gofmt": "/usr/lib/go-1.23/bin/gofmt"},
		Env:       []string{"GOTOOLCHAIN=local", "GOCACHE=/tmp/.cache/go-build"},
		OwnedDirs: []string{"/opt/swelego/go-build-seed"},
		Setup:     []string{"if [ -f go.mod ]; then go mod download; fi"},
		Warm:      []string{"GOCACHE=/opt/swelego/go-build-seed go test -count=1 -run '^$' ./... >/dev/null 2>&1"},
		Open:      OpenCache,
	}
	if !reflect.DeepEqual(img, want) {
		t.Errorf("image\n got %+v\nwant %+v", img, want)
	}
}

// TestErrorLines: the spec's error-line patterns find the line the go
// command prints when a package cannot be built, in real runs of go test,
// and none in a run whose tests ran.
func TestErrorLines(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	spec, _ := Language{}.Describe(context.Background(), nil)
	matches := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			for _, p := range spec.ErrorLines {
				if regexp.MustCompile(p).MatchString(l) {
					return l
				}
			}
		}
		return ""
	}
	cases := []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"a missing module", map[string]string{"go.mod": "module example.com/m\n\ngo 1.21\n", "a/a_test.go": "package a\n\nimport (\n\t\"testing\"\n\n\t_ \"example.com/gone/pkg\"\n)\n\nfunc TestA(t *testing.T) {}\n"}, true},
		{"no go.mod", map[string]string{"a_test.go": "package a\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n"}, true},
		{"tests that ran", map[string]string{"go.mod": "module example.com/m\n\ngo 1.21\n", "a_test.go": "package a\n\nimport \"testing\"\n\nfunc TestError(t *testing.T) { t.Log(\"error: not really\") }\n"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range c.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("go", "test", "-json", "./...")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GO111MODULE=")
			out, _ := cmd.CombinedOutput()
			if got := matches(string(out)); (got != "") != c.want {
				t.Errorf("error line %q, want one: %v; output:\n%s", got, c.want, out)
			}
		})
	}
}

func TestTestCommand(t *testing.T) {
	cases := []struct {
		name string
		req  sdk.TestCommandRequest
		want string
		err  bool
	}{
		{"grade the suite", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, ReportDir: "/r"}, OpenCache + "go test -json ./...\n", false},
		{"grade top-level tests", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"TestB/sub", "TestA", "TestB", "pkg/x TestC/y", "Test.Odd"}},
			OpenCache + `go test -json ./... -run '^(TestA|TestB|TestC|Test\.Odd)$'` + "\n", false},
		{"grade adds -json to the task's command", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: "go test -race ./pkg/...", Tests: []string{"TestA"}},
			OpenCache + `go test -json -race ./pkg/... -run '^(TestA)$'` + "\n", false},
		{"show", sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Tests: []string{"TestX/case_1"}}, `go test ./... -run '^(TestX)$'`, false},
		{"show the suite", sdk.TestCommandRequest{Purpose: sdk.PurposeShow}, "go test ./...", false},
		{"grade test files: every test", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"TestA", "pkg/x_test.go"}}, OpenCache + "go test -json ./...\n", false},
		{"no purpose", sdk.TestCommandRequest{}, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Language{}.TestCommand(context.Background(), nil, c.req)
			if c.err {
				if err == nil {
					t.Fatalf("no error; command %q", got.Command)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Command != c.want || len(got.ReadFiles) != 0 {
				t.Errorf("got  %q %q\nwant %q", got.Command, got.ReadFiles, c.want)
			}
			if err := sdk.CheckTestCommand(c.req, got); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseTestRun(t *testing.T) {
	const (
		passA = `{"Action":"run","Package":"p","Test":"TestA"}` + "\n" + `{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}` + "\n" + `{"Action":"pass","Package":"p","Test":"TestA"}` + "\n"
		failB = `{"Action":"run","Package":"p","Test":"TestB"}` + "\n" + `{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: boom\n"}` + "\n" + `{"Action":"fail","Package":"p","Test":"TestB"}` + "\n"
		pkgOK = `{"Action":"pass","Package":"p"}` + "\n"
		pkgNo = `{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}` + "\n" + `{"Action":"fail","Package":"p"}` + "\n"
	)
	cases := []struct {
		name     string
		run      sdk.TestRun
		want     map[string]sdk.TestStatus
		invalid  string
		failures string
	}{
		{"a failing test", sdk.TestRun{Tests: []string{"TestB"}, Output: passA + failB + pkgNo, ExitCode: 1},
			map[string]sdk.TestStatus{"TestA": sdk.TestPassed, "TestB": sdk.TestFailed}, "", "    b_test.go:3: boom\nFAIL\tp\t0.01s\n"},
		{"a package failing without a failing test", sdk.TestRun{Output: passA + pkgNo, ExitCode: 1},
			map[string]sdk.TestStatus{"TestA": sdk.TestPassed}, "package p failed with no failing test", ""},
		{"forged passes and a failing exit status", sdk.TestRun{Output: passA + pkgOK, ExitCode: 1},
			map[string]sdk.TestStatus{"TestA": sdk.TestPassed}, "exited with status 1 but no test failed", ""},
		{"passing", sdk.TestRun{Tests: []string{"TestA"}, Output: passA + pkgOK},
			map[string]sdk.TestStatus{"TestA": sdk.TestPassed}, "", "=== RUN   TestA\n"},
		{"plain text", sdk.TestRun{Output: "--- FAIL: TestB (0.00s)\nFAIL\tp\t0.01s\n", ExitCode: 1},
			map[string]sdk.TestStatus{"TestB": sdk.TestFailed}, "", "--- FAIL: TestB (0.00s)\nFAIL\tp\t0.01s\n"},
		{"nothing", sdk.TestRun{Output: "go: cannot find main module\n", ExitCode: 1}, map[string]sdk.TestStatus{}, "", "go: cannot find main module\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Language{}.ParseTestRun(context.Background(), nil, c.run)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rep.Statuses, c.want) {
				t.Errorf("statuses %v\nwant %v", rep.Statuses, c.want)
			}
			switch {
			case c.invalid == "" && rep.Invalid != "":
				t.Errorf("invalid: %s", rep.Invalid)
			case c.invalid != "" && !strings.Contains(rep.Invalid, c.invalid):
				t.Errorf("invalid %q, want it to say %q", rep.Invalid, c.invalid)
			}
			if c.failures != "" && rep.Failures != c.failures {
				t.Errorf("failures %q\nwant %q", rep.Failures, c.failures)
			}
		})
	}
}

// TestOpenCache runs the script that puts the build-cache seed in place:
// a link where the seed is writable, a copy where it is read-only, nothing
// where GOCACHE exists.
func TestOpenCache(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed")
	if err := os.MkdirAll(filepath.Join(seed, "ab"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seed, "ab", "entry-a"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "go() { echo \"$GOCACHE\"; }\n" + strings.ReplaceAll(OpenCache, CacheSeed, seed)
	run := func(t *testing.T, cache string, argv ...string) {
		t.Helper()
		cmd := exec.Command(argv[0], append(argv[1:], "bash", "-c", script)...)
		cmd.Env = append(os.Environ(), "GOCACHE="+cache)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("%v: %s", err, out)
		}
	}
	t.Run("writable seed is linked", func(t *testing.T) {
		cache := filepath.Join(t.TempDir(), "a", "gocache")
		run(t, cache, "env")
		if target, err := os.Readlink(cache); err != nil || target != seed {
			t.Errorf("GOCACHE link to %q, %v; want %q", target, err, seed)
		}
	})
	t.Run("existing cache is kept", func(t *testing.T) {
		cache := t.TempDir()
		run(t, cache, "env")
		if _, err := os.Stat(filepath.Join(cache, "ab")); err == nil {
			t.Error("seed copied into an existing cache")
		}
	})
	t.Run("read-only seed is copied", func(t *testing.T) {
		bwrap, err := exec.LookPath("bwrap")
		if err != nil {
			t.Skip("no bwrap")
		}
		if out, err := exec.Command(bwrap, "--bind", "/", "/", "true").CombinedOutput(); err != nil {
			t.Skipf("bwrap does not run here: %v %s", err, out)
		}
		cache := filepath.Join(t.TempDir(), "gocache")
		run(t, cache, bwrap, "--bind", "/", "/", "--ro-bind", seed, seed, "--dev", "/dev")
		fi, err := os.Lstat(cache)
		if err != nil || !fi.IsDir() {
			t.Fatalf("GOCACHE is %v, %v; want a folder", fi, err)
		}
		if data, err := os.ReadFile(filepath.Join(cache, "ab", "entry-a")); err != nil || string(data) != "x" {
			t.Errorf("entry %q, %v", data, err)
		}
	})
}

// runAsHost runs a command as the host does: bash in dir, stdin closed,
// stderr with stdout.
func runAsHost(t *testing.T, dir, command string, tests []string) sdk.TestRun {
	t.Helper()
	c := exec.Command("bash", "-c", "( "+command+"\n) </dev/null 2>&1")
	c.Dir = dir
	c.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	out, err := c.CombinedOutput()
	run := sdk.TestRun{Tests: tests, Output: string(out)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		run.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return run
}

// copySample copies testdata/gosample to a fresh folder.
func copySample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "gosample"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRealGoTestRun runs the sample module through TestCommand and reads
// it with ParseTestRun: one package does not build and one panics, so the
// run is invalid as a whole.
func TestRealGoTestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go module")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go")
	}
	ctx := context.Background()
	tests := []string{"TestPass", "TestFail", "TestSub/ok", "TestBroken", "TestPanics"}
	cmd, err := Language{}.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: tests})
	if err != nil {
		t.Fatal(err)
	}
	run := runAsHost(t, copySample(t), cmd.Command, tests)
	rep, err := Language{}.ParseTestRun(ctx, nil, run)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]sdk.TestStatus{
		"TestPass":         sdk.TestPassed,
		"TestFail":         sdk.TestFailed,
		"TestSub":          sdk.TestFailed,
		"TestSub/ok":       sdk.TestPassed,
		"TestSub/bad_case": sdk.TestFailed,
		"TestSub/nested":   sdk.TestPassed,
		// -run matched TestSub, so all its subtests ran.
		"TestSub/nested/deep": sdk.TestPassed,
		"TestPanics":          sdk.TestFailed,
	}
	if !reflect.DeepEqual(rep.Statuses, want) {
		t.Errorf("got %v\nwant %v\n%s", rep.Statuses, want, run.Output)
	}
	if run.ExitCode == 0 || !strings.Contains(rep.Invalid, "did not build") {
		t.Errorf("exit status %d, invalid %q", run.ExitCode, rep.Invalid)
	}
	if !strings.Contains(rep.Failures, "panic") {
		t.Errorf("failures %q do not show the panic", rep.Failures)
	}
}

// TestCheckCommand builds the sample module: its broken package fails.
func TestCheckCommand(t *testing.T) {
	ctx := context.Background()
	if cmd, err := (Language{}).CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"README.md"}}); err != nil || cmd != "" {
		t.Fatalf("no Go files: %q, %v", cmd, err)
	}
	cmd, err := Language{}.CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"good/good.go"}})
	if err != nil || !strings.HasSuffix(cmd, "go build -o /dev/null ./...") {
		t.Fatalf("command %q, %v", cmd, err)
	}
	if mod, _ := (Language{}).CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"go.mod"}}); mod != cmd {
		t.Errorf("a go.mod change is not checked: %q", mod)
	}
	if testing.Short() {
		return
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go")
	}
	dir := copySample(t)
	if run := runAsHost(t, dir, cmd, nil); run.ExitCode == 0 {
		t.Errorf("the broken package built:\n%s", run.Output)
	}
	if err := os.RemoveAll(filepath.Join(dir, "broken")); err != nil {
		t.Fatal(err)
	}
	if run := runAsHost(t, dir, cmd, nil); run.ExitCode != 0 {
		t.Errorf("the good packages do not build:\n%s", run.Output)
	}
}

// TestLanguageThroughPlugin serves the language over the plugin protocol.
func TestLanguageThroughPlugin(t *testing.T) {
	c := sdktest.Connect(t, New())
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil || !info.Serves(sdk.KindLanguage) {
		t.Fatalf("info = %+v, %v", info, err)
	}
	spec, err := c.Language().Describe(ctx, nil)
	if err != nil || spec.Name != "go" {
		t.Fatalf("describe = %+v, %v", spec, err)
	}
	rep, err := c.Language().ParseTestRun(ctx, nil, sdk.TestRun{Output: `{"Action":"pass","Package":"p","Test":"TestA"}`})
	if err != nil || rep.Statuses["TestA"] != sdk.TestPassed {
		t.Fatalf("parse = %+v, %v", rep, err)
	}
}
