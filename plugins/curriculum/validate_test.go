package curriculum

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
		{name: "defaults as the host sends them", cfg: `{"strategy": "tiers", "by": "turns", "tiers": 3, "cumulative": false, "epochs": null}`},
		{name: "unknown strategy", cfg: `{"strategy": "tier"}`, want: []string{"error strategy: Invalid strategy"}, detail: `Did you mean "tiers"?`},
		{name: "unknown measure", cfg: `{"by": "tokenz"}`, want: []string{"error by: Invalid by"}, detail: `Did you mean "tokens"?`},
		{name: "tiers", cfg: `{"tiers": 0}`, want: []string{"error tiers: Invalid tiers"}},
		{name: "epochs per stage", cfg: `{"tiers": 2, "epochs": [1, 0, 2]}`, want: []string{"error epochs: Wrong number of epochs", "error epochs[1]: Invalid epochs"}},
		{name: "none has one stage", cfg: `{"strategy": "none", "tiers": 3, "epochs": [2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := Curriculum{}.ValidateConfig(context.Background(), sdk.ValidateConfigRequest{Config: sdk.Config(tt.cfg)})
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
