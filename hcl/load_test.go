package hcl

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
)

// fullOptions sets every variable source so the test sees precedence:
// defaults < SWELEGO_VAR_ < -var-file < -var.
func fullOptions(schemas SchemaProvider) Options {
	return Options{
		Vars:     []string{"size=32b", "workers=4"},
		VarFiles: []string{filepath.Join("testdata", "full.vars.hcl")},
		Environ: []string{
			"SWELEGO_TEST_HOME=/home/test",
			"SWELEGO_VAR_workers=2",
			"SWELEGO_VAR_attempts=2",
			`SWELEGO_VAR_tags=["b", "c"]`,
		},
		Schemas: schemas,
	}
}

func loadFull(t *testing.T, schemas SchemaProvider) *Recipe {
	t.Helper()
	r, diags := Load(context.Background(), filepath.Join("testdata", "full.hcl"), fullOptions(schemas))
	if len(diags) > 0 {
		var b strings.Builder
		WriteDiagnostics(&b, diags, r.Files)
		t.Fatalf("Load: unexpected diagnostics:\n%s", b.String())
	}
	return r
}

func TestLoadFull(t *testing.T) {
	schemas := &fakeSchemas{}
	r := loadFull(t, schemas)
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	if r.Dir != dir {
		t.Errorf("Dir = %q, want %q", r.Dir, dir)
	}

	t.Run("settings", func(t *testing.T) {
		want := Settings{Name: "demo-32b", Workdir: filepath.Join(dir, "runs", "32b-b-c-x")}
		if r.Settings != want {
			t.Errorf("Settings = %+v, want %+v", r.Settings, want)
		}
	})

	t.Run("variables", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			want cty.Value
		}{
			{"size", cty.StringVal("32b")},                                             // -var over default
			{"workers", cty.NumberIntVal(4)},                                           // -var over var-file over env over default
			{"attempts", cty.NumberIntVal(3)},                                          // var-file over env
			{"tags", cty.ListVal([]cty.Value{cty.StringVal("b"), cty.StringVal("c")})}, // env, parsed as HCL
			{"lr", cty.NumberFloatVal(1e-4)},                                           // var-file, no default
			{"judge", cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("judge"), "temperature": cty.NumberIntVal(0)})},
		} {
			got, ok := r.Variables[tc.name]
			if !ok || !got.RawEquals(tc.want) && !got.Equals(tc.want).True() {
				t.Errorf("var.%s = %#v, want %#v", tc.name, got, tc.want)
			}
		}
	})

	t.Run("locals and functions", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			want cty.Value
		}{
			{"run", cty.StringVal("32b-b-c-x")},
			{"prompt", cty.StringVal("You are a helpful software engineering agent.")},
			{"data", cty.StringVal(filepath.Join(dir, "data", "tasks.jsonl"))},
			{"home", cty.StringVal("/home/test")},
			{"fallback", cty.StringVal("none")},
			{"unset", cty.StringVal("")},
			{"calls", cty.TupleVal([]cty.Value{cty.NumberIntVal(5), cty.NumberIntVal(5), cty.StringVal("007"), cty.StringVal("a_b_c")})},
		} {
			got := r.Locals[tc.name]
			if got == cty.NilVal || !got.Equals(tc.want).True() {
				t.Errorf("local.%s = %#v, want %#v", tc.name, got, tc.want)
			}
		}
	})

	t.Run("blocks", func(t *testing.T) {
		var got []string
		for _, b := range r.Blocks {
			got = append(got, b.Address)
		}
		want := []string{"environment.py", "sandbox", "eval.final", "tts.best", "sft.student", "rollout.teacher",
			"source.swebench.verified", "model.teacher", "model.judge", "toolset.swe"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Blocks = %v, want %v", got, want)
		}
	})

	t.Run("stages", func(t *testing.T) {
		var got []string
		for _, b := range r.Stages {
			if !b.IsStage() {
				t.Errorf("%s in Stages is not a stage", b.Address)
			}
			got = append(got, b.Address)
		}
		want := []string{"source.swebench.verified", "rollout.teacher", "tts.best", "eval.final", "sft.student"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Stages = %v, want %v", got, want)
		}
		deps := map[string][]string{
			"source.swebench.verified": nil,
			"rollout.teacher":          {"source.swebench.verified", "model.teacher", "toolset.swe"},
			"tts.best":                 {"rollout.teacher", "source.swebench.verified", "model.judge"},
			"eval.final":               {"tts.best", "source.swebench.verified"}, // the source through local.tasks
			"sft.student":              {"rollout.teacher"},
		}
		for addr, want := range deps {
			if got := r.Block(addr).DependsOn; !reflect.DeepEqual(got, want) {
				t.Errorf("%s.DependsOn = %v, want %v", addr, got, want)
			}
		}
	})

	t.Run("plugin configs", func(t *testing.T) {
		for _, tc := range []struct {
			what string
			got  []byte
			want string
		}{
			{"source", r.Block("source.swebench.verified").Config,
				`{"limit":10,"path":` + jsonString(filepath.Join(dir, "data", "tasks.jsonl")) + `,"split":"test"}`},
			{"verifier", r.Block("tts.best").Nested["verifier"].Config,
				`{"threshold":0.5}`},
			{"toolset", r.Block("toolset.swe").Config,
				`{"timeout":120,"tools":["execute_bash","str_replace_editor","think","finish"]}`},
		} {
			if string(tc.got) != tc.want {
				t.Errorf("%s Config = %s, want %s", tc.what, tc.got, tc.want)
			}
		}
		if p := r.Block("source.swebench.verified").Plugin; p != "swebench" {
			t.Errorf("source Plugin = %q", p)
		}
		if p := r.Block("toolset.swe").Plugin; p != "swetools" {
			t.Errorf("toolset Plugin = %q", p)
		}
		if v := r.Block("tts.best").Nested["verifier"]; v.Plugin != "generative" || v.LabelRange.Start.Line != 92 {
			t.Errorf("verifier = %+v", v)
		}
		// model is the core's, lent to the verifier: never in its config.
		if got := r.Block("tts.best").Settings.(*TTS).VerifierModel; got != "model.judge" {
			t.Errorf("verifier model = %q, want model.judge", got)
		}
		for key, n := range schemas.calls {
			if n != 1 {
				t.Errorf("ConfigSchema(%s) called %d times, want once", key, n)
			}
		}
	})

	t.Run("plugin blocks", func(t *testing.T) {
		p := r.Plugins["swebench"]
		if p == nil || p.Source != "./plugins/swelego-plugin-swebench" || p.Version != ">= 0.1.0" {
			t.Fatalf("Plugins[swebench] = %+v", p)
		}
		if p.DeclRange.Start.Line != 57 || p.SourceRange.Start.Line != 58 || p.SourceRange.Start.Column != 13 {
			t.Errorf("ranges = %v, %v", p.DeclRange, p.SourceRange)
		}
	})

	t.Run("typed settings", func(t *testing.T) {
		f := 0.0
		ptr := func(v float64) *float64 { return &v }
		cases := []struct {
			addr string
			want any
		}{
			{"rollout.teacher", &Rollout{Tasks: "source.swebench.verified", Model: "model.teacher", Attempts: 3,
				Attempt: Attempt{Toolset: "toolset.swe", MaxTurns: 100, Workers: 4}}},
			{"eval.final", &Eval{Tasks: "source.swebench.verified", Predictions: RefOrPath{Ref: "tts.best"}, Backend: "bwrap", Workers: 4, SkippedPassToPass: "fail"}},
			{"sandbox", &Sandbox{Backend: "bwrap", Memory: 4 << 30, CPUs: 2, Pids: 512, Timeout: 30 * time.Minute}},
			{"model.teacher", &Model{Provider: "oracle", Name: "oracle-teacher", Temperature: &f, Format: "native", MaxBatch: DefaultMaxBatch}},
			{"environment.py", &Environment{Base: "bookworm", Packages: []string{"python3", "python3-pytest"}, Setup: []string{"pip install -e ."}, TestCmd: "pytest -rA", Language: "python"}},
			{"sft.student", &SFT{Trajectories: RefOrPath{Ref: "rollout.teacher"}, Include: []string{"resolved", "semi_resolved"},
				Tokenizer: filepath.Join(dir, "models", "qwen3-8b"), Template: "qwen3",
				Model:   SFTModel{Checkpoint: filepath.Join(dir, "models", "qwen3-8b"), InitStd: 0.02},
				Backend: "cpu", Precision: "float32", Epochs: 4, GlobalBatch: 64, MicroBatch: 1, LR: 1e-4, WeightDecay: 0.01, WarmupRatio: 0.1, MaxGradNorm: 1,
				MaxSeqLen: 131072, Overflow: "truncate", Seed: 42, DType: "float32"}},
		}
		for _, tc := range cases {
			t.Run(tc.addr, func(t *testing.T) {
				got := r.Block(tc.addr).Settings
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Settings =\n%+v\nwant\n%+v", got, tc.want)
				}
			})
		}
		tts := r.Block("tts.best").Settings.(*TTS)
		if tts.Candidates.Ref != "rollout.teacher" || tts.K != 4 || tts.Workers != 2 || tts.MaxTurns != DefaultMaxTurns || tts.Output != "predictions.jsonl" ||
			tts.Verifier == nil || tts.Verifier.Plugin != "generative" {
			t.Errorf("tts settings = %+v", tts)
		}
		judge := r.Block("model.judge").Settings.(*Model)
		if judge.Temperature == nil || *judge.Temperature != *ptr(0) || judge.MaxTokens != 16 {
			t.Errorf("judge = %+v", judge)
		}
		if r.Block("model.teacher").IsStage() || r.Block("nope") != nil {
			t.Error("IsStage/Block wrong")
		}
		if r.Block("source.swebench.verified").Settings != nil {
			t.Error("a plugin-defined block has typed settings")
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestLoadWithoutSchemas checks that a recipe loads without plugins: bodies
// plugins define are not decoded, references in them still count.
func TestLoadWithoutSchemas(t *testing.T) {
	r := loadFull(t, nil)
	if c := r.Block("source.swebench.verified").Config; c != nil {
		t.Errorf("source Config = %s, want nil", c)
	}
	if v := r.Block("tts.best").Nested["verifier"]; v == nil || v.Plugin != "generative" || v.Config != nil {
		t.Errorf("verifier = %+v", v)
	}
	if got := r.Block("tts.best").DependsOn; !reflect.DeepEqual(got, []string{"rollout.teacher", "source.swebench.verified", "model.judge"}) {
		t.Errorf("tts DependsOn = %v", got)
	}
	if c := string(r.Block("toolset.swe").Config); !strings.Contains(c, `"timeout":120`) {
		t.Errorf("toolset Config = %s", c)
	}
}

// TestLoadCases covers smaller recipes that load, or fail, in one place.
func TestLoadCases(t *testing.T) {
	cases := []struct {
		name string
		src  string
		opts Options
		// wantErr is a substring of the first error; "" means no errors
		wantErr string
		check   func(t *testing.T, r *Recipe)
	}{
		{
			name: "empty recipe",
			src:  "",
			check: func(t *testing.T, r *Recipe) {
				if len(r.Blocks) != 0 || r.Settings != (Settings{}) {
					t.Errorf("recipe = %+v", r)
				}
			},
		},
		{
			name:    "var-file entry for an undeclared variable",
			src:     `variable "workers" { default = 1 }`,
			opts:    Options{VarFiles: []string{"VARFILE"}},
			wantErr: `A value for variable "nope" was given by the -var-file`,
		},
		{
			name:    "-var without =",
			src:     `variable "workers" { default = 1 }`,
			opts:    Options{Vars: []string{"workers"}},
			wantErr: `is not of the form NAME=VALUE`,
		},
		{
			name:    "-var undeclared, nothing close",
			src:     `variable "workers" { default = 1 }`,
			opts:    Options{Vars: []string{"model=x"}},
			wantErr: `declares no such variable. Declare it`,
		},
		{
			name:    "-var of the wrong type",
			src:     `variable "tags" { type = list(string) }`,
			opts:    Options{Vars: []string{"tags=a"}},
			wantErr: `not a valid list(string) for variable "tags"`,
		},
		{
			name: "-var values by type",
			src: `
variable "s" { type = string }
variable "n" { type = number }
variable "b" { type = bool }
variable "any" {}
variable "word" {}
variable "m" { type = map(number) }`,
			opts: Options{Vars: []string{"s=1.10", "n=1.5", "b=true", "any=[1, 2]", "word=hello-world", `m={a = 1}`}},
			check: func(t *testing.T, r *Recipe) {
				for name, want := range map[string]cty.Value{
					"s":    cty.StringVal("1.10"),
					"n":    cty.NumberFloatVal(1.5),
					"b":    cty.True,
					"any":  cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)}),
					"word": cty.StringVal("hello-world"),
					"m":    cty.MapVal(map[string]cty.Value{"a": cty.NumberIntVal(1)}),
				} {
					if got := r.Variables[name]; !got.RawEquals(want) {
						t.Errorf("var.%s = %#v, want %#v", name, got, want)
					}
				}
			},
		},
		{
			name:    "environment value of the wrong type",
			src:     `variable "n" { type = number }`,
			opts:    Options{Environ: []string{"SWELEGO_VAR_n=many"}},
			wantErr: `given by the environment variable SWELEGO_VAR_n`,
		},
		{
			name:    "duplicate local",
			src:     "locals {\n a = 1\n}\nlocals {\n a = 2\n}",
			wantErr: `A local value named "a" was already defined`,
		},
		{
			name:    "self reference",
			src:     "locals {\n a = [local.a]\n}",
			wantErr: `local.a → local.a`,
		},
		{
			name:    "invalid label",
			src:     `model "my model" { provider = "oracle" }`,
			wantErr: `"my model" is not a valid name`,
		},
		{
			name:    "unknown root",
			src:     "locals {\n a = foo.bar\n}",
			wantErr: `There is no variable named "foo"`,
		},
		{
			name:    "bare var",
			src:     "locals {\n a = var\n}",
			wantErr: `must be followed by the name of a variable`,
		},
		{
			name:    "incomplete block reference",
			src:     "source \"swebench\" \"x\" {\n path = \"p\"\n}\nlocals {\n a = source.swebench\n}",
			wantErr: `must name it, like source.TYPE.NAME`,
		},
		{
			name:    "undeclared sandbox",
			src:     "locals {\n a = sandbox.address\n}",
			wantErr: `The recipe has no sandbox block`,
		},
		{
			name:    "undeclared plugin",
			src:     "locals {\n a = plugin.nope\n}",
			wantErr: `There is no plugin block plugin.nope`,
		},
		{
			name: "references by index and to plugins",
			src: `
plugin "swebench" { source = "x" }
source "swebench" "a" { path = "p" }
locals {
  p = plugin.swebench.name
  s = source["swebench"]["a"].plugin
  x = sandbox.address
}
sandbox {}`,
			check: func(t *testing.T, r *Recipe) {
				if r.Locals["p"].AsString() != "swebench" || r.Locals["s"].AsString() != "swebench" || r.Locals["x"].AsString() != "sandbox" {
					t.Errorf("locals = %#v", r.Locals)
				}
			},
		},
		{
			name:    "invalid version constraint",
			src:     "plugin \"x\" {\n source = \"y\"\n version = \"newest\"\n}",
			wantErr: `"newest" is not a version constraint`,
		},
		{
			name:    "invalid image reference",
			src:     "environment \"e\" {\n image = \"Not An Image\"\n}",
			wantErr: `"Not An Image" is not an image reference`,
		},
		{
			name:    "invalid image namespace",
			src:     "environment \"e\" {\n image_naming = \"swebench\"\n image_namespace = \"swebench:latest\"\n}",
			wantErr: `"swebench:latest" is not an image namespace`,
		},
		{
			name:    "unknown image naming",
			src:     "environment \"e\" {\n image_naming = \"swebnech\"\n}",
			wantErr: `did you mean "swebench"?`,
		},
		{
			name: "published image environment",
			src:  "environment \"e\" {\n image_naming = \"swebench\"\n image_namespace = \"127.0.0.1:5000/swebench\"\n}\nenvironment \"f\" {\n image = \"swebench/sweb.eval.x86_64.django_1776_django-11099:latest\"\n}",
			check: func(t *testing.T, r *Recipe) {
				var got []Environment
				for _, b := range r.Blocks {
					if e, ok := b.Settings.(*Environment); ok {
						got = append(got, *e)
					}
				}
				if len(got) != 2 || got[0].ImageNaming != "swebench" || got[0].ImageNamespace != "127.0.0.1:5000/swebench" ||
					got[1].Image != "swebench/sweb.eval.x86_64.django_1776_django-11099:latest" {
					t.Errorf("environments = %+v", got)
				}
			},
		},
		{
			name:    "plugin schema that cannot be used",
			src:     `source "badschema" "x" {}`,
			wantErr: `Plugin "badschema" serves a task_source schema that swelego cannot use`,
		},
		{
			name: "nested plugin blocks",
			src: `
source "github" "prs" {
  repo = "a/b"
  filter { labels = ["bug"] }
  query { q = "is:merged" }
  query { q = "label:bug" }
  extra "x" { value = 1 }
  extra "y" { value = "s" }
}`,
			check: func(t *testing.T, r *Recipe) {
				want := `{"extra":{"x":{"value":1},"y":{"value":"s"}},"filter":{"labels":["bug"]},"query":[{"q":"is:merged"},{"q":"label:bug"}],"repo":"a/b"}`
				if got := string(r.Block("source.github.prs").Config); got != want {
					t.Errorf("Config = %s, want %s", got, want)
				}
			},
		},
		{
			name:    "missing required plugin attribute",
			src:     `source "swebench" "x" { split = "test" }`,
			wantErr: `The argument "path" is required`,
		},
		{
			name:    "duplicate verifier",
			src:     "source \"swebench\" \"s\" { path = \"p\" }\ntts \"t\" {\n tasks = source.swebench.s\n candidates = \"c\"\n verifier \"generative\" { model = 1 }\n verifier \"generative\" { model = 2 }\n}",
			wantErr: `may have only one verifier block`,
		},
		{
			name:    "verifier of a plugin that does not serve verifiers",
			src:     "source \"swebench\" \"s\" { path = \"p\" }\ntts \"t\" {\n tasks = source.swebench.s\n candidates = \"c\"\n verifier \"swebench\" {}\n}",
			wantErr: `plugin "swebench" does not serve verifier`,
		},
		{
			name:    "top-level attribute",
			src:     `x = 1`,
			wantErr: `An argument named "x" is not expected here`,
		},
		{
			name:    "unknown attribute in a core body",
			src:     "model \"m\" {\n provider = \"oracle\"\n colour = \"red\"\n}",
			wantErr: `An argument named "colour" is not expected here`,
		},
		{
			name:    "unknown block in a core body",
			src:     "model \"m\" {\n provider = \"oracle\"\n extra {}\n}",
			wantErr: `Blocks of type "extra" are not expected here`,
		},
		{
			name: "queue block",
			src:  "queue {\n url = \"nats://q:4222\"\n ack_wait = \"30s\"\n max_attempts = 5\n}",
			check: func(t *testing.T, r *Recipe) {
				b := r.Block("queue")
				if b == nil {
					t.Fatal("no queue block")
				}
				if q, ok := b.Settings.(*Queue); !ok || *q != (Queue{URL: "nats://q:4222", AckWait: 30 * time.Second, MaxAttempts: 5, Repos: QueueReposObjectStore}) {
					t.Errorf("queue settings %+v", b.Settings)
				}
			},
		},
		{
			name:    "queue block with repositories of another kind",
			src:     "queue {\n url = \"nats://q:4222\"\n repos = \"nfs\"\n}",
			wantErr: `object_store`,
		},
		{
			name:    "queue block without a url",
			src:     "queue {\n max_attempts = 2\n}",
			wantErr: `The argument "url" is required`,
		},
		{
			name:    "infinity cannot be sent to a plugin",
			src:     "source \"swebench\" \"x\" {\n path = \"p\"\n limit = 1/0\n}",
			wantErr: `cannot serialize infinity`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "recipe.hcl")
			if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := tc.opts
			for i, f := range opts.VarFiles {
				if f == "VARFILE" {
					opts.VarFiles[i] = filepath.Join(dir, "vars.hcl")
					if err := os.WriteFile(opts.VarFiles[i], []byte("workers = 2\nnope = 1\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if opts.Environ == nil {
				opts.Environ = []string{}
			}
			opts.Schemas = &fakeSchemas{}
			r, diags := Load(context.Background(), path, opts)
			if r == nil {
				t.Fatal("nil recipe")
			}
			var out strings.Builder
			WriteDiagnostics(&out, diags, r.Files)
			if tc.wantErr == "" {
				if len(diags) > 0 {
					t.Fatalf("unexpected diagnostics:\n%s", out.String())
				}
			} else if !diags.HasErrors() || !strings.Contains(out.String(), tc.wantErr) {
				t.Fatalf("want an error containing %q, got:\n%s", tc.wantErr, out.String())
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	r, diags := Load(context.Background(), filepath.Join(t.TempDir(), "nope.hcl"), Options{})
	if r != nil || !diags.HasErrors() || diags[0].Summary != "Cannot read recipe" {
		t.Fatalf("Load = %v, %v", r, diags)
	}
}

func TestWriteDiagnostics(t *testing.T) {
	src := "a = 1\n\tb = \"héllo\"\r\nc = [\n  1,\n]\n"
	files := map[string]*hcl.File{"x.hcl": {Bytes: []byte(src)}}
	rng := func(sl, sc, sb, el, ec, eb int) *hcl.Range {
		return &hcl.Range{Filename: "x.hcl", Start: hcl.Pos{Line: sl, Column: sc, Byte: sb}, End: hcl.Pos{Line: el, Column: ec, Byte: eb}}
	}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagWarning, Summary: "Tabs and UTF-8", Detail: "Under the string.", Subject: rng(2, 6, 11, 2, 13, 19)},
		{Severity: hcl.DiagError, Summary: "Spans lines", Subject: rng(3, 5, 25, 5, 2, 34)},
		{Severity: hcl.DiagError, Summary: "Empty range", Subject: rng(1, 6, 5, 1, 6, 5)},
		{Severity: hcl.DiagError, Summary: "No subject", Detail: "Just text."},
		{Severity: hcl.DiagError, Summary: "Unknown file", Subject: &hcl.Range{Filename: "other.hcl", Start: hcl.Pos{Line: 9, Column: 9}}},
		{Severity: hcl.DiagError, Summary: "Past the end", Subject: rng(99, 1, 999, 99, 2, 1000)},
	}
	var b strings.Builder
	WriteDiagnostics(&b, diags, files)
	want := "Warning: Tabs and UTF-8\n\n" +
		"  on x.hcl:2:6:\n" +
		"     2 | \tb = \"héllo\"\n" +
		"       | \t    ^^^^^^^\n\n" +
		"Under the string.\n\n" +
		"Error: Spans lines\n\n" +
		"  on x.hcl:3:5:\n" +
		"     3 | c = [\n" +
		"       |     ^\n\n" +
		"Error: Empty range\n\n" +
		"  on x.hcl:1:6:\n" +
		"     1 | a = 1\n" +
		"       |      ^\n\n" +
		"Error: No subject\n\n" +
		"Just text.\n\n" +
		"Error: Unknown file\n\n" +
		"  on other.hcl:9:9:\n\n" +
		"Error: Past the end\n\n" +
		"  on x.hcl:99:1:\n\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestFormat(t *testing.T) {
	in := "model \"m\" {\nprovider=\"oracle\"\n  temperature    = 0\n}\n"
	want := "model \"m\" {\n  provider    = \"oracle\"\n  temperature = 0\n}\n"
	if got := string(Format([]byte(in))); got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	full, err := os.ReadFile(filepath.Join("testdata", "full.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(full); string(got) != string(full) {
		t.Errorf("testdata/full.hcl is not formatted:\n%s", got)
	}
}

// TestCoreSourceType checks the extension point for source types the core
// defines (such as "synthetic"): the body follows a Go spec, may hold nested
// plugin blocks, and is evaluated into Value rather than Config.
func TestCoreSourceType(t *testing.T) {
	coreSources["coretest"] = &coreBody{
		attrs:  []*Attribute{str("repo", "").required()},
		nested: map[string]nestedPlugin{"injector": {kind: sdk.KindBugInjector, required: true}},
	}
	coreSources["coretest"].init()
	defer delete(coreSources, "coretest")
	path := filepath.Join(t.TempDir(), "recipe.hcl")
	src := "source \"coretest\" \"bugs\" {\n  repo = \"a/b\"\n  injector \"ast\" {\n    rate = 0.5\n  }\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r, diags := Load(context.Background(), path, Options{Environ: []string{}})
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	b := r.Block("source.coretest.bugs")
	if b == nil || b.Value.GetAttr("repo").AsString() != "a/b" || b.Plugin != "" || b.Config != nil || !b.IsStage() {
		t.Fatalf("block = %+v", b)
	}
	if inj := b.Nested["injector"]; inj == nil || inj.Plugin != "ast" || inj.Kind != sdk.KindBugInjector {
		t.Errorf("injector = %+v", inj)
	}
}

// TestSeveralInjectors checks that a synthetic source may hold several
// injector blocks, of one plugin or several, listed in file order by
// NestedAll, and a combine block decoded into its Value.
func TestSeveralInjectors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recipe.hcl")
	src := `source "synthetic" "bugs" {
  repo = "a/b"
  injector "ast" {
    seed = 1
  }
  injector "ast" {
    rules = ["lm_modify"]
  }
  combine {
    per      = "package"
    max_bugs = 3
  }
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r, diags := Load(context.Background(), path, Options{Environ: []string{}, Schemas: &fakeSchemas{}})
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	b := r.Block("source.synthetic.bugs")
	all := b.NestedAll("injector")
	if len(all) != 2 {
		t.Fatalf("NestedAll(injector) = %d blocks, want 2", len(all))
	}
	cases := []struct {
		name   string
		got    *PluginBody
		config string
		line   int
	}{
		{"first", all[0], `{"rules":null,"seed":1}`, 3},
		{"second", all[1], `{"rules":["lm_modify"],"seed":null}`, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got.Plugin != "ast" || c.got.Kind != sdk.KindBugInjector || string(c.got.Config) != c.config || c.got.DefRange.Start.Line != c.line {
				t.Errorf("injector = %s %s %s line %d, want ast bug_injector %s line %d", c.got.Plugin, c.got.Kind, c.got.Config, c.got.DefRange.Start.Line, c.config, c.line)
			}
		})
	}
	if b.Nested["injector"] != all[0] {
		t.Errorf("Nested[injector] is not the first injector block")
	}
	syn := b.Settings.(*Synthetic)
	if want := (&Combine{Per: "package", MinBugs: 2, MaxBugs: 3, MaxTasks: 5}); syn.Combine == nil || *syn.Combine != *want {
		t.Errorf("combine = %+v, want %+v", syn.Combine, want)
	}
	if len(syn.Injectors) != 2 || syn.Injectors[0] != all[0] || syn.Injectors[1] != all[1] {
		t.Errorf("Injectors = %v", syn.Injectors)
	}
	if got := (&Block{Nested: map[string]*PluginBody{"verifier": all[0]}}).NestedAll("verifier"); len(got) != 1 {
		t.Errorf("NestedAll of a hand-made block = %v", got)
	}
}
