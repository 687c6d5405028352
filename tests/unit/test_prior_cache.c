/* SPDX-License-Identifier: MIT
 * The cached sampler gives the full forward's logits for every attention type (0, 1, 2, 3, 6,
 * 7): two small random priors written as model files here (a lyric-encoder model with cross
 * layers, a lyric-prefix model with prime and dense layers), stepped from scratch and primed in
 * odd chunks. Also: the sampler refuses misuse with a message. Never reads the golden set.
 * CN_TEST_BACKEND=cuda runs it on the CUDA backend (exit 77 without a device); with
 * CN_CUDA_PERSISTENT=1 too, the decode steps must run as the backend's whole-stack step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "modelfile.h"
#include "prior.h"

static cn_check s_c;

/* ---- a tiny safetensors writer (docs/model-file.md), F32 random values ---- */

typedef struct s_tensor {
    char name[224];
    int nd;
    int64_t ne[3];
    float scale, bias;      /* value = bias + scale * uniform(-1, 1) */
} s_tensor;

typedef struct s_model {
    s_tensor t[1024];
    int n;
} s_model;

static void s_add(s_model *m, const char *name, int nd, int64_t a, int64_t b, float scale,
                  float bias)
{
    s_tensor *t = &m->t[m->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->nd = nd;
    t->ne[0] = a;
    t->ne[1] = b;
    t->scale = scale;
    t->bias = bias;
}

static void s_add_layers(s_model *m, const char *prefix, int depth, int W, int S, int M,
                         const int *types)
{
    char n[200];
    for (int d = 0; d < depth; d++) {
        int cross = types[d] == 6;
#define A(suffix, nd, a, b, sc, bi) \
    (snprintf(n, sizeof n, "%s._attn_mods.%d.%s", prefix, d, suffix), s_add(m, n, nd, a, b, sc, bi))
        A("ln_0.weight", 1, W, 0, 0.1f, 1.0f);
        A("ln_0.bias", 1, W, 0, 0.1f, 0.0f);
        A("ln_1.weight", 1, W, 0, 0.1f, 1.0f);
        A("ln_1.bias", 1, W, 0, 0.1f, 0.0f);
        A("attn.c_attn.w", 2, W, cross ? S : 3 * S, 0.5f, 0.0f);
        A("attn.c_attn.b", 1, cross ? S : 3 * S, 0, 0.1f, 0.0f);
        A("attn.c_proj.w", 2, S, W, 0.3f, 0.0f);
        A("attn.c_proj.b", 1, W, 0, 0.1f, 0.0f);
        A("mlp.c_fc.w", 2, W, M, 0.3f, 0.0f);
        A("mlp.c_fc.b", 1, M, 0, 0.1f, 0.0f);
        A("mlp.c_proj.w", 2, M, W, 0.3f, 0.0f);
        A("mlp.c_proj.b", 1, W, 0, 0.1f, 0.0f);
        if (cross) {
            A("attn.c_enc_kv.w", 2, W, 2 * S, 0.5f, 0.0f);
            A("attn.c_enc_kv.b", 1, 2 * S, 0, 0.1f, 0.0f);
        }
#undef A
    }
}

static uint32_t s_rng(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static float s_unif(uint32_t *s)
{
    return (float)(s_rng(s) >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

static int64_t s_count(const s_tensor *t)
{
    int64_t c = 1;
    for (int i = 0; i < t->nd; i++) c *= t->ne[i];
    return c;
}

/* Writes m with metadata hparams/vqvae (JSON text) and tied (JSON or NULL) to path. */
static int s_write(const s_model *m, const char *path, const char *hparams, const char *vqvae,
                   const char *tied)
{
    cJSON *h = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(h, "__metadata__");
    cJSON_AddStringToObject(md, "continuo.format", "1");
    cJSON_AddStringToObject(md, "continuo.kind", "prior");
    cJSON_AddStringToObject(md, "continuo.model", "custom");
    cJSON_AddStringToObject(md, "continuo.hparams", hparams);
    cJSON_AddStringToObject(md, "continuo.vqvae", vqvae);
    if (tied) cJSON_AddStringToObject(md, "continuo.tied", tied);
    int64_t off = 0;
    for (int i = 0; i < m->n; i++) {
        const s_tensor *t = &m->t[i];
        cJSON *e = cJSON_AddObjectToObject(h, t->name), *sh = cJSON_AddArrayToObject(e, "shape");
        cJSON *of = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddStringToObject(e, "dtype", "F32");
        for (int k = 0; k < t->nd; k++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->ne[k]));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        off += s_count(t) * 4;
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
    }
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t len = strlen(text), padded = (len + 8 + 7) / 8 * 8 - 8;
    FILE *f = fopen(path, "wb");
    if (!f) return free(text), -1;
    uint64_t hl = padded;
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(hl >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(text, 1, len, f);
    for (size_t i = len; i < padded; i++) fputc(' ', f);
    free(text);
    uint32_t rs = 12345u;
    for (int i = 0; i < m->n; i++) {
        const s_tensor *t = &m->t[i];
        for (int64_t k = 0; k < s_count(t); k++) {
            float v = t->bias + t->scale * s_unif(&rs);
            fwrite(&v, 4, 1, f);
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- the two models ---- */

static const char *S_VQVAE = "{\"levels\": 3, \"downs_t\": [1, 1, 1], \"strides_t\": [2, 2, 2], "
                             "\"l_bins\": 20, \"emb_width\": 4, \"sr\": 44100}";

static void s_labels(s_model *m, int W, int timing)
{
    s_add(m, "y_emb.bow_genre_emb.emb.weight", 2, 5, W, 0.5f, 0.0f);
    s_add(m, "y_emb.artist_emb.emb.weight", 2, 7, W, 0.5f, 0.0f);
    if (!timing) return;
    s_add(m, "y_emb.total_length_emb.emb.weight", 2, 8, W, 0.5f, 0.0f);
    s_add(m, "y_emb.absolute_pos_emb.emb.weight", 2, 8, W, 0.5f, 0.0f);
    s_add(m, "y_emb.relative_pos_emb.emb.weight", 2, 8, W, 0.5f, 0.0f);
}

/* prior_5b_lyrics in small: cross layers (type 6) read a lyric encoder with a dense layer. */
static int s_write_encoder_model(const char *path)
{
    static s_model m;
    static const int main_t[4] = { 1, 2, 3, 6 }, enc_t[4] = { 1, 2, 3, 0 };
    m.n = 0;
    s_labels(&m, 16, 1);
    s_add(&m, "prime_prior.start_token", 2, 1, 8, 0.5f, 0.0f);
    s_add(&m, "prime_prior.x_emb.weight", 2, 12, 8, 0.5f, 0.0f);
    s_add(&m, "prime_prior.pos_emb.pos_emb", 2, 10, 8, 0.5f, 0.0f);
    s_add_layers(&m, "prime_prior.transformer", 4, 8, 4, 8, enc_t);
    s_add(&m, "prime_state_proj.w", 2, 8, 16, 0.5f, 0.0f);
    s_add(&m, "prime_state_proj.b", 1, 16, 0, 0.1f, 0.0f);
    s_add(&m, "prime_state_ln.weight", 1, 16, 0, 0.1f, 1.0f);
    s_add(&m, "prime_state_ln.bias", 1, 16, 0, 0.1f, 0.0f);
    s_add(&m, "prime_x_out.weight", 2, 12, 16, 0.5f, 0.0f);
    s_add(&m, "prior.x_emb.weight", 2, 20, 16, 0.5f, 0.0f);
    s_add(&m, "prior.pos_emb.pos_emb", 2, 24, 16, 0.5f, 0.0f);
    s_add(&m, "prior.x_out.weight", 2, 20, 16, 0.5f, 0.0f);
    s_add_layers(&m, "prior.transformer", 4, 16, 8, 16, main_t);
    const char *hp =
        "{\"level\": 2, \"n_ctx\": 24, \"prior_width\": 16, \"prior_depth\": 4, \"heads\": 2, "
        "\"attn_order\": 6, \"blocks\": 4, \"m_attn\": 0.5, \"m_mlp\": 1.0, "
        "\"merged_decoder\": true, \"single_enc_dec\": false, \"use_tokens\": true, "
        "\"n_tokens\": 10, \"n_vocab\": 12, \"labels\": true, \"labels_v3\": false, "
        "\"max_bow_genre_size\": 2, \"y_bins\": [5, 7], \"t_bins\": 8, \"min_duration\": 0.1, "
        "\"max_duration\": 2.0, \"alignment_layer\": 3, \"alignment_head\": 1, "
        "\"prime_width\": 8, \"prime_depth\": 4, \"prime_heads\": 2, \"prime_attn_order\": 9, "
        "\"prime_blocks\": 2, \"prime_m_attn\": 0.5, \"prime_m_mlp\": 1.0}";
    return s_write(&m, path, hp, S_VQVAE, NULL);
}

/* prior_1b_lyrics in small: lyric prefix, prime (7) and dense (0) layers at depth 48. */
static int s_write_prefix_model(const char *path)
{
    static s_model m;
    int types[48];
    for (int d = 0; d < 48; d++)
        types[d] = d % 16 == 15 ? (d % 3 == 2 ? 0 : 7) : 1 + d % 3;
    m.n = 0;
    s_labels(&m, 16, 1);
    s_add(&m, "prior.x_emb.weight", 2, 26, 16, 0.5f, 0.0f);
    s_add(&m, "prior.pos_emb.pos_emb", 2, 28, 16, 0.5f, 0.0f);
    s_add_layers(&m, "prior.transformer", 48, 16, 8, 16, types);
    const char *hp =
        "{\"level\": 2, \"n_ctx\": 20, \"prior_width\": 16, \"prior_depth\": 48, \"heads\": 2, "
        "\"attn_order\": 12, \"blocks\": 4, \"m_attn\": 0.5, \"m_mlp\": 1.0, "
        "\"merged_decoder\": false, \"single_enc_dec\": true, \"use_tokens\": true, "
        "\"n_tokens\": 8, \"n_vocab\": 6, \"labels\": true, \"labels_v3\": true, "
        "\"max_bow_genre_size\": 1, \"y_bins\": [5, 7], \"t_bins\": 8, \"min_duration\": 0.1, "
        "\"max_duration\": 2.0, \"alignment_layer\": 31, \"alignment_head\": 0}";
    return s_write(&m, path, hp, S_VQVAE,
                   "{\"prior.x_out.weight\": \"prior.x_emb.weight\"}");
}

/* A prior without labels (start token at position 0), dense layers only (attn_order 0). */
static int s_write_plain_model(const char *path)
{
    static s_model m;
    static const int types[3] = { 0, 0, 0 };
    m.n = 0;
    s_add(&m, "prior.start_token", 2, 1, 16, 0.5f, 0.0f);
    s_add(&m, "prior.x_emb.weight", 2, 20, 16, 0.5f, 0.0f);
    s_add(&m, "prior.pos_emb.pos_emb", 2, 30, 16, 0.5f, 0.0f);
    s_add_layers(&m, "prior.transformer", 3, 16, 8, 32, types);
    const char *hp =
        "{\"level\": 2, \"n_ctx\": 30, \"prior_width\": 16, \"prior_depth\": 3, \"heads\": 4, "
        "\"attn_order\": 0, \"blocks\": 3, \"m_attn\": 0.5, \"m_mlp\": 2.0, "
        "\"merged_decoder\": false, \"labels\": false, \"max_bow_genre_size\": 1, "
        "\"alignment_layer\": null, \"alignment_head\": null}";
    return s_write(&m, path, hp, S_VQVAE,
                   "{\"prior.x_out.weight\": \"prior.x_emb.weight\"}");
}

/* ---- checks ---- */

#define S_N 3

typedef struct s_run {
    const char *name;
    cn_prior *p;
    const cn_prior_info *in;
    int32_t y[S_N * 64];
    int32_t tok[S_N * 64];  /* N x n_ctx tokens */
    float *full;            /* N x positions x seq_vocab */
} s_run;

static void s_make_inputs(s_run *r)
{
    const cn_prior_info *in = r->in;
    static const int32_t tot[S_N] = { 30000, 40000, 50000 }, off[S_N] = { 0, 5000, 30000 };
    static const int32_t art[S_N] = { 1, 6, 0 }, gen[S_N][2] = { { 2, -1 }, { 4, 3 }, { -1, -1 } };
    uint32_t rs = 777u;
    for (int n = 0; n < S_N; n++) {
        int32_t *y = r->y + n * in->label_len;
        y[0] = tot[n];
        y[1] = off[n];
        y[2] = in->n_ctx * in->hop;
        y[3] = art[n];
        for (int g = 0; g < in->genre_slots; g++) y[4 + g] = gen[n][g];
        for (int j = 0; j < in->n_tokens; j++)
            y[4 + in->genre_slots + j] = (int32_t)(s_rng(&rs) % (uint32_t)in->lyric_vocab);
        for (int t = 0; t < in->n_ctx; t++)
            r->tok[n * in->n_ctx + t] =
                in->code_offset + (int32_t)(s_rng(&rs) % (uint32_t)in->vocab);
    }
    if (in->code_offset > 0) r->tok[5] = 2;   /* a lyric id drawn at a code position */
}

/* Cached sampler: begin, prime K tokens in chunks, then step; out N x (n_ctx-K) x V. */
static int s_forced(s_run *r, int K, int chunk, int max_chunk, float *out, char *err,
                    size_t errlen)
{
    const cn_prior_info *in = r->in;
    int T = in->n_ctx, V = in->seq_vocab, rc;
    cn_prior_state *st = NULL;
    int32_t buf[S_N * 64];
    float *lg = malloc((size_t)S_N * V * sizeof *lg);
    if ((rc = cn_prior_state_new(&st, r->p, S_N, max_chunk, err, errlen)) ||
        (rc = cn_prior_begin(st, r->y, NULL, err, errlen)))
        goto done;
    for (int n = 0; n < S_N; n++)
        for (int k = 0; k < K; k++) buf[n * K + k] = r->tok[n * T + k];
    if (K > 0 && (rc = cn_prior_prime(st, buf, K, chunk, err, errlen))) goto done;
    for (int t = K; t < T && rc == 0; t++) {
        for (int n = 0; n < S_N; n++) buf[n] = t > 0 ? r->tok[n * T + t - 1] : 0;
        rc = cn_prior_step_host(st, t == K ? NULL : buf, lg, err, errlen);
        for (int n = 0; n < S_N && rc == 0; n++)
            memcpy(out + ((int64_t)n * (T - K) + t - K) * V, lg + n * V, (size_t)V * sizeof *lg);
    }
done:
    cn_prior_state_free(&st);
    free(lg);
    return rc;
}

/* The code positions K.. of the full forward, N x (n_ctx-K) x V. */
static void s_full_codes(const s_run *r, int K, float *out)
{
    const cn_prior_info *in = r->in;
    int T = in->n_ctx, V = in->seq_vocab;
    for (int n = 0; n < S_N; n++)
        for (int t = K; t < T; t++)
            memcpy(out + ((int64_t)n * (T - K) + t - K) * V,
                   r->full + ((int64_t)n * in->positions + in->prefix + t) * V,
                   (size_t)V * sizeof(float));
}

static void s_check_path(s_run *r, int K, int chunk, int max_chunk)
{
    const cn_prior_info *in = r->in;
    size_t n = (size_t)S_N * in->n_ctx * in->seq_vocab;
    float *got = calloc(n, sizeof *got), *want = calloc(n, sizeof *want);
    char err[512], what[200];
    if (K == 0)
        snprintf(what, sizeof what, "%s: cached logits stepped from scratch = full forward",
                 r->name);
    else
        snprintf(what, sizeof what, "%s: cached logits, %d codes primed in chunks of %d (state "
                 "chunks of %d), = full forward", r->name, K, chunk, max_chunk);
    if (s_forced(r, K, chunk, max_chunk, got, err, sizeof err)) {
        cn_check_true(&s_c, what, 0, err);
    } else {
        s_full_codes(r, K, want);
        cn_check_close(&s_c, what, got, want, (int64_t)S_N * (in->n_ctx - K) * in->seq_vocab,
                       1e-4);
    }
    free(got);
    free(want);
}

/* A shorter window's full forward is the start of the long one. */
static void s_check_partial(s_run *r, int L)
{
    const cn_prior_info *in = r->in;
    int P = in->prefix + L, V = in->seq_vocab;
    float *got = calloc((size_t)S_N * P * V, sizeof *got), *want = calloc((size_t)S_N * P * V, 4);
    int32_t tok[S_N * 64];
    char err[512], what[160];
    for (int n = 0; n < S_N; n++) memcpy(tok + n * L, r->tok + n * in->n_ctx, (size_t)L * 4);
    for (int n = 0; n < S_N; n++)
        memcpy(want + (int64_t)n * P * V, r->full + (int64_t)n * in->positions * V,
               (size_t)P * V * sizeof(float));
    snprintf(what, sizeof what, "%s: full forward of the first %d codes = start of the window",
             r->name, L);
    if (cn_prior_forward_full(r->p, r->y, NULL, tok, S_N, L, got, NULL, err, sizeof err))
        cn_check_true(&s_c, what, 0, err);
    else
        cn_check_close(&s_c, what, got, want, (int64_t)S_N * P * V, 1e-4);
    free(got);
    free(want);
}

/* Alignment rows are probabilities: cross rows sum to 1; prime rows to at most 1. */
static void s_check_alignment(s_run *r, const float *al, int cross)
{
    const cn_prior_info *in = r->in;
    double worst = 0;
    int bad = 0;
    for (int64_t i = 0; i < (int64_t)S_N * in->n_ctx; i++) {
        double s = 0;
        for (int j = 0; j < in->n_tokens; j++) {
            float v = al[i * in->n_tokens + j];
            bad += v < 0 || v > 1;
            s += v;
        }
        double d = cross ? fabs(s - 1) : (s > 1 + 1e-5 ? s - 1 : 0);
        worst = d > worst ? d : worst;
    }
    char what[160], detail[96];
    snprintf(what, sizeof what, "%s: alignment (layer %d) rows are probabilities over the "
             "lyrics (%s)", r->name, in->alignment_layer, cross ? "sum 1" : "sum <= 1");
    snprintf(detail, sizeof detail, "%d values outside [0, 1], worst row sum off by %.3g", bad,
             worst);
    cn_check_true(&s_c, what, !bad && worst < 1e-5, detail);
}

static void s_check_types(s_run *r, const int *want, int n)
{
    char what[200], detail[64] = "";
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        int found = 0;
        for (int d = 0; d < r->in->depth; d++) found |= cn_prior_layer_type(r->p, 0, d) == want[i];
        if (!found) ok = 0, snprintf(detail, sizeof detail, "no layer of type %d", want[i]);
    }
    snprintf(what, sizeof what, "%s: the model has layers of the attention types under test",
             r->name);
    cn_check_true(&s_c, what, ok, detail);
}

static void s_expect(const char *what, int rc, const char *err, const char *want)
{
    char detail[700];
    snprintf(detail, sizeof detail, "status %d, message \"%s\" (should name \"%s\")", rc, err,
             want);
    cn_check_true(&s_c, what, rc != 0 && strstr(err, want) != NULL, detail);
}

static void s_check_misuse(s_run *r)
{
    const cn_prior_info *in = r->in;
    cn_prior_state *st = NULL;
    char err[512] = "", what[160];
    float *lg = malloc((size_t)S_N * in->seq_vocab * sizeof *lg);
    int32_t y[S_N * 64], tok[S_N * 64] = { 0 };
    if (cn_prior_state_new(&st, r->p, S_N, 0, err, sizeof err)) {
        cn_check_true(&s_c, "state", 0, err);
        free(lg);
        return;
    }
    snprintf(what, sizeof what, "%s: a step before cn_prior_begin is refused", r->name);
    s_expect(what, cn_prior_step_host(st, NULL, lg, err, sizeof err), err, "before");
    memcpy(y, r->y, sizeof y);
    y[3] = 99;
    snprintf(what, sizeof what, "%s: an artist id outside the table is refused", r->name);
    if (in->has_labels)
        s_expect(what, cn_prior_begin(st, y, NULL, err, sizeof err), err, "artist id 99");
    cn_prior_begin(st, r->y, NULL, err, sizeof err);
    cn_prior_step_host(st, NULL, lg, err, sizeof err);
    snprintf(what, sizeof what, "%s: a step without the drawn tokens is refused", r->name);
    s_expect(what, cn_prior_step_host(st, NULL, lg, err, sizeof err), err, "drawn");
    snprintf(what, sizeof what, "%s: priming past the window is refused", r->name);
    s_expect(what, cn_prior_prime(st, tok, in->n_ctx, 0, err, sizeof err), err, "positions");
    tok[0] = in->seq_vocab;
    snprintf(what, sizeof what, "%s: a token outside the vocabulary is refused", r->name);
    s_expect(what, cn_prior_step_host(st, tok, lg, err, sizeof err), err, "tokens are 0..");
    cn_prior_state_free(&st);
    free(lg);
}

static void s_model_checks(cn_backend *be, const char *name, const char *path, const int *types,
                           int n_types)
{
    char err[512];
    cn_modelfile *mf = NULL;
    s_run r = { .name = name };
    char what[160];
    snprintf(what, sizeof what, "%s: random model file opens as a prior", name);
    int ok = cn_modelfile_open(&mf, path, err, sizeof err) == 0 &&
             cn_prior_open(&r.p, mf, be, err, sizeof err) == 0;
    cn_check_true(&s_c, what, ok, ok ? "" : err);
    cn_modelfile_close(&mf);
    if (!ok) return;
    r.in = cn_prior_info_get(r.p);
    s_check_types(&r, types, n_types);
    size_t win = cn_prior_state_bytes(r.p, S_N, 0, 1), all = cn_prior_state_bytes(r.p, S_N, 0, 0);
    char detail[128];
    snprintf(detail, sizeof detail, "%zu bytes windowed, %zu keeping every position", win, all);
    int has_block = 0;
    for (int d = 0; d < r.in->depth; d++) {
        int t = cn_prior_layer_type(r.p, 0, d);
        has_block |= t == 1 || t == 3;
    }
    snprintf(what, sizeof what, "%s: the windowed cache is %s", name,
             has_block ? "smaller" : "the same without block layers");
    cn_check_true(&s_c, what, has_block ? win < all : win == all, detail);
    const char *fused = getenv("CN_CUDA_PERSISTENT");
    if (fused && !strcmp(fused, "1")) {
        cn_prior_state *st = NULL;
        int made = cn_prior_state_new(&st, r.p, S_N, 0, err, sizeof err) == 0;
        snprintf(what, sizeof what, "%s: decode steps run as the backend's whole-stack step",
                 name);
        cn_check_true(&s_c, what, made && cn_prior_state_fused(st),
                      made ? be->ops->last_error(be) : err);
        cn_prior_state_free(&st);
    }
    s_make_inputs(&r);
    const cn_prior_info *in = r.in;
    r.full = calloc((size_t)S_N * in->positions * in->seq_vocab, sizeof *r.full);
    float *al = calloc((size_t)S_N * in->n_ctx * in->n_tokens, sizeof *al);
    snprintf(what, sizeof what, "%s: full forward", name);
    ok = cn_prior_forward_full(r.p, r.y, NULL, r.tok, S_N, in->n_ctx, r.full,
                               in->alignment_layer >= 0 ? al : NULL, err, sizeof err) == 0;
    cn_check_true(&s_c, what, ok, ok ? "" : err);
    if (ok) {
        s_check_path(&r, 0, 0, 0);
        s_check_path(&r, 7, 3, 16);
        s_check_path(&r, 13, 5, 4);
        s_check_path(&r, in->n_ctx - 1, 64, 64);
        s_check_partial(&r, 11);
        if (in->alignment_layer >= 0) {
            s_check_alignment(&r, al, in->lyrics == CN_LYRICS_ENCODER);
            int64_t na = (int64_t)S_N * in->n_ctx * in->n_tokens;
            float *al2 = calloc((size_t)na, sizeof *al2);
            snprintf(what, sizeof what, "%s: alignment alone (no logits) = with logits", name);
            if (cn_prior_forward_full(r.p, r.y, NULL, r.tok, S_N, in->n_ctx, NULL, al2, err,
                                      sizeof err))
                cn_check_true(&s_c, what, 0, err);
            else
                cn_check_close(&s_c, what, al2, al, na, 0.0);
            free(al2);
        }
        s_check_misuse(&r);
    }
    free(al);
    free(r.full);
    cn_prior_close(&r.p);
}

int main(void)
{
    char err[256];
    const char *name = getenv("CN_TEST_BACKEND");
    name = name && *name ? name : "cpu";
    cn_backend *be = cn_backend_new(name, err, sizeof err);
    if (!be) {
        printf("%s backend: %s\n", name, err);
        return strcmp(name, "cpu") ? 77 : 1;
    }
    char a[] = "/tmp/test_prior_cache-enc-XXXXXX", b[] = "/tmp/test_prior_cache-pre-XXXXXX";
    char c[] = "/tmp/test_prior_cache-pln-XXXXXX";
    int fa = mkstemp(a), fb = mkstemp(b), fc = mkstemp(c);
    if (fa >= 0) close(fa);
    if (fb >= 0) close(fb);
    if (fc >= 0) close(fc);
    static const int enc_types[] = { 1, 2, 3, 6 }, pre_types[] = { 0, 1, 2, 3, 7 };
    int ok = fa >= 0 && s_write_encoder_model(a) == 0;
    cn_check_true(&s_c, "write the lyric-encoder model file", ok, a);
    if (ok) s_model_checks(be, "encoder model (types 1, 2, 3, 6)", a, enc_types, 4);
    ok = fb >= 0 && s_write_prefix_model(b) == 0;
    cn_check_true(&s_c, "write the lyric-prefix model file", ok, b);
    if (ok) s_model_checks(be, "prefix model (types 0, 1, 2, 3, 7)", b, pre_types, 5);
    static const int pln_types[] = { 0 };
    ok = fc >= 0 && s_write_plain_model(c) == 0;
    cn_check_true(&s_c, "write the label-less dense model file", ok, c);
    if (ok) s_model_checks(be, "label-less dense model (start token)", c, pln_types, 1);
    unlink(a);
    unlink(b);
    unlink(c);
    cn_backend_destroy(&be);
    return cn_check_finish(&s_c);
}
