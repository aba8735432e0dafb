package tokenizer

import (
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// A splitter cuts text into pieces, handing each to emit in order; the
// pieces join back to the text.
type splitter func(text string, emit func(piece string))

// newSplitter returns the splitter of a pre-tokenisation pattern: every
// match and every gap between matches is a piece (Hugging Face's Split
// with behavior Isolated). Qwen's pattern gets a hand-written scanner
// (splitQwen), the others regexp2.
func newSplitter(pattern string) (splitter, error) {
	if pattern == qwenPattern {
		return splitQwen, nil
	}
	re, err := compilePattern(pattern)
	if err != nil {
		return nil, err
	}
	return regexpSplitter(re), nil
}

func regexpSplitter(re *regexp2.Regexp) splitter {
	return func(text string, emit func(string)) {
		runes := []rune(text)
		// off[i] is the byte offset of rune i: regexp2 reports matches in runes.
		off := make([]int, 0, len(runes)+1)
		for i := range text {
			off = append(off, i)
		}
		off = append(off, len(text))
		pos := 0
		m, _ := re.FindRunesMatch(runes)
		for ; m != nil; m, _ = re.FindNextMatch(m) {
			start, end := m.Index, m.Index+m.Length
			if start < pos || end > len(runes) {
				break // not left to right: the rest is one gap
			}
			if start > pos {
				emit(text[off[pos]:off[start]])
			}
			if end > start {
				emit(text[off[start]:off[end]])
			}
			pos = end
		}
		if pos < len(runes) {
			emit(text[off[pos]:])
		}
	}
}

// splitQwen is Qwen's pattern, qwenPattern,
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// written out as a scanner, the alternatives tried in order at each
// position as a backtracking engine tries them. It is many times faster
// than regexp2 (BenchmarkEncode) and follows Oniguruma, Hugging Face's
// engine, where regexp2 does not: (?i) folds "ſ" (U+017F) to "s", so "'ſ"
// is a contraction. FuzzQwenSplit checks it against regexp2 on everything
// else; \s is Unicode's White_Space in all three engines and Go's
// unicode.IsSpace.
func splitQwen(text string, emit func(string)) {
	for i := 0; i < len(text); {
		n := qwenPiece(text[i:])
		emit(text[i : i+n])
		i += n
	}
}

// qwenPiece returns the length in bytes of the piece text starts with.
func qwenPiece(text string) int {
	r0, n0 := utf8.DecodeRuneInString(text)
	rest := text[n0:]
	r1, n1 := utf8.DecodeRuneInString(rest) // RuneError, 0 at the end
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r0 == '\'' && n1 > 0 {
		switch foldASCII(r1) {
		case 's', 't', 'm', 'd':
			return n0 + n1
		case 'r', 'v', 'l':
			r2, n2 := utf8.DecodeRuneInString(rest[n1:])
			want := 'e'
			if foldASCII(r1) == 'l' {
				want = 'l'
			}
			if n2 > 0 && foldASCII(r2) == want {
				return n0 + n1 + n2
			}
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if unicode.IsLetter(r0) {
		return n0 + span(rest, unicode.IsLetter)
	}
	if r0 != '\r' && r0 != '\n' && !unicode.IsNumber(r0) && n1 > 0 && unicode.IsLetter(r1) {
		return n0 + span(rest, unicode.IsLetter)
	}
	// \p{N}
	if unicode.IsNumber(r0) {
		return n0
	}
	//  ?[^\s\p{L}\p{N}]+[\r\n]*
	start := 0
	if r0 == ' ' {
		start = n0
	}
	if n := span(text[start:], isOther); n > 0 {
		end := start + n
		return end + span(text[end:], isNewline)
	}
	// \s*[\r\n]+ | \s+(?!\S) | \s+ (r0 is whitespace: every rune is a
	// letter, a number, whitespace or other).
	run := span(text, unicode.IsSpace)
	last, lastSize := -1, 0
	for j, r := range text[:run] {
		if isNewline(r) {
			last = j
			lastSize = utf8.RuneLen(r)
		}
	}
	switch {
	case last >= 0:
		return last + lastSize
	case run == len(text):
		return run
	}
	_, lastSize = utf8.DecodeLastRuneInString(text[:run])
	if run-lastSize > 0 {
		return run - lastSize
	}
	return run
}

// foldASCII folds r as Oniguruma's (?i) does for the letters of Qwen's
// contractions: ASCII upper case, and the long s.
func foldASCII(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z':
		return r + 'a' - 'A'
	case r == 'ſ':
		return 's'
	}
	return r
}

func isNewline(r rune) bool { return r == '\r' || r == '\n' }

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool { return !unicode.IsSpace(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// span returns the length in bytes of the longest prefix of s whose runes
// all satisfy f.
func span(s string, f func(rune) bool) int {
	for i, r := range s {
		if !f(r) {
			return i
		}
	}
	return len(s)
}
