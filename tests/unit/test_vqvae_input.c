/* SPDX-License-Identifier: MIT
 * VQ-VAE requests a user can get wrong (audio not a multiple of the hop, empty audio, NaN
 * samples, a missing level, out-of-range codes) are refused with a message naming the value;
 * batching items together gives the same codes and audio as one item at a time.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "modelfile.h"
#include "vqvae.h"

static cn_check s_c;

/* Converts the golden vqvae checkpoint into TMP and opens it on the CPU backend. */
static int s_open(char *tmp, cn_backend **be, cn_modelfile **mf, cn_vqvae **v)
{
    const char *src = getenv("CN_SOURCE_DIR"), *bin = getenv("CN_BINARY_DIR");
    char cmd[4096], path[512], err[512];
    if (!cn_check_true(&s_c, "CN_SOURCE_DIR and CN_BINARY_DIR set", src && bin, "run via ctest"))
        return -1;
    snprintf(path, sizeof path, "%s/vqvae.safetensors", tmp);
    snprintf(cmd, sizeof cmd, "'%s/continuo-convert' '%s/tests/golden/vqvae/checkpoint.pth.tar'"
             " --out '%s' >/dev/null 2>&1", bin, src, path);
    if (!cn_check_true(&s_c, "convert golden vqvae", system(cmd) == 0, cmd)) return -1;
    *be = cn_backend_new("cpu", err, sizeof err);
    if (!cn_check_true(&s_c, "cpu backend", *be != NULL, err)) return -1;
    if (!cn_check_true(&s_c, "open model file", cn_modelfile_open(mf, path, err, sizeof err) == 0,
                       err))
        return -1;
    return cn_check_true(&s_c, "open vqvae", cn_vqvae_open(v, *mf, *be, err, sizeof err) == 0,
                         err) ? 0 : -1;
}

/* The call returned an error status and its message contains WANT. */
static void s_refused(const char *what, int st, const char *err, const char *want)
{
    char detail[700];
    snprintf(detail, sizeof detail, "status %d, message \"%s\", expected it to name \"%s\"", st,
             err, want);
    int ok = st < 0 && strstr(err, want) != NULL;
    cn_check_true(&s_c, what, ok, ok ? err : detail);
}

static void s_bad_encode(cn_vqvae *v)
{
    int64_t hop = cn_vqvae_hop(v, 2);
    int64_t T = 4 * hop + 3;
    float *audio = calloc((size_t)T, sizeof *audio);
    int32_t codes[8];
    char err[512] = "", want[64];
    int st = cn_vqvae_encode(v, audio, 1, T, 2, codes, err, sizeof err);
    snprintf(want, sizeof want, "%lld samples", (long long)T);
    s_refused("encode: length not a multiple of the hop", st, err, want);
    snprintf(want, sizeof want, "hop of %lld", (long long)hop);
    s_refused("encode: message names the hop", st, err, want);
    err[0] = 0;
    st = cn_vqvae_encode(v, audio, 1, 0, 0, codes, err, sizeof err);
    s_refused("encode: zero-length audio", st, err, "0 samples");
    err[0] = 0;
    st = cn_vqvae_encode(v, audio, 1, hop, cn_vqvae_levels(v), codes, err, sizeof err);
    snprintf(want, sizeof want, "level %d", cn_vqvae_levels(v));
    s_refused("encode: level past the top", st, err, want);
    audio[hop / 2] = NAN;
    err[0] = 0;
    st = cn_vqvae_encode(v, audio, 1, hop, 2, codes, err, sizeof err);
    snprintf(want, sizeof want, "sample %lld is nan", (long long)(hop / 2));
    s_refused("encode: NaN sample", st, err, want);
    free(audio);
}

static void s_bad_decode(cn_vqvae *v)
{
    int32_t codes[4] = { 0, 1, cn_vqvae_bins(v), 2 };
    float *audio = calloc((size_t)(4 * cn_vqvae_hop(v, 1)), sizeof *audio);
    char err[512] = "", want[64];
    int st = cn_vqvae_decode(v, codes, 1, 4, 1, audio, err, sizeof err);
    snprintf(want, sizeof want, "code %d at item 0 position 2", cn_vqvae_bins(v));
    s_refused("decode: code past the codebook", st, err, want);
    codes[2] = -1;
    err[0] = 0;
    st = cn_vqvae_decode(v, codes, 1, 4, 1, audio, err, sizeof err);
    s_refused("decode: negative code", st, err, "code -1");
    err[0] = 0;
    st = cn_vqvae_decode(v, codes, 1, 0, 1, audio, err, sizeof err);
    s_refused("decode: zero codes", st, err, "0 codes");
    free(audio);
}

/* Audio far past memory (2^33 samples, a 32 GiB buffer that is never touched) is refused
 * before anything is read or allocated, naming the memory it would need. */
static void s_too_long(cn_vqvae *v)
{
    int64_t T = (int64_t)1 << 33;
    size_t bytes = (size_t)T * sizeof(float);
    float *audio = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                        -1, 0);
    if (!cn_check_true(&s_c, "reserve 32 GiB of untouched address space", audio != MAP_FAILED,
                       audio != MAP_FAILED ? "" : "mmap refused"))
        return;
    int32_t codes[1];
    char err[512] = "";
    int st = cn_vqvae_encode(v, audio, 1, T, 0, codes, err, sizeof err);
    s_refused("encode: audio longer than memory allows", st, err, "GiB free");
    munmap(audio, bytes);
}

/* Two items encoded and decoded together equal each item alone. */
static void s_batch(cn_vqvae *v)
{
    int level = 1;
    int64_t hop = cn_vqvae_hop(v, level), n = 16, T = n * hop;
    float *audio = malloc(2 * (size_t)T * sizeof *audio);
    float *out2 = malloc(2 * (size_t)T * sizeof *out2), *out1 = malloc((size_t)T * sizeof *out1);
    int32_t *c2 = malloc(2 * (size_t)n * sizeof *c2), *c1 = malloc((size_t)n * sizeof *c1);
    for (int64_t i = 0; i < 2 * T; i++)
        audio[i] = 0.5f * sinf(0.01f * (float)i * (i < T ? 3.0f : 7.0f));
    char err[512] = "";
    int st = cn_vqvae_encode(v, audio, 2, T, level, c2, err, sizeof err);
    st = st ? st : cn_vqvae_encode(v, audio + T, 1, T, level, c1, err, sizeof err);
    if (cn_check_true(&s_c, "encode two items, then the second alone", st == 0, err))
        cn_check_equal_i32(&s_c, "codes of item 1: batched vs alone", c2 + n, c1, n);
    st = cn_vqvae_decode(v, c2, 2, n, level, out2, err, sizeof err);
    st = st ? st : cn_vqvae_decode(v, c2 + n, 1, n, level, out1, err, sizeof err);
    if (cn_check_true(&s_c, "decode two items, then the second alone", st == 0, err))
        cn_check_close(&s_c, "audio of item 1: batched vs alone", out2 + T, out1, T, 1e-6);
    free(audio), free(out2), free(out1), free(c2), free(c1);
}

int main(void)
{
    char tmp[] = "/tmp/test_vqvae_input-XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    cn_backend *be = NULL;
    cn_modelfile *mf = NULL;
    cn_vqvae *v = NULL;
    if (s_open(tmp, &be, &mf, &v) == 0) {
        s_bad_encode(v);
        s_bad_decode(v);
        s_batch(v);
        s_too_long(v);
    }
    cn_vqvae_close(&v);
    cn_modelfile_close(&mf);
    cn_backend_destroy(&be);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return cn_check_finish(&s_c);
}
