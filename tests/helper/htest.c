/* SPDX-License-Identifier: MIT
 * Implementation of the helper tests' shared pieces (htest.h). Test code only.
 */
#define _GNU_SOURCE
#include "htest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ht_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *ht_tmpdir(char *buf, size_t len, const char *tag)
{
    const char *t = getenv("TMPDIR");
    snprintf(buf, len, "%s/cn-%s-XXXXXX", t && t[0] ? t : "/tmp", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(2);
    }
    return buf;
}

cn_server *ht_server(cn_runner *r, const char *dir, const char *store, cn_server_config *extra)
{
    static char ep[600];
    cn_server_config cfg = {0};
    if (extra) cfg = *extra;
    if (!cfg.endpoint) {
        snprintf(ep, sizeof ep, "ipc://%s/h.sock", dir);
        cfg.endpoint = ep;
    }
    cfg.store_dir = store;
    cfg.runner = r;
    if (!cfg.heartbeat_ms) cfg.heartbeat_ms = 200;
    cn_server *s = NULL;
    char err[512];
    if (cn_server_start(&s, &cfg, err, sizeof err)) {
        fprintf(stderr, "cannot start the test helper: %s\n", err);
        return NULL;
    }
    return s;
}

cn_client *ht_client(const char *endpoint, const char *name)
{
    cn_client_config cfg = {endpoint, NULL, NULL, name, 3000, 0, NULL, NULL};
    cn_client *c = NULL;
    char err[512];
    if (cn_client_open(&c, &cfg, err, sizeof err))
        fprintf(stderr, "client %s: %s\n", name, err);
    return c;
}

void ht_fake_init(ht_fake *f, const char *tag)
{
    char dir[512];
    const char *bin = getenv("CN_BINARY_DIR");
    snprintf(f->bin, sizeof f->bin, "%s/tests/cn-fake-helper", bin ? bin : ".");
    ht_tmpdir(dir, sizeof dir, tag);
    snprintf(f->store, sizeof f->store, "%s/store", dir);
    snprintf(f->ep, sizeof f->ep, "ipc://%s/h.sock", dir);
}

pid_t ht_fake_spawn(const ht_fake *f, const char *step_us, const char *const *extra)
{
    const char *argv[24] = {f->bin, "--store", f->store, "--endpoint", f->ep, "--step-us",
                            step_us, "--heartbeat-ms", "200"};
    int n = 9;
    for (int i = 0; extra && extra[i] && n < 23; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        execv(f->bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

cn_client *ht_client_wait(const char *endpoint, const char *name, const char *what)
{
    cn_client *c = NULL;
    char err[512] = "";
    for (int i = 0; i < 50 && !c; i++) {
        cn_client_config cfg = {endpoint, NULL, NULL, name, 200, 0, NULL, NULL};
        if (cn_client_open(&c, &cfg, err, sizeof err)) usleep(100000);
    }
    if (!c) fprintf(stderr, "no helper at %s (%s): %s\n", endpoint, what, err);
    return c;
}

void ht_rec_init(ht_rec *r) { memset(r, 0, sizeof *r); }

void ht_rec_free(ht_rec *r)
{
    for (int i = 0; i < HT_MAX_NODES; i++) free(r->codes[i]);
    free(r->audio);
    ht_rec_init(r);
}

static void s_tree(ht_rec *r, const cn_event *ev)
{
    r->tree_nodes = ev->n_tree;
    r->tree_comps = ev->n_compositions;
    if (ev->n_compositions)
        snprintf(r->tree_root, sizeof r->tree_root, "%s", ev->compositions[0].root);
    for (int i = 0; i < ev->n_tree; i++)
        if (!strcmp(ev->tree[i].id, r->tree_root)) r->root_children = ev->tree[i].n_children;
}

void ht_on_event(void *user, const cn_event *ev)
{
    ht_rec *r = user;
    switch (ev->type) {
    case CN_EV_ACCEPTED: r->accepted++; r->job = ev->job; break;
    case CN_EV_PROGRESS:
        r->progress++;
        if (r->cancel_on_progress && !r->t_cancel) {
            char err[256];
            r->t_cancel = ht_now();
            cn_client_cancel(r->cancel_on_progress, ev->job, err, sizeof err);
        }
        break;
    case CN_EV_PREVIEW: r->previews++; break;
    case CN_EV_CANDIDATE:
        if (r->n_nodes < HT_MAX_NODES) {
            int k = r->n_nodes++;
            snprintf(r->nodes[k], 64, "%s", ev->node);
            r->codes[k] = malloc((size_t)ev->codes_len * 4 + 4);
            memcpy(r->codes[k], ev->codes, (size_t)ev->codes_len * 4);
            r->n_codes[k] = ev->codes_len;
            r->audio_len[k] = ev->audio_len;
        }
        r->candidates++;
        break;
    case CN_EV_WINDOW:
        if (r->n_window_index < 256) r->window_index[r->n_window_index++] = ev->index;
        r->windows++;
        break;
    case CN_EV_DONE: r->done++; break;
    case CN_EV_ERROR:
        r->errors++;
        r->error_code = ev->error_code;
        r->t_error = ht_now();
        snprintf(r->message, sizeof r->message, "%s", ev->message);
        break;
    case CN_EV_TREE: s_tree(r, ev); break;
    case CN_EV_AUDIO:
        free(r->audio);
        r->audio = malloc((size_t)ev->audio_len * 4 + 4);
        memcpy(r->audio, ev->audio, (size_t)ev->audio_len * 4);
        r->n_audio = ev->audio_len;
        break;
    case CN_EV_RECONNECTED: r->reconnected++; break;
    case CN_EV_DISCONNECTED: break;
    }
}

int ht_wait(cn_client *c, uint64_t id, ht_rec *r, int timeout_ms)
{
    char err[CN_CLIENT_ERRLEN];
    if (!id) return -1;
    int rc = cn_client_wait(c, id, timeout_ms, ht_on_event, r, err, sizeof err);
    if (rc < 0) fprintf(stderr, "wait for request %llu: %s\n", (unsigned long long)id, err);
    return rc;
}

float *ht_sine(double seconds, double rate, int64_t *n)
{
    *n = (int64_t)(seconds * rate);
    float *a = malloc((size_t)*n * 4 + 4);
    for (int64_t i = 0; i < *n; i++) a[i] = 0.3f * (float)sin(2 * M_PI * 220.0 * (double)i / rate);
    return a;
}
