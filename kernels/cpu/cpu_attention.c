/* SPDX-License-Identifier: MIT
 * Attention on the CPU: the key/value cache store and masked softmax(q k^T / sqrt(hd)) v per
 * head for every Jukebox key set (facts 8.2), with absolute query positions. Never builds a
 * mask matrix: each query's key set is a range computed from its position.
 */
#include "cpu_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CN_CPU_ATTN_TILE 64   /* query rows per score tile */

/* for item n, row r < len:
 *   k[(n*k_stride + pos0 + r)*S .. +S] = src[(n*len + r)*src_row_stride + k_col .. +S]
 *   v[(n*k_stride + pos0 + r)*S .. +S] = src[(n*len + r)*src_row_stride + v_col .. +S] */
int cn_cpu_kv_store(cn_backend *be, cn_tensor *k, cn_tensor *v, const cn_tensor *src,
                    int n_items, int len, int src_row_stride, int k_col, int v_col, int S,
                    int pos0, int k_stride)
{
    char sk[96], sv[96], ss[96];
    int rc;
    if ((rc = cn_cpu_need(be, "kv_store", "k", k, CN_F32)) ||
        (rc = cn_cpu_need(be, "kv_store", "v", v, CN_F32)) ||
        (rc = cn_cpu_need(be, "kv_store", "src", src, CN_F32)))
        return rc;
    if (n_items < 0 || len < 0 || S < 1 || pos0 < 0 || k_col < 0 || v_col < 0 ||
        pos0 + len > k_stride || k_col + S > src_row_stride || v_col + S > src_row_stride)
        return cn_cpu_fail(be, CN_EINVAL, "kv_store: arguments do not fit: n_items %d, len %d, "
                           "S %d, pos0 %d, k_stride %d (need pos0 + len <= k_stride), k_col %d, "
                           "v_col %d, src_row_stride %d (need col + S <= stride)", n_items, len,
                           S, pos0, k_stride, k_col, v_col, src_row_stride);
    int64_t cache = (int64_t)n_items * k_stride * S;
    int64_t need_src = (int64_t)n_items * len * src_row_stride;
    if (cn_tensor_nelem(k) < cache || cn_tensor_nelem(v) < cache)
        return cn_cpu_fail(be, CN_EINVAL, "kv_store: k %s and v %s must hold %d items x %d "
                           "positions x %d = %lld floats", cn_cpu_shape(k, sk, sizeof sk),
                           cn_cpu_shape(v, sv, sizeof sv), n_items, k_stride, S, (long long)cache);
    if (cn_tensor_nelem(src) < need_src)
        return cn_cpu_fail(be, CN_EINVAL, "kv_store: src %s must hold %d items x %d rows x %d "
                           "= %lld floats", cn_cpu_shape(src, ss, sizeof ss), n_items, len,
                           src_row_stride, (long long)need_src);
    const float *sd = src->data;
    float *kd = k->data, *vd = v->data;
    for (int64_t n = 0; n < n_items; n++)
        for (int64_t r = 0; r < len; r++) {
            const float *row = sd + (n * len + r) * src_row_stride;
            int64_t at = (n * k_stride + pos0 + r) * S;
            memcpy(kd + at, row + k_col, (size_t)S * sizeof(float));
            memcpy(vd + at, row + v_col, (size_t)S * sizeof(float));
        }
    return 0;
}

/* The keys of query position i: lo, lo+step, ... <= hi (empty when hi < lo). */
typedef struct s_keys {
    int64_t lo, hi, step;
} s_keys;

