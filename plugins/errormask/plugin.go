package errormask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"sync"

	"github.com/swelego/swelego/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Strategies.
const (
	// StrategyErrorTurns masks turns whose tool call failed to execute.
	StrategyErrorTurns = "error_turns"
	// StrategyNone trains every assistant turn.
	StrategyNone = "none"
	// StrategyKeepDataset applies the dataset's own turn_mask and loss_weight.
	StrategyKeepDataset = "keep_dataset"
	// StrategyLastK trains only the last k assistant turns.
	StrategyLastK = "last_k"
)

// Config is the configuration of the loss masker, the evaluated block of
// a recipe's masker. Absent attributes take the defaults.
type Config struct {
	// Strategy is error_turns (the default), none, keep_dataset or last_k.
	Strategy string `json:"strategy"`
	// K is how many of the last assistant turns last_k trains; required
	// by last_k, a whole number >= 1, and refused by the other strategies.
	K *float64 `json:"k"`
	// Patterns replace the default patterns of error_turns (name → Go
	// regular expression). Absent: the defaults; an empty map: none.
	Patterns map[string]string `json:"patterns"`
	// ExtraPatterns add patterns to Patterns (or the defaults); a name
	// already there replaces its expression.
	ExtraPatterns map[string]string `json:"extra_patterns"`
	// DisablePatterns leaves these patterns out by name.
	DisablePatterns []string `json:"disable_patterns"`
	// UseTurnFlags masks a turn whose Trajectory.Turns entry has Error set
	// (default true).
	UseTurnFlags bool `json:"use_turn_flags"`
	// RespectTurnMask keeps a turn the dataset masked (turn_mask true or
	// loss_weight 0) at weight 0 in error_turns and last_k (default true).
	RespectTurnMask bool `json:"respect_turn_mask"`
}

// Schema is the configuration the loss masker accepts.
var Schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"strategy": {Type: sdk.TypeString, Default: StrategyErrorTurns, Description: "error_turns: weight 0 for assistant turns whose tool call failed to execute; " +
		"none: every assistant turn weight 1; keep_dataset: the messages' own turn_mask and loss_weight; last_k: only the last k assistant turns are trained"},
	"k":                 {Type: sdk.TypeNumber, Description: "last_k only: how many of the last assistant turns are trained (a whole number >= 1; required by last_k)"},
	"patterns":          {Type: sdk.TypeStringMap, Description: "error_turns: name = Go regular expression over an observation's text; replaces the default patterns ({} disables patterns). The name is the masked turn's reason"},
	"extra_patterns":    {Type: sdk.TypeStringMap, Description: "error_turns: patterns added to the defaults (or to patterns); a name already there replaces its expression"},
	"disable_patterns":  {Type: sdk.TypeStringList, Description: "error_turns: names of patterns to leave out, e.g. [\"traceback\"]"},
	"use_turn_flags":    {Type: sdk.TypeBool, Default: true, Description: "error_turns: mask a turn whose recorded turn metadata says its tool call failed (turns[i].error; a non-zero exit code alone does not mask)"},
	"respect_turn_mask": {Type: sdk.TypeBool, Default: true, Description: "error_turns and last_k: keep turns the dataset masked (turn_mask true or loss_weight 0) at weight 0"},
}}

// ErrConfig is returned (wrapped) for a configuration the masker cannot use.
var ErrConfig = errors.New("invalid errormask configuration")

// New returns the plugin: a loss masker.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "errormask",
		Version:     Version,
		Description: "step-level error masking: assistant turns whose tool call failed stay in context with loss weight 0",
		LossMasker:  &Masker{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindLossMasker: Schema},
	}
}

// settings is a checked configuration, patterns compiled.
type settings struct {
	Config
	k        int
	patterns []pattern
}

// ParseConfig decodes and checks a configuration, filling in the defaults.
// Its errors wrap ErrConfig and name the attribute at fault.
func ParseConfig(cfg sdk.Config) (Config, error) {
	s, err := parse(cfg)
	if err != nil {
		return Config{}, err
	}
	return s.Config, nil
}

func parse(cfg sdk.Config) (*settings, error) {
	c := Config{Strategy: StrategyErrorTurns, UseTurnFlags: true, RespectTurnMask: true}
	if len(bytes.TrimSpace(cfg)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(cfg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: more than one JSON value", ErrConfig)
		}
	}
	if c.Strategy == "" {
		c.Strategy = StrategyErrorTurns
	}
	s := &settings{Config: c}
	switch c.Strategy {
	case StrategyErrorTurns, StrategyNone, StrategyKeepDataset:
		if c.K != nil {
			return nil, fmt.Errorf("%w: k: only strategy last_k uses k, the strategy is %s", ErrConfig, c.Strategy)
		}
	case StrategyLastK:
		if c.K == nil {
			return nil, fmt.Errorf("%w: k: strategy last_k needs k, the number of last turns to train", ErrConfig)
		}
		k := *c.K
		if k < 1 || k != math.Trunc(k) || k > math.MaxInt32 {
			return nil, fmt.Errorf("%w: k: %g is not a whole number >= 1", ErrConfig, k)
		}
		s.k = int(k)
	default:
		return nil, fmt.Errorf("%w: strategy: %q is not one of error_turns, none, keep_dataset, last_k", ErrConfig, c.Strategy)
	}
	uses := c.Strategy == StrategyErrorTurns
	if !uses && (c.Patterns != nil || c.ExtraPatterns != nil || c.DisablePatterns != nil) {
		return nil, fmt.Errorf("%w: patterns, extra_patterns and disable_patterns only apply to strategy error_turns, the strategy is %s", ErrConfig, c.Strategy)
	}
	src := defaultPatterns
	if c.Patterns != nil {
		src = c.Patterns
	}
	src = maps.Clone(src)
	maps.Copy(src, c.ExtraPatterns)
	for _, name := range c.DisablePatterns {
		if _, ok := src[name]; !ok {
			return nil, fmt.Errorf("%w: disable_patterns: there is no pattern named %q", ErrConfig, name)
		}
		delete(src, name)
	}
	for name, expr := range src {
		switch {
		case name == "":
			return nil, fmt.Errorf("%w: patterns: a pattern has an empty name", ErrConfig)
		case expr == "":
			return nil, fmt.Errorf("%w: patterns: %q is empty, which would match every observation", ErrConfig, name)
		}
	}
	ps, err := compilePatterns(src)
	if err != nil {
		var pe *patternError
		where := "patterns"
		if errors.As(err, &pe) && c.ExtraPatterns[pe.name] != "" {
			where = "extra_patterns"
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, where, err)
	}
	s.patterns = ps
	return s, nil
}

// cache keeps parsed configurations: a run sends the same one with every
// trajectory, and compiling the patterns each time would dominate.
type cache struct {
	mu sync.Mutex
	m  map[string]*settings
}

const cacheSize = 32

func (c *cache) get(cfg sdk.Config) (*settings, error) {
	key := string(cfg)
	c.mu.Lock()
	s, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := parse(cfg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheSize {
		c.m = map[string]*settings{}
	}
	c.m[key] = s
	return s, nil
}
