package python

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Config is the injector's configuration block.
type Config struct {
	Rules           []string           `json:"rules"`
	Probability     *float64           `json:"probability"`
	RuleProbability map[string]float64 `json:"rule_probability"`
	Seed            *float64           `json:"seed"`
	MaxPerFunction  *float64           `json:"max_per_function"`
	MinStatements   *float64           `json:"min_statements"`
	MaxStatements   *float64           `json:"max_statements"`
	MaxComplexity   *float64           `json:"max_complexity"`
	MaxClassSize    *float64           `json:"max_class_size"`
	Files           []string           `json:"files"`
	ModelCalls      *float64           `json:"model_calls"`
	ModelParallel   *float64           `json:"model_parallel"`
}

// Schema is the configuration the injector accepts.
var Schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"rules":            {Type: sdk.TypeStringList, Description: "rules to run (default every procedural rule): " + strings.Join(Rules, ", ") + "; the LM rules " + strings.Join(LMRules, " and ") + " run only when named here and need the source's model"},
	"probability":      {Type: sdk.TypeNumber, Description: "chance in [0, 1] that each candidate is kept (default 1)"},
	"rule_probability": {Type: []any{"map", "number"}, Description: "per-rule keep probability, overriding probability; 0 turns a rule off"},
	"seed":             {Type: sdk.TypeNumber, Description: "seed of the random choices (default 0)"},
	"max_per_function": {Type: sdk.TypeNumber, Description: "keep at most this many candidates per function (default no limit)"},
	"min_statements":   {Type: sdk.TypeNumber, Description: "skip functions with fewer statements"},
	"max_statements":   {Type: sdk.TypeNumber, Description: "skip functions with more statements"},
	"max_complexity":   {Type: sdk.TypeNumber, Description: "skip functions with a higher cyclomatic complexity"},
	"max_class_size":   {Type: sdk.TypeNumber, Description: "skip classes longer than this many lines (remove_base_class)"},
	"files":            {Type: sdk.TypeStringList, Description: "globs of files to mutate (default every tracked *.py); ** matches any folders, a glob without / matches base names"},
	"model_calls":      {Type: sdk.TypeNumber, Description: "lm_modify/lm_rewrite: at most this many model calls, functions drawn at random with the seed (default 20)"},
	"model_parallel":   {Type: sdk.TypeNumber, Description: "lm_modify/lm_rewrite: model calls in flight at once (default 4)"},
}}

// New returns the plugin: the Python language, a bug injector and a
// pytest log parser.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "python",
		Version:     Version,
		Description: "Python language plugin: the language (image, pytest commands and their reports), bug injector (SWE-smith's procedural modifiers over tree-sitter-python, LM rewrites) and pytest log parser",
		BugInjector: BugInjector{Log: logInfo},
		LogParser:   LogParser{},
		Language:    Language{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindBugInjector: Schema, sdk.KindLogParser: {}, sdk.KindLanguage: {}},
	}
}

// BugInjector proposes mutations of the tracked Python files of the
// repository in the sandbox the host lends.
type BugInjector struct {
	// Log receives a summary line of the LM rules' model calls (how many,
	// how many replies were dropped and why); nil drops it.
	Log func(msg string)
}

var _ sdk.BugInjector = BugInjector{}

// settings are a configuration made ready for Mutations.
type settings struct {
	opts     Options  // Mutate's options; Rules are the procedural ones
	skipProc bool     // rules name LM rules only: no procedural candidates
	lmRules  []string // LM rules named
	globs    []string
	calls    int
	parallel int
}

// settings checks the configuration and splits its rules into procedural
// and LM ones.
func (c Config) settings() (settings, error) {
	opts, globs, err := c.options()
	if err != nil {
		return settings{}, err
	}
	s := settings{opts: opts, globs: globs, calls: DefaultModelCalls, parallel: DefaultModelParallel}
	var proc []string
	for _, r := range c.Rules {
		if isLMRule(r) {
			if !slices.Contains(s.lmRules, r) {
				s.lmRules = append(s.lmRules, r)
			}
		} else {
			proc = append(proc, r)
		}
	}
	s.opts.Rules = proc
	s.skipProc = len(c.Rules) > 0 && len(proc) == 0
	for _, f := range []struct {
		name string
		v    *float64
		dst  *int
	}{{"model_calls", c.ModelCalls, &s.calls}, {"model_parallel", c.ModelParallel, &s.parallel}} {
		if f.v == nil {
			continue
		}
		if *f.v < 1 || *f.v != float64(int(*f.v)) {
			return s, fmt.Errorf("%w: %s must be a whole number >= 1, not %v", ErrOptions, f.name, *f.v)
		}
		*f.dst = int(*f.v)
	}
	return s, nil
}

