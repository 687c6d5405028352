/* SPDX-License-Identifier: MIT
 * cn_host: a tiny lilv-free LV2 host for continuo.lv2 (continuo-jack and the tests): URID
 * map, worker, options, makePath/mapPath, state kept in memory. cn_host_run is as realtime
 * as the plugin's run(); everything else allocates and may block.
 */
#ifndef CN_HOST_H
#define CN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lv2/core/lv2.h>
#include <lv2/urid/urid.h>

typedef struct cn_host cn_host;

typedef struct cn_host_cfg {
    const LV2_Descriptor *desc;   /* or NULL: dlopen so_path and ask it */
    const char *so_path;
    const char *bundle;           /* the bundle folder, with a trailing slash */
    double rate;
    uint32_t block;               /* max block length */
    const char *state_dir;        /* makePath/mapPath root; created if missing */
    bool threaded_worker;         /* a worker thread; else cn_host_idle runs the jobs */
} cn_host_cfg;

cn_host *cn_host_new(const cn_host_cfg *cfg, char *err, size_t errlen);
/* Deactivates, cleans up, frees; *h = NULL. */
void cn_host_free(cn_host **h);

LV2_URID cn_host_map(cn_host *h, const char *uri);
const char *cn_host_unmap(cn_host *h, LV2_URID id);
/* The buffer of control port `port` (the host owns one float per port). */
float *cn_host_ctl(cn_host *h, uint32_t port);
void cn_host_connect_audio(cn_host *h, uint32_t port, float *buf);

/* The plugin's notify sequence of the last run (valid until the next run). */
const void *cn_host_notify(const cn_host *h);

/* Events for the next cn_host_run (cleared after it), from the thread that runs it.
 * send_position is realtime (URIDs mapped at cn_host_new); set/get map URIs (a mutex). */
void cn_host_send_position(cn_host *h, uint32_t at, int64_t frame, float speed);
void cn_host_send_set(cn_host *h, const char *prop_uri, bool is_path, const char *value);
void cn_host_send_get(cn_host *h);

/* Realtime: delivers worker responses, then run(n). */
void cn_host_run(cn_host *h, uint32_t n);
/* Not realtime: runs queued worker jobs (when not threaded) and reads the notify port: for
 * each patch:Set with a string/path value, fn(user, property URI, value). */
void cn_host_idle(cn_host *h, void (*fn)(void *, const char *, const char *), void *user);
/* Waits until the worker queue is empty (threaded or not). */
void cn_host_flush_worker(cn_host *h);

/* State: save into the host's memory, restore into another (or the same) instance. */
int cn_host_save(cn_host *h);
int cn_host_restore(cn_host *dst, const cn_host *src);
/* A saved value as text (string/path) or NULL; for tests. */
const char *cn_host_saved_string(const cn_host *h, const char *key_uri);

#endif
