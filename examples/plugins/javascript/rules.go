package main

import (
	"strconv"
	"strings"
)

// The rules, named as the Python and Go injectors name theirs. Each is the
// Kind of the mutations it makes.
const (
	// RuleChangeOperator changes a binary or compound assignment operator
	// within its family: + and -, * and /, < and <=, > and >=, === and
	// !==, == and !=, && and ||, += and -=, *= and /=.
	RuleChangeOperator = "change_operator"
	// RuleSwapOperands swaps the operands of a non-commutative binary
	// expression (-, /, %, <, <=, > and >=) whose operands are names,
	// member chains or literals and whose neighbours bind less tightly.
	RuleSwapOperands = "swap_operands"
	// RuleChangeConstant adds or subtracts one from a decimal integer
	// literal.
	RuleChangeConstant = "change_constant"
	// RuleFlipBoolean turns true into false and false into true.
	RuleFlipBoolean = "flip_boolean"
	// RuleInvertCondition negates the condition of an if statement.
	RuleInvertCondition = "invert_condition"
	// RuleRemoveConditional removes an if statement with a block and no
	// else branch.
	RuleRemoveConditional = "remove_conditional"
)

// Rules lists every rule in a stable order.
var Rules = []string{
	RuleChangeOperator, RuleSwapOperands, RuleChangeConstant, RuleFlipBoolean,
	RuleInvertCondition, RuleRemoveConditional,
}

// operatorPartner is the operator change_operator puts in place of each.
var operatorPartner = map[string]string{
	"+": "-", "-": "+", "*": "/", "/": "*",
	"<": "<=", "<=": "<", ">": ">=", ">=": ">",
	"===": "!==", "!==": "===", "==": "!=", "!=": "==",
	"&&": "||", "||": "&&",
	"+=": "-=", "-=": "+=", "*=": "/=", "/=": "*=",
}

// binaryPrec is the precedence of each binary operator, higher binding
// tighter (ECMAScript's table, ** left out: it is right-associative).
var binaryPrec = map[string]int{
	"||": 3, "??": 3, "&&": 4, "|": 5, "^": 6, "&": 7,
	"==": 8, "!=": 8, "===": 8, "!==": 8,
	"<": 9, "<=": 9, ">": 9, ">=": 9, "instanceof": 9, "in": 9,
	"<<": 10, ">>": 10, ">>>": 10,
	"+": 11, "-": 11, "*": 12, "/": 12, "%": 12,
}

// swappable are the operators swap_operands swaps around.
var swappable = map[string]bool{"-": true, "/": true, "%": true, "<": true, "<=": true, ">": true, ">=": true}

// keywords are the reserved words that never name a value.
var keywords = map[string]bool{
	"break": true, "case": true, "catch": true, "class": true, "const": true, "continue": true, "debugger": true,
	"default": true, "delete": true, "do": true, "else": true, "export": true, "extends": true, "finally": true,
	"for": true, "function": true, "if": true, "import": true, "in": true, "instanceof": true, "new": true,
	"return": true, "switch": true, "throw": true, "try": true, "typeof": true, "var": true, "void": true,
	"while": true, "with": true, "yield": true, "let": true, "static": true, "await": true, "enum": true,
}

// file is one source file being mutated: its bytes and tokens.
type file struct {
	src  []byte
	toks []token
	// match[i] is the index of the bracket matching toks[i], -1 for
	// tokens that are not brackets.
	match []int
	// outer[i] is the index of the innermost { around toks[i], -1 at the
	// top level.
	outer []int
}

// newFile indexes the tokens of src.
func newFile(src []byte, toks []token) *file {
	f := &file{src: src, toks: toks, match: matchBrackets(toks), outer: make([]int, len(toks))}
	var open []int
	for i, t := range toks {
		f.outer[i] = -1
		if len(open) > 0 {
			f.outer[i] = open[len(open)-1]
		}
		if t.kind != tokPunct {
			continue
		}
		switch {
		case t.text == "{" && f.match[i] >= 0:
			open = append(open, i)
		case t.text == "}" && f.match[i] >= 0 && len(open) > 0 && open[len(open)-1] == f.match[i]:
			open = open[:len(open)-1]
			f.outer[i] = -1
			if len(open) > 0 {
				f.outer[i] = open[len(open)-1]
			}
		}
	}
	return f
}

