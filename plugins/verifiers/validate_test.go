package verifiers

import (
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestValidateConfig checks which diagnostics each verifier's
// configuration gets and where they point.
func TestValidateConfig(t *testing.T) {
	generative, tests, hybrid := Generative{}, NewTestsVerifier(), NewHybridVerifier()
	cases := []struct {
		name string
		v    sdk.ConfigValidator
		cfg  string
		want []string // "severity path: summary" of each diagnostic
	}{
		{"generative, empty", generative, ``, nil},
		{"generative, defaults as the host sends them", generative, `{"max_log_tokens": 16000, "top_logprobs": 20, "max_tokens": 32, "prompt": null}`, nil},
		{"generative, bad numbers", generative, `{"max_log_tokens": -1, "top_logprobs": 0, "max_tokens": 0}`, []string{"error max_log_tokens: Invalid max_log_tokens", "error top_logprobs: Invalid top_logprobs", "error max_tokens: Invalid max_tokens"}},
		{"generative, not a whole number", generative, `{"max_tokens": 2.5}`, []string{"error max_tokens: Invalid value"}},
		{"generative, prompt without the patch", generative, `{"prompt": "Is {{repo}} fixed?"}`, []string{"warning prompt: Prompt without the patch"}},
		{"tests, valid", tests, `{"runner": "pytest", "timeout": 60, "reproduce": false}`, nil},
		{"tests, unknown runner", tests, `{"runner": "pytst"}`, []string{"error runner: Unknown test runner"}},
		{"tests, timeout", tests, `{"timeout": 0}`, []string{"error timeout: Invalid timeout"}},
		{"hybrid, valid", hybrid, `{"keep_fraction": 0.25, "keep_at_least": 2, "runner": "gotest"}`, nil},
		{"hybrid, every part checked", hybrid, `{"keep_fraction": 1.5, "keep_at_least": 0, "runner": "jest", "top_logprobs": 0}`, []string{"error top_logprobs: Invalid top_logprobs", "error runner: Unknown test runner", "error keep_fraction: Invalid keep_fraction", "error keep_at_least: Invalid keep_at_least"}},
	}
	for _, tt := range cases {
		sdktest.CheckValidator(t, tt.v, sdk.KindVerifier, []sdktest.ValidateCase{{Name: tt.name, Config: tt.cfg, Want: tt.want}})
	}
}
