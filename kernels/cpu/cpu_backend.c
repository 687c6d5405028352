/* SPDX-License-Identifier: MIT
 * The CPU backend's op table, its memory ops (host memory) and shared helpers (errors, shape
 * text, dtype widening). Never computes a model op here: each op lives in its own file.
 */
#include "cpu_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers shared by the op files ---- */

int cn_cpu_fail(cn_backend *be, int code, const char *fmt, ...)
{
    cpu_impl *im = be->impl;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->err, sizeof im->err, fmt, ap);
    va_end(ap);
    return code;
}

static const char *s_dtype_name(cn_dtype t)
{
    switch (t) {
    case CN_F32: return "f32";
    case CN_F16: return "f16";
    case CN_BF16: return "bf16";
    case CN_I32: return "i32";
    }
    return "?";
}

const char *cn_cpu_shape(const cn_tensor *t, char *buf, size_t len)
{
    if (t == NULL) {
        snprintf(buf, len, "(none)");
        return buf;
    }
    size_t at = 0;
    at += (size_t)snprintf(buf + at, len - at, "(");
    for (int i = 0; i < t->nd && i < 4 && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, i ? ", %lld" : "%lld", (long long)t->ne[i]);
    if (at < len) snprintf(buf + at, len - at, ") %s", s_dtype_name(t->type));
    return buf;
}

int64_t cn_cpu_cols(const cn_tensor *t)
{
    return t->nd >= 1 ? t->ne[t->nd - 1] : 1;
}

int64_t cn_cpu_rows(const cn_tensor *t)
{
    int64_t c = cn_cpu_cols(t);
    return c ? cn_tensor_nelem(t) / c : 0;
}

int cn_cpu_need(cn_backend *be, const char *op, const char *role, const cn_tensor *t,
                cn_dtype type)
{
    char sh[96];
    if (t == NULL || (t->data == NULL && cn_tensor_nelem(t) > 0))
        return cn_cpu_fail(be, CN_EINVAL, "%s: %s is missing", op, role);
    if (t->nd < 1 || t->nd > 4)
        return cn_cpu_fail(be, CN_EINVAL, "%s: %s has %d axes; 1..4 allowed", op, role, t->nd);
    if (t->type != type)
        return cn_cpu_fail(be, CN_EINVAL, "%s: %s must be %s, got %s", op, role,
                           s_dtype_name(type),
                           cn_cpu_shape(t, sh, sizeof sh));
    return 0;
}

float cn_cpu_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {                      /* subnormal: renormalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while ((man & 0x400u) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float cn_cpu_bf16_to_float(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void cn_cpu_widen(float *dst, const cn_tensor *src, int64_t off, int64_t n)
{
    if (src->type == CN_F32) {
        memcpy(dst, (const float *)src->data + off, (size_t)n * sizeof(float));
    } else if (src->type == CN_F16) {
        const uint16_t *s = (const uint16_t *)src->data + off;
        for (int64_t i = 0; i < n; i++) dst[i] = cn_cpu_half_to_float(s[i]);
    } else if (src->type == CN_BF16) {
        const uint16_t *s = (const uint16_t *)src->data + off;
        for (int64_t i = 0; i < n; i++) dst[i] = cn_cpu_bf16_to_float(s[i]);
    }
}

int cn_cpu_as_f32(cn_backend *be, const char *op, const char *role, const cn_tensor *t,
                  const float **out, float **tmp)
{
    char sh[96];
    *tmp = NULL;
    *out = NULL;
    if (t == NULL) return 0;
    if (t->type == CN_F32) {
        *out = t->data;
        return 0;
    }
    if (t->type != CN_F16 && t->type != CN_BF16)
        return cn_cpu_fail(be, CN_EINVAL, "%s: %s must be a float tensor, got %s", op, role,
                           cn_cpu_shape(t, sh, sizeof sh));
    int64_t n = cn_tensor_nelem(t);
    *tmp = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (*tmp == NULL)
        return cn_cpu_fail(be, CN_ENOMEM, "%s: no memory to widen %s %s to f32", op, role,
                           cn_cpu_shape(t, sh, sizeof sh));
    cn_cpu_widen(*tmp, t, 0, n);
    *out = *tmp;
    return 0;
}

/* ---- memory: host memory, 64-byte aligned ---- */

static void *s_alloc(cn_backend *be, size_t bytes)
{
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (p == NULL) {
        cn_cpu_fail(be, CN_ENOMEM, "alloc: no memory for %zu bytes", bytes);
        return NULL;
    }
    memset(p, 0, n ? n : 64);
    return p;
}

static void s_release(cn_backend *be, void *p)
{
    (void)be;
    free(p);
}

static int s_upload(cn_backend *be, void *dst, const void *host, size_t bytes)
{
    (void)be;
    if (bytes) memcpy(dst, host, bytes);
    return 0;
}

static int s_download(cn_backend *be, void *host, const void *src, size_t bytes)
{
    (void)be;
    if (bytes) memcpy(host, src, bytes);
    return 0;
}

static int s_copy(cn_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes && dst != src) memmove(dst, src, bytes);
    return 0;
}

