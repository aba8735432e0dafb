package pipeline

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestPassAtK(t *testing.T) {
	tests := []struct {
		name    string
		n, c, k int
		want    float64
	}{
		{"one of four, k=1", 4, 1, 1, 0.25},
		{"one of four, k=2", 4, 1, 2, 1 - 3.0/6},  // C(3,2)/C(4,2)
		{"one of four, k=3", 4, 1, 3, 1 - 1.0/4},  // C(3,3)/C(4,3)
		{"one of four, k=4", 4, 1, 4, 1},          // every 4-subset holds it
		{"two of four, k=2", 4, 2, 2, 1 - 1.0/6},  // C(2,2)/C(4,2)
		{"two of five, k=3", 5, 2, 3, 1 - 1.0/10}, // C(3,3)/C(5,3)
		{"three of eight, k=4", 8, 3, 4, 1 - 5.0/70},
		{"all resolved", 4, 4, 1, 1},
		{"all resolved, k=4", 4, 4, 4, 1},
		{"none resolved", 4, 0, 1, 0},
		{"none resolved, k=4", 4, 0, 4, 0},
		{"n < k: k is n", 2, 1, 4, 1},
		{"n < k, none", 2, 0, 4, 0},
		{"no rollouts", 0, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PassAtK(tt.n, tt.c, tt.k); !near(got, tt.want) {
				t.Errorf("PassAtK(%d, %d, %d) = %v, want %v", tt.n, tt.c, tt.k, got, tt.want)
			}
		})
	}
}

// mixed is four rollouts whose order by score is 1 (unresolved), 2
// (resolved), 4 (unresolved), 3 (resolved).
var mixed = []Rollout{
	{Index: 1, Score: 0.9},
	{Index: 2, Score: 0.8, Resolved: true},
	{Index: 3, Score: 0.1, Resolved: true},
	{Index: 4, Score: 0.5},
}

func TestTTSAtK(t *testing.T) {
	tied := []Rollout{{Index: 1, Score: 0.5}, {Index: 2, Score: 0.5}, {Index: 3, Score: 0.5, Resolved: true}, {Index: 4, Score: 0.5}}
	nan := []Rollout{{Index: 1, Score: math.NaN(), Resolved: true}, {Index: 2, Score: 0.1}}
	all := []Rollout{{Index: 1, Score: 0.2, Resolved: true}, {Index: 2, Score: 0.7, Resolved: true}, {Index: 3, Score: 0.3, Resolved: true}}
	none := []Rollout{{Index: 1, Score: 0.2}, {Index: 2, Score: 0.7}, {Index: 3, Score: 0.3}}
	tests := []struct {
		name string
		rs   []Rollout
		k    int
		want float64
	}{
		// k=1 is the resolved share: 2 of 4.
		{"mixed k=1", mixed, 1, 0.5},
		// 2-subsets: {1,2}→1 {1,3}→1 {1,4}→1 {2,3}→2 {2,4}→2 {3,4}→4: two of six picks resolved.
		{"mixed k=2", mixed, 2, 2.0 / 6},
		// 3-subsets: only {2,3,4} has no 1; its pick 2 is resolved.
		{"mixed k=3", mixed, 3, 1.0 / 4},
		{"mixed k=4", mixed, 4, 0},
		{"mixed n < k", mixed, 8, 0},
		// Equal scores: the lowest index wins, so 3 is picked only from {3,4}.
		{"ties k=1", tied, 1, 0.25},
		{"ties k=2", tied, 2, 1.0 / 6},
		{"ties k=3", tied, 3, 0},
		// NaN scores below every number: the resolved rollout is never picked with the other.
		{"nan k=2", nan, 2, 0},
		{"nan k=1", nan, 1, 0.5},
		{"all resolved k=1", all, 1, 1},
		{"all resolved k=3", all, 3, 1},
		{"none resolved k=2", none, 2, 0},
		{"no rollouts", nil, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TTSAtK(tt.rs, tt.k); !near(got, tt.want) {
				t.Errorf("TTSAtK(k=%d) = %v, want %v", tt.k, got, tt.want)
			}
		})
	}
}

