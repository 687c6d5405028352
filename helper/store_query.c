/* SPDX-License-Identifier: MIT
 * Store reads and level files: node lookups, children, codes, decoded audio and upsampled
 * windows (<k>.l<L>.w<i>.codes/.f32, <k>.l<L>.done). Never writes outside an atomic write.
 */
#define _GNU_SOURCE
#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cn_store_get_node(cn_store *s, const char *id, cn_store_node *out)
{
    pthread_mutex_lock(&s->lock);
    cn_store_node *n = cn_store_find_node(s, id);
    if (n && out) *out = *n;
    pthread_mutex_unlock(&s->lock);
    return n ? 0 : -1;
}

int cn_store_get_comp(cn_store *s, const char *id, cn_store_comp *out)
{
    int rc = -1;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n_comps; i++)
        if (!strcmp(s->comps[i].id, id)) {
            if (out) *out = s->comps[i];
            rc = 0;
        }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int s_push_id(char (**ids)[CN_STORE_ID], int *n, int *cap, const char *id)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 16;
        char (*p)[CN_STORE_ID] = realloc(*ids, (size_t)c * CN_STORE_ID);
        if (!p) return -1;
        *ids = p;
        *cap = c;
    }
    snprintf((*ids)[(*n)++], CN_STORE_ID, "%s", id);
    return 0;
}

