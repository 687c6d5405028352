/* SPDX-License-Identifier: MIT
 * Every op of backend.h on the CUDA backend against the CPU reference on random inputs, with
 * the tolerance printed per check. Exits 77 (skipped) when no CUDA device is present.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"
#include "random_stack.h"

/* Tolerances (max abs diff), by what differs between the two backends:
 *   fp32 only (summation order, expf ulps):            1e-5 * scale of the values
 *   bf16 weights, fp32 x (gemv path: M <= 4, out_in M <= 2): weights rounded to bf16 on the
 *                                                       CPU side too, so fp32 order only:
 *                                                       1e-5 (1 + max|y|)
 *   bf16 weights and x cast to bf16 (cuBLAS, more rows): 2^-8 * sqrt(K) * rms(x) * rms(w) * 4
 *   codes, ids, masks:                                   exact */

static cn_check g_c;
static cn_backend *g_cpu, *g_gpu, *g_gpu32, *g_gpu16;

static uint64_t g_rng = 0x1234567;
static float s_rand(void)   /* uniform in [-1, 1) */
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((g_rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static float *s_randv(int64_t n, float scale)
{
    float *p = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = s_rand() * scale;
    return p;
}

static void s_die(const char *what, cn_backend *be)
{
    printf("FAIL %s: %s\n", what, be ? be->ops->last_error(be) : "");
    g_c.failed++;
}

/* device copy of n floats (or ints) */
static void *s_up(cn_backend *be, const void *host, size_t bytes)
{
    void *d = be->ops->alloc(be, bytes);
    if (d == NULL || be->ops->upload(be, d, host, bytes) != 0) {
        s_die("upload", be);
        exit(1);
    }
    return d;
}

static float *s_down(cn_backend *be, const void *dev, int64_t n)
{
    float *h = malloc((size_t)n * 4);
    if (be->ops->download(be, h, dev, (size_t)n * 4) != 0) s_die("download", be);
    return h;
}

static cn_tensor s_t(void *data, cn_dtype t, int nd, int64_t a, int64_t b, int64_t c)
{
    int64_t ne[3] = { a, b, c };
    return cn_tensor_make(data, t, nd, ne);
}

/* ---- matmul ---- */

static void s_matmul_case(cn_backend *gpu, const char *wname, int M, int K, int N,
                          cn_wlayout lay, int bias, float beta, int bf16)
{
    char what[160];
    float *x = s_randv((int64_t)M * K, 1), *w = s_randv((int64_t)K * N, 0.5f);
    float *b = s_randv(N, 1), *y0 = s_randv((int64_t)M * N, 1);
    if (bf16)
        for (int64_t i = 0; i < (int64_t)K * N; i++) w[i] = cn_rs_bf16(w[i]);
    int64_t wr = lay == CN_W_IN_OUT ? K : N, wc = lay == CN_W_IN_OUT ? N : K;
    float *yc = malloc((size_t)M * N * 4);
    memcpy(yc, y0, (size_t)M * N * 4);
    cn_tensor tx = s_t(x, CN_F32, 2, M, K, 0), tw = s_t(w, CN_F32, 2, wr, wc, 0);
    cn_tensor tb = s_t(b, CN_F32, 1, N, 0, 0), ty = s_t(yc, CN_F32, 2, M, N, 0);
    if (g_cpu->ops->matmul(g_cpu, &ty, &tx, &tw, lay, bias ? &tb : NULL, beta)) s_die("cpu matmul", g_cpu);
    cn_tensor dx = s_t(s_up(gpu, x, (size_t)M * K * 4), CN_F32, 2, M, K, 0);
    cn_tensor dy = s_t(s_up(gpu, y0, (size_t)M * N * 4), CN_F32, 2, M, N, 0);
    cn_tensor dw, db;
    if (gpu->ops->upload_weight(gpu, &dw, &tw) || gpu->ops->upload_weight(gpu, &db, &tb))
        s_die("upload_weight", gpu);
    if (gpu->ops->matmul(gpu, &dy, &dx, &dw, lay, bias ? &db : NULL, beta)) s_die("cuda matmul", gpu);
    float *yg = s_down(gpu, dy.data, (int64_t)M * N);
    double big = 0;
    for (int64_t i = 0; i < (int64_t)M * N; i++) big = fabs(yc[i]) > big ? fabs(yc[i]) : big;
    double tol = 1e-5 * (1 + big);   /* fp32 summation order only */
    /* which rows go to cuBLAS (x rounded to bf16 there too): docs/cuda.md, matmul */
    int via_blas = gpu == g_gpu16 ? M > 16 : (lay == CN_W_OUT_IN ? M > 2 : M > 4);
    if (dw.type != CN_F32 && via_blas)
        tol = 4.0 * sqrt((double)K) * (1.0 / 256) * 0.58 * 0.29;
    snprintf(what, sizeof what, "matmul %s M=%d K=%d N=%d %s bias=%d beta=%.1f (w %s)", wname, M,
             K, N, lay == CN_W_IN_OUT ? "in_out" : "out_in", bias, beta,
             dw.type == CN_F32 ? "f32" : dw.type == CN_BF16 ? "bf16" : "f16");
    cn_check_close(&g_c, what, yg, yc, (int64_t)M * N, tol);
    gpu->ops->release(gpu, dx.data);
    gpu->ops->release(gpu, dy.data);
    gpu->ops->release(gpu, dw.data);
    gpu->ops->release(gpu, db.data);
    free(x), free(w), free(b), free(y0), free(yc), free(yg);
}

static void s_test_matmul(void)
{
    static const int shapes[][3] = { { 1, 96, 160 }, { 3, 256, 200 }, { 5, 130, 66 },
                                     { 16, 512, 384 }, { 40, 192, 96 }, { 8, 4800, 64 } };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int lay = 0; lay < 2; lay++) {
            int M = shapes[i][0], K = shapes[i][1], N = shapes[i][2];
            s_matmul_case(g_gpu, "bf16", M, K, N, (cn_wlayout)lay, (int)(i & 1), 0.0f, 1);
            s_matmul_case(g_gpu, "bf16", M, K, N, (cn_wlayout)lay, 1, 0.5f, 1);
            s_matmul_case(g_gpu32, "f32", M, K, N, (cn_wlayout)lay, (int)(i & 1), 1.0f, 0);
            if (M > 4 && M <= 16)   /* the gemv kernels for 5..16 rows (CN_CUDA_GEMV_MAX_M=16) */
                s_matmul_case(g_gpu16, "bf16 gemv<=16", M, K, N, (cn_wlayout)lay, 1, 0.5f, 1);
        }
}

/* ---- layernorm, element-wise ---- */

static void s_test_layernorm(void)
{
    int shapes[][2] = { { 5, 4800 }, { 7, 33 }, { 1, 1920 } };
    for (int s = 0; s < 3; s++) {
        int M = shapes[s][0], W = shapes[s][1];
        float *x = s_randv((int64_t)M * W, 3), *g = s_randv(W, 1), *b = s_randv(W, 1);
        for (int64_t i = 0; i < (int64_t)M * W; i++) x[i] += 0.5f;
        float *yc = malloc((size_t)M * W * 4);
        cn_tensor tx = s_t(x, CN_F32, 2, M, W, 0), ty = s_t(yc, CN_F32, 2, M, W, 0);
        cn_tensor tg = s_t(g, CN_F32, 1, W, 0, 0), tb = s_t(b, CN_F32, 1, W, 0, 0);
        if (g_cpu->ops->layernorm(g_cpu, &ty, &tx, &tg, &tb, 1e-5f)) s_die("cpu layernorm", g_cpu);
        cn_tensor dx = s_t(s_up(g_gpu, x, (size_t)M * W * 4), CN_F32, 2, M, W, 0), dg, db;
        g_gpu->ops->upload_weight(g_gpu, &dg, &tg);
        g_gpu->ops->upload_weight(g_gpu, &db, &tb);
        if (g_gpu->ops->layernorm(g_gpu, &dx, &dx, &dg, &db, 1e-5f)) s_die("cuda layernorm", g_gpu);
        float *yg = s_down(g_gpu, dx.data, (int64_t)M * W);
        char what[96];
        snprintf(what, sizeof what, "layernorm (%d, %d) in place", M, W);
        cn_check_close(&g_c, what, yg, yc, (int64_t)M * W, 2e-5);
        g_gpu->ops->release(g_gpu, dx.data);
        g_gpu->ops->release(g_gpu, dg.data);
        g_gpu->ops->release(g_gpu, db.data);
        free(x), free(g), free(b), free(yc), free(yg);
    }
}

static void s_test_eltwise(void)
{
    int64_t n = 100003;
    float *x = s_randv(n, 6), *y = s_randv(n, 2);
    float *xc = malloc(n * 4), *yc = malloc(n * 4);
    memcpy(xc, x, n * 4);
    memcpy(yc, y, n * 4);
    cn_tensor tx = s_t(xc, CN_F32, 1, n, 0, 0), ty = s_t(yc, CN_F32, 1, n, 0, 0);
    cn_tensor dx = s_t(s_up(g_gpu, x, n * 4), CN_F32, 1, n, 0, 0);
    cn_tensor dy = s_t(s_up(g_gpu, y, n * 4), CN_F32, 1, n, 0, 0);
    g_cpu->ops->axpy(g_cpu, &ty, &tx, -0.75f);
    if (g_gpu->ops->axpy(g_gpu, &dy, &dx, -0.75f)) s_die("cuda axpy", g_gpu);
    float *r = s_down(g_gpu, dy.data, n);
    cn_check_close(&g_c, "axpy alpha -0.75", r, yc, n, 1e-6);
    free(r);
    g_cpu->ops->gelu_quick(g_cpu, &tx);
    if (g_gpu->ops->gelu_quick(g_gpu, &dx)) s_die("cuda gelu_quick", g_gpu);
    r = s_down(g_gpu, dx.data, n);
    cn_check_close(&g_c, "gelu_quick (in place)", r, xc, n, 1e-5);
    free(r);
    g_cpu->ops->relu(g_cpu, &tx, &ty);
    if (g_gpu->ops->relu(g_gpu, &dx, &dy)) s_die("cuda relu", g_gpu);
    r = s_down(g_gpu, dx.data, n);
    /* relu's input is axpy's output, which may differ by an ulp (FMA on the GPU) */
    cn_check_close(&g_c, "relu", r, xc, n, 1e-6);
    free(r);
    g_gpu->ops->release(g_gpu, dx.data);
    g_gpu->ops->release(g_gpu, dy.data);
    free(x), free(y), free(xc), free(yc);
}

static void s_test_embed_transpose(void)
{
    int V = 50, W = 64, M = 9;
    float *tab = s_randv((int64_t)V * W, 1), *y = s_randv((int64_t)M * W, 1);
    float *tabr = malloc((size_t)V * W * 4), *yc = malloc((size_t)M * W * 4);
    for (int64_t i = 0; i < (int64_t)V * W; i++) tabr[i] = cn_rs_bf16(tab[i]);
    memcpy(yc, y, (size_t)M * W * 4);
    int32_t ids[9] = { 0, 49, 3, -1, 7, 7, 20, -5, 11 };
    cn_tensor tt = s_t(tab, CN_F32, 2, V, W, 0), ttr = s_t(tabr, CN_F32, 2, V, W, 0);
    cn_tensor ty = s_t(yc, CN_F32, 2, M, W, 0), ti = s_t(ids, CN_I32, 1, M, 0, 0);
    g_cpu->ops->embed_add(g_cpu, &ty, &ttr, &ti);
    cn_tensor dt, dy = s_t(s_up(g_gpu, y, (size_t)M * W * 4), CN_F32, 2, M, W, 0);
    cn_tensor di = s_t(s_up(g_gpu, ids, sizeof ids), CN_I32, 1, M, 0, 0);
    g_gpu->ops->upload_weight(g_gpu, &dt, &tt);
    if (g_gpu->ops->embed_add(g_gpu, &dy, &dt, &di)) s_die("cuda embed_add", g_gpu);
    float *r = s_down(g_gpu, dy.data, (int64_t)M * W);
    cn_check_close(&g_c, "embed_add (bf16 table; CPU table rounded alike; ids < 0 skipped)", r,
                   yc, (int64_t)M * W, 1e-6);
    free(r);
    int32_t bad[9] = { 0, 1, 2, 3, 50, 5, 6, 7, 8 };
    g_gpu->ops->upload(g_gpu, di.data, bad, sizeof bad);
    int rc = g_gpu->ops->embed_add(g_gpu, &dy, &dt, &di);
    if (rc == 0) rc = g_gpu->ops->sync(g_gpu);
    cn_check_true(&g_c, "embed_add id 50 >= V 50 is reported at the next sync", rc == CN_EINVAL,
                  g_gpu->ops->last_error(g_gpu));
    printf("     (message: %s)\n", g_gpu->ops->last_error(g_gpu));
    g_gpu->ops->release(g_gpu, dt.data);
    g_gpu->ops->release(g_gpu, dy.data);
    g_gpu->ops->release(g_gpu, di.data);
    free(tab), free(tabr), free(y), free(yc);

    int N = 3, A = 37, B = 70;
    float *x = s_randv((int64_t)N * A * B, 1), *xc = malloc((size_t)N * A * B * 4);
    cn_tensor tx = s_t(x, CN_F32, 3, N, A, B), txc = s_t(xc, CN_F32, 3, N, B, A);
    g_cpu->ops->transpose(g_cpu, &txc, &tx);
    cn_tensor dx = s_t(s_up(g_gpu, x, (size_t)N * A * B * 4), CN_F32, 3, N, A, B);
    cn_tensor dz = s_t(g_gpu->ops->alloc(g_gpu, (size_t)N * A * B * 4), CN_F32, 3, N, B, A);
    if (g_gpu->ops->transpose(g_gpu, &dz, &dx)) s_die("cuda transpose", g_gpu);
    r = s_down(g_gpu, dz.data, (int64_t)N * A * B);
    cn_check_close(&g_c, "transpose (3, 37, 70)", r, xc, (int64_t)N * A * B, 0);
    g_gpu->ops->release(g_gpu, dx.data);
    g_gpu->ops->release(g_gpu, dz.data);
    free(r), free(x), free(xc);
}

/* ---- kv_store and attention ---- */

typedef struct s_att {
    int N, H, hd, L, c, P, kenc;
    float *qkv;        /* (N, L, 3S) host */
    float *kc, *vc;    /* host caches (N, L, S) */
    float *dqkv, *dk, *dv;
} s_att;

static void s_att_setup(s_att *a, int N, int H, int hd, int L, int c, int P)
{
    int S = H * hd;
    a->N = N, a->H = H, a->hd = hd, a->L = L, a->c = c, a->P = P;
    a->qkv = s_randv((int64_t)N * L * 3 * S, 1.5f);
    a->kc = calloc((size_t)N * L * S, 4);
    a->vc = calloc((size_t)N * L * S, 4);
    cn_tensor src = s_t(a->qkv, CN_F32, 2, (int64_t)N * L, 3 * S, 0);
    cn_tensor k = s_t(a->kc, CN_F32, 3, N, L, S), v = s_t(a->vc, CN_F32, 3, N, L, S);
    g_cpu->ops->kv_store(g_cpu, &k, &v, &src, N, L, 3 * S, S, 2 * S, S, 0, L);
    a->dqkv = s_up(g_gpu, a->qkv, (size_t)N * L * 3 * S * 4);
    a->dk = g_gpu->ops->alloc(g_gpu, (size_t)N * L * S * 4);
    a->dv = g_gpu->ops->alloc(g_gpu, (size_t)N * L * S * 4);
    cn_tensor dk = s_t(a->dk, CN_F32, 3, N, L, S), dv = s_t(a->dv, CN_F32, 3, N, L, S);
    /* stored in two calls: positions 0..L/2-1, then the rest */
    int h1 = L / 2;
    float *tmp = malloc((size_t)N * L * 3 * S * 4);
    for (int n = 0; n < N; n++)
        memcpy(tmp + (int64_t)n * h1 * 3 * S, a->qkv + (int64_t)n * L * 3 * S,
               (size_t)h1 * 3 * S * 4);
    float *d1 = s_up(g_gpu, tmp, (size_t)N * h1 * 3 * S * 4);
    cn_tensor s1 = s_t(d1, CN_F32, 2, (int64_t)N * h1, 3 * S, 0);
    for (int n = 0; n < N; n++)
        memcpy(tmp + (int64_t)n * (L - h1) * 3 * S, a->qkv + ((int64_t)n * L + h1) * 3 * S,
               (size_t)(L - h1) * 3 * S * 4);
    float *d2 = s_up(g_gpu, tmp, (size_t)N * (L - h1) * 3 * S * 4);
    cn_tensor s2 = s_t(d2, CN_F32, 2, (int64_t)N * (L - h1), 3 * S, 0);
    if (g_gpu->ops->kv_store(g_gpu, &dk, &dv, &s1, N, h1, 3 * S, S, 2 * S, S, 0, L) ||
        g_gpu->ops->kv_store(g_gpu, &dk, &dv, &s2, N, L - h1, 3 * S, S, 2 * S, S, h1, L))
        s_die("cuda kv_store", g_gpu);
    float *kg = s_down(g_gpu, a->dk, (int64_t)N * L * S), *vg = s_down(g_gpu, a->dv, (int64_t)N * L * S);
    char what[96];
    snprintf(what, sizeof what, "kv_store k (N %d, L %d, S %d, two calls)", N, L, S);
    cn_check_close(&g_c, what, kg, a->kc, (int64_t)N * L * S, 0);
    snprintf(what, sizeof what, "kv_store v (N %d, L %d, S %d, two calls)", N, L, S);
    cn_check_close(&g_c, what, vg, a->vc, (int64_t)N * L * S, 0);
    g_gpu->ops->release(g_gpu, d1);
    g_gpu->ops->release(g_gpu, d2);
    free(tmp), free(kg), free(vg);
}

static void s_att_free(s_att *a)
{
    g_gpu->ops->release(g_gpu, a->dqkv);
    g_gpu->ops->release(g_gpu, a->dk);
    g_gpu->ops->release(g_gpu, a->dv);
    free(a->qkv), free(a->kc), free(a->vc);
}

/* one call: queries q_pos0 .. q_pos0+q_len-1 (rows of the qkv buffer), keys 0..k_len-1 */
static void s_att_case(s_att *a, cn_attn_type type, int q_pos0, int q_len, int k_len, int probs)
{
    int S = a->H * a->hd, N = a->N;
    cn_attn_desc d = { type, N, a->H, a->hd, q_len, q_pos0, 3 * S, k_len, a->L, a->c, a->P, 1 };
    /* q rows of this call: a copy of rows q_pos0.. of every item, row stride 3S */
    float *q = malloc((size_t)N * q_len * 3 * S * 4);
    for (int n = 0; n < N; n++)
        memcpy(q + (int64_t)n * q_len * 3 * S, a->qkv + ((int64_t)n * a->L + q_pos0) * 3 * S,
               (size_t)q_len * 3 * S * 4);
    int64_t no = (int64_t)N * q_len * S, np = (int64_t)N * q_len * k_len;
    float *oc = malloc(no * 4), *pc = calloc(np ? np : 1, 4);
    cn_tensor to = s_t(oc, CN_F32, 3, N, q_len, S), tp = s_t(pc, CN_F32, 3, N, q_len, k_len);
    if (g_cpu->ops->attention(g_cpu, &to, q, a->kc, a->vc, &d, probs ? &tp : NULL))
        s_die("cpu attention", g_cpu);
    float *dq = s_up(g_gpu, q, (size_t)N * q_len * 3 * S * 4);
    cn_tensor dout = s_t(g_gpu->ops->alloc(g_gpu, no * 4), CN_F32, 3, N, q_len, S);
    cn_tensor dp = s_t(g_gpu->ops->alloc(g_gpu, (np ? np : 1) * 4), CN_F32, 3, N, q_len, k_len);
    if (g_gpu->ops->attention(g_gpu, &dout, dq, a->dk, a->dv, &d, probs ? &dp : NULL))
        s_die("cuda attention", g_gpu);
    float *og = s_down(g_gpu, dout.data, no);
    char what[160];
    snprintf(what, sizeof what, "attention type %d N %d heads %d hd %d c %d: q %d..%d, k_len %d",
             (int)type, N, a->H, a->hd, a->c, q_pos0, q_pos0 + q_len - 1, k_len);
    cn_check_close(&g_c, what, og, oc, no, 2e-5);
    if (probs) {
        float *pg = s_down(g_gpu, dp.data, np);
        snprintf(what, sizeof what, "attention type %d probs of head 1 (%d x %d per item)",
                 (int)type, q_len, k_len);
        cn_check_close(&g_c, what, pg, pc, np, 1e-6);
        free(pg);
    }
    g_gpu->ops->release(g_gpu, dq);
    g_gpu->ops->release(g_gpu, dout.data);
    g_gpu->ops->release(g_gpu, dp.data);
    free(q), free(oc), free(pc), free(og);
}

static void s_test_attention(void)
{
    static const cn_attn_type types[] = { CN_ATTN_DENSE, CN_ATTN_BLOCK, CN_ATTN_TRANSPOSE,
                                          CN_ATTN_PREV_BLOCK, CN_ATTN_PRIME };
    s_att a;
    s_att_setup(&a, 2, 2, 24, 40, 8, 13);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        s_att_case(&a, types[t], 0, 40, 40, types[t] == CN_ATTN_PRIME);   /* prefill */
        s_att_case(&a, types[t], 13, 11, 24, 0);                          /* a primed chunk */
        for (int i = 0; i < 40; i += 9) s_att_case(&a, types[t], i, 1, i + 1, 0);   /* decode */
    }
    s_att_case(&a, CN_ATTN_CROSS, 0, 40, 17, 1);
    s_att_case(&a, CN_ATTN_CROSS, 5, 1, 17, 0);
    s_att_free(&a);
    /* released-like head sizes, long dense decode (split over blocks), one item */
    s_att_setup(&a, 1, 1, 480, 600, 64, 200);
    s_att_case(&a, CN_ATTN_DENSE, 599, 1, 600, 0);
    s_att_case(&a, CN_ATTN_TRANSPOSE, 590, 1, 591, 0);
    s_att_case(&a, CN_ATTN_PREV_BLOCK, 300, 1, 301, 0);
    s_att_case(&a, CN_ATTN_BLOCK, 0, 600, 600, 0);
    s_att_free(&a);
    s_att_setup(&a, 3, 8, 150, 300, 30, 100);
    s_att_case(&a, CN_ATTN_DENSE, 299, 1, 300, 0);
    s_att_case(&a, CN_ATTN_PRIME, 250, 1, 251, 0);
    s_att_case(&a, CN_ATTN_PREV_BLOCK, 0, 300, 300, 0);
    s_att_free(&a);
}

