/* SPDX-License-Identifier: MIT
 * continuo-cuda-opbench [peak GB/s] [matmul]: times single CUDA ops at released shapes (decode matmuls, attention
 * over a full cache, one recorded layer replayed as a graph). Prints figures; asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *s_rand_dev(cn_backend *be, int64_t n, float scale)
{
    float *h = malloc((size_t)n * 4);
    uint64_t z = 88172645463325252ull;
    for (int64_t i = 0; i < n; i++) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        h[i] = ((float)(z >> 40) / 16777216.0f * 2 - 1) * scale;
    }
    void *d = be->ops->alloc(be, (size_t)n * 4);
    if (d) be->ops->upload(be, d, h, (size_t)n * 4);
    free(h);
    return d;
}

static cn_tensor s_t2(void *d, cn_dtype t, int64_t r, int64_t c) { return cn_tensor_2d(d, t, r, c); }

/* seconds per call of fn over reps calls after a warm-up */
#define S_TIME(be, reps, stmt)                                                               \
    ({                                                                                       \
        for (int w_ = 0; w_ < 3; w_++) stmt;                                                 \
        (be)->ops->sync(be);                                                                 \
        double t0_ = s_now();                                                                \
        for (int r_ = 0; r_ < (reps); r_++) stmt;                                            \
        (be)->ops->sync(be);                                                                 \
        (s_now() - t0_) / (reps);                                                            \
    })

static void s_bench_matmul(cn_backend *be, cn_backend *be_blas, double peak_gbs, int short_run)
{
    static const struct { const char *name; int K, N; } shapes[] = {
        { "5b c_attn 4800->3600", 4800, 3600 }, { "5b attn c_proj 1200->4800", 1200, 4800 },
        { "5b mlp 4800->4800", 4800, 4800 },    { "ups c_attn 1920->1440", 1920, 1440 },
        { "ups mlp 1920->1920", 1920, 1920 },   { "5b x_out 4800->2048 (out_in)", 4800, 2048 },
    };
    static const int Ms[] = { 1, 3, 8, 16 };
    printf("matmul, bf16 weights, fp32 x: time per call (default = gemv for M <= 4, cuBLAS "
           "above), weight bytes / GPU time (peak %.0f GB/s)\n", peak_gbs);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int K = shapes[s].K, N = shapes[s].N;
        if (short_run && (s == 1 || s == 3 || s == 5)) continue;
        cn_wlayout lay = strstr(shapes[s].name, "out_in") ? CN_W_OUT_IN : CN_W_IN_OUT;
        float *hw = calloc((size_t)K * N, 4);
        for (int64_t i = 0; i < (int64_t)K * N; i++) hw[i] = (float)((i * 7919) % 2001 - 1000) * 1e-4f;
        cn_tensor th = lay == CN_W_IN_OUT ? s_t2(hw, CN_F32, K, N) : s_t2(hw, CN_F32, N, K);
        /* enough copies that they do not all fit in L2 (50 MB): every call reads from HBM */
        int R = (int)(160e6 / ((double)K * N * 2)) + 1;
        if (R > 16) R = 16;
        cn_tensor w[16], wb[16];
        for (int r = 0; r < R; r++) {
            be->ops->upload_weight(be, &w[r], &th);
            be_blas->ops->upload_weight(be_blas, &wb[r], &th);
        }
        free(hw);
        for (size_t m = 0; m < sizeof Ms / sizeof Ms[0]; m++) {
            int M = Ms[m];
            if (short_run && M > 3) continue;
            void *x = s_rand_dev(be, (int64_t)M * K, 1), *y = be->ops->alloc(be, (size_t)M * N * 4);
            void *xb = s_rand_dev(be_blas, (int64_t)M * K, 1);
            void *yb = be_blas->ops->alloc(be_blas, (size_t)M * N * 4);
            cn_tensor tx = s_t2(x, CN_F32, M, K), ty = s_t2(y, CN_F32, M, N);
            cn_tensor txb = s_t2(xb, CN_F32, M, K), tyb = s_t2(yb, CN_F32, M, N);
            int c = 0;
            double t = S_TIME(be, 200, be->ops->matmul(be, &ty, &tx, &w[c++ % R], lay, NULL, 0.0f));
            double tb = S_TIME(be_blas, 200, be_blas->ops->matmul(be_blas, &tyb, &txb,
                                                                  &wb[c++ % R], lay, NULL, 0.0f));
            /* GPU time alone: 20 calls recorded as one graph */
            be->ops->graph_begin(be);
            for (int r = 0; r < 20; r++) be->ops->matmul(be, &ty, &tx, &w[r % R], lay, NULL, 0.0f);
            be->ops->graph_end(be);
            double tg = S_TIME(be, 10, be->ops->graph_launch(be, 0)) / 20;
            be_blas->ops->graph_begin(be_blas);
            for (int r = 0; r < 20; r++)
                be_blas->ops->matmul(be_blas, &tyb, &txb, &wb[r % R], lay, NULL, 0.0f);
            be_blas->ops->graph_end(be_blas);
            double tgb = S_TIME(be_blas, 10, be_blas->ops->graph_launch(be_blas, 0)) / 20;
            double bytes = (double)K * N * 2;
            printf("  %-28s M=%2d default %6.1f us, in graph %6.1f us %5.0f GB/s (%3.0f%%) | "
                   "cuBLAS %6.1f us, in graph %6.1f us %5.0f GB/s\n", shapes[s].name, M, t * 1e6,
                   tg * 1e6, bytes / tg / 1e9, 100 * bytes / tg / 1e9 / peak_gbs, tb * 1e6,
                   tgb * 1e6, bytes / tgb / 1e9);
            be->ops->release(be, x), be->ops->release(be, y);
            be_blas->ops->release(be_blas, xb), be_blas->ops->release(be_blas, yb);
        }
        for (int r = 0; r < R; r++) {
            be->ops->release(be, w[r].data);
            be_blas->ops->release(be_blas, wb[r].data);
        }
    }
}

