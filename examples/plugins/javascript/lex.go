package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a JavaScript token.
type tokKind int

const (
	tokIdent    tokKind = iota // identifiers and keywords, #private names
	tokNumber                  // numeric literals, bigints included
	tokString                  // '…' and "…"
	tokTemplate                // `…` with its ${…} substitutions, whole
	tokRegexp                  // /…/flags
	tokPunct                   // operators and punctuation
)

// token is one significant token: comments and white space are not
// tokens, and nothing inside a string, template, regexp or comment is
// ever a token of its own, so no rule can reach it.
type token struct {
	kind       tokKind
	text       string
	start, end int // byte offsets in the source
}

// errLex is returned (wrapped) for a source the lexer cannot read.
var errLex = errors.New("javascript: lex")

// puncts are the punctuators, longest first.
var puncts = []string{
	">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=",
	"=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>",
	"{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "?", ":", "=", ".", "@",
}

// regexpAfter are the keywords after which a slash starts a regexp
// literal rather than a division.
var regexpAfter = map[string]bool{
	"return": true, "typeof": true, "case": true, "do": true, "else": true, "in": true, "of": true, "new": true,
	"delete": true, "void": true, "throw": true, "instanceof": true, "yield": true, "await": true,
}

// lex splits JavaScript source into tokens. It reads modern JavaScript
// (ES2022: classes, private names, optional chaining, bigints, numeric
// separators, template literals), not JSX or TypeScript.
func lex(src []byte) ([]token, error) {
	var toks []token
	i := 0
	if strings.HasPrefix(string(src), "#!") { // a hashbang line
		for i < len(src) && src[i] != '\n' {
			i++
		}
	}
	for i < len(src) {
		t, err := lexOne(src, i, toks)
		if err != nil {
			return nil, err
		}
		if t.end == 0 { // white space or a comment
			i = t.start
			continue
		}
		toks = append(toks, t)
		i = t.end
	}
	return toks, nil
}

// startsRegexp reports whether a slash after toks starts a regexp
// literal: it does where an expression may begin, that is after an
// operator, an opening bracket or a keyword that takes an operand, and
// not after an operand (a name, a literal, a closing bracket). A } ends
// a block more often than an object literal, so a slash after it starts
// a regexp.
func startsRegexp(toks []token) bool {
	if len(toks) == 0 {
		return true
	}
	t := toks[len(toks)-1]
	switch t.kind {
	case tokNumber, tokString, tokTemplate, tokRegexp:
		return false
	case tokIdent:
		return regexpAfter[t.text]
	}
	return t.text != ")" && t.text != "]" && t.text != "++" && t.text != "--"
}

func skipString(src []byte, i int) (int, error) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j + 1, nil
		case '\n':
			return 0, fmt.Errorf("%w: unterminated string at offset %d", errLex, i)
		}
	}
	return 0, fmt.Errorf("%w: unterminated string at offset %d", errLex, i)
}

// skipTemplate skips a template literal and the substitutions in it,
// which may hold strings, comments, templates and braces of their own.
func skipTemplate(src []byte, i int) (int, error) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '`':
			return j + 1, nil
		case '$':
			if j+1 < len(src) && src[j+1] == '{' {
				end, err := skipSubstitution(src, j+2)
				if err != nil {
					return 0, err
				}
				j = end - 1
			}
		}
	}
	return 0, fmt.Errorf("%w: unterminated template at offset %d", errLex, i)
}

// skipSubstitution skips the expression of a ${…} from i, just after the
// brace, to just after its closing brace.
func skipSubstitution(src []byte, i int) (int, error) {
	toks, depth := []token(nil), 1
	for i < len(src) {
		// Lex the substitution's tokens one at a time.
		sub, err := lexOne(src, i, toks)
		if err != nil {
			return 0, err
		}
		if sub.end == 0 { // white space or a comment
			i = sub.start
			continue
		}
		switch sub.text {
		case "{":
			depth++
		case "}":
			depth--
			if depth == 0 {
				return sub.end, nil
			}
		}
		toks = append(toks, sub)
		i = sub.end
	}
	return 0, fmt.Errorf("%w: unterminated template substitution", errLex)
}

