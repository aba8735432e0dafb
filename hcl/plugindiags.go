package hcl

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
)

// This file maps a plugin's diagnostics back to the recipe: each place the
// recipe configures a plugin, and the source range an attribute path of
// that configuration names.

// PluginConfig is one place where the recipe configures a plugin: a block
// whose body a plugin defines (a source of a plugin's type, an injector,
// masker, curriculum or verifier block) or a toolset's config argument.
type PluginConfig struct {
	Plugin string
	Kind   sdk.Kind
	// Config is the evaluated configuration, defaults applied, as the
	// plugin's calls receive it.
	Config sdk.Config
	// Range is the block's header, or the config argument's value.
	Range hcl.Range

	file *hcl.File
	body *hclsyntax.Body      // the block's body, or nil
	expr hclsyntax.Expression // the config argument's value, or nil
}

// PluginConfigs lists every plugin configuration of the recipe in file
// order (a block's nested blocks after it). Blocks whose configuration was
// not decoded (Options.Schemas was nil, or the block has errors) are left
// out.
func (r *Recipe) PluginConfigs() []PluginConfig {
	var out []PluginConfig
	for _, b := range r.Blocks {
		if b.Plugin != "" && b.Config != nil {
			if pc, ok := r.blockConfig(b); ok {
				out = append(out, pc)
			}
		}
		var nested []*PluginBody
		for _, typ := range sortedKeys(b.nestedAll) {
			nested = append(nested, b.nestedAll[typ]...)
		}
		sort.SliceStable(nested, func(i, j int) bool { return nested[i].DefRange.Start.Byte < nested[j].DefRange.Start.Byte })
		for _, nb := range nested {
			if nb.Config == nil {
				continue
			}
			pc := PluginConfig{Plugin: nb.Plugin, Kind: nb.Kind, Config: nb.Config, Range: nb.DefRange, file: r.Files[nb.DefRange.Filename]}
			if sb := findBlock(pc.file, nb.DefRange); sb != nil {
				pc.body = sb.Body
			}
			out = append(out, pc)
		}
	}
	return out
}

// blockConfig is the plugin configuration of a top-level block: its body,
// or its config argument when the core defines the body (toolset).
func (r *Recipe) blockConfig(b *Block) (PluginConfig, bool) {
	s := blockSchemas[b.Type]
	if s == nil {
		return PluginConfig{}, false
	}
	pc := PluginConfig{Plugin: b.Plugin, Config: b.Config, Range: b.DefRange, file: r.Files[b.DefRange.Filename]}
	sb := findBlock(pc.file, b.DefRange)
	switch {
	case s.plugin != nil && s.plugin.core[b.Labels[s.plugin.label]] == nil:
		pc.Kind = s.plugin.kind
		if sb != nil {
			pc.body = sb.Body
		}
	case s.body != nil && s.body.configAttr != "":
		pc.Kind = s.body.configKind
		if sb != nil && sb.Body.Attributes[s.body.configAttr] != nil {
			pc.expr = sb.Body.Attributes[s.body.configAttr].Expr
			pc.Range = pc.expr.Range()
		}
	default:
		return PluginConfig{}, false
	}
	return pc, true
}

// findBlock returns the block of file, at any depth, whose header is at
// def.
func findBlock(file *hcl.File, def hcl.Range) *hclsyntax.Block {
	if file == nil {
		return nil
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var find func(*hclsyntax.Body) *hclsyntax.Block
	find = func(body *hclsyntax.Body) *hclsyntax.Block {
		for _, b := range body.Blocks {
			if b.DefRange().Start.Byte == def.Start.Byte {
				return b
			}
			if b.Range().ContainsOffset(def.Start.Byte) {
				return find(b.Body)
			}
		}
		return nil
	}
	return find(body)
}

// Diagnostic turns a plugin's diagnostic into an HCL diagnostic whose
// subject is the source the path names: the value of an attribute, an
// element of a list or map written in the recipe, or a nested block. Where
// the path leads outside what the recipe writes (an attribute left to its
// default, an element of a list a variable holds) the subject is the
// nearest enclosing thing that is written, the block itself at worst.
func (c PluginConfig) Diagnostic(d sdk.Diagnostic) *hcl.Diagnostic {
	sev := hcl.DiagError
	if d.Severity == sdk.SeverityWarning {
		sev = hcl.DiagWarning
	}
	summary := d.Summary
	if summary == "" {
		summary = "Invalid plugin configuration"
	}
	rng := c.PathRange(d.Path)
	return &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: d.Detail, Subject: &rng}
}

