package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/swelego/swelego/core/backend"
)

// TestMatMulRows: the dot-product path for a decoding step's few rows and
// the GEMM agree with a float64 reference, with and without bias, on
// both sides of the size at which MatMul switches.
func TestMatMulRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	b := New(2)
	defer b.Close()
	for _, tc := range []struct{ rows, in, out int }{
		{1, 768, 700}, {2, 600, 513}, {3, 768, 700}, {1, 64, 48}, {2, 1031, 257},
	} {
		in, w, bias := randn(r, tc.rows*tc.in, 1), randn(r, tc.out*tc.in, 0.05), randn(r, tc.out, 1)
		for _, withBias := range []bool{false, true} {
			out := make([]float32, tc.rows*tc.out)
			var bt backend.Tensor
			if withBias {
				bt = tensor(bias)
			}
			b.MatMul(tensor(out), tensor(in), tensor(w), bt, tc.rows, tc.in, tc.out)
			for i := range tc.rows {
				for j := range tc.out {
					var want float64
					for k := range tc.in {
						want += float64(in[i*tc.in+k]) * float64(w[j*tc.in+k])
					}
					if withBias {
						want += float64(bias[j])
					}
					if got := out[i*tc.out+j]; math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
						t.Fatalf("%+v bias %v: out[%d,%d] = %v, want %v", tc, withBias, i, j, got, want)
					}
				}
			}
		}
	}
}

// TestAttentionKVMatchesNaive: attention over cached keys and values, for
// spans of several rows (a prompt chunk) and of one (a decoding step),
// equals the naive causal attention over each whole sequence.
func TestAttentionKVMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const H, KV, D = 4, 2, 16
	b := New(2)
	defer b.Close()
	lens := []int{70, 1, 9} // whole sequence lengths
	news := []int{70, 1, 3} // new rows of each span: all, one, the last three
	var q []float32         // the spans' query rows
	var spans []backend.KVSpan
	var wants [][]float32
	row := 0
	for s, n := range lens {
		qs, ks, vs := randn(r, n*H*D, 1), randn(r, n*KV*D, 1), randn(r, n*KV*D, 1)
		a := backend.Attn{Batch: 1, Seq: n, Heads: H, KVHeads: KV, HeadDim: D, Scale: 0.25}
		want := naiveAttention(a, qs, ks, vs)
		pos := n - news[s]
		q = append(q, qs[pos*H*D:]...)
		spans = append(spans, backend.KVSpan{Row: row, N: news[s], Pos: pos, K: tensor(ks), V: tensor(vs)})
		wants = append(wants, want[pos*H*D:])
		row += news[s]
	}
	out := make([]float32, row*H*D)
	b.AttentionKV(tensor(out), tensor(q), backend.AttnKV{Heads: H, KVHeads: KV, HeadDim: D, Scale: 0.25, Spans: spans})
	for s, sp := range spans {
		got := out[sp.Row*H*D : (sp.Row+sp.N)*H*D]
		for i := range got {
			if d := math.Abs(float64(got[i] - wants[s][i])); d > 1e-5 {
				t.Fatalf("span %d: out[%d] = %v, want %v", s, i, got[i], wants[s][i])
			}
		}
	}
}
