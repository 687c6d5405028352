/* SPDX-License-Identifier: MIT
 * Running a prior: the sampling state (cache, conditioning, pending input), priming in chunks,
 * one cached step at a time, and the full teacher-forced forward (facts 4, 9.2-9.3, 9.6).
 * Never draws a token and never recomputes a position already in the cache.
 */
#include "prior_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_util.h"

/* Default chunk: a whole block (chunks are cut at block boundaries anyway), at least the
 * reference's prime chunk size. */
static int s_default_chunk(const cn_prior_info *in)
{
    return in->block_len > in->chunk_size ? in->block_len : in->chunk_size;
}

/* pos_tab row p = p for every item; xc_tab row p = n*positions + p (row of x_cond). */
static int s_fill_tables(cn_prior_state *st, char *err, size_t errlen)
{
    int L = st->p->info.positions, N = st->n, rc;
    int32_t *a = malloc((size_t)L * N * sizeof *a), *b = malloc((size_t)L * N * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return snprintf(err, errlen, "out of memory"), CN_ENOMEM;
    }
    for (int p = 0; p < L; p++)
        for (int n = 0; n < N; n++) {
            a[(int64_t)p * N + n] = p;
            b[(int64_t)p * N + n] = n * L + p;
        }
    rc = cn_tu_put(st->p->be, &st->pos_tab, a, err, errlen);
    if (rc == 0) rc = cn_tu_put(st->p->be, &st->xc_tab, b, err, errlen);
    free(a);
    free(b);
    return rc;
}

int cn_prior_state_new(cn_prior_state **out, cn_prior *p, int n_items, int max_chunk,
                       char *err, size_t errlen)
{
    *out = NULL;
    const cn_prior_info *in = &p->info;
    if (n_items < 1) return snprintf(err, errlen, "prior state: %d items", n_items), CN_EINVAL;
    if (max_chunk <= 0) max_chunk = s_default_chunk(in);
    if (max_chunk > in->positions) max_chunk = in->positions;
    cn_prior_state *st = calloc(1, sizeof *st);
    if (!st) return snprintf(err, errlen, "prior state: out of memory"), CN_ENOMEM;
    st->p = p;
    st->n = n_items;
    st->max_chunk = max_chunk;
    int rc = cn_tf_state_init(&st->tfs, &p->tf, n_items, in->positions, max_chunk,
                              in->lyrics == CN_LYRICS_ENCODER ? in->n_tokens : 0, 1, err,
                              errlen);
    if (rc) {
        free(st);
        return rc;
    }
    int64_t R = (int64_t)n_items * max_chunk, N = n_items, tab[2] = { in->positions, N };
    st->rec_pos = -1;
    if (cn_tu_alloc(p->be, &st->zero, CN_F32, 2, (int64_t[]){ N, in->width }) ||
        cn_tu_alloc(p->be, &st->pos_tab, CN_I32, 2, tab) ||
        cn_tu_alloc(p->be, &st->xc_tab, CN_I32, 2, tab) ||
        cn_tu_alloc(p->be, &st->step_ids, CN_I32, 1, &N) ||
        cn_tu_alloc(p->be, &st->pos_ids, CN_I32, 1, &N) ||
        cn_tu_alloc(p->be, &st->xc_ids, CN_I32, 1, &N) ||
        cn_tu_alloc(p->be, &st->x, CN_F32, 2, (int64_t[]){ R, in->width }) ||
        cn_tu_alloc(p->be, &st->ids, CN_I32, 1, &R) ||
        cn_tu_alloc(p->be, &st->logits, CN_F32, 2, (int64_t[]){ R, in->seq_vocab }) ||
        cn_tu_alloc(p->be, &st->pending, CN_I32, 1, &N) ||
        (in->lyrics == CN_LYRICS_ENCODER &&
         cn_tu_alloc(p->be, &st->enc_kv, CN_F32, 3, (int64_t[]){ N, in->n_tokens, in->width }))) {
        cn_prior_state_free(&st);
        return snprintf(err, errlen, "prior state: out of backend memory for %d items",
                        n_items), CN_ENOMEM;
    }
    if ((rc = s_fill_tables(st, err, errlen))) {
        cn_prior_state_free(&st);
        return rc;
    }
    cn_tf_state_plan_steps(&st->tfs);   /* the backend's whole-stack step, where it has one */
    *out = st;
    return 0;
}

