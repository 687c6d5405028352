/* SPDX-License-Identifier: MIT
 * Private layout of a cn_prior and its sampling state, shared by prior_load.c (building),
 * prior_cond.c (conditioning) and prior.c (running). Never included outside those files.
 */
#ifndef CN_PRIOR_IMPL_H
#define CN_PRIOR_IMPL_H

#include "conditioner.h"
#include "prior.h"
#include "transformer.h"

/* The lyric encoder of prior_5b_lyrics (facts 7.4). */
typedef struct cn_lyric_encoder {
    int width;
    cn_transformer tf;          /* causal, positions = n_tokens */
    cn_tensor start_token;      /* (1, We) */
    cn_tensor x_emb;            /* (lyric_vocab, We) */
    cn_tensor pos_emb;          /* (n_tokens, We) */
    cn_tensor proj_w, proj_b;   /* prime_state_proj (We, W) IN_OUT, (W) */
    cn_tensor ln_g, ln_b;       /* prime_state_ln (W) */
} cn_lyric_encoder;

struct cn_prior {
    cn_backend *be;
    cn_prior_info info;
    int merged_decoder;         /* separate x_out, no second cond addition */
    cn_transformer tf;
    cn_tensor x_emb;            /* (seq_vocab, W) */
    cn_tensor x_out;            /* (seq_vocab, W) OUT_IN when merged_decoder, else unused */
    cn_tensor pos_emb;          /* (positions, W) */
    cn_tensor start_token;      /* (1, W) for a prior without labels */
    cn_tensor artist_emb, genre_emb;             /* (artist_bins, W), (genre_bins, W) */
    cn_tensor total_emb, abs_emb, rel_emb;       /* (t_bins, W) each, timing models */
    cn_lyric_encoder enc;       /* ENCODER models */
    cn_conditioner cond;        /* upsamplers */
    int has_cond;
};

struct cn_prior_state {
    cn_prior *p;
    int n;                      /* items */
    int max_chunk;
    int pos;                    /* positions in the cache */
    int begun;
    cn_tf_state tfs;
    cn_tensor y_cond;           /* (N, W): the position-0 input (label vector or start token) */
    cn_tensor x_cond;           /* (N, positions, W) per-position conditioning, or empty */
    cn_tensor enc_kv;           /* (N, n_tokens, W) ENCODER models */
    cn_tensor x;                /* (N*max_chunk, W) chunk rows */
    cn_tensor ids;              /* (N*max_chunk) CN_I32 input tokens of a chunk */
    cn_tensor logits;           /* (N*max_chunk, seq_vocab) */
    cn_tensor pending;          /* (N) CN_I32 input token of the next position (-1 at 0) */
    int pending_valid;          /* 0 after a step: the caller must pass the drawn tokens */
    /* decode steps: device inputs copied in before each step, so that the step's own ops use
     * the same pointers at every position (a recorded step replays) */
    cn_tensor zero;             /* (N, W) zeros, never written */
    cn_tensor pos_tab, xc_tab;  /* (positions, N) CN_I32: p, and n*positions + p */
    cn_tensor step_ids, pos_ids, xc_ids;    /* (N) CN_I32 */
    int graphs;                 /* replay recorded steps (backends with graph slots) */
    int rec_pos, rec_block;     /* position and block of the recording, -1: none */
    const void *rec_logits;     /* logits buffer the recording writes */
};

/* Conditioning of a window (prior_cond.c): fills st->y_cond, st->x_cond, st->enc_kv from the
 * label vectors y (host, N x label_len) and the level-above codes (host, N x above_len). */
int cn_prior_make_cond(cn_prior_state *st, const int32_t *y, const int32_t *above, char *err,
                       size_t errlen);

/* Input rows x (N*len, width) of a causal stack at positions pos0..pos0+len-1:
 * pos_emb rows + table[ids] (ids < 0 add nothing) + at position 0 the start vector
 * (start (1, width), or (N, width) with per_item). */
int cn_prior_embed_rows(cn_backend *be, cn_tensor *x, const cn_tensor *pos_emb, int pos0,
                        const cn_tensor *table, const cn_tensor *ids, const cn_tensor *start,
                        int per_item, int N, int len, int width);

#endif
