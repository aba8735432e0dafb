//go:build openblas && cgo

package openblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// Available reports whether this build links OpenBLAS.
const Available = true

// threads is the thread count last given to OpenBLAS.
var threads atomic.Int64

// Sgemm calls cblas_sgemm on row-major matrices with OpenBLAS using the
// given number of threads. The caller has checked the arguments: m, n, k > 0
// and every slice long enough.
func Sgemm(nthreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if t := int64(nthreads); threads.Swap(t) != t {
		C.openblas_set_num_threads(C.int(t))
	}
	ta, tb := uint32(C.CblasNoTrans), uint32(C.CblasNoTrans)
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}
