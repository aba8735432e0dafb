package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/swelego/swelego/core/sandbox"
)

func TestExec(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		cmd      string
		want     []string // substrings of the output
		wantCode int
	}{
		{"stdout and stderr", "echo out; echo err >&2; exit 3", []string{"out\n", "err\n"}, 3},
		{"non-root", "id -u; id -g", []string{"1000\n1000\n"}, 0},
		{"in the repository", "pwd; cat hello.py", []string{sandbox.RepoDir + "\n", "def greet"}, 0},
		{"python and pytest", "python3 -m pytest -q tests 2>&1 | tail -1", []string{"1 passed"}, 0},
		{"git work tree", "git status --porcelain | wc -l; git log --format=%s", []string{"0\nbase\n"}, 0},
		{"bash", "echo ${BASH_VERSION:+bash}", []string{"bash\n"}, 0},
		{"no host environment", "env | grep -c -e GOPATH -e GOROOT -e SSH_ -e GOFLAGS || true", []string{"0\n"}, 0},
		{"tmp persists", "echo x > /tmp/f && cat /tmp/f", []string{"x\n"}, 0},
		{"ends with its command", "(sleep 30; echo late) & echo early", []string{"early\n"}, 0},
	}
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			s := open(t, b, sandbox.Spec{})
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					res, err := s.Exec(context.Background(), c.cmd, time.Minute)
					if err != nil {
						t.Fatal(err)
					}
					if res.ExitCode != c.wantCode || res.TimedOut {
						t.Errorf("exit %d timed out %v, want exit %d; output:\n%s", res.ExitCode, res.TimedOut, c.wantCode, res.Output)
					}
					for _, w := range c.want {
						if !strings.Contains(res.Output, w) {
							t.Errorf("output lacks %q:\n%s", w, res.Output)
						}
					}
				})
			}
		})
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			s := open(t, b, sandbox.Spec{})
			// Read: relative, absolute, outside the repository, missing.
			for _, p := range []string{"hello.py", sandbox.RepoDir + "/hello.py", "./tests/../hello.py"} {
				got, err := s.ReadFile(ctx, p)
				if err != nil || !strings.HasPrefix(string(got), "def greet") {
					t.Errorf("ReadFile(%q) = %q, %v", p, got, err)
				}
			}
			if got, err := s.ReadFile(ctx, "/etc/os-release"); err != nil || !strings.Contains(string(got), "Debian") {
				t.Errorf("ReadFile(/etc/os-release) = %q, %v", got, err)
			}
			if _, err := s.ReadFile(ctx, "missing.txt"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ReadFile(missing) error = %v, want fs.ErrNotExist", err)
			}
			if _, err := s.ReadFile(ctx, "tests"); err == nil {
				t.Errorf("ReadFile(a folder) succeeded")
			}
			// /tmp: what a command left there (bwrap reads it from the host);
			// a link out of it is read inside the sandbox; a fifo does not
			// hang the reader.
			if res, err := s.Exec(ctx, "echo kept > /tmp/kept.log && ln -s /etc/os-release /tmp/os && mkfifo /tmp/fifo", time.Minute); err != nil || res.ExitCode != 0 {
				t.Fatalf("exec: %v %+v", err, res)
			}
			if got, err := s.ReadFile(ctx, "/tmp/kept.log"); err != nil || string(got) != "kept\n" {
				t.Errorf("ReadFile(/tmp/kept.log) = %q, %v", got, err)
			}
			if got, err := s.ReadFile(ctx, "/tmp/os"); err != nil || !strings.Contains(string(got), "Debian") {
				t.Errorf("ReadFile(/tmp/os, a link to /etc/os-release) = %q, %v", got, err)
			}
			if _, err := s.ReadFile(ctx, "/tmp/missing"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ReadFile(/tmp/missing) error = %v, want fs.ErrNotExist", err)
			}
			fifo := make(chan error, 1)
			go func() {
				fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				_, err := s.ReadFile(fctx, "/tmp/fifo")
				fifo <- err
			}()
			select {
			case <-fifo:
			case <-time.After(20 * time.Second):
				t.Errorf("ReadFile(a fifo) hangs")
			}
			// Write: a change, a new file in a new folder, an executable.
			writes := map[string]string{
				"hello.py":                         "def greet(name):\n    return 'hi ' + name\n",
				"pkg/sub/new.txt":                  "new\n",
				sandbox.RepoDir + "/run.sh":        "#!/bin/sh\necho changed\n",
				sandbox.RepoDir + "/pkg/other.txt": "other\n",
			}
			for p, data := range writes {
				if err := s.WriteFile(ctx, p, []byte(data)); err != nil {
					t.Fatalf("WriteFile(%q): %v", p, err)
				}
				if got, err := s.ReadFile(ctx, p); err != nil || string(got) != data {
					t.Errorf("ReadFile(%q) after write = %q, %v", p, got, err)
				}
			}
			res, err := s.Exec(ctx, "stat -c '%U %a %n' hello.py run.sh pkg pkg/sub/new.txt && ./run.sh", time.Minute)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exec: %v %+v", err, res)
			}
			for _, w := range []string{"swelego 644 hello.py", "swelego 755 run.sh", "swelego 755 pkg\n", "swelego 644 pkg/sub/new.txt", "changed"} {
				if !strings.Contains(res.Output, w) {
					t.Errorf("stat output lacks %q:\n%s", w, res.Output)
				}
			}
			// Refused: outside the repository, and through a link out of it.
			if res, err := s.Exec(ctx, "ln -s /etc evil && ln -s /etc/hostname evil-file", time.Minute); err != nil || res.ExitCode != 0 {
				t.Fatalf("ln: %v %+v", err, res)
			}
			for _, p := range []string{"/etc/passwd", "../escape.txt", "/tmp/x", "/testbed", "evil/x", "evil-file"} {
				if err := s.WriteFile(ctx, p, []byte("x")); err == nil {
					t.Errorf("WriteFile(%q) succeeded, want it refused", p)
				} else if p != "/testbed" && !errors.Is(err, sandbox.ErrOutsideRepo) {
					t.Errorf("WriteFile(%q) error = %v, want ErrOutsideRepo", p, err)
				}
			}
			if res, err := s.Exec(ctx, "rm evil evil-file", time.Minute); err != nil || res.ExitCode != 0 {
				t.Fatalf("rm: %v %+v", err, res)
			}
			// Diff: against the commit the sandbox opened at, new files in.
			if res, err := s.Exec(ctx, "git rm -q tests/test_hello.py && git commit -qm agent-commit", time.Minute); err != nil || res.ExitCode != 0 {
				t.Fatalf("commit: %v %+v", err, res)
			}
			diff, err := s.Diff(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{"--- a/hello.py", "+    return 'hi ' + name", "+++ b/pkg/sub/new.txt", "+new",
				"+++ b/pkg/other.txt", "+echo changed", "--- a/tests/test_hello.py"} {
				if !strings.Contains(diff, w) {
					t.Errorf("diff lacks %q:\n%s", w, diff)
				}
			}
			if strings.Contains(diff, "old mode") {
				t.Errorf("diff changes a file mode:\n%s", diff)
			}
		})
	}
}

