package gemm

import "sync"

// workspace holds the packing buffers of one thread of work. Workspaces are
// kept on a free list that the garbage collector never empties, so a
// training loop that calls Sgemm over and over allocates nothing.
type workspace struct {
	a    []float32 // packed block of op(A): mc×kc
	b    []float32 // packed block of op(B): kc×nc
	tile []float32 // one mr×nr tile for the edges of C
}

var spaces struct {
	mu   sync.Mutex
	free []*workspace
}

// getWorkspace returns a workspace large enough for kernel kn.
func getWorkspace(kn *kernel) *workspace {
	spaces.mu.Lock()
	var w *workspace
	if n := len(spaces.free); n > 0 {
		w = spaces.free[n-1]
		spaces.free = spaces.free[:n-1]
	}
	spaces.mu.Unlock()
	if w == nil {
		w = new(workspace)
	}
	w.fit(kn)
	return w
}

func putWorkspace(w *workspace) {
	spaces.mu.Lock()
	spaces.free = append(spaces.free, w)
	spaces.mu.Unlock()
}

func (w *workspace) fit(kn *kernel) {
	if n := roundUp(kn.mc, kn.mr) * kn.kc; len(w.a) < n {
		w.a = make([]float32, n)
	}
	if n := kn.kc * roundUp(kn.nc, kn.nr); len(w.b) < n {
		w.b = make([]float32, n)
	}
	if n := kn.mr * kn.nr; len(w.tile) < n {
		w.tile = make([]float32, n)
	}
}

// blockSize splits total into the fewest blocks of at most max and returns
// the size of each, rounded up to a multiple of unit, so the last block is
// not a sliver.
func blockSize(total, max, unit int) int {
	nb := (total + max - 1) / max
	return min(max, roundUp((total+nb-1)/nb, unit))
}

func roundUp(x, unit int) int { return (x + unit - 1) / unit * unit }

// gemm runs the blocked algorithm on one thread: C = alpha·op(A)·op(B) +
// beta·C with m, n, k > 0 and alpha ≠ 0. The loops follow Goto's scheme:
// columns of C in blocks of nc (the packed B block lives in L3), the depth in
// blocks of kc, rows in blocks of mc (the packed A block lives in L2), then
// the micro-kernel over nr-wide B slivers (in L1) and mr-high A slivers.
func (w *workspace) gemm(kn *kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := kn.mr, kn.nr
	ncb := blockSize(n, kn.nc, nr)
	kcb := blockSize(k, kn.kc, 1)
	mcb := blockSize(m, kn.mc, mr)
	fn := kn.fn
	if beta == 0 {
		beta = 0 // turn -0 into +0: the kernels test the bits
	}
	for jc := 0; jc < n; jc += ncb {
		nc := min(ncb, n-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			packB(transB, b, ldb, pc, jc, kc, nc, nr, w.b, kn.asmPack)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := 0; ic < m; ic += mcb {
				mc := min(mcb, m-ic)
				packA(transA, a, lda, ic, pc, mc, kc, mr, w.a, kn.asmPack)
				for jr := 0; jr < nc; jr += nr {
					ncols := min(nr, nc-jr)
					bp := &w.b[jr*kc]
					for ir := 0; ir < mc; ir += mr {
						nrows := min(mr, mc-ir)
						ap := &w.a[ir*kc]
						ci := (ic+ir)*ldc + jc + jr
						if nrows == mr && ncols == nr {
							fn(kc, ap, bp, &c[ci], ldc, alpha, bet)
							continue
						}
						fn(kc, ap, bp, &w.tile[0], nr, alpha, 0)
						mergeTile(c[ci:], ldc, w.tile, nr, nrows, ncols, bet)
					}
				}
			}
		}
	}
}

// mergeTile writes the top-left rows×cols of a computed tile into C:
// c = t + beta·c, without reading c when beta is 0.
func mergeTile(c []float32, ldc int, t []float32, ldt, rows, cols int, beta float32) {
	for i := 0; i < rows; i++ {
		cr := c[i*ldc : i*ldc+cols]
		tr := t[i*ldt : i*ldt+cols]
		if beta == 0 {
			copy(cr, tr)
			continue
		}
		for j, v := range tr {
			cr[j] = v + beta*cr[j]
		}
	}
}
