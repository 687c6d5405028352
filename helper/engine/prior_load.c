/* SPDX-License-Identifier: MIT
 * Building a cn_prior from a converted model file: sizes from continuo.hparams and the
 * continuo.vqvae geometry (facts 1.1, 2.3, 4), weights uploaded, strict use of every tensor.
 * Never runs the model and never assumes a released size.
 */
#include "prior_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_util.h"

#define S_MAX_LEVELS 8

/* Optional integer: -1 when absent or null. */
static int s_opt_int(const cJSON *hp, const char *key, int *out, char *err, size_t errlen)
{
    *out = -1;
    return cn_hp_is_null(hp, key) ? 0 : cn_hp_int(hp, key, out, err, errlen);
}

static int s_opt_bool(const cJSON *hp, const char *key, int *out, char *err, size_t errlen)
{
    *out = 0;
    return cn_hp_is_null(hp, key) ? 0 : cn_hp_bool(hp, key, out, err, errlen);
}

/* VQ-VAE geometry: levels, hop of this level, codes per level, and the level above's
 * down_t / stride_t for the conditioner. */
static int s_vqvae_geom(cn_prior_info *in, const cJSON *vq, int *down_above, int *stride_above,
                        char *err, size_t errlen)
{
    int downs[S_MAX_LEVELS], strides[S_MAX_LEVELS];
    int nd, ns;
    if (!vq) return snprintf(err, errlen, "model file has no continuo.vqvae geometry"), -1;
    if (cn_hp_int(vq, "levels", &in->levels, err, errlen) ||
        cn_hp_int(vq, "l_bins", &in->vocab, err, errlen) ||
        cn_hp_int(vq, "sr", &in->sr, err, errlen) ||
        (nd = cn_hp_int_list(vq, "downs_t", downs, S_MAX_LEVELS, err, errlen)) < 0 ||
        (ns = cn_hp_int_list(vq, "strides_t", strides, S_MAX_LEVELS, err, errlen)) < 0)
        return -1;
    if (in->levels < 1 || nd != in->levels || ns != in->levels || in->vocab < 1)
        return snprintf(err, errlen, "continuo.vqvae: %d levels with %d downs_t and %d "
                        "strides_t, l_bins %d: inconsistent", in->levels, nd, ns, in->vocab), -1;
    if (in->level < 0 || in->level >= in->levels)
        return snprintf(err, errlen, "hparams: level %d, but the VQ-VAE has levels 0..%d",
                        in->level, in->levels - 1), -1;
    in->hop = 1;
    for (int l = 0; l <= in->level; l++)
        for (int i = 0; i < downs[l]; i++) in->hop *= strides[l];
    *down_above = in->level + 1 < in->levels ? downs[in->level + 1] : 0;
    *stride_above = in->level + 1 < in->levels ? strides[in->level + 1] : 0;
    return 0;
}

static int s_label_info(cn_prior_info *in, const cJSON *hp, char *err, size_t errlen)
{
    int ybins[2], v3 = 0;
    if (cn_hp_bool(hp, "labels", &in->has_labels, err, errlen) ||
        cn_hp_int(hp, "max_bow_genre_size", &in->genre_slots, err, errlen) ||
        s_opt_bool(hp, "labels_v3", &v3, err, errlen))
        return -1;
    in->labels_version = v3 ? 3 : 2;
    in->label_len = 4 + in->genre_slots + in->n_tokens;
    if (!in->has_labels) return 0;
    if (cn_hp_int_list(hp, "y_bins", ybins, 2, err, errlen) != 2)
        return snprintf(err, errlen, "hparams: y_bins must be [genres, artists]"), -1;
    in->genre_bins = ybins[0];
    in->artist_bins = ybins[1];
    in->timing = in->level == in->levels - 1;
    if (!in->timing) return 0;
    if (cn_hp_int(hp, "t_bins", &in->t_bins, err, errlen) ||
        cn_hp_double(hp, "min_duration", &in->min_duration, err, errlen) ||
        cn_hp_double(hp, "max_duration", &in->max_duration, err, errlen))
        return -1;
    return 0;
}

