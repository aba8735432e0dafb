package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/swelego/swelego/sdk"
)

// ImageEnvFile is the file of an environment image's root file system that
// holds the environment of its commands, one KEY=VALUE a line. envimage
// writes it; the bwrap backend reads it (a Docker image carries the same
// values in its config).
const ImageEnvFile = "/etc/swelego/env"

// defaultEnv is the environment of bwrap sandbox commands before the
// image's ImageEnvFile.
var defaultEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/home/swelego",
	"USER=swelego",
	"LOGNAME=swelego",
	"LANG=C.UTF-8",
	"TERM=dumb",
}

// markerFile, in each bwrap sandbox folder, names the process that owns it.
const markerFile = "owner.json"

type marker struct {
	Owner   string   `json:"owner"`
	Run     string   `json:"run"`
	Cgroups []string `json:"cgroups,omitempty"`
	V2      bool     `json:"v2,omitempty"`
}

// Bwrap opens sandboxes as bubblewrap namespaces over an image's root file
// system (read-only), with a private copy of the repository bound to
// RepoDir and a private /tmp. Each Exec is a new bwrap process with its own
// namespaces: no network unless Spec.Network, its own pid namespace (when
// the command ends or times out, everything it started dies with it).
// Memory, processes and CPU are limited by a control group per sandbox
// when this process may create one, else by rlimits (RLIMIT_AS,
// RLIMIT_NPROC). Run as root, commands run as host uid UID.
type Bwrap struct {
	opts     Options
	bwrap    string
	setpriv  string   // non-empty when running as root: drop to UID first
	prlimit  string   // for the rlimit fallback
	cg       *cgroups // nil: rlimits
	workDir  string
	rootMode bool
}

var _ Backend = (*Bwrap)(nil)

