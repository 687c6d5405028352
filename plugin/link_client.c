/* SPDX-License-Identifier: MIT
 * cn_link over the helper's client library (helper/client/client.h): the real connection.
 * Client thread only; every call may block on the network for up to the timeout.
 */
#include "link.h"

#include <stdio.h>
#include <string.h>

#include "client.h"

static int s_open(void **h, const cn_link_cfg *cfg, cn_link_info *info, char *err, size_t n)
{
    cn_client_config cc = { 0 };
    cc.endpoint = cfg->endpoint && cfg->endpoint[0] ? cfg->endpoint : NULL;
    cc.server_key = cfg->server_key && cfg->server_key[0] ? cfg->server_key : NULL;
    cc.client_name = "continuo.lv2";
    cc.timeout_ms = cfg->timeout_ms;
    cn_client *c = NULL;
    if (cn_client_open(&c, &cc, err, n))
        return -1;
    const cn_helper_info *hi = cn_client_info(c);
    memset(info, 0, sizeof *info);
    info->max_prompt_seconds = hi->max_prompt_seconds;
    info->min_total_seconds = hi->min_total_seconds;
    info->max_total_seconds = hi->max_total_seconds;
    info->max_candidates = hi->max_candidates;
    info->sample_rate = hi->sample_rate;
    snprintf(info->model_set, sizeof info->model_set, "%s", hi->model_set);
    *h = c;
    return 0;
}

static void s_close(void **h)
{
    cn_client *c = *h;
    cn_client_close(&c);
    *h = NULL;
}

static cn_client_sampling s_sampling(int count, float temperature)
{
    cn_client_sampling s = { 0 };
    s.n = count;
    s.temperature = temperature;
    return s;
}

/* Splits "rock, blues" / "rock blues" into at most 8 genre words in buf. */
static int s_genres(const char *in, char buf[8][64], const char *out[8])
{
    int n = 0;
    const char *p = in;
    while (*p && n < 8) {
        while (*p == ' ' || *p == ',' || *p == ';')
            p++;
        size_t len = strcspn(p, " ,;");
        if (!len)
            break;
        snprintf(buf[n], 64, "%.*s", (int)(len < 63 ? len : 63), p);
        out[n] = buf[n];
        n++;
        p += len;
    }
    return n;
}

static uint64_t s_generate(void *h, const cn_link_gen *g, char *err, size_t n)
{
    char gbuf[8][64];
    const char *genres[8];
    cn_generate_req r = { 0 };
    r.prompt = g->prompt;
    r.prompt_len = g->prompt_len;
    r.prompt_rate = g->prompt_rate;
    r.artist = g->artist && g->artist[0] ? g->artist : "unknown";   /* the models' id 0 */
    r.n_genres = s_genres(g->genre && g->genre[0] ? g->genre : "unknown", gbuf, genres);
    r.genres = genres;
    r.lyrics = g->lyrics;
    r.total_seconds = g->total_seconds;
    r.seconds = g->seconds;
    r.sampling = s_sampling(g->n, g->temperature);
    return cn_client_generate(h, &r, err, n);
}

static uint64_t s_cont(void *h, const char *node, int choice, double seconds, int count,
                       float temperature, char *err, size_t n)
{
    cn_client_sampling s = s_sampling(count, temperature);
    return cn_client_continue(h, node, choice, seconds, &s, err, n);
}

static uint64_t s_rerun(void *h, const char *node, int count, float temperature, char *err,
                        size_t n)
{
    cn_client_sampling s = s_sampling(count, temperature);
    return cn_client_rerun(h, node, &s, err, n);
}

static uint64_t s_upsample(void *h, const char *node, int level, char *err, size_t n)
{
    return cn_client_upsample(h, node, level, err, n);
}

typedef struct { cn_link_fn fn; void *user; } s_relay;

static void s_event(void *user, const cn_event *e)
{
    static const cn_link_ev_type map[] = {
        [CN_EV_ACCEPTED] = CN_LINK_ACCEPTED, [CN_EV_PROGRESS] = CN_LINK_PROGRESS,
        [CN_EV_CANDIDATE] = CN_LINK_CANDIDATE, [CN_EV_WINDOW] = CN_LINK_WINDOW,
        [CN_EV_DONE] = CN_LINK_DONE, [CN_EV_ERROR] = CN_LINK_ERROR,
        [CN_EV_DISCONNECTED] = CN_LINK_DISCONNECTED, [CN_EV_RECONNECTED] = CN_LINK_RECONNECTED,
    };
    const s_relay *r = user;
    if ((unsigned)e->type >= sizeof map / sizeof map[0] || !map[e->type])
        return;   /* previews, trees and audio answers are not used by the plugin yet */
    cn_link_event ev = {
        .type = map[e->type], .request_id = e->request_id, .job = e->job,
        .fraction = e->fraction, .index = e->type == CN_EV_ACCEPTED ? (int)e->queue_position
                                                                    : e->index,
        .count = e->count, .level = e->level, .error_code = e->error_code,
        .composition = e->composition ? e->composition : "",
        .node = e->node ? e->node : "", .parent = e->parent ? e->parent : "",
        .message = e->message ? e->message : "", .audio = e->audio,
        .audio_len = e->audio_len, .rate = e->sample_rate, .offset_samples = e->offset_samples,
    };
    r->fn(r->user, &ev);
}

static int s_poll(void *h, int timeout_ms, cn_link_fn fn, void *user, char *err, size_t n)
{
    s_relay r = { fn, user };
    return cn_client_poll(h, timeout_ms, s_event, &r, err, n);
}

static const cn_link_ops s_ops = { "helper", s_open, s_close, s_generate, s_cont, s_rerun,
                                   s_upsample, s_poll };
const cn_link_ops *const cn_link_client_ops = &s_ops;

const char *cn_link_default_endpoint(char *buf, size_t n)
{
    return cn_default_endpoint(buf, n);
}
