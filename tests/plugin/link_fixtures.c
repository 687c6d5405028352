/* SPDX-License-Identifier: MIT
 * The link tests' helpers: the real server (CURVE) over the engine test double, and a bare
 * ROUTER that refuses every hello with a protocol-version error. Test code only.
 */
#define _GNU_SOURCE
#include "link_fixtures.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "cn_proto.h"
#include "htest.h"

struct lf_helper {
    cn_server *server;
    fake_engine fe;
    cn_runner run;
    void *ctx, *sock;
    pthread_t thread;
    volatile int stop;
    char endpoint[600];
};

lf_helper *lf_curve_helper(const char *dir, char *err, size_t errlen)
{
    char base[700], key[800], store[700], allow[700];
    snprintf(allow, sizeof allow, "%s/allowed", dir);
    mkdir(allow, 0700);
    snprintf(base, sizeof base, "%s/allowed/client", dir);   /* this client's pair, listed */
    if (cn_curve_keygen(base, err, errlen))
        return NULL;
    snprintf(base, sizeof base, "%s/helper", dir);
    snprintf(key, sizeof key, "%s/helper.key", dir);
    snprintf(store, sizeof store, "%s/store", dir);
    if (cn_curve_keygen(base, err, errlen))
        return NULL;
    snprintf(base, sizeof base, "%s/other", dir);
    if (cn_curve_keygen(base, err, errlen))
        return NULL;
    lf_helper *h = calloc(1, sizeof *h);
    fake_runner(&h->run, &h->fe);
    cn_server_config extra = { 0 };
    extra.endpoint = "tcp://127.0.0.1:0";
    extra.curve_secret = key;
    extra.allow = allow;
    h->server = ht_server(&h->run, dir, store, &extra);
    if (!h->server) {
        snprintf(err, errlen, "the CURVE helper did not start");
        free(h);
        return NULL;
    }
    snprintf(h->endpoint, sizeof h->endpoint, "%s", cn_server_endpoint(h->server));
    return h;
}

static void s_refuse(lf_helper *h, const cn_msg *m)
{
    Continuo__Error e = CONTINUO__ERROR__INIT;
    e.code = CONTINUO__ERROR_CODE__ERR_VERSION;
    e.message = "client speaks protocol 1; this helper speaks 99";
    cn_env env = CONTINUO__ENVELOPE__INIT;
    env.request_id = m->env->request_id;
    env.body_case = CONTINUO__ENVELOPE__BODY_ERROR;
    env.error = &e;
    cn_proto_send(h->sock, m->identity, m->identity_len, &env, NULL, 0);
}

static void *s_other_main(void *arg)
{
    lf_helper *h = arg;
    while (!h->stop) {
        zmq_pollitem_t it = { h->sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&it, 1, 50) <= 0)
            continue;
        cn_msg m;
        char err[256];
        if (cn_proto_recv(h->sock, 1, ZMQ_DONTWAIT, &m, err, sizeof err))
            continue;
        if (m.env->body_case == CONTINUO__ENVELOPE__BODY_HELLO)
            s_refuse(h, &m);
        cn_proto_msg_free(&m);
    }
    return NULL;
}

lf_helper *lf_other_version_helper(const char *dir, char *err, size_t errlen)
{
    lf_helper *h = calloc(1, sizeof *h);
    snprintf(h->endpoint, sizeof h->endpoint, "ipc://%s/other.sock", dir);
    h->ctx = zmq_ctx_new();
    h->sock = zmq_socket(h->ctx, ZMQ_ROUTER);
    if (zmq_bind(h->sock, h->endpoint) ||
        pthread_create(&h->thread, NULL, s_other_main, h)) {
        snprintf(err, errlen, "cannot listen at %s: %s", h->endpoint, zmq_strerror(errno));
        zmq_close(h->sock);
        zmq_ctx_term(h->ctx);
        free(h);
        return NULL;
    }
    return h;
}

const char *lf_tmpdir(char *buf, size_t len)
{
    return ht_tmpdir(buf, len, "plugin-link");
}

const char *lf_endpoint(const lf_helper *h)
{
    return h->endpoint;
}

void lf_stop(lf_helper *h)
{
    if (!h)
        return;
    if (h->server)
        cn_server_stop(&h->server);
    if (h->sock) {
        h->stop = 1;
        pthread_join(h->thread, NULL);
        zmq_close(h->sock);
        zmq_ctx_term(h->ctx);
    }
    free(h);
}
