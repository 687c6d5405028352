/* SPDX-License-Identifier: MIT
 * The one place Continuo messages are framed, bounded, versioned, encoded and decoded: a
 * header frame (continuo.proto Envelope) plus binary frames. Never trusts a byte it read.
 */
#ifndef CN_PROTO_H
#define CN_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "continuo.pb-c.h"

#define CN_PROTOCOL_VERSION 1
#define CN_PROTO_MAX_BLOBS 2             /* binary frames after the header */
#define CN_PROTO_MAX_HEADER (1u << 20)   /* header frame bytes */
#define CN_PROTO_MAX_ID 128              /* node, composition and session ids */
#define CN_PROTO_MAX_NAME 256            /* artist, genre, client name */
#define CN_PROTO_MAX_GENRES 16
#define CN_PROTO_MAX_LYRICS (64 * 1024)
#define CN_PROTO_MAX_IDENTITY 255        /* ZeroMQ routing id */

typedef Continuo__Envelope cn_env;

/* One binary frame: kind is a CONTINUO__BLOB_KIND__*; data holds count 4-byte values. */
typedef struct cn_blob {
    int kind;
    const void *data;
    uint64_t count;
} cn_blob;

/* A received message. env, blobs and identity stay valid until cn_proto_msg_free(). */
typedef struct cn_msg {
    cn_env *env;
    cn_blob blobs[CN_PROTO_MAX_BLOBS];
    int n_blobs;
    unsigned char identity[CN_PROTO_MAX_IDENTITY];
    size_t identity_len;
    void *owned[CN_PROTO_MAX_BLOBS];     /* aligned copies of the binary frames */
} cn_msg;

/* Decodes a header frame and its binary frames (already split) into m, checking: the
 * envelope parses, a body is set, blobs match the frames (count, kind, byte length), every
 * string and repeated field is within bounds. Does not check the protocol version (the
 * receiver does that at hello). Returns 0, or a CN error code (CONTINUO__ERROR_CODE__*) with
 * a message naming the value and the limit. On error m holds nothing to free. */
int cn_proto_decode(cn_msg *m, const void *hdr, size_t hdr_len, const void *const *frames,
                    const size_t *frame_lens, int n_frames, char *err, size_t errlen);

/* Receives one multipart message (ROUTER: with the identity frame first). Always consumes
 * the whole message. Returns 0; a positive error code when it was malformed (m->identity
 * is still set so the caller can answer); or -1 when nothing could be read (errno from
 * zmq, e.g. EAGAIN with ZMQ_DONTWAIT). */
int cn_proto_recv(void *sock, int router, int flags, cn_msg *m, char *err, size_t errlen);
void cn_proto_msg_free(cn_msg *m);

/* Sends env (its version and blobs are filled here) and the blobs' frames; identity != NULL
 * prepends a routing frame (ROUTER). Returns 0, or -1 (errno from zmq). */
int cn_proto_send(void *sock, const void *identity, size_t identity_len, cn_env *env,
                  const cn_blob *blobs, int n_blobs);

/* Packs env (version and blob descriptors filled here) into a new zmq message (the header
 * frame of a later send). Returns 0, or -1 when out of memory. */
int cn_proto_pack_header(cn_env *env, const cn_blob *blobs, int n_blobs, zmq_msg_t *out);

/* Name of a body case ("generate", "window"...), for logs and errors. */
const char *cn_proto_body_name(int body_case);

#endif
