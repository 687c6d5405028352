/* SPDX-License-Identifier: MIT
 * Builds a cn_vqvae from a model file: reads the geometry from the hparams, lays out every
 * encoder/decoder conv in the reference's module structure (facts 3, 2.3), checks and uploads
 * each tensor. Never assumes a released size: every count comes from the hyper-parameters.
 */
#include "vqvae_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The geometry read from the hparams (names as in jukebox/hparams.py). */
typedef struct s_geom {
    int levels, emb_width, l_bins, width, depth, growth, cycle, reverse_dec;
    double m_conv;
    int downs[CN_VQVAE_MAX_LEVELS], strides[CN_VQVAE_MAX_LEVELS];
    int mult[CN_VQVAE_MAX_LEVELS];
} s_geom;

/* Largest dilation or hop accepted: keeps every length product far inside int64. */
#define S_MAX_FACTOR (1 << 30)

static int s_fail(char *err, size_t errlen, const char *msg, const char *key, long long val,
                  const char *limit)
{
    snprintf(err, errlen, "vqvae hparams: %s%s is %lld; %s", msg, key, val, limit);
    return -1;
}

static int s_read_lists(const cJSON *hp, s_geom *g, char *err, size_t errlen)
{
    int n = cn_hp_int_list(hp, "downs_t", g->downs, CN_VQVAE_MAX_LEVELS, err, errlen);
    if (n < 0) return -1;
    if (n != g->levels)
        return s_fail(err, errlen, "", "length of downs_t", n, "it must equal levels");
    n = cn_hp_int_list(hp, "strides_t", g->strides, CN_VQVAE_MAX_LEVELS, err, errlen);
    if (n < 0) return -1;
    if (n != g->levels)
        return s_fail(err, errlen, "", "length of strides_t", n, "it must equal levels");
    if (cn_hp_is_null(hp, "hvqvae_multipliers")) {
        for (int l = 0; l < g->levels; l++) g->mult[l] = 1;
        return 0;
    }
    n = cn_hp_int_list(hp, "hvqvae_multipliers", g->mult, CN_VQVAE_MAX_LEVELS, err, errlen);
    if (n < 0) return -1;
    if (n != g->levels)
        return s_fail(err, errlen, "", "length of hvqvae_multipliers", n,
                      "it must equal levels");
    return 0;
}

static int s_read_scalars(const cJSON *hp, s_geom *g, char *err, size_t errlen)
{
    if (cn_hp_int(hp, "levels", &g->levels, err, errlen) ||
        cn_hp_int(hp, "emb_width", &g->emb_width, err, errlen) ||
        cn_hp_int(hp, "l_bins", &g->l_bins, err, errlen) ||
        cn_hp_int(hp, "width", &g->width, err, errlen) ||
        cn_hp_int(hp, "depth", &g->depth, err, errlen) ||
        cn_hp_double(hp, "m_conv", &g->m_conv, err, errlen) ||
        cn_hp_int(hp, "dilation_growth_rate", &g->growth, err, errlen) ||
        cn_hp_bool(hp, "vqvae_reverse_decoder_dilation", &g->reverse_dec, err, errlen))
        return -1;
    g->cycle = 0;
    if (!cn_hp_is_null(hp, "dilation_cycle") &&
        cn_hp_int(hp, "dilation_cycle", &g->cycle, err, errlen))
        return -1;
    if (!cn_hp_is_null(hp, "use_bottleneck")) {
        int ub = 1;
        if (cn_hp_bool(hp, "use_bottleneck", &ub, err, errlen)) return -1;
        if (!ub) {
            snprintf(err, errlen, "vqvae hparams: use_bottleneck is false; a VQ-VAE without "
                     "codebooks has no codes to give");
            return -1;
        }
    }
    return 0;
}

static int s_check_geom(const s_geom *g, char *err, size_t errlen)
{
    char lim[64];
    snprintf(lim, sizeof lim, "it must be 1..%d", CN_VQVAE_MAX_LEVELS);
    if (g->levels < 1 || g->levels > CN_VQVAE_MAX_LEVELS)
        return s_fail(err, errlen, "", "levels", g->levels, lim);
    if (g->emb_width < 1) return s_fail(err, errlen, "", "emb_width", g->emb_width, "it must be >= 1");
    if (g->l_bins < 1) return s_fail(err, errlen, "", "l_bins", g->l_bins, "it must be >= 1");
    if (g->width < 1) return s_fail(err, errlen, "", "width", g->width, "it must be >= 1");
    if (g->depth < 0) return s_fail(err, errlen, "", "depth", g->depth, "it must be >= 0");
    if (g->growth < 1)
        return s_fail(err, errlen, "", "dilation_growth_rate", g->growth, "it must be >= 1");
    if (g->cycle < 0)
        return s_fail(err, errlen, "", "dilation_cycle", g->cycle, "it must be >= 1 or null");
    if (!(g->m_conv > 0) || g->m_conv * g->width > 1e7) {
        snprintf(err, errlen, "vqvae hparams: m_conv is %g; it must be > 0 and keep "
                 "m_conv x width below 1e7", g->m_conv);
        return -1;
    }
    return 0;
}

