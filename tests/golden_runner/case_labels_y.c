/* SPDX-License-Identifier: MIT
 * Golden case labels, part 2: label vectors y (Labeller.get_label and SimplePrior.get_y per
 * window) and lyric indices for every released label geometry, against helper/engine/labels.c.
 */
#include "golden.h"
#include "labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void golden_labels_geometries(golden_ctx *g, const char *case_dir, const cJSON *facts,
                              cn_label_tables *v2, cn_label_tables *v3);

typedef struct s_geo {
    const char *model;
    cn_label_geom lg;
    int64_t raw_to_tokens;
    int items, windows, ylen;
    cn_npy yget, ywin, lwin;     /* lwin.data NULL without lyrics */
} s_geo;

static int64_t s_int(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -999;
}

/* The golden holds lyric ids but not the lyric text: rebuild what it shows of each item's full
 * list (index -> id) from the windows; -1 where no window shows that index. */
static int32_t *s_lyrics_seen(const s_geo *G, int item, int64_t n_full)
{
    int32_t *f = malloc((size_t)(n_full > 0 ? n_full : 1) * sizeof *f);
    for (int64_t k = 0; k < n_full; k++) f[k] = -1;
    if (!G->lwin.data) return f;
    int nt = G->lg.n_tokens, off = 4 + G->lg.max_genre_words;
    for (int w = 0; w < G->windows; w++) {
        const int32_t *y = (const int32_t *)G->ywin.data + ((size_t)w * G->items + item) * G->ylen;
        const int32_t *ix = (const int32_t *)G->lwin.data + ((size_t)w * G->items + item) * nt;
        for (int k = 0; k < nt; k++)
            if (ix[k] >= 0 && ix[k] < n_full) f[ix[k]] = y[off + k];
    }
    return f;
}

/* Ids of ITEM: from the real tables when present, else from the golden's own y. */
static int s_ids(golden_ctx *g, const s_geo *G, const cJSON *it, int item, cn_label_tables *t,
                 cn_label_ids *ids)
{
    char err[1024], what[256];
    if (t) {
        if (cn_labels_lookup_raw(t, G->lg.max_genre_words, cJSON_GetObjectItem(it, "artist")->valuestring,
                                 cJSON_GetObjectItem(it, "genre")->valuestring, ids, err,
                                 sizeof err) == 0)
            return 0;
        snprintf(what, sizeof what, "labels/%s item %d lookup", G->model, item);
        cn_check_true(&g->check, what, 0, err);
        return -1;
    }
    const int32_t *y = (const int32_t *)G->yget.data + (size_t)item * G->ylen;
    memset(ids, 0, sizeof *ids);
    ids->artist = y[3];
    for (int k = 0; k < G->lg.max_genre_words && y[4 + k] != -1; k++) ids->genres[ids->n_genres++] = y[4 + k];
    return 0;
}

/* y of one item for one window (w < 0: get_label) into Y and IX; -2 rows when refused.
 * Slots whose lyric id the golden never shows are copied from WANT and counted in *unseen. */
static void s_one(const s_geo *G, const cn_label_song *s, int w, int64_t start, int32_t *y,
                  int32_t *ix, const int32_t *want, int64_t *unseen)
{
    int nt = G->lg.n_tokens, off = 4 + G->lg.max_genre_words;
    int64_t idx[1024];
    char err[256];
    if (cn_labels_y(&G->lg, s, start * G->raw_to_tokens, w >= 0, y, nt ? idx : NULL, err,
                    sizeof err) != 0) {
        for (int k = 0; k < G->ylen; k++) y[k] = -2;
        for (int k = 0; k < nt; k++) ix[k] = -2;
        return;
    }
    for (int k = 0; k < nt; k++) {
        ix[k] = (int32_t)idx[k];
        if (idx[k] >= 0 && y[off + k] == -1) {
            y[off + k] = want[off + k];
            (*unseen)++;
        }
    }
}

