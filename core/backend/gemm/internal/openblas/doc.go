// Package openblas binds OpenBLAS's cblas_sgemm through cgo for the gemm
// package's optional "openblas" kernel (build tag openblas). It lives apart
// because a package cannot mix cgo with Go assembly; it is not a general
// BLAS binding.
package openblas