static int s_sync(cn_backend *be)
{
    (void)be;
    return 0;
}

/* The CPU's preferred weight dtype is F32: F16/BF16 weights are widened once here, so every
 * product runs on F32 operands; I32 tensors are copied as they are. */
static int s_upload_weight(cn_backend *be, cn_tensor *dst, const cn_tensor *host)
{
    char sh[96];
    if (host == NULL || dst == NULL)
        return cn_cpu_fail(be, CN_EINVAL, "upload_weight: host or dst tensor is missing");
    if (host->nd < 1 || host->nd > 4 || (host->data == NULL && cn_tensor_nelem(host) > 0))
        return cn_cpu_fail(be, CN_EINVAL, "upload_weight: bad host tensor %s",
                           cn_cpu_shape(host, sh, sizeof sh));
    *dst = *host;
    dst->type = host->type == CN_I32 ? CN_I32 : CN_F32;
    dst->data = s_alloc(be, cn_tensor_bytes(dst));
    if (dst->data == NULL) return CN_ENOMEM;
    if (host->type == CN_I32)
        memcpy(dst->data, host->data, cn_tensor_bytes(host));
    else
        cn_cpu_widen(dst->data, host, 0, cn_tensor_nelem(host));
    return 0;
}

static int s_mem_info(cn_backend *be, size_t *free_bytes, size_t *total_bytes)
{
    long page = sysconf(_SC_PAGESIZE), tot = sysconf(_SC_PHYS_PAGES);
    long avail = sysconf(_SC_AVPHYS_PAGES);
    if (page <= 0 || tot <= 0 || avail < 0)
        return cn_cpu_fail(be, CN_EDEVICE, "mem_info: sysconf cannot say the memory size");
    FILE *f = fopen("/proc/meminfo", "r");   /* MemAvailable counts reclaimable cache */
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                avail = (long)(kb * 1024ull / (unsigned long long)page);
                break;
            }
        fclose(f);
    }
    size_t free_b = (size_t)avail * (size_t)page, total_b = (size_t)tot * (size_t)page;
    const char *cap = getenv("CONTINUO_CPU_MEMORY_GB");   /* a user's limit for this process */
    if (cap && atof(cap) > 0) {
        size_t cap_b = (size_t)(atof(cap) * 1e9);
        if (cap_b < total_b) total_b = cap_b;
        if (cap_b < free_b) free_b = cap_b;
    }
    if (free_bytes) *free_bytes = free_b;
    if (total_bytes) *total_bytes = total_b;
    return 0;
}

static const char *s_last_error(cn_backend *be)
{
    cpu_impl *im = be->impl;
    return im->err;
}

static void s_destroy(cn_backend *be)
{
    free(be->impl);
    free(be);
}

/* designated: the optional slots (graph_*) stay NULL, the CPU has none */
static const cn_backend_ops s_cpu_ops = {
    .name = "cpu",
    .destroy = s_destroy,
    .last_error = s_last_error,
    .alloc = s_alloc,
    .release = s_release,
    .upload = s_upload,
    .download = s_download,
    .copy = s_copy,
    .sync = s_sync,
    .upload_weight = s_upload_weight,
    .mem_info = s_mem_info,
    .matmul = cn_cpu_matmul,
    .layernorm = cn_cpu_layernorm,
    .gelu_quick = cn_cpu_gelu_quick,
    .relu = cn_cpu_relu,
    .axpy = cn_cpu_axpy,
    .embed_add = cn_cpu_embed_add,
    .transpose = cn_cpu_transpose,
    .kv_store = cn_cpu_kv_store,
    .attention = cn_cpu_attention,
    .conv1d = cn_cpu_conv1d,
    .conv_transpose1d = cn_cpu_conv_transpose1d,
    .codebook_nearest = cn_cpu_codebook_nearest,
    .codebook_lookup = cn_cpu_codebook_lookup,
    .filter_logits = cn_cpu_filter_logits,
    .sample = cn_cpu_sample,
};

cn_backend *cn_cpu_backend_new(char *err, size_t errlen)
{
    cn_backend *be = calloc(1, sizeof *be);
    cpu_impl *im = calloc(1, sizeof *im);
    if (be == NULL || im == NULL) {
        free(be);
        free(im);
        if (err && errlen) snprintf(err, errlen, "cpu backend: no memory for its state");
        return NULL;
    }
    be->ops = &s_cpu_ops;
    be->impl = im;
    return be;
}
