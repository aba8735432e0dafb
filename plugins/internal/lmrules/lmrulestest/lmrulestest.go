package lmrulestest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/swelego/swelego/plugins/internal/lmrules"
	"github.com/swelego/swelego/sdk"
)

// FakeModel stands in for a chat model. It answers each prompt in one of
// Styles, picked by a hash of the prompt (so that answers do not depend on
// the order of parallel calls), and records the prompts it answered.
type FakeModel struct {
	Styles []string
	// Answer writes the reply to a user message in a style; an error
	// fails the call and the prompt is not recorded.
	Answer func(prompt, style string) (string, error)

	mu      sync.Mutex
	prompts []string
}

var _ sdk.Model = (*FakeModel)(nil)

// Chat answers the request's last user message.
func (f *FakeModel) Chat(_ context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	var user string
	for _, m := range req.Messages {
		if m.Role == "user" {
			user = m.Content
		}
	}
	reply, err := f.Answer(user, f.StyleOf(user))
	if err != nil {
		return sdk.ChatResponse{}, err
	}
	f.mu.Lock()
	f.prompts = append(f.prompts, user)
	f.mu.Unlock()
	return sdk.ChatResponse{Message: sdk.Message{Role: "assistant", Content: reply}, FinishReason: "stop"}, nil
}

// StyleOf is the style a prompt is answered in.
func (f *FakeModel) StyleOf(prompt string) string {
	h := fnv.New32a()
	h.Write([]byte(prompt))
	return f.Styles[int(h.Sum32())%len(f.Styles)]
}

// Prompts returns the prompts answered so far.
func (f *FakeModel) Prompts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.prompts)
}

// FailingModel fails every call.
type FailingModel struct{}

// Chat fails.
func (FailingModel) Chat(context.Context, sdk.ChatRequest) (sdk.ChatResponse, error) {
	return sdk.ChatResponse{}, errors.New("connection refused")
}

// Repo writes files (path → content) into a new temporary directory, puts
// them in git's index and returns the directory.
func Repo(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := exec.Command("sh", "-c", "git init -q && git add -A")
	git.Dir = dir
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	return dir
}

// GoldenPrompts renders the prompts of targets (rule, symbol, line, then
// every message) and compares them with the file golden, which update
// rewrites first.
func GoldenPrompts(t *testing.T, targets []lmrules.Target, prompt func(lmrules.Target) sdk.ChatRequest, golden string, update bool) {
	t.Helper()
	var b strings.Builder
	for _, tg := range targets {
		fmt.Fprintf(&b, "=== %s %s (line %d)\n", tg.Rule, tg.Symbol, tg.Line)
		for _, m := range prompt(tg).Messages {
			fmt.Fprintf(&b, "--- %s\n%s\n", m.Role, m.Content)
		}
	}
	if update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("prompts differ from %s (run with -update to accept):\n%s", golden, b.String())
	}
}

// Injection is where the LM rules' checks inject.
type Injection struct {
	Sandbox sdk.Sandbox
	// Procedural names a procedural rule of the plugin, which needs no
	// model.
	Procedural string
}

// Both runs both LM rules with inj and model (seed 1, three calls in
// flight) and returns the candidates. It fails t unless the model got
// prompts prompts and the candidates are at least one and at most the
// replies in a style not named in unusable. Then it checks that naming an
// LM rule without a model is an error that says so, and naming only the
// procedural rule is not.
func (in Injection) Both(ctx context.Context, t *testing.T, inj sdk.BugInjector, model *FakeModel, prompts int, unusable ...string) []sdk.Mutation {
	t.Helper()
	var got []sdk.Mutation
	err := inj.Mutations(ctx, sdk.InjectRequest{
		Config:  sdk.Config(`{"rules":["lm_modify","lm_rewrite"],"seed":1,"model_parallel":3}`),
		Sandbox: in.Sandbox,
		Model:   model,
	}, func(m sdk.Mutation) error {
		got = append(got, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	asked := model.Prompts()
	if len(asked) != prompts {
		t.Fatalf("the model got %d prompts, want %d", len(asked), prompts)
	}
	usable := 0
	for _, p := range asked {
		if !slices.Contains(unusable, model.StyleOf(p)) {
			usable++
		}
	}
	if len(got) == 0 || len(got) > usable {
		t.Fatalf("%d candidates from %d usable replies", len(got), usable)
	}
	for _, m := range got {
		if m.Kind != lmrules.Modify && m.Kind != lmrules.Rewrite {
			t.Errorf("an LM rule made a %s candidate: %+v", m.Kind, m)
		}
	}
	err = inj.Mutations(ctx, sdk.InjectRequest{Config: sdk.Config(`{"rules":["lm_rewrite"]}`), Sandbox: in.Sandbox}, func(sdk.Mutation) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "need a model") {
		t.Errorf("lm_rewrite without a model: got %v", err)
	}
	err = inj.Mutations(ctx, sdk.InjectRequest{Config: sdk.Config(`{"rules":["` + in.Procedural + `"]}`), Sandbox: in.Sandbox}, func(sdk.Mutation) error { return nil })
	if err != nil {
		t.Errorf("procedural rules without a model: %v", err)
	}
	return got
}

// Limits checks the LM settings: model_calls caps the calls, procedural
// and LM rules named together give both kinds of candidates and log one
// summary line, and a model whose every call fails is an error. newInjector
// makes the injector with a log function. It returns the error of
// model_calls = 0, which the plugin must refuse, for the caller to check.
func (in Injection) Limits(t *testing.T, newInjector func(log func(string)) sdk.BugInjector, model *FakeModel) error {
	t.Helper()
	ctx := context.Background()
	var msgs []string
	inj := newInjector(func(m string) { msgs = append(msgs, m) })
	kinds := map[string]int{}
	err := inj.Mutations(ctx, sdk.InjectRequest{Config: sdk.Config(`{"rules":["` + in.Procedural + `","lm_modify"],"model_calls":2}`), Sandbox: in.Sandbox, Model: model},
		func(m sdk.Mutation) error { kinds[m.Kind]++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n := len(model.Prompts()); n != 2 || kinds[in.Procedural] == 0 {
		t.Errorf("%d prompts, kinds %v; want 2 prompts and %s candidates", n, kinds, in.Procedural)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "2 model calls") {
		t.Errorf("log = %q", msgs)
	}
	err = inj.Mutations(ctx, sdk.InjectRequest{Config: sdk.Config(`{"rules":["lm_modify"]}`), Sandbox: in.Sandbox, Model: FailingModel{}}, func(sdk.Mutation) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("failing model: got %v", err)
	}
	return inj.Mutations(ctx, sdk.InjectRequest{Config: sdk.Config(`{"rules":["lm_modify"],"model_calls":0}`), Sandbox: in.Sandbox, Model: model}, func(sdk.Mutation) error { return nil })
}