// PathRange returns the source range of the value path names, or of the
// nearest enclosing value the recipe writes (see Diagnostic).
func (c PluginConfig) PathRange(path sdk.Path) hcl.Range {
	cur := cursor{body: c.body, expr: c.expr, rng: c.Range}
	for _, step := range path {
		next, ok := cur.step(step)
		if !ok {
			break
		}
		cur = next
	}
	return cur.rng
}

// cursor is a position in the source while following a path: a block
// body, the blocks of one type, or an expression, and its range.
type cursor struct {
	body   *hclsyntax.Body
	blocks []*hclsyntax.Block
	expr   hclsyntax.Expression
	rng    hcl.Range
}

func (c cursor) step(s sdk.PathStep) (cursor, bool) {
	switch s := s.(type) {
	case sdk.AttributeName:
		name := string(s)
		if c.body != nil {
			if a := c.body.Attributes[name]; a != nil {
				return cursor{expr: a.Expr, rng: a.Expr.Range()}, true
			}
			var blocks []*hclsyntax.Block
			for _, b := range c.body.Blocks {
				if b.Type == name {
					blocks = append(blocks, b)
				}
			}
			if len(blocks) > 0 {
				return cursor{blocks: blocks, rng: blocks[0].DefRange()}, true
			}
			return c, false
		}
		if len(c.blocks) == 1 { // a single nested block: its attribute
			return cursor{body: c.blocks[0].Body, rng: c.rng}.step(s)
		}
		return c.item(name)
	case sdk.ElementKeyInt:
		i := int(s)
		if c.blocks != nil {
			if i < 0 || i >= len(c.blocks) {
				return c, false
			}
			b := c.blocks[i]
			return cursor{body: b.Body, rng: b.DefRange()}, true
		}
		if t, ok := unwrap(c.expr).(*hclsyntax.TupleConsExpr); ok && i >= 0 && i < len(t.Exprs) {
			return cursor{expr: t.Exprs[i], rng: t.Exprs[i].Range()}, true
		}
		return c, false
	case sdk.ElementKeyString:
		key := string(s)
		if c.blocks != nil {
			for _, b := range c.blocks {
				if len(b.Labels) > 0 && b.Labels[0] == key {
					return cursor{body: b.Body, rng: b.DefRange()}, true
				}
			}
			return c, false
		}
		return c.item(key)
	}
	return c, false
}

// item follows an object constructor's item by key.
func (c cursor) item(key string) (cursor, bool) {
	obj, ok := unwrap(c.expr).(*hclsyntax.ObjectConsExpr)
	if !ok {
		return c, false
	}
	for _, it := range obj.Items {
		name := hcl.ExprAsKeyword(it.KeyExpr)
		if name == "" {
			if v, diags := it.KeyExpr.Value(nil); !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
				name = v.AsString()
			}
		}
		if name == key {
			return cursor{expr: it.ValueExpr, rng: it.ValueExpr.Range()}, true
		}
	}
	return c, false
}

// unwrap removes parentheses around an expression.
func unwrap(e hclsyntax.Expression) hclsyntax.Expression {
	for {
		p, ok := e.(*hclsyntax.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expression
	}
}

// AttrRange is the range of the value of b's attribute attr as the recipe
// writes it, or b's header when the recipe leaves attr out (a default).
func (r *Recipe) AttrRange(b *Block, attr string) hcl.Range {
	if sb := findBlock(r.Files[b.DefRange.Filename], b.DefRange); sb != nil {
		if a := sb.Body.Attributes[attr]; a != nil {
			return a.Expr.Range()
		}
	}
	return b.DefRange
}
