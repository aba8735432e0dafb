package python

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/swelego/swelego/sdk"
)

// The LM rules: a model the host lends rewrites one function. They run
// only when the configuration names them in rules, and then only with a
// model (the synthetic source's model = model.NAME); without one the
// injector fails with ErrNoModel rather than quietly proposing nothing.
const (
	// RuleLMModify asks the model to put one subtle bug into a function
	// and return the whole function (SWE-smith's lm_modify).
	RuleLMModify = "lm_modify"
	// RuleLMRewrite shows the model a function whose body was removed
	// (signature and docstring kept, the rest of the file around it) and
	// asks it to write the function again; where its version differs from
	// the original is the candidate bug (SWE-smith's lm_rewrite). Many
	// rewrites are correct: validation drops those.
	RuleLMRewrite = "lm_rewrite"
)

// LMRules lists the LM rules. Unlike Rules they are off unless named.
var LMRules = []string{RuleLMModify, RuleLMRewrite}

// ErrNoModel: the configuration names an LM rule but the host lent no
// model for the call.
var ErrNoModel = errors.New("the lm_modify and lm_rewrite rules need a model: set model = model.NAME on the synthetic source")

// Defaults of the LM settings.
const (
	DefaultModelCalls    = 20
	DefaultModelParallel = 4
	// contextBytes bounds the part of the file lm_rewrite shows.
	contextBytes = 8000
)

func isLMRule(r string) bool { return r == RuleLMModify || r == RuleLMRewrite }

// lmTarget is one function an LM rule asks the model about.
type lmTarget struct {
	rule       string
	file       string
	src        []byte
	start, end int    // the function_definition's bytes (decorators excluded)
	indent     string // blanks before `def` on its line
	name       string // the function's own name
	symbol     string // qualified name (Class.method)
	line       int    // 1-based line of `def`
	signature  string // parameters and return annotation, spaces removed
	text       string // the function, dedented
	blanked    string // for lm_rewrite: the file around the function, body removed
}

