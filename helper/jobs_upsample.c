/* SPDX-License-Identifier: MIT
 * Upsampling as resumable turns: each turn samples the first unfinished window of the lowest
 * unfinished level, stores its codes and audio, and yields. State lives only in the store, so
 * a restarted helper continues at the first window that was not written.
 */
#define _GNU_SOURCE
#include "jobs_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_log.h"

#define ERRLEN 512
#define MAX_WINDOWS 65536

int cn_jobs_window_ends(int64_t total, int n_ctx, int hop, int64_t *ends, int max)
{
    if (total <= 0 || n_ctx <= 0 || hop <= 0 || max <= 0) return 0;
    if (total <= n_ctx) {
        ends[0] = total;
        return 1;
    }
    int k = 0;
    for (int64_t start = 0; start < total - n_ctx + hop && k < max; start += hop) {
        int64_t end = start + n_ctx >= total ? total : start + n_ctx;
        if (k && ends[k - 1] == end) continue;
        ends[k++] = end;
    }
    return k;
}

/* Concatenated codes of windows 0..k-1 of a level, in a buffer of capacity cap. */
static int s_level_codes(cn_store *st, const char *node, int level, int k, int32_t *buf,
                         int64_t cap, int64_t *n, char *err)
{
    *n = 0;
    for (int i = 0; i < k; i++) {
        int32_t *c;
        int64_t nc;
        if (cn_store_get_window(st, node, level, i, &c, &nc, NULL, NULL, err, ERRLEN))
            return -1;
        if (*n + nc > cap) {
            free(c);
            snprintf(err, ERRLEN, "node %s level %d: windows hold more than %lld codes", node,
                     level, (long long)cap);
            return -1;
        }
        memcpy(buf + *n, c, (size_t)nc * 4);
        *n += nc;
        free(c);
    }
    return 0;
}

/* The codes a level is conditioned on: level 2 of the node, or the finished level 1. */
static int s_above(cn_jobs *j, const char *node, int level, int32_t **above, int64_t *n,
                   char *err)
{
    if (level == 1) return cn_store_node_codes(j->cfg.store, node, above, n, err, ERRLEN);
    int k = cn_store_windows_done(j->cfg.store, node, 1);
    cn_store_node nd;
    cn_store_get_node(j->cfg.store, node, &nd);
    int64_t cap = nd.n_codes * j->info.hop[2] / j->info.hop[1];
    *above = malloc((size_t)(cap + 1) * 4);
    if (!*above) return -1;
    return s_level_codes(j->cfg.store, node, 1, k, *above, cap, n, err);
}

static void s_emit_window(cn_jobs *j, cn_job *job, int level, int k, int count, int64_t have,
                          const int32_t *codes, int64_t nc, const float *audio, int64_t na)
{
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Window w = CONTINUO__WINDOW__INIT;
    w.job = job->id;
    w.node = job->node;
    w.level = (uint32_t)level;
    w.index = (uint32_t)k;
    w.count = (uint32_t)count;
    w.start_sample = (uint64_t)(have * j->info.hop[level]);
    w.sample_rate = CN_SAMPLE_RATE;
    env.body_case = CONTINUO__ENVELOPE__BODY_WINDOW;
    env.window = &w;
    cn_blob b[2] = {{CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, audio, (uint64_t)na},
                    {CONTINUO__BLOB_KIND__BLOB_CODES_I32, codes, (uint64_t)nc}};
    cn_jobs_emit(j, job, &env, b, 2);
}

static void s_song_of(cn_jobs *j, const char *node, cn_song *song, char *genre, size_t glen,
                      cn_store_comp *comp)
{
    cn_store_node nd;
    memset(comp, 0, sizeof *comp);
    if (!cn_store_get_node(j->cfg.store, node, &nd)) cn_store_get_comp(j->cfg.store, nd.comp, comp);
    genre[0] = 0;
    for (int i = 0; i < comp->n_genres; i++) {
        if (i) strncat(genre, " ", glen - strlen(genre) - 1);
        strncat(genre, comp->genres[i], glen - strlen(genre) - 1);
    }
    song->artist = comp->artist;
    song->genre = genre;
    song->lyrics = comp->lyrics;
    song->total_seconds = comp->total_seconds;
}

typedef struct s_cancel_ctx {
    cn_jobs *j;
    cn_job *job;
} s_cancel_ctx;

static int s_cancel(void *user, double fraction, double tokens_per_s, const int32_t *codes,
                    int n, int64_t len)
{
    (void)fraction, (void)tokens_per_s, (void)codes, (void)n, (void)len;
    s_cancel_ctx *c = user;
    return atomic_load(&c->job->cancel) || atomic_load(&c->j->stop);
}

/* Samples, stores and sends window k of level. Returns 0, CN_ENGINE_CANCELLED, or -1/-2
 * (engine/store error in err). */
