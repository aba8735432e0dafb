//go:build cuda

package cuda

import (
	"embed"
	"fmt"
	"math"
	"runtime"
	"strings"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/swelego/swelego/core/backend"
)

// Built says whether this binary has the CUDA backend.
const Built = true

//go:embed kernels/ptx/*.ptx
var ptxFiles embed.FS

// modules are the kernel sources, kernels/NAME.cu, each a PTX module.
var modules = []string{"attention", "elementwise", "norm"}

// Tensor is a cuda tensor: n float32 values in device memory.
type Tensor struct {
	ptr cu.DevicePtr
	n   int
}

// Len implements backend.Tensor.
func (t *Tensor) Len() int { return t.n }

func dev(t backend.Tensor) *Tensor {
	ct, ok := t.(*Tensor)
	if !ok {
		panic(fmt.Sprintf("cuda: tensor of type %T is not a cuda tensor", t))
	}
	return ct
}

// ptr is t's device address, 0 for nil (an optional output the kernel skips).
func ptr(t backend.Tensor) cu.DevicePtr {
	if t == nil {
		return 0
	}
	return dev(t).ptr
}

// buffer is device scratch memory grown on demand.
type buffer struct {
	ptr   cu.DevicePtr
	bytes int64
}

// Backend is the cuda implementation of backend.Backend. Work is issued on
// the default stream in call order; Download, SumSquares and Close wait
// for it. Every method makes the backend's context current on a locked OS
// thread first, so any goroutine may drive it (one at a time).
type Backend struct {
	device cu.Device
	ctx    cu.CUContext
	blas   *cublasHandle
	prec   int
	name   string
	fn     map[string]cu.Function
	allocs []cu.DevicePtr

	ids, targets, weights, start, partial, delta, bfA, bfB, colPart buffer
	hostPartial                                                     []float64
}

var _ backend.Backend = (*Backend)(nil)

// Open makes a backend on device o.Device: its primary context, cuBLAS and
// the kernels' PTX for the device's architecture (sm_90 for compute
// capability 9.x and up, sm_80 for 8.x; older GPUs are refused: bf16 needs
// sm_80).
func Open(o Options) (Device, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: count devices: %w", err)
	}
	if o.Device >= n {
		return nil, fmt.Errorf("cuda: device %d: this machine has %d", o.Device, n)
	}
	d, err := cu.GetDevice(o.Device)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", o.Device, err)
	}
	major, minor, err := d.ComputeCapability()
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", o.Device, err)
	}
	if major < 8 {
		return nil, fmt.Errorf("cuda: device %d has compute capability %d.%d; the kernels need 8.0 or newer", o.Device, major, minor)
	}
	name, _ := d.Name()
	ctx, err := d.RetainPrimaryCtx()
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: context: %w", o.Device, err)
	}
	if err := cu.SetCurrentContext(ctx); err != nil {
		d.ReleasePrimaryCtx()
		return nil, fmt.Errorf("cuda: device %d: context: %w", o.Device, err)
	}
	b := &Backend{device: d, ctx: ctx, name: name, fn: map[string]cu.Function{}}
	switch o.Precision {
	case TF32:
		b.prec = gemmTF32
	case BF16:
		b.prec = gemmBF16
	}
	if err := b.load(major); err != nil {
		d.ReleasePrimaryCtx()
		return nil, err
	}
	if b.blas, err = newCublas(); err != nil {
		d.ReleasePrimaryCtx()
		return nil, fmt.Errorf("cuda: device %d: %w", o.Device, err)
	}
	return b, nil
}

