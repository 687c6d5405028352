/* SPDX-License-Identifier: MIT
 * What the helper says, turned into clips and statuses: candidates become playable paths at
 * the host rate (resampled here, off the audio thread), upsampled windows are gathered.
 * Runs on the client thread only; allocation is fine here, run() never waits for it.
 */
#include "ct_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cn_ct_ready(const cn_step *s)
{
    int n = 0;
    for (int k = 0; k < CN_MAX_CAND; k++)
        n += s->clip[k] != NULL;
    return n;
}

/* A file-name-safe stem: continuo-<node>[-suffix]. */
static void s_name(char *out, size_t n, const char *node, const char *suffix)
{
    size_t at = (size_t)snprintf(out, n, "continuo-");
    for (const char *p = node; *p && at + 1 < n; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        out[at++] = ok ? ch : '_';
    }
    out[at] = '\0';
    if (suffix)
        snprintf(out + at, n - at, "%s", suffix);
}

/* The path from the region end: the parent's path up to `pos44`, then `audio` (non-finite
 * samples silenced, the rest limited to full scale: the model's output is not bounded). */
static cn_clip *s_path_clip(cn_ct *t, const cn_clip *parent, uint64_t pos44,
                            const float *audio, int64_t n, uint32_t rate, const char *name)
{
    float *rs = NULL;
    int64_t rn = 0;
    char err[256];
    double host = t->c->rate;
    if (cn_resample(audio, n, rate, host, &rs, &rn, err, sizeof err)) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "%s", err);
        return NULL;
    }
    int64_t pos = (int64_t)llround((double)pos44 * host / rate);
    cn_clip *c = cn_clip_new(NULL, pos + rn, host, name);
    if (c) {
        int64_t keep = parent ? (parent->len < pos ? parent->len : pos) : 0;
        if (keep > 0)
            memcpy(c->data, parent->data, (size_t)keep * sizeof(float));
        for (int64_t i = 0; i < rn; i++)
            c->data[pos + i] = isfinite(rs[i]) ? fmaxf(-1.0f, fminf(1.0f, rs[i])) : 0.0f;
    } else {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "out of memory for a %.1f s candidate",
                     (double)(pos + rn) / host);
    }
    free(rs);
    return c;
}

static void s_candidate(cn_ct *t, const cn_link_event *ev)
{
    int d = t->depth - 1, i = ev->index;
    if (d < 0 || i < 0 || i >= CN_MAX_CAND || !ev->rate)
        return;
    if (!t->have_base) {
        t->base44 = ev->offset_samples;
        t->have_base = true;
    }
    if (ev->composition[0])
        snprintf(t->comp, sizeof t->comp, "%s", ev->composition);
    uint64_t pos = ev->offset_samples > t->base44 ? ev->offset_samples - t->base44 : 0;
    const cn_clip *parent = d > 0 ? t->st[d - 1].clip[t->st[d - 1].chosen] : NULL;
    char name[160];
    s_name(name, sizeof name, ev->node, NULL);
    cn_clip *clip = s_path_clip(t, parent, pos, ev->audio, ev->audio_len, ev->rate, name);
    if (!clip)
        return;
    cn_step *s = &t->st[d];
    cn_clip_unref(&s->clip[i]);
    s->clip[i] = clip;
    snprintf(s->node[i], sizeof s->node[i], "%s", ev->node);
    if (ev->parent[0])
        snprintf(s->parent, sizeof s->parent, "%s", ev->parent);
    cn_ct_sync_saved(t);
    cn_ct_install(t, i, clip, 1, d);
    cn_ct_status(t, CN_ST_GENERATING, 0, (double)cn_ct_ready(s) / (s->n ? s->n : 1),
                 "candidate %d ready (%d of %d)", i + 1, cn_ct_ready(s), s->n);
}

