/* SPDX-License-Identifier: MIT
 * The persistent decode step's device code (kernels/cuda/tf_step_dev.cuh) run on the CPU
 * through cuda_emu.hpp, against the engine's own layer-by-layer transformer on the CPU
 * backend: the random stack of random_stack.h (one layer of every attention type), a windowed
 * cache, stepped through 24 positions (4 blocks). Small blocks (2 warps), a small staging area
 * and a grid of 4 make every path run: K chunks, warps sharing a row, several tiles per block,
 * attention split over blocks and combined, value sums in two passes over a head, the grid
 * barrier. Checks x after every
 * step for f32 and bf16 weights and 2, 3 and 5 items on the FMA path, and bf16 weights with 6
 * and 10 items on the tensor-core path (mma emulated by cuda_emu.hpp; K padded to 64 and
 * staged in chunks). Needs no GPU.
 */
#define S_T 64
#define S_KEYS_MAX 16
#define S_HD_MAX 64
#define S_XS_FLOATS 1024
#define S_OV 1   /* 32 head dims per pass of the value sums: heads of 40 take two passes */
#include "cuda_emu.hpp"

#include "tf_step_dev.cuh"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "check.h"
#include "random_stack.h"
#include "transformer.h"
}

static cn_check g_chk;
static uint32_t g_rng = 12345u;

enum { W = 160, S = 80, H = 2, M = 192, DEPTH = CN_RS_DEPTH, CAP = CN_RS_CAP, C = CN_RS_C };
enum { P = CN_RS_P, N_ENC = CN_RS_N_ENC, E = CN_RS_E, GRID = 4 };
static const cn_rs_shape SHAPE = { W, S, H, M };

/* The plan's copy of w (K, N) in the weight type T: (N, K) rows, or for the tensor-core path
 * the s_mma_at layout with K padded by zeros to s_kpad(K). */
template <typename T, bool MMA>
static T *s_transposed(const cn_tensor *w)
{
    int64_t K = w->ne[0], Nn = w->ne[1], Kp = MMA ? s_kpad((int)K) : K;
    T *t = (T *)calloc((size_t)(Kp * Nn), sizeof(T));
    const float *s = (const float *)w->data;
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < Nn; n++) {
            int64_t at = MMA ? s_mma_at((int)n, (int)k, (int)Kp) : n * K + k;
            if constexpr (sizeof(T) == 4) t[at] = s[k * Nn + n];
            else t[at] = __float2bfloat16_rn(s[k * Nn + n]);
        }
    return t;
}