// options converts the configuration into Mutate's options.
func (c Config) options() (Options, []string, error) {
	o := Options{Rules: c.Rules, RuleProbability: map[string]float64{}}
	for r, p := range c.RuleProbability {
		o.RuleProbability[r] = p
	}
	if c.Probability != nil {
		p := *c.Probability
		if p < 0 || p > 1 {
			return o, nil, fmt.Errorf("%w: probability %v is not in [0, 1]", ErrOptions, p)
		}
		for _, r := range append(slices.Clone(Rules), LMRules...) {
			if _, ok := o.RuleProbability[r]; !ok {
				o.RuleProbability[r] = p // an explicit 0 means none
			}
		}
	}
	ints := []struct {
		name string
		v    *float64
		dst  *int
	}{
		{"max_per_function", c.MaxPerFunction, &o.MaxPerFunction},
		{"min_statements", c.MinStatements, &o.MinStatements},
		{"max_statements", c.MaxStatements, &o.MaxStatements},
		{"max_complexity", c.MaxComplexity, &o.MaxComplexity},
		{"max_class_size", c.MaxClassSize, &o.MaxClassSize},
	}
	for _, f := range ints {
		if f.v == nil {
			continue
		}
		if *f.v < 0 || *f.v != float64(int(*f.v)) {
			return o, nil, fmt.Errorf("%w: %s must be a whole number >= 0, not %v", ErrOptions, f.name, *f.v)
		}
		*f.dst = int(*f.v)
	}
	if c.Seed != nil {
		if *c.Seed < 0 || *c.Seed != float64(uint64(*c.Seed)) {
			return o, nil, fmt.Errorf("%w: seed must be a whole number >= 0, not %v", ErrOptions, *c.Seed)
		}
		o.Seed = uint64(*c.Seed)
	}
	for _, g := range c.Files {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			return o, nil, fmt.Errorf("%w: files: bad glob %q", ErrOptions, g)
		}
	}
	return o, c.Files, o.validate()
}

// Mutations lists the repository's tracked .py files, reads each from the
// sandbox and sends the mutations Mutate proposes, file by file in
// git's order. Files that do not parse are skipped. When the rules name LM
// rules, the functions they may rewrite are gathered on the way, at most
// model_calls of them drawn at random, and the model's candidates sent
// after the procedural ones; without a lent model that is ErrNoModel.
func (in BugInjector) Mutations(ctx context.Context, req sdk.InjectRequest, send func(sdk.Mutation) error) error {
	var cfg Config
	if err := req.Config.Decode(&cfg); err != nil {
		return err
	}
	set, err := cfg.settings()
	if err != nil {
		return err
	}
	opts, globs := set.opts, set.globs
	if len(set.lmRules) > 0 && req.Model == nil {
		return fmt.Errorf("python injector: rules %s: %w", strings.Join(set.lmRules, ", "), ErrNoModel)
	}
	if req.Sandbox == nil {
		return fmt.Errorf("python injector needs the repository's sandbox: %w", sdk.ErrNotLent)
	}
	var targets []lmTarget
	res, err := req.Sandbox.Exec(ctx, "git ls-files '*.py'", time.Minute)
	if err != nil {
		return fmt.Errorf("list python files: %w", err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("list python files: git ls-files exited %d: %s", res.ExitCode, strings.TrimSpace(res.Output))
	}
	for _, line := range strings.Split(res.Output, "\n") {
		file := unquoteGitPath(strings.TrimSpace(line))
		if file == "" || !strings.HasSuffix(file, ".py") || !matchAny(globs, file) {
			continue
		}
		if !opts.IncludeTests && IsTestFile(file) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		src, err := req.Sandbox.ReadFile(ctx, file)
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		if len(set.lmRules) > 0 {
			ts, err := lmTargets(file, src, opts, set.lmRules)
			if err != nil && !errors.Is(err, ErrSyntax) {
				return err
			}
			targets = append(targets, ts...)
		}
		if set.skipProc {
			continue
		}
		muts, err := Mutate(file, src, opts)
		if errors.Is(err, ErrSyntax) {
			continue
		}
		if err != nil {
			return err
		}
		for _, m := range muts {
			if err := send(m); err != nil {
				return err
			}
		}
	}
	if len(set.lmRules) == 0 {
		return nil
	}
	stats, err := runLM(ctx, req.Model, targets, opts.Seed, set.calls, set.parallel, send)
	if in.Log != nil {
		in.Log(fmt.Sprintf("python injector, %s: %d functions eligible, %s", strings.Join(set.lmRules, "+"), len(targets), stats))
	}
	return err
}

// unquoteGitPath undoes git's C-style quoting of unusual file names.
func unquoteGitPath(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	return s
}

// matchAny reports whether file matches one of globs (all files when there
// are none).
func matchAny(globs []string, file string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if matchGlob(g, file) {
			return true
		}
	}
	return false
}

// matchGlob matches a slash-separated path against a glob where ** stands
// for any number of folders; a glob without a slash matches the base name.
func matchGlob(glob, file string) bool {
	if !strings.Contains(glob, "/") {
		ok, _ := path.Match(glob, path.Base(file))
		return ok
	}
	return matchSegs(strings.Split(glob, "/"), strings.Split(file, "/"))
}

func matchSegs(glob, file []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for i := 0; i <= len(file); i++ {
				if matchSegs(glob[1:], file[i:]) {
					return true
				}
			}
			return false
		}
		if len(file) == 0 {
			return false
		}
		if ok, _ := path.Match(glob[0], file[0]); !ok {
			return false
		}
		glob, file = glob[1:], file[1:]
	}
	return len(file) == 0
}

// logInfo writes msg to stderr as an hclog JSON line, which the host's
// plugin client shows at info level.
func logInfo(msg string) {
	line, _ := json.Marshal(map[string]string{"@level": "info", "@message": msg, "@module": "python", "@timestamp": time.Now().Format("2006-01-02T15:04:05.000000Z07:00")})
	fmt.Fprintln(os.Stderr, string(line))
}
