/* SPDX-License-Identifier: MIT
 * Requests: hello (version, session resume), generate/continue/rerun/upsample (validated,
 * journaled, queued), cancel, tree and audio (served from the store). Every refusal is an
 * error event naming the value and the limit; nothing here computes or crashes on bad input.
 */
#define _GNU_SOURCE
#include "server_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_log.h"

#define BAD CONTINUO__ERROR_CODE__ERR_BAD_VALUE
#define NOT_FOUND CONTINUO__ERROR_CODE__ERR_NOT_FOUND

static void s_hello(cn_server *s, cn_session *ss, cn_msg *m)
{
    const Continuo__Hello *h = m->env->hello;
    if (h->protocol_version != CN_PROTOCOL_VERSION) {
        char msg[256];
        snprintf(msg, sizeof msg, "client speaks protocol %u; this helper speaks %u",
                 h->protocol_version, CN_PROTOCOL_VERSION);
        cn_server_error_to(s, m->identity, m->identity_len, m->env->request_id,
                           CONTINUO__ERROR_CODE__ERR_VERSION, msg);
        return;
    }
    const char *set = s->cfg.runner->model_set, *be = s->cfg.runner->backend;
    if ((h->model_set[0] && strcmp(h->model_set, set)) || (h->backend[0] && strcmp(h->backend, be))) {
        char msg[700];
        snprintf(msg, sizeof msg, "this helper serves model set %s on %s; the client asked for "
                 "%s on %s", set, be, h->model_set[0] ? h->model_set : set,
                 h->backend[0] ? h->backend : be);
        cn_server_error_to(s, m->identity, m->identity_len, m->env->request_id,
                           CONTINUO__ERROR_CODE__ERR_BAD_VALUE, msg);
        return;
    }
    if (ss && (!h->session[0] || strcmp(ss->id, h->session))) ss->rid_len = 0;  /* re-hello */
    cn_session *old = h->session[0] ? cn_session_by_id(s, h->session) : NULL;
    ss = old ? old : cn_session_new(s, h->session);
    if (!ss) return;
    memcpy(ss->rid, m->identity, m->identity_len);
    ss->rid_len = m->identity_len;
    ss->connected = 1;
    ss->last_seen = cn_server_now();
    snprintf(ss->name, sizeof ss->name, "%s", h->client_name[0] ? h->client_name : "client");
    cn_log(CN_LOG_INFO, "session %s (%s) %s", ss->id, ss->name,
           old ? "resumed" : "started");
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Welcome w = CONTINUO__WELCOME__INIT;
    uint32_t hop[3] = {(uint32_t)s->info.hop[0], (uint32_t)s->info.hop[1],
                       (uint32_t)s->info.hop[2]};
    w.protocol_version = CN_PROTOCOL_VERSION;
    w.session = ss->id;
    w.model_set = (char *)s->cfg.runner->model_set;
    w.backend = (char *)s->cfg.runner->backend;
    w.max_message_bytes = s->cfg.max_message_bytes;
    w.max_candidates = (uint32_t)s->cfg.max_candidates;
    w.max_prompt_seconds = s->info.max_prompt_seconds;
    w.min_total_seconds = s->info.min_total_seconds;
    w.max_total_seconds = s->info.max_total_seconds;
    w.sample_rate = CN_SAMPLE_RATE;
    w.n_hop = 3;
    w.hop = hop;
    w.has_lyrics = s->info.has_lyrics != 0;
    w.heartbeat_ms = (uint32_t)s->cfg.heartbeat_ms;
    for (int i = 0; i < ss->n_log && old; i++)
        if (ss->log[i].seq > h->last_seq) { w.resumed_from = ss->log[i].seq; break; }
    env.body_case = CONTINUO__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    env.request_id = m->env->request_id;
    cn_proto_send(s->router, ss->rid, ss->rid_len, &env, NULL, 0);
    if (old) cn_session_replay(s, ss, h->last_seq);
}

