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

// TestParseTampered edits a recorded run the ways a test, a patch or a
// killed run could, and checks which edits the parser refuses.
func TestParseTampered(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "runs", "forge.out"))
	if err != nil {
		t.Fatal(err)
	}
	orig := string(b)
	const fake = "# Subtest: real\nok 2 - real\n  ---\n  duration_ms: 1\n  ...\n"
	summary := "# tests 1\n# suites 0\n# pass 0\n# fail 1\n# cancelled 0\n# skipped 0\n# todo 0\n"
	tests := []struct {
		name    string
		edit    func(string) string
		invalid string // a part of Invalid; "" for a valid run
		status  sdk.TestStatus
	}{
		{"as recorded", func(s string) string { return s }, "", sdk.TestFailed},
		{"empty output", func(string) string { return "" }, "no test file ran", ""},
		{"summary cut off", func(s string) string { return replaceLast(s, "\n# tests 1\n", "\n") }, "no summary", sdk.TestFailed},
		{"a second passing result", func(s string) string { return replaceLast(s, "\n1..1\n", "\n"+fake+"1..1\n") }, "the summary counts 1 tests, the results 2", sdk.TestFailed},
		{"a second summary", func(s string) string {
			return replaceLast(s, "\nswelego-javascript: exit", "\n"+summary+"swelego-javascript: exit")
		}, "a second summary", sdk.TestFailed},
		{"a result after the run", func(s string) string { return s + fake }, "outside any file's run", sdk.TestFailed},
		{"exit status 0", func(s string) string { return replaceLast(s, "exit 1", "exit 0") }, "exited 0 with 1 failed", sdk.TestFailed},
		{"killed before the exit marker", func(s string) string { return s[:strings.LastIndex(s, "\nswelego-javascript: exit")+1] }, "did not finish", sdk.TestFailed},
		{"bail out", func(s string) string { return replaceLast(s, "\n1..1\n", "\nBail out! stop\n1..1\n") }, "bailed out", sdk.TestFailed},
		{"a count before the summary", func(s string) string { return replaceLast(s, "\n1..1\n", "\n1..1\n# pass 1\n") }, "before the summary", sdk.TestFailed},
		{"a result without its subtest line", func(s string) string { return replaceLast(s, "\n# Subtest: real\n", "\n") }, "follows no subtest", ""},
		{"a file deleted", func(s string) string { return "swelego-javascript: missing test/forge.test.js\n" }, "", ""},
		{"the plan disagrees", func(s string) string { return replaceLast(s, "\n1..1\n", "\n1..2\n") }, "the plan counts 2", sdk.TestFailed},
		{"CRLF line ends", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }, "", sdk.TestFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := ParseTAP(tt.edit(orig))
			if tt.invalid == "" && rep.Invalid != "" || !strings.Contains(rep.Invalid, tt.invalid) {
				t.Errorf("invalid = %q, want %q", rep.Invalid, tt.invalid)
			}
			if got := rep.Statuses["test/forge.test.js::real"]; got != tt.status {
				t.Errorf("status = %q, want %q", got, tt.status)
			}
		})
	}
}

// replaceLast replaces the last old in s with new.
func replaceLast(s, old, new string) string {
	i := strings.LastIndex(s, old)
	if i < 0 {
		return s
	}
	return s[:i] + new + s[i+len(old):]
}

// TestSelection checks the files and name patterns an id list runs.
func TestSelection(t *testing.T) {
	tests := []struct {
		name            string
		ids             []string
		files, patterns []string
	}{
		{"none", nil, nil, nil},
		{"nested", []string{"test/a.test.js::math > inner > deep"}, []string{"test/a.test.js"}, []string{`^math( > .*)?$`}},
		{"metacharacters", []string{"test/b.js::a (b) [c] $1.5 *"}, []string{"test/b.js"}, []string{`^a \(b\) \[c\] \$1\.5 \*( > .*)?$`}},
		{"one root twice", []string{"t/x.js::s > a", "t/x.js::s > b", "t/a.js::s"}, []string{"t/a.js", "t/x.js"}, []string{`^s( > .*)?$`}},
		{"a control character", []string{`t/x.js::a\tb`}, []string{"t/x.js"}, []string{`^a(?:\x09|\\t)b( > .*)?$`}},
		{"a whole file", []string{"t/x.js", "t/y.js::s"}, []string{"t/x.js", "t/y.js"}, []string{`^s( > .*)?$`, ".*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, patterns, err := selection(tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(files, "|") != strings.Join(tt.files, "|") || strings.Join(patterns, "|") != strings.Join(tt.patterns, "|") {
				t.Errorf("files %q patterns %q, want %q %q", files, patterns, tt.files, tt.patterns)
			}
		})
	}
	for _, bad := range []string{"::x", "f.js::"} {
		if _, _, err := selection([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzParseTAP: any output parses without panicking, and a report with
// no Invalid reason has every status one the grader knows.
func FuzzParseTAP(f *testing.F) {
	outs, _ := filepath.Glob(filepath.Join("testdata", "runs", "*.out"))
	for _, name := range outs {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("swelego-javascript: file a.js\n# Subtest: x\nok 1 - x # SKIP\n1..1\n# tests 1\n# skipped 1\nswelego-javascript: exit 0\n")
	f.Fuzz(func(t *testing.T, out string) {
		rep := ParseTAP(out)
		for id, st := range rep.Statuses {
			if st != sdk.TestPassed && st != sdk.TestFailed && st != sdk.TestSkipped {
				t.Fatalf("%q: status %q", id, st)
			}
		}
		if rep.Invalid == "" && len(rep.Statuses) > 0 && !strings.Contains(out, "# tests ") {
			t.Fatal("a valid report from an output with no summary")
		}
	})
}

// TestForgedOutputFails: a failing test that prints passing TAP, a file
// marker and a whole summary to stdout still fails, and the run is valid.
func TestForgedOutputFails(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "runs", "forge.out"))
	if err != nil {
		t.Fatal(err)
	}
	rep := ParseTAP(string(b))
	if rep.Invalid != "" || len(rep.Statuses) != 1 || rep.Statuses["test/forge.test.js::real"] != sdk.TestFailed {
		t.Errorf("invalid %q, statuses %v; want only test/forge.test.js::real, FAILED", rep.Invalid, rep.Statuses)
	}
}
