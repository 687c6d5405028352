/* SPDX-License-Identifier: MIT
 * Golden case windows: get_starts and the reference's end-to-end window schedules
 * (facts 10) against helper/engine/windows.c. Integers only; every one must match exactly.
 */
#include "golden.h"
#include "labels.h"
#include "windows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t s_raw_to_tokens[3] = { 8, 32, 128 };

static int64_t s_int(const cJSON *o, const char *k, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static void s_get_starts(golden_ctx *g, const cJSON *facts)
{
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(facts, "get_starts")) {
        int64_t total = s_int(t, "total_length", 0), n_ctx = s_int(t, "n_ctx", 0),
                hop = s_int(t, "hop_length", 0);
        const cJSON *want = cJSON_GetObjectItem(t, "starts");
        int64_t n = cn_get_starts(total, n_ctx, hop, NULL, 0);
        int nw = cJSON_GetArraySize(want);
        int32_t *got = calloc((size_t)(n > nw ? n : nw) + 1, sizeof *got);
        int32_t *exp = calloc((size_t)(n > nw ? n : nw) + 1, sizeof *exp);
        int64_t *st = calloc((size_t)(n > 0 ? n : 1), sizeof *st);
        cn_get_starts(total, n_ctx, hop, st, n);
        for (int64_t k = 0; k < n; k++) got[k] = (int32_t)st[k];
        for (int k = 0; k < nw; k++) exp[k] = cJSON_GetArrayItem(want, k)->valueint;
        char what[160];
        snprintf(what, sizeof what, "windows/get_starts[%d] (total %lld, n_ctx %lld, hop %lld)",
                 i++, (long long)total, (long long)n_ctx, (long long)hop);
        if (n != nw) {
            char d[96];
            snprintf(d, sizeof d, "%lld starts, want %d", (long long)n, nw);
            cn_check_true(&g->check, what, 0, d);
        } else {
            cn_check_equal_i32(&g->check, what, got, exp, n);
        }
        free(got);
        free(exp);
        free(st);
    }
}

/* n_tokens of the top level of a model set's lyric prior, 0 without lyrics. */
static int s_n_tokens(const char *model, int level)
{
    if (level != 2) return 0;
    if (strcmp(model, "1b_lyrics") == 0) return 384;
    if (strcmp(model, "5b_lyrics") == 0) return 512;
    return 0;
}

/* The scenarios do not state the length of their lyrics: find the lengths (0..99999) that
 * reproduce every level-2 lyric range with the float32 chooser; returns the smallest, and in
 * *count how many there are. */
static int64_t s_implied_lyric_len(const cJSON *wins, int n_tokens, int64_t *count)
{
    int64_t best = -1;
    *count = 0;
    for (int64_t nl = 0; nl < 100000; nl++) {
        int ok = 1;
        const cJSON *w;
        cJSON_ArrayForEach(w, wins) {
            if (s_int(w, "level", -1) != 2 || !cJSON_GetObjectItem(w, "lyric_first_index"))
                continue;
            int64_t first;
            char err[256];
            if (cn_lyric_window_first(nl, n_tokens, s_int(w, "y_total_length", 0),
                                      s_int(w, "y_offset", 0), s_int(w, "y_sample_length", 0),
                                      1, &first, err, sizeof err) != 0 ||
                (first < 0 ? -1 : first) != s_int(w, "lyric_first_index", -9)) {
                ok = 0;
                break;
            }
        }
        if (ok && (*count)++ == 0) best = nl;
    }
    return best;
}

typedef struct s_ints {
    int32_t *got, *want;
    int n, cap;
    int first_bad;          /* index of the first mismatch, -1 none */
    char where[160];        /* what that first mismatch was */
} s_ints;

static void s_push(s_ints *a, int64_t got, int64_t want, const char *field, int win)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 256;
        a->got = realloc(a->got, (size_t)a->cap * sizeof *a->got);
        a->want = realloc(a->want, (size_t)a->cap * sizeof *a->want);
    }
    if (got != want && a->first_bad < 0) {
        a->first_bad = a->n;
        snprintf(a->where, sizeof a->where, "window %d %s: got %lld, want %lld", win, field,
                 (long long)got, (long long)want);
    }
    a->got[a->n] = (int32_t)got;
    a->want[a->n++] = (int32_t)want;
}

/* Compares planned window W with golden window J (index IDX of the scenario). */
static void s_compare_window(s_ints *a, const cn_window *w, int level, const cJSON *j, int idx)
{
    const cJSON *arg = cJSON_GetObjectItem(j, "sample_tokens_arg");
    s_push(a, level, s_int(j, "level", -1), "level", idx);
    s_push(a, w->start, s_int(j, "start", -1), "start", idx);
    s_push(a, w->sampled, cJSON_IsTrue(cJSON_GetObjectItem(j, "sampled")), "sampled", idx);
    s_push(a, w->sample_tokens, cJSON_IsNumber(arg) ? (int64_t)arg->valuedouble : -1,
           "sample_tokens_arg", idx);
    if (!w->sampled) return;
    static const char *const f[] = { "existing_tokens", "window_tokens", "new_tokens",
                                     "y_total_length", "y_offset", "y_sample_length",
                                     "cond_first_position", "cond_tokens", "lyric_first_index",
                                     "lyric_last_index" };
    const int64_t v[] = { w->existing, w->window_tokens, w->new_tokens, w->y_total_length,
                          w->y_offset, w->y_sample_length, w->cond_first, w->cond_tokens,
                          w->lyric_first, w->lyric_last };
    for (int k = 0; k < 10; k++)
        if (k < 6 || cJSON_GetObjectItem(j, f[k])) s_push(a, v[k], s_int(j, f[k], -9), f[k], idx);
}

