package hcl

import (
	"encoding/json"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// FuzzPluginSchema reads a schema as a plugin serves it (JSON) and does
// with it what the host does: build the decoder's spec, write the types and
// defaults for plugins describe, apply the defaults to an empty
// configuration. Nothing may panic, and a schema the spec accepts has
// defaults that are values of their attributes' types.
func FuzzPluginSchema(f *testing.F) {
	for _, s := range []sdk.Schema{
		defaultsPlugin[sdk.KindBugInjector],
		defaultsPlugin[sdk.KindToolSet],
		fakePlugins["github"][sdk.KindTaskSource],
	} {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"attributes":{"a":{"type":["object",{"x":"number"}],"default":{"x":"1"}}}}`))
	f.Add([]byte(`{"attributes":{"a":{"type":["list","bool"],"default":[true,null]}}}`))
	f.Add([]byte(`{"attributes":{"a":{"type":"number","default":1e400}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s sdk.Schema
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		for _, a := range s.Attributes {
			_, _ = TypeName(a.Type)
			_, _ = DefaultLiteral(a)
		}
		if _, err := schemaSpec(s); err != nil {
			return
		}
		ty, err := schemaType(s)
		if err != nil {
			return
		}
		empty, err := convert.Convert(cty.EmptyObjectVal, ty)
		if err != nil {
			return // a required attribute or block
		}
		got := withDefaults(empty, s)
		for name, a := range s.Attributes {
			if a.Default == nil {
				continue
			}
			v := got.GetAttr(name)
			want, _ := attributeType(a)
			if want != cty.DynamicPseudoType && !v.Type().Equals(want) {
				t.Fatalf("default of %q is a %s, want %s", name, v.Type().FriendlyName(), want.FriendlyName())
			}
		}
	})
}
