package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateValidate = flag.Bool("update", false, "rewrite the golden files under testdata/validate")

// TestValidatePluginSettings runs `swelego validate` on recipes whose
// plugin settings are wrong in ways only the plugins know (or the host
// knows from their schemas), through the real plugin processes, and
// compares exit code and output with NAME.golden: each diagnostic at
// file:line:col with its snippet. Errors exit 1; warnings alone exit 0.
func TestValidatePluginSettings(t *testing.T) {
	tests := []struct {
		name     string
		wantCode int
		env      []string
	}{
		{name: "injector_rule_python", wantCode: 1},
		{name: "injector_rule_go", wantCode: 1},
		{name: "injector_wrong_type", wantCode: 1},
		{name: "masker_pattern", wantCode: 1},
		{name: "curriculum_default", wantCode: 1},
		{name: "verifier_setting", wantCode: 1},
		{name: "toolset_warning", wantCode: 0},
		{name: "unknown_language", wantCode: 1},
		{name: "third_party_masker", wantCode: 1, env: []string{"SWELEGO_PLUGIN_PATH=" + filepath.Join(bin, "firstturns")}},
	}
	src, err := filepath.Abs(filepath.Join("testdata", "validate"))
	if err != nil {
		t.Fatal(err)
	}
	dir := validateDir(t, src)
	copyBin(t, "swelego-plugin-firstturns", filepath.Join(bin, "firstturns", "swelego-plugin-firstturns"))
	listed := map[string]bool{}
	for _, tt := range tests {
		listed[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := swelegoCmd(dir, "validate", tt.name+".hcl")
			cmd.Env = append(cmd.Env, tt.env...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code := 0
			if err := cmd.Run(); err != nil {
				ee, ok := err.(interface{ ExitCode() int })
				if !ok {
					t.Fatal(err)
				}
				code = ee.ExitCode()
			}
			got := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout.String(), stderr.String())
			golden := filepath.Join(src, tt.name+".golden")
			if *updateValidate {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/swelego -run ValidatePluginSettings -update)", err)
			}
			if got != string(want) {
				t.Errorf("validate output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr.String(), tt.name+".hcl:") {
				t.Errorf("no diagnostic points into %s.hcl", tt.name)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(src, "*.hcl"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".hcl"); !listed[name] {
			t.Errorf("%s has no test case", f)
		}
	}
}

// validateDir copies the recipes of src into a temporary tree that mirrors
// the repository where they point (../sft, ../../../../examples), so that
// what validate writes beside a recipe (the lock file of a plugin found on
// the plugin path) stays out of the source tree.
func validateDir(t *testing.T, src string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "cmd", "swelego", "testdata", "validate")
	recipes, _ := filepath.Glob(filepath.Join(src, "*.hcl"))
	for _, r := range recipes {
		data, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, filepath.Base(r)), string(data))
	}
	for link, target := range map[string]string{
		filepath.Join(root, "cmd", "swelego", "testdata", "sft"): filepath.Join(src, "..", "sft"),
		filepath.Join(root, "examples"):                          filepath.Join(src, "..", "..", "..", "..", "examples"),
	} {
		if err := os.Symlink(filepath.Clean(target), link); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRunValidatesPluginSettings: run refuses a recipe that validate
// refuses, with the same diagnostics, before it opens a run directory or
// builds anything.
func TestRunValidatesPluginSettings(t *testing.T) {
	src, err := filepath.Abs(filepath.Join("testdata", "validate"))
	if err != nil {
		t.Fatal(err)
	}
	dir := validateDir(t, src)
	for _, name := range []string{"injector_rule_python", "masker_pattern", "unknown_language"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			cmd := swelegoCmd(dir, "run", "--workdir", filepath.Join(work, "run"), name+".hcl")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(interface{ ExitCode() int })
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("run: %v, want exit 1\n%s", err, stderr.String())
			}
			want, err := os.ReadFile(filepath.Join(src, name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			// The golden's stderr part is what validate printed.
			_, diag, _ := strings.Cut(string(want), "--- stderr\n")
			if !strings.Contains(stderr.String(), diag) {
				t.Errorf("run's stderr does not hold validate's diagnostics:\n--- got\n%s\n--- want within\n%s", stderr.String(), diag)
			}
			if _, err := os.Stat(filepath.Join(work, "run")); !os.IsNotExist(err) {
				t.Errorf("run made its run directory although the recipe is invalid (%v)", err)
			}
		})
	}
}
