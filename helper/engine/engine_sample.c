/* SPDX-License-Identifier: MIT
 * The windowed sampler of engine.h (cn_engine_sample_level) and label checks: plans a level's
 * windows (windows.h), builds each window's labels, primes the prior with the codes already
 * there and draws the new ones on the backend, batch by batch. Never prints.
 */
#include "engine_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"
#include "windows.h"

/* Default hop fractions per level (the reference's README command lines). */
static const double s_default_hop_fraction[CN_LEVELS] = { 0.125, 0.5, 0.5 };

/* A numeric list "3" or "4 7" (used when a model file carries no name tables); "unknown"
 * is id 0, as in the released tables. */
static int s_parse_ids(const char *s, int *ids, int max, int bins, const char *what, char *err,
                       size_t errlen)
{
    int n = 0;
    while (s && *s) {
        while (*s == ' ' || *s == ',') s++;
        if (!*s) break;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s && !strncmp(s, "unknown", 7) && strchr(" ,", s[7]))
            v = 0, end = (char *)s + 7;   /* id 0 is "unknown" in every released table */
        if (end == s || v < 0 || v >= bins) {
            snprintf(err, errlen, "%s '%s': this model file has no %s names (convert it with "
                     "--ids), so give numeric ids 0..%d", what, s, what, bins - 1);
            return -1;
        }
        if (n == max) {
            snprintf(err, errlen, "%s: more than %d ids; the model has %d slots", what, max, max);
            return -1;
        }
        ids[n++] = (int)v;
        s = end;
    }
    return n;
}

static int s_lookup(const cn_engine *e, int level, const cn_song *song, cn_label_ids *ids,
                    char *err, size_t errlen)
{
    const cn_prior_info *pi = cn_prior_info_get(e->prior[level]);
    memset(ids, 0, sizeof *ids);
    const char *artist = song->artist ? song->artist : "", *genre = song->genre ? song->genre : "";
    if (e->tables[level])
        return cn_labels_lookup(e->tables[level], pi->genre_slots, artist, genre, ids, err, errlen);
    int a[1];
    if (s_parse_ids(artist, a, 1, pi->artist_bins, "artist", err, errlen) != 1) {
        if (!err[0] || !*artist) snprintf(err, errlen, "no artist given");
        return -1;
    }
    ids->artist = a[0];
    int slots = pi->genre_slots < CN_LABELS_MAX_GENRES ? pi->genre_slots : CN_LABELS_MAX_GENRES;
    ids->n_genres = s_parse_ids(genre, ids->genres, slots, pi->genre_bins, "genre", err, errlen);
    return ids->n_genres < 0 ? -1 : 0;
}

int cn_engine_check_labels(const cn_engine *e, const cn_song *song, char *err, size_t errlen)
{
    for (int level = CN_LEVELS - 1; level >= 0; level--) {
        if (!e->prior[level]) continue;
        cn_label_ids ids;
        err[0] = 0;
        if (s_lookup(e, level, song, &ids, err, errlen) != 0) return -1;
    }
    return 0;
}

/* Everything one call of cn_engine_sample_level shares across windows and batches. */
typedef struct s_run {
    cn_engine *e;
    int level;
    cn_prior *p;
    const cn_prior_info *pi;
    cn_label_geom geom;
    cn_label_song song;
    const cn_sampling *s;
    int32_t *codes;
    int64_t target_len;
    const int32_t *above;
    int64_t above_len;
    cn_progress_fn progress;
    void *user;
    int n_total;
    int64_t steps_total, steps_done;
    double t0;
} s_run;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Labels and level-above codes of window W for items b0 .. b0+nb-1, then begin + prime. */
static int s_window_begin(s_run *r, cn_prior_state *st, const cn_window *w, int b0, int nb,
                          int32_t *y, int32_t *above, int32_t *prime, char *err, size_t errlen)
{
    int L = r->pi->label_len;
    if (cn_labels_y(&r->geom, &r->song, w->start * r->pi->hop, 1, y, NULL, err, errlen) != 0)
        return -1;
    for (int i = 1; i < nb; i++) memcpy(y + (size_t)i * L, y, (size_t)L * sizeof *y);
    int A = r->pi->above_len;
    if (A > 0) {
        if (w->cond_tokens != A) {
            snprintf(err, errlen, "window at %lld needs %d codes of the level above, has %lld",
                     (long long)w->start, A, (long long)w->cond_tokens);
            return -1;
        }
        for (int i = 0; i < nb; i++)
            memcpy(above + (size_t)i * A, r->above + (size_t)(b0 + i) * r->above_len + w->cond_first,
                   (size_t)A * sizeof *above);
    }
    if (cn_prior_begin(st, y, A > 0 ? above : NULL, err, errlen) != 0) return -1;
    int K = (int)w->existing;
    if (K == 0) return 0;
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < K; j++)
            prime[(size_t)i * K + j] = r->codes[(size_t)(b0 + i) * r->target_len + w->start + j] +
                                       r->pi->code_offset;
    return cn_prior_prime(st, prime, K, 0, err, errlen);
}

