/* SPDX-License-Identifier: MIT
 * The Jukebox transformer stack: building the layers from a model file (facts 2.3, 8.3) and
 * running chunks of positions through them with a key/value cache (facts 8.1, 9.3-9.4).
 * Never touches token ids or logits, and never recomputes a position already in the cache.
 */
#include "transformer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_util.h"

int cn_tf_attn_type(int attn_order, int d)
{
    static const int t123[3] = { 1, 2, 3 };
    switch (attn_order) {
    case 0: return 0;
    case 1: return 1 + d % 2;
    case 2: return t123[d % 3];
    case 6: return d % 4 == 3 ? 6 : t123[d % 4];
    case 7: return d % 16 == 15 ? 6 : t123[(d % 16) % 3];
    case 8: return d % 10 == 9 ? 6 : t123[(d % 10) % 3];
    case 9: return d % 4 == 3 ? 0 : t123[d % 4];
    case 10: {
        int e = d % 79;
        if (e < 9) return t123[e % 3];
        e = (e - 9) % 10;
        return e == 9 ? 6 : t123[e % 3];
    }
    case 11: return d % 16 == 15 ? (d % 3 == 2 ? 0 : 6) : t123[d % 3];
    case 12: return d % 16 == 15 ? (d % 3 == 2 ? 0 : 7) : t123[d % 3];
    default: return -1;
    }
}

static int s_load_layer(cn_transformer *tf, cn_modelfile *mf, const char *prefix, int d,
                        char *err, size_t errlen)
{
    cn_tf_layer *L = &tf->layers[d];
    int64_t W = tf->width, S = tf->S, M = tf->mlp, E = tf->enc_width;
    int cross = L->type == CN_ATTN_CROSS;
    char p[256];
    snprintf(p, sizeof p, "%s._attn_mods.%d", prefix, d);
    struct { const char *name; cn_tensor *t; int nd; int64_t a, b; } w[] = {
        { "ln_0.weight", &L->ln0_g, 1, W, 0 },   { "ln_0.bias", &L->ln0_b, 1, W, 0 },
        { "ln_1.weight", &L->ln1_g, 1, W, 0 },   { "ln_1.bias", &L->ln1_b, 1, W, 0 },
        { "attn.c_attn.w", &L->attn_w, 2, W, cross ? S : 3 * S },
        { "attn.c_attn.b", &L->attn_b, 1, cross ? S : 3 * S, 0 },
        { "attn.c_proj.w", &L->proj_w, 2, S, W }, { "attn.c_proj.b", &L->proj_b, 1, W, 0 },
        { "mlp.c_fc.w", &L->fc_w, 2, W, M },      { "mlp.c_fc.b", &L->fc_b, 1, M, 0 },
        { "mlp.c_proj.w", &L->mlp_w, 2, M, W },   { "mlp.c_proj.b", &L->mlp_b, 1, W, 0 },
        { "attn.c_enc_kv.w", &L->enc_kv_w, 2, E, 2 * S },
        { "attn.c_enc_kv.b", &L->enc_kv_b, 1, 2 * S, 0 },
    };
    int n = (int)(sizeof w / sizeof w[0]) - (cross ? 0 : 2);
    for (int i = 0; i < n; i++) {
        char name[320];
        int64_t ne[2] = { w[i].a, w[i].b };
        snprintf(name, sizeof name, "%s.%s", p, w[i].name);
        if (cn_tu_upload(tf->be, mf, name, w[i].nd, ne, w[i].t, err, errlen)) return -1;
    }
    return 0;
}

