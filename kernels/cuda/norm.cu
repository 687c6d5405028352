/* SPDX-License-Identifier: MIT
 * LayerNorm: one block per row, two passes (mean, then biased variance of x - mean) in fp32,
 * gain and bias of any weight dtype. y may alias x; never reads outside its row.
 */
#include "norm.cuh"

template <typename TG, typename TB>
__global__ void s_layernorm(float *y, const float *x, const TG *g, const TB *b, int W, float eps)
{
    __shared__ float red[32];
    const float *xr = x + (int64_t)blockIdx.x * W;
    float *yr = y + (int64_t)blockIdx.x * W;
    float s = 0.f;
    for (int i = threadIdx.x; i < W; i += blockDim.x) s += xr[i];
    float mean = cn_block_sum(s, red) / (float)W;
    float v = 0.f;
    for (int i = threadIdx.x; i < W; i += blockDim.x) {
        float d = xr[i] - mean;
        v += d * d;
    }
    float var = cn_block_sum(v, red) / (float)W;
    float rstd = 1.0f / sqrtf(var + eps);
    for (int i = threadIdx.x; i < W; i += blockDim.x)
        yr[i] = (xr[i] - mean) * rstd * cn_ld(g, i) + cn_ld(b, i);
}

int cn_cuda_layernorm(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *g,
                      const cn_tensor *b, float eps)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (x->type != CN_F32 || y->type != CN_F32 || !cn_is_weight_type(g->type) ||
        !cn_is_weight_type(b->type))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: layernorm: x %s, y %s must be f32; g %s, b %s",
                            cn_dtype_name(x->type), cn_dtype_name(y->type),
                            cn_dtype_name(g->type), cn_dtype_name(b->type));
    int64_t W = x->ne[x->nd - 1], M = cn_nelem(x) / (W ? W : 1);
    if (cn_nelem(y) != cn_nelem(x) || cn_nelem(g) != W || cn_nelem(b) != W)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: layernorm: x is %lld rows of %lld; y has %lld "
                            "elements, g %lld, b %lld", (long long)M, (long long)W,
                            (long long)cn_nelem(y), (long long)cn_nelem(g),
                            (long long)cn_nelem(b));
    if (M == 0) return CN_OK;
    int threads = W >= 1024 ? 512 : (W >= 256 ? 256 : 128);
    if (g->type == CN_F32 && b->type == CN_F32) {
        s_layernorm<float, float><<<(unsigned)M, threads, 0, cx->stream>>>(
            (float *)y->data, (const float *)x->data, (const float *)g->data,
            (const float *)b->data, (int)W, eps);
    } else {
        if (g->type != b->type)
            return cn_cuda_errf(cx, CN_EUNSUP, "cuda: layernorm: g is %s and b is %s; mixed "
                                "non-f32 types are not supported", cn_dtype_name(g->type),
                                cn_dtype_name(b->type));
        CN_WDISPATCH(g->type, T, s_layernorm<T, T><<<(unsigned)M, threads, 0, cx->stream>>>(
            (float *)y->data, (const float *)x->data, (const T *)g->data, (const T *)b->data,
            (int)W, eps));
    }
    CUDA_CHECK_LAUNCH("s_layernorm");
    return CN_OK;
}
