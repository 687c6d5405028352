/* SPDX-License-Identifier: MIT
 * Running the VQ-VAE: checks a request, plans the activation scratch, runs an encoder or
 * decoder stack through the backend op table, quantises / dequantises with the codebook.
 * Never touches the model file and never asks which backend it is on.
 */
#include "vqvae_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest input a call accepts: 2^36 samples (~18 days of audio); keeps every product of
 * items x channels x length far inside int64. Memory runs out long before. */
#define S_MAX_T ((int64_t)1 << 36)
/* Most items in one call (a batch of candidates is a handful). */
#define S_MAX_ITEMS 4096

int64_t cn_vq_conv_out_len(const cn_vq_conv *c, int64_t T)
{
    if (c->transposed) return (T - 1) * c->stride - 2 * (int64_t)c->pad + c->k;
    int64_t span = (int64_t)c->dil * (c->k - 1) + 1;
    int64_t room = T + 2 * (int64_t)c->pad - span;
    return room < 0 ? 0 : room / c->stride + 1;
}

int cn_vqvae_levels(const cn_vqvae *v) { return v->levels; }
int cn_vqvae_bins(const cn_vqvae *v) { return v->bins; }
int cn_vqvae_emb_width(const cn_vqvae *v) { return v->emb_width; }

int64_t cn_vqvae_hop(const cn_vqvae *v, int level)
{
    return level >= 0 && level < v->levels ? v->hop[level] : 0;
}

int cn_vqvae_conv_count(const cn_vqvae *v) { return v->n_convs; }

int cn_vqvae_conv_get(const cn_vqvae *v, int i, cn_vqvae_conv_info *out)
{
    if (i < 0 || i >= v->n_convs) return -1;
    const cn_vq_conv *c = &v->convs[i];
    *out = (cn_vqvae_conv_info){ c->name, c->transposed, c->cin, c->cout, c->k, c->stride,
                                 c->pad, c->dil };
    return 0;
}

/* ---- planning ----------------------------------------------------------------------------- */

/* Walks STACK from (C, T) per item, giving the output shape and the largest per-item
 * activation (channels x length, the input included) any step holds. */
static int s_plan(const cn_vqvae *v, const cn_vq_stack *s, int64_t C, int64_t T, int64_t *Cout,
                  int64_t *Tout, int64_t *max_ct, char *err, size_t errlen)
{
    int64_t m = C * T;
    for (int i = 0; i < s->n; i++) {
        const cn_vq_layer *ly = &s->layers[i];
        const cn_vq_conv *a = &v->convs[ly->a];
        int64_t Ta = cn_vq_conv_out_len(a, T);
        if (Ta < 1) {
            snprintf(err, errlen, "vqvae: %s would get %lld samples, too short for its "
                     "kernel %d", a->name, (long long)T, a->k);
            return CN_EINVAL;
        }
        if (ly->kind == CN_VQ_RES) {
            m = a->cout * T > m ? a->cout * T : m;   /* inner (state) width */
        } else {
            C = a->cout;
            T = Ta;
        }
        m = C * T > m ? C * T : m;
    }
    *Cout = C;
    *Tout = T;
    *max_ct = m;
    return 0;
}

/* ---- running ------------------------------------------------------------------------------ */

typedef struct s_run {
    cn_vqvae *v;
    int N;
    float *buf[3];      /* backend memory, each N x max_ct floats */
    int cur;            /* which buffer holds the activation */
    int64_t C, T;       /* its shape per item */
    char *err;
    size_t errlen;
} s_run;

static cn_tensor s_act(float *p, int N, int64_t C, int64_t T)
{
    int64_t ne[3] = { N, C, T };
    return cn_tensor_make(p, CN_F32, 3, ne);
}

static int s_op_fail(s_run *r, int st, const char *op, const char *where)
{
    cn_backend *be = r->v->be;
    snprintf(r->err, r->errlen, "vqvae: %s at %s failed on the %s backend: %s", op, where,
             be->ops->name, be->ops->last_error(be));
    return st ? st : CN_EDEVICE;
}

