package hcl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/swelego/swelego/sdk"
)

// defaultsPlugin serves schemas with defaults, at the top and in nested
// blocks, for an injector and a tool set.
var defaultsPlugin = map[sdk.Kind]sdk.Schema{
	sdk.KindBugInjector: {
		Attributes: map[string]sdk.Attribute{
			"rules":  {Type: sdk.TypeStringList, Default: []any{"all"}},
			"seed":   {Type: sdk.TypeNumber, Default: 7},
			"mode":   {Type: sdk.TypeString, Default: "fast"},
			"strict": {Type: sdk.TypeBool, Default: false},
			"extra":  {Type: sdk.TypeAny, Default: map[string]any{"k": []any{1, "two"}}},
			"none":   {Type: sdk.TypeString},
		},
	},
	sdk.KindLossMasker: {Attributes: map[string]sdk.Attribute{"level": {Type: sdk.TypeNumber, Default: 1}}},
	sdk.KindCurriculum: {Attributes: map[string]sdk.Attribute{"tiers": {Type: sdk.TypeNumber, Default: 3}}},
	sdk.KindToolSet: {
		Attributes: map[string]sdk.Attribute{"timeout": {Type: sdk.TypeNumber, Default: 30}},
		Blocks: map[string]sdk.BlockType{"nested": {Nesting: sdk.NestingList, Schema: sdk.Schema{Attributes: map[string]sdk.Attribute{
			"name":  {Type: sdk.TypeString, Required: true},
			"level": {Type: sdk.TypeNumber, Default: 1},
		}}}},
	},
}

// withDefaultsPlugin adds the defaults plugin to the fake plugins.
type withDefaultsPlugin struct{ fakeSchemas }

func (w *withDefaultsPlugin) ConfigSchema(ctx context.Context, plugin string, kind sdk.Kind) (sdk.Schema, error) {
	if plugin == "defaults" {
		if s, ok := defaultsPlugin[kind]; ok {
			return s, nil
		}
		return sdk.Schema{}, fmt.Errorf("plugin %q does not serve %s", plugin, kind)
	}
	return w.fakeSchemas.ConfigSchema(ctx, plugin, kind)
}

func loadPluginDiags(t *testing.T) *Recipe {
	t.Helper()
	r, diags := Load(context.Background(), filepath.Join("testdata", "plugindiags", "recipe.hcl"), Options{Environ: []string{}, Schemas: &withDefaultsPlugin{}})
	if diags.HasErrors() {
		var b bytes.Buffer
		WriteDiagnostics(&b, diags, r.Files)
		t.Fatalf("load: %s", b.String())
	}
	return r
}

// TestPluginConfigs lists the plugin configurations of a recipe, defaults
// applied.
func TestPluginConfigs(t *testing.T) {
	r := loadPluginDiags(t)
	want := []struct {
		plugin string
		kind   sdk.Kind
		line   int
		config string
	}{
		{"github", sdk.KindTaskSource, 8, `{"extra":{"one":{"value":1}},"filter":{"labels":["bug","fix"]},"query":[{"q":"first"},{"q":"second"}],"repo":"a/b"}`},
		{"ast", sdk.KindBugInjector, 26, `{"rules":["flip","swap"],"seed":null}`},
		{"defaults", sdk.KindBugInjector, 29, `{"extra":{"k":[1,"two"]},"mode":"fast","none":null,"rules":["x","y"],"seed":7,"strict":false}`},
		{"swetools", sdk.KindToolSet, 36, `{"timeout":10,"tools":["bash","editor"]}`},
		{"defaults", sdk.KindToolSet, 44, `{"nested":[{"level":1,"name":"a"},{"level":7,"name":"b"}],"timeout":30}`},
		{"defaults", sdk.KindLossMasker, 57, `{"level":2}`}, // file order, not by block type
		{"defaults", sdk.KindCurriculum, 61, `{"tiers":3}`},
	}
	got := r.PluginConfigs()
	if len(got) != len(want) {
		t.Fatalf("got %d plugin configs, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Plugin != w.plugin || g.Kind != w.kind || g.Range.Start.Line != w.line || string(g.Config) != w.config {
			t.Errorf("config %d = %s %s line %d %s\nwant %s %s line %d %s", i, g.Plugin, g.Kind, g.Range.Start.Line, g.Config, w.plugin, w.kind, w.line, w.config)
		}
	}
}

