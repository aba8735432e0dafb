package language

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/swelego/swelego/sdk"
)

// Errors a caller may test for with errors.Is.
var (
	// ErrUnknown: no plugin serves the language.
	ErrUnknown = errors.New("no plugin serves the language")
	// ErrNone: the task or environment names no language and no default
	// is set.
	ErrNone = errors.New("no language")
)

// Unknown marks err, a lookup's failure to find a language, as wrapping
// ErrUnknown too, keeping err's message.
func Unknown(err error) error { return unknownError{err} }

type unknownError struct{ err error }

func (e unknownError) Error() string   { return e.err.Error() }
func (e unknownError) Unwrap() []error { return []error{ErrUnknown, e.err} }

// Lookup finds the plugin serving the language a task names (by its name
// or one of its aliases). It fails with an error wrapping ErrUnknown when
// none does.
type Lookup func(ctx context.Context, name string) (sdk.Language, error)

// Language is one language as core uses it: the plugin serving it, what
// it described of itself and the configuration every call gets.
type Language struct {
	// Spec is what the plugin's Describe returned.
	Spec   sdk.LanguageSpec
	impl   sdk.Language
	config sdk.Config
}

// New describes impl once and returns it as a Language.
func New(ctx context.Context, impl sdk.Language, cfg sdk.Config) (*Language, error) {
	if impl == nil {
		return nil, errors.New("language: nil plugin")
	}
	spec, err := impl.Describe(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("describe language: %w", err)
	}
	if strings.TrimSpace(spec.Name) == "" {
		return nil, errors.New("describe language: the plugin gave no name")
	}
	return &Language{Spec: spec, impl: impl, config: cfg}, nil
}

// Name is the language's name, as its plugin describes it and tasks give it.
func (l *Language) Name() string { return l.Spec.Name }

// Is reports whether name is the language's name or one of its aliases
// (case does not matter).
func (l *Language) Is(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	if strings.ToLower(l.Spec.Name) == name {
		return true
	}
	return slices.ContainsFunc(l.Spec.Aliases, func(a string) bool { return strings.ToLower(a) == name })
}

// TestCommand asks the plugin for the command that runs the tests req
// names.
func (l *Language) TestCommand(ctx context.Context, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	tc, err := l.impl.TestCommand(ctx, l.config, req)
	if err != nil {
		return sdk.TestCommand{}, fmt.Errorf("%s: test command: %w", l.Spec.Name, err)
	}
	if strings.TrimSpace(tc.Command) == "" {
		return sdk.TestCommand{}, fmt.Errorf("%s: test command: the plugin gave an empty command", l.Spec.Name)
	}
	return tc, nil
}

// ParseTestRun asks the plugin to read one run of a TestCommand.
func (l *Language) ParseTestRun(ctx context.Context, run sdk.TestRun) (sdk.TestReport, error) {
	rep, err := l.impl.ParseTestRun(ctx, l.config, run)
	if err != nil {
		return sdk.TestReport{}, fmt.Errorf("%s: parse test run: %w", l.Spec.Name, err)
	}
	return rep, nil
}

// CheckCommand asks the plugin for the compile check of the changed
// files; "" means the language has none for them.
func (l *Language) CheckCommand(ctx context.Context, files []string) (string, error) {
	cmd, err := l.impl.CheckCommand(ctx, l.config, sdk.CheckRequest{Files: files})
	if err != nil {
		return "", fmt.Errorf("%s: check command: %w", l.Spec.Name, err)
	}
	return cmd, nil
}

// Set resolves language names through a Lookup, once per name, and keeps
// what it found. It is safe for concurrent use.
type Set struct {
	lookup Lookup

	mu    sync.Mutex
	found map[string]*entry
}

type entry struct {
	done chan struct{}
	lang *Language
	err  error
}

// NewSet returns a Set over lookup.
func NewSet(lookup Lookup) *Set {
	return &Set{lookup: lookup, found: map[string]*entry{}}
}

// Get returns the language name names. An empty name fails with ErrNone,
// one no plugin serves with an error wrapping ErrUnknown.
func (s *Set) Get(ctx context.Context, name string) (*Language, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "" {
		return nil, ErrNone
	}
	if s == nil || s.lookup == nil {
		return nil, fmt.Errorf("%w %q (no language plugins are available)", ErrUnknown, name)
	}
	s.mu.Lock()
	e, ok := s.found[key]
	if !ok {
		e = &entry{done: make(chan struct{})}
		s.found[key] = e
		s.mu.Unlock()
		e.lang, e.err = s.resolve(ctx, key)
		close(e.done)
		if e.err != nil && ctx.Err() != nil {
			// A cancelled lookup says nothing about the language.
			s.mu.Lock()
			delete(s.found, key)
			s.mu.Unlock()
		}
		return e.lang, e.err
	}
	s.mu.Unlock()
	select {
	case <-e.done:
		return e.lang, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Set) resolve(ctx context.Context, name string) (*Language, error) {
	impl, err := s.lookup(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("language %q: %w", name, err)
	}
	l, err := New(ctx, impl, nil)
	if err != nil {
		return nil, fmt.Errorf("language %q: %w", name, err)
	}
	if !l.Is(name) {
		return nil, fmt.Errorf("language %q: the plugin found for it describes %q", name, l.Spec.Name)
	}
	return l, nil
}

// Static is a Lookup over plugins held in this process (tests, and
// first-party plugins used in-process): each is described on first use
// and found by its name or aliases.
func Static(impls ...sdk.Language) Lookup {
	var (
		mu    sync.Mutex
		specs []sdk.LanguageSpec
	)
	return func(ctx context.Context, name string) (sdk.Language, error) {
		mu.Lock()
		defer mu.Unlock()
		if specs == nil {
			for _, impl := range impls {
				spec, err := impl.Describe(ctx, nil)
				if err != nil {
					return nil, fmt.Errorf("describe language: %w", err)
				}
				specs = append(specs, spec)
			}
		}
		var names []string
		for i, spec := range specs {
			l := Language{Spec: spec}
			if l.Is(name) {
				return impls[i], nil
			}
			names = append(names, spec.Name)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknown, name, strings.Join(names, ", "))
	}
}