static int s_check_hparams(const cn_tf_hparams *hp, char *err, size_t errlen)
{
    int S = (int)(hp->m_attn * hp->width);
    if (hp->width < 1 || hp->depth < 1 || hp->depth > CN_TF_MAX_DEPTH || hp->heads < 1 ||
        S < hp->heads || S % hp->heads != 0 || (int)(hp->m_mlp * hp->width) < 1)
        return snprintf(err, errlen, "%s: width %d, depth %d (at most %d), heads %d, attention "
                        "width %d (must split evenly into heads): not a transformer this engine "
                        "runs", hp->prefix, hp->width, hp->depth, CN_TF_MAX_DEPTH, hp->heads, S),
               -1;
    if (hp->blocks < 1 || hp->positions < 1 || hp->positions % hp->blocks != 0)
        return snprintf(err, errlen, "%s: %d positions do not split into blocks = %d equal "
                        "blocks", hp->prefix, hp->positions, hp->blocks), -1;
    return 0;
}

int cn_transformer_load(cn_transformer *tf, cn_modelfile *mf, cn_backend *be,
                        const cn_tf_hparams *hp, char *err, size_t errlen)
{
    memset(tf, 0, sizeof *tf);
    if (s_check_hparams(hp, err, errlen)) return -1;
    tf->be = be;
    tf->width = hp->width;
    tf->depth = hp->depth;
    tf->heads = hp->heads;
    tf->S = (int)(hp->m_attn * hp->width);
    tf->head_dim = tf->S / hp->heads;
    tf->mlp = (int)(hp->m_mlp * hp->width);
    tf->positions = hp->positions;
    tf->blocks = hp->blocks;
    tf->block_len = hp->positions / hp->blocks;
    tf->prime_len = (hp->prime_len / hp->blocks + 1) * hp->blocks;
    tf->enc_width = hp->enc_width;
    tf->layers = calloc((size_t)hp->depth, sizeof *tf->layers);
    if (!tf->layers) return snprintf(err, errlen, "%s: out of memory", hp->prefix), -1;
    for (int d = 0; d < hp->depth; d++) {
        int t = cn_tf_attn_type(hp->attn_order, d);
        if (t < 0) {
            snprintf(err, errlen, "%s: attn_order %d uses summary attention (types 4, 5), which "
                     "no released model uses and this engine does not run", hp->prefix,
                     hp->attn_order);
            goto fail;
        }
        if (t == CN_ATTN_CROSS && hp->enc_width < 1) {
            snprintf(err, errlen, "%s: layer %d is cross attention but the model has no "
                     "encoder", hp->prefix, d);
            goto fail;
        }
        if (t == CN_ATTN_PRIME && hp->prime_len < 1) {
            snprintf(err, errlen, "%s: layer %d is prime attention but the model has no lyric "
                     "prefix (n_tokens 0)", hp->prefix, d);
            goto fail;
        }
        tf->layers[d].type = (cn_attn_type)t;
        if (s_load_layer(tf, mf, hp->prefix, d, err, errlen)) goto fail;
    }
    return 0;
fail:
    cn_transformer_free(tf);
    return -1;
}

void cn_transformer_free(cn_transformer *tf)
{
    if (!tf || !tf->layers) return;
    for (int d = 0; d < tf->depth; d++) {
        cn_tf_layer *L = &tf->layers[d];
        cn_tensor *all[] = { &L->ln0_g, &L->ln0_b, &L->ln1_g, &L->ln1_b, &L->attn_w, &L->attn_b,
                             &L->enc_kv_w, &L->enc_kv_b, &L->proj_w, &L->proj_b, &L->fc_w,
                             &L->fc_b, &L->mlp_w, &L->mlp_b };
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cn_tu_release(tf->be, all[i]);
    }
    free(tf->layers);
    tf->layers = NULL;
}

int cn_tf_cross_layers(const cn_transformer *tf)
{
    int n = 0;
    for (int d = 0; d < tf->depth; d++) n += tf->layers[d].type == CN_ATTN_CROSS;
    return n;
}

/* Cache rows layer d keeps per item (see cn_tf_state). */
static int s_rows(const cn_transformer *tf, int d, int cap, int n_enc, int windowed)
{
    int c = tf->block_len;
    switch (tf->layers[d].type) {
    case CN_ATTN_CROSS: return n_enc;
    case CN_ATTN_BLOCK: return windowed ? c : cap;
    case CN_ATTN_PREV_BLOCK: return windowed ? 3 * c : cap;
    default: return cap;
    }
}

