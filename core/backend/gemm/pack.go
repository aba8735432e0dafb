package gemm

// The packing routines copy a block of op(A) or op(B) into the contiguous
// layout the micro-kernel streams through, so the kernel's loads are
// sequential whatever the transposes and leading dimensions are. Rows or
// columns past the end of the matrix are written as zeros, which lets the
// kernel always compute a full tile.
//
// Packing a sliver is either a strided copy (each step p of the sliver is
// contiguous in memory: A transposed, B not) or a transpose (each row of
// the sliver is contiguous along p: A not transposed, B transposed). With
// fast set, transposes use the assembly routines where there are some.

// packA packs the mc×kc block of op(A) that starts at row ic and column pc
// into slivers of mr rows: element (i, p) of sliver s lands at
// dst[s·mr·kc + p·mr + i].
func packA(transA bool, a []float32, lda, ic, pc, mc, kc, mr int, dst []float32, fast bool) {
	if transA && mc >= 2*mr {
		// Step p of every sliver comes from the same stored row: read each
		// row once, left to right, and deal it out to the slivers.
		full := mc / mr * mr
		for p := 0; p < kc; p++ {
			deal(dst[p*mr:], kc*mr, a[(pc+p)*lda+ic:(pc+p)*lda+ic+full], mr)
		}
		if full < mc {
			copySteps(dst[full*kc:full*kc+mr*kc], mr, a[pc*lda+ic+full:], lda, mc-full, kc)
		}
		return
	}
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		d := dst[s*kc : s*kc+mr*kc]
		if transA {
			// op(A)(i, p) = a[p·lda + i]: step p is rows contiguous values.
			copySteps(d, mr, a[pc*lda+ic+s:], lda, rows, kc)
		} else {
			// op(A)(i, p) = a[i·lda + p]: row i is contiguous along p.
			gather(d, mr, a[(ic+s)*lda+pc:], lda, rows, kc, fast)
		}
	}
}

// packB packs the kc×nc block of op(B) that starts at row pc and column jc
// into slivers of nr columns: element (p, j) of sliver s lands at
// dst[s·nr·kc + p·nr + j].
func packB(transB bool, b []float32, ldb, pc, jc, kc, nc, nr int, dst []float32, fast bool) {
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		d := dst[s*kc : s*kc+nr*kc]
		if transB {
			// op(B)(p, j) = b[j·ldb + p]: column j is contiguous along p.
			gather(d, nr, b[(jc+s)*ldb+pc:], ldb, cols, kc, fast)
		} else {
			// op(B)(p, j) = b[p·ldb + j]: step p is cols contiguous values.
			copySteps(d, nr, b[pc*ldb+jc+s:], ldb, cols, kc)
		}
	}
}

// copySteps sets dst[p·w + i] = src[p·lds + i] for i < n and zero for
// n ≤ i < w, for every p < kc. The full-width cases copy fixed-size arrays,
// which the compiler turns into a few vector moves.
func copySteps(dst []float32, w int, src []float32, lds, n, kc int) {
	if n == w {
		switch w {
		case 4:
			for p := 0; p < kc; p++ {
				*(*[4]float32)(dst[p*4:]) = *(*[4]float32)(src[p*lds:])
			}
			return
		case 6:
			for p := 0; p < kc; p++ {
				*(*[6]float32)(dst[p*6:]) = *(*[6]float32)(src[p*lds:])
			}
			return
		case 8:
			for p := 0; p < kc; p++ {
				*(*[8]float32)(dst[p*8:]) = *(*[8]float32)(src[p*lds:])
			}
			return
		case 12:
			for p := 0; p < kc; p++ {
				*(*[12]float32)(dst[p*12:]) = *(*[12]float32)(src[p*lds:])
			}
			return
		case 16:
			for p := 0; p < kc; p++ {
				*(*[16]float32)(dst[p*16:]) = *(*[16]float32)(src[p*lds:])
			}
			return
		case 32:
			for p := 0; p < kc; p++ {
				*(*[32]float32)(dst[p*32:]) = *(*[32]float32)(src[p*lds:])
			}
			return
		}
	}
	for p := 0; p < kc; p++ {
		d := dst[p*w : p*w+w]
		copy(d, src[p*lds:p*lds+n])
		clear(d[n:])
	}
}

// gather sets dst[p·w + i] = src[i·lds + p] for i < rows and zero for
// rows ≤ i < w, for every p < kc: a transpose of rows×kc into w-wide steps.
func gather(dst []float32, w int, src []float32, lds, rows, kc int, fast bool) {
	done, cols := 0, 0
	if fast {
		done, cols = gatherAsm(dst, src, lds, rows, kc, w)
	}
	// What the assembly left: the last kc-cols steps of its rows, then the
	// remaining rows whole. Walk a cache line of each row at a time so the
	// hardware prefetcher follows all rows at once.
	const line = 16
	for i := 0; i < done; i++ {
		for p := cols; p < kc; p++ {
			dst[p*w+i] = src[i*lds+p]
		}
	}
	for p0 := 0; p0 < kc; p0 += line {
		p1 := min(p0+line, kc)
		for i := done; i < rows; i++ {
			row := src[i*lds+p0 : i*lds+p1]
			for p, v := range row {
				dst[(p0+p)*w+i] = v
			}
		}
	}
	for i := rows; i < w; i++ {
		for p := 0; p < kc; p++ {
			dst[p*w+i] = 0
		}
	}
}

// deal copies src, mr values at a time, to dst[0:mr], dst[stride:stride+mr],
// dst[2·stride:…] and so on.
func deal(dst []float32, stride int, src []float32, mr int) {
	n := len(src) / mr
	switch mr {
	case 4:
		for s := 0; s < n; s++ {
			*(*[4]float32)(dst[s*stride:]) = *(*[4]float32)(src[s*4:])
		}
	case 6:
		for s := 0; s < n; s++ {
			*(*[6]float32)(dst[s*stride:]) = *(*[6]float32)(src[s*6:])
		}
	case 12:
		for s := 0; s < n; s++ {
			*(*[12]float32)(dst[s*stride:]) = *(*[12]float32)(src[s*12:])
		}
	default:
		for s := 0; s < n; s++ {
			copy(dst[s*stride:s*stride+mr], src[s*mr:s*mr+mr])
		}
	}
}
