/* SPDX-License-Identifier: MIT
 * libFuzzer target for the message decoder: the input is split into a header frame and up to
 * three binary frames, then given to cn_proto_decode. Must never crash, leak or read out of
 * bounds, whatever the bytes. Input: byte 0 = frame count (mod 4), then per frame a 2-byte
 * little-endian length and its bytes; the rest of the input is the header.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cn_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int n = data[0] % 4;
    size_t at = 1;
    const void *frames[3];
    size_t lens[3];
    for (int i = 0; i < n; i++) {
        if (at + 2 > size) return 0;
        size_t len = (size_t)data[at] | (size_t)data[at + 1] << 8;
        at += 2;
        if (len > size - at) len = size - at;
        frames[i] = data + at;
        lens[i] = len;
        at += len;
    }
    cn_msg m;
    char err[256];
    if (cn_proto_decode(&m, data + at, size - at, frames, lens, n, err, sizeof err) == 0) {
        if (!err[0]) err[0] = 0;
        cn_proto_msg_free(&m);
    }
    return 0;
}
