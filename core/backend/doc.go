// Package backend is the contract between the Qwen3 model and the code that
// runs its arithmetic: flat float32 tensors owned by a backend and the
// forward and backward ops a decoder-only transformer step needs, with
// explicit buffers in the style of llm.c.
//
// It holds no model logic and no kernels; the cpu backend lives in
// backend/cpu (its matrix multiply in backend/gemm) and a CUDA backend
// implements the same interface.
package backend
