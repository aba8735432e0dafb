package sandbox

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/swelego/swelego/sdk"
)

// Docker opens sandboxes as containers of a Docker Engine: one container
// per sandbox, started from the environment image with a keeper process,
// commands run in it through the exec API.
//
// Starting a container is the slowest step of opening a sandbox, so Docker
// keeps Options.Warm containers started ahead for each image and set of
// limits a sandbox was opened with (not for sandboxes with network): Open
// takes one, copies the repository in and starts another in the
// background. A warm container has run nothing but its keeper; it is as
// fresh as one started on demand. Close removes them; those of a process
// that ends without Close carry its owner label, so the next Sweep does.
type Docker struct {
	cli    *client.Client
	opts   Options
	noInit atomic.Bool // the engine has no docker-init: run without it

	warmMu  sync.Mutex
	warm    map[warmKey][]string // started containers no sandbox has used
	filling map[warmKey]int      // being started for warm
	closing bool
	warmWG  sync.WaitGroup
}

// warmKey is what a warm container was created with: everything a
// sandbox's container depends on except its repository.
type warmKey struct {
	image string
	run   string
	lim   Limits
}

var _ Backend = (*Docker)(nil)

// NewDocker connects to the Docker Engine the environment names (DOCKER_HOST
// etc., else the local socket) and sweeps what crashed runs left behind. It
// returns an error wrapping ErrUnavailable when the engine does not answer.
func NewDocker(ctx context.Context, opts Options) (*Docker, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("%w: docker: %v", ErrUnavailable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w: docker: %v", ErrUnavailable, err)
	}
	d := &Docker{cli: cli, opts: opts.withDefaults(), warm: map[warmKey][]string{}, filling: map[warmKey]int{}}
	if !d.opts.NoSweep {
		if err := d.Sweep(ctx); err != nil {
			cli.Close()
			return nil, err
		}
	}
	return d, nil
}

// Name is "docker".
func (d *Docker) Name() string { return "docker" }

// RunID is the run id sandboxes get when their Spec names none.
func (d *Docker) RunID() string { return d.opts.RunID }

// Close removes the warm containers, sweeps again (unless NoSweep) — a
// container that a killed process of this run was still creating when this
// backend started exists by now — and releases the connection to the
// engine; open sandboxes stay usable only until then.
func (d *Docker) Close() error {
	d.warmMu.Lock()
	d.closing = true
	d.warmMu.Unlock()
	d.warmWG.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	d.warmMu.Lock()
	warm := d.warm
	d.warm = map[warmKey][]string{}
	d.warmMu.Unlock()
	for _, ids := range warm {
		for _, id := range ids {
			err := d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
			if err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove warm container %.12s: %w", id, err))
			}
		}
	}
	if !d.opts.NoSweep {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, d.Sweep(sctx))
		scancel()
	}
	return errors.Join(append(errs, d.cli.Close())...)
}

// Sweep removes every container labelled LabelKey whose owning process is gone
// and whose run is not one of Options.KeepRuns. Sandboxes of this backend's
// own run are swept too when their owner is gone: a resumed run clears what
// the killed process of the same run left.
func (d *Docker) Sweep(ctx context.Context) error {
	list, err := d.cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", LabelKey))})
	if err != nil {
		return fmt.Errorf("sweep docker sandboxes: %w", err)
	}
	var errs []error
	for _, c := range list {
		if d.opts.keeps(c.Labels[LabelKey]) || ownerAlive(c.Labels[ownerLabel]) {
			continue
		}
		err := d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", c.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sweep docker sandboxes: %w", err)
	}
	return nil
}

