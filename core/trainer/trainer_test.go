package trainer_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/sftdata"
	"github.com/swelego/swelego/core/trainer"
)

const tinyJSON = `{"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
"num_key_value_heads":2,"head_dim":16,"intermediate_size":128,"vocab_size":256,"rms_norm_eps":1e-6,
"rope_theta":10000,"max_position_embeddings":512,"tie_word_embeddings":false}`

func newModel(t *testing.T, be *cpu.Backend) *model.Model {
	t.Helper()
	cfg, err := model.ParseConfig([]byte(tinyJSON))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(7, 0.02)
	return m
}

// examples makes n sequences of varying length over a 256-id vocabulary
// whose second half is "assistant" text (weight 1), with a masked span in
// some of them; they follow a simple pattern a model can learn.
func examples(n int) []*sftdata.Example {
	r := rand.New(rand.NewPCG(3, 4))
	var out []*sftdata.Example
	for i := range n {
		L := 24 + r.IntN(40)
		ex := &sftdata.Example{ID: string(rune('a'+i%26)) + string(rune('0'+i/26)), IDs: make([]int32, L), Weights: make([]float32, L), Turns: 1 + i%4}
		start := int32(r.IntN(200))
		for t := range L {
			ex.IDs[t] = (start + int32(t)*3) % 256
			if t > L/2 {
				ex.Weights[t] = 1
			}
		}
		if i%3 == 0 {
			for t := L / 2; t < L*3/4; t++ {
				ex.Weights[t] = 0 // a masked turn
			}
		}
		out = append(out, ex)
	}
	return out
}

func params(m *model.Model) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range m.Params() {
		host := make([]float32, p.Value.Len())
		m.Backend().Download(host, p.Value)
		out[p.Name] = host
	}
	return out
}

func grads(m *model.Model) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range m.Params() {
		host := make([]float32, p.Grad.Len())
		m.Backend().Download(host, p.Grad)
		out[p.Name] = host
	}
	return out
}

