/* SPDX-License-Identifier: MIT
 * Nearest codebook row by (||x||^2 - 2 x.k) + ||k||^2 in fp32, the reference's order, first
 * index on ties; and lookup of rows back to channel-first vectors. Codebook of any weight
 * dtype (keep it f32 for codes identical to the CPU).
 */
#include "codebook.cuh"

#define S_VEC 128     /* vectors per block, one per thread */
#define S_CODES 32    /* codebook rows staged per pass */

template <typename T>
__global__ void __launch_bounds__(S_VEC) s_nearest(int32_t *ids, const float *x, const T *cb,
                                                   int D, int64_t T_len, int K)
{
    extern __shared__ float sm[];
    float *xs = sm;                          /* [D][S_VEC] */
    float *cs = xs + D * S_VEC;              /* [S_CODES][D] */
    float *kk = cs + S_CODES * D;            /* [S_CODES] */
    int n = blockIdx.y;
    int64_t t = (int64_t)blockIdx.x * S_VEC + threadIdx.x;
    const float *xn = x + (int64_t)n * D * T_len;
    float xx = 0.f;
    for (int d = 0; d < D; d++) {
        float v = t < T_len ? xn[(int64_t)d * T_len + t] : 0.f;
        xs[d * S_VEC + threadIdx.x] = v;
        xx += v * v;
    }
    float best = INFINITY;
    int besti = 0;
    for (int k0 = 0; k0 < K; k0 += S_CODES) {
        int kn = min(S_CODES, K - k0);
        __syncthreads();
        for (int i = threadIdx.x; i < kn * D; i += S_VEC) cs[i] = cn_ld(cb, (int64_t)k0 * D + i);
        __syncthreads();
        if (threadIdx.x < kn) {
            float s = 0.f;
            for (int d = 0; d < D; d++) s += cs[threadIdx.x * D + d] * cs[threadIdx.x * D + d];
            kk[threadIdx.x] = s;
        }
        __syncthreads();
        for (int j = 0; j < kn; j++) {
            float dot = 0.f;
            for (int d = 0; d < D; d++) dot += xs[d * S_VEC + threadIdx.x] * cs[j * D + d];
            float dist = (xx - 2.0f * dot) + kk[j];
            if (dist < best) {
                best = dist;
                besti = k0 + j;
            }
        }
    }
    if (t < T_len) ids[(int64_t)n * T_len + t] = besti;
}

int cn_cuda_codebook_nearest(cn_backend *be, cn_tensor *ids, const cn_tensor *x,
                             const cn_tensor *codebook)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (x->type != CN_F32 || ids->type != CN_I32 || !cn_is_weight_type(codebook->type) ||
        x->nd != 3 || codebook->nd != 2)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: codebook_nearest: x %s %dd (want f32 3-D), "
                            "ids %s (want i32), codebook %s %dd (want 2-D)",
                            cn_dtype_name(x->type), x->nd, cn_dtype_name(ids->type),
                            cn_dtype_name(codebook->type), codebook->nd);
    int64_t N = x->ne[0], D = x->ne[1], T = x->ne[2], K = codebook->ne[0];
    if (codebook->ne[1] != D || cn_nelem(ids) != N * T || K <= 0)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: codebook_nearest: x (%lld, %lld, %lld), "
                            "codebook (%lld, %lld), %lld ids (want %lld)", (long long)N,
                            (long long)D, (long long)T, (long long)K,
                            (long long)codebook->ne[1], (long long)cn_nelem(ids),
                            (long long)(N * T));
    if (N * T == 0) return CN_OK;
    size_t smem = ((size_t)D * S_VEC + (size_t)S_CODES * D + S_CODES) * sizeof(float);
    if (smem > cx->smem_optin || N > 65535)
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: codebook_nearest: vectors of %lld need %zu "
                            "bytes of shared memory (limit %zu); items %lld (limit 65535)",
                            (long long)D, smem, cx->smem_optin, (long long)N);
    dim3 grid((unsigned)CN_CEIL_DIV(T, S_VEC), (unsigned)N);
    CN_WDISPATCH(codebook->type, TC, {
        CUDA_CHECK(cudaFuncSetAttribute(s_nearest<TC>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        (int)smem));
        s_nearest<TC><<<grid, S_VEC, smem, cx->stream>>>((int32_t *)ids->data,
            (const float *)x->data, (const TC *)codebook->data, (int)D, T, (int)K);
    });
    CUDA_CHECK_LAUNCH("s_nearest");
    return CN_OK;
}

template <typename T>
__global__ void s_lookup(float *y, const int32_t *ids, const T *cb, int D, int64_t T_len, int K,
                         int64_t total, cn_cuda_derr *derr)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t t = i % T_len, nd = i / T_len;
        int d = (int)(nd % D);
        int64_t n = nd / D;
        int id = ids[n * T_len + t];
        if (id < 0 || id >= K) {
            if (atomicCAS(&derr->code, 0, 2) == 0) {
                derr->value = id;
                derr->limit = K;
                derr->row = (int)(n * T_len + t);
            }
            y[i] = 0.f;
            continue;
        }
        y[i] = cn_ld(cb, (int64_t)id * D + d);
    }
}

int cn_cuda_codebook_lookup(cn_backend *be, cn_tensor *y, const cn_tensor *ids,
                            const cn_tensor *codebook)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (y->type != CN_F32 || ids->type != CN_I32 || !cn_is_weight_type(codebook->type) ||
        y->nd != 3 || codebook->nd != 2)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: codebook_lookup: y %s %dd (want f32 3-D), "
                            "ids %s (want i32), codebook %s %dd (want 2-D)",
                            cn_dtype_name(y->type), y->nd, cn_dtype_name(ids->type),
                            cn_dtype_name(codebook->type), codebook->nd);
    int64_t N = y->ne[0], D = y->ne[1], T = y->ne[2], K = codebook->ne[0];
    if (codebook->ne[1] != D || cn_nelem(ids) != N * T)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: codebook_lookup: y (%lld, %lld, %lld), "
                            "codebook (%lld, %lld), %lld ids (want %lld)", (long long)N,
                            (long long)D, (long long)T, (long long)K,
                            (long long)codebook->ne[1], (long long)cn_nelem(ids),
                            (long long)(N * T));
    int64_t total = N * D * T;
    if (total == 0) return CN_OK;
    int blocks = (int)(CN_CEIL_DIV(total, 256) > 65536 ? 65536 : CN_CEIL_DIV(total, 256));
    CN_WDISPATCH(codebook->type, TC, s_lookup<TC><<<blocks, 256, 0, cx->stream>>>(
        (float *)y->data, (const int32_t *)ids->data, (const TC *)codebook->data, (int)D, T,
        (int)K, total, cx->derr));
    CUDA_CHECK_LAUNCH("s_lookup");
    return CN_OK;
}
