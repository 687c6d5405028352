/* SPDX-License-Identifier: MIT
 * cn_client connection life: socket (with CURVE), hello and welcome, heartbeats, silence
 * detection, reconnect with backoff and session resume. One owning thread; never realtime.
 */
#define _GNU_SOURCE
#include "client_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* From helper/server_curve.c's file format; kept here so clients need no server code. */
static int s_load_key(const char *path, char *pub, char *sec, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    int gp = 0, gs = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!strncmp(line, "public=", 7) && strlen(line + 7) == 40 && pub)
            memcpy(pub, line + 7, 41), gp = 1;
        if (!strncmp(line, "secret=", 7) && strlen(line + 7) == 40 && sec)
            memcpy(sec, line + 7, 41), gs = 1;
    }
    fclose(f);
    if ((pub && !gp) || (sec && !gs)) {
        snprintf(err, errlen, "key file %s has no %s key; make one with `continuo-helper "
                 "keygen`", path, pub && !gp ? "public" : "secret");
        return -1;
    }
    return 0;
}

/* CURVE: the helper's public key, and this client's pair (given, default file, or one-off). */
static int s_curve_keys(cn_client *c, const cn_client_config *cfg, char *err, size_t errlen)
{
    c->curve = 1;
    snprintf(c->server_key_path, sizeof c->server_key_path, "%s", cfg->server_key);
    if (s_load_key(cfg->server_key, c->server_pub, NULL, err, errlen)) return -1;
    char def[512];
    const char *mine = cfg->client_key;
    if (!mine && access(cn_default_client_key(def, sizeof def), R_OK) == 0) mine = def;
    if (mine) {
        snprintf(c->client_key_path, sizeof c->client_key_path, "%s", mine);
        return s_load_key(mine, c->client_pub, c->client_sec, err, errlen);
    }
    if (zmq_curve_keypair(c->client_pub, c->client_sec)) {
        snprintf(err, errlen, "cannot make a CURVE key pair");
        return -1;
    }
    return 0;
}

/* Why a helper may not have answered, with the files to check under CURVE. */
static void s_silence_message(const cn_client *c, char *err, size_t errlen)
{
    int n = snprintf(err, errlen, "helper at %s did not answer within %.1f s", c->endpoint,
                     c->timeout_ms / 1000.0);
    if (!c->curve || n < 0 || (size_t)n >= errlen) return;
    char def[512];
    if (c->client_key_path[0])
        snprintf(err + n, errlen - n, " (CURVE: is %.150s the helper's public key, and is the "
                 "public half of %.150s in its allow-list?)", c->server_key_path,
                 c->client_key_path);
    else
        snprintf(err + n, errlen - n, " (CURVE: is %.150s the helper's public key? This client "
                 "has no key pair of its own, so a helper with an allow-list refuses it: make "
                 "%.150s with `continuo-helper keygen` and list its .pub on the helper)",
                 c->server_key_path, cn_default_client_key(def, sizeof def));
}

double cn_client_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cn_client_socket(cn_client *c, char *err, size_t errlen)
{
    if (c->sock) zmq_close(c->sock);
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    if (!c->sock) {
        snprintf(err, errlen, "cannot make a socket: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    int zero = 0, ivl = 100, max = 2000;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL_MAX, &max, sizeof max);
    if (c->curve) {
        zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, c->server_pub, 40);
        zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, c->client_pub, 40);
        zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, c->client_sec, 40);
    }
    if (zmq_connect(c->sock, c->endpoint)) {
        snprintf(err, errlen, "cannot connect to %s: %s", c->endpoint,
                 zmq_strerror(zmq_errno()));
        return -1;
    }
    c->connected = 0;
    return 0;
}

int cn_client_send_hello(cn_client *c)
{
    cn_env env = CONTINUO__ENVELOPE__INIT;
    Continuo__Hello h = CONTINUO__HELLO__INIT;
    h.protocol_version = CN_PROTOCOL_VERSION;
    h.client_name = c->name;
    h.session = c->info.session;
    h.last_seq = c->last_seq;
    h.model_set = c->want_set;
    h.backend = c->want_backend;
    env.body_case = CONTINUO__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    env.request_id = c->hello_rid = ++c->next_rid;
    c->last_send = cn_client_now();
    return cn_proto_send(c->sock, NULL, 0, &env, NULL, 0);
}

static void s_noop(void *user, const cn_event *ev) { (void)user, (void)ev; }

int cn_client_open(cn_client **out, const cn_client_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    cn_client *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return -1; }
    if (cfg->endpoint) snprintf(c->endpoint, sizeof c->endpoint, "%s", cfg->endpoint);
    else cn_default_endpoint(c->endpoint, sizeof c->endpoint);
    snprintf(c->name, sizeof c->name, "%s", cfg->client_name ? cfg->client_name : "client");
    snprintf(c->want_set, sizeof c->want_set, "%s", cfg->model_set ? cfg->model_set : "");
    snprintf(c->want_backend, sizeof c->want_backend, "%s", cfg->backend ? cfg->backend : "");
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    c->hb_ms = cfg->heartbeat_ms;
    if (cfg->server_key && s_curve_keys(c, cfg, err, errlen)) goto fail;
    c->ctx = zmq_ctx_new();
    if (cn_client_socket(c, err, errlen) || cn_client_send_hello(c)) goto fail;
    double end = cn_client_now() + c->timeout_ms / 1000.0;
    while (!c->connected && !c->fatal && cn_client_now() < end) {
        char e2[CN_CLIENT_ERRLEN];
        if (cn_client_poll(c, 50, s_noop, NULL, e2, sizeof e2) < 0) break;
    }
    if (c->fatal) {
        snprintf(err, errlen, "%s", c->fatal_msg);
        goto fail;
    }
    if (!c->connected) {
        s_silence_message(c, err, errlen);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    cn_client_close(&c);
    return -1;
}

