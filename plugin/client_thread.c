/* SPDX-License-Identifier: MIT
 * The plugin's own client thread: owns the helper connection, turns run()'s commands into
 * requests and hands results back through the rings. It may block on the network; it never
 * holds core->lock while doing so, and never touches run()'s state directly.
 */
#include "ct_impl.h"
#include "helper_spawn.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t cn_ct_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cn_ct_status(cn_ct *t, int code, int error, double progress, const char *fmt, ...)
{
    char text[CN_TEXT_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (error)   /* the user sees it in the host's log as well as on the status output */
        cn_log_error(t->c, text);
    else if (code != t->last_code || strcmp(text, t->last_text))
        cn_log_trace(t->c, text);   /* jalv -t shows the progress too */
    t->last_code = code;
    snprintf(t->last_text, sizeof t->last_text, "%s", text);
    cn_msg m = { .i0 = code, .i1 = error, .d0 = progress };
    for (int tries = 0; tries < 50; tries++) {   /* run() drains every cycle */
        if (cn_ring_write2(&t->c->from_ct, CN_M_STATUS, &m, sizeof m, text,
                           (uint32_t)strlen(text)))
            return;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
}

static void s_post(cn_ct *t, uint32_t type, cn_msg *m)
{
    for (int tries = 0; tries < 200; tries++) {
        if (cn_ring_write(&t->c->from_ct, type, m, sizeof *m))
            return;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    if (type == CN_M_INSTALL && m->clip)
        cn_clip_unref(&m->clip);   /* run() never got it */
}

void cn_ct_install(cn_ct *t, int slot, cn_clip *clip, int write, int step)
{
    if (clip)
        atomic_fetch_add(&clip->refs, 1);   /* run()'s borrowed reference */
    cn_msg m = { .i0 = slot, .i1 = cn_ct_ready(&t->st[step]), .i2 = write, .i3 = step,
                 .clip = clip };
    s_post(t, CN_M_INSTALL, &m);
}

static void s_clear(cn_ct *t)
{
    cn_msg m = { .i0 = 0 };
    s_post(t, CN_M_CLEAR, &m);
}

static void s_drop_step(cn_step *s)
{
    for (int k = 0; k < CN_MAX_CAND; k++)
        cn_clip_unref(&s->clip[k]);
    memset(s, 0, sizeof *s);
}

/* Mirrors the session into core->saved for save(). */
void cn_ct_sync_saved(cn_ct *t)
{
    cn_core *c = t->c;
    pthread_mutex_lock(&c->lock);
    cn_saved *s = &c->saved;
    snprintf(s->composition, sizeof s->composition, "%s", t->comp);
    s->selected = t->sel;
    s->region_end = t->play_start;
    s->depth = t->depth;
    size_t at = 0;
    s->tree[0] = '\0';
    for (int i = 0; i < CN_MAX_STEPS; i++) {
        for (int k = 0; k < CN_MAX_CAND; k++) {
            const cn_clip *cl = i < t->depth ? t->st[i].clip[k] : NULL;
            if (s->clip_id[i][k] != cl) {
                s->clip_id[i][k] = cl;
                s->clip_path[i][k][0] = '\0';   /* the worker fills it once written */
            }
            if (i < t->depth && t->st[i].node[k][0] && at < sizeof s->tree - 200)
                at += (size_t)snprintf(s->tree + at, sizeof s->tree - at, "%d %d %d %s %s\n",
                                       i, k, t->st[i].chosen, t->st[i].node[k],
                                       t->st[i].parent[0] ? t->st[i].parent : "-");
        }
    }
    pthread_mutex_unlock(&c->lock);
}

static const char *s_endpoint(const cn_ct *t)
{
    return t->props.v[CN_P_ENDPOINT];
}

void cn_ct_close(cn_ct *t)
{
    if (t->h)
        t->ops->close(&t->h);
    t->h = NULL;
    t->req = 0;
}

/* Nobody listens at the local default endpoint: says so without waiting for a timeout. */
static bool s_local_absent(cn_ct *t)
{
    char def[600], why[512];
    if (cn_ct_local_listening(t, def, sizeof def) != 0)
        return false;
    if (cn_hs_check(why, sizeof why) < 0) {   /* said once, not at every retry */
        if (strncmp(why, t->last_text, sizeof t->last_text - 1))
            cn_ct_status(t, CN_ST_ERROR, 1, 0, "%s", why);
    } else {
        cn_ct_status(t, CN_ST_HELPER_DOWN, 0, 0, "no helper at %s; Generate starts one", def);
    }
    return true;
}

/* Connects if not connected. Returns 0 when connected. */
int cn_ct_connect(cn_ct *t)
{
    if (t->h)
        return 0;
    const char *ep = s_endpoint(t);
    t->ops = !strncmp(ep, "test:", 5) ? &cn_link_test_ops : cn_link_client_ops;
    if (!t->ops) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0,
                     "this continuo.lv2 was built without the helper client library");
        return -1;
    }
    if (s_local_absent(t))
        return -1;
    cn_link_cfg cfg = { ep, t->props.v[CN_P_SERVER_KEY], 3000 };
    char err[512];
    memset(&t->info, 0, sizeof t->info);
    cn_ct_status(t, CN_ST_CONNECTING, 0, 0, "connecting to the helper at %s",
                 ep[0] ? ep : "the local default");
    if (t->ops->open(&t->h, &cfg, &t->info, err, sizeof err)) {
        t->h = NULL;
        cn_ct_status(t, CN_ST_HELPER_DOWN, 1, 0, "helper down: %s (retrying)", err);
        return -1;
    }
    t->backoff_ms = 0;
    int ready = t->depth > 0 ? cn_ct_ready(&t->st[t->depth - 1]) : 0;   /* e.g. restored */
    cn_ct_status(t, ready ? CN_ST_READY : CN_ST_IDLE, 0, ready ? 1 : 0,
                 "connected to the helper (%s)%s",
                 t->info.model_set[0] ? t->info.model_set : "model set unknown",
                 ready ? "; candidates ready" : "");
    return 0;
}

static void s_props_reload(cn_ct *t)
{
    cn_core *c = t->c;
    pthread_mutex_lock(&c->lock);
    bool changed = strcmp(t->props.v[CN_P_ENDPOINT], c->props.v[CN_P_ENDPOINT]) ||
                   strcmp(t->props.v[CN_P_SERVER_KEY], c->props.v[CN_P_SERVER_KEY]);
    t->props = c->props;
    pthread_mutex_unlock(&c->lock);
    if (changed) {
        cn_ct_autostart_cancel(t);
        cn_ct_close(t);
        t->retry_at_ms = 0;
        t->backoff_ms = 0;
    }
}

/* Adopts a session restored from the host's state. */
static void s_adopt(cn_ct *t, cn_restored *r)
{
    for (int i = 0; i < CN_MAX_STEPS; i++)
        s_drop_step(&t->st[i]);
    snprintf(t->comp, sizeof t->comp, "%s", r->composition);
    t->depth = r->depth;
    t->sel = r->selected;
    t->play_start = r->region_end;
    t->have_base = false;
    for (int i = 0; i < r->depth; i++) {
        cn_step *s = &t->st[i];
        snprintf(s->parent, sizeof s->parent, "%s", r->parent[i]);
        s->n = r->n[i];
        s->chosen = r->chosen[i];
        for (int k = 0; k < CN_MAX_CAND; k++) {
            snprintf(s->node[k], sizeof s->node[k], "%s", r->node[i][k]);
            s->clip[k] = r->clip[i][k];
            r->clip[i][k] = NULL;
        }
    }
    cn_ct_sync_saved(t);
    pthread_mutex_lock(&t->c->lock);
    for (int i = 0; i < r->depth; i++)
        for (int k = 0; k < CN_MAX_CAND; k++)
            if (t->st[i].clip[k])
                memcpy(t->c->saved.clip_path[i][k], r->path[i][k], 1024);
    pthread_mutex_unlock(&t->c->lock);
    s_clear(t);
    cn_msg m = { .l0 = t->play_start };
    s_post(t, CN_M_PLAY_START, &m);
    if (t->depth > 0) {
        int d = t->depth - 1;
        for (int k = 0; k < CN_MAX_CAND; k++)
            if (t->st[d].clip[k])
                cn_ct_install(t, k, t->st[d].clip[k], 0, d);
    }
    cn_ct_status(t, t->h ? CN_ST_READY : CN_ST_HELPER_DOWN, 0, 0,
                 "session restored: %d candidates at step %d%s", cn_ct_ready(&t->st[0]) ?
                 cn_ct_ready(&t->st[t->depth ? t->depth - 1 : 0]) : 0, t->depth,
                 t->h ? "" : " (helper down; clips play from disk)");
}

static void s_unlock_capture(cn_ct *t)
{
    atomic_store_explicit(&t->c->cap_locked, false, memory_order_release);
}

/* Mixes the captured stereo down and resamples it to the model rate. */
static float *s_prompt(cn_ct *t, int64_t frames, int64_t *n44)
{
    cn_core *c = t->c;
    float *mono = malloc((size_t)frames * sizeof(float));
    if (!mono)
        return NULL;
    bool finite = true;
    for (int64_t i = 0; i < frames; i++) {
        mono[i] = 0.5f * (c->cap[2 * i] + c->cap[2 * i + 1]);
        finite &= isfinite(mono[i]);
    }
    s_unlock_capture(t);
    float *out = NULL;
    char err[256];
    if (!finite) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "the captured audio holds NaN or infinity");
    } else if (cn_resample(mono, frames, c->rate, CN_MODEL_RATE, &out, n44, err,
                           sizeof err)) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "%s", err);
        out = NULL;
    }
    free(mono);
    return out;
}

