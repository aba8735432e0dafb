package model

import (
	"fmt"
	"math"

	"github.com/swelego/swelego/core/backend"
)

// KVCache holds the keys and values one sequence has produced so far, per
// layer, for decoding with Decode: each new token attends to them instead
// of recomputing them.
type KVCache struct {
	k, v []backend.Tensor // per layer [capacity, KV·D], after QK-norm and RoPE (keys)
	cap  int
	len  int
}

// NewKVCache returns an empty cache with room for capacity tokens; Decode
// moves it to a larger one when a sequence outgrows it.
func (m *Model) NewKVCache(capacity int) *KVCache {
	c := &m.Config
	kvd := c.NumKeyValueHeads * c.HeadDim
	kv := &KVCache{cap: capacity}
	for range c.NumHiddenLayers {
		kv.k = append(kv.k, m.be.New(capacity*kvd))
		kv.v = append(kv.v, m.be.New(capacity*kvd))
	}
	return kv
}

// grow moves a cache to room for capacity tokens.
func (m *Model) grow(kv *KVCache, capacity int) {
	kvd := m.Config.NumKeyValueHeads * m.Config.HeadDim
	for l := range kv.k {
		for _, t := range []*backend.Tensor{&kv.k[l], &kv.v[l]} {
			bigger := m.be.New(capacity * kvd)
			m.be.Copy(m.be.View(bigger, 0, kv.len*kvd), m.be.View(*t, 0, kv.len*kvd))
			*t = bigger
		}
	}
	kv.cap = capacity
}

// Len is the number of tokens in the cache.
func (kv *KVCache) Len() int { return kv.len }

// Cap is the number of tokens the cache has room for.
func (kv *KVCache) Cap() int { return kv.cap }

// DecodeStep is new tokens of one sequence: they take positions Len() …
// of its cache.
type DecodeStep struct {
	Cache  *KVCache
	Tokens []int32
}

// decodeBufs is Decode's scratch for up to rows new tokens of up to seqs
// sequences.
type decodeBufs struct {
	rows, seqs      int
	x, ln, mid, ln2 backend.Tensor // [rows, C]
	rstd            backend.Tensor // [rows·H] (norm scratch, also per head)
	q, k, v, att    backend.Tensor // [rows, H·D], [rows, KV·D] ×2, [rows, H·D]
	qr, kr          backend.Tensor // q and k after QK-norm and RoPE
	gate, up, act   backend.Tensor // [rows, I]
	cos, sin        backend.Tensor // [rows, D/2]
	last, lastN     backend.Tensor // [seqs, C]
	logits          backend.Tensor // [seqs, V]
	ids             []int32
	cosH, sinH      []float32
	spans           []backend.KVSpan
}

func (m *Model) decodeBufsFor(rows, seqs int) *decodeBufs {
	if d := m.dec; d != nil && d.rows >= rows && d.seqs >= seqs {
		return d
	}
	if d := m.dec; d != nil { // grow geometrically
		rows, seqs = max(rows, 2*d.rows), max(seqs, 2*d.seqs)
	}
	m.dec = nil
	c, be := &m.Config, m.be
	C, H, KV, D, I, V := c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize, c.VocabSize
	d := &decodeBufs{rows: rows, seqs: seqs,
		x: be.New(rows * C), ln: be.New(rows * C), mid: be.New(rows * C), ln2: be.New(rows * C),
		rstd: be.New(rows * H),
		q:    be.New(rows * H * D), k: be.New(rows * KV * D), v: be.New(rows * KV * D), att: be.New(rows * H * D),
		qr: be.New(rows * H * D), kr: be.New(rows * KV * D),
		gate: be.New(rows * I), up: be.New(rows * I), act: be.New(rows * I),
		cos: be.New(rows * D / 2), sin: be.New(rows * D / 2),
		last: be.New(seqs * C), lastN: be.New(seqs * C), logits: be.New(seqs * V),
		cosH: make([]float32, rows*D/2), sinH: make([]float32, rows*D/2),
	}
	m.dec = d
	return d
}

