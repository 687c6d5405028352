/* SPDX-License-Identifier: MIT
 * The client thread's side of the local default helper: a command that finds nobody at the
 * default endpoint starts continuo-helper (helper_spawn.c) and waits, without blocking the
 * thread, until it answers or exits. Never started for a non-default endpoint or a live one.
 */
#include "ct_impl.h"
#include "helper_spawn.h"

#include <stdbool.h>
#include <stdio.h>

static const char *s_what(uint32_t type)
{
    switch (type) {
    case CN_M_GENERATE: return "Generate";
    case CN_M_CONTINUE: return "Continue";
    case CN_M_RERUN: return "Run again";
    case CN_M_UPSAMPLE: return "Upsample";
    default: return "the command";
    }
}

/* Forgets the waiting command; a Generate gives the capture back to run(). */
static void s_drop(cn_ct *t)
{
    if (t->have_pend && t->pend_type == CN_M_GENERATE)
        atomic_store_explicit(&t->c->cap_locked, false, memory_order_release);
    t->have_pend = false;
}

void cn_ct_autostart_cancel(cn_ct *t)
{
    s_drop(t);
    t->as_wait = false;
}

static void s_keep(cn_ct *t, uint32_t type, const cn_msg *m)
{
    if (t->have_pend && t->pend_type == CN_M_GENERATE && type != CN_M_GENERATE)
        s_drop(t);
    t->have_pend = true;
    t->pend_type = type;
    t->pend = *m;
    cn_ct_status(t, CN_ST_CONNECTING, 0, 0, "waiting for continuo-helper to load its models; "
                 "%s is sent when it answers", s_what(type));
}

int cn_ct_local_listening(const cn_ct *t, char *def, size_t n)
{
    if (t->props.v[CN_P_ENDPOINT][0] || !cn_link_default_endpoint(def, n))
        return -2;
    return cn_hs_listening(def);
}

int cn_ct_need(cn_ct *t, uint32_t type, const cn_msg *m)
{
    char def[600], msg[1024];
    int listening = cn_ct_local_listening(t, def, sizeof def);
    if (t->h) {
        if (listening != 0)
            return 0;
        cn_ct_close(t);   /* the client is still reconnecting to a helper that is gone */
    }
    if (!t->as_wait && listening == 0) {
        if (cn_hs_start(def, t->c->bundle, t->props.v[CN_P_MODEL_SET], msg, sizeof msg)) {
            cn_ct_status(t, CN_ST_ERROR, 1, 0, "%s", msg);
            return -1;
        }
        cn_ct_status(t, CN_ST_CONNECTING, 0, 0, "%s", msg);
        t->as_wait = true;
        t->as_since_ms = t->as_note_ms = cn_ct_now_ms();
    }
    if (!t->as_wait)
        return cn_ct_connect(t) ? -1 : 0;
    s_keep(t, type, m);
    return 1;
}

static void s_answered(cn_ct *t)
{
    t->as_wait = false;
    cn_hs_answered();
    cn_ct_status(t, CN_ST_IDLE, 0, 0, "continuo-helper answered after %.1f s (%s)",
                 (double)(cn_ct_now_ms() - t->as_since_ms) / 1000,
                 t->info.model_set[0] ? t->info.model_set : "model set unknown");
    if (t->have_pend) {
        t->have_pend = false;
        cn_ct_command(t, t->pend_type, &t->pend, "", 0);
    }
}

void cn_ct_autostart_tick(cn_ct *t)
{
    if (!t->as_wait)
        return;
    char msg[1024], def[600], dir[1024];
    int st = cn_hs_check(msg, sizeof msg);
    if (st <= 0) {
        cn_ct_autostart_cancel(t);
        cn_ct_status(t, CN_ST_ERROR, 1, 0, "%s",
                     st < 0 ? msg : "could not start continuo-helper: it went away");
        return;
    }
    int64_t now = cn_ct_now_ms();
    if (now - t->as_note_ms >= 250 && cn_ct_local_listening(t, def, sizeof def) == 1) {
        t->as_note_ms = now;
        if (!cn_ct_connect(t)) {
            s_answered(t);
            return;
        }
    }
    if (now - t->as_note_ms >= 2000) {
        t->as_note_ms = now;
        cn_ct_status(t, CN_ST_CONNECTING, 0, 0, "starting continuo-helper (%.0f s): loading "
                     "models from %s", (double)(now - t->as_since_ms) / 1000,
                     cn_hs_models_dir(dir, sizeof dir));
    }
}
