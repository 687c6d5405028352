/* SPDX-License-Identifier: MIT
 * LayerNorm on the CPU: normalise each row over its last axis (biased variance, eps given),
 * then scale and shift. Statistics in double, output in fp32; never changes the row count.
 */
#include "cpu_internal.h"

#include <math.h>
#include <stdlib.h>

/* one row: y (W) = (x - mean) / sqrt(var + eps) * g + b; y may alias x */
static void s_layernorm_row(float *y, const float *x, const float *g, const float *b,
                            int64_t W, float eps)
{
    double mean = 0, var = 0;
    for (int64_t i = 0; i < W; i++) mean += x[i];
    mean /= (double)W;
    for (int64_t i = 0; i < W; i++) {
        double d = x[i] - mean;
        var += d * d;
    }
    var /= (double)W;                                   /* biased: divide by W, not W-1 */
    double rstd = 1.0 / sqrt(var + (double)eps);
    for (int64_t i = 0; i < W; i++) {
        float n = (float)((x[i] - mean) * rstd);
        y[i] = n * (g ? g[i] : 1.0f) + (b ? b[i] : 0.0f);
    }
}

/* y (M, W) = LayerNorm(x (M, W)) * g (W) + b (W); g and b may be NULL (1 and 0) */
int cn_cpu_layernorm(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *g,
                     const cn_tensor *b, float eps)
{
    char sx[96], sy[96], sp[96];
    int rc;
    if ((rc = cn_cpu_need(be, "layernorm", "x", x, CN_F32)) ||
        (rc = cn_cpu_need(be, "layernorm", "y", y, CN_F32)))
        return rc;
    int64_t M = cn_cpu_rows(x), W = cn_cpu_cols(x);
    if (cn_cpu_rows(y) != M || cn_cpu_cols(y) != W)
        return cn_cpu_fail(be, CN_EINVAL, "layernorm: y %s must match x %s",
                           cn_cpu_shape(y, sy, sizeof sy), cn_cpu_shape(x, sx, sizeof sx));
    if (g && cn_tensor_nelem(g) != W)
        return cn_cpu_fail(be, CN_EINVAL, "layernorm: g %s must have W = %lld values (x %s)",
                           cn_cpu_shape(g, sp, sizeof sp), (long long)W,
                           cn_cpu_shape(x, sx, sizeof sx));
    if (b && cn_tensor_nelem(b) != W)
        return cn_cpu_fail(be, CN_EINVAL, "layernorm: b %s must have W = %lld values (x %s)",
                           cn_cpu_shape(b, sp, sizeof sp), (long long)W,
                           cn_cpu_shape(x, sx, sizeof sx));
    if (!(eps >= 0.0f))
        return cn_cpu_fail(be, CN_EINVAL, "layernorm: eps %g must be >= 0", (double)eps);
    if (W == 0) return 0;
    const float *gd, *bd;
    float *gt, *bt;
    if ((rc = cn_cpu_as_f32(be, "layernorm", "g", g, &gd, &gt)) != 0) return rc;
    if ((rc = cn_cpu_as_f32(be, "layernorm", "b", b, &bd, &bt)) != 0) {
        free(gt);
        return rc;
    }
    const float *xd = x->data;
    float *yd = y->data;
    for (int64_t m = 0; m < M; m++) s_layernorm_row(yd + m * W, xd + m * W, gd, bd, W, eps);
    free(gt);
    free(bt);
    return 0;
}
