/* SPDX-License-Identifier: MIT
 * matmul on the CPU: y = beta*y + x W + b through OpenBLAS sgemm, W in either Jukebox layout.
 * Never loops over products by hand: every product here goes through cblas.
 */
#include "cpu_internal.h"

#include <cblas.h>
#include <stdlib.h>

/* Widened tiles of a F16/BF16 weight hold at most this many floats (16 MiB). */
#define CN_CPU_WTILE (1 << 22)

/* Below this many rows (decode: one row per item) a gemv per row beats OpenBLAS 0.3's sgemm,
 * which handles a thin x poorly: measured 2048 x 2048, weights not in cache, 2 threads:
 * M = 1: 0.49 vs 0.99 ms, M = 3: 0.91 vs 1.60 ms, M = 8: 1.81 vs 1.85 ms, M = 16: 3.3 vs 1.3. */
#define CN_CPU_GEMV_ROWS 8

/* y (M, N) = beta*y + x (M, K) W, one gemv per row of x */
static void s_matmul_rows(float *y, const float *x, const float *w, cn_wlayout layout,
                          float beta, int64_t M, int64_t K, int64_t N)
{
    for (int64_t m = 0; m < M; m++) {
        if (layout == CN_W_IN_OUT)      /* y[m] (N) = W (K, N)^T x[m] (K) */
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)K, (int)N, 1.0f, w, (int)N, x + m * K,
                        1, beta, y + m * N, 1);
        else                            /* y[m] (N) = W (N, K) x[m] (K) */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)K, 1.0f, w, (int)K, x + m * K,
                        1, beta, y + m * N, 1);
    }
}

/* y (M, N) += b (N) on every row */
static void s_add_bias(float *y, const float *b, int64_t M, int64_t N)
{
    for (int64_t m = 0; m < M; m++) {
        float *row = y + m * N;
        for (int64_t n = 0; n < N; n++) row[n] += b[n];
    }
}

/* y (M, N) = beta*y + x (M, K) w(K, N) or x w(N, K)^T, w widened tile by tile:
 * IN_OUT tiles K (accumulating into y), OUT_IN tiles N (columns of y). */
static int s_matmul_tiled(cn_backend *be, float *y, const float *x, const cn_tensor *w,
                          cn_wlayout layout, float beta, int64_t M, int64_t K, int64_t N)
{
    int64_t inner = layout == CN_W_IN_OUT ? N : K;          /* floats per weight row */
    int64_t outer = layout == CN_W_IN_OUT ? K : N;
    int64_t per = CN_CPU_WTILE / (inner ? inner : 1);
    if (per < 1) per = 1;
    if (per > outer) per = outer;
    float *tile = malloc((size_t)(per * inner) * sizeof(float));
    if (tile == NULL)
        return cn_cpu_fail(be, CN_ENOMEM, "matmul: no memory for a %lld x %lld weight tile",
                           (long long)per, (long long)inner);
    for (int64_t r0 = 0; r0 < outer; r0 += per) {
        int64_t n = outer - r0 < per ? outer - r0 : per;
        cn_cpu_widen(tile, w, r0 * inner, n * inner);
        if (layout == CN_W_IN_OUT)      /* y += x[:, r0:r0+n] tile(n, N) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)n,
                        1.0f, x + r0, (int)K, tile, (int)N, r0 == 0 ? beta : 1.0f, y, (int)N);
        else                            /* y[:, r0:r0+n] = x tile(n, K)^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)n, (int)K,
                        1.0f, x, (int)K, tile, (int)K, beta, y + r0, (int)N);
    }
    free(tile);
    return 0;
}

/* y (M, N) = beta*y + x (M, K) . W + b
 *   W: CN_W_IN_OUT (K, N) or CN_W_OUT_IN (N, K); F32, F16 or BF16
 *   b: (N) or NULL
 * x and y may have more than two axes: the last is the feature axis, the rest are rows. */
int cn_cpu_matmul(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                  cn_wlayout layout, const cn_tensor *b, float beta)
{
    char sx[96], sw[96], sy[96], sb[96];
    int rc;
    if ((rc = cn_cpu_need(be, "matmul", "x", x, CN_F32)) ||
        (rc = cn_cpu_need(be, "matmul", "y", y, CN_F32)))
        return rc;
    if (w == NULL || w->nd != 2)
        return cn_cpu_fail(be, CN_EINVAL, "matmul: w must have 2 axes, got %s",
                           cn_cpu_shape(w, sw, sizeof sw));
    if (layout != CN_W_IN_OUT && layout != CN_W_OUT_IN)
        return cn_cpu_fail(be, CN_EINVAL, "matmul: unknown weight layout %d", (int)layout);
    if (w->type != CN_F32 && w->type != CN_F16 && w->type != CN_BF16)
        return cn_cpu_fail(be, CN_EUNSUP, "matmul: weight dtype of %s is not supported",
                           cn_cpu_shape(w, sw, sizeof sw));
    int64_t M = cn_cpu_rows(x), K = cn_cpu_cols(x);
    int64_t wk = layout == CN_W_IN_OUT ? w->ne[0] : w->ne[1];
    int64_t N = layout == CN_W_IN_OUT ? w->ne[1] : w->ne[0];
    const char *lname = layout == CN_W_IN_OUT ? "in_out (K, N)" : "out_in (N, K)";
    if (wk != K)
        return cn_cpu_fail(be, CN_EINVAL, "matmul: x %s has K = %lld but w %s [%s] has K = %lld",
                           cn_cpu_shape(x, sx, sizeof sx), (long long)K,
                           cn_cpu_shape(w, sw, sizeof sw), lname, (long long)wk);
    if (cn_cpu_rows(y) != M || cn_cpu_cols(y) != N)
        return cn_cpu_fail(be, CN_EINVAL, "matmul: y %s must be (%lld, %lld) for x %s and w %s [%s]",
                           cn_cpu_shape(y, sy, sizeof sy), (long long)M, (long long)N,
                           cn_cpu_shape(x, sx, sizeof sx), cn_cpu_shape(w, sw, sizeof sw), lname);
    if (b != NULL && cn_tensor_nelem(b) != N)
        return cn_cpu_fail(be, CN_EINVAL, "matmul: bias %s must have N = %lld values",
                           cn_cpu_shape(b, sb, sizeof sb), (long long)N);
    if (y->data == x->data && M * N > 0)
        return cn_cpu_fail(be, CN_EINVAL, "matmul: y may not alias x %s",
                           cn_cpu_shape(x, sx, sizeof sx));
    if (M == 0 || N == 0) return 0;
    float *yd = y->data;
    const float *xd = x->data;
    if (K == 0) {
        for (int64_t i = 0; i < M * N; i++) yd[i] = beta == 0.0f ? 0.0f : beta * yd[i];
    } else if (w->type == CN_F32 && M < CN_CPU_GEMV_ROWS) {
        s_matmul_rows(yd, xd, w->data, layout, beta, M, K, N);
    } else if (w->type == CN_F32) {
        if (layout == CN_W_IN_OUT)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f,
                        xd, (int)K, w->data, (int)N, beta, yd, (int)N);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f,
                        xd, (int)K, w->data, (int)K, beta, yd, (int)N);
    } else if ((rc = s_matmul_tiled(be, yd, xd, w, layout, beta, M, K, N)) != 0) {
        return rc;
    }
    if (b != NULL) {
        float *tmp;
        const float *bd;
        if ((rc = cn_cpu_as_f32(be, "matmul", "bias", b, &bd, &tmp)) != 0) return rc;
        s_add_bias(yd, bd, M, N);
        free(tmp);
    }
    return 0;
}