/* Sampling parameters with defaults filled; 0 or -1 after an error event. */
static int s_sampling(cn_server *s, cn_session *ss, uint64_t rid, const Continuo__Sampling *in,
                      const cn_store_sampling *base, cn_store_sampling *out)
{
    memset(out, 0, sizeof *out);
    if (base) *out = *base;
    if (!out->n) out->n = 3;
    if (!out->temperature) out->temperature = 0.99f;
    if (in) {
        if (in->n) out->n = (int)(in->n > 100000 ? 100000 : in->n);
        if (in->temperature != 0) out->temperature = in->temperature;
        if (in->top_k) out->top_k = (int)(in->top_k > 1u << 30 ? 1u << 30 : in->top_k);
        if (in->top_p != 0) out->top_p = in->top_p;
    }
    out->seed = in ? in->seed : 0;   /* a new seed unless one is asked for */
    if (!out->seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        out->seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec;
    }
    if (out->n < 1 || out->n > s->cfg.max_candidates) {
        cn_session_error(s, ss, rid, 0, BAD, "%d candidates asked; this helper samples 1 to %d",
                         out->n, s->cfg.max_candidates);
        return -1;
    }
    if (!(out->temperature > 0 && out->temperature <= 10)) {
        cn_session_error(s, ss, rid, 0, BAD, "temperature %g is out of range (0, 10]",
                         out->temperature);
        return -1;
    }
    if (out->top_k > s->info.vocab) {
        cn_session_error(s, ss, rid, 0, BAD, "top-k %d is more than the %d codes of the model",
                         out->top_k, s->info.vocab);
        return -1;
    }
    if (!(out->top_p >= 0 && out->top_p <= 1)) {
        cn_session_error(s, ss, rid, 0, BAD, "top-p %g is out of range [0, 1]", out->top_p);
        return -1;
    }
    return 0;
}

/* Seconds of continuation must fit in the song: 0 or -1 after an error event. */
static int s_fits(cn_server *s, cn_session *ss, uint64_t rid, double have_s, double seconds,
                  double total)
{
    if (!(seconds > 0) || !isfinite(seconds)) {
        cn_session_error(s, ss, rid, 0, BAD, "continuation of %g s: it must be more than 0 s",
                         seconds);
        return -1;
    }
    double one = (double)s->info.hop[2] / CN_SAMPLE_RATE;
    if (have_s + seconds > total + one) {
        cn_session_error(s, ss, rid, 0, BAD, "%.2f s so far + %.2f s is past the song's end "
                         "at %.2f s", have_s, seconds, total);
        return -1;
    }
    return 0;
}

static void s_queue(cn_server *s, cn_session *ss, uint64_t rid, cn_job *job, const char *comp)
{
    char err[512];
    int pos = cn_jobs_submit(s->jobs, job, err, sizeof err);
    if (pos < 0) {
        cn_session_error(s, ss, rid, 0, CONTINUO__ERROR_CODE__ERR_STORE, "%s", err);
        cn_job_free(job);
        return;
    }
    ss->active_jobs++;
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Accepted a = CONTINUO__ACCEPTED__INIT;
    a.job = job->id;
    a.queue_position = (uint32_t)pos;
    a.composition = (char *)comp;
    a.node = job->node;
    env.body_case = CONTINUO__ENVELOPE__BODY_ACCEPTED;
    env.accepted = &a;
    cn_log(CN_LOG_INFO, "session %s: job %llu (%s %s) queued at %d", ss->id,
           (unsigned long long)job->id, job->interactive ? "interactive" : "upsample",
           job->node[0] ? job->node : "new composition", pos);
    cn_session_event(s, ss, rid, &env, NULL, 0);
}

/* A new job with an id from the store, or NULL after an error event. */
static cn_job *s_new_job(cn_server *s, cn_session *ss, uint64_t rid, cn_job_kind kind)
{
    char err[512];
    if (ss->active_jobs >= CN_SESSION_MAX_JOBS) {
        cn_session_error(s, ss, rid, 0, CONTINUO__ERROR_CODE__ERR_BUSY, "this session has %d "
                         "unfinished jobs; the limit is %d", ss->active_jobs,
                         CN_SESSION_MAX_JOBS);
        return NULL;
    }
    cn_job *job = calloc(1, sizeof *job);
    if (!job) return NULL;
    job->id = cn_store_next_job_id(s->store, err, sizeof err);
    if (!job->id) {
        cn_session_error(s, ss, rid, 0, CONTINUO__ERROR_CODE__ERR_STORE, "%s", err);
        free(job);
        return NULL;
    }
    job->request_id = rid;
    job->kind = kind;
    snprintf(job->session, sizeof job->session, "%s", ss->id);
    return job;
}

