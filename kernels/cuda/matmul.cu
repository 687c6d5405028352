/* SPDX-License-Identifier: MIT
 * Matmul: for M <= gemv_max_m (decode steps: one row per item) split-K kernels that read each
 * weight once at memory bandwidth with fp32 x and fp32 accumulation; for larger M cuBLAS
 * GemmEx with x cast to the weight dtype (f32 weights: plain fp32 GEMM, no TF32). Never syncs.
 */
#include "matmul.cuh"

#include "attention.cuh"
#include "eltwise.cuh"

#define S_GEMV_THREADS 128
#define S_GEMV_SMEM (32 * 1024)

template <typename T, int VEC>
struct alignas(sizeof(T) * VEC) s_vec {
    T v[VEC];
};

/* x (M, K) rows [k0, k1) into xs[MM][KC], zero rows m >= M and columns past k1 */
template <int MM>
__device__ __forceinline__ void s_load_x(float *xs, const float *x, int M, int K, int k0, int kc)
{
    for (int i = threadIdx.x; i < MM * kc; i += blockDim.x) {
        int m = i / kc, k = i - m * kc;
        xs[i] = (m < M && k0 + k < K) ? x[(int64_t)m * K + k0 + k] : 0.f;
    }
    __syncthreads();
}

/* What the finishing pass does besides y = beta*y + acc + b (matmul_gelu, matmul_kv_store). */
typedef struct s_epi {
    int gelu;                /* y = gelu_quick(y), as s_gelu_quick computes it */
    float *k, *v;            /* not NULL: kv_store of columns [k_col, +S) and [v_col, +S) */
    int len, k_col, v_col, S, pos0, k_stride;
    const int64_t *adv;      /* replay position advance, or NULL */
} s_epi;

/* Where the split partials go and how the last block of a column block finishes them. */
typedef struct s_fin {
    float *y;
    const float *bias;       /* f32 or NULL */
    float beta;
    unsigned *counters;      /* one per column block, zero between calls; NULL: reduce later */
    s_epi e;
} s_fin;

/* The epilogue of output (m, n) of value val (already the final y). */
__device__ __forceinline__ void s_epilogue_kv(const s_epi &e, int m, int n, float val)
{
    int col = n - e.k_col;
    float *dst = e.k;
    if (col < 0 || col >= e.S) {
        col = n - e.v_col;
        dst = e.v;
        if (col < 0 || col >= e.S) return;
    }
    int item = m / e.len, r = m - item * e.len;
    int64_t pos = e.pos0 + r + (e.adv ? *e.adv : 0);
    if (pos < 0 || pos >= e.k_stride) return;
    dst[((int64_t)item * e.k_stride + pos) * e.S + col] = val;
}

/* Called by every thread of a block after its partials for columns [c0, c1) are written:
 * the last of the `splits` blocks of this column block sums them in split order (so the
 * result does not depend on timing), adds bias and beta*y, and re-arms the counter. */
/* sum over p < splits of part[p * stride] in split order, S_SUM_BATCH loads in flight */
#define S_SUM_BATCH 8
__device__ __forceinline__ float s_split_sum(const float *part, int64_t stride, int splits)
{
    float acc = 0.f;
    for (int p = 0; p < splits; p += S_SUM_BATCH) {
        float t[S_SUM_BATCH];
#pragma unroll
        for (int u = 0; u < S_SUM_BATCH; u++)
            t[u] = p + u < splits ? __ldcg(part + (int64_t)(p + u) * stride) : 0.f;
#pragma unroll
        for (int u = 0; u < S_SUM_BATCH; u++)
            if (p + u < splits) acc += t[u];
    }
    return acc;
}

__device__ __forceinline__ void s_finish(const s_fin &f, const float *part, int M, int N,
                                         int splits, int c0, int c1)
{
    __shared__ int last;
    if (f.counters == NULL) return;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) last = atomicAdd(&f.counters[blockIdx.x], 1u) == (unsigned)(splits - 1);
    __syncthreads();
    if (!last) return;
    __threadfence();
    int w = c1 - c0;
    for (int i = threadIdx.x; i < M * w; i += blockDim.x) {
        int m = i / w, n = c0 + (i - m * w);
        float acc = s_split_sum(part + (int64_t)m * N + n, (int64_t)M * N, splits);
        if (f.bias) acc += f.bias[n];
        float *yp = f.y + (int64_t)m * N + n;
        float val = f.beta != 0.f ? f.beta * *yp + acc : acc;
        if (f.e.gelu) val = val / (1.0f + expf(-1.702f * val));
        *yp = val;
        if (f.e.k) s_epilogue_kv(f.e, m, n, val);
    }
    if (threadIdx.x == 0) f.counters[blockIdx.x] = 0;
}

