package hcl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// Load reads the recipe at path and decodes it in passes: structure (block
// types, labels, duplicates), plugin schemas, references between blocks
// (undeclared ones, cycles), input variables, local values, then every
// block body. The returned Recipe is non-nil whenever the file could be
// read, so that diagnostics can be rendered with its Files even when they
// contain errors; its contents are only complete when diags has no errors.
func Load(ctx context.Context, path string, opts Options) (*Recipe, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read recipe",
			Detail:   fmt.Sprintf("Cannot read the recipe %s: %s.", path, err),
		}}
	}
	return load(ctx, path, src, opts)
}

// loader holds the state of one Load.
type loader struct {
	opts    Options
	r       *Recipe
	parser  *hclparse.Parser
	environ map[string]string
	funcs   map[string]function.Function
	diags   hcl.Diagnostics

	vars       []*varDecl
	varIndex   map[string]*varDecl
	locals     []*localDecl
	localIndex map[string]*localDecl
	bodies     []*pendingBody          // blocks with a body to decode, file order
	declared   map[string]*pendingBody // referenceable blocks by address
	schemas    map[schemaKey]*schemaResult
	// placeholders are the paths of invalid references, bound to unknown
	// values so that evaluation does not report them a second time.
	placeholders [][]string
	graph        *graph
}

// localDecl is one attribute of a locals block.
type localDecl struct {
	name  string
	attr  *hcl.Attribute
	value cty.Value
}

// pendingBody is a block whose body is decoded once values are known.
type pendingBody struct {
	hb      *hcl.Block
	schema  *blockSchema
	address string
	block   *Block    // nil for plugin and swelego blocks
	core    *coreBody // the body defined in Go, or nil
	plugin  string    // the plugin defining the body, when core is nil
	kind    sdk.Kind
	body    hcl.Body    // the body without nested plugin blocks
	spec    hcldec.Spec // nil while a plugin-defined body's schema is unknown
	nested  []*nestedBody
}

// nestedBody is a nested block whose body a plugin defines.
type nestedBody struct {
	typeName string
	hb       *hcl.Block
	kind     sdk.Kind
	spec     hcldec.Spec
	// body is the block's body without its core arguments: what the
	// plugin's spec decodes.
	body hcl.Body
	np   nestedPlugin
}

type schemaKey struct {
	plugin string
	kind   sdk.Kind
}

type schemaResult struct {
	schema sdk.Schema
	spec   hcldec.ObjectSpec
	err    error // from the provider
	bad    error // the schema cannot be converted
}

func load(ctx context.Context, path string, src []byte, opts Options) (*Recipe, hcl.Diagnostics) {
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	l := &loader{
		opts:       opts,
		parser:     hclparse.NewParser(),
		environ:    environMap(environ),
		varIndex:   map[string]*varDecl{},
		localIndex: map[string]*localDecl{},
		declared:   map[string]*pendingBody{},
		schemas:    map[schemaKey]*schemaResult{},
	}
	l.funcs = functions(dir, l.environ)
	l.r = &Recipe{
		Path:      path,
		Dir:       dir,
		Files:     l.parser.Files(),
		Variables: map[string]cty.Value{},
		Locals:    map[string]cty.Value{},
		Plugins:   map[string]*PluginDecl{},
	}
	file, diags := l.parser.ParseHCL(src, path)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || file == nil {
		return l.r, l.diags
	}
	l.structure(file.Body)
	l.resolveSchemas(ctx)
	l.references()
	l.resolveVariables()
	l.evalLocals()
	l.decodeBodies(ctx)
	l.order()
	return l.r, suggestFunctions(l.diags, l.funcs)
}

func (l *loader) addError(summary, detail string, subject *hcl.Range) {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
	if subject != nil {
		s := *subject
		d.Subject = &s
	}
	l.diags = append(l.diags, d)
}

// funcCtx evaluates expressions that may call functions but refer to
// nothing: variable defaults, variable values.
func (l *loader) funcCtx() *hcl.EvalContext {
	return &hcl.EvalContext{Functions: l.funcs}
}

// rootSchema is the schema of the recipe's top level.
func rootSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, name := range sortedKeys(blockSchemas) {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: name, LabelNames: blockSchemas[name].labels})
	}
	return s
}

