package tokenizer

import (
	"context"
	"slices"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// Known answers published for tiktoken. Sources: openai/tiktoken
// tests/test_encoding.py (test_simple, test_simple_regex, test_basic_encode,
// test_encode_surrogate_pairs); the jtokkit suite added to tiktoken's
// tests/test_base_encodings.py (cl100k_test_data); for o200k_base,
// "hello world" and "Hello world" as many tiktoken users print them, and a
// known-answer test produced with tiktoken 0.14 (the mixed and CJK lines).
func TestBuiltinKnownAnswers(t *testing.T) {
	cases := []struct {
		enc, text string
		want      []int
	}{
		{"cl100k_base", "hello world", []int{15339, 1917}},
		{"cl100k_base", "tiktoken is great!", []int{83, 1609, 5963, 374, 2294, 0}},
		{"cl100k_base", "rer", []int{38149}},
		{"cl100k_base", "'rer", []int{2351, 81}},
		{"cl100k_base", "today\n ", []int{31213, 198, 220}},
		{"cl100k_base", "today\n \n", []int{31213, 27907}},
		{"cl100k_base", "today\n  \n", []int{31213, 14211}},
		{"cl100k_base", " \u00850", []int{220, 126, 227, 15}},
		{"cl100k_base", "👍", []int{9468, 239, 235}},
		{"cl100k_base", "", nil},
		{"cl100k_base", "Hello world!", []int{9906, 1917, 0}},
		{"cl100k_base", "こんにちは世界", []int{90115, 3574, 244, 98220}},
		{"cl100k_base", "This     is     a     sentence     with     extra     spaces.",
			[]int{2028, 257, 374, 257, 264, 257, 11914, 257, 449, 257, 5066, 257, 12908, 13}},
		{"cl100k_base", "How about numbers? 123 45.6 -78.9",
			[]int{4438, 922, 5219, 30, 220, 4513, 220, 1774, 13, 21, 482, 2495, 13, 24}},
		{"cl100k_base", "def add(x: Int, y: Int): Int = x + y",
			[]int{755, 923, 2120, 25, 1357, 11, 379, 25, 1357, 1680, 1357, 284, 865, 489, 379}},
		{"cl100k_base", "I'm can't HELLO'S camelCaseWord  123456 \n\n  x",
			[]int{40, 2846, 649, 956, 38757, 1623, 13575, 50252, 4301, 11116, 220, 220, 4513, 10961, 4815, 220, 865}},
		{"o200k_base", "hello world", []int{24912, 2375}},
		{"o200k_base", "Hello world", []int{13225, 2375}},
		{"o200k_base", "Hello world! This is a test.", []int{13225, 2375, 0, 1328, 382, 261, 1746, 13}},
		{"o200k_base", "I'm can't HELLO'S camelCaseWord  123456 \n\n  x",
			[]int{15390, 8535, 58527, 2699, 31233, 83330, 6187, 12929, 220, 220, 7633, 19354, 1202, 220, 1215}},
		{"o200k_base", "你好，世界 🌍🚀", []int{177519, 979, 28428, 130321, 235, 112927, 222}},
	}
	for _, c := range cases {
		t.Run(c.enc+"/"+c.text, func(t *testing.T) {
			tok, err := Load(context.Background(), c.enc)
			if err != nil {
				t.Fatal(err)
			}
			got := tok.Encode(c.text)
			if !slices.Equal(got, c.want) {
				t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
			}
			if back := tok.Decode(got); back != c.text {
				t.Errorf("Decode = %q, want %q", back, c.text)
			}
		})
	}
}

// Special, VocabSize and look-alikes, checked against tiktoken-go itself
// and the ranks files.
func TestBuiltinSpecial(t *testing.T) {
	for _, name := range Builtins() {
		t.Run(name, func(t *testing.T) {
			tok, err := Load(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Name() != name {
				t.Errorf("Name = %q", tok.Name())
			}
			enc, err := tiktoken.GetEncoding(name)
			if err != nil {
				t.Fatal(err)
			}
			ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe(name + ".tiktoken")
			if err != nil {
				t.Fatal(err)
			}
			size := 0
			for _, r := range ranks {
				size = max(size, r+1)
			}
			for text := range builtins[name].special {
				id, ok := tok.Special(text)
				if want := enc.Encode(text, []string{text}, nil); !ok || len(want) != 1 || want[0] != id {
					t.Errorf("Special(%q) = %d, %v; tiktoken-go says %v", text, id, ok, want)
				}
				size = max(size, id+1)
				// As text: several ordinary tokens, no special id, no panic.
				ids := tok.Encode("a " + text + " b")
				if slices.Contains(ids, id) || tok.Decode(ids) != "a "+text+" b" {
					t.Errorf("Encode of look-alike %q = %v", text, ids)
				}
			}
			if tok.VocabSize() != size {
				t.Errorf("VocabSize = %d, ranks file and special tokens say %d", tok.VocabSize(), size)
			}
			if _, ok := tok.Special("<|im_end|>"); ok {
				t.Error("Special(<|im_end|>) found in a tiktoken encoding")
			}
		})
	}
}

func TestBuiltinRoundTrip(t *testing.T) {
	texts := []string{"hello", " hello  ", "请考试我的软件！12345", "\t\tx := 1\r\n", "a\u0301", "🦜🦜", "\x00"}
	for _, name := range Builtins() {
		tok, err := Load(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			if got := tok.Decode(tok.Encode(s)); got != s {
				t.Errorf("%s: round trip of %q gave %q", name, s, got)
			}
		}
	}
}
