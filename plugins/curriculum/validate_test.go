package curriculum

import (
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestValidateConfig checks which diagnostics each configuration gets and
// where they point; details are checked for the parts a user acts on.
func TestValidateConfig(t *testing.T) {
	sdktest.CheckValidator(t, Curriculum{}, sdk.KindCurriculum, []sdktest.ValidateCase{
		{Name: "empty", Config: ``},
		{Name: "defaults as the host sends them", Config: `{"strategy": "tiers", "by": "turns", "tiers": 3, "cumulative": false, "epochs": null}`},
		{Name: "unknown strategy", Config: `{"strategy": "tier"}`, Want: []string{"error strategy: Invalid strategy"}, Detail: `Did you mean "tiers"?`},
		{Name: "unknown measure", Config: `{"by": "tokenz"}`, Want: []string{"error by: Invalid by"}, Detail: `Did you mean "tokens"?`},
		{Name: "tiers", Config: `{"tiers": 0}`, Want: []string{"error tiers: Invalid tiers"}},
		{Name: "epochs per stage", Config: `{"tiers": 2, "epochs": [1, 0, 2]}`, Want: []string{"error epochs: Wrong number of epochs", "error epochs[1]: Invalid epochs"}},
		{Name: "none has one stage", Config: `{"strategy": "none", "tiers": 3, "epochs": [2]}`},
	})
}
