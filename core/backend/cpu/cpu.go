package cpu

import (
	"fmt"
	"math"

	"github.com/swelego/swelego/core/backend"
)

// Tensor is a cpu tensor: a float32 slice in host memory.
type Tensor struct {
	Data []float32
}

// Len implements backend.Tensor.
func (t *Tensor) Len() int { return len(t.Data) }

// Data returns the host slice behind a cpu tensor; it panics for a tensor of
// another backend. Tests and loaders use it to read and write in place.
func Data(t backend.Tensor) []float32 {
	if t == nil {
		return nil
	}
	ct, ok := t.(*Tensor)
	if !ok {
		panic(fmt.Sprintf("cpu: tensor of type %T is not a cpu tensor", t))
	}
	return ct.Data
}

// Backend is the cpu implementation of backend.Backend.
type Backend struct {
	pool *pool

	// One instance of each kernel, reused by every call (see job).
	rms     rmsJob
	rmsB    rmsBackJob
	rope    ropeJob
	swi     swigluJob
	ce      ceJob
	adam    adamJob
	emb     embJob
	embB    embBackJob
	add     addJob
	scale   scaleJob
	sumsq   sumsqJob
	attn    attnJob
	attnB   attnBackJob
	attnKV  attnKVJob
	matvec  matvecJob
	colsum  colsumJob
	partial []float64
	scratch [][]float32 // per-worker attention scratch, grown on demand
}

var _ backend.Backend = (*Backend)(nil)

// New returns a cpu backend using the given number of worker goroutines
// (GOMAXPROCS when threads ≤ 0). Call Close to stop them.
func New(threads int) *Backend {
	b := &Backend{pool: newPool(threads)}
	b.partial = make([]float64, 4*b.pool.workers+1)
	b.scratch = make([][]float32, b.pool.workers)
	return b
}

// Threads is the number of goroutines the backend computes with.
func (b *Backend) Threads() int { return b.pool.workers }

// Close stops the worker goroutines. The backend must not be used after.
func (b *Backend) Close() {
	for _, c := range b.pool.wake {
		close(c)
	}
	b.pool.wake = nil
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "cpu" }

// New implements backend.Backend.
func (b *Backend) New(n int) backend.Tensor { return &Tensor{Data: make([]float32, n)} }

// View implements backend.Backend.
func (b *Backend) View(t backend.Tensor, off, n int) backend.Tensor {
	d := Data(t)
	return &Tensor{Data: d[off : off+n : off+n]}
}

// Upload implements backend.Backend.
func (b *Backend) Upload(dst backend.Tensor, src []float32) { copy(Data(dst)[:len(src)], src) }

// Download implements backend.Backend.
func (b *Backend) Download(dst []float32, src backend.Tensor) { copy(dst, Data(src)[:len(dst)]) }

// Zero implements backend.Backend.
func (b *Backend) Zero(t backend.Tensor) { clear(Data(t)) }

// Copy implements backend.Backend.
func (b *Backend) Copy(dst, src backend.Tensor) { copy(Data(dst), Data(src)) }

type addJob struct{ out, a, x []float32 }

func (j *addJob) run(_, lo, hi int) {
	out, a, x := j.out[lo:hi], j.a[lo:hi], j.x[lo:hi]
	for i := range out {
		out[i] = a[i] + x[i]
	}
}

// Add implements backend.Backend.
func (b *Backend) Add(out, x, y backend.Tensor) {
	b.add = addJob{Data(out), Data(x), Data(y)}
	b.pool.parallel(len(b.add.out), 1<<14, &b.add)
}

type scaleJob struct {
	x []float32
	s float32
}

func (j *scaleJob) run(_, lo, hi int) {
	x := j.x[lo:hi]
	for i := range x {
		x[i] *= j.s
	}
}

// Scale implements backend.Backend.
func (b *Backend) Scale(t backend.Tensor, s float32) {
	b.scale = scaleJob{Data(t), s}
	b.pool.parallel(len(b.scale.x), 1<<14, &b.scale)
}

// sumsqJob sums squares per fixed block so the result does not depend on
// how chunks were scheduled.
type sumsqJob struct {
	x       []float32
	block   int
	partial []float64
}

