/* SPDX-License-Identifier: MIT
 * Every Continuo message round-trips DEALER -> ROUTER and ROUTER -> DEALER over inproc://
 * unchanged (header fields and binary frames), and malformed multipart messages get the right
 * error code with a message while the socket stays usable.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cn_proto.h"

static cn_check chk;
static void *g_dealer, *g_router;

/* Sends env one way and checks the receiver gets the same packed header and frames. */
static void s_roundtrip(const char *what, cn_env *env, const cn_blob *b, int n, int to_router)
{
    char err[512], msg[600];
    zmq_msg_t want;
    void *tx = to_router ? g_dealer : g_router, *rx = to_router ? g_router : g_dealer;
    static unsigned char rid[CN_PROTO_MAX_IDENTITY];
    static size_t rid_len;
    int rc = cn_proto_send(tx, to_router ? NULL : rid, rid_len, env, b, n);
    cn_proto_pack_header(env, b, n, &want);
    cn_msg m;
    if (!rc) rc = cn_proto_recv(rx, to_router, 0, &m, err, sizeof err);
    else snprintf(err, sizeof err, "send failed");
    if (rc) {
        cn_check_true(&chk, what, 0, err);
        zmq_msg_close(&want);
        return;
    }
    if (to_router) { memcpy(rid, m.identity, m.identity_len); rid_len = m.identity_len; }
    zmq_msg_t got;
    cn_proto_pack_header(m.env, m.blobs, m.n_blobs, &got);
    int same = zmq_msg_size(&got) == zmq_msg_size(&want) &&
               !memcmp(zmq_msg_data(&got), zmq_msg_data(&want), zmq_msg_size(&want)) &&
               m.n_blobs == n;
    for (int i = 0; same && i < n; i++)
        same = m.blobs[i].count == b[i].count && m.blobs[i].kind == b[i].kind &&
               !memcmp(m.blobs[i].data, b[i].data, b[i].count * 4);
    snprintf(msg, sizeof msg, "%s, header %zu bytes, %d binary frames, request %llu",
             cn_proto_body_name(m.env->body_case), zmq_msg_size(&want), n,
             (unsigned long long)m.env->request_id);
    cn_check_true(&chk, what, same && m.env->request_id == env->request_id, msg);
    zmq_msg_close(&got);
    zmq_msg_close(&want);
    cn_proto_msg_free(&m);
}

static void s_requests(const cn_blob *audio)
{
    cn_env e = CONTINUO__ENVELOPE__INIT;
    e.request_id = 7;
    char *genres[2] = {"country", "blues"};
    Continuo__Hello h = CONTINUO__HELLO__INIT;
    h.protocol_version = 1, h.client_name = "test", h.session = "s1", h.last_seq = 99;
    e.body_case = CONTINUO__ENVELOPE__BODY_HELLO, e.hello = &h;
    s_roundtrip("hello round-trips", &e, NULL, 0, 1);
    Continuo__Sampling s = CONTINUO__SAMPLING__INIT;
    s.n = 3, s.temperature = 0.9f, s.top_k = 5, s.top_p = 0.5f, s.seed = 1234567890123ULL;
    Continuo__Generate g = CONTINUO__GENERATE__INIT;
    g.prompt_rate = 48000, g.artist = "alan_jackson", g.n_genres = 2, g.genres = genres;
    g.lyrics = "line one\nline two", g.total_seconds = 180, g.seconds = 4, g.sampling = &s;
    e.body_case = CONTINUO__ENVELOPE__BODY_GENERATE, e.generate = &g;
    s_roundtrip("generate + audio frame round-trips", &e, audio, 1, 1);
    Continuo__Continue c = CONTINUO__CONTINUE__INIT;
    c.node = "c1.3", c.choice = -1, c.seconds = 2.5, c.sampling = &s;
    e.body_case = CONTINUO__ENVELOPE__BODY_CONTINUE_, e.continue_ = &c;
    s_roundtrip("continue round-trips", &e, NULL, 0, 1);
    Continuo__Rerun r = CONTINUO__RERUN__INIT;
    r.node = "c1.0";
    e.body_case = CONTINUO__ENVELOPE__BODY_RERUN, e.rerun = &r;
    s_roundtrip("rerun round-trips", &e, NULL, 0, 1);
    Continuo__Upsample u = CONTINUO__UPSAMPLE__INIT;
    u.node = "c2.9", u.level = 0;
    e.body_case = CONTINUO__ENVELOPE__BODY_UPSAMPLE, e.upsample = &u;
    s_roundtrip("upsample round-trips", &e, NULL, 0, 1);
    Continuo__Cancel k = CONTINUO__CANCEL__INIT;
    k.job = 77;
    e.body_case = CONTINUO__ENVELOPE__BODY_CANCEL, e.cancel = &k;
    s_roundtrip("cancel round-trips", &e, NULL, 0, 1);
    Continuo__TreeRequest t = CONTINUO__TREE_REQUEST__INIT;
    t.composition = "c3";
    e.body_case = CONTINUO__ENVELOPE__BODY_TREE_REQUEST, e.tree_request = &t;
    s_roundtrip("tree request round-trips", &e, NULL, 0, 1);
    Continuo__AudioRequest a = CONTINUO__AUDIO_REQUEST__INIT;
    a.node = "c3.1", a.level = 2;
    e.body_case = CONTINUO__ENVELOPE__BODY_AUDIO_REQUEST, e.audio_request = &a;
    s_roundtrip("audio request round-trips", &e, NULL, 0, 1);
    Continuo__Heartbeat hb = CONTINUO__HEARTBEAT__INIT;
    e.body_case = CONTINUO__ENVELOPE__BODY_HEARTBEAT, e.heartbeat = &hb;
    s_roundtrip("heartbeat round-trips", &e, NULL, 0, 1);
}