func TestNetwork(t *testing.T) {
	t.Parallel()
	// A listener on the host's loopback, which no sandbox without network
	// may reach.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	// The public address is tried only where the sandbox has no interface
	// but loopback: no packet can leave it.
	script := fmt.Sprintf(`
import socket
ifs = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]
routes = len(open('/proc/net/route').readlines()) - 1
def reach(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return 'reached'
    except Exception as e:
        return 'failed:' + type(e).__name__
print('ifaces', ','.join(sorted(ifs)))
print('routes', routes)
print('host', reach('127.0.0.1', %d))
if ifs == ['lo']:
    print('public', reach('1.1.1.1', 53))
`, port)
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			off := open(t, b, sandbox.Spec{})
			res, err := off.Exec(context.Background(), "python3 -c "+shellQuote(script), time.Minute)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exec: %v %+v", err, res)
			}
			for _, w := range []string{"ifaces lo\n", "routes 0\n", "host failed:", "public failed:"} {
				if !strings.Contains(res.Output, w) {
					t.Errorf("network off: output lacks %q:\n%s", w, res.Output)
				}
			}
			on := open(t, b, sandbox.Spec{Network: true})
			res, err = on.Exec(context.Background(), "python3 -c "+shellQuote(script), time.Minute)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exec: %v %+v", err, res)
			}
			switch b.Name() {
			case "docker":
				// The bridge: an interface besides loopback and a route.
				if strings.Contains(res.Output, "ifaces lo\n") || strings.Contains(res.Output, "routes 0\n") {
					t.Errorf("network on: no interface or route:\n%s", res.Output)
				}
			case "bwrap":
				// The host's network, its loopback included.
				if !strings.Contains(res.Output, "host reached") {
					t.Errorf("network on: host listener not reached:\n%s", res.Output)
				}
			}
		})
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestOutOfMemory(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			s := open(t, b, sandbox.Spec{Limits: sandbox.Limits{Memory: 256 << 20}})
			res, err := s.Exec(context.Background(), `python3 -c "x=bytearray(2<<30)"`, 2*time.Minute)
			if !errors.Is(err, sandbox.ErrOutOfMemory) {
				t.Errorf("memory hog: error %v, result %+v; want ErrOutOfMemory", err, res)
			}
			// The sandbox, and the next, still work.
			if res, err := s.Exec(context.Background(), "echo alive", time.Minute); err != nil || res.Output != "alive\n" {
				t.Errorf("after the hog: %v %+v", err, res)
			}
			next := open(t, b, sandbox.Spec{Limits: sandbox.Limits{Memory: 256 << 20}})
			if res, err := next.Exec(context.Background(), `python3 -c "x=bytearray(64<<20); print('ok')"`, time.Minute); err != nil || res.Output != "ok\n" {
				t.Errorf("next sandbox: %v %+v", err, res)
			}
		})
	}
}

