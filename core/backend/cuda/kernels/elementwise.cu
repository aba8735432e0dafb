// Element-wise and row-wise kernels of the cuda backend: the same arithmetic,
// in the same order where a sum is involved, as the cpu backend's.
#include <cuda_bf16.h>
#include "common.cuh"

// Grid-stride loop over n elements.
#define FOR_N(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

extern "C" {

// out = a + b (out may alias a or b).
__global__ void add_f32(float *out, const float *a, const float *b, long long n) {
    FOR_N(i, n) out[i] = a[i] + b[i];
}

// x *= s.
__global__ void scale_f32(float *x, float s, long long n) {
    FOR_N(i, n) x[i] *= s;
}

// out[r, c] += bias[c] over rows·cols values.
__global__ void bias_add_rows(float *out, const float *bias, long long rows, int cols) {
    FOR_N(i, rows * cols) out[i] += bias[i % cols];
}

// dbias[c] += Σ_r dout[r, c]: one thread per column, rows in order, so the
// result does not depend on scheduling.
__global__ void colsum_add(float *dbias, const float *dout, int rows, int cols) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; r++) s += dout[(long long)r * cols + c];
    dbias[c] += s;
}

// part[chunk, c] = Σ x[r, c] over the chunk's rows [chunk·per,
// (chunk+1)·per): the first stage of a column sum over many rows (the
// second is colsum_add over the chunks). Grid (ceil(cols/threads), chunks).
__global__ void colsum_partial(float *part, const float *x, int rows, int cols, int per) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    int lo = blockIdx.y * per, hi = min(rows, lo + per);
    float s = 0.0f;
    for (int r = lo; r < hi; r++) s += x[(long long)r * cols + c];
    part[(long long)blockIdx.y * cols + c] = s;
}

// out = silu(gate)·up.
__global__ void swiglu_fwd(float *out, const float *gate, const float *up, long long n) {
    FOR_N(i, n) {
        float x = gate[i];
        out[i] = x / (1.0f + expf(-x)) * up[i];
    }
}

// dup += dout·silu(gate); dgate += dout·up·σ·(1 + gate·(1−σ)).
__global__ void swiglu_bwd(float *dgate, float *dup, const float *dout, const float *gate, const float *up, long long n) {
    FOR_N(i, n) {
        float x = gate[i];
        float sig = 1.0f / (1.0f + expf(-x));
        float g = dout[i];
        dup[i] += g * x * sig;
        dgate[i] += g * up[i] * sig * (1.0f + x * (1.0f - sig));
    }
}

// out[r] = table[ids[r]] for rows of dim values.
__global__ void embedding_fwd(float *out, const float *table, const int *ids, int rows, int dim) {
    FOR_N(i, (long long)rows * dim) {
        long long r = i / dim;
        int c = i % dim;
        out[i] = table[(long long)ids[r] * dim + c];
    }
}

// dtable[ids[r]] += dout[r]: one thread per column and bucket of ids
// (id mod gridDim.y) walks the rows in order and adds those of its bucket,
// so rows sharing an id never race and each id's sum is in the cpu's order.
// Grid (ceil(dim/threads), buckets).
__global__ void embedding_bwd(float *dtable, const float *dout, const int *ids, int rows, int dim) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= dim) return;
    for (int r = 0; r < rows; r++) {
        int id = ids[r];
        if (id % gridDim.y != blockIdx.y) continue;
        dtable[(long long)id * dim + c] += dout[(long long)r * dim + c];
    }
}

// RoPE in the "rotate half" layout: thread per (row, head, i < half).
// cos and sin are [rows, half]. Forward: out = rotate(in); backward:
// din += rotate⁻¹(dout). out may alias in (each pair is read before it is
// written, by the one thread that owns it).
__global__ void rope(float *out, const float *in, const float *cosv, const float *sinv, int rows, int heads,
                     int head_dim, int backward) {
    int half = head_dim / 2;
    FOR_N(i, (long long)rows * heads * half) {
        int k = i % half;
        long long rh = i / half; // row·heads + head
        long long r = rh / heads;
        long long base = rh * head_dim;
        float c = cosv[r * half + k], s = sinv[r * half + k];
        float a = in[base + k], b = in[base + k + half];
        if (!backward) {
            out[base + k] = a * c - b * s;
            out[base + k + half] = b * c + a * s;
        } else {
            out[base + k] += a * c + b * s;
            out[base + k + half] += b * c - a * s;
        }
    }
}

// Rounds n floats to bfloat16 (round to nearest even) for a bf16 GEMM.
__global__ void f32_to_bf16(__nv_bfloat16 *out, const float *in, long long n) {
    FOR_N(i, n) out[i] = __float2bfloat16_rn(in[i]);
}

// partial[block] = Σ x[i]² over the block's fixed slice [block·per,
// (block+1)·per) in float64; the host adds the partials in order, so the
// sum does not depend on scheduling.
__global__ void sumsq_partial(double *partial, const float *x, long long n, long long per) {
    __shared__ double scratch[32];
    long long lo = blockIdx.x * per, hi = min(n, lo + per);
    double s = 0.0;
    for (long long i = lo + threadIdx.x; i < hi; i += blockDim.x) {
        double v = x[i];
        s += v * v;
    }
    s = block_sum_d(s, scratch);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// One AdamW step with decoupled weight decay:
//   g' = g·gscale; m = β1·m + (1−β1)·g'; v = β2·v + (1−β2)·g'²;
//   p = p·(1 − lr·wd) − (lr/bias1)·m / (sqrt(v)/sqrt(bias2) + eps).
__global__ void adamw(float *p, const float *g, float *m, float *v, long long n, float lr, float beta1, float beta2,
                      float eps, float wd, float bias1, float bias2, float gscale) {
    float decay = 1.0f - lr * wd;
    float step = lr / bias1;
    float rb2 = 1.0f / sqrtf(bias2);
    FOR_N(i, n) {
        float gi = g[i] * gscale;
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step * mi / (sqrtf(vi) * rb2 + eps);
    }
}

} // extern "C"