static int s_count(const cn_ct *t, int want)
{
    int max = t->info.max_candidates ? (int)t->info.max_candidates : CN_MAX_CAND;
    if (max > CN_MAX_CAND)
        max = CN_MAX_CAND;
    return want < 1 ? 1 : want > max ? max : want;
}

static void s_generate(cn_ct *t, const cn_msg *m)
{
    cn_core *c = t->c;
    double secs = (double)m->l1 / c->rate;
    double max_s = (double)CN_MAX_PROMPT_44K / CN_MODEL_RATE;
    if (m->l1 <= 0 || m->l0 <= 0) {
        s_unlock_capture(t);
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "capture is empty: arm Capture and play the "
                     "region with the transport rolling, then Generate");
        return;
    }
    int wait = cn_ct_need(t, CN_M_GENERATE, m);
    if (wait) {
        if (wait < 0)   /* else the capture stays locked until the helper answers */
            s_unlock_capture(t);
        return;
    }
    if (t->info.max_prompt_seconds > 0 && t->info.max_prompt_seconds < max_s)
        max_s = t->info.max_prompt_seconds;
    if (m->l1 > m->l0 || secs > max_s + 1e-6) {
        s_unlock_capture(t);
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "capture is %.1f s; the model takes at most "
                     "%.1f s", secs, max_s);
        return;
    }
    int64_t n44 = 0;
    float *prompt = s_prompt(t, m->l0, &n44);
    if (!prompt)
        return;
    double total = m->d2;
    double need = (double)n44 / CN_MODEL_RATE + m->d0;
    if (total < need)
        total = need;
    if (t->info.max_total_seconds > 0 && total >= t->info.max_total_seconds)
        total = t->info.max_total_seconds - 0.01;   /* the maximum itself is refused */
    if (t->info.min_total_seconds > 0 && total < t->info.min_total_seconds)
        total = t->info.min_total_seconds;
    cn_link_gen g = { prompt, n44, CN_MODEL_RATE, t->props.v[CN_P_ARTIST],
                      t->props.v[CN_P_GENRE], t->props.v[CN_P_LYRICS], total, m->d0,
                      s_count(t, m->i1), (float)m->d1 };
    char err[512];
    uint64_t id = t->ops->generate(t->h, &g, err, sizeof err);
    free(prompt);
    if (!id) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "Generate refused: %s", err);
        return;
    }
    for (int i = 0; i < CN_MAX_STEPS; i++)
        s_drop_step(&t->st[i]);
    t->comp[0] = '\0';
    t->depth = 1;
    t->st[0].n = g.n;
    t->play_start = (int64_t)m->d3;
    t->have_base = false;
    t->req = id;
    t->req_kind = CN_REQ_GEN;
    s_clear(t);
    cn_ct_sync_saved(t);
    cn_ct_status(t, CN_ST_QUEUED, 0, 0, "sent a %.1f s prompt; asking for %d candidates of "
                 "%.1f s", secs, g.n, m->d0);
}

