/* SPDX-License-Identifier: MIT
 * The engine's model set: opening the VQ-VAE, the top prior and the upsamplers on one backend,
 * and the encode/decode/info entry points of engine.h. Sampling lives in engine_sample.c.
 * Never prints: every failure returns a status with a message.
 */
#include "engine_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int s_open_file(cn_modelfile **mf, const char *path, const char *want_kind, char *err,
                       size_t errlen)
{
    if (cn_modelfile_open(mf, path, err, errlen) != 0) return -1;
    const char *kind = cn_modelfile_kind(*mf);
    if (!kind || strcmp(kind, want_kind) != 0) {
        snprintf(err, errlen, "%s: holds a %s model; expected a %s", path, kind ? kind : "unknown",
                 want_kind);
        cn_modelfile_close(mf);
        return -1;
    }
    return 0;
}

/* Keeps the file's embedded artist/genre tables (continuo.artist_ids / genre_ids), if any. */
static int s_load_tables(cn_engine *e, int level, cn_modelfile *mf, char *err, size_t errlen)
{
    const char *artists = cn_modelfile_meta(mf, "continuo.artist_ids");
    const char *genres = cn_modelfile_meta(mf, "continuo.genre_ids");
    if (!artists || !genres) return 0;
    int v3 = cn_prior_info_get(e->prior[level])->labels_version == 3;
    return cn_label_tables_new(&e->tables[level], artists, genres, v3, err, errlen);
}

static int s_open_prior(cn_engine *e, int level, const char *path, char *err, size_t errlen)
{
    cn_modelfile *mf = NULL;
    char inner[1024];
    if (s_open_file(&mf, path, "prior", err, errlen) != 0) return -1;
    int rc = cn_prior_open(&e->prior[level], mf, e->be, inner, sizeof inner);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, inner);
    } else if (cn_prior_info_get(e->prior[level])->level != level) {
        snprintf(err, errlen, "%s: is a level-%d prior; it was given as level %d", path,
                 cn_prior_info_get(e->prior[level])->level, level);
        rc = -1;
    } else if (s_load_tables(e, level, mf, inner, sizeof inner) != 0) {
        snprintf(err, errlen, "%s: %s", path, inner);
        rc = -1;
    }
    cn_modelfile_close(&mf);
    return rc;
}

static int s_open_vqvae(cn_engine *e, const char *path, char *err, size_t errlen)
{
    cn_modelfile *mf = NULL;
    char inner[1024];
    if (s_open_file(&mf, path, "vqvae", err, errlen) != 0) return -1;
    int rc = cn_vqvae_open(&e->vq, mf, e->be, inner, sizeof inner);
    if (rc != 0) snprintf(err, errlen, "%s: %s", path, inner);
    cn_modelfile_close(&mf);
    return rc;
}

static double s_gb(size_t bytes)
{
    return (double)bytes / 1e9;
}

/* Before loading: the model files (as stored; a backend may keep some weights narrower) must
 * fit in the backend's free memory. */
static int s_check_weights_fit(cn_engine *e, const char *const *paths, int n, char *err,
                               size_t errlen)
{
    size_t need = 0, free_b = 0, total_b = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (paths[i] && stat(paths[i], &st) == 0) need += (size_t)st.st_size;
    }
    if (e->be->ops->mem_info(e->be, &free_b, &total_b) != 0 || need <= free_b) return 0;
    snprintf(err, errlen, "the model set needs %.1f GB for its weights; the %s backend has "
             "%.1f GB free of %.1f GB", s_gb(need), e->be->ops->name, s_gb(free_b), s_gb(total_b));
    return -1;
}

/* After loading: the largest sampling state (key/value cache + scratch for max_batch
 * candidates at a level's full context) must fit beside the weights. */
static int s_check_cache_fits(cn_engine *e, char *err, size_t errlen)
{
    size_t free_b = 0, total_b = 0, need = 0;
    int worst = -1;
    for (int level = 0; level < CN_LEVELS; level++) {
        if (!e->prior[level]) continue;
        size_t b = cn_prior_state_bytes(e->prior[level], e->max_batch, 0, 1);
        if (b > need) {
            need = b;
            worst = level;
        }
    }
    if (worst < 0 || e->be->ops->mem_info(e->be, &free_b, &total_b) != 0 || need <= free_b)
        return 0;
    snprintf(err, errlen, "sampling %d candidates at once needs %.1f GB of key/value cache and "
             "scratch at level %d; %.1f GB are free after loading the weights: lower the batch "
             "(--max-batch)", e->max_batch, s_gb(need), worst, s_gb(free_b));
    return -1;
}

