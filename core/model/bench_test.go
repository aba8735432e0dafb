package model_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/swelego/swelego/core/backend/gemm"
	"github.com/swelego/swelego/core/internal/torchpeer"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/optim"
)

// BenchmarkTrain124M times full training steps (forward, backward, clipping,
// AdamW) of the 124M config (torchpeer.Config124M) at batch 4 × 256 tokens
// and reports tokens/s and model FLOP/s; then, in the same run, the same
// step in plain PyTorch (testdata/bench_torch.py, torch.set_num_threads =
// GOMAXPROCS) and the GEMM's GFLOP/s next to the machine's fp32 peak.
//
// SWELEGO_BENCH_TORCH_STEPS sets PyTorch's timed steps (default 2; 0 skips it).
func BenchmarkTrain124M(b *testing.B) {
	const B, T = 4, 256
	m, cfg, be := torchpeer.NewModel(b, torchpeer.Config124M)
	r := rand.New(rand.NewPCG(1, 2))
	batch := &model.Batch{B: B, T: T, Tokens: make([]int32, B*T), Targets: make([]int32, B*T), Weights: make([]float32, B*T)}
	for i := range batch.Tokens {
		batch.Tokens[i], batch.Targets[i] = int32(r.IntN(cfg.VocabSize)), int32(r.IntN(cfg.VocabSize))
		if r.Float64() > 0.2 {
			batch.Weights[i] = 1
		}
	}
	opt := optim.NewAdamW(be, m.Params(), optim.Config{Beta2: 0.95, WeightDecay: 0.01, MaxGradNorm: 1})
	step := func() {
		m.ZeroGrad()
		if _, err := m.ForwardBackward(batch, 0); err != nil {
			b.Fatal(err)
		}
		opt.Step(1e-4)
	}
	step() // allocate activations, warm caches
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		step()
	}
	elapsed := time.Since(start)
	b.StopTimer()

	tokS := float64(B*T*b.N) / elapsed.Seconds()
	flops := cfg.FLOPsPerToken(T) * tokS
	b.ReportMetric(tokS, "tokens/s")
	b.ReportMetric(flops/1e9, "model-GFLOP/s")
	b.Logf("swelego cpu: %d params, %.0f tokens/s, %.1f model GFLOP/s (%.2f s/step, %d threads)",
		cfg.NumParams(), tokS, flops/1e9, elapsed.Seconds()/float64(b.N), be.Threads())

	gemmGF := gemmGFLOPS()
	peak := gemm.PeakGFLOPS()
	b.ReportMetric(gemmGF, "gemm-GFLOP/s")
	b.Logf("gemm 1024×2048×768: %.1f GFLOP/s, fp32 peak %.1f GFLOP/s (%.0f%%); model FLOP/s is %.0f%% of peak",
		gemmGF, peak, 100*gemmGF/peak, 100*flops/1e9/peak)

	torchTokS, info := runTorchBench(b, T, B)
	if torchTokS > 0 {
		b.ReportMetric(torchTokS, "torch-tokens/s")
		b.ReportMetric(tokS/torchTokS, "x-torch")
		b.Logf("pytorch (%s): %.0f tokens/s → swelego/pytorch = %.2f× (bar 0.7×)", info, torchTokS, tokS/torchTokS)
	} else {
		b.Logf("pytorch: %s", info)
	}
}

// gemmGFLOPS times the MLP's up-projection shape.
func gemmGFLOPS() float64 {
	const m, n, k = 1024, 2048, 768
	a, bm, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range bm {
		bm[i] = float32(i%5) * 0.1
	}
	gemm.Sgemm(false, true, m, n, k, 1, a, k, bm, k, 0, c, n)
	reps := 0
	start := time.Now()
	for time.Since(start) < time.Second {
		gemm.Sgemm(false, true, m, n, k, 1, a, k, bm, k, 0, c, n)
		reps++
	}
	return 2 * m * n * k * float64(reps) / time.Since(start).Seconds() / 1e9
}

func runTorchBench(b *testing.B, T, B int) (float64, string) {
	steps := 2
	if s := os.Getenv("SWELEGO_BENCH_TORCH_STEPS"); s != "" {
		steps, _ = strconv.Atoi(s)
	}
	if steps <= 0 {
		return 0, "skipped (SWELEGO_BENCH_TORCH_STEPS=0)"
	}
	var res struct {
		TokensPerS float64 `json:"tokens_per_s"`
		Threads    int     `json:"threads"`
		Torch      string  `json:"torch"`
		BLAS       string  `json:"blas"`
	}
	if why := torchpeer.Run(b, &res, filepath.Join("testdata", "bench_torch.py"), "--config", torchpeer.Config124M,
		"--batch", strconv.Itoa(B), "--seq", strconv.Itoa(T), "--steps", strconv.Itoa(steps), "--warmup", "1"); why != "" {
		return 0, why
	}
	return res.TokensPerS, "torch " + res.Torch + ", " + strconv.Itoa(res.Threads) + " threads, BLAS " + res.BLAS
}