/* ---- conv ---- */

static void s_conv_case(int transpose, int N, int Cin, int T, int Cout, int K, int stride,
                        int pad, int dil)
{
    int64_t Tout = transpose ? (int64_t)(T - 1) * stride - 2 * pad + K
                             : (T + 2 * pad - dil * (K - 1) - 1) / stride + 1;
    float *x = s_randv((int64_t)N * Cin * T, 1), *w = s_randv((int64_t)Cin * Cout * K, 0.5f);
    float *b = s_randv(Cout, 1), *yc = malloc((size_t)N * Cout * Tout * 4);
    cn_tensor tx = s_t(x, CN_F32, 3, N, Cin, T), tb = s_t(b, CN_F32, 1, Cout, 0, 0);
    cn_tensor tw = transpose ? s_t(w, CN_F32, 3, Cin, Cout, K) : s_t(w, CN_F32, 3, Cout, Cin, K);
    cn_tensor ty = s_t(yc, CN_F32, 3, N, Cout, Tout);
    int rc = transpose ? g_cpu->ops->conv_transpose1d(g_cpu, &ty, &tx, &tw, &tb, stride, pad)
                       : g_cpu->ops->conv1d(g_cpu, &ty, &tx, &tw, &tb, stride, pad, dil);
    if (rc) s_die("cpu conv", g_cpu);
    cn_tensor dx = s_t(s_up(g_gpu, x, (size_t)N * Cin * T * 4), CN_F32, 3, N, Cin, T), dw, db;
    g_gpu->ops->upload_weight(g_gpu, &dw, &tw);
    g_gpu->ops->upload_weight(g_gpu, &db, &tb);
    cn_tensor dy = s_t(g_gpu->ops->alloc(g_gpu, (size_t)N * Cout * Tout * 4), CN_F32, 3, N, Cout, Tout);
    rc = transpose ? g_gpu->ops->conv_transpose1d(g_gpu, &dy, &dx, &dw, &db, stride, pad)
                   : g_gpu->ops->conv1d(g_gpu, &dy, &dx, &dw, &db, stride, pad, dil);
    if (rc) s_die("cuda conv", g_gpu);
    float *yg = s_down(g_gpu, dy.data, (int64_t)N * Cout * Tout);
    char what[160];
    snprintf(what, sizeof what, "%s x (%d, %d, %d) w %d->%d k %d stride %d pad %d dil %d",
             transpose ? "conv_transpose1d" : "conv1d", N, Cin, T, Cin, Cout, K, stride, pad, dil);
    cn_check_close(&g_c, what, yg, yc, (int64_t)N * Cout * Tout, 2e-5 * sqrt((double)Cin * K));
    g_gpu->ops->release(g_gpu, dx.data);
    g_gpu->ops->release(g_gpu, dw.data);
    g_gpu->ops->release(g_gpu, db.data);
    g_gpu->ops->release(g_gpu, dy.data);
    free(x), free(w), free(b), free(yc), free(yg);
}

