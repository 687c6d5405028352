/* SPDX-License-Identifier: MIT
 * A window's conditioning: the label embedding y_cond (facts 5), the per-position x_cond
 * (timing signal for the top level, the conditioner for upsamplers; zero on a lyric prefix)
 * and the lyric encoder's keys/values source (facts 7.4). Never touches the main cache.
 */
#include "prior_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_util.h"
#include "timing.h"

/* Every label field the model reads is inside its table. */
static int s_check_labels(const cn_prior_info *in, const int32_t *y, int N, char *err,
                          size_t errlen)
{
    for (int n = 0; n < N; n++) {
        const int32_t *r = y + (int64_t)n * in->label_len;
        if (in->has_labels && (r[3] < 0 || r[3] >= in->artist_bins))
            return snprintf(err, errlen, "item %d: artist id %d; this model has ids 0..%d", n,
                            r[3], in->artist_bins - 1), CN_EINVAL;
        for (int g = 0; in->has_labels && g < in->genre_slots; g++)
            if (r[4 + g] < -1 || r[4 + g] >= in->genre_bins)
                return snprintf(err, errlen, "item %d: genre slot %d holds id %d; this model "
                                "has ids 0..%d (-1 = empty)", n, g, r[4 + g],
                                in->genre_bins - 1), CN_EINVAL;
        for (int j = 0; j < in->n_tokens; j++) {
            int32_t c = r[4 + in->genre_slots + j];
            if (c < 0 || c >= in->lyric_vocab)
                return snprintf(err, errlen, "item %d: lyric slot %d holds id %d; the lyric "
                                "vocabulary is 0..%d", n, j, c, in->lyric_vocab - 1), CN_EINVAL;
        }
    }
    return 0;
}

/* Uploads host ids (count) into a fresh CN_I32 tensor. */
static int s_ids(cn_backend *be, cn_tensor *t, const int32_t *host, int64_t count, char *err,
                 size_t errlen)
{
    if (cn_tu_alloc(be, t, CN_I32, 1, &count))
        return snprintf(err, errlen, "out of backend memory for %lld ids", (long long)count),
               CN_ENOMEM;
    int rc = cn_tu_put(be, t, host, err, errlen);
    if (rc) cn_tu_release(be, t);
    return rc;
}

/* y_cond (N, W) = artist_emb[artist] + sum of genre_emb over slots >= 0, or the start token. */
static int s_y_cond(cn_prior_state *st, const int32_t *y, char *err, size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    const cn_prior_info *in = &p->info;
    int N = st->n, rc = 0;
    if (!in->has_labels) {
        for (int n = 0; n < N && rc == 0; n++)
            rc = be->ops->copy(be, (float *)st->y_cond.data + (int64_t)n * in->width,
                               p->start_token.data, (size_t)in->width * sizeof(float));
        if (rc) snprintf(err, errlen, "start token: %s", be->ops->last_error(be));
        return rc;
    }
    int32_t *ids = malloc((size_t)N * sizeof *ids);
    if (!ids) return snprintf(err, errlen, "out of memory"), CN_ENOMEM;
    cn_tensor t = { 0 };
    for (int g = 0; g <= in->genre_slots && rc == 0; g++) {   /* genres, then the artist */
        int col = g < in->genre_slots ? 4 + g : 3;
        for (int n = 0; n < N; n++) ids[n] = y[(int64_t)n * in->label_len + col];
        if ((rc = s_ids(be, &t, ids, N, err, errlen))) break;
        rc = be->ops->embed_add(be, &st->y_cond,
                                g < in->genre_slots ? &p->genre_emb : &p->artist_emb, &t);
        if (rc) snprintf(err, errlen, "label embedding: %s", be->ops->last_error(be));
        cn_tu_release(be, &t);
    }
    free(ids);
    return rc;
}