static void s_geometry(golden_ctx *g, const char *case_dir, const cJSON *geo,
                       cn_label_tables *v2, cn_label_tables *v3)
{
    s_geo G = { .model = cJSON_GetObjectItem(geo, "model")->valuestring };
    G.lg = (cn_label_geom){ .v3 = cJSON_IsTrue(cJSON_GetObjectItem(geo, "v3")),
                            .max_genre_words = (int)s_int(geo, "max_genre_words"),
                            .n_tokens = (int)s_int(geo, "n_tokens"),
                            .sample_length = s_int(geo, "window_samples") };
    G.raw_to_tokens = s_int(geo, "raw_to_tokens");
    G.ylen = cn_labels_y_len(&G.lg);
    char name[256], what[256];
    snprintf(name, sizeof name, "%s/y_from_get_label.npy", G.model);
    if (golden_npy(g, case_dir, name, &G.yget) != 0) return;
    snprintf(name, sizeof name, "%s/y_windows.npy", G.model);
    if (golden_npy(g, case_dir, name, &G.ywin) != 0) goto out;
    if (G.lg.n_tokens) {
        snprintf(name, sizeof name, "%s/lyric_indices_windows.npy", G.model);
        if (golden_npy(g, case_dir, name, &G.lwin) != 0) goto out;
    }
    const cJSON *items = cJSON_GetObjectItem(geo, "items");
    const cJSON *starts = cJSON_GetObjectItem(cJSON_GetObjectItem(geo, "windows"), "start_tokens");
    G.items = cJSON_GetArraySize(items);
    G.windows = cJSON_GetArraySize(starts);
    if (G.yget.shape[1] != G.ylen || G.ywin.shape[0] != G.windows || G.ywin.shape[1] != G.items) {
        snprintf(what, sizeof what, "labels/%s label length", G.model);
        cn_check_true(&g->check, what, 0, "golden arrays do not have the planned shape");
        goto out;
    }
    int nt = G.lg.n_tokens;
    int32_t *yg = calloc((size_t)G.items * G.ylen, sizeof *yg);
    int32_t *yw = calloc((size_t)G.windows * G.items * G.ylen, sizeof *yw);
    int32_t *lw = calloc((size_t)G.windows * G.items * (nt ? nt : 1), sizeof *lw);
    int32_t scratch[1024];
    int64_t unseen = 0;
    for (int i = 0; i < G.items; i++) {
        const cJSON *it = cJSON_GetArrayItem(items, i);
        cn_label_song s = { .total_length = s_int(it, "total_length"),
                            .offset = s_int(it, "offset"), .n_lyric = s_int(it, "n_full_tokens") };
        if (s_ids(g, &G, it, i, G.lg.v3 ? v3 : v2, &s.ids) != 0) continue;
        int32_t *full = s_lyrics_seen(&G, i, s.n_lyric);
        s.lyric_ids = full;
        s_one(&G, &s, -1, 0, yg + (size_t)i * G.ylen, scratch,
              (const int32_t *)G.yget.data + (size_t)i * G.ylen, &unseen);
        for (int w = 0; w < G.windows; w++) {
            size_t r = (size_t)w * G.items + i;
            s_one(&G, &s, w, cJSON_GetArrayItem(starts, w)->valueint, yw + r * G.ylen,
                  nt ? lw + r * nt : scratch, (const int32_t *)G.ywin.data + r * G.ylen, &unseen);
        }
        free(full);
    }
    snprintf(what, sizeof what, "labels/%s/y_from_get_label (exact lyric arithmetic%s)", G.model,
             v2 ? "" : "; golden's ids");
    cn_check_equal_i32(&g->check, what, yg, G.yget.data, (int64_t)G.items * G.ylen);
    snprintf(what, sizeof what, "labels/%s/y_windows (float32 lyric arithmetic, -2 = refused%s)",
             G.model, v2 ? "" : "; golden's ids");
    cn_check_equal_i32(&g->check, what, yw, G.ywin.data, (int64_t)G.windows * G.items * G.ylen);
    if (nt) {
        snprintf(what, sizeof what, "labels/%s/lyric_indices_windows", G.model);
        cn_check_equal_i32(&g->check, what, lw, G.lwin.data, (int64_t)G.windows * G.items * nt);
        printf("     (%s: lyric ids compared where a golden window shows them; %lld slots index "
               "characters no window shows and were not compared)\n", G.model, (long long)unseen);
    }
    free(yg);
    free(yw);
    free(lw);
out:
    cn_npy_free(&G.yget);
    cn_npy_free(&G.ywin);
    cn_npy_free(&G.lwin);
}

void golden_labels_geometries(golden_ctx *g, const char *case_dir, const cJSON *facts,
                              cn_label_tables *v2, cn_label_tables *v3)
{
    const cJSON *geo;
    cJSON_ArrayForEach(geo, cJSON_GetObjectItem(facts, "geometries"))
        s_geometry(g, case_dir, geo, v2, v3);
}