// address is how expressions refer to a block.
func address(typ string, labels []string) string {
	return strings.Join(append([]string{typ}, labels...), ".")
}

// structure checks the top level — block types, labels, duplicates — and
// declares variables, locals and blocks.
func (l *loader) structure(body hcl.Body) {
	content, diags := body.Content(rootSchema())
	l.diags = append(l.diags, diags...)
	seen := map[string]*hcl.Block{}
	for _, hb := range content.Blocks {
		bs := blockSchemas[hb.Type]
		if !l.validLabels(hb) {
			continue
		}
		if hb.Type != "locals" {
			key := address(hb.Type, hb.Labels)
			if prev := seen[key]; prev != nil {
				l.duplicate(hb, prev, bs)
				continue
			}
			seen[key] = hb
		}
		switch hb.Type {
		case "variable":
			l.declareVariable(hb)
		case "locals":
			l.declareLocals(hb)
		default:
			l.declareBlock(hb, bs)
		}
	}
}

// validLabels checks that every label is a name (an address part).
func (l *loader) validLabels(hb *hcl.Block) bool {
	ok := true
	for i, label := range hb.Labels {
		if hclsyntax.ValidIdentifier(label) {
			continue
		}
		what := "label"
		if s := blockSchemas[hb.Type]; s != nil && i < len(s.labels) {
			what = s.labels[i]
		}
		l.addError(fmt.Sprintf("Invalid %s %s", hb.Type, what),
			fmt.Sprintf("%q is not a valid %s: a name must start with a letter or underscore and may contain only letters, digits, underscores and dashes.", label, what),
			&hb.LabelRanges[i])
		ok = false
	}
	return ok
}

func (l *loader) duplicate(hb, prev *hcl.Block, bs *blockSchema) {
	if bs.singleton {
		l.addError(fmt.Sprintf("Duplicate %s block", hb.Type),
			fmt.Sprintf("A recipe may have only one %s block; the first one is at %s.", hb.Type, pos(prev.DefRange)),
			&hb.DefRange)
		return
	}
	l.addError(fmt.Sprintf("Duplicate %s block", hb.Type),
		fmt.Sprintf("A %s block %s was already declared at %s. Block addresses must be unique.", hb.Type, quoteLabels(hb.Labels), pos(prev.DefRange)),
		&hb.DefRange)
}

// pos formats the start of a range as FILE:LINE:COL.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func quoteLabels(labels []string) string {
	q := make([]string, len(labels))
	for i, s := range labels {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " ")
}

// declareLocals declares the attributes of a locals block.
func (l *loader) declareLocals(hb *hcl.Block) {
	attrs, diags := hb.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for _, a := range sortedAttributes(attrs) {
		if prev := l.localIndex[a.Name]; prev != nil {
			l.addError("Duplicate local value",
				fmt.Sprintf("A local value named %q was already defined at %s. Local value names must be unique.", a.Name, pos(prev.attr.NameRange)),
				&a.NameRange)
			continue
		}
		lc := &localDecl{name: a.Name, attr: a, value: cty.DynamicVal}
		l.locals = append(l.locals, lc)
		l.localIndex[a.Name] = lc
	}
}

func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	return list
}

// declareBlock declares a block with a body: it splits off nested plugin
// blocks and finds the body's spec when the core defines it.
func (l *loader) declareBlock(hb *hcl.Block, bs *blockSchema) {
	pb := &pendingBody{hb: hb, schema: bs, address: address(hb.Type, hb.Labels), body: hb.Body}
	if bs.plugin != nil {
		name := hb.Labels[bs.plugin.label]
		if core := bs.plugin.core[name]; core != nil {
			pb.core = core
		} else {
			pb.plugin, pb.kind = name, bs.plugin.kind
		}
	} else {
		pb.core = bs.body
	}
	if pb.core != nil {
		pb.spec = pb.core.spec
		if len(pb.core.nested) > 0 {
			l.splitNested(pb)
		}
	}
	if hb.Type != "swelego" && hb.Type != "plugin" {
		pb.block = &Block{
			Type:        hb.Type,
			Labels:      hb.Labels,
			Address:     pb.address,
			Plugin:      pb.plugin,
			DefRange:    hb.DefRange,
			TypeRange:   hb.TypeRange,
			LabelRanges: hb.LabelRanges,
		}
		l.r.Blocks = append(l.r.Blocks, pb.block)
	}
	if bs.ref {
		l.declared[pb.address] = pb
	}
	l.bodies = append(l.bodies, pb)
}