// NewBwrap checks that bubblewrap is installed and can create namespaces
// here, then sweeps what crashed runs left in Options.WorkDir. It returns an
// error wrapping ErrUnavailable when bwrap cannot run.
func NewBwrap(opts Options) (*Bwrap, error) {
	opts = opts.withDefaults()
	bin, err := exec.LookPath("bwrap")
	if err != nil {
		return nil, fmt.Errorf("%w: bwrap is not installed: %v", ErrUnavailable, err)
	}
	b := &Bwrap{opts: opts, bwrap: bin, workDir: opts.WorkDir, rootMode: isRoot()}
	if b.rootMode {
		if b.setpriv, err = exec.LookPath("setpriv"); err != nil {
			return nil, fmt.Errorf("%w: running as root needs setpriv (util-linux): %v", ErrUnavailable, err)
		}
	}
	b.prlimit, _ = exec.LookPath("prlimit")
	if err := os.MkdirAll(b.workDir, 0o711); err != nil {
		return nil, fmt.Errorf("bwrap work folder: %w", err)
	}
	// Can it make the namespaces a sandbox needs, and reach the work
	// folder as the sandbox user?
	argv := b.setprivArgs(bin, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
		"--ro-bind", b.workDir, "/tmp", "--unshare-all", "--unshare-user",
		"--uid", strconv.Itoa(UID), "--gid", strconv.Itoa(GID), "--", "true")
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: bwrap cannot create namespaces or reach %s as uid %d: %v: %s",
			ErrUnavailable, b.workDir, UID, err, bytes.TrimSpace(out))
	}
	b.cg = detectCgroups()
	if b.cg == nil && b.prlimit == "" {
		return nil, fmt.Errorf("%w: bwrap: no writable cgroup and no prlimit to limit sandboxes", ErrUnavailable)
	}
	if !opts.NoSweep {
		if err := b.Sweep(context.Background()); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Close has nothing to release: a bwrap sandbox's processes and folder go
// with its own Close, and Sweep removes those of crashed runs.
func (b *Bwrap) Close() error { return nil }

// setprivArgs prefixes argv with the drop to UID:GID when running as root.
func (b *Bwrap) setprivArgs(argv ...string) []string {
	if b.setpriv == "" {
		return argv
	}
	return append([]string{b.setpriv, "--reuid=" + strconv.Itoa(UID), "--regid=" + strconv.Itoa(GID),
		"--clear-groups", "--"}, argv...)
}

// Name is "bwrap".
func (b *Bwrap) Name() string { return "bwrap" }

// RunID is the run id sandboxes get when their Spec names none.
func (b *Bwrap) RunID() string { return b.opts.RunID }

// LimitsByCgroup reports whether sandboxes are limited by a control group
// (true) or by rlimits (false).
func (b *Bwrap) LimitsByCgroup() bool { return b.cg != nil }

// Sweep removes the sandbox folders (and control groups) in WorkDir whose
// owning process is gone and whose run is not one of Options.KeepRuns,
// this backend's own run included: a resumed run clears what the killed
// process of the same run left.
func (b *Bwrap) Sweep(ctx context.Context) error {
	entries, err := os.ReadDir(b.workDir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("sweep bwrap sandboxes: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "sbx-") {
			continue
		}
		dir := filepath.Join(b.workDir, e.Name())
		var m marker
		data, err := os.ReadFile(filepath.Join(dir, markerFile))
		if err == nil {
			err = json.Unmarshal(data, &m)
		}
		if err != nil {
			// Being created right now, or a wreck: leave young ones alone.
			if info, serr := e.Info(); serr != nil || time.Since(info.ModTime()) < time.Minute {
				continue
			}
		} else if b.opts.keeps(m.Run) || ownerAlive(m.Owner) {
			continue
		}
		if len(m.Cgroups) > 0 {
			g := &group{v2: m.V2, dirs: m.Cgroups}
			if err := g.remove(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := removeTree(dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sweep bwrap sandboxes: %w", err)
	}
	return nil
}

// Open makes the sandbox folder (a copy of spec.Repo and a /tmp) and its
// control group.
func (b *Bwrap) Open(ctx context.Context, spec Spec) (Sandbox, error) {
	if spec.Image.RootFS == "" {
		return nil, errors.New("open bwrap sandbox: spec names no root file system")
	}
	if fi, err := os.Stat(spec.Image.RootFS); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("open bwrap sandbox: root file system %s: not a folder", spec.Image.RootFS)
	}
	lim := spec.Limits.withDefaults(b.opts.Limits)
	run := spec.RunID
	if run == "" {
		run = b.opts.RunID
	}
	id := randomID()
	s := &bwrapSandbox{b: b, id: id, lim: lim, network: spec.Network, rootfs: spec.Image.RootFS,
		dir: filepath.Join(b.workDir, "sbx-"+id), closed: make(chan struct{})}
	if err := s.setup(ctx, spec, run); err != nil {
		_ = s.Close(ctx)
		return nil, fmt.Errorf("open bwrap sandbox: %w", err)
	}
	s.timer = expiry(lim.Timeout, func() { _ = s.shutdown(errExpired) })
	return s, nil
}

// bwrapSandbox is one sandbox folder.
type bwrapSandbox struct {
	b       *Bwrap
	id      string
	lim     Limits
	network bool
	rootfs  string
	dir     string // holds testbed/, tmp/ and the marker
	env     []string
	cg      *group
	base    string
	timer   *time.Timer

	mu       sync.Mutex
	runs     sync.WaitGroup
	closed   chan struct{}
	closeErr error
	removed  bool
	oomKills int64
}

var _ Sandbox = (*bwrapSandbox)(nil)

func (s *bwrapSandbox) copyDir() string { return filepath.Join(s.dir, "testbed") }
func (s *bwrapSandbox) tmpDir() string  { return filepath.Join(s.dir, "tmp") }

func (s *bwrapSandbox) setup(ctx context.Context, spec Spec, run string) error {
	b := s.b
	if err := os.Mkdir(s.dir, 0o711); err != nil {
		return err
	}
	m := marker{Owner: owner(), Run: run}
	if b.cg != nil {
		g, err := b.cg.create("swelego-"+s.id, s.lim)
		if err != nil {
			return fmt.Errorf("control group: %w", err)
		}
		s.cg = g
		s.oomKills = g.oomKills()
		m.Cgroups, m.V2 = g.dirs, g.v2
	}
	data, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(s.dir, markerFile), data, 0o644); err != nil {
		return err
	}
	chown := b.rootMode
	if spec.Repo != "" {
		if err := copyTree(spec.Repo, s.copyDir(), chown, UID, GID); err != nil {
			return fmt.Errorf("copy %s: %w", spec.Repo, err)
		}
	} else if err := os.Mkdir(s.copyDir(), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(s.tmpDir(), 0o1777); err != nil {
		return err
	}
	if err := os.Chmod(s.tmpDir(), 0o1777); err != nil { // past the umask
		return err
	}
	if chown {
		if err := errors.Join(os.Chown(s.copyDir(), UID, GID), os.Chown(s.tmpDir(), UID, GID)); err != nil {
			return err
		}
	}
	s.env = imageEnv(s.rootfs)
	if spec.Commit != "" {
		s.base = spec.Commit
		return nil
	}
	var out, errOut bytes.Buffer
	code, _, err := s.run(ctx, probeScript, time.Minute, &out, &errOut)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("probe: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if base := strings.TrimSpace(out.String()); base != "-" {
		s.base = base
	}
	return nil
}

// imageEnv is defaultEnv overridden by the image's ImageEnvFile.
func imageEnv(rootfs string) []string {
	env := map[string]string{}
	var keys []string
	set := func(kv string) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return
		}
		if _, seen := env[k]; !seen {
			keys = append(keys, k)
		}
		env[k] = v
	}
	for _, kv := range defaultEnv {
		set(kv)
	}
	// The file is read through the root file system without following
	// its symbolic links out of it.
	if root, err := os.OpenRoot(rootfs); err == nil {
		if f, err := root.Open(strings.TrimPrefix(ImageEnvFile, "/")); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
					set(line)
				}
			}
			f.Close()
		}
		root.Close()
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// argv is the command line that runs script in the sandbox.
func (s *bwrapSandbox) argv(script string) []string {
	b := s.b
	var a []string
	if s.cg != nil {
		// Join the group before anything else runs, then exec the rest.
		a = append(a, "/bin/sh", "-c", `while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"`, "sh")
		a = append(a, s.cg.procsFiles()...)
		a = append(a, "--")
	} else {
		a = append(a, b.prlimit, "--as="+strconv.FormatInt(s.lim.Memory, 10), "--nproc="+strconv.FormatInt(s.lim.Pids, 10), "--")
	}
	a = append(a, b.setprivArgs(b.bwrap,
		"--ro-bind", s.rootfs, "/",
		"--bind", s.copyDir(), RepoDir,
		"--bind", s.tmpDir(), "/tmp",
		"--proc", "/proc",
		"--dev", "/dev",
		"--unshare-all", "--unshare-user",
	)...)
	if s.network {
		a = append(a, "--share-net")
	}
	return append(a,
		"--die-with-parent", "--new-session",
		"--uid", strconv.Itoa(UID), "--gid", strconv.Itoa(GID),
		"--hostname", "sandbox",
		"--chdir", RepoDir,
		"--", "/bin/bash", "-c", script)
}

