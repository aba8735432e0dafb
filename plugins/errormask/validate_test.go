package errormask

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
		{name: "defaults as the host sends them", cfg: `{"strategy": "error_turns", "use_turn_flags": true, "respect_turn_mask": true, "k": null, "patterns": null}`},
		{name: "unknown strategy", cfg: `{"strategy": "error_turn"}`, want: []string{"error strategy: Unknown masking strategy"}, detail: `Did you mean "error_turns"?`},
		{name: "last_k without k", cfg: `{"strategy": "last_k"}`, want: []string{"error strategy: Missing k"}},
		{name: "bad k", cfg: `{"strategy": "last_k", "k": 1.5}`, want: []string{"error k: Invalid k"}},
		{name: "unused k", cfg: `{"k": 2}`, want: []string{"error k: Unused k"}},
		{name: "patterns with another strategy", cfg: `{"strategy": "none", "extra_patterns": {"a": "b"}}`, want: []string{"error extra_patterns: Unused patterns"}},
		{name: "bad regexp", cfg: `{"extra_patterns": {"ok": "x+", "broken": "(unclosed"}}`, want: []string{"error extra_patterns[\"broken\"]: Invalid pattern"}, detail: "missing closing )"},
		{name: "empty pattern", cfg: `{"patterns": {"all": ""}}`, want: []string{"error patterns[\"all\"]: Invalid pattern"}},
		{name: "unknown pattern to disable", cfg: `{"disable_patterns": ["traceback", "tracebak"]}`, want: []string{"error disable_patterns[1]: Unknown pattern"}, detail: `Did you mean "traceback"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := (&Masker{}).ValidateConfig(context.Background(), sdk.ValidateConfigRequest{Config: sdk.Config(tt.cfg)})
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