static int s_check_prompt(cn_server *s, cn_session *ss, uint64_t rid, const Continuo__Generate *g,
                          const cn_msg *m)
{
    if (m->n_blobs != 1 || m->blobs[0].kind != CONTINUO__BLOB_KIND__BLOB_AUDIO_F32) {
        cn_session_error(s, ss, rid, 0, BAD, "generate needs one audio frame (the prompt); "
                         "%d binary frames came", m->n_blobs);
        return -1;
    }
    if (!(g->prompt_rate >= 1000 && g->prompt_rate <= 768000)) {
        cn_session_error(s, ss, rid, 0, BAD, "prompt rate %g Hz is outside 1000 to 768000 Hz",
                         g->prompt_rate);
        return -1;
    }
    const float *a = m->blobs[0].data;
    uint64_t n = m->blobs[0].count;
    double sec = (double)n / g->prompt_rate, min_s = (double)s->info.hop[2] / CN_SAMPLE_RATE;
    if (sec < min_s) {
        cn_session_error(s, ss, rid, 0, BAD, "prompt is %.4f s (%llu samples); it must hold "
                         "at least one top-level code (%.4f s)", sec, (unsigned long long)n,
                         min_s);
        return -1;
    }
    if (s->info.max_prompt_seconds > 0 && sec > s->info.max_prompt_seconds) {
        cn_session_error(s, ss, rid, 0, BAD, "prompt is %.2f s; the model takes at most "
                         "%.2f s", sec, s->info.max_prompt_seconds);
        return -1;
    }
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(a[i])) {
            cn_session_error(s, ss, rid, 0, BAD, "prompt sample %llu is %s; audio must be "
                             "finite", (unsigned long long)i, isnan(a[i]) ? "NaN" : "infinite");
            return -1;
        }
    return 0;
}

static int s_check_song(cn_server *s, cn_session *ss, uint64_t rid, const Continuo__Generate *g,
                        cn_job *job)
{
    double t = g->total_seconds;
    if (!(t >= s->info.min_total_seconds && t < s->info.max_total_seconds)) {
        cn_session_error(s, ss, rid, 0, BAD, "song is %.2f s; this model takes %.2f s to "
                         "under %.2f s", t, s->info.min_total_seconds, s->info.max_total_seconds);
        return -1;
    }
    snprintf(job->comp.artist, sizeof job->comp.artist, "%s", g->artist);
    for (size_t i = 0; i < g->n_genres && i < 16; i++)
        snprintf(job->comp.genres[job->comp.n_genres++], 256, "%s", g->genres[i]);
    job->comp.lyrics = strdup(g->lyrics ? g->lyrics : "");
    job->comp.total_seconds = t;
    char genre[16 * 257] = "", err[512];
    for (int i = 0; i < job->comp.n_genres; i++) {
        if (i) strcat(genre, " ");
        strcat(genre, job->comp.genres[i]);
    }
    cn_song song = {job->comp.artist, genre, job->comp.lyrics, t};
    if (s->cfg.runner->check_labels(s->cfg.runner->self, &song, err, sizeof err)) {
        cn_session_error(s, ss, rid, 0, BAD, "%s", err);
        return -1;
    }
    return 0;
}

static void s_generate(cn_server *s, cn_session *ss, cn_msg *m)
{
    const Continuo__Generate *g = m->env->generate;
    uint64_t rid = m->env->request_id;
    if (s_check_prompt(s, ss, rid, g, m)) return;
    double prompt_s = (double)m->blobs[0].count / g->prompt_rate;
    if (s_fits(s, ss, rid, prompt_s, g->seconds, g->total_seconds)) return;
    cn_job *job = s_new_job(s, ss, rid, CN_JOB_GENERATE);
    if (!job) return;
    job->seconds = g->seconds;
    job->prompt_rate = g->prompt_rate;
    if (s_check_song(s, ss, rid, g, job) ||
        s_sampling(s, ss, rid, g->sampling, NULL, &job->sampling)) {
        cn_job_free(job);
        return;
    }
    job->sampling.seconds = g->seconds;
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/jobs/%llu.prompt.f32", cn_store_dir(s->store),
             (unsigned long long)job->id);
    if (cn_store_write_atomic(path, m->blobs[0].data, m->blobs[0].count * 4, NULL, 0, err,
                              sizeof err)) {
        cn_session_error(s, ss, rid, 0, CONTINUO__ERROR_CODE__ERR_STORE, "%s", err);
        cn_job_free(job);
        return;
    }
    s_queue(s, ss, rid, job, "");
}