size_t cn_tf_cache_bytes_for(const cn_transformer *tf, int n_items, int cap, int n_enc,
                             int windowed)
{
    size_t b = 0;
    for (int d = 0; d < tf->depth; d++)
        b += 2 * sizeof(float) * (size_t)n_items * (size_t)tf->S *
             (size_t)s_rows(tf, d, cap, n_enc, windowed);
    return b;
}

int cn_tf_state_init(cn_tf_state *st, const cn_transformer *tf, int n_items, int cap,
                     int max_len, int n_enc, int windowed, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->tf = tf;
    st->n_items = n_items;
    st->cap = cap;
    st->max_len = max_len;
    st->n_enc = n_enc;
    st->windowed = windowed;
    for (int d = 0; d < tf->depth; d++) {
        cn_attn_type t = tf->layers[d].type;
        st->has_block |= t == CN_ATTN_BLOCK || t == CN_ATTN_PREV_BLOCK;
    }
    if (n_items < 1 || cap < 1 || max_len < 1)
        return snprintf(err, errlen, "transformer state: %d items x %d positions, chunks of %d: "
                        "all must be at least 1", n_items, cap, max_len), -1;
    if (cn_tf_cross_layers(tf) > 0 && n_enc < 1)
        return snprintf(err, errlen, "transformer state: cross-attention layers need encoder "
                        "rows, got %d", n_enc), -1;
    cn_backend *be = tf->be;
    st->k = calloc((size_t)tf->depth, sizeof *st->k);
    st->v = calloc((size_t)tf->depth, sizeof *st->v);
    st->rows = calloc((size_t)tf->depth, sizeof *st->rows);
    if (!st->k || !st->v || !st->rows) goto oom;
    for (int d = 0; d < tf->depth; d++) {
        int rows = st->rows[d] = s_rows(tf, d, cap, n_enc, windowed);
        int64_t ne[3] = { n_items, rows, tf->S };
        if (cn_tu_alloc(be, &st->k[d], CN_F32, 3, ne) ||
            cn_tu_alloc(be, &st->v[d], CN_F32, 3, ne))
            goto oom;
    }
    int64_t R = (int64_t)n_items * max_len;
    if (cn_tu_alloc(be, &st->h, CN_F32, 2, (int64_t[]){ R, tf->width }) ||
        cn_tu_alloc(be, &st->qkv, CN_F32, 2, (int64_t[]){ R, 3 * (int64_t)tf->S }) ||
        cn_tu_alloc(be, &st->att, CN_F32, 2, (int64_t[]){ R, tf->S }) ||
        cn_tu_alloc(be, &st->mh, CN_F32, 2, (int64_t[]){ R, tf->mlp }))
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "transformer state: out of backend memory for the key/value cache of "
             "%d items x %d positions x %d layers (width %d)", n_items, cap, tf->depth, tf->S);
    cn_tf_state_free(st);
    return CN_ENOMEM;
}

void cn_tf_state_free(cn_tf_state *st)
{
    if (!st || !st->tf) return;
    cn_backend *be = st->tf->be;
    if (st->step_plan) be->ops->tf_plan_free(be, st->step_plan);
    for (int d = 0; st->k && d < st->tf->depth; d++) cn_tu_release(be, &st->k[d]);
    for (int d = 0; st->v && d < st->tf->depth; d++) cn_tu_release(be, &st->v[d]);
    free(st->k);
    free(st->v);
    free(st->rows);
    cn_tu_release(be, &st->h);
    cn_tu_release(be, &st->qkv);
    cn_tu_release(be, &st->att);
    cn_tu_release(be, &st->mh);
    memset(st, 0, sizeof *st);
}

