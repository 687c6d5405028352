/* SPDX-License-Identifier: MIT
 * cn_link: the plugin's own small view of "the helper connection", so the client thread does
 * not depend on how it is made. Implemented over cn_client (link_client.c) and by a loopback
 * used in tests (link_test.c, endpoint "test:"). Every call may block: client thread only.
 */
#ifndef CN_LINK_H
#define CN_LINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct cn_link_cfg {
    const char *endpoint;      /* "" = the helper's local default */
    const char *server_key;    /* file with the helper's public key, or "" */
    int timeout_ms;
} cn_link_cfg;

typedef struct cn_link_info {
    double max_prompt_seconds;     /* 0 = unknown */
    double min_total_seconds, max_total_seconds;   /* song: min <= total < max */
    uint32_t max_candidates;
    uint32_t sample_rate;          /* the model's, 44100 */
    char model_set[128];
} cn_link_info;

typedef struct cn_link_gen {
    const float *prompt;       /* mono at prompt_rate */
    int64_t prompt_len;
    double prompt_rate;
    const char *artist, *genre, *lyrics;   /* genre: words separated by spaces or commas */
    double total_seconds, seconds;
    int n;
    float temperature;
} cn_link_gen;

typedef enum cn_link_ev_type {
    CN_LINK_ACCEPTED = 1, CN_LINK_PROGRESS, CN_LINK_CANDIDATE, CN_LINK_WINDOW, CN_LINK_DONE,
    CN_LINK_ERROR, CN_LINK_DISCONNECTED, CN_LINK_RECONNECTED
} cn_link_ev_type;

typedef struct cn_link_event {
    cn_link_ev_type type;
    uint64_t request_id, job;
    double fraction;
    int index, count, level, error_code;
    const char *composition, *node, *parent, *message;   /* never NULL */
    const float *audio;        /* mono at rate; valid only during the callback */
    int64_t audio_len;
    uint32_t rate;
    uint64_t offset_samples;   /* where audio starts in the song, at rate */
} cn_link_event;

typedef void (*cn_link_fn)(void *user, const cn_link_event *ev);

typedef struct cn_link_ops {
    const char *name;
    /* Opens a connection; *h is the handle. Returns 0 or -1 with err. */
    int (*open)(void **h, const cn_link_cfg *cfg, cn_link_info *info, char *err, size_t n);
    void (*close)(void **h);
    /* Requests return an id > 0, or 0 with err. */
    uint64_t (*generate)(void *h, const cn_link_gen *g, char *err, size_t n);
    uint64_t (*cont)(void *h, const char *node, int choice, double seconds, int count,
                     float temperature, char *err, size_t n);
    uint64_t (*rerun)(void *h, const char *node, int count, float temperature, char *err,
                      size_t n);
    uint64_t (*upsample)(void *h, const char *node, int level, char *err, size_t n);
    /* Waits up to timeout_ms, delivers events; returns >= 0, or -1 (session lost) with err. */
    int (*poll)(void *h, int timeout_ms, cn_link_fn fn, void *user, char *err, size_t n);
} cn_link_ops;

/* The loopback used by tests (endpoint "test:" or "test:DELAY_MS"). */
extern const cn_link_ops cn_link_test_ops;
/* The real helper over cn_client; NULL when the plugin was built without the client
 * library. */
extern const cn_link_ops *const cn_link_client_ops;
/* The endpoint an empty `endpoint` property means (the helper's and the CLI's default,
 * ipc://$XDG_RUNTIME_DIR/continuo-helper.sock), in buf; NULL without the client library. */
const char *cn_link_default_endpoint(char *buf, size_t n);

#endif
