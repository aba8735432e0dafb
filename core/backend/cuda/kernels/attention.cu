// Causal attention with packed-segment masks, FlashAttention-style: keys and
// values stream through shared memory in tiles of BC, each query row keeps a
// running maximum, a running sum and its output in registers (the online
// softmax), and the forward saves the log-sum-exp of every row so the
// backward recomputes the probabilities instead of storing them.
//
// Layout (as backend.Attn): Q is [B·T, H·D], K and V are [B·T, KV·D]; query
// head h reads key/value head h/(H/KV). Query t of a sequence sees keys p
// with start[t] ≤ p ≤ t (start null: 0 ≤ p ≤ t). lse and delta are
// [B, H, T]. D is at most DMAX.
//
// One warp computes one query row (or, in the key/value gradient, one key)
// at a time: lane j scores key j of the tile, the warp reduces with
// shuffles, and lane j keeps output dimensions j, j+32, j+64 and j+96.
#include "common.cuh"

#define DMAX 128
#define DPAD (DMAX + 1) // a padded row: lanes reading column d of rows 0..31 hit 32 banks
#define BC 32           // keys per tile (one per lane)
#define NWARPS 4
#define FWD_RPW 4                      // query rows per warp in the forward
#define FWD_ROWS (NWARPS * FWD_RPW)    // query rows per block in the forward
#define DQ_RPW 2                       // query rows per warp in the query gradient
#define DQ_ROWS (NWARPS * DQ_RPW)
#define KV_KPW 2                       // keys per warp in the key/value gradient
#define KV_KEYS (NWARPS * KV_KPW)
#define NC (DMAX / WARP)               // output dimensions per lane

// Loads rows [first, first+BC) of a [n, stride] matrix's D columns (from
// base) into a tile; rows at or past n are zero.
__device__ __forceinline__ void load_tile(float (*tile)[DPAD], const float *base, long long stride, int first, int n,
                                          int D) {
    for (int idx = threadIdx.x; idx < BC * D; idx += blockDim.x) {
        int j = idx / D, d = idx % D, p = first + j;
        tile[j][d] = p < n ? base[(long long)p * stride + d] : 0.0f;
    }
}

__device__ __forceinline__ float dot_row(const float *a, const float *b, int D) {
    float s = 0.0f;
    for (int d = 0; d < D; d++) s += a[d] * b[d];
    return s;
}

// attn_block runs the forward for FWD_ROWS query rows starting at r0 of a
// sequence of nrows rows whose first row is at position pos0: row i (at
// position pos0+i) sees positions [start[i] (0 when start is null),
// pos0+i]. q points at the sequence's first query row of this head, k and v
// at position 0's key and value of this head; lse (may be null) at the
// sequence's first row of this head.
__device__ void attn_block(float *out, float *lse, const float *q, const float *k, const float *v, long long qs,
                           long long ks, int nrows, int r0, const int *start, int pos0, float scale, int D) {
    __shared__ float kt[BC][DPAD];
    __shared__ float vt[BC][DPAD];
    __shared__ float qt[FWD_ROWS][DMAX];
    __shared__ int lo_s;
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    for (int idx = threadIdx.x; idx < FWD_ROWS * D; idx += blockDim.x) {
        int i = idx / D, d = idx % D, r = r0 + i;
        qt[i][d] = r < nrows ? q[(long long)r * qs + d] : 0.0f;
    }
    if (threadIdx.x == 0) {
        int lo = pos0 + r0;
        for (int i = 0; i < FWD_ROWS && r0 + i < nrows; i++) lo = min(lo, start ? start[r0 + i] : 0);
        lo_s = lo;
    }
    int st[FWD_RPW], pt[FWD_RPW];
    float m[FWD_RPW], l[FWD_RPW], acc[FWD_RPW][NC];
#pragma unroll
    for (int j = 0; j < FWD_RPW; j++) {
        int r = r0 + warp * FWD_RPW + j;
        pt[j] = r < nrows ? pos0 + r : -1; // -1: no row, sees nothing
        st[j] = r < nrows && start ? start[r] : 0;
        m[j] = -INFINITY;
        l[j] = 0.0f;
#pragma unroll
        for (int c = 0; c < NC; c++) acc[j][c] = 0.0f;
    }
    __syncthreads();
    int khi = pos0 + min(nrows, r0 + FWD_ROWS); // one past the last key any row sees
    for (int k0 = lo_s; k0 < khi; k0 += BC) {
        __syncthreads(); // the previous tile is no longer read
        load_tile(kt, k, ks, k0, khi, D);
        load_tile(vt, v, ks, k0, khi, D);
        __syncthreads();
#pragma unroll
        for (int j = 0; j < FWD_RPW; j++) {
            int key = k0 + lane;
            bool vis = key >= st[j] && key <= pt[j];
            float s = vis ? dot_row(qt[warp * FWD_RPW + j], kt[lane], D) * scale : -INFINITY;
            float mnew = fmaxf(m[j], warp_max(s));
            if (mnew == -INFINITY) continue; // nothing visible yet (the same for the whole warp)
            float p = vis ? expf(s - mnew) : 0.0f;
            float corr = expf(m[j] - mnew);
            l[j] = l[j] * corr + warp_sum(p);
            m[j] = mnew;
#pragma unroll
            for (int c = 0; c < NC; c++) acc[j][c] *= corr;
            for (int jj = 0; jj < BC; jj++) {
                float pj = __shfl_sync(FULL_MASK, p, jj);
#pragma unroll
                for (int c = 0; c < NC; c++) {
                    int d = lane + c * WARP;
                    if (d < D) acc[j][c] += pj * vt[jj][d];
                }
            }
        }
    }
#pragma unroll
    for (int j = 0; j < FWD_RPW; j++) {
        int r = r0 + warp * FWD_RPW + j;
        if (r >= nrows) continue;
        float inv = 1.0f / l[j];
#pragma unroll
        for (int c = 0; c < NC; c++) {
            int d = lane + c * WARP;
            if (d < D) out[(long long)r * qs + d] = acc[j][c] * inv;
        }
        if (lse && lane == 0) lse[r] = m[j] + logf(l[j]);
    }
}

