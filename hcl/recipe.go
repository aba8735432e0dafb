package hcl

import (
	"context"

	"github.com/hashicorp/hcl/v2"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
)

// SchemaProvider gives the configuration schema a plugin serves for a kind.
// Load asks it for every block whose body a plugin defines: a source block's
// body (kind sdk.KindTaskSource, plugin named by the source's type label),
// a tts block's verifier block (sdk.KindVerifier) and a toolset's config
// (sdk.KindToolSet). An error (plugin not found, protocol mismatch, kind not
// served …) becomes a diagnostic on the block that names the plugin.
type SchemaProvider interface {
	ConfigSchema(ctx context.Context, plugin string, kind sdk.Kind) (sdk.Schema, error)
}

// Options are the inputs of Load besides the recipe file.
type Options struct {
	// Vars are -var flags, each "NAME=VALUE"; later ones win.
	Vars []string
	// VarFiles are -var-file paths (files of HCL attributes NAME = VALUE),
	// relative to the working directory; later ones win, -var beats them all.
	// Values may call functions (paths in them are relative to the recipe's
	// directory) but refer to nothing.
	VarFiles []string
	// Environ is the environment as "KEY=VALUE" strings, read for
	// SWELEGO_VAR_NAME variables and by the env function; nil means
	// os.Environ().
	Environ []string
	// Schemas provides plugin schemas. When nil, plugin-defined bodies are
	// not decoded (their Block.Config stays nil), which is enough for fmt and
	// quick structural checks.
	Schemas SchemaProvider
}

// Recipe is a decoded recipe file.
type Recipe struct {
	// Path is the recipe's path as given to Load; Dir is its directory,
	// made absolute.
	Path, Dir string
	// Files holds every parsed file by the name used in diagnostics: the
	// recipe and any -var-file, for WriteDiagnostics.
	Files map[string]*hcl.File
	// Settings are the values of the swelego block.
	Settings Settings
	// Variables are the final values of the declared input variables.
	Variables map[string]cty.Value
	// Locals are the values of the local values.
	Locals map[string]cty.Value
	// Plugins are the plugin blocks by plugin name.
	Plugins map[string]*PluginDecl
	// Blocks are every block except variable, locals, plugin and swelego
	// blocks, in file order.
	Blocks []*Block
	// Stages are the stage blocks (source, rollout, sft, tts, eval) in a
	// deterministic topological order: every stage comes after the blocks
	// it depends on, ties broken by file order.
	Stages []*Block
}

// Settings are the run settings of the swelego block.
type Settings struct {
	// Name is the run's name, "" if unset.
	Name string
	// Workdir is the run directory resolved against Recipe.Dir, "" if unset.
	Workdir string
}

// PluginDecl is a plugin block: where plugin Name comes from.
type PluginDecl struct {
	Name    string
	Source  string
	Version string // a version constraint such as ">= 0.1.0", "" if unset
	// DeclRange is the block's header; SourceRange the source attribute's
	// value (or DeclRange when the block has none), for diagnostics about
	// finding the plugin.
	DeclRange   hcl.Range
	SourceRange hcl.Range
}

// PluginBody is a nested block whose body a plugin defines, such as the
// verifier block of a tts block.
type PluginBody struct {
	Plugin string   // the plugin named by the block's label
	Kind   sdk.Kind // the kind whose schema the body follows
	// Config is the evaluated body as JSON; nil when Options.Schemas is nil
	// or the body has errors.
	Config sdk.Config
	// Value holds the arguments of the block that the core reads and the
	// plugin never sees (a verifier's model): an object, or cty.NilVal
	// when the block type has none.
	Value      cty.Value
	DefRange   hcl.Range
	LabelRange hcl.Range
}

// Block is a top-level block of the recipe other than variable, locals,
// plugin and swelego.
type Block struct {
	// Type is the block type ("source", "rollout" …) and Labels its labels
	// (source: TYPE and NAME; sandbox: none; the others: NAME).
	Type   string
	Labels []string
	// Address is how expressions refer to the block: "model.NAME",
	// "source.TYPE.NAME", "sandbox".
	Address string
	// Value is the evaluated body when the body is defined by the core (an
	// object with one attribute per argument, null when unset), else
	// cty.NilVal.
	Value cty.Value
	// Settings are the typed settings of a core-defined body, decoded
	// once with the table's defaults after every check passed: one of
	// *Environment, *Sandbox, *Model, *Toolset, *Rollout, *SFT, *TTS,
	// *Eval, *Synthetic (settings.go). Nil for plugin-defined bodies and
	// when the body has errors.
	Settings any
	// Config is the evaluated plugin-defined body as JSON: a source's body,
	// or a toolset's config attribute. Nil when Options.Schemas is nil (for
	// sources) or the body has errors.
	Config sdk.Config
	// Plugin names the plugin that serves the block: a source's type, a
	// toolset's plugin attribute; "" for core-defined blocks.
	Plugin string
	// Nested holds the nested plugin-defined blocks by block type, e.g.
	// "verifier" for tts blocks: the first block of each type. Types that
	// allow several blocks (a synthetic source's injectors) list all of
	// them through NestedAll.
	Nested map[string]*PluginBody
	// nestedAll holds every nested plugin-defined block by type, in file
	// order.
	nestedAll map[string][]*PluginBody
	// DependsOn are the addresses of the blocks this block references,
	// directly or through local values, in file order.
	DependsOn []string
	// DefRange is the block header, TypeRange its type keyword and
	// LabelRanges its labels.
	DefRange    hcl.Range
	TypeRange   hcl.Range
	LabelRanges []hcl.Range
}

// NestedAll returns every nested plugin-defined block of type typ, in file
// order: several for a type that allows it (injector), at most one for the
// others (verifier). A Block built by hand with only Nested set gives its
// Nested entry.
func (b *Block) NestedAll(typ string) []*PluginBody {
	if all, ok := b.nestedAll[typ]; ok {
		return all
	}
	if nb := b.Nested[typ]; nb != nil {
		return []*PluginBody{nb}
	}
	return nil
}

// Block returns the block with the given address, or nil.
func (r *Recipe) Block(address string) *Block {
	for _, b := range r.Blocks {
		if b.Address == address {
			return b
		}
	}
	return nil
}

// IsStage reports whether the block is a pipeline stage (source, rollout,
// sft, tts, eval).
func (b *Block) IsStage() bool {
	s := blockSchemas[b.Type]
	return s != nil && s.stage
}

// refAddress returns the address of a block reference value, or "".
func refAddress(v cty.Value) string {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute("address") {
		return ""
	}
	a := v.GetAttr("address")
	if !a.IsKnown() || a.IsNull() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}