static void s_test_conv(void)
{
    s_conv_case(0, 2, 5, 50, 7, 3, 1, 3, 3);
    s_conv_case(0, 2, 4, 64, 6, 4, 2, 1, 1);
    s_conv_case(0, 1, 64, 4096, 64, 3, 1, 9, 9);
    s_conv_case(0, 2, 16, 333, 1, 3, 1, 1, 1);
    s_conv_case(1, 2, 6, 20, 5, 4, 2, 1, 1);
    s_conv_case(1, 1, 64, 1000, 32, 4, 2, 1, 1);
}

/* ---- codebook ---- */

static void s_test_codebook(void)
{
    int N = 2, D = 16, T = 300, K = 64;
    float *x = s_randv((int64_t)N * D * T, 1), *cb = s_randv((int64_t)K * D, 1);
    int32_t *ic = malloc((size_t)N * T * 4);
    cn_tensor tx = s_t(x, CN_F32, 3, N, D, T), tc = s_t(cb, CN_F32, 2, K, D, 0);
    cn_tensor ti = s_t(ic, CN_I32, 1, (int64_t)N * T, 0, 0);
    g_cpu->ops->codebook_nearest(g_cpu, &ti, &tx, &tc);
    cn_tensor dx = s_t(s_up(g_gpu, x, (size_t)N * D * T * 4), CN_F32, 3, N, D, T);
    cn_tensor dc = s_t(s_up(g_gpu, cb, (size_t)K * D * 4), CN_F32, 2, K, D, 0);
    cn_tensor di = s_t(g_gpu->ops->alloc(g_gpu, (size_t)N * T * 4), CN_I32, 1, (int64_t)N * T, 0, 0);
    if (g_gpu->ops->codebook_nearest(g_gpu, &di, &dx, &dc)) s_die("cuda codebook_nearest", g_gpu);
    int32_t *ig = (int32_t *)s_down(g_gpu, di.data, (int64_t)N * T);
    cn_check_equal_i32(&g_c, "codebook_nearest x (2, 16, 300), codebook (64, 16) f32", ig, ic,
                       (int64_t)N * T);
    float *yc = malloc((size_t)N * D * T * 4);
    cn_tensor ty = s_t(yc, CN_F32, 3, N, D, T);
    g_cpu->ops->codebook_lookup(g_cpu, &ty, &ti, &tc);
    if (g_gpu->ops->codebook_lookup(g_gpu, &dx, &di, &dc)) s_die("cuda codebook_lookup", g_gpu);
    float *yg = s_down(g_gpu, dx.data, (int64_t)N * D * T);
    cn_check_close(&g_c, "codebook_lookup (2, 16, 300)", yg, yc, (int64_t)N * D * T, 0);
    g_gpu->ops->release(g_gpu, dx.data);
    g_gpu->ops->release(g_gpu, dc.data);
    g_gpu->ops->release(g_gpu, di.data);
    free(x), free(cb), free(ic), free(ig), free(yc), free(yg);
}

