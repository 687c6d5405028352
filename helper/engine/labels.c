/* SPDX-License-Identifier: MIT
 * The label vector y of a window and the lyric window chooser (data/labels.py: get_label,
 * set_y_lyric_tokens, get_relevant_lyric_tokens; prior.py: get_y), facts 5 and 7.2.
 * Never allocates; every refusal is a status with a message naming the value and the limit.
 */
#include "labels.h"

#include <stdio.h>

int cn_labels_y_len(const cn_label_geom *g)
{
    return 4 + g->max_genre_words + g->n_tokens;
}

/* Rounds to float32 once, outside any fused or wider computation. */
static float s_f(float x)
{
    volatile float v = x;
    return v;
}

/* int(n_full * (offset + duration / 2) / total) in the tensor path's float32 order. */
static int64_t s_mid_f32(int64_t n_full, int64_t total, int64_t offset, int64_t duration)
{
    float half = s_f((float)duration / 2.0f);
    float pos = s_f((float)offset + half);
    float scaled = s_f((float)n_full * pos);
    return (int64_t)s_f(scaled / (float)total);
}

/* The same in Python's exact arithmetic (ints and doubles). */
static int64_t s_mid_exact(int64_t n_full, int64_t total, int64_t offset, int64_t duration)
{
    volatile double pos = (double)offset + (double)duration / 2.0;
    volatile double scaled = (double)n_full * pos;
    return (int64_t)(scaled / (double)total);
}

int cn_lyric_window_first(int64_t n_full, int n_tokens, int64_t total_length, int64_t offset,
                          int64_t duration, int float32_path, int64_t *first, char *err,
                          size_t errlen)
{
    if (n_full < n_tokens) {
        *first = n_full - n_tokens;
        return 0;
    }
    if (offset < 0 || offset >= total_length) {
        snprintf(err, errlen, "window offset %lld samples is outside the song (0 to %lld)",
                 (long long)offset, (long long)total_length);
        return -1;
    }
    int64_t mid = float32_path ? s_mid_f32(n_full, total_length, offset, duration)
                               : s_mid_exact(n_full, total_length, offset, duration);
    int64_t half = n_tokens / 2;
    if (mid < half) mid = half;
    if (mid > n_full - half) mid = n_full - half;
    *first = mid - half;
    return 0;
}

static int s_fits(int64_t v, const char *what, char *err, size_t errlen)
{
    if (v >= -2147483647LL && v <= 2147483647LL) return 1;
    snprintf(err, errlen, "label %s %lld does not fit a 32-bit label", what, (long long)v);
    return 0;
}

int cn_labels_y(const cn_label_geom *g, const cn_label_song *s, int64_t add_offset,
                int float32_path, int32_t *y, int64_t *lyric_index, char *err, size_t errlen)
{
    int64_t offset = s->offset + add_offset;
    if (offset < 0 || offset >= s->total_length) {
        snprintf(err, errlen, "window starts at %.2f s, outside the song (0 s to %.2f s)",
                 offset / 44100.0, s->total_length / 44100.0);
        return -1;
    }
    if (!s_fits(s->total_length, "total_length", err, errlen) ||
        !s_fits(offset, "offset", err, errlen) ||
        !s_fits(g->sample_length, "sample_length", err, errlen))
        return -1;
    if (s->ids.n_genres > g->max_genre_words) {
        snprintf(err, errlen, "%d genre words; this model takes at most %d", s->ids.n_genres,
                 g->max_genre_words);
        return -1;
    }
    y[0] = (int32_t)s->total_length;
    y[1] = (int32_t)offset;
    y[2] = (int32_t)g->sample_length;
    y[3] = s->ids.artist;
    for (int k = 0; k < g->max_genre_words; k++)
        y[4 + k] = k < s->ids.n_genres ? s->ids.genres[k] : -1;
    if (g->n_tokens == 0) return 0;
    int64_t n_full = s->lyric_ids ? s->n_lyric : 0, first;
    if (cn_lyric_window_first(n_full, g->n_tokens, s->total_length, offset, g->sample_length,
                              float32_path, &first, err, errlen) != 0)
        return -1;
    int32_t *ly = y + 4 + g->max_genre_words;
    for (int k = 0; k < g->n_tokens; k++) {
        int64_t i = first + k;
        ly[k] = i >= 0 ? s->lyric_ids[i] : 0;
        if (lyric_index) lyric_index[k] = i >= 0 ? i : -1;
    }
    return 0;
}

int cn_labels_check_total(int64_t total_length, double min_duration, double max_duration,
                          int sr, char *err, size_t errlen)
{
    float t = (float)total_length;
    float lo = (float)(min_duration * sr), hi = (float)(max_duration * sr);
    if (lo <= t && t < hi) return 0;
    snprintf(err, errlen, "song is %.2f s (%lld samples); this model takes %.2f s to under "
             "%.2f s%s", (double)total_length / sr, (long long)total_length, min_duration,
             max_duration, t == hi && total_length < (int64_t)(max_duration * sr)
                 ? " (within float32 rounding of the maximum, which the reference refuses)" : "");
    return -1;
}