/* The node of the selected candidate at the current step, or NULL with a status (or the
 * command waits for the local helper). */
static const char *s_selected_node(cn_ct *t, uint32_t type, const cn_msg *m, const char *what)
{
    int sel = m->i0;
    int d = t->depth - 1;
    if (d < 0 || sel < 0 || sel >= CN_MAX_CAND || !t->st[d].clip[sel] ||
        !t->st[d].node[sel][0]) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "%s: candidate %d is not there yet", what, sel + 1);
        return NULL;
    }
    if (cn_ct_need(t, type, m))
        return NULL;
    return t->st[d].node[sel];
}

static void s_continue(cn_ct *t, const cn_msg *m)
{
    if (t->depth >= CN_MAX_STEPS) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "the plugin keeps at most %d steps; go Back or "
                     "Generate anew", CN_MAX_STEPS);
        return;
    }
    const char *node = s_selected_node(t, CN_M_CONTINUE, m, "Continue");
    if (!node)
        return;
    char err[512];
    int n = s_count(t, m->i1);
    uint64_t id = t->ops->cont(t->h, node, -1, m->d0, n, (float)m->d1, err, sizeof err);
    if (!id) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "Continue refused: %s", err);
        return;
    }
    cn_step *s = &t->st[t->depth];
    s_drop_step(s);
    t->st[t->depth - 1].chosen = m->i0;
    snprintf(s->parent, sizeof s->parent, "%s", node);
    s->n = n;
    t->depth++;
    t->req = id;
    t->req_kind = CN_REQ_CONT;
    s_clear(t);
    cn_ct_sync_saved(t);
    cn_ct_status(t, CN_ST_QUEUED, 0, 0, "continuing candidate %d by %.1f s", m->i0 + 1, m->d0);
}

