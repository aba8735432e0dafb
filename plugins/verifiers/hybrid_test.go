package verifiers

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// pick returns the key the host submits: the highest selection score, the
// first in the candidates' order on a tie.
func pick(req sdk.RankRequest, scores map[string]float64) string {
	best := req.Candidates[0].Key
	for _, c := range req.Candidates[1:] {
		if scores[c.Key] > scores[best] {
			best = c.Key
		}
	}
	return best
}

func TestHybridRank(t *testing.T) {
	cand := func(key string, pYes, passRate float64) sdk.RankCandidate {
		return sdk.RankCandidate{Key: key, Score: sdk.Score{Parts: map[string]float64{"p_yes": pYes, "pass_rate": passRate}}}
	}
	tests := []struct {
		name   string
		config string
		cands  []sdk.RankCandidate
		pick   string
		order  []string // keys best first, when the whole order matters
	}{
		{
			name:  "top half by the judge, then the pass rate",
			cands: []sdk.RankCandidate{cand("a", 0.9, 0.2), cand("b", 0.1, 1), cand("c", 0.8, 0.9), cand("d", 0.7, 0.5), cand("e", 0.6, 1), cand("f", 0.2, 1), cand("g", 0.3, 1), cand("h", 0.4, 1)},
			pick:  "e", order: []string{"e", "c", "d", "a", "h", "g", "f", "b"},
		},
		{
			name:  "at least three kept",
			cands: []sdk.RankCandidate{cand("a", 0.9, 0), cand("b", 0.8, 0), cand("c", 0.7, 1), cand("d", 0.1, 1)},
			pick:  "c", order: []string{"c", "a", "b", "d"},
		},
		{
			name:  "fewer than three: all kept",
			cands: []sdk.RankCandidate{cand("a", 0.99, 0.5), cand("b", 0.01, 0.6)},
			pick:  "b",
		},
		{
			name:  "equal pass rate: the judge decides",
			cands: []sdk.RankCandidate{cand("a", 0.5, 1), cand("b", 0.7, 1), cand("c", 0.6, 1)},
			pick:  "b",
		},
		{
			name:  "all equal: the host's order decides",
			cands: []sdk.RankCandidate{cand("z", 0.5, 1), cand("y", 0.5, 1), cand("x", 0.5, 1)},
			pick:  "z",
		},
		{
			name:  "a candidate without parts counts 0",
			cands: []sdk.RankCandidate{{Key: "bare"}, cand("a", 0.1, 0.1)},
			pick:  "a",
		},
		{
			name:   "keep_fraction and keep_at_least",
			config: `{"keep_fraction": 0.25, "keep_at_least": 1}`,
			cands:  []sdk.RankCandidate{cand("a", 0.9, 0), cand("b", 0.8, 1), cand("c", 0.7, 1), cand("d", 0.6, 1)},
			pick:   "a",
		},
		{name: "one candidate", cands: []sdk.RankCandidate{cand("only", 0, 0)}, pick: "only"},
	}
	h := NewHybridVerifier()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sdk.RankRequest{Config: sdk.Config(tt.config), Candidates: tt.cands}
			scores, err := h.Rank(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if err := sdk.CheckRanking(req, scores); err != nil {
				t.Fatal(err)
			}
			if got := pick(req, scores); got != tt.pick {
				t.Errorf("pick %s, want %s (scores %v)", got, tt.pick, scores)
			}
			if tt.order != nil {
				keys := make([]string, 0, len(scores))
				for k := range scores {
					keys = append(keys, k)
				}
				sort.SliceStable(keys, func(a, b int) bool { return scores[keys[a]] > scores[keys[b]] })
				for i := range keys {
					if keys[i] != tt.order[i] {
						t.Errorf("order %v, want %v (scores %v)", keys, tt.order, scores)
						break
					}
				}
			}
		})
	}
	if _, err := h.Rank(context.Background(), sdk.RankRequest{Config: sdk.Config(`{"keep_fraction": 0}`)}); !errors.Is(err, ErrConfig) {
		t.Errorf("keep_fraction 0: %v, want ErrConfig", err)
	}
}

func TestKeepCount(t *testing.T) {
	tests := []struct{ n, want int }{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 3}, {5, 3}, {6, 3}, {7, 4}, {16, 8}}
	for _, tt := range tests {
		if got := KeepCount(tt.n, 0.5, 3); got != tt.want {
			t.Errorf("KeepCount(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		v    sdk.Verifier
		cfg  string
	}{
		{"generative top_logprobs 0", Generative{}, `{"top_logprobs": 0}`},
		{"generative negative budget", Generative{}, `{"max_log_tokens": -1}`},
		{"generative wrong type", Generative{}, `{"max_tokens": "many"}`},
		{"tests runner", NewTestsVerifier(), `{"runner": "cargo"}`},
		{"tests timeout", NewTestsVerifier(), `{"timeout": 0}`},
		{"hybrid keep_at_least", NewHybridVerifier(), `{"keep_at_least": 0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(context.Background(), sdk.VerifyRequest{Config: sdk.Config(tt.cfg), Patch: "x"})
			if !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}