// lmTargets returns the functions of one file the LM rules may rewrite:
// functions and methods (not functions nested in functions) that pass the
// statement and complexity filters, each kept with its rule's probability.
func lmTargets(file string, src []byte, opts Options, rules []string) ([]lmTarget, error) {
	if len(rules) == 0 || (!opts.IncludeTests && IsTestFile(file)) {
		return nil, nil
	}
	p := newParser()
	defer p.Close()
	tree := parse(p, src, nil)
	if tree == nil {
		return nil, fmt.Errorf("%s: %w: parser gave no tree", file, ErrSyntax)
	}
	defer tree.Close()
	if tree.RootNode().HasError() {
		return nil, fmt.Errorf("%s: %w", file, ErrSyntax)
	}
	root := copyTree(tree)
	m := &mutator{file: file, src: src, lines: newLines(src), opts: opts, stats: map[*node]funcStats{}}
	type fn struct {
		n      *node
		symbol string
	}
	var fns []fn
	var visit func(n *node, outer string, inFunc bool)
	visit = func(n *node, outer string, inFunc bool) {
		switch n.kind {
		case "function_definition":
			name := join(outer, nameOf(n, src))
			if !inFunc {
				fns = append(fns, fn{n, name})
			}
			for _, c := range n.children {
				visit(c, name, true)
			}
			return
		case "class_definition":
			outer = join(outer, nameOf(n, src))
		}
		for _, c := range n.children {
			visit(c, outer, inFunc)
		}
	}
	visit(root, "", false)

	var out []lmTarget
	for _, r := range rules {
		prob := opts.probability(r)
		if prob == 0 {
			continue
		}
		g := rng(opts.Seed, file, r+"/keep")
		for _, f := range fns {
			if !m.lines.startsLine(f.n.start) || !m.functionPasses(f.n) || f.n.child("body") == nil {
				continue
			}
			if prob < 1 && g.Float64() >= prob {
				continue
			}
			t := lmTarget{
				rule: r, file: file, src: src, start: f.n.start, end: f.n.end,
				indent: m.lines.indent(f.n.start), name: nameOf(f.n, src), symbol: f.symbol,
				line: m.lines.line(f.n.start) + 1, signature: signatureOf(f.n, src),
			}
			t.text = dedent(string(src[t.start:t.end]), t.indent)
			if r == RuleLMRewrite {
				t.blanked = blankedContext(m, f.n)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// signatureOf is what lm replies may not change: the parameters and the
// return annotation, without white space.
func signatureOf(fn *node, src []byte) string {
	var b strings.Builder
	for _, f := range []string{"parameters", "return_type"} {
		if c := fn.child(f); c != nil {
			b.WriteString(strings.Join(strings.Fields(c.text(src)), ""))
		}
		b.WriteByte('|')
	}
	return b.String()
}

// blankedContext returns the file with fn's body removed (its docstring
// kept, the rest replaced by `...`), cut to contextBytes around fn.
func blankedContext(m *mutator, fn *node) string {
	body := fn.child("body")
	cut := body.start
	tail := "..."
	if stmts := body.namedChildren(); len(stmts) > 0 && isDocstring(stmts[0]) {
		cut = stmts[0].end
		tail = "\n" + m.lines.indent(stmts[0].start) + "..."
	}
	var b strings.Builder
	b.Write(m.src[:cut])
	b.WriteString(tail)
	focus := b.Len()
	b.Write(m.src[fn.end:])
	return window(b.String(), fn.start, focus, contextBytes, "# ...")
}

// window cuts s to about limit bytes around [from, to), at line
// boundaries, marking what was left out with a line holding marker.
func window(s string, from, to, limit int, marker string) string {
	if len(s) <= limit {
		return s
	}
	lo := max(0, min(from, to-limit*3/4))
	hi := min(len(s), max(to, lo+limit))
	if lo > 0 {
		if i := strings.IndexByte(s[lo:], '\n'); i >= 0 && lo+i < from {
			lo += i + 1
		} else {
			lo = strings.LastIndexByte(s[:from], '\n') + 1
		}
	}
	if hi < len(s) {
		if i := strings.LastIndexByte(s[:hi], '\n'); i >= to {
			hi = i + 1
		} else if j := strings.IndexByte(s[to:], '\n'); j >= 0 {
			hi = to + j + 1
		} else {
			hi = len(s)
		}
	}
	out := s[lo:hi]
	if lo > 0 {
		out = marker + "\n" + out
	}
	if hi < len(s) {
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += marker + "\n"
	}
	return out
}

// dedent removes indent from the start of every line after the first
// (the first starts at `def`, after its indentation).
func dedent(s, indent string) string {
	if indent == "" {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = strings.TrimPrefix(lines[i], indent)
	}
	return strings.Join(lines, "")
}

// reindent puts indent in front of every line after the first that is not
// blank, the inverse of dedent.
func reindent(s, indent string) string {
	if indent == "" {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			lines[i] = indent + lines[i]
		}
	}
	return strings.Join(lines, "")
}

// The system prompts: lm_modify asks for a bug on purpose; lm_rewrite asks
// for an honest implementation, whose mistakes are the natural kind.
const (
	modifySystem  = "You help build a benchmark of realistic software bugs that is used to train and test programming agents. You answer with Python code only, in one fenced code block."
	rewriteSystem = "You are an experienced Python developer who completes functions in existing code bases. You answer with Python code only, in one fenced code block."
)

// prompt is the chat request an LM rule sends for target t.
func (t lmTarget) prompt() sdk.ChatRequest {
	var system, user string
	switch t.rule {
	case RuleLMModify:
		user = fmt.Sprintf("This function comes from the file `%s` of a Python project:\n\n```python\n%s\n```\n\n"+
			"Change it so that it has exactly one subtle bug: the kind of mistake a developer makes and a reviewer misses, "+
			"such as a wrong boundary, an inverted or weakened condition, a swapped argument, a forgotten edge case or a wrong constant. "+
			"The bug must change what the function returns or does for some inputs, so that a unit test of it would fail.\n\n"+
			"Keep the name `%s`, its parameters and its return annotation exactly as they are, and keep the rest of the function unchanged. "+
			"Do not add comments, prints or docstring text that hint at the bug.\n\n"+
			"Answer with the whole modified function in a single ```python code block and nothing else.",
			t.file, strings.TrimRight(t.text, "\n"), t.name)
		system = modifySystem
	case RuleLMRewrite:
		user = fmt.Sprintf("Below is the file `%s` of a Python project. The body of the function `%s` has been removed and replaced by `...`:\n\n```python\n%s\n```\n\n"+
			"Write `%s` again from its signature, its docstring and the code around it, so that it does what the rest of the project expects of it. "+
			"Keep its signature exactly as it is; do not change anything else in the file.\n\n"+
			"Answer with the whole function `%s` (without decorators) in a single ```python code block and nothing else.",
			t.file, t.symbol, strings.TrimRight(t.blanked, "\n"), t.name, t.name)
		system = rewriteSystem
	}
	return sdk.ChatRequest{Messages: []sdk.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: user},
	}}
}

// Reasons an LM reply is dropped, as LMStats counts them.
const (
	dropNoCode    = "no_function"         // no parseable function of that name in the reply
	dropSignature = "signature_changed"   // parameters or return annotation changed
	dropUnchanged = "unchanged"           // the function came back as it was
	dropSyntax    = "file_does_not_parse" // the file with the new function does not parse
	dropError     = "model_error"         // the model call failed
)

// LMStats counts what became of the LM rules' model calls.
type LMStats struct {
	Calls      int            `json:"calls"`
	Candidates int            `json:"candidates"`
	Dropped    map[string]int `json:"dropped,omitempty"`
}

func (s *LMStats) drop(reason string) {
	if s.Dropped == nil {
		s.Dropped = map[string]int{}
	}
	s.Dropped[reason]++
}

// String summarises the counts for a log line.
func (s LMStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d model calls, %d candidates", s.Calls, s.Candidates)
	for _, r := range []string{dropNoCode, dropSignature, dropUnchanged, dropSyntax, dropError} {
		if n := s.Dropped[r]; n > 0 {
			fmt.Fprintf(&b, ", %d dropped (%s)", n, strings.ReplaceAll(r, "_", " "))
		}
	}
	return b.String()
}

// mutation turns the model's reply for t into a candidate, or says why it
// is dropped. Only the function's byte range changes.
func (t lmTarget) mutation(reply string) (sdk.Mutation, string) {
	fn, ok := functionInReply(reply, t.name)
	if !ok {
		return sdk.Mutation{}, dropNoCode
	}
	if fn.signature != t.signature {
		return sdk.Mutation{}, dropSignature
	}
	text := reindent(fn.text, t.indent)
	if strings.TrimRight(text, " \t\r\n") == strings.TrimRight(string(t.src[t.start:t.end]), " \t\r\n") {
		return sdk.Mutation{}, dropUnchanged
	}
	e := edit{t.start, t.end, text}
	mutated := e.apply(t.src)
	if !parsesClean(mutated) {
		return sdk.Mutation{}, dropSyntax
	}
	sum := sha256.Sum256([]byte(t.file + "\x00" + t.rule + "\x00" + strconv.Itoa(t.start) + "\x00" + text))
	return sdk.Mutation{
		ID:       hex.EncodeToString(sum[:8]),
		Injector: Injector,
		Kind:     t.rule,
		File:     t.file,
		Line:     t.line,
		Symbol:   t.symbol,
		Diff:     unifiedDiff(t.file, t.src, mutated),
		Meta:     map[string]string{"swesmith": t.rule},
	}, ""
}

func parsesClean(src []byte) bool {
	p := newParser()
	defer p.Close()
	tree := parse(p, src, nil)
	if tree == nil {
		return false
	}
	defer tree.Close()
	return !tree.RootNode().HasError()
}

// replyFunction is a function found in a model's reply.
type replyFunction struct {
	text      string // dedented, from `def` (or `async def`) to its end
	signature string
}

var (
	fenceRe   = regexp.MustCompile("(?s)```[ \\t]*([A-Za-z0-9_+-]*)[^\\n]*\\n(.*?)(?:\\n[ \\t]*```|\\z)")
	defLineRe = regexp.MustCompile(`(?m)^[ \t]*(?:@|async[ \t]+def[ \t]|def[ \t])`)
)

// functionInReply finds the function called name in a model's reply: in a
// fenced code block (several are tried, Python-tagged ones first), else in
// the reply itself, else in the reply from its first def line on. Prose
// around the code, a class around a method and other functions are
// ignored; a function with syntax errors is not taken.
func functionInReply(reply, name string) (replyFunction, bool) {
	var tries []string
	var other []string
	for _, m := range fenceRe.FindAllStringSubmatch(reply, -1) {
		switch strings.ToLower(m[1]) {
		case "python", "py", "python3":
			tries = append(tries, m[2])
		default:
			other = append(other, m[2])
		}
	}
	tries = append(tries, other...)
	tries = append(tries, reply)
	if loc := defLineRe.FindStringIndex(reply); loc != nil {
		tries = append(tries, reply[loc[0]:])
	}
	for _, code := range tries {
		if fn, ok := findFunction(code, name); ok {
			return fn, true
		}
	}
	return replyFunction{}, false
}

// findFunction parses code and returns the shallowest error-free
// function_definition called name.
func findFunction(code, name string) (replyFunction, bool) {
	code = strings.ReplaceAll(code, "\r\n", "\n")
	code = commonDedent(code)
	src := []byte(code)
	p := newParser()
	defer p.Close()
	tree := parse(p, src, nil)
	if tree == nil {
		return replyFunction{}, false
	}
	defer tree.Close()
	// Error nodes matter only inside the function taken; prose around it
	// may fail to parse.
	var best *node
	bestDepth := 0
	var hasError func(n *node) bool
	hasError = func(n *node) bool {
		if n.kind == "ERROR" || n.end < n.start {
			return true
		}
		for _, c := range n.children {
			if hasError(c) {
				return true
			}
		}
		return false
	}
	var visit func(n *node, depth int)
	visit = func(n *node, depth int) {
		if n.kind == "function_definition" && nameOf(n, src) == name && (best == nil || depth < bestDepth) {
			best, bestDepth = n, depth
		}
		for _, c := range n.children {
			visit(c, depth+1)
		}
	}
	root := copyTree(tree)
	visit(root, 0)
	if best == nil || hasError(best) || best.child("body") == nil {
		return replyFunction{}, false
	}
	l := newLines(src)
	if !l.startsLine(best.start) {
		return replyFunction{}, false
	}
	text := dedent(best.text(src), l.indent(best.start))
	// A function that is the last thing in the reply may lack its newline.
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	text = strings.TrimRight(text, "\n") + "\n"
	// Check the function alone, at column 0, parses without errors (tree
	// sitter recovers from missing tokens without an ERROR node).
	if !parsesClean([]byte(text)) {
		return replyFunction{}, false
	}
	return replyFunction{text: strings.TrimSuffix(text, "\n"), signature: signatureOf(best, src)}, true
}

// commonDedent removes the indentation all non-blank lines share.
func commonDedent(s string) string {
	lines := strings.Split(s, "\n")
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ind, false
			continue
		}
		for !strings.HasPrefix(ind, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	if prefix == "" {
		return s
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Join(lines, "\n")
}

// runLM picks at most calls of the targets (at random, seeded), asks the
// model about each, parallel calls at a time, and sends the candidates in
// the targets' order. A failed call is counted and skipped; when every
// call fails, the first error is returned.
func runLM(ctx context.Context, model sdk.Model, targets []lmTarget, seed uint64, calls, parallel int, send func(sdk.Mutation) error) (LMStats, error) {
	var stats LMStats
	if len(targets) > calls {
		g := rand.New(rand.NewPCG(seed, 0x6c6d))
		g.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
		targets = targets[:calls]
		// back to file order, so candidates come out as the files do
		sortTargets(targets)
	}
	type answer struct {
		reply string
		err   error
	}
	answers := make([]answer, len(targets))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := model.Chat(ctx, t.prompt())
			answers[i] = answer{resp.Message.Content, err}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	var firstErr error
	for i, t := range targets {
		stats.Calls++
		a := answers[i]
		if a.err != nil {
			if firstErr == nil {
				firstErr = a.err
			}
			stats.drop(dropError)
			continue
		}
		m, why := t.mutation(a.reply)
		if why != "" {
			stats.drop(why)
			continue
		}
		stats.Candidates++
		if err := send(m); err != nil {
			return stats, err
		}
	}
	if firstErr != nil && stats.Dropped[dropError] == stats.Calls {
		return stats, fmt.Errorf("python injector: every model call failed: %w", firstErr)
	}
	return stats, nil
}

func sortTargets(ts []lmTarget) {
	slices.SortStableFunc(ts, func(a, b lmTarget) int {
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		if a.start != b.start {
			return a.start - b.start
		}
		return strings.Compare(a.rule, b.rule)
	})
}
