package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/swelego/swelego/core/backend"
)

func randn(r *rand.Rand, n int, std float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * std)
	}
	return x
}

func tensor(x []float32) *Tensor { return &Tensor{Data: x} }

// gradCase is one op under a finite-difference check: forward computes the
// op's output from inputs; backward, given dout, adds the inputs' gradients
// to grads (one slice per input, zeroed by the checker).
type gradCase struct {
	name     string
	inputs   [][]float32
	forward  func(b *Backend) []float32
	backward func(b *Backend, dout []float32, grads [][]float32)
}

// checkGrads compares the analytic gradient of L = Σ out·R with central
// differences for a sample of the entries of every input. The forward pass
// runs in float32, so the step is large and the tolerance relative to the
// largest gradient of the input.
func checkGrads(t *testing.T, c gradCase) {
	t.Helper()
	b := New(2)
	defer b.Close()
	r := rand.New(rand.NewPCG(7, 7))
	out := c.forward(b)
	R := randn(r, len(out), 1)
	loss := func() float64 {
		o := c.forward(b)
		var s float64
		for i := range o {
			s += float64(o[i]) * float64(R[i])
		}
		return s
	}
	grads := make([][]float32, len(c.inputs))
	for i, in := range c.inputs {
		grads[i] = make([]float32, len(in))
	}
	c.forward(b)
	c.backward(b, R, grads)
	const h = 1e-2
	for i, in := range c.inputs {
		var scale float64
		for _, g := range grads[i] {
			scale = math.Max(scale, math.Abs(float64(g)))
		}
		for s := 0; s < 24; s++ {
			j := r.IntN(len(in))
			orig := in[j]
			in[j] = orig + h
			lp := loss()
			in[j] = orig - h
			lm := loss()
			in[j] = orig
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - float64(grads[i][j])); d > 3e-3*scale+2e-4 {
				t.Errorf("%s: input %d[%d]: analytic %.6g, numeric %.6g (scale %.3g)", c.name, i, j, grads[i][j], num, scale)
			}
		}
	}
}

func TestFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const rows, dim = 6, 32

	rmsIn, rmsW := randn(r, rows*dim, 1), randn(r, dim, 1)
	rmsOut, rstd := make([]float32, rows*dim), make([]float32, rows)

	mmIn, mmW, mmB := randn(r, 5*12, 1), randn(r, 7*12, 0.5), randn(r, 7, 0.5)
	mmOut := make([]float32, 5*7)

	const heads, hd = 3, 8
	ropeIn := randn(r, rows*heads*hd, 1)
	ropeOut := make([]float32, len(ropeIn))
	cos, sin := make([]float32, rows*hd/2), make([]float32, rows*hd/2)
	for i := range cos {
		a := r.Float64() * 6
		cos[i], sin[i] = float32(math.Cos(a)*1.2), float32(math.Sin(a)*1.2) // a YaRN-like factor
	}

	gate, up := randn(r, 50, 2), randn(r, 50, 1)
	swOut := make([]float32, 50)

	table := randn(r, 10*4, 1)
	ids := []int32{3, 1, 3, 9, 0}
	embOut := make([]float32, len(ids)*4)

	const V = 11
	logits := randn(r, 4*V, 2)
	targets := []int32{2, 10, 0, 5}
	weights := []float32{1, 0, 0.5, 2}
	ceLoss, ceD := make([]float32, 4), make([]float32, 4*V)

	cases := []gradCase{
		{
			name:   "RMSNorm",
			inputs: [][]float32{rmsIn, rmsW},
			forward: func(b *Backend) []float32 {
				b.RMSNorm(tensor(rmsOut), tensor(rstd), tensor(rmsIn), tensor(rmsW), rows, dim, 1e-6)
				return rmsOut
			},
			backward: func(b *Backend, d []float32, g [][]float32) {
				b.RMSNormBackward(tensor(g[0]), tensor(g[1]), tensor(d), tensor(rmsIn), tensor(rmsW), tensor(rstd), rows, dim)
			},
		},
		{
			name:   "MatMul",
			inputs: [][]float32{mmIn, mmW, mmB},
			forward: func(b *Backend) []float32 {
				b.MatMul(tensor(mmOut), tensor(mmIn), tensor(mmW), tensor(mmB), 5, 12, 7)
				return mmOut
			},
			backward: func(b *Backend, d []float32, g [][]float32) {
				b.MatMulBackward(tensor(g[0]), tensor(g[1]), tensor(g[2]), tensor(d), tensor(mmIn), tensor(mmW), 5, 12, 7)
			},
		},
		{
			name:   "RoPE",
			inputs: [][]float32{ropeIn},
			forward: func(b *Backend) []float32 {
				b.RoPE(tensor(ropeOut), tensor(ropeIn), tensor(cos), tensor(sin), rows, heads, hd)
				return ropeOut
			},
			backward: func(b *Backend, d []float32, g [][]float32) {
				b.RoPEBackward(tensor(g[0]), tensor(d), tensor(cos), tensor(sin), rows, heads, hd)
			},
		},
		{
			name:   "SwiGLU",
			inputs: [][]float32{gate, up},
			forward: func(b *Backend) []float32 {
				b.SwiGLU(tensor(swOut), tensor(gate), tensor(up), 50)
				return swOut
			},
			backward: func(b *Backend, d []float32, g [][]float32) {
				b.SwiGLUBackward(tensor(g[0]), tensor(g[1]), tensor(d), tensor(gate), tensor(up), 50)
			},
		},
		{
			name:   "Embedding",
			inputs: [][]float32{table},
			forward: func(b *Backend) []float32 {
				b.Embedding(tensor(embOut), tensor(table), ids, 4)
				return embOut
			},
			backward: func(b *Backend, d []float32, g [][]float32) {
				b.EmbeddingBackward(tensor(g[0]), tensor(d), ids, 4)
			},
		},
		{
			// CrossEntropy's "output" is the per-row loss; its backward is the
			// dlogits it writes, scaled here by the upstream R per row.
			name:   "CrossEntropy",
			inputs: [][]float32{logits},
			forward: func(b *Backend) []float32 {
				b.CrossEntropy(tensor(ceLoss), nil, tensor(logits), targets, weights, 4, V, 0.25)
				return ceLoss
			},
			backward: func(b *Backend, d []float32, g [][]float32) {
				b.CrossEntropy(tensor(ceLoss), tensor(ceD), tensor(logits), targets, weights, 4, V, 0.25)
				for row := range 4 {
					for j := range V {
						g[0][row*V+j] += d[row] * ceD[row*V+j]
					}
				}
			},
		},
	}
	cases = append(cases, attentionCases(r)...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrads(t, c) })
	}
}

