package tokenizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlclark/regexp2"
)

// Pre-tokenisation patterns for folders that do not carry one.
const (
	// qwenPattern is Qwen2's and Qwen3's Split regex: digits one at a time.
	qwenPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// gpt2Pattern is the regex of Hugging Face's ByteLevel pre-tokenizer
	// when use_regex is true.
	gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// LoadHF loads a byte-level BPE tokenizer from a Hugging Face tokenizer
// folder as Qwen2 and Qwen3 ship them. With tokenizer.json it reads
// everything from there: model (type BPE; vocab; merges as "a b" strings
// or ["a", "b"] pairs; ignore_merges), added_tokens, normalizer (none or
// NFC) and pre_tokenizer (ByteLevel, possibly after Split regexes with
// behavior Isolated). Without it, vocab.json and merges.txt hold the model
// and tokenizer_config.json's added_tokens_decoder the added tokens, with
// NFC and Qwen's pattern as transformers' Qwen2Tokenizer uses them (GPT-2's
// pattern and no normaliser when tokenizer_class is GPT2Tokenizer).
//
// A folder with neither file is an error wrapping ErrUnknown; files that
// cannot be read as a byte-level BPE tokenizer give errors wrapping
// ErrFormat that name the file.
func LoadHF(ctx context.Context, dir string) (Tokenizer, error) {
	t, err := loadHF(ctx, dir)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func loadHF(ctx context.Context, dir string) (*byteLevelBPE, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("load tokenizer folder %s: %w: not a folder", dir, ErrUnknown)
	}
	var t *byteLevelBPE
	path := filepath.Join(dir, "tokenizer.json")
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		t, err = parseTokenizerJSON(path, data)
	case errors.Is(err, fs.ErrNotExist):
		t, err = loadVocabMerges(ctx, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("load tokenizer folder: %w", err)
	}
	t.name = dir
	return t, nil
}

// tokenizerJSON is the part of tokenizer.json a byte-level BPE needs.
type tokenizerJSON struct {
	AddedTokens  []addedToken `json:"added_tokens"`
	Normalizer   *component   `json:"normalizer"`
	PreTokenizer *component   `json:"pre_tokenizer"`
	Model        struct {
		Type                    string          `json:"type"`
		Vocab                   map[string]int  `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
		Dropout                 *float64        `json:"dropout"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
	} `json:"model"`
}

type addedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

// component is a normalizer or pre_tokenizer entry: its type and the
// fields of the types this package reads.
type component struct {
	Type          string       `json:"type"`
	Normalizers   []*component `json:"normalizers"`
	Pretokenizers []*component `json:"pretokenizers"`
	Pattern       *struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Behavior       string `json:"behavior"`
	Invert         bool   `json:"invert"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
}

// parseTokenizerJSON reads the contents of a tokenizer.json; file names it
// in errors.
func parseTokenizerJSON(file string, data []byte) (*byteLevelBPE, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", file, ErrFormat, err)
	}
	m := tj.Model
	switch {
	case m.Type != "BPE":
		return nil, formatError(file, "model type %q, want BPE", m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, formatError(file, "BPE dropout %v", *m.Dropout)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, formatError(file, "continuing_subword_prefix %q", *m.ContinuingSubwordPrefix)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, formatError(file, "end_of_word_suffix %q", *m.EndOfWordSuffix)
	case m.ByteFallback:
		return nil, formatError(file, "byte_fallback (not a byte-level BPE)")
	}
	merges, err := parseMergeList(m.Merges)
	if err != nil {
		return nil, formatError(file, "merges: %v", err)
	}
	nfc, err := normalizerNFC(tj.Normalizer)
	if err != nil {
		return nil, formatError(file, "normalizer: %v", err)
	}
	patterns, err := splitPatterns(tj.PreTokenizer)
	if err != nil {
		return nil, formatError(file, "pre_tokenizer: %v", err)
	}
	return build(bpeSpec{
		vocabFile: file, vocab: m.Vocab,
		mergesFile: file, merges: merges,
		addedFile: file, added: tj.AddedTokens,
		nfc: nfc, patterns: patterns, ignoreMerges: m.IgnoreMerges,
	})
}

// parseMergeList reads tokenizer.json's merges: "a b" strings (the format
// before tokenizers 0.20) or ["a", "b"] pairs.
func parseMergeList(raw json.RawMessage) ([][2]string, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var strs []string
	if err := json.Unmarshal(raw, &strs); err == nil {
		merges := make([][2]string, len(strs))
		for i, s := range strs {
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("merge %d %q is not two tokens separated by a space", i, s)
			}
			merges[i] = [2]string{a, b}
		}
		return merges, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, errors.New(`neither "a b" strings nor ["a", "b"] pairs`)
	}
	merges := make([][2]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merge %d has %d parts, want 2", i, len(p))
		}
		merges[i] = [2]string{p[0], p[1]}
	}
	return merges, nil
}

// normalizerNFC reports whether the normalizer is NFC; none is allowed.
func normalizerNFC(c *component) (bool, error) {
	if c == nil {
		return false, nil
	}
	switch c.Type {
	case "NFC":
		return true, nil
	case "Sequence":
		nfc := false
		for _, n := range c.Normalizers {
			x, err := normalizerNFC(n)
			if err != nil {
				return false, err
			}
			nfc = nfc || x
		}
		return nfc, nil
	}
	return false, fmt.Errorf("type %q not supported (only NFC)", c.Type)
}

// splitPatterns returns the regexes of a pre_tokenizer that is ByteLevel,
// or a Sequence of Split regexes (behavior Isolated) ending in ByteLevel.
func splitPatterns(c *component) ([]string, error) {
	if c == nil {
		return nil, errors.New("none; want ByteLevel")
	}
	var stages []*component
	var flatten func(c *component, depth int) error
	flatten = func(c *component, depth int) error {
		if c == nil {
			return errors.New("null entry")
		}
		if c.Type != "Sequence" {
			stages = append(stages, c)
			return nil
		}
		if depth > 8 {
			return errors.New("Sequence nested too deep")
		}
		for _, p := range c.Pretokenizers {
			if err := flatten(p, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := flatten(c, 0); err != nil {
		return nil, err
	}
	var patterns []string
	for i, s := range stages {
		switch s.Type {
		case "Split":
			if s.Behavior != "Isolated" || s.Invert {
				return nil, fmt.Errorf("Split with behavior %q, invert %v (only Isolated, false)", s.Behavior, s.Invert)
			}
			switch {
			case s.Pattern != nil && s.Pattern.Regex != nil:
				patterns = append(patterns, *s.Pattern.Regex)
			case s.Pattern != nil && s.Pattern.String != nil:
				patterns = append(patterns, regexp2.Escape(*s.Pattern.String))
			default:
				return nil, errors.New("Split without a Regex or String pattern")
			}
		case "ByteLevel":
			if i != len(stages)-1 {
				return nil, errors.New("ByteLevel is not the last pre-tokenizer")
			}
			if s.AddPrefixSpace {
				return nil, errors.New("ByteLevel add_prefix_space not supported")
			}
			if s.UseRegex == nil || *s.UseRegex {
				patterns = append(patterns, gpt2Pattern)
			}
			return patterns, nil
		default:
			return nil, fmt.Errorf("type %q not supported (only Split and ByteLevel)", s.Type)
		}
	}
	return nil, errors.New("no ByteLevel pre-tokenizer (not a byte-level BPE)")
}

// loadVocabMerges reads a folder with vocab.json, merges.txt and, if there,
// tokenizer_config.json.
func loadVocabMerges(ctx context.Context, dir string) (*byteLevelBPE, error) {
	vocabFile := filepath.Join(dir, "vocab.json")
	data, err := os.ReadFile(vocabFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: no tokenizer.json or vocab.json", dir, ErrUnknown)
	}
	if err != nil {
		return nil, err
	}
	var vocab map[string]int
	if err := json.Unmarshal(data, &vocab); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", vocabFile, ErrFormat, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mergesFile := filepath.Join(dir, "merges.txt")
	data, err = os.ReadFile(mergesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: vocab.json without merges.txt", mergesFile, ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	merges, err := parseMergesTxt(string(data))
	if err != nil {
		return nil, formatError(mergesFile, "%v", err)
	}
	spec := bpeSpec{
		vocabFile: vocabFile, vocab: vocab, mergesFile: mergesFile, merges: merges,
		nfc: true, patterns: []string{qwenPattern},
	}
	configFile := filepath.Join(dir, "tokenizer_config.json")
	data, err = os.ReadFile(configFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return build(spec)
	case err != nil:
		return nil, err
	}
	var cfg struct {
		TokenizerClass     string `json:"tokenizer_class"`
		AddedTokensDecoder map[string]struct {
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens_decoder"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", configFile, ErrFormat, err)
	}
	switch cfg.TokenizerClass {
	case "", "Qwen2Tokenizer", "Qwen2TokenizerFast":
	case "GPT2Tokenizer", "GPT2TokenizerFast":
		spec.nfc, spec.patterns = false, []string{gpt2Pattern}
	default:
		return nil, formatError(configFile, "tokenizer_class %q (only Qwen2Tokenizer and GPT2Tokenizer)", cfg.TokenizerClass)
	}
	spec.addedFile = configFile
	for key, tok := range cfg.AddedTokensDecoder {
		id, err := strconv.Atoi(key)
		if err != nil {
			return nil, formatError(configFile, "added_tokens_decoder key %q is not an id", key)
		}
		spec.added = append(spec.added, addedToken{ID: id, Content: tok.Content, Special: tok.Special})
	}
	return build(spec)
}

// parseMergesTxt reads merges.txt as transformers does: an optional
// "#version" first line, then one "a b" merge a line; blank lines skipped.
func parseMergesTxt(text string) ([][2]string, error) {
	var merges [][2]string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || i == 0 && strings.HasPrefix(line, "#version") {
			continue
		}
		a, b, ok := strings.Cut(line, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("line %d %q is not two tokens separated by a space", i+1, line)
		}
		merges = append(merges, [2]string{a, b})
	}
	return merges, nil
}

// bpeSpec is a byte-level BPE as read from its files, each part with the
// file it came from for errors.
type bpeSpec struct {
	vocabFile    string
	vocab        map[string]int
	mergesFile   string
	merges       [][2]string
	addedFile    string
	added        []addedToken
	nfc          bool
	patterns     []string
	ignoreMerges bool
}

// build checks a spec and makes the tokenizer: vocabulary tokens are
// converted from the byte-level alphabet to bytes, every byte must have a
// token, and every merge must join two vocabulary tokens into a third.
// Merge ranks are positions in the merge list (a repeated merge takes its
// last position, as in Hugging Face's map). A merge whose result is an
// added token is dropped: Hugging Face matches added tokens before BPE
// runs, so such a merge never applies there, and here it would let text
// produce an added token's id.
func build(s bpeSpec) (*byteLevelBPE, error) {
	t := &byteLevelBPE{
		nfc:    s.nfc,
		merges: make(map[uint64]merge, len(s.merges)),
		tokens: make(map[int]string, len(s.vocab)+len(s.added)),
		added:  make(map[string]int, len(s.added)),
	}
	maxID := -1
	addedContent := map[int]string{}
	for _, a := range s.added {
		switch {
		case a.ID < 0 || a.ID > math.MaxInt32:
			return nil, formatError(s.addedFile, "added token %q has id %d", a.Content, a.ID)
		case a.Content == "":
			return nil, formatError(s.addedFile, "added token %d has no content", a.ID)
		}
		if id, ok := t.added[a.Content]; ok && id != a.ID {
			return nil, formatError(s.addedFile, "added token %q has ids %d and %d", a.Content, id, a.ID)
		}
		if c, ok := addedContent[a.ID]; ok && c != a.Content {
			return nil, formatError(s.addedFile, "added tokens %q and %q share id %d", c, a.Content, a.ID)
		}
		t.added[a.Content], addedContent[a.ID], t.tokens[a.ID] = a.ID, a.Content, a.Content
		maxID = max(maxID, a.ID)
	}
	if len(s.vocab) == 0 {
		return nil, formatError(s.vocabFile, "empty vocab")
	}
	var haveByte [256]bool
	vocabOf := make(map[int]string, len(s.vocab))
	for tok, id := range s.vocab {
		if id < 0 || id > math.MaxInt32 {
			return nil, formatError(s.vocabFile, "vocab token %q has id %d", tok, id)
		}
		if other, ok := vocabOf[id]; ok {
			return nil, formatError(s.vocabFile, "vocab tokens %q and %q share id %d", min(tok, other), max(tok, other), id)
		}
		vocabOf[id] = tok
		maxID = max(maxID, id)
		if _, ok := addedContent[id]; ok {
			continue // decodes as the added token's content
		}
		raw, err := fromByteLevel(tok)
		if err != nil {
			return nil, formatError(s.vocabFile, "vocab token %q (id %d): %v", tok, id, err)
		}
		t.tokens[id] = raw
		if len(raw) == 1 {
			t.byteID[raw[0]], haveByte[raw[0]] = int32(id), true
		}
	}
	for b, ok := range haveByte {
		if !ok {
			return nil, formatError(s.vocabFile, "no vocab token for byte 0x%02x (%q)", b, byteLevel.char[b])
		}
	}
	for rank, m := range s.merges {
		a, okA := s.vocab[m[0]]
		b, okB := s.vocab[m[1]]
		c, okC := s.vocab[m[0]+m[1]]
		switch {
		case !okA || !okB:
			missing := m[0]
			if okA {
				missing = m[1]
			}
			return nil, formatError(s.mergesFile, "merge %d %q: %q is not in the vocab", rank, m[0]+" "+m[1], missing)
		case !okC:
			return nil, formatError(s.mergesFile, "merge %d %q: %q is not in the vocab", rank, m[0]+" "+m[1], m[0]+m[1])
		}
		if _, ok := addedContent[c]; ok {
			continue
		}
		t.merges[pairKey(int32(a), int32(b))] = merge{rank: int32(rank), id: int32(c)}
	}
	if s.ignoreMerges {
		t.whole = make(map[string]int32, len(s.vocab))
		for id, raw := range t.tokens {
			if _, ok := addedContent[id]; !ok {
				t.whole[raw] = int32(id)
			}
		}
	}
	for _, p := range s.patterns {
		sp, err := newSplitter(p)
		if err != nil {
			return nil, formatError(s.vocabFile, "pre-tokenizer pattern %q: %v", p, err)
		}
		t.splits = append(t.splits, sp)
	}
	t.size = maxID + 1
	return t, nil
}

// compilePattern compiles a pre-tokenisation regex with regexp2 (the
// engine tiktoken-go uses: Oniguruma's lookahead and \p classes).
func compilePattern(p string) (re *regexp2.Regexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			re, err = nil, fmt.Errorf("regexp2 panicked: %v", r)
		}
	}()
	re, err = regexp2.Compile(p, regexp2.None)
	if err == nil && re.RightToLeft() {
		return nil, errors.New("right-to-left pattern")
	}
	return re, err
}

// fromByteLevel converts a vocabulary token from GPT-2's byte alphabet to
// its bytes.
func fromByteLevel(tok string) (string, error) {
	if tok == "" {
		return "", errors.New("empty token")
	}
	raw := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := byteLevel.byte[r]
		if !ok {
			return "", fmt.Errorf("%q is not in the byte-level alphabet", r)
		}
		raw = append(raw, b)
	}
	return string(raw), nil
}

func formatError(file, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", file, ErrFormat, fmt.Sprintf(format, args...))
}
