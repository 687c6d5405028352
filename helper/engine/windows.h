/* SPDX-License-Identifier: MIT
 * The windowed schedule of one level (facts 10: sample.py sample_level, sample_single_window,
 * sample_partial_window; utils/sample_utils.py get_starts) as a list of windows, computed
 * before sampling. Pure arithmetic: no model, no backend.
 */
#ifndef CN_WINDOWS_H
#define CN_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

/* Window starts for a level of TOTAL tokens: 0, hop, 2 hop, ... while start < total - n_ctx +
 * hop, each start with start + n_ctx >= total replaced by total - n_ctx. Writes at most CAP
 * starts and returns how many there are (call with cap 0 to size the array). Needs
 * total >= n_ctx > 0 and hop > 0; returns -1 otherwise. */
int64_t cn_get_starts(int64_t total, int64_t n_ctx, int64_t hop, int64_t *starts, int64_t cap);

/* hop_length = int(hop_fraction x n_ctx), as sample.py computes it (in double). */
int64_t cn_hop_length(double hop_fraction, int64_t n_ctx);

typedef struct cn_window_plan_cfg {
    int level;
    int64_t n_ctx;              /* positions of the level's prior */
    int64_t total_length;       /* tokens the level is asked for: sample_length / raw_to_tokens */
    int64_t have;               /* tokens already at the level (prompt, earlier run); 0 = none */
    int64_t hop_length;         /* window advance in tokens (cn_hop_length) */
    int64_t raw_to_tokens;      /* audio samples per token at this level (8, 32, 128) */
    int partial_quirk;          /* 1: the reference's short-level path, which samples
                                   total_length NEW tokens (a level holding K tokens grows to
                                   K + total_length); 0: grow to total_length */
    /* conditioning on the level above (upsamplers); cond_ratio 0 = none (top level) */
    int64_t cond_ratio;         /* tokens of this level per token above (4) */
    int64_t above_len;          /* tokens present at the level above (-1 = do not check) */
    /* labels of every window (SimplePrior.get_y) */
    int64_t song_total_length;  /* y total_length, audio samples */
    int64_t song_offset;        /* y offset of the song metadata (0 when sampling) */
    int n_tokens;               /* lyric slots (0 = the model has no lyrics) */
    int64_t n_lyric;            /* length of the song's full cleaned lyric id list */
} cn_window_plan_cfg;

typedef struct cn_window {
    int64_t start;              /* first token of the window at this level */
    int sampled;                /* 0: nothing new to sample, the reference skips it */
    int64_t sample_tokens;      /* window length when shorter than n_ctx was asked for by the
                                   partial path; -1 on the full-window path */
    int64_t existing;           /* tokens in [start, start + n_ctx) already present: the
                                   prompt the window is primed with (0 = ancestral) */
    int64_t window_tokens;      /* tokens the window holds after sampling */
    int64_t new_tokens;         /* tokens appended to the level (window_tokens - existing) */
    int64_t y_total_length, y_offset, y_sample_length;   /* the label fields of this window */
    int64_t cond_first, cond_tokens;   /* level-above codes [cond_first, + cond_tokens); 0
                                          tokens for the top level */
    int64_t lyric_first, lyric_last;   /* index into the full lyric list of the first and last
                                          lyric slot (-1 = padding); both -1 without lyrics */
} cn_window;

typedef struct cn_window_plan {
    cn_window *w;               /* malloc'd; owner: the plan (cn_window_plan_free) */
    int64_t n;
    int partial_path;           /* the level was shorter than one window */
    int64_t tokens_before, tokens_after;
    int64_t n_sampled;          /* windows with sampled = 1 */
    int64_t new_total;          /* tokens all windows append */
} cn_window_plan;

/* Plans every window of one level in order, including skipped ones. The windows' `existing`
 * counts assume each sampled window appends its new_tokens, as the reference does.
 * Returns 0, or -1 with a message (hop outside 1..n_ctx, a window start not a multiple of
 * cond_ratio, the level above too short for a window, a window starting after the song's end
 * while lyrics are on, ...). */
int cn_window_plan_make(const cn_window_plan_cfg *c, cn_window_plan *p, char *err,
                        size_t errlen);
void cn_window_plan_free(cn_window_plan *p);

#endif