// Open takes a warm container of spec.Image.Name (or creates and starts
// one) and copies the repository to RepoDir.
func (d *Docker) Open(ctx context.Context, spec Spec) (Sandbox, error) {
	if spec.Image.Name == "" {
		return nil, errors.New("open docker sandbox: spec names no image")
	}
	lim := spec.Limits.withDefaults(d.opts.Limits)
	run := spec.RunID
	if run == "" {
		run = d.opts.RunID
	}
	key := warmKey{image: spec.Image.Name, run: run, lim: lim}
	var id string
	if !spec.Network {
		id = d.takeWarm(key)
		defer d.refill(key)
	}
	for {
		warm := id != ""
		if !warm {
			var err error
			if id, err = d.launch(ctx, spec.Image.Name, spec.Network, lim, run); err != nil {
				return nil, fmt.Errorf("open docker sandbox from %s: %w", spec.Image.Name, err)
			}
		}
		s := &dockerSandbox{d: d, id: id, lim: lim, runID: run, closed: make(chan struct{})}
		err := s.fill(ctx, spec)
		if err == nil {
			s.timer = expiry(lim.Timeout, func() { _ = s.shutdown(context.Background(), errExpired) })
			return s, nil
		}
		_ = s.Close(ctx)
		if !warm || ctx.Err() != nil {
			return nil, fmt.Errorf("open docker sandbox from %s: %w", spec.Image.Name, err)
		}
		id = "" // the warm container broke meanwhile: start one now
	}
}

// takeWarm returns a warm container for key, or "" when there is none.
func (d *Docker) takeWarm(key warmKey) string {
	d.warmMu.Lock()
	defer d.warmMu.Unlock()
	ids := d.warm[key]
	if len(ids) == 0 {
		return ""
	}
	id := ids[len(ids)-1]
	d.warm[key] = ids[:len(ids)-1]
	return id
}

// refill starts warm containers for key in the background until
// Options.Warm of them are ready or being started.
func (d *Docker) refill(key warmKey) {
	want := d.opts.Warm
	if want == 0 {
		want = DefaultWarm
	}
	d.warmMu.Lock()
	defer d.warmMu.Unlock()
	for !d.closing && len(d.warm[key])+d.filling[key] < want {
		d.filling[key]++
		d.warmWG.Add(1)
		go func() {
			defer d.warmWG.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			id, err := d.launch(ctx, key.image, false, key.lim, key.run)
			d.warmMu.Lock()
			d.filling[key]--
			keep := err == nil && !d.closing
			if keep {
				d.warm[key] = append(d.warm[key], id)
			}
			d.warmMu.Unlock()
			if err == nil && !keep {
				_ = d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
			}
		}()
	}
}