#define S_UNROLL 8

/* W (K, N): a block owns 32*VEC adjacent columns and a K chunk; its 8 warps take every 8th
 * row of the chunk (lane = VEC columns, 8-byte or 16-byte loads, S_UNROLL rows in flight),
 * then add their partial sums through shared memory; grid (column blocks, K splits) */
#define S_IO_THREADS 256
#define S_IO_WARPS (S_IO_THREADS / 32)
template <typename T, int MM, int VEC>
__global__ void __launch_bounds__(S_IO_THREADS)
s_gemv_in_out(float *part, const float *x, const T *w, int M, int K, int N, int kc, s_fin f)
{
    extern __shared__ float sm[];
    float *xs = sm, *red = sm + MM * kc;   /* red: [warp][MM][32*VEC] */
    const int cols = 32 * VEC;
    int k0 = blockIdx.y * kc;
    s_load_x<MM>(xs, x, M, K, k0, kc);
    int kn = min(kc, K - k0);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int c0 = blockIdx.x * cols, n0 = c0 + lane * VEC;
    float acc[MM][VEC];
#pragma unroll
    for (int m = 0; m < MM; m++)
#pragma unroll
        for (int v = 0; v < VEC; v++) acc[m][v] = 0.f;
    if (n0 < N) {
        const T *wp = w + (int64_t)k0 * N + n0;
        int k = warp;
        for (; k + S_IO_WARPS * (S_UNROLL - 1) < kn; k += S_IO_WARPS * S_UNROLL) {
            s_vec<T, VEC> r[S_UNROLL];
#pragma unroll
            for (int u = 0; u < S_UNROLL; u++)
                r[u] = *(const s_vec<T, VEC> *)(wp + (int64_t)(k + u * S_IO_WARPS) * N);
#pragma unroll
            for (int u = 0; u < S_UNROLL; u++)
#pragma unroll
                for (int m = 0; m < MM; m++) {
                    float xv = xs[m * kc + k + u * S_IO_WARPS];
#pragma unroll
                    for (int v = 0; v < VEC; v++) acc[m][v] += xv * cn_ld(r[u].v, v);
                }
        }
        for (; k < kn; k += S_IO_WARPS) {
            s_vec<T, VEC> r = *(const s_vec<T, VEC> *)(wp + (int64_t)k * N);
#pragma unroll
            for (int m = 0; m < MM; m++) {
                float xv = xs[m * kc + k];
#pragma unroll
                for (int v = 0; v < VEC; v++) acc[m][v] += xv * cn_ld(r.v, v);
            }
        }
    }
#pragma unroll
    for (int m = 0; m < MM; m++)
#pragma unroll
        for (int v = 0; v < VEC; v++) red[(warp * MM + m) * cols + lane * VEC + v] = acc[m][v];
    __syncthreads();
    float *pp = part + (int64_t)blockIdx.y * M * N;
    for (int i = threadIdx.x; i < M * cols; i += S_IO_THREADS) {
        int m = i / cols, c = i - m * cols;
        if (c0 + c >= N) continue;
        float sum = 0.f;
#pragma unroll
        for (int ww = 0; ww < S_IO_WARPS; ww++) sum += red[(ww * MM + m) * cols + c];
        pp[(int64_t)m * N + c0 + c] = sum;
    }
    s_finish(f, part, M, N, gridDim.y, c0, min(N, c0 + cols));
}