// tok returns the i-th token, or a zero token out of range.
func (f *file) tok(i int) token {
	if i < 0 || i >= len(f.toks) {
		return token{kind: -1}
	}
	return f.toks[i]
}

// isPunct reports whether token i is the punctuator s.
func (f *file) isPunct(i int, s string) bool {
	t := f.tok(i)
	return t.kind == tokPunct && t.text == s
}

// endsOperand reports whether token i can end an operand, so that an
// operator after it is binary.
func (f *file) endsOperand(i int) bool {
	t := f.tok(i)
	switch t.kind {
	case tokNumber, tokString, tokTemplate, tokRegexp:
		return true
	case tokIdent:
		return !keywords[t.text] || t.text == "this"
	case tokPunct:
		return t.text == ")" || t.text == "]"
	}
	return false
}

// candidates collects every rule's candidate edits, in token order.
func (f *file) candidates() []candidate {
	var out []candidate
	add := func(rule string, i, start, end int, text string) {
		out = append(out, candidate{rule: rule, tok: i, edit: edit{start: start, end: end, text: text}})
	}
	for i, t := range f.toks {
		switch t.kind {
		case tokPunct:
			if p, ok := operatorPartner[t.text]; ok && f.endsOperand(i-1) && f.separate(i) {
				add(RuleChangeOperator, i, t.start, t.end, p)
			}
			if swappable[t.text] {
				if e, ok := f.swap(i); ok {
					add(RuleSwapOperands, i, e.start, e.end, e.text)
				}
			}
		case tokNumber:
			if f.isPunct(i-1, ".") || f.isPunct(i-1, "?.") || f.isKey(i) {
				continue
			}
			n, err := strconv.ParseUint(t.text, 10, 53)
			if err != nil || len(t.text) > 1 && t.text[0] == '0' {
				continue
			}
			add(RuleChangeConstant, i, t.start, t.end, strconv.FormatUint(n+1, 10))
			if n > 0 {
				add(RuleChangeConstant, i, t.start, t.end, strconv.FormatUint(n-1, 10))
			}
		case tokIdent:
			if f.isPunct(i-1, ".") || f.isPunct(i-1, "?.") || f.isKey(i) {
				continue
			}
			switch t.text {
			case "true", "false":
				flip := map[string]string{"true": "false", "false": "true"}[t.text]
				add(RuleFlipBoolean, i, t.start, t.end, flip)
			case "if":
				f.ifCandidates(i, add)
			}
		}
	}
	return out
}

// isKey reports whether token i is a property name in an object literal
// ({true: 1, 0: x}).
func (f *file) isKey(i int) bool {
	return f.isPunct(i+1, ":") && (f.isPunct(i-1, "{") || f.isPunct(i-1, ","))
}

// separate reports whether operator i stands apart from the punctuators
// around it, so that changing it cannot fuse it with them (a+-b would
// become a--b).
func (f *file) separate(i int) bool {
	t := f.toks[i]
	prev, next := f.tok(i-1), f.tok(i+1)
	return !(prev.kind == tokPunct && prev.end == t.start) && !(next.kind == tokPunct && next.start == t.end)
}

// operand returns the token range [from, to] of the simple operand that
// ends (dir -1) or starts (dir +1) next to operator i: a literal, a name
// or this, or a member chain of names (a.b?.c).
func (f *file) operand(i, dir int) (from, to int, ok bool) {
	simple := func(k int) bool {
		t := f.tok(k)
		return t.kind == tokNumber || t.kind == tokString || t.kind == tokIdent && (!keywords[t.text] || t.text == "this")
	}
	dot := func(k int) bool { return f.isPunct(k, ".") || f.isPunct(k, "?.") }
	if dir < 0 {
		to = i - 1
		if !simple(to) {
			return 0, 0, false
		}
		from = to
		for dot(from-1) && f.tok(from).kind == tokIdent && f.tok(from-2).kind == tokIdent {
			from -= 2
		}
		return from, to, true
	}
	from = i + 1
	if !simple(from) {
		return 0, 0, false
	}
	to = from
	for f.tok(to).kind == tokIdent && dot(to+1) && f.tok(to+2).kind == tokIdent {
		to += 2
	}
	return from, to, true
}

