//go:build !cuda

package cuda

import (
	"os"
	"os/exec"
	"testing"
)

// TestGPU is the default build's door to the GPU tests (gpu_test.go and
// model_gpu_test.go, behind the cuda tag): without an NVIDIA device it
// skips and says why; with one it runs them in a test binary built with
// the tag, so `make test` on a GPU machine checks every kernel.
func TestGPU(t *testing.T) {
	// The kernel driver lists its GPUs here (device nodes are no sign:
	// the user-space driver creates /dev/nvidiactl even without a GPU).
	if gpus, _ := os.ReadDir("/proc/driver/nvidia/gpus"); len(gpus) == 0 {
		t.Skip("no NVIDIA GPU here (/proc/driver/nvidia/gpus lists none): the per-kernel and whole-model " +
			"parity tests need one; run scripts/gpu-check.sh on a GPU machine")
	}
	if testing.Short() {
		t.Skip("-short: the GPU tests build a test binary with the cuda tag")
	}
	cmd := exec.Command("go", "test", "-tags", "cuda", "-count=1", "-run", "Parity|Golden|Precisions", ".")
	cmd.Env = append(os.Environ(), "CGO_LDFLAGS=-L/usr/lib/x86_64-linux-gnu/stubs")
	out, err := cmd.CombinedOutput()
	t.Logf("go test -tags cuda:\n%s", out)
	if err != nil {
		t.Fatalf("the GPU tests failed: %v", err)
	}
}
