/* SPDX-License-Identifier: MIT
 * Shared pieces of the helper tests: temporary folders, an in-process helper over the engine
 * test double, prompts, and an event recorder for cn_client_wait. Test code only.
 */
#ifndef CN_HTEST_H
#define CN_HTEST_H

#include <sys/types.h>

#include "check.h"
#include "client.h"
#include "fake_runner.h"
#include "server.h"

#define HT_MAX_NODES 64

typedef struct ht_rec {
    int accepted, progress, previews, candidates, windows, done, errors, reconnected;
    uint64_t job;
    int error_code;
    char message[CN_CLIENT_ERRLEN];
    char nodes[HT_MAX_NODES][64];      /* candidate nodes in order */
    int n_nodes;
    int32_t *codes[HT_MAX_NODES];      /* copies of each candidate's codes */
    int64_t n_codes[HT_MAX_NODES];
    int64_t audio_len[HT_MAX_NODES];
    int window_index[256];
    int n_window_index;
    float *audio;                      /* CN_EV_AUDIO copy */
    int64_t n_audio;
    int tree_nodes, tree_comps;
    char tree_root[64];
    int root_children;
    double t_error;                    /* when the error arrived (monotonic s) */
    cn_client *cancel_on_progress;     /* when set: cancel the job at the first progress */
    double t_cancel;
} ht_rec;

double ht_now(void);
/* mkdtemp under $TMPDIR or /tmp; the path is kept in buf. */
const char *ht_tmpdir(char *buf, size_t len, const char *tag);
/* An in-process helper over the double; endpoint "ipc://DIR/h.sock". */
cn_server *ht_server(cn_runner *r, const char *dir, const char *store, cn_server_config *extra);
cn_client *ht_client(const char *endpoint, const char *name);
/* The engine double's helper process (cn-fake-helper) for the test `tag`: its path under
 * CN_BINARY_DIR, and a store and ipc endpoint in a new temporary folder. */
typedef struct ht_fake {
    char bin[1024], store[700], ep[700];
} ht_fake;
void ht_fake_init(ht_fake *f, const char *tag);
/* Starts it with that store and endpoint, 200 ms heartbeats, --step-us step_us and the
 * NULL-terminated extra options (may be NULL). Returns its pid. */
pid_t ht_fake_spawn(const ht_fake *f, const char *step_us, const char *const *extra);
/* A client of a helper process still starting: retries every 0.1 s for up to 5 s (heartbeat
 * 200 ms); NULL with a message on stderr naming what did not answer. */
cn_client *ht_client_wait(const char *endpoint, const char *name, const char *what);
void ht_rec_init(ht_rec *r);
void ht_rec_free(ht_rec *r);
void ht_on_event(void *user, const cn_event *ev);
/* cn_client_wait with the recorder; returns its status. */
int ht_wait(cn_client *c, uint64_t id, ht_rec *r, int timeout_ms);
/* A sine prompt of `seconds` at `rate`. Caller frees. */
float *ht_sine(double seconds, double rate, int64_t *n);

#endif
