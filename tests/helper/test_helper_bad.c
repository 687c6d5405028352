/* SPDX-License-Identifier: MIT
 * Bad input against a real helper: each gets an error event naming the value and the limit,
 * and the helper goes on serving (a good request after all of them succeeds). Covers wrong
 * protocol version, requests before hello, unknown types, malformed and oversized messages,
 * prompts too long/empty/NaN, unknown artist/genre/node/job, limits, and a full disk.
 */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cn_proto.h"
#include "htest.h"

static cn_check chk;

/* Expects request `id` to end with an error of `code` whose message contains `needle`. */
static void s_expect(cn_client *c, const char *what, uint64_t id, int code, const char *needle)
{
    ht_rec r;
    ht_rec_init(&r);
    int rc = ht_wait(c, id, &r, 5000);
    char msg[700];
    snprintf(msg, sizeof msg, "status %d, code %d (want %d): \"%s\"", rc, r.error_code, code,
             r.message);
    cn_check_true(&chk, what, rc == 1 && r.error_code == code && strstr(r.message, needle), msg);
    ht_rec_free(&r);
}

static uint64_t s_gen(cn_client *c, float *p, int64_t n, double rate, const char *artist,
                      const char *genre, double total, double seconds, int cands)
{
    char err[512];
    const char *g[1] = {genre};
    cn_generate_req r = {p, n, rate, artist, g, 1, "", total, seconds, {cands, 0, 0, 0, 1}};
    uint64_t id = cn_client_generate(c, &r, err, sizeof err);
    if (!id) fprintf(stderr, "generate not sent: %s\n", err);
    return id;
}

static fake_engine *g_fe;

typedef struct s_ids {
    uint64_t jobs[128];
    int n, busy;
    char message[512];
} s_ids;

static void s_collect(void *user, const cn_event *ev)
{
    s_ids *x = user;
    if (ev->type == CN_EV_ACCEPTED && x->n < 128) x->jobs[x->n++] = ev->job;
    if (ev->type == CN_EV_ERROR && ev->error_code == CN_ERR_BUSY) {
        x->busy++;
        snprintf(x->message, sizeof x->message, "%s", ev->message);
    }
}

/* One session may not queue more than 64 unfinished jobs; all are cancelled afterwards. */
static void s_flood(cn_client *c, const char *root)
{
    char err[512];
    s_ids x = {0};
    g_fe->step_us = 1000000;   /* no job may finish (and free a slot) during the flood */
    for (int i = 0; i < 66; i++) cn_client_rerun(c, root, NULL, err, sizeof err);
    double end = ht_now() + 60;   /* each accepted job is journalled (fsync): slow under load */
    while (x.n + x.busy < 66 && ht_now() < end) cn_client_poll(c, 20, s_collect, &x, err, 512);
    char msg[700];
    snprintf(msg, sizeof msg, "%d accepted, %d refused: \"%s\"", x.n, x.busy, x.message);
    cn_check_true(&chk, "a session may not queue more than 64 jobs", x.n == 64 && x.busy == 2 &&
                  strstr(x.message, "the limit is 64"), msg);
    for (int i = 0; i < x.n; i++) cn_client_cancel(c, x.jobs[i], err, sizeof err);
    g_fe->step_us = 0;
    end = ht_now() + 1.5;   /* let the cancels land before the next checks */
    while (ht_now() < end) cn_client_poll(c, 20, s_collect, &x, err, sizeof err);
}

