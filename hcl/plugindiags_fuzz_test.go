package hcl

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/swelego/swelego/sdk"
)

// FuzzPluginDiagnostic loads arbitrary recipes whose plugin schemas have
// defaults and maps arbitrary attribute paths, as a plugin may send them,
// to the source: nothing may panic, and every range lies in the recipe.
// steps is a path written as slash-separated steps: a number is a list
// index, "=KEY" a map key, anything else an attribute name.
func FuzzPluginDiagnostic(f *testing.F) {
	src, err := os.ReadFile(filepath.Join("testdata", "plugindiags", "recipe.hcl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, steps := range []string{"", "rules/1", "filter/labels/0", "query/1/q", "extra/=one/value", "nested/1/level", "query/-1", "tools/99", "=x/=y/3"} {
		f.Add(src, steps)
	}
	f.Add([]byte("toolset \"t\" {\n  plugin = \"defaults\"\n  config = { nested = [{ name = 1 }] }\n}\n"), "nested/0/name")
	f.Fuzz(func(t *testing.T, src []byte, steps string) {
		path := filepath.Join(t.TempDir(), "recipe.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		r, diags := Load(context.Background(), path, Options{Environ: []string{}, Schemas: &withDefaultsPlugin{}})
		if r == nil {
			t.Fatal("nil recipe for a readable file")
		}
		p := fuzzPath(steps)
		for _, pc := range r.PluginConfigs() {
			if !json.Valid(pc.Config) {
				t.Fatalf("config of %s is not JSON: %s", pc.Plugin, pc.Config)
			}
			d := pc.Diagnostic(sdk.Errorf(p, "Fuzz", "%s", p))
			rng := *d.Subject
			if rng.Filename != path || rng.Start.Byte < 0 || rng.Start.Byte > rng.End.Byte || rng.End.Byte > len(src) {
				t.Fatalf("path %s of %s: range %v outside the recipe", p, pc.Plugin, rng)
			}
			diags = append(diags, d)
		}
		WriteDiagnostics(io.Discard, append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "end"}), r.Files)
	})
}

func fuzzPath(steps string) sdk.Path {
	var p sdk.Path
	if steps == "" {
		return p
	}
	for _, s := range strings.Split(steps, "/") {
		if i, err := strconv.Atoi(s); err == nil {
			p = p.Index(i)
		} else if key, ok := strings.CutPrefix(s, "="); ok {
			p = p.Key(key)
		} else {
			p = p.Attr(s)
		}
	}
	return p
}
