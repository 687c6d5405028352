/* SPDX-License-Identifier: MIT
 * Window starts and the per-level window plan of the reference sampler (facts 10).
 * Never samples or touches codes: it only says which windows run and with what context.
 */
#include "windows.h"
#include "labels.h"

#include <stdio.h>
#include <stdlib.h>

int64_t cn_get_starts(int64_t total, int64_t n_ctx, int64_t hop, int64_t *starts, int64_t cap)
{
    if (total <= 0 || n_ctx <= 0 || hop <= 0) return -1;
    int64_t n = 0;
    for (int64_t s = 0; s < total - n_ctx + hop; s += hop) {
        int64_t v = s + n_ctx >= total ? total - n_ctx : s;
        if (n < cap) starts[n] = v;
        n++;
    }
    return n;
}

int64_t cn_hop_length(double hop_fraction, int64_t n_ctx)
{
    return (int64_t)(hop_fraction * (double)n_ctx);
}

void cn_window_plan_free(cn_window_plan *p)
{
    if (!p) return;
    free(p->w);
    p->w = NULL;
    p->n = 0;
}

static int s_check_cfg(const cn_window_plan_cfg *c, char *err, size_t errlen)
{
    if (c->n_ctx <= 0 || c->raw_to_tokens <= 0 || c->total_length <= 0 || c->have < 0) {
        snprintf(err, errlen, "level %d: window plan needs n_ctx, raw_to_tokens, total_length "
                 "> 0 and have >= 0 (got %lld, %lld, %lld, %lld)", c->level,
                 (long long)c->n_ctx, (long long)c->raw_to_tokens, (long long)c->total_length,
                 (long long)c->have);
        return -1;
    }
    if (c->hop_length < 1 || c->hop_length > c->n_ctx) {
        snprintf(err, errlen, "level %d: hop of %lld tokens is outside 1..%lld (n_ctx)",
                 c->level, (long long)c->hop_length, (long long)c->n_ctx);
        return -1;
    }
    if (c->cond_ratio < 0 || (c->cond_ratio > 0 && c->n_ctx % c->cond_ratio != 0)) {
        snprintf(err, errlen, "level %d: n_ctx %lld is not a multiple of the level-above ratio "
                 "%lld", c->level, (long long)c->n_ctx, (long long)c->cond_ratio);
        return -1;
    }
    return 0;
}

/* Context, labels and conditioning of a window that samples (SimplePrior.get_y,
 * get_z_conds). */
static int s_fill(const cn_window_plan_cfg *c, cn_window *w, char *err, size_t errlen)
{
    w->y_total_length = c->song_total_length;
    w->y_offset = c->song_offset + w->start * c->raw_to_tokens;
    w->y_sample_length = c->n_ctx * c->raw_to_tokens;
    if (c->cond_ratio > 0) {
        if (w->start % c->cond_ratio != 0) {
            snprintf(err, errlen, "level %d: window start %lld is not a multiple of %lld, so "
                     "the level above cannot condition it", c->level, (long long)w->start,
                     (long long)c->cond_ratio);
            return -1;
        }
        w->cond_first = w->start / c->cond_ratio;
        w->cond_tokens = c->n_ctx / c->cond_ratio;
        if (c->above_len >= 0 && w->cond_first + w->cond_tokens > c->above_len) {
            snprintf(err, errlen, "level %d: window at %lld needs level-above codes up to %lld; "
                     "only %lld are there", c->level, (long long)w->start,
                     (long long)(w->cond_first + w->cond_tokens), (long long)c->above_len);
            return -1;
        }
    }
    if (c->n_tokens > 0) {
        int64_t first;
        if (cn_lyric_window_first(c->n_lyric, c->n_tokens, w->y_total_length, w->y_offset,
                                  w->y_sample_length, 1, &first, err, errlen) != 0)
            return -1;
        w->lyric_first = first < 0 ? -1 : first;
        w->lyric_last = first + c->n_tokens - 1 < 0 ? -1 : first + c->n_tokens - 1;
    }
    return 0;
}

/* The window starting at START over a level holding *K tokens; advances *K. */
static int s_window(const cn_window_plan_cfg *c, int64_t start, int64_t sample_tokens,
                    int64_t *k, cn_window *w, char *err, size_t errlen)
{
    int64_t end = start + c->n_ctx, have_end = *k < end ? *k : end;
    *w = (cn_window){ .start = start, .sample_tokens = sample_tokens, .lyric_first = -1,
                      .lyric_last = -1 };
    w->existing = have_end > start ? have_end - start : 0;
    w->window_tokens = sample_tokens >= 0 ? sample_tokens : c->n_ctx;
    w->new_tokens = w->window_tokens - w->existing;
    if (w->new_tokens <= 0) {
        w->new_tokens = 0;
        w->window_tokens = w->existing;
        return 0;
    }
    if (start > *k) {
        snprintf(err, errlen, "level %d: window at %lld starts past the %lld tokens present; "
                 "its codes would not follow on", c->level, (long long)start, (long long)*k);
        return -1;
    }
    w->sampled = 1;
    *k += w->new_tokens;
    return s_fill(c, w, err, errlen);
}

int cn_window_plan_make(const cn_window_plan_cfg *c, cn_window_plan *p, char *err,
                        size_t errlen)
{
    *p = (cn_window_plan){ .tokens_before = c->have };
    if (s_check_cfg(c, err, errlen) != 0) return -1;
    int64_t k = c->have, n;
    if (c->total_length >= c->n_ctx) {
        n = cn_get_starts(c->total_length, c->n_ctx, c->hop_length, NULL, 0);
        p->w = calloc((size_t)n, sizeof *p->w);
        int64_t *starts = malloc((size_t)n * sizeof *starts);
        if (!p->w || !starts) {
            free(starts);
            cn_window_plan_free(p);
            snprintf(err, errlen, "out of memory planning %lld windows", (long long)n);
            return -1;
        }
        cn_get_starts(c->total_length, c->n_ctx, c->hop_length, starts, n);
        for (int64_t i = 0; i < n; i++) {
            if (s_window(c, starts[i], -1, &k, &p->w[i], err, errlen) != 0) {
                free(starts);
                cn_window_plan_free(p);
                return -1;
            }
        }
        free(starts);
    } else {
        /* sample_partial_window: the reference passes total_length as tokens_to_sample. */
        int64_t t = c->partial_quirk ? c->total_length : c->total_length - k;
        p->partial_path = 1;
        n = t > 0 ? 1 : 0;
        p->w = calloc(1, sizeof *p->w);
        if (!p->w) {
            snprintf(err, errlen, "out of memory planning a window");
            return -1;
        }
        if (n) {
            int64_t st = k < c->n_ctx - t ? k + t : c->n_ctx;
            int64_t start = k < c->n_ctx - t ? 0 : k - c->n_ctx + t;
            if (s_window(c, start, st, &k, &p->w[0], err, errlen) != 0) {
                cn_window_plan_free(p);
                return -1;
            }
        }
    }
    p->n = n;
    for (int64_t i = 0; i < n; i++) {
        p->n_sampled += p->w[i].sampled;
        p->new_total += p->w[i].new_tokens;
    }
    p->tokens_after = k;
    return 0;
}
