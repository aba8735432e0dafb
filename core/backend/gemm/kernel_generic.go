package gemm

import "unsafe"

// genericKernel is the portable fallback: a 4×4 register tile in plain Go.
// Sixteen scalar accumulators are about what the Go compiler keeps in
// registers; wider tiles spill and run slower.
var genericKernel = &kernel{
	name: "generic-4x4",
	mr:   4, nr: 4,
	mc: 128, kc: 256, nc: 2048,
	fn: kernelGeneric4x4,
}

func kernelGeneric4x4(kc int, ap, bp, cp *float32, ldc int, alpha, beta float32) {
	a := unsafe.Slice(ap, kc*4)
	b := unsafe.Slice(bp, kc*4)
	var (
		c00, c01, c02, c03 float32
		c10, c11, c12, c13 float32
		c20, c21, c22, c23 float32
		c30, c31, c32, c33 float32
	)
	for p := 0; p < kc; p++ {
		av := (*[4]float32)(a[p*4:])
		bv := (*[4]float32)(b[p*4:])
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		a0 := av[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := av[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := av[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := av[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	c := unsafe.Slice(cp, 3*ldc+4)
	store4((*[4]float32)(c[0:]), alpha, beta, c00, c01, c02, c03)
	store4((*[4]float32)(c[ldc:]), alpha, beta, c10, c11, c12, c13)
	store4((*[4]float32)(c[2*ldc:]), alpha, beta, c20, c21, c22, c23)
	store4((*[4]float32)(c[3*ldc:]), alpha, beta, c30, c31, c32, c33)
}

// store4 writes one row of a generic tile: c = alpha·s + beta·c, without
// reading c when beta is 0.
func store4(c *[4]float32, alpha, beta float32, s0, s1, s2, s3 float32) {
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	c[0] = alpha*s0 + beta*c[0]
	c[1] = alpha*s1 + beta*c[1]
	c[2] = alpha*s2 + beta*c[2]
	c[3] = alpha*s3 + beta*c[3]
}
