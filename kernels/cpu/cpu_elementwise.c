/* SPDX-License-Identifier: MIT
 * Element-wise and data-movement ops on the CPU: quick GELU, ReLU, axpy, embedding add and
 * per-item transpose. Never allocates: every op works in the tensors it is given.
 */
#include "cpu_internal.h"

#include <math.h>
#include <stdlib.h>

/* x (any shape) = x * sigmoid(1.702 x), in place */
int cn_cpu_gelu_quick(cn_backend *be, cn_tensor *x)
{
    int rc = cn_cpu_need(be, "gelu_quick", "x", x, CN_F32);
    if (rc) return rc;
    float *d = x->data;
    int64_t n = cn_tensor_nelem(x);
    for (int64_t i = 0; i < n; i++) d[i] = d[i] * (1.0f / (1.0f + expf(-1.702f * d[i])));
    return 0;
}

/* y (any shape) = max(x, 0); same element count; y may alias x */
int cn_cpu_relu(cn_backend *be, cn_tensor *y, const cn_tensor *x)
{
    char sx[96], sy[96];
    int rc;
    if ((rc = cn_cpu_need(be, "relu", "x", x, CN_F32)) ||
        (rc = cn_cpu_need(be, "relu", "y", y, CN_F32)))
        return rc;
    int64_t n = cn_tensor_nelem(x);
    if (cn_tensor_nelem(y) != n)
        return cn_cpu_fail(be, CN_EINVAL, "relu: y %s and x %s differ in element count",
                           cn_cpu_shape(y, sy, sizeof sy), cn_cpu_shape(x, sx, sizeof sx));
    const float *xd = x->data;
    float *yd = y->data;
    for (int64_t i = 0; i < n; i++) yd[i] = xd[i] > 0.0f ? xd[i] : 0.0f;
    return 0;
}

/* y (any shape) += alpha * x (same element count) */
int cn_cpu_axpy(cn_backend *be, cn_tensor *y, const cn_tensor *x, float alpha)
{
    char sx[96], sy[96];
    int rc;
    if ((rc = cn_cpu_need(be, "axpy", "x", x, CN_F32)) ||
        (rc = cn_cpu_need(be, "axpy", "y", y, CN_F32)))
        return rc;
    int64_t n = cn_tensor_nelem(x);
    if (cn_tensor_nelem(y) != n)
        return cn_cpu_fail(be, CN_EINVAL, "axpy: y %s and x %s differ in element count",
                           cn_cpu_shape(y, sy, sizeof sy), cn_cpu_shape(x, sx, sizeof sx));
    const float *xd = x->data;
    float *yd = y->data;
    if (alpha == 1.0f) {       /* exact sum, the residual add of every layer */
        for (int64_t i = 0; i < n; i++) yd[i] += xd[i];
        return 0;
    }
    for (int64_t i = 0; i < n; i++) yd[i] += alpha * xd[i];
    return 0;
}

/* y (M, W) += table (V, W)[ids[m]]; ids (M) i32; id < 0 adds nothing, id >= V is an error */
int cn_cpu_embed_add(cn_backend *be, cn_tensor *y, const cn_tensor *table, const cn_tensor *ids)
{
    char sy[96], st[96], si[96];
    int rc;
    if ((rc = cn_cpu_need(be, "embed_add", "y", y, CN_F32)) ||
        (rc = cn_cpu_need(be, "embed_add", "ids", ids, CN_I32)))
        return rc;
    if (table == NULL || table->nd != 2 ||
        (table->type != CN_F32 && table->type != CN_F16 && table->type != CN_BF16))
        return cn_cpu_fail(be, CN_EINVAL, "embed_add: table must be a 2-axis float tensor, got %s",
                           cn_cpu_shape(table, st, sizeof st));
    int64_t M = cn_cpu_rows(y), W = cn_cpu_cols(y), V = table->ne[0];
    if (table->ne[1] != W || cn_tensor_nelem(ids) != M)
        return cn_cpu_fail(be, CN_EINVAL, "embed_add: y %s, table %s and ids %s do not fit "
                           "(need table (V, %lld) and %lld ids)",
                           cn_cpu_shape(y, sy, sizeof sy), cn_cpu_shape(table, st, sizeof st),
                           cn_cpu_shape(ids, si, sizeof si), (long long)W, (long long)M);
    const int32_t *id = ids->data;
    for (int64_t m = 0; m < M; m++)
        if (id[m] >= V)
            return cn_cpu_fail(be, CN_EINVAL, "embed_add: ids[%lld] = %d is outside the table "
                               "of %lld rows", (long long)m, id[m], (long long)V);
    float *yd = y->data, *row = NULL;
    if (table->type != CN_F32 && (row = malloc((size_t)(W ? W : 1) * sizeof(float))) == NULL)
        return cn_cpu_fail(be, CN_ENOMEM, "embed_add: no memory for one row of %lld", (long long)W);
    for (int64_t m = 0; m < M; m++) {
        if (id[m] < 0) continue;
        const float *src = (const float *)table->data + (int64_t)id[m] * W;
        if (row) {
            cn_cpu_widen(row, table, (int64_t)id[m] * W, W);
            src = row;
        }
        for (int64_t i = 0; i < W; i++) yd[m * W + i] += src[i];
    }
    free(row);
    return 0;
}

/* y (N, B, A) = x (N, A, B) transposed per item; (A, B) -> (B, A) when 2 axes; no aliasing */
int cn_cpu_transpose(cn_backend *be, cn_tensor *y, const cn_tensor *x)
{
    char sx[96], sy[96];
    int rc;
    if ((rc = cn_cpu_need(be, "transpose", "x", x, CN_F32)) ||
        (rc = cn_cpu_need(be, "transpose", "y", y, CN_F32)))
        return rc;
    if (x->nd < 2 || x->nd > 3 || y->nd != x->nd)
        return cn_cpu_fail(be, CN_EINVAL, "transpose: x %s and y %s must both have 2 or 3 axes",
                           cn_cpu_shape(x, sx, sizeof sx), cn_cpu_shape(y, sy, sizeof sy));
    int o = x->nd - 2;
    int64_t N = o ? x->ne[0] : 1, A = x->ne[o], B = x->ne[o + 1];
    if ((o && y->ne[0] != N) || y->ne[o] != B || y->ne[o + 1] != A)
        return cn_cpu_fail(be, CN_EINVAL, "transpose: y %s must be x %s with the last two axes "
                           "swapped", cn_cpu_shape(y, sy, sizeof sy), cn_cpu_shape(x, sx, sizeof sx));
    if (y->data == x->data && A * B > 1)
        return cn_cpu_fail(be, CN_EINVAL, "transpose: y may not alias x %s",
                           cn_cpu_shape(x, sx, sizeof sx));
    const float *xd = x->data;
    float *yd = y->data;
    for (int64_t n = 0; n < N; n++) {
        const float *xs = xd + n * A * B;
        float *ys = yd + n * A * B;
        for (int64_t a0 = 0; a0 < A; a0 += 32)       /* 32x32 tiles keep both sides cached */
            for (int64_t b0 = 0; b0 < B; b0 += 32)
                for (int64_t a = a0; a < A && a < a0 + 32; a++)
                    for (int64_t b = b0; b < B && b < b0 + 32; b++) ys[b * A + a] = xs[a * B + b];
    }
    return 0;
}
