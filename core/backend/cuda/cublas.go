//go:build cuda

package cuda

// A thin cgo wrapper of the cuBLAS calls gorgonia.org/cu lacks or wraps for
// host slices only: cublasGemmEx on device pointers, for fp32, TF32 and
// bf16 inputs with fp32 accumulation.

/*
#cgo LDFLAGS: -lcublas
#include <cublas_v2.h>

static cublasStatus_t swelego_gemm(cublasHandle_t h, int transA, int transB, int m, int n, int k,
		unsigned long long a, int lda, unsigned long long b, int ldb, float beta, unsigned long long c, int ldc, int prec) {
	float alpha = 1.0f;
	cudaDataType_t in = prec == 2 ? CUDA_R_16BF : CUDA_R_32F;
	cublasComputeType_t comp = prec == 1 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
	return cublasGemmEx(h, transA ? CUBLAS_OP_T : CUBLAS_OP_N, transB ? CUBLAS_OP_T : CUBLAS_OP_N,
		m, n, k, &alpha, (const void *)a, in, lda, (const void *)b, in, ldb, &beta, (void *)c, CUDA_R_32F, ldc, comp,
		CUBLAS_GEMM_DEFAULT);
}
*/
import "C"

import "fmt"

// cublasHandle is a cuBLAS handle on the context current when it was made,
// issuing work on the default stream.
type cublasHandle struct{ h C.cublasHandle_t }

func newCublas() (*cublasHandle, error) {
	var h C.cublasHandle_t
	if st := C.cublasCreate(&h); st != C.CUBLAS_STATUS_SUCCESS {
		return nil, fmt.Errorf("cublasCreate: status %d", int(st))
	}
	return &cublasHandle{h: h}, nil
}

func (c *cublasHandle) close() {
	if c.h != nil {
		C.cublasDestroy(c.h)
		c.h = nil
	}
}

// gemm precisions as swelego_gemm takes them.
const (
	gemmFP32 = 0
	gemmTF32 = 1
	gemmBF16 = 2
)

// gemm runs g with alpha 1 on device pointers (bf16 for a and b when prec
// is gemmBF16, fp32 otherwise; c always fp32).
func (c *cublasHandle) gemm(g gemmCall, a, b, out uintptr, prec int) error {
	st := C.swelego_gemm(c.h, boolInt(g.transA), boolInt(g.transB), C.int(g.m), C.int(g.n), C.int(g.k),
		C.ulonglong(a), C.int(g.lda), C.ulonglong(b), C.int(g.ldb), C.float(g.beta),
		C.ulonglong(out), C.int(g.ldc), C.int(prec))
	if st != C.CUBLAS_STATUS_SUCCESS {
		return fmt.Errorf("cublasGemmEx %+v: status %d", g, int(st))
	}
	return nil
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