// load reads every module's PTX for the architecture and looks up its
// kernels.
func (b *Backend) load(major int) error {
	arch := "sm_80"
	if major >= 9 {
		arch = "sm_90"
	}
	for _, m := range modules {
		src, err := ptxFiles.ReadFile("kernels/ptx/" + m + "." + arch + ".ptx")
		if err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		mod, err := cu.LoadData(string(src))
		if err != nil {
			return fmt.Errorf("cuda: load %s.%s.ptx: %w", m, arch, err)
		}
		for _, name := range kernelNames(string(src)) {
			f, err := mod.Function(name)
			if err != nil {
				return fmt.Errorf("cuda: kernel %s: %w", name, err)
			}
			b.fn[name] = f
		}
	}
	return nil
}

// DeviceName is the GPU's name as the driver reports it.
func (b *Backend) DeviceName() string { return b.name }

// Close frees every tensor and scratch buffer and releases the context.
func (b *Backend) Close() {
	b.enter()
	defer b.leave()
	cu.Synchronize()
	for _, p := range b.allocs {
		cu.MemFree(p)
	}
	b.allocs = nil
	for _, buf := range []*buffer{&b.ids, &b.targets, &b.weights, &b.start, &b.partial, &b.delta, &b.bfA, &b.bfB, &b.colPart} {
		if buf.ptr != 0 {
			cu.MemFree(buf.ptr)
		}
		*buf = buffer{}
	}
	b.blas.close()
	b.device.ReleasePrimaryCtx()
}

func (b *Backend) enter() {
	runtime.LockOSThread()
	if err := cu.SetCurrentContext(b.ctx); err != nil {
		runtime.UnlockOSThread()
		panic(fmt.Sprintf("cuda: set context: %v", err))
	}
}

func (b *Backend) leave() { runtime.UnlockOSThread() }

// must panics on a failed driver call: backend.Backend's ops have no error
// result, and a failed launch leaves the context unusable anyway.
func must(what string, err error) {
	if err != nil {
		panic(fmt.Sprintf("cuda: %s: %v", what, err))
	}
}

// grow makes buf hold at least bytes.
func grow(buf *buffer, bytes int64) cu.DevicePtr {
	if buf.bytes < bytes {
		if buf.ptr != 0 {
			must("free", cu.MemFree(buf.ptr))
		}
		p, err := cu.MemAlloc(bytes)
		must(fmt.Sprintf("alloc %d bytes", bytes), err)
		*buf = buffer{ptr: p, bytes: bytes}
	}
	return buf.ptr
}

// uploadInts copies a host slice into buf; nil for an empty slice.
func uploadInts(buf *buffer, x []int32) cu.DevicePtr {
	if len(x) == 0 {
		return 0
	}
	p := grow(buf, int64(len(x))*4)
	must("copy to device", cu.MemcpyHtoD(p, unsafe.Pointer(&x[0]), int64(len(x))*4))
	return p
}

func uploadFloats(buf *buffer, x []float32) cu.DevicePtr {
	if len(x) == 0 {
		return 0
	}
	p := grow(buf, int64(len(x))*4)
	must("copy to device", cu.MemcpyHtoD(p, unsafe.Pointer(&x[0]), int64(len(x))*4))
	return p
}

// launch runs kernel name on a grid of blocks. Each argument is passed in
// an 8-byte slot, as cu's Launch copies them: device pointers and int64 as
// they are, int as its low 32 bits (so also right for a long long of the
// same value), float32 as its bits.
func (b *Backend) launch(name string, grid [3]int, threads int, args ...any) {
	f, ok := b.fn[name]
	if !ok {
		panic("cuda: no kernel " + name)
	}
	want := strings.Fields(kernelParams[name])
	if len(want) != len(args) {
		panic(fmt.Sprintf("cuda: kernel %s takes %d arguments, given %d", name, len(want), len(args)))
	}
	vals := make([]uint64, len(args))
	ptrs := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		kind := "u64"
		switch v := a.(type) {
		case cu.DevicePtr:
			vals[i] = uint64(v)
		case int:
			vals[i], kind = uint64(int64(v)), "u32"
		case int64:
			vals[i] = uint64(v)
		case float32:
			vals[i], kind = uint64(math.Float32bits(v)), "f32"
		default:
			panic(fmt.Sprintf("cuda: kernel %s: argument %d of type %T", name, i, a))
		}
		if kind != want[i] {
			panic(fmt.Sprintf("cuda: kernel %s: argument %d is %s, given %T", name, i, want[i], a))
		}
		ptrs[i] = unsafe.Pointer(&vals[i])
	}
	must("launch "+name, f.Launch(grid[0], grid[1], grid[2], threads, 1, 1, 0, cu.Stream{}, ptrs))
}

