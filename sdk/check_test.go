package sdk_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestResolveLossWeights(t *testing.T) {
	traj := sdk.Trajectory{Messages: []sdk.Message{
		{Role: "system"}, {Role: "user"}, {Role: "assistant"}, {Role: "tool"}, {Role: "assistant"},
	}}
	tests := []struct {
		name    string
		ws      []sdk.LossWeight
		want    []float64
		wantErr bool
	}{
		{"no answer trains every assistant message", nil, []float64{0, 0, 1, 0, 1}, false},
		{"masked turn", []sdk.LossWeight{{Index: 2, Weight: 0}}, []float64{0, 0, 0, 0, 1}, false},
		{"scaled turn", []sdk.LossWeight{{Index: 4, Weight: 0.5}, {Index: 2, Weight: 1}}, []float64{0, 0, 1, 0, 0.5}, false},
		{"weight on a tool message is ignored", []sdk.LossWeight{{Index: 3, Weight: 2}}, []float64{0, 0, 1, 0, 1}, false},
		{"duplicate index", []sdk.LossWeight{{Index: 2, Weight: 0}, {Index: 2, Weight: 1}}, nil, true},
		{"index past the end", []sdk.LossWeight{{Index: 5, Weight: 0}}, nil, true},
		{"negative index", []sdk.LossWeight{{Index: -1, Weight: 0}}, nil, true},
		{"negative weight", []sdk.LossWeight{{Index: 2, Weight: -1}}, nil, true},
		{"NaN weight", []sdk.LossWeight{{Index: 2, Weight: math.NaN()}}, nil, true},
		{"infinite weight", []sdk.LossWeight{{Index: 2, Weight: math.Inf(1)}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdk.ResolveLossWeights(traj, tt.ws)
			if tt.wantErr {
				if !errors.Is(err, sdk.ErrContract) {
					t.Fatalf("error %v, want one wrapping ErrContract", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("weights %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckStages(t *testing.T) {
	stats := []sdk.TrajectoryStats{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	tests := []struct {
		name      string
		stages    []sdk.CurriculumStage
		untrained int
		wantErr   bool
	}{
		{"no stages", nil, 3, false},
		{"one stage", []sdk.CurriculumStage{{Name: "all", IDs: []string{"c", "a", "b"}}}, 0, false},
		{"overlapping stages", []sdk.CurriculumStage{{IDs: []string{"a"}, Epochs: 1}, {IDs: []string{"a", "b"}, Epochs: 0.5}}, 1, false},
		{"an empty stage does not count for epochs", []sdk.CurriculumStage{{IDs: []string{"a"}, Epochs: 2}, {Name: "empty"}}, 2, false},
		{"unknown id", []sdk.CurriculumStage{{IDs: []string{"a", "z"}}}, 0, true},
		{"id twice in a stage", []sdk.CurriculumStage{{IDs: []string{"a", "a"}}}, 0, true},
		{"epochs set in some stages only", []sdk.CurriculumStage{{IDs: []string{"a"}, Epochs: 1}, {IDs: []string{"b"}}}, 0, true},
		{"negative epochs", []sdk.CurriculumStage{{IDs: []string{"a"}, Epochs: -1}}, 0, true},
		{"NaN epochs", []sdk.CurriculumStage{{IDs: []string{"a"}, Epochs: math.NaN()}}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := sdk.CheckStages(stats, tt.stages)
			if tt.wantErr {
				if !errors.Is(err, sdk.ErrContract) {
					t.Fatalf("error %v, want one wrapping ErrContract", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.untrained {
				t.Errorf("untrained %d, want %d", n, tt.untrained)
			}
		})
	}
}

func TestCheckRanking(t *testing.T) {
	req := sdk.RankRequest{Candidates: []sdk.RankCandidate{{Key: "a"}, {Key: "b"}, {Key: "c"}}}
	tests := []struct {
		name    string
		req     sdk.RankRequest
		scores  map[string]float64
		wantErr string
	}{
		{"every key once", req, map[string]float64{"a": 1, "b": -3, "c": 1e9}, ""},
		{"no candidates, no scores", sdk.RankRequest{}, map[string]float64{}, ""},
		{"missing key", req, map[string]float64{"a": 1, "c": 2}, `no selection score for candidate "b"`},
		{"unknown key", req, map[string]float64{"a": 1, "b": 2, "c": 3, "z": 4}, `selection score for "z", which is not a candidate`},
		{"NaN", req, map[string]float64{"a": 1, "b": math.NaN(), "c": 3}, `selection score NaN for candidate "b"`},
		{"infinity", req, map[string]float64{"a": math.Inf(-1), "b": 2, "c": 3}, `selection score -Inf for candidate "a"`},
		{"duplicate key in the request", sdk.RankRequest{Candidates: []sdk.RankCandidate{{Key: "a"}, {Key: "a"}}}, map[string]float64{"a": 1}, `candidate 2 repeats the key "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sdk.CheckRanking(tt.req, tt.scores)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, sdk.ErrContract) {
				t.Fatalf("error %v, want one wrapping ErrContract", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to say %q", err, tt.wantErr)
			}
		})
	}
}
