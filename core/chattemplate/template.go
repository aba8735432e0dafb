package chattemplate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/swelego/swelego/core/tokenizer"
	"github.com/swelego/swelego/sdk"
)

// Conversation is what a template renders.
type Conversation struct {
	Messages []sdk.Message
	// Tools are described to the model where the template puts tools (the
	// qwen3 system message, the openhands instructions).
	Tools []sdk.ToolSchema
	// Weights holds one training weight per message, as a loss masker
	// returns them; only assistant messages' weights are used. Nil means
	// weight 1 for every assistant message.
	Weights []float64
}

// weight is the training weight of message i.
func (c Conversation) weight(i int) float64 {
	if c.Messages[i].Role != "assistant" {
		return 0
	}
	if c.Weights == nil {
		return 1
	}
	return c.Weights[i]
}

func (c Conversation) check() error {
	if c.Weights != nil && len(c.Weights) != len(c.Messages) {
		return fmt.Errorf("%w: %d weights for %d messages", ErrConversation, len(c.Weights), len(c.Messages))
	}
	for i, w := range c.Weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("%w: message %d has weight %v", ErrConversation, i, w)
		}
	}
	for i, m := range c.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		default:
			return fmt.Errorf("%w: message %d has role %q (want system, user, assistant or tool)", ErrConversation, i, m.Role)
		}
	}
	return nil
}

// ErrConversation is wrapped by errors about a conversation a template
// cannot render.
var ErrConversation = errors.New("conversation cannot be rendered")

// ErrSpecial is wrapped when a template needs a special token the
// tokenizer does not have.
var ErrSpecial = errors.New("tokenizer lacks a special token")

// PieceKind says how a piece becomes tokens.
type PieceKind int

const (
	// Text is tokenized as ordinary text.
	Text PieceKind = iota
	// Special is one special token, inserted by id; the tokenizer must
	// have it.
	Special
	// Tag is a marker such as <tool_call>: one token by id when the
	// tokenizer has it as an added token (Qwen's do), else ordinary text.
	Tag
)

// Piece is a run of rendered text or one special token, with the training
// weight of each of its tokens and the message it belongs to (-1 for
// template text outside any message).
type Piece struct {
	Kind    PieceKind
	Text    string
	Weight  float64
	Message int
}

// Template renders conversations in one chat format.
type Template interface {
	Name() string
	Render(c Conversation) ([]Piece, error)
}

// Names lists the templates Get knows.
var Names = []string{"qwen3", "openhands"}

// Get returns the template called name.
func Get(name string) (Template, error) {
	switch name {
	case "qwen3":
		return qwen3{}, nil
	case "openhands":
		return openHands{}, nil
	}
	return nil, fmt.Errorf("unknown chat template %q (want %s)", name, strings.Join(Names, " or "))
}

// Encoded is a rendered conversation as tokens: Weights[i] is the training
// weight of token IDs[i] (the weight of predicting it from the tokens
// before it).
type Encoded struct {
	IDs     []int32
	Weights []float32
}

// Trained counts the tokens with a non-zero weight.
func (e Encoded) Trained() int {
	n := 0
	for _, w := range e.Weights {
		if w != 0 {
			n++
		}
	}
	return n
}

// Encode tokenizes pieces. Adjacent text pieces of equal weight are joined
// and tokenized together; pieces of different weights are tokenized apart,
// so no token straddles a trained and an untrained span (LLaMA-Factory
// likewise encodes prompt and response separately).
func Encode(tok tokenizer.Tokenizer, pieces []Piece) (Encoded, error) {
	var out Encoded
	var run strings.Builder
	runWeight := 0.0
	flush := func() {
		if run.Len() == 0 {
			return
		}
		for _, id := range tok.Encode(run.String()) {
			out.IDs = append(out.IDs, int32(id))
			out.Weights = append(out.Weights, float32(runWeight))
		}
		run.Reset()
	}
	for _, p := range pieces {
		kind := p.Kind
		id, ok := 0, false
		if kind != Text {
			id, ok = tok.Special(p.Text)
			if !ok && kind == Special {
				return Encoded{}, fmt.Errorf("%w: %s has no %q", ErrSpecial, tok.Name(), p.Text)
			}
			if !ok {
				kind = Text
			}
		}
		if kind == Text {
			if run.Len() > 0 && p.Weight != runWeight {
				flush()
			}
			runWeight = p.Weight
			run.WriteString(p.Text)
			continue
		}
		flush()
		out.IDs = append(out.IDs, int32(id))
		out.Weights = append(out.Weights, float32(p.Weight))
	}
	flush()
	return out, nil
}

// Join joins the pieces' text: the string the template renders.
func Join(pieces []Piece) string {
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(p.Text)
	}
	return b.String()
}

// appender collects pieces, merging adjacent text of one message and
// weight.
type appender struct{ pieces []Piece }

func (a *appender) add(kind PieceKind, text string, weight float64, msg int) {
	if text == "" {
		return
	}
	if n := len(a.pieces); kind == Text && n > 0 {
		last := &a.pieces[n-1]
		if last.Kind == Text && last.Weight == weight && last.Message == msg {
			last.Text += text
			return
		}
	}
	a.pieces = append(a.pieces, Piece{Kind: kind, Text: text, Weight: weight, Message: msg})
}

// chatML renders role turns as <|im_start|>role\ncontent<|im_end|>\n. For
// an assistant turn, content and <|im_end|> carry the turn's weight; the
// role header and the newline after <|im_end|> are never trained.
type chatML struct{ appender }

func (c *chatML) open(role string, msg int) {
	c.add(Special, "<|im_start|>", 0, msg)
	c.add(Text, role+"\n", 0, msg)
}

func (c *chatML) close(weight float64, msg int) {
	c.add(Special, "<|im_end|>", weight, msg)
	c.add(Text, "\n", 0, msg)
}

// cloneMessages copies msgs deeply enough to edit fields.
func cloneMessages(msgs []sdk.Message) []sdk.Message { return slices.Clone(msgs) }
