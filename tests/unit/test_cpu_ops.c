/* SPDX-License-Identifier: MIT
 * Every CPU backend op against a naive loop written here independently (full mask matrices,
 * scatter-style convolutions, double-precision sums); prints each worst difference.
 * Never calls one backend op to check another, except kv_store feeding cached attention.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"

static cn_check C;
static cn_backend *BE;

/* ---- small helpers ---- */

static uint64_t s_rng = 0x1234567ull;

static float s_rand(void)   /* uniform in [-1, 1) */
{
    s_rng = s_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((s_rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static float *s_vec(int64_t n)
{
    float *p = malloc((size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = s_rand();
    return p;
}

static cn_tensor T2(float *d, int64_t a, int64_t b) { return cn_tensor_2d(d, CN_F32, a, b); }

static cn_tensor T3(float *d, int64_t a, int64_t b, int64_t c)
{
    int64_t ne[3] = { a, b, c };
    return cn_tensor_make(d, CN_F32, 3, ne);
}

static cn_tensor T1(void *d, cn_dtype t, int64_t n) { return cn_tensor_make(d, t, 1, &n); }

/* an op that must fail with CN_EINVAL and a message naming the op */
static void s_expect_einval(const char *what, int rc, const char *op)
{
    const char *msg = BE->ops->last_error(BE);
    char detail[1200];
    snprintf(detail, sizeof detail, "status %d, message \"%s\"", rc, msg);
    cn_check_true(&C, what, rc == CN_EINVAL && strstr(msg, op) != NULL, detail);
}

/* fp32 -> IEEE half for values exactly representable (multiples of 1/1024 in [-2, 2]) */
static uint16_t s_to_half(float f)
{
    if (f == 0.0f) return 0;
    uint16_t sign = f < 0 ? 0x8000 : 0;
    float a = fabsf(f);
    int e = 0;
    while (a >= 2.0f) a /= 2.0f, e++;
    while (a < 1.0f) a *= 2.0f, e--;
    return (uint16_t)(sign | (uint16_t)((e + 15) << 10) | (uint16_t)lroundf((a - 1.0f) * 1024.0f));
}

/* ---- memory ---- */

static void test_memory(void)
{
    size_t fr = 0, tot = 0;
    int rc = BE->ops->mem_info(BE, &fr, &tot);
    char detail[160];
    snprintf(detail, sizeof detail, "rc %d, free %zu MiB of %zu MiB", rc, fr >> 20, tot >> 20);
    cn_check_true(&C, "mem_info reports physical memory", rc == 0 && tot > 0 && fr <= tot, detail);
    float host[37], back[37];
    for (int i = 0; i < 37; i++) host[i] = (float)i * 0.5f;
    float *a = BE->ops->alloc(BE, sizeof host), *b = BE->ops->alloc(BE, sizeof host);
    int zero = a != NULL && b != NULL;
    for (int i = 0; zero && i < 37; i++) zero &= a[i] == 0.0f;
    cn_check_true(&C, "alloc returns zero-filled memory", zero, "");
    if (a == NULL || b == NULL) return;
    rc = BE->ops->upload(BE, a, host, sizeof host) | BE->ops->copy(BE, b, a, sizeof host) |
         BE->ops->download(BE, back, b, sizeof host) | BE->ops->sync(BE);
    cn_check_close(&C, rc ? "upload/copy/download (failed)" : "upload, copy, download round trip",
                   back, host, 37, 0);
    BE->ops->release(BE, a);
    BE->ops->release(BE, b);
}

/* ---- matmul ---- */

static void s_naive_matmul(float *y, const float *x, const float *w, cn_wlayout l,
                           const float *b, float beta, int M, int K, int N)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)x[m * K + k] * (l == CN_W_IN_OUT ? w[k * N + n] : w[n * K + k]);
            y[m * N + n] = (float)(beta * y[m * N + n] + s + (b ? b[n] : 0));
        }
}

/* M rows: 1 and 7 take the per-row gemv path, 19 the sgemm path */
static void test_matmul(int M)
{
    const int K = 13, N = 11;
    float *x = s_vec(M * K), *w = s_vec(K * N), *b = s_vec(N), *y0 = s_vec(M * N);
    float *y = malloc(sizeof(float) * M * N), *ref = malloc(sizeof(float) * M * N);
    for (int l = 0; l < 2; l++)
        for (int beta = 0; beta < 2; beta++)
            for (int bias = 0; bias < 2; bias++) {
                memcpy(y, y0, sizeof(float) * M * N);
                memcpy(ref, y0, sizeof(float) * M * N);
                cn_tensor ty = T2(y, M, N), tx = T2(x, M, K), tb = T1(b, CN_F32, N);
                cn_tensor tw = l == 0 ? T2(w, K, N) : T2(w, N, K);
                int rc = BE->ops->matmul(BE, &ty, &tx, &tw, (cn_wlayout)l, bias ? &tb : NULL,
                                         (float)beta);
                s_naive_matmul(ref, x, w, (cn_wlayout)l, bias ? b : NULL, (float)beta, M, K, N);
                char what[96];
                snprintf(what, sizeof what, "matmul M %d %s beta %d %s (rc %d)", M,
                         l == 0 ? "in_out" : "out_in", beta, bias ? "bias" : "no bias", rc);
                cn_check_close(&C, what, y, ref, M * N, 1e-5);
            }
    /* F16 weights, both layouts, given directly to matmul and widened by upload_weight */
    uint16_t *wh = malloc(sizeof(uint16_t) * K * N);
    float *wq = malloc(sizeof(float) * K * N);
    for (int i = 0; i < K * N; i++) {
        wq[i] = roundf(w[i] * 1024.0f) / 1024.0f;
        wh[i] = s_to_half(wq[i]);
    }
    for (int l = 0; l < 2; l++) {
        cn_tensor ty = T2(y, M, N), tx = T2(x, M, K);
        cn_tensor tw = l == 0 ? T2((float *)wh, K, N) : T2((float *)wh, N, K);
        tw.type = CN_F16;
        int rc = BE->ops->matmul(BE, &ty, &tx, &tw, (cn_wlayout)l, NULL, 0.0f);
        s_naive_matmul(ref, x, wq, (cn_wlayout)l, NULL, 0.0f, M, K, N);
        cn_check_close(&C, rc ? "matmul f16 weight (failed)"
                              : l == 0 ? "matmul f16 weight in_out" : "matmul f16 weight out_in",
                       y, ref, M * N, 1e-5);
        cn_tensor up;
        rc = BE->ops->upload_weight(BE, &up, &tw);
        cn_check_true(&C, "upload_weight f16 -> f32", rc == 0 && up.type == CN_F32, "dtype");
        if (rc == 0) {
            cn_check_close(&C, "upload_weight widened values", up.data, wq, K * N, 0.0);
            BE->ops->release(BE, up.data);
        }
    }
    cn_tensor ty = T2(y, M, N), tx = T2(x, M, K), tw = T2(w, K + 1, N);
    s_expect_einval("matmul rejects K mismatch", BE->ops->matmul(BE, &ty, &tx, &tw, CN_W_IN_OUT,
                                                                NULL, 0.0f), "matmul");
    free(x), free(w), free(b), free(y0), free(y), free(ref), free(wh), free(wq);
}

/* ---- layernorm and element-wise ---- */

static void test_layernorm_elementwise(void)
{
    const int M = 5, W = 33;
    float *x = s_vec(M * W), *g = s_vec(W), *b = s_vec(W), *ref = malloc(sizeof(float) * M * W);
    for (int i = 0; i < M * W; i++) x[i] = x[i] * 3 + 0.5f;
    for (int m = 0; m < M; m++) {
        double mu = 0, var = 0;
        for (int i = 0; i < W; i++) mu += x[m * W + i] / (double)W;
        for (int i = 0; i < W; i++) var += (x[m * W + i] - mu) * (x[m * W + i] - mu) / W;
        for (int i = 0; i < W; i++)
            ref[m * W + i] = (float)((x[m * W + i] - mu) / sqrt(var + 1e-5) * g[i] + b[i]);
    }
    cn_tensor tx = T2(x, M, W), tg = T1(g, CN_F32, W), tb = T1(b, CN_F32, W);
    int rc = BE->ops->layernorm(BE, &tx, &tx, &tg, &tb, 1e-5f);   /* aliased in place */
    cn_check_close(&C, rc ? "layernorm (failed)" : "layernorm in place, eps 1e-5", x, ref,
                   M * W, 2e-6);

    const int n = 257;
    float *a = s_vec(n), *c = s_vec(n), *r = malloc(sizeof(float) * n), *o = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) a[i] *= 6;
    for (int i = 0; i < n; i++) r[i] = (float)(a[i] / (1.0 + exp(-1.702 * a[i])));
    memcpy(o, a, sizeof(float) * n);
    cn_tensor to = T1(o, CN_F32, n), ta = T1(a, CN_F32, n), tc = T1(c, CN_F32, n);
    BE->ops->gelu_quick(BE, &to);
    cn_check_close(&C, "gelu_quick x*sigmoid(1.702x)", o, r, n, 2e-6);
    for (int i = 0; i < n; i++) r[i] = a[i] > 0 ? a[i] : 0;
    BE->ops->relu(BE, &to, &ta);
    cn_check_close(&C, "relu", o, r, n, 0);
    memcpy(o, a, sizeof(float) * n);
    for (int i = 0; i < n; i++) r[i] = a[i] + 0.25f * c[i];
    BE->ops->axpy(BE, &to, &tc, 0.25f);
    cn_check_close(&C, "axpy alpha 0.25", o, r, n, 1e-6);

    /* embed_add: id -1 adds nothing; id == V is an error */
    const int V = 6, E = 5, R = 4;
    float *tab = s_vec(V * E), *y = s_vec(R * E), *ye = malloc(sizeof(float) * R * E);
    int32_t ids[4] = { 2, -1, 5, 2 };
    for (int m = 0; m < R; m++)
        for (int i = 0; i < E; i++) ye[m * E + i] = y[m * E + i] + (ids[m] >= 0 ? tab[ids[m] * E + i] : 0);
    cn_tensor ty = T2(y, R, E), tt = T2(tab, V, E), ti = T1(ids, CN_I32, R);
    rc = BE->ops->embed_add(BE, &ty, &tt, &ti);
    cn_check_close(&C, rc ? "embed_add (failed)" : "embed_add with an id -1", y, ye, R * E, 0);
    ids[3] = V;
    s_expect_einval("embed_add rejects id == V", BE->ops->embed_add(BE, &ty, &tt, &ti), "embed_add");

    /* transpose (2, 3, 5) -> (2, 5, 3) */
    float *xt = s_vec(30), *yt = malloc(sizeof(float) * 30), *rt = malloc(sizeof(float) * 30);
    for (int nn = 0; nn < 2; nn++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) rt[nn * 15 + j * 3 + i] = xt[nn * 15 + i * 5 + j];
    cn_tensor txt = T3(xt, 2, 3, 5), tyt = T3(yt, 2, 5, 3);
    rc = BE->ops->transpose(BE, &tyt, &txt);
    cn_check_close(&C, rc ? "transpose (failed)" : "transpose (2,3,5) -> (2,5,3)", yt, rt, 30, 0);
    s_expect_einval("transpose rejects a wrong y shape", BE->ops->transpose(BE, &txt, &txt),
                    "transpose");
    free(x), free(g), free(b), free(ref), free(a), free(c), free(r), free(o);
    free(tab), free(y), free(ye), free(xt), free(yt), free(rt);
}

/* ---- convolutions ---- */

/* conv1d on one geometry against the direct sum */
static void s_conv_case(int N, int Cin, int Cout, int T, int K, int s, int p, int d)
{
    int To = (T + 2 * p - d * (K - 1) - 1) / s + 1;
    float *x = s_vec((int64_t)N * Cin * T), *w = s_vec(Cout * Cin * K), *b = s_vec(Cout);
    float *y = malloc(sizeof(float) * N * Cout * To), *r = malloc(sizeof(float) * N * Cout * To);
    for (int n = 0; n < N; n++)
        for (int co = 0; co < Cout; co++)
            for (int t = 0; t < To; t++) {
                double acc = b[co];
                for (int ci = 0; ci < Cin; ci++)
                    for (int k = 0; k < K; k++) {
                        int src = t * s - p + k * d;
                        if (src >= 0 && src < T)
                            acc += (double)w[(co * Cin + ci) * K + k] * x[((int64_t)n * Cin + ci) * T + src];
                    }
                r[((int64_t)n * Cout + co) * To + t] = (float)acc;
            }
    cn_tensor ty = T3(y, N, Cout, To), tx = T3(x, N, Cin, T), tw = T3(w, Cout, Cin, K);
    cn_tensor tb = T1(b, CN_F32, Cout);
    int rc = BE->ops->conv1d(BE, &ty, &tx, &tw, &tb, s, p, d);
    char what[160];
    snprintf(what, sizeof what, "conv1d %d->%d K %d stride %d pad %d dilation %d: T %d -> %d (rc %d)",
             Cin, Cout, K, s, p, d, T, To, rc);
    cn_check_close(&C, what, y, r, (int64_t)N * Cout * To, 1e-5 * sqrt((double)Cin * K));
    if (K == 3 && s == 2) {
        cn_tensor bad = T3(y, N, Cout, To + 1);
        s_expect_einval("conv1d rejects a wrong output length",
                        BE->ops->conv1d(BE, &bad, &tx, &tw, &tb, s, p, d), "conv1d");
    }
    free(x), free(w), free(b), free(y), free(r);
}

/* conv_transpose1d on one geometry: scatter each input sample into its output window */
static void s_convt_case(int N, int Cin, int Co, int Ti, int K, int s, int p)
{
    int To = (Ti - 1) * s - 2 * p + K;
    float *x = s_vec((int64_t)N * Cin * Ti), *w = s_vec(Cin * Co * K), *b = s_vec(Co);
    double *acc = calloc((size_t)N * Co * To, sizeof(double));
    float *y = malloc(sizeof(float) * N * Co * To), *r = malloc(sizeof(float) * N * Co * To);
    for (int n = 0; n < N; n++)
        for (int ci = 0; ci < Cin; ci++)
            for (int t = 0; t < Ti; t++)
                for (int co = 0; co < Co; co++)
                    for (int k = 0; k < K; k++) {
                        int o = t * s - p + k;
                        if (o >= 0 && o < To)
                            acc[((int64_t)n * Co + co) * To + o] +=
                                (double)x[((int64_t)n * Cin + ci) * Ti + t] * w[(ci * Co + co) * K + k];
                    }
    for (int64_t i = 0; i < (int64_t)N * Co * To; i++) r[i] = (float)(acc[i] + b[(i / To) % Co]);
    cn_tensor ty = T3(y, N, Co, To), tx = T3(x, N, Cin, Ti), tw = T3(w, Cin, Co, K);
    cn_tensor tb = T1(b, CN_F32, Co);
    int rc = BE->ops->conv_transpose1d(BE, &ty, &tx, &tw, &tb, s, p);
    char what[160];
    snprintf(what, sizeof what, "conv_transpose1d %d->%d K %d stride %d pad %d: T %d -> %d (rc %d)",
             Cin, Co, K, s, p, Ti, To, rc);
    cn_check_close(&C, what, y, r, (int64_t)N * Co * To, 1e-5 * sqrt((double)Cin * K));
    free(x), free(w), free(b), free(acc), free(y), free(r);
}

static void test_conv(void)
{
    const int N = 2, Cin = 3;
    s_conv_case(N, 3, 4, 17, 3, 2, 1, 2);
    s_conv_case(N, 3, 4, 17, 3, 1, 9, 9);     /* dilation larger than half the signal */
    s_conv_case(N, 3, 4, 17, 4, 2, 1, 1);     /* the encoder's downsampling conv */
    s_conv_case(N, 3, 4, 17, 1, 1, 0, 1);
    s_conv_case(N, 3, 4, 17, 3, 1, 1, 1);
    s_conv_case(1, 5, 6, 9001, 3, 1, 27, 27); /* several 4096-step tiles, taps at the edges */
    s_conv_case(1, 64, 8, 9000, 4, 2, 1, 1);  /* several im2col tiles */
    s_convt_case(N, Cin, 5, 9, 4, 2, 1);       /* the decoder's upsampling conv */
    s_convt_case(N, Cin, 5, 9, 3, 1, 1);
    s_convt_case(N, Cin, 5, 9, 5, 3, 0);
    s_convt_case(1, 2, 3, 7, 3, 2, 2);          /* padding that crops more than a tap */
    s_convt_case(1, 16, 8, 5000, 4, 2, 1);      /* several 2048-step phase tiles */
}

/* ---- attention ---- */

/* The key set of facts 8.2 as a 0/1 matrix entry, written from the table. */
static int s_mask(int type, int i, int j, int c, int P)
{
    switch (type) {
    case 0: return j <= i;
    case 1: return j <= i && j / c == i / c;
    case 2: return j <= i && j % c == i % c;
    case 3: return j / c == i / c - 1;
    case 6: return 1;
    case 7: return j <= i && j < P;
    }
    return 0;
}

/* The reference's full forward: masked scores -1e9, softmax, p v; previous-block queries in
 * block 0 see c zero keys/values (output 0, probabilities uniform but unused). */
static void s_naive_attention(float *out, float *probs, const float *qkv, int qs,
                              const float *k, const float *v, int ks, int items, int L, int Lk,
                              int H, int hd, int type, int c, int P, int ph)
{
    int S = H * hd;
    double *sc = malloc(sizeof(double) * Lk);
    for (int n = 0; n < items; n++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < L; i++) {
                float *o = out + ((size_t)(n * L + i)) * S + h * hd;
                if (type == 3 && i < c) {
                    for (int e = 0; e < hd; e++) o[e] = 0;
                    if (h == ph) for (int j = 0; j < Lk; j++) probs[(n * L + i) * Lk + j] = 0;
                    continue;
                }
                double mx = -1e300, sum = 0;
                for (int j = 0; j < Lk; j++) {
                    double d = 0;
                    for (int e = 0; e < hd; e++)
                        d += (double)qkv[(n * L + i) * qs + h * hd + e] * k[(n * ks + j) * S + h * hd + e];
                    d /= sqrt((double)hd);
                    sc[j] = s_mask(type, i, j, c, P) ? d : -1e9;
                    if (sc[j] > mx) mx = sc[j];
                }
                for (int j = 0; j < Lk; j++) sum += (sc[j] = exp(sc[j] - mx));
                for (int e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int j = 0; j < Lk; j++) acc += sc[j] / sum * v[(n * ks + j) * S + h * hd + e];
                    o[e] = (float)acc;
                }
                if (h == ph)
                    for (int j = 0; j < Lk; j++) probs[(n * L + i) * Lk + j] = (float)(sc[j] / sum);
            }
    free(sc);
}

