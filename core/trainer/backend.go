package trainer

import (
	"fmt"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/backend/cuda"
)

// Backend is a training backend that holds resources until closed.
type Backend interface {
	backend.Backend
	Close()
}

// BackendOptions name a training backend as an sft block does.
type BackendOptions struct {
	// Name is "cpu" or "cuda".
	Name string
	// Threads is the cpu backend's worker count (GOMAXPROCS when ≤ 0).
	Threads int
	// Device and Precision configure the cuda backend (cuda.Options).
	Device    int
	Precision string
}

// OpenBackend opens the backend o names. The cuda backend needs a swelego
// built with -tags cuda; otherwise the error wraps cuda.ErrNotBuilt.
func OpenBackend(o BackendOptions) (Backend, error) {
	switch o.Name {
	case "cpu", "":
		return cpu.New(o.Threads), nil
	case "cuda":
		d, err := cuda.Open(cuda.Options{Device: o.Device, Precision: cuda.Precision(o.Precision)})
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, fmt.Errorf("backend %q: want cpu or cuda", o.Name)
}