// launch creates and starts a container, without docker-init when the
// engine has none.
func (d *Docker) launch(ctx context.Context, image string, network bool, lim Limits, run string) (string, error) {
	for {
		id, err := d.create(ctx, image, network, lim, run)
		if err != nil {
			return "", err
		}
		err = d.cli.ContainerStart(ctx, id, container.StartOptions{})
		if err == nil {
			return id, nil
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		_ = d.cli.ContainerRemove(rctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
		cancel()
		if d.noInit.Load() || !strings.Contains(err.Error(), "docker-init") {
			return "", fmt.Errorf("start container: %w", err)
		}
		// The engine has no init binary: create without it.
		d.noInit.Store(true)
	}
}

func (d *Docker) create(ctx context.Context, image string, withNetwork bool, lim Limits, run string) (string, error) {
	cfg := &container.Config{
		Image:      image,
		Cmd:        []string{"sleep", "infinity"},
		User:       fmt.Sprintf("%d:%d", UID, GID),
		WorkingDir: RepoDir,
		Labels:     map[string]string{LabelKey: run, ownerLabel: owner()},
	}
	network := container.NetworkMode("none")
	if withNetwork {
		network = "default"
	}
	pids := lim.Pids
	hc := &container.HostConfig{
		NetworkMode: network,
		AutoRemove:  false,
		CapDrop:     []string{"ALL"},
		SecurityOpt: []string{"no-new-privileges"},
		Resources: container.Resources{
			Memory:     lim.Memory,
			MemorySwap: lim.Memory,
			NanoCPUs:   int64(lim.CPUs * 1e9),
			PidsLimit:  &pids,
		},
	}
	if !d.noInit.Load() {
		// An init as pid 1 reaps the orphans commands leave behind.
		hc.Init = ptr(true)
	}
	name := "swelego-" + randomID()
	resp, err := d.cli.ContainerCreate(ctx, cfg, hc, nil, nil, name)
	if err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	return resp.ID, nil
}

func ptr[T any](v T) *T { return &v }

// dockerSandbox is one container.
type dockerSandbox struct {
	d     *Docker
	id    string
	lim   Limits
	runID string
	base  string // the commit the sandbox opened at, "" outside git
	timer *time.Timer

	mu       sync.Mutex
	closed   chan struct{} // closed by shutdown
	closeErr error         // why: ErrClosed or errExpired
	removed  bool
	oomKills int64 // the container's OOM kill count after the last check
}

var _ Sandbox = (*dockerSandbox)(nil)

// fill copies the repository into the started container and, unless
// spec.Commit says, reads the commit it is at and the container's OOM kill
// count.
func (s *dockerSandbox) fill(ctx context.Context, spec Spec) error {
	if spec.Repo != "" {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTar(pw, spec.Repo, RepoDir[1:], UID, GID)) }()
		err := s.d.cli.CopyToContainer(ctx, s.id, "/", pr, container.CopyToContainerOptions{})
		pr.CloseWithError(err)
		if err != nil {
			return fmt.Errorf("copy %s to %s: %w", spec.Repo, RepoDir, err)
		}
	}
	if spec.Commit != "" {
		// A container nothing has run in yet has an OOM kill count of 0.
		s.base, s.oomKills = spec.Commit, 0
		return nil
	}
	var out, errOut bytes.Buffer
	code, _, err := s.run(ctx, []string{"sh", "-c", probeScript + "; " + oomScript}, time.Minute, &out, &errOut)
	if err != nil {
		return fmt.Errorf("probe container: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 0 || len(lines) != 2 {
		return fmt.Errorf("probe container: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if lines[0] != "-" {
		s.base = lines[0]
	}
	s.oomKills, _ = strconv.ParseInt(lines[1], 10, 64)
	return nil
}

// oomScript prints how many processes the kernel's OOM killer has killed in
// the container's memory cgroup (v1 or v2), or -1.
const oomScript = `n=-1; for f in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events; do
  [ -r "$f" ] || continue
  while read k v; do [ "$k" = oom_kill ] && n=$v; done < "$f"
  break
done; echo $n`

// killLoop kills, as the sandbox user, every process but itself whose
// environment holds $m (the marker of one Exec), until none is left: the
// whole process tree of that Exec, background jobs and new sessions
// included. It uses shell builtins only, so it starts no process that
// would carry the marker itself.
const killLoop = `i=0
while [ $i -lt 50 ]; do
  found=
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    while IFS= read -r -d '' kv; do
      if [ "$kv" = "$m" ]; then kill -9 "${p#/proc/}" 2>/dev/null && found=1; break; fi
    done 2>/dev/null < "$p/environ"
  done
  [ -z "$found" ] && break
  i=$((i+1))
done`

// killScript kills the tree of the Exec whose marker is $1.
const killScript = `m="$1"
` + killLoop

// reapScript runs its arguments, then kills what they left running, so an
// Exec ends when its command does (as in a bwrap sandbox, whose pid
// namespace ends with the command), never waiting on background jobs that
// hold its output open.
const reapScript = `"$@"; rc=$?
m="` + execMarker + `=$` + execMarker + `"
` + killLoop + `
exit $rc`

func (s *dockerSandbox) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeErr != nil {
		return fmt.Errorf("sandbox %.12s: %w", s.id, s.closeErr)
	}
	return nil
}

// run runs argv in the container as the sandbox user and waits for it, for
// at most timeout. Past it, or when ctx ends or the sandbox closes, the
// command's whole process tree is killed. code is the exit status (-1 when
// killed by run itself).
func (s *dockerSandbox) run(ctx context.Context, argv []string, timeout time.Duration, stdout, stderr io.Writer) (code int, timedOut bool, err error) {
	if err := s.err(); err != nil {
		return -1, false, err
	}
	if timeout <= 0 {
		timeout = s.d.opts.ExecTimeout
	}
	marker := execMarker + "=" + randomID()
	cli := s.d.cli
	ex, err := cli.ContainerExecCreate(ctx, s.id, container.ExecOptions{
		User:         fmt.Sprintf("%d:%d", UID, GID),
		AttachStdout: true,
		AttachStderr: true,
		WorkingDir:   RepoDir,
		Env:          []string{marker},
		Cmd:          append([]string{"bash", "-c", reapScript, "swelego"}, argv...),
	})
	if err != nil {
		return -1, false, s.wrap(fmt.Errorf("create exec: %w", err))
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return -1, false, s.wrap(fmt.Errorf("attach exec: %w", err))
	}
	defer att.Close()
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, stderr, att.Reader)
		copied <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var stopErr error
	select {
	case err := <-copied:
		if err != nil {
			return -1, false, s.wrap(fmt.Errorf("read exec output: %w", err))
		}
	case <-timer.C:
		timedOut = true
	case <-ctx.Done():
		stopErr = ctx.Err()
	case <-s.closed:
		stopErr = s.err()
	}
	if timedOut || stopErr != nil {
		// Kill the tree; the output stream then ends.
		if s.err() == nil {
			kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			s.kill(kctx, marker)
			cancel()
		}
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
			att.Close()
			<-copied
		}
		if stopErr != nil {
			return -1, false, stopErr
		}
		return -1, true, nil
	}
	// The stream ended; the exec's exit status follows shortly.
	for i := 0; ; i++ {
		ins, err := cli.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			return -1, false, s.wrap(fmt.Errorf("inspect exec: %w", err))
		}
		if !ins.Running {
			return ins.ExitCode, false, nil
		}
		if i == 200 {
			return -1, false, errors.New("exec output ended but the command still runs")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill runs killScript for marker in its own exec.
func (s *dockerSandbox) kill(ctx context.Context, marker string) {
	ex, err := s.d.cli.ContainerExecCreate(ctx, s.id, container.ExecOptions{
		User: fmt.Sprintf("%d:%d", UID, GID),
		Cmd:  []string{"bash", "-c", killScript, "swelego", marker},
	})
	if err != nil {
		return
	}
	att, err := s.d.cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return
	}
	defer att.Close()
	_, _ = io.Copy(io.Discard, att.Reader)
}

