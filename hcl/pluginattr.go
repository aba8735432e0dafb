package hcl

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// This file is what the host does with a plugin attribute's type and
// default beyond decoding: applying defaults to an evaluated
// configuration, and writing types and defaults as HCL writes them.

// defaultValue returns the default of attribute a as a value of type ty,
// or cty.NilVal when it has none.
func defaultValue(a sdk.Attribute, ty cty.Type) (cty.Value, error) {
	if a.Default == nil {
		return cty.NilVal, nil
	}
	if a.Required {
		return cty.NilVal, fmt.Errorf("a required attribute has no default")
	}
	raw, err := json.Marshal(a.Default)
	if err != nil {
		return cty.NilVal, fmt.Errorf("default: %w", err)
	}
	implied, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return cty.NilVal, fmt.Errorf("default %s: %w", raw, err)
	}
	v, err := ctyjson.Unmarshal(raw, implied)
	if err != nil {
		return cty.NilVal, fmt.Errorf("default %s: %w", raw, err)
	}
	if ty == cty.DynamicPseudoType {
		return v, nil
	}
	conv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("default %s is not a %s: %w", raw, typeexpr.TypeString(ty), err)
	}
	return conv, nil
}

// withDefaults replaces every null attribute of v, a value that follows
// schema s as schemaType describes it, by the attribute's default, in
// nested blocks too. The schema has been checked by schemaSpec.
func withDefaults(v cty.Value, s sdk.Schema) cty.Value {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() {
		return v
	}
	attrs := v.AsValueMap()
	changed := false
	for name, a := range s.Attributes {
		cur, ok := attrs[name]
		if !ok || !cur.IsNull() || a.Default == nil {
			continue
		}
		if def, err := defaultValue(a, cur.Type()); err == nil && def != cty.NilVal {
			attrs[name], changed = def, true
		}
	}
	for name, b := range s.Blocks {
		cur, ok := attrs[name]
		if !ok || !cur.IsKnown() || cur.IsNull() {
			continue
		}
		switch {
		case cur.Type().IsObjectType():
			attrs[name] = withDefaults(cur, b.Schema)
		case cur.CanIterateElements():
			elems := map[string]cty.Value{}
			var list []cty.Value
			for it := cur.ElementIterator(); it.Next(); {
				k, e := it.Element()
				e = withDefaults(e, b.Schema)
				list = append(list, e)
				if k.Type() == cty.String {
					elems[k.AsString()] = e
				}
			}
			switch {
			case len(list) == 0 || !sameTypes(list):
				continue
			case cur.Type().IsMapType():
				attrs[name] = cty.MapVal(elems)
			case cur.Type().IsListType():
				attrs[name] = cty.ListVal(list)
			default:
				continue
			}
		default:
			continue
		}
		changed = true
	}
	if !changed {
		return v
	}
	return cty.ObjectVal(attrs)
}

// sameTypes reports whether every value has the same type, as a list or
// map of them needs.
func sameTypes(vs []cty.Value) bool {
	for _, v := range vs[1:] {
		if !v.Type().Equals(vs[0].Type()) {
			return false
		}
	}
	return true
}

// TypeName writes a plugin attribute's type, given in go-cty's JSON
// notation, as HCL writes type constraints: string, list(string),
// map(number), object({a=string}); any for a dynamic or missing type.
func TypeName(t any) (string, error) {
	ty, err := attributeType(sdk.Attribute{Type: t})
	if err != nil {
		return "", err
	}
	return typeexpr.TypeString(ty), nil
}

// DefaultLiteral writes the default of attribute a as an HCL expression
// (100, "strict", ["a", "b"]), or "" when it has none.
func DefaultLiteral(a sdk.Attribute) (string, error) {
	ty, err := attributeType(a)
	if err != nil {
		return "", err
	}
	v, err := defaultValue(a, ty)
	if err != nil || v == cty.NilVal {
		return "", err
	}
	return strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes())), nil
}
