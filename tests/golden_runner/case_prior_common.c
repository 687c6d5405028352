/* SPDX-License-Identifier: MIT
 * Shared prior golden checks: converts the checkpoint, compares every weight exactly, checks
 * the built structure against facts.structure, then conditioning, full/stepwise/primed logits
 * (1e-4), filtered logits, encoder keys (1e-4) and alignment (1e-5). Never edits golden data.
 */
#include "case_prior_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelfile.h"
#include "prior.h"

#define S_TOL 1e-4

typedef struct s_case {
    golden_ctx *g;
    const char *dir, *name;
    cJSON *man, *facts, *structure;
    cn_prior *p;
    const cn_prior_info *in;
    cn_npy y, codes, above;
    int N, T;               /* items, code positions */
    int32_t *tokens;        /* N x T in token space */
} s_case;

static float s_half(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float f = e == 0 ? ldexpf((float)m, -24)
            : e == 31 ? (m ? NAN : INFINITY)
                      : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -f : f;
}

static int s_has(const s_case *c, const char *array)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(c->man, "arrays"), array) != NULL;
}

static int s_fact_int(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

static void s_line(s_case *c, const char *what, int ok, const char *detail)
{
    char w[256];
    snprintf(w, sizeof w, "%s: %s", c->name, what);
    cn_check_true(&c->g->check, w, ok, detail);
}

/* got (n values) against the reference array; a size mismatch is a failure. */
static void s_close_n(s_case *c, const char *what, const float *got, const cn_npy *want,
                      int64_t n, double tol)
{
    char w[256], d[128];
    snprintf(w, sizeof w, "%s: %s", c->name, what);
    if (want->n != n || n == 0) {
        snprintf(d, sizeof d, "reference holds %lld values, the engine made %lld",
                 (long long)want->n, (long long)n);
        cn_check_true(&c->g->check, w, 0, d);
        return;
    }
    cn_check_close(&c->g->check, w, got, want->data, n, tol);
}

/* Every state-dict key of the manifest against weights/<key>.npy, exactly. */
static void s_check_weights(s_case *c, cn_modelfile *mf)
{
    cJSON *sd = cJSON_GetObjectItem(cJSON_GetObjectItem(c->man, "checkpoint"), "state_dict");
    cJSON *it;
    int n = 0, bad = 0;
    char err[512], first[768] = "";
    cJSON_ArrayForEach(it, sd) {
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(it, "key"));
        char file[512];
        cn_npy a = { 0 };
        snprintf(file, sizeof file, "weights/%s.npy", key ? key : "?");
        if (!key || cn_npy_load2(&a, c->dir, file, err, sizeof err) != 0) {
            if (!bad++) snprintf(first, sizeof first, "%s", key ? err : "key without name");
            continue;
        }
        cn_tensor t;
        int ok = cn_modelfile_tensor(mf, key, a.nd, a.shape, -1, &t, err, sizeof err) == 0;
        for (int64_t i = 0; ok && i < a.n; i++) {
            float v = t.type == CN_F16 ? s_half(((const uint16_t *)t.data)[i])
                                       : ((const float *)t.data)[i];
            if (memcmp(&v, &((float *)a.data)[i], sizeof v) != 0) {
                snprintf(err, sizeof err, "%s: element %lld is %.9g, reference %.9g", key,
                         (long long)i, v, ((float *)a.data)[i]);
                ok = 0;
            }
        }
        if (!ok && !bad++) snprintf(first, sizeof first, "%s", err);
        n++;
        cn_npy_free(&a);
    }
    char what[128];
    snprintf(what, sizeof what, "%d weights equal to weights/*.npy", n);
    s_line(c, what, n > 0 && !bad, first);
}

/* Layer types of a stack against a facts list. */
static int s_types_match(s_case *c, const cJSON *list, int encoder, char *why, size_t len)
{
    int n = cJSON_GetArraySize(list);
    for (int d = 0; d < n; d++) {
        int want = cJSON_GetArrayItem(list, d)->valueint;
        int got = cn_prior_layer_type(c->p, encoder, d);
        if (got != want)
            return snprintf(why, len, "%s layer %d: type %d, reference %d",
                            encoder ? "encoder" : "prior", d, got, want), 0;
    }
    if (cn_prior_layer_type(c->p, encoder, n) != -1)
        return snprintf(why, len, "more layers than the reference's %d", n), 0;
    return 1;
}