/* one key-set type at sequence length L, block length c, prime length P */
static void test_attention_type(int type, int L, int c, int P)
{
    const int items = 2, H = 3, hd = 4, S = H * hd, Lenc = 7;
    int Lk = type == 6 ? Lenc : L;
    /* q inside a [q|k|v] buffer (row stride 3S); k, v in their own (items, Lk, S) arrays */
    float *qkv = s_vec(items * L * 3 * S);
    for (int i = 0; i < items * L * 3 * S; i++) qkv[i] *= 2;
    float *kk = malloc(sizeof(float) * items * Lk * S), *vv = malloc(sizeof(float) * items * Lk * S);
    cn_tensor tk = T3(kk, items, Lk, S), tv = T3(vv, items, Lk, S);
    float *enc = s_vec(items * Lk * 2 * S);
    cn_tensor src = type == 6 ? T2(enc, items * Lk, 2 * S) : T2(qkv, items * L, 3 * S);
    int rc = BE->ops->kv_store(BE, &tk, &tv, &src, items, Lk, type == 6 ? 2 * S : 3 * S,
                               type == 6 ? 0 : S, type == 6 ? S : 2 * S, S, 0, Lk);
    cn_check_true(&C, "kv_store of the whole sequence", rc == 0, rc ? BE->ops->last_error(BE) : "");

    size_t on = (size_t)items * L * S, pn = (size_t)items * L * Lk;
    float *out = malloc(sizeof(float) * on), *ref = malloc(sizeof(float) * on);
    float *pr = malloc(sizeof(float) * pn), *pref = malloc(sizeof(float) * pn);
    s_naive_attention(ref, pref, qkv, 3 * S, kk, vv, Lk, items, L, Lk, H, hd, type, c, P, 1);
    cn_attn_desc d = { .type = (cn_attn_type)type, .n_items = items, .heads = H, .head_dim = hd,
                       .q_len = L, .q_pos0 = 0, .q_row_stride = 3 * S, .k_len = Lk,
                       .k_stride = Lk, .block_len = c, .prime_len = P, .probs_head = 1 };
    cn_tensor to = T3(out, items, L, S), tp = T3(pr, items, L, Lk);
    rc = BE->ops->attention(BE, &to, qkv, kk, vv, &d, &tp);
    char what[160];
    snprintf(what, sizeof what, "attention type %d full forward L %d, c %d, P %d (rc %d)", type,
             L, c, P, rc);
    cn_check_close(&C, what, out, ref, (int64_t)on, 2e-6);
    snprintf(what, sizeof what, "attention type %d probabilities of head 1", type);
    cn_check_close(&C, what, pr, pref, (int64_t)pn, 2e-6);
    if (type == 3) {
        int zero = 1;
        for (int n = 0; n < items; n++)
            for (int i = 0; i < c * S; i++) zero &= out[(size_t)n * L * S + i] == 0.0f;
        cn_check_true(&C, "previous-block attention: block 0 output exactly 0", zero, "");
    }

    /* single-step decode: a cache filled one position at a time; prime caches keep < P */
    if (type != 6) {
        float *kc = calloc((size_t)items * L * S, sizeof(float)), *vc = calloc((size_t)items * L * S, sizeof(float));
        float *row = malloc(sizeof(float) * items * 3 * S), *o1 = malloc(sizeof(float) * items * S);
        float *step_out = malloc(sizeof(float) * on);
        cn_tensor tkc = T3(kc, items, L, S), tvc = T3(vc, items, L, S);
        int bad = 0;
        for (int t = 0; t < L && !bad; t++) {
            for (int n = 0; n < items; n++)
                memcpy(row + n * 3 * S, qkv + ((size_t)n * L + t) * 3 * S, sizeof(float) * 3 * S);
            cn_tensor trow = T2(row, items, 3 * S);
            int klen = type == 7 && t + 1 > P ? P : t + 1;
            if (t < klen) bad |= BE->ops->kv_store(BE, &tkc, &tvc, &trow, items, 1, 3 * S, S, 2 * S, S, t, L);
            cn_attn_desc d1 = d;
            d1.q_len = 1, d1.q_pos0 = t, d1.k_len = klen, d1.k_stride = L;
            cn_tensor to1 = T3(o1, items, 1, S);
            bad |= BE->ops->attention(BE, &to1, row, kc, vc, &d1, NULL);
            for (int n = 0; n < items; n++)
                memcpy(step_out + ((size_t)n * L + t) * S, o1 + n * S, sizeof(float) * S);
        }
        snprintf(what, sizeof what, "attention type %d single-step decode with kv cache (rc %d)",
                 type, bad);
        cn_check_close(&C, what, step_out, ref, (int64_t)on, 2e-6);

        /* chunked priming: chunks of 5 rows at absolute positions, keys 0 .. pos0+len-1 */
        for (int p0 = 0; p0 < L; p0 += 5) {
            int len = L - p0 < 5 ? L - p0 : 5;
            float *qc = malloc(sizeof(float) * items * len * 3 * S), *oc = malloc(sizeof(float) * items * len * S);
            for (int n = 0; n < items; n++)
                memcpy(qc + (size_t)n * len * 3 * S, qkv + ((size_t)n * L + p0) * 3 * S, sizeof(float) * len * 3 * S);
            cn_attn_desc dc = d;
            dc.q_len = len, dc.q_pos0 = p0, dc.k_len = p0 + len, dc.k_stride = L;
            if (type == 7 && dc.k_len > P) dc.k_len = P;
            cn_tensor toc = T3(oc, items, len, S);
            bad |= BE->ops->attention(BE, &toc, qc, kk, vv, &dc, NULL);
            for (int n = 0; n < items; n++)
                memcpy(step_out + ((size_t)n * L + p0) * S, oc + (size_t)n * len * S, sizeof(float) * len * S);
            free(qc), free(oc);
        }
        snprintf(what, sizeof what, "attention type %d chunked (5 rows) at q_pos0 (rc %d)", type, bad);
        cn_check_close(&C, what, step_out, ref, (int64_t)on, 2e-6);
        free(kc), free(vc), free(row), free(o1), free(step_out);
    }
    if (type == 0 && L == 24) {
        cn_attn_desc db = d;
        db.k_len = L - 1;
        s_expect_einval("attention rejects a cache shorter than the queries need",
                        BE->ops->attention(BE, &to, qkv, kk, vv, &db, NULL), "attention");
    }
    free(qkv), free(kk), free(vv), free(enc), free(out), free(ref), free(pr), free(pref);
}

