package golang

import (
	"context"
	"path"
	"slices"
	"strings"

	"github.com/swelego/swelego/sdk"
)

var _ sdk.ConfigValidator = Injector{}

// ValidateConfig reports what Mutations would refuse in the injector's
// configuration, at the attribute at fault: an unknown rule (with the
// nearest known one), a probability outside [0, 1], a negative limit, a
// glob that does not parse.
func (Injector) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	var c Config
	if err := req.Config.Decode(&c); err != nil {
		return sdk.ValidateConfigResponse{Diagnostics: sdk.Diagnostics{sdk.DecodeDiagnostic(err)}}, nil
	}
	diags := c.diagnostics()
	if !diags.HasErrors() {
		// whatever Mutations refuses that the checks above do not name
		_, err := c.Options()
		if err == nil {
			_, _, _, err = c.lmSettings()
		}
		if err != nil {
			diags = append(diags, sdk.Errorf(nil, "Invalid injector configuration", "%s.", err))
		}
	}
	return sdk.ValidateConfigResponse{Diagnostics: diags}, nil
}

// diagnostics checks a decoded configuration attribute by attribute.
func (c Config) diagnostics() sdk.Diagnostics {
	var diags sdk.Diagnostics
	known := append(slices.Clone(Rules), LMRules...)
	for i, r := range c.Rules {
		if !slices.Contains(known, r) {
			diags = append(diags, sdk.Errorf(sdk.Attr("rules").Index(i), "Unknown rule",
				"The golang injector has no rule %q. Its rules are %s, and the LM rules %s.%s",
				r, strings.Join(Rules, ", "), strings.Join(LMRules, " and "), sdk.DidYouMean(r, known)))
		}
	}
	if c.Probability != nil && !(*c.Probability >= 0 && *c.Probability <= 1) {
		diags = append(diags, sdk.Errorf(sdk.Attr("probability"), "Invalid probability", "probability is %v; it must be in [0, 1].", *c.Probability))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"max_per_function", c.MaxPerFunction}, {"min_statements", c.MinStatements}, {"max_statements", c.MaxStatements}} {
		if f.v < 0 {
			diags = append(diags, sdk.Errorf(sdk.Attr(f.name), "Invalid "+f.name, "%s is %d; it must not be negative.", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"model_calls", c.ModelCalls}, {"model_parallel", c.ModelParallel}} {
		if f.v != nil && *f.v < 1 {
			diags = append(diags, sdk.Errorf(sdk.Attr(f.name), "Invalid "+f.name, "%s is %d; it must be at least 1.", f.name, *f.v))
		}
	}
	for i, g := range c.Files {
		if _, err := path.Match(g, ""); err != nil {
			diags = append(diags, sdk.Errorf(sdk.Attr("files").Index(i), "Invalid glob", "%q is not a glob: %s.", g, err))
		}
	}
	return diags
}
