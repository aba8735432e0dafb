package sdk

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNotPythonList is returned by ParsePythonList for text that is not a
// Python list of string literals.
var ErrNotPythonList = errors.New("not a python list of strings")

// ParsePythonList reads a Python list of string literals, as Python's
// repr writes one and as SWE-smith stores FAIL_TO_PASS and PASS_TO_PASS:
// "['a', \"b'c\"]". It accepts single- and double-quoted literals with
// Python's escapes (\\ \' \" \n \r \t \a \b \f \v, octal, \xhh, \uXXXX,
// \UXXXXXXXX, and a backslash before a newline), white space between
// items, a trailing comma and adjacent literals ('a' 'b' is "ab"). Raw,
// byte and triple-quoted literals, and anything that is not a string, are
// refused with ErrNotPythonList.
func ParsePythonList(s string) ([]string, error) {
	p := pyParser{s: s}
	p.space()
	if !p.eat('[') {
		return nil, p.fail("want [")
	}
	var out []string
	for {
		p.space()
		if p.eat(']') {
			break
		}
		item, err := p.str()
		if err != nil {
			return nil, err
		}
		for { // adjacent literals are concatenated
			p.space()
			if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
				break
			}
			more, err := p.str()
			if err != nil {
				return nil, err
			}
			item += more
		}
		out = append(out, item)
		p.space()
		if p.eat(']') {
			break
		}
		if !p.eat(',') {
			return nil, p.fail("want , or ]")
		}
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.fail("text after ]")
	}
	return out, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrNotPythonList, what, p.i)
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads one single- or double-quoted literal.
func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.fail("want a string literal")
	}
	q := p.s[p.i]
	if strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3)) {
		return "", p.fail("triple-quoted literal")
	}
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", p.fail("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\n':
			return "", p.fail("newline in string")
		case c != '\\':
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && n == 1 {
				return "", p.fail("invalid UTF-8")
			}
			b.WriteString(p.s[p.i : p.i+n])
			p.i += n
			continue
		}
		p.i++ // the backslash
		if p.i >= len(p.s) {
			return "", p.fail("unterminated string")
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := p.i
			for j < len(p.s) && j < p.i+2 && p.s[j] >= '0' && p.s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(string(e)+p.s[p.i:j], 8, 32)
			p.i = j
			b.WriteRune(rune(v))
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if p.i+n > len(p.s) {
				return "", p.fail("short \\" + string(e) + " escape")
			}
			v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
			if err != nil || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return "", p.fail("bad \\" + string(e) + " escape")
			}
			p.i += n
			b.WriteRune(rune(v))
		default:
			// Python keeps an unknown escape as it is.
			b.WriteByte('\\')
			p.i--
		}
	}
}