static int s_window(cn_jobs *j, cn_job *job, int level, int k, int count, const int64_t *ends,
                    const int32_t *above, int64_t n_above, char *err)
{
    int64_t target = ends[k], have = 0;
    int32_t *codes = malloc((size_t)(target + 1) * 4);
    if (!codes) { snprintf(err, ERRLEN, "out of memory"); return -1; }
    if (s_level_codes(j->cfg.store, job->node, level, k, codes, target, &have, err)) {
        free(codes);
        return -2;
    }
    cn_song song;
    cn_store_comp comp;
    char genre[16 * 257];
    s_song_of(j, job->node, &song, genre, sizeof genre, &comp);
    cn_sampling s = {1, job->sampling.temperature, job->sampling.top_k, job->sampling.top_p,
                     job->sampling.seed + (uint64_t)level * 1000003u + (uint64_t)k, 0.5};
    s_cancel_ctx cc = {j, job};
    cn_runner *r = j->cfg.runner;
    int rc = r->sample_level(r->self, level, codes, have, target, above, n_above, &song, &s,
                             s_cancel, &cc, err, ERRLEN);
    float *audio = NULL;
    int64_t na = 0;
    if (!rc && r->decode(r->self, codes + have, target - have, level, &audio, &na, err, ERRLEN))
        rc = -1;
    if (!rc && cn_store_put_window(j->cfg.store, job->node, level, k, codes + have,
                                   target - have, audio, na, err, ERRLEN))
        rc = -2;
    if (!rc) s_emit_window(j, job, level, k, count, have, codes + have, target - have, audio, na);
    free(audio);
    free(codes);
    return rc;
}

static void s_progress(cn_jobs *j, cn_job *job, double fraction)
{
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Progress pr = CONTINUO__PROGRESS__INIT;
    pr.job = job->id;
    pr.fraction = fraction;
    env.body_case = CONTINUO__ENVELOPE__BODY_PROGRESS;
    env.progress = &pr;
    cn_jobs_emit(j, job, &env, NULL, 0);
}

/* One window of level; returns like cn_jobs_run_turn, 2 when the level was already done. */
static int s_level_turn(cn_jobs *j, cn_job *job, int level, int64_t *ends)
{
    char err[ERRLEN];
    int32_t *above = NULL;
    int64_t n_above = 0;
    if (s_above(j, job->node, level, &above, &n_above, err)) {
        free(above);
        cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_STORE, "%s", err);
        return 1;
    }
    int n_ctx = j->info.n_ctx[level];
    int64_t total = n_above * j->info.hop[level + 1] / j->info.hop[level];
    int count = cn_jobs_window_ends(total, n_ctx, n_ctx / 2 > 0 ? n_ctx / 2 : 1, ends,
                                    MAX_WINDOWS);
    int k = cn_store_windows_done(j->cfg.store, job->node, level);
    int rc = 0;
    if (k < count) {
        rc = s_window(j, job, level, k, count, ends, above, n_above, err);
        k++;
    }
    free(above);
    if (rc == CN_ENGINE_CANCELLED) {
        if (atomic_load(&j->stop)) return -1;
        cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_CANCELLED, "job %llu cancelled",
                           (unsigned long long)job->id);
        return 1;
    }
    if (rc) {
        cn_jobs_emit_error(j, job, rc == -2 ? CONTINUO__ERROR_CODE__ERR_STORE
                                            : CONTINUO__ERROR_CODE__ERR_ENGINE, "%s", err);
        return 1;
    }
    int levels_todo = 2 - job->level, done_before = level == 0 && levels_todo == 2;
    s_progress(j, job, (done_before + (double)k / (count ? count : 1)) / levels_todo);
    if (k >= count && cn_store_finish_level(j->cfg.store, job->node, level, count, err,
                                            ERRLEN)) {
        cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_STORE, "%s", err);
        return 1;
    }
    cn_log(CN_LOG_DEBUG, "job %llu: %s level %d window %d of %d", (unsigned long long)job->id,
           job->node, level, k, count);
    return k >= count && level == job->level ? 2 : 0;
}

int cn_jobs_upsample_turn(cn_jobs *j, cn_job *job)
{
    for (int level = 1; level >= job->level; level--) {
        if (cn_store_levels(j->cfg.store, job->node) & (1u << level)) continue;
        if (j->info.n_ctx[level] <= 0) {
            cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_BAD_VALUE,
                               "this helper has no level-%d upsampler loaded", level);
            return 1;
        }
        int64_t *ends = malloc(MAX_WINDOWS * sizeof *ends);
        if (!ends) return 1;
        int rc = s_level_turn(j, job, level, ends);
        free(ends);
        if (rc != 2) return rc;
        break;
    }
    char ids[1][CN_STORE_ID];
    snprintf(ids[0], CN_STORE_ID, "%s", job->node);
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Done d = CONTINUO__DONE__INIT;
    char *p = ids[0];
    d.job = job->id;
    d.n_nodes = 1;
    d.nodes = &p;
    env.body_case = CONTINUO__ENVELOPE__BODY_DONE;
    env.done = &d;
    cn_jobs_emit(j, job, &env, NULL, 0);
    cn_log(CN_LOG_INFO, "job %llu done: %s upsampled to level %d", (unsigned long long)job->id,
           job->node, job->level);
    return 1;
}
