package gemm

import (
	"fmt"
	"os"
	"sync/atomic"
)

// microKernel computes one mr×nr tile of C from packed panels:
//
//	C[0:mr, 0:nr] = alpha·(Ã·B̃) + beta·C[0:mr, 0:nr]
//
// where Ã is kc steps of mr values of A (one column of op(A)'s sliver per
// step) and B̃ is kc steps of nr values of B. C has row stride ldc. When beta
// is +0 the kernel does not read C; callers turn -0 into +0.
type microKernel func(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// kernel is a micro-kernel together with the tile and cache blocking sizes
// it was tuned for.
type kernel struct {
	name   string
	mr, nr int // register tile
	mc     int // rows of op(A) packed per block (kept in L2)
	kc     int // depth of a packed block (one B sliver kc×nr stays in L1)
	nc     int // columns of op(B) packed per block (kept in L3)
	fn     microKernel
	// asmPack lets the packing routines use assembly; the pure-Go kernel
	// packs in Go, so forcing it exercises the portable path end to end.
	asmPack bool
	// whole, when set, computes an entire product instead of the blocked
	// driver (an external BLAS); the fields above are then unused.
	whole func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// kernels lists the kernels this build provides, best first; the generic
// pure-Go kernel is always last. Architecture files add theirs in init.
var kernels []*kernel

var active atomic.Pointer[kernel]

// EnvKernel names the environment variable that picks a kernel at start-up
// (for example SWELEGO_GEMM_KERNEL=generic forces the pure-Go fallback).
const EnvKernel = "SWELEGO_GEMM_KERNEL"

func init() {
	kernels = append(append(archKernels(), blasKernels()...), genericKernel)
	active.Store(kernels[0])
	if name := os.Getenv(EnvKernel); name != "" {
		if err := SetKernel(name); err != nil {
			fmt.Fprintf(os.Stderr, "gemm: %s: %v; using %s\n", EnvKernel, err, kernels[0].name)
		}
	}
}

// Kernel returns the name of the micro-kernel Sgemm uses, for example
// "avx512-12x32", "avx2-6x16" or "generic-4x8".
func Kernel() string { return active.Load().name }

// Kernels returns the names of the micro-kernels this machine can run,
// fastest first. The last one is always the portable pure-Go kernel.
func Kernels() []string {
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.name
	}
	return names
}

// SetKernel selects the micro-kernel by name (one of Kernels, or "generic"
// for the pure-Go one). It is safe to call while other goroutines run Sgemm;
// calls already under way finish with the kernel they started with.
func SetKernel(name string) error {
	for _, k := range kernels {
		if k.name == name || (name == "generic" && k == genericKernel) {
			active.Store(k)
			return nil
		}
	}
	return fmt.Errorf("unknown or unsupported kernel %q (have %v)", name, Kernels())
}
