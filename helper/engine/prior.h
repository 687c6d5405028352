/* SPDX-License-Identifier: MIT
 * A Jukebox prior (top level or upsampler) over backend.h: conditioning from labels, lyrics and
 * the level above, a full teacher-forced forward, and a cached sampler state for N items that
 * primes in chunks and then advances one position per step. Never draws tokens itself: the
 * caller samples from the logits (be->ops->sample) and feeds the tokens back.
 *
 * Token spaces. "Codes" are VQ-VAE codes 0 .. vocab-1. "Tokens" are what the transformer reads
 * and what the logits cover (seq_vocab of them): for every prior but prior_1b_lyrics they are
 * the codes; for prior_1b_lyrics a code c is token c + code_offset (n_vocab, 79) and tokens
 * below code_offset are lyric characters (the sampler does not mask them; facts 7.3: a drawn
 * lyric id is fed back as is and stands for code max(token - code_offset, 0)).
 *
 * Positions. Position p of the transformer predicts token p; its input is the label vector
 * (p = 0) or token p-1. For prior_1b_lyrics positions 0 .. n_tokens-1 are the lyric prefix
 * (fed by cn_prior_begin); code position t is transformer position prefix + t.
 */
#ifndef CN_PRIOR_H
#define CN_PRIOR_H

#include <stddef.h>
#include <stdint.h>

#include "../../kernels/backend.h"
#include "modelfile.h"

typedef struct cn_prior cn_prior;
typedef struct cn_prior_state cn_prior_state;

typedef enum {
    CN_LYRICS_NONE = 0,     /* prior_5b, upsamplers */
    CN_LYRICS_ENCODER = 1,  /* prior_5b_lyrics: separate lyric encoder read by cross layers */
    CN_LYRICS_PREFIX = 2,   /* prior_1b_lyrics: the lyrics are the first n_tokens positions */
} cn_lyrics_mode;

typedef struct cn_prior_info {
    int level;              /* 0, 1: upsamplers; levels-1 (2): top level */
    int levels;             /* VQ-VAE levels */
    int n_ctx;              /* code positions per window */
    int hop;                /* audio samples per code at this level */
    int vocab;              /* codes (VQ-VAE l_bins) */
    int seq_vocab;          /* tokens = logits per position (vocab + code_offset) */
    int code_offset;        /* token of code 0 (n_vocab for prior_1b_lyrics, else 0) */
    cn_lyrics_mode lyrics;
    int n_tokens;           /* lyric characters per window (0 without lyrics) */
    int lyric_vocab;        /* n_vocab: lyric character ids 0 .. lyric_vocab-1 */
    int prefix;             /* transformer positions before code 0 (n_tokens for PREFIX) */
    int positions;          /* prefix + n_ctx */
    int width, depth, heads;
    int has_labels;         /* label vector conditions position 0 */
    int label_len;          /* 4 + genre_slots + n_tokens */
    int genre_slots;        /* max_bow_genre_size */
    int artist_bins, genre_bins;
    int labels_version;     /* 2, or 3 (labels_v3) */
    int timing;             /* top level: timing signal from the label's lengths */
    int t_bins;
    double min_duration, max_duration;  /* seconds (timing signal range) */
    int sr;
    int above_len;          /* level-above codes per window (upsamplers), else 0 */
    int chunk_size;         /* prime chunk size the reference samples with (16/32) */
    int alignment_layer, alignment_head;  /* -1 when the model has none */
    int block_len;          /* positions / blocks of the main transformer */
    int prime_keys;         /* type-7 key count P (facts 8.2), 0 without prime layers */
    int enc_depth, enc_block_len;         /* lyric encoder (ENCODER models), else 0 */
} cn_prior_info;

/* Builds the prior from a converted model file (kind "prior"): every size from its
 * hyper-parameters and its continuo.vqvae geometry; weights uploaded to be. mf must stay open
 * only during the call. Returns 0, or -1 with a message naming the tensor or hparam. */
int cn_prior_open(cn_prior **p, cn_modelfile *mf, cn_backend *be, char *err, size_t errlen);
void cn_prior_close(cn_prior **p);
const cn_prior_info *cn_prior_info_get(const cn_prior *p);
/* Attention type (facts 8.2 numbering) of a layer of the main transformer, or of the lyric
 * encoder with encoder != 0; -1 outside the stack. */
int cn_prior_layer_type(const cn_prior *p, int encoder, int layer);

/* Sampling state for n_items sequences: caches of all layers and scratch for chunks of up to
 * max_chunk positions per item (0: one block, at least the reference's chunk size). */
int cn_prior_state_new(cn_prior_state **st, cn_prior *p, int n_items, int max_chunk,
                       char *err, size_t errlen);
