package verifiers

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/swelego/swelego/sdk"
)

// HybridConfig configures the hybrid verifier: the attributes of the
// generative and the tests verifiers, and how many candidates the judge
// keeps.
type HybridConfig struct {
	GenerativeConfig
	TestsConfig
	// KeepFraction is the share of a task's candidates, the best by the
	// judge, that the pass rate picks from (rounded up).
	KeepFraction float64 `json:"keep_fraction"`
	// KeepAtLeast is the fewest candidates kept (all when there are
	// fewer).
	KeepAtLeast int `json:"keep_at_least"`
}

// DefaultHybridConfig is the configuration of an empty block: R2E-Gym's
// top half by the judge, at least 3.
func DefaultHybridConfig() HybridConfig {
	return HybridConfig{GenerativeConfig: DefaultGenerativeConfig(), TestsConfig: DefaultTestsConfig(), KeepFraction: 0.5, KeepAtLeast: 3}
}

func (c HybridConfig) check() error {
	if err := c.GenerativeConfig.check(); err != nil {
		return err
	}
	if err := c.TestsConfig.check(); err != nil {
		return err
	}
	switch {
	case !(c.KeepFraction > 0 && c.KeepFraction <= 1):
		return fmt.Errorf("%w: keep_fraction is %g, want more than 0 and at most 1", ErrConfig, c.KeepFraction)
	case c.KeepAtLeast < 1:
		return fmt.Errorf("%w: keep_at_least is %d, want at least 1", ErrConfig, c.KeepAtLeast)
	}
	return nil
}

// HybridSchema is the configuration the hybrid verifier accepts.
var HybridSchema = hybridSchema()

func hybridSchema() sdk.Schema {
	s := sdk.Schema{Attributes: map[string]sdk.Attribute{
		"keep_fraction": {Type: sdk.TypeNumber, Default: DefaultHybridConfig().KeepFraction, Description: "share of a task's candidates, the best by the judge, that the pass rate picks from, rounded up"},
		"keep_at_least": {Type: sdk.TypeNumber, Default: DefaultHybridConfig().KeepAtLeast, Description: "fewest candidates kept by the judge, all when there are fewer"},
	}}
	for name, a := range GenerativeSchema.Attributes {
		s.Attributes[name] = a
	}
	for name, a := range TestsSchema.Attributes {
		s.Attributes[name] = a
	}
	return s
}

// Hybrid scores each candidate with the judge and with the tests, and
// ranks a task's candidates as R2E-Gym does: keep the top half by the
// judge's P(YES) (at least KeepAtLeast), then pick by the best pass rate
// of the tests, then by P(YES). Create it with NewHybridVerifier.
type Hybrid struct{ tests *Tests }

// NewHybridVerifier returns a hybrid verifier with an empty cache of base
// runs.
func NewHybridVerifier() *Hybrid { return &Hybrid{tests: NewTestsVerifier()} }

var (
	_ sdk.Verifier = (*Hybrid)(nil)
	_ sdk.Ranker   = (*Hybrid)(nil)
)

func decodeHybrid(c sdk.Config) (HybridConfig, error) {
	cfg := DefaultHybridConfig()
	if err := c.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return cfg, cfg.check()
}

// Verify runs the judge and the tests side by side. The value is the
// mean of P(YES) and the pass rate, for a host that does not rank; Parts
// holds both (p_yes, pass_rate) and the tests' counts.
func (h *Hybrid) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	cfg, err := decodeHybrid(req.Config)
	if err != nil {
		return sdk.Score{}, err
	}
	var (
		wg            sync.WaitGroup
		judged, ran   sdk.Score
		jErr, testErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		judged, jErr = judge(ctx, cfg.GenerativeConfig, req)
	}()
	ran, testErr = h.tests.run(ctx, cfg.TestsConfig, req)
	wg.Wait()
	if jErr != nil {
		return sdk.Score{}, fmt.Errorf("hybrid verifier: %w", jErr)
	}
	if testErr != nil {
		return sdk.Score{}, fmt.Errorf("hybrid verifier: %w", testErr)
	}
	parts := map[string]float64{}
	for k, v := range ran.Parts {
		parts[k] = v
	}
	parts["p_yes"] = judged.Value
	return sdk.Score{
		Value:   (judged.Value + ran.Value) / 2,
		Label:   judged.Label + "/" + ran.Label,
		Details: "judge: " + judged.Details + "; tests: " + ran.Details,
		Parts:   parts,
	}, nil
}

// Rank orders a task's candidates: those kept by the judge (the first
// ceil(KeepFraction*n), at least KeepAtLeast, by p_yes, the host's order
// breaking ties) come first, by pass_rate and then p_yes; the others
// follow by p_yes and then pass_rate. A missing or non-finite part counts
// as 0. The selection score of a candidate is the number of distinct
// places below its own, so candidates equal in both parts and in the same
// group share a score and the host's order decides between them.
func (h *Hybrid) Rank(ctx context.Context, req sdk.RankRequest) (map[string]float64, error) {
	cfg, err := decodeHybrid(req.Config)
	if err != nil {
		return nil, err
	}
	type cand struct {
		key          string
		pYes, passed float64
		kept         bool
	}
	cs := make([]cand, len(req.Candidates))
	for i, c := range req.Candidates {
		cs[i] = cand{key: c.Key, pYes: part(c.Score, "p_yes"), passed: part(c.Score, "pass_rate")}
	}
	byJudge := make([]int, len(cs))
	for i := range byJudge {
		byJudge[i] = i
	}
	sort.SliceStable(byJudge, func(a, b int) bool { return cs[byJudge[a]].pYes > cs[byJudge[b]].pYes })
	keep := KeepCount(len(cs), cfg.KeepFraction, cfg.KeepAtLeast)
	for _, i := range byJudge[:keep] {
		cs[i].kept = true
	}

	// key orders candidates best first; equal keys share a place.
	key := func(c cand) [3]float64 {
		if c.kept {
			return [3]float64{1, c.passed, c.pYes}
		}
		return [3]float64{0, c.pYes, c.passed}
	}
	less := func(a, b [3]float64) bool {
		for i := range a {
			if a[i] != b[i] {
				return a[i] < b[i]
			}
		}
		return false
	}
	keys := make([][3]float64, 0, len(cs))
	for _, c := range cs {
		keys = append(keys, key(c))
	}
	sort.Slice(keys, func(a, b int) bool { return less(keys[a], keys[b]) })
	// place: how many distinct keys lie below each key.
	place := map[[3]float64]float64{}
	n := 0.0
	for i, k := range keys {
		if i > 0 && less(keys[i-1], k) {
			n++
		}
		place[k] = n
	}
	out := make(map[string]float64, len(cs))
	for _, c := range cs {
		out[c.key] = place[key(c)]
	}
	return out, nil
}

// KeepCount is how many of n candidates the judge keeps: ceil(fraction*n),
// at least atLeast, at most n.
func KeepCount(n int, fraction float64, atLeast int) int {
	k := int(math.Ceil(fraction * float64(n)))
	if k < atLeast {
		k = atLeast
	}
	if k > n {
		k = n
	}
	return k
}

// part reads a named part of a score; missing or non-finite is 0.
func part(s sdk.Score, name string) float64 {
	v := s.Parts[name]
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
