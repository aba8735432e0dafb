package sftdata_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/sftdata"
	"github.com/swelego/swelego/core/tokenizer"
	"github.com/swelego/swelego/sdk"
)

// corpus is real trajectories: the quickstart's oracle rollout over the
// bundled tasks, as the cmd tests keep it.
const corpus = "../../cmd/swelego/testdata/sft/trajectories.jsonl"

func loadCorpus(b *testing.B) []sdk.Trajectory {
	f, err := os.Open(corpus)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []sdk.Trajectory
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var t sdk.Trajectory
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			b.Fatal(err)
		}
		out = append(out, t)
	}
	return out
}

// BenchmarkPrepare measures the data path of the sft stage — render with
// the qwen3 template, tokenize, weight, pack — in tokens per second over
// real trajectories, and in the same run the raw encoding of the same
// rendered text by the same tokenizer and by tiktoken-go's cl100k_base.
func BenchmarkPrepare(b *testing.B) {
	ctx := context.Background()
	tok, err := tokenizer.Load(ctx, "../../examples/quickstart/student")
	if err != nil {
		b.Fatal(err)
	}
	cl, err := tokenizer.Load(ctx, "cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	tmpl, _ := chattemplate.Get("qwen3")
	trajs := loadCorpus(b)
	opts := sftdata.Options{Tokenizer: tok, Template: tmpl, MaxSeqLen: 1 << 20, Overflow: sftdata.Truncate}
	var texts []string
	for _, t := range trajs {
		p, err := tmpl.Render(chattemplate.Conversation{Messages: t.Messages})
		if err != nil {
			b.Fatal(err)
		}
		texts = append(texts, chattemplate.Join(p))
	}
	tokens := 0
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		var exs []*sftdata.Example
		order := make([]int, 0, len(trajs))
		for i, t := range trajs {
			w, err := sdk.ResolveLossWeights(t, nil)
			if err != nil {
				b.Fatal(err)
			}
			ex, err := sftdata.Prepare(t, w, opts)
			if err != nil {
				b.Fatal(err)
			}
			exs = append(exs, ex)
			order = append(order, i)
			tokens += len(ex.IDs)
		}
		sftdata.Pack(exs, order, 16384, true)
	}
	prepared := float64(tokens) / time.Since(start).Seconds()
	b.StopTimer()

	raw := func(tk tokenizer.Tokenizer) float64 {
		n, start := 0, time.Now()
		for range b.N {
			for _, s := range texts {
				n += len(tk.Encode(s))
			}
		}
		return float64(n) / time.Since(start).Seconds()
	}
	same, tiktoken := raw(tok), raw(cl)
	b.ReportMetric(prepared, "prepared-tokens/s")
	b.Logf("prepare (render+tokenize+weight+pack, qwen3, student tokenizer): %.0f tokens/s; raw encode of the same text: student %.0f tokens/s, tiktoken-go cl100k_base %.0f tokens/s (%d trajectories)",
		prepared, same, tiktoken, len(trajs))
}
