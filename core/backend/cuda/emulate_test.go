package cuda

// CPU emulations of what the GPU code computes, run in the default build:
// the cuBLAS calls of plan.go executed by a column-major reference GEMM,
// and the attention kernels' tiling (blocks of query rows, tiles of BC
// keys, one warp per row with lane j on key j, the online softmax, the
// skipped tiles and the masks) ported loop for loop from attention.cu. Both
// are compared with the cpu backend, the reference every backend answers to.

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/cpu"
)

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func maxRelErr(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		if math.IsNaN(float64(got[i])) {
			return math.Inf(1)
		}
		diff = math.Max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	return diff / math.Max(scale, 1e-30)
}

// colMajorGemm is cuBLAS's GEMM with alpha 1: C = op(A)·op(B) + beta·C,
// every matrix column-major with its leading dimension.
func colMajorGemm(g gemmCall, a, b, c []float32) {
	at := func(i, l int) float32 { // op(A)[i, l]
		if g.transA {
			return a[l+i*g.lda]
		}
		return a[i+l*g.lda]
	}
	bt := func(l, j int) float32 { // op(B)[l, j]
		if g.transB {
			return b[j+l*g.ldb]
		}
		return b[l+j*g.ldb]
	}
	for j := 0; j < g.n; j++ {
		for i := 0; i < g.m; i++ {
			var s float64
			for l := 0; l < g.k; l++ {
				s += float64(at(i, l)) * float64(bt(l, j))
			}
			c[i+j*g.ldc] = float32(s + float64(g.beta)*float64(c[i+j*g.ldc]))
		}
	}
}

func TestGemmCalls(t *testing.T) {
	for _, s := range []struct{ rows, in, out int }{{1, 1, 1}, {7, 5, 3}, {37, 65, 129}, {64, 16, 2}} {
		r := rand.New(rand.NewPCG(uint64(s.rows), 9))
		x, w, dout := randSlice(r, s.rows*s.in), randSlice(r, s.out*s.in), randSlice(r, s.rows*s.out)
		din0, dw0 := randSlice(r, s.rows*s.in), randSlice(r, s.out*s.in)

		be := cpu.New(1)
		want := make([]float32, s.rows*s.out)
		be.MatMul(&cpu.Tensor{Data: want}, &cpu.Tensor{Data: x}, &cpu.Tensor{Data: w}, nil, s.rows, s.in, s.out)
		wantDin, wantDw := append([]float32(nil), din0...), append([]float32(nil), dw0...)
		be.MatMulBackward(&cpu.Tensor{Data: wantDin}, &cpu.Tensor{Data: wantDw}, nil, &cpu.Tensor{Data: dout},
			&cpu.Tensor{Data: x}, &cpu.Tensor{Data: w}, s.rows, s.in, s.out)
		be.Close()

		ops := map[operand][]float32{opIn: x, opW: w, opDout: dout, opOut: make([]float32, s.rows*s.out),
			opDin: append([]float32(nil), din0...), opDw: append([]float32(nil), dw0...)}
		for _, g := range []gemmCall{matmulCall(s.rows, s.in, s.out), dinCall(s.rows, s.in, s.out), dwCall(s.rows, s.in, s.out)} {
			colMajorGemm(g, ops[g.a], ops[g.b], ops[g.c])
		}
		for name, c := range map[string][2][]float32{"out": {ops[opOut], want}, "din": {ops[opDin], wantDin}, "dw": {ops[opDw], wantDw}} {
			if e := maxRelErr(c[0], c[1]); e > 1e-5 {
				t.Errorf("%d×%d×%d %s: relative error %.3g", s.rows, s.in, s.out, name, e)
			}
		}
	}
}

func TestSumsqBlocks(t *testing.T) {
	for _, n := range []int64{1, 255, 256, 257, 1 << 20, 1<<20 + 17, 123456789} {
		blocks, per := sumsqBlocks(n)
		if blocks < 1 || blocks > 1024 || int64(blocks)*per < n || int64(blocks-1)*per >= n {
			t.Errorf("n=%d: %d blocks of %d do not cover it exactly", n, blocks, per)
		}
	}
}

