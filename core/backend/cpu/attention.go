package cpu

import (
	"math"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/gemm"
)

// attnBlock is how many query rows are scored together. A block only scores
// keys up to its last row (the causal mask), so smaller blocks waste less of
// the upper triangle but make smaller matrix multiplies.
const attnBlock = 64

// scratchFor returns worker w's scratch slice of at least n floats.
func (b *Backend) scratchFor(w, n int) []float32 {
	if len(b.scratch[w]) < n {
		b.scratch[w] = make([]float32, n)
	}
	return b.scratch[w][:n]
}

// keyRange is the span of keys a block of query rows [r0, r1) of sequence
// seq may see: from the earliest segment start among them to r1.
func keyRange(a *backend.Attn, seq, r0, r1 int) (lo, hi int) {
	if a.Start == nil {
		return 0, r1
	}
	lo = r1
	for t := r0; t < r1; t++ {
		lo = min(lo, int(a.Start[seq*a.Seq+t]))
	}
	return lo, r1
}

// rowStart is the first key query row t of sequence seq may see.
func rowStart(a *backend.Attn, seq, t int) int {
	if a.Start == nil {
		return 0
	}
	return int(a.Start[seq*a.Seq+t])
}

// attnJob runs the forward of one (sequence, head) pair per index.
type attnJob struct {
	b          *Backend
	a          backend.Attn
	out, lse   []float32
	q, k, v    []float32
	scratchLen int
}

func (j *attnJob) run(w, lo, hi int) {
	a := &j.a
	T, D, H, KV := a.Seq, a.HeadDim, a.Heads, a.KVHeads
	qs, ks := H*D, KV*D
	s := j.b.scratchFor(w, j.scratchLen)
	for task := lo; task < hi; task++ {
		seq, h := task/H, task%H
		kvh := h / (H / KV)
		for r0 := 0; r0 < T; r0 += attnBlock {
			r1 := min(T, r0+attnBlock)
			klo, khi := keyRange(a, seq, r0, r1)
			nr, nk := r1-r0, khi-klo
			qOff := (seq*T+r0)*qs + h*D
			kOff := (seq*T+klo)*ks + kvh*D
			gemm.Sgemm(false, true, nr, nk, D, a.Scale, j.q[qOff:], qs, j.k[kOff:], ks, 0, s, nk)
			for i := 0; i < nr; i++ {
				t := r0 + i
				row := s[i*nk : (i+1)*nk]
				from := rowStart(a, seq, t) - klo
				to := t - klo + 1
				m := float32(math.Inf(-1))
				for _, x := range row[from:to] {
					m = max(m, x)
				}
				var sum float32
				for c := from; c < to; c++ {
					e := exp32(row[c] - m)
					row[c] = e
					sum += e
				}
				inv := 1 / sum
				clear(row[:from])
				for c := from; c < to; c++ {
					row[c] *= inv
				}
				clear(row[to:])
				j.lse[(seq*H+h)*T+t] = m + float32(math.Log(float64(sum)))
			}
			gemm.Sgemm(false, false, nr, D, nk, 1, s, nk, j.v[kOff:], ks, 0, j.out[qOff:], qs)
		}
	}
}

// Attention implements backend.Backend.
func (b *Backend) Attention(out, lse, q, k, v backend.Tensor, a backend.Attn) {
	b.attn = attnJob{b: b, a: a, out: Data(out), lse: Data(lse), q: Data(q), k: Data(k), v: Data(v),
		scratchLen: attnBlock * a.Seq}
	b.pool.parallel(a.Batch*a.Heads, 1, &b.attn)
}

// attnBackJob runs the backward of one (sequence, key/value head) group per
// index, so that the key and value gradients it accumulates are its own.
// Per block: P is recomputed from the saved log-sum-exp, dP = dO·Vᵀ,
// dS = P⊙(dP − rowsum(dO⊙O)), then dV += Pᵀ·dO, dQ += scale·dS·K and
// dK += scale·dSᵀ·Q.
type attnBackJob struct {
	b                   *Backend
	a                   backend.Attn
	dq, dk, dv          []float32
	dout, out, lse      []float32
	q, k, v             []float32
	scratchLen, blockSz int
}

func (j *attnBackJob) run(w, lo, hi int) {
	a := &j.a
	T, D, H, KV := a.Seq, a.HeadDim, a.Heads, a.KVHeads
	qs, ks := H*D, KV*D
	group := H / KV
	buf := j.b.scratchFor(w, j.scratchLen)
	p, dp := buf[:j.blockSz], buf[j.blockSz:2*j.blockSz]
	for task := lo; task < hi; task++ {
		seq, kvh := task/KV, task%KV
		for h := kvh * group; h < (kvh+1)*group; h++ {
			for r0 := 0; r0 < T; r0 += attnBlock {
				r1 := min(T, r0+attnBlock)
				klo, khi := keyRange(a, seq, r0, r1)
				nr, nk := r1-r0, khi-klo
				qOff := (seq*T+r0)*qs + h*D
				kOff := (seq*T+klo)*ks + kvh*D
				gemm.Sgemm(false, true, nr, nk, D, a.Scale, j.q[qOff:], qs, j.k[kOff:], ks, 0, p, nk)
				gemm.Sgemm(false, true, nr, nk, D, 1, j.dout[qOff:], qs, j.v[kOff:], ks, 0, dp, nk)
				for i := 0; i < nr; i++ {
					t := r0 + i
					pr := p[i*nk : (i+1)*nk]
					dr := dp[i*nk : (i+1)*nk]
					from := rowStart(a, seq, t) - klo
					to := t - klo + 1
					lse := j.lse[(seq*H+h)*T+t]
					o := j.out[qOff+i*qs : qOff+i*qs+D]
					g := j.dout[qOff+i*qs : qOff+i*qs+D]
					var di float32
					for c := range o {
						di += o[c] * g[c]
					}
					clear(pr[:from])
					clear(dr[:from])
					for c := from; c < to; c++ {
						pc := exp32(pr[c] - lse)
						pr[c] = pc
						dr[c] = pc * (dr[c] - di)
					}
					clear(pr[to:])
					clear(dr[to:])
				}
				gemm.Sgemm(true, false, nk, D, nr, 1, p, nk, j.dout[qOff:], qs, 1, j.dv[kOff:], ks)
				gemm.Sgemm(false, false, nr, D, nk, a.Scale, dp, nk, j.k[kOff:], ks, 1, j.dq[qOff:], qs)
				gemm.Sgemm(true, false, nk, D, nr, a.Scale, dp, nk, j.q[qOff:], qs, 1, j.dk[kOff:], ks)
			}
		}
	}
}

// AttentionBackward implements backend.Backend.
func (b *Backend) AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v backend.Tensor, a backend.Attn) {
	blk := attnBlock * a.Seq
	b.attnB = attnBackJob{b: b, a: a, dq: Data(dq), dk: Data(dk), dv: Data(dv), dout: Data(dout),
		out: Data(out), lse: Data(lse), q: Data(q), k: Data(k), v: Data(v),
		scratchLen: 2 * blk, blockSz: blk}
	b.pool.parallel(a.Batch*a.KVHeads, 1, &b.attnB)
}
