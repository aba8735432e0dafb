//go:build cuda

package cuda

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/internal/torchpeer"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/optim"
	"github.com/swelego/swelego/core/safetensors"
)

// golden is a PyTorch reference state of core/model/testdata (written by
// its reference.py in float64).
type golden struct {
	cfg     model.Config
	norm    float64
	train   map[string]float64
	batch   model.Batch
	tensors map[string][]float32
}

func loadGolden(t *testing.T, name string) *golden {
	t.Helper()
	f, err := safetensors.Open(filepath.Join("..", "..", "model", "testdata", "golden_"+name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := &golden{tensors: map[string][]float32{}}
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
	ints := func(x []float32) []int32 {
		out := make([]int32, len(x))
		for i, v := range x {
			out[i] = int32(v)
		}
		return out
	}
	info, _ := f.Info("tokens")
	g.batch = model.Batch{B: info.Shape[0], T: info.Shape[1], Tokens: ints(g.tensors["tokens"]),
		Targets: ints(g.tensors["targets"]), Weights: g.tensors["weights"]}
	if seg, ok := g.tensors["segments"]; ok {
		g.batch.Segments = ints(seg)
	}
	return g
}

func goldenModel(t *testing.T, be backend.Backend, g *golden) *model.Model {
	t.Helper()
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
	return m
}

// TestGolden holds the CUDA backend to the PyTorch reference as the cpu
// backend is held (logits 1e-4, gradients 1e-3, ten AdamW losses 1e-4) in
// fp32; with bf16 GEMM inputs to written looser bounds (logits 3e-2,
// gradients 6e-2, losses 1e-2).
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		prec                  Precision
		logits, grads, losses float64
	}{{FP32, 1e-4, 1e-3, 1e-4}, {BF16, 3e-2, 6e-2, 1e-2}} {
		for _, name := range []string{"yarn_packed", "tied_bias"} {
			t.Run(fmt.Sprintf("%s/%s", c.prec, name), func(t *testing.T) {
				gpu := openGPU(t, c.prec)
				g := loadGolden(t, name)
				m := goldenModel(t, gpu, g)
				loss, err := m.Forward(&g.batch, g.norm)
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(down(gpu, m.Logits()), g.tensors["logits"]); e > c.logits {
					t.Errorf("logits: relative error %.3g > %.1g", e, c.logits)
				}
				m.ZeroGrad()
				if _, err := m.ForwardBackward(&g.batch, g.norm); err != nil {
					t.Fatal(err)
				}
				if want := float64(g.tensors["loss"][0]); math.Abs(loss-want)/want > c.losses {
					t.Errorf("loss %.7f, want %.7f", loss, want)
				}
				for _, p := range m.Params() {
					if e := relErr(down(gpu, p.Grad), g.tensors["grad."+p.Name]); e > c.grads {
						t.Errorf("grad %s: relative error %.3g > %.1g", p.Name, e, c.grads)
					}
				}
				if g.train == nil {
					return
				}
				m = goldenModel(t, gpu, g)
				tr := g.train
				opt := optim.NewAdamW(gpu, m.Params(), optim.Config{Beta1: tr["beta1"], Beta2: tr["beta2"], Eps: tr["eps"],
					WeightDecay: tr["weight_decay"], MaxGradNorm: tr["max_grad_norm"]})
				sched := optim.Schedule{Peak: tr["peak_lr"], Warmup: int(tr["warmup"]), Total: int(tr["steps"]), MinRatio: tr["min_lr_ratio"]}
				want := g.tensors["train.losses"]
				for step := range int(tr["steps"]) {
					m.ZeroGrad()
					var loss float64
					for s := range g.batch.B { // one micro-batch per sequence, as the reference
						lo, hi := s*g.batch.T, (s+1)*g.batch.T
						mb := &model.Batch{B: 1, T: g.batch.T, Tokens: g.batch.Tokens[lo:hi], Targets: g.batch.Targets[lo:hi],
							Weights: g.batch.Weights[lo:hi]}
						if g.batch.Segments != nil {
							mb.Segments = g.batch.Segments[lo:hi]
						}
						l, err := m.ForwardBackward(mb, g.norm)
						if err != nil {
							t.Fatal(err)
						}
						loss += l
					}
					opt.Step(sched.LR(step))
					if e := math.Abs(loss-float64(want[step])) / float64(want[step]); e > c.losses {
						t.Errorf("step %d: loss %.6f, want %.6f (relative error %.2g)", step, loss, want[step], e)
					}
				}
			})
		}
	}
}

const tinyConfig = `{"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
"num_key_value_heads":2,"head_dim":16,"intermediate_size":128,"vocab_size":256,"rms_norm_eps":1e-6,
"rope_theta":10000,"max_position_embeddings":64,"tie_word_embeddings":false}`

func randomBatch(r *rand.Rand, cfg model.Config, B, T int) *model.Batch {
	b := &model.Batch{B: B, T: T, Tokens: make([]int32, B*T), Targets: make([]int32, B*T), Weights: make([]float32, B*T),
		Segments: make([]int32, B*T)}
	seg := int32(0)
	for i := range b.Tokens {
		b.Tokens[i], b.Targets[i] = int32(r.IntN(cfg.VocabSize)), int32(r.IntN(cfg.VocabSize))
		if r.IntN(5) != 0 {
			b.Weights[i] = 1
		}
		if r.IntN(13) == 0 {
			seg++
		}
		b.Segments[i] = seg
	}
	return b
}

