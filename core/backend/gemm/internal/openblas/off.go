//go:build !openblas || !cgo

package openblas

// Available reports whether this build links OpenBLAS.
const Available = false

// Sgemm is not available without the openblas build tag and cgo.
func Sgemm(nthreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("openblas: built without the openblas tag")
}