// flat is a one-dimensional grid for a grid-stride loop over n elements.
func flat(n int64) [3]int { return [3]int{gridFor(n), 1, 1} }

// Name implements backend.Backend.
func (b *Backend) Name() string { return "cuda" }

// New implements backend.Backend.
func (b *Backend) New(n int) backend.Tensor {
	if n == 0 {
		return &Tensor{}
	}
	b.enter()
	defer b.leave()
	p, err := cu.MemAlloc(int64(n) * 4)
	must(fmt.Sprintf("alloc %d floats", n), err)
	must("zero", cu.MemsetD32(p, 0, int64(n)))
	b.allocs = append(b.allocs, p)
	return &Tensor{ptr: p, n: n}
}

// View implements backend.Backend.
func (b *Backend) View(t backend.Tensor, off, n int) backend.Tensor {
	d := dev(t)
	if off < 0 || n < 0 || off+n > d.n {
		panic(fmt.Sprintf("cuda: view [%d, %d) of a tensor of %d", off, off+n, d.n))
	}
	return &Tensor{ptr: d.ptr + cu.DevicePtr(off*4), n: n}
}

// Upload implements backend.Backend.
func (b *Backend) Upload(dst backend.Tensor, src []float32) {
	if len(src) == 0 {
		return
	}
	d := dev(dst)
	if len(src) > d.n {
		panic(fmt.Sprintf("cuda: upload %d floats into %d", len(src), d.n))
	}
	b.enter()
	defer b.leave()
	must("upload", cu.MemcpyHtoD(d.ptr, unsafe.Pointer(&src[0]), int64(len(src))*4))
}

// Download implements backend.Backend.
func (b *Backend) Download(dst []float32, src backend.Tensor) {
	if len(dst) == 0 {
		return
	}
	s := dev(src)
	if len(dst) > s.n {
		panic(fmt.Sprintf("cuda: download %d floats from %d", len(dst), s.n))
	}
	b.enter()
	defer b.leave()
	must("download", cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), s.ptr, int64(len(dst))*4))
}

// Zero implements backend.Backend.
func (b *Backend) Zero(t backend.Tensor) {
	d := dev(t)
	if d.n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	must("zero", cu.MemsetD32(d.ptr, 0, int64(d.n)))
}

// Copy implements backend.Backend: min(len(dst), len(src)) values, as copy.
func (b *Backend) Copy(dst, src backend.Tensor) {
	d, s := dev(dst), dev(src)
	n := min(d.n, s.n)
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	must("copy", cu.MemcpyDtoD(d.ptr, s.ptr, int64(n)*4))
}

// Add implements backend.Backend.
func (b *Backend) Add(out, x, y backend.Tensor) {
	n := int64(dev(out).n)
	b.enter()
	defer b.leave()
	b.launch("add_f32", flat(n), blockThreads, ptr(out), ptr(x), ptr(y), n)
}

// Scale implements backend.Backend.
func (b *Backend) Scale(t backend.Tensor, s float32) {
	n := int64(dev(t).n)
	b.enter()
	defer b.leave()
	b.launch("scale_f32", flat(n), blockThreads, ptr(t), s, n)
}

