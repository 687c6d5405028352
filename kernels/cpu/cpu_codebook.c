/* SPDX-License-Identifier: MIT
 * VQ-VAE bottleneck on the CPU: nearest codebook row per time step (the reference's fp32
 * distance ||x||^2 - 2 x.k + ||k||^2 through a gemm) and the codebook lookup back.
 * Never normalises x or the codebook: the reference does not (facts 3).
 */
#include "cpu_internal.h"

#include <cblas.h>
#include <stdlib.h>

#define CN_CPU_CB_TILE 512   /* time steps per distance tile */

/* sum of squares of n floats strided by `stride`, accumulated in double, rounded to fp32 */
static float s_sumsq(const float *a, int64_t n, int64_t stride)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i * stride] * a[i * stride];
    return (float)s;
}

/* ids (N*T) i32 = argmin_k ( ||x_t||^2 - 2 x_t.k + ||k||^2 ) in fp32, the lowest k on a tie
 *   x (N, D, T) channel-first; codebook (K, D) */
int cn_cpu_codebook_nearest(cn_backend *be, cn_tensor *ids, const cn_tensor *x,
                            const cn_tensor *codebook)
{
    char si[96], sx[96], sc[96];
    int rc;
    if ((rc = cn_cpu_need(be, "codebook_nearest", "x", x, CN_F32)) ||
        (rc = cn_cpu_need(be, "codebook_nearest", "ids", ids, CN_I32)))
        return rc;
    if (x->nd != 3 || codebook == NULL || codebook->nd != 2 || codebook->ne[1] != x->ne[1] ||
        codebook->ne[0] < 1 || cn_tensor_nelem(ids) != x->ne[0] * x->ne[2])
        return cn_cpu_fail(be, CN_EINVAL, "codebook_nearest: x %s must be (N, D, T), codebook %s "
                           "(K, D) and ids %s hold N*T values", cn_cpu_shape(x, sx, sizeof sx),
                           cn_cpu_shape(codebook, sc, sizeof sc), cn_cpu_shape(ids, si, sizeof si));
    int64_t N = x->ne[0], D = x->ne[1], T = x->ne[2], K = codebook->ne[0];
    const float *cb;
    float *cbt;
    if ((rc = cn_cpu_as_f32(be, "codebook_nearest", "codebook", codebook, &cb, &cbt))) return rc;
    int64_t tile = T < CN_CPU_CB_TILE ? T : CN_CPU_CB_TILE;
    float *ksq = malloc((size_t)K * sizeof(float));
    float *dot = malloc((size_t)(tile * K + 1) * sizeof(float));
    if (ksq == NULL || dot == NULL) {
        free(cbt);
        free(ksq);
        free(dot);
        return cn_cpu_fail(be, CN_ENOMEM, "codebook_nearest: no memory for a %lld x %lld "
                           "distance tile", (long long)tile, (long long)K);
    }
    for (int64_t k = 0; k < K; k++) ksq[k] = s_sumsq(cb + k * D, D, 1);
    const float *xd = x->data;
    int32_t *out = ids->data;
    for (int64_t n = 0; n < N; n++) {
        const float *xn = xd + n * D * T;
        for (int64_t t0 = 0; t0 < T; t0 += tile) {
            int64_t nt = T - t0 < tile ? T - t0 : tile;
            /* dot (nt, K) = x[:, t0:t0+nt]^T (nt, D) . codebook^T (D, K) */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, (int)nt, (int)K, (int)D, 1.0f,
                        xn + t0, (int)T, cb, (int)D, 0.0f, dot, (int)K);
            for (int64_t t = 0; t < nt; t++) {
                float xsq = s_sumsq(xn + t0 + t, D, T);
                const float *row = dot + t * K;
                int64_t best = 0;
                float bestd = 0;
                for (int64_t k = 0; k < K; k++) {
                    float dist = (xsq - 2.0f * row[k]) + ksq[k];   /* fp32, reference order */
                    if (k == 0 || dist < bestd) best = k, bestd = dist;
                }
                out[n * T + t0 + t] = (int32_t)best;
            }
        }
    }
    free(ksq);
    free(dot);
    free(cbt);
    return 0;
}

/* y (N, D, T) = codebook (K, D)[ids (N*T)] channel-first; an id outside 0..K-1 is an error */
int cn_cpu_codebook_lookup(cn_backend *be, cn_tensor *y, const cn_tensor *ids,
                           const cn_tensor *codebook)
{
    char si[96], sy[96], sc[96];
    int rc;
    if ((rc = cn_cpu_need(be, "codebook_lookup", "y", y, CN_F32)) ||
        (rc = cn_cpu_need(be, "codebook_lookup", "ids", ids, CN_I32)))
        return rc;
    if (y->nd != 3 || codebook == NULL || codebook->nd != 2 || codebook->ne[1] != y->ne[1] ||
        cn_tensor_nelem(ids) != y->ne[0] * y->ne[2])
        return cn_cpu_fail(be, CN_EINVAL, "codebook_lookup: y %s must be (N, D, T), codebook %s "
                           "(K, D) and ids %s hold N*T values", cn_cpu_shape(y, sy, sizeof sy),
                           cn_cpu_shape(codebook, sc, sizeof sc), cn_cpu_shape(ids, si, sizeof si));
    int64_t N = y->ne[0], D = y->ne[1], T = y->ne[2], K = codebook->ne[0];
    const int32_t *id = ids->data;
    for (int64_t i = 0; i < N * T; i++)
        if (id[i] < 0 || id[i] >= K)
            return cn_cpu_fail(be, CN_EINVAL, "codebook_lookup: ids[%lld] = %d is outside the "
                               "codebook of %lld rows", (long long)i, id[i], (long long)K);
    const float *cb;
    float *cbt;
    if ((rc = cn_cpu_as_f32(be, "codebook_lookup", "codebook", codebook, &cb, &cbt))) return rc;
    float *yd = y->data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < T; t++) {
            const float *row = cb + (int64_t)id[n * T + t] * D;
            for (int64_t c = 0; c < D; c++) yd[(n * D + c) * T + t] = row[c];
        }
    free(cbt);
    return 0;
}
