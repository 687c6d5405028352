/* SPDX-License-Identifier: MIT
 * State save/restore: properties, the composition id, the chosen path and the clip files
 * (atom:Path through state:mapPath). Restore loads clips from disk, so a session reopens with
 * its candidates even when the helper is down. Never called from run().
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/core/lv2_util.h>

static LV2_URID s_clip_key(cn_core *c, int step, int k)
{
    char uri[256];
    snprintf(uri, sizeof uri, "%s-%d-%d", CN__clip, step, k);
    return c->map->map(c->map->handle, uri);
}

static void s_store_str(LV2_State_Store_Function store, LV2_State_Handle h, LV2_URID key,
                        LV2_URID type, const char *s)
{
    store(h, key, s, strlen(s) + 1, type, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
}

static void s_store_path(cn_core *c, LV2_State_Store_Function store, LV2_State_Handle h,
                         LV2_State_Map_Path *mp, LV2_URID key, const char *path)
{
    char *abs = mp && path[0] ? mp->abstract_path(mp->handle, path) : NULL;
    s_store_str(store, h, key, c->uris.atom_Path, abs ? abs : path);
    free(abs);
}

static LV2_State_Status s_save(LV2_Handle h, LV2_State_Store_Function store,
                               LV2_State_Handle sh, uint32_t flags,
                               const LV2_Feature *const *features)
{
    (void)flags;
    cn_core *c = h;
    LV2_State_Map_Path *mp = lv2_features_data(features, LV2_STATE__mapPath);
    cn_saved *s = malloc(sizeof *s);
    cn_props *p = malloc(sizeof *p);
    if (!s || !p) {
        free(s);
        free(p);
        return LV2_STATE_ERR_NO_SPACE;
    }
    pthread_mutex_lock(&c->lock);
    *s = c->saved;
    *p = c->props;
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < CN_P_COUNT; i++) {
        if (cn_prop_defs[i].is_path) {
            if (p->v[i][0])   /* an empty path is no path: hosts warn on an empty atom:Path */
                s_store_path(c, store, sh, mp, c->prop_urid[i], p->v[i]);
        } else {
            s_store_str(store, sh, c->prop_urid[i], c->uris.atom_String, p->v[i]);
        }
    }
    s_store_str(store, sh, c->uris.cn_composition, c->uris.atom_String, s->composition);
    s_store_str(store, sh, c->uris.cn_tree, c->uris.atom_String, s->tree);
    int32_t sel = s->selected;
    store(sh, c->uris.cn_selected, &sel, sizeof sel, c->uris.atom_Int,
          LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    int64_t end = s->region_end;
    store(sh, c->uris.cn_regionEnd, &end, sizeof end, c->uris.atom_Long,
          LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    for (int i = 0; i < s->depth && i < CN_MAX_STEPS; i++)
        for (int k = 0; k < CN_MAX_CAND; k++)
            if (s->clip_path[i][k][0])
                s_store_path(c, store, sh, mp, s_clip_key(c, i, k), s->clip_path[i][k]);
    free(s);
    free(p);
    return LV2_STATE_SUCCESS;
}

/* A string or path value; paths made absolute. Returns 0, or -1 when absent or mistyped. */
static int s_get(cn_core *c, LV2_State_Retrieve_Function get, LV2_State_Handle h,
                 LV2_State_Map_Path *mp, LV2_URID key, char *out, size_t cap)
{
    size_t size = 0;
    uint32_t type = 0, fl = 0;
    const char *v = get(h, key, &size, &type, &fl);
    if (!v || (type != c->uris.atom_String && type != c->uris.atom_Path))
        return -1;
    size_t len = strnlen(v, size);
    char *abs = type == c->uris.atom_Path && mp && len ? mp->absolute_path(mp->handle, v)
                                                        : NULL;
    const char *src = abs ? abs : v;
    if (abs)
        len = strlen(abs);
    int ok = len < cap ? 0 : -1;
    if (!ok) {
        memcpy(out, src, len);
        out[len] = '\0';
    }
    free(abs);
    return ok;
}

static void s_restore_props(cn_core *c, LV2_State_Retrieve_Function get, LV2_State_Handle h,
                            LV2_State_Map_Path *mp)
{
    static _Thread_local char buf[CN_PROP_CAP];
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < CN_P_COUNT; i++) {
        if (s_get(c, get, h, mp, c->prop_urid[i], buf, sizeof buf))
            continue;   /* absent (older session) or too long: keep the current value */
        if (cn_prop_set(&c->props, i, buf, strlen(buf)) == 0)
            cn_prop_set(&c->rt.props, i, buf, strlen(buf));
    }
    pthread_mutex_unlock(&c->lock);
    c->rt.props_dirty = true;
    cn_ct_props_changed(c);
}

