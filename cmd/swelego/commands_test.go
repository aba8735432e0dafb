package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	messy := "source   \"swebench\" \"x\"   {\npath=\"t.jsonl\"\n  limit =   3\n}\n"
	tidy := "source \"swebench\" \"x\" {\n  path  = \"t.jsonl\"\n  limit = 3\n}\n"
	writeFile(t, filepath.Join(dir, "a.hcl"), messy)
	writeFile(t, filepath.Join(dir, "b.hcl"), tidy)

	out, _, code := swelego(t, dir, "fmt", "--check")
	if code != 3 || strings.TrimSpace(out) != "a.hcl" {
		t.Fatalf("fmt --check: exit %d, listed %q; want exit 3 listing a.hcl", code, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a.hcl")); string(data) != messy {
		t.Fatal("fmt --check changed a file")
	}
	if _, errOut, code := swelego(t, dir, "fmt"); code != 0 {
		t.Fatalf("fmt: exit %d: %s", code, errOut)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a.hcl")); string(data) != tidy {
		t.Fatalf("fmt wrote %q, want %q", data, tidy)
	}
	if out, _, code := swelego(t, dir, "fmt", "--check"); code != 0 || out != "" {
		t.Fatalf("second fmt --check: exit %d, %q", code, out)
	}
}

func TestPluginsListAndDescribe(t *testing.T) {
	dir := t.TempDir()
	copyBin(t, "patchsize-smallest", filepath.Join(dir, ".swelego", "plugins", "swelego-plugin-patchsize"))
	out, errOut, code := swelego(t, dir, "plugins", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"patchsize", "1.0.0", "verifier", "swebench", "task_source", "built in"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugins list does not show %q:\n%s", want, out)
		}
	}
	out, errOut, code = swelego(t, dir, "plugins", "describe", "swebench")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"task_source configuration", "path \"string\" (required)", "instance_ids [\"list\",\"string\"]"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugins describe does not show %q:\n%s", want, out)
		}
	}
	if _, errOut, code := swelego(t, dir, "plugins", "describe", "nosuch"); code == 0 || !strings.Contains(errOut, "plugin not found") {
		t.Errorf("describe of a missing plugin: exit %d, %s", code, errOut)
	}
}

// TestStandalonePluginFoundByDiscovery puts the separately built Python
// injector on the plugin path: discovery prefers it to the built-in copy,
// and it serves its kind from its own process.
func TestStandalonePluginFoundByDiscovery(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	copyBin(t, "swelego-plugin-python", filepath.Join(plugins, "swelego-plugin-python"))
	cmd := swelegoCmd(dir, "plugins", "describe", "--json", "python")
	cmd.Env = append(cmd.Env, "SWELEGO_PLUGIN_PATH="+plugins)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got struct {
		Info struct {
			Name  string   `json:"name"`
			Kinds []string `json:"kinds"`
		} `json:"info"`
		Location struct {
			Path    string `json:"Path"`
			Builtin bool   `json:"Builtin"`
		} `json:"location"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Location.Builtin || got.Location.Path != filepath.Join(plugins, "swelego-plugin-python") {
		t.Errorf("resolved to %+v, want the binary on SWELEGO_PLUGIN_PATH", got.Location)
	}
	if got.Info.Name != "python" || !slices.Equal(got.Info.Kinds, []string{"bug_injector", "log_parser", "language"}) {
		t.Errorf("info %+v", got.Info)
	}
}