/* Looks a node up or sends "node X is not in the store". */
static int s_node(cn_server *s, cn_session *ss, uint64_t rid, const char *id, cn_store_node *n,
                  cn_store_comp *c)
{
    if (cn_store_get_node(s->store, id, n) || cn_store_get_comp(s->store, n->comp, c)) {
        cn_session_error(s, ss, rid, 0, NOT_FOUND, "node \"%s\" is not in the store "
                         "(see `continuo tree`)", id);
        return -1;
    }
    return 0;
}

static void s_continue(cn_server *s, cn_session *ss, cn_msg *m)
{
    const Continuo__Continue *c = m->env->continue_;
    uint64_t rid = m->env->request_id;
    cn_store_node n;
    cn_store_comp comp;
    if (s_node(s, ss, rid, c->node, &n, &comp)) return;
    if (c->choice >= 0) {
        char (*kids)[CN_STORE_ID] = NULL;
        int nk = 0;
        cn_store_children(s->store, c->node, &kids, &nk);
        if (c->choice >= nk) {
            cn_session_error(s, ss, rid, 0, BAD, "choice %d of node %s: it has %d candidates "
                             "(0 to %d)", c->choice, c->node, nk, nk - 1);
            free(kids);
            return;
        }
        cn_store_get_node(s->store, kids[c->choice], &n);
        free(kids);
    }
    double have = (double)n.n_codes * s->info.hop[2] / CN_SAMPLE_RATE;
    if (s_fits(s, ss, rid, have, c->seconds, comp.total_seconds)) return;
    cn_job *job = s_new_job(s, ss, rid, CN_JOB_CONTINUE);
    if (!job) return;
    snprintf(job->node, sizeof job->node, "%s", n.id);
    job->choice = c->choice;
    job->seconds = c->seconds;
    if (s_sampling(s, ss, rid, c->sampling, &n.children_with, &job->sampling)) {
        cn_job_free(job);
        return;
    }
    job->sampling.seconds = c->seconds;
    s_queue(s, ss, rid, job, n.comp);
}

static void s_rerun(cn_server *s, cn_session *ss, cn_msg *m)
{
    const Continuo__Rerun *r = m->env->rerun;
    uint64_t rid = m->env->request_id;
    cn_store_node n;
    cn_store_comp comp;
    if (s_node(s, ss, rid, r->node, &n, &comp)) return;
    if (!n.children_with.seconds) {
        cn_session_error(s, ss, rid, 0, BAD, "node %s has no candidates to run again; "
                         "continue it instead", r->node);
        return;
    }
    cn_job *job = s_new_job(s, ss, rid, CN_JOB_RERUN);
    if (!job) return;
    snprintf(job->node, sizeof job->node, "%s", n.id);
    job->seconds = n.children_with.seconds;
    if (s_sampling(s, ss, rid, r->sampling, &n.children_with, &job->sampling)) {
        cn_job_free(job);
        return;
    }
    job->sampling.seconds = job->seconds;
    s_queue(s, ss, rid, job, n.comp);
}

static void s_upsample(cn_server *s, cn_session *ss, cn_msg *m)
{
    const Continuo__Upsample *u = m->env->upsample;
    uint64_t rid = m->env->request_id;
    cn_store_node n;
    cn_store_comp comp;
    if (s_node(s, ss, rid, u->node, &n, &comp)) return;
    if (u->level > 1) {
        cn_session_error(s, ss, rid, 0, BAD, "upsample level %u: levels are 1 and 0", u->level);
        return;
    }
    if (s->info.n_ctx[u->level] <= 0 || s->info.n_ctx[1] <= 0) {
        cn_session_error(s, ss, rid, 0, BAD, "this helper has no level-%u upsampler loaded",
                         s->info.n_ctx[1] <= 0 ? 1 : u->level);
        return;
    }
    cn_job *job = s_new_job(s, ss, rid, CN_JOB_UPSAMPLE);
    if (!job) return;
    snprintf(job->node, sizeof job->node, "%s", n.id);
    job->level = (int)u->level;
    job->sampling.temperature = 0.99f;
    job->sampling.seed = n.made_with.seed ? n.made_with.seed : 1;
    s_queue(s, ss, rid, job, n.comp);
}

