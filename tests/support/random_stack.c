/* SPDX-License-Identifier: MIT
 * The random stack of random_stack.h: its values and its copy onto another backend.
 */
#include "random_stack.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cn_attn_type s_types[CN_RS_DEPTH] = { CN_ATTN_DENSE, CN_ATTN_BLOCK,
                                                   CN_ATTN_TRANSPOSE, CN_ATTN_PREV_BLOCK,
                                                   CN_ATTN_CROSS, CN_ATTN_PRIME };

float cn_rs_unif(uint32_t *rng)
{
    *rng = *rng * 1664525u + 1013904223u;
    return (float)(*rng >> 8) / 16777216.0f * 2.0f - 1.0f;
}

float cn_rs_bf16(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    memcpy(&v, &u, sizeof v);
    return v;
}

cn_tensor cn_rs_rand(uint32_t *rng, int nd, int64_t a, int64_t b, float scale, float bias,
                     int round)
{
    int64_t n = nd == 1 ? a : a * b;
    float *d = (float *)malloc((size_t)n * sizeof *d);
    for (int64_t i = 0; d && i < n; i++) {
        d[i] = bias + scale * cn_rs_unif(rng);
        if (round) d[i] = cn_rs_bf16(d[i]);
    }
    int64_t ne[2] = { a, b };
    return cn_tensor_make(d, CN_F32, nd, ne);
}

void cn_rs_make(cn_transformer *tf, cn_backend *cpu, const cn_rs_shape *sh, uint32_t *rng,
                int round)
{
    int W = sh->W, S = sh->S, M = sh->M;
    /* weights scaled by 1/sqrt(fan-in) around the small shape (160 / 80 / 192), so that wider
     * stacks keep activations and attention scores of the same size */
    float sw = 0.3f * sqrtf(160.0f / W), ss = 0.3f * sqrtf(80.0f / S);
    float sf = 0.2f * sqrtf(160.0f / W), sm = 0.2f * sqrtf(192.0f / M);
    memset(tf, 0, sizeof *tf);
    tf->be = cpu, tf->width = W, tf->depth = CN_RS_DEPTH, tf->heads = sh->H;
    tf->head_dim = S / sh->H, tf->S = S, tf->mlp = M, tf->positions = CN_RS_CAP;
    tf->blocks = CN_RS_CAP / CN_RS_C, tf->block_len = CN_RS_C;
    tf->prime_len = CN_RS_P, tf->enc_width = CN_RS_E;
    tf->layers = (cn_tf_layer *)calloc(CN_RS_DEPTH, sizeof *tf->layers);
    for (int d = 0; tf->layers && d < CN_RS_DEPTH; d++) {
        cn_tf_layer *L = &tf->layers[d];
        int R = s_types[d] == CN_ATTN_CROSS ? S : 3 * S;
        L->type = s_types[d];
        L->ln0_g = cn_rs_rand(rng, 1, W, 0, 0.1f, 1.0f, 0);
        L->ln0_b = cn_rs_rand(rng, 1, W, 0, 0.1f, 0, 0);
        L->ln1_g = cn_rs_rand(rng, 1, W, 0, 0.1f, 1.0f, 0);
        L->ln1_b = cn_rs_rand(rng, 1, W, 0, 0.1f, 0, 0);
        L->attn_w = cn_rs_rand(rng, 2, W, R, sw, 0, round);
        L->attn_b = cn_rs_rand(rng, 1, R, 0, 0.1f, 0, 0);
        L->proj_w = cn_rs_rand(rng, 2, S, W, ss, 0, round);
        L->proj_b = cn_rs_rand(rng, 1, W, 0, 0.1f, 0, 0);
        L->fc_w = cn_rs_rand(rng, 2, W, M, sf, 0, round);
        L->fc_b = cn_rs_rand(rng, 1, M, 0, 0.1f, 0, 0);
        L->mlp_w = cn_rs_rand(rng, 2, M, W, sm, 0, round);
        L->mlp_b = cn_rs_rand(rng, 1, W, 0, 0.1f, 0, 0);
        if (L->type == CN_ATTN_CROSS) {
            L->enc_kv_w = cn_rs_rand(rng, 2, CN_RS_E, 2 * S, 0.3f, 0, round);
            L->enc_kv_b = cn_rs_rand(rng, 1, 2 * S, 0, 0.1f, 0, 0);
        }
    }
}

int cn_rs_upload(cn_transformer *dst, const cn_transformer *src, cn_backend *be, char *err,
                 size_t errlen)
{
    *dst = *src;
    dst->be = be;
    dst->layers = (cn_tf_layer *)calloc((size_t)src->depth, sizeof *dst->layers);
    if (!dst->layers) return snprintf(err, errlen, "out of host memory"), -1;
    for (int d = 0; d < src->depth; d++) {
        const cn_tf_layer *s = &src->layers[d];
        cn_tf_layer *o = &dst->layers[d];
        o->type = s->type;
        const cn_tensor *from[] = { &s->ln0_g, &s->ln0_b, &s->ln1_g, &s->ln1_b, &s->attn_w,
                                    &s->attn_b, &s->enc_kv_w, &s->enc_kv_b, &s->proj_w,
                                    &s->proj_b, &s->fc_w, &s->fc_b, &s->mlp_w, &s->mlp_b };
        cn_tensor *to[] = { &o->ln0_g, &o->ln0_b, &o->ln1_g, &o->ln1_b, &o->attn_w, &o->attn_b,
                            &o->enc_kv_w, &o->enc_kv_b, &o->proj_w, &o->proj_b, &o->fc_w,
                            &o->fc_b, &o->mlp_w, &o->mlp_b };
        for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
            if (!from[i]->data) continue;
            if (be->ops->upload_weight(be, to[i], from[i])) {
                snprintf(err, errlen, "upload_weight of layer %d: %s", d,
                         be->ops->last_error(be));
                return -1;
            }
        }
    }
    return 0;
}
