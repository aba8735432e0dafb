package pipeline

import (
	"cmp"
	"math"
	"slices"
)

// The estimators of a tts report. Each takes one task's rollouts; the
// report averages them over tasks.

// Rollout is one rollout of a task as the estimators see it: its index
// among the task's rollouts, whether the harness resolved it, and the
// score the stage selects by (the verifier's rank when it ranks, else its
// score).
type Rollout struct {
	Index    int
	Resolved bool
	Score    float64
}

// binomial is the binomial coefficient C(n, k) as a float64, 0 when k < 0 or
// k > n. It is exact while the result fits 53 bits (n up to 50 or so for
// every k).
func binomial(n, k int) float64 {
	if k < 0 || n < 0 || k > n {
		return 0
	}
	k = min(k, n-k)
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return math.Round(r)
}

// PassAtK is the unbiased pass@k estimator of n rollouts of which c are
// resolved: 1 - C(n-c, k) / C(n, k), the chance that a uniformly random
// k-subset holds a resolved rollout. With fewer than k rollouts, k is
// taken as n (the whole set is the only subset there is); with none it is 0.
func PassAtK(n, c, k int) float64 {
	if n <= 0 || c <= 0 {
		return 0
	}
	k = min(k, n)
	if k <= 0 {
		return 0
	}
	return 1 - binomial(n-c, k)/binomial(n, k)
}

// SelectionOrder sorts rollouts the way the stage picks among them: the
// highest score first, ties (and NaN, which counts below every number) to
// the lowest index. The stage submits the first of a task's rollouts in
// this order.
func SelectionOrder(rs []Rollout) []Rollout {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b Rollout) int {
		an, bn := math.IsNaN(a.Score), math.IsNaN(b.Score)
		switch {
		case an && !bn:
			return 1
		case bn && !an:
			return -1
		case !an && a.Score != b.Score:
			return cmp.Compare(b.Score, a.Score)
		}
		return cmp.Compare(a.Index, b.Index)
	})
	return out
}

// TTSAtK is the expected resolved rate of the verifier's pick from a
// uniformly random k-subset of the rollouts. The pick of a subset is its
// first member in SelectionOrder, so the rollout at position i (from 0) of
// that order is picked in exactly the subsets that hold it and none of the
// i before it: C(n-1-i, k-1) of the C(n, k). With fewer than k rollouts,
// k is taken as n.
func TTSAtK(rs []Rollout, k int) float64 {
	n := len(rs)
	if n == 0 {
		return 0
	}
	k = min(k, n)
	if k <= 0 {
		return 0
	}
	total := binomial(n, k)
	sum := 0.0
	for i, r := range SelectionOrder(rs) {
		if r.Resolved {
			sum += binomial(n-1-i, k-1)
		}
	}
	return sum / total
}

// AUC is the area under the ROC curve of scores as a detector of resolved
// rollouts: the chance that a resolved rollout scores above an unresolved
// one, ties counted one half (the Mann-Whitney U statistic over the
// product of the class sizes). It is nil when either class is empty. NaN
// scores count below every number and tie with each other.
func AUC(rs []Rollout) *float64 {
	var pos, neg []float64
	for _, r := range rs {
		s := r.Score
		if math.IsNaN(s) {
			s = math.Inf(-1)
		}
		if r.Resolved {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return nil
	}
	wins := 0.0
	for _, p := range pos {
		for _, q := range neg {
			switch {
			case p > q:
				wins++
			case p == q:
				wins += 0.5
			}
		}
	}
	a := wins / float64(len(pos)*len(neg))
	return &a
}

// ReportKs are the subset sizes a report gives for k rollouts per task: 1,
// 2, 4, … up to k, and k itself.
func ReportKs(k int) []int {
	var out []int
	for K := 1; K <= k; K *= 2 {
		out = append(out, K)
	}
	if k >= 1 && out[len(out)-1] != k {
		out = append(out, k)
	}
	return out
}
