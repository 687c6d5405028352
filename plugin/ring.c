/* SPDX-License-Identifier: MIT
 * cn_ring implementation: records are an 8-byte header (type, length) and the payload, padded
 * to 8 bytes; copies wrap around the end. Only init/free allocate; never called from run().
 */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

typedef struct { uint32_t type, len; } s_hdr;

static size_t s_pad(size_t n) { return (n + 7u) & ~(size_t)7u; }

int cn_ring_init(cn_ring *r, size_t cap)
{
    size_t c = 64;
    while (c < cap)
        c <<= 1;
    r->buf = calloc(1, c);
    if (!r->buf)
        return -1;
    r->cap = c;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void cn_ring_free(cn_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
}

static void s_put(cn_ring *r, size_t at, const void *src, size_t n)
{
    size_t i = at & (r->cap - 1), first = r->cap - i;
    if (first > n)
        first = n;
    memcpy(r->buf + i, src, first);
    if (n > first)
        memcpy(r->buf, (const uint8_t *)src + first, n - first);
}

static void s_get(const cn_ring *r, size_t at, void *dst, size_t n)
{
    size_t i = at & (r->cap - 1), first = r->cap - i;
    if (first > n)
        first = n;
    memcpy(dst, r->buf + i, first);
    if (n > first)
        memcpy((uint8_t *)dst + first, r->buf, n - first);
}

bool cn_ring_write2(cn_ring *r, uint32_t type, const void *a, uint32_t na, const void *b,
                    uint32_t nb)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t need = sizeof(s_hdr) + s_pad((size_t)na + nb);
    if (need > r->cap - (head - tail))
        return false;
    s_hdr h = { type, na + nb };
    s_put(r, head, &h, sizeof h);
    if (na)
        s_put(r, head + sizeof h, a, na);
    if (nb)
        s_put(r, head + sizeof h + na, b, nb);
    atomic_store_explicit(&r->head, head + need, memory_order_release);
    return true;
}

int64_t cn_ring_read(cn_ring *r, uint32_t *type, void *out, uint32_t max)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail)
        return -1;
    s_hdr h;
    s_get(r, tail, &h, sizeof h);
    *type = h.type;
    int64_t ret = h.len;
    if (h.len > max)
        ret = -2;
    else if (h.len)
        s_get(r, tail + sizeof h, out, h.len);
    atomic_store_explicit(&r->tail, tail + sizeof h + s_pad(h.len), memory_order_release);
    return ret;
}
