package lmrules

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/plugins/internal/unidiff"
	"github.com/swelego/swelego/sdk"
)

// toy is a language of one-line functions, `name(params) = body`, whose
// bodies must balance their parentheses: enough of a language to drive
// the shared plumbing the way the real plugins do.
var toy = Language{
	Injector: "toy",
	Prompt: func(t Target) sdk.ChatRequest {
		return sdk.ChatRequest{Messages: []sdk.Message{
			{Role: "system", Content: "toy"},
			{Role: "user", Content: t.Rule + " " + t.Symbol + "\n```toy\n" + t.Text + "\n```"},
		}}
	},
	Function: func(t Target, reply string) (string, string, bool) {
		fn, ok := FindInReply(reply, []string{"toy"}, toyLine, func(code string) ([]string, bool) {
			for _, m := range toyLine.FindAllStringSubmatch(code, -1) {
				if m[1] == t.Name {
					return m, true
				}
			}
			return nil, false
		})
		if !ok {
			return "", "", false
		}
		return fn[0], fn[2], true
	},
	Unchanged: func(t Target, text string) bool {
		return strings.Join(strings.Fields(text), " ") == strings.Join(strings.Fields(t.Text), " ")
	},
	Parses: func(_ string, src []byte) bool {
		for _, l := range strings.Split(string(src), "\n") {
			m := toyLine.FindStringSubmatch(l)
			if l != "" && (m == nil || strings.Count(m[3], "(") != strings.Count(m[3], ")")) {
				return false
			}
		}
		return true
	},
	Diff: unidiff.Unified,
}

var toyLine = regexp.MustCompile(`(?m)^(\w+)(\([^)\n]*\)) = (.+)$`)

// toyTargets returns a target per function of src and rule.
func toyTargets(file string, src []byte, rules ...string) []Target {
	var out []Target
	for _, r := range rules {
		for _, m := range toyLine.FindAllSubmatchIndex(src, -1) {
			name := string(src[m[2]:m[3]])
			out = append(out, Target{
				Rule: r, File: file, Src: src, Start: m[0], End: m[1],
				Line: bytes.Count(src[:m[0]], []byte("\n")) + 1, Name: name, Symbol: "toy." + name,
				Signature: string(src[m[4]:m[5]]), Text: string(src[m[0]:m[1]]),
			})
		}
	}
	return out
}

const toySrc = "inc(x) = x + 1\ndec(x) = x - 1\nsq(x) = x * x\nmid(a, b) = (a + b) / 2\nneg(x) = 0 - x\nid(x) = x\n"

// scripted answers each prompt with the reply its function's name is
// given (an error for "error"), records the prompts and how many calls
// were in flight at most.
type scripted struct {
	replies map[string]string
	delay   time.Duration

	mu             sync.Mutex
	asked          []string
	inFlight, most int
}

func (s *scripted) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	user := req.Messages[len(req.Messages)-1].Content
	name := strings.TrimPrefix(strings.Fields(user)[1], "toy.")
	s.mu.Lock()
	s.asked = append(s.asked, name)
	s.inFlight++
	s.most = max(s.most, s.inFlight)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	time.Sleep(s.delay)
	reply, ok := s.replies[name]
	if !ok || reply == "error" {
		return sdk.ChatResponse{}, fmt.Errorf("no answer for %s", name)
	}
	return sdk.ChatResponse{Message: sdk.Message{Role: "assistant", Content: reply}}, nil
}