int cn_prior_state_fused(const cn_prior_state *st) { return st->tfs.step_plan != NULL; }

const char *cn_prior_state_fused_why(const cn_prior_state *st) { return st->tfs.step_why; }

size_t cn_prior_state_bytes(const cn_prior *p, int n_items, int max_chunk, int windowed)
{
    const cn_prior_info *in = &p->info;
    if (max_chunk <= 0) max_chunk = s_default_chunk(in);
    if (max_chunk > in->positions) max_chunk = in->positions;
    size_t N = (size_t)n_items, R = N * (size_t)max_chunk, f = sizeof(float);
    size_t scratch = R * f * (size_t)(in->width * 2 + 3 * p->tf.S + p->tf.S + p->tf.mlp +
                                      in->seq_vocab) + R * 4 + N * 4;
    size_t cond = N * f * (size_t)in->width * (1 + (size_t)in->positions + (size_t)in->n_tokens);
    int n_enc = in->lyrics == CN_LYRICS_ENCODER ? in->n_tokens : 0;
    return cn_tf_cache_bytes_for(&p->tf, n_items, in->positions, n_enc, windowed) + scratch +
           cond;
}

void cn_prior_state_free(cn_prior_state **pst)
{
    cn_prior_state *st = pst ? *pst : NULL;
    if (!st) return;
    cn_backend *be = st->p->be;
    cn_tensor *all[] = { &st->y_cond, &st->x_cond, &st->enc_kv, &st->x, &st->ids, &st->logits,
                         &st->pending, &st->zero, &st->pos_tab, &st->xc_tab, &st->step_ids,
                         &st->pos_ids, &st->xc_ids };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cn_tu_release(be, all[i]);
    cn_tf_state_free(&st->tfs);
    free(st);
    *pst = NULL;
}

int cn_prior_state_pos(const cn_prior_state *st)
{
    return st->pos;
}

/* Runs positions pos .. pos+len-1 whose inputs are ids (N*len backend CN_I32, -1 at position
 * 0). logits (N*len, seq_vocab) when not NULL; probs as cn_tf_forward. */
static int s_feed(cn_prior_state *st, const cn_tensor *ids, int len, cn_tensor *logits,
                  cn_tensor *probs, char *err, size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    const cn_backend_ops *o = be->ops;
    const cn_prior_info *in = &p->info;
    int N = st->n, W = in->width, pos0 = st->pos, rc;
    if (pos0 + len > in->positions)
        return snprintf(err, errlen, "positions %d..%d: the window has %d", pos0,
                        pos0 + len - 1, in->positions), CN_EINVAL;
    size_t row = (size_t)W * sizeof(float);
    cn_tensor x = cn_tensor_2d(st->x.data, CN_F32, (int64_t)N * len, W);
    rc = cn_prior_embed_rows(be, &x, &p->pos_emb, pos0, &p->x_emb, ids, &st->y_cond, 1, N, len,
                             W);
    for (int n = 0; n < N && rc == 0 && st->x_cond.data; n++) {
        cn_tensor xr = cn_tensor_2d((char *)x.data + (size_t)n * len * row, CN_F32, len, W);
        cn_tensor cr = cn_tensor_2d((char *)st->x_cond.data +
                                        ((size_t)n * in->positions + pos0) * row, CN_F32, len, W);
        rc = o->axpy(be, &xr, &cr, 1.0f);
    }
    if (rc) return snprintf(err, errlen, "prior input: %s", o->last_error(be)), rc;
    if ((rc = cn_tf_forward(&st->tfs, &x, pos0, len, in->alignment_layer, in->alignment_head,
                            probs, err, errlen)))
        return rc;
    st->pos += len;
    if (!logits) return 0;
    for (int n = 0; n < N && rc == 0 && st->x_cond.data && !p->merged_decoder; n++) {
        cn_tensor xr = cn_tensor_2d((char *)x.data + (size_t)n * len * row, CN_F32, len, W);
        cn_tensor cr = cn_tensor_2d((char *)st->x_cond.data +
                                        ((size_t)n * in->positions + pos0) * row, CN_F32, len, W);
        rc = o->axpy(be, &xr, &cr, 1.0f);
    }
    cn_tensor lg = cn_tensor_2d(logits->data, CN_F32, (int64_t)N * len, in->seq_vocab);
    if (rc == 0)
        rc = o->matmul(be, &lg, &x, p->merged_decoder ? &p->x_out : &p->x_emb, CN_W_OUT_IN,
                       NULL, 0.0f);
    if (rc) snprintf(err, errlen, "prior output: %s", o->last_error(be));
    return rc;
}

