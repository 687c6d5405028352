/* SPDX-License-Identifier: MIT
 * cn_ring: a single-producer single-consumer byte ring of typed records (C11 atomics).
 * Write and read never allocate, lock or block: both are safe on the audio thread.
 */
#ifndef CN_RING_H
#define CN_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cn_ring {
    uint8_t *buf;              /* cap bytes, owned by the ring (cn_ring_init/cn_ring_free) */
    size_t cap;                /* a power of two */
    _Atomic size_t head;       /* total bytes written (producer only) */
    _Atomic size_t tail;       /* total bytes read (consumer only) */
} cn_ring;

/* Not realtime: allocates. cap is rounded up to a power of two. Returns 0 or -1. */
int cn_ring_init(cn_ring *r, size_t cap);
void cn_ring_free(cn_ring *r);

/* Producer: writes one record (type, then the bytes of a followed by b). Returns false when
 * the record does not fit now (nothing written). Realtime-safe. */
bool cn_ring_write2(cn_ring *r, uint32_t type, const void *a, uint32_t na, const void *b,
                    uint32_t nb);
static inline bool cn_ring_write(cn_ring *r, uint32_t type, const void *a, uint32_t na)
{
    return cn_ring_write2(r, type, a, na, NULL, 0);
}

/* Consumer: reads the next record into out (at most max bytes). Returns its length, -1 when
 * the ring is empty, or -2 when the record was longer than max (it is skipped). The record's
 * type goes to *type. Realtime-safe. */
int64_t cn_ring_read(cn_ring *r, uint32_t *type, void *out, uint32_t max);

#endif
