package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/swelego/swelego/core/backend"
)

// ErrBatch is wrapped by every error about a malformed batch.
var ErrBatch = errors.New("invalid batch")

// Model is a Qwen3 causal language model: its parameters and gradients on a
// backend, and the activations of the last forward pass (allocated once per
// batch shape and reused).
type Model struct {
	Config Config

	be     backend.Backend
	params []backend.Param
	w, g   weights // values and gradients, views into params
	inv    []float32
	attnF  float64

	acts *activations
	dec  *decodeBufs // scratch of Decode, grown on demand
}

// New returns a model with every parameter zero except the RMSNorm weights,
// which are one. Load weights into it (Load, or Params and Upload) or call
// InitRandom.
func New(be backend.Backend, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, be: be}
	shapes := paramShapes(&cfg)
	total := 0
	for _, s := range shapes {
		total += s.size()
	}
	// One flat buffer each for values and gradients, so zeroing and norms
	// are single calls.
	vals, grads := be.New(total), be.New(total)
	vByName := map[string]backend.Tensor{}
	gByName := map[string]backend.Tensor{}
	off := 0
	for _, s := range shapes {
		n := s.size()
		p := backend.Param{Name: s.name, Shape: s.shape, Value: be.View(vals, off, n), Grad: be.View(grads, off, n)}
		m.params = append(m.params, p)
		vByName[s.name], gByName[s.name] = p.Value, p.Grad
		off += n
	}
	m.w.bind(&cfg, vByName)
	m.g.bind(&cfg, gByName)
	for _, p := range m.params {
		if isNorm(p.Name) {
			fill(be, p.Value, 1)
		}
	}
	m.inv, m.attnF = cfg.RoPEFrequencies()
	return m, nil
}

func isNorm(name string) bool { return strings.HasSuffix(name, "norm.weight") }

func fill(be backend.Backend, t backend.Tensor, v float32) {
	host := make([]float32, t.Len())
	for i := range host {
		host[i] = v
	}
	be.Upload(t, host)
}

// Backend is the backend the model runs on.
func (m *Model) Backend() backend.Backend { return m.be }

// Params lists the trainable parameters in Hugging Face state-dict order.
// With tied embeddings there is no lm_head.weight: the embedding serves.
func (m *Model) Params() []backend.Param { return m.params }

// InitRandom draws every matrix from N(0, std²) with a seeded generator
// and sets norm weights to one and biases to zero, for training from
// scratch.
func (m *Model) InitRandom(seed uint64, std float64) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for _, p := range m.params {
		host := make([]float32, p.Value.Len())
		switch {
		case isNorm(p.Name):
			for i := range host {
				host[i] = 1
			}
		case len(p.Shape) == 2:
			for i := range host {
				host[i] = float32(r.NormFloat64() * std)
			}
		}
		m.be.Upload(p.Value, host)
	}
}

// ZeroGrad clears every gradient.
func (m *Model) ZeroGrad() {
	for _, p := range m.params {
		m.be.Zero(p.Grad)
	}
}

// Batch is one micro-batch of B sequences of T tokens.
type Batch struct {
	B, T int
	// Tokens are the input ids, B·T of them.
	Tokens []int32
	// Targets are the ids to predict at each position (the next token);
	// only read where Weights is not zero, so ignored positions may hold
	// anything (-100 as in Hugging Face).
	Targets []int32
	// Weights scale each position's loss; 0 means no loss and no gradient.
	// Nil with Targets means weight 1 everywhere.
	Weights []float32
	// Segments, optional, marks packed sequences: a position attends only
	// to earlier positions of the same contiguous run of equal ids
	// (block-diagonal causal mask).
	Segments []int32
	// Positions, optional, are the RoPE positions; by default each
	// position's offset from the start of its segment.
	Positions []int32
}

// TrainedTokens counts the positions with a non-zero weight, the usual
// loss normaliser (sum it over the micro-batches of a global batch).
func (b *Batch) TrainedTokens() int {
	if b.Weights == nil && b.Targets != nil {
		return b.B * b.T
	}
	n := 0
	for _, w := range b.Weights {
		if w != 0 {
			n++
		}
	}
	return n
}

func (m *Model) check(b *Batch) error {
	n := b.B * b.T
	if b.B <= 0 || b.T <= 0 {
		return fmt.Errorf("%w: shape %d×%d", ErrBatch, b.B, b.T)
	}
	if len(b.Tokens) != n {
		return fmt.Errorf("%w: %d tokens for %d×%d", ErrBatch, len(b.Tokens), b.B, b.T)
	}
	V := int32(m.Config.VocabSize)
	for i, t := range b.Tokens {
		if t < 0 || t >= V {
			return fmt.Errorf("%w: token %d at %d outside the vocabulary of %d", ErrBatch, t, i, V)
		}
	}
	for _, f := range [...]struct {
		name string
		len  int
	}{{"targets", len(b.Targets)}, {"weights", len(b.Weights)}, {"segments", len(b.Segments)}, {"positions", len(b.Positions)}} {
		if f.len != 0 && f.len != n {
			return fmt.Errorf("%w: %d %s for %d positions", ErrBatch, f.len, f.name, n)
		}
	}
	if b.Weights != nil && b.Targets == nil {
		return fmt.Errorf("%w: weights without targets", ErrBatch)
	}
	for i, t := range b.Targets {
		if (b.Weights == nil || b.Weights[i] != 0) && (t < 0 || t >= V) {
			return fmt.Errorf("%w: target %d at %d outside the vocabulary of %d", ErrBatch, t, i, V)
		}
	}
	for i, w := range b.Weights {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("%w: weight %v at %d", ErrBatch, w, i)
		}
	}
	for i, p := range b.Positions {
		if p < 0 {
			return fmt.Errorf("%w: negative position %d at %d", ErrBatch, p, i)
		}
	}
	return nil
}

// FLOPsPerToken is the model FLOPs of one training step per token of a
// sequence of length seq: 6 per parameter multiply-add in the matrices
// (forward and backward, embedding lookup excluded, the LM head included)
// plus the attention scores and values, 12·layers·heads·head_dim·seq/2
// under the causal mask.
func (c *Config) FLOPsPerToken(seq int) float64 {
	C, H, KV, D, I, V, L := float64(c.HiddenSize), float64(c.NumAttentionHeads), float64(c.NumKeyValueHeads),
		float64(c.HeadDim), float64(c.IntermediateSize), float64(c.VocabSize), float64(c.NumHiddenLayers)
	perLayer := C*H*D*2 + C*KV*D*2 + 3*C*I
	matmul := L*perLayer + V*C
	attn := L * H * D * float64(seq) / 2 * 2 * 2 // QKᵀ and PV, 2 FLOPs per MAC, half under the mask
	return 6*matmul + 3*attn
}
