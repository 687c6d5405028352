/* SPDX-License-Identifier: MIT
 * Convolutions as fp32 GEMMs (no TF32, so VQ-VAE codes match the CPU): conv1d = im2col then
 * W . cols; conv_transpose1d = W^T . x then a gather (col2im). Long inputs go in time chunks
 * so scratch stays bounded. Weights must be f32 (upload_weight keeps 3-D weights f32).
 */
#include "conv.cuh"

#define S_SCRATCH_CAP (128u << 20)

static int s_blocks(int64_t n)
{
    int64_t b = CN_CEIL_DIV(n, 256);
    return (int)(b > 65536 ? 65536 : (b < 1 ? 1 : b));
}

/* col (Cin*K, tc) for output times [t0, t0+tc) of one item */
__global__ void s_im2col(float *col, const float *x, int Cin, int T, int K, int stride, int pad,
                         int dil, int64_t t0, int tc)
{
    int64_t total = (int64_t)Cin * K * tc;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int tt = (int)(i % tc);
        int64_t ck = i / tc;
        int k = (int)(ck % K), ci = (int)(ck / K);
        int64_t ti = (t0 + tt) * stride - pad + (int64_t)k * dil;
        col[i] = (ti >= 0 && ti < T) ? x[(int64_t)ci * T + ti] : 0.f;
    }
}

/* y (C, T) = b[c] (or 0) */
__global__ void s_fill_bias(float *y, const float *b, int C, int64_t T)
{
    int64_t total = (int64_t)C * T;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = b ? b[i / T] : 0.f;
}

__global__ void s_add_bias_rows(float *y, const float *b, int C, int64_t T, int64_t ld)
{
    int64_t total = (int64_t)C * T;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t c = i / T, t = i - c * T;
        y[c * ld + t] += b[c];
    }
}

static int s_need_f32(cn_cuda *cx, const char *op, const cn_tensor *y, const cn_tensor *x,
                      const cn_tensor *w, const cn_tensor *b)
{
    if (y->type == CN_F32 && x->type == CN_F32 && w->type == CN_F32 && (!b || b->type == CN_F32))
        return CN_OK;
    return cn_cuda_errf(cx, CN_EUNSUP, "cuda: %s: y %s, x %s, w %s, b %s; all must be f32 "
                        "(upload 3-D weights with upload_weight, which keeps them f32)", op,
                        cn_dtype_name(y->type), cn_dtype_name(x->type), cn_dtype_name(w->type),
                        b ? cn_dtype_name(b->type) : "none");
}

int cn_cuda_conv1d(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                   const cn_tensor *b, int stride, int pad, int dilation)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_need_f32(cx, "conv1d", y, x, w, b);
    if (rc) return rc;
    if (x->nd != 3 || w->nd != 3 || y->nd != 3 || stride <= 0 || dilation <= 0 || pad < 0)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: conv1d: x %dd, w %dd, y %dd (all must be 3-D); "
                            "stride %d, pad %d, dilation %d", x->nd, w->nd, y->nd, stride, pad,
                            dilation);
    int64_t N = x->ne[0], Cin = x->ne[1], T = x->ne[2], Cout = w->ne[0], K = w->ne[2];
    int64_t Tout = (T + 2 * pad - dilation * (K - 1) - 1) / stride + 1;
    if (w->ne[1] != Cin || y->ne[0] != N || y->ne[1] != Cout || y->ne[2] != Tout || Tout <= 0 ||
        (b && cn_nelem(b) != Cout))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: conv1d: x (%lld, %lld, %lld), w (%lld, %lld, "
                            "%lld) give y (%lld, %lld, %lld); y is (%lld, %lld, %lld)",
                            (long long)N, (long long)Cin, (long long)T, (long long)w->ne[0],
                            (long long)w->ne[1], (long long)K, (long long)N, (long long)Cout,
                            (long long)Tout, (long long)y->ne[0], (long long)y->ne[1],
                            (long long)y->ne[2]);
    int64_t ck = Cin * K;
    int64_t tc_max = S_SCRATCH_CAP / (ck * 4);
    if (tc_max < 1) tc_max = 1;
    int64_t tc = Tout < tc_max ? Tout : tc_max;
    float *col = (float *)cn_cuda_scratch(cx, (size_t)(ck * tc * 4));
    if (col == NULL) return CN_ENOMEM;
    const float one = 1.0f, zero = 0.0f;
    for (int64_t n = 0; n < N; n++) {
        const float *xn = (const float *)x->data + n * Cin * T;
        float *yn = (float *)y->data + n * Cout * Tout;
        for (int64_t t0 = 0; t0 < Tout; t0 += tc) {
            int m = (int)(Tout - t0 < tc ? Tout - t0 : tc);
            s_im2col<<<s_blocks(ck * m), 256, 0, cx->stream>>>(col, xn, (int)Cin, (int)T, (int)K,
                                                               stride, pad, dilation, t0, m);
            CUDA_CHECK_LAUNCH("s_im2col");
            CUBLAS_CHECK(cublasSgemm(cx->cublas, CUBLAS_OP_N, CUBLAS_OP_N, m, (int)Cout, (int)ck,
                                     &one, col, m, (const float *)w->data, (int)ck, &zero,
                                     yn + t0, (int)Tout));
        }
        if (b) {
            s_add_bias_rows<<<s_blocks(Cout * Tout), 256, 0, cx->stream>>>(
                yn, (const float *)b->data, (int)Cout, Tout, Tout);
            CUDA_CHECK_LAUNCH("s_add_bias_rows");
        }
    }
    return CN_OK;
}