// SumSquares implements backend.Backend: float64 partial sums over fixed
// slices, added here in order.
func (b *Backend) SumSquares(t backend.Tensor) float64 {
	n := int64(dev(t).n)
	if n == 0 {
		return 0
	}
	blocks, per := sumsqBlocks(n)
	b.enter()
	defer b.leave()
	p := grow(&b.partial, int64(blocks)*8)
	b.launch("sumsq_partial", [3]int{blocks, 1, 1}, blockThreads, p, ptr(t), n, per)
	if cap(b.hostPartial) < blocks {
		b.hostPartial = make([]float64, blocks)
	}
	h := b.hostPartial[:blocks]
	must("download", cu.MemcpyDtoH(unsafe.Pointer(&h[0]), p, int64(blocks)*8))
	var s float64
	for _, v := range h {
		s += v
	}
	return s
}

// Embedding implements backend.Backend.
func (b *Backend) Embedding(out, table backend.Tensor, ids []int32, dim int) {
	if len(ids) == 0 {
		return
	}
	b.enter()
	defer b.leave()
	p := uploadInts(&b.ids, ids)
	b.launch("embedding_fwd", flat(int64(len(ids))*int64(dim)), blockThreads, ptr(out), ptr(table), p, len(ids), dim)
}

// EmbeddingBackward implements backend.Backend.
func (b *Backend) EmbeddingBackward(dtable, dout backend.Tensor, ids []int32, dim int) {
	if len(ids) == 0 {
		return
	}
	b.enter()
	defer b.leave()
	p := uploadInts(&b.ids, ids)
	b.launch("embedding_bwd", [3]int{ceilDiv(dim, blockThreads), embBuckets, 1}, blockThreads, ptr(dtable), ptr(dout), p, len(ids), dim)
}

// operandLen is how many values of operand o a matrix multiply reads.
func operandLen(o operand, rows, inDim, outDim int) int64 {
	switch o {
	case opW, opDw:
		return int64(outDim) * int64(inDim)
	case opIn, opDin:
		return int64(rows) * int64(inDim)
	}
	return int64(rows) * int64(outDim)
}

// gemm runs g, the operands named by g.a and g.b found in ts; with bf16
// precision they are rounded into bf16 scratch first.
func (b *Backend) gemm(g gemmCall, ts map[operand]backend.Tensor, rows, inDim, outDim int) {
	a, x := ptr(ts[g.a]), ptr(ts[g.b])
	if b.prec == gemmBF16 {
		na, nx := operandLen(g.a, rows, inDim, outDim), operandLen(g.b, rows, inDim, outDim)
		pa, px := grow(&b.bfA, na*2), grow(&b.bfB, nx*2)
		b.launch("f32_to_bf16", flat(na), blockThreads, pa, a, na)
		b.launch("f32_to_bf16", flat(nx), blockThreads, px, x, nx)
		a, x = pa, px
	}
	must("gemm", b.blas.gemm(g, uintptr(a), uintptr(x), uintptr(ptr(ts[g.c])), b.prec))
}

// MatMul implements backend.Backend.
func (b *Backend) MatMul(out, in, w, bias backend.Tensor, rows, inDim, outDim int) {
	if rows == 0 {
		return
	}
	b.enter()
	defer b.leave()
	b.gemm(matmulCall(rows, inDim, outDim), map[operand]backend.Tensor{opIn: in, opW: w, opOut: out}, rows, inDim, outDim)
	if bias != nil {
		b.launch("bias_add_rows", flat(int64(rows)*int64(outDim)), blockThreads, ptr(out), ptr(bias), int64(rows), outDim)
	}
}

// MatMulBackward implements backend.Backend.
func (b *Backend) MatMulBackward(din, dw, dbias, dout, in, w backend.Tensor, rows, inDim, outDim int) {
	if rows == 0 {
		return
	}
	b.enter()
	defer b.leave()
	ts := map[operand]backend.Tensor{opIn: in, opW: w, opDout: dout, opDin: din, opDw: dw}
	if din != nil {
		b.gemm(dinCall(rows, inDim, outDim), ts, rows, inDim, outDim)
	}
	b.gemm(dwCall(rows, inDim, outDim), ts, rows, inDim, outDim)
	if dbias != nil {
		chunks, per := colChunks(rows)
		part := grow(&b.colPart, int64(chunks)*int64(outDim)*4)
		b.launch("colsum_partial", [3]int{ceilDiv(outDim, blockThreads), chunks, 1}, blockThreads, part, ptr(dout), rows, outDim, per)
		b.launch("colsum_add", [3]int{ceilDiv(outDim, blockThreads), 1, 1}, blockThreads, ptr(dbias), part, chunks, outDim)
	}
}

