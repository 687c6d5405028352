/* SPDX-License-Identifier: MIT
 * Framing, bounds and encoding of Continuo messages (see cn_proto.h). Every read is bounded;
 * malformed input yields an error code and a message, never a crash or an assert.
 */
#include "cn_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Continuo's binary frames are little-endian; this host is not"
#endif

static int s_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

#define MALFORMED CONTINUO__ERROR_CODE__ERR_MALFORMED
#define TOO_LARGE CONTINUO__ERROR_CODE__ERR_TOO_LARGE

static int s_str(const char *s, size_t max, const char *what, char *err, size_t errlen)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n > max)
        return s_fail(err, errlen, TOO_LARGE, "%s is longer than %zu bytes (the limit)", what,
                      max);
    return 0;
}

static int s_strs(char **v, size_t n, size_t max_n, size_t max, const char *what, char *err,
                  size_t errlen)
{
    if (n > max_n)
        return s_fail(err, errlen, TOO_LARGE, "%zu %s given; the limit is %zu", n, what, max_n);
    for (size_t i = 0; i < n; i++) {
        int rc = s_str(v[i], max, what, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

#define CHECK(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)
#define ID(s, what) CHECK(s_str((s), CN_PROTO_MAX_ID, (what), err, errlen))
#define NAME(s, what) CHECK(s_str((s), CN_PROTO_MAX_NAME, (what), err, errlen))

static int s_check_requests(const cn_env *e, char *err, size_t errlen)
{
    switch (e->body_case) {
    case CONTINUO__ENVELOPE__BODY_HELLO:
        NAME(e->hello->client_name, "client name");
        ID(e->hello->session, "session id");
        NAME(e->hello->model_set, "model set");
        NAME(e->hello->backend, "backend");
        break;
    case CONTINUO__ENVELOPE__BODY_GENERATE:
        NAME(e->generate->artist, "artist");
        CHECK(s_strs(e->generate->genres, e->generate->n_genres, CN_PROTO_MAX_GENRES,
                     CN_PROTO_MAX_NAME, "genres", err, errlen));
        CHECK(s_str(e->generate->lyrics, CN_PROTO_MAX_LYRICS, "lyrics", err, errlen));
        break;
    case CONTINUO__ENVELOPE__BODY_CONTINUE_: ID(e->continue_->node, "node id"); break;
    case CONTINUO__ENVELOPE__BODY_RERUN: ID(e->rerun->node, "node id"); break;
    case CONTINUO__ENVELOPE__BODY_UPSAMPLE: ID(e->upsample->node, "node id"); break;
    case CONTINUO__ENVELOPE__BODY_TREE_REQUEST:
        ID(e->tree_request->composition, "composition id");
        break;
    case CONTINUO__ENVELOPE__BODY_AUDIO_REQUEST: ID(e->audio_request->node, "node id"); break;
    default: break;
    }
    return 0;
}

static int s_check_events(const cn_env *e, char *err, size_t errlen)
{
    switch (e->body_case) {
    case CONTINUO__ENVELOPE__BODY_WELCOME:
        ID(e->welcome->session, "session id");
        NAME(e->welcome->model_set, "model set");
        NAME(e->welcome->backend, "backend");
        if (e->welcome->n_hop > 3)
            return s_fail(err, errlen, MALFORMED, "welcome lists %zu hops; at most 3",
                          e->welcome->n_hop);
        break;
    case CONTINUO__ENVELOPE__BODY_ACCEPTED:
        ID(e->accepted->composition, "composition id");
        ID(e->accepted->node, "node id");
        break;
    case CONTINUO__ENVELOPE__BODY_CANDIDATE:
        ID(e->candidate->node, "node id");
        ID(e->candidate->parent, "parent id");
        break;
    case CONTINUO__ENVELOPE__BODY_WINDOW: ID(e->window->node, "node id"); break;
    case CONTINUO__ENVELOPE__BODY_DONE:
        CHECK(s_strs(e->done->nodes, e->done->n_nodes, 4096, CN_PROTO_MAX_ID, "node ids", err,
                     errlen));
        break;
    case CONTINUO__ENVELOPE__BODY_ERROR:
        CHECK(s_str(e->error->message, 4096, "error message", err, errlen));
        break;
    case CONTINUO__ENVELOPE__BODY_AUDIO: ID(e->audio->node, "node id"); break;
    case CONTINUO__ENVELOPE__BODY_TREE:
        for (size_t i = 0; i < e->tree->n_nodes; i++) {
            const Continuo__NodeInfo *n = e->tree->nodes[i];
            ID(n->id, "node id");
            ID(n->parent, "parent id");
            CHECK(s_strs(n->children, n->n_children, 65536, CN_PROTO_MAX_ID, "children", err,
                         errlen));
        }
        for (size_t i = 0; i < e->tree->n_compositions; i++) {
            const Continuo__CompositionInfo *c = e->tree->compositions[i];
            ID(c->id, "composition id");
            ID(c->root, "root id");
            NAME(c->artist, "artist");
            CHECK(s_strs(c->genres, c->n_genres, CN_PROTO_MAX_GENRES, CN_PROTO_MAX_NAME,
                         "genres", err, errlen));
            CHECK(s_str(c->lyrics, CN_PROTO_MAX_LYRICS, "lyrics", err, errlen));
        }
        break;
    default: break;
    }
    return 0;
}

static int s_check_blobs(const cn_env *e, const size_t *frame_lens, int n_frames, char *err,
                         size_t errlen)
{
    if (e->n_blobs > CN_PROTO_MAX_BLOBS || (size_t)n_frames != e->n_blobs)
        return s_fail(err, errlen, MALFORMED,
                      "header declares %zu binary frames and %d arrived; at most %d allowed",
                      e->n_blobs, n_frames, CN_PROTO_MAX_BLOBS);
    for (size_t i = 0; i < e->n_blobs; i++) {
        const Continuo__Blob *b = e->blobs[i];
        if (b->kind != CONTINUO__BLOB_KIND__BLOB_AUDIO_F32 &&
            b->kind != CONTINUO__BLOB_KIND__BLOB_CODES_I32)
            return s_fail(err, errlen, MALFORMED, "binary frame %zu has unknown kind %d", i,
                          (int)b->kind);
        if (b->count > SIZE_MAX / 4 || b->count * 4 != frame_lens[i])
            return s_fail(err, errlen, MALFORMED,
                          "binary frame %zu is %zu bytes; its header says %llu values (%llu "
                          "bytes)", i, frame_lens[i], (unsigned long long)b->count,
                          (unsigned long long)b->count * 4);
    }
    return 0;
}

int cn_proto_decode(cn_msg *m, const void *hdr, size_t hdr_len, const void *const *frames,
                    const size_t *frame_lens, int n_frames, char *err, size_t errlen)
{
    m->env = NULL;
    m->n_blobs = 0;
    for (int i = 0; i < CN_PROTO_MAX_BLOBS; i++) m->owned[i] = NULL;
    if (hdr_len == 0 || hdr_len > CN_PROTO_MAX_HEADER)
        return s_fail(err, errlen, hdr_len ? TOO_LARGE : MALFORMED,
                      "header frame is %zu bytes; it must be 1 to %u", hdr_len,
                      CN_PROTO_MAX_HEADER);
    cn_env *e = continuo__envelope__unpack(NULL, hdr_len, hdr);
    if (!e)
        return s_fail(err, errlen, MALFORMED, "header frame (%zu bytes) is not a Continuo "
                      "envelope", hdr_len);
    int rc = 0;
    if (e->body_case == CONTINUO__ENVELOPE__BODY__NOT_SET)
        rc = s_fail(err, errlen, CONTINUO__ERROR_CODE__ERR_UNKNOWN_TYPE,
                    "message has no body this helper knows (protocol version %u; this side "
                    "speaks %u)", e->version, CN_PROTOCOL_VERSION);
    if (!rc) rc = s_check_blobs(e, frame_lens, n_frames, err, errlen);
    if (!rc) rc = s_check_requests(e, err, errlen);
    if (!rc) rc = s_check_events(e, err, errlen);
    if (rc) {
        continuo__envelope__free_unpacked(e, NULL);
        return rc;
    }
    for (int i = 0; i < n_frames; i++) {
        m->blobs[i].kind = e->blobs[i]->kind;
        m->blobs[i].count = e->blobs[i]->count;
        m->blobs[i].data = frames[i];
    }
    m->n_blobs = n_frames;
    m->env = e;
    return 0;
}

/* Reads the remaining parts of a message into at most `max` zmq messages; drains the rest.
 * Returns the number of parts read, or -1 when there were more than max (all drained). */
static int s_recv_parts(void *sock, zmq_msg_t *parts, int max, int more)
{
    int n = 0, over = 0;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_t *p = n < max ? &parts[n] : &tmp;
        zmq_msg_init(p);
        if (zmq_msg_recv(p, sock, 0) < 0) { zmq_msg_close(p); break; }
        more = zmq_msg_more(p);
        if (n < max) n++;
        else { over = 1; zmq_msg_close(p); }
    }
    if (over) {
        for (int i = 0; i < n; i++) zmq_msg_close(&parts[i]);
        return -1;
    }
    return n;
}

int cn_proto_recv(void *sock, int router, int flags, cn_msg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    zmq_msg_t first;
    zmq_msg_init(&first);
    if (zmq_msg_recv(&first, sock, flags) < 0) { zmq_msg_close(&first); return -1; }
    int more = zmq_msg_more(&first);
    zmq_msg_t parts[1 + CN_PROTO_MAX_BLOBS];
    int n;
    if (router) {
        size_t len = zmq_msg_size(&first);
        if (len > CN_PROTO_MAX_IDENTITY) len = CN_PROTO_MAX_IDENTITY;
        memcpy(m->identity, zmq_msg_data(&first), len);
        m->identity_len = len;
        zmq_msg_close(&first);
        n = s_recv_parts(sock, parts, 1 + CN_PROTO_MAX_BLOBS, more);
    } else {
        zmq_msg_init(&parts[0]);
        zmq_msg_move(&parts[0], &first);
        zmq_msg_close(&first);
        n = s_recv_parts(sock, parts + 1, CN_PROTO_MAX_BLOBS, more);
        n = n < 0 ? -1 : n + 1;
    }
    if (n < 0)
        return s_fail(err, errlen, MALFORMED, "message has more than %d binary frames",
                      CN_PROTO_MAX_BLOBS);
    if (n == 0)
        return s_fail(err, errlen, MALFORMED, "message has no header frame");
    const void *frames[CN_PROTO_MAX_BLOBS];
    size_t lens[CN_PROTO_MAX_BLOBS];
    int rc = 0;
    for (int i = 1; i < n; i++) {
        lens[i - 1] = zmq_msg_size(&parts[i]);
        m->owned[i - 1] = malloc(lens[i - 1] ? lens[i - 1] : 1);
        if (!m->owned[i - 1]) {
            rc = s_fail(err, errlen, TOO_LARGE, "cannot hold a %zu-byte frame", lens[i - 1]);
            break;
        }
        memcpy(m->owned[i - 1], zmq_msg_data(&parts[i]), lens[i - 1]);
        frames[i - 1] = m->owned[i - 1];
    }
    void *owned[CN_PROTO_MAX_BLOBS];
    memcpy(owned, m->owned, sizeof owned);
    if (!rc)
        rc = cn_proto_decode(m, zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]), frames, lens,
                             n - 1, err, errlen);
    memcpy(m->owned, owned, sizeof owned);
    for (int i = 0; i < n; i++) zmq_msg_close(&parts[i]);
    if (rc) {
        for (int i = 0; i < CN_PROTO_MAX_BLOBS; i++) { free(m->owned[i]); m->owned[i] = NULL; }
        m->env = NULL;
        m->n_blobs = 0;
    }
    return rc;
}