/* ---- codebook ---- */

static void test_codebook(void)
{
    const int N = 2, D = 8, T = 37, K = 16;
    float *x = s_vec(N * D * T), *cb = s_vec(K * D);
    memcpy(cb + 7 * D, cb + 3 * D, sizeof(float) * D);           /* rows 3 and 7 tie */
    for (int dd = 0; dd < D; dd++) x[dd * T + 5] = cb[3 * D + dd]; /* item 0, t 5 = row 3 */
    int32_t *ids = malloc(sizeof(int32_t) * N * T), *ref = malloc(sizeof(int32_t) * N * T);
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) {
            double best = 1e300;
            for (int k = 0; k < K; k++) {
                double s = 0;
                for (int dd = 0; dd < D; dd++) {
                    double e = x[(n * D + dd) * T + t] - cb[k * D + dd];
                    s += e * e;
                }
                if (s < best) best = s, ref[n * T + t] = k;
            }
        }
    cn_tensor ti = T1(ids, CN_I32, N * T), tx = T3(x, N, D, T), tc = T2(cb, K, D);
    int rc = BE->ops->codebook_nearest(BE, &ti, &tx, &tc);
    cn_check_equal_i32(&C, rc ? "codebook_nearest (failed)" : "codebook_nearest vs exact argmin",
                       ids, ref, N * T);
    char detail[64];
    snprintf(detail, sizeof detail, "got %d, want 3 (rows 3 and 7 are equal)", ids[5]);
    cn_check_true(&C, "codebook_nearest tie picks the lowest index", ids[5] == 3, detail);
    float *y = malloc(sizeof(float) * N * D * T), *yr = malloc(sizeof(float) * N * D * T);
    for (int n = 0; n < N; n++)
        for (int dd = 0; dd < D; dd++)
            for (int t = 0; t < T; t++) yr[(n * D + dd) * T + t] = cb[ref[n * T + t] * D + dd];
    cn_tensor ty = T3(y, N, D, T);
    rc = BE->ops->codebook_lookup(BE, &ty, &ti, &tc);
    cn_check_close(&C, rc ? "codebook_lookup (failed)" : "codebook_lookup", y, yr, N * D * T, 0);
    ids[0] = K;
    s_expect_einval("codebook_lookup rejects id == K", BE->ops->codebook_lookup(BE, &ty, &ti, &tc),
                    "codebook_lookup");
    free(x), free(cb), free(ids), free(ref), free(y), free(yr);
}