// RMSNorm implements backend.Backend.
func (b *Backend) RMSNorm(out, rstd, in, w backend.Tensor, rows, dim int, eps float32) {
	if rows == 0 {
		return
	}
	b.enter()
	defer b.leave()
	b.launch("rmsnorm_fwd", [3]int{rows, 1, 1}, blockThreads, ptr(out), ptr(rstd), ptr(in), ptr(w), rows, dim, eps)
}

// RMSNormBackward implements backend.Backend.
func (b *Backend) RMSNormBackward(din, dw, dout, in, w, rstd backend.Tensor, rows, dim int) {
	if rows == 0 {
		return
	}
	b.enter()
	defer b.leave()
	if din != nil {
		b.launch("rmsnorm_bwd_in", [3]int{rows, 1, 1}, blockThreads, ptr(din), ptr(dout), ptr(in), ptr(w), ptr(rstd), rows, dim)
	}
	chunks, per := colChunks(rows)
	part := grow(&b.colPart, int64(chunks)*int64(dim)*4)
	b.launch("rmsnorm_bwd_w_partial", [3]int{ceilDiv(dim, blockThreads), chunks, 1}, blockThreads,
		part, ptr(dout), ptr(in), ptr(rstd), rows, dim, per)
	b.launch("colsum_add", [3]int{ceilDiv(dim, blockThreads), 1, 1}, blockThreads, ptr(dw), part, chunks, dim)
}

// RoPE implements backend.Backend.
func (b *Backend) RoPE(out, in, cos, sin backend.Tensor, rows, heads, headDim int) {
	b.rope(out, in, cos, sin, rows, heads, headDim, 0)
}

// RoPEBackward implements backend.Backend.
func (b *Backend) RoPEBackward(din, dout, cos, sin backend.Tensor, rows, heads, headDim int) {
	b.rope(din, dout, cos, sin, rows, heads, headDim, 1)
}

func (b *Backend) rope(out, in, cos, sin backend.Tensor, rows, heads, headDim, backward int) {
	n := int64(rows) * int64(heads) * int64(headDim/2)
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	b.launch("rope", flat(n), blockThreads, ptr(out), ptr(in), ptr(cos), ptr(sin), rows, heads, headDim, backward)
}

func checkAttn(heads, kvHeads, headDim int) {
	if headDim > MaxHeadDim || headDim < 1 {
		panic(fmt.Sprintf("cuda: attention head of %d values; the kernels take 1 to %d", headDim, MaxHeadDim))
	}
	if kvHeads < 1 || heads%kvHeads != 0 {
		panic(fmt.Sprintf("cuda: %d query heads do not split into %d key/value groups", heads, kvHeads))
	}
}

// Attention implements backend.Backend.
func (b *Backend) Attention(out, lse, q, k, v backend.Tensor, a backend.Attn) {
	checkAttn(a.Heads, a.KVHeads, a.HeadDim)
	if a.Batch*a.Seq == 0 {
		return
	}
	b.enter()
	defer b.leave()
	st := uploadInts(&b.start, a.Start)
	b.launch("attn_fwd", [3]int{ceilDiv(a.Seq, attnFwdRows), a.Heads, a.Batch}, attnWarps*32,
		ptr(out), ptr(lse), ptr(q), ptr(k), ptr(v), st, a.Seq, a.Heads, a.KVHeads, a.HeadDim, a.Scale)
}