static int s_check_level(const s_geom *g, int l, char *err, size_t errlen)
{
    char key[48];
    snprintf(key, sizeof key, "[%d]", l);
    if (g->downs[l] < 1)
        return s_fail(err, errlen, "downs_t", key, g->downs[l],
                      "every level must downsample at least once");
    if (g->strides[l] < 2 || g->strides[l] % 2 || g->strides[l] > 1024)
        return s_fail(err, errlen, "strides_t", key, g->strides[l],
                      "the reference's kernel 2s / padding s/2 keeps lengths exact only for "
                      "even strides 2..1024");
    if (g->mult[l] < 1 || g->mult[l] > 1024)
        return s_fail(err, errlen, "hvqvae_multipliers", key, g->mult[l], "it must be 1..1024");
    if ((int64_t)g->width * g->mult[l] * g->m_conv < 1)
        return s_fail(err, errlen, "hvqvae_multipliers", key, g->mult[l],
                      "m_conv x width x multiplier leaves no residual channels");
    return 0;
}

static int s_read_geom(const cJSON *hp, s_geom *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    if (!hp) {
        snprintf(err, errlen, "vqvae: the model file has no hyper-parameters");
        return -1;
    }
    if (s_read_scalars(hp, g, err, errlen) || s_check_geom(g, err, errlen) ||
        s_read_lists(hp, g, err, errlen))
        return -1;
    for (int l = 0; l < g->levels; l++)
        if (s_check_level(g, l, err, errlen)) return -1;
    return 0;
}

/* ---- tensors ---------------------------------------------------------------------------- */

static int s_upload(cn_vqvae *v, cn_modelfile *mf, const char *name, int nd, const int64_t *ne,
                    cn_tensor *dst, char *err, size_t errlen)
{
    cn_tensor host;
    if (cn_modelfile_tensor(mf, name, nd, ne, -1, &host, err, errlen) != 0) return -1;
    if (v->be->ops->upload_weight(v->be, dst, &host) != 0) {
        snprintf(err, errlen, "%s: upload to the %s backend failed: %s", name,
                 v->be->ops->name, v->be->ops->last_error(v->be));
        dst->data = NULL;
        return -1;
    }
    return 0;
}

/* Appends a conv, loads PREFIX.weight / PREFIX.bias, and returns its index (or -1). */
static int s_add_conv(cn_vqvae *v, cn_modelfile *mf, const char *prefix, int transposed,
                      int cin, int cout, int k, int stride, int pad, int dil, char *err,
                      size_t errlen)
{
    if (v->n_convs == v->cap_convs) {
        int cap = v->cap_convs ? 2 * v->cap_convs : 64;
        cn_vq_conv *p = realloc(v->convs, (size_t)cap * sizeof *p);
        if (!p) {
            snprintf(err, errlen, "vqvae: out of memory for %d layers", cap);
            return -1;
        }
        v->convs = p;
        v->cap_convs = cap;
    }
    cn_vq_conv *c = &v->convs[v->n_convs];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", prefix);
    c->transposed = transposed;
    c->cin = cin, c->cout = cout, c->k = k, c->stride = stride, c->pad = pad, c->dil = dil;
    v->n_convs++;   /* counted before loading, so close() frees a half-loaded conv */
    char name[160];
    int64_t wne[3] = { transposed ? cin : cout, transposed ? cout : cin, k };
    int64_t bne[1] = { cout };
    snprintf(name, sizeof name, "%s.weight", prefix);
    if (s_upload(v, mf, name, 3, wne, &c->w, err, errlen)) return -1;
    snprintf(name, sizeof name, "%s.bias", prefix);
    if (s_upload(v, mf, name, 1, bne, &c->b, err, errlen)) return -1;
    return v->n_convs - 1;
}

