package hcl

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// BlockDoc describes one block type of the recipe language for the
// reference (`swelego stages describe`, docs/recipes.md). It is made from
// the same table the decoder uses.
type BlockDoc struct {
	// Name is how the reference and `stages describe` name the block:
	// its type, or "source.synthetic" for a core source type.
	Name string
	// Header is how the block is written, e.g. `rollout "NAME"`.
	Header string
	Doc    string
	Stage  bool
	// Attributes are the arguments of a core-defined body, nil for
	// plugin-defined bodies and for variable and locals blocks.
	Attributes []*Attribute
	// Nested are the nested blocks whose body a plugin defines.
	Nested []NestedDoc
}

// NestedDoc describes a nested block whose body a plugin defines.
type NestedDoc struct {
	Type     string
	Kind     string // the plugin kind whose schema applies
	Doc      string
	Required bool
	Multiple bool
	// Attributes are the arguments the core reads and the plugin never
	// sees (a verifier's model).
	Attributes []*Attribute
}

// referenceOrder is the order of the reference: settings, where things
// run, what they use, then the stages in pipeline order.
var referenceOrder = []string{"swelego", "variable", "locals", "plugin", "environment", "sandbox", "queue", "model", "toolset", "source", "rollout", "sft", "tts", "eval"}

// Reference describes every block type, in the reference's order; a core
// source type follows the source block.
func Reference() []BlockDoc {
	var out []BlockDoc
	for _, typ := range referenceOrder {
		bs := blockSchemas[typ]
		d := BlockDoc{Name: typ, Header: header(typ, bs.labels), Doc: bs.doc, Stage: bs.stage}
		if bs.body != nil {
			d.Attributes = bs.body.attrs
			d.Nested = nestedDocs(bs.body)
		}
		out = append(out, d)
		if bs.plugin == nil {
			continue
		}
		for _, name := range sortedKeys(bs.plugin.core) {
			body := bs.plugin.core[name]
			labels := append([]string(nil), bs.labels...)
			labels[bs.plugin.label] = ""
			out = append(out, BlockDoc{
				Name:       typ + "." + name,
				Header:     strings.Replace(header(typ, labels), `""`, fmt.Sprintf("%q", name), 1),
				Doc:        body.doc,
				Stage:      bs.stage,
				Attributes: body.attrs,
				Nested:     nestedDocs(body),
			})
		}
	}
	return out
}

func header(typ string, labels []string) string {
	parts := []string{typ}
	for _, l := range labels {
		if l == "" {
			parts = append(parts, `""`)
			continue
		}
		parts = append(parts, fmt.Sprintf("%q", strings.ToUpper(l)))
	}
	return strings.Join(parts, " ")
}

func nestedDocs(b *coreBody) []NestedDoc {
	var out []NestedDoc
	for _, name := range sortedKeys(b.nested) {
		np := b.nested[name]
		out = append(out, NestedDoc{Type: name, Kind: string(np.kind), Doc: np.doc, Required: np.required, Multiple: np.multiple, Attributes: np.coreAttrs})
	}
	return out
}

// FindBlockDocs returns the docs of the block type name names: a block
// type ("eval"), a core source type ("synthetic" or "source.synthetic"),
// or every block when name is "". A name that matches nothing gives an
// error suggesting the nearest.
func FindBlockDocs(name string) ([]BlockDoc, error) {
	all := Reference()
	if name == "" {
		return all, nil
	}
	var names []string
	for _, d := range all {
		if d.Name == name || strings.TrimPrefix(d.Name, "source.") == name {
			return []BlockDoc{d}, nil
		}
		names = append(names, d.Name)
	}
	msg := fmt.Sprintf("no block type %q (block types: %s)", name, strings.Join(names, ", "))
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return nil, fmt.Errorf("%s", msg)
}

