/* SPDX-License-Identifier: MIT
 * The engine end to end on the golden tiny models (converted here): a prompt encoded, the top
 * level continued over several windows, both upsamplers, decoding; reproducibility and the
 * refusals a user meets. Asserts what a user checks: the prompt is kept, codes are valid,
 * the same seed gives the same music, another seed other music.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine.h"

static char s_tmp[256];

/* A check whose detail (the engine's message) is shown only when it failed. */
static int s_ok(cn_check *c, const char *what, int ok, const char *err)
{
    return cn_check_true(c, what, ok, ok ? NULL : err);
}

static int s_convert(const char *bin, const char *src, const char *name, const char *extra,
                     char *out, size_t outlen)
{
    char cmd[4096];
    snprintf(out, outlen, "%s/%s.safetensors", s_tmp, name);
    snprintf(cmd, sizeof cmd, "'%s/continuo-convert' '%s/tests/golden/%s/checkpoint.pth.tar' "
             "--out '%s' %s >/dev/null", bin, src, name, out, extra);
    return system(cmd);
}

static char vq[512], top[512], up1[512], up0[512];

/* Opening refuses a model set that does not fit the memory the backend reports. */
static void s_memory_refusals(cn_check *c)
{
    char err[1024];
    cn_engine *e = NULL;
    cn_engine_config cfg = { "cpu", vq, top, up1, up0, 0 };
    setenv("CONTINUO_CPU_MEMORY_GB", "0.0005", 1);
    int rc = cn_engine_open(&e, &cfg, err, sizeof err);
    s_ok(c, "weights larger than free memory are refused before loading",
         rc != 0 && !e && strstr(err, "GB for its weights") && strstr(err, "GB free"), err);
    setenv("CONTINUO_CPU_MEMORY_GB", "0.01", 1);
    cfg.max_batch = 1000;
    rc = cn_engine_open(&e, &cfg, err, sizeof err);
    s_ok(c, "a batch whose cache cannot fit is refused, naming the need and --max-batch",
         rc != 0 && !e && strstr(err, "1000 candidates") && strstr(err, "--max-batch"), err);
    unsetenv("CONTINUO_CPU_MEMORY_GB");
}

static int s_open(cn_engine **e, const char *bin, const char *src)
{
    char extra[1024], err[1024];
    snprintf(extra, sizeof extra, "--vqvae-hps '%s/tests/golden/vqvae/checkpoint.pth.tar'", src);
    if (s_convert(bin, src, "vqvae", "", vq, sizeof vq) || s_convert(bin, src, "prior_5b", extra, top, sizeof top) ||
        s_convert(bin, src, "upsampler_level_1", extra, up1, sizeof up1) ||
        s_convert(bin, src, "upsampler_level_0", extra, up0, sizeof up0)) {
        printf("FAIL converting the golden tiny models\n");
        return -1;
    }
    const char *backend = getenv("CN_TEST_BACKEND");   /* e.g. cuda, on a GPU machine */
    cn_engine_config cfg = { backend && *backend ? backend : "cpu", vq, top, up1, up0, 0 };
    if (cn_engine_open(e, &cfg, err, sizeof err) != 0) {
        printf("FAIL open engine: %s\n", err);
        return -1;
    }
    return 0;
}

static int s_codes_valid(const int32_t *c, int64_t n, int vocab)
{
    for (int64_t i = 0; i < n; i++)
        if (c[i] < 0 || c[i] >= vocab) return 0;
    return 1;
}

/* Samples the top level: N candidates of TARGET codes after the prompt's codes. */
static int32_t *s_top(cn_engine *e, const int32_t *prompt, int64_t K, int64_t target, int n,
                      uint64_t seed, char *err, size_t errlen)
{
    int32_t *codes = calloc((size_t)n * target, sizeof *codes);
    for (int i = 0; i < n; i++) memcpy(codes + (size_t)i * target, prompt, (size_t)K * 4);
    cn_song song = { "3", "1 4", NULL, 1.0 };
    cn_sampling s = { n, 0.99f, 0, 0.0f, seed, 0 };
    if (cn_engine_sample_level(e, 2, codes, K, target, NULL, 0, &song, &s, NULL, NULL, err,
                               errlen) != 0) {
        free(codes);
        return NULL;
    }
    return codes;
}

