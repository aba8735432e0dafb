package golang

import (
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestValidateConfig checks which diagnostics each configuration gets and
// where they point; details are checked for the parts a user acts on.
func TestValidateConfig(t *testing.T) {
	sdktest.CheckValidator(t, Injector{}, sdk.KindBugInjector, []sdktest.ValidateCase{
		{Name: "empty", Config: ``},
		{Name: "every setting valid", Config: `{"rules": ["change_operator", "lm_rewrite"], "probability": 0.5, "seed": 3, "max_per_function": 2, "files": ["pkg/**/*.go"], "model_calls": 5}`},
		{Name: "unknown rule", Config: `{"rules": ["off_by_one", "swap_operand"]}`, Want: []string{"error rules[1]: Unknown rule"}, Detail: `no rule "swap_operand". Its rules are change_operator, swap_operands`},
		{Name: "did you mean", Config: `{"rules": ["of_by_one"]}`, Want: []string{"error rules[0]: Unknown rule"}, Detail: `Did you mean "off_by_one"?`},
		{Name: "probability", Config: `{"probability": -0.1}`, Want: []string{"error probability: Invalid probability"}},
		{Name: "limits", Config: `{"min_statements": -1, "model_parallel": 0}`, Want: []string{"error min_statements: Invalid min_statements", "error model_parallel: Invalid model_parallel"}},
		{Name: "not a whole number", Config: `{"max_per_function": 2.5}`, Want: []string{"error max_per_function: Invalid value"}},
		{Name: "negative seed", Config: `{"seed": -3}`, Want: []string{"error seed: Invalid value"}},
		{Name: "bad glob", Config: `{"files": ["[bad"]}`, Want: []string{"error files[0]: Invalid glob"}},
	})
}
