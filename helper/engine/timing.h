/* SPDX-License-Identifier: MIT
 * The top-level priors' timing signal: which bin of the total-length, absolute-position and
 * relative-position embeddings each position picks (facts 5), in the reference's float32
 * arithmetic. Pure functions; no allocation.
 */
#ifndef CN_TIMING_H
#define CN_TIMING_H

#include <stddef.h>
#include <stdint.h>

typedef struct cn_timing_geom {
    int t_bins;             /* bins of each embedding (hparam t_bins) */
    double min_duration;    /* seconds (hparams min_duration, max_duration) */
    double max_duration;
    int sr;                 /* 44100 */
} cn_timing_geom;

/* For a label (total_length, offset, sample_length, in audio samples) and n_ctx positions:
 * *total_bin, abs_bins[n_ctx], rel_bins[n_ctx]. Returns 0, or -1 with a message naming the
 * value and the range when the reference would refuse the label (e.g. "song is 30.0 s; this
 * model takes 60.0 s to 600.0 s"). */
int cn_timing_bins(const cn_timing_geom *g, int64_t total_length, int64_t offset,
                   int64_t sample_length, int n_ctx, int *total_bin, int *abs_bins,
                   int *rel_bins, char *err, size_t errlen);

#endif
