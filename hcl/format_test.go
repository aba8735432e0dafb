package hcl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestFormatFile(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    string // "" when the file must be refused
		wantErr string // summary of the first diagnostic
	}{
		{name: "aligns and indents", src: "x   {\n# note\na=1\n  bb = \"2\" // why\n}\n", want: "x {\n  # note\n  a  = 1\n  bb = \"2\" // why\n}\n"},
		{name: "formatted stays", src: "x {\n  a = 1\n}\n", want: "x {\n  a = 1\n}\n"},
		{name: "heredoc kept", src: "x {\na = <<EOT\n  keep   this\nEOT\n}\n", want: "x {\n  a = <<EOT\n  keep   this\nEOT\n}\n"},
		{name: "empty", src: "", want: ""},
		{name: "unclosed quote", src: "x {\n  cmd = \"eval \"gold\"\n}\n", wantErr: "Invalid multi-line string"},
		{name: "unclosed brace", src: "x {\n  a = 1\n", wantErr: "Unclosed configuration block"},
		{name: "unclosed interpolation", src: "x {\n  a = \"${foo\"\n}\n", wantErr: "Invalid multi-line string"},
		{name: "unterminated heredoc", src: "x {\n  a = <<EOT\nhello\n}\n", wantErr: "Unterminated template string"},
		{name: "missing expression", src: "x {\n  a = \n}\n", wantErr: "Invalid expression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, file, diags := FormatFile("r.hcl", []byte(tt.src))
			if file == nil || string(file.Bytes) != tt.src {
				t.Fatalf("file for the snippets = %v, want the source", file)
			}
			if tt.wantErr != "" {
				if !diags.HasErrors() || out != nil {
					t.Fatalf("no error; formatted to %q", out)
				}
				if diags[0].Summary != tt.wantErr || diags[0].Subject == nil || diags[0].Subject.Filename != "r.hcl" {
					t.Errorf("first diagnostic %q at %v, want %q in r.hcl", diags[0].Summary, diags[0].Subject, tt.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if string(out) != tt.want {
				t.Errorf("got %q, want %q", out, tt.want)
			}
		})
	}
}

// TestSameTokens is the check that keeps the formatter from changing a
// recipe: any change beyond the spaces between tokens is reported.
func TestSameTokens(t *testing.T) {
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{name: "spaces", a: "x {\na=1\n}\n", b: "x {\n  a = 1\n}\n", same: true},
		{name: "comment trailing space", a: "# c   \n", b: "# c\n", same: true},
		{name: "spaces in a string", a: "a = \"eval gold\"\n", b: "a = \"eval  gold\"\n"},
		{name: "spaces in an interpolation's string", a: "a = \"${foo}x\"\n", b: "a = \"${foo} x\"\n"},
		{name: "heredoc indentation", a: "a = <<EOT\n  x\nEOT\n", b: "a = <<EOT\n    x\nEOT\n"},
		{name: "token dropped", a: "a = 1\nb = 2\n", b: "a = 1\n"},
		{name: "comment text", a: "# one\n", b: "# two\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sameTokens([]byte(tt.a), []byte(tt.b))
			if (err == nil) != tt.same {
				t.Errorf("sameTokens = %v, want same=%v", err, tt.same)
			}
		})
	}
}

// FuzzFormat formats arbitrary text: a file FormatFile accepts comes out
// parsing, with the same characters but spaces, and formatting it again
// changes nothing; a refused file gets diagnostics with a subject.
func FuzzFormat(f *testing.F) {
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
		out, file, diags := FormatFile("f.hcl", src)
		if file == nil {
			t.Fatal("nil file")
		}
		if diags.HasErrors() {
			if out != nil {
				t.Fatal("output with errors")
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Fatalf("diagnostic %q has no subject", d.Summary)
				}
			}
			return
		}
		if _, d := hclsyntax.ParseConfig(out, "f.hcl", hcl.InitialPos); d.HasErrors() {
			t.Fatalf("formatted text does not parse: %s\n%q", d.Error(), out)
		}
		if squeeze(out) != squeeze(src) {
			t.Fatalf("formatting changed more than spaces:\n%q\n%q", src, out)
		}
		again, _, d := FormatFile("f.hcl", out)
		if d.HasErrors() || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, d)
		}
	})
}

func squeeze(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, string(b))
}
