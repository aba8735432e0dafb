package python

import (
	"bytes"
	"context"
	"errors"
	"os"
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
// operator changed (lm_modify) or re-implemented with a plausible but
// naive body (lm_rewrite), wrapped in prose and a fence, bare, in a fence
// without a language, with a changed signature, or with no code at all.
// Which one depends on a hash of the prompt.
func fakeModel() *lmrulestest.FakeModel {
	return &lmrulestest.FakeModel{
		Styles: []string{"prose+fence", "bare", "garbage", "signature", "plain-fence", "in-class"},
		Answer: fakeAnswer,
	}
}

func fakeAnswer(user, style string) (string, error) {
	block := regexp.MustCompile("(?s)```python\n(.*?)\n```").FindStringSubmatch(user)
	if block == nil {
		return "", errors.New("fake model: no code in the prompt")
	}
	var fn string
	if strings.Contains(user, "has been removed") {
		name := regexp.MustCompile("function `(?:[A-Za-z_]+\\.)*([A-Za-z_]+)` has been removed").FindStringSubmatch(user)[1]
		fn = rewriteNaively(block[1], name)
	} else {
		fn = breakOperator(block[1])
	}
	switch style {
	case "prose+fence":
		return "Sure! Here is the function with a subtle change:\n\n```python\n" + fn + "\n```\n\nThe change only shows for some inputs.", nil
	case "bare":
		return fn + "\n", nil
	case "garbage":
		return "I am sorry, but I cannot help with introducing bugs into software.", nil
	case "signature":
		return "```python\n" + strings.Replace(fn, "(", "(strict, ", 1) + "\n```", nil
	case "plain-fence":
		return "```\n" + fn + "\n```", nil
	}
	return "```python\nclass Wrapper:\n" + reindent("    "+fn, "    ") + "\n```\n", nil // in-class
}

// breakOperator changes the first comparison or arithmetic operator of
// the function body.
func breakOperator(fn string) string {
	for _, swap := range [][2]string{{" < ", " <= "}, {" > ", " >= "}, {" + ", " - "}, {" * ", " + "}} {
		if i := strings.Index(fn, swap[0]); i >= 0 && strings.Contains(fn[:i], ":\n") {
			return fn[:i] + swap[1] + fn[i+len(swap[0]):]
		}
	}
	return fn
}

// rewriteNaively finds the blanked function called name in the file
// context and gives it a body that returns its first argument.
func rewriteNaively(context, name string) string {
	lines := strings.Split(context, "\n")
	var out []string
	in := false
	indent := ""
	for _, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		if !in && (strings.HasPrefix(trimmed, "def "+name+"(")) {
			in = true
			indent = l[:len(l)-len(trimmed)]
		}
		if !in {
			continue
		}
		if strings.TrimSpace(l) == "..." {
			arg := regexp.MustCompile(`\((?:self, )?(\w+)`).FindStringSubmatch(out[0])
			ret := "None"
			if arg != nil && arg[1] != "self" {
				ret = arg[1]
			}
			out = append(out, l[:len(l)-3]+"return "+ret)
			break
		}
		out = append(out, l)
	}
	for i := range out {
		out[i] = strings.TrimPrefix(out[i], indent)
	}
	return strings.Join(out, "\n")
}