// TestSpecCommit opens sandboxes told the commit their repository is at
// (no probe runs): Diff compares against it, and a command killed at the
// memory limit is still reported as out of memory.
func TestSpecCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	head, err := exec.Command("git", "-C", testRepo, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			s := open(t, b, sandbox.Spec{Commit: strings.TrimSpace(string(head)), Limits: sandbox.Limits{Memory: 256 << 20}})
			if res, err := s.Exec(ctx, "echo '# changed' >> hello.py && git -c user.name=x -c user.email=x commit -qam change", time.Minute); err != nil || res.ExitCode != 0 {
				t.Fatalf("commit: %v %+v", err, res)
			}
			if diff, err := s.Diff(ctx); err != nil || !strings.Contains(diff, "+# changed") {
				t.Errorf("Diff = %q, %v; want the committed change against the given commit", diff, err)
			}
			if _, err := s.Exec(ctx, `python3 -c "x=bytearray(2<<30)"`, 2*time.Minute); !errors.Is(err, sandbox.ErrOutOfMemory) {
				t.Errorf("memory hog: %v, want ErrOutOfMemory", err)
			}
		})
	}
}

func TestTimeoutKillsTree(t *testing.T) {
	t.Parallel()
	for i, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			s := open(t, b, sandbox.Spec{})
			// A duration no other process on the machine sleeps.
			marker := fmt.Sprintf("1000.%d%d", os.Getpid(), i)
			cmd := fmt.Sprintf("sleep %s & sleep %s & (setsid sleep %s &) ; echo started; wait", marker, marker, marker)
			start := time.Now()
			res, err := s.Exec(context.Background(), cmd, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !res.TimedOut || !strings.Contains(res.Output, "started") {
				t.Errorf("result %+v, want timed out after printing started", res)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("the timeout took %s", d)
			}
			// No process of the tree survives, seen from the host…
			var left []int
			for range 50 {
				if left = hostProcesses("sleep\x00" + marker); len(left) == 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(left) > 0 {
				t.Errorf("processes left on the host: %v", left)
			}
			// …or from inside the sandbox, which still works.
			res, err = s.Exec(context.Background(), `for p in /proc/[0-9]*; do tr '\0' ' ' <$p/cmdline; echo; done 2>/dev/null | grep -c "^sleep `+marker+`"`, time.Minute)
			if err != nil || strings.TrimSpace(res.Output) != "0" {
				t.Errorf("inside after the timeout: %v %+v", err, res)
			}
		})
	}
}

