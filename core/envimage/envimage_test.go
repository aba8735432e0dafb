package envimage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
)

// The tests build real images (debootstrap, bwrap, the Docker Engine),
// cached in os.TempDir()/swelego-test-cache/images across runs, as the sandbox
// tests' are.

var store = filepath.Join(os.TempDir(), "swelego-test-cache", "images")

func needBuild(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker info failed: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if !isRoot() {
		t.Skip("building images needs root")
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestBuildBase(t *testing.T) {
	needBuild(t)
	ctx := testCtx(t)
	start := time.Now()
	img, err := BuildBase(ctx, pythonBase(), store)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("python base %s in %s", img.Name, time.Since(start).Round(time.Millisecond))
	if !strings.HasPrefix(img.Name, "swelego/base-python:") || len(img.Name) != len("swelego/base-python:")+12 {
		t.Errorf("name %q", img.Name)
	}
	// Built once: the same inputs are a no-op, in any order.
	start = time.Now()
	again, err := BuildBase(ctx, withBase(pythonBase(), BaseSpec{Release: DefaultRelease, Packages: []string{"git"}}), store)
	if err != nil {
		t.Fatal(err)
	}
	if again != img {
		t.Errorf("second build %+v, want %+v", again, img)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a cached build took %s", d)
	}
	// The root file system: user, /testbed, environment, tools.
	for file, want := range map[string]string{
		"etc/passwd":             "swelego:x:1000:1000:",
		"etc/gitconfig":          "directory = *",
		sandbox.ImageEnvFile[1:]: "LANG=C.UTF-8",
		"usr/lib/python3/dist-packages/pytest/__init__.py": "",
	} {
		data, err := os.ReadFile(filepath.Join(img.RootFS, file))
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s: %v, lacks %q", file, err, want)
		}
	}
	for _, d := range []string{"testbed", "home/swelego"} {
		fi, err := os.Stat(filepath.Join(img.RootFS, d))
		if err != nil {
			t.Fatal(err)
		}
		if s := statOwner(fi); s != "1000:1000" {
			t.Errorf("%s owned by %s, want 1000:1000", d, s)
		}
	}
	// The Docker image: same tree, sandbox user and /testbed as defaults.
	cli := dockerClient(ctx)
	if cli == nil {
		t.Fatal("no Docker Engine")
	}
	defer cli.Close()
	ins, err := cli.ImageInspect(ctx, img.Name)
	if err != nil {
		t.Fatal(err)
	}
	// The store label names the store that imported the image first: an
	// image with the same inputs is shared by every store on the engine.
	if ins.Config.User != "1000:1000" || ins.Config.WorkingDir != "/testbed" || ins.Config.Labels[storeLabel] == "" {
		t.Errorf("image config: user %q workdir %q labels %v", ins.Config.User, ins.Config.WorkingDir, ins.Config.Labels)
	}
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", img.Name,
		"sh", "-c", "id -un; pwd; python3 -m pytest --version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "swelego\n/testbed\npytest") {
		t.Errorf("docker run: %v: %s", err, out)
	}
}

func statOwner(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
	}
	return "?"
}

