//go:build cuda

package cuda

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/cpu"
)

// These tests need an NVIDIA GPU and its driver: gorgonia.org/cu
// initialises the driver when the test binary starts and exits the process
// when there is none, so on a machine without one the binary does not get
// this far (gpu_gate_test.go, in the default build, says so and skips).
// A driver without a usable device of compute capability 8.0 or newer
// makes each test skip with Open's error.

// openGPU opens device SWELEGO_CUDA_DEVICE (default 0) or skips.
func openGPU(t testing.TB, prec Precision) *Backend {
	t.Helper()
	dev := 0
	if s := os.Getenv("SWELEGO_CUDA_DEVICE"); s != "" {
		for _, c := range s {
			dev = dev*10 + int(c-'0')
		}
	}
	d, err := Open(Options{Device: dev, Precision: prec})
	if err != nil {
		t.Skipf("no usable GPU: %v", err)
	}
	t.Cleanup(d.Close)
	return d.(*Backend)
}

func randn(r *rand.Rand, n int, std float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * std)
	}
	return x
}

func up(be backend.Backend, x []float32) backend.Tensor {
	t := be.New(len(x))
	be.Upload(t, x)
	return t
}

func down(be backend.Backend, t backend.Tensor) []float32 {
	x := make([]float32, t.Len())
	be.Download(x, t)
	return x
}

// relErr is max|got−want| / max|want|.
func relErr(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		if math.IsNaN(float64(got[i])) != math.IsNaN(float64(want[i])) {
			return math.Inf(1)
		}
		diff = math.Max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// opCase runs one op on a backend from inputs drawn from r and returns its
// outputs by name; it runs once on the cpu backend and once on the GPU
// with the same seed, and every output must agree within tol.
type opCase struct {
	name string
	tol  float64
	run  func(be backend.Backend, r *rand.Rand) map[string][]float32
}

func runParity(t *testing.T, gpu *Backend, cases []opCase) {
	ref := cpu.New(0)
	defer ref.Close()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.run(ref, rand.New(rand.NewPCG(1, 2)))
			got := c.run(gpu, rand.New(rand.NewPCG(1, 2)))
			if len(want) == 0 {
				t.Fatal("the case has no outputs")
			}
			for name, w := range want {
				g := got[name]
				if len(g) != len(w) {
					t.Fatalf("%s: %d values, want %d", name, len(g), len(w))
				}
				if e := relErr(g, w); !(e <= c.tol) {
					t.Errorf("%s: relative error %.3g > %.1g", name, e, c.tol)
				}
			}
		})
	}
}