// splitNested takes the nested plugin-defined blocks out of a core body.
func (l *loader) splitNested(pb *pendingBody) {
	schema := &hcl.BodySchema{}
	names := sortedKeys(pb.core.nested)
	for _, name := range names {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: name, LabelNames: []string{"plugin"}})
	}
	content, remain, diags := pb.hb.Body.PartialContent(schema)
	l.diags = append(l.diags, diags...)
	pb.body = remain
	for _, name := range names {
		np := pb.core.nested[name]
		var found *hcl.Block
		for _, nb := range content.Blocks {
			if nb.Type != name {
				continue
			}
			if found != nil && !np.multiple {
				l.addError(fmt.Sprintf("Duplicate %s block", name),
					fmt.Sprintf("A %s block may have only one %s block; the first one is at %s.", pb.hb.Type, name, pos(found.DefRange)),
					&nb.DefRange)
				continue
			}
			if !l.validLabels(nb) {
				continue
			}
			if found == nil {
				found = nb
			}
			body := nb.Body
			if len(np.core) > 0 {
				_, body, _ = nb.Body.PartialContent(hcldec.ImpliedSchema(np.core))
			}
			pb.nested = append(pb.nested, &nestedBody{typeName: name, hb: nb, kind: np.kind, body: body, np: np})
		}
		if found == nil && np.required && !diags.HasErrors() {
			l.addError(fmt.Sprintf("Missing %s block", name),
				fmt.Sprintf("A %s block needs %s %s block naming the plugin that serves it, like %s \"NAME\" { … }.", pb.hb.Type, article(name), name, name),
				&pb.hb.DefRange)
		}
	}
}

// article returns the indefinite article for word.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// resolveSchemas asks the schema provider for the schema of every
// plugin-defined body.
func (l *loader) resolveSchemas(ctx context.Context) {
	if l.opts.Schemas == nil {
		return
	}
	for _, pb := range l.bodies {
		if pb.plugin != "" {
			if s := l.pluginSchema(ctx, pb.plugin, pb.kind, pb.hb.LabelRanges[pb.schema.plugin.label]); s != nil {
				pb.spec = s.spec
			}
		}
		for _, nb := range pb.nested {
			if s := l.pluginSchema(ctx, nb.hb.Labels[0], nb.kind, nb.hb.LabelRanges[0]); s != nil {
				nb.spec = s.spec
			}
		}
	}
}

// pluginSchema returns the schema plugin serves for kind, or nil after
// reporting why there is none at subject.
func (l *loader) pluginSchema(ctx context.Context, plugin string, kind sdk.Kind, subject hcl.Range) *schemaResult {
	key := schemaKey{plugin, kind}
	res := l.schemas[key]
	if res == nil {
		res = &schemaResult{}
		res.schema, res.err = l.opts.Schemas.ConfigSchema(ctx, plugin, kind)
		if res.err == nil {
			res.spec, res.bad = schemaSpec(res.schema)
			if res.bad == nil {
				_, res.bad = schemaType(res.schema)
			}
		}
		l.schemas[key] = res
	}
	switch {
	case res.err != nil:
		l.addError("Failed to load plugin schema",
			fmt.Sprintf("The %s schema of plugin %q is needed to decode this block: %s.", kind, plugin, strings.TrimSuffix(res.err.Error(), ".")),
			&subject)
		return nil
	case res.bad != nil:
		l.addError("Invalid plugin schema",
			fmt.Sprintf("Plugin %q serves a %s schema that swelego cannot use: %s.", plugin, kind, res.bad),
			&subject)
		return nil
	}
	return res
}