/* W (N, K): each warp owns S_ROWS rows, lanes stride over K by VEC; grid (row blocks, splits) */
#define S_ROWS 4
template <typename T, int MM, int VEC>
__global__ void __launch_bounds__(S_GEMV_THREADS)
s_gemv_out_in(float *part, const float *x, const T *w, int M, int K, int N, int kc, s_fin f)
{
    extern __shared__ float xs[];
    int k0 = blockIdx.y * kc;
    s_load_x<MM>(xs, x, M, K, k0, kc);
    int kn = min(kc, K - k0);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int r0 = (blockIdx.x * (S_GEMV_THREADS / 32) + warp) * S_ROWS;
    if (r0 < N) {
        float acc[S_ROWS][MM];
#pragma unroll
        for (int r = 0; r < S_ROWS; r++)
#pragma unroll
            for (int m = 0; m < MM; m++) acc[r][m] = 0.f;
        for (int k = lane * VEC; k < kn; k += 32 * VEC) {
            s_vec<T, VEC> wr[S_ROWS];
#pragma unroll
            for (int r = 0; r < S_ROWS; r++) {
                int n = min(r0 + r, N - 1);
                wr[r] = *(const s_vec<T, VEC> *)(w + (int64_t)n * K + k0 + k);
            }
#pragma unroll
            for (int m = 0; m < MM; m++) {
                float xv[VEC];
#pragma unroll
                for (int v = 0; v < VEC; v++) xv[v] = xs[m * kc + k + v];
#pragma unroll
                for (int r = 0; r < S_ROWS; r++)
#pragma unroll
                    for (int v = 0; v < VEC; v++) acc[r][m] += xv[v] * cn_ld(wr[r].v, v);
            }
        }
        float *pp = part + (int64_t)blockIdx.y * M * N;
#pragma unroll
        for (int r = 0; r < S_ROWS; r++)
#pragma unroll
            for (int m = 0; m < MM; m++) {
                float sm = cn_warp_sum(acc[r][m]);
                if (lane == 0 && m < M && r0 + r < N) pp[(int64_t)m * N + r0 + r] = sm;
            }
    }
    int c0 = blockIdx.x * (S_GEMV_THREADS / 32) * S_ROWS;
    s_finish(f, part, M, N, gridDim.y, c0, min(N, c0 + (S_GEMV_THREADS / 32) * S_ROWS));
}

/* y = beta*y + sum of split partials + b */
template <typename TB>
__global__ void s_gemv_reduce(float *y, const float *part, const TB *b, float beta, int M, int N,
                              int splits)
{
    int64_t total = (int64_t)M * N;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        float s = s_split_sum(part + i, total, splits);
        if (b) s += cn_ld(b, i % N);
        y[i] = beta != 0.f ? beta * y[i] + s : s;
    }
}

typedef struct s_mm {
    int M, K, N;
    cn_wlayout layout;
} s_mm;

