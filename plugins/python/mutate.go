package python

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	ts "github.com/tree-sitter/go-tree-sitter"

	"github.com/swelego/swelego/sdk"
)

// Injector is the name Mutation.Injector carries.
const Injector = "python"

// The modifier rules, by name. Each names one kind of rewrite; Mutation.Kind
// is the rule's name and Meta["swesmith"] the name of SWE-smith's matching
// procedural modifier.
const (
	RuleChangeOperator    = "change_operator"
	RuleSwapOperands      = "swap_operands"
	RuleInvertIf          = "invert_if"
	RuleRemoveConditional = "remove_conditional"
	RuleRemoveLoop        = "remove_loop"
	RuleRemoveAssignment  = "remove_assignment"
	RuleChangeConstant    = "change_constant"
	RuleRemoveWrapper     = "remove_wrapper"
	RuleShuffleStatements = "shuffle_statements"
	RuleRemoveBaseClass   = "remove_base_class"
)

// Rules lists every rule in the order Mutate applies them.
var Rules = []string{
	RuleChangeOperator, RuleSwapOperands, RuleInvertIf, RuleRemoveConditional,
	RuleRemoveLoop, RuleRemoveAssignment, RuleChangeConstant, RuleRemoveWrapper,
	RuleShuffleStatements, RuleRemoveBaseClass,
}

// swesmithNames maps a rule to the SWE-smith procedural modifier it mirrors.
var swesmithNames = map[string]string{
	RuleChangeOperator:    "func_pm_op_change",
	RuleSwapOperands:      "func_pm_op_swap",
	RuleInvertIf:          "func_pm_ctrl_invert_if",
	RuleRemoveConditional: "func_pm_remove_cond",
	RuleRemoveLoop:        "func_pm_remove_loop",
	RuleRemoveAssignment:  "func_pm_remove_assign",
	RuleChangeConstant:    "func_pm_op_change_const",
	RuleRemoveWrapper:     "func_pm_remove_wrapper",
	RuleShuffleStatements: "func_pm_ctrl_shuffle",
	RuleRemoveBaseClass:   "func_pm_class_rm_base",
}

// Errors Mutate returns, for errors.Is.
var (
	// ErrSyntax: the file does not parse as Python, so nothing in it is
	// mutated. Callers walking a repository skip such files.
	ErrSyntax = errors.New("python source has syntax errors")
	// ErrOptions: the options name an unknown rule or a probability
	// outside [0, 1].
	ErrOptions = errors.New("invalid python injector options")
)

// Options select and filter the candidates Mutate proposes. The zero value
// proposes every candidate of every rule.
type Options struct {
	// Rules names the rules to run; empty runs all of Rules.
	Rules []string
	// Probability is the chance, in [0, 1], that a candidate is kept; 0
	// stands for 1 (keep every candidate). RuleProbability overrides it per
	// rule, where an explicit 0 turns the rule off.
	Probability     float64
	RuleProbability map[string]float64
	// Seed makes the random choices (which candidates are kept, which
	// operator replaces another) reproducible: the same seed, file name and
	// source give the same mutations.
	Seed uint64
	// MaxPerFunction keeps at most this many candidates per function (per
	// class for remove_base_class), chosen at random; 0 means no limit.
	MaxPerFunction int
	// MinStatements and MaxStatements skip functions with fewer or more
	// statements (nested ones counted); 0 means no bound.
	MinStatements, MaxStatements int
	// MaxComplexity skips functions whose cyclomatic complexity (1 + the
	// number of branches, loops, handlers and boolean operators) exceeds
	// it; 0 means no bound.
	MaxComplexity int
	// MaxClassSize skips classes longer than this many lines for
	// remove_base_class; 0 means no bound.
	MaxClassSize int
	// IncludeTests mutates test files too (test_*.py, *_test.py, files
	// under a tests/ or test/ folder), which are skipped by default: a bug
	// is injected into the code the tests check, not into the tests.
	IncludeTests bool
}

// probability returns the keep probability of rule r.
func (o Options) probability(r string) float64 {
	if p, ok := o.RuleProbability[r]; ok {
		return p
	}
	if o.Probability == 0 {
		return 1
	}
	return o.Probability
}

func (o Options) validate() error {
	known := map[string]bool{}
	for _, r := range append(slices.Clone(Rules), LMRules...) {
		known[r] = true
	}
	for _, r := range o.Rules {
		if !known[r] {
			return fmt.Errorf("%w: unknown rule %q (rules: %s)", ErrOptions, r, strings.Join(Rules, ", "))
		}
	}
	if o.Probability < 0 || o.Probability > 1 {
		return fmt.Errorf("%w: probability %v is not in [0, 1]", ErrOptions, o.Probability)
	}
	for r, p := range o.RuleProbability {
		if !known[r] {
			return fmt.Errorf("%w: probability for unknown rule %q", ErrOptions, r)
		}
		if p < 0 || p > 1 {
			return fmt.Errorf("%w: probability %v of rule %s is not in [0, 1]", ErrOptions, p, r)
		}
	}
	if o.MaxPerFunction < 0 || o.MinStatements < 0 || o.MaxStatements < 0 || o.MaxComplexity < 0 || o.MaxClassSize < 0 {
		return fmt.Errorf("%w: limits must not be negative", ErrOptions)
	}
	return nil
}