static int s_push(cn_vq_stack *s, cn_vq_layer layer, char *err, size_t errlen)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        cn_vq_layer *p = realloc(s->layers, (size_t)cap * sizeof *p);
        if (!p) {
            snprintf(err, errlen, "vqvae: out of memory for %d layers", cap);
            return -1;
        }
        s->layers = p;
        s->cap = cap;
    }
    s->layers[s->n++] = layer;
    return 0;
}

static int s_push_conv(cn_vqvae *v, cn_vq_stack *s, cn_modelfile *mf, const char *prefix,
                       int transposed, int cin, int cout, int k, int stride, int pad,
                       char *err, size_t errlen)
{
    int a = s_add_conv(v, mf, prefix, transposed, cin, cout, k, stride, pad, 1, err, errlen);
    if (a < 0) return -1;
    return s_push(s, (cn_vq_layer){ .kind = CN_VQ_CONV, .a = a, .b = -1, .scale = 1 }, err,
                  errlen);
}

/* Dilation of residual block k of a stack (growth^k, or growth^(k mod cycle)). */
static int s_dilation(const s_geom *g, int k, char *err, size_t errlen)
{
    int e = g->cycle ? k % g->cycle : k;
    int64_t d = 1;
    for (int i = 0; i < e; i++) {
        d *= g->growth;
        if (d > S_MAX_FACTOR) {
            snprintf(err, errlen, "vqvae hparams: dilation_growth_rate %d ^ %d exceeds %d",
                     g->growth, e, S_MAX_FACTOR);
            return -1;
        }
    }
    return (int)d;
}

/* Resnet1D at PREFIX ("<block>.model.<i>.1" or "...0"): `depth` residual blocks
 * PREFIX.model.d.model.{1,3}; `reverse` puts the largest dilation first. */
static int s_push_resnet(cn_vqvae *v, cn_vq_stack *s, cn_modelfile *mf, const s_geom *g,
                         const char *prefix, int w, int depth, int reverse, char *err,
                         size_t errlen)
{
    int state = (int)floor(g->m_conv * w);
    for (int d = 0; d < depth; d++) {
        int dil = s_dilation(g, reverse ? depth - 1 - d : d, err, errlen);
        if (dil < 0) return -1;
        char p3[128], p1[128];
        snprintf(p3, sizeof p3, "%s.model.%d.model.1", prefix, d);
        snprintf(p1, sizeof p1, "%s.model.%d.model.3", prefix, d);
        int a = s_add_conv(v, mf, p3, 0, w, state, 3, 1, dil, dil, err, errlen);
        if (a < 0) return -1;
        int b = s_add_conv(v, mf, p1, 0, state, w, 1, 1, 0, 1, err, errlen);
        if (b < 0) return -1;
        cn_vq_layer layer = { .kind = CN_VQ_RES, .a = a, .b = b, .scale = 1.0f };
        if (s_push(s, layer, err, errlen)) return -1;
    }
    return 0;
}

/* Encoder of level L: blocks 0..L, each [strided conv, resnet] x downs_t[b], then a kernel-3
 * conv to emb_width. Block 0 reads the 1 audio channel, later blocks emb_width. */
static int s_build_encoder(cn_vqvae *v, cn_modelfile *mf, const s_geom *g, int L, char *err,
                           size_t errlen)
{
    int w = g->width * g->mult[L], depth = g->depth * g->mult[L];
    cn_vq_stack *s = &v->enc[L];
    char p[128], r[128];
    for (int b = 0; b <= L; b++) {
        int st = g->strides[b], cin = b == 0 ? 1 : g->emb_width;
        for (int i = 0; i < g->downs[b]; i++) {
            snprintf(p, sizeof p, "encoders.%d.level_blocks.%d.model.%d.0", L, b, i);
            if (s_push_conv(v, s, mf, p, 0, i == 0 ? cin : w, w, 2 * st, st, st / 2, err,
                            errlen))
                return -1;
            snprintf(r, sizeof r, "encoders.%d.level_blocks.%d.model.%d.1", L, b, i);
            if (s_push_resnet(v, s, mf, g, r, w, depth, 0, err, errlen)) return -1;
        }
        snprintf(p, sizeof p, "encoders.%d.level_blocks.%d.model.%d", L, b, g->downs[b]);
        if (s_push_conv(v, s, mf, p, 0, w, g->emb_width, 3, 1, 1, err, errlen)) return -1;
    }
    return 0;
}

