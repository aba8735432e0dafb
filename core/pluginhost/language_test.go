package pluginhost

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestFindLanguage finds the languages of the real python and golang
// plugins, served as built-ins the way swelego serves them.
func TestFindLanguage(t *testing.T) {
	h := newTestHost(t, Options{Builtins: map[string]func() *sdk.Plugin{"echo": echoPlugin, "python": testBuiltins["python"], "golang": testBuiltins["golang"]}})
	ctx := context.Background()
	cases := []struct {
		lang, plugin, name string
		err                string
	}{
		{lang: "python", plugin: "python", name: "python"},
		{lang: "go", plugin: "golang", name: "go"},
		{lang: "golang", plugin: "golang", name: "go"},
		{lang: "Python", plugin: "python", name: "python"},
		{lang: "pyhton", err: `unknown language "pyhton": no plugin serves it (known: go, golang, python); did you mean "python"?`},
		{lang: "rust", err: `unknown language "rust": no plugin serves it (known: go, golang, python)`},
		{lang: "", err: `unknown language "": no plugin serves it (known: go, golang, python); did you mean "go"?`},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			l, err := h.FindLanguage(ctx, c.lang)
			if c.err != "" {
				if !errors.Is(err, ErrUnknownLanguage) || err.Error() != c.err {
					t.Fatalf("error %v\nwant %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Plugin != c.plugin || l.Spec.Name != c.name {
				t.Errorf("plugin %q, language %q", l.Plugin, l.Spec.Name)
			}
		})
	}
	h.mu.Lock()
	_, echoStarted := h.plugins["echo"]
	h.mu.Unlock()
	if echoStarted {
		t.Error("a built-in plugin that serves no language was started")
	}
	all, err := h.Languages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Spec.Name != "go" || all[1].Spec.Name != "python" {
		t.Errorf("languages %+v", all)
	}

	// The language found works through the host.
	py, err := h.FindLanguage(ctx, "python")
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := py.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, ReportDir: "/r", Tests: []string{"t.py::a"}})
	if err != nil || len(cmd.ReadFiles) != 1 || !strings.Contains(cmd.Command, "'t.py'") {
		t.Fatalf("test command %+v, %v", cmd, err)
	}
	rep, err := py.ParseTestRun(ctx, nil, sdk.TestRun{Output: "=== short test summary info ===\nPASSED t.py::a\n== 1 passed ==\n"})
	if err != nil || rep.Invalid == "" {
		t.Errorf("a run without its JUnit report: %+v, %v", rep, err)
	}
	goLang, err := h.FindLanguage(ctx, "go")
	if err != nil {
		t.Fatal(err)
	}
	check, err := goLang.CheckCommand(ctx, nil, sdk.CheckRequest{Files: []string{"a.go"}})
	if err != nil || !strings.HasSuffix(check, "go build -o /dev/null ./...") {
		t.Errorf("check command %q, %v", check, err)
	}
	if !reflect.DeepEqual(goLang.Spec.Aliases, []string{"golang"}) {
		t.Errorf("aliases %q", goLang.Spec.Aliases)
	}
}

// TestFindLanguageConflict: two plugins claiming one language are an error
// that names both.
func TestFindLanguageConflict(t *testing.T) {
	h := newTestHost(t, Options{Builtins: map[string]func() *sdk.Plugin{"golang": testBuiltins["golang"], "golang2": testBuiltins["golang2"]}})
	_, err := h.FindLanguage(context.Background(), "go")
	if err == nil || !strings.Contains(err.Error(), `served by plugins "golang" and "golang2"`) {
		t.Fatalf("error %v", err)
	}
}

// TestLanguageKind: asking a plugin that serves no language for one is
// ErrKind; a host without language plugins knows no language.
func TestLanguageKind(t *testing.T) {
	h := newTestHost(t, Options{})
	ctx := context.Background()
	if _, err := h.Language(ctx, "echo"); !errors.Is(err, ErrKind) {
		t.Errorf("error %v, want ErrKind", err)
	}
	_, err := h.FindLanguage(ctx, "python")
	if !errors.Is(err, ErrUnknownLanguage) || !strings.Contains(err.Error(), "no plugin serves a language") {
		t.Errorf("error %v", err)
	}
}
