package trainer_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swelego/swelego/core/internal/torchpeer"
	"github.com/swelego/swelego/core/optim"
	"github.com/swelego/swelego/core/sftdata"
	"github.com/swelego/swelego/core/trainer"
)

// BenchmarkSFTTrain124M runs the trainer over a plan of packed rows (4 rows
// of 256 tokens per step of torchpeer.Config124M, as BenchmarkTrain124M) and, in the same run, the
// same number of bare model steps on one prebuilt batch of that shape, and
// the time the data path (laying out rows, building the batch) takes for
// those steps, next to its 5 % budget.
func BenchmarkSFTTrain124M(b *testing.B) {
	const B, T = 4, 256
	m, cfg, be := torchpeer.NewModel(b, torchpeer.Config124M)
	r := rand.New(rand.NewPCG(1, 2))
	// Sequences of 64 tokens pack four to a row.
	var exs []*sftdata.Example
	var all []int
	for i := range B * 4 * (b.N + 1) {
		ex := &sftdata.Example{ID: string(rune(i)), IDs: make([]int32, 64), Weights: make([]float32, 64)}
		for t := range ex.IDs {
			ex.IDs[t] = int32(r.IntN(cfg.VocabSize))
			if t > 16 {
				ex.Weights[t] = 1
			}
		}
		exs = append(exs, ex)
		all = append(all, i)
	}
	plan, err := sftdata.MakePlan(exs, []sftdata.Stage{{Name: "all", Examples: all, Epochs: 1}},
		sftdata.PlanOptions{Seed: 1, GlobalBatch: B, SeqLen: T, Packing: true})
	if err != nil {
		b.Fatal(err)
	}
	// Warm up the activations of this shape outside the timings.
	if _, err := m.ForwardBackward(trainer.Batch(rowsOf(exs, plan[0])), 0); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if _, err := trainer.Train(context.Background(), m, exs, plan[:b.N], trainer.Options{LR: 1e-4, MicroBatch: B, Dir: b.TempDir(), PlanID: "bench",
		Optim: optim.Config{Beta2: 0.95, WeightDecay: 0.01, MaxGradNorm: 1}}); err != nil {
		b.Fatal(err)
	}
	sft := time.Since(start)
	b.StopTimer()

	// The checkpoint at the end is not part of a step; time it apart.
	ckStart := time.Now()
	if err := m.Save(context.Background(), b.TempDir(), "F32"); err != nil {
		b.Fatal(err)
	}
	ckpt := time.Since(ckStart)

	batch := trainer.Batch(rowsOf(exs, plan[0]))
	opt := optim.NewAdamW(be, m.Params(), optim.Config{Beta2: 0.95, WeightDecay: 0.01, MaxGradNorm: 1})
	m.ZeroGrad()
	opt.Step(0) // allocate and touch the moments outside the timing
	start = time.Now()
	for range b.N {
		m.ZeroGrad()
		if _, err := m.ForwardBackward(batch, 0); err != nil {
			b.Fatal(err)
		}
		opt.Step(1e-4)
	}
	bare := time.Since(start)
	// The data path alone: laying out every step's rows and its batch.
	start = time.Now()
	for _, st := range plan[:b.N] {
		trainer.Batch(rowsOf(exs, st))
	}
	data := time.Since(start)
	sftRate := float64(B*T*b.N) / (sft - ckpt).Seconds()
	bareRate := float64(B*T*b.N) / bare.Seconds()
	b.ReportMetric(sftRate, "sft-tokens/s")
	b.Logf("sft trainer: %.0f tokens/s; bare model step (BenchmarkTrain124M's loop): %.0f tokens/s; data path (rows + batch) %.2f %% of the trainer's time (budget 5 %%); final checkpoint %.1f s",
		sftRate, bareRate, 100*data.Seconds()/(sft-ckpt).Seconds(), ckpt.Seconds())
}

func rowsOf(exs []*sftdata.Example, st sftdata.Step) []sftdata.Row {
	var rows []sftdata.Row
	for _, r := range st.Rows {
		rows = append(rows, sftdata.RowOf(exs, r))
	}
	return rows
}
