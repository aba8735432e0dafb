package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/swelego/swelego/sdk"
)

// ownerLabel labels a container with the process that opened it
// (host/pid/start time), so Sweep can tell a live run from a crashed one.
const ownerLabel = "swelego.owner"

// execMarker is set in the environment of every command a sandbox runs;
// its value names the Exec, so a timeout can find the whole process tree
// (see sdk.ExecMarkerEnv).
const execMarker = sdk.ExecMarkerEnv

// maxDiff caps the size of a Diff; maxFile the size of a ReadFile.
const (
	maxDiff = 256 << 20
	maxFile = 256 << 20
)

// withDefaults fills the zero fields of l from d, then from DefaultLimits.
func (l Limits) withDefaults(d Limits) Limits {
	for _, f := range []Limits{d, DefaultLimits} {
		if l.Memory == 0 {
			l.Memory = f.Memory
		}
		if l.CPUs == 0 {
			l.CPUs = f.CPUs
		}
		if l.Pids == 0 {
			l.Pids = f.Pids
		}
		if l.Timeout == 0 {
			l.Timeout = f.Timeout
		}
	}
	return l
}

func (o Options) withDefaults() Options {
	if o.RunID == "" {
		o.RunID = "run-" + randomID()
	}
	if o.ExecTimeout <= 0 {
		o.ExecTimeout = DefaultExecTimeout
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = DefaultMaxOutput
	}
	if o.WorkDir == "" {
		o.WorkDir = os.TempDir() + "/swelego-sandboxes"
	}
	return o
}

// keeps reports whether Sweep must leave run alone.
func (o Options) keeps(run string) bool {
	for _, k := range o.KeepRuns {
		if k == run {
			return true
		}
	}
	return false
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sandboxPath turns p (relative to RepoDir or absolute) into a clean
// absolute path inside the sandbox.
func sandboxPath(p string) (string, error) {
	if p == "" || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("invalid sandbox path %q", p)
	}
	if !path.IsAbs(p) {
		p = RepoDir + "/" + p
	}
	return path.Clean(p), nil
}

// repoRel returns p relative to RepoDir, refusing paths that leave it.
func repoRel(p string) (string, error) {
	abs, err := sandboxPath(p)
	if err != nil {
		return "", err
	}
	rel, ok := strings.CutPrefix(abs, RepoDir+"/")
	if !ok {
		return "", fmt.Errorf("%q: %w", p, ErrOutsideRepo)
	}
	return rel, nil
}

// underRepo reports whether the absolute path p is inside RepoDir.
func underRepo(p string) bool {
	return p == RepoDir || strings.HasPrefix(p, RepoDir+"/")
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// probeScript prints the commit the sandbox opens at ("-" outside a git
// repository) on its first line.
const probeScript = `git rev-parse --verify -q HEAD 2>/dev/null || echo -`

// diffScript prints the diff of the working tree, new files included,
// against base. Git runs inside the sandbox: a repository's own config
// (hooks, fsmonitor, external diff) never runs on the host.
func diffScript(base string) string {
	return `git add -A -N . >/dev/null 2>&1; exec git -c core.quotepath=false diff --no-color --no-ext-diff ` + quote(base) + ` --`
}

// capWriter keeps the first max bytes written to it and counts the rest.
type capWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int64
}

func newCapWriter(max int) *capWriter { return &capWriter{max: max} }

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(p), max(w.max-w.buf.Len(), 0))
	w.buf.Write(p[:n])
	w.dropped += int64(len(p) - n)
	return len(p), nil
}

// String is the kept output, with a note when some was dropped.
func (w *capWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dropped == 0 {
		return w.buf.String()
	}
	return fmt.Sprintf("%s\n[swelego: output truncated, %d bytes dropped]\n", w.buf.String(), w.dropped)
}

func (w *capWriter) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Bytes()
}

func (w *capWriter) truncated() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped > 0
}

// owner identifies this process across runs: host/pid/start time.
var owner = sync.OnceValue(func() string {
	host, _ := os.Hostname()
	pid := os.Getpid()
	return fmt.Sprintf("%s/%d/%d", host, pid, procStart(pid))
})

// ownerAlive reports whether the process an owner string names still runs.
// An owner on another host is taken as alive (it cannot be checked); a
// missing or malformed one as dead.
func ownerAlive(o string) bool {
	parts := strings.Split(o, "/")
	if len(parts) != 3 {
		return false
	}
	if host, _ := os.Hostname(); parts[0] != host {
		return true
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return false
	}
	start, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil {
		return false
	}
	return procStart(pid) == start
}

// procStart is the start time (clock ticks after boot) of process pid, or
// 0 when it does not exist; together with the pid it names a process.
func procStart(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); start time is field 22.
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// expiry arms the wall-clock limit of a sandbox: after d, expire runs once.
func expiry(d time.Duration, expire func()) *time.Timer {
	if d <= 0 {
		return nil
	}
	return time.AfterFunc(d, expire)
}

// errExpired is the error of a sandbox past its wall-clock limit; it is
// both ErrClosed and ErrExpired.
var errExpired = fmt.Errorf("%w: %w", ErrClosed, ErrExpired)

// runDiff runs diffScript(base) through run, which executes a shell script
// in the sandbox, and returns the diff or a clear error: what Diff does on
// every backend.
func runDiff(base string, run func(script string, out, errOut io.Writer) (int, error)) (string, error) {
	if base == "" {
		return "", errors.New("diff: the sandbox's repository is not a git repository")
	}
	out, errOut := newCapWriter(maxDiff), newCapWriter(64<<10)
	code, err := run(diffScript(base), out, errOut)
	if err != nil {
		return "", fmt.Errorf("diff: %w", err)
	}
	if code != 0 {
		return "", fmt.Errorf("diff: git exited %d: %s", code, strings.TrimSpace(errOut.String()))
	}
	if out.truncated() {
		return "", fmt.Errorf("diff: larger than %d MiB", maxDiff>>20)
	}
	return string(out.Bytes()), nil
}