// AttentionBackward implements backend.Backend: delta = rowsum(dout⊙out),
// then the query gradient per block of query rows and the key and value
// gradients per block of keys, each recomputing the probabilities from lse.
func (b *Backend) AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v backend.Tensor, a backend.Attn) {
	checkAttn(a.Heads, a.KVHeads, a.HeadDim)
	if a.Batch*a.Seq == 0 {
		return
	}
	b.enter()
	defer b.leave()
	st := uploadInts(&b.start, a.Start)
	rows := int64(a.Batch) * int64(a.Seq) * int64(a.Heads)
	delta := grow(&b.delta, rows*4)
	b.launch("attn_bwd_delta", flat(rows*32), blockThreads, delta, ptr(dout), ptr(out), a.Batch, a.Seq, a.Heads, a.HeadDim)
	b.launch("attn_bwd_dq", [3]int{ceilDiv(a.Seq, attnDQRows), a.Heads, a.Batch}, attnWarps*32,
		ptr(dq), ptr(dout), ptr(lse), delta, ptr(q), ptr(k), ptr(v), st, a.Seq, a.Heads, a.KVHeads, a.HeadDim, a.Scale)
	b.launch("attn_bwd_dkdv", [3]int{ceilDiv(a.Seq, attnKVKeys), a.KVHeads, a.Batch}, attnWarps*32,
		ptr(dk), ptr(dv), ptr(dout), ptr(lse), delta, ptr(q), ptr(k), ptr(v), st, a.Seq, a.Heads, a.KVHeads, a.HeadDim, a.Scale)
}

// AttentionKV implements backend.Backend: one launch per span.
func (b *Backend) AttentionKV(out, q backend.Tensor, a backend.AttnKV) {
	checkAttn(a.Heads, a.KVHeads, a.HeadDim)
	b.enter()
	defer b.leave()
	for _, sp := range a.Spans {
		if sp.N == 0 {
			continue
		}
		b.launch("attn_kv", [3]int{ceilDiv(sp.N, attnFwdRows), a.Heads, 1}, attnWarps*32,
			ptr(out), ptr(q), ptr(sp.K), ptr(sp.V), sp.Row, sp.N, sp.Pos, a.Heads, a.KVHeads, a.HeadDim, a.Scale)
	}
}

// SwiGLU implements backend.Backend.
func (b *Backend) SwiGLU(out, gate, up backend.Tensor, n int) {
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	b.launch("swiglu_fwd", flat(int64(n)), blockThreads, ptr(out), ptr(gate), ptr(up), int64(n))
}

// SwiGLUBackward implements backend.Backend.
func (b *Backend) SwiGLUBackward(dgate, dup, dout, gate, up backend.Tensor, n int) {
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	b.launch("swiglu_bwd", flat(int64(n)), blockThreads, ptr(dgate), ptr(dup), ptr(dout), ptr(gate), ptr(up), int64(n))
}

// CrossEntropy implements backend.Backend.
func (b *Backend) CrossEntropy(loss, dlogits, logits backend.Tensor, targets []int32, weights []float32, rows, vocab int, scale float32) {
	if rows == 0 {
		return
	}
	b.enter()
	defer b.leave()
	tp := uploadInts(&b.targets, targets[:rows])
	wp := uploadFloats(&b.weights, weights[:rows])
	b.launch("cross_entropy", [3]int{rows, 1, 1}, 512, ptr(loss), ptr(dlogits), ptr(logits), tp, wp, rows, vocab, scale)
}

// AdamWStep implements backend.Backend.
func (b *Backend) AdamWStep(p, g, m, v backend.Tensor, h backend.AdamW) {
	n := int64(dev(p).n)
	if n == 0 {
		return
	}
	b.enter()
	defer b.leave()
	b.launch("adamw", flat(n), blockThreads, ptr(p), ptr(g), ptr(m), ptr(v), n,
		h.LR, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.Bias1, h.Bias2, h.GradScale)
}
