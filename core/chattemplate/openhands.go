package chattemplate

import (
	"fmt"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/sdk"
)

// openHands renders the conversation as OpenHands sends it to a model
// without native function calling, in ChatML: tool descriptions at the end
// of the system message, each assistant turn's calls as
// <function=NAME><parameter=P>…</parameter></function> text after its
// content, and each run of tool results as one user message of
// "EXECUTION RESULT of [NAME]:" blocks — the messages `trajectories export`
// writes, so data exported there and trained here match.
type openHands struct{}

func (openHands) Name() string { return "openhands" }

func (openHands) Render(c Conversation) ([]Piece, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	// RenderMessages keeps loss weights on the messages it keeps, so each
	// rendered assistant message carries its own weight.
	msgs := cloneMessages(c.Messages)
	for i := range msgs {
		w := c.weight(i)
		msgs[i].LossWeight = &w
	}
	text, err := llm.RenderMessages(llm.FormatOpenHands, msgs, c.Tools)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConversation, err)
	}
	origin := renderedOrigins(c.Messages, text)
	var r chatML
	for j, m := range text {
		w := 0.0
		if m.Role == "assistant" && m.LossWeight != nil {
			w = *m.LossWeight
		}
		r.open(m.Role, origin[j])
		r.add(Text, m.Content, w, origin[j])
		r.close(w, origin[j])
	}
	return r.pieces, nil
}

// renderedOrigins gives, for each message RenderMessages wrote, the index
// of the conversation message it came from: -1 for a system message added
// for the tool descriptions, the first tool message of a merged run of
// results. RenderMessages keeps every other message in order.
func renderedOrigins(native, text []sdk.Message) []int {
	origin := make([]int, len(text))
	j := 0
	if len(text) > 0 && text[0].Role == "system" && (len(native) == 0 || native[0].Role != "system") {
		origin[0] = -1
		j = 1
	}
	for i := 0; i < len(native) && j < len(text); i++ {
		origin[j] = i
		if native[i].Role == "tool" {
			for i+1 < len(native) && native[i+1].Role == "tool" {
				i++
			}
		}
		j++
	}
	return origin
}