static s_keys s_key_set(const cn_attn_desc *d, int64_t i)
{
    int64_t c = d->block_len;
    s_keys s = { 0, i, 1 };
    switch (d->type) {
    case CN_ATTN_DENSE: break;
    case CN_ATTN_BLOCK: s.lo = (i / c) * c; break;
    case CN_ATTN_TRANSPOSE: s.lo = i % c; s.step = c; break;
    case CN_ATTN_PREV_BLOCK:
        s.lo = (i / c - 1) * c;
        s.hi = (i / c) * c - 1;
        if (i < c) s.lo = 0, s.hi = -1;          /* block 0: zero keys, output exactly 0 */
        break;
    case CN_ATTN_CROSS: s.hi = d->k_len - 1; break;
    case CN_ATTN_PRIME: if (s.hi > d->prime_len - 1) s.hi = d->prime_len - 1; break;
    }
    return s;
}

static const char *s_type_name(cn_attn_type t)
{
    switch (t) {
    case CN_ATTN_DENSE: return "dense";
    case CN_ATTN_BLOCK: return "block";
    case CN_ATTN_TRANSPOSE: return "transpose";
    case CN_ATTN_PREV_BLOCK: return "previous block";
    case CN_ATTN_CROSS: return "cross";
    case CN_ATTN_PRIME: return "prime";
    }
    return "unknown";
}

static int s_check_desc(cn_backend *be, const cn_tensor *out, const float *q, const float *k,
                        const float *v, const cn_attn_desc *d, const cn_tensor *probs)
{
    char so[96];
    int rc;
    if (d == NULL || q == NULL || k == NULL || v == NULL)
        return cn_cpu_fail(be, CN_EINVAL, "attention: desc, q, k and v are all required");
    if (strcmp(s_type_name(d->type), "unknown") == 0)
        return cn_cpu_fail(be, CN_EINVAL, "attention: type %d is not one of 0, 1, 2, 3, 6, 7",
                           (int)d->type);
    if ((rc = cn_cpu_need(be, "attention", "out", out, CN_F32))) return rc;
    int64_t S = (int64_t)d->heads * d->head_dim;
    if (d->n_items < 0 || d->heads < 1 || d->head_dim < 1 || d->q_len < 0 || d->q_pos0 < 0 ||
        d->k_len < 0 || d->q_row_stride < S || d->k_stride < d->k_len)
        return cn_cpu_fail(be, CN_EINVAL, "attention (%s): bad desc: n_items %d, heads %d, "
                           "head_dim %d, q_len %d, q_pos0 %d, q_row_stride %d (>= S = %lld), "
                           "k_len %d, k_stride %d (>= k_len)", s_type_name(d->type), d->n_items,
                           d->heads, d->head_dim, d->q_len, d->q_pos0, d->q_row_stride,
                           (long long)S, d->k_len, d->k_stride);
    if ((d->type == CN_ATTN_BLOCK || d->type == CN_ATTN_TRANSPOSE ||
         d->type == CN_ATTN_PREV_BLOCK) && d->block_len < 1)
        return cn_cpu_fail(be, CN_EINVAL, "attention (%s): block_len %d must be >= 1",
                           s_type_name(d->type), d->block_len);
    if (d->type == CN_ATTN_PRIME && d->prime_len < 1)
        return cn_cpu_fail(be, CN_EINVAL, "attention (prime): prime_len %d must be >= 1",
                           d->prime_len);
    int64_t want = (int64_t)d->n_items * d->q_len * S;
    if (cn_tensor_nelem(out) != want)
        return cn_cpu_fail(be, CN_EINVAL, "attention (%s): out %s must hold (%d, %d, %lld)",
                           s_type_name(d->type), cn_cpu_shape(out, so, sizeof so), d->n_items,
                           d->q_len, (long long)S);
    if (d->q_len > 0) {
        int64_t last = (int64_t)d->q_pos0 + d->q_len - 1;
        s_keys ks = s_key_set(d, last);
        if (ks.hi >= d->k_len)
            return cn_cpu_fail(be, CN_EINVAL, "attention (%s): query position %lld needs key "
                               "%lld but only k_len = %d keys are present", s_type_name(d->type),
                               (long long)last, (long long)ks.hi, d->k_len);
    }
    if (probs) {
        if ((rc = cn_cpu_need(be, "attention", "probs", probs, CN_F32))) return rc;
        if (cn_tensor_nelem(probs) != (int64_t)d->n_items * d->q_len * d->k_len)
            return cn_cpu_fail(be, CN_EINVAL, "attention (%s): probs %s must hold (%d, %d, %d)",
                               s_type_name(d->type), cn_cpu_shape(probs, so, sizeof so),
                               d->n_items, d->q_len, d->k_len);
        if (d->probs_head < 0 || d->probs_head >= d->heads)
            return cn_cpu_fail(be, CN_EINVAL, "attention: probs_head %d is not in 0..%d",
                               d->probs_head, d->heads - 1);
    }
    return 0;
}