// TestTrainingParity: 50 AdamW steps of the tiny config from the same
// weights on the cpu and CUDA backends give the same losses within 1e-4.
func TestTrainingParity(t *testing.T) {
	gpu := openGPU(t, FP32)
	cfg, err := model.ParseConfig([]byte(tinyConfig))
	if err != nil {
		t.Fatal(err)
	}
	ref := cpu.New(0)
	defer ref.Close()
	losses := func(be backend.Backend) []float64 {
		m, err := model.New(be, cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.InitRandom(7, 0.02)
		opt := optim.NewAdamW(be, m.Params(), optim.Config{Beta2: 0.95, WeightDecay: 0.01, MaxGradNorm: 1})
		r := rand.New(rand.NewPCG(3, 4))
		var out []float64
		for range 50 {
			m.ZeroGrad()
			l, err := m.ForwardBackward(randomBatch(r, cfg, 2, 48), 0)
			if err != nil {
				t.Fatal(err)
			}
			opt.Step(3e-3)
			out = append(out, l)
		}
		return out
	}
	want, got := losses(ref), losses(gpu)
	for i := range want {
		if e := math.Abs(got[i]-want[i]) / want[i]; e > 1e-4 {
			t.Errorf("step %d: cuda loss %.7f, cpu %.7f (relative error %.2g)", i+1, got[i], want[i], e)
		}
	}
	if !(want[len(want)-1] < want[0]) {
		t.Errorf("the loss did not fall: %.4f → %.4f", want[0], want[len(want)-1])
	}
}

// qwen3_06B is Qwen3-0.6B's config.json shapes.
const qwen3_06B = `{"hidden_size":1024,"num_hidden_layers":28,"num_attention_heads":16,"num_key_value_heads":8,
"head_dim":128,"intermediate_size":3072,"vocab_size":151936,"rms_norm_eps":1e-6,"rope_theta":1000000,
"max_position_embeddings":40960,"tie_word_embeddings":true}`

// peakTFLOPS is the dense peak of the GPUs the benchmark knows, by the
// name the driver reports and the GEMM precision; 0 when unknown.
func peakTFLOPS(name string, prec Precision) float64 {
	table := []struct {
		sub              string
		fp32, tf32, bf16 float64
	}{
		{"H200", 67, 494.7, 989.4},
		{"H100 PCIe", 51, 378, 756},
		{"H100", 67, 494.7, 989.4},
		{"A100", 19.5, 156, 312},
		{"L40S", 91.6, 183, 362},
		{"A10", 31.2, 62.5, 125},
	}
	for _, e := range table {
		if strings.Contains(strings.ToUpper(name), e.sub) {
			switch prec {
			case TF32:
				return e.tf32
			case BF16:
				return e.bf16
			}
			return e.fp32
		}
	}
	return 0
}

// BenchmarkTrainCUDA times whole training steps (forward, backward,
// clipping, AdamW) on the GPU and reports tokens/s and MFU: model FLOP/s
// (Config.FLOPsPerToken) over the GPU's dense peak for the GEMM precision
// (SWELEGO_CUDA_PRECISION: float32, tf32 or bfloat16, the default).
func BenchmarkTrainCUDA(b *testing.B) {
	prec := BF16
	if p := os.Getenv("SWELEGO_CUDA_PRECISION"); p != "" {
		prec = Precision(p)
	}
	for _, c := range []struct {
		name   string
		config string
		B, T   int
	}{
		{"124M/T1024", torchpeer.Config124M, 8, 1024},
		{"qwen3-0.6B/T2048", qwen3_06B, 2, 2048},
		{"qwen3-0.6B/T4096", qwen3_06B, 1, 4096},
		{"qwen3-0.6B/T8192", qwen3_06B, 1, 8192},
	} {
		b.Run(c.name, func(b *testing.B) {
			gpu := openGPU(b, prec)
			cfg, err := model.ParseConfig([]byte(c.config))
			if err != nil {
				b.Fatal(err)
			}
			cfg.MaxPositionEmbeddings = max(cfg.MaxPositionEmbeddings, c.T)
			m, err := model.New(gpu, cfg)
			if err != nil {
				b.Fatal(err)
			}
			m.InitRandom(1, 0.02)
			opt := optim.NewAdamW(gpu, m.Params(), optim.Config{Beta2: 0.95, WeightDecay: 0.01, MaxGradNorm: 1})
			batch := randomBatch(rand.New(rand.NewPCG(1, 2)), cfg, c.B, c.T)
			batch.Segments = nil
			step := func() {
				m.ZeroGrad()
				if _, err := m.ForwardBackward(batch, 0); err != nil {
					b.Fatal(err)
				}
				opt.Step(1e-4) // reads the grad norm back: the step is finished on the GPU
			}
			step()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				step()
			}
			elapsed := time.Since(start)
			b.StopTimer()
			tokS := float64(c.B*c.T*b.N) / elapsed.Seconds()
			flops := cfg.FLOPsPerToken(c.T) * tokS
			b.ReportMetric(tokS, "tokens/s")
			b.ReportMetric(flops/1e12, "model-TFLOP/s")
			peak := peakTFLOPS(gpu.DeviceName(), prec)
			mfu := "unknown peak"
			if peak > 0 {
				b.ReportMetric(100*flops/1e12/peak, "MFU%")
				mfu = fmt.Sprintf("%.1f%% of %.0f TFLOP/s", 100*flops/1e12/peak, peak)
			}
			b.Logf("%s on %s (%s GEMM): %.0f tokens/s, %.1f model TFLOP/s, MFU %s", c.name, gpu.DeviceName(), prec,
				tokS, flops/1e12, mfu)
		})
	}
}