/* y[co, to] += sum over k, ti in [t0, t0+tc) with ti*stride - pad + k == to of cols[co*K+k, ti-t0] */
__global__ void s_col2im(float *y, const float *cols, int Cout, int K, int64_t Tout, int stride,
                         int pad, int64_t t0, int tc, int64_t to_lo, int64_t to_n)
{
    int64_t total = (int64_t)Cout * to_n;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int co = (int)(i / to_n);
        int64_t to = to_lo + (i - (int64_t)co * to_n);
        float s = 0.f;
        for (int k = 0; k < K; k++) {
            int64_t num = to + pad - k;
            if (num < 0 || num % stride) continue;
            int64_t ti = num / stride - t0;
            if (ti < 0 || ti >= tc) continue;
            s += cols[((int64_t)co * K + k) * tc + ti];
        }
        y[(int64_t)co * Tout + to] += s;
    }
}

int cn_cuda_conv_transpose1d(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                             const cn_tensor *w, const cn_tensor *b, int stride, int pad)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_need_f32(cx, "conv_transpose1d", y, x, w, b);
    if (rc) return rc;
    if (x->nd != 3 || w->nd != 3 || y->nd != 3 || stride <= 0 || pad < 0)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: conv_transpose1d: x %dd, w %dd, y %dd (all "
                            "must be 3-D); stride %d, pad %d", x->nd, w->nd, y->nd, stride, pad);
    int64_t N = x->ne[0], Cin = x->ne[1], T = x->ne[2], Cout = w->ne[1], K = w->ne[2];
    int64_t Tout = (T - 1) * stride - 2 * pad + K;
    if (w->ne[0] != Cin || y->ne[0] != N || y->ne[1] != Cout || y->ne[2] != Tout || Tout <= 0 ||
        (b && cn_nelem(b) != Cout))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: conv_transpose1d: x (%lld, %lld, %lld), w "
                            "(%lld, %lld, %lld) give y (%lld, %lld, %lld); y is (%lld, %lld, "
                            "%lld)", (long long)N, (long long)Cin, (long long)T,
                            (long long)w->ne[0], (long long)Cout, (long long)K, (long long)N,
                            (long long)Cout, (long long)Tout, (long long)y->ne[0],
                            (long long)y->ne[1], (long long)y->ne[2]);
    int64_t ck = Cout * K;
    int64_t tc_max = S_SCRATCH_CAP / (ck * 4);
    if (tc_max < 1) tc_max = 1;
    int64_t tc = T < tc_max ? T : tc_max;
    float *cols = (float *)cn_cuda_scratch(cx, (size_t)(ck * tc * 4));
    if (cols == NULL) return CN_ENOMEM;
    const float one = 1.0f, zero = 0.0f;
    for (int64_t n = 0; n < N; n++) {
        const float *xn = (const float *)x->data + n * Cin * T;
        float *yn = (float *)y->data + n * Cout * Tout;
        s_fill_bias<<<s_blocks(Cout * Tout), 256, 0, cx->stream>>>(
            yn, b ? (const float *)b->data : NULL, (int)Cout, Tout);
        CUDA_CHECK_LAUNCH("s_fill_bias");
        for (int64_t t0 = 0; t0 < T; t0 += tc) {
            int m = (int)(T - t0 < tc ? T - t0 : tc);
            CUBLAS_CHECK(cublasSgemm(cx->cublas, CUBLAS_OP_N, CUBLAS_OP_T, m, (int)ck, (int)Cin,
                                     &one, xn + t0, (int)T, (const float *)w->data, (int)ck,
                                     &zero, cols, m));
            int64_t lo = t0 * stride - pad, hi = (t0 + m - 1) * stride - pad + K - 1;
            if (lo < 0) lo = 0;
            if (hi > Tout - 1) hi = Tout - 1;
            if (hi < lo) continue;
            s_col2im<<<s_blocks(Cout * (hi - lo + 1)), 256, 0, cx->stream>>>(
                yn, cols, (int)Cout, (int)K, Tout, stride, pad, t0, m, lo, hi - lo + 1);
            CUDA_CHECK_LAUNCH("s_col2im");
        }
    }
    return CN_OK;
}
