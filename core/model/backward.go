package model

import "fmt"

// ForwardBackward runs the forward pass and the backward pass of a batch
// with targets, adding the gradient of loss = Σ weight·CE / norm to the
// parameters' gradients (call ZeroGrad before the first micro-batch of a
// step). With gradient accumulation, pass the trained-token count of the
// whole global batch as norm so the micro-batch losses and gradients sum to
// those of the global batch; norm ≤ 0 means this batch's own count. It
// returns the loss and leaves the logits' gradient in Logits.
func (m *Model) ForwardBackward(b *Batch, norm float64) (float64, error) {
	if err := m.check(b); err != nil {
		return 0, err
	}
	if b.Targets == nil {
		return 0, fmt.Errorf("%w: ForwardBackward needs targets", ErrBatch)
	}
	a := m.activationsFor(b.B, b.T)
	m.forward(a, b)
	loss := m.lossOf(a, b, norm, true) // a.logits now holds dloss/dlogits
	m.backward(a, b)
	return loss, nil
}

func (m *Model) backward(a *activations, b *Batch) {
	c, be, g := &m.Config, m.be, &a.grad
	BT, C, V, L := a.B*a.T, c.HiddenSize, c.VocabSize, c.NumHiddenLayers

	be.Zero(g.dResid)
	be.Zero(g.dLn)
	be.MatMulBackward(g.dLn, m.g.lmHead, nil, a.logits, a.final, m.w.lmHead, BT, C, V)
	be.RMSNormBackward(g.dResid, m.g.norm, g.dLn, a.resid[L], m.w.norm, a.finalR, BT, C)
	for l := L - 1; l >= 0; l-- {
		m.blockBackward(a, l)
	}
	be.EmbeddingBackward(m.g.embed, g.dResid, b.Tokens, C)
}

// blockBackward is the backward of blockForward, from the bottom up. On
// entry g.dResid is the gradient of the layer's output; on return, of its
// input.
func (m *Model) blockBackward(a *activations, l int) {
	c, be, g := &m.Config, m.be, &a.grad
	w, dw, s := &m.w.layers[l], &m.g.layers[l], &a.layers[l]
	BT, C, H, KV, D, I := a.B*a.T, c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize
	x := a.resid[l]
	be.Zero(g.all)

	// MLP: out = mid + down(silu(gate)·up), the residual passing dResid on.
	be.MatMulBackward(g.dAct, dw.down, nil, g.dResid, s.act, w.down, BT, I, C)
	be.SwiGLUBackward(g.dGate, g.dUp, g.dAct, s.gate, s.up, BT*I)
	be.MatMulBackward(g.dLn, dw.gate, nil, g.dGate, s.ln2, w.gate, BT, C, I)
	be.MatMulBackward(g.dLn, dw.up, nil, g.dUp, s.ln2, w.up, BT, C, I)
	be.RMSNormBackward(g.dResid, dw.attNorm, g.dLn, s.mid, w.attNorm, s.rstd2, BT, C)

	// Attention: mid = x + o(attention(…)); dResid is now d(mid).
	be.MatMulBackward(g.dAtt, dw.o, dw.oBias, g.dResid, s.att, w.o, BT, H*D, C)
	be.AttentionBackward(g.dQr, g.dKr, g.dV, g.dAtt, s.att, s.lse, s.qr, s.kr, s.v, m.attn(a))
	be.RoPEBackward(g.dQn, g.dQr, a.cos, a.sin, BT, H, D)
	be.RoPEBackward(g.dKn, g.dKr, a.cos, a.sin, BT, KV, D)
	be.RMSNormBackward(g.dQ, dw.qNorm, g.dQn, s.q, w.qNorm, s.qRstd, BT*H, D)
	be.RMSNormBackward(g.dK, dw.kNorm, g.dKn, s.k, w.kNorm, s.kRstd, BT*KV, D)
	be.Zero(g.dLn)
	be.MatMulBackward(g.dLn, dw.q, dw.qBias, g.dQ, s.ln1, w.q, BT, C, H*D)
	be.MatMulBackward(g.dLn, dw.k, dw.kBias, g.dK, s.ln1, w.k, BT, C, KV*D)
	be.MatMulBackward(g.dLn, dw.v, dw.vBias, g.dV, s.ln1, w.v, BT, C, KV*D)
	be.RMSNormBackward(g.dResid, dw.inputNorm, g.dLn, x, w.inputNorm, s.rstd1, BT, C)
}
