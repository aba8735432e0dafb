//go:build !amd64 || purego

package gemm

// gatherAsm does nothing where there is no assembly: gather does it all.
func gatherAsm(dst, src []float32, lds, rows, kc, w int) (done, cols int) { return 0, 0 }
