/* SPDX-License-Identifier: MIT
 * The server's I/O thread: binds the ROUTER, reads requests and worker events, sends
 * heartbeats, notices silent clients. It never computes and never waits on the engine.
 */
#define _GNU_SOURCE
#include "server_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "client.h"
#include "server_log.h"

#define EVENTS_ENDPOINT_FMT "inproc://cn-events-%p"

static void s_heartbeats(cn_server *s, double now)
{
    double hb = s->cfg.heartbeat_ms / 1000.0;
    if (now - s->last_heartbeat < hb) return;
    s->last_heartbeat = now;
    for (int i = 0; i < s->n_sessions; i++) {
        cn_session *ss = &s->sessions[i];
        if (ss->connected && now - ss->last_seen > 3 * hb) {
            ss->connected = 0;
            cn_log(CN_LOG_INFO, "session %s (%s) went silent; keeping its events for resume",
                   ss->id, ss->name);
        }
        if (!ss->connected) continue;
        cn_env env = CONTINUO__ENVELOPE__INIT;
        Continuo__Heartbeat h = CONTINUO__HEARTBEAT__INIT;
        env.body_case = CONTINUO__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &h;
        cn_proto_send(s->router, ss->rid, ss->rid_len, &env, NULL, 0);
    }
    for (int i = 0; i < s->n_sessions; i++) {   /* forget sessions silent for too long */
        cn_session *ss = &s->sessions[i];
        double keep = ss->active_jobs > 0 ? s->cfg.session_keep_s : 60;
        if (ss->connected || now - ss->last_seen < keep) continue;
        cn_log(CN_LOG_INFO, "session %s forgotten after %.0f s of silence", ss->id,
               now - ss->last_seen);
        for (int k = 0; k < ss->n_log; k++)
            for (int p = 0; p < ss->log[k].n; p++) zmq_msg_close(&ss->log[k].parts[p]);
        free(ss->log);
        s->sessions[i] = s->sessions[--s->n_sessions];
        i--;
    }
}

static void s_on_request(cn_server *s)
{
    cn_msg m;
    char err[512];
    int rc = cn_proto_recv(s->router, 1, ZMQ_DONTWAIT, &m, err, sizeof err);
    if (rc < 0) return;
    cn_session *ss = cn_session_by_rid(s, m.identity, m.identity_len);
    if (ss) {
        ss->last_seen = cn_server_now();
        ss->connected = 1;
    }
    if (rc > 0) {
        if (ss) cn_session_error(s, ss, 0, 0, rc, "%s", err);
        else cn_server_error_to(s, m.identity, m.identity_len, 0, rc, err);
        return;
    }
    cn_server_request(s, ss, &m);
    cn_proto_msg_free(&m);
}

static void s_on_worker_event(cn_server *s)
{
    cn_msg m;
    char err[512];
    int rc = cn_proto_recv(s->events, 1, ZMQ_DONTWAIT, &m, err, sizeof err);
    if (rc < 0) return;
    if (rc > 0) {
        cn_log(CN_LOG_ERROR, "unreadable event from the worker: %s", err);
        return;
    }
    char sid[64];
    size_t n = m.identity_len < sizeof sid - 1 ? m.identity_len : sizeof sid - 1;
    memcpy(sid, m.identity, n);
    sid[n] = 0;
    cn_session *ss = cn_session_by_id(s, sid);
    if (!ss) ss = cn_session_new(s, sid);   /* a resumed job whose client has not come back */
    int body = m.env->body_case;
    if (ss && (body == CONTINUO__ENVELOPE__BODY_DONE || body == CONTINUO__ENVELOPE__BODY_ERROR) &&
        ss->active_jobs > 0)
        ss->active_jobs--;   /* every job ends with exactly one done or error */
    else if (ss && body != CONTINUO__ENVELOPE__BODY_DONE && body != CONTINUO__ENVELOPE__BODY_ERROR &&
             ss->active_jobs == 0)
        ss->active_jobs = 1;   /* a job resumed from the journal after a restart */
    if (ss) cn_session_event(s, ss, m.env->request_id, m.env, m.blobs, m.n_blobs);
    cn_proto_msg_free(&m);
}

static void *s_io(void *arg)
{
    cn_server *s = arg;
    while (!atomic_load(&s->stop)) {
        zmq_pollitem_t items[2] = {{s->router, 0, ZMQ_POLLIN, 0}, {s->events, 0, ZMQ_POLLIN, 0}};
        int timeout = s->cfg.heartbeat_ms / 4 > 100 ? 100 : s->cfg.heartbeat_ms / 4 + 1;
        if (zmq_poll(items, 2, timeout) < 0 && zmq_errno() != EINTR) break;
        for (int k = 0; k < 64 && (items[1].revents & ZMQ_POLLIN); k++) {
            int ev = 0;
            size_t len = sizeof ev;
            s_on_worker_event(s);
            zmq_getsockopt(s->events, ZMQ_EVENTS, &ev, &len);
            if (!(ev & ZMQ_POLLIN)) break;
        }
        for (int k = 0; k < 64 && (items[0].revents & ZMQ_POLLIN); k++) {
            int ev = 0;
            size_t len = sizeof ev;
            s_on_request(s);
            zmq_getsockopt(s->router, ZMQ_EVENTS, &ev, &len);
            if (!(ev & ZMQ_POLLIN)) break;
        }
        s_heartbeats(s, cn_server_now());
    }
    return NULL;
}

