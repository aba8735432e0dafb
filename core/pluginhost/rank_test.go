package pluginhost

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestVerifierRank calls Rank through the host on a plugin process that
// ranks (the built-in echo) and on one that does not (crashy), which
// answers sdk.ErrNotServed and keeps serving.
func TestVerifierRank(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Options{})
	req := sdk.RankRequest{Task: sdk.Task{InstanceID: "t"}, Candidates: []sdk.RankCandidate{
		{Key: "k1", Score: sdk.Score{Value: 3}}, {Key: "k0", Score: sdk.Score{Value: 1, Parts: map[string]float64{"p_yes": 1}}},
	}}

	echo, err := h.Verifier(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	got, err := echo.(sdk.Ranker).Rank(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"k1": -3, "k0": -1}; !reflect.DeepEqual(got, want) {
		t.Errorf("echo ranks %v, want %v", got, want)
	}

	crashy, err := h.Verifier(ctx, "crashy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crashy.(sdk.Ranker).Rank(ctx, req); !errors.Is(err, sdk.ErrNotServed) || errors.Is(err, ErrCrashed) {
		t.Fatalf("rank by a verifier that does not rank: %v, want sdk.ErrNotServed", err)
	}
	if _, err := crashy.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: "ok"}}); err != nil {
		t.Fatalf("verify after rank: %v", err)
	}
}
