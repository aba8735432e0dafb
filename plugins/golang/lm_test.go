package golang

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/plugins/internal/lmrules"
	"github.com/swelego/swelego/plugins/internal/lmrules/lmrulestest"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// fakeModel stands in for a chat model. It reads the code block of the
// prompt it gets and answers as a model might: the function with one
// operator changed (lm_modify) or a body that panics (lm_rewrite), wrapped
// in prose and a fence, bare, in a whole file with trailing prose, with a
// changed signature, or with no code at all. Which one depends on a hash
// of the prompt.
func fakeModel() *lmrulestest.FakeModel {
	return &lmrulestest.FakeModel{
		Styles: []string{"prose+fence", "bare", "garbage", "signature", "plain-fence", "whole-file"},
		Answer: fakeAnswer,
	}
}

func fakeAnswer(user, style string) (string, error) {
	block := regexp.MustCompile("(?s)```go\n(.*?)\n```").FindStringSubmatch(user)
	if block == nil {
		return "", errors.New("fake model: no code in the prompt")
	}
	var fn string
	if strings.Contains(user, "has been removed") {
		fn = rewriteNaively(block[1])
	} else {
		fn = breakOperator(block[1])
	}
	switch style {
	case "prose+fence":
		return "Here is the function with a subtle change:\n\n```go\n" + fn + "\n```\n\nIt only shows for some inputs.", nil
	case "bare":
		return fn + "\n", nil
	case "garbage":
		return "I am sorry, but I cannot help with introducing bugs.", nil
	case "signature":
		return "```go\n" + strings.Replace(fn, "(", "(strict bool, ", 1) + "\n```", nil
	case "plain-fence":
		return "```\n" + fn + "\n```", nil
	}
	return "package geo\n\nimport \"math\"\n\nvar _ = math.Pi\n\n" + fn + "\n\nThat should do it.", nil // whole-file
}

// breakOperator changes the first comparison or arithmetic operator of
// the function body.
func breakOperator(fn string) string {
	body := strings.Index(fn, "{\n")
	for _, swap := range [][2]string{{" < ", " <= "}, {" > ", " >= "}, {" + ", " - "}, {" * ", " + "}, {"*k", "*(k+1)"}} {
		if i := strings.Index(fn[body+1:], swap[0]); body >= 0 && i >= 0 {
			i += body + 1
			return fn[:i] + swap[1] + fn[i+len(swap[0]):]
		}
	}
	return fn
}

// rewriteNaively gives the function whose body was removed a body that
// panics.
func rewriteNaively(file string) string {
	i := strings.Index(file, "{\n\t// body removed\n}")
	start := strings.LastIndex(file[:i], "\nfunc ") + 1
	return file[start:i] + "{\n\tpanic(\"not implemented\")\n}"
}