func attentionCases(r *rand.Rand) []gradCase {
	type shape struct {
		name  string
		a     backend.Attn
		start []int32
	}
	// Seq 70 crosses the 64-row block, so the block logic is exercised.
	packed := make([]int32, 2*70)
	for s := range 2 {
		for t := range 70 {
			switch {
			case s == 1 && t >= 40:
				packed[s*70+t] = 40
			case s == 1 && t >= 13:
				packed[s*70+t] = 13
			}
		}
	}
	shapes := []shape{
		{"Attention/causal MHA", backend.Attn{Batch: 1, Seq: 9, Heads: 2, KVHeads: 2, HeadDim: 4}, nil},
		{"Attention/GQA packed", backend.Attn{Batch: 2, Seq: 70, Heads: 4, KVHeads: 2, HeadDim: 8}, packed},
	}
	var out []gradCase
	for _, s := range shapes {
		a := s.a
		a.Scale = float32(1 / math.Sqrt(float64(a.HeadDim)))
		a.Start = s.start
		n := a.Batch * a.Seq
		q := randn(r, n*a.Heads*a.HeadDim, 1)
		k := randn(r, n*a.KVHeads*a.HeadDim, 1)
		v := randn(r, n*a.KVHeads*a.HeadDim, 1)
		o := make([]float32, len(q))
		lse := make([]float32, n*a.Heads)
		out = append(out, gradCase{
			name:   s.name,
			inputs: [][]float32{q, k, v},
			forward: func(b *Backend) []float32 {
				b.Attention(tensor(o), tensor(lse), tensor(q), tensor(k), tensor(v), a)
				return o
			},
			backward: func(b *Backend, d []float32, g [][]float32) {
				b.AttentionBackward(tensor(g[0]), tensor(g[1]), tensor(g[2]), tensor(d), tensor(o), tensor(lse), tensor(q), tensor(k), tensor(v), a)
			},
		})
	}
	return out
}