// emuAttn is attention.cu's attn_block for every block of a sequence:
// row i (position pos0+i) sees positions [start[i], pos0+i].
func emuAttnSeq(out, lse []float32, q, k, v []float32, qs, ks, nrows int, start []int32, pos0 int, scale float32, D int) {
	for r0 := 0; r0 < nrows; r0 += attnFwdRows {
		lo := pos0 + r0
		for i := 0; i < attnFwdRows && r0+i < nrows; i++ {
			if start != nil {
				lo = min(lo, int(start[r0+i]))
			} else {
				lo = 0
			}
		}
		khi := pos0 + min(nrows, r0+attnFwdRows)
		for row := 0; row < attnFwdRows; row++ { // warp·FWD_RPW + j
			r := r0 + row
			pt, st := -1, 0
			if r < nrows {
				pt = pos0 + r
				if start != nil {
					st = int(start[r])
				}
			}
			m, l := float32(math.Inf(-1)), float32(0)
			acc := make([]float32, D)
			for k0 := lo; k0 < khi; k0 += attnBC {
				s := make([]float32, attnBC)
				tileMax := float32(math.Inf(-1))
				for lane := range attnBC {
					key := k0 + lane
					vis := key >= st && key <= pt && key < khi
					s[lane] = float32(math.Inf(-1))
					if vis {
						var d float32
						for c := range D {
							d += q[r*qs+c] * k[key*ks+c]
						}
						s[lane] = d * scale
					}
					tileMax = max(tileMax, s[lane])
				}
				mnew := max(m, tileMax)
				if math.IsInf(float64(mnew), -1) {
					continue
				}
				var psum float32
				p := make([]float32, attnBC)
				for lane := range attnBC {
					if !math.IsInf(float64(s[lane]), -1) {
						p[lane] = float32(math.Exp(float64(s[lane] - mnew)))
					}
					psum += p[lane]
				}
				corr := float32(math.Exp(float64(m - mnew)))
				l = l*corr + psum
				m = mnew
				for c := range D {
					acc[c] *= corr
					for jj := range attnBC {
						if p[jj] != 0 {
							acc[c] += p[jj] * v[(k0+jj)*ks+c]
						}
					}
				}
			}
			if r >= nrows {
				continue
			}
			for c := range D {
				out[r*qs+c] = acc[c] / l
			}
			if lse != nil {
				lse[r] = m + float32(math.Log(float64(l)))
			}
		}
	}
}

