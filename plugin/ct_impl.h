/* SPDX-License-Identifier: MIT
 * The client thread's private state, shared by client_thread.c (loop, connection, commands)
 * and client_events.c (what the helper says). Only the client thread touches it.
 */
#ifndef CN_CT_IMPL_H
#define CN_CT_IMPL_H

#include "core.h"
#include "link.h"

enum { CN_REQ_NONE, CN_REQ_GEN, CN_REQ_CONT, CN_REQ_RERUN, CN_REQ_UPS };

typedef struct cn_step {
    char parent[64];
    int n, chosen;
    char node[CN_MAX_CAND][64];
    cn_clip *clip[CN_MAX_CAND];   /* one reference each, owned here */
} cn_step;

struct cn_ct {
    cn_core *c;
    pthread_t th;
    bool started;
    atomic_bool quit, props_changed;
    pthread_mutex_t rlock;        /* guards `restored` */
    cn_restored *restored;

    cn_props props;
    int last_code;                /* the last status posted, so a repeat is not traced */
    char last_text[CN_TEXT_CAP];
    const cn_link_ops *ops;
    void *h;
    cn_link_info info;
    int64_t retry_at_ms, backoff_ms;
    /* The local default helper (helper_spawn.c): a user command found nobody there, so the
     * helper was started and the command waits in `pend` until it answers. */
    bool as_wait;
    int64_t as_since_ms, as_note_ms;
    bool have_pend;
    uint32_t pend_type;
    cn_msg pend;

    char comp[64];
    int depth, sel;
    cn_step st[CN_MAX_STEPS];
    int64_t play_start;
    bool have_base;
    uint64_t base44;

    uint64_t req;
    int req_kind, req_level, ups_step, ups_slot;
    float *ups;                   /* level audio at 44.1 kHz from song offset 0 */
    int64_t ups_len, ups_cap;
};

/* client_thread.c */
void cn_ct_status(cn_ct *t, int code, int error, double progress, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cn_ct_install(cn_ct *t, int slot, cn_clip *clip, int write, int step);
void cn_ct_sync_saved(cn_ct *t);
int64_t cn_ct_now_ms(void);
int cn_ct_connect(cn_ct *t);
void cn_ct_close(cn_ct *t);
void cn_ct_command(cn_ct *t, uint32_t type, const cn_msg *m, const char *s, size_t slen);

/* client_autostart.c */
/* With an empty endpoint property: whether the local default endpoint (in def) answers,
 * as cn_hs_listening says (1, 0, -1); -2 when the endpoint is another one (def untouched). */
int cn_ct_local_listening(const cn_ct *t, char *def, size_t n);
int cn_ct_need(cn_ct *t, uint32_t type, const cn_msg *m);
void cn_ct_autostart_tick(cn_ct *t);
void cn_ct_autostart_cancel(cn_ct *t);

/* client_events.c */
void cn_ct_on_event(void *user, const cn_link_event *ev);
int cn_ct_ready(const cn_step *s);

#endif
