/* SPDX-License-Identifier: MIT
 * Golden case labels, part 1: vocabularies, text cleaning, artist/genre lookup, the lyric window
 * probe and the timing bins, against helper/engine/{text,labels,timing}.c. Exact integers.
 */
#include "golden.h"
#include "labels.h"
#include "text.h"
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* case_labels_y.c: the label vectors of every geometry (tables may be NULL). */
void golden_labels_geometries(golden_ctx *g, const char *case_dir, const cJSON *facts,
                              cn_label_tables *v2, cn_label_tables *v3);

static int64_t s_int(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -999;
}

static void s_vocab(golden_ctx *g, const cJSON *facts, int v3)
{
    const cJSON *voc = cJSON_GetObjectItem(facts, v3 ? "vocab_v3" : "vocab_v2"), *e;
    int n = 0, bad = 0;
    char d[160] = "", what[64];
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(voc, "id_of_char")) {
        int want = e->valueint, ch = strcmp(e->string, "<unk>") == 0 ? 0 : (unsigned char)e->string[0];
        int got = ch ? cn_text_char_id(v3, ch) : 0;
        int back = ch ? cn_text_id_char(v3, want) : 0;
        if ((got != want || back != ch) && !bad++)
            snprintf(d, sizeof d, "char 0x%02X: id %d, want %d", ch, got, want);
        n++;
    }
    int nv = cn_text_n_vocab(v3);
    if (nv != s_int(voc, "n_vocab") && !bad++)
        snprintf(d, sizeof d, "n_vocab %d, want %lld", nv, (long long)s_int(voc, "n_vocab"));
    if (!bad) snprintf(d, sizeof d, "%d characters and n_vocab %d identical", n, nv);
    snprintf(what, sizeof what, "labels/vocab_v%d", v3 ? 3 : 2);
    cn_check_true(&g->check, what, !bad, d);
}

static void s_cleaning(golden_ctx *g, const cJSON *facts)
{
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(facts, "text_cleaning")) {
        int v3 = cJSON_IsTrue(cJSON_GetObjectItem(t, "v3"));
        const char *text = cJSON_GetObjectItem(t, "text")->valuestring;
        const char *want = cJSON_GetObjectItem(t, "cleaned")->valuestring;
        const cJSON *tok = cJSON_GetObjectItem(t, "tokens");
        char what[128], d[256], err[256], *clean = NULL;
        int32_t *ids = NULL;
        int64_t n = 0;
        cn_text_report rep;
        snprintf(what, sizeof what, "labels/text_cleaning[%d] v%d", i++, v3 ? 3 : 2);
        if (cn_text_clean(text, v3, &clean, &rep, err, sizeof err) != 0 ||
            cn_text_tokens(text, v3, &ids, &n, NULL, err, sizeof err) != 0) {
            cn_check_true(&g->check, what, 0, err);
            free(clean);
            continue;
        }
        int ok = strcmp(clean, want) == 0 && n == cJSON_GetArraySize(tok) &&
                 rep.n_untransliterated == 0;
        for (int64_t k = 0; ok && k < n; k++) ok = ids[k] == cJSON_GetArrayItem(tok, (int)k)->valueint;
        if (ok) snprintf(d, sizeof d, "cleaned text and %lld ids identical", (long long)n);
        else snprintf(d, sizeof d, "got '%s' (%lld ids, %lld untransliterated), want '%s'",
                      clean, (long long)n, (long long)rep.n_untransliterated, want);
        cn_check_true(&g->check, what, ok, d);
        free(clean);
        free(ids);
    }
}

/* Reads DIR/NAME into a malloc'd string, NULL if absent. */
static char *s_slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* The id tables' folder: $CONTINUO_IDS_DIR, else beside a golden set that lives in shared/
 * (ROOT/../jukebox-ids), else the shared/ beside this repository for its tests/golden copy. */
static void s_tables_dir(const golden_ctx *g, char *dir, size_t dirlen)
{
    const char *env = getenv("CONTINUO_IDS_DIR");
    if (env && *env) {
        snprintf(dir, dirlen, "%s", env);
        return;
    }
    snprintf(dir, dirlen, "%s/../jukebox-ids", g->root);
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/v2_artist_ids.txt", dir);
    if (access(probe, R_OK) != 0) snprintf(dir, dirlen, "%s/../../../shared/jukebox-ids", g->root);
}