/* y = conv(x) with conv C; x is (N, C->cin, T). Sets *Tout. */
static int s_conv(s_run *r, const cn_vq_conv *c, float *y, float *x, int64_t T, int64_t *Tout)
{
    cn_backend *be = r->v->be;
    int64_t To = cn_vq_conv_out_len(c, T);
    cn_tensor tx = s_act(x, r->N, c->cin, T), ty = s_act(y, r->N, c->cout, To);
    int st = c->transposed
                 ? be->ops->conv_transpose1d(be, &ty, &tx, &c->w, &c->b, c->stride, c->pad)
                 : be->ops->conv1d(be, &ty, &tx, &c->w, &c->b, c->stride, c->pad, c->dil);
    if (st) return s_op_fail(r, st, c->transposed ? "conv_transpose1d" : "conv1d", c->name);
    *Tout = To;
    return 0;
}

/* x += scale * C1(relu(C3(relu(x)))), in buffer cur, using the other two as scratch. */
static int s_res(s_run *r, const cn_vq_layer *ly)
{
    cn_backend *be = r->v->be;
    const cn_vq_conv *c3 = &r->v->convs[ly->a], *c1 = &r->v->convs[ly->b];
    float *x = r->buf[r->cur], *a = r->buf[(r->cur + 1) % 3], *b = r->buf[(r->cur + 2) % 3];
    cn_tensor tx = s_act(x, r->N, r->C, r->T), ta = s_act(a, r->N, r->C, r->T);
    cn_tensor tb = s_act(b, r->N, c3->cout, r->T);
    int64_t To;
    int st = be->ops->relu(be, &ta, &tx);
    if (st) return s_op_fail(r, st, "relu", c3->name);
    if ((st = s_conv(r, c3, b, a, r->T, &To))) return st;
    if ((st = be->ops->relu(be, &tb, &tb))) return s_op_fail(r, st, "relu", c1->name);
    if ((st = s_conv(r, c1, a, b, r->T, &To))) return st;
    if ((st = be->ops->axpy(be, &tx, &ta, ly->scale))) return s_op_fail(r, st, "axpy", c1->name);
    return 0;
}

static int s_run_stack(s_run *r, const cn_vq_stack *s)
{
    for (int i = 0; i < s->n; i++) {
        const cn_vq_layer *ly = &s->layers[i];
        int st;
        if (ly->kind == CN_VQ_RES) {
            if ((st = s_res(r, ly))) return st;
            continue;
        }
        const cn_vq_conv *c = &r->v->convs[ly->a];
        int next = (r->cur + 1) % 3;
        int64_t To;
        if ((st = s_conv(r, c, r->buf[next], r->buf[r->cur], r->T, &To))) return st;
        r->cur = next;
        r->C = c->cout;
        r->T = To;
    }
    return 0;
}

/* Whether the backend has room for the three activation buffers and EXTRA more bytes;
 * checked before touching the input, so an oversized request is refused at once. */
static int s_fits(s_run *r, int64_t max_ct, size_t extra, const char *what)
{
    cn_backend *be = r->v->be;
    double need = 3.0 * r->N * (double)max_ct * sizeof(float) + (double)extra;
    size_t fr = 0, tot = 0;
    if (need > (double)SIZE_MAX / 2 ||
        (be->ops->mem_info && be->ops->mem_info(be, &fr, &tot) == 0 && need > (double)fr)) {
        snprintf(r->err, r->errlen, "vqvae: %s of %d item(s) needs %.2f GiB of activations; "
                 "the %s backend has %.2f GiB free (use fewer items or shorter audio)",
                 what, r->N, need / 1073741824.0, be->ops->name, fr / 1073741824.0);
        return CN_ENOMEM;
    }
    return 0;
}

static int s_alloc(s_run *r, int64_t max_ct, const char *what)
{
    cn_backend *be = r->v->be;
    size_t bytes = (size_t)r->N * (size_t)max_ct * sizeof(float);
    for (int i = 0; i < 3; i++) {
        r->buf[i] = be->ops->alloc(be, bytes);
        if (!r->buf[i]) {
            snprintf(r->err, r->errlen, "vqvae: %s: allocating %.2f GiB on the %s backend "
                     "failed", what, bytes / 1073741824.0, be->ops->name);
            return CN_ENOMEM;
        }
    }
    return 0;
}

static void s_free(s_run *r)
{
    for (int i = 0; i < 3; i++)
        if (r->buf[i]) r->v->be->ops->release(r->v->be, r->buf[i]);
}

/* ---- checks ------------------------------------------------------------------------------- */