static void s_values(cn_client *c)
{
    const int BAD = CN_ERR_BAD_VALUE, NF = CN_ERR_NOT_FOUND;
    int64_t n;
    float *p = ht_sine(0.1, 44100, &n);
    float *big = ht_sine(0.3, 44100, &n);
    s_expect(c, "prompt of 0.30 s (limit 0.21 s)", s_gen(c, big, n, 44100, "unknown", "country",
             1, 0.2, 1), BAD, "prompt is 0.30 s; the model takes at most 0.21 s");
    free(big);
    s_expect(c, "empty prompt", s_gen(c, p, 0, 44100, "unknown", "country", 1, 0.2, 1), BAD,
             "at least one top-level code");
    p[100] = NAN;
    s_expect(c, "NaN in the prompt", s_gen(c, p, 4410, 44100, "unknown", "country", 1, 0.2, 1),
             BAD, "prompt sample 100 is NaN");
    p[100] = 0;
    s_expect(c, "unknown artist", s_gen(c, p, 4410, 44100, "bach", "country", 1, 0.2, 1), BAD,
             "artist \"bach\"");
    s_expect(c, "unknown genre", s_gen(c, p, 4410, 44100, "unknown", "polka", 1, 0.2, 1), BAD,
             "genre \"polka\"");
    s_expect(c, "song too long for the model", s_gen(c, p, 4410, 44100, "unknown", "country",
             30, 0.2, 1), BAD, "song is 30.00 s; this model takes 0.25 s to under 2.00 s");
    s_expect(c, "song at the model's maximum", s_gen(c, p, 4410, 44100, "unknown", "country",
             2.0, 0.2, 1), BAD, "song is 2.00 s; this model takes 0.25 s to under 2.00 s");
    s_expect(c, "continuation past the song's end", s_gen(c, p, 4410, 44100, "unknown",
             "country", 0.5, 0.6, 1), BAD, "past the song's end at 0.50 s");
    s_expect(c, "too many candidates", s_gen(c, p, 4410, 44100, "unknown", "country", 1, 0.2,
             99), BAD, "99 candidates asked; this helper samples 1 to 16");
    s_expect(c, "prompt rate of 10 Hz", s_gen(c, p, 4410, 10, "unknown", "country", 1, 0.2, 1),
             BAD, "prompt rate 10 Hz");
    char err[512];
    s_expect(c, "unknown node", cn_client_continue(c, "c99.4", 0, 0.1, NULL, err, sizeof err),
             NF, "node \"c99.4\" is not in the store");
    s_expect(c, "unknown job", cn_client_cancel(c, 4242, err, sizeof err), NF,
             "job 4242 is not");
    s_expect(c, "unknown composition", cn_client_tree(c, "c77", err, sizeof err), NF,
             "composition \"c77\"");
    ht_rec r;
    ht_rec_init(&r);
    ht_wait(c, s_gen(c, p, 4410, 44100, "unknown", "country", 1, 0.2, 2), &r, 5000);
    char root[64];
    snprintf(root, sizeof root, "%.*s.0", (int)strcspn(r.nodes[0], "."), r.nodes[0]);
    s_expect(c, "choice out of range", cn_client_continue(c, root, 5, 0.1, NULL, err,
             sizeof err), BAD, "choice 5 of node");
    s_expect(c, "audio of a level not upsampled", cn_client_audio(c, root, 0, err, sizeof err),
             NF, "not upsampled to level 0");
    cn_client_sampling hot = {1, 50.0f, 0, 0, 0};
    s_expect(c, "temperature 50", cn_client_continue(c, root, 0, 0.1, &hot, err, sizeof err),
             BAD, "temperature 50 is out of range");
    s_flood(c, root);
    ht_rec_free(&r);
    free(p);
}

/* Raw DEALER traffic the client library would never send. */
static void s_raw(const char *endpoint)
{
    void *ctx = zmq_ctx_new(), *d = zmq_socket(ctx, ZMQ_DEALER);
    int t = 3000, zero = 0;
    zmq_setsockopt(d, ZMQ_RCVTIMEO, &t, sizeof t);
    zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(d, endpoint);
    cn_env e = CONTINUO__ENVELOPE__INIT;
    Continuo__Cancel k = CONTINUO__CANCEL__INIT;
    e.request_id = 5, e.body_case = CONTINUO__ENVELOPE__BODY_CANCEL, e.cancel = &k;
    struct { const char *what; int code; const char *needle; } want[5] = {
        {"request before hello", CN_ERR_NO_SESSION, "say hello first"},
        {"wrong protocol version", CN_ERR_VERSION, "client speaks protocol 99; this helper "
         "speaks 1"},
        {"garbage header", CN_ERR_MALFORMED, "not a Continuo envelope"},
        {"an event type sent as a request", CN_ERR_UNKNOWN_TYPE, "may not send \"progress\""},
        {"frame count mismatch", CN_ERR_MALFORMED, "declares 0 binary frames and 1 arrived"}};
    for (int i = 0; i < 5; i++) {
        if (i == 0) cn_proto_send(d, NULL, 0, &e, NULL, 0);
        if (i == 1) {
            Continuo__Hello h = CONTINUO__HELLO__INIT;
            h.protocol_version = 99;
            cn_env he = CONTINUO__ENVELOPE__INIT;
            he.body_case = CONTINUO__ENVELOPE__BODY_HELLO, he.hello = &h;
            cn_proto_send(d, NULL, 0, &he, NULL, 0);
        }
        if (i == 2) zmq_send(d, "\xff\xfe\xfd", 3, 0);
        if (i == 3) {   /* say hello properly first, then send an event type */
            Continuo__Hello h = CONTINUO__HELLO__INIT;
            h.protocol_version = 1;
            cn_env he = CONTINUO__ENVELOPE__INIT;
            he.body_case = CONTINUO__ENVELOPE__BODY_HELLO, he.hello = &h;
            cn_proto_send(d, NULL, 0, &he, NULL, 0);
            cn_msg w;
            char e2[256];
            if (!cn_proto_recv(d, 0, 0, &w, e2, sizeof e2)) cn_proto_msg_free(&w);
            Continuo__Progress pr = CONTINUO__PROGRESS__INIT;
            cn_env pe = CONTINUO__ENVELOPE__INIT;
            pe.body_case = CONTINUO__ENVELOPE__BODY_PROGRESS, pe.progress = &pr;
            cn_proto_send(d, NULL, 0, &pe, NULL, 0);
        }
        if (i == 4) {
            zmq_msg_t h;
            cn_proto_pack_header(&e, NULL, 0, &h);
            zmq_msg_send(&h, d, ZMQ_SNDMORE);
            zmq_send(d, "abcd", 4, 0);
        }
        cn_msg m;
        char err[512], msg[800];
        int rc, code = -1;
        do {   /* skip heartbeats */
            rc = cn_proto_recv(d, 0, 0, &m, err, sizeof err);
            if (rc) break;
            if (m.env->body_case != CONTINUO__ENVELOPE__BODY_ERROR) { cn_proto_msg_free(&m); continue; }
            code = m.env->error->code;
            snprintf(err, sizeof err, "%s", m.env->error->message);
            cn_proto_msg_free(&m);
            break;
        } while (1);
        snprintf(msg, sizeof msg, "code %d (want %d): \"%s\"", code, want[i].code, err);
        cn_check_true(&chk, want[i].what, code == want[i].code && strstr(err, want[i].needle),
                      msg);
    }
    /* Over ZMQ_MAXMSGSIZE (1 MiB here): libzmq drops the connection; the helper goes on. */
    static float huge[600000];
    Continuo__Generate g = CONTINUO__GENERATE__INIT;
    cn_env ge = CONTINUO__ENVELOPE__INIT;
    ge.body_case = CONTINUO__ENVELOPE__BODY_GENERATE, ge.generate = &g;
    cn_blob b = {CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, huge, 600000};
    cn_proto_send(d, NULL, 0, &ge, &b, 1);
    zmq_close(d);
    zmq_ctx_term(ctx);
}