static int s_lyric_info(cn_prior_info *in, const cJSON *hp, char *err, size_t errlen)
{
    int use_tokens = 0, single = 0;
    if (s_opt_bool(hp, "use_tokens", &use_tokens, err, errlen) ||
        s_opt_bool(hp, "single_enc_dec", &single, err, errlen))
        return -1;
    in->lyrics = CN_LYRICS_NONE;
    if (use_tokens) {
        if (cn_hp_int(hp, "n_tokens", &in->n_tokens, err, errlen) ||
            cn_hp_int(hp, "n_vocab", &in->lyric_vocab, err, errlen))
            return -1;
        if (in->n_tokens > 0) in->lyrics = single ? CN_LYRICS_PREFIX : CN_LYRICS_ENCODER;
    }
    if (in->lyrics == CN_LYRICS_NONE) in->n_tokens = 0;
    in->prefix = in->lyrics == CN_LYRICS_PREFIX ? in->n_tokens : 0;
    in->code_offset = in->lyrics == CN_LYRICS_PREFIX ? in->lyric_vocab : 0;
    in->seq_vocab = in->vocab + in->code_offset;
    in->positions = in->prefix + in->n_ctx;
    return 0;
}

static int s_read_info(cn_prior *p, cn_modelfile *mf, cn_tf_hparams *tfh, cn_cond_hparams *ch,
                       char *err, size_t errlen)
{
    const cJSON *hp = cn_modelfile_hparams(mf);
    cn_prior_info *in = &p->info;
    int down_above = 0, stride_above = 0, chunk = -1;
    if (cn_hp_int(hp, "level", &in->level, err, errlen) ||
        cn_hp_int(hp, "n_ctx", &in->n_ctx, err, errlen) ||
        cn_hp_int(hp, "prior_width", &in->width, err, errlen) ||
        cn_hp_int(hp, "prior_depth", &in->depth, err, errlen) ||
        cn_hp_int(hp, "heads", &in->heads, err, errlen) ||
        cn_hp_int(hp, "attn_order", &tfh->attn_order, err, errlen) ||
        cn_hp_int(hp, "blocks", &tfh->blocks, err, errlen) ||
        cn_hp_double(hp, "m_attn", &tfh->m_attn, err, errlen) ||
        cn_hp_double(hp, "m_mlp", &tfh->m_mlp, err, errlen) ||
        cn_hp_bool(hp, "merged_decoder", &p->merged_decoder, err, errlen) ||
        s_opt_int(hp, "alignment_layer", &in->alignment_layer, err, errlen) ||
        s_opt_int(hp, "alignment_head", &in->alignment_head, err, errlen) ||
        s_opt_int(hp, "primed_chunk_size", &chunk, err, errlen) ||
        s_vqvae_geom(in, cn_modelfile_vqvae(mf), &down_above, &stride_above, err, errlen) ||
        s_lyric_info(in, hp, err, errlen) || s_label_info(in, hp, err, errlen))
        return -1;
    if (in->n_ctx < 1)
        return snprintf(err, errlen, "hparams: n_ctx %d must be at least 1", in->n_ctx), -1;
    int top = in->level == in->levels - 1;
    in->chunk_size = chunk > 0 ? chunk : top && in->lyrics != CN_LYRICS_PREFIX ? 16 : 32;
    if (in->alignment_layer < 0 || in->alignment_head < 0 || in->lyrics == CN_LYRICS_NONE)
        in->alignment_layer = in->alignment_head = -1;
    *tfh = (cn_tf_hparams){ .prefix = "prior.transformer", .width = in->width,
                            .depth = in->depth, .heads = in->heads, .m_attn = tfh->m_attn,
                            .m_mlp = tfh->m_mlp, .attn_order = tfh->attn_order,
                            .positions = in->positions, .blocks = tfh->blocks,
                            .prime_len = in->prefix,
                            .enc_width = in->lyrics == CN_LYRICS_ENCODER ? in->width : 0 };
    p->has_cond = !top;
    if (!p->has_cond) return 0;
    *ch = (cn_cond_hparams){ .width = in->width, .bins = in->vocab, .down_t = down_above,
                             .stride_t = stride_above };
    if (cn_hp_int(hp, "cond_width", &ch->cond_width, err, errlen) ||
        cn_hp_int(hp, "cond_depth", &ch->cond_depth, err, errlen) ||
        cn_hp_double(hp, "cond_m_conv", &ch->m_conv, err, errlen) ||
        cn_hp_int(hp, "cond_dilation_growth_rate", &ch->growth, err, errlen) ||
        s_opt_int(hp, "cond_dilation_cycle", &ch->cycle, err, errlen) ||
        s_opt_bool(hp, "cond_res_scale", &ch->res_scale, err, errlen) ||
        s_opt_bool(hp, "cond_c_res", &ch->c_res, err, errlen))
        return -1;
    if (ch->cycle < 0) ch->cycle = 0;
    int f = 1;
    for (int i = 0; i < down_above; i++) f *= stride_above;
    if (f < 1 || in->n_ctx % f != 0)
        return snprintf(err, errlen, "n_ctx %d is not a multiple of the level above's "
                        "upsampling factor %d", in->n_ctx, f), -1;
    in->above_len = in->n_ctx / f;
    return 0;
}

