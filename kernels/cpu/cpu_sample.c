/* SPDX-License-Identifier: MIT
 * Logits filtering (temperature, top-k, top-p exactly as facts 9.1) and the categorical draw
 * from the shared counter-based uniform. Never uses a random state of its own: draw n of a
 * call reads cn_uniform(seed, stream + n, step) only, so every backend draws the same token.
 */
#include "cpu_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* (value, index) pairs sorted by value descending, ties by index ascending (a stable sort) */
typedef struct s_pair {
    float v;
    int32_t i;
} s_pair;

static int s_desc(const void *a, const void *b)
{
    const s_pair *x = a, *y = b;
    if (x->v > y->v) return -1;
    if (x->v < y->v) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* top-k on one row: remove (-inf) every entry strictly below the k-th largest value */
static void s_top_k(float *y, int64_t V, int64_t k, s_pair *tmp)
{
    for (int64_t j = 0; j < V; j++) tmp[j] = (s_pair){ y[j], (int32_t)j };
    qsort(tmp, (size_t)V, sizeof *tmp, s_desc);
    float kth = tmp[k - 1].v;
    for (int64_t j = 0; j < V; j++)
        if (y[j] < kth) y[j] = -INFINITY;
}

/* top-p on one row: sort descending, fp32 softmax, cumulative sum (accumulated in double and
 * rounded per entry as torch's CPU cumsum does); remove sorted entry j when the cumulative
 * probability of entry j-1 is > top_p (the mask shifted right by one); entry 0 is kept. */
static void s_top_p(float *y, int64_t V, float top_p, s_pair *tmp, float *e)
{
    for (int64_t j = 0; j < V; j++) tmp[j] = (s_pair){ y[j], (int32_t)j };
    qsort(tmp, (size_t)V, sizeof *tmp, s_desc);
    float mx = tmp[0].v, sum = 0.0f;
    for (int64_t j = 0; j < V; j++) sum += (e[j] = expf(tmp[j].v - mx));
    float inv = 1.0f / sum;
    double cum = 0;
    int prev_over = 0;   /* cumulative probability of the previous sorted entry > top_p */
    for (int64_t j = 0; j < V; j++) {
        if (j > 0 && prev_over) y[tmp[j].i] = -INFINITY;
        cum += (double)(e[j] * inv);
        prev_over = (float)cum > top_p;
    }
}

static int s_check(cn_backend *be, const char *op, const cn_sample_desc *s)
{
    if (s == NULL) return cn_cpu_fail(be, CN_EINVAL, "%s: no sample desc", op);
    if (!(s->temperature > 0.0f) || isinf(s->temperature))
        return cn_cpu_fail(be, CN_EINVAL, "%s: temperature %g must be > 0 and finite", op,
                           (double)s->temperature);
    if (s->top_k < 0 || !(s->top_p >= 0.0f))
        return cn_cpu_fail(be, CN_EINVAL, "%s: top_k %d and top_p %g must be >= 0", op, s->top_k,
                           (double)s->top_p);
    if (s->top_k > 0 && s->top_p > 0.0f)
        return cn_cpu_fail(be, CN_EINVAL, "%s: top_k %d and top_p %g: at most one may be set "
                           "(the reference asserts this)", op, s->top_k, (double)s->top_p);
    return 0;
}

/* y (N, V) = filtered(x (N, V) / temperature), removed entries -inf; y may alias x */
int cn_cpu_filter_logits(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                         const cn_sample_desc *s)
{
    char sx[96], sy[96];
    int rc;
    if ((rc = cn_cpu_need(be, "filter_logits", "x", x, CN_F32)) ||
        (rc = cn_cpu_need(be, "filter_logits", "y", y, CN_F32)) ||
        (rc = s_check(be, "filter_logits", s)))
        return rc;
    int64_t N = cn_cpu_rows(x), V = cn_cpu_cols(x);
    if (cn_cpu_rows(y) != N || cn_cpu_cols(y) != V || V < 1)
        return cn_cpu_fail(be, CN_EINVAL, "filter_logits: y %s must match x %s (V >= 1)",
                           cn_cpu_shape(y, sy, sizeof sy), cn_cpu_shape(x, sx, sizeof sx));
    s_pair *tmp = NULL;
    float *e = NULL;
    if (s->top_k > 0 || s->top_p > 0.0f) {
        tmp = malloc((size_t)V * sizeof *tmp);
        e = malloc((size_t)V * sizeof(float));
        if (tmp == NULL || e == NULL) {
            free(tmp);
            free(e);
            return cn_cpu_fail(be, CN_ENOMEM, "filter_logits: no memory to sort %lld logits",
                               (long long)V);
        }
    }
    const float *xd = x->data;
    float *yd = y->data;
    int64_t k = s->top_k < V ? s->top_k : V;
    for (int64_t n = 0; n < N; n++) {
        float *row = yd + n * V;
        for (int64_t j = 0; j < V; j++) row[j] = xd[n * V + j] / s->temperature;
        if (k > 0) s_top_k(row, V, k, tmp);
        else if (s->top_p > 0.0f) s_top_p(row, V, s->top_p, tmp, e);
    }
    free(tmp);
    free(e);
    return 0;
}

/* index of the draw u in [0, 1) from softmax(row): the first index (in index order) whose
 * cumulative probability, computed in double, exceeds u; the last kept index if rounding
 * leaves the total at or below u */
static int32_t s_draw(const float *row, int64_t V, double u)
{
    double mx = -INFINITY, sum = 0, cum = 0;
    int64_t last = 0;
    for (int64_t j = 0; j < V; j++) mx = row[j] > mx ? row[j] : mx;
    if (isinf(mx) && mx < 0) return 0;          /* everything removed: cannot happen */
    for (int64_t j = 0; j < V; j++) sum += exp((double)row[j] - mx);
    for (int64_t j = 0; j < V; j++) {
        if (row[j] == -INFINITY) continue;
        cum += exp((double)row[j] - mx) / sum;
        last = j;
        if (cum > u) return (int32_t)j;
    }
    return (int32_t)last;
}

/* ids (N) i32 = one draw per row of softmax(filtered(logits (N, V) / temperature));
 *   draw n uses u = cn_uniform(seed, stream + n, step); logits is overwritten */
int cn_cpu_sample(cn_backend *be, cn_tensor *ids, cn_tensor *logits, const cn_sample_desc *s)
{
    char si[96], sl[96];
    int rc;
    if ((rc = cn_cpu_need(be, "sample", "ids", ids, CN_I32)) ||
        (rc = cn_cpu_need(be, "sample", "logits", logits, CN_F32)))
        return rc;
    int64_t N = cn_cpu_rows(logits), V = cn_cpu_cols(logits);
    if (cn_tensor_nelem(ids) != N)
        return cn_cpu_fail(be, CN_EINVAL, "sample: ids %s must hold one id per row of logits %s",
                           cn_cpu_shape(ids, si, sizeof si), cn_cpu_shape(logits, sl, sizeof sl));
    const float *ld = logits->data;
    for (int64_t i = 0; i < N * V; i++)
        if (isnan(ld[i]) || ld[i] == INFINITY)
            return cn_cpu_fail(be, CN_EINVAL, "sample: logit %lld of row %lld is %g; the model "
                               "produced a non-finite value", (long long)(i % V),
                               (long long)(i / V), (double)ld[i]);
    if ((rc = cn_cpu_filter_logits(be, logits, logits, s))) return rc;
    int32_t *out = ids->data;
    for (int64_t n = 0; n < N; n++)
        out[n] = s_draw(ld + n * V, V, cn_uniform(s->seed, s->stream + (uint64_t)n, s->step));
    return 0;
}
