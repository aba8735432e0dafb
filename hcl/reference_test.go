package hcl

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestRecipeReference fails when docs/recipes.md is not what the block
// table makes; -update rewrites it.
func TestRecipeReference(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, Reference()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "docs", "recipes.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./hcl -run TestRecipeReference -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s is stale: run go test ./hcl -run TestRecipeReference -update", path)
	}
}

// TestReferenceCoversTable: the reference lists every block type of the
// table, once.
func TestReferenceCoversTable(t *testing.T) {
	got := slices.Clone(referenceOrder)
	slices.Sort(got)
	if want := blockTypes(); !slices.Equal(got, want) {
		t.Errorf("referenceOrder = %v, block types %v", got, want)
	}
	for _, d := range Reference() {
		if d.Doc == "" {
			t.Errorf("%s has no description", d.Name)
		}
		for _, a := range d.Attributes {
			if a.Description == "" {
				t.Errorf("%s.%s has no description", d.Name, a.Name)
			}
		}
	}
}

// TestSettingsMatchTable: every argument of a core body with typed
// settings has a field, every tagged field an argument, and each default
// fits its field (decoding an empty body with defaults fails otherwise).
func TestSettingsMatchTable(t *testing.T) {
	bodies := map[string]*coreBody{}
	for name, bs := range blockSchemas {
		if bs.body != nil && bs.body.settings != nil {
			bodies[name] = bs.body
		}
	}
	for name, b := range coreSources {
		bodies["source."+name] = b
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			s := body.settings()
			fields := map[string]reflect.Value{}
			collectFields(reflect.ValueOf(s).Elem(), fields)
			check := func(prefix string, attrs []*Attribute, fields map[string]reflect.Value) {
				for _, a := range attrs {
					if _, ok := fields[a.Name]; !ok && a.Kind != KindObject {
						t.Errorf("argument %s%s has no field", prefix, a.Name)
					}
				}
				for f := range fields {
					if attr(attrs, f) == nil {
						t.Errorf("field tagged %q has no argument", f)
					}
				}
			}
			check("", body.attrs, fields)
			for _, a := range body.attrs {
				if a.Kind != KindBlock {
					continue
				}
				ft := fields[a.Name].Type()
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				nested := map[string]reflect.Value{}
				collectFields(reflect.New(ft).Elem(), nested)
				check(a.Name+".", a.Block, nested)
			}
			// Every optional argument unset: the defaults must fit.
			empty := map[string]cty.Value{}
			for _, a := range body.attrs {
				empty[a.Name] = cty.NullVal(a.ctyType())
			}
			if err := decodeSettings(body.attrs, cty.ObjectVal(empty), t.TempDir(), body.settings()); err != nil {
				t.Errorf("decode with defaults: %v", err)
			}
		})
	}
}

func TestFindBlockDocs(t *testing.T) {
	cases := []struct {
		name, want, wantErr string
		attrs               []string
	}{
		{name: "eval", want: "eval", attrs: []string{"tasks", "predictions", "backend", "workers", "instance_ids", "skipped_pass_to_pass"}},
		{name: "synthetic", want: "source.synthetic", attrs: []string{"repo", "combine"}},
		{name: "source.synthetic", want: "source.synthetic"},
		{name: "sandbox", want: "sandbox", attrs: []string{"memory"}},
		{name: "evl", wantErr: `did you mean "eval"?`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := FindBlockDocs(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(docs) != 1 || docs[0].Name != tc.want {
				t.Fatalf("FindBlockDocs(%q) = %v, %v", tc.name, docs, err)
			}
			var b bytes.Buffer
			if err := WriteReference(&b, docs); err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.attrs {
				if !strings.Contains(b.String(), "  "+a+" ") {
					t.Errorf("no line for %s in:\n%s", a, b.String())
				}
			}
		})
	}
	all, err := FindBlockDocs("")
	if err != nil || len(all) != len(Reference()) {
		t.Errorf("FindBlockDocs(\"\") = %d docs, %v", len(all), err)
	}
}
