//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func transpose8(dst *float32, ldd int, src *float32, lds int, n int)

//go:noescape
func transpose4(dst *float32, ldd int, src *float32, lds int, n int)

//go:noescape
func transpose2(dst *float32, ldd int, src *float32, lds int, n int)

var haveAVX = cpu.X86.HasAVX

// gatherAsm transposes the leading rows of a gather (see gather) eight
// columns at a time and returns how many rows and columns it covered: rows
// [0, rows) and columns [0, cols) are done; the rest is left to Go.
func gatherAsm(dst, src []float32, lds, rows, kc, w int) (done, cols int) {
	cols = kc &^ 7
	if !haveAVX || cols == 0 || rows < 2 {
		return 0, 0
	}
	// The assembly reads src[i·lds + p] and writes dst[p·w + i] for
	// i < done, p < cols: check the corners once here.
	_ = src[(rows-1)*lds+cols-1]
	_ = dst[(cols-1)*w+rows-1]
	i := 0
	for ; i+8 <= rows; i += 8 {
		transpose8(&dst[i], w, &src[i*lds], lds, cols)
	}
	for ; i+4 <= rows; i += 4 {
		transpose4(&dst[i], w, &src[i*lds], lds, cols)
	}
	for ; i+2 <= rows; i += 2 {
		transpose2(&dst[i], w, &src[i*lds], lds, cols)
	}
	return i, cols
}
