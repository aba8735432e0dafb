//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func fmaLoopAVX2(n int)

//go:noescape
func fmaLoopAVX512(n int)

// peakLoops returns the FMA-throughput loops this CPU can run with the
// flops one iteration of each does.
func peakLoops() []peakLoop {
	var ls []peakLoop
	if cpu.X86.HasAVX512F {
		ls = append(ls, peakLoop{"avx512", fmaLoopAVX512, 12 * 16 * 2})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls, peakLoop{"avx2", fmaLoopAVX2, 12 * 8 * 2})
	}
	return ls
}
