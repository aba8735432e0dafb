package tokenizer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Tokenizer turns text into token ids and back.
//
// Encode treats its whole input as ordinary text: a string that merely looks
// like a special token ("<|im_end|>" typed into a file an agent read) is
// encoded as the text it is, never as the special token. Special tokens go
// in by id: a chat template asks Special for the id and appends it.
type Tokenizer interface {
	// Name says where the tokenizer came from: "cl100k_base", or the
	// folder a Hugging Face tokenizer was loaded from.
	Name() string
	// Encode returns the ids of text, with no special tokens.
	Encode(text string) []int
	// Decode returns the text of ids; special tokens decode to their text.
	// Ids that do not decode to whole UTF-8 characters on their own are
	// joined bytewise before the text is made, so Decode(Encode(s)) == s
	// for every valid UTF-8 s (after the tokenizer's normalisation).
	Decode(ids []int) string
	// Special returns the id of a special or added token given its text,
	// such as "<|im_end|>"; false when the tokenizer has no such token.
	Special(token string) (int, bool)
	// VocabSize is one more than the largest id Encode or Special can
	// return: the smallest embedding table a model needs for it.
	VocabSize() int
}

// ErrUnknown is wrapped by Load when the name is neither a built-in
// encoding nor a tokenizer folder, and by LoadHF for a folder with neither
// tokenizer.json nor vocab.json.
var ErrUnknown = errors.New("unknown tokenizer")

// ErrFormat is wrapped by errors about tokenizer files that cannot be read
// as a byte-level BPE tokenizer.
var ErrFormat = errors.New("unsupported tokenizer files")

// Load returns the tokenizer spec names: a built-in encoding ("cl100k_base",
// "o200k_base", see Builtins) or the path of a Hugging Face tokenizer folder
// (see LoadHF). Any other spec is an error wrapping ErrUnknown.
func Load(ctx context.Context, spec string) (Tokenizer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := builtins[spec]; ok {
		return loadBuiltin(spec)
	}
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		return LoadHF(ctx, spec)
	}
	return nil, fmt.Errorf("load tokenizer %q: %w: neither a built-in encoding (%s) nor a folder",
		spec, ErrUnknown, strings.Join(Builtins(), ", "))
}