static int s_load_encoder(cn_prior *p, cn_modelfile *mf, char *err, size_t errlen)
{
    const cJSON *hp = cn_modelfile_hparams(mf);
    const cn_prior_info *in = &p->info;
    cn_lyric_encoder *e = &p->enc;
    cn_tf_hparams th = { .prefix = "prime_prior.transformer", .positions = in->n_tokens };
    if (cn_hp_int(hp, "prime_width", &th.width, err, errlen) ||
        cn_hp_int(hp, "prime_depth", &th.depth, err, errlen) ||
        cn_hp_int(hp, "prime_heads", &th.heads, err, errlen) ||
        cn_hp_int(hp, "prime_attn_order", &th.attn_order, err, errlen) ||
        cn_hp_int(hp, "prime_blocks", &th.blocks, err, errlen) ||
        cn_hp_double(hp, "prime_m_attn", &th.m_attn, err, errlen) ||
        cn_hp_double(hp, "prime_m_mlp", &th.m_mlp, err, errlen))
        return -1;
    e->width = th.width;
    int64_t We = th.width, W = in->width;
    if (cn_tu_upload_f32(p->be, mf, "prime_prior.start_token", 2, (int64_t[]){ 1, We },
                     &e->start_token, err, errlen) ||
        cn_tu_upload_f32(p->be, mf, "prime_prior.x_emb.weight", 2,
                     (int64_t[]){ in->lyric_vocab, We }, &e->x_emb, err, errlen) ||
        cn_tu_upload_f32(p->be, mf, "prime_prior.pos_emb.pos_emb", 2,
                     (int64_t[]){ in->n_tokens, We }, &e->pos_emb, err, errlen) ||
        cn_tu_upload(p->be, mf, "prime_state_proj.w", 2, (int64_t[]){ We, W }, &e->proj_w,
                     err, errlen) ||
        cn_tu_upload(p->be, mf, "prime_state_proj.b", 1, &W, &e->proj_b, err, errlen) ||
        cn_tu_upload(p->be, mf, "prime_state_ln.weight", 1, &W, &e->ln_g, err, errlen) ||
        cn_tu_upload(p->be, mf, "prime_state_ln.bias", 1, &W, &e->ln_b, err, errlen))
        return -1;
    cn_tensor unused;   /* prime_x_out: only the training loss reads it; checked, not kept */
    if (cn_modelfile_tensor(mf, "prime_x_out.weight", 2, (int64_t[]){ in->lyric_vocab, W }, -1,
                            &unused, err, errlen))
        return -1;
    return cn_transformer_load(&e->tf, mf, p->be, &th, err, errlen);
}

static int s_load_labels(cn_prior *p, cn_modelfile *mf, char *err, size_t errlen)
{
    const cn_prior_info *in = &p->info;
    int64_t W = in->width;
    if (!in->has_labels)
        return cn_tu_upload_f32(p->be, mf, "prior.start_token", 2, (int64_t[]){ 1, W },
                            &p->start_token, err, errlen);
    if (cn_tu_upload_f32(p->be, mf, "y_emb.artist_emb.emb.weight", 2,
                     (int64_t[]){ in->artist_bins, W }, &p->artist_emb, err, errlen) ||
        cn_tu_upload_f32(p->be, mf, "y_emb.bow_genre_emb.emb.weight", 2,
                     (int64_t[]){ in->genre_bins, W }, &p->genre_emb, err, errlen))
        return -1;
    if (!in->timing) return 0;
    int64_t t[2] = { in->t_bins, W };
    return cn_tu_upload_f32(p->be, mf, "y_emb.total_length_emb.emb.weight", 2, t,
                            &p->total_emb, err, errlen) ||
           cn_tu_upload_f32(p->be, mf, "y_emb.absolute_pos_emb.emb.weight", 2, t,
                            &p->abs_emb, err, errlen) ||
           cn_tu_upload_f32(p->be, mf, "y_emb.relative_pos_emb.emb.weight", 2, t,
                            &p->rel_emb, err, errlen)
               ? -1 : 0;
}

