//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
)

// ImageEnvFile is the file of an environment image's root file system that
// holds the environment of its commands, one KEY=VALUE a line.
const ImageEnvFile = "/etc/swelego/env"

// Bwrap needs Linux namespaces; elsewhere NewBwrap reports ErrUnavailable.
type Bwrap struct{}

var _ Backend = (*Bwrap)(nil)

// NewBwrap returns an error wrapping ErrUnavailable: bubblewrap needs Linux.
func NewBwrap(opts Options) (*Bwrap, error) {
	return nil, fmt.Errorf("%w: bwrap needs Linux", ErrUnavailable)
}

// Name is "bwrap".
func (b *Bwrap) Name() string { return "bwrap" }

// RunID is empty: there are no bwrap sandboxes here.
func (b *Bwrap) RunID() string { return "" }

// LimitsByCgroup is false.
func (b *Bwrap) LimitsByCgroup() bool { return false }

// Open fails.
func (b *Bwrap) Open(ctx context.Context, spec Spec) (Sandbox, error) {
	return nil, errors.New("bwrap needs Linux")
}

// Sweep has nothing to do.
func (b *Bwrap) Sweep(ctx context.Context) error { return nil }

// Close has nothing to release.
func (b *Bwrap) Close() error { return nil }
