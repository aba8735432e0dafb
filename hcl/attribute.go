package hcl

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Attribute is one argument of a core-defined block body: a row of the
// table (blocks.go) that drives the decoder (the hcldec spec), the checks
// run at validate, the typed settings stages receive (settings.go),
// `swelego stages describe` and docs/recipes.md.
type Attribute struct {
	Name        string
	Kind        Kind
	Required    bool
	Description string
	// Default is the value a stage sees when the argument is unset, as the
	// Go value of its settings field (int, float64, string, bool,
	// []string); nil when the zero value applies. DefaultText describes a
	// default no single value says ("the sandbox block's").
	Default     any
	DefaultText string
	// Enum lists the strings a string (or each element of a list of
	// strings) may be.
	Enum []string
	// Refs are the block types a reference may name (KindRef,
	// KindPathOrRef).
	Refs []string
	// Literals are strings a path accepts without a file behind them
	// ("gold"); URL lets a path be a URL instead (a git remote).
	Literals []string
	URL      bool
	// Dir says a path names a folder rather than a file; Either that it
	// may name both.
	Dir, Either bool
	// Block holds the arguments of a nested block (KindBlock).
	Block []*Attribute
	// checks are further checks of the value (a range).
	checks []func(cty.Value) error
}

// Kind is how an argument is written and what its settings field holds.
type Kind int

const (
	KindString    Kind = iota // a string
	KindNumber                // a number (float64)
	KindWhole                 // a whole number (int)
	KindBool                  // true or false
	KindStrings               // a list of strings
	KindDuration              // a Go duration such as "90s" (time.Duration)
	KindSize                  // a size in bytes such as "512m" or "2g" (int64)
	KindPath                  // a file or folder relative to the recipe, resolved and checked
	KindRef                   // a reference to a block: its address
	KindPathOrRef             // a reference to a block, or a path
	KindObject                // an object whose keys a plugin defines
	KindBlock                 // a nested block with its own arguments
)

// TypeName is how docs and `stages describe` show the attribute's type.
func (a *Attribute) TypeName() string {
	refs := func() string {
		var out []string
		for _, t := range a.Refs {
			out = append(out, refExample(t))
		}
		return strings.Join(out, " | ")
	}
	switch a.Kind {
	case KindString:
		if len(a.Enum) > 0 {
			return "string (" + strings.Join(a.Enum, " | ") + ")"
		}
		return "string"
	case KindNumber:
		return "number"
	case KindWhole:
		return "whole number"
	case KindBool:
		return "bool"
	case KindStrings:
		if len(a.Enum) > 0 {
			return "list(string) of " + strings.Join(a.Enum, " | ")
		}
		return "list(string)"
	case KindDuration:
		return "duration"
	case KindSize:
		return "size"
	case KindPath:
		t := "path"
		if a.Dir && !a.Either {
			t = "path (folder)"
		}
		return t + a.literalTypes()
	case KindRef:
		return refs()
	case KindPathOrRef:
		return refs() + " | path" + a.literalTypes()
	case KindObject:
		return "object"
	case KindBlock:
		return "block"
	}
	return "?"
}

// literalTypes lists the literals a path accepts, for TypeName.
func (a *Attribute) literalTypes() string {
	var b strings.Builder
	for _, l := range a.Literals {
		fmt.Fprintf(&b, " | %q", l)
	}
	if a.URL {
		b.WriteString(" | URL")
	}
	return b.String()
}

