package golang

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
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
	// RuleLMRewrite shows the model the file with one function's body
	// removed (doc comment and signature kept) and asks it to write the
	// function again; where its version differs from the original is the
	// candidate bug (SWE-smith's lm_rewrite). Many rewrites are correct:
	// validation drops those.
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
	start, end int // `func` to the closing brace (the doc comment stays)
	name       string
	symbol     string // Name or Type.Method
	line       int
	signature  string // receiver and type, printed
	text       string // the function's source
	blanked    string // for lm_rewrite: the file around it, body removed
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
				rule: r, file: file, src: src,
				start: tf.Offset(fd.Pos()), end: tf.Offset(fd.End()),
				name: fd.Name.Name, symbol: symbol(fd), line: tf.Line(fd.Pos()),
				signature: signatureOf(fset, fd),
			}
			t.text = string(src[t.start:t.end])
			if r == RuleLMRewrite {
				lb, rb := tf.Offset(fd.Body.Lbrace), tf.Offset(fd.Body.Rbrace)
				ctx := string(src[:lb]) + "{\n\t// body removed\n" + string(src[rb:])
				t.blanked = window(ctx, t.start, lb+len("{\n\t// body removed\n}"), contextBytes, "// ...")
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

// The system prompts: lm_modify asks for a bug on purpose; lm_rewrite asks
// for an honest implementation, whose mistakes are the natural kind.
const (
	modifySystem  = "You help build a benchmark of realistic software bugs that is used to train and test programming agents. You answer with Go code only, in one fenced code block."
	rewriteSystem = "You are an experienced Go developer who completes functions in existing code bases. You answer with Go code only, in one fenced code block."
)

// prompt is the chat request an LM rule sends for target t.
func (t lmTarget) prompt() sdk.ChatRequest {
	var system, user string
	switch t.rule {
	case RuleLMModify:
		system = modifySystem
		user = fmt.Sprintf("This function comes from the file `%s` of a Go module:\n\n```go\n%s\n```\n\n"+
			"Change it so that it has exactly one subtle bug: the kind of mistake a developer makes and a reviewer misses, "+
			"such as a wrong boundary, an inverted or weakened condition, a swapped argument, a forgotten edge case or a wrong constant. "+
			"The bug must change what the function returns or does for some inputs, so that a unit test of it would fail, and the code must still compile.\n\n"+
			"Keep the name `%s`, its receiver, parameters and results exactly as they are, and keep the rest of the function unchanged. "+
			"Do not add comments or prints that hint at the bug.\n\n"+
			"Answer with the whole modified function in a single ```go code block and nothing else.",
			t.file, t.text, t.symbol)
	case RuleLMRewrite:
		system = rewriteSystem
		user = fmt.Sprintf("Below is the file `%s` of a Go module. The body of `%s` has been removed:\n\n```go\n%s\n```\n\n"+
			"Write `%s` again from its signature, its doc comment and the code around it, so that it does what the rest of the module expects of it. "+
			"Keep its signature exactly as it is, use only the imports the file already has, and do not change anything else in the file.\n\n"+
			"Answer with the whole function `%s` in a single ```go code block and nothing else.",
			t.file, t.symbol, strings.TrimRight(t.blanked, "\n"), t.symbol, t.symbol)
	}
	return sdk.ChatRequest{Messages: []sdk.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: user},
	}}
}

// Reasons an LM reply is dropped, as LMStats counts them.
const (
	dropNoCode    = "no_function"         // no parseable function of that name in the reply
	dropSignature = "signature_changed"   // receiver, parameters or results changed
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
	fn, ok := functionInReply(reply, t.symbol)
	if !ok {
		return sdk.Mutation{}, dropNoCode
	}
	if fn.signature != t.signature {
		return sdk.Mutation{}, dropSignature
	}
	orig := t.text
	if out, err := format.Source([]byte(orig)); err == nil {
		orig = string(out)
	}
	if strings.TrimSpace(fn.text) == strings.TrimSpace(orig) {
		return sdk.Mutation{}, dropUnchanged
	}
	e := edit{start: t.start, end: t.end, text: fn.text}
	mutated := e.apply(t.src)
	if _, err := parser.ParseFile(token.NewFileSet(), t.file, mutated, parser.SkipObjectResolution); err != nil {
		return sdk.Mutation{}, dropSyntax
	}
	sum := sha256.Sum256([]byte(t.file + "\x00" + t.rule + "\x00" + strconv.Itoa(t.start) + "\x00" + fn.text))
	return sdk.Mutation{
		ID:       hex.EncodeToString(sum[:8]),
		Injector: InjectorName,
		Kind:     t.rule,
		File:     t.file,
		Line:     t.line,
		Symbol:   t.symbol,
		Diff:     unifiedDiff(t.file, t.src, e),
		Meta:     map[string]string{"swesmith": t.rule},
	}, ""
}

// replyFunction is a function found in a model's reply.
type replyFunction struct {
	text      string // gofmt'ed when gofmt accepts it, from `func` to `}`
	signature string
}

var (
	fenceRe      = regexp.MustCompile("(?s)```[ \\t]*([A-Za-z0-9_+-]*)[^\\n]*\\n(.*?)(?:\\n[ \\t]*```|\\z)")
	funcLineRe   = regexp.MustCompile(`(?m)^func[ \t(]`)
	packageRe    = regexp.MustCompile(`(?m)^package[ \t]+\w+`)
	closeBraceRe = regexp.MustCompile(`(?m)^}[ \t]*$`)
)

// functionInReply finds the function sym (Name or Type.Method) in a
// model's reply: in a fenced code block (Go-tagged ones first), else in the
// reply itself, else in the reply from its first func line on. Prose and
// other declarations around it are ignored; the code must parse.
func functionInReply(reply, sym string) (replyFunction, bool) {
	var tries, other []string
	for _, m := range fenceRe.FindAllStringSubmatch(reply, -1) {
		switch strings.ToLower(m[1]) {
		case "go", "golang":
			tries = append(tries, m[2])
		default:
			other = append(other, m[2])
		}
	}
	tries = append(tries, other...)
	tries = append(tries, reply)
	if loc := funcLineRe.FindStringIndex(reply); loc != nil {
		tries = append(tries, reply[loc[0]:])
	}
	for _, code := range tries {
		if fn, ok := findFunction(code, sym); ok {
			return fn, true
		}
	}
	return replyFunction{}, false
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

// runLM picks at most calls of the targets (at random, seeded), asks the
// model about each, parallel calls at a time, and sends the candidates in
// file order. A failed call is counted and skipped; when every call fails,
// the first error is returned.
func runLM(ctx context.Context, model sdk.Model, targets []lmTarget, seed uint64, calls, parallel int, send func(sdk.Mutation) error) (LMStats, error) {
	var stats LMStats
	if len(targets) > calls {
		g := rand.New(rand.NewPCG(seed, 0x6c6d))
		g.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
		targets = targets[:calls]
		slices.SortStableFunc(targets, func(a, b lmTarget) int {
			if c := strings.Compare(a.file, b.file); c != 0 {
				return c
			}
			if a.start != b.start {
				return a.start - b.start
			}
			return strings.Compare(a.rule, b.rule)
		})
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
		return stats, fmt.Errorf("golang injector: every model call failed: %w", firstErr)
	}
	return stats, nil
}
