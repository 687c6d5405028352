/* SPDX-License-Identifier: MIT
 * Key/value cache writes and masked multi-head attention (backend.h kv_store, attention) for
 * prefill and single-step decode.
 */
#ifndef CN_CUDA_ATTENTION_CUH
#define CN_CUDA_ATTENTION_CUH

#include "cuda_common.cuh"

int cn_cuda_kv_store(cn_backend *be, cn_tensor *k, cn_tensor *v, const cn_tensor *src,
                     int n_items, int len, int src_row_stride, int k_col, int v_col, int S,
                     int pos0, int k_stride);
int cn_cuda_attention(cn_backend *be, cn_tensor *out, const float *q, const float *k,
                      const float *v, const cn_attn_desc *d, cn_tensor *probs);

#endif