// emuAttnBackward is attn_bwd_delta, attn_bwd_dq and attn_bwd_dkdv.
func emuAttnBackward(dq, dk, dv, dout, out, lse, q, k, v []float32, a backend.Attn) {
	T, H, KV, D := a.Seq, a.Heads, a.KVHeads, a.HeadDim
	qs, ks, group := H*D, KV*D, H/KV
	delta := make([]float32, a.Batch*H*T)
	for b := range a.Batch {
		for t := range T {
			for h := range H {
				var s float32
				for c := range D {
					s += out[(b*T+t)*qs+h*D+c] * dout[(b*T+t)*qs+h*D+c]
				}
				delta[(b*H+h)*T+t] = s
			}
		}
	}
	startOf := func(b, r int) int {
		if a.Start == nil {
			return 0
		}
		return int(a.Start[b*T+r])
	}
	dot := func(x []float32, xo int, y []float32, yo int) float32 {
		var s float32
		for c := range D {
			s += x[xo+c] * y[yo+c]
		}
		return s
	}
	for b := range a.Batch {
		for h := range H {
			kvh := h / group
			qoff, koff, lo := b*T*qs+h*D, b*T*ks+kvh*D, (b*H+h)*T
			// attn_bwd_dq: blocks of DQ_ROWS rows, key tiles from the
			// block's earliest segment start to its last row.
			for r0 := 0; r0 < T; r0 += attnDQRows {
				klo := r0
				for i := 0; i < attnDQRows && r0+i < T; i++ {
					klo = min(klo, startOf(b, r0+i))
				}
				khi := min(T, r0+attnDQRows)
				for i := range attnDQRows {
					r := r0 + i
					if r >= T {
						continue
					}
					acc := make([]float32, D)
					for k0 := klo; k0 < khi; k0 += attnBC {
						for lane := range attnBC {
							key := k0 + lane
							if key < startOf(b, r) || key > r || key >= khi {
								continue
							}
							p := float32(math.Exp(float64(dot(q, qoff+r*qs, k, koff+key*ks)*a.Scale - lse[lo+r])))
							ds := p * (dot(dout, qoff+r*qs, v, koff+key*ks) - delta[lo+r])
							for c := range D {
								acc[c] += ds * k[koff+key*ks+c]
							}
						}
					}
					for c := range D {
						dq[qoff+r*qs+c] += a.Scale * acc[c]
					}
				}
			}
		}
		// attn_bwd_dkdv: blocks of KV_KEYS keys of one key/value head,
		// every query head of the group, row tiles from the first key on,
		// a tile skipped when no row sees the block's keys.
		for kvh := range KV {
			koff := b*T*ks + kvh*D
			for k0 := 0; k0 < T; k0 += attnKVKeys {
				k1 := min(T, k0+attnKVKeys)
				adk := make([][]float32, attnKVKeys)
				adv := make([][]float32, attnKVKeys)
				for i := range adk {
					adk[i], adv[i] = make([]float32, D), make([]float32, D)
				}
				for h := kvh * group; h < (kvh+1)*group; h++ {
					qoff, lo := b*T*qs+h*D, (b*H+h)*T
					for r0 := k0; r0 < T; r0 += attnBC {
						any := false
						for lane := range attnBC {
							if r := r0 + lane; r < T && startOf(b, r) < k1 {
								any = true
							}
						}
						if !any {
							continue
						}
						for i := range attnKVKeys {
							key := k0 + i
							for lane := range attnBC {
								r := r0 + lane
								if key >= T || r >= T || key < startOf(b, r) || key > r {
									continue
								}
								p := float32(math.Exp(float64(dot(q, qoff+r*qs, k, koff+key*ks)*a.Scale - lse[lo+r])))
								ds := p * (dot(dout, qoff+r*qs, v, koff+key*ks) - delta[lo+r])
								for c := range D {
									adv[i][c] += p * dout[qoff+r*qs+c]
									adk[i][c] += ds * q[qoff+r*qs+c]
								}
							}
						}
					}
				}
				for i := range attnKVKeys {
					if key := k0 + i; key < T {
						for c := range D {
							dk[koff+key*ks+c] += a.Scale * adk[i][c]
							dv[koff+key*ks+c] += adv[i][c]
						}
					}
				}
			}
		}
	}
}