// WriteReference prints block docs for a terminal: each block's header
// and purpose, then one line per argument with its type, default (or
// "required") and description.
func WriteReference(w io.Writer, docs []BlockDoc) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, d := range docs {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		stage := ""
		if d.Stage {
			stage = "  (stage)"
		}
		fmt.Fprintf(tw, "%s { … }%s\n", d.Header, stage)
		fmt.Fprintf(tw, "  %s\n", d.Doc)
		if len(d.Attributes) > 0 || len(d.Nested) > 0 {
			fmt.Fprintln(tw)
		}
		writeAttrLines(tw, "", d.Attributes)
		for _, n := range d.Nested {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", n.Type+` "PLUGIN" { … }`, "block: "+n.Kind+" plugin", nestedWhen(n), n.Doc)
			writeAttrLines(tw, n.Type+".", n.Attributes)
		}
	}
	return tw.Flush()
}

func writeAttrLines(tw io.Writer, prefix string, attrs []*Attribute) {
	for _, a := range attrs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", prefix+a.Name, a.TypeName(), defaultColumn(a), a.Description)
		if a.Kind == KindBlock {
			writeAttrLines(tw, prefix+a.Name+".", a.Block)
		}
	}
}

func defaultColumn(a *Attribute) string {
	if a.Required {
		return "required"
	}
	if d := a.DefaultString(); d != "" {
		return "default " + d
	}
	return "optional"
}

func nestedWhen(n NestedDoc) string {
	switch {
	case n.Required && n.Multiple:
		return "one or more"
	case n.Required:
		return "required"
	case n.Multiple:
		return "any number"
	}
	return "optional"
}

// WriteMarkdown prints the reference of every block as Markdown: the
// body of docs/recipes.md.
func WriteMarkdown(w io.Writer, docs []BlockDoc) error {
	var b strings.Builder
	b.WriteString("# Recipe reference\n\n")
	b.WriteString("<!-- Generated by `go test ./hcl -run TestRecipeReference -update` from the block table in hcl/blocks.go; do not edit. -->\n\n")
	b.WriteString("Every block a recipe may hold, with its arguments: type, default and meaning. " +
		"`swelego stages describe [TYPE]` prints the same from the same table, and `swelego validate` checks every value before a run. " +
		"Bodies that a plugin defines (a task source's, an injector's, a verifier's …) are described by `swelego plugins describe`.\n\n")
	b.WriteString("Types: a *duration* is written like `\"90s\"` or `\"30m\"`; a *size* like `\"512m\"` or `\"2g\"` (powers of 1024); " +
		"a *path* is relative to the recipe's folder and must exist; a *reference* names a block by its address, like `model.teacher`.\n\n")
	for _, d := range docs {
		stage := ""
		if d.Stage {
			stage = " (stage)"
		}
		fmt.Fprintf(&b, "## %s%s\n\n```hcl\n%s { … }\n```\n\n%s\n\n", d.Name, stage, d.Header, d.Doc)
		if len(d.Attributes) > 0 {
			b.WriteString("| argument | type | default | description |\n|---|---|---|---|\n")
			mdRows(&b, "", d.Attributes)
			b.WriteString("\n")
		}
		for _, n := range d.Nested {
			fmt.Fprintf(&b, "**`%s \"PLUGIN\" { … }`** (%s): %s The body follows the schema the named %s plugin serves.\n\n", n.Type, nestedWhen(n), n.Doc, n.Kind)
			if len(n.Attributes) > 0 {
				b.WriteString("| argument | type | default | description |\n|---|---|---|---|\n")
				mdRows(&b, n.Type+".", n.Attributes)
				b.WriteString("\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdRows(b *strings.Builder, prefix string, attrs []*Attribute) {
	for _, a := range attrs {
		def := a.DefaultString()
		if a.Required {
			def = "required"
		}
		if a.DefaultText == "" && def != "" && def != "required" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", prefix+a.Name, strings.ReplaceAll(a.TypeName(), "|", "\\|"), strings.ReplaceAll(def, "|", "\\|"), strings.ReplaceAll(a.Description, "|", "\\|"))
		if a.Kind == KindBlock {
			mdRows(b, prefix+a.Name+".", a.Block)
		}
	}
}

// blockTypes lists every block type of the table, for tests.
func blockTypes() []string {
	names := sortedKeys(blockSchemas)
	sort.Strings(names)
	return names
}