// decodeBodies evaluates every block body.
func (l *loader) decodeBodies(ctx context.Context) {
	evalCtx := l.evalContext()
	for _, pb := range l.bodies {
		var val cty.Value
		if pb.spec != nil {
			var diags hcl.Diagnostics
			val, diags = hcldec.Decode(pb.body, pb.spec, evalCtx)
			l.diags = append(l.diags, diags...)
			if pb.core != nil {
				l.check(pb, val, diags.HasErrors())
			} else if pb.block != nil && !diags.HasErrors() {
				pb.block.Config = l.config(val, pb.hb.LabelRanges[pb.schema.plugin.label])
			}
		}
		for _, nb := range pb.nested {
			l.decodeNested(pb, nb, evalCtx)
		}
		if pb.core == nil {
			continue
		}
		if pb.block != nil {
			linkNested(pb.block)
		}
		if pb.core.configAttr != "" {
			l.decodePluginConfig(ctx, pb, val)
		}
		switch pb.hb.Type {
		case "swelego":
			l.r.Settings.Name = stringAttr(val, "name")
			if w := stringAttr(val, "workdir"); w != "" {
				l.r.Settings.Workdir = resolvePath(l.r.Dir, w)
			}
		case "plugin":
			name := pb.hb.Labels[0]
			src := hcldec.SourceRange(pb.body, pb.core.spec["source"])
			if src.Filename == "" {
				src = pb.hb.DefRange
			}
			l.r.Plugins[name] = &PluginDecl{
				Name:        name,
				Source:      stringAttr(val, "source"),
				Version:     stringAttr(val, "version"),
				DeclRange:   pb.hb.DefRange,
				SourceRange: src,
			}
		default:
			pb.block.Value = val
		}
	}
}

// decodeNested decodes a nested plugin-defined block.
func (l *loader) decodeNested(pb *pendingBody, nb *nestedBody, evalCtx *hcl.EvalContext) {
	out := &PluginBody{Plugin: nb.hb.Labels[0], Kind: nb.kind, DefRange: nb.hb.DefRange, LabelRange: nb.hb.LabelRanges[0]}
	if len(nb.np.core) > 0 {
		val, _, diags := hcldec.PartialDecode(nb.hb.Body, nb.np.core, evalCtx)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			out.Value = val
			l.checkValues(nb.hb.Body, nb.np.core, nb.np.coreAttrs, val)
		}
	}
	if nb.spec != nil {
		val, diags := hcldec.Decode(nb.body, nb.spec, evalCtx)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			out.Config = l.config(val, nb.hb.LabelRanges[0])
		}
	}
	if pb.block != nil {
		if pb.block.Nested == nil {
			pb.block.Nested = map[string]*PluginBody{}
			pb.block.nestedAll = map[string][]*PluginBody{}
		}
		if pb.block.Nested[nb.typeName] == nil {
			pb.block.Nested[nb.typeName] = out
		}
		pb.block.nestedAll[nb.typeName] = append(pb.block.nestedAll[nb.typeName], out)
	}
}

// config marshals an evaluated plugin-defined body.
func (l *loader) config(val cty.Value, subject hcl.Range) sdk.Config {
	cfg, err := marshalConfig(val)
	if err != nil {
		l.addError("Invalid plugin configuration",
			fmt.Sprintf("The configuration cannot be sent to the plugin: %s.", err), &subject)
	}
	return cfg
}

// check runs a core body's value checks, then, when the body decoded
// without errors (a required argument may be missing) and every value
// passed, its check of the whole, and decodes the typed settings.
func (l *loader) check(pb *pendingBody, val cty.Value, decodeErrors bool) {
	if !val.IsKnown() || val.IsNull() || !val.Type().IsObjectType() {
		return
	}
	if !l.checkValues(pb.body, pb.core.spec, pb.core.attrs, val) || decodeErrors || !val.IsWhollyKnown() {
		return
	}
	if pb.core.check != nil {
		if err := pb.core.check(val); err != nil {
			rng := pb.hb.DefRange
			var ae *argError
			if errors.As(err, &ae) {
				if spec, ok := pb.core.spec[ae.attr]; ok {
					rng = hcldec.SourceRange(pb.body, spec)
				}
				err = ae.err
			}
			l.addError("Invalid block", fmt.Sprintf("Inappropriate %s block: %s.", pb.hb.Type, err), &rng)
			return
		}
	}
	if pb.core.settings == nil || pb.block == nil {
		return
	}
	settings := pb.core.settings()
	if err := decodeSettings(pb.core.attrs, val, l.r.Dir, settings); err != nil {
		// The checks passed, so the table and the settings type disagree.
		l.addError("Internal error", fmt.Sprintf("The %s block cannot be decoded: %s.", pb.hb.Type, err), &pb.hb.DefRange)
		return
	}
	pb.block.Settings = settings
}