// TestAttentionTilingEmulated: the kernels' tiling, masks and online
// softmax, emulated, match the cpu backend's attention forward and
// backward, with packed segments, grouped-query heads and lengths that are
// not multiples of the tiles.
func TestAttentionTilingEmulated(t *testing.T) {
	cases := []struct {
		name                   string
		batch, seq, h, kv, dim int
		segments               bool
	}{
		{"causal", 2, 45, 4, 2, 8, false},
		{"segments", 2, 70, 6, 3, 16, true},
		{"one kv head, long", 1, 100, 2, 1, 12, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, uint64(c.seq)))
			a := backend.Attn{Batch: c.batch, Seq: c.seq, Heads: c.h, KVHeads: c.kv, HeadDim: c.dim, Scale: 0.3}
			if c.segments {
				a.Start = make([]int32, c.batch*c.seq)
				for b := range c.batch {
					begin := 0
					for i := range c.seq {
						if i > 0 && r.IntN(11) == 0 {
							begin = i
						}
						a.Start[b*c.seq+i] = int32(begin)
					}
				}
			}
			rows := c.batch * c.seq
			q, k, v := randSlice(r, rows*c.h*c.dim), randSlice(r, rows*c.kv*c.dim), randSlice(r, rows*c.kv*c.dim)
			dout := randSlice(r, rows*c.h*c.dim)
			T := func(x []float32) *cpu.Tensor { return &cpu.Tensor{Data: x} }

			be := cpu.New(1)
			defer be.Close()
			out, lse := make([]float32, rows*c.h*c.dim), make([]float32, c.batch*c.h*c.seq)
			be.Attention(T(out), T(lse), T(q), T(k), T(v), a)
			dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
			be.AttentionBackward(T(dq), T(dk), T(dv), T(dout), T(out), T(lse), T(q), T(k), T(v), a)

			eOut, eLse := make([]float32, len(out)), make([]float32, len(lse))
			qs, ks := c.h*c.dim, c.kv*c.dim
			for b := range c.batch {
				for h := range c.h {
					kvh := h / (c.h / c.kv)
					var st []int32
					if a.Start != nil {
						st = a.Start[b*c.seq : (b+1)*c.seq]
					}
					qoff, koff := b*c.seq*qs+h*c.dim, b*c.seq*ks+kvh*c.dim
					emuAttnSeq(eOut[qoff:], eLse[(b*c.h+h)*c.seq:], q[qoff:], k[koff:], v[koff:], qs, ks, c.seq, st, 0, a.Scale, c.dim)
				}
			}
			eDq, eDk, eDv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
			emuAttnBackward(eDq, eDk, eDv, dout, out, lse, q, k, v, a)
			for name, p := range map[string][2][]float32{"out": {eOut, out}, "lse": {eLse, lse}, "dq": {eDq, dq},
				"dk": {eDk, dk}, "dv": {eDv, dv}} {
				if e := maxRelErr(p[0], p[1]); e > 2e-5 {
					t.Errorf("%s: emulated kernel vs cpu: relative error %.3g", name, e)
				}
			}
		})
	}
}

// TestAttentionKVEmulated: attn_kv's positions (span row, pos) against the
// cpu backend's AttentionKV.
func TestAttentionKVEmulated(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const h, kv, dim = 4, 2, 8
	a := backend.AttnKV{Heads: h, KVHeads: kv, HeadDim: dim, Scale: 0.35}
	rows := 0
	for _, s := range []struct{ n, pos int }{{1, 40}, {19, 0}, {5, 77}} {
		a.Spans = append(a.Spans, backend.KVSpan{Row: rows, N: s.n, Pos: s.pos,
			K: &cpu.Tensor{Data: randSlice(r, (s.pos+s.n)*kv*dim)}, V: &cpu.Tensor{Data: randSlice(r, (s.pos+s.n)*kv*dim)}})
		rows += s.n
	}
	q := randSlice(r, rows*h*dim)
	be := cpu.New(1)
	defer be.Close()
	want := make([]float32, len(q))
	be.AttentionKV(&cpu.Tensor{Data: want}, &cpu.Tensor{Data: q}, a)
	got := make([]float32, len(q))
	qs, ks := h*dim, kv*dim
	for _, sp := range a.Spans {
		for hh := range h {
			kvh := hh / (h / kv)
			off := sp.Row*qs + hh*dim
			emuAttnSeq(got[off:], nil, q[off:], cpu.Data(sp.K)[kvh*dim:], cpu.Data(sp.V)[kvh*dim:], qs, ks, sp.N, nil, sp.Pos, a.Scale, dim)
		}
	}
	if e := maxRelErr(got, want); e > 2e-5 {
		t.Errorf("emulated attn_kv vs cpu: relative error %.3g", e)
	}
}