void cn_tf_state_plan_steps(cn_tf_state *st)
{
    const cn_transformer *tf = st->tf;
    cn_backend *be = tf->be;
    if (st->step_plan || !be->ops->tf_plan) return;
    cn_tf_step_layer *ls = calloc((size_t)tf->depth, sizeof *ls);
    if (!ls) {
        snprintf(st->step_why, sizeof st->step_why, "out of host memory for the layer table");
        return;
    }
    for (int d = 0; d < tf->depth; d++) {
        const cn_tf_layer *L = &tf->layers[d];
        ls[d] = (cn_tf_step_layer){ L->type, st->rows[d], &L->ln0_g, &L->ln0_b, &L->attn_w,
                                    &L->attn_b, &L->proj_w, &L->proj_b, &L->ln1_g, &L->ln1_b,
                                    &L->fc_w, &L->fc_b, &L->mlp_w, &L->mlp_b, &st->k[d],
                                    &st->v[d] };
    }
    cn_tf_step_desc desc = { st->n_items, tf->width, tf->S, tf->heads, tf->mlp, tf->depth,
                             tf->block_len, tf->prime_len, st->n_enc, st->windowed, 1e-5f, ls,
                             &st->qkv, &st->att, &st->mh };
    st->step_plan = be->ops->tf_plan(be, &desc);
    if (!st->step_plan) snprintf(st->step_why, sizeof st->step_why, "%s", be->ops->last_error(be));
    free(ls);
}

int cn_tf_set_encoder(cn_tf_state *st, const cn_tensor *enc, char *err, size_t errlen)
{
    const cn_transformer *tf = st->tf;
    cn_backend *be = tf->be;
    int64_t rows = (int64_t)st->n_items * st->n_enc;
    if (cn_tensor_nelem(enc) != rows * tf->enc_width)
        return snprintf(err, errlen, "encoder rows: need %d items x %d rows x %d", st->n_items,
                        st->n_enc, tf->enc_width), CN_EINVAL;
    cn_tensor x = cn_tensor_2d(enc->data, CN_F32, rows, tf->enc_width);
    cn_tensor kv;
    if (cn_tu_alloc(be, &kv, CN_F32, 2, (int64_t[]){ rows, 2 * (int64_t)tf->S }))
        return snprintf(err, errlen, "encoder keys: out of backend memory"), CN_ENOMEM;
    int rc = 0;
    for (int d = 0; d < tf->depth && rc == 0; d++) {
        const cn_tf_layer *L = &tf->layers[d];
        if (L->type != CN_ATTN_CROSS) continue;
        rc = be->ops->matmul(be, &kv, &x, &L->enc_kv_w, CN_W_IN_OUT, &L->enc_kv_b, 0.0f);
        if (rc == 0)
            rc = be->ops->kv_store(be, &st->k[d], &st->v[d], &kv, st->n_items, st->n_enc,
                                   2 * tf->S, 0, tf->S, tf->S, 0, st->n_enc);
        if (rc) snprintf(err, errlen, "layer %d c_enc_kv: %s", d, be->ops->last_error(be));
    }
    cn_tu_release(be, &kv);
    return rc;
}

int cn_tf_chunk_limit(const cn_tf_state *st, int pos0, int want)
{
    int len = want < st->max_len ? want : st->max_len;
    int c = st->tf->block_len;
    if (len > st->cap - pos0) len = st->cap - pos0;
    if (st->windowed && st->has_block && len > c - pos0 % c) len = c - pos0 % c;
    return len;
}

size_t cn_tf_cache_bytes(const cn_tf_state *st)
{
    return cn_tf_cache_bytes_for(st->tf, st->n_items, st->cap, st->n_enc, st->windowed);
}

/* Where a chunk at pos0 goes in layer d's cache and how its queries address it: rows written
 * from *store (n_store of them), query positions from *q0, keys present *k_len. Windowed
 * block layers work in block-relative positions (the key sets only depend on the position
 * within the block and the block's parity there). Within one block every value advances
 * with pos0 (store, q0 and k_len + 1 per position), so a recorded step replays there. */