static void s_rerun(cn_ct *t, const cn_msg *m)
{
    int d = t->depth - 1;
    if (d < 0 || !t->st[d].parent[0]) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "Run again: nothing generated yet");
        return;
    }
    if (cn_ct_need(t, CN_M_RERUN, m))
        return;
    char err[512];
    int n = s_count(t, m->i1);
    uint64_t id = t->ops->rerun(t->h, t->st[d].parent, n, (float)m->d1, err, sizeof err);
    if (!id) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "Run again refused: %s", err);
        return;
    }
    char parent[64];
    snprintf(parent, sizeof parent, "%s", t->st[d].parent);
    s_drop_step(&t->st[d]);
    snprintf(t->st[d].parent, sizeof t->st[d].parent, "%s", parent);
    t->st[d].n = n;
    t->req = id;
    t->req_kind = CN_REQ_RERUN;
    s_clear(t);
    cn_ct_sync_saved(t);
    cn_ct_status(t, CN_ST_QUEUED, 0, 0, "running step %d again", t->depth);
}

static void s_back(cn_ct *t)
{
    if (t->depth <= 1) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "Back: already at the first step");
        return;
    }
    s_drop_step(&t->st[t->depth - 1]);
    t->depth--;
    int d = t->depth - 1;
    s_clear(t);
    for (int k = 0; k < CN_MAX_CAND; k++)
        if (t->st[d].clip[k])
            cn_ct_install(t, k, t->st[d].clip[k], 0, d);
    cn_ct_sync_saved(t);
    cn_ct_status(t, CN_ST_READY, 0, 0, "back at step %d (candidate %d was chosen)", t->depth,
                 t->st[d].chosen + 1);
}

