package hcl

import (
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestTypeName(t *testing.T) {
	tests := []struct {
		typ  any
		want string
	}{
		{nil, "any"},
		{sdk.TypeString, "string"},
		{sdk.TypeAny, "any"},
		{sdk.TypeStringList, "list(string)"},
		{[]any{"map", "number"}, "map(number)"},
		{[]any{"object", map[string]any{"a": "string", "b": []any{"list", "bool"}}}, "object({a=string,b=list(bool)})"},
		{[]any{"tuple", []any{"string", "number"}}, "tuple([string,number])"},
	}
	for _, tt := range tests {
		got, err := TypeName(tt.typ)
		if err != nil || got != tt.want {
			t.Errorf("TypeName(%v) = %q, %v; want %q", tt.typ, got, err, tt.want)
		}
	}
	if _, err := TypeName([]any{"list"}); err == nil {
		t.Error("TypeName of a malformed type: no error")
	}
}

func TestDefaultLiteral(t *testing.T) {
	tests := []struct {
		attr sdk.Attribute
		want string
	}{
		{sdk.Attribute{Type: sdk.TypeNumber}, ""},
		{sdk.Attribute{Type: sdk.TypeNumber, Default: 100}, "100"},
		{sdk.Attribute{Type: sdk.TypeNumber, Default: 0.25}, "0.25"},
		{sdk.Attribute{Type: sdk.TypeString, Default: "strict"}, `"strict"`},
		{sdk.Attribute{Type: sdk.TypeBool, Default: false}, "false"},
		{sdk.Attribute{Type: sdk.TypeStringList, Default: []string{"a", "b"}}, `["a", "b"]`},
		{sdk.Attribute{Type: sdk.TypeString, Default: 5}, `"5"`}, // converted to the type
		{sdk.Attribute{Default: map[string]any{"k": 1}}, "{\n  k = 1\n}"},
	}
	for _, tt := range tests {
		got, err := DefaultLiteral(tt.attr)
		if err != nil || got != tt.want {
			t.Errorf("DefaultLiteral(%+v) = %q, %v; want %q", tt.attr, got, err, tt.want)
		}
	}
}

// TestSchemaDefaultErrors refuses schemas whose defaults cannot be used.
func TestSchemaDefaultErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema sdk.Schema
		want   string
	}{
		{"not of the type", sdk.Schema{Attributes: map[string]sdk.Attribute{"n": {Type: sdk.TypeNumber, Default: "many"}}}, `attribute "n": default "many" is not a number`},
		{"required", sdk.Schema{Attributes: map[string]sdk.Attribute{"n": {Type: sdk.TypeNumber, Required: true, Default: 1}}}, `attribute "n": a required attribute has no default`},
		{"list of the wrong element", sdk.Schema{Attributes: map[string]sdk.Attribute{"l": {Type: []any{"list", "bool"}, Default: []any{"x"}}}}, `attribute "l": default ["x"] is not a list(bool)`},
		{"in a nested block", sdk.Schema{Blocks: map[string]sdk.BlockType{"b": {Schema: sdk.Schema{Attributes: map[string]sdk.Attribute{"x": {Type: sdk.TypeBool, Default: 3}}}}}}, `block "b": attribute "x": default 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schemaSpec(tt.schema)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("schemaSpec error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