// lexOne lexes the token at i, before being the tokens before it. For
// white space or a comment it returns a token with end 0 and start just
// after them.
func lexOne(src []byte, i int, before []token) (token, error) {
	c := src[i]
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
		return token{start: i + 1}, nil
	case c == '/' && i+1 < len(src) && (src[i+1] == '/' || src[i+1] == '*'):
		end := len(src)
		if src[i+1] == '/' {
			if k := bytes.IndexByte(src[i:], '\n'); k >= 0 {
				end = i + k
			}
		} else {
			k := bytes.Index(src[i+2:], []byte("*/"))
			if k < 0 {
				return token{}, fmt.Errorf("%w: unterminated comment at offset %d", errLex, i)
			}
			end = i + 2 + k + 2
		}
		return token{start: end}, nil
	}
	start := i
	var kind tokKind
	var err error
	switch {
	case c == '\'' || c == '"':
		kind = tokString
		i, err = skipString(src, i)
	case c == '`':
		kind = tokTemplate
		i, err = skipTemplate(src, i)
	case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
		kind = tokNumber
		i = skipNumber(src, i)
	case c == '/' && startsRegexp(before):
		kind = tokRegexp
		i, err = skipRegexp(src, i)
	case isIdentStart(src, i) || c == '#' && i+1 < len(src) && isIdentStart(src, i+1):
		kind = tokIdent
		if c == '#' {
			i++
		}
		for i < len(src) && isIdentPart(src, i) {
			_, n := utf8.DecodeRune(src[i:])
			i += n
		}
	default:
		kind = tokPunct
		p := ""
		for _, q := range puncts {
			if strings.HasPrefix(string(src[i:min(len(src), i+4)]), q) {
				p = q
				break
			}
		}
		if p == "" {
			return token{}, fmt.Errorf("%w: unexpected %q at offset %d", errLex, rune(c), i)
		}
		i += len(p)
	}
	if err != nil {
		return token{}, err
	}
	return token{kind: kind, text: string(src[start:i]), start: start, end: i}, nil
}

// skipNumber skips a numeric literal: decimal with fraction and exponent,
// 0x, 0o and 0b, numeric separators and the bigint suffix.
func skipNumber(src []byte, i int) int {
	digits := func(ok func(byte) bool) {
		for i < len(src) && (ok(src[i]) || src[i] == '_') {
			i++
		}
	}
	isDec := func(c byte) bool { return c >= '0' && c <= '9' }
	if src[i] == '0' && i+1 < len(src) && strings.IndexByte("xXoObB", src[i+1]) >= 0 {
		i += 2
		digits(func(c byte) bool { return isDec(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' })
	} else {
		digits(isDec)
		if i < len(src) && src[i] == '.' {
			i++
			digits(isDec)
		}
		if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
			j := i + 1
			if j < len(src) && (src[j] == '+' || src[j] == '-') {
				j++
			}
			if j < len(src) && isDec(src[j]) {
				i = j
				digits(isDec)
			}
		}
	}
	if i < len(src) && src[i] == 'n' {
		i++
	}
	return i
}

// skipRegexp skips a regexp literal and its flags.
func skipRegexp(src []byte, i int) (int, error) {
	class := false
	for j := i + 1; j < len(src); j++ {
		switch c := src[j]; {
		case c == '\\':
			j++
		case c == '\n':
			return 0, fmt.Errorf("%w: unterminated regexp at offset %d", errLex, i)
		case c == '[':
			class = true
		case c == ']':
			class = false
		case c == '/' && !class:
			j++
			for j < len(src) && isIdentPart(src, j) {
				j++
			}
			return j, nil
		}
	}
	return 0, fmt.Errorf("%w: unterminated regexp at offset %d", errLex, i)
}

func isIdentStart(src []byte, i int) bool {
	c := src[i]
	if c < utf8.RuneSelf {
		return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '\\'
	}
	r, _ := utf8.DecodeRune(src[i:])
	return unicode.IsLetter(r)
}

func isIdentPart(src []byte, i int) bool {
	c := src[i]
	if c < utf8.RuneSelf {
		return isIdentStart(src, i) || c >= '0' && c <= '9'
	}
	r, _ := utf8.DecodeRune(src[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || r == '\u200c' || r == '\u200d'
}
