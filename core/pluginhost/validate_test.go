package pluginhost

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestValidateConfig asks plugin processes to check configurations.
func TestValidateConfig(t *testing.T) {
	h := newTestHost(t, Options{})
	tests := []struct {
		name    string
		plugin  string
		kind    sdk.Kind
		cfg     string
		want    sdk.Diagnostics
		wantErr error
	}{
		{name: "valid", plugin: "echo", kind: sdk.KindTaskSource, cfg: `{"n": 3}`},
		{name: "invalid", plugin: "echo", kind: sdk.KindTaskSource, cfg: `{"n": -1}`,
			want: sdk.Diagnostics{{Severity: sdk.SeverityError, Summary: "Invalid count", Detail: "n must be >= 0, not -1.", Path: sdk.Attr("n")}}},
		{name: "kind without a validator", plugin: "echo", kind: sdk.KindVerifier, cfg: `{"n": -1}`},
		{name: "plugin without a validator", plugin: "crashy", kind: sdk.KindTaskSource, cfg: `{"count": -1}`},
		{name: "kind not served", plugin: "echo", kind: sdk.KindToolSet, cfg: `{}`, wantErr: ErrKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.ValidateConfig(context.Background(), tt.plugin, tt.kind, sdk.Config(tt.cfg))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("diagnostics = %#v, want %#v", got, tt.want)
			}
		})
	}
}
