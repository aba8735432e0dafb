package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/pluginhost"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// StageAliases maps the pipeline's stage names, as `--stage` accepts them,
// to the recipe block types that make up each.
var StageAliases = map[string]string{
	"tasks":   "source",
	"source":  "source",
	"rollout": "rollout",
	"sft":     "sft",
	"tts":     "tts",
	"eval":    "eval",
}

// Option tunes the stages Stages builds.
type Option func(*options)

type options struct {
	retryErrors     bool
	queue           *hcl.Queue
	languages       *language.Set
	defaultLanguage string
}

// WithLanguages resolves the languages tasks and environments name through
// lookup instead of the plugin host Stages is given (HostLanguages), and
// makes defaultLanguage the language of those that name none (empty: they
// are errors). Without languages no stage can build an environment or run
// a test.
func WithLanguages(lookup language.Lookup, defaultLanguage string) Option {
	return func(o *options) { o.languages, o.defaultLanguage = language.NewSet(lookup), defaultLanguage }
}

// WithDefaultLanguage makes name the language of tasks and environments
// that name none; without it they are errors (core knows no language: the
// caller that knows which plugins it ships picks one).
func WithDefaultLanguage(name string) Option {
	return func(o *options) { o.defaultLanguage = name }
}

// HostLanguages is a language.Lookup over the languages the plugins of h
// serve, built-in and discovered alike.
func HostLanguages(h *pluginhost.Host) language.Lookup {
	return func(ctx context.Context, name string) (sdk.Language, error) {
		l, err := h.FindLanguage(ctx, name)
		if errors.Is(err, pluginhost.ErrUnknownLanguage) {
			return nil, language.Unknown(err)
		}
		if err != nil {
			return nil, err
		}
		return l.Language, nil
	}
}

// WithRetryErrors makes eval stages grade again the instances whose stored
// result is an error (`swelego run --retry-errors`).
func WithRetryErrors() Option { return func(o *options) { o.retryErrors = true } }

// WithQueue spreads the stages' sandbox work (eval grading, synthetic
// validation, rollout attempts, tts rollouts and their scoring) over
// swelego workers through the NATS JetStream server q
// names, in place of the recipe's queue block (`swelego run --queue`).
func WithQueue(q *hcl.Queue) Option { return func(o *options) { o.queue = q } }

