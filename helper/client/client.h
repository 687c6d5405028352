/* SPDX-License-Identifier: MIT
 * cn_client: the one client library of continuo-helper (used by the `continuo` CLI and the
 * LV2 plugin's client thread). Never call it from an audio thread: every call may block.
 *
 * Threading: a cn_client is owned by ONE thread (not thread-safe). All network traffic,
 * heartbeats and reconnects happen inside cn_client_open() and cn_client_poll(); call
 * cn_client_poll() regularly (every <= 100 ms is plenty) while anything is outstanding.
 *
 * Requests return a request id (> 0) at once, or 0 with a message in err. Everything the
 * helper says afterwards arrives as cn_event values passed to the callback given to
 * cn_client_poll(); each names the request id it answers. Event data (strings, audio, codes)
 * is owned by the library and valid only during the callback: copy what you keep.
 *
 * Reconnect and resume: if the helper goes silent for 3 heartbeat intervals the client
 * reconnects with backoff and resumes its session; events produced meanwhile are replayed,
 * so no candidate is lost. A CN_EV_DISCONNECTED / CN_EV_RECONNECTED event tells the caller.
 */
#ifndef CN_CLIENT_H
#define CN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "audio_io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CN_CLIENT_ERRLEN 512

typedef struct cn_client cn_client;

typedef struct cn_client_config {
    const char *endpoint;        /* NULL: ipc://$XDG_RUNTIME_DIR/continuo-helper.sock */
    const char *server_key;      /* CURVE: file holding the helper's public key (from
                                    `continuo-helper keygen`), or NULL for no encryption */
    const char *client_key;      /* CURVE: file holding this client's key pair; NULL with a
                                    server_key: cn_default_client_key() when that file exists,
                                    else a fresh one-off pair (refused by allow-lists) */
    const char *client_name;     /* shown in the helper's log; NULL = "client" */
    int timeout_ms;              /* cn_client_open: how long to wait for the hello (0 = 5000) */
    int heartbeat_ms;            /* 0 = the helper's value */
    const char *model_set;       /* NULL: any; else the helper refuses unless it serves it */
    const char *backend;         /* NULL: any; else "cpu" or "cuda" */
} cn_client_config;

/* What the helper said in its welcome. */
typedef struct cn_helper_info {
    uint32_t protocol_version;
    char session[64];
    char model_set[128];
    char backend[32];
    uint64_t max_message_bytes;
    uint32_t max_candidates;
    double max_prompt_seconds;
    double min_total_seconds, max_total_seconds;
    uint32_t sample_rate;
    uint32_t hop[3];
    int has_lyrics;
    uint32_t heartbeat_ms;
} cn_helper_info;

/* Connects, says hello and waits for the welcome (protocol version checked).
 * Returns 0, or -1 with err ("helper at ipc://... did not answer within 5.0 s", "helper speaks
 * protocol 2; this client speaks 1"). *c is NULL on failure. */
int cn_client_open(cn_client **c, const cn_client_config *cfg, char *err, size_t errlen);
/* Closes the connection and frees everything; sets *c = NULL. Safe on NULL. */
void cn_client_close(cn_client **c);
const cn_helper_info *cn_client_info(const cn_client *c);

/* Sampling parameters; 0 fields take the helper's defaults (n 3, temperature 0.99). */
typedef struct cn_client_sampling {
    int n;
    float temperature;
    int top_k;
    float top_p;
    uint64_t seed;
} cn_client_sampling;

typedef struct cn_generate_req {
    const float *prompt;         /* mono float audio; may be NULL with prompt_len 0 */
    int64_t prompt_len;          /* samples */
    double prompt_rate;          /* Hz, any rate; the helper resamples */
    const char *artist;
    const char *const *genres;   /* n_genres names */
    int n_genres;
    const char *lyrics;          /* NULL or "" for none */
    double total_seconds;        /* the whole song's length */
    double seconds;              /* how much to sample after the prompt */
    cn_client_sampling sampling;
} cn_generate_req;

/* Each returns the request id, or 0 with err: not connected (the client is reconnecting after
 * CN_EV_DISCONNECTED; retry after CN_EV_RECONNECTED), or too large for the helper's
 * max_message_bytes ("prompt is 300.0 MB; the helper takes at most 256.0 MB"). */
uint64_t cn_client_generate(cn_client *c, const cn_generate_req *r, char *err, size_t errlen);
/* Continues NODE's candidate CHOICE (choice -1: NODE itself) by `seconds`. */
uint64_t cn_client_continue(cn_client *c, const char *node, int choice, double seconds,
                            const cn_client_sampling *s, char *err, size_t errlen);
/* New candidates for NODE with the parameters of its previous ones (s may be NULL). */
uint64_t cn_client_rerun(cn_client *c, const char *node, const cn_client_sampling *s,
                         char *err, size_t errlen);
/* Upsamples NODE's path to level 1 or 0 (0 does level 1 first if needed). */
uint64_t cn_client_upsample(cn_client *c, const char *node, int level, char *err,
                            size_t errlen);
