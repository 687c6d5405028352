/* SPDX-License-Identifier: MIT
 * VQ-VAE bottleneck: nearest codebook row per vector and codebook row lookup
 * (backend.h codebook_nearest, codebook_lookup).
 */
#ifndef CN_CUDA_CODEBOOK_CUH
#define CN_CUDA_CODEBOOK_CUH

#include "cuda_common.cuh"

int cn_cuda_codebook_nearest(cn_backend *be, cn_tensor *ids, const cn_tensor *x,
                             const cn_tensor *codebook);
int cn_cuda_codebook_lookup(cn_backend *be, cn_tensor *y, const cn_tensor *ids,
                            const cn_tensor *codebook);

#endif
