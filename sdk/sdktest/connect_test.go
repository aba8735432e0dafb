package sdktest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

type curriculum struct{}

func (curriculum) Stages(ctx context.Context, cfg sdk.Config, stats []sdk.TrajectoryStats) ([]sdk.CurriculumStage, error) {
	var ids []string
	for _, s := range stats {
		ids = append(ids, s.ID)
	}
	return []sdk.CurriculumStage{{Name: "all", IDs: ids}}, nil
}

func TestConnect(t *testing.T) {
	tests := []struct {
		name   string
		plugin *sdk.Plugin
		kinds  []sdk.Kind
	}{
		{"no kinds", &sdk.Plugin{Name: "empty"}, nil},
		{"curriculum", &sdk.Plugin{Name: "tiers", Curriculum: curriculum{}}, []sdk.Kind{sdk.KindCurriculum}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sdktest.Connect(t, tt.plugin)
			info, err := c.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if info.Name != tt.plugin.Name || len(info.Kinds) != len(tt.kinds) {
				t.Errorf("info %+v, want name %q and kinds %v", info, tt.plugin.Name, tt.kinds)
			}
		})
	}
}

func TestStart(t *testing.T) {
	c, stop, err := sdktest.Start(&sdk.Plugin{Name: "tiers", Curriculum: curriculum{}})
	if err != nil {
		t.Fatal(err)
	}
	stages, err := c.Curriculum().Stages(context.Background(), nil, []sdk.TrajectoryStats{{ID: "a"}, {ID: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 1 || len(stages[0].IDs) != 2 {
		t.Errorf("stages %+v", stages)
	}
	stop()
	if _, err := c.Info(context.Background()); err == nil {
		t.Error("client still answers after stop")
	}
}

// language is the smallest language: one name, an echo for a test run.
type language struct{}

func (language) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return sdk.LanguageSpec{Name: "sh"}, nil
}
func (language) TestCommand(_ context.Context, _ sdk.Config, req sdk.TestCommandRequest) (sdk.TestCommand, error) {
	return sdk.TestCommand{Command: "sh " + strings.Join(req.Tests, " ")}, nil
}
func (language) ParseTestRun(_ context.Context, _ sdk.Config, run sdk.TestRun) (sdk.TestReport, error) {
	return sdk.TestReport{Statuses: map[string]sdk.TestStatus{run.Output: sdk.TestPassed}}, nil
}
func (language) CheckCommand(context.Context, sdk.Config, sdk.CheckRequest) (string, error) {
	return "", nil
}

func TestConnectLanguage(t *testing.T) {
	c := sdktest.Connect(t, &sdk.Plugin{Name: "sh", Language: language{}})
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil || !info.Serves(sdk.KindLanguage) || len(info.Kinds) != 1 {
		t.Fatalf("info %+v, %v", info, err)
	}
	cmd, err := c.Language().TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Tests: []string{"a.sh"}})
	if err != nil || cmd.Command != "sh a.sh" {
		t.Errorf("command %+v, %v", cmd, err)
	}
	rep, err := c.Language().ParseTestRun(ctx, nil, sdk.TestRun{Output: "a.sh"})
	if err != nil || rep.Statuses["a.sh"] != sdk.TestPassed {
		t.Errorf("report %+v, %v", rep, err)
	}
}