static void s_events(const cn_blob *audio, const cn_blob *codes)
{
    cn_env e = CONTINUO__ENVELOPE__INIT;
    e.request_id = 8, e.seq = 1700000000000001ULL;
    uint32_t hop[3] = {8, 32, 128};
    Continuo__Welcome w = CONTINUO__WELCOME__INIT;
    w.protocol_version = 1, w.session = "s1", w.model_set = "5b_lyrics", w.backend = "cpu";
    w.max_message_bytes = 1 << 28, w.max_candidates = 16, w.max_prompt_seconds = 23.8;
    w.min_total_seconds = 60, w.max_total_seconds = 600, w.sample_rate = 44100;
    w.n_hop = 3, w.hop = hop, w.has_lyrics = 1, w.heartbeat_ms = 1000, w.resumed_from = 5;
    e.body_case = CONTINUO__ENVELOPE__BODY_WELCOME, e.welcome = &w;
    s_roundtrip("welcome round-trips", &e, NULL, 0, 0);
    Continuo__Accepted ac = CONTINUO__ACCEPTED__INIT;
    ac.job = 3, ac.queue_position = 2, ac.composition = "c1", ac.node = "c1.0";
    e.body_case = CONTINUO__ENVELOPE__BODY_ACCEPTED, e.accepted = &ac;
    s_roundtrip("accepted round-trips", &e, NULL, 0, 0);
    Continuo__Progress p = CONTINUO__PROGRESS__INIT;
    p.job = 3, p.fraction = 0.25, p.tokens_per_s = 812.5, p.eta_s = 31;
    e.body_case = CONTINUO__ENVELOPE__BODY_PROGRESS, e.progress = &p;
    s_roundtrip("progress round-trips", &e, NULL, 0, 0);
    Continuo__Preview pv = CONTINUO__PREVIEW__INIT;
    pv.job = 3, pv.candidate = 1, pv.n_candidates = 3, pv.sample_rate = 44100;
    e.body_case = CONTINUO__ENVELOPE__BODY_PREVIEW, e.preview = &pv;
    s_roundtrip("preview + audio round-trips", &e, audio, 1, 0);
    Continuo__Candidate cd = CONTINUO__CANDIDATE__INIT;
    cd.job = 3, cd.index = 2, cd.node = "c1.3", cd.parent = "c1.0", cd.sample_rate = 44100;
    cd.offset_samples = 4352;
    cn_blob two[2] = {*audio, *codes};
    e.body_case = CONTINUO__ENVELOPE__BODY_CANDIDATE, e.candidate = &cd;
    s_roundtrip("candidate + audio + codes round-trips", &e, two, 2, 0);
    Continuo__Window wi = CONTINUO__WINDOW__INIT;
    wi.job = 4, wi.node = "c1.3", wi.level = 1, wi.index = 5, wi.count = 9;
    wi.start_sample = 81920, wi.sample_rate = 44100;
    e.body_case = CONTINUO__ENVELOPE__BODY_WINDOW, e.window = &wi;
    s_roundtrip("window + audio + codes round-trips", &e, two, 2, 0);
    char *nodes[2] = {"c1.1", "c1.2"};
    Continuo__Done d = CONTINUO__DONE__INIT;
    d.job = 3, d.n_nodes = 2, d.nodes = nodes;
    e.body_case = CONTINUO__ENVELOPE__BODY_DONE, e.done = &d;
    s_roundtrip("done round-trips", &e, NULL, 0, 0);
    Continuo__Error er = CONTINUO__ERROR__INIT;
    er.code = CONTINUO__ERROR_CODE__ERR_BAD_VALUE, er.message = "song is 30.0 s", er.job = 3;
    e.body_case = CONTINUO__ENVELOPE__BODY_ERROR, e.error = &er;
    s_roundtrip("error round-trips", &e, NULL, 0, 0);
    char *kids[2] = {"c1.1", "c1.2"}, *genres[1] = {"country"};
    Continuo__NodeInfo ni = CONTINUO__NODE_INFO__INIT, *np = &ni;
    ni.id = "c1.0", ni.parent = "", ni.n_children = 2, ni.children = kids, ni.n_codes = 34;
    ni.seconds = 0.098, ni.levels = 4, ni.windows_done = 3;
    Continuo__CompositionInfo ci = CONTINUO__COMPOSITION_INFO__INIT, *cp = &ci;
    ci.id = "c1", ci.artist = "a", ci.n_genres = 1, ci.genres = genres, ci.lyrics = "l";
    ci.total_seconds = 1, ci.root = "c1.0";
    Continuo__Tree tr = CONTINUO__TREE__INIT;
    tr.n_nodes = 1, tr.nodes = &np, tr.n_compositions = 1, tr.compositions = &cp;
    e.body_case = CONTINUO__ENVELOPE__BODY_TREE, e.tree = &tr;
    s_roundtrip("tree round-trips", &e, NULL, 0, 0);
    Continuo__Audio au = CONTINUO__AUDIO__INIT;
    au.node = "c1.3", au.level = 0, au.sample_rate = 44100;
    e.body_case = CONTINUO__ENVELOPE__BODY_AUDIO, e.audio = &au;
    s_roundtrip("audio + frame round-trips", &e, audio, 1, 0);
}

