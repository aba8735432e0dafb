package swetools

import (
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestValidateConfig checks which diagnostics each configuration gets and
// where they point; details are checked for the parts a user acts on.
func TestValidateConfig(t *testing.T) {
	sdktest.CheckValidator(t, &ToolSet{}, sdk.KindToolSet, []sdktest.ValidateCase{
		{Name: "empty", Config: ``},
		{Name: "valid", Config: `{"root": "/repo", "max_output": 1000, "timeout": 10, "max_timeout": 60, "state_dir": "/tmp/s"}`},
		{Name: "relative paths", Config: `{"root": "repo", "state_dir": "state"}`, Want: []string{"error root: Invalid root", "error state_dir: Invalid state_dir"}},
		{Name: "small output", Config: `{"max_output": 10}`, Want: []string{"error max_output: Invalid max_output"}},
		{Name: "negative timeout", Config: `{"timeout": -1}`, Want: []string{"error timeout: Invalid timeout"}},
		{Name: "timeout above the cap", Config: `{"timeout": 100, "max_timeout": 60}`, Want: []string{"warning timeout: Timeout above max_timeout"}},
		{Name: "wrong type", Config: `{"max_output": "lots"}`, Want: []string{"error max_output: Invalid value"}},
	})
}