static int s_bind(cn_server *s, char *err, size_t errlen)
{
    s->router = zmq_socket(s->ctx, ZMQ_ROUTER);
    int64_t max = (int64_t)s->cfg.max_message_bytes;
    int zero = 0, hwm = 100000;
    zmq_setsockopt(s->router, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(s->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (cn_server_curve_setup(s, err, errlen)) return -1;
    if (!strncmp(s->endpoint, "ipc://", 6)) {   /* make the runtime directory if needed */
        char dir[512];
        snprintf(dir, sizeof dir, "%s", s->endpoint + 6);
        char *slash = strrchr(dir, '/');
        if (slash) { *slash = 0; mkdir(dir, 0700); }
    }
    if (zmq_bind(s->router, s->endpoint)) {
        snprintf(err, errlen, "cannot bind %s: %s", s->endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    size_t len = sizeof s->endpoint;
    zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, s->endpoint, &len);
    return 0;
}

int cn_server_start(cn_server **out, const cn_server_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->runner || !cfg->store_dir) {
        snprintf(err, errlen, "server: no %s given", cfg->runner ? "store folder" : "engine");
        return -1;
    }
    cn_server *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->cfg = *cfg;
    if (!s->cfg.max_message_bytes) s->cfg.max_message_bytes = 256u << 20;
    if (s->cfg.heartbeat_ms <= 0) s->cfg.heartbeat_ms = 1000;
    if (s->cfg.max_candidates <= 0) s->cfg.max_candidates = 16;
    if (!s->cfg.session_buffer_bytes) s->cfg.session_buffer_bytes = 256u << 20;
    if (s->cfg.session_keep_s <= 0) s->cfg.session_keep_s = 3600;
    if (cfg->endpoint) snprintf(s->endpoint, sizeof s->endpoint, "%s", cfg->endpoint);
    else cn_default_endpoint(s->endpoint, sizeof s->endpoint);
    cfg->runner->info(cfg->runner->self, &s->info);
    s->ctx = zmq_ctx_new();
    if (cn_store_open(&s->store, cfg->store_dir, err, errlen) || s_bind(s, err, errlen)) {
        cn_server_stop(&s);
        return -1;
    }
    char ep[64];
    snprintf(ep, sizeof ep, EVENTS_ENDPOINT_FMT, (void *)s);
    s->events = zmq_socket(s->ctx, ZMQ_PAIR);
    int unlimited = 0;
    zmq_setsockopt(s->events, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    zmq_bind(s->events, ep);
    cn_jobs_config jc = {cfg->runner, s->store, s->ctx, ep, cfg->preview_interval_s, 0};
    if (cn_jobs_start(&s->jobs, &jc, err, errlen)) {
        cn_server_stop(&s);
        return -1;
    }
    if (pthread_create(&s->io, NULL, s_io, s)) {
        snprintf(err, errlen, "cannot start the server I/O thread");
        cn_server_stop(&s);
        return -1;
    }
    s->io_started = 1;
    cn_log(CN_LOG_INFO, "serving %s on %s (%s backend), store %s", cfg->runner->model_set,
           s->endpoint, cfg->runner->backend, cfg->store_dir);
    *out = s;
    return 0;
}

void cn_server_stop(cn_server **sp)
{
    if (!sp || !*sp) return;
    cn_server *s = *sp;
    cn_jobs_stop(&s->jobs);   /* first: the I/O thread keeps draining the worker's events */
    atomic_store(&s->stop, 1);
    if (s->io_started) pthread_join(s->io, NULL);
    int linger = 1000;        /* what is queued for connected clients still goes out */
    if (s->router) zmq_setsockopt(s->router, ZMQ_LINGER, &linger, sizeof linger);
    if (s->router) zmq_close(s->router);
    if (s->events) zmq_close(s->events);
    cn_sessions_free(s);
    if (s->ctx) zmq_ctx_term(s->ctx);   /* ends the ZAP thread (ETERM) */
    if (s->zap_started) pthread_join(s->zap, NULL);
    cn_store_close(&s->store);
    free(s->allow);
    free(s);
    *sp = NULL;
}

const char *cn_server_endpoint(const cn_server *s) { return s->endpoint; }

int cn_server_wait(cn_server *s, const sigset_t *sigs)
{
    struct timespec tick = {0, 250 * 1000000};
    for (;;) {
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig > 0) {
            cn_log(CN_LOG_INFO, "signal %d: stopping (unfinished jobs stay journaled)", sig);
            return 0;
        }
        if (s->jobs && cn_jobs_device_lost(s->jobs)) break;
    }
    struct timespec grace = {0, 500 * 1000000};   /* the I/O thread sends the job's error */
    nanosleep(&grace, NULL);
    cn_log(CN_LOG_ERROR, "the %s device is unusable: exiting with status %d so that a new "
           "helper starts (unfinished jobs stay journaled)", s->cfg.runner->backend,
           CN_EXIT_DEVICE_LOST);
    return CN_EXIT_DEVICE_LOST;
}