/* Cancels a job (the `job` of its CN_EV_ACCEPTED); it ends with CN_EV_ERROR code CANCELLED. */
uint64_t cn_client_cancel(cn_client *c, uint64_t job, char *err, size_t errlen);
/* The tree of a composition (NULL or "": the list of compositions) as one CN_EV_TREE. */
uint64_t cn_client_tree(cn_client *c, const char *composition, char *err, size_t errlen);
/* A node's audio at level 2 (top-level decode), 1 or 0 (upsampled) as one CN_EV_AUDIO. */
uint64_t cn_client_audio(cn_client *c, const char *node, int level, char *err,
                         size_t errlen);

typedef enum cn_event_type {
    CN_EV_ACCEPTED = 1,   /* job, queue_position, composition, node */
    CN_EV_PROGRESS,       /* job, fraction, tokens_per_s, eta_s */
    CN_EV_PREVIEW,        /* job, index (candidate), count, audio so far */
    CN_EV_CANDIDATE,      /* job, index, node, parent, audio (continuation), codes (path),
                             offset_samples */
    CN_EV_WINDOW,         /* job, node, level, index, count, audio, codes, offset_samples */
    CN_EV_DONE,           /* job; nodes / n_nodes: what the job made */
    CN_EV_ERROR,          /* job (0 if none), error_code, message */
    CN_EV_TREE,           /* compositions / nodes */
    CN_EV_AUDIO,          /* node, level, audio */
    CN_EV_DISCONNECTED,   /* the helper went silent; the client is reconnecting */
    CN_EV_RECONNECTED     /* session resumed (missed events follow) */
} cn_event_type;

/* Error codes (same numbers as the wire's ErrorCode). */
enum {
    CN_ERR_MALFORMED = 1, CN_ERR_VERSION, CN_ERR_UNKNOWN_TYPE, CN_ERR_TOO_LARGE,
    CN_ERR_BAD_VALUE, CN_ERR_NOT_FOUND, CN_ERR_STORE, CN_ERR_ENGINE, CN_ERR_CANCELLED,
    CN_ERR_NO_SESSION, CN_ERR_BUSY
};

typedef struct cn_tree_node {
    const char *id, *parent;     /* parent "" for a root */
    const char *const *children;
    int n_children;
    uint64_t n_codes;
    double seconds;
    uint32_t levels;             /* bit L: level L audio complete */
    uint32_t windows_done;
} cn_tree_node;

typedef struct cn_tree_composition {
    const char *id, *artist, *lyrics, *root;
    const char *const *genres;
    int n_genres;
    double total_seconds;
} cn_tree_composition;

typedef struct cn_event {
    cn_event_type type;
    uint64_t request_id;
    uint64_t job;
    uint32_t queue_position;
    double fraction, tokens_per_s, eta_s;
    int index, count, level;
    const char *composition, *node, *parent;   /* "" when absent, never NULL */
    const float *audio;          /* mono float32 at sample_rate */
    int64_t audio_len;
    uint32_t sample_rate;
    uint64_t offset_samples;     /* where audio starts in the song */
    const int32_t *codes;
    int64_t codes_len;
    int error_code;
    const char *message;
    const char *const *nodes;    /* CN_EV_DONE */
    int n_nodes;
    const cn_tree_composition *compositions;   /* CN_EV_TREE */
    int n_compositions;
    const cn_tree_node *tree;
    int n_tree;
} cn_event;

typedef void (*cn_event_fn)(void *user, const cn_event *ev);

/* Waits up to timeout_ms for traffic, handles heartbeats and reconnects, and calls fn for
 * every event that arrived. Returns the number of events delivered (0 on timeout), or -1 with
 * err when the session cannot go on (protocol error, helper refused the session). */
int cn_client_poll(cn_client *c, int timeout_ms, cn_event_fn fn, void *user, char *err,
                   size_t errlen);

/* Convenience for scripts: polls until request `id` is finished (CN_EV_DONE, CN_EV_ERROR,
 * CN_EV_TREE or CN_EV_AUDIO for it), passing every event to fn. timeout_ms < 0 waits forever.
 * Returns 0 when it finished without error, 1 when it ended with CN_EV_ERROR (message in err),
 * -1 on timeout or a lost session (err). */
int cn_client_wait(cn_client *c, uint64_t id, int timeout_ms, cn_event_fn fn, void *user,
                   char *err, size_t errlen);

/* Sound files and resampling (cn_audio_read, cn_audio_write, cn_audio_resample): audio_io.h. */

/* The default endpoint: ipc://$XDG_RUNTIME_DIR/continuo-helper.sock (or /tmp/continuo-<uid>/
 * when XDG_RUNTIME_DIR is unset). Returns buf. */
const char *cn_default_endpoint(char *buf, size_t len);

/* The key pair a client uses with a CURVE helper when it is given none: $CONTINUO_CLIENT_KEY,
 * else $XDG_CONFIG_HOME/continuo/client.key, else ~/.config/continuo/client.key (made by
 * `continuo-helper keygen ~/.config/continuo/client`). The file may not exist. Returns buf. */
const char *cn_default_client_key(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
