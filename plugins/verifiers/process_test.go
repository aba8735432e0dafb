package verifiers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/swelego/swelego/sdk"
)

// This file runs the verifiers as the host does: each plugin binary built
// and started as its own process, spoken to over gRPC, with a sandbox and
// a model lent through the broker.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// pluginBinary builds the three plugin binaries once per test run and
// returns the path of one.
func pluginBinary(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds plugin binaries")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "swelego-verifiers-test")
		if buildErr != nil {
			return
		}
		for _, n := range []string{NameGenerative, NameTests, NameHybrid} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "swelego-plugin-"+n), "./cmd/swelego-plugin-"+n).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", n, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "swelego-plugin-"+name)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// startPlugin starts a plugin binary and returns its client; the process
// is killed when the test ends.
func startPlugin(t *testing.T, name string) *sdk.Client {
	t.Helper()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Cmd:              exec.Command(pluginBinary(t, name)),
		Logger:           hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rpc.Dispense(sdk.DispenseName)
	if err != nil {
		t.Fatal(err)
	}
	c := raw.(*sdk.Client)
	info, err := c.Info(context.Background())
	if err != nil || info.Name != name || !info.Serves(sdk.KindVerifier) {
		t.Fatalf("info of %s: %+v, %v", name, info, err)
	}
	return c
}

// dirSandbox is a sandbox over a local git repository: commands run with
// bash at its root; it records the commands it ran.
type dirSandbox struct {
	dir string

	mu    sync.Mutex
	execs []string
}

func (s *dirSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	s.mu.Lock()
	s.execs = append(s.execs, cmd)
	s.mu.Unlock()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Dir = s.dir
	c.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := c.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return sdk.ExecResult{Output: string(out), ExitCode: exit.ExitCode(), TimedOut: ctx.Err() != nil}, nil
	}
	return sdk.ExecResult{Output: string(out)}, err
}

func (s *dirSandbox) path(p string) string {
	if filepath.IsAbs(p) {
		return p // /tmp of this machine stands for the sandbox's
	}
	return filepath.Join(s.dir, p)
}

func (s *dirSandbox) ReadFile(_ context.Context, p string) ([]byte, error) {
	return os.ReadFile(s.path(p))
}

// WriteFile writes only inside the repository, as swelego's sandboxes do.
func (s *dirSandbox) WriteFile(_ context.Context, p string, data []byte) error {
	if filepath.IsAbs(p) || !filepath.IsLocal(p) {
		return fmt.Errorf("write %s: path outside the repository", p)
	}
	return os.WriteFile(s.path(p), data, 0o644)
}

func (s *dirSandbox) Diff(ctx context.Context) (string, error) {
	r, err := s.Exec(ctx, "git diff", time.Minute)
	return r.Output, err
}

// count returns how many recorded commands contain sub.
func (s *dirSandbox) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.execs {
		if strings.Contains(c, sub) {
			n++
		}
	}
	return n
}

// fixtureSandbox copies testdata/NAME into a fresh git repository with
// one commit, the task's base.
func fixtureSandbox(t *testing.T, name string) *dirSandbox {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", name))); err != nil {
		t.Fatal(err)
	}
	s := &dirSandbox{dir: dir}
	r, err := s.Exec(context.Background(), "git init -q && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm base", time.Minute)
	if err != nil || r.ExitCode != 0 {
		t.Fatalf("git init: %v %s", err, r.Output)
	}
	s.execs = nil
	return s
}

func readPatch(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "patches", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scriptedModel is the judge: it answers every request with the same
// tokens and records what it was asked.
type scriptedModel struct {
	tokens []sdk.TokenLogprob

	mu   sync.Mutex
	reqs []sdk.ChatRequest
}

func (m *scriptedModel) Chat(_ context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.mu.Unlock()
	var text strings.Builder
	for _, t := range m.tokens {
		text.WriteString(t.Token)
	}
	return sdk.ChatResponse{Message: sdk.Message{Role: "assistant", Content: text.String()}, FinishReason: "stop", Logprobs: m.tokens}, nil
}
