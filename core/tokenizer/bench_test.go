package tokenizer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkEncode encodes this package's Go source, a realistic code text;
// MB/s is of the input text.
func BenchmarkEncode(b *testing.B) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		b.Fatal("no Go files", err)
	}
	var text []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		text = append(text, data...)
	}
	for _, spec := range []string{"cl100k_base", "o200k_base", qwenDir} {
		tok, err := Load(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(spec), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			s := string(text)
			for b.Loop() {
				tok.Encode(s)
			}
		})
	}
}
