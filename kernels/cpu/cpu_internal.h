/* SPDX-License-Identifier: MIT
 * Shared by the CPU backend's files: its private state, the error setter, shape printing,
 * dtype widening and the op entry points that cpu_backend.c puts in the table.
 * Never include this outside kernels/cpu: the model code sees only backend.h.
 */
#ifndef CN_CPU_INTERNAL_H
#define CN_CPU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

typedef struct cpu_impl {
    char err[1024];     /* last_error() text */
} cpu_impl;

/* Records a formatted message as the backend's last error and returns code. */
int cn_cpu_fail(cn_backend *be, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "(a, b, c) f32" for t into buf; returns buf. */
const char *cn_cpu_shape(const cn_tensor *t, char *buf, size_t len);

/* Rows when the last axis is the feature axis: nelem / ne[nd-1]. */
int64_t cn_cpu_rows(const cn_tensor *t);
int64_t cn_cpu_cols(const cn_tensor *t);

/* Checks that t is present, has dtype `type`, and returns 0; else a CN_EINVAL message naming
 * the op and the tensor role ("matmul: x must be f32, got (2, 3) f16"). */
int cn_cpu_need(cn_backend *be, const char *op, const char *role, const cn_tensor *t,
                cn_dtype type);

/* Scalar conversions (IEEE half, bfloat16). */
float cn_cpu_half_to_float(uint16_t h);
float cn_cpu_bf16_to_float(uint16_t h);
/* dst[i] = src[off + i] widened to float for n elements of a F32/F16/BF16 tensor. */
void cn_cpu_widen(float *dst, const cn_tensor *src, int64_t off, int64_t n);
/* *out = a float pointer to all of t: t's own data when it is F32, else a malloc'd widened
 * copy also stored in *tmp (free it after use). *out = NULL when t is NULL. Returns 0, or
 * CN_ENOMEM / CN_EINVAL (not a float dtype) with last_error set. */
int cn_cpu_as_f32(cn_backend *be, const char *op, const char *role, const cn_tensor *t,
                  const float **out, float **tmp);

/* ops (one file each, named after the op family) */
int cn_cpu_matmul(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                  cn_wlayout layout, const cn_tensor *b, float beta);
int cn_cpu_layernorm(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *g,
                     const cn_tensor *b, float eps);
int cn_cpu_gelu_quick(cn_backend *be, cn_tensor *x);
int cn_cpu_relu(cn_backend *be, cn_tensor *y, const cn_tensor *x);
int cn_cpu_axpy(cn_backend *be, cn_tensor *y, const cn_tensor *x, float alpha);
int cn_cpu_embed_add(cn_backend *be, cn_tensor *y, const cn_tensor *table, const cn_tensor *ids);
int cn_cpu_transpose(cn_backend *be, cn_tensor *y, const cn_tensor *x);
int cn_cpu_kv_store(cn_backend *be, cn_tensor *k, cn_tensor *v, const cn_tensor *src,
                    int n_items, int len, int src_row_stride, int k_col, int v_col, int S,
                    int pos0, int k_stride);
int cn_cpu_attention(cn_backend *be, cn_tensor *out, const float *q, const float *k,
                     const float *v, const cn_attn_desc *d, cn_tensor *probs);
int cn_cpu_conv1d(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                  const cn_tensor *b, int stride, int pad, int dilation);
int cn_cpu_conv_transpose1d(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                            const cn_tensor *w, const cn_tensor *b, int stride, int pad);
int cn_cpu_codebook_nearest(cn_backend *be, cn_tensor *ids, const cn_tensor *x,
                            const cn_tensor *codebook);
int cn_cpu_codebook_lookup(cn_backend *be, cn_tensor *y, const cn_tensor *ids,
                           const cn_tensor *codebook);
int cn_cpu_filter_logits(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                         const cn_sample_desc *s);
int cn_cpu_sample(cn_backend *be, cn_tensor *ids, cn_tensor *logits, const cn_sample_desc *s);

#endif
