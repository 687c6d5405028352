/* SPDX-License-Identifier: MIT
 * Implementation of audio_io.h over libsndfile and libsamplerate. Every failure returns -1
 * with a message naming the file, the value and the limit; nothing here prints.
 */
#include "audio_io.h"

#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int cn_audio_resample(const float *in, int64_t n_in, double rate_in, double rate_out,
                      float **out, int64_t *n_out, char *err, size_t errlen)
{
    double ratio = rate_out / rate_in;
    int64_t cap = (int64_t)ceil((double)n_in * ratio) + 16;
    float *buf = malloc((size_t)cap * sizeof *buf + 1);
    if (!buf) {
        snprintf(err, errlen, "resample: out of memory for %lld frames", (long long)cap);
        return -1;
    }
    SRC_DATA d = { .data_in = in, .data_out = buf, .input_frames = (long)n_in,
                   .output_frames = (long)cap, .src_ratio = ratio, .end_of_input = 1 };
    int rc = src_simple(&d, SRC_SINC_BEST_QUALITY, 1);
    if (rc != 0) {
        free(buf);
        snprintf(err, errlen, "resample %.0f Hz -> %.0f Hz: %s", rate_in, rate_out,
                 src_strerror(rc));
        return -1;
    }
    *out = buf;
    *n_out = d.output_frames_gen;
    return 0;
}

int cn_audio_check(const float *audio, int64_t n, int rate, double max_seconds, char *err,
                   size_t errlen)
{
    if (n <= 0) {
        snprintf(err, errlen, "audio is empty (0 samples)");
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(audio[i])) {
            snprintf(err, errlen, "audio sample %lld (%.3f s) is %s", (long long)i,
                     (double)i / rate, isnan(audio[i]) ? "NaN" : "infinite");
            return -1;
        }
    }
    double secs = (double)n / rate;
    if (max_seconds > 0 && secs > max_seconds) {
        snprintf(err, errlen, "prompt is %.1f s; the model takes at most %.1f s", secs,
                 max_seconds);
        return -1;
    }
    return 0;
}

/* Mean of the channels of each frame; refuses non-finite input with frame and channel. */
static int s_mixdown(const float *frames, int64_t n, int ch, float *mono, const char *path,
                     char *err, size_t errlen)
{
    for (int64_t i = 0; i < n; i++) {
        double sum = 0;
        for (int c = 0; c < ch; c++) {
            float x = frames[i * ch + c];
            if (!isfinite(x)) {
                snprintf(err, errlen, "%s: sample %lld of channel %d is %s", path,
                         (long long)i, c + 1, isnan(x) ? "NaN" : "infinite");
                return -1;
            }
            sum += x;
        }
        mono[i] = (float)(sum / ch);
    }
    return 0;
}

static int s_read_frames(const char *path, float **mono, int64_t *n, int *rate, char *err,
                         size_t errlen)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        snprintf(err, errlen, "%s: cannot read audio: %s", path, sf_strerror(NULL));
        return -1;
    }
    if (info.frames <= 0 || info.channels <= 0) {
        sf_close(f);
        snprintf(err, errlen, "%s: audio is empty (0 frames)", path);
        return -1;
    }
    float *frames = malloc((size_t)info.frames * info.channels * sizeof *frames);
    float *m = malloc((size_t)info.frames * sizeof *m + 1);
    int rc = -1;
    if (!frames || !m) {
        snprintf(err, errlen, "%s: out of memory for %lld frames", path, (long long)info.frames);
    } else {
        sf_count_t got = sf_readf_float(f, frames, info.frames);
        rc = s_mixdown(frames, got, info.channels, m, path, err, errlen);
        *n = got;
    }
    sf_close(f);
    free(frames);
    if (rc != 0) {
        free(m);
        return -1;
    }
    *mono = m;
    *rate = info.samplerate;
    return 0;
}

int cn_audio_read(const char *path, float **audio, int64_t *n, int *rate, char *err,
                  size_t errlen)
{
    *audio = NULL;
    *n = 0;
    return s_read_frames(path, audio, n, rate, err, errlen);
}

int cn_audio_load_mono(const char *path, int rate, double max_seconds, float **audio,
                       int64_t *n, char *err, size_t errlen)
{
    float *mono;
    int64_t frames;
    int file_rate;
    if (s_read_frames(path, &mono, &frames, &file_rate, err, errlen) != 0) return -1;
    if (file_rate != rate) {
        float *res;
        int64_t nres;
        int rc = cn_audio_resample(mono, frames, file_rate, rate, &res, &nres, err, errlen);
        free(mono);
        if (rc != 0) return -1;
        mono = res;
        frames = nres;
    }
    if (cn_audio_check(mono, frames, rate, max_seconds, err, errlen) != 0) {
        char inner[512];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "%s: %s", path, inner);
        free(mono);
        return -1;
    }
    *audio = mono;
    *n = frames;
    return 0;
}

static int s_has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static int s_write_file(const char *path, const float *audio, int64_t n, int rate, char *err,
                        size_t errlen)
{
    SF_INFO info = { .samplerate = rate, .channels = 1 };
    info.format = s_has_suffix(path, ".flac") ? (SF_FORMAT_FLAC | SF_FORMAT_PCM_24)
                                              : (SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, sf_strerror(NULL));
        return -1;
    }
    float buf[4096];
    int64_t done = 0;
    while (done < n) {
        int64_t k = n - done < 4096 ? n - done : 4096;
        for (int64_t i = 0; i < k; i++) {
            float x = audio[done + i];
            buf[i] = x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x);
        }
        if (sf_writef_float(f, buf, k) != k) break;
        done += k;
    }
    int rc = done == n ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "%s: write failed after %lld frames: %s", path, (long long)done,
                 sf_strerror(f));
    if (sf_close(f) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: closing failed (disk full?)", path);
        rc = -1;
    }
    return rc;
}

int cn_audio_write(const char *path, const float *audio, int64_t n, int rate, int out_rate,
                   char *err, size_t errlen)
{
    float *res = NULL;
    int64_t nres = n;
    if (out_rate > 0 && out_rate != rate) {
        if (cn_audio_resample(audio, n, rate, out_rate, &res, &nres, err, errlen) != 0) return -1;
        audio = res;
        rate = out_rate;
    }
    char tmp[4200];
    const char *ext = s_has_suffix(path, ".flac") ? ".flac" : ".wav";
    snprintf(tmp, sizeof tmp, "%s.part%s", path, ext);
    int rc = s_write_file(tmp, audio, nres, rate, err, errlen);
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename the finished file into place", path);
        rc = -1;
    }
    if (rc != 0) unlink(tmp);
    free(res);
    return rc;
}
