//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// The assembly micro-kernels (kernel_amd64.s). Each computes
// C[0:mr, 0:nr] = alpha·(Ã·B̃) + beta·C, skipping the read of C when the
// bits of beta are zero.

//go:noescape
func kernelAVX2x6x16(kc int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512x14x32(kc int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512x12x32(kc int, a, b, c *float32, ldc int, alpha, beta float32)

var (
	avx2Kernel = &kernel{
		name: "avx2-6x16",
		mr:   6, nr: 16,
		mc: 144, kc: 384, nc: 3072,
		fn: kernelAVX2x6x16, asmPack: true,
	}
	avx512x14Kernel = &kernel{
		name: "avx512-14x32",
		mr:   14, nr: 32,
		mc: 140, kc: 384, nc: 3072,
		fn: kernelAVX512x14x32, asmPack: true,
	}
	avx512Kernel = &kernel{
		name: "avx512-12x32",
		mr:   12, nr: 32,
		mc: 144, kc: 384, nc: 3072,
		fn: kernelAVX512x12x32, asmPack: true,
	}
)

func archKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel, avx512x14Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return ks
}