static void s_check_structure(s_case *c)
{
    const cJSON *s = c->structure;
    const cn_prior_info *in = c->in;
    char why[256] = "";
    struct { const char *key; int got; } f[] = {
        { "transformer_positions", in->positions }, { "vocab", in->seq_vocab },
        { "width", in->width }, { "depth", in->depth }, { "heads", in->heads },
        { "block_ctx", in->block_len }, { "n_ctx", in->n_ctx }, { "n_tokens", in->n_tokens },
        { "label_vector_length", in->label_len }, { "raw_to_tokens", in->hop },
        { "max_bow_genre_size", in->genre_slots }, { "timing_signal", in->timing },
        { "level", in->level },
    };
    int ok = 1;
    for (size_t i = 0; ok && i < sizeof f / sizeof f[0]; i++) {
        const cJSON *v = cJSON_GetObjectItem(s, f[i].key);
        int want = cJSON_IsBool(v) ? cJSON_IsTrue(v) : v ? v->valueint : -999;
        if (want != f[i].got) {
            snprintf(why, sizeof why, "%s: built %d, reference %d", f[i].key, f[i].got, want);
            ok = 0;
        }
    }
    int pk = s_fact_int(s, "prime_attention_key_count", 0);
    if (ok && pk != in->prime_keys)
        ok = 0, snprintf(why, sizeof why, "prime keys %d, reference %d", in->prime_keys, pk);
    if (ok) ok = s_types_match(c, cJSON_GetObjectItem(s, "attn_func_per_layer"), 0, why,
                               sizeof why);
    const cJSON *enc = cJSON_GetObjectItem(s, "lyric_encoder");
    if (ok && enc) ok = s_types_match(c, cJSON_GetObjectItem(enc, "attn_func_per_layer"), 1,
                                      why, sizeof why);
    if (ok && enc && s_fact_int(enc, "block_ctx", -1) != in->enc_block_len)
        ok = 0, snprintf(why, sizeof why, "encoder block length %d, reference %d",
                         in->enc_block_len, s_fact_int(enc, "block_ctx", -1));
    s_line(c, "structure (sizes, attention type per layer) matches facts.structure", ok, why);
}

/* dbg_y_cond, dbg_x_cond, out_encoder_kv after cn_prior_begin. */
static void s_check_cond(s_case *c, cn_prior_state *st)
{
    const cn_prior_info *in = c->in;
    char err[512];
    cn_npy yc = { 0 }, xc = { 0 }, kv = { 0 };
    int64_t nW = (int64_t)c->N * in->width;
    float *y = calloc((size_t)nW, sizeof *y);
    float *x = calloc((size_t)(nW * in->n_ctx), sizeof *x);
    float *e = calloc((size_t)(nW * (in->n_tokens ? in->n_tokens : 1)), sizeof *e);
    if (cn_prior_debug_cond(st, y, x, in->lyrics == CN_LYRICS_ENCODER ? e : NULL, err,
                            sizeof err)) {
        s_line(c, "conditioning", 0, err);
        goto done;
    }
    if (golden_npy(c->g, c->dir, "dbg_y_cond.npy", &yc) == 0)
        s_close_n(c, "dbg_y_cond (label embedding)", y, &yc, nW, S_TOL);
    if ((in->timing || in->above_len) && golden_npy(c->g, c->dir, "dbg_x_cond.npy", &xc) == 0)
        s_close_n(c, in->timing ? "dbg_x_cond (timing signal)" : "dbg_x_cond (conditioner)", x,
                  &xc, nW * in->n_ctx, S_TOL);
    if (s_has(c, "out_encoder_kv") && golden_npy(c->g, c->dir, "out_encoder_kv.npy", &kv) == 0)
        s_close_n(c, "out_encoder_kv", e, &kv, nW * in->n_tokens, S_TOL);
done:
    free(y);
    free(x);
    free(e);
    cn_npy_free(&yc);
    cn_npy_free(&xc);
    cn_npy_free(&kv);
}

static void s_check_full(s_case *c)
{
    const cn_prior_info *in = c->in;
    char err[512];
    cn_npy want = { 0 }, al = { 0 };
    int64_t nl = (int64_t)c->N * in->positions * in->seq_vocab;
    int has_al = s_has(c, "out_alignment");
    float *lg = calloc((size_t)nl, sizeof *lg);
    float *a = calloc((size_t)c->N * c->T * (in->n_tokens ? in->n_tokens : 1), sizeof *a);
    if (golden_npy(c->g, c->dir, "out_logits_full.npy", &want)) goto done;
    if (cn_prior_forward_full(c->p, c->y.data, c->above.data, c->tokens, c->N, c->T, lg,
                              has_al ? a : NULL, err, sizeof err)) {
        s_line(c, "out_logits_full", 0, err);
        goto done;
    }
    s_close_n(c, "out_logits_full (teacher forced)", lg, &want, nl, S_TOL);
    if (has_al && golden_npy(c->g, c->dir, "out_alignment.npy", &al) == 0) {
        char what[128];
        snprintf(what, sizeof what, "out_alignment (layer %d, head %d)", in->alignment_layer,
                 in->alignment_head);
        int64_t na = (int64_t)c->N * c->T * in->n_tokens;
        s_close_n(c, what, a, &al, na, 1e-5);
    }
done:
    free(lg);
    free(a);
    cn_npy_free(&want);
    cn_npy_free(&al);
}

