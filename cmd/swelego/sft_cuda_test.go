package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/backend/cuda"
)

// TestSFTCudaNotBuilt: an sft stage asking for the cuda backend in a
// swelego built without the cuda tag passes validate (the recipe is right)
// and fails at run time, before any training, saying how to rebuild.
func TestSFTCudaNotBuilt(t *testing.T) {
	if cuda.Built {
		t.Skip("this swelego has the cuda backend")
	}
	t.Parallel()
	dir := t.TempDir()
	recipe, err := os.ReadFile(sftRecipe)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(recipe), `"../../../../`, `"`+abs(t, "../..")+"/")
	text = strings.Replace(text, `"trajectories.jsonl"`, fmt.Sprintf("%q", abs(t, "testdata/sft/trajectories.jsonl")), 1)
	withCuda := strings.Replace(text, `template     = "qwen3"`, "template     = \"qwen3\"\n  backend      = \"cuda\"\n  device       = 1", 1)
	if withCuda == text {
		t.Fatal("the recipe has no template line to add the backend after")
	}
	path := filepath.Join(dir, "recipe.hcl")
	writeFile(t, path, withCuda)
	if out, errOut, code := swelego(t, dir, "validate", path); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	work := t.TempDir()
	out, errOut, code := swelego(t, dir, "run", path, "--workdir", work)
	if code == 0 {
		t.Fatalf("run with backend = \"cuda\" succeeded in a build without CUDA\n%s", out)
	}
	if want := "cuda backend (device 1): built without CUDA; rebuild with -tags cuda"; !strings.Contains(errOut+out, want) {
		t.Errorf("run's output does not say %q:\n%s%s", want, out, tail(errOut, 4000))
	}
	if _, err := os.Stat(filepath.Join(work, "sft", "student", "metrics.jsonl")); err == nil {
		t.Error("a step was trained")
	}
}