func (s *bwrapSandbox) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errLocked()
}

func (s *bwrapSandbox) errLocked() error {
	if s.closeErr != nil {
		return fmt.Errorf("sandbox %s: %w", s.id, s.closeErr)
	}
	return nil
}

// run runs script with bash -c in the sandbox and waits for it, for at most
// timeout; past it, or when ctx ends or the sandbox closes, bwrap is killed
// and its pid namespace with it. code is the exit status, 128+signal for a
// command killed by a signal, -1 when killed by run itself.
func (s *bwrapSandbox) run(ctx context.Context, script string, timeout time.Duration, stdout, stderr io.Writer) (code int, timedOut bool, err error) {
	s.mu.Lock()
	if err := s.errLocked(); err != nil {
		s.mu.Unlock()
		return -1, false, err
	}
	s.runs.Add(1)
	s.mu.Unlock()
	defer s.runs.Done()
	if timeout <= 0 {
		timeout = s.b.opts.ExecTimeout
	}
	argv := s.argv(script)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append([]string(nil), s.env...), execMarker+"="+randomID())
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return -1, false, fmt.Errorf("start bwrap: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	kill := func() {
		// bwrap's death takes its pid namespace, and so every process the
		// command started, with it (--die-with-parent).
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	var waitErr error
	select {
	case waitErr = <-done:
	case <-timer.C:
		kill()
		return -1, true, nil
	case <-ctx.Done():
		kill()
		return -1, false, ctx.Err()
	case <-s.closed:
		kill()
		return -1, false, s.err()
	}
	ps := cmd.ProcessState
	if ps == nil {
		return -1, false, fmt.Errorf("bwrap: %w", waitErr)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), false, nil
	}
	return ps.ExitCode(), false, nil
}

// Exec runs cmd with bash -c in RepoDir.
func (s *bwrapSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	out := newCapWriter(s.b.opts.MaxOutput)
	code, timedOut, err := s.run(ctx, cmd, timeout, out, out)
	res := sdk.ExecResult{Output: out.String(), ExitCode: code, TimedOut: timedOut}
	if err != nil {
		return res, fmt.Errorf("exec: %w", err)
	}
	if code == 137 && s.oomKilled() {
		return res, fmt.Errorf("exec: killed at the memory limit of %d MiB: %w", s.lim.Memory>>20, ErrOutOfMemory)
	}
	return res, nil
}

// oomKilled reports whether the OOM killer struck since the last check.
func (s *bwrapSandbox) oomKilled() bool {
	if s.cg == nil {
		return false
	}
	n := s.cg.oomKills()
	s.mu.Lock()
	defer s.mu.Unlock()
	hit := n > s.oomKills
	s.oomKills = n
	return hit
}