// swap returns the edit that swaps the operands of operator i.
func (f *file) swap(i int) (edit, bool) {
	op := f.toks[i].text
	p := binaryPrec[op]
	lf, lt, ok := f.operand(i, -1)
	if !ok {
		return edit{}, false
	}
	rf, rt, ok := f.operand(i, +1)
	if !ok {
		return edit{}, false
	}
	// What binds the left operand must bind less tightly than op.
	before := f.tok(lf - 1)
	switch {
	case before.kind == -1:
	case before.kind == tokIdent && before.text == "return":
	case before.kind == tokPunct && strings.Contains(" ( [ , ; { = += -= *= /= => ? : ", " "+before.text+" "):
	case before.kind == tokPunct && binaryPrec[before.text] > 0 && binaryPrec[before.text] < p:
	default:
		return edit{}, false
	}
	// What follows the right operand must too (left-associative: equal
	// precedence keeps the grouping).
	after := f.tok(rt + 1)
	switch {
	case after.kind == tokPunct && strings.Contains(" ) ] , ; } ? : ", " "+after.text+" "):
	case after.kind == tokPunct && binaryPrec[after.text] > 0 && binaryPrec[after.text] <= p:
	default:
		return edit{}, false
	}
	left := string(f.src[f.toks[lf].start:f.toks[lt].end])
	right := string(f.src[f.toks[rf].start:f.toks[rt].end])
	mid := string(f.src[f.toks[lt].end:f.toks[rf].start])
	if left == right {
		return edit{}, false
	}
	return edit{start: f.toks[lf].start, end: f.toks[rt].end, text: right + mid + left}, true
}

// ifCandidates adds invert_condition and remove_conditional for the if
// statement at token i.
func (f *file) ifCandidates(i int, add func(rule string, i, start, end int, text string)) {
	open := i + 1
	if !f.isPunct(open, "(") || f.match[open] < 0 {
		return
	}
	closeParen := f.match[open]
	cond := string(f.src[f.toks[open].end:f.toks[closeParen].start])
	add(RuleInvertCondition, i, f.toks[open].start, f.toks[closeParen].end, "(!("+strings.TrimSpace(cond)+"))")

	// Removable: a statement of a statement list (after ; { } : or at
	// the start), a block body, no else.
	prev := f.tok(i - 1)
	if prev.kind != -1 && !(prev.kind == tokPunct && strings.Contains(" ; { } : ", " "+prev.text+" ")) {
		return
	}
	body := closeParen + 1
	if !f.isPunct(body, "{") || f.match[body] < 0 {
		return
	}
	end := f.match[body]
	if next := f.tok(end + 1); next.kind == tokIdent && next.text == "else" {
		return
	}
	start, stop := f.toks[i].start, f.toks[end].end
	// Take whole lines when the statement has its lines to itself.
	ls, le := lineStart(f.src, start), lineEnd(f.src, stop)
	if strings.TrimSpace(string(f.src[ls:start])) == "" && strings.TrimSpace(string(f.src[stop:le])) == "" {
		start, stop = ls, le
	}
	add(RuleRemoveConditional, i, start, stop, "")
}

// matchBrackets pairs the brackets of the tokens; an unbalanced bracket
// is left at -1.
func matchBrackets(toks []token) []int {
	match := make([]int, len(toks))
	var stack []int
	pairs := map[string]string{")": "(", "]": "[", "}": "{"}
	for i, t := range toks {
		match[i] = -1
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			stack = append(stack, i)
		case ")", "]", "}":
			if len(stack) > 0 && toks[stack[len(stack)-1]].text == pairs[t.text] {
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				match[o], match[i] = i, o
			} else {
				stack = stack[:0] // unbalanced: give up on what is open
			}
		}
	}
	return match
}
