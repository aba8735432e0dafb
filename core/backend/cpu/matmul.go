package cpu

import (
	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/backend/gemm"
)

// MatMul implements backend.Backend: out = in·wᵀ (+ bias).
func (b *Backend) MatMul(out, in, w, bias backend.Tensor, rows, inDim, outDim int) {
	o := Data(out)
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
