package harness

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var (
	update  = flag.Bool("update", false, "rewrite the golden files under testdata")
	capture = flag.Bool("capture", false, "re-capture the real pytest and go test logs under testdata (needs pytest and go)")
)

// checkGolden compares got, encoded as indented JSON, with the golden file,
// or rewrites the file with -update.
func checkGolden(t *testing.T, file string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, data) {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", file, want, data)
	}
}

// pythonWithPytest returns a python interpreter that has pytest, or skips.
func pythonWithPytest(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3", "python"} {
		if err := exec.Command(py, "-m", "pytest", "--version").Run(); err == nil {
			return py
		}
	}
	t.Skip("no python with pytest (apt-get install -y python3-pytest)")
	return ""
}

// pytestCommand is the test command the Evaluate and Validate tests use.
func pytestCommand(t testing.TB) string {
	return pythonWithPytest(t) + " -m pytest --no-header -rA --tb=no -p no:cacheprovider"
}