/* One configuration: items N, weights T, NN accumulators per lane. */
template <typename T, int NN>
static void s_run(cn_backend *be, int N, const char *label)
{
    char err[512], what[256];
    cn_transformer tf;
    cn_rs_make(&tf, be, &SHAPE, &g_rng, sizeof(T) == 2);
    cn_tf_state ref, emu;
    if (cn_tf_state_init(&ref, &tf, N, CAP, 1, N_ENC, 1, err, sizeof err) ||
        cn_tf_state_init(&emu, &tf, N, CAP, 1, N_ENC, 1, err, sizeof err)) {
        cn_check_true(&g_chk, "transformer states", 0, err);
        return;
    }
    cn_tensor enc = cn_rs_rand(&g_rng, 2, (int64_t)N * N_ENC, E, 1.0f, 0, 0);
    cn_tf_set_encoder(&ref, &enc, err, sizeof err);
    cn_tf_set_encoder(&emu, &enc, err, sizeof err);
    std::vector<s_layer> layers(DEPTH);
    std::vector<void *> mats;
    for (int d = 0; d < DEPTH; d++) {
        const cn_tf_layer *L = &tf.layers[d];
        s_layer &o = layers[d];
        o.type = L->type, o.rows = emu.rows[d];
        o.ln0_g = (float *)L->ln0_g.data, o.ln0_b = (float *)L->ln0_b.data;
        o.ln1_g = (float *)L->ln1_g.data, o.ln1_b = (float *)L->ln1_b.data;
        o.attn_b = (float *)L->attn_b.data, o.proj_b = (float *)L->proj_b.data;
        o.fc_b = (float *)L->fc_b.data, o.mlp_b = (float *)L->mlp_b.data;
        constexpr bool mma = s_mma_path(sizeof(T), NN);
        mats.push_back((void *)(o.attn_t = s_transposed<T, mma>(&L->attn_w)));
        mats.push_back((void *)(o.proj_t = s_transposed<T, mma>(&L->proj_w)));
        mats.push_back((void *)(o.fc_t = s_transposed<T, mma>(&L->fc_w)));
        mats.push_back((void *)(o.mlp_t = s_transposed<T, mma>(&L->mlp_w)));
        o.k = (float *)emu.k[d].data, o.v = (float *)emu.v[d].data;
    }
    std::vector<float> part((size_t)N * H * S_SPLITS_MAX * (S / H + 2));
    std::vector<unsigned> ctl(1 + (size_t)N * H);
    std::vector<float> xr((size_t)N * W), xe((size_t)N * W);
    s_step p = {};
    p.layers = layers.data(), p.depth = DEPTH, p.N = N, p.W = W, p.S = S, p.M = M, p.H = H;
    p.hd = S / H, p.c = C, p.P = P, p.n_enc = N_ENC, p.windowed = 1, p.eps = 1e-5f;
    p.scale = 1.0f / sqrtf((float)p.hd);
    p.x = xe.data(), p.qkv = (float *)emu.qkv.data, p.att = (float *)emu.att.data;
    p.mh = (float *)emu.mh.data, p.part = part.data(), p.bar = ctl.data();
    p.cnt = ctl.data() + 1;
    double worst = 0;
    int worst_pos = -1, rc = 0;
    for (int pos = 0; pos < CAP && rc == 0; pos++) {
        for (size_t i = 0; i < xr.size(); i++) xr[i] = xe[i] = cn_rs_unif(&g_rng);
        cn_tensor x = cn_tensor_2d(xr.data(), CN_F32, N, W);
        rc = cn_tf_forward(&ref, &x, pos, 1, -1, 0, NULL, err, sizeof err);
        p.pos = pos;
        emu_launch(GRID, S_T, S_SM_FLOATS, [&] { s_tf_step_body<T, NN>(p, emu_smem()); });
        double scale = 1, here = 0;
        for (float v : xr) scale = std::max(scale, (double)fabsf(v));
        for (size_t i = 0; i < xr.size(); i++) {
            double dlt = fabs((double)xr[i] - xe[i]) / scale;
            if (!(dlt <= here)) here = dlt;
            if (!(dlt <= worst)) worst = dlt, worst_pos = pos;   /* NaN counts as worst */
        }
        if (getenv("CN_EMU_VERBOSE"))
            fprintf(stderr, "%s: position %d: %.2e\n", label, pos, here);
    }
    snprintf(what, sizeof what, "%s: x after each of %d steps = the layer-by-layer transformer",
             label, CAP);
    snprintf(err + (rc ? strlen(err) : 0), sizeof err - (rc ? strlen(err) : 0),
             "%sworst relative difference %.2e at position %d (limit 1e-5)", rc ? "; " : "",
             worst, worst_pos);
    cn_check_true(&g_chk, what, rc == 0 && worst <= 1e-5, err);
    snprintf(what, sizeof what, "%s: the barrier and split counters are back at rest", label);
    int rest = (ctl[0] & 0x7fffffffu) == 0;   /* bit 31 flips at every barrier */
    for (size_t i = 1; i < ctl.size(); i++) rest &= ctl[i] == 0;
    cn_check_true(&g_chk, what, rest, "");
    for (void *m : mats) free(m);
    free(enc.data);
    cn_tf_state_free(&ref);
    cn_tf_state_free(&emu);
    cn_transformer_free(&tf);   /* the CPU backend's release is free() */
}

int main(void)
{
    char err[256];
    cn_backend *be = cn_backend_new("cpu", err, sizeof err);
    if (!be) {
        printf("FAIL cpu backend: %s\n", err);
        return 1;
    }
    const char *only = getenv("CN_EMU_ONLY");   /* 0 to 4: one configuration */
    if (!only || *only == '0') s_run<float, 5>(be, 5, "f32 weights, 5 items (K in chunks)");
    if (!only || *only == '1') s_run<__nv_bfloat16, 3>(be, 3, "bf16 weights, 3 items");
    if (!only || *only == '2') s_run<float, 2>(be, 2, "f32 weights, 2 items");
    if (!only || *only == '3')
        s_run<__nv_bfloat16, 16>(be, 6, "bf16 weights, 6 items (tensor cores, K in chunks)");
    if (!only || *only == '4')   /* items 8 and 9 are the mma's second 8 rows */
        s_run<__nv_bfloat16, 16>(be, 10, "bf16 weights, 10 items (tensor cores, K in 64s)");
    cn_backend_destroy(&be);
    return cn_check_finish(&g_chk);
}