/* Loads the real id tables from the folder s_tables_dir finds. */
static int s_tables(golden_ctx *g, cn_label_tables **v2, cn_label_tables **v3, char *dir,
                    size_t dirlen)
{
    s_tables_dir(g, dir, dirlen);
    char *a2 = s_slurp(dir, "v2_artist_ids.txt"), *g2 = s_slurp(dir, "v2_genre_ids.txt");
    char *a3 = s_slurp(dir, "v3_artist_ids.txt"), *g3 = s_slurp(dir, "v3_genre_ids.txt");
    int rc = -1;
    char err[512];
    if (a2 && g2 && a3 && g3) {
        rc = 0;
        if (cn_label_tables_new(v2, a2, g2, 0, err, sizeof err) != 0 ||
            cn_label_tables_new(v3, a3, g3, 1, err, sizeof err) != 0) {
            cn_check_true(&g->check, "labels/id tables load", 0, err);
            rc = -1;
        }
    }
    free(a2);
    free(g2);
    free(a3);
    free(g3);
    return rc;
}

static void s_lookup(golden_ctx *g, const cJSON *facts, cn_label_tables *v2,
                     cn_label_tables *v3)
{
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(facts, "artist_genre_lookup")) {
        int is3 = cJSON_IsTrue(cJSON_GetObjectItem(t, "v3"));
        const char *artist = cJSON_GetObjectItem(t, "artist")->valuestring;
        const char *genre = cJSON_GetObjectItem(t, "genre")->valuestring;
        const cJSON *wg = cJSON_GetObjectItem(t, "genre_ids");
        cn_label_ids ids, strict;
        char what[256], d[1024], err[1024] = "";
        snprintf(what, sizeof what, "labels/artist_genre_lookup[%d] v%d '%s' / '%s'", i++,
                 is3 ? 3 : 2, artist, genre);
        int max = is3 ? 1 : 5;
        int ok = cn_labels_lookup_raw(is3 ? v3 : v2, max, artist, genre, &ids, err, sizeof err) == 0;
        ok = ok && ids.artist == s_int(t, "artist_id") && ids.n_genres == cJSON_GetArraySize(wg);
        for (int k = 0; ok && k < ids.n_genres; k++)
            ok = ids.genres[k] == cJSON_GetArrayItem(wg, k)->valueint;
        /* The engine's strict lookup must agree on known names and refuse any 0 from an
         * unknown name. */
        int unknown = 0;
        for (int k = 0; k < ids.n_genres; k++) unknown |= ids.genres[k] == 0;
        unknown |= ids.artist == 0;
        int srefused = cn_labels_lookup(is3 ? v3 : v2, max, artist, genre, &strict, d,
                                        sizeof d) != 0;
        if (ok && !srefused) ok = memcmp(&strict, &ids, sizeof ids) == 0;
        if (ok && srefused && !unknown) ok = 0;
        char s[1200];
        if (ok) snprintf(s, sizeof s, "artist %d, %d genre ids identical%s%s", ids.artist,
                         ids.n_genres, srefused ? "; strict lookup refuses: " : "",
                         srefused ? d : "");
        else snprintf(s, sizeof s, "got artist %d (%d genres) %s; strict: %s", ids.artist,
                      ids.n_genres, err, srefused ? d : "accepted");
        cn_check_true(&g->check, what, ok, s);
    }
}

static void s_probe(golden_ctx *g, const cJSON *facts)
{
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(facts, "lyric_window_probe")) {
        int64_t got[2];
        char err[256], what[96], d[256];
        int rc = 0;
        for (int p = 0; p < 2; p++)
            rc |= cn_lyric_window_first(s_int(t, "n_full"), (int)s_int(t, "n_tokens"),
                                        s_int(t, "total_length"), s_int(t, "offset"),
                                        s_int(t, "duration"), p, &got[p], err, sizeof err);
        int64_t w0 = s_int(t, "first_index_python_ints"), w1 = s_int(t, "first_index_int64_tensors");
        snprintf(what, sizeof what, "labels/lyric_window_probe[%d]", i++);
        snprintf(d, sizeof d, "exact %lld (want %lld), float32 %lld (want %lld)%s",
                 (long long)got[0], (long long)w0, (long long)got[1], (long long)w1,
                 w0 != w1 ? ", a case where the two differ" : "");
        cn_check_true(&g->check, what, rc == 0 && got[0] == w0 && got[1] == w1, rc ? err : d);
    }
}

