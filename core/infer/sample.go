package infer

import (
	"math"
	"math/rand/v2"
	"slices"
)

// sample picks the next token from one row of logits as req asks, with
// its log-probability and the best alternatives.
func sample(logits []float32, req Request, rng *rand.Rand) Token {
	// log-softmax of the raw logits, in float64.
	best := 0
	for i, x := range logits {
		if x > logits[best] {
			best = i
		}
	}
	maxL := float64(logits[best])
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - maxL)
	}
	lse := maxL + math.Log(sum)

	id := best
	if req.Temperature > 0 {
		id = draw(logits, req.Temperature, req.TopP, rng)
	}
	tok := Token{ID: int32(id), Logprob: float64(logits[id]) - lse}
	if k := req.TopLogprobs; k > 0 {
		for _, i := range topK(logits, k) {
			tok.Top = append(tok.Top, Alternative{ID: int32(i), Logprob: float64(logits[i]) - lse})
		}
	}
	return tok
}

// draw samples from softmax(logits/temperature) restricted to the nucleus
// of probability topP.
func draw(logits []float32, temperature, topP float64, rng *rand.Rand) int {
	maxL := float64(slices.Max(logits))
	probs := make([]float64, len(logits))
	var sum float64
	for i, x := range logits {
		p := math.Exp((float64(x) - maxL) / temperature)
		probs[i] = p
		sum += p
	}
	if topP > 0 && topP < 1 {
		order := make([]int, len(probs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case probs[a] > probs[b]:
				return -1
			case probs[a] < probs[b]:
				return 1
			}
			return 0
		})
		var kept float64
		n := 0
		for n < len(order) && kept < topP*sum {
			kept += probs[order[n]]
			n++
		}
		u := rng.Float64() * kept
		for _, i := range order[:n] {
			u -= probs[i]
			if u < 0 {
				return i
			}
		}
		return order[n-1]
	}
	u := rng.Float64() * sum
	last := 0
	for i, p := range probs {
		if p > 0 {
			last = i
		}
		u -= p
		if u < 0 {
			return i
		}
	}
	return last // rounding left u at ≥ 0
}

// topK returns the indices of the k largest logits, largest first (lower
// index first among equals).
func topK(logits []float32, k int) []int {
	k = min(k, len(logits))
	top := make([]int, 0, k+1)
	for i, x := range logits {
		if len(top) == k && x <= logits[top[k-1]] {
			continue
		}
		j := len(top)
		for j > 0 && logits[top[j-1]] < x {
			j--
		}
		top = slices.Insert(top, j, i)
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}
