package model_test

import (
	"encoding/json"
	"flag"
	"math"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/optim"
	"github.com/swelego/swelego/core/safetensors"
)

var update = flag.Bool("update", false, "regenerate testdata/golden_*.safetensors with testdata/reference.py (needs python3-torch)")

var regenerate sync.Once

// golden is a state written by testdata/reference.py (plain PyTorch, float64).
type golden struct {
	cfg     model.Config
	f       *safetensors.File
	norm    float64
	train   map[string]float64
	batch   model.Batch
	tensors map[string][]float32
}

func loadGolden(t *testing.T, name string) *golden {
	t.Helper()
	if *update {
		regenerate.Do(func() { runReference(t) })
	}
	f, err := safetensors.Open(filepath.Join("testdata", "golden_"+name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	g := &golden{f: f, tensors: map[string][]float32{}}
	if g.cfg, err = model.ParseConfig([]byte(f.Metadata["config"])); err != nil {
		t.Fatal(err)
	}
	if g.norm, err = strconv.ParseFloat(f.Metadata["norm"], 64); err != nil {
		t.Fatal(err)
	}
	if tr := f.Metadata["train"]; tr != "" {
		if err := json.Unmarshal([]byte(tr), &g.train); err != nil {
			t.Fatal(err)
		}
	}
	for _, info := range f.Tensors {
		buf := make([]float32, info.Len())
		if err := f.ReadFloat32(info.Name, buf); err != nil {
			t.Fatal(err)
		}
		g.tensors[info.Name] = buf
	}
	tok := g.tensors["tokens"]
	info, _ := f.Info("tokens")
	g.batch = model.Batch{B: info.Shape[0], T: info.Shape[1], Tokens: ints(tok), Targets: ints(g.tensors["targets"]),
		Weights: g.tensors["weights"]}
	if seg, ok := g.tensors["segments"]; ok {
		g.batch.Segments = ints(seg)
	}
	return g
}

func ints(f []float32) []int32 {
	out := make([]int32, len(f))
	for i, v := range f {
		out[i] = int32(v)
	}
	return out
}

// newGoldenModel builds the golden config on a cpu backend with the golden
// weights.
func newGoldenModel(t *testing.T, g *golden) (*model.Model, *cpu.Backend) {
	t.Helper()
	be := cpu.New(0)
	t.Cleanup(be.Close)
	m, err := model.New(be, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		v, ok := g.tensors["param."+p.Name]
		if !ok {
			t.Fatalf("golden lacks %s", p.Name)
		}
		be.Upload(p.Value, v)
	}
	return m, be
}

// relErr is max|got-want| / max|want|: the error relative to the tensor's
// scale, so entries near zero do not dominate.
func relErr(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

var goldenCases = []string{"yarn_packed", "tied_bias"}

func TestGoldenForwardBackward(t *testing.T) {
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			m, be := newGoldenModel(t, g)
			loss, err := m.Forward(&g.batch, g.norm)
			if err != nil {
				t.Fatal(err)
			}
			logits := make([]float32, m.Logits().Len())
			be.Download(logits, m.Logits())
			if e := relErr(logits, g.tensors["logits"]); e > 1e-4 {
				t.Errorf("logits: relative error %.3g > 1e-4", e)
			}
			want := float64(g.tensors["loss"][0])
			if e := math.Abs(loss-want) / want; e > 1e-4 {
				t.Errorf("loss %.7f, want %.7f (relative error %.3g)", loss, want, e)
			}

			m.ZeroGrad()
			loss2, err := m.ForwardBackward(&g.batch, g.norm)
			if err != nil {
				t.Fatal(err)
			}
			if loss2 != loss {
				t.Errorf("ForwardBackward loss %v != Forward loss %v", loss2, loss)
			}
			worst := 0.0
			for _, p := range m.Params() {
				got := make([]float32, p.Grad.Len())
				be.Download(got, p.Grad)
				e := relErr(got, g.tensors["grad."+p.Name])
				worst = math.Max(worst, e)
				if e > 1e-3 {
					t.Errorf("grad %s: relative error %.3g > 1e-3", p.Name, e)
				}
			}
			t.Logf("loss %.6f (want %.6f), worst gradient relative error %.2g", loss, want, worst)
		})
	}
}

// TestGoldenTraining replays the reference's ten AdamW steps: two
// micro-batches per step with the loss normalised by the whole batch's
// trained tokens, clipping, weight decay and warmup + cosine.
func TestGoldenTraining(t *testing.T) {
	g := loadGolden(t, "yarn_packed")
	m, be := newGoldenModel(t, g)
	tr := g.train
	opt := optim.NewAdamW(be, m.Params(), optim.Config{Beta1: tr["beta1"], Beta2: tr["beta2"], Eps: tr["eps"],
		WeightDecay: tr["weight_decay"], MaxGradNorm: tr["max_grad_norm"]})
	sched := optim.Schedule{Peak: tr["peak_lr"], Warmup: int(tr["warmup"]), Total: int(tr["steps"]), MinRatio: tr["min_lr_ratio"]}
	micro := splitBatch(&g.batch)
	wantLoss, wantNorm := g.tensors["train.losses"], g.tensors["train.grad_norms"]
	for step := range int(tr["steps"]) {
		m.ZeroGrad()
		var loss float64
		for _, mb := range micro {
			l, err := m.ForwardBackward(mb, g.norm)
			if err != nil {
				t.Fatal(err)
			}
			loss += l
		}
		norm := opt.Step(sched.LR(step))
		if e := math.Abs(loss-float64(wantLoss[step])) / float64(wantLoss[step]); e > 1e-4 {
			t.Errorf("step %d: loss %.6f, want %.6f (relative error %.2g)", step, loss, wantLoss[step], e)
		}
		if e := math.Abs(norm-float64(wantNorm[step])) / float64(wantNorm[step]); e > 1e-3 {
			t.Errorf("step %d: grad norm %.5f, want %.5f", step, norm, wantNorm[step])
		}
	}
}

// splitBatch cuts a batch into one micro-batch per sequence.
func splitBatch(b *model.Batch) []*model.Batch {
	var out []*model.Batch
	for s := range b.B {
		lo, hi := s*b.T, (s+1)*b.T
		mb := &model.Batch{B: 1, T: b.T, Tokens: b.Tokens[lo:hi], Targets: b.Targets[lo:hi], Weights: b.Weights[lo:hi]}
		if b.Segments != nil {
			mb.Segments = b.Segments[lo:hi]
		}
		out = append(out, mb)
	}
	return out
}
