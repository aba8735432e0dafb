package gemm

import "github.com/swelego/swelego/core/backend/gemm/internal/openblas"

// openblasKernel hands whole products to OpenBLAS's cblas_sgemm. It exists
// only in builds with the openblas tag (and cgo, and libopenblas-dev).
var openblasKernel = &kernel{
	name: "openblas",
	whole: func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		// BLAS insists on strides of at least a row even for one-row
		// matrices, which Sgemm lets through.
		if transA {
			lda = max(lda, m)
		} else {
			lda = max(lda, k)
		}
		if transB {
			ldb = max(ldb, k)
		} else {
			ldb = max(ldb, n)
		}
		ldc = max(ldc, n)
		openblas.Sgemm(Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	},
}

// blasKernels returns the OpenBLAS kernel when the build links it. It is
// listed after the assembly kernels, so it is used only when asked for.
func blasKernels() []*kernel {
	if !openblas.Available {
		return nil
	}
	return []*kernel{openblasKernel}
}
