/* SPDX-License-Identifier: MIT
 * cn_clip: one playable mono buffer at the host rate (a candidate path or an upsampled
 * result). Made and freed only off the audio thread; run() only reads and counts references.
 */
#ifndef CN_CLIP_H
#define CN_CLIP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cn_clip {
    float *data;          /* len samples, mono, at rate */
    int64_t len;
    double rate;
    atomic_int refs;      /* 1 for the owner (client thread) + one per worker job in flight */
    char name[160];       /* file name stem: "<composition>-s<step>-c<index>" */
} cn_clip;

/* Not realtime. Copies n samples; returns NULL on allocation failure. */
cn_clip *cn_clip_new(const float *data, int64_t n, double rate, const char *name);
/* Drops one reference and frees at zero. Not realtime (free). Sets *c = NULL. */
void cn_clip_unref(cn_clip **c);

/* Resamples mono audio (libsamplerate, best quality) into a new malloc'd buffer.
 * Returns 0, or -1 with err. Not realtime. */
int cn_resample(const float *in, int64_t n, double in_rate, double out_rate, float **out,
                int64_t *out_n, char *err, size_t errlen);

/* Writes a clip as 24-bit WAV at its rate. Returns 0, or -1 with err naming the path. */
int cn_clip_write_wav(const cn_clip *c, const char *path, char *err, size_t errlen);
/* Reads a sound file as mono (channels averaged), resampled to rate. Returns the clip or NULL
 * with err. */
cn_clip *cn_clip_read(const char *path, double rate, const char *name, char *err,
                      size_t errlen);

#endif
