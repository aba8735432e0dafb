package lmrules

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/swelego/swelego/plugins/internal/unidiff"
	"github.com/swelego/swelego/sdk"
)

// Target is one function an LM rule asks the model about, found by the
// language plugin's parser.
type Target struct {
	Rule       string // Modify or Rewrite
	File       string // path in the repository
	Src        []byte // the whole file
	Start, End int    // the function's bytes in Src: what a candidate replaces
	Line       int    // 1-based line of Start
	Name       string // the function's own name
	Symbol     string // its qualified name (Type.Method, Class.method)
	Signature  string // what a reply may not change, as the language prints it
	Text       string // the function as the prompt shows it
	Blanked    string // for Rewrite: the file around the function, body removed
}

// Language is what the LM rules ask of a language plugin. Every field is
// required.
type Language struct {
	// Injector is the name the candidates' Mutation.Injector carries; it
	// starts error messages too ("python injector: ...").
	Injector string
	// Prompt is the chat request t's rule sends.
	Prompt func(t Target) sdk.ChatRequest
	// Function finds t's function in a model's reply: its text as it is to
	// replace Src[Start:End], and its signature as Target.Signature has
	// it; ok is false when the reply holds no usable function.
	Function func(t Target, reply string) (text, signature string, ok bool)
	// Unchanged reports whether text is t's function as it was, up to
	// what the language ignores (trailing blanks, formatting).
	Unchanged func(t Target, text string) bool
	// Parses reports whether src, the file after the edit, parses.
	Parses func(file string, src []byte) bool
	// Diff writes a candidate's diff: the edit e of src.
	Diff func(file string, src []byte, e unidiff.Edit) string
}

// Reasons an LM reply is dropped, as Stats counts them.
const (
	DropNoCode    = "no_function"         // no parseable function of that name in the reply
	DropSignature = "signature_changed"   // the function's signature changed
	DropUnchanged = "unchanged"           // the function came back as it was
	DropSyntax    = "file_does_not_parse" // the file with the new function does not parse
	DropError     = "model_error"         // the model call failed
)

// Mutation turns the model's reply for t into a candidate, or says why it
// is dropped (one of the Drop reasons). Only the function's byte range
// changes. The candidate's ID is a hash of the file, the rule, the place
// and the new text, so the same reply gives the same ID.
func (l Language) Mutation(t Target, reply string) (sdk.Mutation, string) {
	text, signature, ok := l.Function(t, reply)
	if !ok {
		return sdk.Mutation{}, DropNoCode
	}
	if signature != t.Signature {
		return sdk.Mutation{}, DropSignature
	}
	if l.Unchanged(t, text) {
		return sdk.Mutation{}, DropUnchanged
	}
	e := unidiff.Edit{Start: t.Start, End: t.End, Text: text}
	if !l.Parses(t.File, e.Apply(t.Src)) {
		return sdk.Mutation{}, DropSyntax
	}
	sum := sha256.Sum256([]byte(t.File + "\x00" + t.Rule + "\x00" + strconv.Itoa(t.Start) + "\x00" + text))
	return sdk.Mutation{
		ID:       hex.EncodeToString(sum[:8]),
		Injector: l.Injector,
		Kind:     t.Rule,
		File:     t.File,
		Line:     t.Line,
		Symbol:   t.Symbol,
		Diff:     l.Diff(t.File, t.Src, e),
		Meta:     map[string]string{"swesmith": t.Rule},
	}, ""
}
