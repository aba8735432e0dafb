package hcl

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestBroken loads each broken recipe under testdata/broken and compares
// the rendered diagnostics with NAME.golden.
func TestBroken(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{name: "syntax_error"},
		{name: "unclosed_quote"},
		{name: "unclosed_brace"},
		{name: "unclosed_interpolation"},
		{name: "bad_heredoc"},
		{name: "unknown_block"},
		{name: "duplicate_block"},
		{name: "duplicate_singleton"},
		{name: "wrong_label_count"},
		{name: "undefined_reference"},
		{name: "reference_cycle"},
		{name: "locals_cycle"},
		{name: "wrong_attribute_type"},
		{name: "missing_required"},
		{name: "invalid_value"},
		{name: "unknown_plugin_attribute"},
		{name: "unknown_verifier_attribute"},
		{name: "missing_verifier"},
		{name: "toolset_config"},
		{name: "unknown_variable"},
		{name: "missing_variable_value"},
		{name: "bad_default"},
		{name: "bad_var", opts: Options{Vars: []string{"workers", "max_turns=lots"}}},
		{name: "undeclared_var", opts: Options{Vars: []string{"worker=3"}}},
		{name: "plugin_not_found"},
		{name: "protocol_mismatch"},
		{name: "function_error"},
		{name: "unknown_function"},
		{name: "duplicate_verifier"},
		{name: "bad_combine"},
		{name: "missing_injector"},
		{name: "tts_source"},
		{name: "local_model"},
	}
	listed := map[string]bool{}
	for _, tc := range cases {
		listed[tc.name] = true
		t.Run(tc.name, func(t *testing.T) { checkBroken(t, "broken", tc.name, tc.opts) })
	}
	checkListed(t, "broken", listed)
}

// checkListed fails for a recipe under testdata/dir that no case lists.
func checkListed(t *testing.T, dir string, listed map[string]bool) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.hcl"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".hcl"); !listed[name] {
			t.Errorf("%s has no test case", f)
		}
	}
}

// checkBroken loads testdata/dir/name.hcl, which must fail, and compares
// the rendered diagnostics, which must point into it with file:line:col,
// with name.golden (rewritten by -update).
func checkBroken(t *testing.T, dir, name string, opts Options) {
	t.Helper()
	path := filepath.Join("testdata", dir, name+".hcl")
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	opts.Schemas = &fakeSchemas{}
	r, diags := Load(context.Background(), path, opts)
	if !diags.HasErrors() {
		t.Fatalf("Load(%s): no error", path)
	}
	if r == nil {
		t.Fatalf("Load(%s): nil recipe", path)
	}
	var out bytes.Buffer
	WriteDiagnostics(&out, diags, r.Files)
	got := out.String()
	if !regexp.MustCompile(regexp.QuoteMeta(name+".hcl") + `:\d+:\d+`).MatchString(got) {
		t.Errorf("diagnostics do not point into %s.hcl:\n%s", name, got)
	}
	golden := filepath.Join("testdata", dir, name+".golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./hcl -update)", err)
	}
	if got != string(want) {
		t.Errorf("diagnostics differ from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}
