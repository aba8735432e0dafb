package llm

import (
	"encoding/json"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// toolSpec is what the text formats need of a tool's JSON Schema: its
// parameters in declaration order, their types and which are required.
type toolSpec struct {
	Name        string
	Description string
	Params      []paramSpec
}

type paramSpec struct {
	Name        string
	Type        string // JSON Schema type; "" when the schema names none
	Description string
	Enum        []string // allowed values, as JSON texts
	Required    bool
}

func (t *toolSpec) param(name string) *paramSpec {
	for i := range t.Params {
		if t.Params[i].Name == name {
			return &t.Params[i]
		}
	}
	return nil
}

// toolSet indexes tool specs by name, keeping the declaration order.
type toolSet struct {
	order   []*toolSpec
	byName  map[string]*toolSpec
	schemas map[string]json.RawMessage
}

func (s *toolSet) lookup(name string) *toolSpec {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

func (s *toolSet) empty() bool { return s == nil || len(s.order) == 0 }

// newToolSet reads the schemas. A schema it cannot read gives a tool with
// no known parameters rather than an error: the formats then treat every
// value as text.
func newToolSet(tools []sdk.ToolSchema) *toolSet {
	s := &toolSet{byName: map[string]*toolSpec{}, schemas: map[string]json.RawMessage{}}
	for _, t := range tools {
		spec := &toolSpec{Name: t.Name, Description: t.Description}
		readParams(spec, t.Parameters)
		s.order = append(s.order, spec)
		s.byName[t.Name] = spec
		s.schemas[t.Name] = t.Parameters
	}
	return s
}

func readParams(spec *toolSpec, schema json.RawMessage) {
	members, err := objectMembers(schema)
	if err != nil {
		return
	}
	var props []member
	required := map[string]bool{}
	for _, m := range members {
		switch m.Key {
		case "properties":
			props, _ = objectMembers(m.Value)
		case "required":
			var names []string
			if json.Unmarshal(m.Value, &names) == nil {
				for _, n := range names {
					required[n] = true
				}
			}
		}
	}
	for _, p := range props {
		var ps struct {
			Type        json.RawMessage   `json:"type"`
			Description string            `json:"description"`
			Enum        []json.RawMessage `json:"enum"`
		}
		_ = json.Unmarshal(p.Value, &ps)
		param := paramSpec{Name: p.Key, Type: schemaType(ps.Type), Description: ps.Description, Required: required[p.Key]}
		for _, e := range ps.Enum {
			if c, err := canonicalJSON(e); err == nil {
				param.Enum = append(param.Enum, c)
			}
		}
		spec.Params = append(spec.Params, param)
	}
}

// schemaType reads "type": "integer" or "type": ["integer", "null"].
func schemaType(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			if t != "null" {
				return t
			}
		}
	}
	return ""
}

// describe is a one-line type hint for a parameter, for the tool list in
// the system prompt.
func (p paramSpec) describe() string {
	var parts []string
	if p.Type != "" {
		parts = append(parts, p.Type)
	}
	if p.Required {
		parts = append(parts, "required")
	} else {
		parts = append(parts, "optional")
	}
	return strings.Join(parts, ", ")
}
