/* SPDX-License-Identifier: MIT
 * What a job does on the worker thread: encode a prompt, sample candidates, upsample one
 * window, and tell the session (progress, previews, candidates, windows, done, errors).
 * Every result is in the store before its event is sent; nothing here touches client sockets.
 */
#define _GNU_SOURCE
#include "jobs_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "server_log.h"

#define ERRLEN 512

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cn_jobs_emit(cn_jobs *j, const cn_job *job, cn_env *env, const cn_blob *blobs, int n)
{
    env->request_id = job->request_id;
    if (cn_proto_send(j->events, job->session, strlen(job->session), env, blobs, n))
        cn_log(CN_LOG_ERROR, "job %llu: cannot pass an event to the server: %s",
               (unsigned long long)job->id, zmq_strerror(zmq_errno()));
}

void cn_jobs_emit_error(cn_jobs *j, const cn_job *job, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cn_runner *r = j->cfg.runner;
    if (code == CONTINUO__ERROR_CODE__ERR_ENGINE && r->device_lost && r->device_lost(r->self)) {
        atomic_store(&j->device_lost, 1);
        size_t at = strlen(msg);
        snprintf(msg + at, sizeof msg - at, " (the %s device is unusable now: continuo-helper "
                 "exits with status %d so that a new one starts; queued jobs resume there)",
                 r->backend ? r->backend : "compute", CN_EXIT_DEVICE_LOST);
    }
    cn_log(code == CONTINUO__ERROR_CODE__ERR_CANCELLED ? CN_LOG_INFO : CN_LOG_WARN,
           "job %llu: %s", (unsigned long long)job->id, msg);
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Error e = CONTINUO__ERROR__INIT;
    e.code = code;
    e.message = msg;
    e.job = job->id;
    env.body_case = CONTINUO__ENVELOPE__BODY_ERROR;
    env.error = &e;
    cn_jobs_emit(j, job, &env, NULL, 0);
}

static void s_emit_done(cn_jobs *j, const cn_job *job, char (*ids)[CN_STORE_ID], int n)
{
    char *ptrs[64];
    if (n > 64) n = 64;
    for (int i = 0; i < n; i++) ptrs[i] = ids[i];
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Done d = CONTINUO__DONE__INIT;
    d.job = job->id;
    d.n_nodes = (size_t)n;
    d.nodes = ptrs;
    env.body_case = CONTINUO__ENVELOPE__BODY_DONE;
    env.done = &d;
    cn_jobs_emit(j, job, &env, NULL, 0);
    cn_log(CN_LOG_INFO, "job %llu done (%d nodes)", (unsigned long long)job->id, n);
}

static void s_song(const cn_store_comp *c, cn_song *song, const char **genre_buf)
{
    /* The engine takes one genre string: v2 words joined by spaces, v3 one name. */
    static __thread char joined[16 * 257];
    joined[0] = 0;
    for (int i = 0; i < c->n_genres; i++) {
        if (i) strncat(joined, " ", sizeof joined - strlen(joined) - 1);
        strncat(joined, c->genres[i], sizeof joined - strlen(joined) - 1);
    }
    *genre_buf = joined;
    song->artist = c->artist;
    song->genre = joined;
    song->lyrics = c->lyrics;
    song->total_seconds = c->total_seconds;
}

/* ---- progress and previews (called by the engine between sampling steps) ---- */

typedef struct s_prog {
    cn_jobs *j;
    cn_job *job;
    int level;
    int64_t have;
    double t0, last_progress, last_preview;
    double base, scale;           /* this call's share of the job's fraction */
} s_prog;

/* Decodes what each candidate has so far. The engine passes its whole buffer (rows of `len`
 * codes, later positions not yet sampled), so only the sampled share is decoded, with codes
 * clamped to the vocabulary. */
