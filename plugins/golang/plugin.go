package golang

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// listTimeout bounds the command that lists the repository's Go files.
const listTimeout = 2 * time.Minute

// Config is the `injector "golang" "NAME" { … }` block.
type Config struct {
	// Rules names the rules to run; empty runs all of them.
	Rules []string `json:"rules"`
	// Probability that each candidate is kept; unset means 1.
	Probability *float64 `json:"probability"`
	// Seed seeds the sampling.
	Seed uint64 `json:"seed"`
	// MaxPerFunction, MinStatements and MaxStatements are Options'.
	MaxPerFunction int `json:"max_per_function"`
	MinStatements  int `json:"min_statements"`
	MaxStatements  int `json:"max_statements"`
	// Files keeps the files matching one of these globs (path.Match per
	// path segment, ** for any number of segments; a pattern without a
	// slash matches the base name). Empty keeps every .go file outside
	// vendor and testdata directories.
	Files []string `json:"files"`
	// ModelCalls caps the LM rules' model calls (default
	// DefaultModelCalls); ModelParallel is how many are in flight at once
	// (default DefaultModelParallel).
	ModelCalls    *int `json:"model_calls"`
	ModelParallel *int `json:"model_parallel"`
}

// Schema is the configuration the bug injector accepts.
var Schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"rules":            {Type: sdk.TypeStringList, Description: "rules to run (default every procedural rule): " + strings.Join(Rules, ", ") + "; the LM rules " + strings.Join(LMRules, " and ") + " run only when named here and need the source's model"},
	"probability":      {Type: sdk.TypeNumber, Description: "probability in [0, 1] that each candidate is kept (default 1)"},
	"seed":             {Type: sdk.TypeNumber, Description: "seed of the sampling (default 0)"},
	"max_per_function": {Type: sdk.TypeNumber, Description: "keep at most this many candidates per function, picked at random (default no limit)"},
	"min_statements":   {Type: sdk.TypeNumber, Description: "skip functions with fewer statements"},
	"max_statements":   {Type: sdk.TypeNumber, Description: "skip functions with more statements"},
	"files":            {Type: sdk.TypeStringList, Description: "globs of the files to mutate, ** for any directories (default every .go file outside vendor/ and testdata/)"},
	"model_calls":      {Type: sdk.TypeNumber, Description: "lm_modify/lm_rewrite: at most this many model calls, functions drawn at random with the seed (default 20)"},
	"model_parallel":   {Type: sdk.TypeNumber, Description: "lm_modify/lm_rewrite: model calls in flight at once (default 4)"},
}}

// New returns the plugin: the Go language, a bug injector and a go test
// log parser.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "golang",
		Version:     Version,
		Description: "Go language plugin: the language (image with a warmed build cache, go test commands and their parse), bug injector (SWE-smith's procedural modifiers over go/ast, LM rewrites) and go test log parser",
		BugInjector: Injector{Warn: func(err error) { fmt.Fprintln(os.Stderr, "warning:", err) }, Log: logInfo},
		LogParser:   LogParser{},
		Language:    Language{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindBugInjector: Schema, sdk.KindLogParser: {}, sdk.KindLanguage: {}},
	}
}

// Injector proposes mutations of the Go files of the repository in the
// sandbox the host lends.
type Injector struct {
	// Warn receives the files skipped because they do not parse.
	Warn func(error)
	// Log receives a summary line of the LM rules' model calls (how many,
	// how many replies were dropped and why); nil drops it.
	Log func(msg string)
}

var _ sdk.BugInjector = Injector{}

// Options turns the configuration into Mutate's options.
func (c Config) Options() (Options, error) {
	p := 1.0
	if c.Probability != nil {
		p = *c.Probability
	}
	opts := Options{
		Seed:           c.Seed,
		MinStatements:  c.MinStatements,
		MaxStatements:  c.MaxStatements,
		MaxPerFunction: c.MaxPerFunction,
		Rules:          map[string]float64{},
	}
	rules := c.Rules
	if len(rules) == 0 {
		rules = Rules
	}
	for _, r := range rules {
		if !isLMRule(r) {
			opts.Rules[r] = p
		}
	}
	for _, g := range c.Files {
		if _, err := path.Match(g, ""); err != nil {
			return Options{}, fmt.Errorf("golang: files: %q: %w", g, err)
		}
	}
	return opts, opts.Check()
}

