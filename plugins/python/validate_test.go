package python

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestValidateConfig checks which diagnostics each configuration gets and
// where they point; details are checked for the parts a user acts on.
func TestValidateConfig(t *testing.T) {
	tests := []struct {
		name   string
		cfg    string
		want   []string // "severity path: summary" of each diagnostic
		detail string   // part of the first diagnostic's detail
	}{
		{name: "empty", cfg: ``},
		{name: "every setting valid", cfg: `{"rules": ["change_operator", "lm_modify"], "probability": 0.5, "rule_probability": {"swap_operands": 0}, "seed": 3, "max_per_function": 2, "files": ["src/**/*.py"], "model_calls": 5, "model_parallel": null}`},
		{name: "unknown rule", cfg: `{"rules": ["change_operator", "swap_operand"]}`, want: []string{"error rules[1]: Unknown rule"}, detail: `no rule "swap_operand". Its rules are change_operator, swap_operands`},
		{name: "did you mean", cfg: `{"rules": ["invert_iff"]}`, want: []string{"error rules[0]: Unknown rule"}, detail: `Did you mean "invert_if"?`},
		{name: "unknown rule in rule_probability", cfg: `{"rule_probability": {"nosuch": 1, "invert_if": 2}}`, want: []string{"error rule_probability[\"invert_if\"]: Invalid probability", "error rule_probability[\"nosuch\"]: Unknown rule"}},
		{name: "probability", cfg: `{"probability": 1.5}`, want: []string{"error probability: Invalid probability"}},
		{name: "whole numbers", cfg: `{"seed": -1, "max_statements": 2.5, "model_calls": 0}`, want: []string{"error seed: Invalid seed", "error max_statements: Invalid max_statements", "error model_calls: Invalid model_calls"}},
		{name: "bad glob", cfg: `{"files": ["ok.py", "[bad"]}`, want: []string{"error files[1]: Invalid glob"}},
		{name: "wrong type", cfg: `{"rules": "change_operator"}`, want: []string{"error rules: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := BugInjector{}.ValidateConfig(context.Background(), sdk.ValidateConfigRequest{Config: sdk.Config(tt.cfg)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range resp.Diagnostics {
				got = append(got, string(d.Severity)+" "+d.Path.String()+": "+d.Summary)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("diagnostics %q, want %q", got, tt.want)
			}
			if tt.detail != "" && !strings.Contains(resp.Diagnostics[0].Detail, tt.detail) {
				t.Errorf("detail %q does not say %q", resp.Diagnostics[0].Detail, tt.detail)
			}
		})
	}
}
