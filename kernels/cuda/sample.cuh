/* SPDX-License-Identifier: MIT
 * Logits filtering (temperature, top-k, top-p) and the categorical draw on the device
 * (backend.h filter_logits, sample), with the same counter-based uniform as the CPU.
 */
#ifndef CN_CUDA_SAMPLE_CUH
#define CN_CUDA_SAMPLE_CUH

#include "cuda_common.cuh"

int cn_cuda_filter_logits(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                          const cn_sample_desc *s);
int cn_cuda_sample(cn_backend *be, cn_tensor *ids, cn_tensor *logits, const cn_sample_desc *s);

#endif
