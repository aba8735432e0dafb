package hcl

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
)

// This file is the grammar of the recipe language: every top-level block
// type, its labels, whether it is a stage, and its body — either an hcldec
// spec written here or "defined by the plugin one label names". Extend the
// language here.

// blockSchema describes one top-level block type.
type blockSchema struct {
	labels    []string // label names, e.g. {"type", "name"}
	singleton bool     // at most one block of the type
	stage     bool     // a pipeline stage, ordered in Recipe.Stages
	ref       bool     // expressions may refer to it by address
	// body is a body defined in Go; nil for plugin-defined bodies and for
	// variable and locals blocks, which Load decodes by hand.
	body *coreBody
	// plugin is set when a plugin's schema defines the body.
	plugin *pluginDefined
}

// pluginDefined says which plugin's schema defines a block's body.
type pluginDefined struct {
	label int      // index of the label that names the plugin
	kind  sdk.Kind // the kind whose schema applies
	// core maps label values whose body is defined in Go instead (core
	// source types such as "synthetic").
	core map[string]*coreBody
}

// coreBody is a block body defined in Go.
type coreBody struct {
	spec hcldec.ObjectSpec
	// nested are nested blocks TYPE "PLUGIN" { … } whose body the plugin
	// named by the label defines; they are not part of spec.
	nested map[string]nestedPlugin
	// checks validate argument values after decoding; an error becomes a
	// diagnostic at the argument.
	checks map[string]func(cty.Value) error
	// pluginAttr names the argument that names the plugin serving the block
	// and configAttr the argument holding that plugin's configuration,
	// checked against its schema of kind configKind (toolset).
	pluginAttr, configAttr string
	configKind             sdk.Kind
	// check validates the body as a whole, after checks; an *argError
	// names the argument it is about, any other error is about the block.
	check func(cty.Value) error
}

// nestedPlugin is a nested plugin-defined block type of a core body. At most
// one block of the type is allowed unless multiple is set.
type nestedPlugin struct {
	kind     sdk.Kind
	required bool
	// multiple allows several blocks of the type (a synthetic source's
	// injectors); Block.NestedAll lists them in file order.
	multiple bool
	// core are arguments of the nested block that the core reads and the
	// plugin never sees (a verifier's model); PluginBody.Value holds them.
	core hcldec.ObjectSpec
	// coreChecks validate core argument values, as coreBody.checks.
	coreChecks map[string]func(cty.Value) error
}

