package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// ErrUnknownLanguage: no plugin serves the language a task names.
var ErrUnknownLanguage = errors.New("unknown language")

// Language is a language some plugin serves: the plugin's name, what its
// Describe answered, and the language itself, supervised by the host.
type Language struct {
	Plugin string
	Spec   sdk.LanguageSpec
	sdk.Language
}

// Language returns plugin name's language, supervised by the host.
func (h *Host) Language(ctx context.Context, name string) (sdk.Language, error) {
	p, err := h.kind(ctx, name, sdk.KindLanguage)
	return language{p}, err
}

// FindLanguage returns the language a task names: the one whose Name or
// one of whose Aliases is lang, compared without regard to case. The
// first call asks every plugin the host knows (its built-in plugins, the
// recipe's and any reattached one) whether it serves the language kind,
// and each that does for its Describe, once; a built-in plugin that does
// not serve the kind is not started. An unknown language is an error
// wrapping ErrUnknownLanguage that lists the known names.
func (h *Host) FindLanguage(ctx context.Context, lang string) (Language, error) {
	index, err := h.languageIndex(ctx)
	if err != nil {
		return Language{}, err
	}
	if l, ok := index[strings.ToLower(lang)]; ok {
		return l, nil
	}
	known := make([]string, 0, len(index))
	for n := range index {
		known = append(known, n)
	}
	sort.Strings(known)
	msg := fmt.Sprintf("%v %q: no plugin serves it (known: %s)", ErrUnknownLanguage, lang, strings.Join(known, ", "))
	if len(known) == 0 {
		msg = fmt.Sprintf("%v %q: no plugin serves a language", ErrUnknownLanguage, lang)
	}
	if s := suggest(strings.ToLower(lang), known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return Language{}, &languageError{msg: msg}
}

type languageError struct{ msg string }

func (e *languageError) Error() string { return e.msg }
func (e *languageError) Unwrap() error { return ErrUnknownLanguage }

// Languages returns every language the host's plugins serve, by name.
func (h *Host) Languages(ctx context.Context) ([]Language, error) {
	index, err := h.languageIndex(ctx)
	if err != nil {
		return nil, err
	}
	var out []Language
	for n, l := range index {
		if n == strings.ToLower(l.Spec.Name) {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out, nil
}

// languageIndex maps every lower-cased language name and alias to its
// language, built on first use. Two plugins claiming one name is an
// error: which one a task meant cannot be told.
func (h *Host) languageIndex(ctx context.Context) (map[string]Language, error) {
	h.langMu.Lock()
	defer h.langMu.Unlock()
	if h.langs != nil {
		return h.langs, nil
	}
	index := map[string]Language{}
	for _, name := range h.pluginNames() {
		serves, err := h.servesLanguage(ctx, name)
		if err != nil {
			return nil, err
		}
		if !serves {
			continue
		}
		impl, err := h.Language(ctx, name)
		if err != nil {
			return nil, err
		}
		spec, err := impl.Describe(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: describe its language: %w", name, err)
		}
		l := Language{Plugin: name, Spec: spec, Language: impl}
		for _, n := range append([]string{spec.Name}, spec.Aliases...) {
			key := strings.ToLower(n)
			if other, dup := index[key]; dup {
				return nil, fmt.Errorf("language %q is served by plugins %q and %q: leave one out of the recipe", n, other.Plugin, name)
			}
			index[key] = l
		}
	}
	h.langs = index
	return index, nil
}

// pluginNames lists, sorted, the plugins the host knows by name.
func (h *Host) pluginNames() []string {
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for n := range h.opts.Builtins {
		add(n)
	}
	for n := range h.opts.Decls {
		add(n)
	}
	for n := range h.reattach {
		add(n)
	}
	sort.Strings(names)
	return names
}

// servesLanguage reports whether plugin name serves the language kind. A
// built-in plugin is asked in-process, without starting it; any other is
// started and asked for its Info.
func (h *Host) servesLanguage(ctx context.Context, name string) (bool, error) {
	if _, reattached := h.reattach[name]; !reattached {
		loc, err := h.resolve(name)
		if err != nil {
			return false, err
		}
		if loc.Builtin {
			return h.opts.Builtins[loc.Serves]().Info().Serves(sdk.KindLanguage), nil
		}
	}
	info, err := h.Info(ctx, name)
	if err != nil {
		return false, err
	}
	return info.Serves(sdk.KindLanguage), nil
}

type language struct{ p *process }

func (k language) Describe(ctx context.Context, cfg sdk.Config) (out sdk.LanguageSpec, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.Language().Describe(ctx, cfg); return err })
	return out, err
}

func (k language) TestCommand(ctx context.Context, cfg sdk.Config, req sdk.TestCommandRequest) (out sdk.TestCommand, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.Language().TestCommand(ctx, cfg, req); return err })
	return out, err
}

func (k language) ParseTestRun(ctx context.Context, cfg sdk.Config, run sdk.TestRun) (out sdk.TestReport, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.Language().ParseTestRun(ctx, cfg, run); return err })
	return out, err
}

func (k language) CheckCommand(ctx context.Context, cfg sdk.Config, req sdk.CheckRequest) (out string, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.Language().CheckCommand(ctx, cfg, req); return err })
	return out, err
}

// suggest returns the candidate closest to name when it is close enough
// to be a likely typo.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