/* dbg_transformer_in_item0 and dbg_layer_out_item0: item 0 alone through the full forward. */
static void s_check_layers(s_case *c)
{
    const cn_prior_info *in = c->in;
    char err[512];
    cn_npy tin = { 0 }, lay = { 0 };
    int64_t PW = (int64_t)in->positions * in->width;
    float *x = calloc((size_t)PW, sizeof *x), *l = calloc((size_t)(PW * in->depth), sizeof *l);
    if (golden_npy(c->g, c->dir, "dbg_transformer_in_item0.npy", &tin) ||
        golden_npy(c->g, c->dir, "dbg_layer_out_item0.npy", &lay))
        goto done;
    if (cn_prior_debug_layers(c->p, c->y.data,
                              c->above.data ? c->above.data : NULL, c->tokens, c->T, x, l, err,
                              sizeof err)) {
        s_line(c, "dbg_transformer_in_item0", 0, err);
        goto done;
    }
    s_close_n(c, "dbg_transformer_in_item0 (embedded input)", x, &tin, PW, S_TOL);
    char what[96];
    snprintf(what, sizeof what, "dbg_layer_out_item0 (residual stream after each of %d layers)",
             in->depth);
    s_close_n(c, what, l, &lay, PW * in->depth, S_TOL);
done:
    free(x);
    free(l);
    cn_npy_free(&tin);
    cn_npy_free(&lay);
}

/* Cumulative probability (descending order) up to and including entry j, and before it. */
static void s_cum(const float *row, int V, int j, double *incl, double *excl)
{
    double mx = -INFINITY, sum = 0, above = 0;
    for (int i = 0; i < V; i++) mx = row[i] > mx ? row[i] : mx;
    for (int i = 0; i < V; i++) sum += exp((double)row[i] - mx);
    for (int i = 0; i < V; i++)
        if (row[i] > row[j] || (row[i] == row[j] && i < j)) above += exp((double)row[i] - mx);
    *excl = above / sum;
    *incl = (above + exp((double)row[j] - mx)) / sum;
}

/* Filters this step's logits (N x V, host) with the backend and compares with the reference
 * row: same -inf mask except near-top_p flips; kept values within tolerance. Returns the
 * number of unexplained differences; *flips counts tolerated ones. */
static int s_filter_rows(s_case *c, const float *lg, const float *want, int t, float temp,
                         float top_p, int *flips, double *maxd)
{
    cn_backend *be = c->g->be;
    int V = c->in->seq_vocab, N = c->N, bad = 0;
    size_t bytes = (size_t)N * V * sizeof(float);
    float *f = malloc(bytes), *scaled = malloc(bytes);
    void *dev = be->ops->alloc(be, bytes);
    cn_tensor x = cn_tensor_2d(dev, CN_F32, N, V);
    cn_sample_desc sd = { .temperature = temp, .top_p = top_p };
    if (!f || !scaled || !dev || be->ops->upload(be, dev, lg, bytes) ||
        be->ops->filter_logits(be, &x, &x, &sd) || be->ops->download(be, f, dev, bytes))
        bad = N * V;
    for (int n = 0; n < N && !bad; n++) {
        const float *fr = f + (int64_t)n * V, *wr = want + ((int64_t)n * c->T + t) * V;
        float *sr = scaled + (int64_t)n * V;
        for (int v = 0; v < V; v++) sr[v] = lg[(int64_t)n * V + v] / temp;
        for (int v = 0; v < V; v++) {
            int gi = isinf(fr[v]), wi = isinf(wr[v]);
            if (gi != wi) {
                double incl, excl;
                s_cum(sr, V, v, &incl, &excl);
                if (fabs(incl - top_p) <= 1e-4 || fabs(excl - top_p) <= 1e-4) (*flips)++;
                else bad++;
            } else if (!gi) {
                double d = fabs((double)fr[v] - wr[v]);
                if (d > *maxd) *maxd = d;
                if (d > S_TOL / temp) bad++;
            }
        }
    }
    if (dev) be->ops->release(be, dev);
    free(f);
    free(scaled);
    return bad;
}

