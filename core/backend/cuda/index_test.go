package cuda

// The flat-index arithmetic of the element-wise kernels
// (kernels/elementwise.cu, attn_bwd_delta), ported line for line and run
// over every index a grid-stride loop visits, against the cpu backend.

import (
	"math/rand/v2"
	"testing"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/cpu"
)

// gridStride calls body with every index a launch of gridFor(n) blocks of
// blockThreads threads visits in FOR_N, and fails if one is visited twice
// or missed.
func gridStride(t *testing.T, n int64, body func(i int64)) {
	t.Helper()
	seen := make([]bool, n)
	grid := int64(gridFor(n))
	for blk := range grid {
		for th := range int64(blockThreads) {
			for i := blk*blockThreads + th; i < n; i += grid * blockThreads {
				if seen[i] {
					t.Fatalf("index %d visited twice", i)
				}
				seen[i] = true
				body(i)
			}
		}
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("index %d of %d never visited", i, n)
		}
	}
}

func TestElementwiseIndexEmulated(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	be := cpu.New(1)
	defer be.Close()
	T := func(x []float32) backend.Tensor { return &cpu.Tensor{Data: x} }

	t.Run("rope", func(t *testing.T) {
		const rows, heads, hd = 9, 3, 10
		half := hd / 2
		in, cos, sin := randSlice(r, rows*heads*hd), randSlice(r, rows*half), randSlice(r, rows*half)
		want := make([]float32, len(in))
		be.RoPE(T(want), T(in), T(cos), T(sin), rows, heads, hd)
		got := make([]float32, len(in))
		gridStride(t, rows*heads*int64(half), func(i int64) {
			k := int(i % int64(half))
			rh := i / int64(half)
			row := rh / heads
			base := rh * hd
			c, s := cos[row*int64(half)+int64(k)], sin[row*int64(half)+int64(k)]
			a, b := in[base+int64(k)], in[base+int64(k)+int64(half)]
			got[base+int64(k)] = a*c - b*s
			got[base+int64(k)+int64(half)] = b*c + a*s
		})
		if e := maxRelErr(got, want); e > 1e-6 {
			t.Errorf("relative error %.3g", e)
		}
	})
	t.Run("embedding and bias", func(t *testing.T) {
		const vocab, dim, rows = 13, 7, 20
		table := randSlice(r, vocab*dim)
		ids := make([]int32, rows)
		for i := range ids {
			ids[i] = int32(r.IntN(vocab))
		}
		want := make([]float32, rows*dim)
		be.Embedding(T(want), T(table), ids, dim)
		got := make([]float32, rows*dim)
		gridStride(t, rows*dim, func(i int64) {
			row, c := i/dim, i%dim
			got[i] = table[int64(ids[row])*dim+c]
		})
		if e := maxRelErr(got, want); e != 0 {
			t.Errorf("embedding: relative error %.3g", e)
		}
		// embedding_bwd: thread (column, bucket) adds the rows whose id is
		// in its bucket, in row order.
		dout := randSlice(r, rows*dim)
		wantD := randSlice(r, vocab*dim)
		gotD := append([]float32(nil), wantD...)
		be.EmbeddingBackward(T(wantD), T(dout), ids, dim)
		for c := range dim {
			for y := range int32(embBuckets) {
				for row, id := range ids {
					if id%embBuckets == y {
						gotD[int(id)*dim+c] += dout[row*dim+c]
					}
				}
			}
		}
		if e := maxRelErr(gotD, wantD); e != 0 {
			t.Errorf("embedding backward: relative error %.3g", e)
		}
		// bias_add_rows: out[i] += bias[i % cols], as MatMul's bias.
		x, w, bias := randSlice(r, rows*dim), randSlice(r, 5*dim), randSlice(r, 5)
		withBias, noBias := make([]float32, rows*5), make([]float32, rows*5)
		be.MatMul(T(withBias), T(x), T(w), T(bias), rows, dim, 5)
		be.MatMul(T(noBias), T(x), T(w), nil, rows, dim, 5)
		gridStride(t, rows*5, func(i int64) { noBias[i] += bias[i%5] })
		if e := maxRelErr(noBias, withBias); e > 1e-6 {
			t.Errorf("bias: relative error %.3g", e)
		}
	})
	t.Run("two-stage column sums", func(t *testing.T) {
		for _, rows := range []int{1, 31, 33, 100, 9000} {
			chunks, per := colChunks(rows)
			if (chunks-1)*per >= rows || chunks*per < rows {
				t.Fatalf("rows %d: %d chunks of %d do not cover them exactly", rows, chunks, per)
			}
		}
		const rows, dim = 1000, 24
		x, w, dout := randSlice(r, rows*dim), randSlice(r, dim), randSlice(r, rows*dim)
		out, rstd := make([]float32, rows*dim), make([]float32, rows)
		be.RMSNorm(T(out), T(rstd), T(x), T(w), rows, dim, 1e-6)
		want := randSlice(r, dim)
		got := append([]float32(nil), want...)
		be.RMSNormBackward(nil, T(want), T(dout), T(x), T(w), T(rstd), rows, dim)
		// rmsnorm_bwd_w_partial then colsum_add over the chunks.
		chunks, per := colChunks(rows)
		part := make([]float32, chunks*dim)
		for chunk := range chunks {
			for c := range dim {
				var acc float32
				for row := chunk * per; row < min(rows, chunk*per+per); row++ {
					acc += dout[row*dim+c] * x[row*dim+c] * rstd[row]
				}
				part[chunk*dim+c] = acc
			}
		}
		for c := range dim {
			var s float32
			for chunk := range chunks {
				s += part[chunk*dim+c]
			}
			got[c] += s
		}
		if e := maxRelErr(got, want); e > 1e-5 {
			t.Errorf("rmsnorm weight gradient: relative error %.3g", e)
		}
	})
	t.Run("attention delta", func(t *testing.T) {
		// attn_bwd_delta: warp w of B·T·H is (bt, h) = (w / H, w % H) and
		// writes delta[(b·H + h)·T + t]: every entry exactly once, with the
		// dot product of its own row and head (the layout of lse, which
		// the cpu backend indexes as (seq·H + h)·T + t).
		const B, Tn, H, D = 2, 5, 3, 4
		out, dout := randSlice(r, B*Tn*H*D), randSlice(r, B*Tn*H*D)
		delta := make([]float32, B*H*Tn)
		hits := make([]int, len(delta))
		for w := range int64(B * Tn * H) {
			bt, h := w/H, w%H
			var s float32
			for d := range int64(D) {
				s += out[bt*H*D+h*D+d] * dout[bt*H*D+h*D+d]
			}
			b, tt := bt/Tn, bt%Tn
			delta[(b*H+h)*Tn+tt] = s
			hits[(b*H+h)*Tn+tt]++
		}
		for i, n := range hits {
			if n != 1 {
				t.Fatalf("delta[%d] written %d times", i, n)
			}
		}
		for b := range B {
			for h := range H {
				for tt := range Tn {
					var s float32
					for d := range D {
						idx := ((b*Tn+tt)*H+h)*D + d
						s += out[idx] * dout[idx]
					}
					if got := delta[(b*H+h)*Tn+tt]; got != s {
						t.Errorf("delta[b=%d h=%d t=%d] = %g, want %g", b, h, tt, got, s)
					}
				}
			}
		}
	})
}
