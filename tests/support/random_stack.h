/* SPDX-License-Identifier: MIT
 * A random transformer stack with one layer of every attention type the engine runs (dense,
 * block, transpose, previous block, cross, prime) for the persistent decode step's tests:
 * built on the host (CPU backend tensors), and copied onto another backend.
 */
#ifndef CN_RANDOM_STACK_H
#define CN_RANDOM_STACK_H

#include <stdint.h>

#include "transformer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* depth, positions, block length, prime length, encoder rows and encoder width */
enum { CN_RS_DEPTH = 6, CN_RS_CAP = 24, CN_RS_C = 6, CN_RS_P = 10, CN_RS_N_ENC = 6, CN_RS_E = 16 };

typedef struct cn_rs_shape {
    int W, S, H, M;     /* residual width, attention width, heads, MLP width */
} cn_rs_shape;

/* v rounded to the nearest bf16 (ties to even), as a float: what the CUDA backend stores */
float cn_rs_bf16(float v);
/* uniform in [-1, 1) from a linear congruential generator */
float cn_rs_unif(uint32_t *rng);
/* A host F32 tensor (a, b) or vector (a) of bias + scale * uniform, values bf16-representable
 * when round is set; malloc'd, as the CPU backend allocates. */
cn_tensor cn_rs_rand(uint32_t *rng, int nd, int64_t a, int64_t b, float scale, float bias,
                     int round);
/* The stack on the CPU backend cpu; round: every matrix bf16-representable. */
void cn_rs_make(cn_transformer *tf, cn_backend *cpu, const cn_rs_shape *sh, uint32_t *rng,
                int round);
/* dst = src (a host stack) on backend be, through upload_weight; 0 or -1 with err set. */
int cn_rs_upload(cn_transformer *dst, const cn_transformer *src, cn_backend *be, char *err,
                 size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
