package infer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/swelego/swelego/core/model"
)

// Errors Generate wraps.
var (
	// ErrRequest is wrapped by errors about a request's values (no
	// prompt, no room for the tokens asked for).
	ErrRequest = errors.New("invalid generation request")
	// ErrStopped is returned for requests the engine did not finish
	// because its Run returned.
	ErrStopped = errors.New("inference engine stopped")
)

// Options configures an Engine.
type Options struct {
	// MaxBatch is how many sequences are decoded together at most
	// (default 16); more requests wait for a free place.
	MaxBatch int
	// MaxStepTokens caps the prompt tokens one step processes (default
	// 512), so long prompts are taken in chunks between decoding steps of
	// the running requests.
	MaxStepTokens int
	// ContextLen is the longest sequence, prompt and completion together
	// (default the model's max_position_embeddings).
	ContextLen int
	// EndTokens end a sequence when sampled (<|im_end|>, <|endoftext|>);
	// they are not emitted.
	EndTokens []int32
	// Logger gets one debug record per step (batch size, tokens).
	Logger *slog.Logger
}

// Request is one generation.
type Request struct {
	Prompt []int32
	// MaxTokens is how many tokens to generate at most (≥ 1).
	MaxTokens int
	// Temperature 0 decodes greedily; above 0 samples from
	// softmax(logits/Temperature).
	Temperature float64
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches TopP (nucleus sampling); 0 or 1 keeps them all.
	TopP float64
	// Seed makes sampling reproducible; nil draws one.
	Seed *uint64
	// TopLogprobs is how many of the most likely tokens each Token lists
	// (0 … 20).
	TopLogprobs int
	// Emit is called, in the engine's goroutine, with each generated
	// token in order; returning false ends the sequence (a stop string
	// was seen). It must not block.
	Emit func(Token) bool
}

// Token is one generated token with the log-probability the model gave it
// (log-softmax of the raw logits, before temperature or top-p).
type Token struct {
	ID      int32
	Logprob float64
	// Top are the TopLogprobs most likely tokens at this position, most
	// likely first.
	Top []Alternative
}

// Alternative is a token the model could have chosen.
type Alternative struct {
	ID      int32
	Logprob float64
}

// Finish reasons.
const (
	// FinishStop: an end token was sampled or Emit asked to stop.
	FinishStop = "stop"
	// FinishLength: MaxTokens were generated.
	FinishLength = "length"
)

// Result is how a generation ended.
type Result struct {
	Finish string
	// PromptTokens and CompletionTokens count the prompt and every
	// sampled token (an end token included).
	PromptTokens, CompletionTokens int
}

// Stats are counters of an engine's work since it started.
type Stats struct {
	// Steps counts batch steps, Batched those that decoded two sequences
	// or more.
	Steps, Batched int64
	// MaxBatch is the most sequences one step decoded.
	MaxBatch int64
	// Requests counts finished requests, Tokens the tokens they
	// generated.
	Requests, Tokens int64
}

// Engine runs generations on a model. Generate queues requests; Run
// decodes them, all running ones in each step. The model must not be used
// by anything else while Run runs.
type Engine struct {
	m    *model.Model
	opts Options
	end  map[int32]bool

	mu      sync.Mutex
	pending []*sequence
	wake    chan struct{}
	stopped chan struct{}
	running atomic.Bool

	steps, batched, maxBatch, requests, tokens atomic.Int64
}

// New returns an engine for m; call Run to start decoding.
func New(m *model.Model, opts Options) *Engine {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 16
	}
	if opts.MaxStepTokens <= 0 {
		opts.MaxStepTokens = 512
	}
	if opts.ContextLen <= 0 {
		opts.ContextLen = m.Config.MaxPositionEmbeddings
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{m: m, opts: opts, end: map[int32]bool{}, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	for _, t := range opts.EndTokens {
		e.end[t] = true
	}
	return e
}

// ContextLen is the longest sequence the engine decodes.
func (e *Engine) ContextLen() int { return e.opts.ContextLen }

// VocabSize is the model's vocabulary size.
func (e *Engine) VocabSize() int { return e.m.Config.VocabSize }

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{Steps: e.steps.Load(), Batched: e.batched.Load(), MaxBatch: e.maxBatch.Load(),
		Requests: e.requests.Load(), Tokens: e.tokens.Load()}
}

// Pending is the number of queued requests not yet decoding.
func (e *Engine) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.pending)
}

// sequence is a request being decoded.
type sequence struct {
	req       Request
	cache     *model.KVCache
	rng       *rand.Rand
	generated int
	next      int32 // the token to feed next, once the prompt is in
	cancelled atomic.Bool
	res       Result
	err       error
	done      chan struct{}
}

// Check returns the error Generate would give for req's values, so a
// server can answer before queueing it.
func (e *Engine) Check(req Request) error {
	switch {
	case len(req.Prompt) == 0:
		return fmt.Errorf("%w: empty prompt", ErrRequest)
	case req.MaxTokens < 1:
		return fmt.Errorf("%w: max tokens %d is below 1", ErrRequest, req.MaxTokens)
	case len(req.Prompt)+req.MaxTokens > e.opts.ContextLen:
		return fmt.Errorf("%w: %d prompt tokens and %d to generate exceed the context of %d", ErrRequest, len(req.Prompt), req.MaxTokens, e.opts.ContextLen)
	case req.Temperature < 0 || req.TopP < 0 || req.TopP > 1:
		return fmt.Errorf("%w: temperature %v, top_p %v", ErrRequest, req.Temperature, req.TopP)
	case req.TopLogprobs < 0 || req.TopLogprobs > MaxTopLogprobs:
		return fmt.Errorf("%w: top logprobs %d outside 0…%d", ErrRequest, req.TopLogprobs, MaxTopLogprobs)
	}
	V := int32(e.m.Config.VocabSize)
	for _, t := range req.Prompt {
		if t < 0 || t >= V {
			return fmt.Errorf("%w: prompt token %d outside the vocabulary of %d", ErrRequest, t, V)
		}
	}
	return nil
}

