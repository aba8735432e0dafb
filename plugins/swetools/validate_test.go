package swetools

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
		{name: "valid", cfg: `{"root": "/repo", "max_output": 1000, "timeout": 10, "max_timeout": 60, "state_dir": "/tmp/s"}`},
		{name: "relative paths", cfg: `{"root": "repo", "state_dir": "state"}`, want: []string{"error root: Invalid root", "error state_dir: Invalid state_dir"}},
		{name: "small output", cfg: `{"max_output": 10}`, want: []string{"error max_output: Invalid max_output"}},
		{name: "negative timeout", cfg: `{"timeout": -1}`, want: []string{"error timeout: Invalid timeout"}},
		{name: "timeout above the cap", cfg: `{"timeout": 100, "max_timeout": 60}`, want: []string{"warning timeout: Timeout above max_timeout"}},
		{name: "wrong type", cfg: `{"max_output": "lots"}`, want: []string{"error max_output: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := (&ToolSet{}).ValidateConfig(context.Background(), sdk.ValidateConfigRequest{Config: sdk.Config(tt.cfg)})
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