// Stages builds an engine stage for every stage block of the recipe.
func Stages(rec *hcl.Recipe, host *pluginhost.Host, opts ...Option) ([]engine.Stage, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.languages == nil && host != nil {
		o.languages = language.NewSet(HostLanguages(host))
	}
	q := o.queue
	if b := rec.Block("queue"); b != nil && q == nil {
		var err error
		if q, err = settingsOf[hcl.Queue](b); err != nil {
			return nil, err
		}
	}
	var out []engine.Stage
	for _, b := range rec.Stages {
		st, err := newStage(stageBase{block: b, recipe: rec, host: host, languages: o.languages, defaultLanguage: o.defaultLanguage, queue: q}, o)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// newStage makes the stage of one stage block from its typed settings.
func newStage(base stageBase, o options) (engine.Stage, error) {
	b := base.block
	if b.Type == "source" && b.Plugin == "" && len(b.Labels) > 0 && b.Labels[0] == "synthetic" {
		cfg, err := settingsOf[hcl.Synthetic](b)
		if err != nil {
			return nil, err
		}
		return &syntheticStage{stageBase: base, cfg: cfg}, nil
	}
	if b.Type == "source" && b.Plugin == "" && len(b.Labels) > 0 && b.Labels[0] == "git_history" {
		cfg, err := settingsOf[hcl.GitHistory](b)
		if err != nil {
			return nil, err
		}
		return &gitHistoryStage{stageBase: base, cfg: cfg}, nil
	}
	switch b.Type {
	case "source":
		return &sourceStage{stageBase: base}, nil
	case "tts":
		cfg, err := settingsOf[hcl.TTS](b)
		if err != nil {
			return nil, err
		}
		return &ttsStage{stageBase: base, cfg: cfg}, nil
	case "eval":
		cfg, err := settingsOf[hcl.Eval](b)
		if err != nil {
			return nil, err
		}
		return newEvalStage(base, cfg, o.retryErrors), nil
	case "rollout":
		cfg, err := settingsOf[hcl.Rollout](b)
		if err != nil {
			return nil, err
		}
		return newRolloutStage(base, cfg), nil
	case "sft":
		cfg, err := settingsOf[hcl.SFT](b)
		if err != nil {
			return nil, err
		}
		return &sftStage{stageBase: base, cfg: cfg}, nil
	}
	return &unavailableStage{stageBase: base}, nil
}

// Select turns `--stage` arguments into stage addresses: a pipeline stage
// name (tasks, rollout, sft, tts, eval) selects every block of that type,
// anything else must be a block address.
func Select(rec *hcl.Recipe, names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		if typ, ok := StageAliases[name]; ok {
			n := 0
			for _, b := range rec.Stages {
				if b.Type == typ {
					out = append(out, b.Address)
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("--stage %s: the recipe has no %s blocks", name, typ)
			}
			continue
		}
		b := rec.Block(name)
		if b == nil || !b.IsStage() {
			return nil, fmt.Errorf("--stage %s: no such stage%s (stage names: %s; or a block address: %s)", name, stageSuggestion(rec, name), aliasNames(), stageAddresses(rec))
		}
		out = append(out, b.Address)
	}
	return out, nil
}

func aliasNames() string {
	names := make([]string, 0, len(StageAliases))
	for n := range StageAliases {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// stageAddresses lists the addresses of the recipe's stages.
func stageAddresses(rec *hcl.Recipe) string {
	if len(rec.Stages) == 0 {
		return "the recipe has no stages"
	}
	addrs := make([]string, len(rec.Stages))
	for i, b := range rec.Stages {
		addrs[i] = b.Address
	}
	return strings.Join(addrs, ", ")
}

// stageSuggestion is ` (did you mean "X"?)` for the stage name (of a
// type the recipe has) or address X closest to name, or "".
func stageSuggestion(rec *hcl.Recipe, name string) string {
	var options []string
	for _, alias := range slices.Sorted(maps.Keys(StageAliases)) {
		if slices.ContainsFunc(rec.Stages, func(b *hcl.Block) bool { return b.Type == StageAliases[alias] }) {
			options = append(options, alias)
		}
	}
	for _, b := range rec.Stages {
		options = append(options, b.Address)
	}
	if best := sdk.Closest(name, options); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// stageBase is what every stage has: its block, the recipe, the plugins,
// the languages and the queue its sandbox work goes through (nil: this
// process's sandboxes).
type stageBase struct {
	block           *hcl.Block
	recipe          *hcl.Recipe
	host            *pluginhost.Host
	languages       *language.Set
	defaultLanguage string
	queue           *hcl.Queue
}

func (s *stageBase) Address() string { return s.block.Address }

// DependsOn lists the stages the block refers to; references to other
// blocks (environments, models) are not stages, but the stages a model
// block refers to (a local model's sft checkpoint) are.
func (s *stageBase) DependsOn() []string {
	var out []string
	for _, d := range s.block.DependsOn {
		b := s.recipe.Block(d)
		switch {
		case b == nil:
		case b.IsStage():
			out = append(out, d)
		case b.Type == "model":
			for _, md := range b.DependsOn {
				if mb := s.recipe.Block(md); mb != nil && mb.IsStage() && !slices.Contains(out, md) {
					out = append(out, md)
				}
			}
		}
	}
	return out
}

// notFingerprinted are the settings that change how fast a stage's items
// are done, or which of them, but not what each one's record holds:
// changing them keeps a stage's outputs (workers: items done at once;
// instance_ids: which instances an eval grades and reports). Timeouts and
// limits do change records (a test run cut short is graded an error) and
// stay in the fingerprint.
var notFingerprinted = map[string]bool{"workers": true, "instance_ids": true}

// Fingerprint hashes the block's evaluated configuration (but
// notFingerprinted) and the identity of the plugins it calls, so a
// finished stage whose configuration changed, or whose plugin was swapped,
// is noticed.
func (s *stageBase) Fingerprint() string { return s.fingerprint(notFingerprinted) }

// PreviousFingerprints is the fingerprint earlier builds of swelego
// computed, over every setting (workers too), so that runs they made are
// not asked to rerun (engine.FingerprintHistory).
func (s *stageBase) PreviousFingerprints() []string { return []string{s.fingerprint(newSettings)} }

// newSettings are the settings earlier builds of swelego did not have.
var newSettings = map[string]bool{"instance_ids": true, "skipped_pass_to_pass": true}

func (s *stageBase) fingerprint(skip map[string]bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", s.block.Address, s.block.Plugin)
	if v := s.block.Value; v != (cty.Value{}) && v.IsWhollyKnown() {
		if v.Type().IsObjectType() && !v.IsNull() && len(skip) > 0 {
			attrs := map[string]cty.Value{}
			for name, av := range v.AsValueMap() {
				if !skip[name] {
					attrs[name] = av
				}
			}
			v = cty.ObjectVal(attrs)
		}
		if data, err := ctyjson.Marshal(v, v.Type()); err == nil {
			h.Write(data)
		}
	}
	h.Write(s.block.Config)
	s.writePlugin(h, s.block.Plugin)
	names := make([]string, 0, len(s.block.Nested))
	for n := range s.block.Nested {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		nested := s.block.Nested[n]
		fmt.Fprintf(h, "\n%s=%s:%s", n, nested.Plugin, nested.Config)
		s.writePlugin(h, nested.Plugin)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (s *stageBase) writePlugin(w io.Writer, name string) {
	if name == "" || s.host == nil {
		return
	}
	id, err := s.host.Identity(name)
	if err != nil {
		id = "unresolved"
	}
	fmt.Fprintf(w, "\nplugin %s %s", name, id)
}

// Rollouts and TTS keep one record per task (attempt, candidate) and skip
// what they hold, so a finished one picks up tasks its source added since
// (engine.Incremental). Stages that consume everything at once (sft) are
// not incremental: they are stale when their inputs grow.
func (s *rolloutStage) Incremental() bool { return true }
func (s *ttsStage) Incremental() bool     { return true }

// unavailableStage stands for a stage type this build cannot run yet.
type unavailableStage struct{ stageBase }

func (s *unavailableStage) Run(ctx context.Context, sc *engine.StageContext) error {
	return fmt.Errorf("%s: %s stages are not available in this version of swelego", s.block.Address, s.block.Type)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func jsonMarshalIndent(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}
