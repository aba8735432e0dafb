package curriculum_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/plugins/curriculum"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// stats makes trajectory statistics from id, turns pairs; tokens are 100 per turn.
func stats(pairs ...any) []sdk.TrajectoryStats {
	var out []sdk.TrajectoryStats
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, sdk.TrajectoryStats{ID: pairs[i].(string), Turns: pairs[i+1].(int), Tokens: 100 * pairs[i+1].(int)})
	}
	return out
}

type st = sdk.CurriculumStage

func TestStages(t *testing.T) {
	nine := stats("i", 90, "a", 10, "e", 50, "b", 20, "h", 80, "c", 30, "g", 70, "d", 40, "f", 60)
	tests := []struct {
		name  string
		cfg   string
		stats []sdk.TrajectoryStats
		want  []sdk.CurriculumStage
	}{
		{
			name:  "three equal tiers, easy first",
			stats: nine,
			want:  []st{{Name: "tier1", IDs: []string{"a", "b", "c"}}, {Name: "tier2", IDs: []string{"d", "e", "f"}}, {Name: "tier3", IDs: []string{"g", "h", "i"}}},
		},
		{
			// b = 0..9 easier: floor(3b/10) = 0 0 0 0 1 1 1 2 2 2
			name:  "ten into three: the first tier takes the remainder",
			stats: append(stats("j", 5), nine...),
			want:  []st{{Name: "tier1", IDs: []string{"a", "b", "c", "j"}}, {Name: "tier2", IDs: []string{"d", "e", "f"}}, {Name: "tier3", IDs: []string{"g", "h", "i"}}},
		},
		{
			// difficulties 1 1 1 1 1 2 3: 1 has 0 easier → tier 1; 2 has 5
			// easier → floor(15/7) = 2 → tier 3; 3 has 6 → floor(18/7) = 2.
			name:  "ties never straddle two tiers; an empty tier makes no stage",
			stats: stats("t1", 1, "t2", 1, "t3", 1, "t4", 1, "t5", 1, "m", 2, "z", 3),
			want:  []st{{Name: "tier1", IDs: []string{"t1", "t2", "t3", "t4", "t5"}}, {Name: "tier3", IDs: []string{"m", "z"}}},
		},
		{
			name:  "a tie across a quantile goes to the easier tier",
			stats: stats("a", 1, "b", 2, "c", 2, "d", 2, "e", 3, "f", 4),
			// easier counts: a 0, b c d 1, e 4, f 5 → floor(3·x/6): 0, 0, 2, 2
			want: []st{{Name: "tier1", IDs: []string{"a", "b", "c", "d"}}, {Name: "tier3", IDs: []string{"e", "f"}}},
		},
		{
			name:  "all equal: one tier",
			stats: stats("b", 7, "a", 7, "c", 7),
			want:  []st{{Name: "tier1", IDs: []string{"a", "b", "c"}}},
		},
		{
			name:  "fewer trajectories than tiers",
			stats: stats("long", 30, "short", 3),
			want:  []st{{Name: "tier1", IDs: []string{"short"}}, {Name: "tier2", IDs: []string{"long"}}},
		},
		{
			name:  "one trajectory",
			stats: stats("only", 12),
			want:  []st{{Name: "tier1", IDs: []string{"only"}}},
		},
		{
			name:  "no trajectories: no stages",
			stats: nil,
			want:  nil,
		},
		{
			name:  "cumulative: stage k trains tiers 1..k",
			cfg:   `{"cumulative": true}`,
			stats: nine,
			want: []st{{Name: "tier1", IDs: []string{"a", "b", "c"}}, {Name: "tier1-2", IDs: []string{"a", "b", "c", "d", "e", "f"}},
				{Name: "tier1-3", IDs: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}}},
		},
		{
			name:  "cumulative skips the stage an empty tier would repeat",
			cfg:   `{"cumulative": true, "epochs": [1, 2, 3]}`,
			stats: stats("t1", 1, "t2", 1, "t3", 1, "t4", 1, "t5", 1, "m", 2, "z", 3),
			want:  []st{{Name: "tier1", IDs: []string{"t1", "t2", "t3", "t4", "t5"}, Epochs: 1}, {Name: "tier1-3", IDs: []string{"m", "t1", "t2", "t3", "t4", "t5", "z"}, Epochs: 3}},
		},
		{
			name:  "two tiers with epochs",
			cfg:   `{"tiers": 2, "epochs": [1.5, 2.5]}`,
			stats: nine,
			want:  []st{{Name: "tier1", IDs: []string{"a", "b", "c", "d", "e"}, Epochs: 1.5}, {Name: "tier2", IDs: []string{"f", "g", "h", "i"}, Epochs: 2.5}},
		},
		{
			name:  "one tier",
			cfg:   `{"tiers": 1}`,
			stats: stats("b", 2, "a", 1),
			want:  []st{{Name: "tier1", IDs: []string{"a", "b"}}},
		},
		{
			name: "by tokens orders differently from turns",
			cfg:  `{"by": "tokens"}`,
			stats: []sdk.TrajectoryStats{{ID: "few-turns-long", Turns: 2, Tokens: 9000}, {ID: "many-turns-short", Turns: 40, Tokens: 1000},
				{ID: "mid", Turns: 10, Tokens: 5000}},
			want: []st{{Name: "tier1", IDs: []string{"many-turns-short"}}, {Name: "tier2", IDs: []string{"mid"}}, {Name: "tier3", IDs: []string{"few-turns-long"}}},
		},
		{
			name:  "none: one stage with every id",
			cfg:   `{"strategy": "none"}`,
			stats: nine,
			want:  []st{{Name: "all", IDs: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}}},
		},
		{
			name:  "none with epochs",
			cfg:   `{"strategy": "none", "epochs": [4]}`,
			stats: stats("x", 1),
			want:  []st{{Name: "all", IDs: []string{"x"}, Epochs: 4}},
		},
		{
			name:  "none with no trajectories",
			cfg:   `{"strategy": "none"}`,
			stats: nil,
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := curriculum.Curriculum{}.Stages(context.Background(), sdk.Config(tt.cfg), tt.stats)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("stages\n got %+v\nwant %+v", got, tt.want)
			}
			untrained, err := sdk.CheckStages(tt.stats, got)
			if err != nil {
				t.Errorf("answer breaks the contract: %v", err)
			}
			if untrained != 0 {
				t.Errorf("%d trajectories in no stage", untrained)
			}
		})
	}
}

func TestStagesErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     string
		stats   []sdk.TrajectoryStats
		wantErr string
	}{
		{"duplicate id", "", stats("a", 1, "a", 2), `"a" appears twice`},
		{"by tokens without token counts", `{"by": "tokens"}`, []sdk.TrajectoryStats{{ID: "a", Turns: 3}}, "no trajectory has a token count"},
		{"bad configuration", `{"tiers": 0}`, stats("a", 1), "tiers: 0 is not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := curriculum.Curriculum{}.Stages(context.Background(), sdk.Config(tt.cfg), tt.stats)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	defaults := curriculum.Config{Strategy: "tiers", By: "turns", Tiers: 3}
	tests := []struct {
		name    string
		cfg     string
		want    curriculum.Config
		wantErr string
	}{
		{"empty block", "", defaults, ""},
		{"every attribute null, as the host sends an empty block", `{"strategy": null, "by": null, "tiers": null, "cumulative": null, "epochs": null}`, defaults, ""},
		{"everything set", `{"strategy": "tiers", "by": "tokens", "tiers": 4, "cumulative": true, "epochs": [1, 1, 0.5, 2]}`,
			curriculum.Config{Strategy: "tiers", By: "tokens", Tiers: 4, Cumulative: true, Epochs: []float64{1, 1, 0.5, 2}}, ""},
		{"unknown strategy", `{"strategy": "random"}`, curriculum.Config{}, `strategy: "random" is not one of tiers, none`},
		{"unknown measure", `{"by": "loss"}`, curriculum.Config{}, `by: "loss" is not one of turns, tokens`},
		{"zero tiers", `{"tiers": 0}`, curriculum.Config{}, "tiers: 0 is not a whole number"},
		{"fractional tiers", `{"tiers": 2.5}`, curriculum.Config{}, "tiers: 2.5 is not a whole number"},
		{"too many tiers", `{"tiers": 1e9}`, curriculum.Config{}, "is not a whole number from 1 to 1000"},
		{"epochs of the wrong length", `{"epochs": [1, 2]}`, curriculum.Config{}, "epochs: 2 values for 3 stages"},
		{"epochs for none", `{"strategy": "none", "epochs": [1, 2, 3]}`, curriculum.Config{}, "epochs: 3 values for 1 stages"},
		{"zero epochs", `{"epochs": [1, 0, 1]}`, curriculum.Config{}, "epochs: value 2, 0, is not a finite number > 0"},
		{"negative epochs", `{"epochs": [1, 1, -1]}`, curriculum.Config{}, "value 3, -1"},
		{"unknown attribute", `{"order": "hard_first"}`, curriculum.Config{}, `unknown field "order"`},
		{"wrong type", `{"cumulative": "yes"}`, curriculum.Config{}, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := curriculum.ParseConfig(sdk.Config(tt.cfg))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, curriculum.ErrConfig) {
					t.Fatalf("error %v, want one wrapping ErrConfig with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestSchema checks that the schema and Config name the same attributes,
// each typed and described.
func TestSchema(t *testing.T) {
	fields := map[string]bool{}
	ty := reflect.TypeOf(curriculum.Config{})
	for i := range ty.NumField() {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		fields[name] = true
		a, ok := curriculum.Schema.Attributes[name]
		switch {
		case !ok:
			t.Errorf("Config.%s (%q) is not in the schema", ty.Field(i).Name, name)
		case a.Type == nil || a.Description == "":
			t.Errorf("attribute %q has no type or no description", name)
		}
	}
	for name := range curriculum.Schema.Attributes {
		if !fields[name] {
			t.Errorf("schema attribute %q is not a Config field", name)
		}
	}
}

// TestPlugin calls the plugin as the host does, over gRPC.
func TestPlugin(t *testing.T) {
	c := sdktest.Connect(t, curriculum.New())
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "curriculum" || !info.Serves(sdk.KindCurriculum) || len(info.Kinds) != 1 {
		t.Errorf("info %+v", info)
	}
	schema, err := c.ConfigSchema(ctx, sdk.KindCurriculum)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(schema, curriculum.Schema) {
		t.Errorf("schema over gRPC differs:\n got %+v\nwant %+v", schema, curriculum.Schema)
	}
	got, err := c.Curriculum().Stages(ctx, sdk.Config(`{"tiers": 2, "cumulative": true, "epochs": [1, 3]}`), stats("a", 3, "b", 30))
	if err != nil {
		t.Fatal(err)
	}
	want := []st{{Name: "tier1", IDs: []string{"a"}, Epochs: 1}, {Name: "tier1-2", IDs: []string{"a", "b"}, Epochs: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stages %+v, want %+v", got, want)
	}
}
