//go:build !cuda

package cuda

import "fmt"

// Built says whether this binary has the CUDA backend.
const Built = false

// Open fails with ErrNotBuilt: this binary was built without the cuda tag.
func Open(o Options) (Device, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("cuda backend (device %d): %w", o.Device, ErrNotBuilt)
}
