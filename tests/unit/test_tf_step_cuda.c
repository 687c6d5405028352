/* SPDX-License-Identifier: MIT
 * The persistent decode step (CN_CUDA_PERSISTENT=1, kernels/cuda/tf_step.cu) on a real GPU
 * against the engine's layer-by-layer transformer on the CPU backend: the random stack of
 * random_stack.h (one layer of every attention type, windowed cache) at a small shape and at
 * the upsamplers' widths (1920 / 480 / one head of 480 / 1920, so that K is staged in chunks
 * and c_proj's K is padded for the tensor cores), stepped through 24 positions, for every
 * kernel path: FMA with bf16 weights and 1 or 3 items, f32 with 5 or 16; tensor cores with
 * bf16 weights and 6 or 16 items, fp16 with 8. Checks x after every step. Exit 77 (skipped)
 * without a CUDA device.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "random_stack.h"
#include "transformer.h"

/* x after a step within this much of the CPU's, relative to x's largest value: the CPU and
 * the GPU add in different orders, and the tensor-core path keeps about 22 bits of x; a
 * wrong index or a dropped term is off by 1e-3 or more (test_tf_step_emu's mutations) */
#define S_TOL 1e-4

static cn_check s_c;

typedef struct s_case {
    const char *weights;    /* CN_CUDA_WEIGHTS */
    int n;                  /* items */
    const char *path;
} s_case;

/* The two stacks stepped side by side: x after each step, worst relative difference. */
static int s_steps(cn_tf_state *ref, cn_tf_state *st, cn_backend *gpu, int n, int W,
                   uint32_t *rng, double *worst, char *err, size_t errlen)
{
    size_t bytes = (size_t)n * W * sizeof(float);
    float *xr = malloc(bytes), *xe = malloc(bytes);
    void *xd = gpu->ops->alloc(gpu, bytes);
    int rc = !xr || !xe || !xd ? snprintf(err, errlen, "out of memory for x"), -1 : 0;
    for (int pos = 0; pos < CN_RS_CAP && rc == 0; pos++) {
        for (int i = 0; i < n * W; i++) xr[i] = cn_rs_unif(rng);
        cn_tensor x = cn_tensor_2d(xr, CN_F32, n, W), xg = cn_tensor_2d(xd, CN_F32, n, W);
        if ((rc = gpu->ops->upload(gpu, xd, xr, bytes)) ||
            (rc = cn_tf_forward(ref, &x, pos, 1, -1, 0, NULL, err, errlen)) ||
            (rc = cn_tf_forward(st, &xg, pos, 1, -1, 0, NULL, err, errlen)) ||
            (rc = gpu->ops->download(gpu, xe, xd, bytes))) {
            if (!*err) snprintf(err, errlen, "%s", gpu->ops->last_error(gpu));
            break;
        }
        double scale = 1, here = 0;
        for (int i = 0; i < n * W; i++) scale = fmax(scale, fabs((double)xr[i]));
        for (int i = 0; i < n * W; i++) {
            double d = fabs((double)xr[i] - xe[i]) / scale;
            if (!(d <= here)) here = d;   /* NaN counts as worst */
        }
        if (!(here <= *worst)) *worst = here;
    }
    free(xr);
    free(xe);
    if (xd) gpu->ops->release(gpu, xd);
    return rc;
}

/* Both states of one case with the encoder rows set; 0 or -1 with err set. */
static int s_states(cn_tf_state *ref, cn_tf_state *st, const cn_transformer *host,
                    const cn_transformer *dev, int n, uint32_t *rng, char *err, size_t errlen)
{
    if (cn_tf_state_init(ref, host, n, CN_RS_CAP, 1, CN_RS_N_ENC, 1, err, errlen) ||
        cn_tf_state_init(st, dev, n, CN_RS_CAP, 1, CN_RS_N_ENC, 1, err, errlen))
        return -1;
    cn_tf_state_plan_steps(st);
    cn_tensor enc = cn_rs_rand(rng, 2, (int64_t)n * CN_RS_N_ENC, CN_RS_E, 1.0f, 0, 0);
    size_t bytes = cn_tensor_bytes(&enc);
    cn_backend *gpu = dev->be;
    cn_tensor encd = enc;
    encd.data = gpu->ops->alloc(gpu, bytes);
    int rc = !enc.data || !encd.data ? snprintf(err, errlen, "out of memory"), -1 : 0;
    if (rc == 0 && gpu->ops->upload(gpu, encd.data, enc.data, bytes)) {
        snprintf(err, errlen, "%s", gpu->ops->last_error(gpu));
        rc = -1;
    }
    if (rc == 0 && (cn_tf_set_encoder(ref, &enc, err, errlen) ||
                    cn_tf_set_encoder(st, &encd, err, errlen)))
        rc = -1;
    free(enc.data);
    if (encd.data) gpu->ops->release(gpu, encd.data);
    return rc;
}

