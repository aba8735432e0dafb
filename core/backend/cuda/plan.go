package cuda

// What the Go side of the backend computes before it launches work, kept
// out of the cuda build so the default build's tests can check it: the
// cuBLAS calls that carry out the row-major matrix multiplies of
// backend.Backend, and the launch geometry of the kernels.

// Tile sizes of kernels/attention.cu (a test reads them from the source).
const (
	attnWarps   = 4  // NWARPS
	attnBC      = 32 // BC: keys per tile
	attnFwdRows = 16 // FWD_ROWS: query rows per block of attn_fwd and attn_kv
	attnDQRows  = 8  // DQ_ROWS: query rows per block of attn_bwd_dq
	attnKVKeys  = 8  // KV_KEYS: keys per block of attn_bwd_dkdv
)

// Threads per block of the element-wise and row kernels.
const blockThreads = 256

// operand names a tensor of a matrix multiply.
type operand int

const (
	opIn operand = iota
	opW
	opOut
	opDout
	opDin
	opDw
)

// gemmCall is one column-major GEMM as cuBLAS defines it:
// C(m×n) = op(A)·op(B) + beta·C, op(X) = Xᵀ when trans is set, where a
// column-major X with leading dimension ld is a row-major matrix read as its
// transpose. Alpha is always 1.
type gemmCall struct {
	transA, transB bool
	m, n, k        int
	a, b, c        operand
	lda, ldb, ldc  int
	beta           float32
}

// A row-major [r, c] matrix is, to cuBLAS, the column-major c×r matrix of
// its transpose; so the row-major product C = A·B is the column-major
// product Cᵀ = Bᵀ·Aᵀ, operands swapped.

// matmulCall: out[rows, outDim] = in[rows, inDim]·w[outDim, inDim]ᵀ, that
// is outᵀ = w·inᵀ: w's column-major view (inDim×outDim) transposed, times
// in's view (inDim×rows).
func matmulCall(rows, inDim, outDim int) gemmCall {
	return gemmCall{transA: true, m: outDim, n: rows, k: inDim, a: opW, b: opIn, c: opOut,
		lda: inDim, ldb: inDim, ldc: outDim}
}

// dinCall: din[rows, inDim] += dout[rows, outDim]·w[outDim, inDim], that is
// dinᵀ += wᵀ·doutᵀ, both views as they are.
func dinCall(rows, inDim, outDim int) gemmCall {
	return gemmCall{m: inDim, n: rows, k: outDim, a: opW, b: opDout, c: opDin,
		lda: inDim, ldb: outDim, ldc: inDim, beta: 1}
}

// dwCall: dw[outDim, inDim] += dout[rows, outDim]ᵀ·in[rows, inDim], that is
// dwᵀ += inᵀ·dout: in's view as it is, dout's view (outDim×rows)
// transposed.
func dwCall(rows, inDim, outDim int) gemmCall {
	return gemmCall{transB: true, m: inDim, n: outDim, k: rows, a: opIn, b: opDout, c: opDw,
		lda: inDim, ldb: outDim, ldc: inDim, beta: 1}
}

// gridFor is the number of blocks of blockThreads threads for a
// grid-stride loop over n elements, capped so a huge n reuses threads.
func gridFor(n int64) int {
	g := (n + blockThreads - 1) / blockThreads
	return int(max(1, min(g, 65535)))
}

// colChunks splits rows into chunks of per rows for a two-stage column
// sum: enough chunks to fill a GPU when the columns are few, each long
// enough to amortise its partial row.
func colChunks(rows int) (chunks, per int) {
	per = max(32, ceilDiv(rows, 256))
	return ceilDiv(rows, per), per
}

// embBuckets is how many buckets of ids (id mod embBuckets) embedding_bwd
// spreads over the grid's second dimension.
const embBuckets = 32

// ceilDiv is ⌈a/b⌉.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// sumsqBlocks is how many partial sums SumSquares reduces n values into,
// and per the values each covers.
func sumsqBlocks(n int64) (blocks int, per int64) {
	const maxBlocks = 1024
	per = max(blockThreads, (n+maxBlocks-1)/maxBlocks)
	return int(max(1, (n+per-1)/per)), per
}

// kernelParams is every kernel's parameter list as its PTX declares it
// (u64: a pointer or a long long, u32: an int, f32: a float). A test checks
// it against the committed PTX; launch checks each call's arguments
// against it, so a signature that drifts fails at once, not with garbage.
var kernelParams = map[string]string{
	"add_f32":               "u64 u64 u64 u64",
	"scale_f32":             "u64 f32 u64",
	"bias_add_rows":         "u64 u64 u64 u32",
	"colsum_add":            "u64 u64 u32 u32",
	"swiglu_fwd":            "u64 u64 u64 u64",
	"swiglu_bwd":            "u64 u64 u64 u64 u64 u64",
	"embedding_fwd":         "u64 u64 u64 u32 u32",
	"embedding_bwd":         "u64 u64 u64 u32 u32",
	"rope":                  "u64 u64 u64 u64 u32 u32 u32 u32",
	"f32_to_bf16":           "u64 u64 u64",
	"sumsq_partial":         "u64 u64 u64 u64",
	"adamw":                 "u64 u64 u64 u64 u64 f32 f32 f32 f32 f32 f32 f32 f32",
	"rmsnorm_fwd":           "u64 u64 u64 u64 u32 u32 f32",
	"rmsnorm_bwd_in":        "u64 u64 u64 u64 u64 u32 u32",
	"rmsnorm_bwd_w_partial": "u64 u64 u64 u64 u32 u32 u32",
	"colsum_partial":        "u64 u64 u32 u32 u32",
	"cross_entropy":         "u64 u64 u64 u64 u64 u32 u32 f32",
	"attn_fwd":              "u64 u64 u64 u64 u64 u64 u32 u32 u32 u32 f32",
	"attn_kv":               "u64 u64 u64 u64 u32 u32 u32 u32 u32 u32 f32",
	"attn_bwd_delta":        "u64 u64 u64 u32 u32 u32 u32",
	"attn_bwd_dq":           "u64 u64 u64 u64 u64 u64 u64 u64 u32 u32 u32 u32 f32",
	"attn_bwd_dkdv":         "u64 u64 u64 u64 u64 u64 u64 u64 u64 u32 u32 u32 u32 f32",
}
