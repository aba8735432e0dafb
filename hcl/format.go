package hcl

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout (indentation, aligned equals
// signs). It does not check the syntax, and a file with syntax errors may
// come out damaged: use FormatFile for anything a user wrote.
func Format(src []byte) []byte {
	return hclwrite.Format(src)
}

// FormatFile returns src, the text of the file called filename, in
// canonical HCL layout, as swelego fmt writes it. A file with syntax errors
// is not formatted: the diagnostics say where, and file (never nil) holds
// the source for their snippets. The layout changes only the spaces between
// tokens; should the formatter ever change a token, FormatFile refuses with
// a diagnostic rather than return a different recipe.
func FormatFile(filename string, src []byte) ([]byte, *hcl.File, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if file == nil {
		file = &hcl.File{Bytes: src}
	}
	if file.Bytes == nil {
		file.Bytes = src
	}
	if diags.HasErrors() {
		return nil, file, diags
	}
	out := hclwrite.Format(src)
	if _, d := hclsyntax.ParseConfig(out, filename, hcl.InitialPos); d.HasErrors() {
		return nil, file, hcl.Diagnostics{formatterBug(filename, fmt.Sprintf("the formatted text does not parse: %s", d.Error()))}
	}
	if err := sameTokens(src, out); err != nil {
		return nil, file, hcl.Diagnostics{formatterBug(filename, err.Error())}
	}
	return out, file, nil
}

func formatterBug(filename, why string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Formatter error",
		Detail:   fmt.Sprintf("Formatting %s would change more than its layout (%s), so it was left as it is. This is a bug in swelego fmt.", filename, why),
		Subject:  &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

// sameTokens checks that a and b are the same tokens once the spaces
// between them are set aside: what formatting may change.
func sameTokens(a, b []byte) error {
	ta, tb := layoutFree(a), layoutFree(b)
	for i := range min(len(ta), len(tb)) {
		if !bytes.Equal(ta[i].Bytes, tb[i].Bytes) || ta[i].Type != tb[i].Type {
			return fmt.Errorf("line %d: %s %q became %s %q", ta[i].Range.Start.Line, ta[i].Type, ta[i].Bytes, tb[i].Type, tb[i].Bytes)
		}
	}
	if len(ta) != len(tb) {
		return fmt.Errorf("%d tokens became %d", len(ta), len(tb))
	}
	return nil
}

// layoutFree lexes src, trimming the trailing spaces of comments (which
// the formatter removes) and dropping the end-of-file token.
func layoutFree(src []byte) hclsyntax.Tokens {
	toks, _ := hclsyntax.LexConfig(src, "", hcl.InitialPos)
	out := toks[:0]
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenEOF:
			continue
		case hclsyntax.TokenComment:
			t.Bytes = bytes.TrimRight(t.Bytes, " \t\r\n")
		}
		out = append(out, t)
	}
	return out
}
