/* SPDX-License-Identifier: MIT
 * continuo-bench's shared pieces: options, the per-model prior timing, the VQ-VAE timing, the
 * schedule projection and small utilities. Prints figures only: never asserts or fails a build.
 */
#ifndef CN_BENCH_H
#define CN_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define CN_BENCH_MAX_MODELS 8
#define CN_BENCH_MAX_N 8

typedef struct cn_bench_wrap cn_bench_wrap;

typedef struct cn_bench_opts {
    const char *backend;            /* "cpu" (default) or "cuda" */
    const char *models[CN_BENCH_MAX_MODELS];
    int n_models;
    int depth;                      /* transformer layers kept; 0 = the released depth */
    int depth_set;
    int n_list[CN_BENCH_MAX_N];
    int n_n;
    int steps;                      /* timed decode steps per (model, N) */
    int pos;                        /* code position of the first timed step; -1 = default */
    int graphs;                     /* 1: replay recorded decode steps where the backend can, as the engine does */
    const char *layouts;            /* released_layouts directory */
    const char *tmp;                /* folder for the synthetic model files */
    double peak_gbs;                /* 0 = ask the device */
    double vq_seconds;              /* audio length for the VQ-VAE timing; 0 = skip */
    double song_seconds;            /* the projected song */
} cn_bench_opts;

/* One (model, N) measurement of the sampling loop. */
typedef struct cn_bench_step {
    int n;
    int ok;                         /* 0: refused (reason in why) */
    char why[256];
    int graphs;                     /* recorded decode steps were replayed (cn_prior_state_use_graphs) */
    int fused;                      /* the backend's whole-stack step ran (cn_prior_state_fused) */
    char fused_why[256];            /* otherwise the backend's reason (cn_prior_state_fused_why) */
    int pos0;                       /* code position of the first timed step */
    double begin_s;                 /* cn_prior_begin (conditioning, lyric prefix/encoder) */
    double prime_s_per_pos;         /* cn_prior_prime per primed position, all N items */
    double step_s;                  /* cn_prior_step + sample + token download: median */
    double step_mean_s;             /* the same, mean over the timed steps */
    double state_bytes;             /* backend memory the state holds (cache + scratch) */
    double peak_bytes;              /* most backend memory the model code held at once
                                       (weights + state + per-call scratch) */
    double dev_used_bytes;          /* device memory in use after the steps, from mem_info
                                       against the free memory before loading (CUDA only) */
} cn_bench_step;

/* One model: shape and every N measured. */
typedef struct cn_bench_model {
    char name[64];
    int level, n_ctx, width, depth, full_depth, heads, hop, prefix, n_tokens, chunk;
    int64_t hop_length;             /* window advance of the schedule at this level */
    double weight_bytes;            /* backend memory held after loading (weights) */
    double step_bytes;              /* weights one decode step reads */
    double file_bytes;
    double load_s;
    cn_bench_wrap *wrap;            /* the backend the prior was opened on (bench_prior.c) */
    cn_bench_step s[CN_BENCH_MAX_N];
    int n_s;
} cn_bench_model;

/* Writes the synthetic model, opens it, times the sampling loop for every N in opts, closes
 * and deletes it. Returns 0, or -1 with a message (the model could not be built at all). */
int cn_bench_prior(cn_backend *be, const cn_bench_opts *o, const char *model,
                   cn_bench_model *out, char *err, size_t errlen);
void cn_bench_print_model(const cn_bench_model *m, double peak_gbs);

/* VQ-VAE encode and decode of opts->vq_seconds of noise at every level, printed. */
int cn_bench_vqvae(cn_backend *be, const cn_bench_opts *o, double decode_rt[3], char *err,
                   size_t errlen);

/* GPU seconds per audio second at each level and the projected song (needs the top prior and
 * both upsamplers at full depth among ms). */
void cn_bench_project(const cn_bench_model *ms, int n_models, const cn_bench_opts *o,
                      const double decode_rt[3]);

/* --- utilities (bench_util.c) --- */
double cn_bench_now(void);
/* "<tmp>/continuo-bench-<pid>-<model>.safetensors" after checking that `need` bytes fit:
 * returns 0, or -1 with a message naming the folder, the need and the free space. */
int cn_bench_tmp_path(const char *tmp, const char *model, double need, char *path,
                      size_t pathlen, char *err, size_t errlen);
/* Peak weight-read bandwidth of the backend's device in GB/s (CUDA: memory clock x bus width
 * x 2), with a line saying where it came from; 0 when unknown (CPU). */
double cn_bench_device_peak(const char *backend, char *src, size_t srclen);
/* Device name for the heading ("cpu" on the CPU). */
void cn_bench_device_name(const char *backend, char *name, size_t len);
/* Largest resident set so far, bytes (CPU memory figure). */
double cn_bench_peak_rss(void);

/* A backend wrapper that records every upload_weight (host pointer -> backend bytes), so the
 * bench knows what each weight costs to read on this backend, and every allocation the model
 * code holds (live and peak bytes: weights, caches, scratch; not the backend's own). */
cn_backend *cn_bench_wrap_new(cn_backend *real, cn_bench_wrap **w);
void cn_bench_wrap_free(cn_bench_wrap **w);
cn_backend *cn_bench_wrap_backend(cn_bench_wrap *w);
/* Backend bytes of the weight uploaded from host pointer p (-1: not uploaded by
 * upload_weight, e.g. converted to F32 by the model code first). */
double cn_bench_wrap_bytes_of(const cn_bench_wrap *w, const void *p);
double cn_bench_wrap_live(const cn_bench_wrap *w);
/* Most bytes live at once since the last reset; reset != 0 starts a new peak from now. */
double cn_bench_wrap_peak(cn_bench_wrap *w, int reset);

#endif