// TestPathRange maps attribute paths of plugin diagnostics to the source.
func TestPathRange(t *testing.T) {
	r := loadPluginDiags(t)
	configs := r.PluginConfigs()
	tests := []struct {
		name   string
		config int
		path   sdk.Path
		want   string // line:column-line:column
	}{
		{"block", 0, nil, "8:1-8:22"},
		{"attribute", 0, sdk.Attr("repo"), "9:10-9:15"},
		{"single nested block", 0, sdk.Attr("filter"), "10:3-10:9"},
		{"attribute of a single nested block", 0, sdk.Attr("filter").Attr("labels"), "11:14-11:28"},
		{"element in a single nested block", 0, sdk.Attr("filter").Attr("labels").Index(1), "11:22-11:27"},
		{"second block of a list", 0, sdk.Attr("query").Index(1).Attr("q"), "17:9-17:17"},
		{"block of a list out of range", 0, sdk.Attr("query").Index(5).Attr("q"), "13:3-13:8"},
		{"block of a map by label", 0, sdk.Attr("extra").Key("one").Attr("value"), "20:13-20:14"},
		{"unknown label", 0, sdk.Attr("extra").Key("two"), "19:3-19:14"},
		{"attribute left out", 0, sdk.Attr("nope"), "8:1-8:22"},
		{"list element", 1, sdk.Attr("rules").Index(1), "27:22-27:28"},
		{"nested block header", 1, nil, "26:3-26:17"},
		{"element of a variable", 2, sdk.Attr("rules").Index(1), "30:13-30:22"},
		{"default applied", 2, sdk.Attr("seed"), "29:3-29:22"},
		{"toolset config", 3, nil, "36:12-39:4"},
		{"toolset attribute", 3, sdk.Attr("timeout"), "37:15-37:17"},
		{"parenthesised element", 3, sdk.Attr("tools").Index(1), "38:24-38:34"},
		{"object in a list", 4, sdk.Attr("nested").Index(1).Attr("level"), "45:53-45:54"},
		{"map key step on an object", 4, sdk.Attr("nested").Index(0).Key("name"), "45:24-45:27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := configs[tt.config].PathRange(tt.path)
			if got := fmt.Sprintf("%d:%d-%d:%d", rng.Start.Line, rng.Start.Column, rng.End.Line, rng.End.Column); got != tt.want {
				t.Errorf("PathRange(%s) = %s, want %s", tt.path, got, tt.want)
			}
		})
	}
}

// TestPluginDiagnostic renders a plugin's diagnostics as validate prints
// them, against a golden file.
func TestPluginDiagnostic(t *testing.T) {
	r := loadPluginDiags(t)
	configs := r.PluginConfigs()
	diags := hcl.Diagnostics{
		configs[1].Diagnostic(sdk.Errorf(sdk.Attr("rules").Index(1), "Unknown rule", "The injector has no rule %q.%s", "swap", sdk.DidYouMean("swap", []string{"swap_operands", "swp"}))),
		configs[3].Diagnostic(sdk.Warningf(sdk.Attr("timeout"), "Short timeout", "A timeout of %d seconds is short.", 10)),
		configs[2].Diagnostic(sdk.Diagnostic{Severity: sdk.SeverityError, Detail: "no summary given"}),
	}
	if diags[1].Severity != hcl.DiagWarning || diags[0].Severity != hcl.DiagError || diags[2].Severity != hcl.DiagError {
		t.Errorf("severities = %v %v %v", diags[0].Severity, diags[1].Severity, diags[2].Severity)
	}
	var out bytes.Buffer
	WriteDiagnostics(&out, diags, r.Files)
	golden := filepath.Join("testdata", "plugindiags", "diagnostics.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./hcl -update)", err)
	}
	if out.String() != string(want) {
		t.Errorf("diagnostics differ from %s:\n--- got\n%s\n--- want\n%s", golden, out.String(), want)
	}
}
