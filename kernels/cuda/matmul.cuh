/* SPDX-License-Identifier: MIT
 * Projections y = beta*y + x W + b (backend.h matmul): split-K gemv kernels for decode-sized
 * M, cuBLAS (cublasGemmEx, fp32 accumulation) otherwise.
 */
#ifndef CN_CUDA_MATMUL_CUH
#define CN_CUDA_MATMUL_CUH

#include "cuda_common.cuh"

int cn_cuda_matmul(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                   cn_wlayout layout, const cn_tensor *b, float beta);

#endif
