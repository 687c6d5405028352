/* SPDX-License-Identifier: MIT
 * The engine test double (see fake_runner.h): everything is a pure function of its inputs and
 * the seed, so a resumed job reproduces exactly what an uninterrupted one would have made.
 */
#define _GNU_SOURCE
#include "fake_runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VOCAB 64

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static void s_info(void *self, cn_engine_info *i)
{
    (void)self;
    memset(i, 0, sizeof *i);
    i->hop[0] = 8, i->hop[1] = 32, i->hop[2] = 128;
    i->n_ctx[0] = 32, i->n_ctx[1] = 32, i->n_ctx[2] = 72;
    i->vocab = VOCAB;
    i->labels_version = 2;
    i->min_total_seconds = 0.25;
    i->max_total_seconds = 2.0;
    i->max_prompt_seconds = 72 * 128 / 44100.0;
}

static int s_known(const char *w, const char *a, const char *b)
{
    return !strcmp(w, a) || !strcmp(w, b);
}

static int s_check(void *self, const cn_song *song, char *err, size_t errlen)
{
    (void)self;
    if (!s_known(song->artist, "unknown", "alan_jackson")) {
        snprintf(err, errlen, "artist \"%s\" is not in the model's artist table (near: "
                 "unknown, alan_jackson)", song->artist);
        return -1;
    }
    char g[4096];
    snprintf(g, sizeof g, "%s", song->genre);
    for (char *save, *w = strtok_r(g, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (!s_known(w, "unknown", "country")) {
            snprintf(err, errlen, "genre \"%s\" is not in the model's genre table (near: "
                     "unknown, country)", w);
            return -1;
        }
    return 0;
}

static int s_encode(void *self, const float *audio, int64_t n, int level, int32_t **codes,
                    int64_t *n_codes, char *err, size_t errlen)
{
    (void)self, (void)err, (void)errlen;
    int hop = level == 2 ? 128 : level == 1 ? 32 : 8;
    int64_t nc = n / hop;
    *codes = malloc((size_t)(nc + 1) * 4);
    for (int64_t i = 0; i < nc; i++) {
        double m = 0;
        for (int k = 0; k < hop; k++) m += fabs(audio[i * hop + k]);
        (*codes)[i] = (int32_t)((int64_t)(m * 1000) % VOCAB);
    }
    *n_codes = nc;
    return 0;
}

static int s_decode(void *self, const int32_t *codes, int64_t n, int level, float **audio,
                    int64_t *n_samples, char *err, size_t errlen)
{
    (void)self, (void)err, (void)errlen;
    int hop = level == 2 ? 128 : level == 1 ? 32 : 8;
    *audio = malloc((size_t)(n * hop + 1) * 4);
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < hop; k++)
            (*audio)[i * hop + k] = 0.5f * sinf((float)(codes[i] + 1) * 0.01f * (float)k);
    *n_samples = n * hop;
    return 0;
}

static int s_sample(void *self, int level, int32_t *codes, int64_t have, int64_t target,
                    const int32_t *above, int64_t above_len, const cn_song *song,
                    const cn_sampling *s, cn_progress_fn progress, void *user, char *err,
                    size_t errlen)
{
    fake_engine *e = self;
    (void)song;
    e->calls_sample++;

    if (level < 2 && (!above || above_len * 4 < target)) {
        snprintf(err, errlen, "level %d: %lld codes above cover less than %lld", level,
                 (long long)above_len, (long long)target);
        return -1;
    }
    int lose = e->lose_device_after > 0 && e->calls_sample > e->lose_device_after;
    for (int64_t t = have; t < target; t++) {
        if (lose && t >= have + 2) {   /* after two steps, so the test can queue a job */
            e->lost = 1;
            snprintf(err, errlen, "fake device: an illegal memory access was encountered");
            return -1;
        }
        for (int r = 0; r < s->n; r++) {
            int32_t prev = t ? codes[r * target + t - 1] : 0;
            int32_t up = level < 2 ? above[r * above_len + t / 4] : 0;
            codes[r * target + t] = (int32_t)(s_mix(s->seed * 131 + (uint64_t)r * 7919 +
                                                    (uint64_t)t * 31 + (uint64_t)prev +
                                                    (uint64_t)up * 17 + (uint64_t)level) % VOCAB);
        }
        if (e->step_us) usleep((useconds_t)e->step_us);
        if (!progress) continue;
        int64_t len = t + 1;   /* the contract: n rows of len codes */
        int32_t *so_far = malloc((size_t)(s->n * len) * 4);
        for (int r = 0; so_far && r < s->n; r++)
            memcpy(so_far + r * len, codes + r * target, (size_t)len * 4);
        int stop = progress(user, (double)(t + 1 - have) / (double)(target - have), 1000.0,
                            so_far, s->n, len);
        free(so_far);
        if (stop) return CN_ENGINE_CANCELLED;
    }
    return 0;
}

static int s_device_lost(void *self) { return ((fake_engine *)self)->lost; }

void fake_runner(cn_runner *r, fake_engine *e)
{
    memset(r, 0, sizeof *r);
    r->self = e;
    r->model_set = "fake-test-double";
    r->backend = "none";
    r->info = s_info;
    r->check_labels = s_check;
    r->encode = s_encode;
    r->decode = s_decode;
    r->sample_level = s_sample;
    r->device_lost = s_device_lost;
}
