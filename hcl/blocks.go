package hcl

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/swelego/swelego/sdk"
	"github.com/zclconf/go-cty/cty"
)

// This file is the grammar of the recipe language: every top-level block
// type, its labels, whether it is a stage, and its body — either a table
// of arguments written here or "defined by the plugin one label names".
// The same table decodes the recipe, checks it at validate, fills the
// typed settings stages receive (settings.go) and writes the reference
// (`swelego stages describe`, docs/recipes.md). Extend the language here.

// blockSchema describes one top-level block type.
type blockSchema struct {
	labels    []string // label names, e.g. {"type", "name"}
	singleton bool     // at most one block of the type
	stage     bool     // a pipeline stage, ordered in Recipe.Stages
	ref       bool     // expressions may refer to it by address
	doc       string   // what the block is for, for the reference
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
	doc   string // what the body is for, when it differs from its block's (a core source type)
	attrs []*Attribute
	// spec is attrs as an hcldec spec, made by init.
	spec hcldec.ObjectSpec
	// settings makes the typed value the body decodes into (settings.go);
	// nil for blocks the loader reads itself (swelego, plugin).
	settings func() any
	// nested are nested blocks TYPE "PLUGIN" { … } whose body the plugin
	// named by the label defines; they are not part of spec.
	nested map[string]nestedPlugin
	// pluginAttr names the argument that names the plugin serving the block
	// and configAttr the argument holding that plugin's configuration,
	// checked against its schema of kind configKind (toolset).
	pluginAttr, configAttr string
	configKind             sdk.Kind
	// check validates the body as a whole, after the arguments' checks; an
	// *argError names the argument it is about, any other error is about
	// the block.
	check func(cty.Value) error
}

// nestedPlugin is a nested plugin-defined block type of a core body. At most
// one block of the type is allowed unless multiple is set.
type nestedPlugin struct {
	kind     sdk.Kind
	doc      string
	required bool
	// multiple allows several blocks of the type (a synthetic source's
	// injectors); Block.NestedAll lists them in file order.
	multiple bool
	// coreAttrs are arguments of the nested block that the core reads and
	// the plugin never sees (a verifier's model); PluginBody.Value holds
	// them. core is their spec, made by init.
	coreAttrs []*Attribute
	core      hcldec.ObjectSpec
}

// Defaults shared by the table and the stages' documentation.
const (
	// DefaultMaxTurns is an agent's turn limit when a rollout or tts block
	// sets none.
	DefaultMaxTurns = 100
	// DefaultMaxBatch is the number of requests a local model decodes
	// together when its block sets none.
	DefaultMaxBatch = 16
)

// Arguments shared by the rollout and tts blocks: how one agent attempt is
// played.
func attemptAttrs() []*Attribute {
	return []*Attribute{
		ref("toolset", "The tools the agent calls.", "toolset").defText("the swetools plugin's"),
		whole("max_turns", "The assistant turns of one attempt at most.").def(DefaultMaxTurns).min(1),
		whole("token_budget", "Prompt plus completion tokens one attempt may use; 0: no limit.").def(0).min(0),
		dur("time_limit", "Wall-clock time one attempt may take.").defText("no limit"),
		str("system_prompt", "The system prompt, a Go template over the task; empty: the built-in one."),
		str("task_prompt", "The first user message, a Go template over the task; empty: the built-in one."),
		whole("workers", "Attempts played at the same time.").def(1).min(1),
	}
}