// blockSchemas is the table of top-level block types.
var blockSchemas = map[string]*blockSchema{
	"swelego": {singleton: true, body: &coreBody{spec: hcldec.ObjectSpec{
		"name":    optional("name", cty.String),
		"workdir": optional("workdir", cty.String),
	}}},
	"variable": {labels: []string{"name"}},
	"locals":   {},
	"plugin": {labels: []string{"name"}, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			"source":  optional("source", cty.String),
			"version": optional("version", cty.String),
		},
		checks: map[string]func(cty.Value) error{"version": versionConstraint},
	}},
	"environment": {labels: []string{"name"}, ref: true, body: &coreBody{spec: hcldec.ObjectSpec{
		"base":     optional("base", cty.String),
		"packages": optional("packages", cty.List(cty.String)),
		"setup":    optional("setup", cty.List(cty.String)),
		"test_cmd": optional("test_cmd", cty.String),
		"language": optional("language", cty.String),
		// repo is the repository ("owner/name") the environment serves; git
		// is where its history comes from (a bundle, a folder or a URL;
		// relative paths against the recipe's folder).
		"repo":   optional("repo", cty.String),
		"git":    optional("git", cty.String),
		"parser": optional("parser", cty.String),
	}}},
	"sandbox": {singleton: true, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			"backend": optional("backend", cty.String),
			"memory":  optional("memory", cty.String),
			"cpus":    optional("cpus", cty.Number),
			"pids":    optional("pids", cty.Number),
			"timeout": optional("timeout", cty.String),
		},
		checks: map[string]func(cty.Value) error{
			"backend": oneOf("auto", "docker", "bwrap"),
			"timeout": duration,
		},
	}},
	"source": {labels: []string{"type", "name"}, stage: true, ref: true,
		plugin: &pluginDefined{label: 0, kind: sdk.KindTaskSource, core: coreSources}},
	"model": {labels: []string{"name"}, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			"provider":    required("provider", cty.String),
			"base_url":    optional("base_url", cty.String),
			"name":        optional("name", cty.String),
			"api_key_env": optional("api_key_env", cty.String),
			"temperature": optional("temperature", cty.Number),
			"max_tokens":  optional("max_tokens", cty.Number),
			"timeout":     optional("timeout", cty.String),
			// format: how tool calls travel — the endpoint's native tool
			// calls, or text in OpenHands' or Qwen's function-call format.
			"format":      optional("format", cty.String),
			"max_retries": optional("max_retries", cty.Number),
			// error_rate and seed configure the oracle test teacher.
			"error_rate": optional("error_rate", cty.Number),
			"seed":       optional("seed", cty.Number),
			// checkpoint (provider local): the model swelego serves itself
			// for the run, an sft stage's published model (sft.NAME) or a
			// model folder; max_batch: requests it decodes together.
			"checkpoint": optional("checkpoint", cty.DynamicPseudoType),
			"max_batch":  optional("max_batch", cty.Number),
		},
		checks: map[string]func(cty.Value) error{
			"provider":   oneOf("openai", "oracle", "local"),
			"checkpoint": refTo(true, "sft"),
			"max_batch":  wholeAtLeast(1),
			"timeout":    duration,
			"format":     oneOf("native", "openhands", "qwen"),
			"error_rate": fraction,
		},
		check: localModel,
	}},
	"toolset": {labels: []string{"name"}, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			"plugin": required("plugin", cty.String),
			"config": optional("config", cty.DynamicPseudoType),
		},
		pluginAttr: "plugin", configAttr: "config", configKind: sdk.KindToolSet,
	}},
	"rollout": {labels: []string{"name"}, stage: true, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			"tasks":     required("tasks", cty.DynamicPseudoType),
			"model":     required("model", cty.DynamicPseudoType),
			"toolset":   optional("toolset", cty.DynamicPseudoType),
			"max_turns": optional("max_turns", cty.Number),
			"workers":   optional("workers", cty.Number),
			"attempts":  optional("attempts", cty.Number),
			// token_budget caps prompt+completion tokens of one attempt,
			// time_limit its wall-clock time.
			"token_budget":  optional("token_budget", cty.Number),
			"time_limit":    optional("time_limit", cty.String),
			"system_prompt": optional("system_prompt", cty.String),
			"task_prompt":   optional("task_prompt", cty.String),
		},
		checks: map[string]func(cty.Value) error{
			"tasks":      refTo(false, "source"),
			"model":      refTo(false, "model"),
			"toolset":    refTo(false, "toolset"),
			"time_limit": duration,
		},
	}},
	// sft: refined supervised fine-tuning on trajectories (DESIGN §8).
	"sft": {labels: []string{"name"}, stage: true, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			// trajectories: a rollout stage, or a file of trajectories
			// (swelego's, or ShareGPT / OpenHands records as
			// `trajectories export` writes and SWE-Lego publishes).
			"trajectories": required("trajectories", cty.DynamicPseudoType),
			"include":      optional("include", cty.List(cty.String)),
			// toolset: whose tool descriptions the template shows
			// (default the swetools plugin's).
			"toolset":   optional("toolset", cty.DynamicPseudoType),
			"tokenizer": required("tokenizer", cty.String),
			"template":  optional("template", cty.String),
			"model": &hcldec.BlockSpec{TypeName: "model", Required: true, Nested: hcldec.ObjectSpec{
				"config":     optional("config", cty.String),
				"checkpoint": optional("checkpoint", cty.String),
				"init_std":   optional("init_std", cty.Number),
			}},
			"backend":          optional("backend", cty.String),
			"epochs":           optional("epochs", cty.Number),
			"global_batch":     optional("global_batch", cty.Number),
			"micro_batch":      optional("micro_batch", cty.Number),
			"lr":               optional("lr", cty.Number),
			"min_lr_ratio":     optional("min_lr_ratio", cty.Number),
			"weight_decay":     optional("weight_decay", cty.Number),
			"warmup_ratio":     optional("warmup_ratio", cty.Number),
			"max_grad_norm":    optional("max_grad_norm", cty.Number),
			"max_seq_len":      optional("max_seq_len", cty.Number),
			"overflow":         optional("overflow", cty.String),
			"packing":          optional("packing", cty.Bool),
			"seed":             optional("seed", cty.Number),
			"save_every":       optional("save_every", cty.Number),
			"keep_checkpoints": optional("keep_checkpoints", cty.Number),
			"dtype":            optional("dtype", cty.String),
		},
		nested: map[string]nestedPlugin{
			"masker":     {kind: sdk.KindLossMasker},
			"curriculum": {kind: sdk.KindCurriculum},
		},
		checks: map[string]func(cty.Value) error{
			"trajectories":     refTo(true, "rollout"),
			"toolset":          refTo(false, "toolset"),
			"include":          eachOneOf(sdk.StatusResolved, sdk.StatusSemiResolved, sdk.StatusUnresolved),
			"template":         oneOf("qwen3", "openhands"),
			"model":            sftModel,
			"backend":          oneOf("cpu", "cuda"),
			"epochs":           positive,
			"global_batch":     wholeAtLeast(1),
			"micro_batch":      wholeAtLeast(1),
			"lr":               positive,
			"min_lr_ratio":     fraction,
			"weight_decay":     atLeast(0),
			"warmup_ratio":     fraction,
			"max_grad_norm":    atLeast(0),
			"max_seq_len":      wholeAtLeast(2),
			"overflow":         oneOf("truncate", "drop"),
			"seed":             wholeAtLeast(0),
			"save_every":       wholeAtLeast(0),
			"keep_checkpoints": wholeAtLeast(0),
			"dtype":            oneOf("float32", "bfloat16"),
		},
	}},
	// tts: test-time scaling (DESIGN §9). Either k rollouts per task of a
	// model (model, toolset and the rollout settings) or, for offline
	// reranking, candidates: a predictions file with several records per
	// task, or a rollout stage.
	"tts": {labels: []string{"name"}, stage: true, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			"tasks":         required("tasks", cty.DynamicPseudoType),
			"candidates":    optional("candidates", cty.DynamicPseudoType),
			"model":         optional("model", cty.DynamicPseudoType),
			"toolset":       optional("toolset", cty.DynamicPseudoType),
			"k":             optional("k", cty.Number),
			"max_turns":     optional("max_turns", cty.Number),
			"token_budget":  optional("token_budget", cty.Number),
			"time_limit":    optional("time_limit", cty.String),
			"system_prompt": optional("system_prompt", cty.String),
			"task_prompt":   optional("task_prompt", cty.String),
			"workers":       optional("workers", cty.Number),
			"output":        optional("output", cty.String),
		},
		nested: map[string]nestedPlugin{"verifier": {
			kind: sdk.KindVerifier, required: true,
			// model is lent to the verifier (a generative judge).
			core:       hcldec.ObjectSpec{"model": optional("model", cty.DynamicPseudoType)},
			coreChecks: map[string]func(cty.Value) error{"model": refTo(false, "model")},
		}},
		checks: map[string]func(cty.Value) error{
			"tasks":      refTo(false, "source"),
			"candidates": refTo(true, "rollout"),
			"model":      refTo(false, "model"),
			"toolset":    refTo(false, "toolset"),
			"k":          wholeAtLeast(1),
			"max_turns":  wholeAtLeast(1),
			"workers":    wholeAtLeast(1),
			"time_limit": duration,
		},
		check: ttsSource,
	}},
	"eval": {labels: []string{"name"}, stage: true, ref: true, body: &coreBody{
		spec: hcldec.ObjectSpec{
			"tasks":       required("tasks", cty.DynamicPseudoType),
			"predictions": required("predictions", cty.DynamicPseudoType),
			"backend":     optional("backend", cty.String),
			"workers":     optional("workers", cty.Number),
			// instance_ids: grade and report only these tasks.
			"instance_ids": optional("instance_ids", cty.List(cty.String)),
			// skipped_pass_to_pass: "fail" (default) or "maintained", as
			// SWE-bench v5's test_maintained counts a skipped test.
			"skipped_pass_to_pass": optional("skipped_pass_to_pass", cty.String),
		},
		checks: map[string]func(cty.Value) error{
			"tasks":                refTo(false, "source"),
			"predictions":          refTo(true, "tts", "rollout"),
			"backend":              oneOf("auto", "docker", "bwrap"),
			"skipped_pass_to_pass": oneOf("fail", "maintained"),
		},
	}},
}

