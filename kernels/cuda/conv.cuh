/* SPDX-License-Identifier: MIT
 * 1-D convolution and transposed convolution for the VQ-VAE (backend.h conv1d,
 * conv_transpose1d), channel-first, zero padding.
 */
#ifndef CN_CUDA_CONV_CUH
#define CN_CUDA_CONV_CUH

#include "cuda_common.cuh"

int cn_cuda_conv1d(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                   const cn_tensor *b, int stride, int pad, int dilation);
int cn_cuda_conv_transpose1d(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                             const cn_tensor *w, const cn_tensor *b, int stride, int pad);

#endif