static void s_timing_model(golden_ctx *g, const char *case_dir, const cJSON *tm)
{
    const char *model = cJSON_GetObjectItem(tm, "model")->valuestring;
    cn_timing_geom geom = { .t_bins = (int)s_int(tm, "t_bins"), .sr = 44100,
        .min_duration = cJSON_GetObjectItem(tm, "min_duration")->valuedouble,
        .max_duration = cJSON_GetObjectItem(tm, "max_duration")->valuedouble };
    int n_ctx = (int)s_int(tm, "n_time");
    char name[256], what[256], err[256];
    cn_npy y, tb, ab, rb;
    snprintf(name, sizeof name, "timing/%s/y.npy", model);
    if (golden_npy(g, case_dir, name, &y) != 0) return;
    snprintf(name, sizeof name, "timing/%s/total_length_bin.npy", model);
    golden_npy(g, case_dir, name, &tb);
    snprintf(name, sizeof name, "timing/%s/absolute_pos_bins.npy", model);
    golden_npy(g, case_dir, name, &ab);
    snprintf(name, sizeof name, "timing/%s/relative_pos_bins.npy", model);
    golden_npy(g, case_dir, name, &rb);
    int rows = (int)y.shape[0], cols = (int)y.shape[1];
    int32_t *t = calloc((size_t)rows, sizeof *t);
    int32_t *a = calloc((size_t)rows * n_ctx, sizeof *a), *r = calloc((size_t)rows * n_ctx, sizeof *r);
    int failed = 0;
    for (int i = 0; i < rows; i++) {
        const int32_t *yy = (const int32_t *)y.data + (size_t)i * cols;
        int tbin;
        if (cn_timing_bins(&geom, yy[0], yy[1], yy[2], n_ctx, &tbin, a + (size_t)i * n_ctx,
                           r + (size_t)i * n_ctx, err, sizeof err) != 0) {
            snprintf(what, sizeof what, "labels/timing/%s row %d", model, i);
            cn_check_true(&g->check, what, 0, err);
            failed = 1;
        }
        t[i] = tbin;
    }
    if (!failed && tb.data && ab.data && rb.data) {
        snprintf(what, sizeof what, "labels/timing/%s total_length_bin", model);
        cn_check_equal_i32(&g->check, what, t, tb.data, rows);
        snprintf(what, sizeof what, "labels/timing/%s absolute_pos_bins", model);
        cn_check_equal_i32(&g->check, what, a, ab.data, (int64_t)rows * n_ctx);
        snprintf(what, sizeof what, "labels/timing/%s relative_pos_bins", model);
        cn_check_equal_i32(&g->check, what, r, rb.data, (int64_t)rows * n_ctx);
    }
    free(t);
    free(a);
    free(r);
    cn_npy_free(&y);
    cn_npy_free(&tb);
    cn_npy_free(&ab);
    cn_npy_free(&rb);
}

int golden_case_labels(golden_ctx *g, const char *case_dir)
{
    cJSON *m = golden_manifest(g, case_dir);
    if (!m) return -1;
    const cJSON *facts = cJSON_GetObjectItem(m, "facts"), *tm;
    s_vocab(g, facts, 0);
    s_vocab(g, facts, 1);
    s_cleaning(g, facts);
    cn_label_tables *v2 = NULL, *v3 = NULL;
    char dir[4096];
    if (s_tables(g, &v2, &v3, dir, sizeof dir) == 0 && v2 && v3)
        s_lookup(g, facts, v2, v3);
    else if (!v2 || !v3)
        printf("skipped: artist/genre tables not present (looked in %s; set CONTINUO_IDS_DIR "
               "to the folder of v2/v3_{artist,genre}_ids.txt); label vectors below use the "
               "golden's own ids\n", dir);
    s_probe(g, facts);
    golden_labels_geometries(g, case_dir, facts, v2, v3);
    cJSON_ArrayForEach(tm, cJSON_GetObjectItem(facts, "timing")) s_timing_model(g, case_dir, tm);
    cn_label_tables_destroy(&v2);
    cn_label_tables_destroy(&v3);
    cJSON_Delete(m);
    return 0;
}
