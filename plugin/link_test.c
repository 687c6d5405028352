/* SPDX-License-Identifier: MIT
 * A loopback "helper" for tests, chosen by the endpoint "test:" (test:DELAY_MS, test:down,
 * test:hang). Candidates are sine tones (220 Hz x candidate number, 0.25 peak) at 44.1 kHz;
 * upsampled windows are a 330 Hz tone. Not a model: it only exercises the plugin's paths.
 */
#include "link.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MAX_EV 128
#define S_MAX_NODES 512
#define S_RATE 44100

typedef struct {
    cn_link_event ev;
    float *audio;
    char node[32], parent[32];
    int64_t due_ms;
} s_ev;

typedef struct {
    int delay_ms;
    bool hang;
    uint64_t next_id;
    int next_node;
    s_ev ev[S_MAX_EV];
    int n_ev;
    struct { char name[32]; uint64_t end; } nodes[S_MAX_NODES];
    int n_nodes;
} s_link;

static int64_t s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int s_open(void **h, const cn_link_cfg *cfg, cn_link_info *info, char *err, size_t n)
{
    const char *arg = cfg->endpoint + 5;
    if (!strcmp(arg, "down")) {
        snprintf(err, n, "helper at %s did not answer within %.1f s", cfg->endpoint,
                 cfg->timeout_ms / 1000.0);
        return -1;
    }
    s_link *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    l->hang = !strcmp(arg, "hang");
    l->delay_ms = l->hang ? 0 : atoi(arg);
    *info = (cn_link_info){ 1048576.0 / S_RATE, 1.0, 600.0, 8, S_RATE, "test loopback" };
    *h = l;
    return 0;
}

static void s_close(void **h)
{
    s_link *l = *h;
    if (!l)
        return;
    for (int i = 0; i < l->n_ev; i++)
        free(l->ev[i].audio);
    free(l);
    *h = NULL;
}

static uint64_t s_end_of(const s_link *l, const char *node)
{
    for (int i = 0; i < l->n_nodes; i++)
        if (!strcmp(l->nodes[i].name, node))
            return l->nodes[i].end;
    return 0;
}

static const char *s_add_node(s_link *l, uint64_t end)
{
    if (l->n_nodes >= S_MAX_NODES)
        return "full";
    snprintf(l->nodes[l->n_nodes].name, 32, "n%d", ++l->next_node);
    l->nodes[l->n_nodes].end = end;
    return l->nodes[l->n_nodes++].name;
}

static s_ev *s_push(s_link *l, cn_link_ev_type type, uint64_t id)
{
    if (l->n_ev >= S_MAX_EV)
        return NULL;
    s_ev *e = &l->ev[l->n_ev++];
    memset(e, 0, sizeof *e);
    e->ev.type = type;
    e->ev.request_id = id;
    e->ev.job = id;
    e->due_ms = s_now() + l->delay_ms;
    return e;
}

static void s_tone(s_ev *e, int64_t n, double hz, float amp)
{
    e->audio = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; e->audio && i < n; i++)
        e->audio[i] = amp * (float)sin(2.0 * M_PI * hz * (double)i / S_RATE);
    e->ev.audio_len = e->audio ? n : 0;
    e->ev.rate = S_RATE;
}

/* Accepted, progress, `count` candidates after `parent` (which ends at `start`), done. */
static uint64_t s_candidates(s_link *l, const char *parent, uint64_t start, double seconds,
                             int count)
{
    uint64_t id = ++l->next_id;
    if (l->hang)
        return id;
    s_ev *e = s_push(l, CN_LINK_ACCEPTED, id);
    if (e)
        snprintf(e->parent, 32, "%s", parent);
    if ((e = s_push(l, CN_LINK_PROGRESS, id)))
        e->ev.fraction = 0.5;
    int64_t n = (int64_t)(seconds * S_RATE);
    for (int i = 0; i < count; i++) {
        if (!(e = s_push(l, CN_LINK_CANDIDATE, id)))
            break;
        e->ev.index = i;
        e->ev.count = count;
        e->ev.offset_samples = start;
        snprintf(e->node, 32, "%s", s_add_node(l, start + (uint64_t)n));
        snprintf(e->parent, 32, "%s", parent);
        s_tone(e, n, 220.0 * (i + 1), 0.25f);
    }
    s_push(l, CN_LINK_DONE, id);
    return id;
}

static uint64_t s_generate(void *h, const cn_link_gen *g, char *err, size_t n)
{
    s_link *l = h;
    if (g->prompt_rate != S_RATE) {
        snprintf(err, n, "prompt at %.0f Hz; the loopback takes %d Hz", g->prompt_rate,
                 S_RATE);
        return 0;
    }
    char root[32];
    snprintf(root, sizeof root, "%s", s_add_node(l, (uint64_t)g->prompt_len));
    return s_candidates(l, root, (uint64_t)g->prompt_len, g->seconds, g->n);
}

static uint64_t s_cont(void *h, const char *node, int choice, double seconds, int count,
                       float temperature, char *err, size_t n)
{
    (void)choice;
    (void)temperature;
    s_link *l = h;
    uint64_t end = s_end_of(l, node);
    if (!end) {
        snprintf(err, n, "no node %s", node);
        return 0;
    }
    return s_candidates(l, node, end, seconds, count);
}

static uint64_t s_rerun(void *h, const char *node, int count, float temperature, char *err,
                        size_t n)
{
    (void)temperature;
    s_link *l = h;
    uint64_t end = s_end_of(l, node);
    if (!end) {
        snprintf(err, n, "no node %s", node);
        return 0;
    }
    return s_candidates(l, node, end, 4.0, count);
}

static uint64_t s_upsample(void *h, const char *node, int level, char *err, size_t n)
{
    s_link *l = h;
    uint64_t end = s_end_of(l, node), id = ++l->next_id;
    if (!end) {
        snprintf(err, n, "no node %s", node);
        return 0;
    }
    if (l->hang)
        return id;
    for (int lv = 1; lv >= level; lv--) {
        for (int w = 0; w < 2; w++) {
            s_ev *e = s_push(l, CN_LINK_WINDOW, id);
            if (!e)
                break;
            e->ev.level = lv;
            e->ev.index = w;
            e->ev.count = 2;
            e->ev.offset_samples = w * (end / 2);
            snprintf(e->node, 32, "%s", node);
            s_tone(e, (int64_t)(w ? end - end / 2 : end / 2), 330.0, 0.2f);
        }
    }
    s_push(l, CN_LINK_DONE, id);
    return id;
}

static int s_poll(void *h, int timeout_ms, cn_link_fn fn, void *user, char *err, size_t n)
{
    (void)err;
    (void)n;
    s_link *l = h;
    int64_t until = s_now() + timeout_ms;
    int delivered = 0;
    while (!delivered) {
        int64_t now = s_now();
        while (l->n_ev && l->ev[0].due_ms <= now) {
            s_ev e = l->ev[0];
            memmove(l->ev, l->ev + 1, (size_t)(--l->n_ev) * sizeof *l->ev);
            e.ev.audio = e.audio;
            e.ev.node = e.node;
            e.ev.parent = e.parent;
            e.ev.composition = "test-composition";
            e.ev.message = "";
            fn(user, &e.ev);
            free(e.audio);
            delivered++;
        }
        if (delivered || now >= until)
            break;
        struct timespec ts = { 0, 2 * 1000000 };
        nanosleep(&ts, NULL);
    }
    return delivered;
}

const cn_link_ops cn_link_test_ops = { "test", s_open, s_close, s_generate, s_cont, s_rerun,
                                       s_upsample, s_poll };