// blockSchemas is the table of top-level block types.
var blockSchemas = map[string]*blockSchema{
	"swelego": {singleton: true, doc: "Run settings: the run's name and its folder.", body: &coreBody{attrs: []*Attribute{
		str("name", "The run's name.").defText("the recipe folder's name"),
		str("workdir", "The run folder, relative to the recipe's folder; --workdir overrides it.").defText("runs/NAME in the recipe's folder"),
	}}},
	"variable": {labels: []string{"name"}, doc: "An input variable, set by -var, -var-file or SWELEGO_VAR_NAME (type, default, description, sensitive, validation)."},
	"locals":   {doc: "Local values: named expressions other expressions refer to as local.NAME."},
	"plugin": {labels: []string{"name"}, ref: true, doc: "Where a plugin comes from and which versions are accepted; the lock file pins its SHA-256.", body: &coreBody{attrs: []*Attribute{
		str("source", "Where the plugin binary comes from.").defText("swelego-plugin-NAME on the plugin path"),
		str("version", "A version constraint such as \">= 0.1.0\".").with(versionConstraint),
	}}},
	"environment": {labels: []string{"name"}, ref: true, doc: "The environment a repository's tests run in: a Debian base image with a language's packages, and the repository's history.", body: &coreBody{
		settings: func() any { return &Environment{} },
		attrs: []*Attribute{
			str("base", "The Debian release of the base image.").defText("the default release"),
			strs("packages", "Extra Debian packages of the image."),
			strs("setup", "Shell commands run once when the image is built."),
			str("test_cmd", "The command that runs the repository's tests.").defText("the language's"),
			str("language", "The language of the repository, served by a language plugin."),
			str("repo", "The repository (\"owner/name\") the environment serves."),
			path("git", "Where the repository's history comes from: a git bundle, a folder or a URL (relative paths against the recipe's folder).").url().either(),
			str("parser", "The log parser of the test output.").defText("the language's"),
			str("image", "A published task image every task of the environment runs in (repository at /testbed already, nothing built), pulled when missing; a task's own image or image_name wins.").with(imageReference),
			str("image_naming", "swebench: each task runs in the image SWE-bench publishes for its instance id (sweb.eval.x86_64.ID with \"__\" written \"_1776_\", tag latest), pulled when missing.").oneOf("swebench"),
			str("image_namespace", "What leads an image name image_naming gives: a namespace such as \"swebench\", optionally after a registry host (\"registry.example:5000/swebench\").").with(imageNamespace),
			path("image_archive", "A docker save archive loaded when a task's image is missing, before pulling it (air-gapped machines)."),
		},
	}},
	"sandbox": {singleton: true, ref: true, doc: "The sandbox backend and the limits of every sandbox of the run.", body: &coreBody{
		settings: func() any { return &Sandbox{} },
		attrs: []*Attribute{
			str("backend", "auto: docker when an engine answers, else bwrap.").oneOf("auto", "docker", "bwrap").def("auto"),
			size("memory", "Memory limit of a sandbox, such as \"512m\" or \"2g\".").defText("no limit"),
			num("cpus", "CPUs a sandbox may use.").defText("no limit").with(positive),
			whole("pids", "Processes a sandbox may run; 0: no limit.").def(0).min(0),
			dur("timeout", "Wall-clock limit of one test run.").defText("the harness's"),
		},
	}},
	"queue": {singleton: true, doc: "A NATS JetStream server that spreads the sandbox work of synthetic sources (compile checks, validation), eval stages (grading), rollout stages (attempts) and tts stages (rollouts, scoring) over `swelego worker` processes on other machines; without it everything runs here (`swelego run --queue` sets or overrides it).", body: &coreBody{
		settings: func() any { return &Queue{} },
		attrs: []*Attribute{
			str("url", "The server's URL, such as \"nats://queue:4222\".").required(),
			dur("ack_wait", "How long a worker may hold an item without a heartbeat before it goes to another worker.").defText("1m"),
			whole("max_attempts", "Deliveries of an item that may fail before it is parked with its errors; 0: 3.").def(0).min(0),
			str("repos", "How workers get the repositories: object_store, the coordinator uploads a git bundle of each repository the items need (a repository folder is bundled first) to the server's object store, and workers fetch what they lack into their cache; shared, items name the coordinator's paths, which must hold the same files on every worker.").oneOf(QueueReposObjectStore, QueueReposShared).def(QueueReposObjectStore),
		},
	}},
	"source": {labels: []string{"type", "name"}, stage: true, ref: true,
		doc:    "A task source stage: the task-source plugin named TYPE defines the body (swebench: a SWE-bench file), except for the core types below.",
		plugin: &pluginDefined{label: 0, kind: sdk.KindTaskSource, core: coreSources}},
	"model": {labels: []string{"name"}, ref: true, doc: "A model: an OpenAI-compatible endpoint, a checkpoint swelego serves itself, or the oracle test teacher.", body: &coreBody{
		settings: func() any { return &Model{} },
		attrs: []*Attribute{
			str("provider", "openai: an OpenAI-compatible endpoint; local: a checkpoint swelego serves; oracle: the TEST TEACHER that replays each task's known fix.").oneOf("openai", "oracle", "local").required(),
			str("base_url", "The endpoint's base URL.").defText("https://api.openai.com/v1"),
			str("name", "The model's name at the endpoint, and in trajectories.").defText("the block's address"),
			str("api_key_env", "The environment variable holding the API key."),
			num("temperature", "Sampling temperature.").defText("the endpoint's").with(atLeast(0)),
			whole("max_tokens", "Completion tokens per request; 0: the endpoint's limit.").def(0).min(0),
			dur("timeout", "Time one request may take.").defText("the client's"),
			str("format", "How tool calls travel: the endpoint's native tool calls, or text in OpenHands' or Qwen's function-call format.").oneOf("native", "openhands", "qwen").def("native"),
			whole("max_retries", "Retries of a failed request (429, 5xx, connection error, timeout); 0: 4; negative: none.").def(0),
			num("error_rate", "Oracle only: the share of turns with a deliberate mistake.").def(0.0).with(fraction),
			whole("seed", "Oracle only: the seed of its mistakes.").def(0),
			pathOrRef("checkpoint", "Local only: the model to serve, an sft stage's published model or a Hugging Face model folder.", "sft").folder(),
			whole("max_batch", "Local only: requests decoded together.").def(DefaultMaxBatch).min(1),
		},
		check: localModel,
	}},
	"toolset": {labels: []string{"name"}, ref: true, doc: "The tools an agent calls, served by a tool-set plugin.", body: &coreBody{
		settings: func() any { return &Toolset{} },
		attrs: []*Attribute{
			str("plugin", "The tool-set plugin.").required(),
			object("config", "The plugin's configuration, checked against its schema."),
		},
		pluginAttr: "plugin", configAttr: "config", configKind: sdk.KindToolSet,
	}},
	"rollout": {labels: []string{"name"}, stage: true, ref: true, doc: "Agent rollouts: attempts of a model with a tool set on every task, each graded by the harness; writes trajectories and predictions.", body: &coreBody{
		settings: func() any { return &Rollout{} },
		attrs: append([]*Attribute{
			ref("tasks", "The tasks to attempt.", "source").required(),
			ref("model", "The model that plays the agent.", "model").required(),
			whole("attempts", "Attempts per task.").def(1).min(1),
		}, attemptAttrs()...),
	}},
	// sft: refined supervised fine-tuning on trajectories (DESIGN §8).
	"sft": {labels: []string{"name"}, stage: true, ref: true, doc: "Refined supervised fine-tuning on trajectories: masking, curriculum, chat template, training; publishes the model in Hugging Face's layout.", body: &coreBody{
		settings: func() any { return &SFT{} },
		attrs: []*Attribute{
			pathOrRef("trajectories", "A rollout stage, or a file of trajectories (swelego's, or ShareGPT / OpenHands records).", "rollout").required(),
			strs("include", "The trajectory statuses trained on.").oneOf(sdk.StatusResolved, sdk.StatusSemiResolved, sdk.StatusUnresolved).def([]string{sdk.StatusResolved, sdk.StatusSemiResolved}),
			ref("toolset", "Whose tool descriptions the template shows.", "toolset").defText("the swetools plugin's"),
			path("tokenizer", "A tokenizer folder (relative to the recipe), or a built-in encoding.").folder().literals("cl100k_base", "o200k_base").required(),
			str("template", "The chat template.").oneOf("qwen3", "openhands").def("qwen3"),
			block("model", "The model trained: exactly one of config and checkpoint.",
				path("config", "A Hugging Face config.json; the weights start at random."),
				path("checkpoint", "A Hugging Face model folder to start from.").folder(),
				num("init_std", "Standard deviation of the random weights.").def(0.02).with(positive),
			).with(sftModel).required(),
			str("backend", "The training backend: cpu, or cuda in a swelego built with -tags cuda.").oneOf("cpu", "cuda").def("cpu"),
			whole("device", "The CUDA device ordinal the cuda backend trains on.").def(0).min(0),
			str("precision", "The cuda backend's matrix-multiply inputs (fp32 accumulation and master weights in every case).").oneOf("float32", "tf32", "bfloat16").def("float32"),
			num("epochs", "Passes over the data.").def(4.0).with(positive),
			whole("global_batch", "Sequences per optimiser step.").def(64).min(1),
			whole("micro_batch", "Sequences per forward pass.").def(1).min(1),
			num("lr", "Peak learning rate.").def(1e-4).with(positive),
			num("min_lr_ratio", "The cosine schedule's floor, as a share of lr.").def(0.0).with(fraction),
			num("weight_decay", "AdamW's decoupled weight decay.").def(0.01).with(atLeast(0)),
			num("warmup_ratio", "Share of the steps spent warming up.").def(0.1).with(fraction),
			num("max_grad_norm", "Gradient-norm clipping; 0: none.").def(1.0).with(atLeast(0)),
			whole("max_seq_len", "Tokens per sequence at most.").def(32768).min(2),
			str("overflow", "What happens to a longer trajectory.").oneOf("truncate", "drop").def("truncate"),
			boolean("packing", "Pack several trajectories into one sequence.").def(false),
			whole("seed", "Seed of the data order and the initial weights.").def(42).min(0),
			whole("save_every", "Steps between checkpoints; 0: only the last.").def(0).min(0),
			whole("keep_checkpoints", "Checkpoints kept; 0: all.").def(0).min(0),
			str("dtype", "The published weights' type.").oneOf("float32", "bfloat16").def("float32"),
		},
		nested: map[string]nestedPlugin{
			"masker":     {kind: sdk.KindLossMasker, doc: "The loss masker plugin and its configuration (default: errormask)."},
			"curriculum": {kind: sdk.KindCurriculum, doc: "The curriculum plugin and its configuration (default: curriculum)."},
		},
	}},
	// tts: test-time scaling (DESIGN §9). Either k rollouts per task of a
	// model (model, toolset and the rollout settings) or, for offline
	// reranking, candidates: a predictions file with several records per
	// task, or a rollout stage.
	"tts": {labels: []string{"name"}, stage: true, ref: true, doc: "Test-time scaling: k rollouts per task of a model (or candidates to rerank), scored by a verifier; the best per task is submitted.", body: &coreBody{
		settings: func() any { return &TTS{} },
		attrs: append([]*Attribute{
			ref("tasks", "The tasks.", "source").required(),
			pathOrRef("candidates", "Rerank instead of rolling out: a predictions file with several records per task, or a rollout stage.", "rollout"),
			ref("model", "The policy rolled out k times per task.", "model"),
			whole("k", "Rollouts per task; when reranking, the candidates per task considered.").defText("1; when reranking, all").min(1),
			str("output", "Not read: the stage writes predictions.jsonl in its folder."),
		}, attemptAttrs()...),
		nested: map[string]nestedPlugin{"verifier": {
			kind: sdk.KindVerifier, required: true,
			doc: "The verifier plugin that scores each candidate, and its configuration.",
			coreAttrs: []*Attribute{
				ref("model", "The model lent to the verifier (a generative judge).", "model"),
			},
		}},
		check: ttsSource,
	}},
	"eval": {labels: []string{"name"}, stage: true, ref: true, doc: "Grades predictions of the tasks with the harness, as SWE-bench does, and writes a report.", body: &coreBody{
		settings: func() any { return &Eval{} },
		attrs: []*Attribute{
			ref("tasks", "The tasks graded.", "source").required(),
			pathOrRef("predictions", "A tts or rollout stage, a predictions file, \"gold\" (each task's own fix) or \"empty\" (no change).", "tts", "rollout").literals(PredictGold, PredictEmpty).required(),
			str("backend", "The sandbox backend.").oneOf("auto", "docker", "bwrap").defText("the sandbox block's"),
			whole("workers", "Tasks graded at the same time.").def(1).min(1),
			strs("instance_ids", "Grade and report only these tasks.").defText("all"),
			str("skipped_pass_to_pass", "How a skipped PASS_TO_PASS test counts: fail, or maintained (as SWE-bench v5's test_maintained).").oneOf("fail", "maintained").def("fail"),
		},
	}},
}