// TestOpsParity: every op of backend.Backend on random inputs, against the
// cpu backend, with shapes that are not multiples of the kernels' tiles and
// gradients that start non-zero (the backward ops accumulate).
func TestOpsParity(t *testing.T) {
	gpu := openGPU(t, FP32)
	cases := []opCase{
		{"add", 1e-7, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			a, b := up(be, randn(r, 100003, 1)), up(be, randn(r, 100003, 1))
			out := be.New(100003)
			be.Add(out, a, b)
			be.Add(a, a, b) // aliased
			return map[string][]float32{"out": down(be, out), "alias": down(be, a)}
		}},
		{"scale", 1e-7, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			x := up(be, randn(r, 70001, 1))
			be.Scale(x, -0.37)
			return map[string][]float32{"x": down(be, x)}
		}},
		{"sum squares", 1e-7, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			x := up(be, randn(r, 1<<20+17, 1))
			s := be.SumSquares(x)
			small := be.SumSquares(be.View(x, 5, 3))
			return map[string][]float32{"s": {float32(s)}, "small": {float32(small)}}
		}},
		{"view copy zero", 0, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			x := up(be, randn(r, 1000, 1))
			y := be.New(300)
			be.Copy(y, be.View(x, 100, 300))
			be.Zero(be.View(x, 10, 20))
			be.Upload(be.View(x, 500, 4), []float32{1, 2, 3, 4})
			part := make([]float32, 7)
			be.Download(part, be.View(x, 498, 10))
			return map[string][]float32{"x": down(be, x), "y": down(be, y), "part": part}
		}},
		{"embedding", 1e-7, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			const vocab, dim, rows = 50, 77, 300
			table := up(be, randn(r, vocab*dim, 1))
			ids := make([]int32, rows)
			for i := range ids {
				ids[i] = int32(r.IntN(vocab)) // many repeats
			}
			out := be.New(rows * dim)
			be.Embedding(out, table, ids, dim)
			dout := up(be, randn(r, rows*dim, 1))
			dtable := up(be, randn(r, vocab*dim, 1))
			be.EmbeddingBackward(dtable, dout, ids, dim)
			return map[string][]float32{"out": down(be, out), "dtable": down(be, dtable)}
		}},
		{"matmul", 1e-5, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			const rows, in, outD = 37, 65, 129
			x, w, bias := up(be, randn(r, rows*in, 1)), up(be, randn(r, outD*in, 0.1)), up(be, randn(r, outD, 1))
			out, outNB := be.New(rows*outD), be.New(rows*outD)
			be.MatMul(out, x, w, bias, rows, in, outD)
			be.MatMul(outNB, x, w, nil, rows, in, outD)
			dout := up(be, randn(r, rows*outD, 1))
			din, dw, db := up(be, randn(r, rows*in, 1)), up(be, randn(r, outD*in, 1)), up(be, randn(r, outD, 1))
			be.MatMulBackward(din, dw, db, dout, x, w, rows, in, outD)
			dw2 := up(be, randn(r, outD*in, 1))
			be.MatMulBackward(nil, dw2, nil, dout, x, w, rows, in, outD)
			return map[string][]float32{"out": down(be, out), "out_nobias": down(be, outNB), "din": down(be, din),
				"dw": down(be, dw), "dbias": down(be, db), "dw_only": down(be, dw2)}
		}},
		{"rmsnorm", 1e-5, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			const rows, dim = 33, 200
			x, w := up(be, randn(r, rows*dim, 2)), up(be, randn(r, dim, 1))
			out, rstd := be.New(rows*dim), be.New(rows)
			be.RMSNorm(out, rstd, x, w, rows, dim, 1e-6)
			dout := up(be, randn(r, rows*dim, 1))
			din, dw := up(be, randn(r, rows*dim, 1)), up(be, randn(r, dim, 1))
			be.RMSNormBackward(din, dw, dout, x, w, rstd, rows, dim)
			dw2 := up(be, randn(r, dim, 1))
			be.RMSNormBackward(nil, dw2, dout, x, w, rstd, rows, dim)
			return map[string][]float32{"out": down(be, out), "rstd": down(be, rstd), "din": down(be, din),
				"dw": down(be, dw), "dw_only": down(be, dw2)}
		}},
		{"rope", 1e-6, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			const rows, heads, hd = 20, 3, 16
			x := up(be, randn(r, rows*heads*hd, 1))
			angles := randn(r, rows*hd/2, 3)
			c, s := make([]float32, len(angles)), make([]float32, len(angles))
			for i, a := range angles {
				c[i], s[i] = float32(1.1*math.Cos(float64(a))), float32(1.1*math.Sin(float64(a))) // a YaRN factor
			}
			cos, sin := up(be, c), up(be, s)
			out := be.New(rows * heads * hd)
			be.RoPE(out, x, cos, sin, rows, heads, hd)
			inPlace := up(be, down(be, x))
			be.RoPE(inPlace, inPlace, cos, sin, rows, heads, hd)
			din := up(be, randn(r, rows*heads*hd, 1))
			be.RoPEBackward(din, out, cos, sin, rows, heads, hd)
			return map[string][]float32{"out": down(be, out), "in_place": down(be, inPlace), "din": down(be, din)}
		}},
		{"swiglu", 1e-6, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			const n = 10007
			g, u := up(be, randn(r, n, 3)), up(be, randn(r, n, 1))
			out := be.New(n)
			be.SwiGLU(out, g, u, n)
			dout := up(be, randn(r, n, 1))
			dg, du := up(be, randn(r, n, 1)), up(be, randn(r, n, 1))
			be.SwiGLUBackward(dg, du, dout, g, u, n)
			return map[string][]float32{"out": down(be, out), "dgate": down(be, dg), "dup": down(be, du)}
		}},
		{"cross entropy", 1e-5, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			const rows, vocab = 17, 1000
			logits := randn(r, rows*vocab, 4)
			targets := make([]int32, rows)
			weights := make([]float32, rows)
			for i := range targets {
				targets[i] = int32(r.IntN(vocab))
				if i%4 != 1 {
					weights[i] = 0.5 + r.Float32()
				}
			}
			targets[1] = -100 // ignored: weight 0
			lt := up(be, logits)
			loss, dl := be.New(rows), up(be, randn(r, rows*vocab, 1))
			be.CrossEntropy(loss, dl, lt, targets, weights, rows, vocab, 0.25)
			loss2 := be.New(rows)
			be.CrossEntropy(loss2, nil, lt, targets, weights, rows, vocab, 0.25)
			alias := up(be, logits)
			loss3 := be.New(rows)
			be.CrossEntropy(loss3, alias, alias, targets, weights, rows, vocab, 0.25)
			return map[string][]float32{"loss": down(be, loss), "dlogits": down(be, dl), "loss_only": down(be, loss2),
				"loss_alias": down(be, loss3), "dlogits_alias": down(be, alias)}
		}},
		{"adamw", 1e-6, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			const n = 5000
			p, g, m := up(be, randn(r, n, 1)), up(be, randn(r, n, 1)), up(be, randn(r, n, 0.1))
			vh := randn(r, n, 0.1)
			for i := range vh {
				vh[i] *= vh[i]
			}
			v := up(be, vh)
			h := backend.AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, Bias1: 1 - 0.9*0.9*0.9,
				Bias2: 1 - 0.95*0.95*0.95, GradScale: 0.7}
			be.AdamWStep(p, g, m, v, h)
			return map[string][]float32{"p": down(be, p), "m": down(be, m), "v": down(be, v)}
		}},
	}
	for _, a := range attnCases {
		cases = append(cases, opCase{"attention " + a.name, 2e-5, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
			return runAttention(be, r, a)
		}})
	}
	cases = append(cases, opCase{"attention kv", 2e-5, runAttentionKV})
	runParity(t, gpu, cases)
}

