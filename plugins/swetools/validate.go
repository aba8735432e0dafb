package swetools

import (
	"context"
	"path"
	"strings"

	"github.com/swelego/swelego/sdk"
)

var _ sdk.ConfigValidator = (*ToolSet)(nil)

// ValidateConfig reports what the tools would refuse in a configuration,
// at the attribute at fault, and warns of a soft timeout the hard one
// cuts short.
func (*ToolSet) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	var c Config
	if err := req.Config.Decode(&c); err != nil {
		return sdk.ValidateConfigResponse{Diagnostics: sdk.Diagnostics{sdk.DecodeDiagnostic(err)}}, nil
	}
	var diags sdk.Diagnostics
	for _, p := range []struct{ name, value string }{{"root", c.Root}, {"state_dir", c.StateDir}} {
		if p.value != "" && (!path.IsAbs(p.value) || strings.ContainsAny(p.value, "\x00\n")) {
			diags = append(diags, sdk.Errorf(sdk.Attr(p.name), "Invalid "+p.name, "%q is not an absolute path inside the sandbox.", p.value))
		}
	}
	if c.MaxOutput != 0 && c.MaxOutput < 200 {
		diags = append(diags, sdk.Errorf(sdk.Attr("max_output"), "Invalid max_output", "max_output is %d bytes; it must be at least 200.", c.MaxOutput))
	}
	for _, t := range []struct {
		name  string
		value float64
	}{{"timeout", c.Timeout}, {"max_timeout", c.MaxTimeout}} {
		if t.value < 0 {
			diags = append(diags, sdk.Errorf(sdk.Attr(t.name), "Invalid "+t.name, "%s is %g seconds; it must not be negative.", t.name, t.value))
		}
	}
	if c.Timeout > 0 && c.MaxTimeout > 0 && c.Timeout > c.MaxTimeout {
		diags = append(diags, sdk.Warningf(sdk.Attr("timeout"), "Timeout above max_timeout",
			"timeout is %g seconds but max_timeout is %g: execute_bash never waits longer than max_timeout.", c.Timeout, c.MaxTimeout))
	}
	if !diags.HasErrors() {
		if _, err := decodeConfig(req.Config); err != nil {
			diags = append(diags, sdk.Errorf(nil, "Invalid tool set configuration", "%s.", err))
		}
	}
	return sdk.ValidateConfigResponse{Diagnostics: diags}, nil
}
