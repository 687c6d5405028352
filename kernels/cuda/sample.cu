/* SPDX-License-Identifier: MIT
 * One block per row: logits / temperature, top-k (drop what is strictly below the k-th value)
 * or top-p (sorted by value then index, fp32 softmax, cumulative in double, mask shifted by
 * one), then optionally the draw: first index whose double cumulative probability exceeds
 * cn_uniform(seed, stream + n, step). Same rules, same order, same uniform as kernels/cpu.
 */
#include <math.h>

#include "sample.cuh"

#define S_THREADS 1024

/* the device copy of backend.c's splitmix64 finaliser and cn_uniform */
__device__ __forceinline__ uint64_t s_mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__device__ __forceinline__ double s_uniform(uint64_t seed, uint64_t stream, uint64_t step)
{
    uint64_t h = s_mix64(s_mix64(s_mix64(seed) ^ stream) ^ step);
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

__device__ __forceinline__ double s_warp_scan_d(double v)
{
    int lane = threadIdx.x & 31;
    for (int o = 1; o < 32; o <<= 1) {
        double u = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += u;
    }
    return v;
}

/* in-place inclusive prefix sum of a[0..n) in shared memory; wtot holds 32 doubles */
__device__ void s_block_scan_d(double *a, int n, double *wtot)
{
    __syncthreads();   /* wtot may still be read by an earlier reduction */
    int per = CN_CEIL_DIV(n, (int)blockDim.x);
    int b = threadIdx.x * per, e = min(n, b + per);
    double s = 0;
    for (int i = b; i < e; i++) s += a[i];
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    double inc = s_warp_scan_d(s);
    if (lane == 31) wtot[w] = inc;
    __syncthreads();
    if (w == 0) {
        double t = lane < (int)(blockDim.x >> 5) ? wtot[lane] : 0.0;
        t = s_warp_scan_d(t);
        wtot[lane] = t;   /* inclusive over warps */
    }
    __syncthreads();
    double off = inc - s + (w > 0 ? wtot[w - 1] : 0.0);
    for (int i = b; i < e; i++) {
        off += a[i];
        a[i] = off;
    }
    __syncthreads();
}

__device__ double s_block_sum_d(double v, double *red)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

typedef struct s_args {
    const float *x;
    float *y;            /* filtered logits out, or NULL */
    int32_t *ids;        /* draws out, or NULL */
    int V, top_k;
    float temperature, top_p;
    uint64_t seed, stream, step;
    const int64_t *adv;
} s_args;

/* rank of entry j in descending (value, then index) order */
__device__ __forceinline__ int s_rank(const float *v, int V, int j)
{
    float x = v[j];
    int r = 0;
    for (int i = 0; i < V; i++) {
        float u = v[i];
        r += (u > x) || (u == x && i < j);
    }
    return r;
}

__device__ void s_top_p(float *vals, const int *rank, double *cum, int V, float top_p,
                        float *redf, double *redd)
{
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, vals[j]);
    mx = cn_block_max(mx, redf);
    float s = 0.f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(vals[j] - mx);
    float inv = 1.0f / cn_block_sum(s, redf);
    for (int j = threadIdx.x; j < V; j += blockDim.x)
        cum[rank[j]] = (double)(expf(vals[j] - mx) * inv);
    __syncthreads();
    s_block_scan_d(cum, V, redd);
    for (int j = threadIdx.x; j < V; j += blockDim.x)
        if (rank[j] > 0 && (float)cum[rank[j] - 1] > top_p) vals[j] = -INFINITY;
    __syncthreads();
}

__device__ void s_draw(const float *vals, double *cum, int V, double u, int32_t *out,
                       float *redf, double *redd, int *pick)
{
    float mxf = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) mxf = fmaxf(mxf, vals[j]);
    mxf = cn_block_max(mxf, redf);
    if (mxf == -INFINITY) {   /* everything removed: cannot happen; the CPU answers 0 */
        if (threadIdx.x == 0) *out = 0;
        return;
    }
    double mx = (double)mxf, s = 0;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += exp((double)vals[j] - mx);
    double sum = s_block_sum_d(s, redd);
    for (int j = threadIdx.x; j < V; j += blockDim.x)
        cum[j] = vals[j] == -INFINITY ? 0.0 : exp((double)vals[j] - mx) / sum;
    if (threadIdx.x == 0) { pick[0] = V; pick[1] = -1; }
    __syncthreads();
    s_block_scan_d(cum, V, redd);
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        if (vals[j] == -INFINITY) continue;
        atomicMax(&pick[1], j);
        if (cum[j] > u) atomicMin(&pick[0], j);
    }
    __syncthreads();
    if (threadIdx.x == 0) *out = pick[0] < V ? pick[0] : (pick[1] >= 0 ? pick[1] : 0);
}

