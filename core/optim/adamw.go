package optim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/safetensors"
)

// ErrState is wrapped by errors about optimiser state that does not fit the
// parameters it is loaded for.
var ErrState = errors.New("optimizer state mismatch")

// Config holds AdamW's hyper-parameters. Zero values take PyTorch's
// defaults for Beta1 (0.9), Beta2 (0.999) and Eps (1e-8).
type Config struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	// MaxGradNorm clips the global L2 norm of all gradients (0: no clipping),
	// as torch.nn.utils.clip_grad_norm_ does.
	MaxGradNorm float64
	// NoDecay exempts parameters from weight decay by name; nil means
	// DefaultNoDecay.
	NoDecay func(name string) bool
}

// DefaultNoDecay exempts norm weights and biases from weight decay, as the
// Hugging Face Trainer does.
func DefaultNoDecay(name string) bool {
	return strings.HasSuffix(name, ".bias") || strings.HasSuffix(name, "norm.weight")
}

// AdamW is the AdamW optimiser (Loshchilov & Hutter; PyTorch's
// torch.optim.AdamW update) over a fixed list of parameters.
type AdamW struct {
	cfg    Config
	be     backend.Backend
	params []backend.Param
	m, v   []backend.Tensor
	decay  []bool
	step   int
}

// NewAdamW returns an optimiser for params with zeroed moments.
func NewAdamW(be backend.Backend, params []backend.Param, cfg Config) *AdamW {
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	if cfg.NoDecay == nil {
		cfg.NoDecay = DefaultNoDecay
	}
	o := &AdamW{cfg: cfg, be: be, params: params}
	for _, p := range params {
		o.m = append(o.m, be.New(p.Value.Len()))
		o.v = append(o.v, be.New(p.Value.Len()))
		o.decay = append(o.decay, !cfg.NoDecay(p.Name))
	}
	return o
}

// Steps is the number of updates made so far (restored by Load).
func (o *AdamW) Steps() int { return o.step }

// GradNorm is the global L2 norm of the gradients.
func (o *AdamW) GradNorm() float64 {
	var s float64
	for _, p := range o.params {
		s += o.be.SumSquares(p.Grad)
	}
	return math.Sqrt(s)
}

// Step clips the gradients to MaxGradNorm, applies one AdamW update with
// learning rate lr and returns the gradient norm before clipping. It does
// not clear the gradients.
func (o *AdamW) Step(lr float64) float64 {
	norm := o.GradNorm()
	scale := 1.0
	if o.cfg.MaxGradNorm > 0 {
		scale = min(1, o.cfg.MaxGradNorm/(norm+1e-6))
	}
	o.step++
	t := float64(o.step)
	h := backend.AdamW{
		LR: float32(lr), Beta1: float32(o.cfg.Beta1), Beta2: float32(o.cfg.Beta2), Eps: float32(o.cfg.Eps),
		Bias1: float32(1 - math.Pow(o.cfg.Beta1, t)), Bias2: float32(1 - math.Pow(o.cfg.Beta2, t)),
		GradScale: float32(scale),
	}
	for i, p := range o.params {
		h.WeightDecay = 0
		if o.decay[i] {
			h.WeightDecay = float32(o.cfg.WeightDecay)
		}
		o.be.AdamWStep(p.Value, p.Grad, o.m[i], o.v[i], h)
	}
	return norm
}

// State is the small JSON saved as trainer_state.json beside the moments.
type State struct {
	GlobalStep  int     `json:"global_step"`
	Optimizer   string  `json:"optimizer"`
	Beta1       float64 `json:"adam_beta1"`
	Beta2       float64 `json:"adam_beta2"`
	Eps         float64 `json:"adam_epsilon"`
	WeightDecay float64 `json:"weight_decay"`
	MaxGradNorm float64 `json:"max_grad_norm"`
}

// Save writes the moments to dir/optimizer.safetensors (float32, named
// exp_avg.<param> and exp_avg_sq.<param> as PyTorch's AdamW state calls
// them) and the step count to dir/trainer_state.json.
func (o *AdamW) Save(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save optimizer: %w", err)
	}
	var ts []safetensors.Tensor
	for i, p := range o.params {
		for _, mv := range []struct {
			prefix string
			t      backend.Tensor
		}{{"exp_avg.", o.m[i]}, {"exp_avg_sq.", o.v[i]}} {
			host := make([]float32, mv.t.Len())
			o.be.Download(host, mv.t)
			ts = append(ts, safetensors.Tensor{Name: mv.prefix + p.Name, Shape: p.Shape, Data: host})
		}
	}
	meta := map[string]string{"format": "pt", "step": fmt.Sprint(o.step)}
	if err := safetensors.Write(ctx, filepath.Join(dir, "optimizer.safetensors"), safetensors.F32, ts, meta); err != nil {
		return fmt.Errorf("save optimizer: %w", err)
	}
	st := State{GlobalStep: o.step, Optimizer: "adamw", Beta1: o.cfg.Beta1, Beta2: o.cfg.Beta2, Eps: o.cfg.Eps,
		WeightDecay: o.cfg.WeightDecay, MaxGradNorm: o.cfg.MaxGradNorm}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("save optimizer: %w", err)
	}
	tmp := filepath.Join(dir, ".trainer_state.json.tmp")
	if err := os.WriteFile(tmp, append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("save optimizer: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "trainer_state.json")); err != nil {
		return fmt.Errorf("save optimizer: %w", err)
	}
	return nil
}

// Load restores the moments and step count Save wrote. Every parameter must
// have both moments of its size; a mismatch wraps ErrState.
func (o *AdamW) Load(ctx context.Context, dir string) error {
	js, err := os.ReadFile(filepath.Join(dir, "trainer_state.json"))
	if err != nil {
		return fmt.Errorf("load optimizer: %w", err)
	}
	var st State
	if err := json.Unmarshal(js, &st); err != nil {
		return fmt.Errorf("load optimizer: trainer_state.json: %w", err)
	}
	f, err := safetensors.Open(filepath.Join(dir, "optimizer.safetensors"))
	if err != nil {
		return fmt.Errorf("load optimizer: %w", err)
	}
	defer f.Close()
	for i, p := range o.params {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, mv := range []struct {
			prefix string
			t      backend.Tensor
		}{{"exp_avg.", o.m[i]}, {"exp_avg_sq.", o.v[i]}} {
			host := make([]float32, mv.t.Len())
			if err := f.ReadFloat32(mv.prefix+p.Name, host); err != nil {
				return fmt.Errorf("load optimizer: %w: %w", ErrState, err)
			}
			o.be.Upload(mv.t, host)
		}
	}
	o.step = st.GlobalStep
	return nil
}