func (j *sumsqJob) run(_, lo, hi int) {
	for blk := lo; blk < hi; blk++ {
		x := j.x[blk*j.block : min((blk+1)*j.block, len(j.x))]
		var s0, s1, s2, s3 float64
		i := 0
		for ; i+4 <= len(x); i += 4 {
			a, c, d, e := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
			s0 += a * a
			s1 += c * c
			s2 += d * d
			s3 += e * e
		}
		for ; i < len(x); i++ {
			s0 += float64(x[i]) * float64(x[i])
		}
		j.partial[blk] = s0 + s1 + s2 + s3
	}
}

// SumSquares implements backend.Backend.
func (b *Backend) SumSquares(t backend.Tensor) float64 {
	x := Data(t)
	blocks := len(b.partial)
	block := max(1, (len(x)+blocks-1)/blocks)
	blocks = (len(x) + block - 1) / block
	b.sumsq = sumsqJob{x: x, block: block, partial: b.partial}
	clear(b.partial)
	b.pool.parallel(blocks, 1, &b.sumsq)
	var s float64
	for _, p := range b.partial {
		s += p
	}
	return s
}

type embJob struct {
	out, table []float32
	ids        []int32
	dim        int
}

func (j *embJob) run(_, lo, hi int) {
	for r := lo; r < hi; r++ {
		id := int(j.ids[r])
		copy(j.out[r*j.dim:(r+1)*j.dim], j.table[id*j.dim:(id+1)*j.dim])
	}
}

// Embedding implements backend.Backend.
func (b *Backend) Embedding(out, table backend.Tensor, ids []int32, dim int) {
	b.emb = embJob{Data(out), Data(table), ids, dim}
	b.pool.parallel(len(ids), 64, &b.emb)
}

// embBackJob splits the embedding dimension across workers, so two rows
// with the same id never race.
type embBackJob struct {
	dtable, dout []float32
	ids          []int32
	dim          int
}

func (j *embBackJob) run(_, lo, hi int) {
	for r, id := range j.ids {
		dst := j.dtable[int(id)*j.dim+lo : int(id)*j.dim+hi]
		src := j.dout[r*j.dim+lo : r*j.dim+hi]
		for i := range dst {
			dst[i] += src[i]
		}
	}
}

// EmbeddingBackward implements backend.Backend.
func (b *Backend) EmbeddingBackward(dtable, dout backend.Tensor, ids []int32, dim int) {
	b.embB = embBackJob{Data(dtable), Data(dout), ids, dim}
	b.pool.parallel(dim, 64, &b.embB)
}

type rmsJob struct {
	out, rstd, in, w []float32
	dim              int
	eps              float32
}

func (j *rmsJob) run(_, lo, hi int) {
	d := j.dim
	for r := lo; r < hi; r++ {
		x := j.in[r*d : (r+1)*d]
		var ss float32
		for _, v := range x {
			ss += v * v
		}
		s := float32(1 / math.Sqrt(float64(ss/float32(d)+j.eps)))
		j.rstd[r] = s
		o := j.out[r*d : (r+1)*d]
		w := j.w[:d]
		for i, v := range x {
			o[i] = v * s * w[i]
		}
	}
}

// RMSNorm implements backend.Backend.
func (b *Backend) RMSNorm(out, rstd, in, w backend.Tensor, rows, dim int, eps float32) {
	b.rms = rmsJob{Data(out), Data(rstd), Data(in), Data(w), dim, eps}
	b.pool.parallel(rows, max(1, 4096/dim), &b.rms)
}

// rmsBackJob: with n = x·s (s = rstd) and out = n·w,
// dx = s·(dout·w − n·mean(dout·w·n)), dw = Σ_rows dout·n. The weight
// gradient is reduced per worker chunk into partial rows and summed after.
type rmsBackJob struct {
	din, dw, dout, in, w, rstd []float32
	dim                        int
	dwPart                     []float32 // chunks × dim
	rowsPerChunk               int
}