/* Parses the tree lines "S I chosen node parent" and loads each clip file. */
static void s_restore_tree(cn_core *c, const char *tree, cn_restored *r,
                           LV2_State_Retrieve_Function get, LV2_State_Handle h,
                           LV2_State_Map_Path *mp)
{
    const char *p = tree;
    while (p && *p) {
        int s = -1, k = -1, chosen = 0;
        char node[64] = "", parent[64] = "";
        if (sscanf(p, "%d %d %d %63s %63s", &s, &k, &chosen, node, parent) == 5 && s >= 0 &&
            s < CN_MAX_STEPS && k >= 0 && k < CN_MAX_CAND) {
            snprintf(r->node[s][k], 64, "%s", node);
            snprintf(r->parent[s], 64, "%s", strcmp(parent, "-") ? parent : "");
            r->chosen[s] = chosen;
            r->n[s]++;
            if (s + 1 > r->depth)
                r->depth = s + 1;
            char err[512];
            if (!s_get(c, get, h, mp, s_clip_key(c, s, k), r->path[s][k], 1024)) {
                char name[160];
                snprintf(name, sizeof name, "%s", r->path[s][k]);
                char *base = strrchr(name, '/'), *dot = strrchr(name, '.');
                if (dot)
                    *dot = '\0';
                r->clip[s][k] = cn_clip_read(r->path[s][k], c->rate, base ? base + 1 : name,
                                             err, sizeof err);
                if (!r->clip[s][k])
                    fprintf(stderr, "continuo: restoring a clip: %s\n", err);
            }
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
}

static LV2_State_Status s_restore(LV2_Handle h, LV2_State_Retrieve_Function get,
                                  LV2_State_Handle sh, uint32_t flags,
                                  const LV2_Feature *const *features)
{
    (void)flags;
    cn_core *c = h;
    LV2_State_Map_Path *mp = lv2_features_data(features, LV2_STATE__mapPath);
    s_restore_props(c, get, sh, mp);
    cn_restored *r = calloc(1, sizeof *r);
    char *tree = malloc(sizeof c->saved.tree);
    if (!r || !tree) {
        free(r);
        free(tree);
        return LV2_STATE_ERR_NO_SPACE;
    }
    s_get(c, get, sh, NULL, c->uris.cn_composition, r->composition, sizeof r->composition);
    tree[0] = '\0';
    s_get(c, get, sh, NULL, c->uris.cn_tree, tree, sizeof c->saved.tree);
    size_t size;
    uint32_t type, fl;
    const void *v = get(sh, c->uris.cn_selected, &size, &type, &fl);
    if (v && type == c->uris.atom_Int && size == sizeof(int32_t))
        r->selected = *(const int32_t *)v;
    v = get(sh, c->uris.cn_regionEnd, &size, &type, &fl);
    r->region_end = v && type == c->uris.atom_Long && size == sizeof(int64_t)
                        ? *(const int64_t *)v : -1;
    s_restore_tree(c, tree, r, get, sh, mp);
    free(tree);
    if (!r->composition[0] && !r->depth) {
        free(r);   /* nothing composed in this session yet */
        return LV2_STATE_SUCCESS;
    }
    cn_ct_restore(c, r);
    return LV2_STATE_SUCCESS;
}

const LV2_State_Interface cn_state_iface = { s_save, s_restore };