void cn_proto_msg_free(cn_msg *m)
{
    if (!m) return;
    if (m->env) continuo__envelope__free_unpacked(m->env, NULL);
    m->env = NULL;
    for (int i = 0; i < CN_PROTO_MAX_BLOBS; i++) { free(m->owned[i]); m->owned[i] = NULL; }
    m->n_blobs = 0;
}

int cn_proto_pack_header(cn_env *env, const cn_blob *blobs, int n_blobs, zmq_msg_t *out)
{
    if (n_blobs < 0 || n_blobs > CN_PROTO_MAX_BLOBS) { errno = EINVAL; return -1; }
    Continuo__Blob bv[CN_PROTO_MAX_BLOBS];
    Continuo__Blob *bp[CN_PROTO_MAX_BLOBS];
    for (int i = 0; i < n_blobs; i++) {
        continuo__blob__init(&bv[i]);
        bv[i].kind = blobs[i].kind;
        bv[i].count = blobs[i].count;
        bp[i] = &bv[i];
    }
    size_t old_n = env->n_blobs;   /* a decoded envelope owns its blobs: put them back */
    Continuo__Blob **old = env->blobs;
    env->version = CN_PROTOCOL_VERSION;
    env->n_blobs = (size_t)n_blobs;
    env->blobs = n_blobs ? bp : NULL;
    size_t len = continuo__envelope__get_packed_size(env);
    int rc = zmq_msg_init_size(out, len);
    if (rc == 0) continuo__envelope__pack(env, zmq_msg_data(out));
    env->n_blobs = old_n;
    env->blobs = old;
    return rc;
}