func TestBuildEnvGo(t *testing.T) {
	needBuild(t)
	ctx := testCtx(t)
	start := time.Now()
	base, err := BuildBase(ctx, goBase(), store)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("go base %s in %s", base.Name, time.Since(start).Round(time.Millisecond))
	// A module with a dependency: the environment's setup downloads it, so
	// the tests run with no network.
	repo := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.21\n\nrequire github.com/google/go-cmp v0.7.0\n",
		"go.sum": "github.com/google/go-cmp v0.7.0 h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8=\n" +
			"github.com/google/go-cmp v0.7.0/go.mod h1:pXiqmnSA92OHEEa9HXL2W4E7lf9JzCmGVUdgjX3N/iU=\n",
		"m_test.go": "package m\n\nimport (\n\t\"testing\"\n\n\t\"github.com/google/go-cmp/cmp\"\n)\n\n" +
			"func TestDiff(t *testing.T) {\n\tif d := cmp.Diff(1, 1); d != \"\" {\n\t\tt.Fatal(d)\n\t}\n}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := EnvSpec{Name: "Example/M", Base: base, Repo: repo, Setup: []string{"go mod download", "go version"}}
	start = time.Now()
	env, err := BuildEnv(ctx, spec, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("env %s in %s", env.Name, time.Since(start).Round(time.Millisecond))
	if !strings.HasPrefix(env.Name, "swelego/env-example-m:") {
		t.Errorf("name %q", env.Name)
	}
	if entries, _ := os.ReadDir(filepath.Join(env.RootFS, "testbed")); len(entries) != 0 {
		t.Errorf("/testbed of the image holds %d entries, want none", len(entries))
	}
	if again, err := BuildEnv(ctx, spec, store); err != nil || again != env {
		t.Errorf("second build %+v, %v; want %+v", again, err, env)
	}
	// Both backends find the dependency offline in the warmed module
	// cache; one of them compiles and runs the tests with it (the first go
	// test in an image compiles the standard library's test dependencies,
	// minutes of CPU on a small machine: once is enough).
	for _, backend := range []string{"docker", "bwrap"} {
		t.Run(backend, func(t *testing.T) {
			b, err := sandbox.New(ctx, backend, sandbox.Options{NoSweep: true})
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := b.(interface{ Close() error }); ok {
				defer c.Close() // removes docker's warm container
			}
			s, err := b.Open(ctx, sandbox.Spec{Image: env, Repo: repo})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			cmd, want := "go version && go test ./... 2>&1", "ok  \texample.com/m"
			if backend == "docker" {
				cmd, want = "go version && GOPROXY=off go list -deps -test ./... 2>&1", "github.com/google/go-cmp/cmp\n"
			}
			res, err := s.Exec(ctx, cmd, 5*time.Minute)
			if err != nil || res.ExitCode != 0 || !strings.Contains(res.Output, "go1.23") || !strings.Contains(res.Output, want) {
				t.Errorf("%s: %v %+v", cmd, err, res)
			}
		})
	}
}

func TestBuildEnvFailureLeavesNothing(t *testing.T) {
	needBuild(t)
	ctx := testCtx(t)
	base, err := BuildBase(ctx, pythonBase(), store)
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "a.txt"), []byte(time.Now().String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var steps []Step
	ctx = WithSteps(ctx, func(s Step) { steps = append(steps, s) })
	_, err = BuildEnv(ctx, EnvSpec{Name: "broken", Base: base, Repo: repo, Setup: []string{"echo about to fail; exit 3"}}, store)
	if err == nil || !strings.Contains(err.Error(), "about to fail") {
		t.Fatalf("error %v, want the failing setup command with its output", err)
	}
	// The build reported its steps as it went, up to the failing one.
	var shown []string
	for i, s := range steps {
		shown = append(shown, s.Step)
		if !strings.HasPrefix(s.Image, "swelego/env-broken:") || (i > 0 && s.Elapsed < steps[i-1].Elapsed) {
			t.Errorf("step %+v", s)
		}
	}
	if len(steps) == 0 || !strings.HasPrefix(steps[0].Step, "+ cp -a") || steps[len(steps)-1].Step != "+ [setup as user] echo about to fail; exit 3" {
		t.Errorf("steps reported:\n%s", strings.Join(shown, "\n"))
	}
	leftovers, _ := filepath.Glob(filepath.Join(store, "rootfs", ".tmp-*"))
	for _, l := range leftovers {
		// Another test binary may be building right now; only ours count.
		if data, _ := os.ReadFile(l + ".log"); strings.Contains(string(data), "about to fail") {
			t.Errorf("half-built image left: %s", l)
		}
	}
	cli := dockerClient(ctx)
	if cli == nil {
		t.Fatal("no Docker Engine")
	}
	defer cli.Close()
	list, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", "swelego/env-broken"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("images of the failed build: %v", list)
	}
}

func TestPrune(t *testing.T) {
	needBuild(t)
	ctx := testCtx(t)
	cli := dockerClient(ctx)
	if cli == nil {
		t.Fatal("no Docker Engine")
	}
	defer cli.Close()
	// A store of its own with two tiny images.
	st := t.TempDir()
	var imgs []sandbox.Image
	for i := range 2 {
		hash := hashOf("prune-test", i, time.Now().UnixNano())
		root := filepath.Join(st, "rootfs", hash)
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc", "hello"), []byte("hi"), 0o644); err != nil {
			t.Fatal(err)
		}
		img := sandbox.Image{Name: "swelego/base-prunetest:" + hash[:12], RootFS: root}
		if err := importRootFS(ctx, cli, root, img.Name, st); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	tmp := filepath.Join(st, "rootfs", ".tmp-"+strings.Repeat("a", 64)+"-123")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Prune(context.Background(), st, nil) })
	if err := Prune(ctx, st, imgs[:1]); err != nil {
		t.Fatal(err)
	}
	if !imported(ctx, cli, imgs[0].Name) {
		t.Error("the kept image was removed")
	}
	if _, err := os.Stat(imgs[0].RootFS); err != nil {
		t.Errorf("the kept root file system: %v", err)
	}
	if imported(ctx, cli, imgs[1].Name) {
		t.Error("the other image is still there")
	}
	for _, p := range []string{imgs[1].RootFS, tmp} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there", p)
		}
	}
	// Images of other stores are not touched: the shared test store's.
	if base, err := BuildBase(ctx, pythonBase(), store); err != nil || !imported(ctx, cli, base.Name) {
		t.Errorf("the test store's image: %v", err)
	}
}