// MaxTopLogprobs is the most alternatives a token lists.
const MaxTopLogprobs = 20

// Generate decodes req and returns how it ended, calling req.Emit with
// each token meanwhile. It waits for Run to take the request; when ctx
// ends first the request is dropped and ctx's error returned.
func (e *Engine) Generate(ctx context.Context, req Request) (Result, error) {
	if err := e.Check(req); err != nil {
		return Result{}, err
	}
	seed := rand.Uint64()
	if req.Seed != nil {
		seed = *req.Seed
	}
	s := &sequence{req: req, rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995)), done: make(chan struct{})}
	s.res.PromptTokens = len(req.Prompt)
	select {
	case <-e.stopped:
		return Result{}, ErrStopped
	default:
	}
	e.mu.Lock()
	e.pending = append(e.pending, s)
	e.mu.Unlock()
	e.signal()
	select {
	case <-s.done:
		return s.res, s.err
	case <-ctx.Done():
		s.cancelled.Store(true)
		e.signal()
		select { // Emit is never called after Generate returns
		case <-s.done:
		case <-e.stopped:
		}
		return s.res, ctx.Err()
	case <-e.stopped:
		select {
		case <-s.done:
			return s.res, s.err
		default:
			return Result{}, ErrStopped
		}
	}
}

func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run decodes queued requests until ctx ends, every running request in
// each step. It returns ctx's error; requests still queued or running get
// ErrStopped.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("engine already running")
	}
	var active []*sequence
	defer func() {
		e.mu.Lock()
		rest := append(active, e.pending...)
		e.pending = nil
		e.mu.Unlock()
		for _, s := range rest {
			s.err = ErrStopped
			close(s.done)
		}
		close(e.stopped)
	}()
	V := e.m.Config.VocabSize
	var logits []float32
	var steps []model.DecodeStep
	var stepSeqs []*sequence
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.mu.Lock()
		e.pending = e.dropCancelled(e.pending)
		for len(active) < e.opts.MaxBatch && len(e.pending) > 0 {
			s := e.pending[0]
			e.pending = e.pending[1:]
			// Room for the prompt and a first stretch of the reply; the
			// cache grows when a long reply needs more.
			s.cache = e.m.NewKVCache(len(s.req.Prompt) + min(s.req.MaxTokens, 256))
			active = append(active, s)
		}
		e.mu.Unlock()
		active = e.dropCancelled(active)
		if len(active) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-e.wake:
			}
			continue
		}

		steps, stepSeqs = steps[:0], stepSeqs[:0]
		budget := e.opts.MaxStepTokens
		for _, s := range active {
			have, prompt := s.cache.Len(), s.req.Prompt
			if have < len(prompt) {
				if budget <= 0 {
					continue
				}
				n := min(len(prompt)-have, budget)
				budget -= n
				steps = append(steps, model.DecodeStep{Cache: s.cache, Tokens: prompt[have : have+n]})
			} else {
				steps = append(steps, model.DecodeStep{Cache: s.cache, Tokens: []int32{s.next}})
			}
			stepSeqs = append(stepSeqs, s)
		}
		if need := len(steps) * V; len(logits) < need {
			logits = make([]float32, need)
		}
		if err := e.m.Decode(steps, logits); err != nil {
			for _, s := range stepSeqs {
				s.err = fmt.Errorf("decode: %w", err)
				s.res.Finish = FinishStop
			}
			active = e.finish(active)
			continue
		}
		e.steps.Add(1)
		if len(steps) > 1 {
			e.batched.Add(1)
		}
		for n := int64(len(steps)); ; {
			old := e.maxBatch.Load()
			if n <= old || e.maxBatch.CompareAndSwap(old, n) {
				break
			}
		}
		e.opts.Logger.Debug("decode step", "sequences", len(steps), "running", len(active))
		for i, s := range stepSeqs {
			if s.cache.Len() < len(s.req.Prompt) {
				continue // more prompt to take in
			}
			e.advance(s, logits[i*V:(i+1)*V])
		}
		active = e.finish(active)
	}
}

// advance samples a sequence's next token from its logits and decides
// whether it ends.
func (e *Engine) advance(s *sequence, logits []float32) {
	tok := sample(logits, s.req, s.rng)
	s.generated++
	s.res.CompletionTokens = s.generated
	e.tokens.Add(1)
	switch {
	case e.end[tok.ID]:
		s.res.Finish = FinishStop
	case s.req.Emit != nil && !s.req.Emit(tok):
		s.res.Finish = FinishStop
	case s.generated >= s.req.MaxTokens:
		s.res.Finish = FinishLength
	default:
		s.next = tok.ID
	}
}

// finish closes the sequences that ended and returns the others.
func (e *Engine) finish(active []*sequence) []*sequence {
	keep := active[:0]
	for _, s := range active {
		if s.res.Finish == "" && s.err == nil {
			keep = append(keep, s)
			continue
		}
		e.requests.Add(1)
		close(s.done)
	}
	clear(active[len(keep):])
	return keep
}

func (e *Engine) dropCancelled(active []*sequence) []*sequence {
	keep := active[:0]
	for _, s := range active {
		if s.cancelled.Load() {
			s.err = context.Canceled
			close(s.done)
			continue
		}
		keep = append(keep, s)
	}
	clear(active[len(keep):])
	return keep
}