static void s_upsample(cn_ct *t, const cn_msg *m)
{
    int level = m->i2;
    const char *node = s_selected_node(t, CN_M_UPSAMPLE, m, "Upsample");
    if (!node)
        return;
    char err[512];
    uint64_t id = t->ops->upsample(t->h, node, level, err, sizeof err);
    if (!id) {
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "Upsample refused: %s", err);
        return;
    }
    t->req = id;
    t->req_kind = CN_REQ_UPS;
    t->req_level = level;
    t->ups_step = t->depth - 1;
    t->ups_slot = m->i0;
    t->ups_len = 0;
    cn_ct_status(t, CN_ST_UPSAMPLING, 0, 0, "upsampling candidate %d to level %d", m->i0 + 1,
                 level);
}

void cn_ct_command(cn_ct *t, uint32_t type, const cn_msg *m, const char *s, size_t slen)
{
    cn_clip *clip = m->clip;
    switch (type) {
    case CN_M_GENERATE: s_generate(t, m); break;
    case CN_M_CONTINUE: s_continue(t, m); break;
    case CN_M_RERUN: s_rerun(t, m); break;
    case CN_M_BACK: s_back(t); break;
    case CN_M_UPSAMPLE: s_upsample(t, m); break;
    case CN_M_SELECT:
        t->sel = m->i0;
        cn_ct_sync_saved(t);
        break;
    case CN_M_RETURN: cn_clip_unref(&clip); break;
    case CN_M_PROP:
        pthread_mutex_lock(&t->c->lock);
        cn_prop_set(&t->c->props, m->i0, s, slen);
        pthread_mutex_unlock(&t->c->lock);
        s_props_reload(t);
        break;
    default: break;
    }
}

static void s_drain(cn_ct *t)
{
    static _Thread_local struct { cn_msg m; char s[CN_PROP_CAP]; } rec;
    uint32_t type;
    int64_t len;
    while ((len = cn_ring_read(&t->c->to_ct, &type, &rec, sizeof rec)) != -1)
        if (len >= (int64_t)sizeof rec.m)
            cn_ct_command(t, type, &rec.m, rec.s, (size_t)len - sizeof rec.m);
}

static void s_tick(cn_ct *t)
{
    if (atomic_exchange(&t->props_changed, false))
        s_props_reload(t);
    pthread_mutex_lock(&t->rlock);
    cn_restored *r = t->restored;
    t->restored = NULL;
    pthread_mutex_unlock(&t->rlock);
    if (r) {
        s_adopt(t, r);
        for (int i = 0; i < CN_MAX_STEPS; i++)
            for (int k = 0; k < CN_MAX_CAND; k++)
                cn_clip_unref(&r->clip[i][k]);
        free(r);
    }
    cn_ct_autostart_tick(t);
    if (!t->h && !t->as_wait && cn_ct_now_ms() >= t->retry_at_ms) {
        if (cn_ct_connect(t)) {
            t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : 1000;
            if (t->backoff_ms > 30000)
                t->backoff_ms = 30000;
            t->retry_at_ms = cn_ct_now_ms() + t->backoff_ms;
        }
    }
}