// checkValues runs the table's checks on the arguments of body that spec
// decoded into val, nested blocks' arguments too, and reports whether all
// passed. Its diagnostics come in source order.
func (l *loader) checkValues(body hcl.Body, spec hcldec.ObjectSpec, attrs []*Attribute, val cty.Value) bool {
	if !val.IsKnown() || val.IsNull() || !val.Type().IsObjectType() {
		return true
	}
	var found hcl.Diagnostics
	for _, a := range attrs {
		if !val.Type().HasAttribute(a.Name) {
			continue
		}
		v := val.GetAttr(a.Name)
		var err error
		switch {
		case !v.IsWhollyKnown():
			continue
		case v.IsNull() && a.Required && a.Kind != KindBlock && hasAttribute(body, a.Name):
			// hcldec accepts `name = null` for a required argument.
			err = fmt.Errorf("the argument is required, so it cannot be null")
		case v.IsNull():
			continue
		case a.Kind == KindBlock:
			err = checkNested(a, v, l.r.Dir)
		}
		if err == nil {
			err = a.check(v, l.r.Dir)
		}
		if err == nil {
			continue
		}
		rng := hcldec.SourceRange(body, spec[a.Name])
		what := fmt.Sprintf("argument %q", a.Name)
		var ne *nestedAttrError
		if errors.As(err, &ne) {
			what = fmt.Sprintf("argument %q of the %s block", ne.attr, a.Name)
			if r := nestedAttrRange(body, a.Name, ne.attr); r != nil {
				rng = *r
			}
			err = ne.err
		}
		found = append(found, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value",
			Detail: sentence(fmt.Sprintf("Inappropriate value for %s: %s", what, err)), Subject: &rng})
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Subject.Start.Byte < found[j].Subject.Start.Byte })
	l.diags = append(l.diags, found...)
	return len(found) == 0
}

// checkNested checks the arguments of a nested block (an sft's model, a
// synthetic source's combine) and returns the first complaint as a
// *nestedAttrError.
func checkNested(a *Attribute, v cty.Value, dir string) error {
	for _, na := range a.Block {
		nv := v.GetAttr(na.Name)
		if !nv.IsWhollyKnown() {
			continue
		}
		if nv.IsNull() {
			continue
		}
		if err := na.check(nv, dir); err != nil {
			return &nestedAttrError{na.Name, err}
		}
	}
	return nil
}

// hasAttribute reports whether body sets the argument name (perhaps to
// null).
func hasAttribute(body hcl.Body, name string) bool {
	content, _, _ := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: name}}})
	return content != nil && content.Attributes[name] != nil
}

// sentence ends s with a full stop unless it ends with one or a question
// mark.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// argError is a block check's complaint about one of the block's
// arguments, so the diagnostic can point at it.
type argError struct {
	attr string
	err  error
}

func (e *argError) Error() string { return e.attr + ": " + e.err.Error() }

// nestedAttrError is a check's complaint about one argument of a nested
// block (combine's per), so the diagnostic can point at that argument.
type nestedAttrError struct {
	attr string
	err  error
}

func (e *nestedAttrError) Error() string { return e.attr + ": " + e.err.Error() }

// nestedAttrRange returns the range of the value of argument attr in the
// first nested block of type typ of body, or nil.
func nestedAttrRange(body hcl.Body, typ, attr string) *hcl.Range {
	content, _, _ := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: typ}}})
	if content == nil || len(content.Blocks) == 0 {
		return nil
	}
	inner, _, _ := content.Blocks[0].Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: attr}}})
	if inner == nil || inner.Attributes[attr] == nil {
		return nil
	}
	r := inner.Attributes[attr].Expr.Range()
	return &r
}

