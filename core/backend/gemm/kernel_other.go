//go:build !amd64 || purego

package gemm

// archKernels is empty where there are no assembly kernels: Sgemm runs the
// portable pure-Go kernel.
func archKernels() []*kernel { return nil }