static int s_check_common(const cn_vqvae *v, int n_items, int level, char *err, size_t errlen)
{
    if (level < 0 || level >= v->levels) {
        snprintf(err, errlen, "vqvae: level %d does not exist; the model has levels 0..%d",
                 level, v->levels - 1);
        return CN_EINVAL;
    }
    if (n_items < 1 || n_items > S_MAX_ITEMS) {
        snprintf(err, errlen, "vqvae: %d items; give 1..%d", n_items, S_MAX_ITEMS);
        return CN_EINVAL;
    }
    return 0;
}

static int s_check_len(const cn_vqvae *v, int64_t T, int level, char *err, size_t errlen)
{
    int64_t hop = v->hop[level];
    if (T <= 0 || T % hop != 0) {
        snprintf(err, errlen, "vqvae: audio of %lld samples cannot be encoded at level %d: it "
                 "must be a positive multiple of the level's hop of %lld samples", (long long)T,
                 level, (long long)hop);
        return CN_EINVAL;
    }
    if (T > S_MAX_T) {
        snprintf(err, errlen, "vqvae: audio of %lld samples is longer than the %lld samples "
                 "one call takes", (long long)T, (long long)S_MAX_T);
        return CN_EINVAL;
    }
    return 0;
}

static int s_check_finite(const float *audio, int n_items, int64_t T, char *err, size_t errlen)
{
    for (int64_t i = 0; i < (int64_t)n_items * T; i++) {
        if (!isfinite(audio[i])) {
            snprintf(err, errlen, "vqvae: audio item %lld sample %lld is %g; samples must be "
                     "finite", (long long)(i / T), (long long)(i % T), audio[i]);
            return CN_EINVAL;
        }
    }
    return 0;
}

/* ---- encode / decode ---------------------------------------------------------------------- */

static int s_encode(s_run *r, const float *audio, int64_t T, int level, int32_t *codes,
                    float *latent)
{
    cn_vqvae *v = r->v;
    cn_backend *be = v->be;
    int64_t C, TL, max_ct;
    int st = s_plan(v, &v->enc[level], 1, T, &C, &TL, &max_ct, r->err, r->errlen);
    if (st) return st;
    size_t n_ids = (size_t)r->N * (size_t)TL;
    if ((st = s_fits(r, max_ct, n_ids * sizeof(int32_t), "encoding")) ||
        (st = s_check_finite(audio, r->N, T, r->err, r->errlen)) ||
        (st = s_alloc(r, max_ct, "encoding")))
        return st;
    int32_t *ids = be->ops->alloc(be, n_ids * sizeof(int32_t));
    if (!ids) return s_op_fail(r, CN_ENOMEM, "alloc", "codes");
    r->cur = 0, r->C = 1, r->T = T;
    if ((st = be->ops->upload(be, r->buf[0], audio, (size_t)r->N * T * sizeof(float))))
        st = s_op_fail(r, st, "upload", "audio");
    if (!st) st = s_run_stack(r, &v->enc[level]);
    if (!st && (r->C != v->emb_width || r->T != T / v->hop[level])) {
        snprintf(r->err, r->errlen, "vqvae: encoder %d gave %lld x %lld, expected %d x %lld",
                 level, (long long)r->C, (long long)r->T, v->emb_width,
                 (long long)(T / v->hop[level]));
        st = CN_EINVAL;
    }
    cn_tensor tx = s_act(r->buf[r->cur], r->N, r->C, r->T);
    cn_tensor tid = cn_tensor_make(ids, CN_I32, 1, (int64_t[]){ (int64_t)n_ids });
    if (!st && (st = be->ops->codebook_nearest(be, &tid, &tx, &v->codebook[level])))
        st = s_op_fail(r, st, "codebook_nearest", "bottleneck");
    if (!st && (st = be->ops->download(be, codes, ids, n_ids * sizeof(int32_t))))
        st = s_op_fail(r, st, "download", "codes");
    if (!st && latent &&
        (st = be->ops->download(be, latent, r->buf[r->cur], cn_tensor_bytes(&tx))))
        st = s_op_fail(r, st, "download", "encoder output");
    be->ops->release(be, ids);
    return st;
}

int cn_vqvae_encode_latent(cn_vqvae *v, const float *audio, int n_items, int64_t T, int level,
                           int32_t *codes, float *latent, char *err, size_t errlen)
{
    int st = s_check_common(v, n_items, level, err, errlen);
    if (st || (st = s_check_len(v, T, level, err, errlen))) return st;
    s_run r = { .v = v, .N = n_items, .err = err, .errlen = errlen };
    st = s_encode(&r, audio, T, level, codes, latent);
    s_free(&r);
    return st;
}

