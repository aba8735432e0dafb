package sdk

// Schema describes the configuration block a plugin kind accepts. The host
// decodes the user's HCL block against it and sends the evaluated value as
// Config; the plugin never parses HCL.
type Schema struct {
	Attributes map[string]Attribute `json:"attributes,omitempty"`
	Blocks     map[string]BlockType `json:"blocks,omitempty"`
}

// Attribute is one attribute of a configuration block. Type is a type in
// go-cty's JSON notation: "string", "number", "bool", "dynamic",
// ["list","string"], ["map","number"], ["object",{"a":"string"}] …
// (`swelego plugins describe` shows them as HCL writes them: list(string)).
//
// Default is the attribute's value when the recipe leaves it out or sets it
// to null: any value JSON can hold that converts to Type (100, "strict",
// []any{"a", "b"}). The host applies it before the plugin sees the
// configuration, so Config holds it and a plugin writes its defaults once,
// here; nil means no default (the attribute is null when unset). A
// required attribute has no default. Like the rest of the schema it
// travels as JSON, so the host sees a Go int default as a float64.
type Attribute struct {
	Type        any    `json:"type"`
	Required    bool   `json:"required,omitempty"`
	Default     any    `json:"default,omitempty"`
	Description string `json:"description,omitempty"`
}

// Nesting says how many nested blocks of a type are allowed and how they
// appear in the evaluated value.
type Nesting string

// Nesting modes, as in HCL's block specs.
const (
	NestingSingle Nesting = "single" // at most one block: an object (or null)
	NestingList   Nesting = "list"   // any number of blocks: a list of objects
	NestingMap    Nesting = "map"    // blocks with one label: a map of objects by label
)

// BlockType is a nested block a configuration block may contain.
type BlockType struct {
	Nesting     Nesting `json:"nesting"`
	Schema      Schema  `json:"schema"`
	Required    bool    `json:"required,omitempty"`
	Description string  `json:"description,omitempty"`
}

// Common attribute types, in go-cty's JSON type notation.
var (
	TypeString     any = "string"
	TypeNumber     any = "number"
	TypeBool       any = "bool"
	TypeAny        any = "dynamic"
	TypeStringList any = []any{"list", "string"}
	TypeStringMap  any = []any{"map", "string"}
)