// Literal predictions of an eval block.
const (
	PredictGold  = "gold"
	PredictEmpty = "empty"
)

// coreSources are the source types whose body is defined in Go rather than
// by a task-source plugin of that name.
var coreSources = map[string]*coreBody{
	// synthetic: a repository × a bug injector → validated tasks.
	"synthetic": {
		doc:      "Synthetic tasks: bugs injected into a repository by injector plugins, kept when the tests show them (≥1 FAIL_TO_PASS and PASS_TO_PASS).",
		settings: func() any { return &Synthetic{} },
		attrs: []*Attribute{
			str("repo", "The repository (\"owner/name\").").required(),
			ref("environment", "The environment the candidates are validated in.", "environment").defText("the one serving repo"),
			str("commit", "The commit bugs are injected at.").def("HEAD"),
			whole("max_candidates", "Candidates kept per injector block; 0: all.").def(0).min(0),
			whole("workers", "Candidates validated at the same time.").def(1).min(1),
			whole("reruns", "Runs of the tests on each tree; a test whose status differs between runs is dropped as flaky (0 or 1: one run, no check).").def(2).min(0),
			dur("timeout", "Wall-clock limit of one test run.").defText("the harness's"),
			ref("model", "The model lent to LM injectors; it also writes problem statements.", "model"),
			block("combine", "Merges validated bugs of one file or package into harder tasks.",
				str("per", "Which bugs combine: of one file, or of one package (the file's folder).").oneOf("file", "package").def("file"),
				whole("min_bugs", "Bugs per combined task at least.").def(2).min(2),
				whole("max_bugs", "Bugs per combined task at most.").defText("min_bugs").min(2),
				whole("max_tasks", "Combined tasks kept at most; 0 counts as 5.").def(5).min(0),
			).with(combineSettings),
		},
		nested: map[string]nestedPlugin{"injector": {kind: sdk.KindBugInjector, required: true, multiple: true,
			doc: "A bug injector plugin and its configuration; several blocks add up."}},
	},
	// git_history: a repository's own history → validated real tasks, for
	// mirrors without API access (the github plugin's filters on commits).
	"git_history": {
		doc:      "Real tasks from a repository's history: merge commits and fix commits whose message names an issue, kept when they change 1–15 files, both tests and code (by the language's test files), and their tests show the fix (≥1 FAIL_TO_PASS).",
		settings: func() any { return &GitHistory{} },
		attrs: []*Attribute{
			str("repo", "The repository (\"owner/name\").").required(),
			ref("environment", "The environment the candidates are validated in.", "environment").defText("the one serving repo"),
			path("git", "A clone or bundle of the repository to read the history from (relative to the recipe).").either().defText("the environment's git"),
			str("rev", "The commit whose history is read.").def("HEAD"),
			str("issue_pattern", "A regular expression that finds an issue a commit message names; its first group is the issue number.").def(DefaultIssuePattern).with(regex),
			boolean("require_issue", "Keep only commits whose message names an issue; false: every commit that passes the other filters.").def(true),
			str("exclude_message", "A regular expression: commits whose message matches are skipped (feature commits, say).").with(regex),
			path("issues", "A JSON Lines file of issues (number, title, body, comments) the problem statements come from; without it a task's statement is its commit message."),
			whole("min_issue_chars", "The shortest issue text (title and body) kept when issues are given.").def(0).min(0),
			str("merged_after", "Keep commits made at or after this time (RFC 3339 or YYYY-MM-DD).").with(date),
			str("merged_before", "Keep commits made before this time (RFC 3339 or YYYY-MM-DD).").with(date),
			whole("min_files", "The fewest files a commit changes.").def(1).min(1),
			whole("max_files", "The most files a commit changes.").def(15).min(1),
			whole("max_candidates", "Candidates validated at most, newest first; 0: all.").def(0).min(0),
			whole("workers", "Candidates validated at the same time.").def(1).min(1),
			whole("reruns", "Runs of the tests on each tree; a test whose status differs between runs is dropped as flaky (0 or 1: one run, no check).").def(2).min(0),
			dur("timeout", "Wall-clock limit of one test run.").defText("the harness's"),
		},
	},
}

