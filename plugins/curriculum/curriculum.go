package curriculum

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Strategies and difficulty measures.
const (
	// StrategyTiers splits the trajectories into difficulty tiers, trained
	// easiest first.
	StrategyTiers = "tiers"
	// StrategyNone trains every trajectory in one stage.
	StrategyNone = "none"

	// ByTurns measures difficulty by the number of assistant turns.
	ByTurns = "turns"
	// ByTokens measures difficulty by the number of tokens.
	ByTokens = "tokens"

	// DefaultTiers is the number of tiers when the configuration gives none,
	// as in SWE-Lego.
	DefaultTiers = 3
)

// Config is the configuration of the curriculum. Absent attributes take the
// defaults.
type Config struct {
	// Strategy is tiers (the default) or none.
	Strategy string `json:"strategy"`
	// By is the difficulty measure of tiers: turns (the default) or tokens.
	By string `json:"by"`
	// Tiers is how many tiers tiers makes (default 3), a whole number >= 1.
	Tiers float64 `json:"tiers"`
	// Cumulative makes stage k train tiers 1 to k instead of tier k alone.
	Cumulative bool `json:"cumulative"`
	// Epochs gives each stage's epochs, one per tier (one for none), each
	// > 0. Absent, every stage has 0 and the host splits the recipe's
	// epochs equally.
	Epochs []float64 `json:"epochs"`
}

// Schema is the configuration the curriculum accepts.
var Schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"strategy":   {Type: sdk.TypeString, Default: StrategyTiers, Description: "tiers: split the trajectories into difficulty tiers trained from easiest to hardest; none: one stage with every trajectory"},
	"by":         {Type: sdk.TypeString, Default: ByTurns, Description: "tiers: the difficulty measure, turns (the number of assistant turns, as SWE-Lego) or tokens"},
	"tiers":      {Type: sdk.TypeNumber, Default: float64(DefaultTiers), Description: "tiers: how many tiers, split at quantiles of the difficulty; equal difficulties always share a tier, so some tiers may be empty and are left out"},
	"cumulative": {Type: sdk.TypeBool, Default: false, Description: "tiers: stage k trains tiers 1..k instead of tier k alone, revisiting the easier tiers"},
	"epochs":     {Type: []any{"list", "number"}, Description: "epochs of each stage, one per tier (one for none), each > 0; absent: the host splits the recipe's epochs equally between the stages"},
}}

// ErrConfig is returned (wrapped) for a configuration the curriculum cannot
// use.
var ErrConfig = errors.New("invalid curriculum configuration")

// New returns the plugin: a curriculum.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "curriculum",
		Version:     Version,
		Description: "difficulty curriculum: trajectories in tiers by assistant turns or tokens, trained easy to hard",
		Curriculum:  Curriculum{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindCurriculum: Schema},
	}
}