func plan(t *testing.T, exs []*sftdata.Example, packing bool) []sftdata.Step {
	t.Helper()
	all := make([]int, len(exs))
	for i := range all {
		all[i] = i
	}
	steps, err := sftdata.MakePlan(exs, []sftdata.Stage{{Name: "easy", Examples: all[:len(all)/2], Epochs: 6}, {Name: "hard", Examples: all[len(all)/2:], Epochs: 6}},
		sftdata.PlanOptions{Seed: 1, GlobalBatch: 4, SeqLen: 128, Packing: packing})
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

// The loss goes down over a short run and the metrics add up.
func TestTrainLearns(t *testing.T) {
	be := cpu.New(0)
	defer be.Close()
	m := newModel(t, be)
	exs := examples(24)
	steps := plan(t, exs, true)
	var mets []trainer.Metrics
	res, err := trainer.Train(context.Background(), m, exs, steps, trainer.Options{LR: 1e-2, WarmupRatio: 0.1, MicroBatch: 2,
		Dir: t.TempDir(), PlanID: "p", OnStep: func(m trainer.Metrics) error { mets = append(mets, m); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(mets) != len(steps) || res.Steps != len(steps) {
		t.Fatalf("%d metrics for %d steps", len(mets), len(steps))
	}
	first, last := mets[0].Loss, mets[len(mets)-1].Loss
	if !(last < first*0.6) {
		t.Errorf("loss %g → %g: did not fall below 60%%", first, last)
	}
	if mets[0].LR != 0 || mets[len(mets)-1].Epoch != 12 {
		t.Errorf("first lr %g (warmup starts at 0), last epoch %g (want 12)", mets[0].LR, mets[len(mets)-1].Epoch)
	}
	if mets[0].Stage != "easy" || mets[len(mets)-1].Stage != "hard" {
		t.Errorf("stages %q … %q", mets[0].Stage, mets[len(mets)-1].Stage)
	}
	for _, mt := range mets {
		if mt.TrainedTokens == 0 || mt.Tokens < mt.TrainedTokens || mt.GradNorm <= 0 {
			t.Fatalf("step %+v", mt)
		}
	}
	if _, err := os.Stat(filepath.Join(res.Checkpoint, "model.safetensors")); err != nil {
		t.Error(err)
	}
}

// A global batch in one micro-batch or in several gives the same loss and
// gradients up to float rounding: the loss is averaged over the trained
// tokens of the whole global batch, not of each micro-batch.
func TestMicroBatchesAccumulate(t *testing.T) {
	be := cpu.New(0)
	defer be.Close()
	exs := examples(6)
	rows := sftdata.Pack(exs, []int{0, 1, 2, 3, 4, 5}, 128, false)
	total := 0
	for _, r := range rows {
		total += r.Trained()
	}
	run := func(micro int) (float64, map[string][]float32) {
		m := newModel(t, be)
		m.ZeroGrad()
		loss := 0.0
		for lo := 0; lo < len(rows); lo += micro {
			l, err := m.ForwardBackward(trainer.Batch(rows[lo:min(lo+micro, len(rows))]), float64(total))
			if err != nil {
				t.Fatal(err)
			}
			loss += l
		}
		return loss, grads(m)
	}
	l1, g1 := run(6)
	l2, g2 := run(1)
	if math.Abs(l1-l2) > 1e-5*math.Abs(l1) {
		t.Errorf("loss %g in one batch, %g accumulated", l1, l2)
	}
	for name, a := range g1 {
		for i := range a {
			if d := math.Abs(float64(a[i] - g2[name][i])); d > 1e-5+1e-3*math.Abs(float64(a[i])) {
				t.Fatalf("%s[%d]: %g vs %g", name, i, a[i], g2[name][i])
			}
		}
	}
}

// Masked positions keep their tokens in the input but their targets do
// not matter: any targets there give bit-identical gradients.
func TestMaskedTargetsDoNotMatter(t *testing.T) {
	be := cpu.New(0)
	defer be.Close()
	exs := examples(3)
	rows := sftdata.Pack(exs, []int{0, 1, 2}, 256, true)
	b := trainer.Batch(rows)
	run := func(b *model.Batch) map[string][]float32 {
		m := newModel(t, be)
		m.ZeroGrad()
		if _, err := m.ForwardBackward(b, 0); err != nil {
			t.Fatal(err)
		}
		return grads(m)
	}
	want := run(b)
	r := rand.New(rand.NewPCG(9, 9))
	changed := 0
	for i, w := range b.Weights {
		if w == 0 {
			b.Targets[i] = int32(r.IntN(256))
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("no masked positions")
	}
	got := run(b)
	for name, g := range want {
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(got[name][i]) {
				t.Fatalf("%s[%d] changed: %g → %g", name, i, g[i], got[name][i])
			}
		}
	}
}

// A run stopped after a step between checkpoints and started again from
// its last checkpoint ends with the same weights, bit for bit, as a run
// that was never stopped: the plan is a function of the data and the
// seed, the optimiser state is saved in float32, and the cpu backend's
// reductions do not depend on timing.
func TestResumeIsExact(t *testing.T) {
	be := cpu.New(0)
	defer be.Close()
	exs := examples(24)
	steps := plan(t, exs, true)
	opts := func(dir string) trainer.Options {
		return trainer.Options{LR: 3e-3, WarmupRatio: 0.2, MicroBatch: 2, SaveEvery: 2, Keep: 2, Dir: dir, PlanID: "p"}
	}
	whole := newModel(t, be)
	if _, err := trainer.Train(context.Background(), whole, exs, steps, opts(t.TempDir())); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	crash := errors.New("killed")
	o := opts(dir)
	o.OnStep = func(m trainer.Metrics) error {
		if m.Step == 5 {
			return crash // dies after step 5, whose work is lost; step 4 is saved
		}
		return nil
	}
	if _, err := trainer.Train(context.Background(), newModel(t, be), exs, steps, o); !errors.Is(err, crash) {
		t.Fatalf("first run: %v", err)
	}
	resumed := newModel(t, be)
	res, err := trainer.Train(context.Background(), resumed, exs, steps, opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 4 {
		t.Errorf("resumed from step %d, want 4", res.ResumedFrom)
	}
	want, got := params(whole), params(resumed)
	for name, w := range want {
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(got[name][i]) {
				t.Fatalf("%s[%d]: %g uninterrupted, %g resumed", name, i, w[i], got[name][i])
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d checkpoints kept, want 2", len(entries))
	}

	// A checkpoint of another plan is refused, not silently resumed.
	o = opts(dir)
	o.PlanID = "other"
	if _, err := trainer.Train(context.Background(), newModel(t, be), exs, steps, o); !errors.Is(err, trainer.ErrPlan) {
		t.Errorf("other plan: %v, want ErrPlan", err)
	}
}
