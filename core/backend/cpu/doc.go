// Package cpu is the reference backend: every op of backend.Backend written
// in Go, spread over the cores by a small worker pool, with the matrix
// multiplies delegated to backend/gemm. Other backends are tested against it.
//
// It allocates only when tensors are created; a training step whose
// buffers were made up front runs without allocating. It is not a general
// tensor library: there are no shapes, broadcasting or autograd.
package cpu
