package model

import (
	"math"

	"github.com/swelego/swelego/core/backend"
)

// activations are what the forward pass keeps for the backward, for one
// batch shape, plus the gradient scratch space one layer's backward needs.
type activations struct {
	B, T     int
	resid    []backend.Tensor // L+1 residual streams [BT, C]; resid[l] enters layer l
	layers   []layerActs
	final    backend.Tensor // final norm output [BT, C]
	finalR   backend.Tensor // its rstd [BT]
	logits   backend.Tensor // [BT, V], overwritten by its gradient in the backward
	loss     backend.Tensor // per-row loss [BT]
	cos, sin backend.Tensor // RoPE tables [BT, D/2]

	// Host-side inputs of the current batch.
	start, pos []int32
	cosH, sinH []float32
	lossH      []float32
	ones       []float32

	grad layerGrads
}

type layerActs struct {
	ln1, rstd1   backend.Tensor // input norm [BT, C], [BT]
	q, k, v      backend.Tensor // projections [BT, H·D], [BT, KV·D]
	qr, kr       backend.Tensor // after QK-norm and RoPE
	qRstd, kRstd backend.Tensor // QK-norm rstd [BT·H], [BT·KV]
	att, lse     backend.Tensor // attention output [BT, H·D], log-sum-exp [B·H·T]
	mid          backend.Tensor // residual after attention [BT, C]
	ln2, rstd2   backend.Tensor // post-attention norm
	gate, up     backend.Tensor // [BT, I]
	act          backend.Tensor // silu(gate)·up [BT, I]
}

// layerGrads is gradient scratch for one layer's backward, shared by all
// layers; dResid carries the residual-stream gradient from layer to layer.
type layerGrads struct {
	all        backend.Tensor // everything below but dResid, zeroed per layer
	dResid     backend.Tensor
	dLn        backend.Tensor // [BT, C] (dln2, then dln1; also the final norm's)
	dQ, dK, dV backend.Tensor // before QK-norm
	dQn, dKn   backend.Tensor // after QK-norm, before RoPE
	dQr, dKr   backend.Tensor // after RoPE
	dAtt       backend.Tensor
	dGate, dUp backend.Tensor
	dAct       backend.Tensor
}

func (m *Model) activationsFor(B, T int) *activations {
	if a := m.acts; a != nil && a.B == B && a.T == T {
		return a
	}
	m.acts = nil // let the old set go before allocating the new one
	c := &m.Config
	be := m.be
	BT, C, H, KV, D, I, V := B*T, c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize, c.VocabSize
	a := &activations{B: B, T: T}
	for range c.NumHiddenLayers + 1 {
		a.resid = append(a.resid, be.New(BT*C))
	}
	a.layers = make([]layerActs, c.NumHiddenLayers)
	for l := range a.layers {
		a.layers[l] = layerActs{
			ln1: be.New(BT * C), rstd1: be.New(BT),
			q: be.New(BT * H * D), k: be.New(BT * KV * D), v: be.New(BT * KV * D),
			qr: be.New(BT * H * D), kr: be.New(BT * KV * D),
			qRstd: be.New(BT * H), kRstd: be.New(BT * KV),
			att: be.New(BT * H * D), lse: be.New(BT * H),
			mid: be.New(BT * C), ln2: be.New(BT * C), rstd2: be.New(BT),
			gate: be.New(BT * I), up: be.New(BT * I), act: be.New(BT * I),
		}
	}
	a.final, a.finalR = be.New(BT*C), be.New(BT)
	a.logits, a.loss = be.New(BT*V), be.New(BT)
	a.cos, a.sin = be.New(BT*D/2), be.New(BT*D/2)
	a.start, a.pos = make([]int32, BT), make([]int32, BT)
	a.cosH, a.sinH = make([]float32, BT*D/2), make([]float32, BT*D/2)
	a.lossH, a.ones = make([]float32, BT), make([]float32, BT)
	for i := range a.ones {
		a.ones[i] = 1
	}

	sizes := []int{BT * C, BT * H * D, BT * KV * D, BT * KV * D, BT * H * D, BT * KV * D, BT * H * D, BT * KV * D, BT * H * D, BT * I, BT * I, BT * I}
	total := 0
	for _, s := range sizes {
		total += s
	}
	g := &a.grad
	g.all = be.New(total)
	g.dResid = be.New(BT * C)
	views := []*backend.Tensor{&g.dLn, &g.dQ, &g.dK, &g.dV, &g.dQn, &g.dKn, &g.dQr, &g.dKr, &g.dAtt, &g.dGate, &g.dUp, &g.dAct}
	off := 0
	for i, s := range sizes {
		*views[i] = be.View(g.all, off, s)
		off += s
	}
	m.acts = a
	return a
}

// prepare uploads the batch's RoPE tables and works out segment starts and
// positions.
func (m *Model) prepare(a *activations, b *Batch) {
	T, half := b.T, m.Config.HeadDim/2
	for s := range b.B {
		for t := range T {
			r := s*T + t
			switch {
			case b.Segments == nil || t == 0 || b.Segments[r] != b.Segments[r-1]:
				a.start[r] = int32(t)
				if b.Segments == nil {
					a.start[r] = 0
				}
			default:
				a.start[r] = a.start[r-1]
			}
			if b.Positions != nil {
				a.pos[r] = b.Positions[r]
			} else {
				a.pos[r] = int32(t) - a.start[r]
			}
			p := float32(a.pos[r])
			for i := range half {
				// The angle in float32, as transformers computes it.
				ang := float64(p * m.inv[i])
				a.cosH[r*half+i] = float32(math.Cos(ang) * m.attnF)
				a.sinH[r*half+i] = float32(math.Sin(ang) * m.attnF)
			}
		}
	}
	m.be.Upload(a.cos, a.cosH)
	m.be.Upload(a.sin, a.sinH)
}

