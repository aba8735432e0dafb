// RMSNorm and cross-entropy: one block per row, block reductions.
#include "common.cuh"

extern "C" {

// out = in·rstd·w, rstd = 1/sqrt(mean(in²)+eps) saved per row.
__global__ void rmsnorm_fwd(float *out, float *rstd, const float *in, const float *w, int rows, int dim, float eps) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    const float *x = in + (long long)r * dim;
    float *o = out + (long long)r * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += x[i] * x[i];
    ss = block_sum(ss, scratch);
    float s = rsqrtf(ss / dim + eps);
    if (threadIdx.x == 0) rstd[r] = s;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = x[i] * s * w[i];
}

// The input gradient: with n = x·s, din += s·(dout·w − n·mean(dout·w·n)).
// One block per row; din may be null (then nothing is done).
__global__ void rmsnorm_bwd_in(float *din, const float *dout, const float *in, const float *w, const float *rstd,
                               int rows, int dim) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    const float *x = in + (long long)r * dim;
    const float *g = dout + (long long)r * dim;
    float s = rstd[r];
    float dot = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dot += g[i] * w[i] * x[i] * s;
    dot = block_sum(dot, scratch) / dim;
    float *dx = din + (long long)r * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dx[i] += s * (g[i] * w[i] - x[i] * s * dot);
}

// The weight gradient, first stage: part[chunk, c] = Σ dout[r, c]·in[r, c]·
// rstd[r] over the chunk's rows [chunk·per, (chunk+1)·per), one thread per
// column walking them in order; colsum_add then adds the chunks' partial
// sums into dw in chunk order, so the result does not depend on scheduling.
// Grid (ceil(dim/threads), chunks).
__global__ void rmsnorm_bwd_w_partial(float *part, const float *dout, const float *in, const float *rstd, int rows,
                                      int dim, int per) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= dim) return;
    int lo = blockIdx.y * per, hi = min(rows, lo + per);
    float acc = 0.0f;
    for (int r = lo; r < hi; r++) {
        long long i = (long long)r * dim + c;
        acc += dout[i] * in[i] * rstd[r];
    }
    part[(long long)blockIdx.y * dim + c] = acc;
}

// Weighted cross-entropy, one block per row:
//   loss[r] = w·scale·(logsumexp(x) − x[t]);
//   dlogits[r] = w·scale·(softmax(x) − onehot(t)) when dlogits is not null.
// Rows of weight 0 get loss 0 and zero gradient. dlogits may alias logits:
// every value is read (max, then sum) before the last pass writes it.
__global__ void cross_entropy(float *loss, float *dlogits, const float *logits, const int *targets,
                              const float *weights, int rows, int vocab, float scale) {
    __shared__ float scratch[32];
    __shared__ double scratch_d[32];
    int r = blockIdx.x;
    float w = weights[r];
    const float *x = logits + (long long)r * vocab;
    float *d = dlogits ? dlogits + (long long)r * vocab : 0;
    if (w == 0.0f) {
        if (threadIdx.x == 0) loss[r] = 0.0f;
        if (d)
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) d[i] = 0.0f;
        return;
    }
    float m = -INFINITY;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, x[i]);
    m = block_max(m, scratch);
    double sum = 0.0; // float64: a large vocabulary's sum loses digits in float32
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) sum += (double)expf(x[i] - m);
    sum = block_sum_d(sum, scratch_d);
    int t = targets[r];
    float xt = x[t];
    float ws = w * scale;
    if (threadIdx.x == 0) loss[r] = ws * (m + (float)log(sum) - xt);
    if (!d) return;
    __syncthreads(); // every thread has read x[t] before the row is overwritten
    float f = (float)((double)ws / sum);
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float p = expf(x[i] - m) * f;
        d[i] = i == t ? p - ws : p;
    }
}

} // extern "C"
