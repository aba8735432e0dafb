package tokenizer

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// builtin is one of tiktoken's encodings, read from the ranks files
// tiktoken-go-loader embeds (no network).
type builtin struct {
	name    string
	enc     *tiktoken.Tiktoken
	special map[string]int
	size    int
}

var _ Tokenizer = (*builtin)(nil)

// builtinSpec is what Special and VocabSize need and tiktoken-go does not
// export: the special tokens of the encoding (tiktoken's openai_public.py)
// and one more than its largest id (tiktoken's n_vocab). The tests check
// both against tiktoken-go and the ranks file.
type builtinSpec struct {
	special map[string]int
	size    int
}

var builtins = map[string]builtinSpec{
	"cl100k_base": {special: map[string]int{
		"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
		"<|fim_suffix|>": 100260, "<|endofprompt|>": 100276,
	}, size: 100277},
	"o200k_base": {special: map[string]int{
		"<|endoftext|>": 199999, "<|endofprompt|>": 200018,
	}, size: 200019},
}

// Builtins lists the names Load accepts for tiktoken's encodings.
func Builtins() []string { return slices.Sorted(maps.Keys(builtins)) }

var (
	offline     sync.Once
	builtinMu   sync.Mutex
	builtinSeen = map[string]*builtin{}
)

// loadBuiltin builds an encoding once per process: its ranks file takes a
// noticeable time to parse, and the result is safe for concurrent use.
func loadBuiltin(name string) (*builtin, error) {
	offline.Do(func() { tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader()) })
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if b, ok := builtinSeen[name]; ok {
		return b, nil
	}
	enc, err := tiktoken.GetEncoding(name)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", name, err)
	}
	spec := builtins[name]
	b := &builtin{name: name, enc: enc, special: spec.special, size: spec.size}
	builtinSeen[name] = b
	return b, nil
}

func (b *builtin) Name() string { return b.name }

// Encode is tiktoken's encode_ordinary: special-token look-alikes are text.
// (tiktoken-go's Encode panics on them unless they are allowed, and encodes
// them as special tokens when they are.)
func (b *builtin) Encode(text string) []int { return b.enc.EncodeOrdinary(text) }

// Decode joins the bytes of the ids (unknown ids add nothing) and makes
// them a string.
func (b *builtin) Decode(ids []int) string { return b.enc.Decode(ids) }

func (b *builtin) Special(token string) (int, bool) {
	id, ok := b.special[token]
	return id, ok
}

func (b *builtin) VocabSize() int { return b.size }