__global__ void __launch_bounds__(S_THREADS) s_filter(s_args a)
{
    extern __shared__ double smd[];
    __shared__ float redf[32];
    __shared__ double redd[32];
    __shared__ int pick[2];
    __shared__ float kth;
    int V = a.V, n = blockIdx.x;
    double *cum = smd;                       /* V doubles */
    float *vals = (float *)(cum + V);        /* V floats */
    int *rank = (int *)(vals + V);           /* V ints */
    for (int j = threadIdx.x; j < V; j += blockDim.x) vals[j] = a.x[(int64_t)n * V + j] / a.temperature;
    __syncthreads();
    if (a.top_k > 0 || a.top_p > 0.f) {
        for (int j = threadIdx.x; j < V; j += blockDim.x) rank[j] = s_rank(vals, V, j);
        __syncthreads();
    }
    if (a.top_k > 0) {
        int k = min(a.top_k, V);
        for (int j = threadIdx.x; j < V; j += blockDim.x)
            if (rank[j] == k - 1) kth = vals[j];
        __syncthreads();
        float t = kth;
        for (int j = threadIdx.x; j < V; j += blockDim.x)
            if (vals[j] < t) vals[j] = -INFINITY;
        __syncthreads();
    } else if (a.top_p > 0.f) {
        s_top_p(vals, rank, cum, V, a.top_p, redf, redd);
    }
    if (a.y)
        for (int j = threadIdx.x; j < V; j += blockDim.x) a.y[(int64_t)n * V + j] = vals[j];
    if (a.ids == NULL) return;
    uint64_t step = a.step + (uint64_t)(a.adv ? *a.adv : 0);
    double u = s_uniform(a.seed, a.stream + (uint64_t)n, step);
    s_draw(vals, cum, V, u, a.ids + n, redf, redd, pick);
}

static int s_run(cn_cuda *cx, const char *op, const cn_tensor *x, float *y, int32_t *ids,
                 const cn_sample_desc *s)
{
    if (s == NULL) return cn_cuda_errf(cx, CN_EINVAL, "cuda: %s: no sample desc", op);
    if (!(s->temperature > 0.0f) || isinf(s->temperature))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: %s: temperature %g must be > 0 and finite", op,
                            (double)s->temperature);
    if (s->top_k < 0 || !(s->top_p >= 0.0f))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: %s: top_k %d and top_p %g must be >= 0", op,
                            s->top_k, (double)s->top_p);
    if (s->top_k > 0 && s->top_p > 0.0f)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: %s: top_k %d and top_p %g: at most one may be "
                            "set (the reference asserts this)", op, s->top_k, (double)s->top_p);
    int64_t V = x->ne[x->nd - 1], N = cn_nelem(x) / (V ? V : 1);
    size_t smem = (size_t)V * (8 + 4 + 4);
    if (V < 1 || smem > cx->smem_optin || N > INT32_MAX)
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: %s: vocabulary %lld; this kernel takes 1..%zu",
                            op, (long long)V, cx->smem_optin / 16);
    if (N == 0) return CN_OK;
    s_args a;
    a.x = (const float *)x->data;
    a.y = y;
    a.ids = ids;
    a.V = (int)V;
    a.top_k = s->top_k;
    a.temperature = s->temperature;
    a.top_p = s->top_p;
    a.seed = s->seed;
    a.stream = s->stream;
    a.step = s->step;
    a.adv = cn_cuda_adv(cx);
    CUDA_CHECK(cudaFuncSetAttribute(s_filter, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    (int)smem));
    s_filter<<<(unsigned)N, S_THREADS, smem, cx->stream>>>(a);
    CUDA_CHECK_LAUNCH("s_filter");
    return CN_OK;
}

int cn_cuda_filter_logits(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                          const cn_sample_desc *s)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (x->type != CN_F32 || y->type != CN_F32 || cn_nelem(y) != cn_nelem(x))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: filter_logits: x %s (%lld), y %s (%lld): both "
                            "f32, same size", cn_dtype_name(x->type), (long long)cn_nelem(x),
                            cn_dtype_name(y->type), (long long)cn_nelem(y));
    return s_run(cx, "filter_logits", x, (float *)y->data, NULL, s);
}

int cn_cuda_sample(cn_backend *be, cn_tensor *ids, cn_tensor *logits, const cn_sample_desc *s)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int64_t V = logits->ne[logits->nd - 1];
    if (logits->type != CN_F32 || ids->type != CN_I32 ||
        cn_nelem(ids) * (V ? V : 1) != cn_nelem(logits))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: sample: logits %s (%lld), ids %s (%lld): want "
                            "f32 logits and one i32 id per row", cn_dtype_name(logits->type),
                            (long long)cn_nelem(logits), cn_dtype_name(ids->type),
                            (long long)cn_nelem(ids));
    return s_run(cx, "sample", logits, NULL, (int32_t *)ids->data, s);
}