static void s_cancel(cn_server *s, cn_session *ss, cn_msg *m)
{
    uint64_t rid = m->env->request_id, id = m->env->cancel->job;
    uint64_t job_rid = 0;
    int rc = cn_jobs_cancel(s->jobs, id, ss->id, &job_rid);
    if (rc < 0) {
        cn_session_error(s, ss, rid, id, NOT_FOUND, "job %llu is not a queued or running job "
                         "of this session", (unsigned long long)id);
        return;
    }
    if (rc == 1 && ss->active_jobs > 0) ss->active_jobs--;
    if (rc == 1)   /* it was only queued: it ends now */
        cn_session_error(s, ss, job_rid, id, CONTINUO__ERROR_CODE__ERR_CANCELLED,
                         "job %llu cancelled", (unsigned long long)id);
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Done d = CONTINUO__DONE__INIT;
    d.job = id;
    env.body_case = CONTINUO__ENVELOPE__BODY_DONE;
    env.done = &d;
    cn_session_event(s, ss, rid, &env, NULL, 0);
}

static Continuo__NodeInfo *s_node_info(cn_server *s, const char *id, char (**kids)[CN_STORE_ID])
{
    cn_store_node n;
    if (cn_store_get_node(s->store, id, &n)) return NULL;
    Continuo__NodeInfo *ni = calloc(1, sizeof *ni);
    if (!ni) return NULL;
    continuo__node_info__init(ni);
    int nk = 0;
    cn_store_children(s->store, id, kids, &nk);
    ni->id = strdup(n.id);
    ni->parent = strdup(n.parent);
    ni->n_children = (size_t)nk;
    ni->children = calloc((size_t)nk + 1, sizeof *ni->children);
    for (int i = 0; i < nk && ni->children; i++) ni->children[i] = (*kids)[i];
    ni->n_codes = (uint64_t)n.n_codes;
    ni->seconds = (double)n.n_codes * s->info.hop[2] / CN_SAMPLE_RATE;
    ni->levels = cn_store_levels(s->store, id);
    int w1 = cn_store_windows_done(s->store, id, 1), w0 = cn_store_windows_done(s->store, id, 0);
    ni->windows_done = (uint32_t)(w0 ? w0 : w1);
    return ni;
}

static void s_tree(cn_server *s, cn_session *ss, cn_msg *m)
{
    const char *comp = m->env->tree_request->composition;
    uint64_t rid = m->env->request_id;
    char (*ids)[CN_STORE_ID] = NULL, (*cids)[CN_STORE_ID] = NULL;
    int n = 0, nc = 0;
    if (comp[0] && cn_store_get_comp(s->store, comp, NULL)) {
        cn_session_error(s, ss, rid, 0, NOT_FOUND, "composition \"%s\" is not in the store",
                         comp);
        return;
    }
    if (comp[0]) { cn_store_list(s->store, comp, &ids, &n); nc = 1; }
    else cn_store_list(s->store, NULL, &cids, &nc);
    Continuo__Tree t = CONTINUO__TREE__INIT;
    Continuo__CompositionInfo *ci = calloc((size_t)nc + 1, sizeof *ci);
    Continuo__CompositionInfo **cp = calloc((size_t)nc + 1, sizeof *cp);
    cn_store_comp *cc = calloc((size_t)nc + 1, sizeof *cc);
    char **gp = calloc((size_t)nc + 1, 16 * sizeof *gp);   /* each one's genre names */
    Continuo__NodeInfo **np = calloc((size_t)n + 1, sizeof *np);
    char (**kids)[CN_STORE_ID] = calloc((size_t)n + 1, sizeof *kids);
    for (int i = 0; ci && cp && cc && gp && i < nc; i++) {
        cn_store_get_comp(s->store, comp[0] ? comp : cids[i], &cc[i]);
        continuo__composition_info__init(&ci[i]);
        ci[i].id = cc[i].id;
        ci[i].artist = cc[i].artist;
        ci[i].lyrics = cc[i].lyrics;
        ci[i].root = cc[i].root;
        ci[i].total_seconds = cc[i].total_seconds;
        ci[i].n_genres = (size_t)cc[i].n_genres;
        ci[i].genres = gp + 16 * i;
        for (int g = 0; g < cc[i].n_genres; g++) gp[16 * i + g] = cc[i].genres[g];
        cp[t.n_compositions++] = &ci[i];
    }
    for (int i = 0; np && kids && i < n; i++) {
        Continuo__NodeInfo *ni = s_node_info(s, ids[i], &kids[t.n_nodes]);
        if (ni) np[t.n_nodes++] = ni;
    }
    t.compositions = cp;
    t.nodes = np;
    cn_env env = CONTINUO__ENVELOPE__INIT;
    env.body_case = CONTINUO__ENVELOPE__BODY_TREE;
    env.tree = &t;
    cn_session_event(s, ss, rid, &env, NULL, 0);
    for (size_t i = 0; i < t.n_nodes; i++) {
        free(np[i]->id), free(np[i]->parent), free(np[i]->children), free(np[i]);
        free(kids[i]);
    }
    free(np), free(kids), free(ci), free(cp), free(cc), free(gp), free(ids), free(cids);
}

