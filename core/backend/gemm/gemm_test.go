package gemm

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// forEachKernel runs f once per micro-kernel this machine supports (the
// assembly ones and the pure-Go fallback), restoring the default after.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	orig := Kernel()
	t.Cleanup(func() {
		if err := SetKernel(orig); err != nil {
			t.Fatal(err)
		}
	})
	for _, name := range Kernels() {
		t.Run(name, func(t *testing.T) {
			if err := SetKernel(name); err != nil {
				t.Fatal(err)
			}
			f(t)
		})
	}
}

// splitSmall makes Sgemm spread even small products over threads for the
// rest of the test, so that the parallel path runs on test-sized inputs.
func splitSmall(t *testing.T) {
	spinning, parked := minWorkSpinning, minWorkParked
	minWorkSpinning, minWorkParked = 1, 1
	t.Cleanup(func() { minWorkSpinning, minWorkParked = spinning, parked })
}

func randMatrix(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// gemmCase is one call of Sgemm. Padding adds to each leading dimension
// beyond the stored row length.
type gemmCase struct {
	name           string
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int
}

// operands builds A, B and C for a case, with NaN in the padding so that a
// read outside the matrices shows up in the result.
func (tc gemmCase) operands(r *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	a = padded(r, ar, ac, lda)
	b = padded(r, br, bc, ldb)
	c = padded(r, tc.m, tc.n, ldc)
	return a, lda, b, ldb, c, ldc
}

func padded(r *rand.Rand, rows, cols, ld int) []float32 {
	if rows == 0 {
		return nil
	}
	x := make([]float32, (rows-1)*ld+cols)
	nan := float32(math.NaN())
	for i := range x {
		if i%ld < cols {
			x[i] = float32(r.NormFloat64())
		} else {
			x[i] = nan
		}
	}
	return x
}

// checkClose compares got against want element by element. fp32 sums of k
// products with unit-variance inputs have an error that grows like √k·ε
// times the magnitude of the terms, so the tolerance scales with that.
func checkClose(t *testing.T, tc gemmCase, got, want []float32, ldc int) {
	t.Helper()
	tol := 1e-5 * (math.Sqrt(float64(tc.k)) + 1) * (math.Abs(float64(tc.alpha))*math.Sqrt(float64(tc.k)) + math.Abs(float64(tc.beta)) + 1)
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			g, w := got[i*ldc+j], want[i*ldc+j]
			if math.IsNaN(float64(g)) || math.Abs(float64(g-w)) > tol {
				if bad < 5 {
					t.Errorf("C[%d,%d] = %g, want %g (tolerance %g)", i, j, g, w, tol)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d elements differ", bad, tc.m*tc.n)
	}
	for i := range got {
		if ldc > tc.n && i%ldc >= tc.n && !math.IsNaN(float64(got[i])) {
			t.Fatalf("padding of C at %d was written: %g", i, got[i])
		}
	}
}

func runCase(t *testing.T, tc gemmCase, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	a, lda, b, ldb, c, ldc := tc.operands(r)
	want := append([]float32(nil), c...)
	if tc.beta == 0 {
		// C must not be read: poison it, but keep the padding as it was.
		for i := range c {
			if i%ldc < tc.n {
				c[i] = float32(math.NaN())
			}
		}
	}
	reference(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	checkClose(t, tc, c, want, ldc)
}

func TestSgemmShapes(t *testing.T) {
	shapes := []struct {
		name    string
		m, n, k int
	}{
		{"1x1x1", 1, 1, 1},
		{"scalar-k", 1, 1, 7},
		{"row", 1, 37, 5},
		{"column", 29, 1, 5},
		{"one-tile", 6, 16, 8},
		{"avx512-tile", 12, 32, 8},
		{"odd-small", 7, 17, 3},
		{"odd-medium", 13, 33, 19},
		{"primes", 31, 47, 53},
		{"k-tail", 24, 48, 7},
		{"k-over-block", 20, 20, 513},
		{"m-over-block", 301, 35, 40},
		{"n-over-block", 9, 3100, 11},
		{"wide-odd", 65, 129, 257},
		{"square", 128, 128, 128},
		{"tall-skinny", 1000, 5, 64},
	}
	type coeff struct{ alpha, beta float32 }
	coeffs := []coeff{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}}
	forEachKernel(t, func(t *testing.T) {
		for si, s := range shapes {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for ci, co := range coeffs {
						for _, pad := range []int{0, 3} {
							tc := gemmCase{
								transA: ta, transB: tb, m: s.m, n: s.n, k: s.k,
								alpha: co.alpha, beta: co.beta, pad: pad,
							}
							tc.name = fmt.Sprintf("%s/tA=%t/tB=%t/alpha=%g/beta=%g/pad=%d", s.name, ta, tb, co.alpha, co.beta, pad)
							t.Run(tc.name, func(t *testing.T) {
								runCase(t, tc, uint64(si*100+ci))
							})
						}
					}
				}
			}
		}
	})
}

