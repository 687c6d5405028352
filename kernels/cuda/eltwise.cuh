/* SPDX-License-Identifier: MIT
 * Element-wise ops of backend.h (gelu_quick, relu, axpy, embed_add, transpose) and the dtype
 * conversion upload_weight and matmul use.
 */
#ifndef CN_CUDA_ELTWISE_CUH
#define CN_CUDA_ELTWISE_CUH

#include "cuda_common.cuh"

int cn_cuda_gelu_quick(cn_backend *be, cn_tensor *x);
int cn_cuda_relu(cn_backend *be, cn_tensor *y, const cn_tensor *x);
int cn_cuda_axpy(cn_backend *be, cn_tensor *y, const cn_tensor *x, float alpha);
int cn_cuda_embed_add(cn_backend *be, cn_tensor *y, const cn_tensor *table, const cn_tensor *ids);
int cn_cuda_transpose(cn_backend *be, cn_tensor *y, const cn_tensor *x);
/* dst (n, type dt) = src (n, type st) on the stream; f32/f16/bf16 in any direction. */
int cn_cuda_convert(cn_cuda *cx, void *dst, cn_dtype dt, const void *src, cn_dtype st, int64_t n);

#endif
