/* SPDX-License-Identifier: MIT
 * The LV2 entry points: instantiate (all allocation happens here), connect_port, activate,
 * run (see run.c: realtime, never allocates/locks/blocks), deactivate, cleanup, extensions.
 */
#include "core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2_util.h>

#define CN_RING_BYTES (1u << 17)

/* One line in the host's log of the given type (an LV2_LOG__ URI); errors go to stderr when
 * the host gives no log. */
static void s_log(cn_core *c, const char *type, const char *msg)
{
    if (c->log)
        c->log->printf(c->log->handle, c->map->map(c->map->handle, type), "continuo: %s\n", msg);
    else if (!strcmp(type, LV2_LOG__Error))
        fprintf(stderr, "continuo: %s\n", msg);
}

void cn_log_error(cn_core *c, const char *msg)
{
    s_log(c, LV2_LOG__Error, msg);
}

void cn_log_trace(cn_core *c, const char *msg)
{
    s_log(c, LV2_LOG__Trace, msg);
}

static void s_read_options(cn_core *c, const LV2_Options_Option *opt)
{
    LV2_URID max_len = c->map->map(c->map->handle, LV2_BUF_SIZE__maxBlockLength);
    LV2_URID nom_len = c->map->map(c->map->handle, LV2_BUF_SIZE__nominalBlockLength);
    LV2_URID atom_Int = c->map->map(c->map->handle, LV2_ATOM__Int);
    for (; opt && opt->key; opt++) {
        if ((opt->key == max_len || opt->key == nom_len) && opt->type == atom_Int) {
            uint32_t v = (uint32_t)*(const int32_t *)opt->value;
            if (v > c->max_block)
                c->max_block = v;
        }
    }
    if (!c->max_block)
        c->max_block = 8192;
}

static void s_free(cn_core *c)
{
    cn_ct_stop(c);
    for (int k = 0; k < CN_MAX_CAND; k++)
        cn_clip_unref(&c->rt.slot[k]);    /* run()'s borrowed references */
    cn_ring_free(&c->to_ct);
    cn_ring_free(&c->from_ct);
    free(c->cap);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static LV2_Handle s_instantiate(const LV2_Descriptor *d, double rate, const char *bundle,
                                const LV2_Feature *const *features)
{
    (void)d;
    cn_core *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    const LV2_Options_Option *opts = NULL;
    const char *missing = lv2_features_query(
        features, LV2_LOG__log, &c->log, false, LV2_URID__map, &c->map, true,
        LV2_WORKER__schedule, &c->schedule, true, LV2_OPTIONS__options, &opts, false,
        LV2_STATE__makePath, &c->make_path, false, NULL);
    if (missing) {
        fprintf(stderr, "continuo: the host does not provide %s, which it needs\n", missing);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->rate = rate;
    snprintf(c->bundle, sizeof c->bundle, "%s", bundle ? bundle : "");
    cn_uris_map(&c->uris, c->map);
    cn_props_map(c->prop_urid, c->map);
    lv2_atom_forge_init(&c->rt.forge, c->map);
    s_read_options(c, opts);
    /* The longest prompt at the host rate, plus one block of slack. */
    c->cap_frames = (int64_t)ceil(CN_MAX_PROMPT_44K * rate / CN_MODEL_RATE) + c->max_block;
    c->cap = calloc((size_t)c->cap_frames * 2, sizeof(float));
    atomic_init(&c->cap_locked, false);
    c->rt.play_start = -1;
    c->saved.selected = 0;
    c->saved.region_end = -1;
    char err[512];
    if (!c->cap || cn_ring_init(&c->to_ct, CN_RING_BYTES) ||
        cn_ring_init(&c->from_ct, CN_RING_BYTES)) {
        cn_log_error(c, "out of memory at instantiate");
        s_free(c);
        return NULL;
    }
    if (cn_ct_start(c, err, sizeof err)) {
        cn_log_error(c, err);
        s_free(c);
        return NULL;
    }
    return c;
}

static void s_connect(LV2_Handle h, uint32_t port, void *data)
{
    cn_core *c = h;
    if (port < CN_PORT_COUNT)
        c->port[port] = data;
}

static void s_activate(LV2_Handle h)
{
    cn_core *c = h;
    c->rt.auditioning = false;
    c->rt.props_dirty = true;     /* tell a UI or host the current property values */
    c->rt.text_dirty = c->rt.text[0] != '\0';
}

/* Realtime: see run.c. Never allocates, locks, blocks, logs or touches the network. */
static void s_run(LV2_Handle h, uint32_t n)
{
    cn_run(h, n);
}

static void s_deactivate(LV2_Handle h)
{
    (void)h;
}

static void s_cleanup(LV2_Handle h)
{
    s_free(h);
}

static const void *s_extension_data(const char *uri)
{
    static const LV2_Worker_Interface worker = { cn_work, cn_work_response, NULL };
    if (!strcmp(uri, LV2_WORKER__interface))
        return &worker;
    if (!strcmp(uri, LV2_STATE__interface))
        return &cn_state_iface;
    return NULL;
}

static const LV2_Descriptor s_descriptor = {
    CN_URI, s_instantiate, s_connect, s_activate, s_run, s_deactivate, s_cleanup,
    s_extension_data
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
    return index == 0 ? &s_descriptor : NULL;
}