// TestSgemmParallel uses products big enough to be split over threads, with
// thread counts that do and do not divide the work evenly.
func TestSgemmParallel(t *testing.T) {
	defer SetThreads(0)
	splitSmall(t)
	cases := []gemmCase{
		{name: "square", m: 256, n: 256, k: 256, alpha: 1},
		{name: "wide-nt", transB: true, m: 64, n: 1500, k: 96, alpha: 1, beta: 0.5},
		{name: "tall-tn", transA: true, m: 1100, n: 70, k: 130, alpha: 2, pad: 1},
		{name: "odd-tt", transA: true, transB: true, m: 301, n: 299, k: 67, alpha: -1, beta: 1},
	}
	forEachKernel(t, func(t *testing.T) {
		for _, threads := range []int{1, 2, 3, 7} {
			for i, tc := range cases {
				t.Run(fmt.Sprintf("%s/threads=%d", tc.name, threads), func(t *testing.T) {
					SetThreads(threads)
					runCase(t, tc, uint64(i))
				})
			}
		}
	})
}

func TestSgemmDegenerate(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name        string
		m, n, k     int
		alpha, beta float32
		a, b        []float32
		c, want     []float32
		lda, ldc    int // 0: the row length
	}{
		{name: "k=0 beta=0 clears C", m: 2, n: 2, k: 0, alpha: 1, beta: 0,
			c: []float32{nan, 1, 2, nan}, want: []float32{0, 0, 0, 0}},
		{name: "k=0 beta scales C", m: 1, n: 3, k: 0, alpha: 1, beta: 2,
			c: []float32{1, 2, 3}, want: []float32{2, 4, 6}},
		{name: "alpha=0 does not read A or B", m: 1, n: 2, k: 2, alpha: 0, beta: 1,
			a: []float32{nan, nan}, b: []float32{nan, nan, nan, nan},
			c: []float32{5, 6}, want: []float32{5, 6}},
		{name: "beta=-0 does not read C", m: 1, n: 1, k: 1, alpha: 1, beta: float32(math.Copysign(0, -1)),
			a: []float32{3}, b: []float32{4}, c: []float32{nan}, want: []float32{12}},
		{name: "m=0 leaves everything", m: 0, n: 2, k: 2, alpha: 1, beta: 0},
		{name: "n=0 leaves everything", m: 2, n: 0, k: 2, alpha: 1, beta: 0,
			c: []float32{nan}, want: []float32{nan}},
		{name: "single rows ignore their strides", m: 1, n: 2, k: 2, alpha: 1, beta: 0,
			lda: 1, ldc: 1, a: []float32{1, 2}, b: []float32{1, 2, 3, 4},
			c: []float32{nan, nan}, want: []float32{7, 10}},
	}
	forEachKernel(t, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := append([]float32(nil), tc.c...)
				lda, ldc := cmp.Or(tc.lda, max(tc.k, 1)), cmp.Or(tc.ldc, max(tc.n, 1))
				Sgemm(false, false, tc.m, tc.n, tc.k, tc.alpha, tc.a, lda, tc.b, max(tc.n, 1), tc.beta, c, ldc)
				for i := range tc.want {
					g, w := c[i], tc.want[i]
					if g != w && !(math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
						t.Errorf("C[%d] = %g, want %g", i, g, w)
					}
				}
			})
		}
	})
}

