package sdk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// plainVerifier scores but does not rank.
type plainVerifier struct{}

func (plainVerifier) Verify(context.Context, sdk.VerifyRequest) (sdk.Score, error) {
	return sdk.Score{Value: 1}, nil
}

// sloppyRanker answers a fixed map, whatever the candidates.
type sloppyRanker struct {
	plainVerifier
	answer map[string]float64
}

func (r sloppyRanker) Rank(context.Context, sdk.RankRequest) (map[string]float64, error) {
	return r.answer, nil
}

// TestRankOverTheWire checks the host side of Rank: a verifier that does
// not rank answers ErrNotServed, and an answer that breaks the contract is
// refused with ErrContract before the host sees it.
func TestRankOverTheWire(t *testing.T) {
	req := sdk.RankRequest{Task: sdk.Task{InstanceID: "x"}, Candidates: []sdk.RankCandidate{{Key: "a"}, {Key: "b"}}}
	tests := []struct {
		name     string
		verifier sdk.Verifier
		want     map[string]float64
		wantErr  error
	}{
		{"does not rank", plainVerifier{}, nil, sdk.ErrNotServed},
		{"ranks", sloppyRanker{answer: map[string]float64{"a": 0.5, "b": 2}}, map[string]float64{"a": 0.5, "b": 2}, nil},
		{"misses a key", sloppyRanker{answer: map[string]float64{"a": 0.5}}, nil, sdk.ErrContract},
		{"adds a key", sloppyRanker{answer: map[string]float64{"a": 0.5, "b": 1, "c": 1}}, nil, sdk.ErrContract},
		{"answers nothing", sloppyRanker{}, nil, sdk.ErrContract},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sdktest.Connect(t, &sdk.Plugin{Name: "v", Verifier: tt.verifier})
			got, err := c.Verifier().(sdk.Ranker).Rank(context.Background(), req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want one matching %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "selection scores", got, tt.want)
		})
	}
}