void cn_prior_state_free(cn_prior_state **st);
/* Backend bytes a state for n_items takes (key/value cache, conditioning and scratch), for
 * choosing a batch size before making one; windowed = 0 gives the size without the windowed
 * cache (every layer keeping every position), for comparison. */
size_t cn_prior_state_bytes(const cn_prior *p, int n_items, int max_chunk, int windowed);
/* 1 when the backend runs this state's decode steps as one whole-stack call (backend.h
 * tf_plan; CUDA with CN_CUDA_PERSISTENT=1), 0 when layer by layer. */
int cn_prior_state_fused(const cn_prior_state *st);
/* Why decode steps run layer by layer (the backend's reason for making no whole-stack step;
 * "" when the backend has none to offer or it runs). */
const char *cn_prior_state_fused_why(const cn_prior_state *st);
/* Positions already in the cache (the next step computes position cn_prior_state_pos). */
int cn_prior_state_pos(const cn_prior_state *st);

/* Starts a window: y (n_items x label_len, host) as the reference's label vector
 * [total_length, offset, sample_length, artist, genre slots (-1 empty)..., lyric ids...];
 * above (n_items x above_len host codes of the level above) for upsamplers, else NULL.
 * Computes the label embedding, the per-position conditioning (timing signal or conditioner),
 * the lyric encoder's keys and values (ENCODER) or feeds the lyric prefix (PREFIX), and
 * empties the cache. Returns 0, or a negative status with a message (e.g. a label outside
 * the model's range). */
int cn_prior_begin(cn_prior_state *st, const int32_t *y, const int32_t *above, char *err,
                   size_t errlen);
/* Feeds K known code-position tokens per item (host, n_items x K, token space) through the
 * cache in chunks of `chunk` positions (0 or more than the state's max_chunk: max_chunk;
 * chunks are also cut at block boundaries); no logits. The last one becomes the pending input
 * of the next step. Call right after cn_prior_begin (or another prime), not after a step. */
int cn_prior_prime(cn_prior_state *st, const int32_t *tokens, int K, int chunk, char *err,
                   size_t errlen);
/* One position for every item: its input is tokens_in (n_items CN_I32 in backend memory, the
 * tokens drawn at the previous position) or, with tokens_in NULL, the pending input (the last
 * primed/prefix token). At position 0 the input is always the label vector and tokens_in is
 * ignored. logits (n_items x seq_vocab F32 in backend memory) receives the prediction of this
 * position. Tokens are not range-checked here (they are on the device): an id >= seq_vocab is
 * reported by the backend. Never synchronises with the host. */
int cn_prior_step(cn_prior_state *st, const cn_tensor *tokens_in, cn_tensor *logits,
                  char *err, size_t errlen);
/* Decode steps through recorded graphs (backends with graph slots, e.g. CUDA): a step is
 * recorded once per block of the window (and again after cn_prior_begin or when the logits
 * buffer changes) and replayed at the other positions. Off by default. While it is on, no
 * other code may record graphs on this backend (the backend keeps one recording). Returns 1
 * if graphs are now used, 0 if off or the backend has none. */
int cn_prior_state_use_graphs(cn_prior_state *st, int on);
/* The same with host arrays (tokens_in may be NULL); for tests and tools. */
int cn_prior_step_host(cn_prior_state *st, const int32_t *tokens_in, float *logits,
                       char *err, size_t errlen);

/* Teacher-forced forward of one window: tokens (n_items x L host, token space, L <= n_ctx)
 * are the code positions; logits (host, n_items x (prefix + L) x seq_vocab, or NULL) for
 * every position (lyric prefix included). alignment, when not NULL and the model has an
 * alignment layer: host n_items x L x n_tokens attention probabilities of that layer/head
 * from code positions to lyric positions (facts 9.6). */
int cn_prior_forward_full(cn_prior *p, const int32_t *y, const int32_t *above,
                          const int32_t *tokens, int n_items, int L, float *logits,
                          float *alignment, char *err, size_t errlen);

/* Debug views for tests, after cn_prior_begin (host copies; NULL-safe):
 * y_cond (n_items x width), x_cond (n_items x n_ctx x width, code positions),
 * encoder_kv (n_items x n_tokens x width, ENCODER models). Return 0 or -1 with err. */
int cn_prior_debug_cond(cn_prior_state *st, float *y_cond, float *x_cond, float *encoder_kv,
                        char *err, size_t errlen);

/* Debugging: the full forward of item 0 alone (y, above, tokens: that item's rows; L code
 * positions), writing the transformer input (positions x width) and every layer's output
 * (depth x positions x width), positions = prefix + L. */
int cn_prior_debug_layers(cn_prior *p, const int32_t *y, const int32_t *above,
                          const int32_t *tokens, int L, float *input, float *layers, char *err,
                          size_t errlen);

#endif