func (j *rmsBackJob) run(_, lo, hi int) {
	d := j.dim
	for c := lo; c < hi; c++ {
		part := j.dwPart[c*d : (c+1)*d]
		clear(part)
		r0, r1 := c*j.rowsPerChunk, min((c+1)*j.rowsPerChunk, len(j.rstd))
		for r := r0; r < r1; r++ {
			x := j.in[r*d : (r+1)*d]
			g := j.dout[r*d : (r+1)*d]
			s := j.rstd[r]
			w := j.w[:d]
			var dot float32
			for i := range x {
				n := x[i] * s
				dot += g[i] * w[i] * n
				part[i] += g[i] * n
			}
			dot /= float32(d)
			if j.din != nil {
				dx := j.din[r*d : (r+1)*d]
				for i := range x {
					dx[i] += s * (g[i]*w[i] - x[i]*s*dot)
				}
			}
		}
	}
}

// RMSNormBackward implements backend.Backend.
func (b *Backend) RMSNormBackward(din, dw, dout, in, w, rstd backend.Tensor, rows, dim int) {
	chunks := min(rows, 4*b.pool.workers)
	per := (rows + chunks - 1) / chunks
	chunks = (rows + per - 1) / per
	need := chunks * dim
	if len(b.rmsB.dwPart) < need {
		b.rmsB.dwPart = make([]float32, need)
	}
	part := b.rmsB.dwPart
	b.rmsB = rmsBackJob{din: sliceOrNil(din), dout: Data(dout), in: Data(in), w: Data(w),
		rstd: Data(rstd)[:rows], dim: dim, dwPart: part, rowsPerChunk: per}
	b.pool.parallel(chunks, 1, &b.rmsB)
	g := Data(dw)[:dim]
	for c := 0; c < chunks; c++ {
		p := part[c*dim : (c+1)*dim]
		for i := range g {
			g[i] += p[i]
		}
	}
}

func sliceOrNil(t backend.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return Data(t)
}

type ropeJob struct {
	out, in, cos, sin []float32
	heads, headDim    int
	backward          bool
}

func (j *ropeJob) run(_, lo, hi int) {
	half := j.headDim / 2
	w := j.heads * j.headDim
	for r := lo; r < hi; r++ {
		c := j.cos[r*half : (r+1)*half]
		s := j.sin[r*half : (r+1)*half]
		for h := 0; h < j.heads; h++ {
			x := j.in[r*w+h*j.headDim : r*w+(h+1)*j.headDim]
			o := j.out[r*w+h*j.headDim : r*w+(h+1)*j.headDim]
			x1, x2 := x[:half], x[half:]
			o1, o2 := o[:half], o[half:half*2]
			if !j.backward {
				for i := range c {
					a, b := x1[i], x2[i]
					o1[i] = a*c[i] - b*s[i]
					o2[i] = b*c[i] + a*s[i]
				}
			} else {
				// The transpose of the rotation: turn back by the angle.
				for i := range c {
					a, b := x1[i], x2[i]
					o1[i] += a*c[i] + b*s[i]
					o2[i] += b*c[i] - a*s[i]
				}
			}
		}
	}
}

// RoPE implements backend.Backend.
func (b *Backend) RoPE(out, in, cos, sin backend.Tensor, rows, heads, headDim int) {
	b.rope = ropeJob{Data(out), Data(in), Data(cos), Data(sin), heads, headDim, false}
	b.pool.parallel(rows, 16, &b.rope)
}

// RoPEBackward implements backend.Backend.
func (b *Backend) RoPEBackward(din, dout, cos, sin backend.Tensor, rows, heads, headDim int) {
	b.rope = ropeJob{Data(din), Data(dout), Data(cos), Data(sin), heads, headDim, true}
	b.pool.parallel(rows, 16, &b.rope)
}

type swigluJob struct {
	out, gate, up    []float32
	dgate, dup, dout []float32
	backward         bool
}

func (j *swigluJob) run(_, lo, hi int) {
	g, u := j.gate[lo:hi], j.up[lo:hi]
	if !j.backward {
		o := j.out[lo:hi]
		for i := range o {
			x := g[i]
			o[i] = x / (1 + exp32(-x)) * u[i]
		}
		return
	}
	dg, du, do := j.dgate[lo:hi], j.dup[lo:hi], j.dout[lo:hi]
	for i := range do {
		x := g[i]
		sig := 1 / (1 + exp32(-x))
		silu := x * sig
		du[i] += do[i] * silu
		dg[i] += do[i] * u[i] * sig * (1 + x*(1-sig))
	}
}

