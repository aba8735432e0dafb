package harness

import (
	"bytes"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestDecodePredictions reads every layout DecodePredictions accepts: the
// fixtures hold SWE-agent's preds.json and OpenHands' output.jsonl in their
// real shapes.
func TestDecodePredictions(t *testing.T) {
	fixture := func(name string) string {
		data, err := os.ReadFile("testdata/predictions/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	type want struct{ id, model, patchPrefix string }
	tests := []struct {
		name    string
		content string
		want    []want
		errHas  string
	}{
		{name: "swe-agent preds.json", content: fixture("swe-agent-preds.json"), want: []want{
			{"textkit__textkit-1", "swe-agent-qwen3", "diff --git a/textkit/slug.py"},
			{"semver__semver-1", "swe-agent-qwen3", ""},
			{"semver__semver-2", "swe-agent-qwen3", "diff --git a/semver/compare.go"},
		}},
		{name: "openhands output.jsonl", content: fixture("openhands-output.jsonl"), want: []want{
			{"textkit__textkit-1", "openai/qwen3-coder", "diff --git a/textkit/slug.py"},
			{"textkit__textkit-2", "openai/qwen3-coder", ""},
			{"semver__semver-1", "openai/qwen3-coder", ""},
		}},
		{name: "swe-bench jsonl", content: `{"instance_id":"a","model_name_or_path":"m","model_patch":"p"}` + "\n" + `{"instance_id":"b","model_name_or_path":"m","model_patch":null}` + "\n",
			want: []want{{"a", "m", "p"}, {"b", "m", ""}}},
		{name: "swe-bench array over lines", content: "[\n {\"instance_id\":\"a\",\"model_patch\":\"p\"},\n {\"instance_id\":\"b\"}\n]\n",
			want: []want{{"a", "", "p"}, {"b", "", ""}}},
		{name: "one record on its own", content: "{\n  \"instance_id\": \"a\",\n  \"model_patch\": \"p\"\n}\n", want: []want{{"a", "", "p"}}},
		{name: "openhands without metadata", content: `{"instance_id":"a","test_result":{"git_patch":"p"},"history":[]}` + "\n", want: []want{{"a", "OpenHands", "p"}}},
		{name: "model_patch wins over test_result", content: `{"instance_id":"a","model_patch":"p","test_result":{"git_patch":"q"}}` + "\n", want: []want{{"a", "", "p"}}},
		{name: "dict key names a record without id", content: `{"x": {"model_patch": "p"}}`, want: []want{{"x", "", "p"}}},
		{name: "empty dict", content: "{}\n"},
		{name: "dict after a byte order mark", content: "\ufeff{\n \"a\": {\"model_patch\": \"p\"}\n}\n", want: []want{{"a", "", "p"}}},
		{name: "jsonl after a byte order mark", content: "\ufeff{\"instance_id\":\"a\"}\n{\"instance_id\":\"b\"}\n", want: []want{{"a", "", ""}, {"b", "", ""}}},
		{name: "empty file", content: ""},
		{name: "dict key and id differ", content: "{\n \"x\": {\"instance_id\": \"y\", \"model_patch\": \"p\"}\n}", errHas: `:2: key "x": record's instance_id "y" differs from its key`},
		{name: "dict value not an object", content: "{\n \"x\": {\"model_patch\": \"p\"},\n \"y\": 3\n}", errHas: `:3: key "y"`},
		{name: "openhands line without id", content: `{"instance_id":"a","test_result":{}}` + "\n" + `{"test_result":{"git_patch":"p"}}` + "\n", errHas: ":2: record has no instance_id"},
		{name: "broken second line", content: "{\"instance_id\":\"a\"}\n{oops\n", errHas: ":2: not a JSON record"},
		{name: "git_patch of the wrong type", content: `{"instance_id":"a","test_result":{"git_patch":3}}` + "\n", errHas: ":1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePredictions(strings.NewReader(tt.content), "preds")
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), "preds"+tt.errHas) {
					t.Fatalf("err = %v, want one with %q", err, "preds"+tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d predictions %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				p := got[i]
				if p.InstanceID != w.id || p.ModelNameOrPath != w.model || !strings.HasPrefix(p.ModelPatch, w.patchPrefix) || (w.patchPrefix == "") != (p.ModelPatch == "") {
					t.Errorf("prediction %d = {%s %s %.30q}, want {%s %s %q…}", i, p.InstanceID, p.ModelNameOrPath, p.ModelPatch, w.id, w.model, w.patchPrefix)
				}
			}
		})
	}
}

func TestLatestPredictions(t *testing.T) {
	p := func(id, patch string) sdk.Prediction { return sdk.Prediction{InstanceID: id, ModelPatch: patch} }
	tests := []struct {
		name     string
		in, want []sdk.Prediction
		dups     map[string]int
	}{
		{name: "no duplicates", in: []sdk.Prediction{p("a", "1"), p("b", "2")}, want: []sdk.Prediction{p("a", "1"), p("b", "2")}},
		{name: "the last record wins where the first stood",
			in:   []sdk.Prediction{p("a", "1"), p("b", "2"), p("a", "3"), p("c", "4"), p("a", "5"), p("b", "6")},
			want: []sdk.Prediction{p("a", "5"), p("b", "6"), p("c", "4")},
			dups: map[string]int{"a": 3, "b": 2}},
		{name: "none", in: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dups := LatestPredictions(tt.in)
			if !reflect.DeepEqual(got, tt.want) || !maps.Equal(dups, tt.dups) {
				t.Errorf("got %v %v, want %v %v", got, dups, tt.want, tt.dups)
			}
		})
	}
}

// FuzzDecodePredictions: any input gives predictions with instance ids or
// an error naming the file, never a panic; reading is deterministic.
func FuzzDecodePredictions(f *testing.F) {
	for _, name := range []string{"swe-agent-preds.json", "openhands-output.jsonl"} {
		data, err := os.ReadFile("testdata/predictions/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "{}", "[]", `{"a":{"model_patch":null}}`, `{"instance_id":"a","test_result":{"git_patch":"x"}}` + "\n{}", "[{\"instance_id\":\"a\"}", "{\"x\":1} {\"y\":2}", "\ufeff{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodePredictions(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, p := range got {
			if p.InstanceID == "" {
				t.Fatalf("prediction without instance id: %+v", p)
			}
		}
		again, err := DecodePredictions(bytes.NewReader(data), "fuzz.json")
		if err != nil || !slices.Equal(got, again) {
			t.Fatalf("second read differs: %v %v", err, again)
		}
	})
}