static int64_t s_song_total(const cJSON *wins)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, wins)
        if (cJSON_GetObjectItem(w, "y_total_length")) return s_int(w, "y_total_length", 0);
    return 0;
}

static void s_scenario(golden_ctx *g, const cJSON *sc)
{
    const char *name = cJSON_GetObjectItem(sc, "name")->valuestring;
    const char *model = cJSON_GetObjectItem(sc, "model")->valuestring;
    const cJSON *levels = cJSON_GetObjectItem(sc, "levels"), *wins = cJSON_GetObjectItem(sc, "windows");
    const cJSON *hf = cJSON_GetObjectItem(sc, "hop_fraction");
    int64_t sample_length = s_int(sc, "sample_length", 0), song_total = s_song_total(wins);
    int64_t n_lyric = 0, count = 0, above_after[3] = { -1, -1, -1 };
    int n_tok_top = s_n_tokens(model, 2);
    char what[256], d[256];
    if (n_tok_top) {
        n_lyric = s_implied_lyric_len(wins, n_tok_top, &count);
        snprintf(what, sizeof what, "windows/%s: lyric ranges (the scenario does not list its "
                 "lyric length)", name);
        snprintf(d, sizeof d, "%lld length(s) in 0..99999 reproduce every level-2 range, the "
                 "smallest %lld is used below", (long long)count, (long long)n_lyric);
        cn_check_true(&g->check, what, count > 0, d);
    }
    s_ints lv = { .first_bad = -1 }, ws = { .first_bad = -1 };
    const cJSON *L;
    int wi = 0;
    cJSON_ArrayForEach(L, levels) {
        int level = (int)s_int(L, "level", -1);
        int64_t n_ctx = s_int(L, "n_ctx", 0);
        cn_window_plan_cfg c = {
            .level = level, .n_ctx = n_ctx, .raw_to_tokens = s_raw_to_tokens[level],
            .total_length = sample_length / s_raw_to_tokens[level],
            .have = s_int(L, "tokens_before", 0),
            .hop_length = cn_hop_length(cJSON_GetArrayItem(hf, level)->valuedouble, n_ctx),
            .partial_quirk = 1, .cond_ratio = level < 2 ? 4 : 0,
            .above_len = level < 2 ? above_after[level + 1] : -1,
            .song_total_length = song_total, .n_tokens = s_n_tokens(model, level),
            .n_lyric = n_lyric,
        };
        cn_window_plan p;
        char err[512];
        if (cn_window_plan_make(&c, &p, err, sizeof err) != 0) {
            snprintf(what, sizeof what, "windows/%s: plan level %d", name, level);
            cn_check_true(&g->check, what, 0, err);
            goto done;
        }
        s_push(&lv, c.total_length, s_int(L, "total_length", -1), "total_length", level);
        s_push(&lv, c.hop_length, s_int(L, "hop_length", -1), "hop_length", level);
        s_push(&lv, p.tokens_after, s_int(L, "tokens_after", -1), "tokens_after", level);
        s_push(&lv, p.partial_path, cJSON_IsTrue(cJSON_GetObjectItem(L, "partial_window_path")),
               "partial_window_path", level);
        above_after[level] = p.tokens_after;
        for (int64_t k = 0; k < p.n; k++) {
            const cJSON *j = cJSON_GetArrayItem(wins, wi);
            if (j) s_compare_window(&ws, &p.w[k], level, j, wi);
            else s_push(&ws, 1, 0, "beyond the golden's windows", wi);
            wi++;
        }
        cn_window_plan_free(&p);
    }
    snprintf(what, sizeof what, "windows/%s: window count", name);
    snprintf(d, sizeof d, "%d planned, %d in the golden", wi, cJSON_GetArraySize(wins));
    cn_check_true(&g->check, what, wi == cJSON_GetArraySize(wins), d);
    snprintf(what, sizeof what, "windows/%s: per-level totals, hops, tokens after, path", name);
    if (lv.first_bad >= 0) printf("     first difference: level %s\n", lv.where + 7);
    cn_check_equal_i32(&g->check, what, lv.got, lv.want, lv.n);
    snprintf(what, sizeof what, "windows/%s: every window's start, skip, context, labels, "
             "conditioning%s", name, n_tok_top ? ", lyric range" : "");
    if (ws.first_bad >= 0) printf("     first difference: %s\n", ws.where);
    cn_check_equal_i32(&g->check, what, ws.got, ws.want, ws.n);
done:
    free(lv.got);
    free(lv.want);
    free(ws.got);
    free(ws.want);
}

int golden_case_windows(golden_ctx *g, const char *case_dir)
{
    cJSON *m = golden_manifest(g, case_dir);
    if (!m) return -1;
    const cJSON *facts = cJSON_GetObjectItem(m, "facts"), *sc;
    s_get_starts(g, facts);
    cJSON_ArrayForEach(sc, cJSON_GetObjectItem(facts, "scenarios")) s_scenario(g, sc);
    cJSON_Delete(m);
    return 0;
}