// SwiGLU implements backend.Backend.
func (b *Backend) SwiGLU(out, gate, up backend.Tensor, n int) {
	b.swi = swigluJob{out: Data(out)[:n], gate: Data(gate), up: Data(up)}
	b.pool.parallel(n, 1<<13, &b.swi)
}

// SwiGLUBackward implements backend.Backend.
func (b *Backend) SwiGLUBackward(dgate, dup, dout, gate, up backend.Tensor, n int) {
	b.swi = swigluJob{gate: Data(gate), up: Data(up), dgate: Data(dgate), dup: Data(dup),
		dout: Data(dout)[:n], backward: true}
	b.pool.parallel(n, 1<<13, &b.swi)
}

type ceJob struct {
	loss, dlogits, logits []float32
	targets               []int32
	weights               []float32
	vocab                 int
	scale                 float32
}

func (j *ceJob) run(_, lo, hi int) {
	v := j.vocab
	for r := lo; r < hi; r++ {
		w := j.weights[r]
		x := j.logits[r*v : (r+1)*v]
		if w == 0 {
			j.loss[r] = 0
			if j.dlogits != nil {
				clear(j.dlogits[r*v : (r+1)*v])
			}
			continue
		}
		m := x[0]
		for _, e := range x {
			m = max(m, e)
		}
		t := int(j.targets[r])
		xt := x[t] // read before the gradient may overwrite the row
		if j.dlogits == nil {
			var sum float64 // float64: a large vocabulary's sum loses digits in float32
			for _, e := range x {
				sum += float64(exp32(e - m))
			}
			j.loss[r] = w * j.scale * (m + float32(math.Log(sum)) - xt)
			continue
		}
		// One exponential per logit: keep exp(x-m) in the gradient row,
		// then scale it by weight·scale/sum.
		d := j.dlogits[r*v : (r+1)*v]
		var sum float64
		for i, e := range x {
			p := exp32(e - m)
			d[i] = p
			sum += float64(p)
		}
		j.loss[r] = w * j.scale * (m + float32(math.Log(sum)) - xt)
		ws := w * j.scale
		f := float32(float64(ws) / sum)
		for i := range d {
			d[i] *= f
		}
		d[t] -= ws
	}
}

// CrossEntropy implements backend.Backend.
func (b *Backend) CrossEntropy(loss, dlogits, logits backend.Tensor, targets []int32, weights []float32, rows, vocab int, scale float32) {
	b.ce = ceJob{Data(loss), sliceOrNil(dlogits), Data(logits), targets, weights, vocab, scale}
	b.pool.parallel(rows, 1, &b.ce)
}

type adamJob struct {
	p, g, m, v []float32
	h          backend.AdamW
}

func (j *adamJob) run(_, lo, hi int) {
	h := j.h
	p, g, m, v := j.p[lo:hi], j.g[lo:hi], j.m[lo:hi], j.v[lo:hi]
	decay := 1 - h.LR*h.WeightDecay
	step := h.LR / h.Bias1
	rb2 := float32(1 / math.Sqrt(float64(h.Bias2)))
	for i := range p {
		gi := g[i] * h.GradScale
		mi := h.Beta1*m[i] + (1-h.Beta1)*gi
		vi := h.Beta2*v[i] + (1-h.Beta2)*gi*gi
		m[i], v[i] = mi, vi
		denom := float32(math.Sqrt(float64(vi)))*rb2 + h.Eps
		p[i] = p[i]*decay - step*mi/denom
	}
}

// AdamWStep implements backend.Backend.
func (b *Backend) AdamWStep(p, g, m, v backend.Tensor, h backend.AdamW) {
	b.adam = adamJob{Data(p), Data(g), Data(m), Data(v), h}
	b.pool.parallel(len(b.adam.p), 1<<14, &b.adam)
}
