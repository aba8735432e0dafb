package sdk_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestStringListJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    sdk.StringList
		wantErr string
	}{
		{"array", `["a","b"]`, sdk.StringList{"a", "b"}, ""},
		{"encoded string", `"[\"a\", \"b\"]"`, sdk.StringList{"a", "b"}, ""},
		{"encoded with spaces", `"  [\"a\"] "`, sdk.StringList{"a"}, ""},
		{"null", `null`, nil, ""},
		{"empty string", `""`, nil, ""},
		{"blank string", `"   "`, nil, ""},
		{"empty array", `[]`, nil, ""},
		{"encoded empty array", `"[]"`, nil, ""},
		{"unicode", `["test_ünïcode[α-β]"]`, sdk.StringList{"test_ünïcode[α-β]"}, ""},
		{"python literal", `"['a', 'b']"`, sdk.StringList{"a", "b"}, ""},
		{"python literal with quotes", `"['it\\'s', \"say \\\"hi\\\"\", 'x[1-2]',]"`, sdk.StringList{"it's", `say "hi"`, "x[1-2]"}, ""},
		{"python empty list", `"[ ]"`, nil, ""},
		{"python not strings", `"[1, 'a']"`, nil, "string list: invalid character '\\'' looking for beginning of value"},
		{"string not an array", `"a, b"`, nil, `string list: want a JSON array encoded as a string, got "a, b"`},
		{"number", `3`, nil, "string list: json: cannot unmarshal number into Go value of type []string"},
		{"array of numbers", `[1]`, nil, "string list: json: cannot unmarshal number into Go value of type string"},
		{"encoded array of numbers", `"[1]"`, nil, "string list: json: cannot unmarshal number into Go value of type string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sdk.StringList
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestStringListEncodesArray(t *testing.T) {
	for _, l := range []sdk.StringList{nil, {}, {"a", "b"}} {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		want := `["a","b"]`
		if len(l) == 0 {
			want = `[]`
		}
		if string(b) != want {
			t.Errorf("%#v encodes as %s, want %s", l, b, want)
		}
	}
}

func TestTaskJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// check looks at the decoded task.
		check func(t *testing.T, task sdk.Task)
		// encoded lists substrings the re-encoded task must contain.
		encoded []string
	}{
		{"SWE-bench, encoded lists and extra fields", sweBenchTask, func(t *testing.T, task sdk.Task) {
			equal(t, "FAIL_TO_PASS", task.FailToPass, sdk.StringList{
				"astropy/modeling/tests/test_separable.py::test_separable[compound_model6-result6]",
				"astropy/modeling/tests/test_separable.py::test_separable[compound_model9-result9]",
			})
			equal(t, "PASS_TO_PASS", task.PassToPass, nil)
			equal(t, "extra keys", len(task.Extra), 2)
			equal(t, "meta", string(task.Extra["meta"]), `{"scores": [1, 2.50, null], "ok": true}`)
		}, []string{
			`"FAIL_TO_PASS":["astropy/modeling/tests/test_separable.py::test_separable[compound_model6-result6]",`,
			`"PASS_TO_PASS":[]`,
			`"difficulty":"15 min - 1 hour","meta":{"scores":[1,2.50,null],"ok":true}}`,
		}},
		{"SWE-smith, arrays and swelego fields", sweSmithTask, func(t *testing.T, task sdk.Task) {
			equal(t, "PASS_TO_PASS", task.PassToPass, sdk.StringList{"tests/test_main.py::test_y", "tests/test_main.py::test_z"})
			equal(t, "source", task.Source, sdk.SourceSynthetic)
			equal(t, "direction", task.PatchDirection, sdk.PatchIntroduces)
			equal(t, "extra", string(task.Extra["image_name"]), `"jyangballin/swesmith.x86_64.pydantic_1776_pydantic.acb0f10f"`)
		}, []string{`"source":"synthetic"`, `"patch_direction":"introduce"`, `"image_name":"jyangballin/`}},
		{"null lists and missing fields", `{"instance_id":"x","FAIL_TO_PASS":null,"PASS_TO_PASS":""}`, func(t *testing.T, task sdk.Task) {
			equal(t, "task", task, sdk.Task{InstanceID: "x"})
		}, []string{`"FAIL_TO_PASS":[],"PASS_TO_PASS":[]}`}},
		{"an extra field that differs in case only", `{"instance_id":"x","Instance_ID":"y"}`, func(t *testing.T, task sdk.Task) {
			// encoding/json matches keys case-insensitively; the last wins
			// and the key is not kept as an extra field.
			equal(t, "task", task, sdk.Task{InstanceID: "y"})
		}, []string{`"instance_id":"y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := decodeTask(t, tt.in)
			tt.check(t, task)
			b, err := json.Marshal(task)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.encoded {
				if !strings.Contains(string(b), want) {
					t.Errorf("encoded task %s\ndoes not contain %s", b, want)
				}
			}
			// Encoding compacts the raw extra members; after that, a decode
			// and an encode change nothing.
			again, err := json.Marshal(decodeTask(t, string(b)))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "encoded again", string(again), string(b))
		})
	}
}

func TestTaskJSONErrors(t *testing.T) {
	for _, in := range []string{`[]`, `{"FAIL_TO_PASS": 5}`, `{"repo": 1}`, `{"FAIL_TO_PASS":"not a list"}`, `{`} {
		var task sdk.Task
		if err := json.Unmarshal([]byte(in), &task); err == nil {
			t.Errorf("%s decoded without error to %+v", in, task)
		}
	}
}

// FuzzTaskJSON checks that decoding any bytes as a Task never panics, and
// that once decoded, encoding and decoding again changes nothing.
func FuzzTaskJSON(f *testing.F) {
	for _, seed := range []string{
		sweBenchTask, sweSmithTask, `{}`, `null`, `{"FAIL_TO_PASS":"[\"a\"]","x":{"y":[1e3]}}`,
		`{"instance_id":"x","Instance_ID":"y","INSTANCE_ID":"z"}`, `{"FAIL_TO_PASS":""}`, `{"a":1,"a":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var first sdk.Task
		if err := json.Unmarshal(data, &first); err != nil {
			return
		}
		enc1, err := json.Marshal(first)
		if err != nil {
			t.Fatalf("encode %+v: %v", first, err)
		}
		var second sdk.Task
		if err := json.Unmarshal(enc1, &second); err != nil {
			t.Fatalf("decode own encoding %s: %v", enc1, err)
		}
		enc2, err := json.Marshal(second)
		if err != nil {
			t.Fatalf("encode %+v: %v", second, err)
		}
		if string(enc1) != string(enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc1, enc2)
		}
		var third sdk.Task
		if err := json.Unmarshal(enc2, &third); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(second, third) {
			t.Fatalf("decoding not stable:\n%#v\n%#v", second, third)
		}
	})
}