// naiveAttention is the textbook loop: for each query, softmax over the
// keys of its segment up to itself.
func naiveAttention(a backend.Attn, q, k, v []float32) []float32 {
	T, H, KV, D := a.Seq, a.Heads, a.KVHeads, a.HeadDim
	out := make([]float32, len(q))
	for s := range a.Batch {
		for h := range H {
			kvh := h / (H / KV)
			for t := range T {
				lo := 0
				if a.Start != nil {
					lo = int(a.Start[s*T+t])
				}
				scores := make([]float64, t+1)
				m := math.Inf(-1)
				for u := lo; u <= t; u++ {
					var dot float64
					for d := range D {
						dot += float64(q[(s*T+t)*H*D+h*D+d]) * float64(k[(s*T+u)*KV*D+kvh*D+d])
					}
					scores[u] = dot * float64(a.Scale)
					m = math.Max(m, scores[u])
				}
				var sum float64
				for u := lo; u <= t; u++ {
					scores[u] = math.Exp(scores[u] - m)
					sum += scores[u]
				}
				for d := range D {
					var acc float64
					for u := lo; u <= t; u++ {
						acc += scores[u] / sum * float64(v[(s*T+u)*KV*D+kvh*D+d])
					}
					out[(s*T+t)*H*D+h*D+d] = float32(acc)
				}
			}
		}
	}
	return out
}

func TestAttentionMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, c := range attentionCases(r) {
		t.Run(c.name, func(t *testing.T) {
			b := New(0)
			defer b.Close()
			got := c.forward(b)
			// Recover the shape from the case by recomputing with the naive loop.
			a := attnOf(c)
			want := naiveAttention(a, c.inputs[0], c.inputs[1], c.inputs[2])
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
					t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// attnOf runs a case's forward on a recording backend to learn its Attn.
func attnOf(c gradCase) backend.Attn {
	b := New(1)
	defer b.Close()
	c.forward(b)
	return b.attn.a
}

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := -87.0; x < 88.3; x += 0.0137 {
		got := float64(exp32(float32(x)))
		want := math.Exp(float64(float32(x)))
		rel := math.Abs(got-want) / want
		worst = math.Max(worst, rel)
	}
	if worst > 3e-7 {
		t.Errorf("exp32 worst relative error %.3g", worst)
	}
	for _, c := range []struct {
		x    float32
		want float32
	}{{-200, 0}, {0, 1}, {float32(math.Inf(-1)), 0}} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if !math.IsInf(float64(exp32(100)), 1) || !math.IsNaN(float64(exp32(float32(math.NaN())))) {
		t.Error("exp32 overflow/NaN handling")
	}
}

// AdamWStep against the update written out in float64.
func TestAdamWStep(t *testing.T) {
	b := New(2)
	defer b.Close()
	r := rand.New(rand.NewPCG(5, 5))
	n := 40000
	p, g, m, v := randn(r, n, 1), randn(r, n, 1), randn(r, n, 0.1), make([]float32, n)
	for i := range v {
		v[i] = float32(math.Abs(r.NormFloat64()) * 0.01)
	}
	p0, m0, v0 := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
	h := backend.AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1,
		Bias1: float32(1 - math.Pow(0.9, 3)), Bias2: float32(1 - math.Pow(0.95, 3)), GradScale: 0.5}
	b.AdamWStep(tensor(p), tensor(g), tensor(m), tensor(v), h)
	for i := 0; i < n; i += 997 {
		gi := float64(g[i]) * 0.5
		mi := 0.9*float64(m0[i]) + 0.1*gi
		vi := 0.95*float64(v0[i]) + 0.05*gi*gi
		want := float64(p0[i])*(1-1e-4) - 1e-3/float64(h.Bias1)*mi/(math.Sqrt(vi)/math.Sqrt(float64(h.Bias2))+1e-8)
		if math.Abs(want-float64(p[i])) > 1e-6 {
			t.Fatalf("p[%d] = %v, want %v", i, p[i], want)
		}
	}
}

func TestSumSquaresDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	x := randn(r, 123457, 1)
	var want float64
	for _, v := range x {
		want += float64(v) * float64(v)
	}
	for _, threads := range []int{1, 2, 3} {
		b := New(threads)
		got := b.SumSquares(tensor(x))
		b.Close()
		if math.Abs(got-want)/want > 1e-12 {
			t.Errorf("%d threads: %v, want %v", threads, got, want)
		}
	}
}

func BenchmarkExp32(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%200) * -0.05
	}
	b.SetBytes(int64(4 * len(x)))
	var s float32
	for b.Loop() {
		for _, v := range x {
			s += exp32(v)
		}
	}
	_ = s
}