static void s_audio(cn_server *s, cn_session *ss, cn_msg *m)
{
    const Continuo__AudioRequest *a = m->env->audio_request;
    uint64_t rid = m->env->request_id;
    if (a->level > 2) {
        cn_session_error(s, ss, rid, 0, BAD, "audio level %u: levels are 0, 1 and 2", a->level);
        return;
    }
    float *audio = NULL;
    int64_t n = 0;
    char err[512];
    if (cn_store_get_audio(s->store, a->node, (int)a->level, &audio, &n, err, sizeof err)) {
        cn_session_error(s, ss, rid, 0, NOT_FOUND, "%s", err);
        return;
    }
    if ((uint64_t)n * 4 + 4096 > s->cfg.max_message_bytes) {
        cn_session_error(s, ss, rid, 0, CONTINUO__ERROR_CODE__ERR_TOO_LARGE,
                         "audio of %s is %.1f MB; messages are limited to %.1f MB", a->node,
                         n * 4 / 1e6, s->cfg.max_message_bytes / 1e6);
        free(audio);
        return;
    }
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Audio au = CONTINUO__AUDIO__INIT;
    au.node = a->node;
    au.level = a->level;
    au.sample_rate = CN_SAMPLE_RATE;
    env.body_case = CONTINUO__ENVELOPE__BODY_AUDIO;
    env.audio = &au;
    cn_blob b = {CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, audio, (uint64_t)n};
    cn_session_event(s, ss, rid, &env, &b, 1);
    free(audio);
}

void cn_server_request(cn_server *s, cn_session *ss, cn_msg *m)
{
    int body = m->env->body_case;
    if (body == CONTINUO__ENVELOPE__BODY_HELLO) {
        s_hello(s, ss, m);
        return;
    }
    if (!ss) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s before hello: say hello first (protocol %u)",
                 cn_proto_body_name(body), CN_PROTOCOL_VERSION);
        cn_server_error_to(s, m->identity, m->identity_len, m->env->request_id,
                           CONTINUO__ERROR_CODE__ERR_NO_SESSION, msg);
        return;
    }
    switch (body) {
    case CONTINUO__ENVELOPE__BODY_HEARTBEAT: return;
    case CONTINUO__ENVELOPE__BODY_GENERATE: s_generate(s, ss, m); return;
    case CONTINUO__ENVELOPE__BODY_CONTINUE_: s_continue(s, ss, m); return;
    case CONTINUO__ENVELOPE__BODY_RERUN: s_rerun(s, ss, m); return;
    case CONTINUO__ENVELOPE__BODY_UPSAMPLE: s_upsample(s, ss, m); return;
    case CONTINUO__ENVELOPE__BODY_CANCEL: s_cancel(s, ss, m); return;
    case CONTINUO__ENVELOPE__BODY_TREE_REQUEST: s_tree(s, ss, m); return;
    case CONTINUO__ENVELOPE__BODY_AUDIO_REQUEST: s_audio(s, ss, m); return;
    default:
        cn_session_error(s, ss, m->env->request_id, 0, CONTINUO__ERROR_CODE__ERR_UNKNOWN_TYPE,
                         "a client may not send \"%s\" messages", cn_proto_body_name(body));
    }
}