func TestMutation(t *testing.T) {
	src := []byte(toySrc)
	byName := map[string]Target{}
	for _, tg := range toyTargets("m.toy", src, Modify) {
		byName[tg.Name] = tg
	}
	cases := []struct {
		name, fn, reply, drop, want string
	}{
		{"fenced, tagged", "inc", "Here:\n```toy\ninc(x) = x + 2\n```\nDone.", "", strings.Replace(toySrc, "x + 1", "x + 2", 1)},
		{"bare after prose", "neg", "The bug:\nneg(x) = x - 0\n", "", strings.Replace(toySrc, "0 - x", "x - 0", 1)},
		{"another function only", "inc", "```toy\ndec(x) = x\n```", DropNoCode, ""},
		{"no code", "inc", "I cannot help with that.", DropNoCode, ""},
		{"signature changed", "mid", "mid(a, b, c) = (a + b) / 3", DropSignature, ""},
		{"same but for blanks", "sq", "```toy\nsq(x) =  x *   x\n```", DropUnchanged, ""},
		{"file no longer parses", "mid", "mid(a, b) = (a + b / 2", DropSyntax, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := byName[c.fn]
			m, drop := toy.Mutation(tg, c.reply)
			if drop != c.drop {
				t.Fatalf("drop = %q, want %q", drop, c.drop)
			}
			if drop != "" {
				if m.ID != "" || m.Diff != "" {
					t.Errorf("a dropped reply made %+v", m)
				}
				return
			}
			if m.Injector != "toy" || m.Kind != Modify || m.File != "m.toy" || m.Line != tg.Line || m.Symbol != "toy."+c.fn || m.Meta["swesmith"] != Modify {
				t.Errorf("mutation fields: %+v", m)
			}
			if id, err := hex.DecodeString(m.ID); err != nil || len(id) != 8 {
				t.Errorf("ID %q is not 8 bytes of hex", m.ID)
			}
			text := toyLine.FindString(strings.SplitN(c.want, "\n", tg.Line+1)[tg.Line-1])
			want := unidiff.Unified("m.toy", src, unidiff.Edit{Start: tg.Start, End: tg.End, Text: text})
			if m.Diff != want || string(unidiff.Edit{Start: tg.Start, End: tg.End, Text: text}.Apply(src)) != c.want {
				t.Errorf("diff =\n%s\nwant\n%s", m.Diff, want)
			}
			// The same reply gives the same ID; the other rule, another.
			again, _ := toy.Mutation(tg, c.reply)
			tg.Rule = Rewrite
			other, _ := toy.Mutation(tg, c.reply)
			if again.ID != m.ID || other.ID == m.ID {
				t.Errorf("IDs %s, again %s, other rule %s", m.ID, again.ID, other.ID)
			}
		})
	}
}

