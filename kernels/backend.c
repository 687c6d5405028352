/* SPDX-License-Identifier: MIT
 * The backend registry (cn_backend_new by name), tensor view helpers and the shared uniform
 * draw. Knows each backend only by its constructor; never computes anything itself.
 */
#include "backend.h"

#include <stdio.h>
#include <string.h>

cn_backend *cn_cpu_backend_new(char *err, size_t errlen);
#ifdef CONTINUO_HAVE_CUDA
cn_backend *cn_cuda_backend_new(char *err, size_t errlen);
#endif

int cn_backend_available(const char *name)
{
    if (strcmp(name, "cpu") == 0) return 1;
#ifdef CONTINUO_HAVE_CUDA
    if (strcmp(name, "cuda") == 0) return 1;
#endif
    return 0;
}

cn_backend *cn_backend_new(const char *name, char *err, size_t errlen)
{
    if (strcmp(name, "cpu") == 0) return cn_cpu_backend_new(err, errlen);
    if (strcmp(name, "cuda") == 0) {
#ifdef CONTINUO_HAVE_CUDA
        return cn_cuda_backend_new(err, errlen);
#else
        snprintf(err, errlen, "backend 'cuda' was not built (no CUDA toolkit at build time)");
        return NULL;
#endif
    }
    snprintf(err, errlen, "unknown backend '%s'; known: cpu, cuda", name);
    return NULL;
}

void cn_backend_destroy(cn_backend **be)
{
    if (be == NULL || *be == NULL) return;
    (*be)->ops->destroy(*be);
    *be = NULL;
}

/* splitmix64 finaliser: a well-mixed 64-bit hash of a counter */
static uint64_t s_mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double cn_uniform(uint64_t seed, uint64_t stream, uint64_t step)
{
    uint64_t h = s_mix64(s_mix64(s_mix64(seed) ^ stream) ^ step);
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

size_t cn_dtype_size(cn_dtype t)
{
    switch (t) {
    case CN_F32: return 4;
    case CN_I32: return 4;
    case CN_F16: return 2;
    case CN_BF16: return 2;
    }
    return 0;
}

int64_t cn_tensor_nelem(const cn_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->nd; i++) n *= t->ne[i];
    return n;
}

size_t cn_tensor_bytes(const cn_tensor *t)
{
    return (size_t)cn_tensor_nelem(t) * cn_dtype_size(t->type);
}

cn_tensor cn_tensor_make(void *data, cn_dtype t, int nd, const int64_t *ne)
{
    cn_tensor v = { data, t, nd, { 1, 1, 1, 1 } };
    for (int i = 0; i < nd && i < 4; i++) v.ne[i] = ne[i];
    return v;
}

cn_tensor cn_tensor_2d(void *data, cn_dtype t, int64_t rows, int64_t cols)
{
    int64_t ne[2] = { rows, cols };
    return cn_tensor_make(data, t, 2, ne);
}

cn_tensor cn_tensor_rows(const cn_tensor *t, int64_t r0, int64_t n)
{
    cn_tensor v = *t;
    size_t row_bytes = cn_tensor_bytes(t) / (size_t)(t->ne[0] ? t->ne[0] : 1);
    v.data = (char *)t->data + (size_t)r0 * row_bytes;
    v.ne[0] = n;
    return v;
}