// decodePluginConfig checks a core body's plugin configuration argument
// (a toolset's config) against the schema of the plugin it names and keeps
// it as the block's Config.
func (l *loader) decodePluginConfig(ctx context.Context, pb *pendingBody, val cty.Value) {
	if pb.block == nil || !val.IsKnown() || val.IsNull() || !val.Type().IsObjectType() {
		return
	}
	core := pb.core
	pluginName := stringAttr(val, core.pluginAttr)
	if pluginName == "" {
		return
	}
	pb.block.Plugin = pluginName
	cfg := val.GetAttr(core.configAttr)
	if !cfg.IsWhollyKnown() {
		return
	}
	cfgRange := hcldec.SourceRange(pb.body, core.spec[core.configAttr])
	if cfg.IsNull() {
		cfg = cty.EmptyObjectVal
	}
	if !cfg.Type().IsObjectType() && !cfg.Type().IsMapType() {
		l.addError("Invalid value", fmt.Sprintf("Inappropriate value for argument %q: an object is required.", core.configAttr), &cfgRange)
		return
	}
	if l.opts.Schemas == nil {
		pb.block.Config = l.config(cfg, cfgRange)
		return
	}
	res := l.pluginSchema(ctx, pluginName, core.configKind, hcldec.SourceRange(pb.body, core.spec[core.pluginAttr]))
	if res == nil {
		return
	}
	bad := false
	for it := cfg.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		key := k.AsString()
		_, isAttr := res.schema.Attributes[key]
		_, isBlock := res.schema.Blocks[key]
		if isAttr || isBlock {
			continue
		}
		rng, _ := configItemRange(pb.body, core.configAttr, key, cfgRange)
		detail := fmt.Sprintf("Plugin %q has no %s argument named %q.", pluginName, core.configKind, key)
		if s := suggest(key, append(sortedKeys(res.schema.Attributes), sortedKeys(res.schema.Blocks)...)); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		l.addError("Unsupported argument", detail, &rng)
		bad = true
	}
	if bad {
		return
	}
	ty, _ := schemaType(res.schema)
	conv, err := convert.Convert(cfg, ty)
	if err != nil {
		rng := cfgRange
		if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
			if step, ok := pe.Path[0].(cty.GetAttrStep); ok {
				_, rng = configItemRange(pb.body, core.configAttr, step.Name, cfgRange)
			}
		}
		l.addError("Invalid value",
			fmt.Sprintf("Inappropriate value for argument %q of plugin %q: %s.", core.configAttr, pluginName, pathError(core.configAttr, err)),
			&rng)
		return
	}
	pb.block.Config = l.config(withDefaults(conv, res.schema), cfgRange)
}

// configItemRange finds the item key of an object constructor in the
// argument attr of body and returns the ranges of its key and value, or def
// twice.
func configItemRange(body hcl.Body, attr, key string, def hcl.Range) (keyRange, valueRange hcl.Range) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok || sb.Attributes[attr] == nil {
		return def, def
	}
	obj, ok := sb.Attributes[attr].Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return def, def
	}
	for _, item := range obj.Items {
		name := hcl.ExprAsKeyword(item.KeyExpr)
		if name == "" {
			if v, diags := item.KeyExpr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				name = v.AsString()
			}
		}
		if name == key {
			return item.KeyExpr.Range(), item.ValueExpr.Range()
		}
	}
	return def, def
}

// pathError formats a conversion error with the path it happened at.
func pathError(root string, err error) string {
	pe, ok := err.(cty.PathError)
	if !ok || len(pe.Path) == 0 {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(root)
	for _, step := range pe.Path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			if !s.Key.IsKnown() || s.Key.IsNull() {
				b.WriteString("[…]")
			} else if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return b.String() + ": " + err.Error()
}

// stringAttr returns a known string attribute of an object value, or "".
func stringAttr(val cty.Value, name string) string {
	if val == cty.NilVal || !val.IsKnown() || val.IsNull() || !val.Type().IsObjectType() || !val.Type().HasAttribute(name) {
		return ""
	}
	v := val.GetAttr(name)
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// linkNested gives a block's typed settings its nested plugin blocks.
func linkNested(b *Block) {
	switch st := b.Settings.(type) {
	case *TTS:
		st.Verifier = b.Nested["verifier"]
		if st.Verifier != nil {
			st.VerifierModel = refAddress(objectAttr(st.Verifier.Value, "model"))
		}
	case *SFT:
		st.Masker, st.Curriculum = b.Nested["masker"], b.Nested["curriculum"]
	case *Synthetic:
		st.Injectors = b.NestedAll("injector")
	}
}

// objectAttr returns attribute name of an object value, or cty.NilVal.
func objectAttr(v cty.Value, name string) cty.Value {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
		return cty.NilVal
	}
	return v.GetAttr(name)
}