// hostProcesses are the pids whose command line contains s.
func hostProcesses(s string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmdline, err := os.ReadFile(d + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			var pid int
			fmt.Sscan(filepath.Base(d), &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			run := testRun + "-close-" + b.Name()
			s, err := b.Open(ctx, sandbox.Spec{Image: testImage, Repo: testRepo, RunID: run})
			if err != nil {
				t.Fatal(err)
			}
			if n := sandboxesOf(t, b, run); n != 1 {
				t.Errorf("%d sandboxes of the run while open, want 1", n)
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(ctx); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if n := sandboxesOf(t, b, run); n != 0 {
				t.Errorf("%d sandboxes of the run after Close, want 0", n)
			}
			if _, err := s.Exec(ctx, "true", time.Minute); !errors.Is(err, sandbox.ErrClosed) {
				t.Errorf("Exec after Close: %v, want ErrClosed", err)
			}
			if _, err := s.ReadFile(ctx, "hello.py"); !errors.Is(err, sandbox.ErrClosed) {
				t.Errorf("ReadFile after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func TestWallClockLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			run := testRun + "-expire-" + b.Name()
			s, err := b.Open(ctx, sandbox.Spec{Image: testImage, Repo: testRepo, RunID: run,
				Limits: sandbox.Limits{Timeout: 3 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			// A command running when the limit strikes ends with it.
			_, err = s.Exec(ctx, "sleep 60", time.Minute)
			if !errors.Is(err, sandbox.ErrExpired) {
				t.Errorf("Exec across the limit: %v, want ErrExpired", err)
			}
			if _, err := s.Exec(ctx, "true", time.Minute); !errors.Is(err, sandbox.ErrExpired) || !errors.Is(err, sandbox.ErrClosed) {
				t.Errorf("Exec after the limit: %v, want ErrExpired and ErrClosed", err)
			}
			var n int
			for range 50 {
				if n = sandboxesOf(t, b, run); n == 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if n != 0 {
				t.Errorf("%d sandboxes of the run after the limit, want 0", n)
			}
		})
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host, _ := os.Hostname()
	deadOwner := host + "/999999999/1" // no such process
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			live := open(t, b, sandbox.Spec{}) // of this run, owner alive: stays
			// orphan makes a sandbox of run whose owner is dead and returns
			// whether it still exists.
			orphan := func(run, name string) func() bool {
				switch b.Name() {
				case "docker":
					cli := dockerClient(t)
					resp, err := cli.ContainerCreate(ctx, &container.Config{Image: testImage.Name, Cmd: []string{"sleep", "infinity"},
						Labels: map[string]string{sandbox.LabelKey: run, "swelego.owner": deadOwner}},
						&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
					if err != nil {
						t.Fatal(err)
					}
					if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { cli.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true}) })
					return func() bool { _, err := cli.ContainerInspect(ctx, resp.ID); return err == nil }
				default:
					dir := filepath.Join(workDir, "sbx-"+name)
					if err := os.MkdirAll(filepath.Join(dir, "testbed", "sub"), 0o755); err != nil {
						t.Fatal(err)
					}
					data, _ := json.Marshal(map[string]string{"owner": deadOwner, "run": run})
					if err := os.WriteFile(filepath.Join(dir, "owner.json"), data, 0o644); err != nil {
						t.Fatal(err)
					}
					return func() bool { _, err := os.Stat(dir); return err == nil }
				}
			}
			crashed := testRun + "-crashed-" + b.Name()
			var others, own func() bool
			// Any swelego process that starts a backend on this machine
			// (another test package's, say) sweeps orphans too, and may take
			// these before Sweep does: make them again until both are there.
			for try := 1; ; try++ {
				others = orphan(crashed, "crashed")
				// A process of this very run that was killed: a resumed
				// run must clear its sandboxes too.
				own = orphan(testRun, "killed-"+b.Name())
				// One crashed sandbox; on a retry an earlier one may
				// have survived beside it.
				n := sandboxesOf(t, b, crashed)
				if (n == 1 || try > 1 && n >= 1) && own() {
					break
				}
				if try == 5 {
					t.Fatalf("%d sandboxes of the crashed run before Sweep, want 1 (and the killed one of this run)", n)
				}
			}
			if err := b.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if others() || sandboxesOf(t, b, crashed) != 0 {
				t.Errorf("the crashed run's sandbox survived Sweep")
			}
			if own() {
				t.Errorf("the sandbox of a killed process of this run survived Sweep")
			}
			if res, err := live.Exec(ctx, "echo alive", time.Minute); err != nil || res.Output != "alive\n" {
				t.Errorf("a live sandbox after Sweep: %v %+v", err, res)
			}
		})
	}
}

// sandboxesOf counts the sandboxes of run: containers labelled with it, or
// bwrap sandbox folders whose marker names it.
func sandboxesOf(t testing.TB, b sandbox.Backend, run string) int {
	t.Helper()
	if b.Name() == "docker" {
		list, err := containers(context.Background(), dockerClient(t), run)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	dirs, _ := filepath.Glob(filepath.Join(workDir, "sbx-*"))
	n := 0
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "owner.json"))
		var m struct{ Run string }
		if err == nil && json.Unmarshal(data, &m) == nil && m.Run == run {
			n++
		}
	}
	return n
}

func TestNew(t *testing.T) {
	if skipAll != "" {
		t.Skip(skipAll)
	}
	ctx := context.Background()
	opts := sandbox.Options{RunID: testRun, WorkDir: workDir, NoSweep: true}
	for _, c := range []struct{ name, want string }{{"auto", "docker"}, {"", "docker"}, {"docker", "docker"}, {"bwrap", "bwrap"}} {
		b, err := sandbox.New(ctx, c.name, opts)
		if err != nil {
			t.Fatalf("New(%q): %v", c.name, err)
		}
		if b.Name() != c.want {
			t.Errorf("New(%q) is %s, want %s", c.name, b.Name(), c.want)
		}
		if d, ok := b.(*sandbox.Docker); ok {
			d.Close()
		}
	}
	if _, err := sandbox.New(ctx, "podman", opts); err == nil {
		t.Error("New(podman) succeeded")
	}
}

