package backend

// Tensor is a flat float32 buffer owned by a Backend. Shapes are not stored:
// every op is told its dimensions, as in llm.c, so one buffer can be read as
// [rows, cols] by one op and as [rows, heads, headDim] by the next.
type Tensor interface {
	// Len is the number of float32 elements.
	Len() int
}

// Param is a named trainable tensor and its gradient, named as Hugging Face
// names the weight (model.layers.0.self_attn.q_proj.weight).
type Param struct {
	Name  string
	Shape []int
	Value Tensor
	Grad  Tensor
}

// Attn describes one attention call. Q holds Batch·Seq rows of Heads·HeadDim
// values, K and V hold Batch·Seq rows of KVHeads·HeadDim values (grouped-query
// attention: query head h reads key/value head h/(Heads/KVHeads)).
//
// The mask is causal and block-diagonal: the query at row r (= b·Seq + t)
// sees keys t' with Start[r] ≤ t' ≤ t, where Start[r] is the position within
// the row's sequence at which its packed segment begins. A nil Start means
// one segment per sequence (a plain causal mask).
type Attn struct {
	Batch, Seq, Heads, KVHeads, HeadDim int
	Scale                               float32 // usually 1/sqrt(HeadDim)
	Start                               []int32 // Batch·Seq entries, or nil
}

// KVSpan is a run of N consecutive query rows, starting at row Row of the
// query tensor, that are positions Pos … Pos+N-1 of one cached sequence. K
// and V hold that sequence's keys and values, one row of KVHeads·HeadDim
// values per position, for at least positions 0 … Pos+N-1 (the span's own
// keys and values already written).
type KVSpan struct {
	Row, N, Pos int
	K, V        Tensor
}

// AttnKV describes one attention call over cached keys and values, for
// decoding: query row Row+i of a span sees its sequence's keys 0 … Pos+i
// (causal). Grouped-query heads as in Attn.
type AttnKV struct {
	Heads, KVHeads, HeadDim int
	Scale                   float32
	Spans                   []KVSpan
}

// AdamW holds the hyper-parameters of one AdamW update of one tensor, with
// the bias corrections already folded in by the caller.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	// Bias1 and Bias2 are 1-β1^t and 1-β2^t for the step t (1-based).
	Bias1, Bias2 float32
	// GradScale multiplies the gradient before use (global-norm clipping).
	GradScale float32
}

// Backend allocates tensors and runs ops on them.
//
// Conventions: the forward ops overwrite their outputs. The backward ops
// accumulate (+=) into every gradient they produce — parameter gradients and
// input gradients alike — so the caller zeroes gradient buffers before use;
// CrossEntropy is the one exception and writes its logit gradient. Outputs
// never alias inputs unless an op says so. Integer inputs (token ids,
// targets) and per-row loss weights are host slices.
//
// A Backend is driven by one goroutine at a time; it may use many cores
// inside an op.
type Backend interface {
	Name() string

	// New returns a zeroed tensor of n elements.
	New(n int) Tensor
	// View returns the n elements of t starting at off, sharing storage.
	View(t Tensor, off, n int) Tensor
	// Upload copies src into dst[0:len(src)]; Download copies src[0:len(dst)]
	// into dst.
	Upload(dst Tensor, src []float32)
	Download(dst []float32, src Tensor)

	Zero(t Tensor)
	Copy(dst, src Tensor)
	// Add sets out = a + b element-wise (out may alias a or b).
	Add(out, a, b Tensor)
	// Scale multiplies t by s in place.
	Scale(t Tensor, s float32)
	// SumSquares returns Σ t[i]² accumulated in float64.
	SumSquares(t Tensor) float64

	// Embedding sets out[r] = table[ids[r]] for rows of dim values.
	Embedding(out, table Tensor, ids []int32, dim int)
	// EmbeddingBackward adds dout[r] to dtable[ids[r]].
	EmbeddingBackward(dtable, dout Tensor, ids []int32, dim int)

	// MatMul sets out = in·wᵀ (+ bias): in is [rows, inDim], w is
	// [outDim, inDim] (the layout of a PyTorch Linear weight), out is
	// [rows, outDim]; bias may be nil.
	MatMul(out, in, w, bias Tensor, rows, inDim, outDim int)
	// MatMulBackward adds dout·w to din (skipped when din is nil), doutᵀ·in
	// to dw and the column sums of dout to dbias (skipped when nil).
	MatMulBackward(din, dw, dbias, dout, in, w Tensor, rows, inDim, outDim int)

	// RMSNorm normalises each row of dim values: out = in·rstd·w with
	// rstd = 1/sqrt(mean(in²)+eps), saved per row for the backward.
	RMSNorm(out, rstd, in, w Tensor, rows, dim int, eps float32)
	RMSNormBackward(din, dw, dout, in, w, rstd Tensor, rows, dim int)

	// RoPE rotates each head of each row in the Hugging Face "rotate half"
	// layout: for i < headDim/2, the pair (x[i], x[i+headDim/2]) turns by the
	// angle whose cosine and sine are cos[r, i] and sin[r, i] (any YaRN
	// attention factor already multiplied in). out may alias in.
	RoPE(out, in, cos, sin Tensor, rows, heads, headDim int)
	RoPEBackward(din, dout, cos, sin Tensor, rows, heads, headDim int)

	// Attention sets out = softmax(mask(q·kᵀ·scale))·v per head and saves the
	// log-sum-exp of each query row (lse: Batch·Heads·Seq values) for the
	// backward, which recomputes the probabilities from it.
	Attention(out, lse, q, k, v Tensor, a Attn)
	AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v Tensor, a Attn)
	// AttentionKV sets out = softmax(causal(q·kᵀ·scale))·v for the query
	// rows of each span against its sequence's cached keys and values (an
	// inference op: no log-sum-exp is kept, there is no backward).
	AttentionKV(out, q Tensor, a AttnKV)

	// SwiGLU sets out = silu(gate)·up over n elements.
	SwiGLU(out, gate, up Tensor, n int)
	SwiGLUBackward(dgate, dup, dout, gate, up Tensor, n int)

	// CrossEntropy computes, for each row with weights[r] ≠ 0,
	// loss[r] = weights[r]·scale·(logsumexp(logits[r]) − logits[r, targets[r]])
	// and, when dlogits is not nil, writes its gradient
	// dlogits[r] = weights[r]·scale·(softmax(logits[r]) − onehot(targets[r])).
	// Rows with weight 0 get loss 0 and a gradient of exact zeros, whatever
	// their target. dlogits may alias logits.
	CrossEntropy(loss, dlogits, logits Tensor, targets []int32, weights []float32, rows, vocab int, scale float32)

	// AdamWStep updates p, m and v from g in place.
	AdamWStep(p, g, m, v Tensor, h AdamW)
}