template <typename T, int MM, int VEC>
static void s_launch_gemv(cn_cuda *cx, float *part, const float *x, const T *w, const s_mm *p,
                          int splits, int kc, const s_fin &f)
{
    size_t smem = (size_t)MM * kc * sizeof(float);
    if (p->layout == CN_W_IN_OUT) {
        smem += (size_t)S_IO_WARPS * MM * 32 * VEC * sizeof(float);
        if (smem > 48 * 1024)
            cudaFuncSetAttribute(s_gemv_in_out<T, MM, VEC>,
                                 cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        dim3 grid((unsigned)CN_CEIL_DIV(p->N, 32 * VEC), (unsigned)splits);
        s_gemv_in_out<T, MM, VEC><<<grid, S_IO_THREADS, smem, cx->stream>>>(
            part, x, w, p->M, p->K, p->N, kc, f);
    } else {
        dim3 grid((unsigned)CN_CEIL_DIV(p->N, (S_GEMV_THREADS / 32) * S_ROWS), (unsigned)splits);
        s_gemv_out_in<T, MM, VEC><<<grid, S_GEMV_THREADS, smem, cx->stream>>>(
            part, x, w, p->M, p->K, p->N, kc, f);
    }
}

template <typename T, int VEC>
static void s_gemv_mm(cn_cuda *cx, float *part, const float *x, const T *w, const s_mm *p,
                      int splits, int kc, const s_fin &f)
{
    if (p->M <= 1) s_launch_gemv<T, 1, VEC>(cx, part, x, w, p, splits, kc, f);
    else if (p->M <= 2) s_launch_gemv<T, 2, VEC>(cx, part, x, w, p, splits, kc, f);
    else if (p->M <= 4) s_launch_gemv<T, 4, VEC>(cx, part, x, w, p, splits, kc, f);
    else if (p->M <= 8) s_launch_gemv<T, 8, VEC>(cx, part, x, w, p, splits, kc, f);
    else s_launch_gemv<T, 16, VEC>(cx, part, x, w, p, splits, kc, f);
}

static int s_mm_round(int M) { return M <= 1 ? 1 : M <= 2 ? 2 : M <= 4 ? 4 : M <= 8 ? 8 : 16; }

/* *applied: whether the epilogue e (may be NULL) ran in the finishing pass */
template <typename T>
static int s_gemv(cn_cuda *cx, cn_tensor *y, const float *x, const T *w, const s_mm *p,
                  const cn_tensor *b, float beta, const s_epi *e, int *applied)
{
    const int vec_full = 16 / (int)sizeof(T);   /* 16-byte weight loads */
    int aligned = ((uintptr_t)w % 16) == 0;
    int vec;
    int64_t per_block_cols;
    if (p->layout == CN_W_IN_OUT) {
        vec = (aligned && p->N % 4 == 0) ? 4 : 1;
        per_block_cols = 32 * vec;
    } else {
        vec = (aligned && p->K % vec_full == 0) ? vec_full : 1;
        per_block_cols = (S_GEMV_THREADS / 32) * S_ROWS;
    }
    int col_blocks = (int)CN_CEIL_DIV(p->N, per_block_cols);
    int mm = s_mm_round(p->M);
    int kc_max = (S_GEMV_SMEM / (mm * 4)) / 256 * 256;
    int target = cx->gemv_blocks_per_sm * cx->sm_count;
    int splits = (int)CN_CEIL_DIV(target, col_blocks);
    /* partial sums (splits * M * N floats) stay under ~10% of the weight bytes */
    int max_splits = (int)((int64_t)p->K * (int64_t)sizeof(T) / (40 * (int64_t)p->M));
    if (splits > max_splits) splits = max_splits > 1 ? max_splits : 1;
    int kc = (int)CN_CEIL_DIV(p->K, splits);
    int gran = p->layout == CN_W_OUT_IN ? 256 : 16;   /* whole warp strides for out_in */
    kc = (int)CN_CEIL_DIV(kc, gran) * gran;
    if (kc > kc_max) kc = kc_max;
    splits = (int)CN_CEIL_DIV(p->K, kc);
    float *out = (float *)y->data;
    float *part = (float *)cn_cuda_scratch(cx, (size_t)splits * p->M * p->N * sizeof(float));
    if (part == NULL) return CN_ENOMEM;
    s_fin f = { out, NULL, beta, NULL, {} };
    int fused = col_blocks <= CN_CUDA_COUNTERS && (b == NULL || b->type == CN_F32);
    if (fused) {
        f.counters = cx->counters;
        f.bias = b ? (const float *)b->data : NULL;
        if (e) f.e = *e;
        *applied = e != NULL;
    }
    if (vec == 1) s_gemv_mm<T, 1>(cx, part, x, w, p, splits, kc, f);
    else if (vec == 4) s_gemv_mm<T, 4>(cx, part, x, w, p, splits, kc, f);
    else s_gemv_mm<T, 8>(cx, part, x, w, p, splits, kc, f);
    CUDA_CHECK_LAUNCH("s_gemv");
    if (fused) return CN_OK;
    int64_t total = (int64_t)p->M * p->N;
    int blocks = (int)(CN_CEIL_DIV(total, 256) > 4096 ? 4096 : CN_CEIL_DIV(total, 256));
    if (b == NULL)
        s_gemv_reduce<float><<<blocks, 256, 0, cx->stream>>>(out, part, NULL, beta, p->M, p->N,
                                                             splits);
    else
        CN_WDISPATCH(b->type, TB, s_gemv_reduce<TB><<<blocks, 256, 0, cx->stream>>>(
            out, part, (const TB *)b->data, beta, p->M, p->N, splits));
    CUDA_CHECK_LAUNCH("s_gemv_reduce");
    return CN_OK;
}

template <typename TB>
__global__ void s_add_bias(float *y, const TB *b, int64_t M, int N)
{
    int64_t total = M * N;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] += cn_ld(b, i % N);
}

/* after cuBLAS: y += b, then the epilogue (gelu, kv_store) in the same pass */
template <typename TB>
__global__ void s_bias_epi(float *y, const TB *b, int64_t M, int N, s_epi e)
{
    int64_t total = M * N;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int n = (int)(i % N);
        float val = y[i];
        if (b) val += cn_ld(b, n);
        if (e.gelu) val = val / (1.0f + expf(-1.702f * val));
        y[i] = val;
        if (e.k) s_epilogue_kv(e, (int)(i / N), n, val);
    }
}