int main(void)
{
    char dir[512], store[600], err[512];
    ht_tmpdir(dir, sizeof dir, "bad");
    snprintf(store, sizeof store, "%s/store", dir);
    fake_engine fe = {0};
    cn_runner run;
    fake_runner(&run, &fe);
    g_fe = &fe;
    cn_server_config extra = {0};
    extra.max_message_bytes = 1 << 20;
    cn_server *s = ht_server(&run, dir, store, &extra);
    if (!s) return 1;
    cn_client *c = ht_client(cn_server_endpoint(s), "bad");
    if (!c) return 1;
    s_values(c);
    s_raw(cn_server_endpoint(s));
    int64_t n;
    float *p = ht_sine(8, 44100, &n);   /* 1.4 MB: the client refuses before sending */
    const char *g[1] = {"country"};
    cn_generate_req r = {p, n, 44100, "unknown", g, 1, "", 1, 0.2, {1, 0, 0, 0, 1}};
    uint64_t id = cn_client_generate(c, &r, err, sizeof err);
    char msg[700];
    snprintf(msg, sizeof msg, "id %llu: \"%s\"", (unsigned long long)id, err);
    cn_check_true(&chk, "client refuses a prompt over the helper's message limit", id == 0 &&
                  strstr(err, "prompt is 1.4 MB; the helper takes at most 1.0 MB"), msg);
    free(p);
    /* Full disk: a file size limit makes every store write fail with EFBIG. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &lim);
    p = ht_sine(0.1, 44100, &n);
    s_expect(c, "full disk: the prompt cannot be stored", s_gen(c, p, n, 44100, "unknown",
             "country", 1, 0.2, 1), CN_ERR_STORE, "cannot write");
    setrlimit(RLIMIT_FSIZE, &old);
    ht_rec ok;
    ht_rec_init(&ok);
    int rc = ht_wait(c, s_gen(c, p, n, 44100, "unknown", "country", 1, 0.2, 2), &ok, 5000);
    snprintf(msg, sizeof msg, "status %d, %d candidates", rc, ok.candidates);
    cn_check_true(&chk, "after all of that the helper still serves a good request", rc == 0 &&
                  ok.candidates == 2, msg);
    cn_client_config want = {cn_server_endpoint(s), NULL, NULL, "picky", 2000, 0, "1b_lyrics",
                             "cuda"};
    cn_client *picky = NULL;
    rc = cn_client_open(&picky, &want, err, sizeof err);
    cn_check_true(&chk, "a client needing another model set and backend is refused at hello",
                  rc == -1 && strstr(err, "serves model set fake-test-double on none; the "
                  "client asked for 1b_lyrics on cuda"), err);
    cn_client *c2 = ht_client(cn_server_endpoint(s), "late");
    cn_check_true(&chk, "and a new client can still connect", c2 != NULL, "");
    ht_rec_free(&ok);
    free(p);
    cn_client_close(&c2);
    cn_client_close(&c);
    cn_server_stop(&s);
    return cn_check_finish(&chk);
}