/* p (n) = softmax(p) in fp32 after subtracting the max; n >= 1 */
static void s_softmax(float *p, int64_t n)
{
    float mx = p[0];
    for (int64_t j = 1; j < n; j++) mx = p[j] > mx ? p[j] : mx;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        p[j] = expf(p[j] - mx);
        sum += p[j];
    }
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < n; j++) p[j] *= inv;
}

/* The arguments one (item, head) pass shares. */
typedef struct s_head {
    const cn_attn_desc *d;
    const float *q, *k, *v;    /* item n, head h already applied */
    float *out;                /* item n's rows, head h's columns */
    float *probs;              /* item n's (q_len, k_len) block, or NULL */
    float scale;
    int64_t S;
} s_head;

/* Transposed-block keys are strided by c: one query at a time, gemv on strided rows. */
static void s_head_strided(const s_head *a, float *sc)
{
    const cn_attn_desc *d = a->d;
    int hd = d->head_dim;
    for (int64_t r = 0; r < d->q_len; r++) {
        s_keys ks = s_key_set(d, d->q_pos0 + r);
        int64_t nk = (ks.hi - ks.lo) / ks.step + 1, lda = ks.step * a->S;
        const float *qr = a->q + r * d->q_row_stride;
        float *o = a->out + r * a->S;
        /* sc (nk) = K[lo::c] (nk, hd) . q (hd) * scale */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nk, hd, a->scale, a->k + ks.lo * a->S,
                    (int)lda, qr, 1, 0.0f, sc, 1);
        s_softmax(sc, nk);
        /* o (hd) = V[lo::c]^T (hd, nk) . sc (nk) */
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)nk, hd, 1.0f, a->v + ks.lo * a->S,
                    (int)lda, sc, 1, 0.0f, o, 1);
        if (a->probs) {
            float *pr = a->probs + r * d->k_len;
            memset(pr, 0, (size_t)d->k_len * sizeof(float));
            for (int64_t j = 0; j < nk; j++) pr[ks.lo + j * ks.step] = sc[j];
        }
    }
}

/* Contiguous key ranges: a tile of query rows shares one score matrix over the union of
 * their ranges; each row then softmaxes only its own range (the rest is zeroed). */