/* ---- filter and sample ---- */

static void test_filter_sample(void)
{
    const int V = 10;
    float x[10] = { 1, 3, 3, 0, -2, 3, 0.5f, 2, -1, 3 }, y[10], r[10];
    cn_tensor tx = T2(x, 1, V), ty = T2(y, 1, V);
    cn_sample_desc s = { .temperature = 2.0f, .top_k = 1 };
    int rc = BE->ops->filter_logits(BE, &ty, &tx, &s);
    for (int j = 0; j < V; j++) r[j] = x[j] == 3 ? 1.5f : -INFINITY;
    cn_check_close(&C, rc ? "filter (failed)" : "filter top_k 1 keeps all four tied maxima", y, r, V, 0);
    s.top_k = 99;
    rc = BE->ops->filter_logits(BE, &ty, &tx, &s);
    for (int j = 0; j < V; j++) r[j] = x[j] / 2.0f;
    cn_check_close(&C, "filter top_k > V keeps everything", y, r, V, 0);
    s.top_k = 0, s.top_p = 1e-9f, s.temperature = 1.0f;
    float xd[4] = { 0.1f, 2.0f, 1.0f, -1.0f }, yd[4], rd[4] = { -INFINITY, 2.0f, -INFINITY, -INFINITY };
    cn_tensor txd = T2(xd, 1, 4), tyd = T2(yd, 1, 4);
    BE->ops->filter_logits(BE, &tyd, &txd, &s);
    cn_check_close(&C, "filter top_p 1e-9 keeps only the top entry", yd, rd, 4, 0);
    /* p = softmax(xd) sorted: 0.6364 (2.0), 0.2341 (1.0), 0.1059 (0.1), 0.0237: top_p 0.8 keeps
     * the first entry crossing 0.8 (cum 0.8705) and removes the rest */
    s.top_p = 0.8f;
    float rp[4] = { -INFINITY, 2.0f, 1.0f, -INFINITY };
    memcpy(yd, xd, sizeof yd);
    BE->ops->filter_logits(BE, &tyd, &tyd, &s);   /* aliased */
    cn_check_close(&C, "filter top_p 0.8 keeps the entry that crosses it", yd, rp, 4, 0);
    s.top_k = 3;
    s_expect_einval("filter rejects top_k and top_p together", BE->ops->filter_logits(BE, &ty, &tx, &s),
                    "filter_logits");
    s.top_k = 0, s.top_p = 0, s.temperature = 0;
    s_expect_einval("filter rejects temperature 0", BE->ops->filter_logits(BE, &ty, &tx, &s),
                    "filter_logits");

    /* sample: 64 rows of 50 logits; same seed -> same ids, another seed -> different ids;
     * each id equals an independent inverse-CDF draw with the shared uniform */
    enum { R = 64, W = 50 };
    float *lg = s_vec(R * W), *scratch = malloc(sizeof(float) * R * W);
    int32_t a[R], b[R], want[R];
    cn_sample_desc sd = { .temperature = 0.9f, .seed = 42, .stream = 5, .step = 17 };
    cn_tensor ta = T1(a, CN_I32, R), tb = T1(b, CN_I32, R), tl = T2(scratch, R, W);
    memcpy(scratch, lg, sizeof(float) * R * W);
    int rc1 = BE->ops->sample(BE, &ta, &tl, &sd);
    memcpy(scratch, lg, sizeof(float) * R * W);
    int rc2 = BE->ops->sample(BE, &tb, &tl, &sd);
    cn_check_equal_i32(&C, rc1 || rc2 ? "sample (failed)" : "sample: same seed, same ids", a, b, R);
    for (int n = 0; n < R; n++) {
        double u = cn_uniform(42, 5 + (uint64_t)n, 17), mx = -1e300, sum = 0, cum = 0;
        for (int j = 0; j < W; j++) mx = fmax(mx, (double)(lg[n * W + j] / 0.9f));
        for (int j = 0; j < W; j++) sum += exp((double)(lg[n * W + j] / 0.9f) - mx);
        want[n] = W - 1;
        for (int j = 0; j < W; j++) {
            cum += exp((double)(lg[n * W + j] / 0.9f) - mx) / sum;
            if (cum > u) {
                want[n] = j;
                break;
            }
        }
    }
    cn_check_equal_i32(&C, "sample: inverse CDF of cn_uniform(seed, stream + n, step)", a, want, R);
    sd.seed = 43;
    memcpy(scratch, lg, sizeof(float) * R * W);
    BE->ops->sample(BE, &tb, &tl, &sd);
    int differ = 0;
    for (int n = 0; n < R; n++) differ += a[n] != b[n];
    char detail[64];
    snprintf(detail, sizeof detail, "%d of %d ids differ", differ, R);
    cn_check_true(&C, "sample: another seed gives other ids", differ > R / 4, detail);
    sd.top_k = 1;
    memcpy(scratch, lg, sizeof(float) * R * W);
    BE->ops->sample(BE, &tb, &tl, &sd);
    for (int n = 0; n < R; n++) {
        want[n] = 0;
        for (int j = 1; j < W; j++) if (lg[n * W + j] > lg[n * W + want[n]]) want[n] = j;
    }
    cn_check_equal_i32(&C, "sample with top_k 1 is argmax", b, want, R);
    memcpy(scratch, lg, sizeof(float) * R * W);
    scratch[3 * W + 7] = NAN;
    s_expect_einval("sample rejects a NaN logit", BE->ops->sample(BE, &tb, &tl, &sd), "sample");
    free(lg), free(scratch);
}

int main(void)
{
    char err[256];
    BE = cn_backend_new("cpu", err, sizeof err);
    if (BE == NULL) {
        printf("FAIL cpu backend: %s\n", err);
        return 1;
    }
    test_memory();
    test_matmul(1);
    test_matmul(7);
    test_matmul(19);
    test_layernorm_elementwise();
    test_conv();
    int types[] = { 0, 1, 2, 3, 6, 7 };
    for (int i = 0; i < 6; i++) test_attention_type(types[i], 24, 6, 10);
    for (int i = 0; i < 6; i++) test_attention_type(types[i], 150, 30, 70);  /* tiles span blocks */
    test_codebook();
    test_filter_sample();
    cn_backend_destroy(&BE);
    return cn_check_finish(&C);
}
