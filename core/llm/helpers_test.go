package llm_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func loadTools(t testing.TB) []sdk.ToolSchema {
	t.Helper()
	data, err := os.ReadFile("testdata/tools.json")
	if err != nil {
		t.Fatal(err)
	}
	var tools []sdk.ToolSchema
	if err := json.Unmarshal(data, &tools); err != nil {
		t.Fatal(err)
	}
	return tools
}

func ptr[T any](v T) *T { return &v }
