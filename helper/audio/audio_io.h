/* SPDX-License-Identifier: MIT
 * Audio files in and out, shared by the engine, the client library and the plugin's worker: any
 * file libsndfile reads becomes mono float (mixdown, libsamplerate); clips are written at any
 * rate. Never called from realtime code.
 */
#ifndef CN_AUDIO_IO_H
#define CN_AUDIO_IO_H

#include <stddef.h>
#include <stdint.h>

/* Resamples mono IN (n_in frames at rate_in) to rate_out with libsamplerate's best sinc
 * converter. *out is malloc'd (caller frees). Returns 0 or -1 with a message. */
int cn_audio_resample(const float *in, int64_t n_in, double rate_in, double rate_out,
                      float **out, int64_t *n_out, char *err, size_t errlen);

/* Reads PATH, mixes every channel down to mono (mean), resamples to RATE when the file's rate
 * differs, and checks the samples: an empty file, a NaN or infinite sample (named with its
 * frame and channel) and a file longer than MAX_SECONDS (when > 0) are errors naming the value
 * and the limit. *audio is malloc'd (caller frees). */
int cn_audio_load_mono(const char *path, int rate, double max_seconds, float **audio,
                       int64_t *n, char *err, size_t errlen);

/* Reads PATH as mono float (channels averaged) at the file's own rate, *rate; refuses an empty
 * file and NaN/infinite samples. *audio is malloc'd (caller frees). */
int cn_audio_read(const char *path, float **audio, int64_t *n, int *rate, char *err,
                  size_t errlen);

/* Checks samples already in memory the same way (empty, NaN/inf, longer than max_seconds). */
int cn_audio_check(const float *audio, int64_t n, int rate, double max_seconds, char *err,
                   size_t errlen);

/* Writes mono AUDIO (n frames at RATE) to PATH as 24-bit PCM WAV (FLAC when the name ends in
 * .flac), resampled to OUT_RATE first when it differs (0 = keep RATE); samples are clipped to
 * [-1, 1] as the reference does when saving. The file appears whole: it is written under a
 * temporary name and renamed. */
int cn_audio_write(const char *path, const float *audio, int64_t n, int rate, int out_rate,
                   char *err, size_t errlen);

#endif