static void s_head_tiled(const s_head *a, float *sc)
{
    const cn_attn_desc *d = a->d;
    int hd = d->head_dim;
    for (int64_t r0 = 0; r0 < d->q_len; r0 += CN_CPU_ATTN_TILE) {
        int64_t r1 = r0 + CN_CPU_ATTN_TILE < d->q_len ? r0 + CN_CPU_ATTN_TILE : d->q_len;
        int64_t first = r0;
        while (first < r1 && s_key_set(d, d->q_pos0 + first).hi < 0) first++;
        for (int64_t r = r0; r < first; r++)           /* empty key set: output exactly 0 */
            memset(a->out + r * a->S, 0, (size_t)hd * sizeof(float));
        if (a->probs) memset(a->probs + r0 * d->k_len, 0,
                             (size_t)((r1 - r0) * d->k_len) * sizeof(float));
        if (first == r1) continue;
        int64_t lo = s_key_set(d, d->q_pos0 + first).lo, hi = s_key_set(d, d->q_pos0 + r1 - 1).hi;
        int64_t nk = hi - lo + 1, tq = r1 - first;
        /* sc (tq, nk) = Q (tq, hd) . K[lo..hi] (nk, hd)^T * scale; one query: a gemv */
        if (tq == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nk, hd, a->scale, a->k + lo * a->S,
                        (int)a->S, a->q + first * d->q_row_stride, 1, 0.0f, sc, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)tq, (int)nk, hd, a->scale,
                        a->q + first * d->q_row_stride, d->q_row_stride, a->k + lo * a->S,
                        (int)a->S, 0.0f, sc, (int)nk);
        for (int64_t r = first; r < r1; r++) {
            s_keys ks = s_key_set(d, d->q_pos0 + r);
            float *row = sc + (r - first) * nk;
            int64_t a0 = ks.lo - lo, a1 = ks.hi - lo + 1;
            for (int64_t j = 0; j < a0; j++) row[j] = 0.0f;
            s_softmax(row + a0, a1 - a0);
            for (int64_t j = a1; j < nk; j++) row[j] = 0.0f;
            if (a->probs) memcpy(a->probs + r * d->k_len + ks.lo, row + a0,
                                 (size_t)(a1 - a0) * sizeof(float));
        }
        /* out (tq, hd) = sc (tq, nk) . V[lo..hi] (nk, hd) */
        if (tq == 1)
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)nk, hd, 1.0f, a->v + lo * a->S,
                        (int)a->S, sc, 1, 0.0f, a->out + first * a->S, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)tq, hd, (int)nk, 1.0f,
                        sc, (int)nk, a->v + lo * a->S, (int)a->S, 0.0f, a->out + first * a->S,
                        (int)a->S);
    }
}

/* out (N, q_len, S) = softmax(q k^T / sqrt(hd), keys of d->type) v, per head h (columns
 *   h*hd .. h*hd+hd-1 of q, k, v and out)
 *   q: query row r of item n at q + (n*q_len + r)*q_row_stride, absolute position q_pos0 + r
 *   k, v: key position j of item n at row n*k_stride + j, rows of S floats
 *   probs (N, q_len, k_len): head d->probs_head's probabilities, 0 outside the key set */
int cn_cpu_attention(cn_backend *be, cn_tensor *out, const float *q, const float *k,
                     const float *v, const cn_attn_desc *d, cn_tensor *probs)
{
    int rc = s_check_desc(be, out, q, k, v, d, probs);
    if (rc) return rc;
    int64_t S = (int64_t)d->heads * d->head_dim;
    if (d->q_len == 0 || d->n_items == 0) return 0;
    int64_t per = d->type == CN_ATTN_TRANSPOSE ? 1 : CN_CPU_ATTN_TILE;
    float *sc = malloc((size_t)(per * (d->k_len ? d->k_len : 1)) * sizeof(float));
    if (sc == NULL)
        return cn_cpu_fail(be, CN_ENOMEM, "attention: no memory for a %lld x %d score tile",
                           (long long)per, d->k_len);
    for (int64_t n = 0; n < d->n_items; n++)
        for (int h = 0; h < d->heads; h++) {
            int64_t col = (int64_t)h * d->head_dim;
            s_head a = {
                .d = d,
                .q = q + n * d->q_len * d->q_row_stride + col,
                .k = k + n * d->k_stride * S + col,
                .v = v + n * d->k_stride * S + col,
                .out = (float *)out->data + n * d->q_len * S + col,
                .probs = probs && h == d->probs_head
                             ? (float *)probs->data + n * d->q_len * d->k_len : NULL,
                .scale = (float)(1.0 / sqrt((double)d->head_dim)),
                .S = S,
            };
            if (d->type == CN_ATTN_TRANSPOSE) s_head_strided(&a, sc);
            else s_head_tiled(&a, sc);
        }
    free(sc);
    return 0;
}