static void s_refusals(cn_check *c, cn_engine *e, const int32_t *prompt, int64_t K)
{
    char err[1024];
    int32_t codes[200] = { 0 };
    memcpy(codes, prompt, (size_t)K * 4);
    cn_sampling s = { 1, 0.99f, 0, 0.0f, 1, 0 };
    cn_song too_long = { "3", "1", NULL, 30.0 };
    int rc = cn_engine_sample_level(e, 2, codes, K, 100, NULL, 0, &too_long, &s, NULL, NULL, err, sizeof err);
    cn_check_true(c, "a 30 s song is refused by a model of 0.25-2 s", rc != 0 && strstr(err, "30.00 s"), err);
    cn_song bad_artist = { "99", "1", NULL, 1.0 };
    rc = cn_engine_sample_level(e, 2, codes, K, 100, NULL, 0, &bad_artist, &s, NULL, NULL, err, sizeof err);
    cn_check_true(c, "artist id 99 is refused (30 artists)", rc != 0 && strstr(err, "0..29"), err);
    int32_t named[200] = { 0 }, numbered[200] = { 0 };
    memcpy(named, prompt, (size_t)K * 4);
    memcpy(numbered, prompt, (size_t)K * 4);
    cn_song unknown = { "unknown", "unknown", NULL, 1.0 }, zeros = { "0", "0", NULL, 1.0 };
    int rn = cn_engine_sample_level(e, 2, named, K, 100, NULL, 0, &unknown, &s, NULL, NULL,
                                    err, sizeof err);
    int rz = cn_engine_sample_level(e, 2, numbered, K, 100, NULL, 0, &zeros, &s, NULL, NULL,
                                    err, sizeof err);
    cn_check_true(c, "\"unknown\" artist and genre are id 0 on a model without name tables",
                  rn == 0 && rz == 0 && !memcmp(named, numbered, sizeof named), err);
    cn_song ok = { "3", "1", NULL, 1.0 };
    cn_sampling zero = s;
    zero.n = 0;
    rc = cn_engine_sample_level(e, 2, codes, K, 100, NULL, 0, &ok, &zero, NULL, NULL, err, sizeof err);
    cn_check_true(c, "n = 0 is refused", rc != 0 && strstr(err, "n is 0"), err);
    rc = cn_engine_sample_level(e, 1, codes, 0, 100, NULL, 0, &ok, &s, NULL, NULL, err, sizeof err);
    cn_check_true(c, "an upsampler without level-above codes is refused", rc != 0 && strstr(err, "level-2 codes"), err);
}

static int s_cancel_after_3(void *user, double f, double tps, const int32_t *c, int n, int64_t len)
{
    (void)f; (void)tps; (void)c; (void)n; (void)len;
    return ++*(int *)user >= 3;
}

