package main

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
)

// listTimeout bounds the command that lists the repository's files.
const listTimeout = 2 * time.Minute

// Config is the `injector "javascript" "NAME" { … }` block.
type Config struct {
	// Rules names the rules to run; empty runs all of them.
	Rules []string `json:"rules"`
	// Probability that each candidate is kept; unset means 1.
	Probability *float64 `json:"probability"`
	// Seed seeds the sampling.
	Seed uint64 `json:"seed"`
	// MaxPerFile keeps at most this many candidates per file.
	MaxPerFile int `json:"max_per_file"`
	// Files keeps the files matching one of these globs (path.Match per
	// segment, ** for any number of segments; a pattern without a slash
	// matches the base name). Empty keeps every source file that is not
	// a test file and not under node_modules.
	Files []string `json:"files"`
}

// InjectorSchema is the configuration the bug injector accepts.
var InjectorSchema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"rules":        {Type: sdk.TypeStringList, Description: "rules to run (default all): " + strings.Join(Rules, ", ")},
	"probability":  {Type: sdk.TypeNumber, Description: "probability in [0, 1] that each candidate is kept (default 1)"},
	"seed":         {Type: sdk.TypeNumber, Description: "seed of the sampling (default 0)"},
	"max_per_file": {Type: sdk.TypeNumber, Description: "keep at most this many candidates per file, picked at random (default no limit)"},
	"files":        {Type: sdk.TypeStringList, Description: "globs of the files to mutate, ** for any directories (default every .js, .mjs and .cjs file that is not a test and not under node_modules/)"},
}}

// Options turns the configuration into Mutate's options.
func (c Config) Options() (Options, error) {
	p := 1.0
	if c.Probability != nil {
		p = *c.Probability
	}
	opts := Options{Seed: c.Seed, MaxPerFile: c.MaxPerFile}
	if len(c.Rules) > 0 {
		opts.Rules = map[string]float64{}
		for _, r := range c.Rules {
			opts.Rules[r] = p
		}
	} else if p != 1 {
		opts.Rules = map[string]float64{}
		for _, r := range Rules {
			opts.Rules[r] = p
		}
	}
	for _, g := range c.Files {
		if _, err := path.Match(g, ""); err != nil {
			return Options{}, fmt.Errorf("javascript: files: %q: %w", g, err)
		}
	}
	return opts, opts.Check()
}

// Injector proposes mutations of the JavaScript files of the repository
// in the sandbox the host lends.
type Injector struct {
	// Warn receives the files skipped because they do not lex.
	Warn func(error)
}

var _ sdk.BugInjector = Injector{}

// Mutations sends the mutations of every source file git lists, file by
// file in git's order.
func (in Injector) Mutations(ctx context.Context, req sdk.InjectRequest, send func(sdk.Mutation) error) error {
	var c Config
	if err := req.Config.Decode(&c); err != nil {
		return err
	}
	opts, err := c.Options()
	if err != nil {
		return err
	}
	if req.Sandbox == nil {
		return fmt.Errorf("javascript: the injector reads the repository from a sandbox: %w", sdk.ErrNotLent)
	}
	res, err := req.Sandbox.Exec(ctx, "git ls-files -z -- '*.js' '*.mjs' '*.cjs'", listTimeout)
	if err != nil {
		return fmt.Errorf("javascript: list files: %w", err)
	}
	if res.ExitCode != 0 || res.TimedOut {
		return fmt.Errorf("javascript: list files: git ls-files exited %d: %s", res.ExitCode, strings.TrimSpace(res.Output))
	}
	for _, name := range strings.Split(res.Output, "\x00") {
		if name == "" || !isSource(name) || !c.keep(name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		src, err := req.Sandbox.ReadFile(ctx, name)
		if err != nil {
			return fmt.Errorf("javascript: read %s: %w", name, err)
		}
		ms, err := Mutate(name, src, opts)
		if err != nil {
			if in.Warn != nil {
				in.Warn(fmt.Errorf("skip %s: %w", name, err))
			}
			continue
		}
		for _, m := range ms {
			if err := send(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// keep reports whether the configuration selects the file.
func (c Config) keep(name string) bool {
	if len(c.Files) == 0 {
		return !isTestFile(name) && !strings.Contains("/"+name, "/node_modules/")
	}
	for _, g := range c.Files {
		if !strings.Contains(g, "/") && matchGlob([]string{g}, []string{path.Base(name)}) ||
			matchGlob(strings.Split(g, "/"), strings.Split(name, "/")) {
			return true
		}
	}
	return false
}

// matchGlob matches path segments against pattern segments: ** matches
// any number of segments, the others as path.Match.
func matchGlob(pattern, name []string) bool {
	if len(pattern) == 0 {
		return len(name) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if matchGlob(pattern[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, err := path.Match(pattern[0], name[0])
	return err == nil && ok && matchGlob(pattern[1:], name[1:])
}
