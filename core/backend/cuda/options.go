package cuda

import (
	"errors"
	"fmt"

	"github.com/swelego/swelego/core/backend"
)

// Precision is the input type of the matrix multiplies; accumulation is
// fp32 in every case, and every other op computes in fp32.
type Precision string

const (
	FP32 Precision = "float32"  // exact fp32 GEMM
	TF32 Precision = "tf32"     // fp32 tensors, TF32 tensor-core GEMM
	BF16 Precision = "bfloat16" // inputs rounded to bf16 for the GEMM
)

// Options choose the device and the GEMM precision.
type Options struct {
	// Device is the CUDA device ordinal (0 for the first GPU).
	Device    int
	Precision Precision
}

func (o Options) check() error {
	if o.Device < 0 {
		return fmt.Errorf("cuda: device %d: must be 0 or more", o.Device)
	}
	switch o.Precision {
	case "", FP32, TF32, BF16:
		return nil
	}
	return fmt.Errorf("cuda: precision %q: want %s, %s or %s", o.Precision, FP32, TF32, BF16)
}

// Device is an open GPU backend; Close releases its memory and context.
type Device interface {
	backend.Backend
	Close()
}

// ErrNotBuilt is returned by Open in a build without the cuda tag.
var ErrNotBuilt = errors.New("built without CUDA; rebuild with -tags cuda")

// MaxHeadDim is the largest attention head the kernels take (DMAX in
// kernels/attention.cu).
const MaxHeadDim = 128
