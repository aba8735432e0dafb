package sdktest

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// ValidateCase is one configuration a sdk.ConfigValidator is checked with.
type ValidateCase struct {
	Name   string
	Config string // the configuration as the host sends it (JSON)
	// Want is "severity path: summary" of each diagnostic, in order
	// ("error rules[1]: Unknown rule"); nil for none.
	Want []string
	// Detail is a part of the first diagnostic's detail, "" to not check
	// it: the part a user acts on ("Did you mean …").
	Detail string
}

// CheckValidator runs each case through v as a configuration of kind and
// fails the case's subtest when the diagnostics are not the ones it wants.
//
//	sdktest.CheckValidator(t, myInjector{}, sdk.KindBugInjector, []sdktest.ValidateCase{
//		{Name: "unknown rule", Config: `{"rules": ["swap_operand"]}`,
//			Want: []string{"error rules[0]: Unknown rule"}, Detail: `Did you mean "swap_operands"?`},
//	})
func CheckValidator(t *testing.T, v sdk.ConfigValidator, kind sdk.Kind, cases []ValidateCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			resp, err := v.ValidateConfig(context.Background(), sdk.ValidateConfigRequest{Kind: kind, Config: sdk.Config(c.Config)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range resp.Diagnostics {
				got = append(got, string(d.Severity)+" "+d.Path.String()+": "+d.Summary)
			}
			if !reflect.DeepEqual(got, c.Want) {
				t.Fatalf("diagnostics %q, want %q", got, c.Want)
			}
			if c.Detail != "" && !strings.Contains(resp.Diagnostics[0].Detail, c.Detail) {
				t.Errorf("detail %q does not say %q", resp.Diagnostics[0].Detail, c.Detail)
			}
		})
	}
}
