/* SPDX-License-Identifier: MIT
 * The engine's public face for the render helper and tools: load a model set on a backend,
 * encode prompt audio, sample continuations level by level over the windowed schedule, and
 * decode codes to audio. Long calls report progress through a callback that can cancel.
 * Not thread-safe: one engine is driven by one thread (the helper's engine worker).
 */
#ifndef CN_ENGINE_H
#define CN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#define CN_SAMPLE_RATE 44100
#define CN_LEVELS 3

typedef struct cn_engine cn_engine;

typedef struct cn_engine_config {
    const char *backend;        /* "cpu" or "cuda" */
    const char *vqvae_path;     /* converted .safetensors files; NULL skips that model */
    const char *prior_path;     /* the top-level prior (level 2) */
    const char *upsampler1_path;
    const char *upsampler0_path;
    int max_batch;              /* most candidates sampled as one batch (0 = 16) */
} cn_engine_config;

/* Opens the model files, checks them against their hyper-parameters and uploads the weights.
 * Returns 0, or -1 with a message naming the file and the problem. */
int cn_engine_open(cn_engine **e, const cn_engine_config *cfg, char *err, size_t errlen);
void cn_engine_close(cn_engine **e);

/* What a client needs to know to make valid requests. */
typedef struct cn_engine_info {
    int hop[CN_LEVELS];         /* audio samples per code at each level (8, 32, 128) */
    int n_ctx[CN_LEVELS];       /* positions of each level's prior (0 = not loaded) */
    int vocab;                  /* codes per level */
    int has_lyrics;             /* the top prior reads lyrics */
    int labels_version;         /* 2 or 3 (top prior) */
    double min_total_seconds;   /* song-length range the top prior's timing signal accepts */
    double max_total_seconds;
    double max_prompt_seconds;  /* longest prompt the top level takes in one window */
} cn_engine_info;
void cn_engine_get_info(const cn_engine *e, cn_engine_info *info);

/* Audio (mono, 44.1 kHz float) to the codes of LEVEL: *n_codes = n_samples / hop[level]
 * (the prompt is cut to a multiple of the hop). *codes is malloc'd; caller frees. */
int cn_engine_encode(cn_engine *e, const float *audio, int64_t n_samples, int level,
                     int32_t **codes, int64_t *n_codes, char *err, size_t errlen);
/* Codes of LEVEL to audio from that level alone: *n_samples = n_codes * hop[level]. */
int cn_engine_decode(cn_engine *e, const int32_t *codes, int64_t n_codes, int level,
                     float **audio, int64_t *n_samples, char *err, size_t errlen);

/* The song-level conditioning of a request. */
typedef struct cn_song {
    const char *artist;         /* by name, as in the model's id table */
    const char *genre;          /* v2: up to 5 words; v3: one name */
    const char *lyrics;         /* UTF-8; NULL or "" for none */
    double total_seconds;       /* length of the whole song */
} cn_song;

typedef struct cn_sampling {
    int n;                      /* candidates, 1.. */
    float temperature;          /* > 0; the reference uses 0.99 */
    int top_k;                  /* 0 = off */
    float top_p;                /* 0 = off */
    uint64_t seed;
    double hop_fraction;        /* window advance as a fraction of n_ctx (0 = level default) */
} cn_sampling;

/* Progress: fraction in [0, 1] of this call, tokens per second so far, and the codes of every
 * candidate so far (n rows of `len` codes, row-major), for previews. Return non-zero to cancel
 * (the call then returns CN_ENGINE_CANCELLED within one sampling step). */
typedef int (*cn_progress_fn)(void *user, double fraction, double tokens_per_s,
                              const int32_t *codes, int n, int64_t len);

#define CN_ENGINE_CANCELLED 1

/* Samples LEVEL until each of the n candidates holds `target_len` codes.
 * codes: n rows of capacity target_len; each row's first `have` codes are given (the prompt
 * or the path so far, identical or not across rows) and are kept. For the upsamplers (level
 * 0, 1), `above` holds the level-above codes of each row (n rows of above_len codes, covering
 * at least target_len * hop[level] samples). Windows follow the reference schedule (facts 10),
 * with labels and lyric windows per window. Returns 0, CN_ENGINE_CANCELLED, or -1 with err. */
int cn_engine_sample_level(cn_engine *e, int level, int32_t *codes, int64_t have,
                           int64_t target_len, const int32_t *above, int64_t above_len,
                           const cn_song *song, const cn_sampling *s, cn_progress_fn progress,
                           void *user, char *err, size_t errlen);

/* 1 when the backend is unusable after a sticky device error (every later call would fail,
 * e.g. a CUDA illegal address): only a new process gets a working device. 0 otherwise, and
 * always on the CPU. Waits for the device's queued work. */
int cn_engine_device_lost(cn_engine *e);

/* Artist and genre names of the top prior's tables. Returns 0, or -1 with a message that
 * names the unknown word and lists up to 5 near matches. */
int cn_engine_check_labels(const cn_engine *e, const cn_song *song, char *err, size_t errlen);

#endif
