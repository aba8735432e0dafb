package optim

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/cpu"
)

func TestSchedule(t *testing.T) {
	s := Schedule{Peak: 1e-3, Warmup: 10, Total: 110, MinRatio: 0.1}
	cases := []struct {
		name string
		step int
		want float64
	}{
		{"first step of warmup is zero", 0, 0},
		{"mid warmup", 5, 5e-4},
		{"peak", 10, 1e-3},
		{"half way down", 60, 1e-4 + 0.5*9e-4},
		{"floor", 110, 1e-4},
		{"past the end stays at the floor", 500, 1e-4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.LR(c.step); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("LR(%d) = %v, want %v", c.step, got, c.want)
			}
		})
	}
	noWarm := Schedule{Peak: 2, Total: 4}
	if got := noWarm.LR(0); got != 2 {
		t.Errorf("no warmup: LR(0) = %v", got)
	}
}

func TestDefaultNoDecay(t *testing.T) {
	for name, want := range map[string]bool{
		"model.layers.0.input_layernorm.weight": true, "model.layers.3.self_attn.q_norm.weight": true,
		"model.norm.weight": true, "model.layers.0.self_attn.q_proj.bias": true,
		"model.layers.0.self_attn.q_proj.weight": false, "model.embed_tokens.weight": false, "lm_head.weight": false,
	} {
		if got := DefaultNoDecay(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func params(be backend.Backend, vals ...[]float32) []backend.Param {
	var ps []backend.Param
	names := []string{"w.weight", "n.norm.weight"}
	for i, v := range vals {
		p := backend.Param{Name: names[i], Shape: []int{len(v)}, Value: be.New(len(v)), Grad: be.New(len(v))}
		be.Upload(p.Value, v)
		ps = append(ps, p)
	}
	return ps
}

// One step by hand: the gradient (norm 5) is clipped to norm 1, the first
// step's bias-corrected update is lr·sign(g) (plus eps), decay applies to
// the matrix only.
func TestStepClipsAndDecays(t *testing.T) {
	be := cpu.New(1)
	defer be.Close()
	ps := params(be, []float32{1, 1}, []float32{1})
	be.Upload(ps[0].Grad, []float32{3, 0})
	be.Upload(ps[1].Grad, []float32{-4})
	o := NewAdamW(be, ps, Config{WeightDecay: 0.5, MaxGradNorm: 1})
	if norm := o.Step(0.1); math.Abs(norm-5) > 1e-6 {
		t.Errorf("grad norm %v, want 5", norm)
	}
	w, n := make([]float32, 2), make([]float32, 1)
	be.Download(w, ps[0].Value)
	be.Download(n, ps[1].Value)
	want := []float64{1*(1-0.05) - 0.1, 1 * (1 - 0.05), 1 + 0.1}
	got := []float32{w[0], w[1], n[0]}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Errorf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
	if o.Steps() != 1 {
		t.Errorf("steps %d", o.Steps())
	}
}

func TestSaveLoad(t *testing.T) {
	be := cpu.New(1)
	defer be.Close()
	ps := params(be, []float32{1, 2, 3}, []float32{4})
	o := NewAdamW(be, ps, Config{WeightDecay: 0.1})
	for range 3 {
		be.Upload(ps[0].Grad, []float32{0.1, -0.2, 0.3})
		be.Upload(ps[1].Grad, []float32{1})
		o.Step(1e-2)
	}
	dir := t.TempDir()
	if err := o.Save(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	o2 := NewAdamW(be, ps, Config{WeightDecay: 0.1})
	if err := o2.Load(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if o2.Steps() != 3 {
		t.Errorf("steps %d, want 3", o2.Steps())
	}
	for i := range ps {
		for _, pair := range [][2]backend.Tensor{{o.m[i], o2.m[i]}, {o.v[i], o2.v[i]}} {
			a, b := make([]float32, pair[0].Len()), make([]float32, pair[0].Len())
			be.Download(a, pair[0])
			be.Download(b, pair[1])
			for j := range a {
				if a[j] != b[j] {
					t.Errorf("param %d moment [%d]: %v vs %v", i, j, a[j], b[j])
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "trainer_state.json")); err != nil {
		t.Error(err)
	}
	// State for other parameters does not load.
	other := []backend.Param{{Name: "x.weight", Shape: []int{3}, Value: be.New(3), Grad: be.New(3)}}
	if err := NewAdamW(be, other, Config{}).Load(context.Background(), dir); !errors.Is(err, ErrState) {
		t.Errorf("mismatched state: %v", err)
	}
}