// TestTTSAtKEnumerated checks the combinatorial TTS@k against picking
// from every k-subset in turn, on random scores with ties.
func TestTTSAtKEnumerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + rng.IntN(7)
		rs := make([]Rollout, n)
		for i := range rs {
			rs[i] = Rollout{Index: i + 1, Score: float64(rng.IntN(4)) / 4, Resolved: rng.IntN(2) == 0}
		}
		for k := 1; k <= n; k++ {
			picked, subsets := 0, 0
			for mask := range 1 << n {
				if popcount(mask) != k {
					continue
				}
				subsets++
				best := -1
				for i := range n {
					if mask&(1<<i) == 0 {
						continue
					}
					if best < 0 || rs[i].Score > rs[best].Score {
						best = i // ties keep the lower index, met first
					}
				}
				if rs[best].Resolved {
					picked++
				}
			}
			want := float64(picked) / float64(subsets)
			if got := TTSAtK(rs, k); !near(got, want) {
				t.Fatalf("trial %d, k=%d: TTSAtK %v, enumerated %v (%+v)", trial, k, got, want, rs)
			}
			// pass@k, also enumerated, bounds TTS@k from above.
			c := 0
			for _, r := range rs {
				if r.Resolved {
					c++
				}
			}
			if p := PassAtK(n, c, k); TTSAtK(rs, k) > p+1e-12 {
				t.Fatalf("trial %d: TTS@%d %v above pass@%d %v", trial, k, TTSAtK(rs, k), k, p)
			}
		}
	}
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func TestAUC(t *testing.T) {
	tests := []struct {
		name string
		rs   []Rollout
		want float64 // -1: nil
	}{
		// resolved 0.8, 0.1 against unresolved 0.9, 0.5: only 0.8 > 0.5 of four pairs.
		{"mixed", mixed, 0.25},
		{"perfect", []Rollout{{Score: 0.9, Resolved: true}, {Score: 0.2}}, 1},
		{"reversed", []Rollout{{Score: 0.1, Resolved: true}, {Score: 0.2}}, 0},
		// 0.5 against 0.5 (a tie, 1/2) and 0.2 (a win): 1.5 of 2.
		{"ties", []Rollout{{Score: 0.5, Resolved: true}, {Score: 0.5}, {Score: 0.2}}, 0.75},
		{"all tied", []Rollout{{Score: 1, Resolved: true}, {Score: 1}, {Score: 1, Resolved: true}}, 0.5},
		{"nan below", []Rollout{{Score: 0, Resolved: true}, {Score: math.NaN()}}, 1},
		{"all resolved", []Rollout{{Score: 0.5, Resolved: true}, {Score: 0.1, Resolved: true}}, -1},
		{"none resolved", []Rollout{{Score: 0.5}, {Score: 0.1}}, -1},
		{"empty", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AUC(tt.rs)
			switch {
			case tt.want < 0 && got != nil:
				t.Errorf("AUC = %v, want nil", *got)
			case tt.want >= 0 && got == nil:
				t.Errorf("AUC = nil, want %v", tt.want)
			case got != nil && !near(*got, tt.want):
				t.Errorf("AUC = %v, want %v", *got, tt.want)
			}
		})
	}
}

func TestReportKs(t *testing.T) {
	tests := []struct {
		k    int
		want []int
	}{
		{1, []int{1}},
		{2, []int{1, 2}},
		{4, []int{1, 2, 4}},
		{6, []int{1, 2, 4, 6}},
		{16, []int{1, 2, 4, 8, 16}},
		{0, nil},
	}
	for _, tt := range tests {
		if got := ReportKs(tt.k); !slices.Equal(got, tt.want) {
			t.Errorf("ReportKs(%d) = %v, want %v", tt.k, got, tt.want)
		}
	}
}

func TestBinomial(t *testing.T) {
	tests := []struct{ n, k, want int }{
		{4, 2, 6}, {5, 0, 1}, {5, 5, 1}, {3, 4, 0}, {3, -1, 0}, {16, 8, 12870}, {40, 20, 137846528820},
	}
	for _, tt := range tests {
		if got := binomial(tt.n, tt.k); got != float64(tt.want) {
			t.Errorf("binomial(%d, %d) = %v, want %d", tt.n, tt.k, got, tt.want)
		}
	}
}