// TestRun: every outcome of a call is counted, candidates come out in
// the targets' order, at most Parallel calls are in flight, and the budget draws
// the same functions for the same seed.
func TestRun(t *testing.T) {
	replies := map[string]string{
		"inc": "```toy\ninc(x) = x + 2\n```",
		"dec": "error",
		"sq":  "sq(x, y) = x * y",
		"mid": "mid(a, b) = (a + b) / 2",
		"neg": "mid(a, b) = (a",
		"id":  "```\nid(x) = (x)\n```",
	}
	for _, parallel := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("parallel=%d", parallel), func(t *testing.T) {
			model := &scripted{replies: replies, delay: 5 * time.Millisecond}
			var got []sdk.Mutation
			targets := toyTargets("r.toy", []byte(toySrc), Modify, Rewrite)
			stats, err := toy.Run(context.Background(), model, targets, Budget{Seed: 1, Calls: 100, Parallel: parallel}, func(m sdk.Mutation) error {
				got = append(got, m)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := Stats{Calls: 12, Candidates: 4, Dropped: map[string]int{DropError: 2, DropSignature: 2, DropUnchanged: 2, DropNoCode: 2}}
			if stats.String() != want.String() || fmt.Sprint(stats.Dropped) != fmt.Sprint(want.Dropped) {
				t.Errorf("stats %s %v, want %s", stats, stats.Dropped, want)
			}
			// In the targets' order, whichever call answered first.
			var order []string
			for _, m := range got {
				order = append(order, m.Kind+" "+m.Symbol)
			}
			if want := "lm_modify toy.inc, lm_modify toy.id, lm_rewrite toy.inc, lm_rewrite toy.id"; strings.Join(order, ", ") != want {
				t.Errorf("candidates %s, want %s", strings.Join(order, ", "), want)
			}
			if model.most > max(parallel, 1) {
				t.Errorf("%d calls in flight, parallel = %d", model.most, parallel)
			}
		})
	}
	t.Run("budget", func(t *testing.T) {
		draw := func(seed uint64) []string {
			model := &scripted{replies: replies}
			var got []string
			_, err := toy.Run(context.Background(), model, toyTargets("r.toy", []byte(toySrc), Modify), Budget{Seed: seed, Calls: 3, Parallel: 1}, func(m sdk.Mutation) error {
				got = append(got, m.Symbol)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(model.asked) != 3 {
				t.Fatalf("%d calls, budget 3", len(model.asked))
			}
			return model.asked
		}
		a, b := draw(7), draw(7)
		if strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("seed 7 drew %v, then %v", a, b)
		}
		order := map[string]int{"inc": 0, "dec": 1, "sq": 2, "mid": 3, "neg": 4, "id": 5}
		for i := 1; i < len(a); i++ {
			if order[a[i-1]] > order[a[i]] {
				t.Errorf("drawn functions asked out of file order: %v", a)
			}
		}
	})
}

func TestRunErrors(t *testing.T) {
	targets := func() []Target { return toyTargets("e.toy", []byte(toySrc), Modify) }
	ignore := func(sdk.Mutation) error { return nil }
	ctx := context.Background()

	_, err := toy.Run(ctx, &scripted{}, targets(), Budget{Calls: 10}, ignore)
	if err == nil || !strings.HasPrefix(err.Error(), "toy injector: every model call failed: no answer for") {
		t.Errorf("every call failing: %v", err)
	}
	if _, err := toy.Run(ctx, &scripted{replies: map[string]string{"inc": "inc(x) = 1"}}, targets(), Budget{Calls: 10}, ignore); err != nil {
		t.Errorf("one call answered: %v", err)
	}
	stop := errors.New("stop")
	stats, err := toy.Run(ctx, &scripted{replies: map[string]string{"inc": "inc(x) = 1", "dec": "dec(x) = 1"}}, targets(), Budget{Calls: 10}, func(sdk.Mutation) error { return stop })
	if !errors.Is(err, stop) || stats.Candidates != 1 {
		t.Errorf("send failing: %v after %d candidates", err, stats.Candidates)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := toy.Run(cancelled, &scripted{}, targets(), Budget{Calls: 10}, ignore); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestFindInReply(t *testing.T) {
	start := regexp.MustCompile(`(?m)^fn `)
	// find takes code that starts with "fn" and returns its first line.
	find := func(code string) (string, bool) {
		if !strings.HasPrefix(code, "fn ") {
			return "", false
		}
		return strings.SplitN(code, "\n", 2)[0], true
	}
	cases := []struct {
		name, reply, want string
	}{
		{"tagged fence before an untagged one", "```\nfn untagged\n```\n```Toy\nfn tagged\n```", "fn tagged"},
		{"untagged fence", "Sure:\n```\nfn untagged\n```", "fn untagged"},
		{"fence of another language", "```sh\nfn other\n```", "fn other"},
		{"unfenced, whole reply", "fn bare\nmore", "fn bare"},
		{"unfenced after prose", "Here it is.\nfn late\n", "fn late"},
		{"unterminated fence", "```toy\nfn open", "fn open"},
		{"fence info after the tag", "```toy title=x\nfn info\n```", "fn info"},
		{"nothing", "No code today.", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := FindInReply(c.reply, []string{"toy"}, start, find)
			if ok != (c.want != "") || got != c.want {
				t.Errorf("got %q, %v; want %q", got, ok, c.want)
			}
		})
	}
}

// FuzzFindInReply: no reply makes the reader panic, and what it hands to
// find is always a part of the reply.
func FuzzFindInReply(f *testing.F) {
	f.Add("```go\nfunc F() {}\n```")
	f.Add("prose\n```\ncode\n")
	f.Add("``` \n```\n```")
	start := regexp.MustCompile(`(?m)^func `)
	f.Fuzz(func(t *testing.T, reply string) {
		FindInReply(reply, []string{"go"}, start, func(code string) (struct{}, bool) {
			if !strings.Contains(reply, code) {
				t.Fatalf("code %q is not in the reply %q", code, reply)
			}
			return struct{}{}, false
		})
	})
}

func TestIsRule(t *testing.T) {
	for _, r := range Rules {
		if !IsRule(r) {
			t.Errorf("IsRule(%q) = false", r)
		}
	}
	for _, r := range []string{"", "lm", "change_operator", "LM_MODIFY"} {
		if IsRule(r) {
			t.Errorf("IsRule(%q) = true", r)
		}
	}
}

// TestWindow cuts a long file around the function at line boundaries and
// marks what it left out.
func TestWindow(t *testing.T) {
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "x%03d = %d\n", i, i)
	}
	s := b.String()
	from := strings.Index(s, "x200")
	to := strings.Index(s, "x205")
	got := Window(s, from, to, 1000, "# ...")
	if len(got) > 1100 || !strings.Contains(got, "x200 = 200\n") || !strings.Contains(got, "x204 = 204\n") {
		t.Fatalf("window is %d bytes:\n%s", len(got), got)
	}
	if !strings.HasPrefix(got, "# ...\nx") || !strings.HasSuffix(got, "\n# ...\n") {
		t.Errorf("window does not start and end with whole lines and markers:\n%s", got)
	}
	if short := "a = 1\n"; Window(short, 0, 3, 1000, "#") != short {
		t.Error("a short file is not shown whole")
	}
	if got := Window(s, 0, 10, 200, "//"); !strings.HasPrefix(got, "x000 = 0\n") || !strings.HasSuffix(got, "\n//\n") {
		t.Errorf("a window at the start of the file:\n%s", got)
	}
}
