package swetools

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

// hostSandbox is a sdk.Sandbox for tests that runs real bash on this
// machine, in a temporary folder that plays the repository root. Like the
// real backends it marks every Exec's processes with SWELEGO_EXEC in their
// environment. With reap set it kills everything an Exec left running when
// it returns, marked or not, as bwrap's per-Exec process namespace does;
// without it, it leaves running what dropped the marker, as docker does.
type hostSandbox struct {
	root string
	reap bool
	id   string // marks every process of the sandbox, for the cleanup
	mu   sync.Mutex
	n    int // Execs run
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newHostSandbox makes a sandbox over a fresh root folder; what it left
// running is killed when the test ends.
func newHostSandbox(t testing.TB, reap bool) *hostSandbox {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &hostSandbox{root: root, reap: reap, id: randomHex()}
	t.Cleanup(func() { killMarked("SWETOOLS_TEST_SANDBOX=" + s.id) })
	return s
}

var _ sdk.Sandbox = (*hostSandbox)(nil)

func (s *hostSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	marker := "SWELEGO_EXEC=" + randomHex()
	// namespace marks the Exec's processes the way a process namespace
	// holds them: dropping SWELEGO_EXEC does not take them out.
	namespace := "SWETOOLS_TEST_EXEC=" + randomHex()
	c := exec.Command("bash", "-c", cmd)
	c.Dir = s.root
	c.Env = append(os.Environ(), marker, namespace, "SWETOOLS_TEST_SANDBOX="+s.id, "HOME="+s.root, "TERM=dumb")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.WaitDelay = 5 * time.Second
	if err := c.Start(); err != nil {
		return sdk.ExecResult{}, fmt.Errorf("start bash: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		killMarked(marker)
		<-done
		return sdk.ExecResult{Output: out.String(), ExitCode: -1, TimedOut: true}, nil
	case <-ctx.Done():
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		killMarked(marker)
		<-done
		return sdk.ExecResult{Output: out.String(), ExitCode: -1}, ctx.Err()
	}
	if s.reap {
		killMarked(namespace)
	} else {
		killMarked(marker)
	}
	code := c.ProcessState.ExitCode()
	if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return sdk.ExecResult{Output: out.String(), ExitCode: code}, nil
}

// killMarked kills, until none is left, every process of this user whose
// environment holds the entry kv. A process in the middle of an exec shows
// no environment for a moment, so "none left" takes three scans in a row
// that find none.
func killMarked(kv string) {
	want := []byte(kv)
	clean := 0
	for range 100 {
		found := false
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			env, err := os.ReadFile(p + "/environ")
			if err != nil {
				continue
			}
			for _, e := range bytes.Split(env, []byte{0}) {
				if bytes.Equal(e, want) {
					var pid int
					if _, err := fmt.Sscanf(filepath.Base(p), "%d", &pid); err == nil && pid != os.Getpid() {
						if syscall.Kill(pid, syscall.SIGKILL) == nil {
							found = true
						}
					}
					break
				}
			}
		}
		if found {
			clean = 0
		} else if clean++; clean == 3 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *hostSandbox) abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.root, p)
	}
	return filepath.Clean(p)
}

func (s *hostSandbox) ReadFile(ctx context.Context, p string) ([]byte, error) {
	return os.ReadFile(s.abs(p))
}

// WriteFile writes only inside the root, following symbolic links that
// stay inside it, as the real sandboxes do.
func (s *hostSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	abs := s.abs(p)
	rel, err := filepath.Rel(s.root, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("write %s: path outside the repository", p)
	}
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	perm := fs.FileMode(0o644)
	if fi, err := root.Stat(rel); err == nil {
		perm = fi.Mode().Perm()
	}
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *hostSandbox) Diff(ctx context.Context) (string, error) {
	return "", errors.New("the test sandbox has no diff")
}

func (s *hostSandbox) execs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// env is one test's tool set, sandbox and configuration.
type env struct {
	t     testing.TB
	ts    sdk.ToolSet
	sb    *hostSandbox
	state string
	cfg   map[string]any
}

func newEnv(t testing.TB, reap bool, cfg map[string]any) *env {
	t.Helper()
	sb := newHostSandbox(t, reap)
	state := filepath.Join(t.TempDir(), "state")
	c := map[string]any{"root": sb.root, "state_dir": state}
	for k, v := range cfg {
		c[k] = v
	}
	return &env{t: t, ts: &ToolSet{}, sb: sb, state: state, cfg: c}
}

func (e *env) config() sdk.Config {
	b, err := json.Marshal(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return sdk.Config(b)
}

// call runs tool with args (marshalled to JSON unless a string).
func (e *env) call(tool string, args any) sdk.ToolResult {
	e.t.Helper()
	text, ok := args.(string)
	if !ok {
		b, err := json.Marshal(args)
		if err != nil {
			e.t.Fatal(err)
		}
		text = string(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := e.ts.Execute(ctx, sdk.ToolRequest{
		Config:  e.config(),
		Call:    sdk.ToolCall{ID: "call_1", Type: "function", Function: sdk.FunctionCall{Name: tool, Arguments: text}},
		Sandbox: e.sb,
	})
	if err != nil {
		e.t.Fatalf("%s %s: %v", tool, text, err)
	}
	return res
}

func (e *env) bash(command string) sdk.ToolResult {
	e.t.Helper()
	return e.call(ToolExecuteBash, map[string]any{"command": command})
}

// path is p inside the sandbox's root.
func (e *env) path(p string) string { return filepath.Join(e.sb.root, p) }

func (e *env) write(p, content string) {
	e.t.Helper()
	full := e.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(p string) string {
	e.t.Helper()
	b, err := os.ReadFile(e.path(p))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}