static void s_bench_attention(cn_backend *be)
{
    static const struct { const char *name; int N, H, hd, L, c, type, pos; } cs[] = {
        { "5b N=3 block", 3, 8, 150, 8192, 128, CN_ATTN_BLOCK, 8000 },
        { "5b N=3 transpose", 3, 8, 150, 8192, 128, CN_ATTN_TRANSPOSE, 8000 },
        { "5b N=3 prev block", 3, 8, 150, 8192, 128, CN_ATTN_PREV_BLOCK, 8000 },
        { "1b N=3 dense", 3, 2, 256, 8192, 128, CN_ATTN_DENSE, 8000 },
        { "ups N=3 block", 3, 1, 480, 8192, 128, CN_ATTN_BLOCK, 8000 },
        { "5b N=16 block", 16, 8, 150, 8192, 128, CN_ATTN_BLOCK, 8000 },
    };
    printf("attention decode (one query per item, cache of 8192 positions)\n");
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        int S = cs[i].H * cs[i].hd;
        int64_t cache = (int64_t)cs[i].N * cs[i].L * S;
        float *k = s_rand_dev(be, cache, 1), *v = s_rand_dev(be, cache, 1);
        float *q = s_rand_dev(be, (int64_t)cs[i].N * S, 1);
        void *o = be->ops->alloc(be, (size_t)cs[i].N * S * 4);
        cn_tensor to = s_t2(o, CN_F32, cs[i].N, S);
        cn_attn_desc d = { (cn_attn_type)cs[i].type, cs[i].N, cs[i].H, cs[i].hd, 1, cs[i].pos, S,
                           cs[i].pos + 1, cs[i].L, cs[i].c, 0, 0 };
        double t = S_TIME(be, 200, be->ops->attention(be, &to, q, k, v, &d, NULL));
        printf("  %-22s %7.1f us\n", cs[i].name, t * 1e6);
        be->ops->release(be, k), be->ops->release(be, v), be->ops->release(be, q);
        be->ops->release(be, o);
    }
}