// DefaultIssuePattern finds GitHub's closing keywords and an issue number
// in a commit message ("Fixes #12").
const DefaultIssuePattern = `(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+#(\d+)\b`

// regex accepts a regular expression Go's regexp package compiles.
func regex(v cty.Value) error {
	if _, err := regexp.Compile(v.AsString()); err != nil {
		return fmt.Errorf("%q is not a regular expression: %v", v.AsString(), err)
	}
	return nil
}

// date accepts an RFC 3339 time or a YYYY-MM-DD date.
func date(v cty.Value) error {
	s := v.AsString()
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return nil
	}
	return fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
}

func init() {
	for _, bs := range blockSchemas {
		if bs.body != nil {
			bs.body.init()
		}
	}
	for _, b := range coreSources {
		b.init()
	}
}

// init makes the hcldec specs of a body's arguments.
func (b *coreBody) init() {
	b.spec = attrSpec(b.attrs)
	for name, np := range b.nested {
		if len(np.coreAttrs) > 0 {
			np.core = attrSpec(np.coreAttrs)
			b.nested[name] = np
		}
	}
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

// combineSettings checks a synthetic source's combine block as a whole:
// max_bugs is not less than min_bugs (each argument's own checks are in
// the table).
func combineSettings(v cty.Value) error {
	lo, hi := v.GetAttr("min_bugs"), v.GetAttr("max_bugs")
	if hi.IsNull() || !hi.IsKnown() || !lo.IsKnown() {
		return nil
	}
	min := big.NewFloat(2)
	if !lo.IsNull() {
		min = lo.AsBigFloat()
	}
	if hi.AsBigFloat().Cmp(min) < 0 {
		return &nestedAttrError{"max_bugs", fmt.Errorf("%s is less than min_bugs (%s)", hi.AsBigFloat().String(), min.String())}
	}
	return nil
}

// sftModel checks an sft block's model block: exactly one of config (a
// Hugging Face config.json, weights initialised at random) and checkpoint
// (a Hugging Face model folder).
func sftModel(v cty.Value) error {
	cfg, ckpt := v.GetAttr("config"), v.GetAttr("checkpoint")
	if cfg.IsNull() == ckpt.IsNull() {
		return &nestedAttrError{"config", fmt.Errorf("give exactly one of config (a config.json to start from random weights) and checkpoint (a Hugging Face model folder)")}
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

// wholeNumber accepts a whole number that fits an int64.
func wholeNumber(v cty.Value) error {
	if _, acc := v.AsBigFloat().Int64(); acc != big.Exact {
		return fmt.Errorf("%s is not a whole number", v.AsBigFloat().String())
	}
	return nil
}

// wholeAtLeast accepts a whole number >= lo.
func wholeAtLeast(lo int64) func(cty.Value) error {
	return func(v cty.Value) error {
		if err := wholeNumber(v); err != nil {
			return err
		}
		if i, _ := v.AsBigFloat().Int64(); i < lo {
			return fmt.Errorf("%d is less than %d", i, lo)
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

// imageReference accepts a Docker image reference such as
// "swebench/sweb.eval.x86_64.django_1776_django-11099:latest".
func imageReference(v cty.Value) error {
	if _, err := reference.ParseNormalizedNamed(v.AsString()); err != nil {
		return fmt.Errorf("%q is not an image reference like \"namespace/name:tag\": %w", v.AsString(), err)
	}
	return nil
}

// imageNamespace accepts what may lead an image name: a reference
// without tag or digest.
func imageNamespace(v cty.Value) error {
	ns := strings.Trim(v.AsString(), "/")
	named, err := reference.ParseNormalizedNamed(ns + "/x")
	if err != nil || !reference.IsNameOnly(named) {
		return fmt.Errorf("%q is not an image namespace like \"swebench\" or \"registry.example:5000/swebench\"", v.AsString())
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
