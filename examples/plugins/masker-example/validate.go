package main

import (
	"context"
	"math"

	"github.com/swelego/swelego/sdk"
)

var _ sdk.ConfigValidator = masker{}

// ValidateConfig lets `swelego validate` report a bad setting at its line
// in the recipe, before a run starts and fails on the first trajectory.
func (masker) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	c := config{Turns: 1}
	if err := req.Config.Decode(&c); err != nil {
		return sdk.ValidateConfigResponse{Diagnostics: sdk.Diagnostics{sdk.DecodeDiagnostic(err)}}, nil
	}
	var diags sdk.Diagnostics
	if c.Turns < 1 || c.Turns != math.Trunc(c.Turns) {
		diags = append(diags, sdk.Errorf(sdk.Attr("turns"), "Invalid turns", "turns is %g; it must be a whole number >= 1.", c.Turns))
	}
	switch {
	case c.RestWeight < 0 || math.IsInf(c.RestWeight, 0):
		diags = append(diags, sdk.Errorf(sdk.Attr("rest_weight"), "Invalid rest_weight", "rest_weight is %g; it must be a finite number >= 0.", c.RestWeight))
	case c.RestWeight > 1:
		diags = append(diags, sdk.Warningf(sdk.Attr("rest_weight"), "Later turns weigh more",
			"rest_weight is %g, so the later turns weigh more than the first ones; a masker usually trains them less.", c.RestWeight))
	}
	return sdk.ValidateConfigResponse{Diagnostics: diags}, nil
}