/* Draws the window's new tokens one position at a time; returns 0, CANCELLED or -1. */
static int s_window_steps(s_run *r, cn_prior_state *st, const cn_window *w, int b0, int nb,
                          cn_tensor *tok, cn_tensor *logits, int32_t *tok_host, char *err,
                          size_t errlen)
{
    cn_backend *be = r->e->be;
    cn_sample_desc sd = { r->s->temperature, r->s->top_k, r->s->top_p,
                          r->s->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(r->level + 1)),
                          (uint64_t)b0, 0 };
    for (int64_t t = 0; t < w->new_tokens; t++) {
        int64_t pos = w->start + w->existing + t;
        if (cn_prior_step(st, t == 0 ? NULL : tok, logits, err, errlen) != 0) return -1;
        sd.step = (uint64_t)pos;
        if (be->ops->sample(be, tok, logits, &sd) != 0 ||
            be->ops->download(be, tok_host, tok->data, (size_t)nb * sizeof *tok_host) != 0) {
            snprintf(err, errlen, "sampling position %lld: %s", (long long)pos,
                     be->ops->last_error(be));
            return -1;
        }
        for (int i = 0; i < nb; i++) {
            int32_t c = tok_host[i] - r->pi->code_offset;
            r->codes[(size_t)(b0 + i) * r->target_len + pos] = c > 0 ? c : 0;
        }
        r->steps_done++;
        if (r->progress) {
            double dt = s_now() - r->t0;
            double tps = dt > 0 ? (double)r->steps_done * nb / dt : 0;
            if (r->progress(r->user, (double)r->steps_done / (double)r->steps_total, tps,
                            r->codes, r->n_total, r->target_len))
                return CN_ENGINE_CANCELLED;
        }
    }
    return 0;
}

/* All windows of the plan for items b0 .. b0+nb-1. */
static int s_run_batch(s_run *r, const cn_window_plan *plan, int b0, int nb, char *err,
                       size_t errlen)
{
    cn_backend *be = r->e->be;
    cn_prior_state *st = NULL;
    int V = r->pi->seq_vocab;
    cn_tensor tok = cn_tensor_2d(be->ops->alloc(be, (size_t)nb * 4), CN_I32, nb, 1);
    cn_tensor logits = cn_tensor_2d(be->ops->alloc(be, (size_t)nb * V * 4), CN_F32, nb, V);
    int32_t *y = malloc((size_t)nb * r->pi->label_len * sizeof *y);
    int32_t *above = malloc((size_t)nb * (r->pi->above_len + 1) * sizeof *above);
    int32_t *prime = malloc((size_t)nb * (r->pi->n_ctx + 1) * sizeof *prime);
    int32_t *tok_host = malloc((size_t)nb * sizeof *tok_host);
    int rc = -1;
    if (!tok.data || !logits.data || !y || !above || !prime || !tok_host)
        snprintf(err, errlen, "out of memory for a batch of %d", nb);
    else
        rc = cn_prior_state_new(&st, r->p, nb, 0, err, errlen);
    if (rc == 0) cn_prior_state_use_graphs(st, 1);   /* replayed decode steps where supported */
    for (int64_t k = 0; rc == 0 && k < plan->n; k++) {
        const cn_window *w = &plan->w[k];
        if (!w->sampled) continue;
        rc = s_window_begin(r, st, w, b0, nb, y, above, prime, err, errlen);
        if (rc == 0) rc = s_window_steps(r, st, w, b0, nb, &tok, &logits, tok_host, err, errlen);
    }
    cn_prior_state_free(&st);
    be->ops->release(be, tok.data);
    be->ops->release(be, logits.data);
    free(y);
    free(above);
    free(prime);
    free(tok_host);
    return rc;
}