/* s_feed from host inputs (N x len, already shifted: the input token of each position). */
static int s_feed_host(cn_prior_state *st, const int32_t *inputs, int len, cn_tensor *logits,
                       cn_tensor *probs, char *err, size_t errlen)
{
    cn_tensor ids = cn_tensor_make(st->ids.data, CN_I32, 1, (int64_t[]){ (int64_t)st->n * len });
    int rc = cn_tu_put(st->p->be, &ids, inputs, err, errlen);
    return rc ? rc : s_feed(st, &ids, len, logits, probs, err, errlen);
}

/* Sets the pending input of every item from host values. */
static int s_set_pending(cn_prior_state *st, const int32_t *tok, char *err, size_t errlen)
{
    int rc = cn_tu_put(st->p->be, &st->pending, tok, err, errlen);
    st->pending_valid = rc == 0;
    return rc;
}

/* Feeds host sequence tokens seq (N x K, the tokens at positions pos .. pos+K-1) with the
 * pending input in front, in chunks; pending := the last of them. first: the input of
 * position pos on the host. */
static int s_prime(cn_prior_state *st, const int32_t *first, const int32_t *seq, int K,
                   int chunk, char *err, size_t errlen)
{
    int N = st->n, rc = 0;
    if (chunk <= 0 || chunk > st->max_chunk) chunk = st->max_chunk;
    int32_t *in = malloc((size_t)N * chunk * sizeof *in), *last = malloc((size_t)N * sizeof *last);
    if (!in || !last) {
        free(in);
        free(last);
        return snprintf(err, errlen, "out of memory"), CN_ENOMEM;
    }
    for (int k0 = 0, len = 0; k0 < K && rc == 0; k0 += len) {
        len = cn_tf_chunk_limit(&st->tfs, st->pos, K - k0 < chunk ? K - k0 : chunk);
        for (int n = 0; n < N; n++)
            for (int r = 0; r < len; r++) {
                int k = k0 + r;
                in[(int64_t)n * len + r] = k == 0 ? first[n] : seq[(int64_t)n * K + k - 1];
            }
        rc = s_feed_host(st, in, len, NULL, NULL, err, errlen);
    }
    for (int n = 0; n < N; n++) last[n] = seq[(int64_t)n * K + K - 1];
    if (rc == 0 && K > 0) rc = s_set_pending(st, last, err, errlen);
    free(in);
    free(last);
    return rc;
}

/* The pending input on the host (-1 at position 0). */
static int s_get_pending(cn_prior_state *st, int32_t *tok, char *err, size_t errlen)
{
    cn_backend *be = st->p->be;
    if (!st->pending_valid)
        return snprintf(err, errlen, "the input of position %d is the token drawn at position "
                        "%d: pass it to cn_prior_step", st->pos, st->pos - 1), CN_EINVAL;
    int rc = be->ops->download(be, tok, st->pending.data, (size_t)st->n * sizeof *tok);
    if (rc) snprintf(err, errlen, "download: %s", be->ops->last_error(be));
    return rc;
}

int cn_prior_begin(cn_prior_state *st, const int32_t *y, const int32_t *above, char *err,
                   size_t errlen)
{
    const cn_prior_info *in = &st->p->info;
    int N = st->n, rc;
    st->pos = 0;
    st->begun = 0;
    st->rec_pos = -1;           /* the conditioning buffers are new: record again */
    if ((rc = cn_prior_make_cond(st, y, above, err, errlen))) return rc;
    int32_t *neg = malloc((size_t)N * sizeof *neg);
    if (!neg) return snprintf(err, errlen, "out of memory"), CN_ENOMEM;
    for (int n = 0; n < N; n++) neg[n] = -1;
    rc = s_set_pending(st, neg, err, errlen);
    if (rc == 0 && in->prefix > 0) {            /* the lyric prefix, chunk by chunk */
        int T = in->prefix;
        int32_t *lyr = malloc((size_t)N * T * sizeof *lyr);
        if (!lyr) rc = CN_ENOMEM;
        for (int n = 0; lyr && n < N; n++)
            memcpy(lyr + (int64_t)n * T, y + (int64_t)n * in->label_len + 4 + in->genre_slots,
                   (size_t)T * sizeof *lyr);
        if (lyr) rc = s_prime(st, neg, lyr, T, st->max_chunk, err, errlen);
        free(lyr);
    }
    free(neg);
    st->begun = rc == 0;
    return rc;
}