static void s_window(cn_ct *t, const cn_link_event *ev)
{
    if (ev->level != t->req_level || !ev->rate)
        return;
    int64_t end = (int64_t)ev->offset_samples + ev->audio_len;
    if (end > t->ups_cap) {
        int64_t cap = end + end / 2;
        float *p = realloc(t->ups, (size_t)cap * sizeof(float));
        if (!p) {
            cn_ct_status(t, CN_ST_ERROR, 1, 0, "out of memory for upsampled audio");
            return;
        }
        memset(p + t->ups_cap, 0, (size_t)(cap - t->ups_cap) * sizeof(float));
        t->ups = p;
        t->ups_cap = cap;
    }
    memcpy(t->ups + ev->offset_samples, ev->audio, (size_t)ev->audio_len * sizeof(float));
    if (end > t->ups_len)
        t->ups_len = end;
    cn_ct_status(t, CN_ST_UPSAMPLING, 0, ev->count ? (double)(ev->index + 1) / ev->count : 0,
                 "level %d: window %d of %d", ev->level, ev->index + 1, ev->count);
}

/* Upsampling finished: the part after the region end replaces the chosen candidate. */
static void s_upsampled(cn_ct *t)
{
    int d = t->ups_step, k = t->ups_slot;
    if (d < 0 || d >= t->depth || !t->st[d].clip[k] || !t->ups_len) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "upsampling ended without audio");
        return;
    }
    uint64_t from = t->have_base ? t->base44 : 0;
    if ((int64_t)from >= t->ups_len)
        from = 0;
    char suffix[16], name[160];
    snprintf(suffix, sizeof suffix, "-level%d", t->req_level);
    s_name(name, sizeof name, t->st[d].node[k], suffix);
    cn_clip *clip = s_path_clip(t, NULL, 0, t->ups + from, t->ups_len - (int64_t)from,
                                (uint32_t)CN_MODEL_RATE, name);
    if (!clip)
        return;
    cn_clip_unref(&t->st[d].clip[k]);
    t->st[d].clip[k] = clip;
    cn_ct_sync_saved(t);
    if (d == t->depth - 1)
        cn_ct_install(t, k, clip, 1, d);
    cn_ct_status(t, CN_ST_READY, 0, 1, "candidate %d upsampled to level %d (%.1f s)", k + 1,
                 t->req_level, (double)clip->len / clip->rate);
}

void cn_ct_on_event(void *user, const cn_link_event *ev)
{
    cn_ct *t = user;
    bool mine = ev->request_id == t->req && t->req;
    switch (ev->type) {
    case CN_LINK_ACCEPTED:
        if (mine && ev->composition[0])
            snprintf(t->comp, sizeof t->comp, "%s", ev->composition);
        if (mine)
            cn_ct_status(t, CN_ST_QUEUED, 0, 0, "accepted by the helper (queue position %d)",
                         ev->index);
        break;
    case CN_LINK_PROGRESS:
        if (mine) {
            cn_msg m = { .d0 = ev->fraction };
            cn_ring_write(&t->c->from_ct, CN_M_PROGRESS, &m, sizeof m);
        }
        break;
    case CN_LINK_CANDIDATE:
        if (mine && t->req_kind != CN_REQ_UPS)
            s_candidate(t, ev);
        break;
    case CN_LINK_WINDOW:
        if (mine && t->req_kind == CN_REQ_UPS)
            s_window(t, ev);
        break;
    case CN_LINK_DONE:
        if (!mine)
            break;
        if (t->req_kind == CN_REQ_UPS)
            s_upsampled(t);
        else
            cn_ct_status(t, CN_ST_READY, 0, 1, "%d candidates ready at step %d",
                         cn_ct_ready(&t->st[t->depth - 1]), t->depth);
        t->req = 0;
        break;
    case CN_LINK_ERROR:
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "helper: %s", ev->message);
        if (mine)
            t->req = 0;
        break;
    case CN_LINK_DISCONNECTED:
        cn_ct_status(t, CN_ST_HELPER_DOWN, 1, 0, "the helper went silent; reconnecting "
                     "(nothing is lost)");
        break;
    case CN_LINK_RECONNECTED:
        cn_ct_status(t, t->req ? CN_ST_GENERATING : CN_ST_READY, 0, 0,
                     "reconnected to the helper");
        break;
    }
}
