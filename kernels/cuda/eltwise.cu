/* SPDX-License-Identifier: MIT
 * Element-wise kernels: quick GELU, ReLU, axpy, embedding rows added by id, per-item transpose,
 * dtype conversion. Each op checks shapes on the host and never synchronises the stream.
 */
#include "eltwise.cuh"

#define S_THREADS 256

static int s_blocks(int64_t n)
{
    int64_t b = CN_CEIL_DIV(n, S_THREADS);
    return (int)(b > 65536 ? 65536 : (b < 1 ? 1 : b));
}

__device__ __forceinline__ void s_st(float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void s_st(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }
__device__ __forceinline__ void s_st(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

template <typename TD, typename TS>
__global__ void s_convert(TD *dst, const TS *src, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        s_st(dst, i, cn_ld(src, i));
}

int cn_cuda_convert(cn_cuda *cx, void *dst, cn_dtype dt, const void *src, cn_dtype st, int64_t n)
{
    if (!cn_is_weight_type(dt) || !cn_is_weight_type(st))
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: convert %s -> %s is not supported",
                            cn_dtype_name(st), cn_dtype_name(dt));
    if (n == 0) return CN_OK;
    CN_WDISPATCH(dt, TD, CN_WDISPATCH(st, TS,
        s_convert<TD, TS><<<s_blocks(n), S_THREADS, 0, cx->stream>>>((TD *)dst, (const TS *)src, n)));
    CUDA_CHECK_LAUNCH("s_convert");
    return CN_OK;
}

__global__ void s_gelu_quick(float *x, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float v = x[i];
        x[i] = v / (1.0f + expf(-1.702f * v));
    }
}

static int s_need_f32(cn_cuda *cx, const char *op, const char *name, const cn_tensor *t)
{
    if (t->type == CN_F32) return CN_OK;
    return cn_cuda_errf(cx, CN_EINVAL, "cuda: %s: %s is %s; activations must be f32", op, name,
                        cn_dtype_name(t->type));
}

int cn_cuda_gelu_quick(cn_backend *be, cn_tensor *x)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_need_f32(cx, "gelu_quick", "x", x);
    if (rc) return rc;
    int64_t n = cn_nelem(x);
    if (n == 0) return CN_OK;
    s_gelu_quick<<<s_blocks(n), S_THREADS, 0, cx->stream>>>((float *)x->data, n);
    CUDA_CHECK_LAUNCH("s_gelu_quick");
    return CN_OK;
}

__global__ void s_relu(float *y, const float *x, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = fmaxf(x[i], 0.0f);
}

int cn_cuda_relu(cn_backend *be, cn_tensor *y, const cn_tensor *x)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_need_f32(cx, "relu", "x", x);
    if (rc == CN_OK) rc = s_need_f32(cx, "relu", "y", y);
    if (rc) return rc;
    int64_t n = cn_nelem(x);
    if (cn_nelem(y) != n)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: relu: y has %lld elements, x has %lld",
                            (long long)cn_nelem(y), (long long)n);
    if (n == 0) return CN_OK;
    s_relu<<<s_blocks(n), S_THREADS, 0, cx->stream>>>((float *)y->data, (const float *)x->data, n);
    CUDA_CHECK_LAUNCH("s_relu");
    return CN_OK;
}

__global__ void s_axpy(float *y, const float *x, float alpha, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] += alpha * x[i];
}

int cn_cuda_axpy(cn_backend *be, cn_tensor *y, const cn_tensor *x, float alpha)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_need_f32(cx, "axpy", "x", x);
    if (rc == CN_OK) rc = s_need_f32(cx, "axpy", "y", y);
    if (rc) return rc;
    int64_t n = cn_nelem(y);
    if (cn_nelem(x) != n)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: axpy: y has %lld elements, x has %lld",
                            (long long)n, (long long)cn_nelem(x));
    if (n == 0) return CN_OK;
    s_axpy<<<s_blocks(n), S_THREADS, 0, cx->stream>>>((float *)y->data, (const float *)x->data,
                                                     alpha, n);
    CUDA_CHECK_LAUNCH("s_axpy");
    return CN_OK;
}