func (m *Model) attn(a *activations) backend.Attn {
	c := &m.Config
	at := backend.Attn{Batch: a.B, Seq: a.T, Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads,
		HeadDim: c.HeadDim, Scale: float32(1 / math.Sqrt(float64(c.HeadDim)))}
	at.Start = a.start
	return at
}

// Forward runs the model on a batch and leaves the logits in Logits. When
// the batch has targets it returns the loss Σ weight·CE / norm (norm ≤ 0
// means the batch's own trained-token count).
func (m *Model) Forward(b *Batch, norm float64) (float64, error) {
	if err := m.check(b); err != nil {
		return 0, err
	}
	a := m.activationsFor(b.B, b.T)
	m.forward(a, b)
	if b.Targets == nil {
		return 0, nil
	}
	return m.lossOf(a, b, norm, false), nil
}

// Logits is the [B·T, vocab] output of the last Forward (ForwardBackward
// overwrites it with its gradient).
func (m *Model) Logits() backend.Tensor {
	if m.acts == nil {
		return nil
	}
	return m.acts.logits
}

func (m *Model) forward(a *activations, b *Batch) {
	c, be := &m.Config, m.be
	BT, C, V := b.B*b.T, c.HiddenSize, c.VocabSize
	m.prepare(a, b)
	be.Embedding(a.resid[0], m.w.embed, b.Tokens, C)
	for l := range c.NumHiddenLayers {
		m.blockForward(a, l)
	}
	be.RMSNorm(a.final, a.finalR, a.resid[c.NumHiddenLayers], m.w.norm, BT, C, float32(c.RMSNormEps))
	be.MatMul(a.logits, a.final, m.w.lmHead, nil, BT, C, V)
}

// blockForward is one Qwen3 decoder layer:
//
//	h   = x + o_proj(attention(rope(q_norm(q_proj(n))), rope(k_norm(k_proj(n))), v_proj(n)))  with n = input_layernorm(x)
//	out = h + down_proj(silu(gate_proj(n2)) · up_proj(n2))                                     with n2 = post_attention_layernorm(h)
func (m *Model) blockForward(a *activations, l int) {
	c, be, w, s := &m.Config, m.be, &m.w.layers[l], &a.layers[l]
	BT, C, H, KV, D, I := a.B*a.T, c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize
	eps := float32(c.RMSNormEps)
	x, out := a.resid[l], a.resid[l+1]

	be.RMSNorm(s.ln1, s.rstd1, x, w.inputNorm, BT, C, eps)
	be.MatMul(s.q, s.ln1, w.q, w.qBias, BT, C, H*D)
	be.MatMul(s.k, s.ln1, w.k, w.kBias, BT, C, KV*D)
	be.MatMul(s.v, s.ln1, w.v, w.vBias, BT, C, KV*D)
	be.RMSNorm(s.qr, s.qRstd, s.q, w.qNorm, BT*H, D, eps) // QK-norm: per head
	be.RMSNorm(s.kr, s.kRstd, s.k, w.kNorm, BT*KV, D, eps)
	be.RoPE(s.qr, s.qr, a.cos, a.sin, BT, H, D)
	be.RoPE(s.kr, s.kr, a.cos, a.sin, BT, KV, D)
	be.Attention(s.att, s.lse, s.qr, s.kr, s.v, m.attn(a))
	be.MatMul(s.mid, s.att, w.o, w.oBias, BT, H*D, C)
	be.Add(s.mid, s.mid, x)

	be.RMSNorm(s.ln2, s.rstd2, s.mid, w.attNorm, BT, C, eps)
	be.MatMul(s.gate, s.ln2, w.gate, nil, BT, C, I)
	be.MatMul(s.up, s.ln2, w.up, nil, BT, C, I)
	be.SwiGLU(s.act, s.gate, s.up, BT*I)
	be.MatMul(out, s.act, w.down, nil, BT, I, C)
	be.Add(out, out, s.mid)
}

// lossOf computes the weighted cross-entropy of the logits, writing their
// gradient in place when withGrad is set.
func (m *Model) lossOf(a *activations, b *Batch, norm float64, withGrad bool) float64 {
	if norm <= 0 {
		norm = float64(b.TrainedTokens())
	}
	if norm <= 0 {
		norm = 1
	}
	weights := b.Weights
	if weights == nil {
		weights = a.ones
	}
	var dlogits backend.Tensor
	if withGrad {
		dlogits = a.logits
	}
	BT := b.B * b.T
	m.be.CrossEntropy(a.loss, dlogits, a.logits, b.Targets, weights, BT, m.Config.VocabSize, float32(1/norm))
	m.be.Download(a.lossH, a.loss)
	var sum float64
	for _, x := range a.lossH {
		sum += float64(x)
	}
	return sum
}
