package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStagesDescribe: `stages describe eval` lists the eval block's
// arguments with types and defaults, --markdown prints docs/recipes.md as
// it is committed, and a misspelt type is refused with a suggestion.
func TestStagesDescribe(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := swelego(t, dir, "stages", "describe", "eval")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`eval "NAME" { … }`, "tasks", "predictions", "backend", "workers", "instance_ids", "skipped_pass_to_pass", "whole number", `default "fail"`, "required"} {
		if !strings.Contains(out, want) {
			t.Errorf("stages describe eval does not show %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "rollout \"NAME\"") {
		t.Errorf("stages describe eval shows other blocks:\n%s", out)
	}
	md, errOut, code := swelego(t, dir, "stages", "describe", "--markdown")
	if code != 0 {
		t.Fatalf("--markdown: exit %d: %s", code, errOut)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "recipes.md"))
	if err != nil {
		t.Fatal(err)
	}
	if md != string(want) {
		t.Errorf("stages describe --markdown differs from docs/recipes.md")
	}
	if _, errOut, code := swelego(t, dir, "stages", "describe", "evl"); code != 2 || !strings.Contains(errOut, `did you mean "eval"?`) {
		t.Errorf("describe evl: exit %d, %s", code, errOut)
	}
}