static int s_check_tokens(const cn_prior_info *in, const int32_t *t, int64_t n, char *err,
                          size_t errlen)
{
    for (int64_t i = 0; i < n; i++)
        if (t[i] < 0 || t[i] >= in->seq_vocab)
            return snprintf(err, errlen, "token %d at index %lld: tokens are 0..%d", t[i],
                            (long long)i, in->seq_vocab - 1), CN_EINVAL;
    return 0;
}

int cn_prior_prime(cn_prior_state *st, const int32_t *tokens, int K, int chunk, char *err,
                   size_t errlen)
{
    const cn_prior_info *in = &st->p->info;
    if (!st->begun) return snprintf(err, errlen, "prime before cn_prior_begin"), CN_EINVAL;
    if (K < 0 || st->pos + K > in->positions)
        return snprintf(err, errlen, "priming %d codes at position %d reaches position %d; "
                        "the window has positions 0..%d", K, st->pos, st->pos + K - 1,
                        in->positions - 1), CN_EINVAL;
    if (K == 0) return 0;
    int rc = s_check_tokens(in, tokens, (int64_t)st->n * K, err, errlen);
    int32_t *first = malloc((size_t)st->n * sizeof *first);
    if (!first) return snprintf(err, errlen, "out of memory"), CN_ENOMEM;
    if (rc == 0) rc = s_get_pending(st, first, err, errlen);
    if (rc == 0) rc = s_prime(st, first, tokens, K, chunk, err, errlen);
    free(first);
    return rc;
}

/* Copies the inputs of the decode step at st->pos into the step buffers (backend copies). */
static int s_step_inputs(cn_prior_state *st, const cn_tensor *ids)
{
    cn_backend *be = st->p->be;
    size_t b = (size_t)st->n * sizeof(int32_t), at = (size_t)st->pos * b;
    int rc = be->ops->copy(be, st->step_ids.data, ids->data, b);
    if (rc == 0) rc = be->ops->copy(be, st->pos_ids.data, (char *)st->pos_tab.data + at, b);
    if (rc == 0 && st->x_cond.data)
        rc = be->ops->copy(be, st->xc_ids.data, (char *)st->xc_tab.data + at, b);
    return rc;
}

/* The backend work of one decode step at st->pos > 0: compute ops and copies only, with the
 * same pointers at every position (recordable). Logits (N, seq_vocab). */
static int s_step_compute(cn_prior_state *st, cn_tensor *logits, char *err, size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    const cn_backend_ops *o = be->ops;
    const cn_prior_info *in = &p->info;
    int64_t N = st->n, W = in->width;
    cn_tensor x = cn_tensor_2d(st->x.data, CN_F32, N, W);
    cn_tensor xc = cn_tensor_2d(st->x_cond.data, CN_F32, N * in->positions, W);
    cn_tensor lg = cn_tensor_2d(logits->data, CN_F32, N, in->seq_vocab);
    int rc;
    if ((rc = o->copy(be, x.data, st->zero.data, cn_tensor_bytes(&x))) ||
        (rc = o->embed_add(be, &x, &p->pos_emb, &st->pos_ids)) ||
        (rc = o->embed_add(be, &x, &p->x_emb, &st->step_ids)) ||
        (st->x_cond.data && (rc = o->embed_add(be, &x, &xc, &st->xc_ids))))
        return snprintf(err, errlen, "prior input: %s", o->last_error(be)), rc;
    if ((rc = cn_tf_forward(&st->tfs, &x, st->pos, 1, -1, 0, NULL, err, errlen))) return rc;
    if ((st->x_cond.data && !p->merged_decoder && (rc = o->embed_add(be, &x, &xc, &st->xc_ids))) ||
        (rc = o->matmul(be, &lg, &x, p->merged_decoder ? &p->x_out : &p->x_emb, CN_W_OUT_IN,
                        NULL, 0.0f)))
        return snprintf(err, errlen, "prior output: %s", o->last_error(be)), rc;
    return 0;
}

