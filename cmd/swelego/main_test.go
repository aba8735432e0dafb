package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin holds binaries built once for the tests: swelego itself, the crashy
// test plugin, and two builds of the example verifier.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "swelego-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	builds := []struct {
		dir, out string
		args     []string
	}{
		{".", "swelego", nil},
		{"../../core/pluginhost/testdata/plugins/crashy", "swelego-plugin-crashy", nil},
		{"../../core/pluginhost/testdata/plugins/oldproto", "swelego-plugin-oldproto", nil},
		{"../../examples/plugins/verifier-example", "patchsize-smallest", nil},
		{"../../examples/plugins/verifier-example", "patchsize-largest", []string{"-ldflags", "-X main.prefer=largest"}},
		{"../../plugins/python/cmd/swelego-plugin-python", "swelego-plugin-python", nil},
		{"../../examples/plugins/masker-example", "swelego-plugin-firstturns", nil},
		{"../../plugins/verifiers/cmd/swelego-plugin-verifier-tests", "swelego-plugin-verifier-tests", nil},
		{"../../plugins/verifiers/cmd/swelego-plugin-verifier-generative", "swelego-plugin-verifier-generative", nil},
	}
	for _, b := range builds {
		args := append([]string{"build", "-o", filepath.Join(dir, b.out)}, b.args...)
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir = b.dir
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", b.dir, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// swelego runs the built binary in dir and returns stdout, stderr and the
// exit code. The environment carries no plugin path of the developer's.
func swelego(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := swelegoCmd(dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func swelegoCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, "swelego"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SWELEGO_PLUGIN_PATH=", "XDG_DATA_HOME="+filepath.Join(dir, ".xdg"))
	return cmd
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyBin(t *testing.T, name, to string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(bin, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// readJSONL reads every record of a JSON Lines file as a map.
func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: bad record %q: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// writeTasks writes a SWE-bench JSON Lines file with the given instance ids.
func writeTasks(t *testing.T, path string, ids ...string) {
	t.Helper()
	var b strings.Builder
	for _, id := range ids {
		rec, _ := json.Marshal(map[string]any{"instance_id": id, "repo": "o/r", "base_commit": "abc", "patch": "", "test_patch": "diff --git a/t b/t", "problem_statement": "p " + id, "FAIL_TO_PASS": `["t1"]`, "PASS_TO_PASS": []string{"t2"}})
		b.Write(rec)
		b.WriteByte('\n')
	}
	writeFile(t, path, b.String())
}