int main(void)
{
    const char *src = getenv("CN_SOURCE_DIR"), *bin = getenv("CN_BINARY_DIR");
    cn_check c = { 0 };
    if (!src || !bin) {
        printf("FAIL CN_SOURCE_DIR / CN_BINARY_DIR not set (run through ctest)\n");
        return 1;
    }
    snprintf(s_tmp, sizeof s_tmp, "/tmp/continuo-test-engine-XXXXXX");
    if (!mkdtemp(s_tmp)) return 1;
    cn_engine *e = NULL;
    if (s_open(&e, bin, src) != 0) return 1;
    cn_engine_info info;
    cn_engine_get_info(e, &info);
    char err[1024];

    /* prompt: 0.1 s of a 220 Hz tone */
    int64_t T = 4410;
    float *audio = malloc((size_t)T * sizeof *audio);
    for (int64_t i = 0; i < T; i++) audio[i] = 0.5f * sinf(2 * 3.14159265f * 220 * i / 44100.0f);
    int32_t *prompt = NULL;
    int64_t K = 0;
    int rc = cn_engine_encode(e, audio, T, 2, &prompt, &K, err, sizeof err);
    s_ok(&c, "encode a 0.1 s prompt at the top level", rc == 0 && K == T / info.hop[2], err);

    int64_t target = 100;   /* more than one window of 72: two windows */
    int32_t *a = s_top(e, prompt, K, target, 2, 7, err, sizeof err);
    int32_t *b = s_top(e, prompt, K, target, 2, 7, err, sizeof err);
    int32_t *d = s_top(e, prompt, K, target, 2, 8, err, sizeof err);
    if (!a || !b || !d) {
        s_ok(&c, "sample the top level over two windows", 0, err);
        return cn_check_finish(&c);
    }
    cn_check_true(&c, "every code is in the codebook", s_codes_valid(a, 2 * target, info.vocab), NULL);
    cn_check_equal_i32(&c, "candidate 1 keeps the prompt", a, prompt, K);
    cn_check_equal_i32(&c, "candidate 2 keeps the prompt", a + target, prompt, K);
    cn_check_equal_i32(&c, "the same seed gives the same codes", a, b, 2 * target);
    cn_check_true(&c, "another seed gives other codes", memcmp(a + K, d + K, (size_t)(target - K) * 4) != 0, NULL);
    cn_check_true(&c, "the two candidates differ", memcmp(a + K, a + target + K, (size_t)(target - K) * 4) != 0, NULL);

    /* upsample candidate 1 to level 1 and level 0 */
    cn_song song = { "3", "1 4", NULL, 1.0 };
    cn_sampling s = { 1, 0.99f, 0, 0.0f, 11, 0 };
    int64_t t1 = target * 4, t0 = t1 * 4;
    int32_t *l1 = calloc((size_t)t1, 4), *l0 = calloc((size_t)t0, 4);
    rc = cn_engine_sample_level(e, 1, l1, 0, t1, a, target, &song, &s, NULL, NULL, err, sizeof err);
    s_ok(&c, "upsample to level 1 (400 codes)", rc == 0 && s_codes_valid(l1, t1, info.vocab), err);
    s.hop_fraction = 0.5;
    rc = cn_engine_sample_level(e, 0, l0, 0, t0, l1, t1, &song, &s, NULL, NULL, err, sizeof err);
    s_ok(&c, "upsample to level 0 (1600 codes)", rc == 0 && s_codes_valid(l0, t0, info.vocab), err);
    float *out = NULL;
    int64_t n_out = 0;
    rc = cn_engine_decode(e, l0, t0, 0, &out, &n_out, err, sizeof err);
    int finite = rc == 0;
    for (int64_t i = 0; finite && i < n_out; i++) finite = isfinite(out[i]);
    s_ok(&c, "decode level 0 to 12800 finite samples", finite && n_out == t0 * info.hop[0], err);

    int calls = 0;
    int32_t *x = calloc((size_t)target, 4);
    memcpy(x, prompt, (size_t)K * 4);
    cn_sampling one = { 1, 0.99f, 0, 0.0f, 1, 0 };
    rc = cn_engine_sample_level(e, 2, x, K, target, NULL, 0, &song, &one, s_cancel_after_3, &calls, err, sizeof err);
    cn_check_true(&c, "cancel from the progress callback stops within one step",
                  rc == CN_ENGINE_CANCELLED && calls == 3, NULL);
    s_refusals(&c, e, prompt, K);
    s_memory_refusals(&c);

    cn_engine_close(&e);
    free(audio); free(prompt); free(a); free(b); free(d); free(l1); free(l0); free(out); free(x);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    if (system(cmd) != 0) printf("note: could not remove %s\n", s_tmp);
    return cn_check_finish(&c);
}
