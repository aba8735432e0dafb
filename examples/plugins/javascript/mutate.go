package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// InjectorName is the Injector of every Mutation this plugin makes.
const InjectorName = "javascript"

// maxEditedLine caps the length of the lines a mutation edits, which its
// diff shows whole: minified code, all on one line, gives no mutations.
const maxEditedLine = 2000

// ErrUnknownRule is returned (wrapped) for a rule that is not one of
// Rules.
var ErrUnknownRule = errors.New("unknown rule")

// Options configures Mutate. The zero value runs every rule on every
// candidate.
type Options struct {
	// Rules maps each enabled rule to the probability, in [0, 1], that a
	// candidate of that rule is kept. Nil enables every rule with
	// probability 1; a rule missing from a non-nil map is off.
	Rules map[string]float64
	// Seed seeds the sampling, with the file name, so that the same
	// options and file give the same mutations.
	Seed uint64
	// MaxPerFile keeps at most this many candidates per file, picked at
	// random; 0 means no limit.
	MaxPerFile int
}

// Check reports the first invalid option.
func (o Options) Check() error {
	for _, r := range slices.Sorted(mapsKeys(o.Rules)) {
		if !slices.Contains(Rules, r) {
			return fmt.Errorf("javascript: %w %q (want one of %s)", ErrUnknownRule, r, strings.Join(Rules, ", "))
		}
		if p := o.Rules[r]; !(p >= 0 && p <= 1) {
			return fmt.Errorf("javascript: probability of %s = %v, want a number in [0, 1]", r, p)
		}
	}
	if o.MaxPerFile < 0 {
		return errors.New("javascript: max_per_file must not be negative")
	}
	return nil
}

func mapsKeys(m map[string]float64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (o Options) probability(rule string) float64 {
	if o.Rules == nil {
		return 1
	}
	return o.Rules[rule]
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// apply returns the source with the edit made.
func (e edit) apply(src []byte) []byte {
	out := make([]byte, 0, len(src)-(e.end-e.start)+len(e.text))
	out = append(out, src[:e.start]...)
	out = append(out, e.text...)
	return append(out, src[e.end:]...)
}

// candidate is one proposed edit of a rule at a token.
type candidate struct {
	rule string
	tok  int
	edit
}

// Mutate returns the candidate mutations of one JavaScript file, in source
// order. filename is the path the diffs name. Every mutation edits only
// the tokens it mutates (never a comment, string, template or regexp
// literal) and leaves a file that still lexes (FuzzMutate holds that);
// whether it parses is the language's CheckCommand's to say. A file that
// does not lex is an error. The cost is linear in the file's size and its
// candidates' diffs.
func Mutate(filename string, src []byte, opts Options) ([]sdk.Mutation, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	toks, err := lex(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	f := newFile(src, toks)
	rng := rand.New(rand.NewPCG(opts.Seed, hashString(filename)))
	var kept []candidate
	for _, c := range f.candidates() {
		p := opts.probability(c.rule)
		if p <= 0 || p < 1 && rng.Float64() >= p {
			continue
		}
		kept = append(kept, c)
	}
	if opts.MaxPerFile > 0 && len(kept) > opts.MaxPerFile {
		rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
		kept = kept[:opts.MaxPerFile]
	}
	slices.SortStableFunc(kept, func(a, b candidate) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return strings.Compare(a.rule, b.rule)
	})
	lineOf := lineIndex(src)
	var out []sdk.Mutation
	seen := map[edit]bool{}
	for _, c := range kept {
		if c.text == string(src[c.start:c.end]) || seen[c.edit] {
			continue
		}
		if lineEnd(src, c.end)-lineStart(src, c.start) > maxEditedLine {
			continue // a minified line: its diff would be the whole file
		}
		seen[c.edit] = true
		out = append(out, sdk.Mutation{
			ID:       mutationID(filename, c.rule, c.edit),
			Injector: InjectorName,
			Kind:     c.rule,
			File:     filename,
			Line:     lineOf(f.toks[c.tok].start),
			Symbol:   f.enclosingFunction(c.tok),
			Diff:     unifiedDiff(filename, src, c.edit, lineOf),
		})
	}
	return out, nil
}

// enclosingFunction names the innermost named function or method around
// token i: `function NAME(`, `NAME(…) {` in a class or object, or
// `NAME = (…) =>` / `NAME = function`. "" when it cannot tell.
func (f *file) enclosingFunction(i int) string {
	for k := f.outer[i]; k >= 0; k = f.outer[k] {
		// k opens a block around i: is it a function body?
		j := k - 1
		if f.isPunct(j, "=>") {
			j--
			if f.tok(j).kind == tokIdent { // x => {
				j--
			} else if f.isPunct(j, ")") && f.match[j] >= 0 {
				j = f.match[j] - 1
			} else {
				continue
			}
			if f.tok(j).kind == tokIdent && f.tok(j).text == "async" {
				j--
			}
			if f.isPunct(j, "=") || f.isPunct(j, ":") {
				if n := f.tok(j - 1); n.kind == tokIdent && !keywords[n.text] {
					return n.text
				}
			}
			continue
		}
		if !f.isPunct(j, ")") || f.match[j] < 0 {
			continue
		}
		n := f.tok(f.match[j] - 1)
		if n.kind == tokIdent && !keywords[n.text] && n.text != "function" {
			if n.text == "if" || n.text == "for" || n.text == "while" || n.text == "switch" || n.text == "catch" {
				continue
			}
			return n.text
		}
		if n.kind == tokIdent && n.text == "function" {
			if m := f.tok(f.match[j] - 3); f.isPunct(f.match[j]-2, "=") && m.kind == tokIdent {
				return m.text
			}
		}
	}
	return ""
}

// mutationID is a stable hash of the file, the rule and the edit.
func mutationID(filename, rule string, e edit) string {
	h := sha256.Sum256([]byte(filename + "\x00" + rule + "\x00" + strconv.Itoa(e.start) + "-" + strconv.Itoa(e.end) + "\x00" + e.text))
	return hex.EncodeToString(h[:8])
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// isTestFile reports whether Node's test runner would run the file as a
// test: anything under a directory named test, and test.js, test-*.js,
// *.test.js, *-test.js and *_test.js (or .cjs, .mjs) anywhere.
func isTestFile(name string) bool {
	if slices.Contains(strings.Split(path.Dir(name), "/"), "test") {
		return true
	}
	base := path.Base(name)
	stem := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(base, ".js"), ".cjs"), ".mjs")
	if stem == base {
		return false
	}
	return stem == "test" || strings.HasPrefix(stem, "test-") && len(stem) > 5 ||
		len(stem) > 5 && (strings.HasSuffix(stem, ".test") || strings.HasSuffix(stem, "-test") || strings.HasSuffix(stem, "_test"))
}