func readLMSource(t testing.TB) []byte {
	src, err := os.ReadFile(filepath.Join("testdata", "lm", "geo.go"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestLMPromptsGolden renders the prompts of both LM rules for every
// function of testdata/lm/geo.go (refresh with -update).
func TestLMPromptsGolden(t *testing.T) {
	targets, err := lmTargets("geo/geo.go", readLMSource(t), Options{}, map[string]float64{RuleLMModify: 1, RuleLMRewrite: 1})
	if err != nil {
		t.Fatal(err)
	}
	lmrulestest.GoldenPrompts(t, targets, prompt, filepath.Join("testdata", "lm", "prompts.golden"), *update)
	// Four functions with statements (empty has none), two rules.
	if len(targets) != 8 {
		t.Errorf("%d targets, want 8", len(targets))
	}
}

// TestFunctionInReply reads model replies of many shapes.
func TestFunctionInReply(t *testing.T) {
	const fn = "func Clamp(x, lo, hi int) int {\n\tif x <= lo {\n\t\treturn lo\n\t}\n\treturn x\n}"
	cases := []struct {
		name, reply, sym string
		ok               bool
	}{
		{"fenced with prose", "Here you go:\n\n```go\n" + fn + "\n```\nHope it helps.", "Clamp", true},
		{"bare", fn + "\n", "Clamp", true},
		{"crlf", strings.ReplaceAll("```golang\n"+fn+"\n```", "\n", "\r\n"), "Clamp", true},
		{"untagged fence", "```\n" + fn + "\n```", "Clamp", true},
		{"second fence", "```sh\ngo test ./...\n```\nThe code:\n```go\n" + fn + "\n```", "Clamp", true},
		{"whole file", "```go\npackage geo\n\nimport \"fmt\"\n\n" + fn + "\n```", "Clamp", true},
		{"prose after unfenced code", fn + "\n\nThis changes the lower bound.", "Clamp", true},
		{"prose before and after", "Sure.\n" + fn + "\nDone.", "Clamp", true},
		{"unterminated fence", "```go\n" + fn + "\n", "Clamp", true},
		{"not gofmt'ed", "func Clamp(x, lo, hi int) int {\n  if x <= lo {\n    return lo\n  }\n  return x\n}", "Clamp", true},
		{"method", "```go\nfunc (r Rect) Clamp(x, lo, hi int) int { return x }\n```", "Clamp", false},
		{"other function", "```go\nfunc Other() {}\n```", "Clamp", false},
		{"garbage", "I cannot do that.", "Clamp", false},
		{"syntax error", "```go\nfunc Clamp(x, lo, hi int) int {\n\tif x <= lo \n```", "Clamp", false},
		{"empty", "", "Clamp", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := functionInReply(c.reply, c.sym)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (got %q)", ok, c.ok, got.text)
			}
			if ok && got.text != fn {
				t.Errorf("function =\n%s\nwant\n%s", got.text, fn)
			}
		})
	}
}

// TestLMMutation checks the candidate an LM reply makes: only the
// function's bytes change, the diff applies, and replies that change the
// signature or change nothing are dropped with their reason.
func TestLMMutation(t *testing.T) {
	src := readLMSource(t)
	targets, err := lmTargets("geo.go", src, Options{}, map[string]float64{RuleLMModify: 1})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]lmTarget{}
	for _, tg := range targets {
		byName[tg.Symbol] = tg
	}
	cases := []struct {
		name, symbol, reply, drop string
	}{
		{"modified function", "Clamp", "```go\nfunc Clamp(x, lo, hi int) int {\n\tif x < lo {\n\t\treturn lo\n\t}\n\tif x >= hi {\n\t\treturn hi\n\t}\n\treturn x\n}\n```", ""},
		{"modified pointer method", "Rect.Scaled", "```go\nfunc (r *Rect) Scaled(k float64) Rect {\n\treturn Rect{r.W * k, r.H}\n}\n```", ""},
		{"value receiver became a pointer", "Rect.Area", "func (r *Rect) Area() float64 {\n\treturn r.W + r.H\n}\n", lmrules.DropSignature},
		{"changed results", "Hypot", "func Hypot(a, b float64) (float64, error) {\n\treturn 0, nil\n}\n", lmrules.DropSignature},
		{"renamed parameter", "Clamp", "func Clamp(v, lo, hi int) int {\n\treturn v\n}\n", lmrules.DropSignature},
		{"unchanged but reformatted", "Hypot", "```go\nfunc Hypot(a, b float64) float64 {\n    total := a*a + b*b\n    return math.Sqrt(total)\n}\n```", lmrules.DropUnchanged},
		{"no function", "Hypot", "Sorry.", lmrules.DropNoCode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg, ok := byName[c.symbol]
			if !ok {
				t.Fatalf("no target %s", c.symbol)
			}
			m, drop := lmGo.Mutation(tg, c.reply)
			if drop != c.drop {
				t.Fatalf("drop = %q, want %q", drop, c.drop)
			}
			if drop != "" {
				return
			}
			if m.Kind != RuleLMModify || m.Symbol != c.symbol || m.File != "geo.go" || m.Line != tg.Line {
				t.Errorf("mutation fields: %+v", m)
			}
			got, err := applyDiff(src, m.Diff, false)
			if err != nil {
				t.Fatalf("%v\n%s", err, m.Diff)
			}
			if string(got[:tg.Start]) != string(src[:tg.Start]) || !strings.HasSuffix(string(got), string(src[tg.End:])) {
				t.Errorf("bytes outside the function changed:\n%s", m.Diff)
			}
			if _, err := parser.ParseFile(token.NewFileSet(), "geo.go", got, 0); err != nil {
				t.Errorf("mutated file: %v", err)
			}
		})
	}
}