/* The cached sampler forced through the codes: primed with K codes in chunks of `chunk`
 * (K = 0: from scratch), then one step per code position, through recorded graphs when
 * asked and the backend has them (*graphs says). out: N x (T-K) x V. */
static int s_sample_forced(s_case *c, int K, int chunk, float *out, int check_cond,
                           int *graphs, char *err, size_t errlen)
{
    const cn_prior_info *in = c->in;
    int N = c->N, T = c->T, V = in->seq_vocab, rc;
    cn_prior_state *st = NULL;
    int32_t *buf = malloc((size_t)N * (K > 1 ? K : 1) * sizeof *buf);
    float *lg = malloc((size_t)N * V * sizeof *lg);
    if (!buf || !lg) {
        rc = snprintf(err, errlen, "out of memory");
        goto done;
    }
    if ((rc = cn_prior_state_new(&st, c->p, N, chunk, err, errlen)) ||
        (rc = cn_prior_begin(st, c->y.data, c->above.data, err, errlen)))
        goto done;
    *graphs = cn_prior_state_use_graphs(st, *graphs);
    if (check_cond) s_check_cond(c, st);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) buf[(int64_t)n * K + k] = c->tokens[(int64_t)n * T + k];
    if (K > 0 && (rc = cn_prior_prime(st, buf, K, chunk, err, errlen))) goto done;
    for (int t = K; t < T && rc == 0; t++) {
        for (int n = 0; n < N; n++) buf[n] = t > 0 ? c->tokens[(int64_t)n * T + t - 1] : -1;
        if ((rc = cn_prior_step_host(st, t == K ? NULL : buf, lg, err, errlen))) break;
        for (int n = 0; n < N; n++)
            memcpy(out + ((int64_t)n * (T - K) + t - K) * V, lg + (int64_t)n * V,
                   (size_t)V * sizeof *lg);
        if (cn_prior_state_pos(st) != in->prefix + t + 1)
            rc = snprintf(err, errlen, "state at position %d after code %d, expected %d",
                          cn_prior_state_pos(st), t, in->prefix + t + 1);
    }
done:
    cn_prior_state_free(&st);
    free(buf);
    free(lg);
    return rc;
}

static void s_check_filtered(s_case *c, const float *lg)
{
    cn_npy want = { 0 };
    const cJSON *fs = cJSON_GetObjectItem(c->facts, "filtered_sampling");
    float temp = (float)cJSON_GetNumberValue(cJSON_GetObjectItem(fs, "temp"));
    float top_p = (float)cJSON_GetNumberValue(cJSON_GetObjectItem(fs, "top_p"));
    int top_k = s_fact_int(fs, "top_k", 0);
    if (golden_npy(c->g, c->dir, "out_logits_stepwise_filtered.npy", &want)) return;
    int bad = 0, flips = 0;
    double maxd = 0;
    if (top_k != 0 || want.n != (int64_t)c->N * c->T * c->in->seq_vocab) bad = 1;
    for (int t = 0; t < c->T && !bad; t++) {
        float *row = malloc((size_t)c->N * c->in->seq_vocab * sizeof *row);
        for (int n = 0; n < c->N; n++)
            memcpy(row + (int64_t)n * c->in->seq_vocab,
                   lg + ((int64_t)n * c->T + t) * c->in->seq_vocab,
                   (size_t)c->in->seq_vocab * sizeof *row);
        bad += s_filter_rows(c, row, want.data, t, temp, top_p, &flips, &maxd);
        free(row);
    }
    char what[160], detail[160];
    snprintf(what, sizeof what, "out_logits_stepwise_filtered (temp %g, top_p %g)", temp,
             top_p);
    snprintf(detail, sizeof detail, "%d entries differ; %d mask flips within 1e-4 of top_p; "
             "max kept diff %.3g", bad, flips, maxd);
    s_line(c, what, bad == 0, detail);
    cn_npy_free(&want);
}

