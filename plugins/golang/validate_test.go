package golang

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
		{name: "every setting valid", cfg: `{"rules": ["change_operator", "lm_rewrite"], "probability": 0.5, "seed": 3, "max_per_function": 2, "files": ["pkg/**/*.go"], "model_calls": 5}`},
		{name: "unknown rule", cfg: `{"rules": ["off_by_one", "swap_operand"]}`, want: []string{"error rules[1]: Unknown rule"}, detail: `no rule "swap_operand". Its rules are change_operator, swap_operands`},
		{name: "did you mean", cfg: `{"rules": ["of_by_one"]}`, want: []string{"error rules[0]: Unknown rule"}, detail: `Did you mean "off_by_one"?`},
		{name: "probability", cfg: `{"probability": -0.1}`, want: []string{"error probability: Invalid probability"}},
		{name: "limits", cfg: `{"min_statements": -1, "model_parallel": 0}`, want: []string{"error min_statements: Invalid min_statements", "error model_parallel: Invalid model_parallel"}},
		{name: "not a whole number", cfg: `{"max_per_function": 2.5}`, want: []string{"error max_per_function: Invalid value"}},
		{name: "negative seed", cfg: `{"seed": -3}`, want: []string{"error seed: Invalid value"}},
		{name: "bad glob", cfg: `{"files": ["[bad"]}`, want: []string{"error files[0]: Invalid glob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := Injector{}.ValidateConfig(context.Background(), sdk.ValidateConfigRequest{Config: sdk.Config(tt.cfg)})
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
