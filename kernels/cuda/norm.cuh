/* SPDX-License-Identifier: MIT
 * LayerNorm over the last axis (backend.h layernorm).
 */
#ifndef CN_CUDA_NORM_CUH
#define CN_CUDA_NORM_CUH

#include "cuda_common.cuh"

int cn_cuda_layernorm(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *g,
                      const cn_tensor *b, float eps);

#endif
