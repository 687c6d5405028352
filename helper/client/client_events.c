/* SPDX-License-Identifier: MIT
 * Helper messages to cn_event values: welcome and heartbeats handled here, duplicates after a
 * replay dropped by sequence number, everything else passed to the caller's callback.
 */
#define _GNU_SOURCE
#include "client_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_s(const char *p) { return p ? p : ""; }

static void s_welcome(cn_client *c, const Continuo__Welcome *w, cn_event_fn fn, void *user)
{
    int resumed = c->info.session[0] != 0;
    cn_helper_info *i = &c->info;
    i->protocol_version = w->protocol_version;
    snprintf(i->session, sizeof i->session, "%s", s_s(w->session));
    snprintf(i->model_set, sizeof i->model_set, "%s", s_s(w->model_set));
    snprintf(i->backend, sizeof i->backend, "%s", s_s(w->backend));
    i->max_message_bytes = w->max_message_bytes;
    i->max_candidates = w->max_candidates;
    i->max_prompt_seconds = w->max_prompt_seconds;
    i->min_total_seconds = w->min_total_seconds;
    i->max_total_seconds = w->max_total_seconds;
    i->sample_rate = w->sample_rate;
    for (size_t k = 0; k < 3 && k < w->n_hop; k++) i->hop[k] = w->hop[k];
    i->has_lyrics = w->has_lyrics;
    i->heartbeat_ms = w->heartbeat_ms;
    if (c->hb_ms <= 0) c->hb_ms = (int)w->heartbeat_ms;
    c->connected = 1;
    if (resumed) {
        cn_event ev = {.type = CN_EV_RECONNECTED, .composition = "", .node = "", .parent = "",
                       .message = "session resumed"};
        fn(user, &ev);
    }
}

static void s_blobs(const cn_msg *m, cn_event *ev)
{
    for (int i = 0; i < m->n_blobs; i++) {
        if (m->blobs[i].kind == CONTINUO__BLOB_KIND__BLOB_AUDIO_F32 && !ev->audio) {
            ev->audio = m->blobs[i].data;
            ev->audio_len = (int64_t)m->blobs[i].count;
        } else if (m->blobs[i].kind == CONTINUO__BLOB_KIND__BLOB_CODES_I32 && !ev->codes) {
            ev->codes = m->blobs[i].data;
            ev->codes_len = (int64_t)m->blobs[i].count;
        }
    }
}

static void s_tree(const Continuo__Tree *t, cn_event *ev, cn_event_fn fn, void *user)
{
    cn_tree_node *nodes = calloc(t->n_nodes + 1, sizeof *nodes);
    cn_tree_composition *comps = calloc(t->n_compositions + 1, sizeof *comps);
    if (nodes && comps) {
        for (size_t i = 0; i < t->n_nodes; i++) {
            const Continuo__NodeInfo *n = t->nodes[i];
            nodes[i] = (cn_tree_node){s_s(n->id), s_s(n->parent),
                                      (const char *const *)n->children, (int)n->n_children,
                                      n->n_codes, n->seconds, n->levels, n->windows_done};
        }
        for (size_t i = 0; i < t->n_compositions; i++) {
            const Continuo__CompositionInfo *k = t->compositions[i];
            comps[i] = (cn_tree_composition){s_s(k->id), s_s(k->artist), s_s(k->lyrics),
                                             s_s(k->root), (const char *const *)k->genres,
                                             (int)k->n_genres, k->total_seconds};
        }
        ev->tree = nodes;
        ev->n_tree = (int)t->n_nodes;
        ev->compositions = comps;
        ev->n_compositions = (int)t->n_compositions;
        fn(user, ev);
    }
    free(nodes);
    free(comps);
}

