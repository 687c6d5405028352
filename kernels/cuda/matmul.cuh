/* SPDX-License-Identifier: MIT
 * Projections y = beta*y + x W + b (backend.h matmul): split-K gemv kernels for decode-sized
 * M, cuBLAS (cublasGemmEx, fp32 accumulation) otherwise.
 */
#ifndef CN_CUDA_MATMUL_CUH
#define CN_CUDA_MATMUL_CUH

#include "cuda_common.cuh"

int cn_cuda_matmul(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                   cn_wlayout layout, const cn_tensor *b, float beta);
/* backend.h matmul_gelu and matmul_kv_store: fused into the split-K finishing pass where the
 * gemv path runs, else the separate ops. */
int cn_cuda_matmul_gelu(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                        cn_wlayout layout, const cn_tensor *b);
int cn_cuda_matmul_kv_store(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                            const cn_tensor *w, cn_wlayout layout, const cn_tensor *b,
                            cn_tensor *k, cn_tensor *v, int n_items, int len, int k_col,
                            int v_col, int S, int pos0, int k_stride);

#endif
