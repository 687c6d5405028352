/* SPDX-License-Identifier: MIT
 * cn-fuzz-seeds: writes seed inputs for fuzz_proto.c (valid messages of every kind in its
 * framing) into a folder, and with --run N also feeds N mutations of them to the decoder
 * (a bounded fuzz for compilers without libFuzzer). Test code only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cn_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t s_input(cn_env *e, const cn_blob *b, int n, uint8_t *out)
{
    zmq_msg_t h;
    cn_proto_pack_header(e, b, n, &h);
    size_t at = 0;
    out[at++] = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        size_t len = b[i].count * 4;
        out[at++] = (uint8_t)(len & 255);
        out[at++] = (uint8_t)(len >> 8);
        memcpy(out + at, b[i].data, len);
        at += len;
    }
    memcpy(out + at, zmq_msg_data(&h), zmq_msg_size(&h));
    at += zmq_msg_size(&h);
    zmq_msg_close(&h);
    return at;
}

static size_t s_seeds(uint8_t seeds[][4096], size_t *lens)
{
    static float a[64];
    static int32_t c[64];
    cn_blob b[2] = {{CONTINUO__BLOB_KIND__BLOB_AUDIO_F32, a, 64},
                    {CONTINUO__BLOB_KIND__BLOB_CODES_I32, c, 64}};
    char *g[2] = {"rock", "pop"};
    size_t k = 0;
    cn_env e = CONTINUO__ENVELOPE__INIT;
    e.request_id = 3;
    Continuo__Generate ge = CONTINUO__GENERATE__INIT;
    ge.artist = "a", ge.n_genres = 2, ge.genres = g, ge.lyrics = "words", ge.seconds = 1;
    e.body_case = CONTINUO__ENVELOPE__BODY_GENERATE, e.generate = &ge;
    lens[k] = s_input(&e, b, 1, seeds[k]), k++;
    Continuo__Candidate ca = CONTINUO__CANDIDATE__INIT;
    ca.node = "c1.1", ca.parent = "c1.0";
    e.body_case = CONTINUO__ENVELOPE__BODY_CANDIDATE, e.candidate = &ca;
    lens[k] = s_input(&e, b, 2, seeds[k]), k++;
    char *kids[1] = {"c1.1"};
    Continuo__NodeInfo ni = CONTINUO__NODE_INFO__INIT, *np = &ni;
    ni.id = "c1.0", ni.parent = "", ni.n_children = 1, ni.children = kids;
    Continuo__CompositionInfo ci = CONTINUO__COMPOSITION_INFO__INIT, *cp = &ci;
    ci.id = "c1", ci.n_genres = 2, ci.genres = g;
    Continuo__Tree t = CONTINUO__TREE__INIT;
    t.n_nodes = 1, t.nodes = &np, t.n_compositions = 1, t.compositions = &cp;
    e.body_case = CONTINUO__ENVELOPE__BODY_TREE, e.tree = &t;
    lens[k] = s_input(&e, NULL, 0, seeds[k]), k++;
    Continuo__Hello h = CONTINUO__HELLO__INIT;
    h.protocol_version = 1, h.session = "s", h.client_name = "n";
    e.body_case = CONTINUO__ENVELOPE__BODY_HELLO, e.hello = &h;
    lens[k] = s_input(&e, NULL, 0, seeds[k]), k++;
    Continuo__Error er = CONTINUO__ERROR__INIT;
    er.message = "m";
    e.body_case = CONTINUO__ENVELOPE__BODY_ERROR, e.error = &er;
    lens[k] = s_input(&e, NULL, 0, seeds[k]), k++;
    return k;
}

int main(int argc, char **argv)
{
    static uint8_t seeds[8][4096];
    size_t lens[8];
    size_t n = s_seeds(seeds, lens);
    if (argc == 3 && !strcmp(argv[1], "--run")) {
        long iters = atol(argv[2]);
        uint64_t x = 88172645463325252ULL;
        static uint8_t buf[4096];
        for (long i = 0; i < iters; i++) {
            size_t k = (size_t)i % n, len = lens[k];
            memcpy(buf, seeds[k], len);
            int flips = 1 + (int)(i % 8);
            for (int f = 0; f < flips; f++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                buf[x % len] = (uint8_t)(x >> 32);
            }
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t cut = (i % 5 == 0) ? (size_t)(x % len) + 1 : len;
            LLVMFuzzerTestOneInput(buf, cut);
        }
        printf("%ld mutated inputs decoded without a crash\n1 passed, 0 failed\n", iters);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: cn-fuzz-seeds DIR | --run N\n");
        return 2;
    }
    for (size_t k = 0; k < n; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/seed%zu", argv[1], k);
        FILE *f = fopen(path, "wb");
        if (!f) { perror(path); return 1; }
        fwrite(seeds[k], 1, lens[k], f);
        fclose(f);
    }
    return 0;
}
