package verifiers

import (
	"context"
	"strings"

	"github.com/swelego/swelego/sdk"
)

var (
	_ sdk.ConfigValidator = Generative{}
	_ sdk.ConfigValidator = (*Tests)(nil)
	_ sdk.ConfigValidator = (*Hybrid)(nil)
)

// runners are the values runner takes.
var runners = []string{RunnerPytest, RunnerGoTest}

// ValidateConfig reports, at the attribute at fault, what Verify would
// refuse in a generative verifier's configuration, and warns of a prompt
// that leaves out the patch.
func (Generative) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	cfg := DefaultGenerativeConfig()
	if err := req.Config.Decode(&cfg); err != nil {
		return diagnosed(sdk.DecodeDiagnostic(err)), nil
	}
	return checked(cfg.diagnostics(), cfg.check()), nil
}

// ValidateConfig reports what Verify would refuse in a tests verifier's
// configuration, at the attribute at fault.
func (*Tests) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	cfg := DefaultTestsConfig()
	if err := req.Config.Decode(&cfg); err != nil {
		return diagnosed(sdk.DecodeDiagnostic(err)), nil
	}
	return checked(cfg.diagnostics(), cfg.check()), nil
}

// ValidateConfig reports what Verify and Rank would refuse in a hybrid
// verifier's configuration, at the attribute at fault.
func (*Hybrid) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	cfg := DefaultHybridConfig()
	if err := req.Config.Decode(&cfg); err != nil {
		return diagnosed(sdk.DecodeDiagnostic(err)), nil
	}
	diags := append(cfg.GenerativeConfig.diagnostics(), cfg.TestsConfig.diagnostics()...)
	if !(cfg.KeepFraction > 0 && cfg.KeepFraction <= 1) {
		diags = append(diags, sdk.Errorf(sdk.Attr("keep_fraction"), "Invalid keep_fraction", "keep_fraction is %g; it must be more than 0 and at most 1.", cfg.KeepFraction))
	}
	if cfg.KeepAtLeast < 1 {
		diags = append(diags, sdk.Errorf(sdk.Attr("keep_at_least"), "Invalid keep_at_least", "keep_at_least is %d; it must be at least 1.", cfg.KeepAtLeast))
	}
	return checked(diags, cfg.check()), nil
}

// checked adds the error of a configuration's own check when the
// diagnostics have no error, so validate refuses all that Verify does.
func checked(diags sdk.Diagnostics, err error) sdk.ValidateConfigResponse {
	if err != nil && !diags.HasErrors() {
		diags = append(diags, sdk.Errorf(nil, "Invalid verifier configuration", "%s.", err))
	}
	return sdk.ValidateConfigResponse{Diagnostics: diags}
}

func diagnosed(d sdk.Diagnostic) sdk.ValidateConfigResponse {
	return sdk.ValidateConfigResponse{Diagnostics: sdk.Diagnostics{d}}
}

func (c GenerativeConfig) diagnostics() sdk.Diagnostics {
	var diags sdk.Diagnostics
	if c.MaxLogTokens < 0 {
		diags = append(diags, sdk.Errorf(sdk.Attr("max_log_tokens"), "Invalid max_log_tokens", "max_log_tokens is %d; it must be 0 (no log) or more.", c.MaxLogTokens))
	}
	if c.TopLogprobs < 1 {
		diags = append(diags, sdk.Errorf(sdk.Attr("top_logprobs"), "Invalid top_logprobs", "top_logprobs is %d; it must be at least 1, since P(YES) and P(NO) are read from the alternatives.", c.TopLogprobs))
	}
	if c.MaxTokens < 1 {
		diags = append(diags, sdk.Errorf(sdk.Attr("max_tokens"), "Invalid max_tokens", "max_tokens is %d; it must be at least 1.", c.MaxTokens))
	}
	if c.Prompt != "" && !strings.Contains(c.Prompt, "{{patch}}") {
		diags = append(diags, sdk.Warningf(sdk.Attr("prompt"), "Prompt without the patch", "The prompt does not use {{patch}}, so the judge never sees the candidate it judges."))
	}
	return diags
}

func (c TestsConfig) diagnostics() sdk.Diagnostics {
	var diags sdk.Diagnostics
	if c.Runner != "" && c.Runner != RunnerPytest && c.Runner != RunnerGoTest {
		diags = append(diags, sdk.Errorf(sdk.Attr("runner"), "Unknown test runner", "%q is not one of %s.%s", c.Runner, strings.Join(runners, ", "), sdk.DidYouMean(c.Runner, runners)))
	}
	if c.Timeout <= 0 {
		diags = append(diags, sdk.Errorf(sdk.Attr("timeout"), "Invalid timeout", "timeout is %g seconds; it must be more than 0.", c.Timeout))
	}
	return diags
}