// coreSources are the source types whose body is defined in Go rather than
// by a task-source plugin of that name.
var coreSources = map[string]*coreBody{
	// synthetic: a repository × a bug injector → validated tasks.
	"synthetic": {
		spec: hcldec.ObjectSpec{
			"repo":           required("repo", cty.String),
			"environment":    optional("environment", cty.DynamicPseudoType),
			"commit":         optional("commit", cty.String),
			"max_candidates": optional("max_candidates", cty.Number),
			"workers":        optional("workers", cty.Number),
			"reruns":         optional("reruns", cty.Number),
			"timeout":        optional("timeout", cty.String),
			// model is lent to LM injectors and writes problem statements.
			"model": optional("model", cty.DynamicPseudoType),
			// combine merges validated bugs of one file or package into
			// harder tasks.
			"combine": &hcldec.BlockSpec{TypeName: "combine", Nested: hcldec.ObjectSpec{
				"per":       optional("per", cty.String),
				"min_bugs":  optional("min_bugs", cty.Number),
				"max_bugs":  optional("max_bugs", cty.Number),
				"max_tasks": optional("max_tasks", cty.Number),
			}},
		},
		nested: map[string]nestedPlugin{"injector": {kind: sdk.KindBugInjector, required: true, multiple: true}},
		checks: map[string]func(cty.Value) error{
			"environment": refTo(false, "environment"),
			"timeout":     duration,
			"model":       refTo(false, "model"),
			"combine":     combineSettings,
		},
	},
}

