package errormask

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// Masker is the loss masker. It answers with one weight for every assistant
// message and none for the other messages (chat templates never train
// them); the zero value is ready to use and safe for concurrent calls.
type Masker struct {
	cache cache
}

var _ sdk.LossMasker = (*Masker)(nil)

// ErrTurns is returned (wrapped) when a trajectory's turn metadata does not
// line up with its assistant messages, so turn flags cannot be read.
var ErrTurns = errors.New("turn metadata does not match the assistant messages")

// Reasons given with the weights, besides "pattern: NAME" for a turn an
// error pattern matched.
const (
	ReasonTurnFlag    = "turn flag: error"
	ReasonTurnMask    = "dataset: turn_mask"
	ReasonLossWeight  = "dataset: loss_weight"
	ReasonBeforeLastK = "last_k: before the last %d turns"
)

// observationPrefixes start the user messages that carry tool results in
// text-format data: OpenHands' "EXECUTION RESULT of [execute_bash]:\n…",
// Qwen's "<tool_response>\n…", OpenHands' older CodeAct "OBSERVATION:\n…",
// and swelego's answer to a reply whose call could not be read.
var observationPrefixes = []string{
	"EXECUTION RESULT of [",
	"<tool_response>",
	"OBSERVATION:",
	"ERROR: your last reply contained a tool call that could not be read",
}

// Mask weighs the assistant messages of t by the configured strategy.
func (m *Masker) Mask(ctx context.Context, cfg sdk.Config, t sdk.Trajectory) ([]sdk.LossWeight, error) {
	s, err := m.cache.get(cfg)
	if err != nil {
		return nil, err
	}
	return s.mask(t)
}

func (s *settings) mask(t sdk.Trajectory) ([]sdk.LossWeight, error) {
	var turns []int // message index of each assistant turn
	for i, msg := range t.Messages {
		if msg.Role == "assistant" {
			turns = append(turns, i)
		}
	}
	out := make([]sdk.LossWeight, len(turns))
	for n, i := range turns {
		out[n] = sdk.LossWeight{Index: i, Weight: 1}
	}
	switch s.Strategy {
	case StrategyNone:
	case StrategyKeepDataset:
		for n, i := range turns {
			w, reason, err := datasetWeight(t.Messages[i])
			if err != nil {
				return nil, fmt.Errorf("errormask: message %d: %w", i, err)
			}
			out[n].Weight, out[n].Reason = w, reason
		}
	case StrategyLastK:
		for n := range turns {
			if n < len(turns)-s.k {
				out[n].Weight, out[n].Reason = 0, fmt.Sprintf(ReasonBeforeLastK, s.k)
			}
		}
		s.keepDatasetMasks(t, turns, out)
	case StrategyErrorTurns:
		if s.UseTurnFlags && len(t.Turns) > 0 && len(t.Turns) != len(turns) {
			return nil, fmt.Errorf("errormask: %w: %d turns, %d assistant messages", ErrTurns, len(t.Turns), len(turns))
		}
		obs := observations(t.Messages)
		for n, i := range turns {
			switch {
			case s.UseTurnFlags && n < len(t.Turns) && t.Turns[n].Error:
				out[n].Weight, out[n].Reason = 0, ReasonTurnFlag
			default:
				if name := s.match(t.Messages, obs[i]); name != "" {
					out[n].Weight, out[n].Reason = 0, "pattern: "+name
				}
			}
		}
		s.keepDatasetMasks(t, turns, out)
	}
	return out, nil
}

// keepDatasetMasks sets weight 0 on the turns the dataset masked, when
// RespectTurnMask is on. The dataset's reason wins over the strategy's.
func (s *settings) keepDatasetMasks(t sdk.Trajectory, turns []int, out []sdk.LossWeight) {
	if !s.RespectTurnMask {
		return
	}
	for n, i := range turns {
		msg := t.Messages[i]
		switch {
		case msg.TurnMask != nil && *msg.TurnMask:
			out[n].Weight, out[n].Reason = 0, ReasonTurnMask
		case msg.LossWeight != nil && *msg.LossWeight == 0:
			out[n].Weight, out[n].Reason = 0, ReasonLossWeight
		}
	}
}

// datasetWeight is keep_dataset's weight of an assistant message: 0 when
// turn_mask is true, loss_weight when it is set, else 1.
func datasetWeight(msg sdk.Message) (float64, string, error) {
	switch {
	case msg.TurnMask != nil && *msg.TurnMask:
		return 0, ReasonTurnMask, nil
	case msg.LossWeight != nil:
		w := *msg.LossWeight
		if !(w >= 0) || math.IsInf(w, 0) {
			return 0, "", fmt.Errorf("loss_weight %g is not a finite number >= 0", w)
		}
		if w == 1 {
			return 1, "", nil
		}
		return w, ReasonLossWeight, nil
	}
	return 1, "", nil
}

// match returns the name of the first pattern that matches one of the
// observation messages at idx, or "".
func (s *settings) match(msgs []sdk.Message, idx []int) string {
	for _, p := range s.patterns {
		for _, j := range idx {
			if p.re.MatchString(msgs[j].Content) {
				return p.name
			}
		}
	}
	return ""
}

// observations maps the index of each assistant message to the indexes of
// the messages that answer it:
//   - a tool message (role tool, function or observation) answers the
//     nearest assistant message before it that made the call named by its
//     tool_call_id, or, without an id or when no assistant message made
//     that call, the nearest assistant message before it;
//   - a user message answers the nearest assistant message before it when
//     it starts with one of the observationPrefixes (text-format data,
//     where tool results come back as user messages); other user messages
//     (the task, a nudge to continue) answer nothing.
//
// Messages before the first assistant message answer nothing.
func observations(msgs []sdk.Message) map[int][]int {
	out := map[int][]int{}
	last := -1 // the nearest assistant message so far
	for j, msg := range msgs {
		switch msg.Role {
		case "assistant":
			last = j
		case "tool", "function", "observation": // "observation": LLaMA-Factory's tag
			if last < 0 {
				continue
			}
			owner := last
			if msg.ToolCallID != "" {
				if a := caller(msgs, j, msg.ToolCallID); a >= 0 {
					owner = a
				}
			}
			out[owner] = append(out[owner], j)
		case "user":
			if last >= 0 && isObservation(msg.Content) {
				out[last] = append(out[last], j)
			}
		}
	}
	return out
}

// caller returns the nearest assistant message before j that made the call
// id, or -1.
func caller(msgs []sdk.Message, j int, id string) int {
	for a := j - 1; a >= 0; a-- {
		if msgs[a].Role != "assistant" {
			continue
		}
		for _, c := range msgs[a].ToolCalls {
			if c.ID == id {
				return a
			}
		}
	}
	return -1
}

func isObservation(content string) bool {
	content = strings.TrimLeft(content, " \t\r\n")
	for _, p := range observationPrefixes {
		if strings.HasPrefix(content, p) {
			return true
		}
	}
	return false
}
