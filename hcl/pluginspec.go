package hcl

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// schemaSpec converts a plugin's schema to the hcldec spec of the block body
// it describes: an attribute per Attribute, nested blocks by Nesting.
func schemaSpec(s sdk.Schema) (hcldec.ObjectSpec, error) {
	spec := hcldec.ObjectSpec{}
	for _, name := range sortedKeys(s.Attributes) {
		a := s.Attributes[name]
		if name == "" {
			return nil, fmt.Errorf("attribute with an empty name")
		}
		ty, err := attributeType(a)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		def, err := defaultValue(a, ty)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		spec[name] = &hcldec.AttrSpec{Name: name, Type: ty, Required: a.Required}
		if def != cty.NilVal {
			spec[name] = &hcldec.DefaultSpec{Primary: spec[name], Default: &hcldec.LiteralSpec{Value: def}}
		}
	}
	for _, name := range sortedKeys(s.Blocks) {
		b := s.Blocks[name]
		if name == "" {
			return nil, fmt.Errorf("block type with an empty name")
		}
		if _, clash := s.Attributes[name]; clash {
			return nil, fmt.Errorf("%q is both an attribute and a block type", name)
		}
		nested, err := schemaSpec(b.Schema)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", name, err)
		}
		dynamic := hcldec.ImpliedType(nested).HasDynamicTypes()
		minItems := 0
		if b.Required {
			minItems = 1
		}
		switch b.Nesting {
		case sdk.NestingSingle, "":
			spec[name] = &hcldec.BlockSpec{TypeName: name, Nested: nested, Required: b.Required}
		case sdk.NestingList:
			if dynamic {
				// a list needs one element type; blocks whose attributes are
				// dynamic may differ, so they decode as a tuple
				spec[name] = &hcldec.BlockTupleSpec{TypeName: name, Nested: nested, MinItems: minItems}
			} else {
				spec[name] = &hcldec.BlockListSpec{TypeName: name, Nested: nested, MinItems: minItems}
			}
		case sdk.NestingMap:
			if dynamic {
				spec[name] = &hcldec.BlockObjectSpec{TypeName: name, LabelNames: []string{"name"}, Nested: nested}
			} else {
				spec[name] = &hcldec.BlockMapSpec{TypeName: name, LabelNames: []string{"name"}, Nested: nested}
			}
		default:
			return nil, fmt.Errorf("block %q: unknown nesting %q", name, b.Nesting)
		}
	}
	return spec, nil
}

// attributeType decodes an attribute's type from go-cty's JSON type
// notation; no type means any type.
func attributeType(a sdk.Attribute) (cty.Type, error) {
	if a.Type == nil {
		return cty.DynamicPseudoType, nil
	}
	raw, err := json.Marshal(a.Type)
	if err != nil {
		return cty.NilType, fmt.Errorf("type: %w", err)
	}
	ty, err := ctyjson.UnmarshalType(raw)
	if err != nil {
		return cty.NilType, fmt.Errorf("type %s: %w", raw, err)
	}
	return ty, nil
}

// schemaType is the type of a value that follows a schema when written as
// an object rather than a block body (a toolset's config): attributes are
// attributes, nested blocks become objects, lists or maps of objects.
// Optional attributes and blocks may be omitted.
func schemaType(s sdk.Schema) (cty.Type, error) {
	attrs := map[string]cty.Type{}
	var optional []string
	for _, name := range sortedKeys(s.Attributes) {
		a := s.Attributes[name]
		ty, err := attributeType(a)
		if err != nil {
			return cty.NilType, fmt.Errorf("attribute %q: %w", name, err)
		}
		attrs[name] = ty
		if !a.Required {
			optional = append(optional, name)
		}
	}
	for _, name := range sortedKeys(s.Blocks) {
		b := s.Blocks[name]
		if _, clash := s.Attributes[name]; clash {
			return cty.NilType, fmt.Errorf("%q is both an attribute and a block type", name)
		}
		ty, err := schemaType(b.Schema)
		if err != nil {
			return cty.NilType, fmt.Errorf("block %q: %w", name, err)
		}
		switch b.Nesting {
		case sdk.NestingSingle, "":
		case sdk.NestingList:
			ty = cty.List(ty)
		case sdk.NestingMap:
			ty = cty.Map(ty)
		default:
			return cty.NilType, fmt.Errorf("block %q: unknown nesting %q", name, b.Nesting)
		}
		attrs[name] = ty
		if !b.Required {
			optional = append(optional, name)
		}
	}
	return cty.ObjectWithOptionalAttrs(attrs, optional), nil
}

// marshalConfig returns the JSON of an evaluated plugin-defined body, or
// nil when the value is not wholly known (the body had errors). It fails
// only for values JSON cannot hold, such as infinity.
func marshalConfig(v cty.Value) (sdk.Config, error) {
	if v == cty.NilVal || !v.IsWhollyKnown() {
		return nil, nil
	}
	raw, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	return sdk.Config(raw), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