/* x_cond (N, positions, W): timing signal on the code positions (zero on a lyric prefix). */
static int s_timing(cn_prior_state *st, const int32_t *y, char *err, size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    const cn_prior_info *in = &p->info;
    int N = st->n, L = in->positions, rc = 0;
    cn_timing_geom g = { in->t_bins, in->min_duration, in->max_duration, in->sr };
    int32_t *ids = malloc((size_t)3 * N * L * sizeof *ids);
    int *ab = malloc((size_t)in->n_ctx * sizeof *ab), *rb = malloc((size_t)in->n_ctx * sizeof *rb);
    if (!ids || !ab || !rb) {
        rc = CN_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < (int64_t)3 * N * L; i++) ids[i] = -1;
    for (int n = 0; n < N; n++) {
        const int32_t *r = y + (int64_t)n * in->label_len;
        int tb;
        char why[256];
        if (cn_timing_bins(&g, r[0], r[1], r[2], in->n_ctx, &tb, ab, rb, why, sizeof why)) {
            snprintf(err, errlen, "item %d: %s", n, why);
            rc = CN_EINVAL;
            goto done;
        }
        for (int t = 0; t < in->n_ctx; t++) {
            int64_t at = (int64_t)n * L + in->prefix + t;
            ids[at] = tb;
            ids[(int64_t)N * L + at] = ab[t];
            ids[(int64_t)2 * N * L + at] = rb[t];
        }
    }
    const cn_tensor *tab[3] = { &p->total_emb, &p->abs_emb, &p->rel_emb };
    cn_tensor xc = cn_tensor_2d(st->x_cond.data, CN_F32, (int64_t)N * L, in->width);
    for (int k = 0; k < 3 && rc == 0; k++) {
        cn_tensor t;
        if ((rc = s_ids(be, &t, ids + (int64_t)k * N * L, (int64_t)N * L, err, errlen))) break;
        if ((rc = be->ops->embed_add(be, &xc, tab[k], &t)))
            snprintf(err, errlen, "timing signal: %s", be->ops->last_error(be));
        cn_tu_release(be, &t);
    }
done:
    free(ids);
    free(ab);
    free(rb);
    return rc;
}

/* x_cond (N, n_ctx, W) = conditioner(level-above codes). */
static int s_upsampler_cond(cn_prior_state *st, const int32_t *above, char *err, size_t errlen)
{
    cn_prior *p = st->p;
    const cn_prior_info *in = &p->info;
    if (!above) return snprintf(err, errlen, "an upsampler needs the level-above codes"),
                CN_EINVAL;
    for (int64_t i = 0; i < (int64_t)st->n * in->above_len; i++)
        if (above[i] < 0 || above[i] >= in->vocab)
            return snprintf(err, errlen, "level-above code %d at item %lld, position %lld: codes "
                            "are 0..%d", above[i], (long long)(i / in->above_len),
                            (long long)(i % in->above_len), in->vocab - 1), CN_EINVAL;
    cn_tensor t;
    int rc = s_ids(p->be, &t, above, (int64_t)st->n * in->above_len, err, errlen);
    if (rc) return rc;
    rc = cn_conditioner_forward(&p->cond, &t, st->n, in->above_len, &st->x_cond, err, errlen);
    cn_tu_release(p->be, &t);
    return rc;
}

/* Input rows (N*T, W) of a causal stack: pos_emb + (start vector at row 0, else
 * table[token of the previous position]). start is (1, W) or (N, W) (per_item). */
int cn_prior_embed_rows(cn_backend *be, cn_tensor *x, const cn_tensor *pos_emb, int pos0,
                        const cn_tensor *table, const cn_tensor *ids, const cn_tensor *start,
                        int per_item, int N, int len, int width)
{
    const cn_backend_ops *o = be->ops;
    size_t row = (size_t)width * sizeof(float);
    int rc = 0;
    for (int n = 0; n < N && rc == 0; n++)
        rc = o->copy(be, (char *)x->data + (size_t)n * len * row,
                     (const char *)pos_emb->data + (size_t)pos0 * row, (size_t)len * row);
    if (rc == 0) rc = o->embed_add(be, x, table, ids);
    for (int n = 0; n < N && rc == 0 && pos0 == 0; n++) {
        cn_tensor r0 = cn_tensor_2d((char *)x->data + (size_t)n * len * row, CN_F32, 1, width);
        cn_tensor s = cn_tensor_2d((char *)start->data + (per_item ? (size_t)n * row : 0),
                                   CN_F32, 1, width);
        rc = o->axpy(be, &r0, &s, 1.0f);
    }
    return rc;
}

