package model_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/optim"
)

func gradsOf(t *testing.T, m *model.Model) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, p := range m.Params() {
		g := make([]float32, p.Grad.Len())
		m.Backend().Download(g, p.Grad)
		out[p.Name] = g
	}
	return out
}

// Tokens with weight 0 contribute nothing: changing their targets leaves
// every gradient bit-identical.
func TestZeroWeightTargetsDoNotMatter(t *testing.T) {
	g := loadGolden(t, "yarn_packed")
	m, _ := newGoldenModel(t, g)
	m.ZeroGrad()
	loss1, err := m.ForwardBackward(&g.batch, g.norm)
	if err != nil {
		t.Fatal(err)
	}
	before := gradsOf(t, m)

	b := g.batch
	b.Targets = append([]int32(nil), b.Targets...)
	changed := 0
	for i, w := range b.Weights {
		if w == 0 {
			b.Targets[i] = int32((int(b.Targets[i]) + 1 + 37*i) % g.cfg.VocabSize)
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("golden batch has no weight-0 tokens")
	}
	m.ZeroGrad()
	loss2, err := m.ForwardBackward(&b, g.norm)
	if err != nil {
		t.Fatal(err)
	}
	if loss1 != loss2 {
		t.Errorf("loss changed: %v → %v", loss1, loss2)
	}
	after := gradsOf(t, m)
	for name, g1 := range before {
		g2 := after[name]
		for i := range g1 {
			if math.Float32bits(g1[i]) != math.Float32bits(g2[i]) {
				t.Fatalf("%s[%d] changed: %v → %v", name, i, g1[i], g2[i])
			}
		}
	}
}

// Gradient accumulation over micro-batches, each normalised by the global
// token count, gives the gradient of the whole batch.
func TestAccumulationMatchesFullBatch(t *testing.T) {
	g := loadGolden(t, "yarn_packed")
	m, _ := newGoldenModel(t, g)
	m.ZeroGrad()
	full, _ := m.ForwardBackward(&g.batch, g.norm)
	want := gradsOf(t, m)
	m.ZeroGrad()
	var sum float64
	for _, mb := range splitBatch(&g.batch) {
		l, _ := m.ForwardBackward(mb, g.norm)
		sum += l
	}
	if math.Abs(sum-full)/full > 1e-6 {
		t.Errorf("accumulated loss %v, full batch %v", sum, full)
	}
	for name, w := range want {
		got := gradsOf(t, m)[name]
		if e := relErr(got, w); e > 1e-5 {
			t.Errorf("%s: relative error %.2g", name, e)
		}
	}
}

func tinyConfig(t *testing.T) model.Config {
	t.Helper()
	cfg, err := model.ParseConfig([]byte(`{"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
		"num_key_value_heads":2,"head_dim":16,"intermediate_size":128,"vocab_size":256,"rms_norm_eps":1e-6,
		"rope_theta":10000,"max_position_embeddings":64,"tie_word_embeddings":false}`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func randomBatch(r *rand.Rand, B, T, V int) *model.Batch {
	b := &model.Batch{B: B, T: T, Tokens: make([]int32, B*T), Targets: make([]int32, B*T), Weights: make([]float32, B*T)}
	for i := range b.Tokens {
		b.Tokens[i] = int32(r.IntN(V))
	}
	for i := range b.Targets {
		b.Targets[i] = int32(r.IntN(V))
		if i%5 != 0 {
			b.Weights[i] = 1
		}
	}
	return b
}

// Training the tiny config on one fixed batch memorises it.
func TestMemorise(t *testing.T) {
	be := cpu.New(0)
	defer be.Close()
	m, err := model.New(be, tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(1, 0.02)
	b := randomBatch(rand.New(rand.NewPCG(1, 2)), 4, 32, 256)
	opt := optim.NewAdamW(be, m.Params(), optim.Config{Beta2: 0.95, WeightDecay: 0.01, MaxGradNorm: 1})
	sched := optim.Schedule{Peak: 3e-3, Warmup: 10, Total: 300, MinRatio: 0.1}
	start := time.Now()
	var first, loss float64
	for step := range 300 {
		m.ZeroGrad()
		loss, err = m.ForwardBackward(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss
		}
		opt.Step(sched.LR(step))
		if loss < 0.05*first {
			t.Logf("loss %.4f → %.4f (< 5%%) after %d steps in %v", first, loss, step+1, time.Since(start).Round(time.Millisecond))
			return
		}
	}
	t.Fatalf("loss %.4f → %.4f after 300 steps, want below %.4f", first, loss, 0.05*first)
}

// A steady-state training step allocates nothing.
func TestStepDoesNotAllocate(t *testing.T) {
	be := cpu.New(0)
	defer be.Close()
	m, err := model.New(be, tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(1, 0.02)
	b := randomBatch(rand.New(rand.NewPCG(3, 4)), 2, 32, 256)
	b.Segments = make([]int32, len(b.Tokens))
	for i := range b.Segments {
		b.Segments[i] = int32(i % 32 / 10)
	}
	opt := optim.NewAdamW(be, m.Params(), optim.Config{WeightDecay: 0.01, MaxGradNorm: 1})
	step := func() {
		m.ZeroGrad()
		if _, err := m.ForwardBackward(b, 0); err != nil {
			t.Fatal(err)
		}
		opt.Step(1e-3)
	}
	step() // allocate activations
	if n := testing.AllocsPerRun(5, step); n != 0 {
		t.Errorf("a training step allocated %v times", n)
	}
}

func TestBatchErrors(t *testing.T) {
	be := cpu.New(1)
	defer be.Close()
	m, err := model.New(be, tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ok := func() *model.Batch { return randomBatch(rand.New(rand.NewPCG(1, 1)), 1, 4, 256) }
	cases := []struct {
		name  string
		batch func() *model.Batch
	}{
		{"token out of vocabulary", func() *model.Batch { b := ok(); b.Tokens[2] = 256; return b }},
		{"negative token", func() *model.Batch { b := ok(); b.Tokens[0] = -1; return b }},
		{"short tokens", func() *model.Batch { b := ok(); b.Tokens = b.Tokens[:3]; return b }},
		{"weighted target out of vocabulary", func() *model.Batch { b := ok(); b.Weights[1] = 1; b.Targets[1] = -100; return b }},
		{"weights without targets", func() *model.Batch { b := ok(); b.Targets = nil; return b }},
		{"NaN weight", func() *model.Batch { b := ok(); b.Weights[0] = float32(math.NaN()); return b }},
		{"empty", func() *model.Batch { return &model.Batch{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := m.ForwardBackward(c.batch(), 0); !errors.Is(err, model.ErrBatch) {
				t.Errorf("got %v, want ErrBatch", err)
			}
		})
	}
	// An ignored position may hold any target.
	b := ok()
	b.Weights[1], b.Targets[1] = 0, -100
	if _, err := m.ForwardBackward(b, 0); err != nil {
		t.Errorf("ignored target -100: %v", err)
	}
}
