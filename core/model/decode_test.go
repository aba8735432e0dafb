package model_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
)

// fullLogits runs Forward over whole sequences and returns the logits at
// every position.
func fullLogits(t *testing.T, m *model.Model, seq []int32) []float32 {
	t.Helper()
	if _, err := m.Forward(&model.Batch{B: 1, T: len(seq), Tokens: seq}, 0); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(seq)*m.Config.VocabSize)
	m.Backend().Download(out, m.Logits())
	return out
}

// Decode over a cache, in any split of the sequences into steps and any
// mix of sequences per call, gives Forward's logits at the same positions.
func TestDecodeMatchesForward(t *testing.T) {
	be := cpu.New(2)
	defer be.Close()
	cfg := tinyConfig(t)
	cfg.AttentionBias = true
	m, err := model.New(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(3, 0.2)
	V := cfg.VocabSize
	r := rand.New(rand.NewPCG(1, 2))
	seqs := make([][]int32, 3)
	for i, n := range []int{40, 9, 70} {
		for range n {
			seqs[i] = append(seqs[i], int32(r.IntN(V)))
		}
	}
	want := make([][]float32, len(seqs))
	for i, s := range seqs {
		want[i] = fullLogits(t, m, s)
	}
	for _, tc := range []struct {
		name   string
		chunks []int // tokens per step, cycled
	}{
		{"prompt then one at a time", []int{1}},
		{"chunks of 7", []int{7}},
		{"uneven", []int{3, 1, 65, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caches := make([]*model.KVCache, len(seqs))
			for i, s := range seqs {
				caches[i] = m.NewKVCache(min(len(s), 8)) // most outgrow it
			}
			logits := make([]float32, len(seqs)*V)
			var worst float64
			for step := 0; ; step++ {
				var steps []model.DecodeStep
				var who []int
				for i, s := range seqs {
					c := caches[i]
					if c.Len() == len(s) {
						continue
					}
					n := tc.chunks[(step+i)%len(tc.chunks)]
					if c.Len() == 0 && step == 0 && i == 0 {
						n = 10 // a prompt
					}
					n = min(n, len(s)-c.Len())
					steps = append(steps, model.DecodeStep{Cache: c, Tokens: s[c.Len() : c.Len()+n]})
					who = append(who, i)
				}
				if len(steps) == 0 {
					break
				}
				if err := m.Decode(steps, logits); err != nil {
					t.Fatal(err)
				}
				for k, i := range who {
					pos := caches[i].Len() - 1
					got, exp := logits[k*V:(k+1)*V], want[i][pos*V:(pos+1)*V]
					for j := range got {
						worst = max(worst, math.Abs(float64(got[j]-exp[j])))
					}
				}
			}
			if worst > 1e-4 {
				t.Errorf("largest logit difference from Forward %g", worst)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	be := cpu.New(1)
	defer be.Close()
	m, err := model.New(be, tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	logits := make([]float32, 2*V)
	for _, tc := range []struct {
		name  string
		steps []model.DecodeStep
	}{
		{"no tokens", []model.DecodeStep{{Cache: m.NewKVCache(4)}}},
		{"outside vocabulary", []model.DecodeStep{{Cache: m.NewKVCache(2), Tokens: []int32{int32(V)}}}},
		{"too few logits", []model.DecodeStep{{Cache: m.NewKVCache(2), Tokens: []int32{1}}, {Cache: m.NewKVCache(2), Tokens: []int32{1}}, {Cache: m.NewKVCache(2), Tokens: []int32{1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Decode(tc.steps, logits); err == nil {
				t.Error("no error")
			}
		})
	}
}