/* Which recording serves st's steps on a backend (the backend keeps one). */
static const void *s_rec_owner;

/* The decode step through a recorded graph: replayed inside the block it was recorded in. */
static int s_step_graph(cn_prior_state *st, cn_tensor *logits, char *err, size_t errlen)
{
    cn_backend *be = st->p->be;
    const cn_backend_ops *o = be->ops;
    int blk = st->tfs.has_block ? st->pos / st->p->tf.block_len : 0;
    if (st->rec_pos >= 0 && st->rec_block == blk && st->rec_logits == logits->data &&
        s_rec_owner == st && o->graph_launch(be, st->pos - st->rec_pos) == 0)
        return 0;
    st->rec_pos = -1;
    s_rec_owner = st;
    int rc = o->graph_begin(be);
    if (rc) return snprintf(err, errlen, "graph_begin: %s", o->last_error(be)), rc;
    rc = s_step_compute(st, logits, err, errlen);
    int rc_end = o->graph_end(be);
    if (rc) return rc;
    if (rc_end) return snprintf(err, errlen, "graph_end: %s", o->last_error(be)), rc_end;
    st->rec_pos = st->pos;
    st->rec_block = blk;
    st->rec_logits = logits->data;
    if ((rc = o->graph_launch(be, 0))) snprintf(err, errlen, "graph_launch: %s", o->last_error(be));
    return rc;
}

int cn_prior_state_use_graphs(cn_prior_state *st, int on)
{
    const cn_backend_ops *o = st->p->be->ops;
    st->graphs = on && o->graph_begin && o->graph_end && o->graph_launch;
    st->rec_pos = -1;
    return st->graphs;
}

int cn_prior_step(cn_prior_state *st, const cn_tensor *tokens_in, cn_tensor *logits,
                  char *err, size_t errlen)
{
    const cn_prior_info *in = &st->p->info;
    if (!st->begun) return snprintf(err, errlen, "step before cn_prior_begin"), CN_EINVAL;
    if (st->pos >= in->positions)
        return snprintf(err, errlen, "the window's %d positions are all done", in->positions),
               CN_EINVAL;
    if (!logits || cn_tensor_nelem(logits) != (int64_t)st->n * in->seq_vocab)
        return snprintf(err, errlen, "logits must hold %d items x %d", st->n, in->seq_vocab),
               CN_EINVAL;
    const cn_tensor *ids = &st->pending;
    if (st->pos > 0 && tokens_in) {
        if (cn_tensor_nelem(tokens_in) != st->n || tokens_in->type != CN_I32)
            return snprintf(err, errlen, "tokens_in must be %d int32 values", st->n), CN_EINVAL;
        ids = tokens_in;
    } else if (!st->pending_valid) {
        return snprintf(err, errlen, "position %d needs the tokens drawn at position %d",
                        st->pos, st->pos - 1), CN_EINVAL;
    }
    int rc;
    st->pending_valid = 0;
    if (st->pos == 0) return s_feed(st, ids, 1, logits, NULL, err, errlen);   /* label vector */
    if ((rc = s_step_inputs(st, ids)))
        return snprintf(err, errlen, "step inputs: %s", st->p->be->ops->last_error(st->p->be)),
               rc;
    rc = st->graphs ? s_step_graph(st, logits, err, errlen)
                    : s_step_compute(st, logits, err, errlen);
    if (rc == 0) st->pos++;
    return rc;
}

int cn_prior_step_host(cn_prior_state *st, const int32_t *tokens_in, float *logits, char *err,
                       size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    int64_t N = st->n, V = p->info.seq_vocab;
    cn_tensor lg = cn_tensor_2d(st->logits.data, CN_F32, N, V), tk = { 0 };
    int rc = 0;
    if (tokens_in && st->pos > 0) {
        if ((rc = s_check_tokens(&p->info, tokens_in, N, err, errlen))) return rc;
        tk = cn_tensor_make(st->ids.data, CN_I32, 1, &N);
        if ((rc = cn_tu_put(be, &tk, tokens_in, err, errlen))) return rc;
    }
    if ((rc = cn_prior_step(st, tk.data ? &tk : NULL, &lg, err, errlen))) return rc;
    rc = be->ops->download(be, logits, lg.data, cn_tensor_bytes(&lg));
    if (rc) snprintf(err, errlen, "download: %s", be->ops->last_error(be));
    return rc;
}