/* encoder_kv (N, n_tokens, W) = LN(proj(lyric encoder(lyrics))), then every cross layer's
 * keys and values from it. */
static int s_encoder(cn_prior_state *st, const int32_t *y, char *err, size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    const cn_prior_info *in = &p->info;
    cn_lyric_encoder *e = &p->enc;
    int N = st->n, T = in->n_tokens, rc;
    int64_t R = (int64_t)N * T;
    cn_tf_state es;
    cn_tensor x = { 0 }, ids = { 0 };
    if ((rc = cn_tf_state_init(&es, &e->tf, N, T, T, 0, 0, err, errlen))) return rc;
    int32_t *h = malloc((size_t)R * sizeof *h);
    if (!h) {
        rc = CN_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int n = 0; n < N; n++)
        for (int j = 0; j < T; j++)
            h[(int64_t)n * T + j] = j == 0 ? -1 : y[(int64_t)n * in->label_len + 4 +
                                                   in->genre_slots + j - 1];
    if ((rc = s_ids(be, &ids, h, R, err, errlen))) goto done;
    if ((rc = cn_tu_alloc(be, &x, CN_F32, 2, (int64_t[]){ R, e->width }))) {
        snprintf(err, errlen, "lyric encoder: out of backend memory");
        goto done;
    }
    if ((rc = cn_prior_embed_rows(be, &x, &e->pos_emb, 0, &e->x_emb, &ids, &e->start_token, 0,
                                  N, T, e->width))) {
        snprintf(err, errlen, "lyric encoder input: %s", be->ops->last_error(be));
        goto done;
    }
    if ((rc = cn_tf_forward(&es, &x, 0, T, -1, 0, NULL, err, errlen))) goto done;
    cn_tensor kv = cn_tensor_2d(st->enc_kv.data, CN_F32, R, in->width);
    if ((rc = be->ops->matmul(be, &kv, &x, &e->proj_w, CN_W_IN_OUT, &e->proj_b, 0.0f)) ||
        (rc = be->ops->layernorm(be, &kv, &kv, &e->ln_g, &e->ln_b, 1e-5f))) {
        snprintf(err, errlen, "lyric encoder projection: %s", be->ops->last_error(be));
        goto done;
    }
    rc = cn_tf_set_encoder(&st->tfs, &kv, err, errlen);
done:
    free(h);
    cn_tu_release(be, &x);
    cn_tu_release(be, &ids);
    cn_tf_state_free(&es);
    return rc;
}

int cn_prior_make_cond(cn_prior_state *st, const int32_t *y, const int32_t *above, char *err,
                       size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    const cn_prior_info *in = &p->info;
    int N = st->n, rc;
    if (!y && (in->has_labels || in->n_tokens > 0))
        return snprintf(err, errlen, "this prior needs label vectors"), CN_EINVAL;
    if (y && (rc = s_check_labels(in, y, N, err, errlen))) return rc;
    cn_tu_release(be, &st->y_cond);
    cn_tu_release(be, &st->x_cond);
    if (cn_tu_alloc(be, &st->y_cond, CN_F32, 2, (int64_t[]){ N, in->width }) ||
        ((in->timing || p->has_cond) &&
         cn_tu_alloc(be, &st->x_cond, CN_F32, 3, (int64_t[]){ N, in->positions, in->width })))
        return snprintf(err, errlen, "out of backend memory for the conditioning of %d items",
                        N), CN_ENOMEM;
    if ((rc = s_y_cond(st, y, err, errlen))) return rc;
    if (in->timing && (rc = s_timing(st, y, err, errlen))) return rc;
    if (p->has_cond && (rc = s_upsampler_cond(st, above, err, errlen))) return rc;
    if (in->lyrics == CN_LYRICS_ENCODER && (rc = s_encoder(st, y, err, errlen))) return rc;
    return 0;
}