static int s_check_request(const cn_engine *e, int level, int64_t have, int64_t target_len,
                           const int32_t *above, const cn_sampling *s, char *err, size_t errlen)
{
    if (level < 0 || level >= CN_LEVELS || !e->prior[level]) {
        snprintf(err, errlen, "no prior loaded for level %d", level);
        return -1;
    }
    if (s->n < 1) {
        snprintf(err, errlen, "n is %d; at least 1 candidate is needed", s->n);
        return -1;
    }
    if (!(s->temperature > 0) || s->top_k < 0 || s->top_p < 0 || s->top_p > 1) {
        snprintf(err, errlen, "temperature %.3g, top_k %d, top_p %.3g: need temperature > 0, "
                 "top_k >= 0, top_p in [0, 1]", s->temperature, s->top_k, s->top_p);
        return -1;
    }
    if (have < 0 || target_len <= have) {
        snprintf(err, errlen, "level %d: %lld codes present, %lld asked for: nothing to sample",
                 level, (long long)have, (long long)target_len);
        return -1;
    }
    if (cn_prior_info_get(e->prior[level])->above_len > 0 && !above) {
        snprintf(err, errlen, "level %d is an upsampler: it needs the level-%d codes", level,
                 level + 1);
        return -1;
    }
    return 0;
}

/* Fills r->geom and r->song (ids, lyrics, total length) and checks the song length. */
static int s_prepare_song(s_run *r, const cn_song *song, int32_t **lyric_ids, char *err,
                          size_t errlen)
{
    const cn_prior_info *pi = r->pi;
    r->geom = (cn_label_geom){ pi->labels_version == 3, pi->genre_slots, pi->n_tokens,
                               (int64_t)pi->n_ctx * pi->hop };
    memset(&r->song, 0, sizeof r->song);
    r->song.total_length = (int64_t)(song->total_seconds * pi->sr);
    err[0] = 0;
    if (s_lookup(r->e, r->level, song, &r->song.ids, err, errlen) != 0) return -1;
    if (pi->timing && cn_labels_check_total(r->song.total_length, pi->min_duration,
                                            pi->max_duration, pi->sr, err, errlen) != 0)
        return -1;
    *lyric_ids = NULL;
    if (pi->lyrics != CN_LYRICS_NONE) {
        cn_text_report rep;
        int64_t n = 0;
        if (cn_text_tokens(song->lyrics ? song->lyrics : "", pi->labels_version == 3, lyric_ids,
                           &n, &rep, err, errlen) != 0)
            return -1;
        r->song.lyric_ids = *lyric_ids;
        r->song.n_lyric = n;
    }
    return 0;
}

int cn_engine_sample_level(cn_engine *e, int level, int32_t *codes, int64_t have,
                           int64_t target_len, const int32_t *above, int64_t above_len,
                           const cn_song *song, const cn_sampling *s, cn_progress_fn progress,
                           void *user, char *err, size_t errlen)
{
    if (s_check_request(e, level, have, target_len, above, s, err, errlen) != 0) return -1;
    s_run r = { .e = e, .level = level, .p = e->prior[level], .s = s, .codes = codes,
                .target_len = target_len, .above = above, .above_len = above_len,
                .progress = progress, .user = user, .n_total = s->n, .t0 = s_now() };
    r.pi = cn_prior_info_get(r.p);
    int32_t *lyric_ids = NULL;
    if (s_prepare_song(&r, song, &lyric_ids, err, errlen) != 0) {
        free(lyric_ids);
        return -1;
    }
    double hf = s->hop_fraction > 0 ? s->hop_fraction : s_default_hop_fraction[level];
    int upsampler = r.pi->above_len > 0;
    cn_window_plan_cfg cfg = {
        .level = level, .n_ctx = r.pi->n_ctx, .total_length = target_len, .have = have,
        .hop_length = cn_hop_length(hf, r.pi->n_ctx), .raw_to_tokens = r.pi->hop,
        .partial_quirk = 0, .cond_ratio = upsampler ? r.pi->n_ctx / r.pi->above_len : 0,
        .above_len = upsampler ? above_len : -1, .song_total_length = r.song.total_length,
        .song_offset = 0, .n_tokens = r.pi->n_tokens, .n_lyric = r.song.n_lyric };
    cn_window_plan plan = { 0 };
    int rc = cn_window_plan_make(&cfg, &plan, err, errlen);
    if (rc == 0) {
        r.steps_total = plan.new_total * ((s->n + e->max_batch - 1) / e->max_batch);
        if (r.steps_total < 1) r.steps_total = 1;
        for (int b0 = 0; rc == 0 && b0 < s->n; b0 += e->max_batch) {
            int nb = s->n - b0 < e->max_batch ? s->n - b0 : e->max_batch;
            rc = s_run_batch(&r, &plan, b0, nb, err, errlen);
        }
    }
    cn_window_plan_free(&plan);
    free(lyric_ids);
    return rc;
}
