package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestErrorMessages runs swelego on recipes that name plugins which never
// complete the handshake (a script that sleeps, one that prints something
// else on stdout, one that exits), a misspelt plugin, function and stage,
// and a --queue-repos that is no mode, and compares exit code and output
// with testdata/errors/NAME.golden. Each plugin failure is one line saying
// what was started and what was expected, within 15 s (the start timeout is
// 10 s), without go-plugin's own lines.
func TestErrorMessages(t *testing.T) {
	plugins := map[string]string{
		"sleeps":  "sleep 600\n",
		"garbage": "echo 'listening on :8080'\nsleep 600\n",
		"exits":   "echo 'cannot read /etc/exits.conf' >&2\nexit 3\n",
	}
	tests := []struct {
		name      string
		recipe    string
		args      []string // after the recipe; the command is validate unless args say run
		handshake bool     // a plugin failing the handshake
	}{
		{name: "handshake_sleeps", recipe: twoSources("sleeps"), handshake: true},
		{name: "handshake_garbage", recipe: twoSources("garbage"), handshake: true},
		{name: "handshake_exits", recipe: twoSources("exits"), handshake: true},
		{name: "plugin_typo", recipe: twoSources("swebnch")},
		{name: "plugin_unknown", recipe: twoSources("rust")},
		{name: "function_typo", recipe: "locals {\n  name = lowr(\"CALC\")\n}\n"},
		{name: "stage_typo", recipe: twoSources("swebench"), args: []string{"run", "--stage", "taks"}},
		{name: "stage_address_typo", recipe: twoSources("swebench"), args: []string{"run", "--stage", "source.swebench.z"}},
		{name: "queue_repos_typo", recipe: twoSources("swebench"), args: []string{"run", "--queue", "nats://127.0.0.1:1", "--queue-repos", "object-store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, script := range plugins {
				writeExec(t, filepath.Join(dir, ".swelego", "plugins", "swelego-plugin-"+name), "#!/bin/sh\n"+script)
			}
			writeFile(t, filepath.Join(dir, "recipe.hcl"), tt.recipe)
			args := []string{"validate", "recipe.hcl"}
			if len(tt.args) > 0 && tt.args[0] == "run" {
				args = append([]string{"run", "recipe.hcl"}, tt.args[1:]...)
			}
			cmd := swelegoCmd(dir, args...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code == 0 {
				t.Fatalf("exit 0\n%s", stderr.String())
			}
			got := strings.ReplaceAll(fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout.String(), stderr.String()), dir, "DIR")
			checkGolden(t, filepath.Join("testdata", "errors", tt.name+".golden"), got)
			if regexp.MustCompile(`\[(ERROR|WARN)\]|Unrecognized remote plugin message|This usually means|plugin process exited`).MatchString(stderr.String()) {
				t.Errorf("go-plugin's own lines reached the user:\n%s", stderr.String())
			}
			if tt.handshake {
				if took > 15*time.Second {
					t.Errorf("validate took %s; a plugin that does not complete the handshake must fail within 15 s", took)
				}
				lines := regexp.MustCompile(`(?m)^.*did not complete the handshake.*expected a line like 1\|1\|unix\|.*\|grpc on stdout, got .*$`).FindAllString(stderr.String(), -1)
				if len(lines) != 2 { // one for each block that uses the plugin
					t.Errorf("%d handshake error lines, want one for each of the 2 blocks:\n%s", len(lines), stderr.String())
				}
			}
		})
	}
}

// twoSources is a recipe with two source blocks served by plugin.
func twoSources(plugin string) string {
	return fmt.Sprintf("source %q \"a\" {\n  path = \"a.jsonl\"\n}\n\nsource %q \"b\" {\n  path = \"b.jsonl\"\n}\n", plugin, plugin)
}

// writeExec writes an executable file.
func writeExec(t *testing.T, path, content string) {
	t.Helper()
	writeFile(t, path, content)
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
}
