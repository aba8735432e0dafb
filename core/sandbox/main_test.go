package sandbox_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/swelego/swelego/core/envimage"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/plugins/python"
)

// The tests run against the real Docker Engine and real bubblewrap, over a
// python base image built once (debootstrap) and cached in
// os.TempDir()/swelego-test-cache/images across runs (shared with the other
// packages' tests, which set SWELEGO_CACHE to its parent).

var (
	testImage sandbox.Image
	testRepo  string // a small git repository
	// testRun prefixes the run id of every sandbox the tests open; no
	// container of it may be left when they end.
	testRun = fmt.Sprintf("test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	// skipAll says why the tests cannot run here, if they cannot.
	skipAll string
	workDir string // the bwrap backend's work folder for these tests
)

// ImageStore is where test images are cached across runs.
func imageStore() string { return filepath.Join(os.TempDir(), "swelego-test-cache", "images") }

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		skipAll = fmt.Sprintf("docker info failed: %v: %s", err, strings.TrimSpace(string(out)))
		fmt.Println("sandbox tests skip:", skipAll)
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	spec, err := python.Language{}.Describe(ctx, nil)
	if err != nil {
		fmt.Println("describe the python language:", err)
		return 1
	}
	img, err := envimage.BuildBase(ctx, envimage.LanguageBase(spec), imageStore())
	if err != nil {
		fmt.Println("build the python test image:", err)
		return 1
	}
	testImage = img
	fmt.Printf("python test image %s ready in %s\n", img.Name, time.Since(start).Round(time.Millisecond))
	dir, err := os.MkdirTemp("", "swelego-sandbox-test-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The sandbox user reaches the bwrap work folder through it.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Println(err)
		return 1
	}
	testRepo = filepath.Join(dir, "repo")
	workDir = filepath.Join(dir, "work")
	if err := makeRepo(testRepo); err != nil {
		fmt.Println("make the test repository:", err)
		return 1
	}
	code := m.Run()
	closeBackends()
	if left := leftContainers(context.Background()); len(left) > 0 {
		fmt.Printf("FAIL: containers left behind: %s\n", strings.Join(left, ", "))
		return 1
	}
	return code
}

// makeRepo makes a git repository with one commit: a python module, an
// executable script and a test.
func makeRepo(dir string) error {
	files := map[string]string{
		"hello.py":            "def greet(name):\n    return 'hello ' + name\n",
		"run.sh":              "#!/bin/sh\necho run\n",
		"tests/test_hello.py": "from hello import greet\n\ndef test_greet():\n    assert greet('x') == 'hello x'\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"},
	} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v: %s", args, err, out)
		}
	}
	return nil
}

var (
	backendsOnce sync.Once
	testBackends []sandbox.Backend
	backendsErr  error
)

// backends are the two backends under test, made once.
func backends(t testing.TB) []sandbox.Backend {
	t.Helper()
	if skipAll != "" {
		t.Skip(skipAll)
	}
	backendsOnce.Do(func() {
		// No warm containers: the tests count the containers of a run
		// (TestDockerWarm covers them).
		opts := sandbox.Options{RunID: testRun, WorkDir: workDir, Warm: -1,
			Limits: sandbox.Limits{Memory: 1 << 30, CPUs: 1, Pids: 256, Timeout: 10 * time.Minute}}
		d, err := sandbox.NewDocker(context.Background(), opts)
		if err != nil {
			backendsErr = err
			return
		}
		b, err := sandbox.NewBwrap(opts)
		if err != nil {
			backendsErr = err
			return
		}
		testBackends = []sandbox.Backend{d, b}
	})
	if backendsErr != nil {
		t.Fatal(backendsErr)
	}
	return testBackends
}

func closeBackends() {
	for _, b := range testBackends {
		if d, ok := b.(*sandbox.Docker); ok {
			d.Close()
		}
	}
}

// open opens a sandbox of b over the test repository, closed at the end
// of the test.
func open(t testing.TB, b sandbox.Backend, spec sandbox.Spec) sandbox.Sandbox {
	t.Helper()
	if spec.Image == (sandbox.Image{}) {
		spec.Image = testImage
	}
	if spec.Repo == "" {
		spec.Repo = testRepo
	}
	if spec.RunID == "" {
		spec.RunID = testRun
	}
	s, err := b.Open(context.Background(), spec)
	if err != nil {
		t.Fatalf("%s: open: %v", b.Name(), err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("%s: close: %v", b.Name(), err)
		}
	})
	return s
}

func dockerClient(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// containers lists the containers labelled with run.
func containers(ctx context.Context, cli *client.Client, run string) ([]container.Summary, error) {
	return cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelKey+"="+run))})
}

// leftContainers names the containers of these tests' runs still there.
func leftContainers(ctx context.Context) []string {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return []string{err.Error()}
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelKey))})
	if err != nil {
		return []string{err.Error()}
	}
	var left []string
	for _, c := range list {
		if strings.HasPrefix(c.Labels[sandbox.LabelKey], testRun) {
			left = append(left, fmt.Sprintf("%.12s (%s)", c.ID, c.Labels[sandbox.LabelKey]))
		}
	}
	return left
}
