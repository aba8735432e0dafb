// Package gemm is the single-precision matrix multiply at the heart of the
// cpu training backend: C = alpha·op(A)·op(B) + beta·C on row-major matrices.
package gemm
