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
