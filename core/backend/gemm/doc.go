// Package gemm is the single-precision matrix multiply at the heart of the
// cpu training backend: C = alpha·op(A)·op(B) + beta·C on row-major matrices.
// It is not a general BLAS: one routine (Sgemm), fp32 only, tuned for the
// shapes of transformer training.
//
// # Design
//
// Sgemm follows Goto and van de Geijn's layered algorithm (the one BLIS and
// OpenBLAS use). Five loops around a micro-kernel walk C in blocks sized for
// the caches:
//
//	for jc in steps of NC over the columns of C       (packed B block: L3)
//	  for pc in steps of KC over the depth             pack B[pc:+KC, jc:+NC]
//	    for ic in steps of MC over the rows of C       pack A[ic:+MC, pc:+KC] (L2)
//	      for jr in steps of NR                        (one B sliver: L1)
//	        for ir in steps of MR                      micro-kernel: C[MR×NR] += Ã·B̃
//
// Packing copies a block of op(A) into MR-row slivers laid out step by
// step (MR values per step of k) and a block of op(B) into NR-column
// slivers (NR values per step), padding the edges with zeros. The four
// transpose combinations differ only in the packing: a sliver step is
// either a strided copy (Aᵀ, B) or a transpose (A, Bᵀ), done eight columns
// at a time with in-register AVX transposes. After packing, the
// micro-kernel streams through two contiguous buffers whatever the
// transposes and strides were. Blocks are balanced so that the last one is
// not a sliver (with KC = 384, k = 1000 becomes three blocks of 334 rather
// than 384 + 384 + 232).
//
// The micro-kernels keep an MR×NR tile of C in vector registers for the
// whole depth of a block: each step loads NR values of B̃, broadcasts MR
// values of Ã and issues MR·NR/lanes fused multiply-adds. Written in Go
// assembly for amd64:
//
//   - avx512-12x32: 24 zmm accumulators (12 rows × 2 vectors of 16), two B
//     vectors and two broadcast registers; the default where AVX-512F is
//     available;
//   - avx512-14x32: the same with 28 accumulators, using all 32 registers;
//     it measured the same as 12x32 here, and 12 rows waste less padding
//     on sizes like 768;
//   - avx2-6x16: 12 ymm accumulators (6 rows × 2 vectors of 8), the classic
//     Haswell tile, for CPUs without AVX-512;
//   - generic-4x4: plain Go, for other architectures or when forced.
//
// Each kernel writes alpha·Ã·B̃ + beta·C straight into C; edge tiles go
// through a small buffer and only their valid part is copied. When beta is
// 0 C is never read, so NaNs left in an output buffer do not propagate. On
// the AMD Zen 4 this was tuned on (AVX-512 executed as two 256-bit halves),
// both assembly kernels run at about 95 % of the measured FMA peak when fed
// from L1, and the whole Sgemm reaches 85–90 % of it on training shapes.
//
// # Threads
//
// A product big enough to pay for it is cut into a grid of rectangles of C,
// one per thread, chosen to balance the work and keep packing small; each
// thread runs the loops above on its rectangle with its own packing
// buffers, so threads share nothing but the read-only inputs. The threads
// are long-lived worker goroutines fed through a channel; the calling
// goroutine takes a rectangle itself. A worker that finishes polls for the
// next task for 200 µs (yielding the processor) before it parks, because
// waking a parked one was measured at 50–100 µs on a virtual machine. So a
// thread is added for every 2²¹ multiply-adds while a worker is polling
// (back-to-back products, as in a training step) and only for every 2²⁴
// when all are parked; a product that would have been split runs on the
// calling goroutine and wakes a worker for the ones that follow.
// SetThreads changes the thread count (GOMAXPROCS by default).
//
// # Memory
//
// Packing buffers live in workspaces on a free list that the garbage
// collector does not empty, and the per-call bookkeeping is pooled, so a
// training loop's steady state allocates nothing.
//
// # Choosing a kernel
//
// The fastest kernel the CPU supports (detected with golang.org/x/sys/cpu)
// is the default. SetKernel or the environment variable SWELEGO_GEMM_KERNEL
// ("avx2-6x16", "generic", …) force another one; the tests run every kernel
// the machine has. The purego build tag drops the assembly altogether.
// With the openblas build tag (cgo and libopenblas-dev), the kernel
// "openblas" hands whole products to OpenBLAS's cblas_sgemm; it measured no
// faster than the avx512 kernel here, so it is never the default.
//
// # Peak
//
// CorePeakGFLOPS and PeakGFLOPS measure the machine's fp32 peak with a
// tight loop of independent fused multiply-adds in the widest vectors the
// CPU has (one core, and Threads() cores at once), so that Sgemm's rate can
// be read as a fraction of what the hardware does rather than of a nominal
// clock.
package gemm