/* ---- filter and sample ---- */

static void s_test_sample(void)
{
    int N = 4, V = 2048;
    float *x = s_randv((int64_t)N * V, 4);
    for (int j = 0; j < 40; j++) x[(j * 37) % V] = x[0];   /* ties with row 0's first value */
    cn_sample_desc sets[] = {
        { 1.0f, 0, 0.0f, 7, 0, 0 },     { 0.9f, 0, 0.0f, 7, 0, 1 },  { 1.0f, 1, 0.0f, 7, 3, 2 },
        { 0.8f, 5, 0.0f, 9, 0, 3 },     { 1.0f, 2048, 0.0f, 7, 0, 4 }, { 1.2f, 3000, 0.0f, 1, 0, 5 },
        { 1.0f, 0, 0.5f, 7, 0, 6 },     { 0.9f, 0, 0.8f, 11, 5, 7 }, { 1.0f, 0, 0.99f, 7, 0, 8 },
    };
    float *dx = s_up(g_gpu, x, (size_t)N * V * 4);
    float *dy = g_gpu->ops->alloc(g_gpu, (size_t)N * V * 4);
    int32_t *di = g_gpu->ops->alloc(g_gpu, (size_t)N * 4);
    float *yc = malloc((size_t)N * V * 4), *lc = malloc((size_t)N * V * 4);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        const cn_sample_desc *s = &sets[i];
        char what[160];
        cn_tensor tx = s_t(x, CN_F32, 2, N, V, 0), ty = s_t(yc, CN_F32, 2, N, V, 0);
        g_cpu->ops->filter_logits(g_cpu, &ty, &tx, s);
        cn_tensor gx = s_t(dx, CN_F32, 2, N, V, 0), gy = s_t(dy, CN_F32, 2, N, V, 0);
        if (g_gpu->ops->filter_logits(g_gpu, &gy, &gx, s)) s_die("cuda filter_logits", g_gpu);
        float *yg = s_down(g_gpu, dy, (int64_t)N * V);
        snprintf(what, sizeof what, "filter_logits temp %.2f top_k %d top_p %.2f (4 x 2048)",
                 (double)s->temperature, s->top_k, (double)s->top_p);
        cn_check_close(&g_c, what, yg, yc, (int64_t)N * V, 0);
        free(yg);
        int32_t idc[4];
        memcpy(lc, x, (size_t)N * V * 4);
        cn_tensor tl = s_t(lc, CN_F32, 2, N, V, 0), tid = s_t(idc, CN_I32, 1, N, 0, 0);
        g_cpu->ops->sample(g_cpu, &tid, &tl, s);
        g_gpu->ops->copy(g_gpu, dy, dx, (size_t)N * V * 4);
        cn_tensor gl = s_t(dy, CN_F32, 2, N, V, 0), gid = s_t(di, CN_I32, 1, N, 0, 0);
        if (g_gpu->ops->sample(g_gpu, &gid, &gl, s)) s_die("cuda sample", g_gpu);
        int32_t *ig = (int32_t *)s_down(g_gpu, di, N);
        snprintf(what, sizeof what, "sample seed %llu streams %llu.. step %llu: ids %d %d %d %d",
                 (unsigned long long)s->seed, (unsigned long long)s->stream,
                 (unsigned long long)s->step, idc[0], idc[1], idc[2], idc[3]);
        cn_check_equal_i32(&g_c, what, ig, idc, N);
        free(ig);
    }
    g_gpu->ops->release(g_gpu, dx);
    g_gpu->ops->release(g_gpu, dy);
    g_gpu->ops->release(g_gpu, di);
    free(x), free(yc), free(lc);
}

