package hcl

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad loads arbitrary recipes with a fake schema provider and renders
// the diagnostics: neither may panic.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/*.hcl", "testdata/broken/*.hcl", "testdata/typed/*.hcl"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "recipe.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{
			Vars:    []string{"workers=2", "size=8b"},
			Environ: []string{"SWELEGO_VAR_attempts=3"},
			Schemas: &fakeSchemas{},
		}
		r, diags := Load(context.Background(), path, opts)
		if r == nil {
			t.Fatalf("nil recipe for a readable file")
		}
		WriteDiagnostics(io.Discard, diags, r.Files)
		if !diags.HasErrors() {
			for _, b := range r.Stages {
				_ = b.IsStage()
			}
		}
		_ = Format(src)
	})
}
