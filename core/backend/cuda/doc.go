// Package cuda is the GPU backend: backend.Backend on NVIDIA GPUs through the
// CUDA driver API (gorgonia.org/cu), cuBLAS for the matrix multiplies (fp32,
// TF32 or bf16 inputs with fp32 accumulation, through a thin cgo wrapper of
// cublasGemmEx) and kernels written in CUDA C (kernels/*.cu), compiled to
// PTX for sm_80 and sm_90 by `make ptx` and committed, so a build needs no
// nvcc. Tensors are fp32 in device memory; master weights and optimiser
// state stay fp32 whatever the GEMM precision.
//
// The implementation is behind the cuda build tag: importing gorgonia.org/cu
// initialises the driver and exits the process when there is none. The
// default build has Open, which says how to rebuild, the PTX checks and CPU
// emulations of the kernels' index maths and tiling. It is not a general
// GPU tensor library: there are no shapes, streams per op or autograd.
package cuda
