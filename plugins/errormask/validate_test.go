package errormask

import (
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestValidateConfig checks which diagnostics each configuration gets and
// where they point; details are checked for the parts a user acts on.
func TestValidateConfig(t *testing.T) {
	sdktest.CheckValidator(t, &Masker{}, sdk.KindLossMasker, []sdktest.ValidateCase{
		{Name: "empty", Config: ``},
		{Name: "defaults as the host sends them", Config: `{"strategy": "error_turns", "use_turn_flags": true, "respect_turn_mask": true, "k": null, "patterns": null}`},
		{Name: "unknown strategy", Config: `{"strategy": "error_turn"}`, Want: []string{"error strategy: Unknown masking strategy"}, Detail: `Did you mean "error_turns"?`},
		{Name: "last_k without k", Config: `{"strategy": "last_k"}`, Want: []string{"error strategy: Missing k"}},
		{Name: "bad k", Config: `{"strategy": "last_k", "k": 1.5}`, Want: []string{"error k: Invalid k"}},
		{Name: "unused k", Config: `{"k": 2}`, Want: []string{"error k: Unused k"}},
		{Name: "patterns with another strategy", Config: `{"strategy": "none", "extra_patterns": {"a": "b"}}`, Want: []string{"error extra_patterns: Unused patterns"}},
		{Name: "bad regexp", Config: `{"extra_patterns": {"ok": "x+", "broken": "(unclosed"}}`, Want: []string{"error extra_patterns[\"broken\"]: Invalid pattern"}, Detail: "missing closing )"},
		{Name: "empty pattern", Config: `{"patterns": {"all": ""}}`, Want: []string{"error patterns[\"all\"]: Invalid pattern"}},
		{Name: "unknown pattern to disable", Config: `{"disable_patterns": ["traceback", "tracebak"]}`, Want: []string{"error disable_patterns[1]: Unknown pattern"}, Detail: `Did you mean "traceback"?`},
	})
}
