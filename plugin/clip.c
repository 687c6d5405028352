/* SPDX-License-Identifier: MIT
 * Clip buffers, resampling (libsamplerate) and WAV files (libsndfile). Everything here
 * allocates or does file I/O: client thread, worker and restore() only, never run().
 */
#include "clip.h"

#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cn_clip *cn_clip_new(const float *data, int64_t n, double rate, const char *name)
{
    cn_clip *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->data = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!c->data) {
        free(c);
        return NULL;
    }
    if (n > 0 && data)
        memcpy(c->data, data, (size_t)n * sizeof(float));
    else if (n > 0)
        memset(c->data, 0, (size_t)n * sizeof(float));
    c->len = n;
    c->rate = rate;
    atomic_init(&c->refs, 1);
    snprintf(c->name, sizeof c->name, "%s", name ? name : "clip");
    return c;
}

void cn_clip_unref(cn_clip **c)
{
    if (!c || !*c)
        return;
    if (atomic_fetch_sub(&(*c)->refs, 1) == 1) {
        free((*c)->data);
        free(*c);
    }
    *c = NULL;
}

int cn_resample(const float *in, int64_t n, double in_rate, double out_rate, float **out,
                int64_t *out_n, char *err, size_t errlen)
{
    double ratio = out_rate / in_rate;
    if (!(in_rate > 0) || !(out_rate > 0)) {
        snprintf(err, errlen, "cannot resample from %.1f Hz to %.1f Hz", in_rate, out_rate);
        return -1;
    }
    int64_t cap = (int64_t)ceil((double)n * ratio) + 16;
    float *buf = malloc((size_t)cap * sizeof(float));
    if (!buf) {
        snprintf(err, errlen, "out of memory resampling %lld samples", (long long)n);
        return -1;
    }
    if (in_rate == out_rate || n == 0) {
        if (n)
            memcpy(buf, in, (size_t)n * sizeof(float));
        *out = buf;
        *out_n = n;
        return 0;
    }
    SRC_DATA d = { .data_in = in, .data_out = buf, .input_frames = (long)n,
                   .output_frames = (long)cap, .src_ratio = ratio, .end_of_input = 1 };
    int e = src_simple(&d, SRC_SINC_BEST_QUALITY, 1);
    if (e) {
        free(buf);
        snprintf(err, errlen, "resampling %.1f Hz -> %.1f Hz failed: %s", in_rate, out_rate,
                 src_strerror(e));
        return -1;
    }
    *out = buf;
    *out_n = d.output_frames_gen;
    return 0;
}

int cn_clip_write_wav(const cn_clip *c, const char *path, char *err, size_t errlen)
{
    SF_INFO info = { .samplerate = (int)lround(c->rate), .channels = 1,
                     .format = SF_FORMAT_WAV | SF_FORMAT_PCM_24 };
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, sf_strerror(NULL));
        return -1;
    }
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_count_t w = sf_writef_float(f, c->data, c->len);
    int cl = sf_close(f);
    if (w != c->len || cl) {
        snprintf(err, errlen, "writing %s: wrote %lld of %lld samples", path, (long long)w,
                 (long long)c->len);
        return -1;
    }
    return 0;
}

cn_clip *cn_clip_read(const char *path, double rate, const char *name, char *err,
                      size_t errlen)
{
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, sf_strerror(NULL));
        return NULL;
    }
    int ch = info.channels;
    float *inter = malloc((size_t)(info.frames > 0 ? info.frames : 1) * ch * sizeof(float));
    float *mono = malloc((size_t)(info.frames > 0 ? info.frames : 1) * sizeof(float));
    sf_count_t got = inter && mono ? sf_readf_float(f, inter, info.frames) : -1;
    sf_close(f);
    cn_clip *c = NULL;
    if (got < 0) {
        snprintf(err, errlen, "cannot read %s: out of memory", path);
    } else {
        for (sf_count_t i = 0; i < got; i++) {
            float s = 0;
            for (int k = 0; k < ch; k++)
                s += inter[i * ch + k];
            mono[i] = s / (float)ch;
        }
        float *rs = NULL;
        int64_t rn = 0;
        if (cn_resample(mono, got, info.samplerate, rate, &rs, &rn, err, errlen) == 0) {
            c = cn_clip_new(rs, rn, rate, name);
            if (!c)
                snprintf(err, errlen, "cannot load %s: out of memory", path);
            free(rs);
        }
    }
    free(inter);
    free(mono);
    return c;
}
