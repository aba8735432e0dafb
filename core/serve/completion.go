package serve

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/tokenizer"
)

// completion collects the tokens the engine emits for one request (Emit
// runs in the engine's goroutine) and turns them into text: cut at the
// first stop string, with what may still turn into a stop string or a
// tool call held back from streaming.
type completion struct {
	tok    tokenizer.Tokenizer
	stops  []string
	marker string // the text that starts a tool call; "" when calls are not parsed

	mu      sync.Mutex
	notify  chan struct{}
	tokens  []infer.Token
	text    string // decoded text of the committed ids, cut at a stop string
	pending []int  // ids whose text is not whole UTF-8 yet
	stopped bool
}

func newCompletion(tok tokenizer.Tokenizer, stops []string, marker string) *completion {
	return &completion{tok: tok, stops: stops, marker: marker, notify: make(chan struct{}, 1)}
}

// maxPending is how many ids may wait for their text to become whole
// UTF-8 before it is taken as it is.
const maxPending = 8

// emit is infer.Request.Emit.
func (c *completion) emit(t infer.Token) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.signal()
	c.tokens = append(c.tokens, t)
	c.pending = append(c.pending, int(t.ID))
	piece := c.tok.Decode(c.pending)
	if !wholeUTF8(piece) && len(c.pending) < maxPending {
		return true
	}
	c.pending = c.pending[:0]
	from := len(c.text)
	c.text += piece
	// A stop string may straddle the old text and the new piece.
	longest := 0
	for _, s := range c.stops {
		longest = max(longest, len(s))
	}
	search := max(0, from-longest+1)
	cut := -1
	for _, s := range c.stops {
		if i := strings.Index(c.text[search:], s); i >= 0 && (cut < 0 || search+i < cut) {
			cut = search + i
		}
	}
	if cut >= 0 {
		c.text = c.text[:cut]
		c.stopped = true
		return false
	}
	return true
}

func (c *completion) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// wholeUTF8 reports whether s is valid UTF-8 that does not end in a
// replacement character (a tokenizer's rendering of partial bytes).
func wholeUTF8(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return r != utf8.RuneError
}

// final returns the whole text and tokens once generation ended: the
// text of ids still pending is added as it is.
func (c *completion) final() (string, []infer.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) > 0 && !c.stopped {
		c.text += c.tok.Decode(c.pending)
		c.pending = nil
	}
	return c.text, c.tokens
}

// streamable returns the text that can be streamed now (a prefix of the
// final text) and the tokens generated so far.
func (c *completion) streamable() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	text := c.text
	if c.stopped {
		return text, len(c.tokens)
	}
	hold := len(text)
	if c.marker != "" {
		if i := strings.Index(text, c.marker); i >= 0 {
			hold = i
		}
		hold = min(hold, len(text)-prefixOverlap(text, c.marker))
	}
	for _, s := range c.stops {
		hold = min(hold, len(text)-prefixOverlap(text, s))
	}
	return text[:hold], len(c.tokens)
}

// prefixOverlap is the length of the longest suffix of text that is a
// proper prefix of s.
func prefixOverlap(text, s string) int {
	for n := min(len(text), len(s)-1); n > 0; n-- {
		if strings.HasSuffix(text, s[:n]) {
			return n
		}
	}
	return 0
}

// tokensFrom returns a copy of the tokens from index i on.
func (c *completion) tokensFrom(i int) []infer.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i >= len(c.tokens) {
		return nil
	}
	return append([]infer.Token(nil), c.tokens[i:]...)
}
