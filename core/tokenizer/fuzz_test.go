package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzLoadHF feeds arbitrary tokenizer.json contents to the parser: it must
// not panic, must fail only with ErrFormat, and what it accepts must encode
// and decode a short text.
func FuzzLoadHF(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(qwenDir, "tokenizer.json")); err == nil {
		f.Add(data)
	}
	for _, tj := range []map[string]any{tinyTokenizer("a b", "ab c"), tinyTokenizer("Ġ t", "h e", "Ġt he")} {
		data, err := json.Marshal(tj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {}, "merges": []}}`))
	f.Add([]byte(`{"model": {"type": "WordPiece"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parseTokenizerJSON("tokenizer.json", data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		const text = "Hi, 12 x\n"
		ids := tok.Encode(text)
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("id %d outside the vocabulary of %d", id, tok.VocabSize())
			}
		}
		want := text
		if tok.nfc {
			want = norm.NFC.String(text)
		}
		if got := tok.Decode(ids); got != want {
			t.Fatalf("round trip gave %q", got)
		}
	})
}

// FuzzEncode checks the test folder on arbitrary valid UTF-8: Decode undoes
// Encode up to NFC, and no id is an added token's.
func FuzzEncode(f *testing.F) {
	tok := loadTest(f, qwenDir)
	for _, s := range []string{"", "hello world", "Cafe\u0301 12345", "<|im_end|>", "\t\tx := 1\r\n", "你好 🍕", "   \n\n  "} {
		f.Add(s)
	}
	firstAdded := tok.VocabSize()
	for _, id := range tok.added {
		firstAdded = min(firstAdded, id)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		ids := tok.Encode(s)
		for _, id := range ids {
			if id < 0 || id >= firstAdded {
				t.Fatalf("Encode(%q) gave id %d", s, id)
			}
		}
		if got, want := tok.Decode(ids), norm.NFC.String(s); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, got, want)
		}
	})
}

// FuzzQwenSplit checks the hand-written scanner of Qwen's pattern against
// regexp2 running the pattern itself. They differ only where regexp2
// differs from Oniguruma: (?i) does not fold "ſ" to "s" in regexp2.
func FuzzQwenSplit(f *testing.F) {
	re, err := compilePattern(qwenPattern)
	if err != nil {
		f.Fatal(err)
	}
	viaRegexp := regexpSplitter(re)
	for _, s := range []string{
		"", "I'm here, you'LL see.", "  x\n\n  y \t\r\n", "a1b22 ¼½", "!!word ?!\n\n", "\u00a0\u3000x\u2028",
		"'s's 'S'", "say \"hi\"\r\n", "   ", "x  ", "\t!", " \n", "\x85\x0b\x0c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 'ſ') {
			return
		}
		var want, got []string
		viaRegexp(s, func(p string) { want = append(want, p) })
		splitQwen(s, func(p string) { got = append(got, p) })
		if !slices.Equal(got, want) {
			t.Fatalf("split(%q):\n got %q\nwant %q", s, got, want)
		}
	})
}
