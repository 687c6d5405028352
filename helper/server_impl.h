/* SPDX-License-Identifier: MIT
 * The server's private state, shared by server*.c only. Everything here belongs to the I/O
 * thread, except what the ZAP thread reads (allow-list, set before it starts).
 */
#ifndef CN_SERVER_IMPL_H
#define CN_SERVER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "cn_proto.h"
#include "server.h"
#include "store.h"

#define CN_SESSION_MAX_JOBS 64      /* unfinished jobs one session may have */

typedef struct cn_event_rec {
    uint64_t seq;
    zmq_msg_t parts[1 + CN_PROTO_MAX_BLOBS];
    int n;
    size_t bytes;
} cn_event_rec;

typedef struct cn_session {
    char id[64];
    char name[CN_PROTO_MAX_NAME + 1];
    unsigned char rid[CN_PROTO_MAX_IDENTITY];
    size_t rid_len;
    int connected;
    int active_jobs;             /* accepted and not yet done, failed or cancelled */
    double last_seen;
    uint64_t seq;
    cn_event_rec *log;           /* replay log, oldest first */
    int n_log, cap_log;
    size_t log_bytes;
} cn_session;

struct cn_server {
    cn_server_config cfg;
    char endpoint[512];
    void *ctx;
    void *router;
    void *events;                /* PAIR from the worker */
    cn_store *store;
    cn_jobs *jobs;
    cn_engine_info info;
    cn_session *sessions;
    int n_sessions, cap_sessions;
    pthread_t io, zap;
    void *zap_sock;              /* the ZAP thread's REP socket */
    int io_started, zap_started;
    atomic_int stop;
    char (*allow)[41];           /* CURVE allow-list (Z85 public keys) */
    int n_allow;
    double last_heartbeat;
};

double cn_server_now(void);

/* Sessions (server_session.c). */
cn_session *cn_session_by_rid(cn_server *s, const unsigned char *rid, size_t len);
cn_session *cn_session_by_id(cn_server *s, const char *id);
cn_session *cn_session_new(cn_server *s, const char *id);
/* Packs env with the next seq, keeps it in the replay log and sends it if connected. */
void cn_session_event(cn_server *s, cn_session *ss, uint64_t request_id, cn_env *env,
                      const cn_blob *blobs, int n);
void cn_session_replay(cn_server *s, cn_session *ss, uint64_t after);
void cn_session_error(cn_server *s, cn_session *ss, uint64_t request_id, uint64_t job,
                      int code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* An error straight to a routing id (no session yet, or an unreadable message). */
void cn_server_error_to(cn_server *s, const unsigned char *rid, size_t len,
                        uint64_t request_id, int code, const char *msg);
void cn_sessions_free(cn_server *s);

/* Requests (server_requests.c): each validates and answers with events. */
void cn_server_request(cn_server *s, cn_session *ss, cn_msg *m);

/* CURVE and ZAP (server_curve.c). */
int cn_server_curve_setup(cn_server *s, char *err, size_t errlen);

#endif