// ParseConfig decodes and checks a configuration, filling in the defaults.
// Its errors wrap ErrConfig and name the attribute at fault.
func ParseConfig(cfg sdk.Config) (Config, error) {
	c := Config{Strategy: StrategyTiers, By: ByTurns, Tiers: DefaultTiers}
	if len(bytes.TrimSpace(cfg)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(cfg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if dec.More() {
			return Config{}, fmt.Errorf("%w: more than one JSON value", ErrConfig)
		}
	}
	if c.Strategy == "" {
		c.Strategy = StrategyTiers
	}
	if c.By == "" {
		c.By = ByTurns
	}
	stages := 1
	switch c.Strategy {
	case StrategyTiers:
		if c.Tiers < 1 || c.Tiers != math.Trunc(c.Tiers) || c.Tiers > 1000 {
			return Config{}, fmt.Errorf("%w: tiers: %g is not a whole number from 1 to 1000", ErrConfig, c.Tiers)
		}
		stages = int(c.Tiers)
	case StrategyNone:
	default:
		return Config{}, fmt.Errorf("%w: strategy: %q is not one of tiers, none", ErrConfig, c.Strategy)
	}
	if c.By != ByTurns && c.By != ByTokens {
		return Config{}, fmt.Errorf("%w: by: %q is not one of turns, tokens", ErrConfig, c.By)
	}
	if c.Epochs != nil {
		if len(c.Epochs) != stages {
			return Config{}, fmt.Errorf("%w: epochs: %d values for %d stages; give one per stage", ErrConfig, len(c.Epochs), stages)
		}
		for i, e := range c.Epochs {
			if !(e > 0) || math.IsInf(e, 0) {
				return Config{}, fmt.Errorf("%w: epochs: value %d, %g, is not a finite number > 0", ErrConfig, i+1, e)
			}
		}
	}
	return c, nil
}

// Curriculum is the curriculum. Its zero value is ready to use.
type Curriculum struct{}

var _ sdk.Curriculum = Curriculum{}

// Stages orders the trajectories by the configured strategy.
//
// tiers sorts the trajectories by difficulty d (assistant turns or tokens)
// and puts each one in tier floor(n·b/N)+1, where n is the number of tiers,
// N the number of trajectories and b the number of trajectories strictly
// easier than it: tier k holds the trajectories of which at least (k-1)/n
// and less than k/n of all are easier. Equal difficulties therefore always
// share a tier (the easier one they reach), the tiers keep the order of
// difficulty, and a tier can be empty (ties, or fewer trajectories than
// tiers); empty tiers make no stage. Stage k is named "tierK" and trains
// tier k, or with cumulative "tier1-K" trains tiers 1 to k. Ids are sorted
// within a stage; the host shuffles them anyway.
//
// none returns one stage, "all", with every id. No trajectories give no
// stages. Ids must be unique.
func (Curriculum) Stages(ctx context.Context, cfg sdk.Config, stats []sdk.TrajectoryStats) ([]sdk.CurriculumStage, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return c.stages(stats)
}

func (c Config) stages(stats []sdk.TrajectoryStats) ([]sdk.CurriculumStage, error) {
	seen := make(map[string]bool, len(stats))
	for _, s := range stats {
		if seen[s.ID] {
			return nil, fmt.Errorf("curriculum: trajectory id %q appears twice", s.ID)
		}
		seen[s.ID] = true
	}
	if len(stats) == 0 {
		return nil, nil
	}
	epochs := func(i int) float64 {
		if c.Epochs == nil {
			return 0
		}
		return c.Epochs[i]
	}
	if c.Strategy == StrategyNone {
		ids := make([]string, 0, len(stats))
		for _, s := range stats {
			ids = append(ids, s.ID)
		}
		slices.Sort(ids)
		return []sdk.CurriculumStage{{Name: "all", IDs: ids, Epochs: epochs(0)}}, nil
	}
	tiers, err := c.tiers(stats)
	if err != nil {
		return nil, err
	}
	var out []sdk.CurriculumStage
	var cum []string
	for k, ids := range tiers {
		if len(ids) == 0 {
			continue
		}
		name := fmt.Sprintf("tier%d", k+1)
		stage := ids
		if c.Cumulative {
			cum = append(cum, ids...)
			stage = slices.Clone(cum)
			if k > 0 {
				name = fmt.Sprintf("tier1-%d", k+1)
			}
		}
		slices.Sort(stage)
		out = append(out, sdk.CurriculumStage{Name: name, IDs: stage, Epochs: epochs(k)})
	}
	return out, nil
}

// tiers returns the ids of each tier, easiest first (see Stages).
func (c Config) tiers(stats []sdk.TrajectoryStats) ([][]string, error) {
	n := int(c.Tiers)
	type item struct {
		id string
		d  int
	}
	items := make([]item, len(stats))
	counted := false
	for i, s := range stats {
		d := s.Turns
		if c.By == ByTokens {
			d = s.Tokens
		}
		counted = counted || d != 0
		items[i] = item{id: s.ID, d: d}
	}
	if c.By == ByTokens && !counted {
		return nil, errors.New("curriculum: by = tokens, but no trajectory has a token count")
	}
	slices.SortFunc(items, func(a, b item) int {
		if a.d != b.d {
			return cmp.Compare(a.d, b.d)
		}
		return strings.Compare(a.id, b.id)
	})
	total := len(items)
	out := make([][]string, n)
	below := 0 // trajectories strictly easier than items[i]
	for i, it := range items {
		if i > 0 && it.d != items[i-1].d {
			below = i
		}
		k := n * below / total
		out[k] = append(out[k], it.id)
	}
	return out, nil
}