static void s_addressing(const cn_tf_state *st, int d, int pos0, int len, int *store,
                         int *n_store, int *q0, int *k_len)
{
    const cn_transformer *tf = st->tf;
    int c = tf->block_len;
    *store = *q0 = pos0;
    *n_store = len;
    *k_len = pos0 + len;
    switch (tf->layers[d].type) {
    case CN_ATTN_CROSS:
        *n_store = 0;
        *k_len = st->n_enc;
        break;
    case CN_ATTN_BLOCK:
        if (!st->windowed) break;
        *store = *q0 = pos0 % c;
        *k_len = *q0 + len;
        break;
    case CN_ATTN_PREV_BLOCK: {
        if (!st->windowed) break;
        int b = pos0 / c;
        *store = pos0 % (2 * c);        /* block b lives in ring slot b mod 2 */
        *q0 = b == 0 ? pos0 : c * ((b - 1) % 2 + 1) + pos0 % c;   /* reads slot (b-1) mod 2 */
        *k_len = *q0 + len;             /* <= 3c rows */
        break;
    }
    default: break;
    }
}

int cn_tf_k_len(const cn_tf_state *st, int d, int pos0, int len)
{
    int store, n_store, q0, k_len;
    s_addressing(st, d, pos0, len, &store, &n_store, &q0, &k_len);
    return k_len;
}

/* qkv = h W + b with this chunk's keys and values stored in layer d's cache (one fused call
 * where the backend has it). */
static int s_qkv(cn_tf_state *st, int d, cn_tensor *qkv, const cn_tensor *h, int len, int store,
                 int n_store)
{
    const cn_transformer *tf = st->tf;
    const cn_tf_layer *L = &tf->layers[d];
    cn_backend *be = tf->be;
    const cn_backend_ops *o = be->ops;
    int S = tf->S, rc;
    if (n_store > 0 && o->matmul_kv_store)
        return o->matmul_kv_store(be, qkv, h, &L->attn_w, CN_W_IN_OUT, &L->attn_b, &st->k[d],
                                  &st->v[d], st->n_items, len, S, 2 * S, S, store, st->rows[d]);
    if ((rc = o->matmul(be, qkv, h, &L->attn_w, CN_W_IN_OUT, &L->attn_b, 0.0f))) return rc;
    if (n_store > 0)
        rc = o->kv_store(be, &st->k[d], &st->v[d], qkv, st->n_items, len, 3 * S, S, 2 * S, S,
                         store, st->rows[d]);
    return rc;
}

/* mh = gelu_quick(h W_fc + b_fc) */
static int s_fc_gelu(const cn_transformer *tf, const cn_tf_layer *L, cn_tensor *mh,
                     const cn_tensor *h)
{
    cn_backend *be = tf->be;
    const cn_backend_ops *o = be->ops;
    if (o->matmul_gelu) return o->matmul_gelu(be, mh, h, &L->fc_w, CN_W_IN_OUT, &L->fc_b);
    int rc = o->matmul(be, mh, h, &L->fc_w, CN_W_IN_OUT, &L->fc_b, 0.0f);
    return rc ? rc : o->gelu_quick(be, mh);
}

/* One ResAttnBlock over R = N*len rows of x: a = Attn(LN0(x)); m = MLP(LN1(x + a));
 * x += a; x += m. The residual adds are the matmuls' beta = 1 (x + (att W + b)). */
