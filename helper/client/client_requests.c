/* SPDX-License-Identifier: MIT
 * cn_client requests: each builds one message, checks it against the helper's limits and
 * sends it without blocking. Answers arrive later as events (client_events.c).
 */
#define _GNU_SOURCE
#include "client_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

uint64_t cn_client_send(cn_client *c, cn_env *env, const cn_blob *blobs, int n, char *err,
                        size_t errlen)
{
    if (!c->connected) {   /* a new socket replaces this one on reconnect: nothing would arrive */
        snprintf(err, errlen, "not connected to the helper at %s (reconnecting); try again",
                 c->endpoint);
        return 0;
    }
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += blobs[i].count * 4;
    uint64_t max = c->info.max_message_bytes;
    if (max && bytes + 65536 > max) {
        snprintf(err, errlen, "%s is %.1f MB; the helper takes at most %.1f MB per message",
                 env->body_case == CONTINUO__ENVELOPE__BODY_GENERATE ? "prompt" : "message",
                 bytes / 1e6, max / 1e6);
        return 0;
    }
    env->request_id = ++c->next_rid;
    zmq_pollitem_t it = {c->sock, 0, ZMQ_POLLOUT, 0};
    if (zmq_poll(&it, 1, 0) != 1 || cn_proto_send(c->sock, NULL, 0, env, blobs, n)) {
        snprintf(err, errlen, "cannot send to the helper at %s: %s", c->endpoint,
                 zmq_poll(&it, 1, 0) != 1 ? "not connected" : zmq_strerror(zmq_errno()));
        return 0;
    }
    c->last_send = cn_client_now();
    return env->request_id;
}

static Continuo__Sampling *s_sampling(Continuo__Sampling *out, const cn_client_sampling *s)
{
    if (!s) return NULL;
    continuo__sampling__init(out);
    out->n = s->n > 0 ? (uint32_t)s->n : 0;
    out->temperature = s->temperature;
    out->top_k = s->top_k > 0 ? (uint32_t)s->top_k : 0;
    out->top_p = s->top_p;
    out->seed = s->seed;
    return out;
}

uint64_t cn_client_generate(cn_client *c, const cn_generate_req *r, char *err, size_t errlen)
{
    if (r->n_genres < 0 || r->n_genres > CN_PROTO_MAX_GENRES) {
        snprintf(err, errlen, "%d genres given; at most %d", r->n_genres, CN_PROTO_MAX_GENRES);
        return 0;
    }
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Generate g = CONTINUO__GENERATE__INIT;
    Continuo__Sampling s;
    g.prompt_rate = (float)r->prompt_rate;
    g.artist = (char *)(r->artist ? r->artist : "");
    g.n_genres = (size_t)r->n_genres;
    g.genres = (char **)r->genres;
    g.lyrics = (char *)(r->lyrics ? r->lyrics : "");
    g.total_seconds = r->total_seconds;
    g.seconds = r->seconds;
    g.sampling = s_sampling(&s, &r->sampling);
    env.body_case = CONTINUO__ENVELOPE__BODY_GENERATE;
    env.generate = &g;
    cn_blob b = {CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, r->prompt,
                 r->prompt_len > 0 ? (uint64_t)r->prompt_len : 0};
    return cn_client_send(c, &env, &b, 1, err, errlen);
}

uint64_t cn_client_continue(cn_client *c, const char *node, int choice, double seconds,
                            const cn_client_sampling *sp, char *err, size_t errlen)
{
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Continue m = CONTINUO__CONTINUE__INIT;
    Continuo__Sampling s;
    m.node = (char *)(node ? node : "");
    m.choice = choice;
    m.seconds = seconds;
    m.sampling = s_sampling(&s, sp);
    env.body_case = CONTINUO__ENVELOPE__BODY_CONTINUE_;
    env.continue_ = &m;
    return cn_client_send(c, &env, NULL, 0, err, errlen);
}

uint64_t cn_client_rerun(cn_client *c, const char *node, const cn_client_sampling *sp,
                         char *err, size_t errlen)
{
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Rerun m = CONTINUO__RERUN__INIT;
    Continuo__Sampling s;
    m.node = (char *)(node ? node : "");
    m.sampling = s_sampling(&s, sp);
    env.body_case = CONTINUO__ENVELOPE__BODY_RERUN;
    env.rerun = &m;
    return cn_client_send(c, &env, NULL, 0, err, errlen);
}

uint64_t cn_client_upsample(cn_client *c, const char *node, int level, char *err,
                            size_t errlen)
{
    if (level < 0 || level > 1) {
        snprintf(err, errlen, "upsample level %d: levels are 1 and 0", level);
        return 0;
    }
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Upsample m = CONTINUO__UPSAMPLE__INIT;
    m.node = (char *)(node ? node : "");
    m.level = (uint32_t)level;
    env.body_case = CONTINUO__ENVELOPE__BODY_UPSAMPLE;
    env.upsample = &m;
    return cn_client_send(c, &env, NULL, 0, err, errlen);
}

uint64_t cn_client_cancel(cn_client *c, uint64_t job, char *err, size_t errlen)
{
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Cancel m = CONTINUO__CANCEL__INIT;
    m.job = job;
    env.body_case = CONTINUO__ENVELOPE__BODY_CANCEL;
    env.cancel = &m;
    return cn_client_send(c, &env, NULL, 0, err, errlen);
}

uint64_t cn_client_tree(cn_client *c, const char *composition, char *err, size_t errlen)
{
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__TreeRequest m = CONTINUO__TREE_REQUEST__INIT;
    m.composition = (char *)(composition ? composition : "");
    env.body_case = CONTINUO__ENVELOPE__BODY_TREE_REQUEST;
    env.tree_request = &m;
    return cn_client_send(c, &env, NULL, 0, err, errlen);
}

uint64_t cn_client_audio(cn_client *c, const char *node, int level, char *err, size_t errlen)
{
    if (level < 0 || level > 2) {
        snprintf(err, errlen, "audio level %d: levels are 0, 1 and 2", level);
        return 0;
    }
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__AudioRequest m = CONTINUO__AUDIO_REQUEST__INIT;
    m.node = (char *)(node ? node : "");
    m.level = (uint32_t)level;
    env.body_case = CONTINUO__ENVELOPE__BODY_AUDIO_REQUEST;
    env.audio_request = &m;
    return cn_client_send(c, &env, NULL, 0, err, errlen);
}