// lmSettings returns the LM rules the configuration names, with their
// keep probability, and the call limits.
func (c Config) lmSettings() (rules map[string]float64, calls, parallel int, err error) {
	p := 1.0
	if c.Probability != nil {
		p = *c.Probability
	}
	for _, r := range c.Rules {
		if isLMRule(r) {
			if rules == nil {
				rules = map[string]float64{}
			}
			rules[r] = p
		}
	}
	calls, parallel = DefaultModelCalls, DefaultModelParallel
	if c.ModelCalls != nil {
		calls = *c.ModelCalls
	}
	if c.ModelParallel != nil {
		parallel = *c.ModelParallel
	}
	if calls < 1 || parallel < 1 {
		return nil, 0, 0, errors.New("golang: model_calls and model_parallel must be at least 1")
	}
	return rules, calls, parallel, nil
}

// Mutations sends the mutations of every Go file the sandbox's git index
// lists, file by file in git's order. When the rules name LM rules, the
// functions they may rewrite are gathered on the way, at most model_calls
// of them drawn at random, and the model's candidates sent after the
// procedural ones; without a lent model that is ErrNoModel.
func (in Injector) Mutations(ctx context.Context, req sdk.InjectRequest, send func(sdk.Mutation) error) error {
	var c Config
	if err := req.Config.Decode(&c); err != nil {
		return err
	}
	opts, err := c.Options()
	if err != nil {
		return err
	}
	lmRules, calls, parallel, err := c.lmSettings()
	if err != nil {
		return err
	}
	if len(lmRules) > 0 && req.Model == nil {
		return fmt.Errorf("golang: rules %s: %w", strings.Join(slices.Sorted(maps.Keys(lmRules)), ", "), ErrNoModel)
	}
	var targets []lmTarget
	if req.Sandbox == nil {
		return fmt.Errorf("golang: the injector reads the repository from a sandbox: %w", sdk.ErrNotLent)
	}
	res, err := req.Sandbox.Exec(ctx, "git ls-files -z -- '*.go'", listTimeout)
	if err != nil {
		return fmt.Errorf("golang: list files: %w", err)
	}
	if res.ExitCode != 0 || res.TimedOut {
		return fmt.Errorf("golang: list files: git ls-files exited %d: %s", res.ExitCode, strings.TrimSpace(res.Output))
	}
	for _, name := range strings.Split(res.Output, "\x00") {
		name = strings.TrimSpace(name)
		if name == "" || !strings.HasSuffix(name, ".go") || !c.keep(name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		src, err := req.Sandbox.ReadFile(ctx, name)
		if err != nil {
			return fmt.Errorf("golang: read %s: %w", name, err)
		}
		if len(lmRules) > 0 {
			ts, err := lmTargets(name, src, opts, lmRules)
			if err == nil {
				targets = append(targets, ts...)
			}
		}
		if len(opts.Rules) == 0 {
			continue // only LM rules named
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
	if len(lmRules) == 0 {
		return nil
	}
	stats, err := runLM(ctx, req.Model, targets, opts.Seed, calls, parallel, send)
	if in.Log != nil {
		in.Log(fmt.Sprintf("golang injector, %s: %d functions eligible, %s", strings.Join(slices.Sorted(maps.Keys(lmRules)), "+"), len(targets), stats))
	}
	return err
}

// keep reports whether the configuration selects the file.
func (c Config) keep(name string) bool {
	if len(c.Files) == 0 {
		for _, dir := range strings.Split(path.Dir(name), "/") {
			if dir == "vendor" || dir == "testdata" {
				return false
			}
		}
		return true
	}
	for _, g := range c.Files {
		if !strings.Contains(g, "/") && matchGlob([]string{g}, []string{path.Base(name)}) ||
			matchGlob(strings.Split(g, "/"), strings.Split(name, "/")) {
			return true
		}
	}
	return false
}

// matchGlob matches path segments against pattern segments: ** matches any
// number of segments, others as path.Match.
func matchGlob(pattern, name []string) bool {
	for len(pattern) > 0 {
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
		if ok, err := path.Match(pattern[0], name[0]); err != nil || !ok {
			return false
		}
		pattern, name = pattern[1:], name[1:]
	}
	return len(name) == 0
}

// logInfo writes msg to stderr as an hclog JSON line, which the host's
// plugin client shows at info level.
func logInfo(msg string) {
	line, _ := json.Marshal(map[string]string{"@level": "info", "@message": msg, "@module": "golang", "@timestamp": time.Now().Format("2006-01-02T15:04:05.000000Z07:00")})
	fmt.Fprintln(os.Stderr, string(line))
}
