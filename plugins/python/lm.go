package python

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/swelego/swelego/plugins/internal/lmrules"
	"github.com/swelego/swelego/plugins/internal/unidiff"
	"github.com/swelego/swelego/sdk"
)

// The LM rules: a model the host lends rewrites one function (package
// lmrules holds what does not depend on Python). They run only when the
// configuration names them in rules, and then only with a model.
const (
	// RuleLMModify asks the model to put one subtle bug into a function
	// and return the whole function (SWE-smith's lm_modify).
	RuleLMModify = lmrules.Modify
	// RuleLMRewrite shows the model a function whose body was removed
	// (signature and docstring kept, the rest of the file around it) and
	// asks it to write the function again; where its version differs from
	// the original is the candidate bug (SWE-smith's lm_rewrite).
	RuleLMRewrite = lmrules.Rewrite
)

// LMRules lists the LM rules. Unlike Rules they are off unless named.
var LMRules = lmrules.Rules

// ErrNoModel: the configuration names an LM rule but the host lent no
// model for the call.
var ErrNoModel = lmrules.ErrNoModel

// Defaults of the LM settings.
const (
	DefaultModelCalls    = lmrules.DefaultCalls
	DefaultModelParallel = lmrules.DefaultParallel
)

func isLMRule(r string) bool { return lmrules.IsRule(r) }

// lmTarget is one function an LM rule asks the model about: Start and End
// are the function_definition's bytes (decorators excluded), Signature
// its parameters and return annotation without spaces, Text the function
// dedented.
type lmTarget = lmrules.Target

// LMStats counts what became of the LM rules' model calls.
type LMStats = lmrules.Stats

// lmPython is what the LM rules ask of this plugin.
var lmPython = lmrules.Language{
	Injector:  Injector,
	Prompt:    prompt,
	Function:  lmFunction,
	Unchanged: lmUnchanged,
	Parses:    func(_ string, src []byte) bool { return parsesClean(src) },
	// Diffs of the two files, as the procedural rules write them.
	Diff: func(file string, src []byte, e unidiff.Edit) string {
		return unifiedDiff(file, src, e.Apply(src))
	},
}

// runLM asks the model about at most calls of the targets, parallel at a
// time, and sends the candidates in the targets' order (lmrules.Language.Run).
func runLM(ctx context.Context, model sdk.Model, targets []lmTarget, seed uint64, calls, parallel int, send func(sdk.Mutation) error) (LMStats, error) {
	return lmPython.Run(ctx, model, targets, lmrules.Budget{Seed: seed, Calls: calls, Parallel: parallel}, send)
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
				Rule: r, File: file, Src: src, Start: f.n.start, End: f.n.end,
				Name: nameOf(f.n, src), Symbol: f.symbol,
				Line: m.lines.line(f.n.start) + 1, Signature: signatureOf(f.n, src),
				Text: dedent(string(src[f.n.start:f.n.end]), m.lines.indent(f.n.start)),
			}
			if r == RuleLMRewrite {
				t.Blanked = blankedContext(m, f.n)
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
// kept, the rest replaced by `...`), cut to lmrules.ContextBytes around fn.
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
	return lmrules.Window(b.String(), fn.start, focus, lmrules.ContextBytes, "# ...")
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
func prompt(t lmTarget) sdk.ChatRequest {
	var system, user string
	switch t.Rule {
	case RuleLMModify:
		user = fmt.Sprintf("This function comes from the file `%s` of a Python project:\n\n```python\n%s\n```\n\n"+
			"Change it so that it has exactly one subtle bug: the kind of mistake a developer makes and a reviewer misses, "+
			"such as a wrong boundary, an inverted or weakened condition, a swapped argument, a forgotten edge case or a wrong constant. "+
			"The bug must change what the function returns or does for some inputs, so that a unit test of it would fail.\n\n"+
			"Keep the name `%s`, its parameters and its return annotation exactly as they are, and keep the rest of the function unchanged. "+
			"Do not add comments, prints or docstring text that hint at the bug.\n\n"+
			"Answer with the whole modified function in a single ```python code block and nothing else.",
			t.File, strings.TrimRight(t.Text, "\n"), t.Name)
		system = modifySystem
	case RuleLMRewrite:
		user = fmt.Sprintf("Below is the file `%s` of a Python project. The body of the function `%s` has been removed and replaced by `...`:\n\n```python\n%s\n```\n\n"+
			"Write `%s` again from its signature, its docstring and the code around it, so that it does what the rest of the project expects of it. "+
			"Keep its signature exactly as it is; do not change anything else in the file.\n\n"+
			"Answer with the whole function `%s` (without decorators) in a single ```python code block and nothing else.",
			t.File, t.Symbol, strings.TrimRight(t.Blanked, "\n"), t.Name, t.Name)
		system = rewriteSystem
	}
	return sdk.ChatRequest{Messages: []sdk.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: user},
	}}
}

// lmFunction finds t's function in a reply and indents it as t is.
func lmFunction(t lmTarget, reply string) (text, signature string, ok bool) {
	fn, ok := functionInReply(reply, t.Name)
	if !ok {
		return "", "", false
	}
	indent := string(t.Src[bytes.LastIndexByte(t.Src[:t.Start], '\n')+1 : t.Start])
	return reindent(fn.text, indent), fn.signature, true
}

// lmUnchanged: text is t's function but for trailing blanks.
func lmUnchanged(t lmTarget, text string) bool {
	return strings.TrimRight(text, " \t\r\n") == strings.TrimRight(string(t.Src[t.Start:t.End]), " \t\r\n")
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

// defLineRe finds the first line of a function in a reply.
var defLineRe = regexp.MustCompile(`(?m)^[ \t]*(?:@|async[ \t]+def[ \t]|def[ \t])`)

// functionInReply finds the function called name in a model's reply: in a
// fenced code block (several are tried, Python-tagged ones first), else in
// the reply itself, else in the reply from its first def line on. Prose
// around the code, a class around a method and other functions are
// ignored; a function with syntax errors is not taken.
func functionInReply(reply, name string) (replyFunction, bool) {
	return lmrules.FindInReply(reply, []string{"python", "py", "python3"}, defLineRe, func(code string) (replyFunction, bool) {
		return findFunction(code, name)
	})
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
