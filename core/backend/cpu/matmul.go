package cpu

import (
	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/gemm"
)

// MatMul multiplies at most matvecRows rows by a weight of at least
// matvecWeight values as dot products rather than with the packed GEMM:
// for the one or two rows of a decoding step, packing a weight that does
// not fit the caches would move it through memory three times instead of
// once (twice the decode rate of the 124M config). Small weights stay
// with the GEMM's vector kernels.
const (
	matvecRows   = 2
	matvecWeight = 1 << 18
)

// matvecJob computes out[r, j] = in[r]·w[j] (+ bias[j]) for a range of
// output columns j.
type matvecJob struct {
	out, in, w, bias    []float32
	rows, inDim, outDim int
}

func (j *matvecJob) run(_, lo, hi int) {
	k := j.inDim
	for c := lo; c < hi; c++ {
		wr := j.w[c*k : (c+1)*k]
		for r := range j.rows {
			v := dot(j.in[r*k:(r+1)*k], wr)
			if j.bias != nil {
				v += j.bias[c]
			}
			j.out[r*j.outDim+c] = v
		}
	}
}

// dot is Σ a[i]·b[i] with eight running sums.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// MatMul implements backend.Backend: out = in·wᵀ (+ bias).
func (b *Backend) MatMul(out, in, w, bias backend.Tensor, rows, inDim, outDim int) {
	o := Data(out)
	if rows <= matvecRows && rows > 0 && inDim*outDim >= matvecWeight {
		var bs []float32
		if bias != nil {
			bs = Data(bias)[:outDim]
		}
		b.matvec = matvecJob{out: o[:rows*outDim], in: Data(in)[:rows*inDim], w: Data(w)[:outDim*inDim], bias: bs,
			rows: rows, inDim: inDim, outDim: outDim}
		b.pool.parallel(outDim, max(1, 16384/inDim), &b.matvec)
		return
	}
	gemm.Sgemm(false, true, rows, outDim, inDim, 1, Data(in), inDim, Data(w), inDim, 0, o, outDim)
	if bias != nil {
		bs := Data(bias)[:outDim]
		for r := 0; r < rows; r++ {
			row := o[r*outDim : (r+1)*outDim]
			for i := range row {
				row[i] += bs[i]
			}
		}
	}
}

// colsumJob adds the column sums of a [rows, cols] matrix to dst, split by
// columns.
type colsumJob struct {
	dst, m     []float32
	rows, cols int
}

func (j *colsumJob) run(_, lo, hi int) {
	d := j.dst[lo:hi]
	for r := 0; r < j.rows; r++ {
		row := j.m[r*j.cols+lo : r*j.cols+hi]
		for i := range d {
			d[i] += row[i]
		}
	}
}

// MatMulBackward implements backend.Backend:
// din += dout·w, dw += doutᵀ·in, dbias += Σ_rows dout.
func (b *Backend) MatMulBackward(din, dw, dbias, dout, in, w backend.Tensor, rows, inDim, outDim int) {
	g := Data(dout)
	if din != nil {
		gemm.Sgemm(false, false, rows, inDim, outDim, 1, g, outDim, Data(w), inDim, 1, Data(din), inDim)
	}
	gemm.Sgemm(true, false, outDim, inDim, rows, 1, g, outDim, Data(in), inDim, 1, Data(dw), inDim)
	if dbias != nil {
		b.colsum = colsumJob{Data(dbias), g, rows, outDim}
		b.pool.parallel(outDim, 64, &b.colsum)
	}
}