type attnCase struct {
	name                   string
	batch, seq, h, kv, dim int
	segments               bool
}

var attnCases = []attnCase{
	{"causal gqa d16", 2, 70, 4, 2, 16, false},
	{"segments d64", 2, 100, 6, 3, 64, true},
	{"d128 one kv head", 1, 81, 4, 1, 128, true},
	{"d40 mha", 1, 33, 2, 2, 40, false},
	{"long d128", 1, 300, 2, 1, 128, true},
}

// starts draws packed segments for each sequence: Start[r] is where row r's
// segment begins.
func starts(r *rand.Rand, batch, seq int) []int32 {
	st := make([]int32, batch*seq)
	for b := range batch {
		begin := 0
		for t := range seq {
			if t > 0 && r.IntN(17) == 0 {
				begin = t
			}
			st[b*seq+t] = int32(begin)
		}
	}
	return st
}

func runAttention(be backend.Backend, r *rand.Rand, c attnCase) map[string][]float32 {
	a := backend.Attn{Batch: c.batch, Seq: c.seq, Heads: c.h, KVHeads: c.kv, HeadDim: c.dim,
		Scale: float32(1 / math.Sqrt(float64(c.dim)))}
	if c.segments {
		a.Start = starts(r, c.batch, c.seq)
	}
	rows := c.batch * c.seq
	q, k, v := up(be, randn(r, rows*c.h*c.dim, 1)), up(be, randn(r, rows*c.kv*c.dim, 1)), up(be, randn(r, rows*c.kv*c.dim, 1))
	out, lse := be.New(rows*c.h*c.dim), be.New(c.batch*c.h*c.seq)
	be.Attention(out, lse, q, k, v, a)
	dout := up(be, randn(r, rows*c.h*c.dim, 1))
	dq, dk, dv := up(be, randn(r, rows*c.h*c.dim, 1)), up(be, randn(r, rows*c.kv*c.dim, 1)), up(be, randn(r, rows*c.kv*c.dim, 1))
	be.AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v, a)
	return map[string][]float32{"out": down(be, out), "lse": down(be, lse), "dq": down(be, dq), "dk": down(be, dk), "dv": down(be, dv)}
}

func runAttentionKV(be backend.Backend, r *rand.Rand) map[string][]float32 {
	const h, kv, dim = 4, 2, 64
	a := backend.AttnKV{Heads: h, KVHeads: kv, HeadDim: dim, Scale: 0.125}
	rows := 0
	for _, s := range []struct{ n, pos int }{{1, 40}, {19, 0}, {5, 77}} {
		k, v := up(be, randn(r, (s.pos+s.n)*kv*dim, 1)), up(be, randn(r, (s.pos+s.n)*kv*dim, 1))
		a.Spans = append(a.Spans, backend.KVSpan{Row: rows, N: s.n, Pos: s.pos, K: k, V: v})
		rows += s.n
	}
	q := up(be, randn(r, rows*h*dim, 1))
	out := be.New(rows * h * dim)
	be.AttentionKV(out, q, a)
	return map[string][]float32{"out": down(be, out)}
}

// TestGEMMPrecisions: TF32 and bf16 matrix multiplies against fp32 within
// the rounding of their inputs (10 and 7 mantissa bits, fp32 sums).
func TestGEMMPrecisions(t *testing.T) {
	for _, c := range []struct {
		prec Precision
		tol  float64
	}{{TF32, 5e-3}, {BF16, 2e-2}} {
		t.Run(string(c.prec), func(t *testing.T) {
			gpu := openGPU(t, c.prec)
			runParity(t, gpu, []opCase{{"matmul", c.tol, func(be backend.Backend, r *rand.Rand) map[string][]float32 {
				const rows, in, outD = 64, 256, 96
				x, w := up(be, randn(r, rows*in, 1)), up(be, randn(r, outD*in, 0.1))
				out := be.New(rows * outD)
				be.MatMul(out, x, w, nil, rows, in, outD)
				dout := up(be, randn(r, rows*outD, 1))
				din, dw := be.New(rows*in), be.New(outD*in)
				be.MatMulBackward(din, dw, nil, dout, x, w, rows, in, outD)
				return map[string][]float32{"out": down(be, out), "din": down(be, din), "dw": down(be, dw)}
			}}})
		})
	}
}
