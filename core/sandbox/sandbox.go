package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swelego/swelego/sdk"
)

// RepoDir is where the repository sits inside every sandbox (the sdk's
// contract with plugins).
const RepoDir = sdk.RepoDir

// LabelKey labels every container swelego creates; its value is the run id.
const LabelKey = "swelego"

// Errors a caller may test for with errors.Is.
var (
	// ErrUnavailable: the backend cannot run here (no Docker Engine, no bwrap).
	ErrUnavailable = errors.New("sandbox backend unavailable")
	// ErrClosed: the sandbox was closed.
	ErrClosed = errors.New("sandbox closed")
	// ErrOutOfMemory: a command was killed for exceeding the memory limit.
	ErrOutOfMemory = errors.New("sandbox out of memory")
	// ErrExpired: the sandbox outlived its wall-clock limit.
	ErrExpired = errors.New("sandbox wall-clock limit reached")
)

// Sandbox is an isolated copy of a repository at a commit. Exec runs a
// shell command (bash -c) in RepoDir as a non-root user; a command past its
// timeout is killed with its whole process tree and reported with
// ExecResult.TimedOut (ExitCode -1); when a command ends, what it left
// running in the background is killed too, on every backend. Files in
// RepoDir and /tmp persist from one Exec to the next; the rest of the file
// system may be read-only (it is with bwrap). ReadFile and
// WriteFile take paths relative to RepoDir or absolute inside the sandbox;
// WriteFile writes only inside RepoDir (ErrOutsideRepo otherwise). Diff is
// `git diff` of the working tree (new files included) against the commit
// the sandbox was opened at.
type Sandbox interface {
	sdk.Sandbox
	// Close removes the sandbox and everything in it.
	Close(ctx context.Context) error
}

// Limits bound what a sandbox may use. Zero means the backend's default.
type Limits struct {
	Memory  int64         // bytes of memory (and swap) for all its processes
	CPUs    float64       // CPU cores
	Pids    int64         // processes and threads
	Timeout time.Duration // wall-clock life of the sandbox
}

// Spec says what sandbox to open.
type Spec struct {
	// Image is the environment image the sandbox starts from (see
	// envimage): a Docker image for the docker backend, a root file system
	// folder for bwrap.
	Image Image
	// Repo is a folder on the host holding the prepared repository (already
	// checked out at the base commit and sanitised). Its content is copied to
	// RepoDir; the host folder is never written to.
	Repo string
	// Commit, when the caller knows it, is the commit Repo is checked out
	// at: Diff's base. When empty the backend asks git inside the sandbox
	// as it opens, which costs a command.
	Commit string
	// Network allows network access (environment setup only; tests and
	// agents run without).
	Network bool
	Limits  Limits
	// RunID labels the sandbox so a later run can sweep leftovers.
	RunID string
}

// Image names one environment image in both of its forms.
type Image struct {
	Name   string // Docker image reference, e.g. swelego/env-textkit:3f2a…
	RootFS string // folder holding the same root file system, for bwrap
}

// Backend opens sandboxes of one kind.
type Backend interface {
	Name() string
	Open(ctx context.Context, spec Spec) (Sandbox, error)
	// Sweep removes sandboxes that crashed runs left behind (for docker:
	// every container labelled swelego=<id> whose run is not live).
	Sweep(ctx context.Context) error
	// Close releases what the backend holds between sandboxes (warm
	// sandboxes, a connection to an engine). Sandboxes it opened must be
	// closed before it; the backend cannot be used after.
	Close() error
}

// The user every sandbox command runs as, as in the environment images
// envimage builds (user swelego).
const (
	UID = 1000
	GID = 1000
)

// ErrOutsideRepo is returned by WriteFile for a path outside RepoDir:
// sandboxes only let the host write into the repository.
var ErrOutsideRepo = errors.New("path outside the repository")

// DefaultLimits fill the zero fields of Spec.Limits and Options.Limits.
var DefaultLimits = Limits{Memory: 4 << 30, CPUs: 2, Pids: 1024, Timeout: 2 * time.Hour}

// Defaults of Options.
const (
	DefaultExecTimeout = 30 * time.Minute
	DefaultMaxOutput   = 8 << 20
)

// Options configure a backend.
type Options struct {
	// RunID labels the sandboxes this process opens when Spec.RunID is
	// empty; empty means a random id. Sweep never removes its sandboxes.
	RunID string
	// KeepRuns are further run ids whose sandboxes Sweep leaves alone.
	KeepRuns []string
	// Limits fill the zero fields of Spec.Limits (then DefaultLimits).
	Limits Limits
	// ExecTimeout bounds an Exec called with a zero timeout
	// (DefaultExecTimeout if zero).
	ExecTimeout time.Duration
	// MaxOutput caps the bytes of output an Exec keeps; the rest is
	// dropped and a note says how much (DefaultMaxOutput if zero).
	MaxOutput int
	// WorkDir holds the bwrap backend's sandbox folders
	// (os.TempDir()/swelego-sandboxes if empty).
	WorkDir string
	// NoSweep skips the Sweep a backend runs when it starts.
	NoSweep bool
	// Warm is how many started containers the docker backend keeps ready
	// for each image and set of limits it opened a sandbox with, so that
	// Open need not start one (DefaultWarm if zero; negative: none).
	Warm int
}

// DefaultWarm is Options.Warm's default.
const DefaultWarm = 1

// New returns the backend named by backend: "docker", "bwrap", or "auto"
// (or empty) for docker when a Docker Engine answers and bwrap otherwise.
func New(ctx context.Context, backend string, opts Options) (Backend, error) {
	switch backend {
	case "docker":
		d, err := NewDocker(ctx, opts)
		if err != nil {
			return nil, err
		}
		return d, nil
	case "bwrap":
		b, err := NewBwrap(opts)
		if err != nil {
			return nil, err
		}
		return b, nil
	case "", "auto":
		d, derr := NewDocker(ctx, opts)
		if derr == nil {
			return d, nil
		}
		if !errors.Is(derr, ErrUnavailable) {
			return nil, derr
		}
		b, berr := NewBwrap(opts)
		if berr != nil {
			return nil, fmt.Errorf("no sandbox backend: %w", errors.Join(derr, berr))
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown sandbox backend %q (want auto, docker or bwrap)", backend)
}