// Decode runs the model over the new tokens of several sequences at once —
// a whole prompt, a chunk of one, or the one token sampled last — appending
// their keys and values to each sequence's cache, and writes the logits of
// each step's last token to logits (len(steps) rows of the vocabulary
// size). The result equals Forward's logits at the same positions of the
// whole sequences.
func (m *Model) Decode(steps []DecodeStep, logits []float32) error {
	c := &m.Config
	V := c.VocabSize
	rows := 0
	for i, s := range steps {
		if len(s.Tokens) == 0 {
			return fmt.Errorf("%w: step %d has no tokens", ErrBatch, i)
		}
		if len(s.Cache.k) != c.NumHiddenLayers {
			return fmt.Errorf("%w: step %d: the cache is not this model's", ErrBatch, i)
		}
		for _, t := range s.Tokens {
			if t < 0 || int(t) >= V {
				return fmt.Errorf("%w: token %d outside the vocabulary of %d", ErrBatch, t, V)
			}
		}
		rows += len(s.Tokens)
	}
	if len(logits) < len(steps)*V {
		return fmt.Errorf("%w: %d logits for %d sequences of vocabulary %d", ErrBatch, len(logits), len(steps), V)
	}
	if len(steps) == 0 {
		return nil
	}
	for _, s := range steps {
		if need := s.Cache.len + len(s.Tokens); need > s.Cache.cap {
			m.grow(s.Cache, max(need, 2*s.Cache.cap))
		}
	}
	d := m.decodeBufsFor(rows, len(steps))
	m.decodeInputs(d, steps)
	be, C := m.be, c.HiddenSize
	be.Embedding(d.x, m.w.embed, d.ids, C)
	for l := range c.NumHiddenLayers {
		m.blockDecode(d, steps, rows, l)
	}
	// Only the last new token of each step needs logits.
	for i, sp := range d.spans {
		row := sp.Row + sp.N - 1
		be.Copy(be.View(d.last, i*C, C), be.View(d.x, row*C, C))
	}
	n := len(steps)
	be.RMSNorm(d.lastN, d.rstd, d.last, m.w.norm, n, C, float32(c.RMSNormEps))
	be.MatMul(d.logits, d.lastN, m.w.lmHead, nil, n, C, V)
	be.Download(logits[:n*V], d.logits)
	for _, s := range steps {
		s.Cache.len += len(s.Tokens)
	}
	return nil
}

// decodeInputs lays the steps' tokens out as rows and uploads the RoPE
// tables of their positions.
func (m *Model) decodeInputs(d *decodeBufs, steps []DecodeStep) {
	half := m.Config.HeadDim / 2
	d.ids, d.spans = d.ids[:0], d.spans[:0]
	r := 0
	for _, s := range steps {
		d.spans = append(d.spans, backend.KVSpan{Row: r, N: len(s.Tokens), Pos: s.Cache.len})
		for i, t := range s.Tokens {
			d.ids = append(d.ids, t)
			p := float32(s.Cache.len + i)
			for j := range half {
				ang := float64(p * m.inv[j]) // in float32, as transformers computes it
				d.cosH[r*half+j] = float32(math.Cos(ang) * m.attnF)
				d.sinH[r*half+j] = float32(math.Sin(ang) * m.attnF)
			}
			r++
		}
	}
	m.be.Upload(d.cos, d.cosH[:r*half])
	m.be.Upload(d.sin, d.sinH[:r*half])
}

// blockDecode is blockForward over new rows, with attention over each
// sequence's cache (the same formula; see blockForward).
func (m *Model) blockDecode(d *decodeBufs, steps []DecodeStep, rows, l int) {
	c, be, w := &m.Config, m.be, &m.w.layers[l]
	C, H, KV, D, I := c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize
	eps := float32(c.RMSNormEps)
	kvd := KV * D

	be.RMSNorm(d.ln, d.rstd, d.x, w.inputNorm, rows, C, eps)
	be.MatMul(d.q, d.ln, w.q, w.qBias, rows, C, H*D)
	be.MatMul(d.k, d.ln, w.k, w.kBias, rows, C, kvd)
	be.MatMul(d.v, d.ln, w.v, w.vBias, rows, C, kvd)
	be.RMSNorm(d.qr, d.rstd, d.q, w.qNorm, rows*H, D, eps)
	be.RMSNorm(d.kr, d.rstd, d.k, w.kNorm, rows*KV, D, eps)
	be.RoPE(d.qr, d.qr, d.cos, d.sin, rows, H, D)
	be.RoPE(d.kr, d.kr, d.cos, d.sin, rows, KV, D)
	for i, s := range steps {
		sp := &d.spans[i]
		sp.K, sp.V = s.Cache.k[l], s.Cache.v[l]
		be.Copy(be.View(sp.K, sp.Pos*kvd, sp.N*kvd), be.View(d.kr, sp.Row*kvd, sp.N*kvd))
		be.Copy(be.View(sp.V, sp.Pos*kvd, sp.N*kvd), be.View(d.v, sp.Row*kvd, sp.N*kvd))
	}
	be.AttentionKV(d.att, d.qr, backend.AttnKV{Heads: H, KVHeads: KV, HeadDim: D,
		Scale: float32(1 / math.Sqrt(float64(D))), Spans: d.spans})
	x, mid := be.View(d.x, 0, rows*C), be.View(d.mid, 0, rows*C)
	be.MatMul(mid, d.att, w.o, w.oBias, rows, H*D, C)
	be.Add(mid, mid, x)

	be.RMSNorm(d.ln2, d.rstd, d.mid, w.attNorm, rows, C, eps)
	be.MatMul(d.gate, d.ln2, w.gate, nil, rows, C, I)
	be.MatMul(d.up, d.ln2, w.up, nil, rows, C, I)
	be.SwiGLU(d.act, d.gate, d.up, rows*I)
	be.MatMul(x, d.act, w.down, nil, rows, I, C)
	be.Add(x, x, mid)
}