/* ---- graph: record one decode step (kv_store, attention, matmul, sample), replay it ---- */

static void s_test_graph(void)
{
    const cn_backend_ops *o = g_gpu->ops;
    if (o->graph_begin == NULL) {
        cn_check_true(&g_c, "graph slots present", 0, "graph_begin is NULL");
        return;
    }
    int N = 2, H = 2, hd = 32, S = H * hd, L = 64, V = 300, t0 = 20, steps = 6;
    float *qkv = s_randv((int64_t)N * L * 3 * S, 1), *w = s_randv((int64_t)S * V, 0.3f);
    float *dqkv = s_up(g_gpu, qkv, (size_t)N * L * 3 * S * 4);
    float *kc[2], *vc[2], *att[2], *lg[2];
    int32_t *ids[2];
    for (int r = 0; r < 2; r++) {
        kc[r] = o->alloc(g_gpu, (size_t)N * L * S * 4);
        vc[r] = o->alloc(g_gpu, (size_t)N * L * S * 4);
        att[r] = o->alloc(g_gpu, (size_t)N * S * 4);
        lg[r] = o->alloc(g_gpu, (size_t)N * V * 4);
        ids[r] = o->alloc(g_gpu, (size_t)N * steps * 4);
    }
    cn_tensor tw = s_t(w, CN_F32, 2, S, V, 0), dw;
    o->upload_weight(g_gpu, &dw, &tw);
    /* the step at position p reads row p of the qkv buffer through a per-step copy */
    float *row = o->alloc(g_gpu, (size_t)N * 3 * S * 4);
    int rc = 0;
    for (int r = 0; r < 2 && rc == 0; r++) {
        /* prefix 0..t0-1 stored directly */
        for (int n = 0; n < N; n++) {
            cn_tensor src = s_t(dqkv + (int64_t)n * L * 3 * S, CN_F32, 2, t0, 3 * S, 0);
            cn_tensor k1 = s_t(kc[r] + (int64_t)n * L * S, CN_F32, 2, L, S, 0);
            cn_tensor v1 = s_t(vc[r] + (int64_t)n * L * S, CN_F32, 2, L, S, 0);
            rc |= o->kv_store(g_gpu, &k1, &v1, &src, 1, t0, 3 * S, S, 2 * S, S, 0, L);
        }
    }
    cn_tensor tsrc = s_t(row, CN_F32, 2, N, 3 * S, 0);
    for (int r = 0; r < 2 && rc == 0; r++) {
        for (int s = 0; s < steps && rc == 0; s++) {
            int p = t0 + s;
            for (int n = 0; n < N; n++)
                rc |= o->copy(g_gpu, row + (int64_t)n * 3 * S, dqkv + ((int64_t)n * L + p) * 3 * S,
                              (size_t)3 * S * 4);
            if (r == 1 && s == 0) rc |= o->graph_begin(g_gpu);
            if (r == 1 && s > 0) {
                rc |= o->graph_launch(g_gpu, s);
                continue;
            }
            cn_tensor k = s_t(kc[r], CN_F32, 3, N, L, S), v = s_t(vc[r], CN_F32, 3, N, L, S);
            cn_attn_desc d = { CN_ATTN_DENSE, N, H, hd, 1, p, 3 * S, p + 1, L, 0, 0, 0 };
            cn_tensor to = s_t(att[r], CN_F32, 2, N, S, 0), tl = s_t(lg[r], CN_F32, 2, N, V, 0);
            cn_tensor ti = s_t(ids[r] + (r == 1 ? 0 : s * N), CN_I32, 1, N, 0, 0);
            cn_sample_desc sd = { 1.0f, 0, 0.0f, 42, 0, (uint64_t)p };
            rc |= o->kv_store(g_gpu, &k, &v, &tsrc, N, 1, 3 * S, S, 2 * S, S, p, L);
            rc |= o->attention(g_gpu, &to, row, kc[r], vc[r], &d, NULL);
            rc |= o->matmul(g_gpu, &tl, &to, &dw, CN_W_IN_OUT, NULL, 0.0f);
            rc |= o->sample(g_gpu, &ti, &tl, &sd);
            if (r == 1) {
                rc |= o->graph_end(g_gpu);
                rc |= o->graph_launch(g_gpu, 0);
            }
        }
        if (r == 1 && rc == 0) rc = o->sync(g_gpu);
    }
    if (rc) s_die("graph replay", g_gpu);
    /* the replayed run wrote its ids of every step to ids[1][0..N) only: compare the caches and
     * the last step's logits, which depend on every step */
    float *k0 = s_down(g_gpu, kc[0], (int64_t)N * L * S), *k1 = s_down(g_gpu, kc[1], (int64_t)N * L * S);
    float *l0 = s_down(g_gpu, lg[0], (int64_t)N * V), *l1 = s_down(g_gpu, lg[1], (int64_t)N * V);
    int32_t *i0 = (int32_t *)s_down(g_gpu, ids[0] + (steps - 1) * N, N);
    int32_t *i1 = (int32_t *)s_down(g_gpu, ids[1], N);
    cn_check_close(&g_c, "graph: k cache after 6 replayed steps = direct calls", k1, k0,
                   (int64_t)N * L * S, 0);
    cn_check_close(&g_c, "graph: last step's logits = direct calls", l1, l0, (int64_t)N * V, 0);
    cn_check_equal_i32(&g_c, "graph: last step's sampled ids = direct calls", i1, i0, N);
    int bad = o->graph_begin(g_gpu) == 0 && o->sync(g_gpu) != 0;
    o->graph_end(g_gpu);
    cn_check_true(&g_c, "graph: sync inside a recording is refused with a message", bad,
                  o->last_error(g_gpu));
    free(k0), free(k1), free(l0), free(l1), free(i0), free(i1), free(qkv), free(w);
    for (int r = 0; r < 2; r++) {
        o->release(g_gpu, kc[r]);
        o->release(g_gpu, vc[r]);
        o->release(g_gpu, att[r]);
        o->release(g_gpu, lg[r]);
        o->release(g_gpu, ids[r]);
    }
    o->release(g_gpu, row);
    o->release(g_gpu, dqkv);
    o->release(g_gpu, dw.data);
}