// localModel checks a model block's provider-specific arguments: a local
// model needs a checkpoint, and only a local model has one.
func localModel(v cty.Value) error {
	local := v.GetAttr("provider").AsString() == "local"
	for _, name := range []string{"checkpoint", "max_batch"} {
		if !local && !v.GetAttr(name).IsNull() {
			return &argError{name, fmt.Errorf("%s is for provider = \"local\" (a checkpoint swelego serves)", name)}
		}
	}
	if local && v.GetAttr("checkpoint").IsNull() {
		return &argError{"provider", fmt.Errorf("provider \"local\" needs checkpoint = sft.NAME or a model folder")}
	}
	return nil
}

// ttsSource checks where a tts block's candidates come from: rollouts of a
// model (model set, candidates not) or candidates (and none of the rollout
// settings).
func ttsSource(v cty.Value) error {
	set := func(name string) bool { return !v.GetAttr(name).IsNull() }
	switch {
	case set("model") && set("candidates"):
		return &argError{"candidates", fmt.Errorf("a tts block either rolls out a model (model = model.NAME) or reranks candidates, not both")}
	case !set("model") && !set("candidates"):
		return fmt.Errorf("a tts block needs model = model.NAME (k rollouts per task) or candidates = FILE (a predictions file with several records per task)")
	case set("candidates"):
		for _, name := range []string{"toolset", "max_turns", "token_budget", "time_limit", "system_prompt", "task_prompt"} {
			if set(name) {
				return &argError{name, fmt.Errorf("%s is a rollout setting: it needs model = model.NAME instead of candidates", name)}
			}
		}
	}
	return nil
}

// combineSettings checks a synthetic source's combine block: per is "file"
// or "package", 2 <= min_bugs <= max_bugs, max_tasks >= 0.
func combineSettings(v cty.Value) error {
	if per := v.GetAttr("per"); !per.IsNull() {
		if err := oneOf("file", "package")(per); err != nil {
			return &nestedAttrError{"per", err}
		}
	}
	num := func(name string, def int64) (int64, error) {
		n := v.GetAttr(name)
		if n.IsNull() {
			return def, nil
		}
		i, acc := n.AsBigFloat().Int64()
		if acc != big.Exact || i < 0 {
			return 0, &nestedAttrError{name, fmt.Errorf("%s is not a whole number >= 0", n.AsBigFloat().String())}
		}
		return i, nil
	}
	lo, err := num("min_bugs", 2)
	if err != nil {
		return err
	}
	hi, err := num("max_bugs", max(lo, 2))
	if err != nil {
		return err
	}
	if _, err := num("max_tasks", 0); err != nil {
		return err
	}
	if lo < 2 {
		return &nestedAttrError{"min_bugs", fmt.Errorf("a combination has at least 2 bugs, not %d", lo)}
	}
	if hi < lo {
		return &nestedAttrError{"max_bugs", fmt.Errorf("%d is less than min_bugs (%d)", hi, lo)}
	}
	return nil
}

