/* SPDX-License-Identifier: MIT
 * The real engine as a job runner: thin forwarding from cn_runner to cn_engine_* (engine.h).
 * Adds nothing of its own; the engine does the computing, on the worker thread only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "jobs.h"

static void s_info(void *self, cn_engine_info *info) { cn_engine_get_info(self, info); }

static int s_check(void *self, const cn_song *song, char *err, size_t errlen)
{
    return cn_engine_check_labels(self, song, err, errlen);
}

static int s_encode(void *self, const float *audio, int64_t n, int level, int32_t **codes,
                    int64_t *n_codes, char *err, size_t errlen)
{
    return cn_engine_encode(self, audio, n, level, codes, n_codes, err, errlen);
}

static int s_decode(void *self, const int32_t *codes, int64_t n, int level, float **audio,
                    int64_t *n_samples, char *err, size_t errlen)
{
    return cn_engine_decode(self, codes, n, level, audio, n_samples, err, errlen);
}

static int s_sample(void *self, int level, int32_t *codes, int64_t have, int64_t target_len,
                    const int32_t *above, int64_t above_len, const cn_song *song,
                    const cn_sampling *s, cn_progress_fn progress, void *user, char *err,
                    size_t errlen)
{
    return cn_engine_sample_level(self, level, codes, have, target_len, above, above_len, song,
                                  s, progress, user, err, errlen);
}

static int s_device_lost(void *self) { return cn_engine_device_lost(self); }

static void s_close(void *self)
{
    cn_engine *e = self;
    cn_engine_close(&e);
}

int cn_runner_engine(cn_runner *r, const cn_engine_config *cfg, const char *model_set,
                     char *err, size_t errlen)
{
    cn_engine *e = NULL;
    if (cn_engine_open(&e, cfg, err, errlen)) return -1;
    r->self = e;
    r->model_set = model_set;
    r->backend = cfg->backend;
    r->info = s_info;
    r->check_labels = s_check;
    r->encode = s_encode;
    r->decode = s_decode;
    r->sample_level = s_sample;
    r->device_lost = s_device_lost;
    r->close = s_close;
    return 0;
}
