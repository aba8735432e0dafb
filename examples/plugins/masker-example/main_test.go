package main

import (
	"context"
	"reflect"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestMask calls the plugin as swelego does, over gRPC, and checks the
// answer against the loss masker contract.
func TestMask(t *testing.T) {
	c := sdktest.Connect(t, newPlugin())
	traj := sdk.Trajectory{Messages: []sdk.Message{
		{Role: "system"}, {Role: "user"},
		{Role: "assistant"}, {Role: "tool"},
		{Role: "assistant"}, {Role: "tool"},
		{Role: "assistant"},
	}}
	tests := []struct {
		cfg  string
		want []float64
	}{
		{``, []float64{0, 0, 1, 0, 0, 0, 0}},
		{`{"turns": 2}`, []float64{0, 0, 1, 0, 1, 0, 0}},
		{`{"turns": 1, "rest_weight": 0.5}`, []float64{0, 0, 1, 0, 0.5, 0, 0.5}},
	}
	for _, tt := range tests {
		ws, err := c.LossMasker().Mask(context.Background(), sdk.Config(tt.cfg), traj)
		if err != nil {
			t.Fatalf("%s: %v", tt.cfg, err)
		}
		got, err := sdk.ResolveLossWeights(traj, ws)
		if err != nil {
			t.Fatalf("%s: %v", tt.cfg, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: weights %v, want %v", tt.cfg, got, tt.want)
		}
	}
	if _, err := c.LossMasker().Mask(context.Background(), sdk.Config(`{"turns": 0}`), traj); err == nil {
		t.Error("turns 0: no error")
	}
}

// TestValidateConfig asks the plugin over gRPC to check configurations,
// as swelego validate does.
func TestValidateConfig(t *testing.T) {
	c := sdktest.Connect(t, newPlugin())
	tests := []struct {
		cfg  string
		want []string // severity and path of each diagnostic
	}{
		{`{"turns": 2, "rest_weight": 0.5}`, nil},
		{`{"turns": 1.5}`, []string{"error turns"}},
		{`{"turns": 0, "rest_weight": -1}`, []string{"error turns", "error rest_weight"}},
		{`{"rest_weight": 3}`, []string{"warning rest_weight"}},
		{`{"turns": "many"}`, []string{"error turns"}},
	}
	for _, tt := range tests {
		diags, err := c.ValidateConfig(context.Background(), sdk.KindLossMasker, sdk.Config(tt.cfg))
		if err != nil {
			t.Fatalf("%s: %v", tt.cfg, err)
		}
		var got []string
		for _, d := range diags {
			got = append(got, string(d.Severity)+" "+d.Path.String())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: diagnostics %v, want %v", tt.cfg, got, tt.want)
		}
	}
}
