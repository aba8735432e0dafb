package curriculum

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/swelego/swelego/sdk"
)

var _ sdk.ConfigValidator = Curriculum{}

// ValidateConfig reports what Stages would refuse in a configuration, at
// the attribute at fault: an unknown strategy or measure, a number of
// tiers out of range, epochs that do not match the stages.
func (Curriculum) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	c := Config{Strategy: StrategyTiers, By: ByTurns, Tiers: DefaultTiers}
	if err := req.Config.Decode(&c); err != nil {
		return sdk.ValidateConfigResponse{Diagnostics: sdk.Diagnostics{sdk.Errorf(nil, "Invalid curriculum configuration", "%s.", err)}}, nil
	}
	diags := c.check()
	if !diags.HasErrors() {
		if _, err := ParseConfig(req.Config); err != nil {
			diags = append(diags, sdk.Errorf(nil, "Invalid curriculum configuration", "%s.", err))
		}
	}
	return sdk.ValidateConfigResponse{Diagnostics: diags}, nil
}

// check finds the problems of a decoded configuration, by attribute.
func (c Config) check() sdk.Diagnostics {
	var diags sdk.Diagnostics
	oneOf := func(attr, got string, want ...string) bool {
		if got == "" || slices.Contains(want, got) {
			return true
		}
		diags = append(diags, sdk.Errorf(sdk.Attr(attr), "Invalid "+attr, "%q is not one of %s.%s", got, strings.Join(want, ", "), sdk.DidYouMean(got, want)))
		return false
	}
	strategyOK := oneOf("strategy", c.Strategy, StrategyTiers, StrategyNone)
	oneOf("by", c.By, ByTurns, ByTokens)
	stages := 1
	if c.Strategy == StrategyTiers || c.Strategy == "" {
		if c.Tiers < 1 || c.Tiers != math.Trunc(c.Tiers) || c.Tiers > 1000 {
			diags = append(diags, sdk.Errorf(sdk.Attr("tiers"), "Invalid tiers", "tiers must be a whole number from 1 to 1000, not %g.", c.Tiers))
			return diags
		}
		stages = int(c.Tiers)
	}
	if c.Epochs == nil || !strategyOK {
		return diags
	}
	if len(c.Epochs) != stages {
		diags = append(diags, sdk.Errorf(sdk.Attr("epochs"), "Wrong number of epochs", "%d values for %d stages: give one per stage.", len(c.Epochs), stages))
	}
	for i, e := range c.Epochs {
		if !(e > 0) || math.IsInf(e, 0) {
			diags = append(diags, sdk.Errorf(sdk.Attr("epochs").Index(i), "Invalid epochs", "%g is not a finite number > 0.", e))
		}
	}
	return diags
}