static void s_preview(s_prog *p, double fraction, const int32_t *codes, int n, int64_t len)
{
    cn_runner *r = p->j->cfg.runner;
    int64_t upto = p->have + (int64_t)(fraction * (double)(len - p->have));
    if (upto > len) upto = len;
    int64_t m = upto - p->have;
    int32_t *part = m > 0 ? malloc((size_t)m * sizeof *part) : NULL;
    for (int i = 0; part && i < n; i++) {
        for (int64_t t = 0; t < m; t++) {
            int32_t c = codes[(int64_t)i * len + p->have + t];
            part[t] = c < 0 ? 0 : c >= p->j->info.vocab ? p->j->info.vocab - 1 : c;
        }
        float *audio = NULL;
        int64_t na = 0;
        char err[ERRLEN];
        if (r->decode(r->self, part, m, p->level, &audio, &na, err, sizeof err)) break;
        cn_env env = CONTINUO__ENVELOPE__INIT;
        Continuo__Preview pv = CONTINUO__PREVIEW__INIT;
        pv.job = p->job->id;
        pv.candidate = (uint32_t)i;
        pv.n_candidates = (uint32_t)n;
        pv.sample_rate = CN_SAMPLE_RATE;
        env.body_case = CONTINUO__ENVELOPE__BODY_PREVIEW;
        env.preview = &pv;
        cn_blob b = {CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, audio, (uint64_t)na};
        cn_jobs_emit(p->j, p->job, &env, &b, 1);
        free(audio);
    }
    free(part);
}

static int s_progress(void *user, double fraction, double tokens_per_s, const int32_t *codes,
                      int n, int64_t len)
{
    s_prog *p = user;
    if (atomic_load(&p->job->cancel) || atomic_load(&p->j->stop)) return 1;
    double now = s_now();
    if (now - p->last_progress >= p->j->cfg.progress_interval_s || fraction >= 1.0) {
        p->last_progress = now;
        double f = p->base + p->scale * fraction;
        cn_env env = CONTINUO__ENVELOPE__INIT;
        Continuo__Progress pr = CONTINUO__PROGRESS__INIT;
        pr.job = p->job->id;
        pr.fraction = f;
        pr.tokens_per_s = tokens_per_s;
        pr.eta_s = f > 0 ? (now - p->t0) * (1 - f) / f : 0;
        env.body_case = CONTINUO__ENVELOPE__BODY_PROGRESS;
        env.progress = &pr;
        cn_jobs_emit(p->j, p->job, &env, NULL, 0);
    }
    double iv = p->j->cfg.preview_interval_s;
    if (iv > 0 && codes && now - p->last_preview >= iv) {
        p->last_preview = now;
        s_preview(p, fraction, codes, n, len);
    }
    return 0;
}

/* ---- candidates ---- */

static int s_emit_candidate(cn_jobs *j, cn_job *job, const cn_store_node *node, int idx,
                            const int32_t *codes, int64_t have, char *err)
{
    cn_runner *r = j->cfg.runner;
    float *audio = NULL;
    int64_t na = 0;
    if (r->decode(r->self, codes, node->n_codes, 2, &audio, &na, err, ERRLEN)) return -1;
    if (cn_store_put_audio(j->cfg.store, node->id, 2, audio, na, err, ERRLEN)) {
        free(audio);
        return -2;
    }
    int64_t off = have * j->info.hop[2];
    if (off > na) off = na;
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Candidate c = CONTINUO__CANDIDATE__INIT;
    c.job = job->id;
    c.index = (uint32_t)idx;
    c.node = (char *)node->id;
    c.parent = (char *)node->parent;
    c.sample_rate = CN_SAMPLE_RATE;
    c.offset_samples = (uint64_t)off;
    env.body_case = CONTINUO__ENVELOPE__BODY_CANDIDATE;
    env.candidate = &c;
    cn_blob b[2] = {{CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, audio + off, (uint64_t)(na - off)},
                    {CONTINUO__BLOB_KIND__BLOB_CODES_I32, codes, (uint64_t)node->n_codes}};
    cn_jobs_emit(j, job, &env, b, 2);
    free(audio);
    return 0;
}

