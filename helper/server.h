/* SPDX-License-Identifier: MIT
 * continuo-helper's server: a ROUTER socket, sessions with replayable event logs, request
 * validation, heartbeats, CURVE with a ZAP allow-list. Its I/O thread never computes; the
 * engine worker (jobs.h) does. Bad input gets an error event; the server goes on.
 */
#ifndef CN_SERVER_H
#define CN_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs.h"

typedef struct cn_server_config {
    const char *endpoint;            /* ROUTER bind; NULL = the default ipc endpoint */
    const char *store_dir;
    cn_runner *runner;               /* borrowed; outlives the server */
    const char *curve_secret;        /* helper key pair file; NULL = no CURVE */
    const char *allow;               /* file or directory of allowed client public keys */
    uint64_t max_message_bytes;      /* ZMQ_MAXMSGSIZE (0 = 256 MiB) */
    int heartbeat_ms;                /* 0 = 1000 */
    int max_candidates;              /* 0 = 16 */
    double preview_interval_s;       /* 0 = no previews */
    size_t session_buffer_bytes;     /* replay log per session (0 = 256 MiB) */
    double session_keep_s;           /* forget a silent session with unfinished jobs after
                                        this (0 = 3600); one without jobs after 60 s */
} cn_server_config;

typedef struct cn_server cn_server;

/* Opens the store, starts the worker (resuming journaled jobs) and the I/O thread, binds.
 * Returns 0, or -1 with err naming the endpoint, path or key file and the reason. */
int cn_server_start(cn_server **s, const cn_server_config *cfg, char *err, size_t errlen);
/* Serves until a signal of sigs arrives (the caller blocked them in every thread before
 * cn_server_start) or the engine's device becomes unusable (cn_jobs_device_lost); logs which.
 * Returns the process's exit status: 0, or CN_EXIT_DEVICE_LOST. */
int cn_server_wait(cn_server *s, const sigset_t *sigs);
/* Stops the threads (journaled jobs stay for the next start) and frees everything. */
void cn_server_stop(cn_server **s);
/* The endpoint actually bound (e.g. the port that tcp://127.0.0.1:0 got). */
const char *cn_server_endpoint(const cn_server *s);

/* `continuo-helper keygen BASE`: writes BASE.key (public and secret, mode 0600) and BASE.pub.
 * Returns 0, or -1 with err. */
int cn_curve_keygen(const char *base, char *err, size_t errlen);
/* Reads "public=" / "secret=" Z85 keys (41 bytes with the NUL) from a key file; either may be
 * NULL. Returns 0, or -1 with err naming the file and what is missing. */
int cn_curve_load(const char *path, char *pub, char *sec, char *err, size_t errlen);

#endif