int cn_proto_send(void *sock, const void *identity, size_t identity_len, cn_env *env,
                  const cn_blob *blobs, int n_blobs)
{
    zmq_msg_t hdr;
    if (cn_proto_pack_header(env, blobs, n_blobs, &hdr)) return -1;
    if (identity && zmq_send(sock, identity, identity_len, ZMQ_SNDMORE) < 0) {
        zmq_msg_close(&hdr);
        return -1;
    }
    if (zmq_msg_send(&hdr, sock, n_blobs ? ZMQ_SNDMORE : 0) < 0) {
        zmq_msg_close(&hdr);
        return -1;
    }
    for (int i = 0; i < n_blobs; i++) {
        size_t bytes = (size_t)blobs[i].count * 4;
        if (zmq_send(sock, bytes ? blobs[i].data : "", bytes, i + 1 < n_blobs ? ZMQ_SNDMORE : 0)
            < 0)
            return -1;
    }
    return 0;
}

const char *cn_proto_body_name(int c)
{
    switch (c) {
    case CONTINUO__ENVELOPE__BODY_HELLO: return "hello";
    case CONTINUO__ENVELOPE__BODY_GENERATE: return "generate";
    case CONTINUO__ENVELOPE__BODY_CONTINUE_: return "continue";
    case CONTINUO__ENVELOPE__BODY_RERUN: return "rerun";
    case CONTINUO__ENVELOPE__BODY_UPSAMPLE: return "upsample";
    case CONTINUO__ENVELOPE__BODY_CANCEL: return "cancel";
    case CONTINUO__ENVELOPE__BODY_TREE_REQUEST: return "tree";
    case CONTINUO__ENVELOPE__BODY_AUDIO_REQUEST: return "audio";
    case CONTINUO__ENVELOPE__BODY_HEARTBEAT: return "heartbeat";
    case CONTINUO__ENVELOPE__BODY_WELCOME: return "welcome";
    case CONTINUO__ENVELOPE__BODY_ACCEPTED: return "accepted";
    case CONTINUO__ENVELOPE__BODY_PROGRESS: return "progress";
    case CONTINUO__ENVELOPE__BODY_PREVIEW: return "preview";
    case CONTINUO__ENVELOPE__BODY_CANDIDATE: return "candidate";
    case CONTINUO__ENVELOPE__BODY_WINDOW: return "window";
    case CONTINUO__ENVELOPE__BODY_DONE: return "done";
    case CONTINUO__ENVELOPE__BODY_ERROR: return "error";
    case CONTINUO__ENVELOPE__BODY_TREE: return "tree";
    case CONTINUO__ENVELOPE__BODY_AUDIO: return "audio";
    default: return "unknown";
    }
}