func TestPlanBase(t *testing.T) {
	name, _, _ := planBase(pythonBase())
	cases := []struct {
		name string
		spec BaseSpec
		same bool
	}{
		{"defaults spelt out", withBase(pythonBase(), BaseSpec{Release: DefaultRelease, Mirror: DefaultMirror}), true},
		{"a preset package again, in another order", withBase(pythonBase(), BaseSpec{Packages: []string{"patch", "git"}}), true},
		{"another package", withBase(pythonBase(), BaseSpec{Packages: []string{"curl"}}), false},
		{"another release", withBase(pythonBase(), BaseSpec{Release: "trixie"}), false},
		{"another mirror", withBase(pythonBase(), BaseSpec{Mirror: "http://example.invalid/debian"}), false},
		{"another language", goBase(), false},
		{"a language package more", func() BaseSpec {
			b := pythonBase()
			b.Image.Packages = append(b.Image.Packages, "python3-venv")
			return b
		}(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, _ := planBase(c.spec)
			if (got == name) != c.same {
				t.Errorf("name %s vs %s, want same=%v", got, name, c.same)
			}
		})
	}
}

// TestPlanBaseKeepsPresetHashes: a language plugin that describes what
// core's presets held gets the image those presets built, so stores
// filled before languages became plugins stay valid.
func TestPlanBaseKeepsPresetHashes(t *testing.T) {
	presets := map[string]map[string]any{
		"python": {"packages": []string{"git", "patch", "python3", "python3-pytest"}, "backports": nil, "links": nil,
			"env": append(slices.Clone(baseEnv), "PYTHONDONTWRITEBYTECODE=1")},
		"go": {"packages": []string{"ca-certificates", "git", "patch"}, "backports": []string{"golang-1.23-go"},
			"links": map[string]string{"/usr/local/bin/go": "/usr/lib/go-1.23/bin/go", "/usr/local/bin/gofmt": "/usr/lib/go-1.23/bin/gofmt"},
			"env":   append(slices.Clone(baseEnv), "GOTOOLCHAIN=local", "GOCACHE=/tmp/.cache/go-build")},
	}
	for lang, spec := range map[string]BaseSpec{"python": pythonBase(), "go": goBase()} {
		inputs := presets[lang]
		inputs["release"], inputs["mirror"], inputs["language"] = DefaultRelease, DefaultMirror, lang
		want := hashOf(recipeVersion, "base", inputs)
		if _, got, _ := planBase(spec); got != want {
			t.Errorf("%s: hash %s, the preset's was %s", lang, got, want)
		}
	}
}

// pythonBase and goBase are base images as the reference languages of
// core's tests describe them.
func pythonBase() BaseSpec { return baseOf(python.Language{}) }
func goBase() BaseSpec     { return baseOf(golang.Language{}) }

func baseOf(l sdk.Language) BaseSpec {
	spec, err := l.Describe(context.Background(), nil)
	if err != nil {
		panic(err)
	}
	return LanguageBase(spec)
}

// withBase is base with the release, mirror and packages of extra.
func withBase(base, extra BaseSpec) BaseSpec {
	base.Release, base.Mirror, base.Packages = extra.Release, extra.Mirror, extra.Packages
	return base
}

func TestImageName(t *testing.T) {
	for in, want := range map[string]string{
		"django/django": "django-django",
		"Pallets Flask": "pallets-flask",
		"..":            "repo",
		"a_b.c-d":       "a_b.c-d",
	} {
		if got := imageName(in); got != want {
			t.Errorf("imageName(%q) = %q, want %q", in, got, want)
		}
	}
}