int cn_vqvae_encode(cn_vqvae *v, const float *audio, int n_items, int64_t T, int level,
                    int32_t *codes, char *err, size_t errlen)
{
    return cn_vqvae_encode_latent(v, audio, n_items, T, level, codes, NULL, err, errlen);
}

static int s_check_n_codes(const cn_vqvae *v, int64_t n_codes, int level, char *err,
                           size_t errlen)
{
    if (n_codes <= 0 || n_codes > S_MAX_T / v->hop[level]) {
        snprintf(err, errlen, "vqvae: %lld codes cannot be decoded at level %d: give 1..%lld",
                 (long long)n_codes, level, (long long)(S_MAX_T / v->hop[level]));
        return CN_EINVAL;
    }
    return 0;
}

static int s_check_codes(const cn_vqvae *v, const int32_t *codes, int n_items, int64_t n_codes,
                         int level, char *err, size_t errlen)
{
    for (int64_t i = 0; i < (int64_t)n_items * n_codes; i++) {
        if (codes[i] < 0 || codes[i] >= v->bins) {
            snprintf(err, errlen, "vqvae: code %d at item %lld position %lld is outside "
                     "0..%d (level %d has %d codes)", codes[i], (long long)(i / n_codes),
                     (long long)(i % n_codes), v->bins - 1, level, v->bins);
            return CN_EINVAL;
        }
    }
    return 0;
}

static int s_decode(s_run *r, const int32_t *codes, int64_t n_codes, int level, float *audio)
{
    cn_vqvae *v = r->v;
    cn_backend *be = v->be;
    int64_t C, T, max_ct;
    int st = s_plan(v, &v->dec[level], v->emb_width, n_codes, &C, &T, &max_ct, r->err,
                    r->errlen);
    if (st) return st;
    size_t n_ids = (size_t)r->N * (size_t)n_codes;
    if ((st = s_fits(r, max_ct, n_ids * sizeof(int32_t), "decoding")) ||
        (st = s_check_codes(v, codes, r->N, n_codes, level, r->err, r->errlen)) ||
        (st = s_alloc(r, max_ct, "decoding")))
        return st;
    int32_t *ids = be->ops->alloc(be, n_ids * sizeof(int32_t));
    if (!ids) return s_op_fail(r, CN_ENOMEM, "alloc", "codes");
    r->cur = 0, r->C = v->emb_width, r->T = n_codes;
    cn_tensor tx = s_act(r->buf[0], r->N, r->C, r->T);
    cn_tensor tid = cn_tensor_make(ids, CN_I32, 1, (int64_t[]){ (int64_t)n_ids });
    if ((st = be->ops->upload(be, ids, codes, n_ids * sizeof(int32_t))))
        st = s_op_fail(r, st, "upload", "codes");
    if (!st && (st = be->ops->codebook_lookup(be, &tx, &tid, &v->codebook[level])))
        st = s_op_fail(r, st, "codebook_lookup", "bottleneck");
    if (!st) st = s_run_stack(r, &v->dec[level]);
    if (!st && (r->C != 1 || r->T != n_codes * v->hop[level])) {
        snprintf(r->err, r->errlen, "vqvae: decoder %d gave %lld x %lld, expected 1 x %lld",
                 level, (long long)r->C, (long long)r->T, (long long)(n_codes * v->hop[level]));
        st = CN_EINVAL;
    }
    if (!st && (st = be->ops->download(be, audio, r->buf[r->cur],
                                       (size_t)r->N * (size_t)r->T * sizeof(float))))
        st = s_op_fail(r, st, "download", "audio");
    be->ops->release(be, ids);
    return st;
}

int cn_vqvae_decode(cn_vqvae *v, const int32_t *codes, int n_items, int64_t n_codes, int level,
                    float *audio, char *err, size_t errlen)
{
    int st = s_check_common(v, n_items, level, err, errlen);
    if (st || (st = s_check_n_codes(v, n_codes, level, err, errlen))) return st;
    s_run r = { .v = v, .N = n_items, .err = err, .errlen = errlen };
    st = s_decode(&r, codes, n_codes, level, audio);
    s_free(&r);
    return st;
}
