package pluginhost

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
)

// testBin holds the test plugins, built once for the package's tests.
var testBin string

// testBuiltins are the built-in plugins the test binary serves by name
// (see TestMain); any other name serves echo.
var testBuiltins = map[string]func() *sdk.Plugin{
	"echo":    echoPlugin,
	"python":  python.New,
	"golang":  golang.New,
	"golang2": golang.New,
}

// echoPlugin is the built-in plugin the test binary serves when the host
// re-executes it as `TESTBINARY plugin serve echo`, the way swelego serves
// its first-party plugins.
func echoPlugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "echo", Version: "1.2.3", Verifier: echoVerifier{}, TaskSource: countSource{}}
}

type echoVerifier struct{}

func (echoVerifier) Verify(_ context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	return sdk.Score{Value: float64(len(req.Patch)), Label: req.Task.InstanceID}, nil
}

// Rank prefers the smallest score: the selection score is its negative.
func (echoVerifier) Rank(_ context.Context, req sdk.RankRequest) (map[string]float64, error) {
	out := make(map[string]float64, len(req.Candidates))
	for _, c := range req.Candidates {
		out[c.Key] = -c.Score.Value
	}
	return out, nil
}

// countSource streams n tasks, n given by the config {"n": N}.
type countSource struct{}

func (countSource) Tasks(_ context.Context, cfg sdk.Config, send func(sdk.Task) error) error {
	var c struct{ N int }
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	for i := range c.N {
		if err := send(sdk.Task{InstanceID: fmt.Sprintf("t%07d", i), Repo: "r/r", ProblemStatement: "bench"}); err != nil {
			return err
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	if os.Getenv("SWELEGO_TEST_DEBUG_PLUGIN") == "1" {
		// Serve like a plugin under a debugger would (see TestReattach).
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := sdk.Debug(ctx, echoPlugin()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) == 4 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		newPlugin, ok := testBuiltins[os.Args[3]]
		if !ok {
			newPlugin = echoPlugin
		}
		sdk.Serve(newPlugin())
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "swelego-pluginhost-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testBin = dir
	for _, name := range []string{"crashy", "oldproto"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, BinaryPrefix+name), "./testdata/plugins/"+name)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build test plugin:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newTestHost returns a host whose search path holds the test plugins and
// whose built-in "echo" is served by this test binary.
func newTestHost(t testing.TB, opts Options) *Host {
	t.Helper()
	if opts.SearchPath == nil {
		opts.SearchPath = []string{testBin}
	}
	if opts.Builtins == nil {
		opts.Builtins = map[string]func() *sdk.Plugin{"echo": echoPlugin}
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.Self = os.Args[0]
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}
