package python

import (
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestValidateConfig checks which diagnostics each configuration gets and
// where they point; details are checked for the parts a user acts on.
func TestValidateConfig(t *testing.T) {
	sdktest.CheckValidator(t, BugInjector{}, sdk.KindBugInjector, []sdktest.ValidateCase{
		{Name: "empty", Config: ``},
		{Name: "every setting valid", Config: `{"rules": ["change_operator", "lm_modify"], "probability": 0.5, "rule_probability": {"swap_operands": 0}, "seed": 3, "max_per_function": 2, "files": ["src/**/*.py"], "model_calls": 5, "model_parallel": null}`},
		{Name: "unknown rule", Config: `{"rules": ["change_operator", "swap_operand"]}`, Want: []string{"error rules[1]: Unknown rule"}, Detail: `no rule "swap_operand". Its rules are change_operator, swap_operands`},
		{Name: "did you mean", Config: `{"rules": ["invert_iff"]}`, Want: []string{"error rules[0]: Unknown rule"}, Detail: `Did you mean "invert_if"?`},
		{Name: "unknown rule in rule_probability", Config: `{"rule_probability": {"nosuch": 1, "invert_if": 2}}`, Want: []string{"error rule_probability[\"invert_if\"]: Invalid probability", "error rule_probability[\"nosuch\"]: Unknown rule"}},
		{Name: "probability", Config: `{"probability": 1.5}`, Want: []string{"error probability: Invalid probability"}},
		{Name: "whole numbers", Config: `{"seed": -1, "max_statements": 2.5, "model_calls": 0}`, Want: []string{"error seed: Invalid seed", "error max_statements: Invalid max_statements", "error model_calls: Invalid model_calls"}},
		{Name: "bad glob", Config: `{"files": ["ok.py", "[bad"]}`, Want: []string{"error files[1]: Invalid glob"}},
		{Name: "wrong type", Config: `{"rules": "change_operator"}`, Want: []string{"error rules: Invalid value"}},
	})
}
