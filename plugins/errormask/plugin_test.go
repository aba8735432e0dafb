package errormask_test

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/swelego/swelego/plugins/errormask"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

func TestParseConfig(t *testing.T) {
	defaults := errormask.Config{Strategy: errormask.StrategyErrorTurns, UseTurnFlags: true, RespectTurnMask: true}
	k := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		cfg     string
		want    errormask.Config
		wantErr string // a part of the error; "" for none
	}{
		{"empty block", "", defaults, ""},
		{"null", "null", defaults, ""},
		{"every attribute null, as the host sends an empty block",
			`{"strategy": null, "k": null, "patterns": null, "extra_patterns": null, "disable_patterns": null, "use_turn_flags": null, "respect_turn_mask": null}`, defaults, ""},
		{"flags off", `{"use_turn_flags": false, "respect_turn_mask": false}`,
			errormask.Config{Strategy: errormask.StrategyErrorTurns}, ""},
		{"last_k", `{"strategy": "last_k", "k": 3}`,
			errormask.Config{Strategy: errormask.StrategyLastK, K: k(3), UseTurnFlags: true, RespectTurnMask: true}, ""},
		{"unknown strategy", `{"strategy": "all_turns"}`, errormask.Config{}, `strategy: "all_turns" is not one of`},
		{"last_k without k", `{"strategy": "last_k"}`, errormask.Config{}, "k: strategy last_k needs k"},
		{"k zero", `{"strategy": "last_k", "k": 0}`, errormask.Config{}, "k: 0 is not a whole number >= 1"},
		{"k negative", `{"strategy": "last_k", "k": -2}`, errormask.Config{}, "k: -2 is not a whole number >= 1"},
		{"k fractional", `{"strategy": "last_k", "k": 1.5}`, errormask.Config{}, "k: 1.5 is not a whole number >= 1"},
		{"k huge", `{"strategy": "last_k", "k": 1e300}`, errormask.Config{}, "is not a whole number >= 1"},
		{"k with another strategy", `{"k": 2}`, errormask.Config{}, "k: only strategy last_k uses k"},
		{"patterns with another strategy", `{"strategy": "none", "extra_patterns": {"a": "b"}}`, errormask.Config{}, "only apply to strategy error_turns"},
		{"bad regex in patterns", `{"patterns": {"broken": "(unclosed"}}`, errormask.Config{}, "patterns: pattern broken: error parsing regexp"},
		{"bad regex in extra_patterns", `{"extra_patterns": {"broken": "a**"}}`, errormask.Config{}, "extra_patterns: pattern broken: error parsing regexp"},
		{"empty regex", `{"extra_patterns": {"all": ""}}`, errormask.Config{}, `"all" is empty`},
		{"empty name", `{"patterns": {"": "x"}}`, errormask.Config{}, "empty name"},
		{"disable an unknown pattern", `{"disable_patterns": ["tracebak"]}`, errormask.Config{}, `no pattern named "tracebak"`},
		{"unknown attribute", `{"strategy": "none", "mask_errors": true}`, errormask.Config{}, `unknown field "mask_errors"`},
		{"wrong type", `{"use_turn_flags": "yes"}`, errormask.Config{}, "cannot unmarshal"},
		{"two values", `{} {}`, errormask.Config{}, "more than one JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := errormask.ParseConfig(sdk.Config(tt.cfg))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errormask.ErrConfig) {
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
// each typed and described, and that the default patterns compile.
func TestSchema(t *testing.T) {
	fields := map[string]bool{}
	ty := reflect.TypeOf(errormask.Config{})
	for i := range ty.NumField() {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		fields[name] = true
		a, ok := errormask.Schema.Attributes[name]
		switch {
		case !ok:
			t.Errorf("Config.%s (%q) is not in the schema", ty.Field(i).Name, name)
		case a.Type == nil || a.Description == "":
			t.Errorf("attribute %q has no type or no description", name)
		}
	}
	for name := range errormask.Schema.Attributes {
		if !fields[name] {
			t.Errorf("schema attribute %q is not a Config field", name)
		}
	}
	for name, expr := range errormask.DefaultPatterns() {
		if _, err := regexp.Compile(expr); err != nil {
			t.Errorf("default pattern %s: %v", name, err)
		}
	}
}

// TestPlugin calls the plugin as the host does, over gRPC.
func TestPlugin(t *testing.T) {
	c := sdktest.Connect(t, errormask.New())
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "errormask" || !info.Serves(sdk.KindLossMasker) || len(info.Kinds) != 1 {
		t.Errorf("info %+v", info)
	}
	schema, err := c.ConfigSchema(ctx, sdk.KindLossMasker)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(schema, errormask.Schema) {
		t.Errorf("schema over gRPC differs:\n got %+v\nwant %+v", schema, errormask.Schema)
	}
	tr := traj([]sdk.Turn{{ExitCode: 127, Error: true}, {}}, asst(call("a", "execute_bash")), tool("a", notFoundOut), asst(call("b", "finish")), tool("b", "Done."))
	got, err := c.LossMasker().Mask(ctx, sdk.Config(`{"strategy": "error_turns"}`), tr)
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.LossWeight{{Index: 2, Weight: 0, Reason: errormask.ReasonTurnFlag}, {Index: 4, Weight: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("weights %+v, want %+v", got, want)
	}
	if _, err := c.LossMasker().Mask(ctx, sdk.Config(`{"strategy": "last_k", "k": 0}`), tr); err == nil || !strings.Contains(err.Error(), "k: 0 is not a whole number") {
		t.Errorf("bad config over gRPC: error %v", err)
	}
}
