/* SPDX-License-Identifier: MIT
 * Sound files and resampling for clients and the helper: libsndfile for WAV/FLAC, libsamplerate
 * for rate changes. Not realtime-safe (allocates, does file I/O); never call from run().
 */
#define _GNU_SOURCE
#include "client.h"

#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int cn_audio_resample(const float *in, int64_t n, double in_rate, double out_rate,
                      float **out, int64_t *out_n, char *err, size_t errlen)
{
    *out = NULL;
    *out_n = 0;
    if (!(in_rate >= 1000 && in_rate <= 768000) || !(out_rate >= 1000 && out_rate <= 768000)) {
        snprintf(err, errlen, "sample rate %.0f -> %.0f Hz: rates must be 1000 to 768000 Hz",
                 in_rate, out_rate);
        return -1;
    }
    double ratio = out_rate / in_rate;
    int64_t cap = (int64_t)ceil((double)n * ratio) + 16;
    float *buf = malloc((size_t)cap * sizeof *buf + 4);
    if (!buf) {
        snprintf(err, errlen, "cannot hold %lld resampled samples", (long long)cap);
        return -1;
    }
    if (in_rate == out_rate) {
        if (n) memcpy(buf, in, (size_t)n * sizeof *buf);
        *out = buf;
        *out_n = n;
        return 0;
    }
    SRC_DATA d = {0};
    d.data_in = in;
    d.input_frames = (long)n;
    d.data_out = buf;
    d.output_frames = (long)cap;
    d.src_ratio = ratio;
    int rc = src_simple(&d, SRC_SINC_BEST_QUALITY, 1);
    if (rc) {
        snprintf(err, errlen, "resampling %.0f -> %.0f Hz failed: %s", in_rate, out_rate,
                 src_strerror(rc));
        free(buf);
        return -1;
    }
    *out = buf;
    *out_n = d.output_frames_gen;
    return 0;
}

int cn_audio_write(const char *path, const float *audio, int64_t n, int in_rate, int out_rate,
                   char *err, size_t errlen)
{
    const char *ext = strrchr(path, '.');
    int format;
    if (ext && !strcasecmp(ext, ".wav")) format = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    else if (ext && !strcasecmp(ext, ".flac")) format = SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    else {
        snprintf(err, errlen, "%s: unknown extension; use .wav or .flac", path);
        return -1;
    }
    float *res;
    int64_t nr;
    if (cn_audio_resample(audio, n, in_rate, out_rate, &res, &nr, err, errlen)) return -1;
    SF_INFO info = {0};
    info.samplerate = out_rate;
    info.channels = 1;
    info.format = format;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d%s", path, (int)getpid(), ext);
    SNDFILE *f = sf_open(tmp, SFM_WRITE, &info);
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, sf_strerror(NULL));
        free(res);
        return -1;
    }
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_count_t w = sf_writef_float(f, res, nr);
    free(res);
    int bad = w != nr;
    if (sf_close(f) || bad || rename(tmp, path)) {
        snprintf(err, errlen, "cannot write %s (%lld of %lld frames)", path, (long long)w,
                 (long long)nr);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int cn_audio_read(const char *path, float **audio, int64_t *n, int *rate, char *err,
                  size_t errlen)
{
    *audio = NULL;
    *n = 0;
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, sf_strerror(NULL));
        return -1;
    }
    if (info.channels < 1 || info.frames < 0 || info.frames > (int64_t)1 << 32) {
        snprintf(err, errlen, "%s: %d channels, %lld frames is not a usable sound file", path,
                 info.channels, (long long)info.frames);
        sf_close(f);
        return -1;
    }
    float *inter = malloc((size_t)info.frames * (size_t)info.channels * sizeof *inter + 4);
    float *mono = malloc((size_t)info.frames * sizeof *mono + 4);
    if (!inter || !mono) {
        snprintf(err, errlen, "%s: cannot hold %lld frames", path, (long long)info.frames);
        free(inter), free(mono), sf_close(f);
        return -1;
    }
    sf_count_t got = sf_readf_float(f, inter, info.frames);
    sf_close(f);
    for (sf_count_t i = 0; i < got; i++) {
        double sum = 0;
        for (int c = 0; c < info.channels; c++) sum += inter[i * info.channels + c];
        mono[i] = (float)(sum / info.channels);
    }
    free(inter);
    *audio = mono;
    *n = got;
    *rate = info.samplerate;
    return 0;
}

const char *cn_default_endpoint(char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (dir && dir[0]) snprintf(buf, len, "ipc://%s/continuo-helper.sock", dir);
    else snprintf(buf, len, "ipc:///tmp/continuo-%d/continuo-helper.sock", (int)getuid());
    return buf;
}
