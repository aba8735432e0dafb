package errormask

import (
	"context"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/swelego/swelego/sdk"
)

var _ sdk.ConfigValidator = (*Masker)(nil)

// strategies are the values strategy takes.
var strategies = []string{StrategyErrorTurns, StrategyNone, StrategyKeepDataset, StrategyLastK}

// ValidateConfig reports what Mask would refuse in a configuration, at
// the attribute at fault: an unknown strategy, k with the wrong strategy
// or out of range, a pattern that does not compile or is empty, a pattern
// to disable that does not exist.
func (m *Masker) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	var c Config
	if err := req.Config.Decode(&c); err != nil {
		return sdk.ValidateConfigResponse{Diagnostics: sdk.Diagnostics{sdk.Errorf(nil, "Invalid masker configuration", "%s.", err)}}, nil
	}
	diags := c.check()
	if !diags.HasErrors() {
		// anything parse refuses that check does not name is still reported
		if _, err := parse(req.Config); err != nil {
			diags = append(diags, sdk.Errorf(nil, "Invalid masker configuration", "%s.", err))
		}
	}
	return sdk.ValidateConfigResponse{Diagnostics: diags}, nil
}

// check finds the problems of a decoded configuration, by attribute.
func (c Config) check() sdk.Diagnostics {
	var diags sdk.Diagnostics
	strategy := c.Strategy
	if strategy == "" {
		strategy = StrategyErrorTurns
	}
	if !slices.Contains(strategies, strategy) {
		diags = append(diags, sdk.Errorf(sdk.Attr("strategy"), "Unknown masking strategy",
			"%q is not one of %s.%s", strategy, strings.Join(strategies, ", "), sdk.DidYouMean(strategy, strategies)))
		return diags
	}
	switch {
	case strategy == StrategyLastK && c.K == nil:
		diags = append(diags, sdk.Errorf(sdk.Attr("strategy"), "Missing k", "Strategy last_k needs k, the number of last assistant turns to train."))
	case strategy == StrategyLastK && (*c.K < 1 || *c.K != math.Trunc(*c.K) || *c.K > math.MaxInt32):
		diags = append(diags, sdk.Errorf(sdk.Attr("k"), "Invalid k", "k must be a whole number >= 1, not %g.", *c.K))
	case strategy != StrategyLastK && c.K != nil:
		diags = append(diags, sdk.Errorf(sdk.Attr("k"), "Unused k", "Only strategy last_k uses k; the strategy is %s.", strategy))
	}
	if strategy != StrategyErrorTurns {
		for _, attr := range []string{"patterns", "extra_patterns", "disable_patterns"} {
			if c.set(attr) {
				diags = append(diags, sdk.Errorf(sdk.Attr(attr), "Unused patterns", "%s only applies to strategy error_turns; the strategy is %s.", attr, strategy))
			}
		}
		return diags
	}
	for _, set := range []struct {
		attr     string
		patterns map[string]string
	}{{"patterns", c.Patterns}, {"extra_patterns", c.ExtraPatterns}} {
		for _, name := range slices.Sorted(maps.Keys(set.patterns)) {
			expr, at := set.patterns[name], sdk.Attr(set.attr).Key(name)
			switch {
			case name == "":
				diags = append(diags, sdk.Errorf(at, "Invalid pattern", "A pattern needs a name: it is the reason given for the turns it masks."))
			case expr == "":
				diags = append(diags, sdk.Errorf(at, "Invalid pattern", "Pattern %q is empty, which would match every observation.", name))
			default:
				if _, err := regexp.Compile(expr); err != nil {
					diags = append(diags, sdk.Errorf(at, "Invalid pattern", "Pattern %q is not a Go regular expression: %s.", name, err))
				}
			}
		}
	}
	src := defaultPatterns
	if c.Patterns != nil {
		src = c.Patterns
	}
	names := slices.Sorted(maps.Keys(src))
	names = append(names, slices.Sorted(maps.Keys(c.ExtraPatterns))...)
	for i, name := range c.DisablePatterns {
		if !slices.Contains(names, name) {
			diags = append(diags, sdk.Errorf(sdk.Attr("disable_patterns").Index(i), "Unknown pattern",
				"There is no pattern named %q to disable.%s", name, sdk.DidYouMean(name, names)))
		}
	}
	return diags
}

// set reports whether a pattern attribute was given (not null).
func (c Config) set(attr string) bool {
	switch attr {
	case "patterns":
		return c.Patterns != nil
	case "extra_patterns":
		return c.ExtraPatterns != nil
	case "disable_patterns":
		return c.DisablePatterns != nil
	}
	return false
}