static void s_check_sampler(s_case *c)
{
    const cn_prior_info *in = c->in;
    int N = c->N, T = c->T, V = in->seq_vocab;
    int K = s_fact_int(c->facts, "primed_codes", 0);
    int chunk = s_fact_int(c->facts, "prime_chunk_size", 0);
    char err[512];
    cn_npy st = { 0 }, pr = { 0 };
    float *lg = calloc((size_t)N * T * V, sizeof *lg);
    int graphs = 1, direct = 0;
    if (golden_npy(c->g, c->dir, "out_logits_stepwise.npy", &st) == 0) {
        if (s_sample_forced(c, 0, chunk, lg, 1, &graphs, err, sizeof err))
            s_line(c, "out_logits_stepwise", 0, err);
        else {
            s_close_n(c, graphs ? "out_logits_stepwise (cached sampler from scratch, recorded "
                                  "steps replayed)"
                                : "out_logits_stepwise (cached sampler from scratch)",
                      lg, &st, (int64_t)N * T * V, S_TOL);
            if (s_has(c, "out_logits_stepwise_filtered")) s_check_filtered(c, lg);
        }
    }
    if (K > 0 && K < T && golden_npy(c->g, c->dir, "out_logits_primed.npy", &pr) == 0) {
        char what[160];
        snprintf(what, sizeof what, "out_logits_primed (%d codes primed in chunks of %d)", K,
                 chunk);
        if (s_sample_forced(c, K, chunk, lg, 0, &direct, err, sizeof err))
            s_line(c, what, 0, err);
        else
            s_close_n(c, what, lg, &pr, (int64_t)N * (T - K) * V, S_TOL);
    }
    free(lg);
    cn_npy_free(&st);
    cn_npy_free(&pr);
}

/* Inputs in token space; for a lyric-prefix model also checked against in_sequence. */
static int s_inputs(s_case *c)
{
    const cn_prior_info *in = c->in;
    if (golden_npy(c->g, c->dir, "in_y.npy", &c->y) || golden_npy(c->g, c->dir, "in_codes.npy",
                                                                   &c->codes))
        return -1;
    if (s_has(c, "in_codes_above") && golden_npy(c->g, c->dir, "in_codes_above.npy", &c->above))
        return -1;
    c->N = (int)c->codes.shape[0];
    c->T = (int)c->codes.shape[1];
    int ok = c->y.nd == 2 && c->y.shape[0] == c->N && c->y.shape[1] == in->label_len &&
             c->T == in->n_ctx && (!c->above.data || c->above.shape[1] == in->above_len);
    s_line(c, "inputs fit the model (label length, n_ctx, codes above)", ok, "");
    if (!ok) return -1;
    c->tokens = malloc((size_t)c->N * c->T * sizeof *c->tokens);
    for (int64_t i = 0; i < (int64_t)c->N * c->T; i++)
        c->tokens[i] = ((int32_t *)c->codes.data)[i] + in->code_offset;
    cn_npy seq = { 0 };
    if (in->prefix > 0 && golden_npy(c->g, c->dir, "in_sequence.npy", &seq) == 0) {
        int bad = seq.n != (int64_t)c->N * in->positions;
        for (int n = 0; n < c->N && !bad; n++)
            for (int a = 0; a < in->positions; a++) {
                const int32_t *y = (const int32_t *)c->y.data + (int64_t)n * in->label_len;
                int32_t mine = a < in->prefix ? y[4 + in->genre_slots + a]
                                              : c->tokens[(int64_t)n * c->T + a - in->prefix];
                bad += mine != ((int32_t *)seq.data)[(int64_t)n * in->positions + a];
            }
        s_line(c, "in_sequence = lyric prefix then codes + n_vocab", !bad, "");
        cn_npy_free(&seq);
    }
    return 0;
}

int golden_prior_case(golden_ctx *g, const char *case_dir, const char *name)
{
    s_case c = { .g = g, .dir = case_dir, .name = name };
    char path[4096], args[4200], err[1024];
    cn_modelfile *mf = NULL;
    if (!(c.man = golden_manifest(g, case_dir))) return 0;
    c.facts = cJSON_GetObjectItem(c.man, "facts");
    c.structure = cJSON_GetObjectItem(c.facts, "structure");
    snprintf(args, sizeof args, "--vqvae-hps '%s/vqvae/checkpoint.pth.tar'", g->root);
    if (golden_convert(g, name, args, path, sizeof path)) goto done;
    if (cn_modelfile_open(&mf, path, err, sizeof err)) {
        s_line(&c, "open converted model file", 0, err);
        goto done;
    }
    s_check_weights(&c, mf);
    if (cn_prior_open(&c.p, mf, g->be, err, sizeof err)) {
        s_line(&c, "build the prior from the model file", 0, err);
        goto done;
    }
    c.in = cn_prior_info_get(c.p);
    s_check_structure(&c);
    if (s_inputs(&c)) goto done;
    s_check_layers(&c);
    s_check_full(&c);
    s_check_sampler(&c);
done:
    cn_prior_close(&c.p);
    cn_modelfile_close(&mf);
    cn_npy_free(&c.y);
    cn_npy_free(&c.codes);
    cn_npy_free(&c.above);
    free(c.tokens);
    cJSON_Delete(c.man);
    return 0;
}