/* upload_weight's default dtype choice: codebook-sized matrices stay f32, large ones bf16 */
static void s_test_policy(void)
{
    char err[256];
    unsetenv("CN_CUDA_WEIGHTS_MIN_ELEMS");
    cn_backend *be = cn_backend_new("cuda", err, sizeof err);
    if (be == NULL) {
        cn_check_true(&g_c, "default-policy cuda backend", 0, err);
        return;
    }
    float *a = calloc(2048 * 512, 4);
    cn_tensor cb = s_t(a, CN_F32, 2, 2048, 64, 0), big = s_t(a, CN_F32, 2, 1024, 512, 0);
    cn_tensor vec = s_t(a, CN_F32, 1, 4800, 0, 0), dcb, dbig, dvec;
    int rc = be->ops->upload_weight(be, &dcb, &cb) | be->ops->upload_weight(be, &dbig, &big) |
             be->ops->upload_weight(be, &dvec, &vec);
    char what[160];
    snprintf(what, sizeof what, "upload_weight: codebook (2048, 64) -> %s, (1024, 512) -> %s, "
             "vector -> %s", dcb.type == CN_F32 ? "f32" : "not f32",
             dbig.type == CN_BF16 ? "bf16" : "not bf16", dvec.type == CN_F32 ? "f32" : "not f32");
    cn_check_true(&g_c, what, rc == 0 && dcb.type == CN_F32 && dbig.type == CN_BF16 &&
                  dvec.type == CN_F32, be->ops->last_error(be));
    be->ops->release(be, dcb.data);
    be->ops->release(be, dbig.data);
    be->ops->release(be, dvec.data);
    free(a);
    cn_backend_destroy(&be);
}