/* Copies chunk results to the host: logits rows of positions pos0.. into out (N x P x V), and
 * alignment probabilities (N, len, k_len) of code positions into al (N x L x n_tokens). */
static int s_collect(cn_prior_state *st, const cn_tensor *lg, const cn_tensor *pr, float *tmp,
                     int pos0, int len, int k_len, int P, int L, float *out, float *al,
                     char *err, size_t errlen)
{
    cn_backend *be = st->p->be;
    const cn_prior_info *in = &st->p->info;
    int64_t V = in->seq_vocab, N = st->n;
    int rc = out ? be->ops->download(be, tmp, lg->data, (size_t)(N * len * V) * sizeof(float)) : 0;
    for (int64_t n = 0; out && n < N && rc == 0; n++)
        memcpy(out + (n * P + pos0) * V, tmp + n * len * V, (size_t)(len * V) * sizeof(float));
    if (rc == 0 && al && pr) {
        rc = be->ops->download(be, tmp, pr->data, (size_t)(N * len * k_len) * sizeof(float));
        for (int64_t n = 0; n < N && rc == 0; n++)
            for (int r = 0; r < len; r++) {
                int t = pos0 + r - in->prefix;
                if (t < 0 || t >= L) continue;
                memcpy(al + (n * L + t) * in->n_tokens, tmp + (n * len + r) * k_len,
                       (size_t)in->n_tokens * sizeof(float));
            }
    }
    if (rc) snprintf(err, errlen, "download: %s", be->ops->last_error(be));
    return rc;
}

/* Runs every position of the prepared host inputs (N x P) in chunks, collecting results. */
static int s_full_chunks(cn_prior_state *st, const int32_t *inputs, int P, int L, float *logits,
                         float *alignment, char *err, size_t errlen)
{
    cn_prior *p = st->p;
    const cn_prior_info *in = &p->info;
    int N = st->n, C = st->max_chunk, rc = 0;
    int kmax = alignment ? cn_tf_k_len(&st->tfs, in->alignment_layer, in->positions - 1, 1) : 0;
    cn_tensor pr = { 0 };
    size_t tmpn = (size_t)N * C * (kmax > in->seq_vocab ? kmax : in->seq_vocab);
    float *tmp = malloc(tmpn * sizeof *tmp);
    int32_t *chunk = malloc((size_t)N * C * sizeof *chunk);
    if (!tmp || !chunk ||
        (alignment && cn_tu_alloc(p->be, &pr, CN_F32, 1, (int64_t[]){ (int64_t)N * C * kmax }))) {
        rc = CN_ENOMEM;
        snprintf(err, errlen, "out of memory for the full forward of %d items", N);
    }
    for (int a0 = 0, len = 0; a0 < P && rc == 0; a0 += len) {
        len = cn_tf_chunk_limit(&st->tfs, a0, P - a0 < C ? P - a0 : C);
        int k_len = alignment ? cn_tf_k_len(&st->tfs, in->alignment_layer, a0, len) : 0;
        for (int n = 0; n < N; n++)
            memcpy(chunk + (int64_t)n * len, inputs + (int64_t)n * P + a0,
                   (size_t)len * sizeof *chunk);
        cn_tensor lg = cn_tensor_2d(st->logits.data, CN_F32, (int64_t)N * len, in->seq_vocab);
        cn_tensor prv = cn_tensor_make(pr.data, CN_F32, 3, (int64_t[]){ N, len, k_len });
        rc = s_feed_host(st, chunk, len, logits ? &lg : NULL, alignment ? &prv : NULL, err,
                         errlen);
        if (rc == 0)
            rc = s_collect(st, &lg, alignment ? &prv : NULL, tmp, a0, len, k_len, P, L, logits,
                           alignment, err, errlen);
    }
    cn_tu_release(p->be, &pr);
    free(tmp);
    free(chunk);
    return rc;
}

typedef int (*s_observer)(void *user, int layer, const cn_tensor *x, int pos0, int len);

