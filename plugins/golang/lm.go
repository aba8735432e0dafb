package golang

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"math/rand/v2"
	"regexp"
	"strings"

	"github.com/swelego/swelego/plugins/internal/lmrules"
	"github.com/swelego/swelego/plugins/internal/unidiff"
	"github.com/swelego/swelego/sdk"
)

// The LM rules: a model the host lends rewrites one function (package
// lmrules holds what does not depend on Go). They run only when the
// configuration names them in rules, and then only with a model.
const (
	// RuleLMModify asks the model to put one subtle bug into a function
	// and return the whole function (SWE-smith's lm_modify).
	RuleLMModify = lmrules.Modify
	// RuleLMRewrite shows the model the file with one function's body
	// removed (doc comment and signature kept) and asks it to write the
	// function again; where its version differs from the original is the
	// candidate bug (SWE-smith's lm_rewrite).
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
// run from `func` to the closing brace (the doc comment stays), Symbol is
// Name or Type.Method, Signature the receiver and type printed, Text the
// function's source.
type lmTarget = lmrules.Target

// LMStats counts what became of the LM rules' model calls.
type LMStats = lmrules.Stats

// lmGo is what the LM rules ask of this plugin.
var lmGo = lmrules.Language{
	Injector:  InjectorName,
	Prompt:    prompt,
	Function:  lmFunction,
	Unchanged: lmUnchanged,
	Parses: func(file string, src []byte) bool {
		_, err := parser.ParseFile(token.NewFileSet(), file, src, parser.SkipObjectResolution)
		return err == nil
	},
	Diff: unidiff.Unified,
}

// runLM asks the model about at most calls of the targets, parallel at a
// time, and sends the candidates in the targets' order (lmrules.Language.Run).
func runLM(ctx context.Context, model sdk.Model, targets []lmTarget, seed uint64, calls, parallel int, send func(sdk.Mutation) error) (LMStats, error) {
	return lmGo.Run(ctx, model, targets, lmrules.Budget{Seed: seed, Calls: calls, Parallel: parallel}, send)
}

// lmTargets returns the functions of one file the LM rules may rewrite:
// declared functions and methods with a body that pass the statement
// filters, each kept with its rule's probability (Config.Probability).
func lmTargets(file string, src []byte, opts Options, rules map[string]float64) ([]lmTarget, error) {
	if len(rules) == 0 || strings.HasSuffix(file, "_test.go") {
		return nil, nil
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("golang: parse %w", err)
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	tf := fset.File(f.Pos())
	var out []lmTarget
	for _, r := range LMRules {
		p, ok := rules[r]
		if !ok || p <= 0 {
			continue
		}
		g := rand.New(rand.NewPCG(opts.Seed, hashString(file+"\x00"+r)))
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			if n := countStatements(fd.Body); n == 0 || n < opts.MinStatements || opts.MaxStatements > 0 && n > opts.MaxStatements {
				continue
			}
			if p < 1 && g.Float64() >= p {
				continue
			}
			t := lmTarget{
				Rule: r, File: file, Src: src,
				Start: tf.Offset(fd.Pos()), End: tf.Offset(fd.End()),
				Name: fd.Name.Name, Symbol: symbol(fd), Line: tf.Line(fd.Pos()),
				Signature: signatureOf(fset, fd),
			}
			t.Text = string(src[t.Start:t.End])
			if r == RuleLMRewrite {
				lb, rb := tf.Offset(fd.Body.Lbrace), tf.Offset(fd.Body.Rbrace)
				ctx := string(src[:lb]) + "{\n\t// body removed\n" + string(src[rb:])
				t.Blanked = lmrules.Window(ctx, t.Start, lb+len("{\n\t// body removed\n}"), lmrules.ContextBytes, "// ...")
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// signatureOf prints what lm replies may not change: the receiver, the
// parameters and the results.
func signatureOf(fset *token.FileSet, fd *ast.FuncDecl) string {
	var b bytes.Buffer
	if fd.Recv != nil {
		for _, f := range fd.Recv.List {
			for _, n := range f.Names {
				b.WriteString(n.Name + " ")
			}
			printer.Fprint(&b, fset, f.Type) //nolint:errcheck // into a buffer
		}
	}
	b.WriteByte('|')
	printer.Fprint(&b, fset, fd.Type) //nolint:errcheck // into a buffer
	return b.String()
}

// The system prompts: lm_modify asks for a bug on purpose; lm_rewrite asks
// for an honest implementation, whose mistakes are the natural kind.
const (
	modifySystem  = "You help build a benchmark of realistic software bugs that is used to train and test programming agents. You answer with Go code only, in one fenced code block."
	rewriteSystem = "You are an experienced Go developer who completes functions in existing code bases. You answer with Go code only, in one fenced code block."
)

// prompt is the chat request an LM rule sends for target t.
func prompt(t lmTarget) sdk.ChatRequest {
	var system, user string
	switch t.Rule {
	case RuleLMModify:
		system = modifySystem
		user = fmt.Sprintf("This function comes from the file `%s` of a Go module:\n\n```go\n%s\n```\n\n"+
			"Change it so that it has exactly one subtle bug: the kind of mistake a developer makes and a reviewer misses, "+
			"such as a wrong boundary, an inverted or weakened condition, a swapped argument, a forgotten edge case or a wrong constant. "+
			"The bug must change what the function returns or does for some inputs, so that a unit test of it would fail, and the code must still compile.\n\n"+
			"Keep the name `%s`, its receiver, parameters and results exactly as they are, and keep the rest of the function unchanged. "+
			"Do not add comments or prints that hint at the bug.\n\n"+
			"Answer with the whole modified function in a single ```go code block and nothing else.",
			t.File, t.Text, t.Symbol)
	case RuleLMRewrite:
		system = rewriteSystem
		user = fmt.Sprintf("Below is the file `%s` of a Go module. The body of `%s` has been removed:\n\n```go\n%s\n```\n\n"+
			"Write `%s` again from its signature, its doc comment and the code around it, so that it does what the rest of the module expects of it. "+
			"Keep its signature exactly as it is, use only the imports the file already has, and do not change anything else in the file.\n\n"+
			"Answer with the whole function `%s` in a single ```go code block and nothing else.",
			t.File, t.Symbol, strings.TrimRight(t.Blanked, "\n"), t.Symbol, t.Symbol)
	}
	return sdk.ChatRequest{Messages: []sdk.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: user},
	}}
}

// lmFunction finds t's function in a reply, gofmt'ed when gofmt accepts
// it.
func lmFunction(t lmTarget, reply string) (text, signature string, ok bool) {
	fn, ok := functionInReply(reply, t.Symbol)
	return fn.text, fn.signature, ok
}

// lmUnchanged: text is t's function up to gofmt and surrounding blanks.
func lmUnchanged(t lmTarget, text string) bool {
	orig := t.Text
	if out, err := format.Source([]byte(orig)); err == nil {
		orig = string(out)
	}
	return strings.TrimSpace(text) == strings.TrimSpace(orig)
}

// replyFunction is a function found in a model's reply.
type replyFunction struct {
	text      string // gofmt'ed when gofmt accepts it, from `func` to `}`
	signature string
}

var (
	funcLineRe   = regexp.MustCompile(`(?m)^func[ \t(]`)
	packageRe    = regexp.MustCompile(`(?m)^package[ \t]+\w+`)
	closeBraceRe = regexp.MustCompile(`(?m)^}[ \t]*$`)
)

// functionInReply finds the function sym (Name or Type.Method) in a
// model's reply: in a fenced code block (Go-tagged ones first), else in the
// reply itself, else in the reply from its first func line on. Prose and
// other declarations around it are ignored; the code must parse.
func functionInReply(reply, sym string) (replyFunction, bool) {
	return lmrules.FindInReply(reply, []string{"go", "golang"}, funcLineRe, func(code string) (replyFunction, bool) {
		return findFunction(code, sym)
	})
}

// findFunction parses code as a Go file (adding a package clause when it
// has none) and returns the declaration of sym. When the code does not
// parse, it is cut after each line holding only "}", last first, in case
// prose follows the code.
func findFunction(code, sym string) (replyFunction, bool) {
	code = strings.ReplaceAll(code, "\r\n", "\n")
	prefix := ""
	if !packageRe.MatchString(code) {
		prefix = "package p\n\n"
	}
	cuts := []int{len(code)}
	ends := closeBraceRe.FindAllStringIndex(code, -1)
	for i := len(ends) - 1; i >= 0 && len(cuts) < 8; i-- {
		cuts = append(cuts, ends[i][1])
	}
	for _, cut := range cuts {
		src := prefix + code[:cut]
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "reply.go", src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || symbol(fd) != sym {
				continue
			}
			tf := fset.File(f.Pos())
			text := src[tf.Offset(fd.Pos()):tf.Offset(fd.End())]
			if out, err := format.Source([]byte(text)); err == nil {
				text = strings.TrimRight(string(out), "\n")
			}
			return replyFunction{text: text, signature: signatureOf(fset, fd)}, true
		}
		return replyFunction{}, false
	}
	return replyFunction{}, false
}