void cn_client_close(cn_client **cp)
{
    if (!cp || !*cp) return;
    cn_client *c = *cp;
    if (c->sock) zmq_close(c->sock);
    if (c->ctx) zmq_ctx_term(c->ctx);
    free(c);
    *cp = NULL;
}

const cn_helper_info *cn_client_info(const cn_client *c) { return &c->info; }

/* Heartbeats, silence detection and reconnects; called by every poll. */
static void s_liveness(cn_client *c, cn_event_fn fn, void *user)
{
    double now = cn_client_now(), hb = (c->hb_ms > 0 ? c->hb_ms : 1000) / 1000.0;
    if (c->connected && now - c->last_send >= hb) {
        cn_env env = CONTINUO__ENVELOPE__INIT;
        Continuo__Heartbeat h = CONTINUO__HEARTBEAT__INIT;
        env.body_case = CONTINUO__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &h;
        zmq_pollitem_t it = {c->sock, 0, ZMQ_POLLOUT, 0};
        if (zmq_poll(&it, 1, 0) == 1) cn_proto_send(c->sock, NULL, 0, &env, NULL, 0);
        c->last_send = now;
    }
    if (c->connected && now - c->last_recv > 3 * hb) {
        c->connected = 0;
        c->backoff = hb;
        c->next_hello = now;
        cn_event ev = {.type = CN_EV_DISCONNECTED, .composition = "", .node = "", .parent = "",
                       .message = "the helper went silent; reconnecting"};
        fn(user, &ev);
    }
    if (!c->connected && c->info.session[0] && now >= c->next_hello) {
        char err[CN_CLIENT_ERRLEN];
        if (!cn_client_socket(c, err, sizeof err)) cn_client_send_hello(c);
        c->next_hello = now + c->backoff;
        c->backoff = c->backoff * 2 > 8 ? 8 : c->backoff * 2;
    }
}

int cn_client_poll(cn_client *c, int timeout_ms, cn_event_fn fn, void *user, char *err,
                   size_t errlen)
{
    double end = cn_client_now() + (timeout_ms > 0 ? timeout_ms : 0) / 1000.0;
    int delivered = 0;
    for (;;) {
        if (c->fatal) {
            snprintf(err, errlen, "%s", c->fatal_msg);
            return -1;
        }
        double now = cn_client_now();
        int wait = (int)((end - now) * 1000);
        int hb = c->hb_ms > 0 ? c->hb_ms : 1000;
        if (wait > hb / 2) wait = hb / 2;
        if (wait < 0) wait = 0;
        zmq_pollitem_t it = {c->sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, wait);
        while (rc > 0) {
            cn_msg m;
            char e2[CN_CLIENT_ERRLEN];
            int r = cn_proto_recv(c->sock, 0, ZMQ_DONTWAIT, &m, e2, sizeof e2);
            if (r < 0) break;
            c->last_recv = cn_client_now();
            if (r > 0) continue;   /* an unreadable event: skipped, the session goes on */
            delivered += cn_client_dispatch(c, &m, fn, user);
            cn_proto_msg_free(&m);
        }
        s_liveness(c, fn, user);
        if (delivered || cn_client_now() >= end) return delivered;
    }
}

typedef struct s_wait {
    uint64_t id;
    int finished, failed;
    char *err;
    size_t errlen;
    cn_event_fn fn;
    void *user;
} s_wait;

static void s_wait_cb(void *user, const cn_event *ev)
{
    s_wait *w = user;
    if (w->fn) w->fn(w->user, ev);
    if (ev->request_id != w->id) return;
    if (ev->type == CN_EV_ERROR) {
        w->failed = 1;
        snprintf(w->err, w->errlen, "%s", ev->message);
    }
    if (ev->type == CN_EV_ERROR || ev->type == CN_EV_DONE || ev->type == CN_EV_TREE ||
        ev->type == CN_EV_AUDIO)
        w->finished = 1;
}

int cn_client_wait(cn_client *c, uint64_t id, int timeout_ms, cn_event_fn fn, void *user,
                   char *err, size_t errlen)
{
    s_wait w = {id, 0, 0, err, errlen, fn, user};
    double end = cn_client_now() + timeout_ms / 1000.0;
    while (!w.finished) {
        if (timeout_ms >= 0 && cn_client_now() >= end) {
            snprintf(err, errlen, "request %llu: no answer within %.1f s",
                     (unsigned long long)id, timeout_ms / 1000.0);
            return -1;
        }
        if (cn_client_poll(c, 100, s_wait_cb, &w, err, errlen) < 0) return -1;
    }
    return w.failed ? 1 : 0;
}
