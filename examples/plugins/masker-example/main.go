// Command swelego-plugin-firstturns is an example third-party loss masker:
// a plugin in its own Go module that imports only swelego's sdk, built as
// its own binary and found by swelego's plugin discovery.
//
// It trains the first assistant turns of each trajectory and masks the
// rest — a rule unlike the built-in errormask's, so a recipe that swaps it
// in trains visibly different tokens with no rebuild of swelego.
package main

import (
	"context"
	"fmt"
	"math"

	"github.com/swelego/swelego/sdk"
)

// config is the `masker "firstturns" { … }` block of a recipe.
type config struct {
	// Turns is how many assistant turns, from the first, are trained.
	Turns float64 `json:"turns"`
	// RestWeight is the weight of the later turns: 0 masks them, a value
	// between 0 and 1 trains them less.
	RestWeight float64 `json:"rest_weight"`
}

var schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"turns":       {Type: sdk.TypeNumber, Default: 1, Description: "how many assistant turns, from the first, are trained (a whole number >= 1)"},
	"rest_weight": {Type: sdk.TypeNumber, Default: 0, Description: "loss weight of the later assistant turns: 0 masks them, other values scale their loss"},
}}

type masker struct{}

var _ sdk.LossMasker = masker{}

// Mask gives the first c.Turns assistant messages weight 1 and the later
// ones c.RestWeight. It answers for assistant messages only: chat templates
// never train the others.
func (masker) Mask(ctx context.Context, cfg sdk.Config, t sdk.Trajectory) ([]sdk.LossWeight, error) {
	c := config{Turns: 1}
	if err := cfg.Decode(&c); err != nil {
		return nil, err
	}
	if c.Turns < 1 || c.Turns != math.Trunc(c.Turns) {
		return nil, fmt.Errorf("turns: %g is not a whole number >= 1", c.Turns)
	}
	if c.RestWeight < 0 || math.IsInf(c.RestWeight, 0) {
		return nil, fmt.Errorf("rest_weight: %g is not a finite number >= 0", c.RestWeight)
	}
	var out []sdk.LossWeight
	n := 0
	for i, m := range t.Messages {
		if m.Role != "assistant" {
			continue
		}
		n++
		if float64(n) <= c.Turns {
			out = append(out, sdk.LossWeight{Index: i, Weight: 1})
			continue
		}
		out = append(out, sdk.LossWeight{Index: i, Weight: c.RestWeight, Reason: fmt.Sprintf("firstturns: after the first %g turns", c.Turns)})
	}
	return out, nil
}

func newPlugin() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "firstturns",
		Version:     "1.0.0",
		Description: "example loss masker: trains the first assistant turns of each trajectory, masks the rest",
		LossMasker:  masker{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindLossMasker: schema},
	}
}

func main() {
	sdk.Serve(newPlugin())
}