func required(name string, ty cty.Type) *hcldec.AttrSpec {
	return &hcldec.AttrSpec{Name: name, Type: ty, Required: true}
}

func optional(name string, ty cty.Type) *hcldec.AttrSpec {
	return &hcldec.AttrSpec{Name: name, Type: ty}
}

// oneOf accepts one of the given strings.
func oneOf(allowed ...string) func(cty.Value) error {
	return func(v cty.Value) error {
		s := v.AsString()
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", s, quoteList(allowed))
	}
}

// sftModel checks an sft block's model block: exactly one of config (a
// Hugging Face config.json, weights initialised at random) and checkpoint
// (a Hugging Face model folder).
func sftModel(v cty.Value) error {
	cfg, ckpt := v.GetAttr("config"), v.GetAttr("checkpoint")
	if cfg.IsNull() == ckpt.IsNull() {
		return &nestedAttrError{"config", fmt.Errorf("give exactly one of config (a config.json to start from random weights) and checkpoint (a Hugging Face model folder)")}
	}
	if std := v.GetAttr("init_std"); !std.IsNull() {
		if err := positive(std); err != nil {
			return &nestedAttrError{"init_std", err}
		}
	}
	return nil
}

// positive accepts a number above 0.
func positive(v cty.Value) error {
	f, _ := v.AsBigFloat().Float64()
	if !(f > 0) {
		return fmt.Errorf("%g is not above 0", f)
	}
	return nil
}

// atLeast accepts a number >= lo.
func atLeast(lo float64) func(cty.Value) error {
	return func(v cty.Value) error {
		f, _ := v.AsBigFloat().Float64()
		if f < lo {
			return fmt.Errorf("%g is less than %g", f, lo)
		}
		return nil
	}
}

// wholeAtLeast accepts a whole number >= lo.
func wholeAtLeast(lo int64) func(cty.Value) error {
	return func(v cty.Value) error {
		i, acc := v.AsBigFloat().Int64()
		if acc != big.Exact {
			return fmt.Errorf("%s is not a whole number", v.AsBigFloat().String())
		}
		if i < lo {
			return fmt.Errorf("%d is less than %d", i, lo)
		}
		return nil
	}
}

// eachOneOf accepts a list whose every element is one of the given strings.
func eachOneOf(allowed ...string) func(cty.Value) error {
	one := oneOf(allowed...)
	return func(v cty.Value) error {
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return fmt.Errorf("null is not one of %s", quoteList(allowed))
			}
			if err := one(e); err != nil {
				return err
			}
		}
		return nil
	}
}

// fraction accepts a number in [0, 1].
func fraction(v cty.Value) error {
	f, _ := v.AsBigFloat().Float64()
	if f < 0 || f > 1 {
		return fmt.Errorf("%g is not between 0 and 1", f)
	}
	return nil
}

// duration accepts a Go duration such as "90s" or "30m".
func duration(v cty.Value) error {
	d, err := time.ParseDuration(v.AsString())
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"90s\" or \"30m\"", v.AsString())
	}
	if d <= 0 {
		return fmt.Errorf("%q is not a positive duration", v.AsString())
	}
	return nil
}

// refTo accepts a reference to a block of one of the given types, or a
// string (a file path) when path is set.
func refTo(path bool, types ...string) func(cty.Value) error {
	return func(v cty.Value) error {
		if path && v.Type() == cty.String {
			return nil
		}
		if addr := refAddress(v); addr != "" {
			typ, _, _ := strings.Cut(addr, ".")
			for _, t := range types {
				if t == typ {
					return nil
				}
			}
		}
		var want []string
		for _, t := range types {
			addr := t + ".NAME"
			if t == "source" {
				addr = "source.TYPE.NAME"
			}
			want = append(want, "a "+t+" block ("+addr+")")
		}
		msg := "a reference to " + strings.Join(want, " or ") + " is required"
		if path {
			msg = "a file path or " + msg
		}
		if addr := refAddress(v); addr != "" {
			return fmt.Errorf("%s, not %s", msg, addr)
		}
		return fmt.Errorf("%s", msg)
	}
}

// versionConstraint accepts a version constraint such as ">= 0.1.0".
func versionConstraint(v cty.Value) error {
	if _, err := version.NewConstraint(v.AsString()); err != nil {
		return fmt.Errorf("%q is not a version constraint like \">= 0.1.0\"", v.AsString())
	}
	return nil
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