static void s_fill(const cn_env *e, cn_event *ev)
{
    switch (e->body_case) {
    case CONTINUO__ENVELOPE__BODY_ACCEPTED:
        ev->type = CN_EV_ACCEPTED;
        ev->job = e->accepted->job;
        ev->queue_position = e->accepted->queue_position;
        ev->composition = s_s(e->accepted->composition);
        ev->node = s_s(e->accepted->node);
        break;
    case CONTINUO__ENVELOPE__BODY_PROGRESS:
        ev->type = CN_EV_PROGRESS;
        ev->job = e->progress->job;
        ev->fraction = e->progress->fraction;
        ev->tokens_per_s = e->progress->tokens_per_s;
        ev->eta_s = e->progress->eta_s;
        break;
    case CONTINUO__ENVELOPE__BODY_PREVIEW:
        ev->type = CN_EV_PREVIEW;
        ev->job = e->preview->job;
        ev->index = (int)e->preview->candidate;
        ev->count = (int)e->preview->n_candidates;
        ev->sample_rate = e->preview->sample_rate;
        break;
    case CONTINUO__ENVELOPE__BODY_CANDIDATE:
        ev->type = CN_EV_CANDIDATE;
        ev->job = e->candidate->job;
        ev->index = (int)e->candidate->index;
        ev->node = s_s(e->candidate->node);
        ev->parent = s_s(e->candidate->parent);
        ev->sample_rate = e->candidate->sample_rate;
        ev->offset_samples = e->candidate->offset_samples;
        break;
    case CONTINUO__ENVELOPE__BODY_WINDOW:
        ev->type = CN_EV_WINDOW;
        ev->job = e->window->job;
        ev->node = s_s(e->window->node);
        ev->level = (int)e->window->level;
        ev->index = (int)e->window->index;
        ev->count = (int)e->window->count;
        ev->offset_samples = e->window->start_sample;
        ev->sample_rate = e->window->sample_rate;
        break;
    case CONTINUO__ENVELOPE__BODY_DONE:
        ev->type = CN_EV_DONE;
        ev->job = e->done->job;
        ev->nodes = (const char *const *)e->done->nodes;
        ev->n_nodes = (int)e->done->n_nodes;
        break;
    case CONTINUO__ENVELOPE__BODY_ERROR:
        ev->type = CN_EV_ERROR;
        ev->job = e->error->job;
        ev->error_code = e->error->code;
        ev->message = s_s(e->error->message);
        break;
    case CONTINUO__ENVELOPE__BODY_AUDIO:
        ev->type = CN_EV_AUDIO;
        ev->node = s_s(e->audio->node);
        ev->level = (int)e->audio->level;
        ev->sample_rate = e->audio->sample_rate;
        break;
    case CONTINUO__ENVELOPE__BODY_TREE: ev->type = CN_EV_TREE; break;
    default: ev->type = 0; break;
    }
}

int cn_client_dispatch(cn_client *c, cn_msg *m, cn_event_fn fn, void *user)
{
    const cn_env *e = m->env;
    if (e->body_case == CONTINUO__ENVELOPE__BODY_HEARTBEAT) return 0;
    if (e->body_case == CONTINUO__ENVELOPE__BODY_WELCOME) {
        s_welcome(c, e->welcome, fn, user);
        return 0;
    }
    if (e->body_case == CONTINUO__ENVELOPE__BODY_ERROR && e->request_id == c->hello_rid &&
        !c->connected) {   /* the helper refused the hello itself */
        c->fatal = 1;
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "helper at %.200s refused the session: %.280s",
                 c->endpoint, s_s(e->error->message));
        return 0;
    }
    if (e->body_case == CONTINUO__ENVELOPE__BODY_ERROR &&
        e->error->code == CONTINUO__ERROR_CODE__ERR_NO_SESSION && c->connected) {
        /* The helper restarted and forgot this connection: say hello again and resume. */
        c->connected = 0;
        c->next_hello = 0;
        c->backoff = 0.1;
        cn_event ev = {.type = CN_EV_DISCONNECTED, .composition = "", .node = "", .parent = "",
                       .message = "the helper restarted; resuming the session"};
        fn(user, &ev);
        if (!e->request_id) return 0;   /* our heartbeat; nothing was lost */
    }
    if (e->seq) {
        if (e->seq <= c->last_seq) return 0;   /* already delivered before a reconnect */
        c->last_seq = e->seq;
    }
    cn_event ev = {.request_id = e->request_id, .composition = "", .node = "", .parent = "",
                   .message = ""};
    s_fill(e, &ev);
    if (!ev.type) return 0;
    s_blobs(m, &ev);
    if (e->body_case == CONTINUO__ENVELOPE__BODY_TREE) s_tree(e->tree, &ev, fn, user);
    else fn(user, &ev);
    return 1;
}
