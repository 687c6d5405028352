/* SPDX-License-Identifier: MIT
 * Sessions: a client's id, its current routing id, liveness and a bounded replay log of every
 * event it was sent, so a client that reconnects resumes where it left off. I/O thread only.
 */
#define _GNU_SOURCE
#include "server_impl.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server_log.h"

double cn_server_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

cn_session *cn_session_by_rid(cn_server *s, const unsigned char *rid, size_t len)
{
    for (int i = 0; i < s->n_sessions; i++) {
        cn_session *ss = &s->sessions[i];
        if (ss->rid_len == len && !memcmp(ss->rid, rid, len)) return ss;
    }
    return NULL;
}

cn_session *cn_session_by_id(cn_server *s, const char *id)
{
    for (int i = 0; i < s->n_sessions; i++)
        if (!strcmp(s->sessions[i].id, id)) return &s->sessions[i];
    return NULL;
}

static void s_random_id(char *out, size_t len)
{
    unsigned char b[8] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
        memcpy(b, &x, sizeof b);
    }
    if (fd >= 0) close(fd);
    snprintf(out, len, "s%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7]);
}

cn_session *cn_session_new(cn_server *s, const char *id)
{
    if (s->n_sessions == s->cap_sessions) {
        int cap = s->cap_sessions ? s->cap_sessions * 2 : 16;
        cn_session *p = realloc(s->sessions, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        s->sessions = p;
        s->cap_sessions = cap;
    }
    cn_session *ss = &s->sessions[s->n_sessions++];
    memset(ss, 0, sizeof *ss);
    if (id && id[0]) snprintf(ss->id, sizeof ss->id, "%s", id);
    else s_random_id(ss->id, sizeof ss->id);
    /* Sequence numbers continue across helper restarts: they start at the wall clock (us). */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ss->seq = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    ss->last_seen = cn_server_now();
    return ss;
}

static void s_rec_free(cn_event_rec *r)
{
    for (int i = 0; i < r->n; i++) zmq_msg_close(&r->parts[i]);
    r->n = 0;
}

static void s_send_rec(cn_server *s, cn_session *ss, cn_event_rec *r)
{
    if (!ss->connected || !ss->rid_len) return;
    if (zmq_send(s->router, ss->rid, ss->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return;
    for (int i = 0; i < r->n; i++) {
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, &r->parts[i]);
        if (zmq_msg_send(&copy, s->router, i + 1 < r->n ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close(&copy);
            return;
        }
    }
}

/* Keeps the log within its byte budget (the newest event always stays). */
static void s_trim(cn_server *s, cn_session *ss)
{
    int drop = 0;
    while (drop < ss->n_log - 1 && ss->log_bytes > s->cfg.session_buffer_bytes) {
        ss->log_bytes -= ss->log[drop].bytes;
        s_rec_free(&ss->log[drop]);
        drop++;
    }
    if (drop) {
        memmove(ss->log, ss->log + drop, (size_t)(ss->n_log - drop) * sizeof *ss->log);
        ss->n_log -= drop;
    }
}

void cn_session_event(cn_server *s, cn_session *ss, uint64_t request_id, cn_env *env,
                      const cn_blob *blobs, int n)
{
    if (ss->n_log == ss->cap_log) {
        int cap = ss->cap_log ? ss->cap_log * 2 : 64;
        cn_event_rec *p = realloc(ss->log, (size_t)cap * sizeof *p);
        if (!p) return;
        ss->log = p;
        ss->cap_log = cap;
    }
    cn_event_rec *r = &ss->log[ss->n_log];
    memset(r, 0, sizeof *r);
    env->request_id = request_id;
    env->seq = ++ss->seq;
    r->seq = env->seq;
    if (cn_proto_pack_header(env, blobs, n, &r->parts[0])) return;
    r->n = 1;
    r->bytes = zmq_msg_size(&r->parts[0]);
    for (int i = 0; i < n; i++) {
        size_t bytes = (size_t)blobs[i].count * 4;
        if (zmq_msg_init_size(&r->parts[1 + i], bytes)) { s_rec_free(r); return; }
        if (bytes) memcpy(zmq_msg_data(&r->parts[1 + i]), blobs[i].data, bytes);
        r->n++;
        r->bytes += bytes;
    }
    ss->n_log++;
    ss->log_bytes += r->bytes;
    s_send_rec(s, ss, r);
    s_trim(s, ss);
}

void cn_session_replay(cn_server *s, cn_session *ss, uint64_t after)
{
    for (int i = 0; i < ss->n_log; i++)
        if (ss->log[i].seq > after) s_send_rec(s, ss, &ss->log[i]);
}

void cn_session_error(cn_server *s, cn_session *ss, uint64_t request_id, uint64_t job,
                      int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cn_log(CN_LOG_INFO, "session %s request %llu refused: %s", ss->id,
           (unsigned long long)request_id, msg);
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Error e = CONTINUO__ERROR__INIT;
    e.code = code;
    e.message = msg;
    e.job = job;
    env.body_case = CONTINUO__ENVELOPE__BODY_ERROR;
    env.error = &e;
    cn_session_event(s, ss, request_id, &env, NULL, 0);
}

void cn_server_error_to(cn_server *s, const unsigned char *rid, size_t len,
                        uint64_t request_id, int code, const char *msg)
{
    cn_log(CN_LOG_INFO, "refused a message: %s", msg);
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Error e = CONTINUO__ERROR__INIT;
    e.code = code;
    e.message = (char *)msg;
    env.body_case = CONTINUO__ENVELOPE__BODY_ERROR;
    env.error = &e;
    env.request_id = request_id;
    cn_proto_send(s->router, rid, len, &env, NULL, 0);
}

void cn_sessions_free(cn_server *s)
{
    for (int i = 0; i < s->n_sessions; i++) {
        for (int k = 0; k < s->sessions[i].n_log; k++) s_rec_free(&s->sessions[i].log[k]);
        free(s->sessions[i].log);
    }
    free(s->sessions);
    s->sessions = NULL;
    s->n_sessions = s->cap_sessions = 0;
}