int main(void)
{
    char err[512];
    /* the test matrices are small: make every 2-D weight bf16 as large released ones are */
    setenv("CN_CUDA_WEIGHTS_MIN_ELEMS", "0", 1);
    setenv("CN_CUDA_GEMV_MIN_BYTES", "0", 1);   /* small test matrices take the gemv path too */
    g_gpu = cn_backend_new("cuda", err, sizeof err);
    if (g_gpu == NULL) {
        printf("skipped: %s\n", err);
        return 77;
    }
    g_cpu = cn_backend_new("cpu", err, sizeof err);
    if (g_cpu == NULL) {
        printf("FAIL cpu backend: %s\n", err);
        return 1;
    }
    setenv("CN_CUDA_WEIGHTS", "f32", 1);
    g_gpu32 = cn_backend_new("cuda", err, sizeof err);
    unsetenv("CN_CUDA_WEIGHTS");
    if (g_gpu32 == NULL) {
        printf("FAIL second cuda backend (f32 weights): %s\n", err);
        return 1;
    }
    setenv("CN_CUDA_GEMV_MAX_M", "16", 1);
    g_gpu16 = cn_backend_new("cuda", err, sizeof err);
    unsetenv("CN_CUDA_GEMV_MAX_M");
    if (g_gpu16 == NULL) {
        printf("FAIL third cuda backend (gemv up to 16 rows): %s\n", err);
        return 1;
    }
    size_t fr = 0, tot = 0;
    int rc = g_gpu->ops->mem_info(g_gpu, &fr, &tot);
    cn_check_true(&g_c, "mem_info reports free <= total > 0", rc == 0 && tot > 0 && fr <= tot,
                  g_gpu->ops->last_error(g_gpu));
    printf("     device memory: %.1f GiB free of %.1f GiB\n", fr / 1073741824.0, tot / 1073741824.0);
    s_test_matmul();
    s_test_layernorm();
    s_test_eltwise();
    s_test_embed_transpose();
    s_test_attention();
    s_test_conv();
    s_test_codebook();
    s_test_sample();
    s_test_graph();
    s_test_policy();
    cn_backend_destroy(&g_gpu32);
    cn_backend_destroy(&g_gpu16);
    cn_backend_destroy(&g_gpu);
    cn_backend_destroy(&g_cpu);
    return cn_check_finish(&g_c);
}