static void *s_main(void *arg)
{
    cn_ct *t = arg;
    char err[512];
    while (!atomic_load(&t->quit)) {
        s_tick(t);
        s_drain(t);
        if (t->h) {
            if (t->ops->poll(t->h, 20, cn_ct_on_event, t, err, sizeof err) < 0) {
                cn_ct_close(t);
                cn_ct_status(t, CN_ST_HELPER_DOWN, 1, 0, "lost the helper: %s (retrying)",
                             err);
                t->retry_at_ms = cn_ct_now_ms() + 1000;
            }
        } else {
            struct timespec ts = { 0, 20 * 1000000 };
            nanosleep(&ts, NULL);
        }
    }
    cn_ct_close(t);
    return NULL;
}

int cn_ct_start(cn_core *c, char *err, size_t errlen)
{
    cn_ct *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory starting the client thread");
        return -1;
    }
    t->c = c;
    t->play_start = -1;
    /* The first connection waits a moment for restore() or the host's first patch:Set. */
    t->retry_at_ms = cn_ct_now_ms() + 300;
    pthread_mutex_init(&t->rlock, NULL);
    atomic_init(&t->quit, false);
    atomic_init(&t->props_changed, false);
    c->ct = t;
    if (pthread_create(&t->th, NULL, s_main, t)) {
        snprintf(err, errlen, "cannot start the client thread");
        c->ct = NULL;
        free(t);
        return -1;
    }
    t->started = true;
    cn_hs_ref();
    return 0;
}

void cn_ct_stop(cn_core *c)
{
    cn_ct *t = c->ct;
    if (!t)
        return;
    atomic_store(&t->quit, true);
    if (t->started) {
        pthread_join(t->th, NULL);
        cn_hs_unref();   /* the last instance stops the helper it started */
    }
    /* Clips run() still returns are in the ring; run() is gone, so drop them here. */
    uint32_t type;
    struct { cn_msg m; char s[CN_PROP_CAP]; } *rec = malloc(sizeof *rec);
    int64_t len;
    while (rec && (len = cn_ring_read(&c->to_ct, &type, rec, sizeof *rec)) != -1)
        if (type == CN_M_RETURN && len >= (int64_t)sizeof rec->m)
            cn_clip_unref(&rec->m.clip);
    free(rec);
    /* Clips sent to run() but not yet taken: take them back. */
    struct { cn_msg m; char s[CN_TEXT_CAP]; } r2;
    while ((len = cn_ring_read(&c->from_ct, &type, &r2, sizeof r2)) != -1)
        if (type == CN_M_INSTALL && len >= (int64_t)sizeof r2.m)
            cn_clip_unref(&r2.m.clip);
    for (int i = 0; i < CN_MAX_STEPS; i++)
        s_drop_step(&t->st[i]);
    free(t->ups);
    if (t->restored) {
        for (int i = 0; i < CN_MAX_STEPS; i++)
            for (int k = 0; k < CN_MAX_CAND; k++)
                cn_clip_unref(&t->restored->clip[i][k]);
        free(t->restored);
    }
    pthread_mutex_destroy(&t->rlock);
    free(t);
    c->ct = NULL;
}

void cn_ct_restore(cn_core *c, cn_restored *r)
{
    cn_ct *t = c->ct;
    pthread_mutex_lock(&t->rlock);
    cn_restored *old = t->restored;
    t->restored = r;
    pthread_mutex_unlock(&t->rlock);
    if (old) {
        for (int i = 0; i < CN_MAX_STEPS; i++)
            for (int k = 0; k < CN_MAX_CAND; k++)
                cn_clip_unref(&old->clip[i][k]);
        free(old);
    }
}

void cn_ct_props_changed(cn_core *c)
{
    if (c->ct)
        atomic_store(&c->ct->props_changed, true);
}