// IsTestFile reports whether name is a test file Mutate skips: test_*.py,
// *_test.py, conftest.py, or any file under a tests/ or test/ folder.
func IsTestFile(name string) bool {
	name = strings.ReplaceAll(name, "\\", "/")
	base := path.Base(name)
	if strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py") || base == "conftest.py" {
		return true
	}
	for _, dir := range strings.Split(path.Dir(name), "/") {
		if dir == "tests" || dir == "test" {
			return true
		}
	}
	return false
}

// candidate is one proposed rewrite before the checks.
type candidate struct {
	rule  string
	at    int    // offset of the node the rule rewrote: its identity in the file
	key   *node  // that node
	edit  edit   // the byte range replaced and its replacement
	scope *node  // function (class for remove_base_class) for MaxPerFunction
	sym   string // enclosing qualified name
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

func (e edit) apply(src []byte) []byte {
	out := make([]byte, 0, len(src)-(e.end-e.start)+len(e.text))
	out = append(out, src[:e.start]...)
	out = append(out, e.text...)
	return append(out, src[e.end:]...)
}

// Mutate proposes candidate bugs in one Python file: for each enabled rule,
// each place it applies inside a function (or class, for
// remove_base_class) that passes the filters, kept with the rule's
// probability. Every mutation it returns changes exactly one region of the
// file, leaves every other byte as it was, and parses without error.
//
// Test files (see IsTestFile) give no mutations unless opts.IncludeTests is
// set. A file that does not parse gives ErrSyntax; bad options ErrOptions.
func Mutate(filename string, src []byte, opts Options) ([]sdk.Mutation, error) {
	rs, err := mutate(filename, src, opts)
	if err != nil {
		return nil, err
	}
	var out []sdk.Mutation
	for _, r := range rs {
		out = append(out, r.Mutation)
	}
	return out, nil
}

// result is a mutation with the edit that made it and the mutated source.
type result struct {
	sdk.Mutation
	edit    edit
	mutated []byte
}

func mutate(filename string, src []byte, opts Options) ([]result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if !opts.IncludeTests && IsTestFile(filename) {
		return nil, nil
	}
	p := newParser()
	defer p.Close()
	tree := parse(p, src, nil)
	if tree == nil {
		return nil, fmt.Errorf("%s: %w: parser gave no tree", filename, ErrSyntax)
	}
	defer tree.Close()
	if tree.RootNode().HasError() {
		return nil, fmt.Errorf("%s: %w", filename, ErrSyntax)
	}

	rules := opts.Rules
	if len(rules) == 0 {
		rules = Rules
	}
	m := &mutator{file: filename, src: src, lines: newLines(src), opts: opts, stats: map[*node]funcStats{}}
	m.collect(copyTree(tree), rules)

	type checked struct {
		candidate
		mutated []byte
	}
	var valid []checked
	seen := map[string]bool{}
	for _, c := range m.keep(rules) {
		id := mutationID(filename, c.rule, c.at)
		if seen[id] {
			continue
		}
		mutated := c.edit.apply(src)
		if bytes.Equal(mutated, src) || !m.parsesAfter(p, tree, c, mutated) {
			continue
		}
		seen[id] = true
		valid = append(valid, checked{c, mutated})
	}
	scopes := make([]*node, len(valid))
	for i, v := range valid {
		scopes[i] = v.scope
	}
	var out []result
	for _, i := range m.capPerScope(scopes) {
		c, mutated := valid[i].candidate, valid[i].mutated
		id := mutationID(filename, c.rule, c.at)
		out = append(out, result{edit: c.edit, mutated: mutated, Mutation: sdk.Mutation{
			ID:       id,
			Injector: Injector,
			Kind:     c.rule,
			File:     filename,
			Line:     m.lines.line(c.at) + 1,
			Symbol:   c.sym,
			Diff:     unifiedDiff(filename, src, mutated),
			Meta:     map[string]string{"swesmith": swesmithNames[c.rule]},
		}})
	}
	return out, nil
}

// parsesAfter reparses the mutated source and reports whether it is free
// of ERROR and MISSING nodes.
//
// Every byte outside the edit is unchanged. When the edit lies within the
// lines of one statement that keeps some of its lines (the innermost such
// statement around the rewritten node), the file parses if and only if
// those lines, mutated, parse as statements of a block at that statement's
// indentation: so only they are parsed, under an `if 1:` header when
// indented, at the cost of one statement instead of the file. The
// robustness test checks this against parsing whole mutated files. Other
// edits reparse the whole file incrementally from tree.
func (m *mutator) parsesAfter(p *ts.Parser, tree *ts.Tree, c candidate, mutated []byte) bool {
	e := c.edit
	for x := c.key; x != nil && x.kind != "module"; x = x.parent {
		if !isStatement(x) || !m.lines.startsLine(x.start) || !m.lines.endsLine(x.end) {
			continue
		}
		lo, hi := m.lines.lineStart(x.start), m.lines.lineEnd(x.end)
		if hi < len(m.src) {
			hi++
		}
		if e.start < lo || e.end > hi || (e.start == lo && e.end == hi) {
			continue
		}
		snippet := mutated[lo : hi+len(e.text)-(e.end-e.start)]
		if lo < x.start {
			snippet = append([]byte("if 1:\n"), snippet...)
		}
		t := parse(p, snippet, nil)
		if t == nil {
			return false
		}
		defer t.Close()
		return !t.RootNode().HasError()
	}
	old := tree.Clone()
	defer old.Close()
	newEnd := e.start + len(e.text)
	old.Edit(&ts.InputEdit{
		StartByte:      uint(e.start),
		OldEndByte:     uint(e.end),
		NewEndByte:     uint(newEnd),
		StartPosition:  m.lines.point(e.start),
		OldEndPosition: m.lines.point(e.end),
		NewEndPosition: pointIn(mutated, m.lines, e.start, newEnd),
	})
	t := parse(p, mutated, old)
	if t == nil {
		return false
	}
	defer t.Close()
	return !t.RootNode().HasError()
}

// isStatement reports whether n is a statement: something a block holds.
func isStatement(n *node) bool {
	switch n.kind {
	case "function_definition", "class_definition":
		return n.parent == nil || n.parent.kind != "decorated_definition"
	case "decorated_definition":
		return true
	}
	return strings.HasSuffix(n.kind, "_statement") && n.parent != nil && (n.parent.kind == "block" || n.parent.kind == "module")
}

// pointIn returns the position of off in the mutated source, which equals
// the original up to start.
func pointIn(mutated []byte, l *lines, start, off int) ts.Point {
	pt := l.point(start)
	for _, b := range mutated[start:off] {
		if b == '\n' {
			pt.Row++
			pt.Column = 0
		} else {
			pt.Column++
		}
	}
	return pt
}

// mutationID is a stable identifier of a rule applied at an offset of a file.
func mutationID(file, rule string, at int) string {
	sum := sha256.Sum256([]byte(file + "\x00" + rule + "\x00" + strconv.Itoa(at)))
	return hex.EncodeToString(sum[:8])
}

// rng returns the random source of one rule in one file: PCG seeded from
// the seed and the file name, so choices do not depend on other rules.
func rng(seed uint64, file, purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(file))
	h.Write([]byte{0})
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// keep draws, rule by rule, which candidates survive their rule's
// probability, and returns them sorted by position.
func (m *mutator) keep(rules []string) []candidate {
	byRule := map[string][]candidate{}
	for _, c := range m.cands {
		byRule[c.rule] = append(byRule[c.rule], c)
	}
	var kept []candidate
	for _, r := range rules {
		p := m.opts.probability(r)
		if p == 0 {
			continue
		}
		g := rng(m.opts.Seed, m.file, r+"/keep")
		for _, c := range byRule[r] {
			if p >= 1 || g.Float64() < p {
				kept = append(kept, c)
			}
		}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		if kept[i].at != kept[j].at {
			return kept[i].at < kept[j].at
		}
		return ruleIndex(kept[i].rule) < ruleIndex(kept[j].rule)
	})
	return kept
}

// capPerScope applies MaxPerFunction to candidates whose scopes are given
// in order, and returns the indices kept, ascending.
func (m *mutator) capPerScope(scopes []*node) []int {
	n := m.opts.MaxPerFunction
	var order []*node
	byScope := map[*node][]int{}
	for i, s := range scopes {
		if _, ok := byScope[s]; !ok {
			order = append(order, s)
		}
		byScope[s] = append(byScope[s], i)
	}
	g := rng(m.opts.Seed, m.file, "max_per_function")
	drop := map[int]bool{}
	for _, s := range order {
		idx := byScope[s]
		if n <= 0 || len(idx) <= n {
			continue
		}
		g.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx[n:] {
			drop[i] = true
		}
	}
	var out []int
	for i := range scopes {
		if !drop[i] {
			out = append(out, i)
		}
	}
	return out
}

func ruleIndex(r string) int {
	for i, have := range Rules {
		if have == r {
			return i
		}
	}
	return len(Rules)
}