template <typename T>
__global__ void s_cast_x(T *dst, const float *src, int64_t n);
template <>
__global__ void s_cast_x<__half>(__half *dst, const float *src, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = __float2half_rn(src[i]);
}
template <>
__global__ void s_cast_x<__nv_bfloat16>(__nv_bfloat16 *dst, const float *src, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = __float2bfloat16_rn(src[i]);
}

static int s_cublas(cn_cuda *cx, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                    const s_mm *p, float beta)
{
    const void *xb = x->data;
    cudaDataType_t ab = CUDA_R_32F;
    int64_t n = (int64_t)p->M * p->K;
    int blocks = (int)(CN_CEIL_DIV(n, 256) > 8192 ? 8192 : CN_CEIL_DIV(n, 256));
    if (w->type != CN_F32) {
        void *xs = cn_cuda_scratch(cx, (size_t)n * 2);
        if (xs == NULL) return CN_ENOMEM;
        if (w->type == CN_F16) {
            s_cast_x<__half><<<blocks, 256, 0, cx->stream>>>((__half *)xs, (const float *)x->data, n);
            ab = CUDA_R_16F;
        } else {
            s_cast_x<__nv_bfloat16><<<blocks, 256, 0, cx->stream>>>((__nv_bfloat16 *)xs,
                                                                    (const float *)x->data, n);
            ab = CUDA_R_16BF;
        }
        CUDA_CHECK_LAUNCH("s_cast_x");
        xb = xs;
    }
    float alpha = 1.0f;
    cublasOperation_t opa = p->layout == CN_W_IN_OUT ? CUBLAS_OP_N : CUBLAS_OP_T;
    int lda = p->layout == CN_W_IN_OUT ? p->N : p->K;
    CUBLAS_CHECK(cublasGemmEx(cx->cublas, opa, CUBLAS_OP_N, p->N, p->M, p->K, &alpha, w->data,
                              ab, lda, xb, ab, p->K, &beta, y->data, CUDA_R_32F, p->N,
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return CN_OK;
}

static int s_check(cn_cuda *cx, const cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                   cn_wlayout layout, const cn_tensor *b, s_mm *p)
{
    if (x->type != CN_F32 || y->type != CN_F32 || !cn_is_weight_type(w->type) ||
        (b && !cn_is_weight_type(b->type)))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: matmul: x %s and y %s must be f32, w %s and "
                            "b %s f32/f16/bf16", cn_dtype_name(x->type), cn_dtype_name(y->type),
                            cn_dtype_name(w->type), b ? cn_dtype_name(b->type) : "none");
    if (w->nd != 2 || (layout != CN_W_IN_OUT && layout != CN_W_OUT_IN))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: matmul: w must be 2-D (is %dd), layout %d",
                            w->nd, (int)layout);
    int64_t K = x->ne[x->nd - 1], M = cn_nelem(x) / (K ? K : 1);
    int64_t wk = layout == CN_W_IN_OUT ? w->ne[0] : w->ne[1];
    int64_t N = layout == CN_W_IN_OUT ? w->ne[1] : w->ne[0];
    if (wk != K || cn_nelem(y) != M * N || (b && cn_nelem(b) != N))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: matmul: x is (%lld, %lld), w (%lld, %lld) %s "
                            "gives K %lld N %lld; y has %lld elements (want %lld), b %lld (want "
                            "%lld)", (long long)M, (long long)K, (long long)w->ne[0],
                            (long long)w->ne[1], layout == CN_W_IN_OUT ? "in_out" : "out_in",
                            (long long)wk, (long long)N, (long long)cn_nelem(y),
                            (long long)(M * N), b ? (long long)cn_nelem(b) : 0LL, (long long)N);
    if (M > INT32_MAX || K > INT32_MAX || N > INT32_MAX)
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: matmul: a dimension exceeds 2^31");
    p->M = (int)M;
    p->K = (int)K;
    p->N = (int)N;
    p->layout = layout;
    return CN_OK;
}

/* matmul with an optional epilogue; *applied says whether e ran (else the caller runs the
 * separate ops). */
