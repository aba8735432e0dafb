package chattemplate

import (
	"strings"
	"testing"
)

// The expected strings are what Python 3's json.dumps(json.loads(in),
// ensure_ascii=False) prints.
func TestPyJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1,"b":[true,false,null]}`, `{"a": 1, "b": [true, false, null]}`},
		{`{"z":{},"a":[]}`, `{"z": {}, "a": []}`},
		{`[2.50, 1e3, 1E+2, 1e16, 1e-5, 0.0001, -0.0, 123456789012345678901234567890]`,
			`[2.5, 1000.0, 100.0, 1e+16, 1e-05, 0.0001, -0.0, 123456789012345678901234567890]`},
		{`"é \u2028 <tag> & \u0001 \t \" \\ /"`, `"é ` + "\u2028" + ` <tag> & \u0001 \t \" \\ /"`},
		{`{"description":"The command, e.g. \"ls\".\nMore."}`, `{"description": "The command, e.g. \"ls\".\nMore."}`},
	} {
		var b strings.Builder
		if err := writePyJSON(&b, []byte(tc.in)); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if b.String() != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, b.String(), tc.want)
		}
	}
	for _, bad := range []string{`{"a":`, `[1,]`, `{} {}`, ``} {
		var b strings.Builder
		if err := writePyJSON(&b, []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzPyJSON(f *testing.F) {
	f.Add(`{"type":"object","properties":{"a":{"type":"integer","default":1.5}}}`)
	f.Add(`[1,"x",null]`)
	f.Fuzz(func(t *testing.T, in string) {
		var b strings.Builder
		_ = writePyJSON(&b, []byte(in)) // must not panic
	})
}
