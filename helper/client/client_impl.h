/* SPDX-License-Identifier: MIT
 * cn_client's private state, shared by client*.c only.
 */
#ifndef CN_CLIENT_IMPL_H
#define CN_CLIENT_IMPL_H

#include "client.h"
#include "cn_proto.h"

struct cn_client {
    void *ctx, *sock;
    char endpoint[512];
    char name[CN_PROTO_MAX_NAME + 1];
    char want_set[CN_PROTO_MAX_NAME + 1], want_backend[CN_PROTO_MAX_NAME + 1];
    int curve;
    char server_pub[41], client_pub[41], client_sec[41];
    char server_key_path[512], client_key_path[512];   /* "" for a one-off client pair */
    cn_helper_info info;
    int hb_ms, timeout_ms;
    uint64_t next_rid, hello_rid, last_seq;
    double last_recv, last_send, next_hello, backoff;
    int connected;                /* welcome received on the current socket */
    int fatal;                    /* the helper refused the session */
    char fatal_msg[CN_CLIENT_ERRLEN];
};

double cn_client_now(void);
int cn_client_socket(cn_client *c, char *err, size_t errlen);
int cn_client_send_hello(cn_client *c);
/* Sends a request; returns its id or 0 with err. */
uint64_t cn_client_send(cn_client *c, cn_env *env, const cn_blob *blobs, int n, char *err,
                        size_t errlen);
/* Turns a message into an event and calls fn; returns 1 if an event was delivered. */
int cn_client_dispatch(cn_client *c, cn_msg *m, cn_event_fn fn, void *user);

#endif