/* Sends raw frames from the dealer and expects code from cn_proto_recv on the router. */
static void s_bad(const char *what, const void *const *f, const size_t *len, int n, int code)
{
    for (int i = 0; i < n; i++) zmq_send(g_dealer, f[i], len[i], i + 1 < n ? ZMQ_SNDMORE : 0);
    cn_msg m;
    char err[512] = "", msg[700];
    int rc = cn_proto_recv(g_router, 1, 0, &m, err, sizeof err);
    snprintf(msg, sizeof msg, "code %d (want %d): %s", rc, code, err);
    cn_check_true(&chk, what, rc == code && err[0], msg);
    if (rc == 0) cn_proto_msg_free(&m);
}

static size_t s_pack(cn_env *e, int n_blobs, int kind, uint64_t count, unsigned char *buf)
{
    Continuo__Blob b = CONTINUO__BLOB__INIT, *bp[4] = {&b, &b, &b, &b};
    b.kind = kind;
    b.count = count;
    e->n_blobs = (size_t)n_blobs;
    e->blobs = bp;
    size_t n = continuo__envelope__pack(e, buf);
    e->n_blobs = 0;
    e->blobs = NULL;
    return n;
}

static void s_malformed(void)
{
    static unsigned char hdr[1 << 21];
    const int MAL = CONTINUO__ERROR_CODE__ERR_MALFORMED, BIG = CONTINUO__ERROR_CODE__ERR_TOO_LARGE;
    const void *f[5];
    size_t l[5];
    f[0] = "", l[0] = 0;
    s_bad("empty header frame is malformed", f, l, 1, MAL);
    f[0] = "\xff\xff\xff\xff\x0f", l[0] = 5;
    s_bad("garbage header is malformed", f, l, 1, MAL);
    cn_env e = CONTINUO__ENVELOPE__INIT;
    e.version = 1;
    f[0] = hdr, l[0] = s_pack(&e, 0, 0, 0, hdr);
    s_bad("envelope without a body is an unknown type", f, l, 1,
          CONTINUO__ERROR_CODE__ERR_UNKNOWN_TYPE);
    /* field 99 (a message type from the future) with an empty body */
    unsigned char fut[8] = {0x08, 0x01, 0x9a, 0x06, 0x00};
    f[0] = fut, l[0] = 5;
    s_bad("unknown message type (field 99) is refused", f, l, 1,
          CONTINUO__ERROR_CODE__ERR_UNKNOWN_TYPE);
    Continuo__Rerun r = CONTINUO__RERUN__INIT;
    r.node = "c1.0";
    e.body_case = CONTINUO__ENVELOPE__BODY_RERUN, e.rerun = &r;
    f[0] = hdr, l[0] = s_pack(&e, 1, 1, 4, hdr);
    s_bad("declared frame missing is malformed", f, l, 1, MAL);
    f[1] = "0123456789", l[1] = 10;
    s_bad("frame of 10 bytes declared as 4 floats is malformed", f, l, 2, MAL);
    f[0] = hdr, l[0] = s_pack(&e, 1, 7, 4, hdr);
    f[1] = "0123456789abcdef", l[1] = 16;
    s_bad("unknown binary kind 7 is malformed", f, l, 2, MAL);
    f[0] = hdr, l[0] = s_pack(&e, 0, 0, 0, hdr);
    f[1] = f[2] = f[3] = "abcd", l[1] = l[2] = l[3] = 4;
    s_bad("four binary frames (limit 2) is malformed", f, l, 4, MAL);
    char longname[400];
    memset(longname, 'x', sizeof longname - 1);
    longname[399] = 0;
    r.node = longname;
    f[0] = hdr, l[0] = s_pack(&e, 0, 0, 0, hdr);
    s_bad("a 399-byte node id (limit 128) is too large", f, l, 1, BIG);
    Continuo__Generate g = CONTINUO__GENERATE__INIT;
    char *genres[17];
    for (int i = 0; i < 17; i++) genres[i] = "rock";
    g.n_genres = 17, g.genres = genres;
    e.body_case = CONTINUO__ENVELOPE__BODY_GENERATE, e.generate = &g;
    f[0] = hdr, l[0] = s_pack(&e, 0, 0, 0, hdr);
    s_bad("17 genres (limit 16) is too large", f, l, 1, BIG);
    static char lyrics[(1 << 20) + 100];
    memset(lyrics, 'a', sizeof lyrics - 1);
    g.n_genres = 0, g.lyrics = lyrics;
    f[0] = hdr, l[0] = s_pack(&e, 0, 0, 0, hdr);
    s_bad("a header over 1 MiB is too large", f, l, 1, BIG);
    lyrics[70000] = 0;
    f[0] = hdr, l[0] = s_pack(&e, 0, 0, 0, hdr);
    s_bad("70000 bytes of lyrics (limit 65536) is too large", f, l, 1, BIG);
    /* and the socket still carries good messages */
    Continuo__Cancel k = CONTINUO__CANCEL__INIT;
    k.job = 5;
    cn_env ok = CONTINUO__ENVELOPE__INIT;
    ok.request_id = 11, ok.body_case = CONTINUO__ENVELOPE__BODY_CANCEL, ok.cancel = &k;
    s_roundtrip("a good message after the bad ones still round-trips", &ok, NULL, 0, 1);
}

int main(void)
{
    void *ctx = zmq_ctx_new();
    g_router = zmq_socket(ctx, ZMQ_ROUTER);
    g_dealer = zmq_socket(ctx, ZMQ_DEALER);
    zmq_bind(g_router, "inproc://proto-test");
    zmq_connect(g_dealer, "inproc://proto-test");
    static float samples[44100];
    static int32_t codes[1000];
    for (int i = 0; i < 44100; i++) samples[i] = (float)i / 44100.0f - 0.5f;
    for (int i = 0; i < 1000; i++) codes[i] = i * 7 % 2048;
    cn_blob audio = {CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, samples, 44100};
    cn_blob cds = {CONTINUO__BLOB_KIND__BLOB_CODES_I32, codes, 1000};
    s_requests(&audio);
    s_events(&audio, &cds);
    s_malformed();
    zmq_close(g_dealer);
    zmq_close(g_router);
    zmq_ctx_term(ctx);
    return cn_check_finish(&chk);
}