/* one block per row m; threads over the width */
template <typename T>
__global__ void s_embed_add(float *y, const T *table, const int32_t *ids, int W, int V,
                            cn_cuda_derr *derr)
{
    int m = blockIdx.x;
    int id = ids[m];
    if (id < 0) return;
    if (id >= V) {
        if (threadIdx.x == 0 && atomicCAS(&derr->code, 0, 1) == 0) {
            derr->value = id;
            derr->limit = V;
            derr->row = m;
        }
        return;
    }
    const T *row = table + (int64_t)id * W;
    float *out = y + (int64_t)m * W;
    for (int w = threadIdx.x; w < W; w += blockDim.x) out[w] += cn_ld(row, w);
}

int cn_cuda_embed_add(cn_backend *be, cn_tensor *y, const cn_tensor *table, const cn_tensor *ids)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_need_f32(cx, "embed_add", "y", y);
    if (rc) return rc;
    if (ids->type != CN_I32 || !cn_is_weight_type(table->type))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: embed_add: ids are %s (need i32), table is %s",
                            cn_dtype_name(ids->type), cn_dtype_name(table->type));
    int64_t M = y->ne[0], W = cn_nelem(y) / (M ? M : 1);
    int64_t V = table->ne[0], TW = cn_nelem(table) / (V ? V : 1);
    if (TW != W || cn_nelem(ids) != M)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: embed_add: y is (%lld, %lld), table rows are "
                            "%lld wide, %lld ids", (long long)M, (long long)W, (long long)TW,
                            (long long)cn_nelem(ids));
    if (M == 0) return CN_OK;
    CN_WDISPATCH(table->type, T,
        s_embed_add<T><<<(unsigned)M, 256, 0, cx->stream>>>((float *)y->data,
            (const T *)table->data, (const int32_t *)ids->data, (int)W, (int)V, cx->derr));
    CUDA_CHECK_LAUNCH("s_embed_add");
    return CN_OK;
}

/* 32x32 tiles through shared memory; grid (B tiles, A tiles capped, N), looping over A tiles */
__global__ void s_transpose(float *y, const float *x, int64_t A, int64_t B)
{
    __shared__ float tile[32][33];
    int64_t base = (int64_t)blockIdx.z * A * B;
    int64_t b0 = (int64_t)blockIdx.x * 32;
    for (int64_t a0 = (int64_t)blockIdx.y * 32; a0 < A; a0 += (int64_t)gridDim.y * 32) {
        for (int r = threadIdx.y; r < 32; r += blockDim.y) {
            int64_t a = a0 + r, b = b0 + threadIdx.x;
            if (a < A && b < B) tile[r][threadIdx.x] = x[base + a * B + b];
        }
        __syncthreads();
        for (int r = threadIdx.y; r < 32; r += blockDim.y) {
            int64_t b = b0 + r, a = a0 + threadIdx.x;
            if (a < A && b < B) y[base + b * A + a] = tile[threadIdx.x][r];
        }
        __syncthreads();
    }
}

int cn_cuda_transpose(cn_backend *be, cn_tensor *y, const cn_tensor *x)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_need_f32(cx, "transpose", "x", x);
    if (rc == CN_OK) rc = s_need_f32(cx, "transpose", "y", y);
    if (rc) return rc;
    int64_t N = x->nd == 3 ? x->ne[0] : 1;
    int64_t A = x->ne[x->nd - 2], B = x->ne[x->nd - 1];
    if (x->nd < 2 || x->nd > 3 || y->nd != x->nd || (x->nd == 3 && y->ne[0] != N) ||
        y->ne[y->nd - 2] != B || y->ne[y->nd - 1] != A)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: transpose: x is %dd (.., %lld, %lld), y must "
                            "be (.., %lld, %lld) with the same item count", x->nd,
                            (long long)A, (long long)B, (long long)B, (long long)A);
    if (N * A * B == 0) return CN_OK;
    int64_t at = CN_CEIL_DIV(A, 32);
    if (N > 65535)
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: transpose: %lld items; at most 65535",
                            (long long)N);
    dim3 grid((unsigned)CN_CEIL_DIV(B, 32), (unsigned)(at > 65535 ? 65535 : at), (unsigned)N);
    s_transpose<<<grid, dim3(32, 8), 0, cx->stream>>>((float *)y->data, (const float *)x->data,
                                                     A, B);
    CUDA_CHECK_LAUNCH("s_transpose");
    return CN_OK;
}
