package cuda

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

var archs = []string{"sm_80", "sm_90"}

// committedPTX lists kernels/ptx/*.ptx.
func committedPTX(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("kernels/ptx/*.ptx")
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := filepath.Glob("kernels/*.cu")
	if len(srcs) == 0 || len(files) != len(srcs)*len(archs) {
		t.Fatalf("%d PTX files for %d sources and %d architectures (run make ptx)", len(files), len(srcs), len(archs))
	}
	return files
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("SWELEGO_CUDA_TOOLKIT") == "required" {
			t.Fatalf("%s is not installed, and SWELEGO_CUDA_TOOLKIT=required (make cuda-deps installs it)", name)
		}
		t.Skipf("%s is not installed (make cuda-deps installs Debian's CUDA toolkit)", name)
	}
}

// TestPTXCurrent recompiles every kernel source with nvcc and compares the
// result with the committed PTX: a kernel edited without `make ptx` fails.
func TestPTXCurrent(t *testing.T) {
	needTool(t, "nvcc")
	t.Parallel()
	tmp := t.TempDir()
	cmd := exec.Command("sh", "kernels/ptx.sh", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ptx.sh: %v\n%s", err, out)
	}
	for _, f := range committedPTX(t) {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(tmp, filepath.Base(f)))
		if err != nil {
			t.Fatalf("%s: not produced by ptx.sh: %v", f, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make ptx and commit it", f)
		}
	}
}

// TestPTXAssembles runs ptxas on every committed PTX file for its
// architecture, as the driver's JIT would on a GPU of that architecture,
// and checks no kernel spills registers or needs more static shared memory
// than a block may have without opting in (48 KiB).
func TestPTXAssembles(t *testing.T) {
	needTool(t, "ptxas")
	smem := regexp.MustCompile(`Compiling entry function '(\w+)'|(\d+) bytes smem|(\d+) bytes spill stores`)
	for _, f := range committedPTX(t) {
		arch := regexp.MustCompile(`sm_\d+`).FindString(filepath.Base(f))
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("ptxas", "-v", "-arch="+arch, "-o", os.DevNull, f).CombinedOutput()
			if err != nil {
				t.Fatalf("ptxas -arch=%s %s: %v\n%s", arch, f, err, out)
			}
			kernel := ""
			for _, m := range smem.FindAllStringSubmatch(string(out), -1) {
				switch {
				case m[1] != "":
					kernel = m[1]
				case m[2] != "":
					if n, _ := strconv.Atoi(m[2]); n > 48<<10 {
						t.Errorf("%s: %d bytes of static shared memory", kernel, n)
					}
				case m[3] != "":
					if n, _ := strconv.Atoi(m[3]); n > 0 {
						t.Errorf("%s: spills %d bytes", kernel, n)
					}
				}
			}
		})
	}
}

// TestKernelParams checks that every architecture's PTX defines exactly
// the kernels kernelParams lists, with those parameter types.
func TestKernelParams(t *testing.T) {
	for _, arch := range archs {
		got := map[string]string{}
		for _, f := range committedPTX(t) {
			if !bytes.Contains([]byte(filepath.Base(f)), []byte(arch)) {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for name, params := range ptxParams(string(src)) {
				if _, dup := got[name]; dup {
					t.Errorf("%s: kernel %s defined twice", arch, name)
				}
				got[name] = params
			}
		}
		for name, want := range kernelParams {
			if got[name] != want {
				t.Errorf("%s: kernel %s: PTX params %q, kernelParams %q", arch, name, got[name], want)
			}
		}
		for name := range got {
			if _, ok := kernelParams[name]; !ok {
				t.Errorf("%s: kernel %s is not in kernelParams", arch, name)
			}
		}
	}
}

// TestTileConstants checks plan.go's copies of attention.cu's tile sizes.
func TestTileConstants(t *testing.T) {
	src, err := os.ReadFile("kernels/attention.cu")
	if err != nil {
		t.Fatal(err)
	}
	define := func(name string) int {
		m := regexp.MustCompile(`(?m)^#define ` + name + ` (\S+)`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("no #define %s", name)
		}
		n, err := strconv.Atoi(string(m[1]))
		if err != nil {
			t.Fatalf("#define %s %s: not a number", name, m[1])
		}
		return n
	}
	for _, c := range []struct {
		name string
		got  int
		want int
	}{
		{"NWARPS", attnWarps, define("NWARPS")},
		{"BC", attnBC, define("BC")},
		{"FWD_ROWS", attnFwdRows, define("NWARPS") * define("FWD_RPW")},
		{"DQ_ROWS", attnDQRows, define("NWARPS") * define("DQ_RPW")},
		{"KV_KEYS", attnKVKeys, define("NWARPS") * define("KV_KPW")},
		{"DMAX", MaxHeadDim, define("DMAX")},
	} {
		if c.got != c.want {
			t.Errorf("%s: plan.go has %d, attention.cu %d", c.name, c.got, c.want)
		}
	}
}