static int s_matmul(cn_cuda *cx, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                    cn_wlayout layout, const cn_tensor *b, float beta, const s_epi *e,
                    int *applied)
{
    s_mm p;
    *applied = 0;
    int rc = s_check(cx, y, x, w, layout, b, &p);
    if (rc) return rc;
    if (p.M == 0 || p.N == 0) return CN_OK;
    int gemv_max = layout == CN_W_OUT_IN ? cx->gemv_max_m_out_in : cx->gemv_max_m;
    size_t wbytes = (size_t)p.K * (size_t)p.N * cn_dtype_size(w->type);
    if (p.M <= gemv_max && p.K > 0 && wbytes >= cx->gemv_min_bytes) {
        CN_WDISPATCH(w->type, T, return s_gemv<T>(cx, y, (const float *)x->data,
                                                  (const T *)w->data, &p, b, beta, e, applied));
    }
    rc = s_cublas(cx, y, x, w, &p, beta);
    if (rc || (b == NULL && e == NULL)) return rc;
    int64_t total = (int64_t)p.M * p.N;
    int blocks = (int)(CN_CEIL_DIV(total, 256) > 8192 ? 8192 : CN_CEIL_DIV(total, 256));
    if (e) {   /* bias and epilogue in one pass */
        if (b == NULL)
            s_bias_epi<float><<<blocks, 256, 0, cx->stream>>>((float *)y->data, NULL,
                                                             (int64_t)p.M, p.N, *e);
        else
            CN_WDISPATCH(b->type, TB, s_bias_epi<TB><<<blocks, 256, 0, cx->stream>>>(
                (float *)y->data, (const TB *)b->data, (int64_t)p.M, p.N, *e));
        CUDA_CHECK_LAUNCH("s_bias_epi");
        *applied = 1;
        return CN_OK;
    }
    CN_WDISPATCH(b->type, TB, s_add_bias<TB><<<blocks, 256, 0, cx->stream>>>(
        (float *)y->data, (const TB *)b->data, (int64_t)p.M, p.N));
    CUDA_CHECK_LAUNCH("s_add_bias");
    return CN_OK;
}

int cn_cuda_matmul(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                   cn_wlayout layout, const cn_tensor *b, float beta)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int applied;
    return s_matmul(cx, y, x, w, layout, b, beta, NULL, &applied);
}

int cn_cuda_matmul_gelu(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                        cn_wlayout layout, const cn_tensor *b)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    s_epi e = {};
    e.gelu = 1;
    int applied, rc = s_matmul(cx, y, x, w, layout, b, 0.0f, &e, &applied);
    if (rc || applied) return rc;
    return cn_cuda_gelu_quick(be, y);
}

int cn_cuda_matmul_kv_store(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                            const cn_tensor *w, cn_wlayout layout, const cn_tensor *b,
                            cn_tensor *k, cn_tensor *v, int n_items, int len, int k_col,
                            int v_col, int S, int pos0, int k_stride)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int64_t N = y->ne[y->nd - 1], M = cn_nelem(y) / (N ? N : 1);
    int64_t need = (int64_t)n_items * k_stride * S;
    if (k->type != CN_F32 || v->type != CN_F32 || n_items < 1 || len < 1 || S < 1 ||
        M != (int64_t)n_items * len || pos0 < 0 || pos0 + len > k_stride || k_col < 0 ||
        v_col < 0 || k_col + S > N || v_col + S > N || cn_nelem(k) < need ||
        cn_nelem(v) < need)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: matmul_kv_store: y (%lld, %lld) for %d items "
                            "x %d rows; positions %d..%d of a cache of %d (k %lld / v %lld "
                            "elements, need %lld); columns k %d v %d of width %d",
                            (long long)M, (long long)N, n_items, len, pos0, pos0 + len - 1,
                            k_stride, (long long)cn_nelem(k), (long long)cn_nelem(v),
                            (long long)need, k_col, v_col, S);
    s_epi e = {};
    e.k = (float *)k->data;
    e.v = (float *)v->data;
    e.len = len;
    e.k_col = k_col;
    e.v_col = v_col;
    e.S = S;
    e.pos0 = pos0;
    e.k_stride = k_stride;
    e.adv = cn_cuda_adv(cx);
    int applied, rc = s_matmul(cx, y, x, w, layout, b, 0.0f, &e, &applied);
    if (rc || applied) return rc;
    return cn_cuda_kv_store(be, k, v, y, n_items, len, (int)N, k_col, v_col, S, pos0, k_stride);
}