static void s_run_case(cn_backend *cpu, cn_backend *gpu, const cn_rs_shape *sh, const s_case *k)
{
    char err[512] = "", what[256], detail[700];
    uint32_t rng = 4242u + (uint32_t)k->n;
    cn_transformer host, dev = { 0 };
    cn_tf_state ref = { 0 }, st = { 0 };
    cn_rs_make(&host, cpu, sh, &rng, 1);
    snprintf(what, sizeof what, "W %d, S %d, heads %d, MLP %d, %s weights, %d item%s (%s): ",
             sh->W, sh->S, sh->H, sh->M, k->weights, k->n, k->n > 1 ? "s" : "", k->path);
    size_t head = strlen(what);
    int rc = cn_rs_upload(&dev, &host, gpu, err, sizeof err);
    if (rc == 0) rc = s_states(&ref, &st, &host, &dev, k->n, &rng, err, sizeof err);
    snprintf(what + head, sizeof what - head, "the decode steps run as the persistent kernel");
    cn_check_true(&s_c, what, rc == 0 && st.step_plan, rc ? err : st.step_why);
    if (rc == 0 && st.step_plan) {
        double worst = 0;
        rc = s_steps(&ref, &st, gpu, k->n, sh->W, &rng, &worst, err, sizeof err);
        snprintf(what + head, sizeof what - head, "x after each of %d steps = the CPU's",
                 CN_RS_CAP);
        snprintf(detail, sizeof detail, "%s%sworst relative difference %.2e (limit %.0e)",
                 rc ? err : "", rc ? "; " : "", worst, S_TOL);
        cn_check_true(&s_c, what, rc == 0 && worst <= S_TOL, detail);
    }
    cn_tf_state_free(&st);
    cn_tf_state_free(&ref);
    cn_transformer_free(&dev);
    cn_transformer_free(&host);
}

int main(void)
{
    char err[512];
    static const cn_rs_shape shapes[] = { { 160, 80, 2, 192 }, { 1920, 480, 1, 1920 } };
    static const s_case small[] = { { "bf16", 1, "FMA" }, { "bf16", 3, "FMA" },
                                    { "f32", 5, "FMA" }, { "bf16", 6, "tensor cores" },
                                    { "f16", 8, "tensor cores" } };
    static const s_case wide[] = { { "bf16", 3, "FMA" }, { "f32", 16, "FMA, K in chunks" },
                                   { "bf16", 16, "tensor cores, K in chunks" } };
    setenv("CN_CUDA_WEIGHTS_MIN_ELEMS", "0", 1);   /* every matrix in the weight type */
    setenv("CN_CUDA_PERSISTENT", "1", 1);
    cn_backend *cpu = cn_backend_new("cpu", err, sizeof err);
    if (!cpu) return printf("FAIL cpu backend: %s\n", err), 1;
    for (int s = 0; s < 2; s++) {
        const s_case *cases = s ? wide : small;
        int n = s ? (int)(sizeof wide / sizeof *wide) : (int)(sizeof small / sizeof *small);
        for (int i = 0; i < n; i++) {
            setenv("CN_CUDA_WEIGHTS", cases[i].weights, 1);
            cn_backend *gpu = cn_backend_new("cuda", err, sizeof err);
            if (!gpu && s_c.passed + s_c.failed == 0) {
                printf("skipped: %s\n", err);
                cn_backend_destroy(&cpu);
                return 77;
            }
            if (!gpu) {
                cn_check_true(&s_c, "a CUDA backend for the next case", 0, err);
                continue;
            }
            s_run_case(cpu, gpu, &shapes[s], &cases[i]);
            cn_backend_destroy(&gpu);
        }
    }
    cn_backend_destroy(&cpu);
    return cn_check_finish(&s_c);
}