extern "C" {

// Grid (ceil(T/FWD_ROWS), H, B), NWARPS·32 threads.
__global__ void attn_fwd(float *out, float *lse, const float *q, const float *k, const float *v, const int *start,
                         int T, int H, int KV, int D, float scale) {
    int b = blockIdx.z, h = blockIdx.y, kvh = h / (H / KV);
    long long qs = (long long)H * D, ks = (long long)KV * D;
    long long qoff = (long long)b * T * qs + (long long)h * D, koff = (long long)b * T * ks + (long long)kvh * D;
    attn_block(out + qoff, lse + ((long long)b * H + h) * T, q + qoff, k + koff, v + koff, qs, ks, T,
               blockIdx.x * FWD_ROWS, start ? start + (long long)b * T : 0, 0, scale, D);
}

// One span of cached attention: query rows row … row+n-1 are positions
// pos … pos+n-1 of the sequence whose keys and values k and v hold.
// Grid (ceil(n/FWD_ROWS), H), NWARPS·32 threads.
__global__ void attn_kv(float *out, const float *q, const float *k, const float *v, int row, int n, int pos, int H,
                        int KV, int D, float scale) {
    int h = blockIdx.y, kvh = h / (H / KV);
    long long qs = (long long)H * D, ks = (long long)KV * D;
    long long qoff = (long long)row * qs + (long long)h * D;
    attn_block(out + qoff, 0, q + qoff, k + (long long)kvh * D, v + (long long)kvh * D, qs, ks, n,
               blockIdx.x * FWD_ROWS, 0, pos, scale, D);
}

// delta[b, h, t] = Σ_d dout·out over the row's head: one warp per (row,
// head), grid-stride over B·T·H warps.
__global__ void attn_bwd_delta(float *delta, const float *dout, const float *out, int B, int T, int H, int D) {
    int lane = threadIdx.x % WARP;
    long long warps = (long long)gridDim.x * blockDim.x / WARP;
    for (long long w = (blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP; w < (long long)B * T * H; w += warps) {
        long long bt = w / H;
        int h = w % H;
        const float *o = out + bt * H * D + (long long)h * D;
        const float *g = dout + bt * H * D + (long long)h * D;
        float s = 0.0f;
        for (int d = lane; d < D; d += WARP) s += o[d] * g[d];
        s = warp_sum(s);
        if (lane == 0) {
            long long b = bt / T, t = bt % T;
            delta[(b * H + h) * T + t] = s;
        }
    }
}

// The query gradient: for each row and visible key, p = exp(s − lse),
// ds = p·(dout·v − delta), dq += scale·Σ ds·k. Grid (ceil(T/DQ_ROWS), H, B).
__global__ void attn_bwd_dq(float *dq, const float *dout, const float *lse, const float *delta, const float *q,
                            const float *k, const float *v, const int *start, int T, int H, int KV, int D,
                            float scale) {
    __shared__ float kt[BC][DPAD];
    __shared__ float vt[BC][DPAD];
    __shared__ float qt[DQ_ROWS][DMAX];
    __shared__ float gt[DQ_ROWS][DMAX];
    __shared__ int lo_s;
    int b = blockIdx.z, h = blockIdx.y, kvh = h / (H / KV), r0 = blockIdx.x * DQ_ROWS;
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    long long qs = (long long)H * D, ks = (long long)KV * D;
    long long qoff = (long long)b * T * qs + (long long)h * D, koff = (long long)b * T * ks + (long long)kvh * D;
    const int *st_b = start ? start + (long long)b * T : 0;
    const float *lse_b = lse + ((long long)b * H + h) * T, *delta_b = delta + ((long long)b * H + h) * T;
    for (int idx = threadIdx.x; idx < DQ_ROWS * D; idx += blockDim.x) {
        int i = idx / D, d = idx % D, r = r0 + i;
        qt[i][d] = r < T ? q[qoff + (long long)r * qs + d] : 0.0f;
        gt[i][d] = r < T ? dout[qoff + (long long)r * qs + d] : 0.0f;
    }
    if (threadIdx.x == 0) {
        int lo = r0;
        for (int i = 0; i < DQ_ROWS && r0 + i < T; i++) lo = min(lo, st_b ? st_b[r0 + i] : 0);
        lo_s = lo;
    }
    int st[DQ_RPW], pt[DQ_RPW];
    float rl[DQ_RPW], rd[DQ_RPW], acc[DQ_RPW][NC];
#pragma unroll
    for (int j = 0; j < DQ_RPW; j++) {
        int r = r0 + warp * DQ_RPW + j;
        pt[j] = r < T ? r : -1;
        st[j] = r < T && st_b ? st_b[r] : 0;
        rl[j] = r < T ? lse_b[r] : 0.0f;
        rd[j] = r < T ? delta_b[r] : 0.0f;
#pragma unroll
        for (int c = 0; c < NC; c++) acc[j][c] = 0.0f;
    }
    __syncthreads();
    int khi = min(T, r0 + DQ_ROWS);
    for (int k0 = lo_s; k0 < khi; k0 += BC) {
        __syncthreads();
        load_tile(kt, k + koff, ks, k0, khi, D);
        load_tile(vt, v + koff, ks, k0, khi, D);
        __syncthreads();
#pragma unroll
        for (int j = 0; j < DQ_RPW; j++) {
            int key = k0 + lane, i = warp * DQ_RPW + j;
            bool vis = key >= st[j] && key <= pt[j];
            float ds = 0.0f;
            if (vis) {
                float p = expf(dot_row(qt[i], kt[lane], D) * scale - rl[j]);
                ds = p * (dot_row(gt[i], vt[lane], D) - rd[j]);
            }
            for (int jj = 0; jj < BC; jj++) {
                float dsj = __shfl_sync(FULL_MASK, ds, jj);
#pragma unroll
                for (int c = 0; c < NC; c++) {
                    int d = lane + c * WARP;
                    if (d < D) acc[j][c] += dsj * kt[jj][d];
                }
            }
        }
    }
#pragma unroll
    for (int j = 0; j < DQ_RPW; j++) {
        int r = r0 + warp * DQ_RPW + j;
        if (r >= T) continue;
#pragma unroll
        for (int c = 0; c < NC; c++) {
            int d = lane + c * WARP;
            if (d < D) dq[qoff + (long long)r * qs + d] += scale * acc[j][c];
        }
    }
}

// The key and value gradients of KV_KEYS keys of one key/value head: every
// query head of its group and every query row that may see them, in tiles
// of BC rows (lane i scores row i of the tile against the warp's key):
// dv += Σ p·dout, dk += scale·Σ ds·q. A block owns its keys' gradients, so
// nothing races. Grid (ceil(T/KV_KEYS), KV, B).
__global__ void attn_bwd_dkdv(float *dk, float *dv, const float *dout, const float *lse, const float *delta,
                              const float *q, const float *k, const float *v, const int *start, int T, int H, int KV,
                              int D, float scale) {
    __shared__ float qt[BC][DPAD];
    __shared__ float gt[BC][DPAD];
    __shared__ float kk[KV_KEYS][DMAX];
    __shared__ float vv[KV_KEYS][DMAX];
    __shared__ float tl[BC], td[BC];
    __shared__ int ts[BC];
    int b = blockIdx.z, kvh = blockIdx.y, k0 = blockIdx.x * KV_KEYS, group = H / KV;
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    long long qs = (long long)H * D, ks = (long long)KV * D;
    long long koff = (long long)b * T * ks + (long long)kvh * D;
    const int *st_b = start ? start + (long long)b * T : 0;
    int k1 = min(T, k0 + KV_KEYS);
    for (int idx = threadIdx.x; idx < KV_KEYS * D; idx += blockDim.x) {
        int i = idx / D, d = idx % D, p = k0 + i;
        kk[i][d] = p < T ? k[koff + (long long)p * ks + d] : 0.0f;
        vv[i][d] = p < T ? v[koff + (long long)p * ks + d] : 0.0f;
    }
    float adk[KV_KPW][NC], adv[KV_KPW][NC];
#pragma unroll
    for (int j = 0; j < KV_KPW; j++)
#pragma unroll
        for (int c = 0; c < NC; c++) adk[j][c] = adv[j][c] = 0.0f;
    for (int h = kvh * group; h < (kvh + 1) * group; h++) {
        long long qoff = (long long)b * T * qs + (long long)h * D;
        const float *lse_b = lse + ((long long)b * H + h) * T, *delta_b = delta + ((long long)b * H + h) * T;
        for (int r0 = k0; r0 < T; r0 += BC) { // rows before k0 see none of these keys (causal)
            __syncthreads();
            int r = r0 + lane;
            // Skip a tile of rows none of which sees any of the block's keys.
            bool any = r < T && (st_b ? st_b[r] : 0) < k1;
            if (!__syncthreads_or(any)) continue;
            load_tile(qt, q + qoff, qs, r0, T, D);
            load_tile(gt, dout + qoff, qs, r0, T, D);
            if (threadIdx.x < BC) {
                int rr = r0 + threadIdx.x;
                tl[threadIdx.x] = rr < T ? lse_b[rr] : 0.0f;
                td[threadIdx.x] = rr < T ? delta_b[rr] : 0.0f;
                ts[threadIdx.x] = rr < T ? (st_b ? st_b[rr] : 0) : T; // T: a missing row sees nothing
            }
            __syncthreads();
#pragma unroll
            for (int j = 0; j < KV_KPW; j++) {
                int i = warp * KV_KPW + j, key = k0 + i;
                bool vis = key < T && r < T && key >= ts[lane] && key <= r;
                float p = 0.0f, ds = 0.0f;
                if (vis) {
                    p = expf(dot_row(qt[lane], kk[i], D) * scale - tl[lane]);
                    ds = p * (dot_row(gt[lane], vv[i], D) - td[lane]);
                }
                for (int ii = 0; ii < BC; ii++) {
                    float pi = __shfl_sync(FULL_MASK, p, ii), dsi = __shfl_sync(FULL_MASK, ds, ii);
#pragma unroll
                    for (int c = 0; c < NC; c++) {
                        int d = lane + c * WARP;
                        if (d < D) {
                            adv[j][c] += pi * gt[ii][d];
                            adk[j][c] += dsi * qt[ii][d];
                        }
                    }
                }
            }
        }
    }
#pragma unroll
    for (int j = 0; j < KV_KPW; j++) {
        int key = k0 + warp * KV_KPW + j;
        if (key >= T) continue;
#pragma unroll
        for (int c = 0; c < NC; c++) {
            int d = lane + c * WARP;
            if (d < D) {
                dk[koff + (long long)key * ks + d] += scale * adk[j][c];
                dv[koff + (long long)key * ks + d] += adv[j][c];
            }
        }
    }
}

} // extern "C"