int cn_store_children(cn_store *s, const char *id, char (**ids)[CN_STORE_ID], int *n)
{
    *ids = NULL;
    *n = 0;
    int cap = 0, rc = 0;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n_nodes && !rc; i++)
        if (!strcmp(s->nodes[i].parent, id)) rc = s_push_id(ids, n, &cap, s->nodes[i].id);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int cn_store_list(cn_store *s, const char *comp, char (**ids)[CN_STORE_ID], int *n)
{
    *ids = NULL;
    *n = 0;
    int cap = 0, rc = 0;
    pthread_mutex_lock(&s->lock);
    if (!comp || !comp[0]) {
        for (int i = 0; i < s->n_comps && !rc; i++)
            rc = s_push_id(ids, n, &cap, s->comps[i].id);
    } else {
        for (int i = 0; i < s->n_nodes && !rc; i++)
            if (!strcmp(s->nodes[i].comp, comp)) rc = s_push_id(ids, n, &cap, s->nodes[i].id);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Path of a node's file "<k>.<suffix>"; -1 if the node is unknown. */
static int s_node_file(cn_store *s, const char *id, const char *suffix, char *path, size_t len)
{
    if (cn_store_get_node(s, id, NULL)) return -1;
    char comp[CN_STORE_ID], name[128];
    long k;
    cn_store_split(id, comp, sizeof comp, &k);
    snprintf(name, sizeof name, "%ld.%s", k, suffix);
    cn_store_path(s, path, len, comp, name);
    return 0;
}

static int s_unknown(const char *id, char *err, size_t errlen)
{
    snprintf(err, errlen, "node %s is not in the store", id);
    return -1;
}

int cn_store_node_codes(cn_store *s, const char *id, int32_t **codes, int64_t *n, char *err,
                        size_t errlen)
{
    char path[4096];
    if (s_node_file(s, id, "codes", path, sizeof path)) return s_unknown(id, err, errlen);
    size_t len;
    if (cn_store_read_file(path, (void **)codes, &len, err, errlen)) return -1;
    *n = (int64_t)(len / 4);
    return 0;
}

int cn_store_put_audio(cn_store *s, const char *id, int level, const float *audio, int64_t n,
                       char *err, size_t errlen)
{
    char path[4096], suf[32];
    snprintf(suf, sizeof suf, "l%d.f32", level);
    if (s_node_file(s, id, suf, path, sizeof path)) return s_unknown(id, err, errlen);
    return cn_store_write_atomic(path, audio, (size_t)n * 4, NULL, 0, err, errlen);
}

int cn_store_put_window(cn_store *s, const char *id, int level, int idx, const int32_t *codes,
                        int64_t n_codes, const float *audio, int64_t n_audio, char *err,
                        size_t errlen)
{
    char path[4096], suf[64];
    snprintf(suf, sizeof suf, "l%d.w%05d.f32", level, idx);
    if (s_node_file(s, id, suf, path, sizeof path)) return s_unknown(id, err, errlen);
    if (cn_store_write_atomic(path, audio, (size_t)n_audio * 4, NULL, 0, err, errlen))
        return -1;
    snprintf(suf, sizeof suf, "l%d.w%05d.codes", level, idx);   /* codes mark it complete */
    s_node_file(s, id, suf, path, sizeof path);
    return cn_store_write_atomic(path, codes, (size_t)n_codes * 4, NULL, 0, err, errlen);
}

int cn_store_windows_done(cn_store *s, const char *id, int level)
{
    char path[4096], suf[64];
    int k = 0;
    for (;; k++) {
        snprintf(suf, sizeof suf, "l%d.w%05d.codes", level, k);
        if (s_node_file(s, id, suf, path, sizeof path) || access(path, F_OK)) break;
    }
    return k;
}

int cn_store_get_window(cn_store *s, const char *id, int level, int idx, int32_t **codes,
                        int64_t *n_codes, float **audio, int64_t *n_audio, char *err,
                        size_t errlen)
{
    char path[4096], suf[64];
    size_t len;
    if (codes) {
        snprintf(suf, sizeof suf, "l%d.w%05d.codes", level, idx);
        if (s_node_file(s, id, suf, path, sizeof path)) return s_unknown(id, err, errlen);
        if (cn_store_read_file(path, (void **)codes, &len, err, errlen)) return -1;
        *n_codes = (int64_t)(len / 4);
    }
    if (audio) {
        snprintf(suf, sizeof suf, "l%d.w%05d.f32", level, idx);
        if (s_node_file(s, id, suf, path, sizeof path)) return s_unknown(id, err, errlen);
        if (cn_store_read_file(path, (void **)audio, &len, err, errlen)) {
            if (codes) { free(*codes); *codes = NULL; }
            return -1;
        }
        *n_audio = (int64_t)(len / 4);
    }
    return 0;
}

int cn_store_finish_level(cn_store *s, const char *id, int level, int count, char *err,
                          size_t errlen)
{
    char path[4096], suf[32], txt[32];
    snprintf(suf, sizeof suf, "l%d.done", level);
    if (s_node_file(s, id, suf, path, sizeof path)) return s_unknown(id, err, errlen);
    int n = snprintf(txt, sizeof txt, "%d\n", count);
    return cn_store_write_atomic(path, txt, (size_t)n, NULL, 0, err, errlen);
}

static int s_level_count(cn_store *s, const char *id, int level)
{
    char path[4096], suf[32];
    snprintf(suf, sizeof suf, "l%d.done", level);
    if (s_node_file(s, id, suf, path, sizeof path)) return -1;
    FILE *f = fopen(path, "r");
    int count = -1;
    if (f) {
        if (fscanf(f, "%d", &count) != 1) count = -1;
        fclose(f);
    }
    return count;
}

uint32_t cn_store_levels(cn_store *s, const char *id)
{
    uint32_t bits = 0;
    char path[4096];
    if (!s_node_file(s, id, "l2.f32", path, sizeof path) && !access(path, F_OK)) bits |= 4;
    for (int l = 0; l < 2; l++)
        if (s_level_count(s, id, l) >= 0) bits |= 1u << l;
    return bits;
}

int cn_store_get_audio(cn_store *s, const char *id, int level, float **audio, int64_t *n,
                       char *err, size_t errlen)
{
    char path[4096];
    *audio = NULL;
    *n = 0;
    if (level == 2) {
        if (s_node_file(s, id, "l2.f32", path, sizeof path)) return s_unknown(id, err, errlen);
        size_t len;
        if (cn_store_read_file(path, (void **)audio, &len, err, errlen)) return -1;
        *n = (int64_t)(len / 4);
        return 0;
    }
    int count = s_level_count(s, id, level);
    if (count < 0) {
        if (cn_store_get_node(s, id, NULL)) return s_unknown(id, err, errlen);
        snprintf(err, errlen, "node %s is not upsampled to level %d yet (%d windows done)", id,
                 level, cn_store_windows_done(s, id, level));
        return -1;
    }
    float *all = NULL;
    int64_t total = 0;
    for (int i = 0; i < count; i++) {
        float *w;
        int64_t nw;
        if (cn_store_get_window(s, id, level, i, NULL, NULL, &w, &nw, err, errlen)) {
            free(all);
            return -1;
        }
        float *p = realloc(all, (size_t)(total + nw) * 4 + 4);
        if (!p) { free(w); free(all); snprintf(err, errlen, "out of memory"); return -1; }
        all = p;
        memcpy(all + total, w, (size_t)nw * 4);
        total += nw;
        free(w);
    }
    *audio = all;
    *n = total;
    return 0;
}