static int s_layer(cn_tf_state *st, int d, cn_tensor *x, int pos0, int len, int probs_head,
                   cn_tensor *probs)
{
    const cn_transformer *tf = st->tf;
    const cn_tf_layer *L = &tf->layers[d];
    cn_backend *be = tf->be;
    const cn_backend_ops *o = be->ops;
    int64_t R = (int64_t)st->n_items * len, W = tf->width, S = tf->S;
    int cross = L->type == CN_ATTN_CROSS;
    cn_tensor h = cn_tensor_2d(st->h.data, CN_F32, R, W);
    cn_tensor qkv = cn_tensor_2d(st->qkv.data, CN_F32, R, cross ? S : 3 * S);
    cn_tensor att = cn_tensor_2d(st->att.data, CN_F32, R, S);
    cn_tensor mh = cn_tensor_2d(st->mh.data, CN_F32, R, tf->mlp);
    int store, n_store, q0, k_len;
    s_addressing(st, d, pos0, len, &store, &n_store, &q0, &k_len);
    cn_attn_desc ad = {
        .type = L->type, .n_items = st->n_items, .heads = tf->heads, .head_dim = tf->head_dim,
        .q_len = len, .q_pos0 = q0, .q_row_stride = (int)(cross ? S : 3 * S),
        .k_len = k_len, .k_stride = st->rows[d],
        .block_len = tf->block_len, .prime_len = tf->prime_len, .probs_head = probs_head,
    };
    int rc;
    if ((rc = o->layernorm(be, &h, x, &L->ln0_g, &L->ln0_b, 1e-5f)) ||
        (rc = s_qkv(st, d, &qkv, &h, len, store, n_store)) ||
        (rc = o->attention(be, &att, qkv.data, st->k[d].data, st->v[d].data, &ad, probs)) ||
        (rc = o->matmul(be, x, &att, &L->proj_w, CN_W_IN_OUT, &L->proj_b, 1.0f)) ||
        (rc = o->layernorm(be, &h, x, &L->ln1_g, &L->ln1_b, 1e-5f)) ||
        (rc = s_fc_gelu(tf, L, &mh, &h)) ||
        (rc = o->matmul(be, x, &mh, &L->mlp_w, CN_W_IN_OUT, &L->mlp_b, 1.0f)))
        return rc;
    return 0;
}

int cn_tf_forward(cn_tf_state *st, cn_tensor *x, int pos0, int len, int probs_layer,
                  int probs_head, cn_tensor *probs, char *err, size_t errlen)
{
    const cn_transformer *tf = st->tf;
    if (len < 1 || pos0 < 0 || pos0 >= st->cap || len > cn_tf_chunk_limit(st, pos0, len))
        return snprintf(err, errlen, "transformer: positions %d..%d do not fit a cache of %d "
                        "positions in chunks of at most %d%s", pos0, pos0 + len - 1, st->cap,
                        st->max_len, st->windowed ? " that stay inside one block" : ""),
               CN_EINVAL;
    if (cn_tensor_nelem(x) != (int64_t)st->n_items * len * tf->width)
        return snprintf(err, errlen, "transformer: input must be %d items x %d positions x %d",
                        st->n_items, len, tf->width), CN_EINVAL;
    if (len == 1 && st->step_plan && !probs && !st->on_layer) {
        int rc = tf->be->ops->tf_step(tf->be, st->step_plan, x, pos0);
        if (rc) snprintf(err, errlen, "transformer step: %s", tf->be->ops->last_error(tf->be));
        return rc;
    }
    int rc = st->on_layer ? st->on_layer(st->on_layer_user, -1, x, pos0, len) : 0;
    if (rc) return snprintf(err, errlen, "transformer input observer failed"), rc;
    for (int d = 0; d < tf->depth; d++) {
        rc = s_layer(st, d, x, pos0, len, probs_head, d == probs_layer ? probs : NULL);
        if (rc) {
            snprintf(err, errlen, "transformer layer %d (attention type %d): %s", d,
                     (int)tf->layers[d].type, tf->be->ops->last_error(tf->be));
            return rc;
        }
        if (st->on_layer && (rc = st->on_layer(st->on_layer_user, d, x, pos0, len)))
            return snprintf(err, errlen, "transformer layer %d observer failed", d), rc;
    }
    return 0;
}