func TestPidsLimit(t *testing.T) {
	t.Parallel()
	// Children that sleep, forked until the kernel refuses.
	script := `
import os, time
n = 0
try:
    while n < 500:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        n += 1
except OSError as e:
    print('refused', type(e).__name__)
print('forked', n)
`
	for _, b := range backends(t) {
		t.Run(b.Name(), func(t *testing.T) {
			t.Parallel()
			s := open(t, b, sandbox.Spec{Limits: sandbox.Limits{Pids: 64}})
			res, err := s.Exec(context.Background(), "python3 -c "+shellQuote(script), time.Minute)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exec: %v %+v", err, res)
			}
			var n int
			i := strings.Index(res.Output, "forked")
			if i < 0 {
				t.Fatalf("no count:\n%s", res.Output)
			}
			if _, err := fmt.Sscanf(res.Output[i:], "forked %d", &n); err != nil || n >= 64 || !strings.Contains(res.Output, "refused") {
				t.Errorf("forked %d children with a limit of 64:\n%s", n, res.Output)
			}
		})
	}
}

// TestDockerWarm opens sandboxes of one image on a docker backend that
// keeps a warm container: after the first Open one more container of the
// run is started in the background; the next Open takes it (a container's
// hostname is its short id) and finds it fresh, with none of what the
// first sandbox wrote; Close of the backend removes the warm container.
func TestDockerWarm(t *testing.T) {
	if skipAll != "" {
		t.Skip(skipAll)
	}
	t.Parallel()
	ctx := context.Background()
	run := testRun + "-warm"
	d, err := sandbox.NewDocker(ctx, sandbox.Options{RunID: run, NoSweep: true, Warm: 1,
		Limits: sandbox.Limits{Memory: 1 << 30, CPUs: 1, Pids: 256, Timeout: 10 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	cli := dockerClient(t)
	ids := func() map[string]bool {
		t.Helper()
		list, err := containers(ctx, cli, run)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, c := range list {
			out[c.ID[:12]] = c.State == "running"
		}
		return out
	}
	// waitFor waits until n containers of the run run (a warm one is
	// ready a moment after it starts).
	waitFor := func(n int) map[string]bool {
		t.Helper()
		for range 300 {
			got := ids()
			running := 0
			for _, r := range got {
				if r {
					running++
				}
			}
			if len(got) == n && running == n {
				time.Sleep(200 * time.Millisecond)
				return got
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%d containers of the run, want %d", len(ids()), n)
		return nil
	}
	sh := func(s sandbox.Sandbox, cmd string) string {
		t.Helper()
		res, err := s.Exec(ctx, cmd, time.Minute)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%s: %v %+v", cmd, err, res)
		}
		return strings.TrimSpace(res.Output)
	}
	first, err := d.Open(ctx, sandbox.Spec{Image: testImage, Repo: testRepo})
	if err != nil {
		t.Fatal(err)
	}
	sh(first, "echo dirty > dirty.txt && echo dirty > /tmp/dirty && echo more >> hello.py")
	host1 := sh(first, "hostname")
	before := waitFor(2) // the first sandbox and a warm one
	delete(before, host1)
	var warm string
	for id := range before {
		warm = id
	}
	second, err := d.Open(ctx, sandbox.Spec{Image: testImage, Repo: testRepo})
	if err != nil {
		t.Fatal(err)
	}
	if host := sh(second, "hostname"); host != warm {
		t.Errorf("the second sandbox runs in %s, want the warm container %s", host, warm)
	}
	if got := sh(second, "ls dirty.txt /tmp/dirty 2>&1 | grep -v 'No such' || true; git status --porcelain"); got != "" {
		t.Errorf("the warm container is not fresh:\n%s", got)
	}
	if got := sh(second, "cat hello.py"); !strings.HasPrefix(got, "def greet") || strings.Contains(got, "more") {
		t.Errorf("hello.py in the warm container: %q", got)
	}
	waitFor(3) // two sandboxes and the next warm one
	for _, s := range []sandbox.Sandbox{first, second} {
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if left := ids(); len(left) != 0 {
		t.Errorf("%d containers of the run after Close, want none", len(left))
	}
}
