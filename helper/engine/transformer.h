/* SPDX-License-Identifier: MIT
 * The Jukebox transformer stack (facts 8): pre-norm residual layers with factored attention,
 * loaded from a model file, run over chunks of positions with a per-layer key/value cache.
 * Never samples, embeds or projects to logits: the prior (prior.c) does that around it.
 */
#ifndef CN_TRANSFORMER_H
#define CN_TRANSFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "../../kernels/backend.h"
#include "modelfile.h"

#define CN_TF_MAX_DEPTH 256

/* The hyper-parameters one stack is built from (reference Transformer.__init__). */
typedef struct cn_tf_hparams {
    const char *prefix;     /* state-dict prefix of the layers, e.g. "prior.transformer" */
    int width;              /* residual width W */
    int depth;
    int heads;
    double m_attn, m_mlp;   /* S = m_attn * W, MLP width = m_mlp * W */
    int attn_order;         /* reference attn_order: 0, 1, 2, 6, 7, 8, 9, 10, 11, 12 */
    int positions;          /* L: positions of one sequence */
    int blocks;             /* hparam blocks; block length c = L / blocks */
    int prime_len;          /* type-7 prime length before rounding (lyric prefix), else 0 */
    int enc_width;          /* input width of c_enc_kv on cross layers (0: no cross layers) */
} cn_tf_hparams;

/* One ResAttnBlock. Conv1D weights are (n_in, n_out) = CN_W_IN_OUT. */
typedef struct cn_tf_layer {
    cn_attn_type type;
    cn_tensor ln0_g, ln0_b, ln1_g, ln1_b;   /* (W) */
    cn_tensor attn_w, attn_b;               /* (W, 3S) [q|k|v], cross: (W, S) q only */
    cn_tensor enc_kv_w, enc_kv_b;           /* cross only: (enc_width, 2S) [k|v] */
    cn_tensor proj_w, proj_b;               /* (S, W) */
    cn_tensor fc_w, fc_b;                   /* (W, M) */
    cn_tensor mlp_w, mlp_b;                 /* (M, W) */
} cn_tf_layer;

typedef struct cn_transformer {
    cn_backend *be;
    int width, depth, heads, head_dim, S, mlp;
    int positions, blocks, block_len;
    int prime_len;          /* P = (prime_len // blocks + 1) * blocks, or 0 */
    int enc_width;
    cn_tf_layer *layers;
} cn_transformer;

/* The layer type the reference's attn_order gives layer d; -1 for an order this engine does not
 * run (orders using summary attention, types 4 and 5). */
int cn_tf_attn_type(int attn_order, int d);

/* Builds the stack from mf (shapes checked against hp) and uploads its weights to be.
 * Returns 0, or -1 with a message naming the tensor or the hyper-parameter. */
int cn_transformer_load(cn_transformer *tf, cn_modelfile *mf, cn_backend *be,
                        const cn_tf_hparams *hp, char *err, size_t errlen);
void cn_transformer_free(cn_transformer *tf);
/* Number of cross-attention (type 6) layers. */
int cn_tf_cross_layers(const cn_transformer *tf);

/* Per-item key/value cache and scratch for n_items sequences of up to `cap` positions, run in
 * chunks of at most max_len positions per item; n_enc encoder rows for cross layers.
 * A windowed cache keeps little more than what later queries read (facts 9.4): block layers
 * (type 1) one block, previous-block layers (type 3) a ring of two blocks (3 blocks of rows,
 * so that positions advance linearly inside a block), every other layer every position; its
 * chunks must then stay inside one block (cn_tf_chunk_limit). Without windowing every layer
 * keeps every position and a chunk may span blocks. */
typedef struct cn_tf_state {
    const cn_transformer *tf;
    int n_items, cap, max_len, n_enc, windowed;
    int has_block;          /* some layer is of type 1 or 3 */
    int *rows;              /* per layer: cache rows per item */
    cn_tensor *k, *v;       /* per layer: (N, rows, S) */
    cn_tensor h, qkv, att, mh;      /* scratch: (N*max_len, W / 3S / S / M) */
    void *step_plan;        /* the backend's whole-stack decode step, or NULL (per layer) */
    char step_why[256];     /* why the backend made none (its last_error), or "" */
    /* Optional observer (debugging): called with layer -1 on the input of a chunk, then with
     * each layer's output x (N*len, W); a non-zero return stops the forward with that status. */
    int (*on_layer)(void *user, int layer, const cn_tensor *x, int pos0, int len);
    void *on_layer_user;
} cn_tf_state;

int cn_tf_state_init(cn_tf_state *st, const cn_transformer *tf, int n_items, int cap,
                     int max_len, int n_enc, int windowed, char *err, size_t errlen);
/* The longest chunk (at most want) that may start at pos0. */
int cn_tf_chunk_limit(const cn_tf_state *st, int pos0, int want);
/* Keys layer d's attention call sees for a chunk at pos0 (the probs row length). */
int cn_tf_k_len(const cn_tf_state *st, int d, int pos0, int len);
/* Backend bytes of the key/value cache: of a state, or of one that cn_tf_state_init would
 * make with these arguments. */
size_t cn_tf_cache_bytes(const cn_tf_state *st);
size_t cn_tf_cache_bytes_for(const cn_transformer *tf, int n_items, int cap, int n_enc,
                             int windowed);
void cn_tf_state_free(cn_tf_state *st);
/* Asks the backend for its whole-stack decode step (backend.h tf_plan) for this state; later
 * one-position forwards without probs or observer use it (st->step_plan; when the backend
 * made none, st->step_why says why). Not while recording; nothing fails. */
void cn_tf_state_plan_steps(cn_tf_state *st);

/* Fills every cross layer's keys and values from enc (N*n_enc, enc_width) backend rows
 * (c_enc_kv, computed once per window). */
int cn_tf_set_encoder(cn_tf_state *st, const cn_tensor *enc, char *err, size_t errlen);

/* Runs positions pos0 .. pos0+len-1 of every item through all layers: x (N*len, W) backend
 * rows, item-major, updated in place; their keys and values are stored in the cache so later
 * calls see them. Positions before pos0 must already be in the cache; len at most
 * cn_tf_chunk_limit(st, pos0, max_len). With probs != NULL, layer probs_layer (type 0, 2, 6
 * or 7) writes head probs_head's attention probabilities (N, len, cn_tf_k_len) there. */
int cn_tf_forward(cn_tf_state *st, cn_tensor *x, int pos0, int len, int probs_layer,
                  int probs_head, cn_tensor *probs, char *err, size_t errlen);

#endif
