package sftdata

import (
	"errors"
	"fmt"
	"math"

	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/tokenizer"
	"github.com/swelego/swelego/sdk"
)

// ErrWeights is wrapped by errors about loss weights that break the loss
// masker contract (sdk.LossMasker).
var ErrWeights = errors.New("loss weights break the masker contract")

// MessageWeights turns a loss masker's answer into one weight per message:
// assistant messages without an entry get 1, other messages 0. An index out
// of range, a repeated index or a weight that is negative, NaN or infinite
// wraps ErrWeights.
func MessageWeights(msgs []sdk.Message, lw []sdk.LossWeight) ([]float64, error) {
	out := make([]float64, len(msgs))
	for i, m := range msgs {
		if m.Role == "assistant" {
			out[i] = 1
		}
	}
	seen := make(map[int]bool, len(lw))
	for _, w := range lw {
		if w.Index < 0 || w.Index >= len(msgs) {
			return nil, fmt.Errorf("%w: index %d outside the %d messages", ErrWeights, w.Index, len(msgs))
		}
		if seen[w.Index] {
			return nil, fmt.Errorf("%w: message %d weighted twice", ErrWeights, w.Index)
		}
		seen[w.Index] = true
		if w.Weight < 0 || math.IsNaN(w.Weight) || math.IsInf(w.Weight, 0) {
			return nil, fmt.Errorf("%w: message %d has weight %v", ErrWeights, w.Index, w.Weight)
		}
		if msgs[w.Index].Role == "assistant" {
			out[w.Index] = w.Weight
		}
	}
	return out, nil
}

// Overflow says what happens to a sequence longer than the limit.
type Overflow string

const (
	// Truncate keeps the first MaxSeqLen tokens (the task statement and the
	// early turns; the cut-off tail is not trained).
	Truncate Overflow = "truncate"
	// Drop leaves the sequence out.
	Drop Overflow = "drop"
)

// Options say how to render and tokenize.
type Options struct {
	Tokenizer tokenizer.Tokenizer
	Template  chattemplate.Template
	Tools     []sdk.ToolSchema
	// MaxSeqLen limits a sequence's tokens (0: no limit).
	MaxSeqLen int
	Overflow  Overflow
}

// Example is one trajectory ready to train.
type Example struct {
	// ID is the trajectory's key: instance_id/attempt.
	ID      string
	IDs     []int32
	Weights []float32
	// Turns counts assistant turns; Masked those with weight 0.
	Turns, Masked int
	// Truncated is set when tokens past MaxSeqLen were cut off.
	Truncated bool
}

// Trained counts the tokens that carry loss.
func (e *Example) Trained() int {
	return chattemplate.Encoded{IDs: e.IDs, Weights: e.Weights}.Trained()
}

// ErrTooLong is returned by Prepare for a sequence over MaxSeqLen when the
// overflow rule is Drop.
var ErrTooLong = errors.New("sequence longer than max_seq_len")

// ErrNothingTrained is returned by Prepare when no token carries loss (every
// assistant turn masked, or all of them cut off): such a sequence only
// costs compute.
var ErrNothingTrained = errors.New("no trained tokens")

// Key is the key of a trajectory: instance_id/attempt.
func Key(t sdk.Trajectory) string { return fmt.Sprintf("%s/%d", t.InstanceID, t.Attempt) }

// Prepare renders, tokenizes and weights one trajectory with the message
// weights a masker gave it.
func Prepare(t sdk.Trajectory, weights []float64, opts Options) (*Example, error) {
	pieces, err := opts.Template.Render(chattemplate.Conversation{Messages: t.Messages, Tools: opts.Tools, Weights: weights})
	if err != nil {
		return nil, err
	}
	enc, err := chattemplate.Encode(opts.Tokenizer, pieces)
	if err != nil {
		return nil, err
	}
	ex := &Example{ID: Key(t), IDs: enc.IDs, Weights: enc.Weights}
	for i, m := range t.Messages {
		if m.Role == "assistant" {
			ex.Turns++
			if weights != nil && weights[i] == 0 {
				ex.Masked++
			}
		}
	}
	if opts.MaxSeqLen > 0 && len(ex.IDs) > opts.MaxSeqLen {
		if opts.Overflow == Drop {
			return nil, fmt.Errorf("%w: %d tokens", ErrTooLong, len(ex.IDs))
		}
		ex.IDs, ex.Weights, ex.Truncated = ex.IDs[:opts.MaxSeqLen], ex.Weights[:opts.MaxSeqLen], true
	}
	// The first token is never predicted, so its weight cannot count.
	if len(ex.Weights) > 0 {
		ex.Weights[0] = 0
	}
	if ex.Trained() == 0 {
		return nil, ErrNothingTrained
	}
	return ex, nil
}