// wrap prefers the sandbox's closed state over an engine error it caused.
func (s *dockerSandbox) wrap(err error) error {
	if cerr := s.err(); cerr != nil {
		return cerr
	}
	return err
}

// Exec runs cmd with bash -c in RepoDir.
func (s *dockerSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	out := newCapWriter(s.d.opts.MaxOutput)
	code, timedOut, err := s.run(ctx, []string{"bash", "-c", cmd}, timeout, out, out)
	res := sdk.ExecResult{Output: out.String(), ExitCode: code, TimedOut: timedOut}
	if err != nil {
		return res, fmt.Errorf("exec: %w", err)
	}
	if code == 137 && s.oomKilled(ctx) {
		return res, fmt.Errorf("exec: killed at the memory limit of %d MiB: %w", s.lim.Memory>>20, ErrOutOfMemory)
	}
	return res, nil
}

// oomKilled reports whether the OOM killer struck since the last check.
func (s *dockerSandbox) oomKilled(ctx context.Context) bool {
	var out bytes.Buffer
	if _, _, err := s.run(ctx, []string{"sh", "-c", oomScript}, time.Minute, &out, io.Discard); err == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
		if err == nil && n >= 0 {
			s.mu.Lock()
			defer s.mu.Unlock()
			hit := n > s.oomKills
			s.oomKills = n
			return hit
		}
	}
	ins, err := s.d.cli.ContainerInspect(ctx, s.id)
	return err == nil && ins.State != nil && ins.State.OOMKilled
}

