package cpu

import (
	"math"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/gemm"
)

// kvTask is one block of at most attnBlock query rows of one span, for one
// head.
type kvTask struct {
	span, r0, r1, head int
}

// attnKVJob runs the forward over a cache of one kvTask per index: scores
// against the keys the block's last row sees, the causal mask per row, a
// softmax, and the weighted sum of the values.
type attnKVJob struct {
	b          *Backend
	a          backend.AttnKV
	out, q     []float32
	tasks      []kvTask
	scratchLen int
}

func (j *attnKVJob) run(w, lo, hi int) {
	a := &j.a
	D, H, KV := a.HeadDim, a.Heads, a.KVHeads
	qs, ks := H*D, KV*D
	s := j.b.scratchFor(w, j.scratchLen)
	for _, t := range j.tasks[lo:hi] {
		sp := &a.Spans[t.span]
		k, v := Data(sp.K), Data(sp.V)
		kvh := t.head / (H / KV)
		nr, nk := t.r1-t.r0, sp.Pos+t.r1 // the block's last row sees keys [0, Pos+r1)
		qOff := (sp.Row+t.r0)*qs + t.head*D
		gemm.Sgemm(false, true, nr, nk, D, a.Scale, j.q[qOff:], qs, k[kvh*D:], ks, 0, s, nk)
		for i := range nr {
			row := s[i*nk : (i+1)*nk]
			to := sp.Pos + t.r0 + i + 1
			m := float32(math.Inf(-1))
			for _, x := range row[:to] {
				m = max(m, x)
			}
			var sum float32
			for c := range to {
				e := exp32(row[c] - m)
				row[c] = e
				sum += e
			}
			inv := 1 / sum
			for c := range to {
				row[c] *= inv
			}
			clear(row[to:])
		}
		gemm.Sgemm(false, false, nr, D, nk, 1, s, nk, v[kvh*D:], ks, 0, j.out[qOff:], qs)
	}
}

// AttentionKV implements backend.Backend.
func (b *Backend) AttentionKV(out, q backend.Tensor, a backend.AttnKV) {
	var tasks []kvTask
	longest := 0
	for i, sp := range a.Spans {
		for r0 := 0; r0 < sp.N; r0 += attnBlock {
			r1 := min(sp.N, r0+attnBlock)
			for h := range a.Heads {
				tasks = append(tasks, kvTask{span: i, r0: r0, r1: r1, head: h})
			}
			longest = max(longest, (r1-r0)*(sp.Pos+r1))
		}
	}
	b.attnKV = attnKVJob{b: b, a: a, out: Data(out), q: Data(q), tasks: tasks, scratchLen: longest}
	b.pool.parallel(len(tasks), 1, &b.attnKV)
}
