package language

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// fakeLanguage counts its Describe calls and echoes its config.
type fakeLanguage struct {
	spec      sdk.LanguageSpec
	describes *atomic.Int32
	cmd       string
}

func (f fakeLanguage) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	f.describes.Add(1)
	return f.spec, nil
}

func (f fakeLanguage) TestCommand(_ context.Context, cfg sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	return sdk.TestCommand{Command: f.cmd + " " + strings.Join(req.Tests, " ") + string(cfg)}, nil
}

func (f fakeLanguage) ParseTestRun(context.Context, sdk.Config, sdk.TestRun) (sdk.TestReport, error) {
	return sdk.TestReport{}, errors.New("unreadable")
}

func (f fakeLanguage) CheckCommand(context.Context, sdk.Config, sdk.CheckRequest) (string, error) {
	return "", nil
}

func TestSet(t *testing.T) {
	var n atomic.Int32
	rust := fakeLanguage{spec: sdk.LanguageSpec{Name: "rust", Aliases: []string{"rs"}}, describes: &n, cmd: "cargo test"}
	liar := fakeLanguage{spec: sdk.LanguageSpec{Name: "other"}, describes: &n}
	lookup := func(ctx context.Context, name string) (sdk.Language, error) {
		switch name {
		case "liar":
			return liar, nil
		case "rust", "rs":
			return rust, nil
		}
		return Static(rust)(ctx, name)
	}
	s := NewSet(lookup)
	ctx := context.Background()
	cases := []struct {
		name, want string
		err        error
	}{
		{"rust", "rust", nil},
		{"RS", "rust", nil},
		{" Rust ", "rust", nil},
		{"", "", ErrNone},
		{"cobol", "", ErrUnknown},
		{"liar", "", nil}, // the plugin found describes another language
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := s.Get(ctx, c.name)
			switch {
			case c.want == "" && err == nil:
				t.Fatalf("got %v, want an error", l.Name())
			case c.err != nil && !errors.Is(err, c.err):
				t.Fatalf("err = %v, want %v", err, c.err)
			case c.want != "" && (err != nil || l.Name() != c.want):
				t.Fatalf("got %v, %v; want %s", l, err, c.want)
			}
		})
	}
	// Each name is described once, however often and concurrently it is
	// asked for.
	before := n.Load()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Get(ctx, "rust"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n.Load() != before {
		t.Errorf("%d more Describe calls for a name already resolved", n.Load()-before)
	}
}

func TestLanguageCalls(t *testing.T) {
	var n atomic.Int32
	ctx := context.Background()
	l, err := New(ctx, fakeLanguage{spec: sdk.LanguageSpec{Name: "rust"}, describes: &n, cmd: "cargo test"}, sdk.Config(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := l.TestCommand(ctx, sdk.TestCommandRequest{Tests: []string{"a::b"}})
	if err != nil || tc.Command != "cargo test a::b{}" {
		t.Errorf("TestCommand = %q, %v (the config must reach the plugin)", tc.Command, err)
	}
	if _, err := l.ParseTestRun(ctx, sdk.TestRun{}); err == nil || !strings.Contains(err.Error(), "rust: parse test run: unreadable") {
		t.Errorf("ParseTestRun error = %v", err)
	}
	empty, _ := New(ctx, fakeLanguage{spec: sdk.LanguageSpec{Name: "x"}, describes: &n}, nil)
	if _, err := empty.TestCommand(ctx, sdk.TestCommandRequest{}); err == nil {
		t.Error("an empty command was accepted")
	}
	if _, err := New(ctx, fakeLanguage{describes: &n}, nil); err == nil {
		t.Error("a language without a name was accepted")
	}
	if err := Unknown(errors.New("no plugin serves cobol")); !errors.Is(err, ErrUnknown) || err.Error() != "no plugin serves cobol" {
		t.Errorf("Unknown: %v", err)
	}
}
