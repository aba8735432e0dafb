package python

import (
	"context"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/swelego/swelego/sdk"
)

var _ sdk.ConfigValidator = BugInjector{}

// ValidateConfig reports what Mutations would refuse in the injector's
// configuration, at the attribute at fault: an unknown rule (with the
// nearest known one), a probability outside [0, 1], a limit that is not a
// whole number, a glob that does not parse.
func (BugInjector) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	var c Config
	if err := req.Config.Decode(&c); err != nil {
		return sdk.ValidateConfigResponse{Diagnostics: sdk.Diagnostics{sdk.DecodeDiagnostic(err)}}, nil
	}
	diags := c.diagnostics()
	if !diags.HasErrors() {
		// whatever settings refuses that the checks above do not name
		if _, err := c.settings(); err != nil {
			diags = append(diags, sdk.Errorf(nil, "Invalid injector configuration", "%s.", err))
		}
	}
	return sdk.ValidateConfigResponse{Diagnostics: diags}, nil
}

// diagnostics checks a decoded configuration attribute by attribute.
func (c Config) diagnostics() sdk.Diagnostics {
	var diags sdk.Diagnostics
	known := append(slices.Clone(Rules), LMRules...)
	unknown := func(at sdk.Path, rule string) {
		diags = append(diags, sdk.Errorf(at, "Unknown rule",
			"The python injector has no rule %q. Its rules are %s, and the LM rules %s.%s",
			rule, strings.Join(Rules, ", "), strings.Join(LMRules, " and "), sdk.DidYouMean(rule, known)))
	}
	for i, r := range c.Rules {
		if !slices.Contains(known, r) {
			unknown(sdk.Attr("rules").Index(i), r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(c.RuleProbability)) {
		at := sdk.Attr("rule_probability").Key(r)
		if !slices.Contains(known, r) {
			unknown(at, r)
		} else if p := c.RuleProbability[r]; p < 0 || p > 1 {
			diags = append(diags, sdk.Errorf(at, "Invalid probability", "The probability of rule %s is %v; it must be in [0, 1].", r, p))
		}
	}
	if c.Probability != nil && (*c.Probability < 0 || *c.Probability > 1) {
		diags = append(diags, sdk.Errorf(sdk.Attr("probability"), "Invalid probability", "probability is %v; it must be in [0, 1].", *c.Probability))
	}
	for _, f := range []struct {
		name string
		v    *float64
		min  float64
	}{
		{"seed", c.Seed, 0},
		{"max_per_function", c.MaxPerFunction, 0},
		{"min_statements", c.MinStatements, 0},
		{"max_statements", c.MaxStatements, 0},
		{"max_complexity", c.MaxComplexity, 0},
		{"max_class_size", c.MaxClassSize, 0},
		{"model_calls", c.ModelCalls, 1},
		{"model_parallel", c.ModelParallel, 1},
	} {
		if f.v != nil && (*f.v < f.min || *f.v != float64(int64(*f.v))) {
			diags = append(diags, sdk.Errorf(sdk.Attr(f.name), "Invalid "+f.name, "%s is %v; it must be a whole number >= %v.", f.name, *f.v, f.min))
		}
	}
	for i, g := range c.Files {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			diags = append(diags, sdk.Errorf(sdk.Attr("files").Index(i), "Invalid glob", "%q is not a glob: %s.", g, err))
		}
	}
	return diags
}
