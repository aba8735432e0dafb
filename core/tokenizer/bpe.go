package tokenizer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// byteLevelBPE is a byte-level BPE tokenizer run the way Hugging Face's
// tokenizers library runs one (models/bpe/word.rs), so that ids match what
// transformers and vLLM feed a Qwen model.
//
// Why not tiktoken-go's BPE core, with ranks rebuilt from the merges (the
// 256 byte tokens first, then one rank per merge in file order)? tiktoken
// merges the adjacent pair whose concatenation is the lowest-ranked token
// in the vocabulary, and takes a whole pre-tokenised piece that is itself
// a token as that token; Hugging Face's BPE only merges pairs listed in
// merges, lowest merge rank first. The two agree on every input only when
// no token can be reached by a split other than its own merge, which holds
// for many trained vocabularies but is not something a loader can prove.
// With merges "b c", "a b", "ab c", Hugging Face gives "abc" → [a, bc] (no
// merge joins a and bc) while tiktoken gives [abc]; TestMergeRankNotTokenRank
// shows both. A vocabulary trained by BPE itself rarely has such splits;
// one converted from a tiktoken ranks file, with merges derived afterwards,
// can (Hugging Face's BPE grew its ignore_merges option for Llama 3's). So
// this file implements merge-rank BPE itself; the pre-tokenisation pattern
// read from the file runs on tiktoken-go's regexp engine, regexp2, except
// Qwen's own pattern, which has a faster scanner (split.go). The golden
// test compares the result with an independent Python reference of
// Hugging Face's algorithm (testdata/reference_bpe.py).
type byteLevelBPE struct {
	name string
	// nfc is the NFC normaliser; Qwen2 and Qwen3 ship one.
	nfc bool
	// splits are the pre-tokenisation patterns, applied in turn.
	splits []splitter
	// byteID is the id of each byte's token.
	byteID [256]int32
	// merges maps an adjacent pair of ids to its merge rank and the id of
	// the merged token.
	merges map[uint64]merge
	// whole maps a piece's bytes to its id when the model sets
	// ignore_merges (a piece that is a token is taken whole); nil otherwise.
	whole map[string]int32
	// tokens are the bytes of every id: vocabulary tokens decoded from the
	// byte-level alphabet, added tokens as their content.
	tokens map[int]string
	// added maps the content of each added token, special or not, to its id.
	added map[string]int
	size  int
}

var _ Tokenizer = (*byteLevelBPE)(nil)

type merge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (t *byteLevelBPE) Name() string { return t.name }

func (t *byteLevelBPE) Special(token string) (int, bool) {
	id, ok := t.added[token]
	return id, ok
}

func (t *byteLevelBPE) VocabSize() int { return t.size }

// Encode normalises text (each invalid UTF-8 byte becomes U+FFFD first),
// splits it into pieces and runs BPE on the bytes of each piece. Added
// tokens are never matched in the text: "<|im_end|>" is encoded as the ten
// characters it is. (Hugging Face's tokenizer would match added tokens,
// special or not; a chat template inserts them by id instead.)
func (t *byteLevelBPE) Encode(text string) []int {
	if !utf8.ValidString(text) {
		text = string([]rune(text))
	}
	if t.nfc {
		text = norm.NFC.String(text)
	}
	ids := make([]int, 0, len(text)/3+1)
	var sc scratch
	t.split(text, 0, func(piece string) { ids = t.encodePiece(piece, ids, &sc) })
	return ids
}

// split cuts text with the splitter of the given level and hands each
// piece to the next level, or to emit after the last.
func (t *byteLevelBPE) split(text string, level int, emit func(string)) {
	if text == "" {
		return
	}
	if level == len(t.splits) {
		emit(text)
		return
	}
	t.splits[level](text, func(piece string) { t.split(piece, level+1, emit) })
}

// scratch is reused across the pieces of one Encode call.
type scratch struct {
	syms  []symbol
	queue mergeQueue
}

type symbol struct {
	id         int32
	prev, next int32 // neighbours still in the word; -1 at the ends
	gone       bool  // merged into the symbol on its left
}

// encodePiece appends the ids of one piece: Hugging Face's Word::merge_all.
// Candidates wait in a queue by (rank, position); a popped candidate whose
// pair has changed since it was queued is dropped; a merge queues the new
// pairs it forms with its neighbours.
func (t *byteLevelBPE) encodePiece(piece string, out []int, sc *scratch) []int {
	if len(piece) == 1 {
		return append(out, int(t.byteID[piece[0]]))
	}
	if t.whole != nil {
		if id, ok := t.whole[piece]; ok {
			return append(out, int(id))
		}
	}
	syms := sc.syms[:0]
	for i := 0; i < len(piece); i++ {
		syms = append(syms, symbol{id: t.byteID[piece[i]], prev: int32(i - 1), next: int32(i + 1)})
	}
	syms[len(syms)-1].next = -1
	q := sc.queue[:0]
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := t.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			q.push(candidate{rank: m.rank, pos: int32(i), id: m.id})
		}
	}
	for len(q) > 0 {
		top := q.pop()
		s := &syms[top.pos]
		if s.gone || s.next < 0 {
			continue
		}
		right := syms[s.next]
		if m, ok := t.merges[pairKey(s.id, right.id)]; !ok || m.id != top.id {
			continue
		}
		syms[s.next].gone = true
		s.id, s.next = top.id, right.next
		if s.next >= 0 {
			syms[s.next].prev = top.pos
			if m, ok := t.merges[pairKey(s.id, syms[s.next].id)]; ok {
				q.push(candidate{rank: m.rank, pos: top.pos, id: m.id})
			}
		}
		if s.prev >= 0 {
			if m, ok := t.merges[pairKey(syms[s.prev].id, s.id)]; ok {
				q.push(candidate{rank: m.rank, pos: s.prev, id: m.id})
			}
		}
	}
	for i := int32(0); i >= 0; i = syms[i].next { // the first symbol is never merged away
		out = append(out, int(syms[i].id))
	}
	sc.syms, sc.queue = syms, q
	return out
}

type candidate struct{ rank, pos, id int32 }

func (c candidate) before(d candidate) bool {
	return c.rank < d.rank || (c.rank == d.rank && c.pos < d.pos)
}

// mergeQueue is a binary min-heap of candidates by (rank, position).
type mergeQueue []candidate

func (q *mergeQueue) push(c candidate) {
	h := append(*q, c)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *mergeQueue) pop() candidate {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < n && h[l].before(h[small]) {
			small = l
		}
		if r := l + 1; r < n && h[r].before(h[small]) {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	*q = h
	return top
}

// Decode joins the bytes of the ids (ids the tokenizer does not know add
// nothing) and makes them a string without checking it: the text is valid
// UTF-8 wherever the ids hold whole characters, and holds the raw bytes of
// a character only where the ids cut it (a prefix of a sequence, say).
func (t *byteLevelBPE) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(t.tokens[id])
	}
	return b.String()
}

// byteLevel is GPT-2's bytes_to_unicode alphabet: the printable Latin-1
// bytes stand for themselves, the other 68 bytes for U+0100 onwards in byte
// order, so that every token of a byte-level vocabulary is printable text.
var byteLevel = func() (a struct {
	char [256]rune
	byte map[rune]byte
}) {
	a.byte = make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		r := rune(b)
		if !(b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE) {
			r = rune(256 + n)
			n++
		}
		a.char[b], a.byte[r] = r, byte(b)
	}
	return a
}()
