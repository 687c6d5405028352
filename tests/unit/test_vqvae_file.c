/* SPDX-License-Identifier: MIT
 * A converted VQ-VAE whose hyper-parameters do not fit its tensors, or describe a geometry the
 * reference cannot run, is refused at open with a message naming the tensor or the value.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "modelfile.h"
#include "vqvae.h"

static cn_check s_c;
static char s_tmp[] = "/tmp/test_vqvae_file-XXXXXX";

static char *s_slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)*len);
    if (b && fread(b, 1, (size_t)*len, f) != (size_t)*len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

/* Writes a copy of the converted file with the first FROM in its header replaced by TO (same
 * length, so every offset stays valid). Returns 0, or -1 if FROM is not there. */
static int s_edit(const char *in, const char *out, const char *from, const char *to)
{
    long n = 0;
    char *b = s_slurp(in, &n);
    if (!b || strlen(from) != strlen(to)) return free(b), -1;
    char *hit = memmem(b, (size_t)n, from, strlen(from));
    if (hit) memcpy(hit, to, strlen(to));
    FILE *f = hit ? fopen(out, "wb") : NULL;
    int ok = f && fwrite(b, 1, (size_t)n, f) == (size_t)n;
    if (f) fclose(f);
    free(b);
    return ok ? 0 : -1;
}

/* Opens PATH as a vqvae; expects a refusal whose message contains WANT. */
static void s_expect_refusal(cn_backend *be, const char *what, const char *path, const char *want)
{
    char err[512] = "", detail[800];
    cn_modelfile *mf = NULL;
    cn_vqvae *v = NULL;
    int st = cn_modelfile_open(&mf, path, err, sizeof err);
    if (st == 0) st = cn_vqvae_open(&v, mf, be, err, sizeof err);
    snprintf(detail, sizeof detail, "status %d, message \"%s\", expected it to name \"%s\"", st,
             err, want);
    int ok = st != 0 && strstr(err, want) != NULL;
    cn_check_true(&s_c, what, ok, ok ? err : detail);
    cn_vqvae_close(&v);
    cn_modelfile_close(&mf);
}

static void s_cases(cn_backend *be, const char *good)
{
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", s_tmp);
    /* The golden model has width 8 (level 0: 16); the hparams now say 9 (level 0: 18). */
    if (cn_check_true(&s_c, "edit width 8 -> 9",
                      s_edit(good, bad, ", \\\"width\\\": 8", ", \\\"width\\\": 9") == 0, ""))
        s_expect_refusal(be, "open: width that does not fit the tensors", bad,
                         "the hyper-parameters need (18, 1, 4)");
    if (cn_check_true(&s_c, "edit strides_t [2, ...] -> [3, ...]",
                      s_edit(good, bad, "\\\"strides_t\\\": [2", "\\\"strides_t\\\": [3") == 0,
                      ""))
        s_expect_refusal(be, "open: odd stride", bad, "strides_t[0] is 3");
    if (cn_check_true(&s_c, "edit downs_t [3, ...] -> [0, ...]",
                      s_edit(good, bad, "\\\"downs_t\\\": [3", "\\\"downs_t\\\": [0") == 0, ""))
        s_expect_refusal(be, "open: level without downsampling", bad, "downs_t[0] is 0");
    if (cn_check_true(&s_c, "edit l_bins 64 -> 65",
                      s_edit(good, bad, "\\\"l_bins\\\": 64", "\\\"l_bins\\\": 65") == 0, ""))
        s_expect_refusal(be, "open: codebook size that does not fit", bad,
                         "bottleneck.level_blocks.0.k");
}

int main(void)
{
    const char *src = getenv("CN_SOURCE_DIR"), *bin = getenv("CN_BINARY_DIR");
    if (!mkdtemp(s_tmp) || !src || !bin) {
        fprintf(stderr, "needs CN_SOURCE_DIR and CN_BINARY_DIR (run via ctest)\n");
        return 1;
    }
    char good[600], cmd[4096], err[512];
    snprintf(good, sizeof good, "%s/vqvae.safetensors", s_tmp);
    snprintf(cmd, sizeof cmd, "'%s/continuo-convert' '%s/tests/golden/vqvae/checkpoint.pth.tar'"
             " --out '%s' >/dev/null 2>&1", bin, src, good);
    cn_backend *be = cn_backend_new("cpu", err, sizeof err);
    if (cn_check_true(&s_c, "convert golden vqvae", system(cmd) == 0, cmd) &&
        cn_check_true(&s_c, "cpu backend", be != NULL, err))
        s_cases(be, good);
    cn_backend_destroy(&be);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", s_tmp);
    return cn_check_finish(&s_c);
}
