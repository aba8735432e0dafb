package sdk_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/swelego/swelego/sdk"
)

func TestParsePythonList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{"empty", `[]`, nil, ""},
		{"repr of ids", `['tests/test_a.py::test_x', 'tests/test_a.py::test_y[1-2]']`, []string{"tests/test_a.py::test_x", "tests/test_a.py::test_y[1-2]"}, ""},
		{"django ids", `['test_x (admin_views.tests.AdminTest)']`, []string{"test_x (admin_views.tests.AdminTest)"}, ""},
		{"double quotes around a quote", `["it's", 'b']`, []string{"it's", "b"}, ""},
		{"escapes", `['a\'b', 'c\\d', 'e\nf', '\x41\u00e9\U0001F600', '\101', 'q\"']`, []string{"a'b", `c\d`, "e\nf", "Aé😀", "A", `q"`}, ""},
		{"unknown escape kept", `['a\d']`, []string{`a\d`}, ""},
		{"trailing comma and space", " [ 'a' ,\n 'b', ] ", []string{"a", "b"}, ""},
		{"adjacent literals", `['a' "b", 'c']`, []string{"ab", "c"}, ""},
		{"unicode", `['test_ünïcode[α-β]']`, []string{"test_ünïcode[α-β]"}, ""},
		{"not a list", `'a'`, nil, "want ["},
		{"number", `[1]`, nil, "want a string literal"},
		{"unterminated", `['a`, nil, "unterminated string"},
		{"no closing bracket", `['a'`, nil, "want , or ]"},
		{"text after", `['a'] x`, nil, "text after ]"},
		{"triple quotes", `['''a''']`, nil, "triple-quoted"},
		{"raw string", `[r'a']`, nil, "want a string literal"},
		{"bad hex", `['\xZZ']`, nil, "bad \\x escape"},
		{"surrogate", `['\ud800']`, nil, "bad \\u escape"},
		{"newline inside", "['a\nb']", nil, "newline in string"},
		{"missing comma", `['a' 'b' 'c' 1]`, nil, "want , or ]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdk.ParsePythonList(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, sdk.ErrNotPythonList) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrNotPythonList with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// pyRepr writes items as Python's repr of a list of str does.
func pyRepr(items []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		q := byte('\'')
		if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
			q = '"'
		}
		b.WriteByte(q)
		for _, r := range s {
			switch {
			case r == '\\' || r == rune(q):
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x20 || r == 0x7f:
				b.WriteString(`\x` + string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15]))
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte(q)
	}
	b.WriteByte(']')
	return b.String()
}

// FuzzParsePythonList checks that no input panics, that what parses is
// valid UTF-8, and that Python's repr of a parsed list parses back to it.
func FuzzParsePythonList(f *testing.F) {
	for _, seed := range []string{`[]`, `['a', "b'c"]`, `['\x41\u00e9\U0001F600\101']`, `['a' 'b',]`, `['\`, `["\'"]`, "['a\\\nb']"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := sdk.ParsePythonList(in)
		if err != nil {
			if !errors.Is(err, sdk.ErrNotPythonList) {
				t.Fatalf("error %v does not wrap ErrNotPythonList", err)
			}
			return
		}
		for _, s := range got {
			if !utf8.ValidString(s) {
				t.Fatalf("item %q is not UTF-8", s)
			}
		}
		again, err := sdk.ParsePythonList(pyRepr(got))
		if err != nil {
			t.Fatalf("repr %s of %q does not parse: %v", pyRepr(got), got, err)
		}
		if len(got) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("round trip: %q became %q", got, again)
		}
	})
}
