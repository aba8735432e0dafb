package infer

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
)

func tinyModel(t *testing.T) *model.Model {
	t.Helper()
	cfg, err := model.ParseConfig([]byte(`{"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,
		"num_key_value_heads":1,"head_dim":16,"intermediate_size":64,"vocab_size":50,"rms_norm_eps":1e-6,
		"rope_theta":10000,"max_position_embeddings":64}`))
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New(1)
	t.Cleanup(be.Close)
	m, err := model.New(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(5, 0.3)
	return m
}

func running(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestCheck(t *testing.T) {
	e := New(tinyModel(t), Options{})
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"empty prompt", Request{MaxTokens: 1}},
		{"no tokens", Request{Prompt: []int32{1}}},
		{"over the context", Request{Prompt: make([]int32, 60), MaxTokens: 5}},
		{"outside the vocabulary", Request{Prompt: []int32{50}, MaxTokens: 1}},
		{"negative temperature", Request{Prompt: []int32{1}, MaxTokens: 1, Temperature: -1}},
		{"top_p above 1", Request{Prompt: []int32{1}, MaxTokens: 1, TopP: 1.5}},
		{"too many alternatives", Request{Prompt: []int32{1}, MaxTokens: 1, TopLogprobs: 21}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.Check(tc.req); !errors.Is(err, ErrRequest) {
				t.Errorf("Check = %v, want ErrRequest", err)
			}
			if _, err := e.Generate(context.Background(), tc.req); !errors.Is(err, ErrRequest) {
				t.Errorf("Generate = %v, want ErrRequest", err)
			}
		})
	}
}

// TestGenerate: tokens come in order up to MaxTokens (finish length), an
// end token stops the sequence unemitted (finish stop), and Emit
// returning false stops it too.
func TestGenerate(t *testing.T) {
	m := tinyModel(t)
	e := New(m, Options{})
	running(t, e)
	var toks []int32
	res, err := e.Generate(context.Background(), Request{Prompt: []int32{1, 2, 3}, MaxTokens: 6,
		Emit: func(tk Token) bool { toks = append(toks, tk.ID); return true }})
	if err != nil || res.Finish != FinishLength || len(toks) != 6 || res.CompletionTokens != 6 || res.PromptTokens != 3 {
		t.Fatalf("%+v %v, tokens %v", res, err, toks)
	}
	// The same request with its third token as an end token.
	e2 := New(m, Options{EndTokens: []int32{toks[2]}})
	running(t, e2)
	var got []int32
	res, err = e2.Generate(context.Background(), Request{Prompt: []int32{1, 2, 3}, MaxTokens: 6,
		Emit: func(tk Token) bool { got = append(got, tk.ID); return true }})
	if first := slices.Index(toks, toks[2]); err != nil || res.Finish != FinishStop || !slices.Equal(got, toks[:first]) {
		t.Errorf("with end token %d: %+v %v, tokens %v of %v", toks[2], res, err, got, toks)
	}
	n := 0
	res, err = e.Generate(context.Background(), Request{Prompt: []int32{1}, MaxTokens: 6,
		Emit: func(Token) bool { n++; return n < 2 }})
	if err != nil || res.Finish != FinishStop || n != 2 {
		t.Errorf("stopped by Emit: %+v %v after %d tokens", res, err, n)
	}
}

// TestCancel: a request whose context ends is dropped, the engine goes on,
// and requests after Run returns get ErrStopped.
func TestCancel(t *testing.T) {
	e := New(tinyModel(t), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	reqCtx, cancelReq := context.WithCancel(context.Background())
	emitted := 0
	_, err := e.Generate(reqCtx, Request{Prompt: []int32{1}, MaxTokens: 50, Emit: func(Token) bool {
		emitted++
		if emitted == 3 {
			cancelReq()
			time.Sleep(10 * time.Millisecond)
		}
		return true
	}})
	if !errors.Is(err, context.Canceled) || emitted >= 50 {
		t.Errorf("cancelled request: %v after %d tokens", err, emitted)
	}
	if _, err := e.Generate(context.Background(), Request{Prompt: []int32{1}, MaxTokens: 2}); err != nil {
		t.Errorf("after a cancelled request: %v", err)
	}
	cancel()
	<-done
	if _, err := e.Generate(context.Background(), Request{Prompt: []int32{1}, MaxTokens: 2}); !errors.Is(err, ErrStopped) {
		t.Errorf("after Run returned: %v", err)
	}
}

func TestSample(t *testing.T) {
	logits := []float32{1, 3, 2, 3, -1}
	lse := math.Log(math.Exp(1) + 2*math.Exp(3) + math.Exp(2) + math.Exp(-1))
	rng := rand.New(rand.NewPCG(1, 1))
	tok := sample(logits, Request{TopLogprobs: 3}, rng)
	if tok.ID != 1 || math.Abs(tok.Logprob-(3-lse)) > 1e-12 {
		t.Errorf("greedy: %+v", tok)
	}
	var top []int32
	for _, a := range tok.Top {
		top = append(top, a.ID)
	}
	if !slices.Equal(top, []int32{1, 3, 2}) {
		t.Errorf("top 3: %v, want [1 3 2]", top)
	}
	// top_p 0.5 keeps the two tokens at 3 (together 0.72 of the mass):
	// nothing else is ever drawn, and both are.
	seen := map[int32]int{}
	for range 2000 {
		seen[sample(logits, Request{Temperature: 1, TopP: 0.5}, rng).ID]++
	}
	if len(seen) != 2 || seen[1] < 800 || seen[3] < 800 {
		t.Errorf("top_p 0.5 drew %v", seen)
	}
	// Temperature 1 without top_p draws in proportion to the softmax.
	seen = map[int32]int{}
	const n = 20000
	for range n {
		seen[sample(logits, Request{Temperature: 1}, rng).ID]++
	}
	for id, x := range logits {
		p := math.Exp(float64(x) - lse)
		if got := float64(seen[int32(id)]) / n; math.Abs(got-p) > 0.02 {
			t.Errorf("token %d drawn %.3f of the time, probability %.3f", id, got, p)
		}
	}
}
