package infer_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/internal/torchpeer"
)

// benchConfigs are the quickstart's tiny student and a GPT-2-small-sized
// Qwen3 (the 124M config of the training benchmark).
var benchConfigs = []struct {
	name, config   string
	prompt, tokens int
	torchRepeat    int
}{
	{"tiny", `{"hidden_size":128,"intermediate_size":384,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
"head_dim":32,"vocab_size":1600,"max_position_embeddings":16384,"rms_norm_eps":1e-6,"rope_theta":1000000,"tie_word_embeddings":true}`, 128, 64, 3},
	{"124M", torchpeer.Config124M, 128, 32, 1},
}

// BenchmarkServeDecode times what `swelego serve` does for one request:
// the engine takes a 128-token prompt (time to first token) and decodes
// greedily over its KV cache (decode tokens/s), for the tiny and the 124M
// config; then, in the same run, a plain PyTorch greedy generate loop with
// a KV cache over the same shapes (testdata/generate_torch.py,
// torch.set_num_threads = GOMAXPROCS). The goal is 1.5× PyTorch's decode
// rate. SWELEGO_BENCH_TORCH=0 skips PyTorch.
func BenchmarkServeDecode(b *testing.B) {
	for _, bc := range benchConfigs {
		b.Run(bc.name, func(b *testing.B) {
			m, cfg, be := torchpeer.NewModel(b, bc.config)
			eng := infer.New(m, infer.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { eng.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			r := rand.New(rand.NewPCG(1, 2))
			prompt := make([]int32, bc.prompt)
			for i := range prompt {
				prompt[i] = int32(r.IntN(cfg.VocabSize))
			}
			generate := func() (ttft time.Duration, tokS float64) {
				var stamps []time.Time
				start := time.Now()
				_, err := eng.Generate(ctx, infer.Request{Prompt: prompt, MaxTokens: bc.tokens,
					Emit: func(infer.Token) bool { stamps = append(stamps, time.Now()); return true }})
				if err != nil || len(stamps) != bc.tokens {
					b.Fatalf("%d tokens, %v", len(stamps), err)
				}
				return stamps[0].Sub(start), float64(bc.tokens-1) / stamps[len(stamps)-1].Sub(stamps[0]).Seconds()
			}
			generate() // warm up: buffers, caches
			b.ResetTimer()
			var ttfts []time.Duration
			var rates []float64
			for range b.N {
				ttft, rate := generate()
				ttfts, rates = append(ttfts, ttft), append(rates, rate)
			}
			b.StopTimer()
			ttft, rate := slices.Min(ttfts), slices.Max(rates)
			b.ReportMetric(rate, "decode-tokens/s")
			b.ReportMetric(float64(ttft.Microseconds())/1000, "ttft-ms")
			b.Logf("swelego serve engine (%s, %d params, %d threads): prompt %d tokens, time to first token %.1f ms, decode %.1f tokens/s",
				bc.name, cfg.NumParams(), be.Threads(), bc.prompt, float64(ttft.Microseconds())/1000, rate)

			tr := torchGenerate(b, bc.config, bc.prompt, bc.tokens, bc.torchRepeat)
			if tr.info != "" {
				b.Logf("pytorch: %s", tr.info)
				return
			}
			b.ReportMetric(tr.tokS, "torch-decode-tokens/s")
			b.ReportMetric(tr.ttft*1000, "torch-ttft-ms")
			b.ReportMetric(rate/tr.tokS, "x-torch")
			b.Logf("pytorch %s greedy generate with KV cache (%d threads): time to first token %.1f ms, decode %.1f tokens/s → swelego/pytorch decode %.2f× (goal 1.5×), time to first token %.2f× faster",
				tr.torch, tr.threads, tr.ttft*1000, tr.tokS, rate/tr.tokS, tr.ttft/ttft.Seconds())
		})
	}
}

type torchResult struct {
	ttft, tokS float64
	threads    int
	torch      string
	info       string // why there is no result
}

func torchGenerate(b *testing.B, config string, prompt, tokens, repeat int) torchResult {
	if os.Getenv("SWELEGO_BENCH_TORCH") == "0" {
		return torchResult{info: "skipped (SWELEGO_BENCH_TORCH=0)"}
	}
	var res struct {
		TTFT    float64 `json:"ttft_s"`
		TokS    float64 `json:"decode_tokens_per_s"`
		Threads int     `json:"threads"`
		Torch   string  `json:"torch"`
	}
	if why := torchpeer.Run(b, &res, filepath.Join("testdata", "generate_torch.py"), "--config", config,
		"--prompt", strconv.Itoa(prompt), "--tokens", strconv.Itoa(tokens), "--repeat", strconv.Itoa(repeat)); why != "" {
		return torchResult{info: why}
	}
	return torchResult{ttft: res.TTFT, tokS: res.TokS, threads: res.Threads, torch: res.Torch}
}