// ReadFile reads a file of the sandbox. Files of the repository and of
// /tmp are read from the sandbox's own folders on the host, without
// following a symbolic link out of them (no process to start); other paths
// (and links that leave those folders) are read inside the sandbox.
func (s *bwrapSandbox) ReadFile(ctx context.Context, p string) ([]byte, error) {
	abs, err := sandboxPath(p)
	if err != nil {
		return nil, err
	}
	if err := s.err(); err != nil {
		return nil, err
	}
	for _, bound := range []struct{ at, dir string }{{RepoDir, s.copyDir()}, {"/tmp", s.tmpDir()}} {
		if abs != bound.at && !strings.HasPrefix(abs, bound.at+"/") {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(abs, bound.at), "/")
		if rel == "" {
			rel = "."
		}
		data, err := readRoot(bound.dir, rel)
		if err == nil {
			return data, nil
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errIsDir) || errors.Is(err, errNotRegular) || errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	out, errOut := newCapWriter(maxFile), newCapWriter(4<<10)
	code, _, err := s.run(ctx, "exec cat -- "+quote(abs), s.b.opts.ExecTimeout, out, errOut)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	switch msg := strings.TrimSpace(errOut.String()); {
	case code == 0 && out.truncated():
		return nil, fmt.Errorf("read %s: %w", p, errTooLarge)
	case code == 0:
		return out.Bytes(), nil
	case strings.Contains(msg, "No such file"):
		return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
	default:
		return nil, fmt.Errorf("read %s: %s", p, msg)
	}
}

var (
	errIsDir      = errors.New("is a directory")
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = fmt.Errorf("larger than %d MiB", maxFile>>20)
)

func readRoot(dir, rel string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	// Without O_NONBLOCK, opening a fifo the sandbox left would wait for a
	// writer forever.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if fi.IsDir() {
		return nil, errIsDir
	} else if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err == nil && len(data) > maxFile {
		err = errTooLarge
	}
	return data, err
}

// WriteFile writes a file of the repository copy, owned by the sandbox
// user, keeping the permission bits of a file it replaces and creating
// missing folders. A path that leaves the copy, through ".." or a symbolic
// link, is refused.
func (s *bwrapSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	rel, err := repoRel(p)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := s.err(); err != nil {
		return err
	}
	root, err := os.OpenRoot(s.copyDir())
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	defer root.Close()
	chown := s.b.rootMode
	if dir := path.Dir(rel); dir != "." {
		parts := strings.Split(dir, "/")
		for i := range parts {
			sub := strings.Join(parts[:i+1], "/")
			fi, err := root.Stat(sub)
			if err == nil && !fi.IsDir() {
				return fmt.Errorf("write %s: %s is not a folder", p, sub)
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("write %s: %w", p, refusal(err))
			}
			if err := root.Mkdir(sub, 0o755); err != nil {
				return fmt.Errorf("write %s: %w", p, refusal(err))
			}
			if chown {
				if err := root.Lchown(sub, UID, GID); err != nil {
					return fmt.Errorf("write %s: %w", p, err)
				}
			}
		}
	}
	_, statErr := root.Stat(rel)
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, refusal(err))
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if chown && errors.Is(statErr, fs.ErrNotExist) {
		if err := f.Chown(UID, GID); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return f.Close()
}

// refusal marks an os.Root error about leaving the root as ErrOutsideRepo.
func refusal(err error) error {
	if err != nil && strings.Contains(err.Error(), "escapes") {
		return fmt.Errorf("%w: %v", ErrOutsideRepo, err)
	}
	return err
}

// Diff is the diff of RepoDir against the commit the sandbox opened at.
func (s *bwrapSandbox) Diff(ctx context.Context) (string, error) {
	return runDiff(s.base, func(script string, out, errOut io.Writer) (int, error) {
		code, _, err := s.run(ctx, script, s.b.opts.ExecTimeout, out, errOut)
		return code, err
	})
}

// Close kills what still runs and removes the sandbox folder and control
// group. It may be called more than once.
func (s *bwrapSandbox) Close(ctx context.Context) error {
	return s.shutdown(ErrClosed)
}

func (s *bwrapSandbox) shutdown(why error) error {
	s.mu.Lock()
	if s.closeErr == nil {
		s.closeErr = why
		close(s.closed)
		if s.timer != nil {
			s.timer.Stop()
		}
	}
	if s.removed {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	s.runs.Wait()
	var errs []error
	if s.cg != nil {
		errs = append(errs, s.cg.remove())
	}
	errs = append(errs, removeTree(s.dir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", s.id, err)
	}
	s.mu.Lock()
	s.removed = true
	s.mu.Unlock()
	return nil
}