static int s_full(cn_prior *p, const int32_t *y, const int32_t *above, const int32_t *tokens,
                  int n_items, int L, float *logits, float *alignment, s_observer obs,
                  void *user, char *err, size_t errlen)
{
    const cn_prior_info *in = &p->info;
    if (L < 1 || L > in->n_ctx)
        return snprintf(err, errlen, "%d code positions: the window has 1..%d", L, in->n_ctx),
               CN_EINVAL;
    if (alignment && in->alignment_layer < 0)
        return snprintf(err, errlen, "this prior has no alignment layer"), CN_EINVAL;
    int rc = s_check_tokens(in, tokens, (int64_t)n_items * L, err, errlen);
    if (rc) return rc;
    cn_prior_state *st = NULL;
    if ((rc = cn_prior_state_new(&st, p, n_items, 256, err, errlen))) return rc;
    st->tfs.on_layer = obs;
    st->tfs.on_layer_user = user;
    int P = in->prefix + L;
    int32_t *inputs = malloc((size_t)n_items * P * sizeof *inputs);
    if (!inputs) {
        rc = CN_ENOMEM;
        snprintf(err, errlen, "out of memory");
    }
    for (int n = 0; inputs && n < n_items; n++)
        for (int a = 0; a < P; a++) {
            int s = a - 1;      /* the input of position a is the token at a-1 */
            inputs[(int64_t)n * P + a] =
                s < 0 ? -1
                : s < in->prefix ? y[(int64_t)n * in->label_len + 4 + in->genre_slots + s]
                                 : tokens[(int64_t)n * L + s - in->prefix];
        }
    if (rc == 0) rc = cn_prior_make_cond(st, y, above, err, errlen);
    if (rc == 0) rc = s_full_chunks(st, inputs, P, L, logits, alignment, err, errlen);
    free(inputs);
    cn_prior_state_free(&st);
    return rc;
}

int cn_prior_forward_full(cn_prior *p, const int32_t *y, const int32_t *above,
                          const int32_t *tokens, int n_items, int L, float *logits,
                          float *alignment, char *err, size_t errlen)
{
    return s_full(p, y, above, tokens, n_items, L, logits, alignment, NULL, NULL, err, errlen);
}

/* Where cn_prior_debug_layers puts what the observer sees (one item). */
typedef struct s_dbg {
    cn_backend *be;
    float *input, *layers;
    int P, W;
} s_dbg;

static int s_dbg_layer(void *user, int layer, const cn_tensor *x, int pos0, int len)
{
    s_dbg *d = user;
    float *dst = (layer < 0 ? d->input : d->layers + (size_t)layer * d->P * d->W) +
                 (size_t)pos0 * d->W;
    return d->be->ops->download(d->be, dst, x->data, (size_t)len * d->W * sizeof(float));
}

int cn_prior_debug_layers(cn_prior *p, const int32_t *y, const int32_t *above,
                          const int32_t *tokens, int L, float *input, float *layers, char *err,
                          size_t errlen)
{
    const cn_prior_info *in = &p->info;
    if (L < 1 || L > in->n_ctx)
        return snprintf(err, errlen, "%d code positions: the window has 1..%d", L, in->n_ctx),
               CN_EINVAL;
    s_dbg d = { p->be, input, layers, in->prefix + L, in->width };
    float *lg = malloc((size_t)d.P * in->seq_vocab * sizeof *lg);
    if (!lg) return snprintf(err, errlen, "out of memory"), CN_ENOMEM;
    int rc = s_full(p, y, above, tokens, 1, L, lg, NULL, s_dbg_layer, &d, err, errlen);
    free(lg);
    return rc;
}

int cn_prior_debug_cond(cn_prior_state *st, float *y_cond, float *x_cond, float *encoder_kv,
                        char *err, size_t errlen)
{
    cn_prior *p = st->p;
    cn_backend *be = p->be;
    const cn_prior_info *in = &p->info;
    size_t row = (size_t)in->width * sizeof(float);
    int rc = 0;
    if (y_cond) rc = be->ops->download(be, y_cond, st->y_cond.data, (size_t)st->n * row);
    for (int n = 0; x_cond && st->x_cond.data && rc == 0 && n < st->n; n++) {
        size_t at = ((size_t)n * in->positions + in->prefix) * row;
        rc = be->ops->download(be, x_cond + (size_t)n * in->n_ctx * in->width,
                               (char *)st->x_cond.data + at, (size_t)in->n_ctx * row);
    }
    if (encoder_kv && st->enc_kv.data && rc == 0)
        rc = be->ops->download(be, encoder_kv, st->enc_kv.data, cn_tensor_bytes(&st->enc_kv));
    if (rc) snprintf(err, errlen, "download: %s", be->ops->last_error(be));
    return rc;
}