/* one transformer layer's ops at width W for N items (decode), repeated `layers` times */
static int s_layers(cn_backend *be, int layers, int N, int W, cn_tensor *ws, float *x, float *h,
                    float *qkv, float *att, float *k, float *v, int L, int pos, void *g, void *b)
{
    int S = W / 4, rc = 0;
    cn_tensor tx = s_t2(x, CN_F32, N, W), th = s_t2(h, CN_F32, N, W);
    cn_tensor tq = s_t2(qkv, CN_F32, N, 3 * S), ta = s_t2(att, CN_F32, N, S);
    cn_tensor tg = cn_tensor_make(g, CN_F32, 1, (int64_t[]){ W });
    cn_tensor tb = cn_tensor_make(b, CN_F32, 1, (int64_t[]){ W });
    cn_tensor tk = s_t2(k, CN_F32, (int64_t)N * L, S), tv = s_t2(v, CN_F32, (int64_t)N * L, S);
    for (int l = 0; l < layers; l++) {
        cn_attn_desc d = { CN_ATTN_BLOCK, N, 1, S, 1, pos, 3 * S, pos + 1, L, 128, 0, 0 };
        rc |= be->ops->layernorm(be, &th, &tx, &tg, &tb, 1e-5f);
        rc |= be->ops->matmul(be, &tq, &th, &ws[0], CN_W_IN_OUT, NULL, 0.0f);
        rc |= be->ops->kv_store(be, &tk, &tv, &tq, N, 1, 3 * S, S, 2 * S, S, pos, L);
        rc |= be->ops->attention(be, &ta, qkv, k, v, &d, NULL);
        rc |= be->ops->matmul(be, &tx, &ta, &ws[1], CN_W_IN_OUT, &tb, 1.0f);
        rc |= be->ops->layernorm(be, &th, &tx, &tg, &tb, 1e-5f);
        rc |= be->ops->matmul(be, &tq, &th, &ws[2], CN_W_IN_OUT, NULL, 0.0f);
        rc |= be->ops->gelu_quick(be, &tq);
        rc |= be->ops->matmul(be, &tx, &tq, &ws[3], CN_W_IN_OUT, &tb, 1.0f);
    }
    return rc;
}

static void s_bench_graph(cn_backend *be)
{
    int W = 1920, N = 3, L = 8192, layers = 8, S = W / 4;
    /* weights: c_attn W->3S, c_proj S->W, fc W->W (into the qkv buffer's first W columns is
     * not possible: 3S = 1440 < W), so fc is W->3S here and proj 3S->W: same bytes order */
    int64_t shp[4][2] = { { W, 3 * S }, { S, W }, { W, 3 * S }, { 3 * S, W } };
    cn_tensor ws[4];
    for (int i = 0; i < 4; i++) {
        float *hw = calloc((size_t)(shp[i][0] * shp[i][1]), 4);
        cn_tensor th = s_t2(hw, CN_F32, shp[i][0], shp[i][1]);
        be->ops->upload_weight(be, &ws[i], &th);
        free(hw);
    }
    float *x = s_rand_dev(be, (int64_t)N * W, 1), *h = s_rand_dev(be, (int64_t)N * W, 1);
    float *qkv = s_rand_dev(be, (int64_t)N * 3 * S, 1), *att = s_rand_dev(be, (int64_t)N * S, 1);
    float *k = s_rand_dev(be, (int64_t)N * L * S, 1), *v = s_rand_dev(be, (int64_t)N * L * S, 1);
    void *g = s_rand_dev(be, W, 1), *b = s_rand_dev(be, W, 0.1f);
    int pos = 4000;
    double t = S_TIME(be, 50, s_layers(be, layers, N, W, ws, x, h, qkv, att, k, v, L, pos, g, b));
    int rc = be->ops->graph_begin(be);
    rc |= s_layers(be, layers, N, W, ws, x, h, qkv, att, k, v, L, pos, g, b);
    rc |= be->ops->graph_end(be);
    double tg = S_TIME(be, 50, be->ops->graph_launch(be, 1));
    double bytes = 0;
    for (int i = 0; i < 4; i++) bytes += (double)shp[i][0] * shp[i][1] * 2;
    printf("%d upsampler-width layers (W %d, N %d, 9 ops each): direct %.1f us, graph replay "
           "%.1f us (%s); weight floor at 3350 GB/s %.1f us\n", layers, W, N, t * 1e6, tg * 1e6,
           rc ? be->ops->last_error(be) : "ok", layers * bytes / 3350e9 * 1e6);
}

int main(int argc, char **argv)
{
    char err[256];
    double peak = argc > 1 ? atof(argv[1]) : 3350.0;
    cn_backend *be = cn_backend_new("cuda", err, sizeof err);
    if (be == NULL) {
        printf("continuo-cuda-opbench: %s\n", err);
        return 77;
    }
    setenv("CN_CUDA_GEMV_MAX_M", "0", 1);
    cn_backend *blas = cn_backend_new("cuda", err, sizeof err);
    unsetenv("CN_CUDA_GEMV_MAX_M");
    if (blas == NULL) {
        printf("continuo-cuda-opbench: %s\n", err);
        return 1;
    }
    int only_mm = argc > 2 && strcmp(argv[2], "matmul") == 0;
    s_bench_matmul(be, blas, peak, only_mm);
    if (!only_mm) {
        s_bench_attention(be);
        s_bench_graph(be);
    }
    cn_backend_destroy(&blas);
    cn_backend_destroy(&be);
    return 0;
}