func TestSgemmPanicsOnBadArguments(t *testing.T) {
	x := make([]float32, 16)
	cases := []struct {
		name string
		call func()
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, x, 2, x, 2, 0, x, 2) }},
		{"lda too small", func() { Sgemm(false, false, 2, 2, 3, 1, x, 2, x, 2, 0, x, 2) }},
		{"ldc too small", func() { Sgemm(false, false, 2, 3, 2, 1, x, 2, x, 3, 0, x, 2) }},
		{"c too short", func() { Sgemm(false, false, 4, 4, 1, 1, x, 1, x, 4, 0, x[:15], 4) }},
		{"transposed a too short", func() { Sgemm(true, false, 4, 1, 4, 1, x[:15], 4, x, 1, 0, x, 1) }},
		{"transposed b too short", func() { Sgemm(false, true, 1, 4, 4, 1, x, 4, x[:15], 4, 0, x, 4) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Sgemm did not panic")
				}
			}()
			tc.call()
		})
	}
}

func TestSgemmDoesNotAllocate(t *testing.T) {
	defer SetThreads(0)
	splitSmall(t)
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name    string
		threads int
		m, n, k int
	}{
		{"tiny", 0, 3, 5, 2},
		{"large serial", 1, 300, 200, 300},
		{"large parallel", 2, 300, 200, 300},
		{"large many threads", 5, 300, 200, 300},
	}
	forEachKernel(t, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				SetThreads(tc.threads)
				a := randMatrix(r, tc.m*tc.k)
				b := randMatrix(r, tc.k*tc.n)
				c := make([]float32, tc.m*tc.n)
				f := func() { Sgemm(false, true, tc.m, tc.n, tc.k, 1, a, tc.k, b, tc.k, 0, c, tc.n) }
				f() // warm the workspaces and the worker pool
				if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
					t.Errorf("Sgemm allocated %v times per call", allocs)
				}
			})
		}
	})
}

func TestSetKernel(t *testing.T) {
	orig := Kernel()
	defer SetKernel(orig)
	if err := SetKernel("generic"); err != nil {
		t.Fatal(err)
	}
	if got := Kernel(); got != genericKernel.name {
		t.Errorf("Kernel() = %q after SetKernel(generic)", got)
	}
	if err := SetKernel("no-such-kernel"); err == nil {
		t.Error("SetKernel accepted an unknown name")
	}
	names := Kernels()
	if names[len(names)-1] != genericKernel.name {
		t.Errorf("Kernels() = %v, want the generic kernel last", names)
	}
}

// TestSgemmConcurrent runs products from several goroutines at once, each
// spread over the worker pool, and checks every result.
func TestSgemmConcurrent(t *testing.T) {
	defer SetThreads(0)
	splitSmall(t)
	SetThreads(3)
	cases := []gemmCase{
		{name: "nn", m: 200, n: 180, k: 150, alpha: 1},
		{name: "nt", transB: true, m: 130, n: 260, k: 90, alpha: 1, beta: 1},
		{name: "tn", transA: true, m: 250, n: 100, k: 120, alpha: 0.5, pad: 2},
		{name: "tt", transA: true, transB: true, m: 170, n: 170, k: 170, alpha: -1, beta: 0.25},
	}
	forEachKernel(t, func(t *testing.T) {
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 3; i++ {
					tc := cases[(g+i)%len(cases)]
					t.Run(fmt.Sprintf("goroutine%d/%s", g, tc.name), func(t *testing.T) {
						runCase(t, tc, uint64(g*10+i))
					})
				}
			}()
		}
		wg.Wait()
	})
}