// DefaultString is how docs show the default, "" when there is none.
func (a *Attribute) DefaultString() string {
	if a.DefaultText != "" {
		return a.DefaultText
	}
	switch d := a.Default.(type) {
	case nil:
		return ""
	case string:
		return fmt.Sprintf("%q", d)
	case []string:
		q := make([]string, len(d))
		for i, s := range d {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case time.Duration:
		return fmt.Sprintf("%q", d.String())
	}
	return fmt.Sprint(a.Default)
}

func refExample(typ string) string {
	if typ == "source" {
		return "source.TYPE.NAME"
	}
	return typ + ".NAME"
}

// ctyType is the type hcldec converts the argument's expression to.
func (a *Attribute) ctyType() cty.Type {
	switch a.Kind {
	case KindNumber, KindWhole:
		return cty.Number
	case KindBool:
		return cty.Bool
	case KindStrings:
		return cty.List(cty.String)
	case KindRef, KindPathOrRef, KindObject:
		return cty.DynamicPseudoType
	}
	return cty.String
}

// attrSpec is the hcldec spec of a list of attributes. Defaults are not in
// it: an unset argument decodes to null, so a block's Value (and the
// fingerprints made of it) holds what the recipe says; decodeSettings
// applies the defaults.
func attrSpec(attrs []*Attribute) hcldec.ObjectSpec {
	spec := hcldec.ObjectSpec{}
	for _, a := range attrs {
		if a.Kind == KindBlock {
			spec[a.Name] = &hcldec.BlockSpec{TypeName: a.Name, Required: a.Required, Nested: attrSpec(a.Block)}
			continue
		}
		spec[a.Name] = &hcldec.AttrSpec{Name: a.Name, Type: a.ctyType(), Required: a.Required}
	}
	return spec
}

// attr looks up an attribute by name.
func attr(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// check validates a non-null, wholly known value of the attribute; dir is
// the recipe's folder, against which relative paths resolve.
func (a *Attribute) check(v cty.Value, dir string) error {
	switch a.Kind {
	case KindString:
		if len(a.Enum) > 0 {
			if err := enum(a.Enum, v); err != nil {
				return err
			}
		}
	case KindStrings:
		if len(a.Enum) > 0 {
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.IsNull() {
					return fmt.Errorf("null is not one of %s", quoteList(a.Enum))
				}
				if err := enum(a.Enum, e); err != nil {
					return err
				}
			}
		}
	case KindWhole:
		if err := wholeNumber(v); err != nil {
			return err
		}
	case KindDuration:
		if err := duration(v); err != nil {
			return err
		}
	case KindSize:
		if _, err := ParseSize(v.AsString()); err != nil {
			return fmt.Errorf("%q is not a size like \"512m\" or \"2g\": %w", v.AsString(), err)
		}
	case KindRef:
		if err := refTo(false, a.Refs...)(v); err != nil {
			return err
		}
	case KindPathOrRef:
		if err := refTo(true, a.Refs...)(v); err != nil {
			return err
		}
		if v.Type() == cty.String {
			if err := a.checkPath(v.AsString(), dir); err != nil {
				return err
			}
		}
	case KindPath:
		if err := a.checkPath(v.AsString(), dir); err != nil {
			return err
		}
	case KindObject:
		if !v.Type().IsObjectType() && !v.Type().IsMapType() {
			return fmt.Errorf("an object is required")
		}
	}
	for _, c := range a.checks {
		if err := c(v); err != nil {
			return err
		}
	}
	return nil
}

// checkPath checks that a path names an existing file (or folder, with
// Dir), unless it is one of the literals or a URL where those are allowed.
func (a *Attribute) checkPath(p, dir string) error {
	for _, l := range a.Literals {
		if p == l {
			return nil
		}
	}
	if a.URL && isURL(p) {
		return nil
	}
	if p == "" {
		return fmt.Errorf("the path is empty")
	}
	full := resolvePath(dir, p)
	st, err := os.Stat(full)
	what := "file"
	if a.Dir {
		what = "folder"
	}
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("no %s exists at %q (a relative path is relative to the recipe's folder)", what, p)
	case err != nil:
		return fmt.Errorf("%q: %w", p, err)
	case a.Dir && !st.IsDir():
		return fmt.Errorf("%q is a file, not a folder", p)
	case !a.Dir && !a.Either && st.IsDir():
		return fmt.Errorf("%q is a folder, not a file", p)
	}
	return nil
}

// isURL reports whether a git source is a URL rather than a path.
func isURL(s string) bool {
	for _, p := range []string{"https://", "http://", "ssh://", "git://", "file://", "git@"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// enum accepts one of the allowed strings and suggests the nearest for a
// misspelling.
func enum(allowed []string, v cty.Value) error {
	s := v.AsString()
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	msg := fmt.Sprintf("%q is not one of %s", s, quoteList(allowed))
	if near := suggest(s, allowed); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return fmt.Errorf("%s", msg)
}

// The builders below keep the table in blocks.go one line per argument.

func str(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindString, Description: desc}
}
func num(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindNumber, Description: desc}
}
func whole(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindWhole, Description: desc}
}
func boolean(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindBool, Description: desc}
}
func strs(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindStrings, Description: desc}
}
func dur(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindDuration, Description: desc}
}
func size(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindSize, Description: desc}
}
func path(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindPath, Description: desc}
}
func ref(name, desc string, types ...string) *Attribute {
	return &Attribute{Name: name, Kind: KindRef, Description: desc, Refs: types}
}
func pathOrRef(name, desc string, types ...string) *Attribute {
	return &Attribute{Name: name, Kind: KindPathOrRef, Description: desc, Refs: types}
}
func object(name, desc string) *Attribute {
	return &Attribute{Name: name, Kind: KindObject, Description: desc}
}
func block(name, desc string, attrs ...*Attribute) *Attribute {
	return &Attribute{Name: name, Kind: KindBlock, Description: desc, Block: attrs}
}

func (a *Attribute) required() *Attribute              { a.Required = true; return a }
func (a *Attribute) def(v any) *Attribute              { a.Default = v; return a }
func (a *Attribute) defText(s string) *Attribute       { a.DefaultText = s; return a }
func (a *Attribute) oneOf(values ...string) *Attribute { a.Enum = values; return a }
func (a *Attribute) literals(s ...string) *Attribute   { a.Literals = s; return a }
func (a *Attribute) url() *Attribute                   { a.URL = true; return a }
func (a *Attribute) folder() *Attribute                { a.Dir = true; return a }
func (a *Attribute) either() *Attribute                { a.Either = true; return a }
func (a *Attribute) min(lo int64) *Attribute           { return a.with(wholeAtLeast(lo)) }
func (a *Attribute) with(checks ...func(cty.Value) error) *Attribute {
	a.checks = append(a.checks, checks...)
	return a
}
