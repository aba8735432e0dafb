package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// validating is a bug injector that checks its configuration by answering
// the diagnostics it was given, after recording the request.
type validating struct {
	diags sdk.Diagnostics
	err   error
	got   *sdk.ValidateConfigRequest
}

func (validating) Mutations(context.Context, sdk.InjectRequest, func(sdk.Mutation) error) error {
	return nil
}

func (v validating) ValidateConfig(_ context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	*v.got = req
	return sdk.ValidateConfigResponse{Diagnostics: v.diags}, v.err
}

// silent serves a loss masker that does not implement sdk.ConfigValidator.
type silent struct{}

func (silent) Mask(context.Context, sdk.Config, sdk.Trajectory) ([]sdk.LossWeight, error) {
	return nil, nil
}

// TestValidateConfig sends diagnostics of every shape through real gRPC
// and checks what the host gets.
func TestValidateConfig(t *testing.T) {
	every := sdk.Diagnostics{
		sdk.Errorf(sdk.Attr("rules").Index(2), "Unknown rule", "No rule %q.%s", "swap_operand", sdk.DidYouMean("swap_operand", []string{"swap_operands", "flip_operator"})),
		sdk.Warningf(sdk.Attr("rule_probability").Key("swap"), "Unused probability", "rule %q is not run", "swap"),
		sdk.Errorf(sdk.Attr("stage").Index(0).Attr("name"), "Empty name", ""),
		sdk.Errorf(nil, "Bad block", "the block as a whole"),
	}
	cfg := sdk.Config(`{"rules":["a","b","swap_operand"],"rule_probability":{"swap":0.5}}`)
	tests := []struct {
		name      string
		kind      sdk.Kind
		validator validating
		want      sdk.Diagnostics
		wantErr   string // part of the error text, "" for none
	}{
		{name: "every shape of diagnostic", kind: sdk.KindBugInjector, validator: validating{diags: every}, want: every},
		{name: "no diagnostics", kind: sdk.KindBugInjector, validator: validating{}},
		{name: "kind without a validator", kind: sdk.KindLossMasker, validator: validating{diags: every}},
		{name: "validator fails", kind: sdk.KindBugInjector, validator: validating{err: errors.New("rule table not loaded")}, wantErr: "rule table not loaded"},
		{name: "unknown kind", kind: "frobnicator", validator: validating{diags: every}, wantErr: `unknown plugin kind "frobnicator"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := &sdk.ValidateConfigRequest{}
			tt.validator.got = got
			c := sdktest.Connect(t, &sdk.Plugin{Name: "v", BugInjector: tt.validator, LossMasker: silent{}})
			diags, err := c.ValidateConfig(context.Background(), tt.kind, cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "diagnostics", diags, tt.want)
			if tt.kind == sdk.KindBugInjector {
				equal(t, "request", *got, sdk.ValidateConfigRequest{Kind: sdk.KindBugInjector, Config: cfg})
			}
			if diags.HasErrors() != (len(tt.want) > 0) {
				t.Errorf("HasErrors = %v", diags.HasErrors())
			}
		})
	}
}

func TestPathString(t *testing.T) {
	tests := []struct {
		path sdk.Path
		want string
	}{
		{nil, ""},
		{sdk.Attr("rules"), "rules"},
		{sdk.Attr("rules").Index(2), "rules[2]"},
		{sdk.Attr("rule_probability").Key(`a"b`), `rule_probability["a\"b"]`},
		{sdk.Attr("stage").Index(0).Attr("name"), "stage[0].name"},
	}
	for _, tt := range tests {
		if got := tt.path.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.path, got, tt.want)
		}
	}
	// extending a path leaves the original alone
	base := sdk.Attr("a").Index(1)
	_ = base.Attr("x")
	if y := base.Attr("y"); y.String() != "a[1].y" || base.String() != "a[1]" {
		t.Errorf("paths share steps: %s, %s", base, y)
	}
}

func TestDidYouMean(t *testing.T) {
	options := []string{"flip_operator", "swap_operands", "remove_loop"}
	tests := []struct{ got, want string }{
		{"flip_operatr", ` Did you mean "flip_operator"?`},
		{"swap_operand", ` Did you mean "swap_operands"?`},
		{"unrelated", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if s := sdk.DidYouMean(tt.got, options); s != tt.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", tt.got, s, tt.want)
		}
	}
}

func TestDecodeDiagnostic(t *testing.T) {
	var v struct {
		MaxTokens int `json:"max_tokens"`
		Judge     struct {
			Tries int `json:"tries"`
		} `json:"judge"`
	}
	tests := []struct {
		cfg  string
		want sdk.Diagnostic
	}{
		{`{"max_tokens": 2.5}`, sdk.Errorf(sdk.Attr("max_tokens"), "Invalid value", "max_tokens cannot hold number 2.5.")},
		{`{"judge": {"tries": "x"}}`, sdk.Errorf(sdk.Attr("judge").Attr("tries"), "Invalid value", "judge.tries cannot hold string.")},
		{`{"max_tokens": 1`, sdk.Errorf(nil, "Invalid configuration", "decode plugin config: unexpected end of JSON input.")},
	}
	for _, tt := range tests {
		err := sdk.Config(tt.cfg).Decode(&v)
		if err == nil {
			t.Fatalf("Decode(%s): no error", tt.cfg)
		}
		equal(t, tt.cfg, sdk.DecodeDiagnostic(err), tt.want)
	}
}

// checkedLanguage is a language that checks its configuration.
type checkedLanguage struct{ validating }

func (checkedLanguage) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return sdk.LanguageSpec{Name: "lisp", DefaultTestCommand: "make check"}, nil
}

func (checkedLanguage) TestCommand(context.Context, sdk.Config, sdk.TestCommandRequest) (sdk.TestCommand, error) {
	return sdk.TestCommand{Command: "make check"}, nil
}

func (checkedLanguage) ParseTestRun(context.Context, sdk.Config, sdk.TestRun) (sdk.TestReport, error) {
	return sdk.TestReport{}, nil
}

func (checkedLanguage) CheckCommand(context.Context, sdk.Config, sdk.CheckRequest) (string, error) {
	return "", nil
}

// TestValidateConfigLanguage: a language plugin's validator is asked too.
func TestValidateConfigLanguage(t *testing.T) {
	want := sdk.Diagnostics{sdk.Errorf(sdk.Attr("dialect"), "Unknown dialect", "no dialect %q", "scheme")}
	got := &sdk.ValidateConfigRequest{}
	c := sdktest.Connect(t, &sdk.Plugin{Name: "lisp", Language: checkedLanguage{validating{diags: want, got: got}}})
	cfg := sdk.Config(`{"dialect":"scheme"}`)
	diags, err := c.ValidateConfig(context.Background(), sdk.KindLanguage, cfg)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "diagnostics", diags, want)
	equal(t, "request", *got, sdk.ValidateConfigRequest{Kind: sdk.KindLanguage, Config: cfg})
}
