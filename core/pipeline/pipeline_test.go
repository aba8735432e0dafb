package pipeline

import (
	"context"
	"errors"
	"github.com/swelego/swelego/core/agent"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/hcl"
)

// loadRecipe loads src as a recipe in a new folder that also holds the
// named files, empty (paths in a recipe must exist at load).
func loadRecipe(t *testing.T, src string, files ...string) *hcl.Recipe {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "recipe.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec, diags := hcl.Load(context.Background(), path, hcl.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return rec
}

func TestSelect(t *testing.T) {
	rec := loadRecipe(t, `
source "swebench" "a" {}
source "swebench" "b" {}
tts "r" {
  tasks      = source.swebench.a
  candidates = "c.jsonl"
  verifier "v" {}
}
`, "c.jsonl")
	tests := []struct {
		names   []string
		want    string
		wantErr string
	}{
		{names: []string{"tasks"}, want: "source.swebench.a source.swebench.b"},
		{names: []string{"tts"}, want: "tts.r"},
		{names: []string{"source.swebench.b", "tts.r"}, want: "source.swebench.b tts.r"},
		{names: []string{"rollout"}, wantErr: "no rollout blocks"},
		{names: []string{"source.swebench.zzz"}, wantErr: "--stage source.swebench.zzz: no such stage (stage names: eval, rollout, sft, source, tasks, tts; or a block address: source.swebench.a, source.swebench.b, tts.r)"},
		{names: []string{"source.swebench.c"}, wantErr: `--stage source.swebench.c: no such stage (did you mean "source.swebench.a"?)`},
		{names: []string{"tt"}, wantErr: `no such stage (did you mean "tts"?)`},
		{names: []string{"tts.rr"}, wantErr: `no such stage (did you mean "tts.r"?)`},
		{names: []string{"rollot"}, wantErr: "--stage rollot: no such stage (stage names"}, // no rollout blocks to suggest
	}
	for _, tt := range tests {
		got, err := Select(rec, tt.names)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Select(%v) err = %v, want %q", tt.names, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("Select(%v) = %v, %v; want %s", tt.names, got, err, tt.want)
		}
	}
}

func TestReadCandidates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.jsonl")
	os.WriteFile(path, []byte(`{"instance_id":"a","model_patch":"1"}
{"instance_id":"b","model_patch":"1"}
{"instance_id":"a","model_patch":"2"}
{"instance_id":"a","model_patch":"3"}
`), 0o644)
	got, err := readCandidates(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range got {
		keys = append(keys, c.key()+"="+c.pred.ModelPatch)
	}
	if strings.Join(keys, " ") != "a/0=1 b/0=1 a/1=2" {
		t.Fatalf("candidates %v", keys)
	}
	os.WriteFile(path, []byte("{\"instance_id\":\"a\"}\n{\"model_patch\":\"x\"}\n"), 0o644)
	if _, err := readCandidates(path, 0); err == nil || !strings.Contains(err.Error(), "c.jsonl:2") {
		t.Fatalf("missing instance_id: err = %v", err)
	}
}