static int s_load(cn_prior *p, cn_modelfile *mf, char *err, size_t errlen)
{
    cn_tf_hparams tfh = { 0 };
    cn_cond_hparams ch = { 0 };
    if (strcmp(cn_modelfile_kind(mf), "prior") != 0)
        return snprintf(err, errlen, "model file holds a %s, not a prior",
                        cn_modelfile_kind(mf)), -1;
    if (s_read_info(p, mf, &tfh, &ch, err, errlen)) return -1;
    const cn_prior_info *in = &p->info;
    int64_t xe[2] = { in->seq_vocab, in->width }, pe[2] = { in->positions, in->width };
    cn_tensor tied;
    if (cn_tu_upload_f32(p->be, mf, "prior.x_emb.weight", 2, xe, &p->x_emb, err, errlen) ||
        cn_tu_upload_f32(p->be, mf, "prior.pos_emb.pos_emb", 2, pe, &p->pos_emb, err, errlen))
        return -1;
    if (p->merged_decoder
            ? cn_tu_upload_f32(p->be, mf, "prior.x_out.weight", 2, xe, &p->x_out, err, errlen)
            : cn_modelfile_tensor(mf, "prior.x_out.weight", 2, xe, -1, &tied, err, errlen))
        return -1;
    if (s_load_labels(p, mf, err, errlen) ||
        cn_transformer_load(&p->tf, mf, p->be, &tfh, err, errlen))
        return -1;
    if (in->lyrics == CN_LYRICS_ENCODER && s_load_encoder(p, mf, err, errlen)) return -1;
    if (p->has_cond && cn_conditioner_load(&p->cond, mf, p->be, &ch, err, errlen)) return -1;
    if (in->alignment_layer >= in->depth ||
        (in->alignment_layer >= 0 && in->alignment_head >= in->heads))
        return snprintf(err, errlen, "hparams: alignment layer %d / head %d outside %d layers x "
                        "%d heads", in->alignment_layer, in->alignment_head, in->depth,
                        in->heads), -1;
    int at = in->alignment_layer >= 0 ? (int)p->tf.layers[in->alignment_layer].type : 6;
    if (at == CN_ATTN_BLOCK || at == CN_ATTN_PREV_BLOCK)
        return snprintf(err, errlen, "hparams: alignment layer %d has block attention (type "
                        "%d); only dense, transpose, cross or prime layers can align lyrics",
                        in->alignment_layer, at), -1;
    p->info.block_len = p->tf.block_len;
    p->info.prime_keys = in->prefix > 0 ? p->tf.prime_len : 0;
    p->info.enc_depth = in->lyrics == CN_LYRICS_ENCODER ? p->enc.tf.depth : 0;
    p->info.enc_block_len = in->lyrics == CN_LYRICS_ENCODER ? p->enc.tf.block_len : 0;
    return cn_modelfile_check_all_used(mf, err, errlen);
}

int cn_prior_open(cn_prior **pp, cn_modelfile *mf, cn_backend *be, char *err, size_t errlen)
{
    *pp = NULL;
    cn_prior *p = calloc(1, sizeof *p);
    if (!p) return snprintf(err, errlen, "prior: out of memory"), -1;
    p->be = be;
    if (s_load(p, mf, err, errlen)) {
        cn_prior_close(&p);
        return -1;
    }
    *pp = p;
    return 0;
}

void cn_prior_close(cn_prior **pp)
{
    cn_prior *p = pp ? *pp : NULL;
    if (!p) return;
    cn_backend *be = p->be;
    cn_tensor *all[] = { &p->x_emb, &p->x_out, &p->pos_emb, &p->start_token, &p->artist_emb,
                         &p->genre_emb, &p->total_emb, &p->abs_emb, &p->rel_emb,
                         &p->enc.start_token, &p->enc.x_emb, &p->enc.pos_emb, &p->enc.proj_w,
                         &p->enc.proj_b, &p->enc.ln_g, &p->enc.ln_b };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cn_tu_release(be, all[i]);
    cn_transformer_free(&p->tf);
    cn_transformer_free(&p->enc.tf);
    cn_conditioner_free(&p->cond);
    free(p);
    *pp = NULL;
}

const cn_prior_info *cn_prior_info_get(const cn_prior *p)
{
    return &p->info;
}

int cn_prior_layer_type(const cn_prior *p, int encoder, int layer)
{
    const cn_transformer *tf = encoder ? &p->enc.tf : &p->tf;
    if (!tf->layers || layer < 0 || layer >= tf->depth) return -1;
    return (int)tf->layers[layer].type;
}