// ReadFile reads a file of the container, following symbolic links.
func (s *dockerSandbox) ReadFile(ctx context.Context, p string) ([]byte, error) {
	abs, err := sandboxPath(p)
	if err != nil {
		return nil, err
	}
	if err := s.err(); err != nil {
		return nil, err
	}
	for range 40 {
		rc, st, err := s.d.cli.CopyFromContainer(ctx, s.id, abs)
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
		}
		if err != nil {
			return nil, s.wrap(fmt.Errorf("read %s: %w", p, err))
		}
		if st.Mode&fs.ModeSymlink != 0 && st.LinkTarget != "" && st.LinkTarget != abs {
			rc.Close()
			abs = st.LinkTarget
			continue
		}
		defer rc.Close()
		if st.Mode.IsDir() {
			return nil, fmt.Errorf("read %s: is a directory", p)
		}
		tr := tar.NewReader(bufio.NewReader(rc))
		if _, err := tr.Next(); err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxFile+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		if len(data) > maxFile {
			return nil, fmt.Errorf("read %s: larger than %d MiB", p, maxFile>>20)
		}
		return data, nil
	}
	return nil, fmt.Errorf("read %s: too many levels of symbolic links", p)
}

// WriteFile writes a file under RepoDir owned by the sandbox user, keeping
// the permission bits of a file it replaces and creating missing folders.
func (s *dockerSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	rel, err := repoRel(p)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := s.err(); err != nil {
		return err
	}
	abs := RepoDir + "/" + rel
	perm := fs.FileMode(0o644)
	st, err := s.d.cli.ContainerStatPath(ctx, s.id, abs)
	switch {
	case err == nil && st.Mode&fs.ModeSymlink != 0:
		if !underRepo(st.LinkTarget) {
			return fmt.Errorf("write %s: symbolic link to %s: %w", p, st.LinkTarget, ErrOutsideRepo)
		}
		abs = st.LinkTarget
		if st, err = s.d.cli.ContainerStatPath(ctx, s.id, abs); err == nil {
			perm = st.Mode.Perm()
		}
	case err == nil:
		perm = st.Mode.Perm()
	case !cerrdefs.IsNotFound(err):
		return s.wrap(fmt.Errorf("write %s: %w", p, err))
	}
	if err == nil && st.Mode.IsDir() {
		return fmt.Errorf("write %s: is a directory", p)
	}
	dir := path.Dir(abs)
	dst, err := s.d.cli.ContainerStatPath(ctx, s.id, dir)
	switch {
	case cerrdefs.IsNotFound(err):
		var msg bytes.Buffer
		code, _, err := s.run(ctx, []string{"mkdir", "-p", "--", dir}, time.Minute, &msg, &msg)
		if err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if code != 0 {
			return fmt.Errorf("write %s: mkdir: %s", p, strings.TrimSpace(msg.String()))
		}
	case err != nil:
		return s.wrap(fmt.Errorf("write %s: %w", p, err))
	case dst.Mode&fs.ModeSymlink != 0 && !underRepo(dst.LinkTarget):
		return fmt.Errorf("write %s: folder links to %s: %w", p, dst.LinkTarget, ErrOutsideRepo)
	}
	var tarball bytes.Buffer
	if err := fileTar(&tarball, path.Base(abs), data, perm, UID, GID); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := s.d.cli.CopyToContainer(ctx, s.id, dir, &tarball, container.CopyToContainerOptions{}); err != nil {
		return s.wrap(fmt.Errorf("write %s: %w", p, err))
	}
	return nil
}

// Diff is the diff of RepoDir against the commit the sandbox opened at.
func (s *dockerSandbox) Diff(ctx context.Context) (string, error) {
	return runDiff(s.base, func(script string, out, errOut io.Writer) (int, error) {
		code, _, err := s.run(ctx, []string{"sh", "-c", script}, s.d.opts.ExecTimeout, out, errOut)
		return code, err
	})
}

// Close removes the container. It may be called more than once.
func (s *dockerSandbox) Close(ctx context.Context) error {
	return s.shutdown(ctx, ErrClosed)
}

func (s *dockerSandbox) shutdown(ctx context.Context, why error) error {
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
	// The container goes even when the caller's context has ended.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err := s.d.cli.ContainerRemove(rctx, s.id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %.12s: %w", s.id, err)
	}
	s.mu.Lock()
	s.removed = true
	s.mu.Unlock()
	return nil
}