/* Stores and sends every sampled row as a child of base. Returns 1 (the job is over). */
static int s_store_children(cn_jobs *j, cn_job *job, const char *base, const int32_t *codes,
                            int n, int64_t have, int64_t target)
{
    char err[ERRLEN];
    char (*ids)[CN_STORE_ID] = calloc((size_t)n, CN_STORE_ID);
    for (int i = 0; ids && i < n; i++) {
        cn_store_node node;
        const int32_t *row = codes + (int64_t)i * target;
        if (cn_store_add_node(j->cfg.store, base, row, target, have, &job->sampling, &node, err,
                              sizeof err)) {
            cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_STORE, "%s", err);
            free(ids);
            return 1;
        }
        snprintf(ids[i], CN_STORE_ID, "%s", node.id);
        int rc = s_emit_candidate(j, job, &node, i, row, have, err);
        if (rc) {
            cn_jobs_emit_error(j, job, rc == -2 ? CONTINUO__ERROR_CODE__ERR_STORE
                                                : CONTINUO__ERROR_CODE__ERR_ENGINE, "%s", err);
            free(ids);
            return 1;
        }
    }
    if (ids) s_emit_done(j, job, ids, n);
    free(ids);
    return 1;
}

/* Samples job->sampling.n continuations of base by job->seconds. Returns 1 or -1 (stopping). */
int cn_jobs_sample_children(cn_jobs *j, cn_job *job, const char *base)
{
    char err[ERRLEN];
    cn_store_node bn;
    cn_store_comp comp;
    int32_t *bc = NULL;
    int64_t nb = 0;
    if (cn_store_get_node(j->cfg.store, base, &bn) || cn_store_get_comp(j->cfg.store, bn.comp,
        &comp) || cn_store_node_codes(j->cfg.store, base, &bc, &nb, err, sizeof err)) {
        cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_NOT_FOUND,
                           "node %s is not in the store", base);
        return 1;
    }
    int hop = j->info.hop[2], n = job->sampling.n;
    int64_t add = (int64_t)llround(job->seconds * CN_SAMPLE_RATE / hop);
    if (add < 1) add = 1;
    int64_t target = nb + add;
    int32_t *codes = calloc((size_t)(n * target), sizeof *codes);   /* unsampled = code 0 */
    if (!codes) {
        free(bc);
        cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_ENGINE,
                           "cannot hold %d x %lld codes", n, (long long)target);
        return 1;
    }
    for (int i = 0; i < n; i++) memcpy(codes + (int64_t)i * target, bc, (size_t)nb * 4);
    free(bc);
    cn_song song;
    const char *g;
    s_song(&comp, &song, &g);
    cn_sampling s = {n, job->sampling.temperature, job->sampling.top_k, job->sampling.top_p,
                     job->sampling.seed, 0};
    s_prog p = {j, job, 2, nb, s_now(), 0, s_now(), 0, 1};
    cn_runner *r = j->cfg.runner;
    cn_log(CN_LOG_INFO, "job %llu: sampling %d x %lld codes after %s (%lld given)",
           (unsigned long long)job->id, n, (long long)add, base, (long long)nb);
    int rc = r->sample_level(r->self, 2, codes, nb, target, NULL, 0, &song, &s, s_progress, &p,
                             err, sizeof err);
    int over = 1;
    if (rc == CN_ENGINE_CANCELLED && atomic_load(&j->stop)) over = -1;
    else if (rc == CN_ENGINE_CANCELLED)
        cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_CANCELLED, "job %llu cancelled",
                           (unsigned long long)job->id);
    else if (rc)
        cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_ENGINE, "%s", err);
    else
        over = s_store_children(j, job, base, codes, n, nb, target);
    free(codes);
    return over;
}
