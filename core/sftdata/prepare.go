package sftdata

import (
	"errors"
	"fmt"

	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/tokenizer"
	"github.com/swelego/swelego/sdk"
)

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
