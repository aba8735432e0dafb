package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with the golden file name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// reportJSON writes a report as indented JSON.
func reportJSON(t *testing.T, rep sdk.TestReport) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestParseRuns parses outputs of the grade command recorded with Node 18
// (Debian bookworm's nodejs) on the repositories under testdata/runs.
func TestParseRuns(t *testing.T) {
	outs, _ := filepath.Glob(filepath.Join("testdata", "runs", "*.out"))
	if len(outs) == 0 {
		t.Fatal("no recorded runs")
	}
	for _, out := range outs {
		name := strings.TrimSuffix(filepath.Base(out), ".out")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(out, ".out")+".golden", reportJSON(t, ParseTAP(string(b))))
		})
	}
}