int cn_engine_open(cn_engine **out, const cn_engine_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    cn_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->max_batch = cfg->max_batch > 0 ? cfg->max_batch : 16;
    e->be = cn_backend_new(cfg->backend ? cfg->backend : "cpu", err, errlen);
    int rc = e->be ? 0 : -1;
    const char *priors[CN_LEVELS] = { cfg->upsampler0_path, cfg->upsampler1_path,
                                      cfg->prior_path };
    const char *all[CN_LEVELS + 1] = { cfg->vqvae_path, priors[0], priors[1], priors[2] };
    if (rc == 0) rc = s_check_weights_fit(e, all, CN_LEVELS + 1, err, errlen);
    if (rc == 0 && cfg->vqvae_path) rc = s_open_vqvae(e, cfg->vqvae_path, err, errlen);
    for (int level = 0; rc == 0 && level < CN_LEVELS; level++)
        if (priors[level]) rc = s_open_prior(e, level, priors[level], err, errlen);
    if (rc == 0) rc = s_check_cache_fits(e, err, errlen);
    if (rc != 0) {
        cn_engine_close(&e);
        return -1;
    }
    *out = e;
    return 0;
}

void cn_engine_close(cn_engine **pe)
{
    cn_engine *e = pe ? *pe : NULL;
    if (!e) return;
    for (int level = 0; level < CN_LEVELS; level++) {
        cn_prior_close(&e->prior[level]);
        cn_label_tables_destroy(&e->tables[level]);
    }
    cn_vqvae_close(&e->vq);
    cn_backend_destroy(&e->be);
    free(e);
    *pe = NULL;
}

int cn_engine_device_lost(cn_engine *e)
{
    return e->be->ops->sync(e->be) == CN_EFATAL;
}

void cn_engine_get_info(const cn_engine *e, cn_engine_info *info)
{
    memset(info, 0, sizeof *info);
    for (int level = 0; level < CN_LEVELS; level++) {
        info->hop[level] = e->vq ? (int)cn_vqvae_hop(e->vq, level) : 0;
        const cn_prior_info *pi = e->prior[level] ? cn_prior_info_get(e->prior[level]) : NULL;
        if (!pi) continue;
        info->n_ctx[level] = pi->n_ctx;
        if (!info->hop[level]) info->hop[level] = pi->hop;
        info->vocab = pi->vocab;
    }
    if (e->vq) info->vocab = cn_vqvae_bins(e->vq);
    const cn_prior_info *top = e->prior[CN_LEVELS - 1] ? cn_prior_info_get(e->prior[CN_LEVELS - 1])
                                                       : NULL;
    if (top) {
        info->has_lyrics = top->lyrics != CN_LYRICS_NONE;
        info->labels_version = top->labels_version;
        info->min_total_seconds = top->timing ? top->min_duration : 0;
        info->max_total_seconds = top->timing ? top->max_duration : 0;
        info->max_prompt_seconds = (double)top->n_ctx * top->hop / CN_SAMPLE_RATE;
    }
}

/* Whether LEVEL is in 0..levels-1 and the VQ-VAE is loaded. */
static int s_check_vq(cn_engine *e, int level, char *err, size_t errlen)
{
    if (!e->vq) {
        snprintf(err, errlen, "no VQ-VAE loaded (give its model file)");
        return -1;
    }
    int levels = cn_vqvae_levels(e->vq);
    if (level < 0 || level >= levels) {
        snprintf(err, errlen, "level %d does not exist; the VQ-VAE has levels 0..%d", level,
                 levels - 1);
        return -1;
    }
    return 0;
}

int cn_engine_encode(cn_engine *e, const float *audio, int64_t n_samples, int level,
                     int32_t **codes, int64_t *n_codes, char *err, size_t errlen)
{
    *codes = NULL;
    *n_codes = 0;
    if (s_check_vq(e, level, err, errlen) != 0) return -1;
    int64_t hop = cn_vqvae_hop(e->vq, level);
    int64_t n = n_samples / hop;
    if (n <= 0) {
        snprintf(err, errlen, "prompt is %lld samples (%.3f s); level %d needs at least %lld",
                 (long long)n_samples, (double)n_samples / CN_SAMPLE_RATE, level, (long long)hop);
        return -1;
    }
    int32_t *c = malloc((size_t)n * sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory for %lld codes", (long long)n);
        return -1;
    }
    if (cn_vqvae_encode(e->vq, audio, 1, n * hop, level, c, err, errlen) != 0) {
        free(c);
        return -1;
    }
    *codes = c;
    *n_codes = n;
    return 0;
}

int cn_engine_decode(cn_engine *e, const int32_t *codes, int64_t n_codes, int level,
                     float **audio, int64_t *n_samples, char *err, size_t errlen)
{
    *audio = NULL;
    *n_samples = 0;
    if (s_check_vq(e, level, err, errlen) != 0) return -1;
    int64_t n = n_codes * cn_vqvae_hop(e->vq, level);
    float *a = malloc((size_t)(n > 0 ? n : 1) * sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory for %lld samples", (long long)n);
        return -1;
    }
    if (cn_vqvae_decode(e->vq, codes, 1, n_codes, level, a, err, errlen) != 0) {
        free(a);
        return -1;
    }
    *audio = a;
    *n_samples = n;
    return 0;
}
