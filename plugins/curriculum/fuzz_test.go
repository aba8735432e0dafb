package curriculum_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/swelego/swelego/plugins/curriculum"
	"github.com/swelego/swelego/sdk"
)

// FuzzStages feeds configurations from outside (a recipe's block) and
// arbitrary statistics to the curriculum: a configuration is accepted or
// refused with ErrConfig, never a panic, and an accepted one answers within
// the contract with every trajectory in a stage. Without cumulative each
// trajectory is in exactly one stage and every stage is strictly harder
// than the one before (ties never straddle); with it each stage contains
// the one before.
func FuzzStages(f *testing.F) {
	f.Add(``, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(`{"tiers": 4, "cumulative": true}`, []byte{5, 5, 5, 1, 9, 9})
	f.Add(`{"by": "tokens", "epochs": [1, 2, 3]}`, []byte{0, 200, 3})
	f.Add(`{"strategy": "none", "epochs": [2]}`, []byte{})
	f.Add(`{"tiers": 1000}`, []byte{1, 1, 2})
	f.Fuzz(func(t *testing.T, cfg string, data []byte) {
		c, err := curriculum.ParseConfig(sdk.Config(cfg))
		if err != nil {
			if !errors.Is(err, curriculum.ErrConfig) {
				t.Fatalf("config error %v does not wrap ErrConfig", err)
			}
			return
		}
		var stats []sdk.TrajectoryStats
		diff := map[string]int{}
		for i, b := range data {
			s := sdk.TrajectoryStats{ID: fmt.Sprintf("t%03d", i), Turns: int(b % 16), Tokens: int(b) * 37 % 1000}
			stats = append(stats, s)
			diff[s.ID] = s.Turns
			if c.By == curriculum.ByTokens {
				diff[s.ID] = s.Tokens
			}
		}
		stages, err := curriculum.Curriculum{}.Stages(context.Background(), sdk.Config(cfg), stats)
		if err != nil {
			if c.By == curriculum.ByTokens {
				return // no token counts
			}
			t.Fatal(err)
		}
		untrained, err := sdk.CheckStages(stats, stages)
		if err != nil {
			t.Fatal(err)
		}
		if untrained != 0 {
			t.Fatalf("%d trajectories in no stage", untrained)
		}
		if len(stages) > int(max(c.Tiers, 1)) {
			t.Fatalf("%d stages for %g tiers", len(stages), c.Tiers)
		}
		if c.Strategy == curriculum.StrategyNone {
			return
		}
		for i := 1; i < len(stages); i++ {
			prev, cur := stages[i-1], stages[i]
			if c.Cumulative {
				in := map[string]bool{}
				for _, id := range cur.IDs {
					in[id] = true
				}
				for _, id := range prev.IDs {
					if !in[id] {
						t.Fatalf("cumulative stage %s lacks %s of stage %s", cur.Name, id, prev.Name)
					}
				}
				continue
			}
			hardestBefore, easiest := -1, int(^uint(0)>>1)
			for _, id := range prev.IDs {
				hardestBefore = max(hardestBefore, diff[id])
			}
			for _, id := range cur.IDs {
				easiest = min(easiest, diff[id])
			}
			if hardestBefore >= easiest {
				t.Fatalf("stage %s (up to %d) overlaps stage %s (from %d)", prev.Name, hardestBefore, cur.Name, easiest)
			}
		}
	})
}
