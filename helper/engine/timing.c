/* SPDX-License-Identifier: MIT
 * Timing-signal bins of the top-level priors (facts 5), in the reference's float32 arithmetic.
 * Never allocates, never prints; refusals come back as a status and a message.
 */
#include "timing.h"

#include <math.h>
#include <stdio.h>

/* Rounds to float32 and forces the value out of any wider or fused computation, so each
 * operation rounds exactly once, as the reference's float32 tensors do. */
static float s_f(float x)
{
    volatile float v = x;
    return v;
}

/* bin = floor(B * ((position - lo) / span)), every step in float32. */
static int s_bin(float position, float lo, float span, int bins)
{
    float norm = s_f(s_f(position - lo) / span);
    return (int)floorf(s_f((float)bins * norm));
}

static int s_check_ranges(const cn_timing_geom *g, float total, float start, float end,
                          float max_f, char *err, size_t errlen)
{
    float min_f = (float)(g->min_duration * g->sr);
    if (!(min_f <= total && total < max_f)) {
        snprintf(err, errlen, "song is %.2f s; this model takes %.2f s to under %.2f s",
                 (double)total / g->sr, g->min_duration, g->max_duration);
        return -1;
    }
    if (!(0.0f <= start && start < max_f) || !(end <= max_f)) {
        snprintf(err, errlen, "window %.2f s to %.2f s of the song is outside 0 s to %.2f s",
                 (double)start / g->sr, (double)end / g->sr, g->max_duration);
        return -1;
    }
    if (!(start < total)) {
        snprintf(err, errlen, "window starts at %.2f s, at or after the song's end (%.2f s)",
                 (double)start / g->sr, (double)total / g->sr);
        return -1;
    }
    return 0;
}

int cn_timing_bins(const cn_timing_geom *g, int64_t total_length, int64_t offset,
                   int64_t sample_length, int n_ctx, int *total_bin, int *abs_bins,
                   int *rel_bins, char *err, size_t errlen)
{
    if (!g || g->t_bins <= 0 || g->sr <= 0 || n_ctx <= 0 || g->max_duration <= g->min_duration) {
        snprintf(err, errlen, "timing geometry invalid (t_bins %d, sr %d, n_ctx %d, %.2f s to %.2f s)",
                 g ? g->t_bins : 0, g ? g->sr : 0, n_ctx, g ? g->min_duration : 0.0,
                 g ? g->max_duration : 0.0);
        return -1;
    }
    float total = (float)total_length;
    float start = (float)offset;
    float end = (float)(offset + sample_length);
    double lo_d = g->min_duration * g->sr, hi_d = g->max_duration * g->sr;
    float max_f = (float)hi_d;
    if (s_check_ranges(g, total, start, end, max_f, err, errlen) != 0) return -1;

    *total_bin = s_bin(total, (float)lo_d, (float)(hi_d - lo_d), g->t_bins);

    float rs = s_f(start / total), re = s_f(end / total);
    if (re > 1.0f) re = 1.0f;
    if (re < 0.0f) re = 0.0f;
    float abs_span = (float)hi_d, fn = (float)n_ctx;
    float dabs = s_f(end - start), drel = s_f(re - rs);
    for (int p = 0; p < n_ctx; p++) {
        float interp = s_f((float)p / fn);
        float pa = s_f(start + s_f(dabs * interp));
        float pr = s_f(rs + s_f(drel * interp));
        abs_bins[p] = s_bin(pa, 0.0f, abs_span, g->t_bins);
        rel_bins[p] = s_bin(pr, 0.0f, 1.0f, g->t_bins);
    }
    return 0;
}
