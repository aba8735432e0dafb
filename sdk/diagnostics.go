package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Severity says whether a diagnostic stops the recipe (an error) or only
// informs (a warning).
type Severity string

// The severities of a diagnostic.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem a plugin found in its configuration, in
// terraform-plugin-go's shape. The host reports it at the attribute Path
// names, with the file, line, column and source line of the recipe; an
// empty Path means the block as a whole.
type Diagnostic struct {
	Severity Severity
	Summary  string
	Detail   string
	Path     Path
}

// Diagnostics is a list of diagnostics.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Errorf returns an error diagnostic about the value at path, its detail
// formatted as fmt.Sprintf does.
func Errorf(path Path, summary, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: SeverityError, Summary: summary, Detail: fmt.Sprintf(format, args...), Path: path}
}

// Warningf returns a warning diagnostic about the value at path.
func Warningf(path Path, summary, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: SeverityWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Path: path}
}

// Path names a value inside a configuration block, from the block down:
// Attr("rules").Index(2) is the third element of the rules attribute,
// Attr("rule_probability").Key("swap") the element "swap" of a map. The
// same steps select nested blocks: Attr("stage").Index(0) is the first
// block of a list of stage blocks, Attr("group").Key("a") the block
// group "a" of a map of blocks.
type Path []PathStep

// PathStep is one step of a Path: an AttributeName, an ElementKeyString or
// an ElementKeyInt.
type PathStep interface {
	isPathStep()
}

// AttributeName selects an attribute of an object or a nested block type.
type AttributeName string

// ElementKeyString selects an element of a map, or a nested block by label.
type ElementKeyString string

// ElementKeyInt selects an element of a list, from 0.
type ElementKeyInt int64

func (AttributeName) isPathStep()    {}
func (ElementKeyString) isPathStep() {}
func (ElementKeyInt) isPathStep()    {}

// Attr returns the path of the top-level attribute name.
func Attr(name string) Path { return Path{AttributeName(name)} }

// Attr returns p extended by the attribute name.
func (p Path) Attr(name string) Path { return p.with(AttributeName(name)) }

// Index returns p extended by list element i.
func (p Path) Index(i int) Path { return p.with(ElementKeyInt(i)) }

// Key returns p extended by map element key.
func (p Path) Key(key string) Path { return p.with(ElementKeyString(key)) }

func (p Path) with(s PathStep) Path {
	out := make(Path, len(p), len(p)+1)
	copy(out, p)
	return append(out, s)
}

// String writes the path the way HCL expressions write it:
// rules[2], rule_probability["swap"], stage[0].name.
func (p Path) String() string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case AttributeName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(s))
		case ElementKeyString:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(string(s)))
		case ElementKeyInt:
			fmt.Fprintf(&b, "[%d]", int64(s))
		}
	}
	return b.String()
}

// DidYouMean returns ` Did you mean "X"?` for the option X closest to got
// by edit distance, or "" when none is close: the end of a detail that
// names a misspelt value.
func DidYouMean(got string, options []string) string {
	best := Closest(got, options)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// Closest returns the option nearest to got by edit distance when it is
// within two edits, else "".
func Closest(got string, options []string) string {
	best, bestDist := "", 3
	for _, o := range options {
		if d := editDistance(got, o); d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// DecodeDiagnostic is the error diagnostic of a Config.Decode error: at
// the attribute a JSON type error names (a number where the Go field is
// an int, say), else about the block.
func DecodeDiagnostic(err error) Diagnostic {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		var path Path
		for _, name := range strings.Split(te.Field, ".") {
			path = path.Attr(name)
		}
		return Errorf(path, "Invalid value", "%s cannot hold %s.", path, te.Value)
	}
	return Errorf(nil, "Invalid configuration", "%s.", err)
}