// lmRepo is a Go module holding testdata/lm/geo.go in git's index.
func lmRepo(t *testing.T) string {
	return lmrulestest.Repo(t, map[string][]byte{
		"go.mod":         []byte("module example.com/geo\n\ngo 1.22\n"),
		"geo.go":         readLMSource(t),
		"geo_test.go":    []byte("package geo\n\nimport \"testing\"\n\nfunc TestClamp(t *testing.T) {\n\tif Clamp(5, 0, 3) != 3 {\n\t\tt.Fatal(\"clamp\")\n\t}\n}\n"),
		"testdata/x.go":  []byte("package x\n\nfunc X() int { return 1 + 2 }\n"),
		"vendor/v/v.go":  []byte("package v\n\nfunc V() int { return 1 + 2 }\n"),
		"internal/ok.go": []byte("package internal\n\nfunc Ok(a int) bool {\n\treturn a > 1\n}\n"),
		"broken/bad.go":  []byte("package broken\n\nfunc {\n"),
	})
}

// TestLMRulesThroughPlugin runs lm_modify and lm_rewrite through the real
// plugin protocol (sdktest: gRPC, the model and the sandbox lent through
// the broker) with the fake model: replies of usable styles become
// candidates that compile, the others are dropped.
func TestLMRulesThroughPlugin(t *testing.T) {
	c := sdktest.Connect(t, New())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := lmRepo(t)
	in := lmrulestest.Injection{Sandbox: dirSandbox{dir}, Procedural: RuleOffByOne}
	// geo.go: 4 functions with statements; internal/ok.go: 1; ×2 rules.
	got := in.Both(ctx, t, c.BugInjector(), fakeModel(), 10, "garbage", "signature")
	for _, m := range got {
		if m.Injector != InjectorName {
			t.Errorf("mutation %+v", m)
		}
		if strings.Contains(m.Diff, "strict bool") {
			t.Errorf("a reply with a changed signature became a candidate:\n%s", m.Diff)
		}
		// The candidate applies; lm_modify's (an operator changed)
		// compile too. The naive rewrites may not (an import left unused):
		// the synthetic source's compile check drops those.
		script := "git apply - && go build . ./internal; rc=$?; git checkout -q -- . ; exit $rc"
		if m.Kind == RuleLMRewrite {
			script = "git apply --check -"
		}
		build := exec.Command("sh", "-c", script)
		build.Dir = dir
		build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
		build.Stdin = strings.NewReader(m.Diff)
		if out, err := build.CombinedOutput(); err != nil {
			t.Errorf("%s does not apply or build: %v %s\n%s", m.ID, err, out, m.Diff)
		}
	}
}

// TestLMLimitsAndErrors: model_calls caps the calls, a mixed
// procedural+LM configuration gives both, a model that always fails is an
// error, and model_calls = 0 is refused.
func TestLMLimitsAndErrors(t *testing.T) {
	in := lmrulestest.Injection{Sandbox: dirSandbox{lmRepo(t)}, Procedural: RuleChangeOperator}
	if err := in.Limits(t, func(log func(string)) sdk.BugInjector { return Injector{Log: log} }, fakeModel()); err == nil {
		t.Error("model_calls = 0 accepted")
	}
}

// FuzzFunctionInReply: no reply makes the reader panic, and a function it
// finds parses.
func FuzzFunctionInReply(f *testing.F) {
	f.Add("```go\nfunc Clamp(x int) int { return x }\n```")
	f.Add("func Clamp(x int) int {\n\treturn x\n}\nThat is all.")
	f.Add("package p\nfunc (r *R) Clamp() {}\n")
	f.Fuzz(func(t *testing.T, reply string) {
		fn, ok := functionInReply(reply, "Clamp")
		if !ok {
			return
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+fn.text, 0); err != nil {
			t.Fatalf("found a function that does not parse: %v\n%s", err, fn.text)
		}
	})
}