func TestThreads(t *testing.T) {
	defer SetThreads(0)
	cases := []struct {
		name string
		set  int
		want int
	}{
		{"explicit", 3, 3},
		{"one", 1, 1},
		{"zero means GOMAXPROCS", 0, runtime.GOMAXPROCS(0)},
		{"negative means GOMAXPROCS", -2, runtime.GOMAXPROCS(0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			SetThreads(tc.set)
			if got := Threads(); got != tc.want {
				t.Errorf("Threads() = %d after SetThreads(%d), want %d", got, tc.set, tc.want)
			}
		})
	}
}

// TestSplit checks how products are cut over threads: small ones stay on
// one thread, and the grid follows the longer side of C.
func TestSplit(t *testing.T) {
	kn := &kernel{mr: 12, nr: 32, nc: 3072}
	cases := []struct {
		name           string
		m, n, k, nt    int
		minWork        int
		wantTM, wantTN int
	}{
		{"small stays serial", 64, 64, 64, 8, 1 << 21, 1, 1},
		{"one thread", 1024, 1024, 1024, 1, 1 << 21, 1, 1},
		{"tall splits rows", 4096, 256, 512, 2, 1 << 21, 2, 1},
		{"wide splits columns", 256, 50304, 768, 2, 1 << 21, 1, 2},
		{"threads capped by work", 128, 128, 256, 64, 1 << 21, 1, 2},
		{"parked workers need more work", 256, 256, 256, 2, 1 << 24, 1, 1},
		{"square on four", 1024, 1024, 1024, 4, 1 << 21, 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm, tn := split(kn, tc.m, tc.n, tc.k, tc.nt, tc.minWork)
			if tm != tc.wantTM || tn != tc.wantTN {
				t.Errorf("split(%d, %d, %d, %d threads) = %d×%d, want %d×%d", tc.m, tc.n, tc.k, tc.nt, tm, tn, tc.wantTM, tc.wantTN)
			}
		})
	}
}

func TestPeakGFLOPS(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a quarter of a second")
	}
	core := CorePeakGFLOPS()
	if core <= 0 || math.IsInf(core, 0) || math.IsNaN(core) {
		t.Fatalf("CorePeakGFLOPS() = %v", core)
	}
	// Every CPU this runs on does at least one fp32 flop per cycle at a few
	// hundred MHz, and none does more than 64 per cycle at 10 GHz.
	if core < 0.1 || core > 640 {
		t.Errorf("CorePeakGFLOPS() = %.1f, outside any plausible range", core)
	}
	t.Logf("core peak %.1f GFLOP/s, kernel %s", core, Kernel())
}

// TestEnvKernel starts the test binary again with SWELEGO_GEMM_KERNEL set
// and checks which kernel the fresh process picked at start-up.
func TestEnvKernel(t *testing.T) {
	if os.Getenv("GEMM_TEST_PRINT_KERNEL") == "1" {
		fmt.Println("kernel=" + Kernel())
		return
	}
	cases := []struct {
		name, env, want string
		warns           bool
	}{
		{"generic forces the fallback", "generic", "kernel=" + genericKernel.name, false},
		{"exact name", Kernels()[len(Kernels())-1], "kernel=" + genericKernel.name, false},
		{"unknown name keeps the default", "no-such-kernel", "kernel=" + Kernels()[0], true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestEnvKernel$")
			cmd.Env = append(os.Environ(), "GEMM_TEST_PRINT_KERNEL=1", EnvKernel+"="+tc.env)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.want+"\n") {
				t.Errorf("child printed %q, want %q", stdout.String(), tc.want)
			}
			if warned := strings.Contains(stderr.String(), EnvKernel); warned != tc.warns {
				t.Errorf("warning on stderr = %t, want %t (stderr %q)", warned, tc.warns, stderr.String())
			}
		})
	}
}