func TestFingerprintChangesWithConfig(t *testing.T) {
	a := loadRecipe(t, "source \"swebench\" \"a\" {}\n")
	b := loadRecipe(t, "source \"swebench\" \"a\" {}\nsource \"swebench\" \"b\" {}\n")
	sa, _ := Stages(a, nil, testLanguages)
	sb, _ := Stages(b, nil, testLanguages)
	if sa[0].Fingerprint() != sb[0].Fingerprint() {
		t.Error("the same block got two fingerprints")
	}
	if sb[0].Fingerprint() == sb[1].Fingerprint() {
		t.Error("two blocks share a fingerprint")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

type tapParser struct{}

func (tapParser) ParseLog(_ context.Context, _ sdk.Config, log string) (map[string]sdk.TestStatus, error) {
	out := map[string]sdk.TestStatus{}
	for _, l := range strings.Split(log, "\n") {
		if name, ok := strings.CutPrefix(l, "ok "); ok {
			out[name] = sdk.TestPassed
		}
	}
	return out, nil
}

func TestEnvironmentParser(t *testing.T) {
	envs := taskenv.New(taskenv.Options{Store: t.TempDir(), Languages: language.NewSet(language.Static(python.Language{}, golang.Language{})), DefaultLanguage: "python",
		Environments: []taskenv.Environment{
			{Name: "go", Git: "/nowhere", Language: "golang"},
			{Name: "plugin", Git: "/nowhere", Parser: "tap"},
			{Name: "none", Git: "/nowhere"},
			{Name: "cobol", Git: "/nowhere", Language: "cobol"},
		}})
	ev := &Evaluator{Envs: envs, Logger: discardLogger(), LogParsers: func(_ context.Context, name string) (sdk.LogParser, error) {
		if name != "tap" {
			return nil, errors.New("no such plugin")
		}
		return tapParser{}, nil
	}}
	ctx := context.Background()
	opts, err := ev.harnessOptions(ctx, sdk.Task{Environment: "go"})
	if err != nil || opts.Language == nil || opts.Language.Name() != "go" || opts.Parser != nil {
		t.Errorf("the language's own parser: %+v, %v", opts, err)
	}
	opts, err = ev.harnessOptions(ctx, sdk.Task{Environment: "plugin"})
	if err != nil || opts.Parser == nil || opts.Language == nil || opts.Language.Name() != "python" {
		t.Fatalf("plugin parser: %+v, %v", opts, err)
	}
	if got := opts.Parser.Parse("ok a\nnot ok b\n"); len(got) != 1 || got["a"] != harness.StatusPassed {
		t.Errorf("plugin parser parsed %v", got)
	}
	if opts, err := ev.harnessOptions(ctx, sdk.Task{Environment: "none"}); err != nil || opts.Language.Name() != "python" || opts.Parser != nil {
		t.Errorf("no parser, the default language: %+v, %v", opts, err)
	}
	if _, err := ev.harnessOptions(ctx, sdk.Task{Environment: "cobol"}); !errors.Is(err, language.ErrUnknown) {
		t.Errorf("a language no plugin serves: %v", err)
	}
	ev.LogParsers = nil
	if _, err := ev.harnessOptions(ctx, sdk.Task{Environment: "plugin"}); err == nil || !strings.Contains(err.Error(), `no log parser plugin "tap"`) {
		t.Errorf("unknown parser without plugins: %v", err)
	}
}

// TestRolloutFingerprint: a rollout's fingerprint follows the model block
// and the tool set it refers to, not only its own body.
func TestRolloutFingerprint(t *testing.T) {
	recipe := func(rate, plugin string) string {
		return `source "swebench" "s" {}
model "m" {
  provider   = "oracle"
  error_rate = ` + rate + `
}
toolset "t" {
  plugin = "` + plugin + `"
}
rollout "r" {
  tasks   = source.swebench.s
  model   = model.m
  toolset = toolset.t
}
`
	}
	fp := func(src string) string {
		stages, err := Stages(loadRecipe(t, src), nil, testLanguages)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stages {
			if s.Address() == "rollout.r" {
				return s.Fingerprint()
			}
		}
		t.Fatal("no rollout stage")
		return ""
	}
	base := fp(recipe("0.1", "swetools"))
	if base != fp(recipe("0.1", "swetools")) {
		t.Error("the same recipe got two fingerprints")
	}
	if base == fp(recipe("0.3", "swetools")) {
		t.Error("changing the model's error_rate left the rollout's fingerprint")
	}
	if base == fp(recipe("0.1", "othertools")) {
		t.Error("swapping the tool set left the rollout's fingerprint")
	}
}

func TestTouchesGoldFiles(t *testing.T) {
	diff := func(file string) string {
		return "diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1 +1 @@\n-x\n+y\n"
	}
	for _, tc := range []struct {
		name, patch, gold string
		want              bool
	}{
		{"same file", diff("pkg/a.py"), diff("pkg/a.py"), true},
		{"one of several", diff("pkg/b.py") + diff("pkg/a.py"), diff("pkg/a.py"), true},
		{"other file", diff("pkg/b.py"), diff("pkg/a.py"), false},
		{"empty patch", "", diff("pkg/a.py"), false},
		{"not a patch", "hello", diff("pkg/a.py"), false},
	} {
		if got := touchesGoldFiles(tc.patch, tc.gold); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTableDefaults: defaults the recipe table states for the stages
// agree with the packages that apply them.
func TestTableDefaults(t *testing.T) {
	if hcl.DefaultMaxTurns != agent.DefaultMaxTurns {
		t.Errorf("hcl.DefaultMaxTurns = %d, agent.DefaultMaxTurns = %d", hcl.DefaultMaxTurns, agent.DefaultMaxTurns)
	}
}

// testLanguages gives stages the reference languages of core's tests,
// python by default.
var testLanguages = WithLanguages(language.Static(python.Language{}, golang.Language{}), "python")

// refLanguage is the reference language name names.
func refLanguage(t testing.TB, name string) *language.Language {
	t.Helper()
	l, err := language.NewSet(language.Static(python.Language{}, golang.Language{})).Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