func readLMSource(t testing.TB) []byte {
	src, err := os.ReadFile(filepath.Join("testdata", "lm", "shapes.py"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestLMPromptsGolden renders the prompts of both LM rules for every
// function of testdata/lm/shapes.py (refresh with -update).
func TestLMPromptsGolden(t *testing.T) {
	targets, err := lmTargets("geo/shapes.py", readLMSource(t), Options{}, LMRules)
	if err != nil {
		t.Fatal(err)
	}
	lmrulestest.GoldenPrompts(t, targets, prompt, filepath.Join("testdata", "lm", "prompts.golden"), *update)
	// Every function and method but the nested-free __init__ filter: five
	// functions, two rules.
	if len(targets) != 10 {
		t.Errorf("%d targets, want 10", len(targets))
	}
}

// TestFunctionInReply reads model replies of many shapes.
func TestFunctionInReply(t *testing.T) {
	const fn = "def clamp(x, lo, hi):\n    if x <= lo:\n        return lo\n    return x"
	cases := []struct {
		name, reply string
		ok          bool
	}{
		{"fenced with prose", "Here you go:\n\n```python\n" + fn + "\n```\nHope it helps.", true},
		{"bare", fn + "\n", true},
		{"crlf", strings.ReplaceAll("```py\n"+fn+"\n```", "\n", "\r\n"), true},
		{"untagged fence", "```\n" + fn + "\n```", true},
		{"second fence", "```bash\npytest\n```\nand the code:\n```python\n" + fn + "\n```", true},
		{"method in a class", "```python\nclass A:\n    def clamp(x, lo, hi):\n        if x <= lo:\n            return lo\n        return x\n```", true},
		{"indented", "    " + strings.ReplaceAll(fn, "\n", "\n    "), true},
		{"prose then code without fence", "The fix:\n" + fn + "\n", true},
		{"unterminated fence", "```python\n" + fn + "\n", true},
		{"with decorator", "```python\n@cache\n" + fn + "\n```", true},
		{"other function", "```python\ndef other(x):\n    return x\n```", false},
		{"garbage", "I cannot do that.", false},
		{"syntax error", "```python\ndef clamp(x, lo, hi):\n    if x <= lo\n        return lo\n```", false},
		{"empty", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := functionInReply(c.reply, "clamp")
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
// function's bytes change, the diff applies with git and patch, and
// replies that change the signature, change nothing or break the file are
// dropped with their reason.
func TestLMMutation(t *testing.T) {
	src := readLMSource(t)
	targets, err := lmTargets("shapes.py", src, Options{}, []string{RuleLMModify})
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
		{"modified function", "clamp", "```python\ndef clamp(x, lo, hi):\n    \"\"\"Return x limited to the closed range [lo, hi].\"\"\"\n    if x < lo:\n        return lo\n    if x >= hi:\n        return hi\n    return x\n```", ""},
		{"modified method", "Rect.scaled", "```python\ndef scaled(self, k: float) -> \"Rect\":\n    return Rect(self.w * k, self.h)\n```", ""},
		{"decorated method keeps its decorator", "Rect.area", "def area(self) -> float:\n    \"\"\"The rectangle's area.\"\"\"\n    return self.w + self.h\n", ""},
		{"changed parameters", "clamp", "def clamp(x, lo, hi=0):\n    return x\n", lmrules.DropSignature},
		{"changed return annotation", "Rect.area", "def area(self) -> int:\n    return 0\n", lmrules.DropSignature},
		{"unchanged", "hypot", "```python\ndef hypot(a, b):\n    total = a * a + b * b\n    return math.sqrt(total)\n```", lmrules.DropUnchanged},
		{"no function", "hypot", "Sorry.", lmrules.DropNoCode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg, ok := byName[c.symbol]
			if !ok {
				t.Fatalf("no target %s", c.symbol)
			}
			m, drop := lmPython.Mutation(tg, c.reply)
			if drop != c.drop {
				t.Fatalf("drop = %q, want %q", drop, c.drop)
			}
			if drop != "" {
				return
			}
			if m.Kind != RuleLMModify || m.Symbol != c.symbol || m.File != "shapes.py" || m.Line != tg.Line {
				t.Errorf("mutation fields: %+v", m)
			}
			for _, tool := range []string{"git", "patch"} {
				got := applyDiff(t, tool, "shapes.py", src, m.Diff)
				if !bytes.Equal(got[:tg.Start], src[:tg.Start]) {
					t.Errorf("%s: bytes before the function changed", tool)
				}
				tail := src[tg.End:]
				if !bytes.HasSuffix(got, tail) {
					t.Errorf("%s: bytes after the function changed", tool)
				}
				if !parsesClean(got) {
					t.Errorf("%s: the mutated file does not parse", tool)
				}
			}
		})
	}
}

// lmInjection injects into a git repository holding testdata/lm/shapes.py
// and a test.
func lmInjection(t *testing.T) lmrulestest.Injection {
	dir := lmrulestest.Repo(t, map[string][]byte{
		"geo/shapes.py":        readLMSource(t),
		"geo/__init__.py":      nil,
		"tests/test_shapes.py": []byte("from geo.shapes import clamp\n\ndef test_clamp():\n    assert clamp(5, 0, 3) == 3\n"),
	})
	return lmrulestest.Injection{Sandbox: dirSandbox{dir}, Procedural: RuleChangeOperator}
}

// TestLMRulesThroughPlugin runs lm_modify and lm_rewrite through the real
// plugin protocol (sdktest: gRPC, the model and the sandbox lent through
// the broker) with the fake model, and checks that each reply became a
// candidate or was dropped as its style says.
func TestLMRulesThroughPlugin(t *testing.T) {
	c := sdktest.Connect(t, New())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := lmInjection(t).Both(ctx, t, c.BugInjector(), fakeModel(), 10, "garbage", "signature") // 5 functions × 2 rules
	src := readLMSource(t)
	for _, m := range got {
		if m.Injector != Injector || m.File != "geo/shapes.py" {
			t.Errorf("mutation %+v", m)
		}
		if strings.Contains(m.Diff, "(strict, ") {
			t.Errorf("a reply with a changed signature became a candidate:\n%s", m.Diff)
		}
		mutated := applyDiff(t, "git", "geo/shapes.py", src, m.Diff)
		if !parsesClean(mutated) {
			t.Errorf("%s does not parse", m.ID)
		}
	}
}

// TestLMLimitsAndErrors: model_calls caps the calls, a mixed
// procedural+LM configuration gives both, a model that always fails is an
// error, and model_calls = 0 is refused.
func TestLMLimitsAndErrors(t *testing.T) {
	err := lmInjection(t).Limits(t, func(log func(string)) sdk.BugInjector { return BugInjector{Log: log} }, fakeModel())
	if !errors.Is(err, ErrOptions) {
		t.Errorf("model_calls = 0: got %v", err)
	}
}

// FuzzFunctionInReply: no reply makes the reader panic, and a function it
// finds parses on its own.
func FuzzFunctionInReply(f *testing.F) {
	f.Add("```python\ndef clamp(x):\n    return x\n```")
	f.Add("def clamp(x):\n  return x\nThat is all.")
	f.Add("```\nclass A:\n    def clamp(self):\n        pass\n")
	f.Add("```python\n@d\nasync def clamp(x):\n\treturn await x\n```")
	f.Fuzz(func(t *testing.T, reply string) {
		fn, ok := functionInReply(reply, "clamp")
		if ok && !parsesClean([]byte(fn.text+"\n")) {
			t.Fatalf("found a function that does not parse:\n%s", fn.text)
		}
	})
}