/* Decoder of level L: blocks L..0 (reverse index order), each a kernel-3 conv emb -> width,
 * then [resnet (dilations reversed when the hparams say so), transposed conv] x downs_t[b];
 * the last transposed conv of a block goes back to emb_width; then `out` to 1 channel. */
static int s_build_decoder(cn_vqvae *v, cn_modelfile *mf, const s_geom *g, int L, char *err,
                           size_t errlen)
{
    int w = g->width * g->mult[L], depth = g->depth * g->mult[L];
    cn_vq_stack *s = &v->dec[L];
    char p[128];
    for (int b = L; b >= 0; b--) {
        int st = g->strides[b], down = g->downs[b];
        snprintf(p, sizeof p, "decoders.%d.level_blocks.%d.model.0", L, b);
        if (s_push_conv(v, s, mf, p, 0, g->emb_width, w, 3, 1, 1, err, errlen)) return -1;
        for (int i = 0; i < down; i++) {
            snprintf(p, sizeof p, "decoders.%d.level_blocks.%d.model.%d.0", L, b, i + 1);
            if (s_push_resnet(v, s, mf, g, p, w, depth, g->reverse_dec, err, errlen))
                return -1;
            snprintf(p, sizeof p, "decoders.%d.level_blocks.%d.model.%d.1", L, b, i + 1);
            int cout = i == down - 1 ? g->emb_width : w;
            if (s_push_conv(v, s, mf, p, 1, w, cout, 2 * st, st, st / 2, err, errlen))
                return -1;
        }
    }
    snprintf(p, sizeof p, "decoders.%d.out", L);
    return s_push_conv(v, s, mf, p, 0, g->emb_width, 1, 3, 1, 1, err, errlen);
}

static int s_build(cn_vqvae *v, cn_modelfile *mf, const s_geom *g, char *err, size_t errlen)
{
    int64_t hop = 1;
    for (int l = 0; l < g->levels; l++) {
        for (int i = 0; i < g->downs[l]; i++) {
            hop *= g->strides[l];
            if (hop > S_MAX_FACTOR) {
                snprintf(err, errlen, "vqvae hparams: the hop length of level %d exceeds "
                         "2^30 (strides_t ^ downs_t)", l);
                return -1;
            }
        }
        v->hop[l] = hop;
    }
    for (int l = 0; l < g->levels; l++)
        if (s_build_encoder(v, mf, g, l, err, errlen) || s_build_decoder(v, mf, g, l, err, errlen))
            return -1;
    for (int l = 0; l < g->levels; l++) {
        char name[64];
        int64_t ne[2] = { g->l_bins, g->emb_width };
        snprintf(name, sizeof name, "bottleneck.level_blocks.%d.k", l);
        if (s_upload(v, mf, name, 2, ne, &v->codebook[l], err, errlen)) return -1;
    }
    return cn_modelfile_check_all_used(mf, err, errlen);
}

int cn_vqvae_open(cn_vqvae **out, cn_modelfile *mf, cn_backend *be, char *err, size_t errlen)
{
    *out = NULL;
    const char *kind = cn_modelfile_kind(mf);
    if (!kind || strcmp(kind, "vqvae") != 0) {
        snprintf(err, errlen, "vqvae: the model file is a %s model, not a vqvae",
                 kind ? kind : "(unknown)");
        return -1;
    }
    s_geom g;
    if (s_read_geom(cn_modelfile_hparams(mf), &g, err, errlen)) return -1;
    cn_vqvae *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "vqvae: out of memory");
        return -1;
    }
    v->be = be;
    v->levels = g.levels;
    v->emb_width = g.emb_width;
    v->bins = g.l_bins;
    if (s_build(v, mf, &g, err, errlen)) {
        cn_vqvae_close(&v);
        return -1;
    }
    *out = v;
    return 0;
}

static void s_release(cn_backend *be, cn_tensor *t)
{
    if (t->data) be->ops->release(be, t->data);
    t->data = NULL;
}

void cn_vqvae_close(cn_vqvae **vp)
{
    cn_vqvae *v = vp ? *vp : NULL;
    if (!v) return;
    for (int i = 0; i < v->n_convs; i++) {
        s_release(v->be, &v->convs[i].w);
        s_release(v->be, &v->convs[i].b);
    }
    for (int l = 0; l < CN_VQVAE_MAX_LEVELS; l++) {
        s_release(v->be, &v->codebook[l]);
        free(v->enc[l].layers);
        free(v->dec[l].layers);
    }
    free(v->convs);
    free(v);
    *vp = NULL;
}
