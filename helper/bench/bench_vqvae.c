/* SPDX-License-Identifier: MIT
 * VQ-VAE speed: encode and decode of noise at each level of the released VQ-VAE shape (random
 * weights) as a multiple of real time. Never checks the codes: speed only.
 */
#include "bench_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modelfile.h"
#include "synth_model.h"
#include "vqvae.h"

static int s_open(const cn_bench_opts *o, cn_backend *be, cn_vqvae **v, cn_modelfile **mf,
                  char *err, size_t errlen)
{
    char layout[1024], path[1100];
    snprintf(layout, sizeof layout, "%s/vqvae.json", o->layouts);
    int64_t bytes = 0;
    int full = 0;
    if (cn_synth_model_size(layout, 0, &bytes, &full, err, errlen) ||
        cn_bench_tmp_path(o->tmp, "vqvae", (double)bytes, path, sizeof path, err, errlen))
        return -1;
    if (cn_synth_model_write(layout, 0, path, 99, err, errlen)) {
        unlink(path);
        return -1;
    }
    int rc = cn_modelfile_open(mf, path, err, errlen);
    unlink(path);
    if (rc == 0) rc = cn_vqvae_open(v, *mf, be, err, errlen);
    return rc;
}

/* One level: encode then decode; prints the line, returns the decode multiple (0 on error). */
static double s_level(cn_vqvae *v, const float *audio, int64_t T, int level, double secs,
                      int quiet)
{
    char err[512];
    int64_t hop = cn_vqvae_hop(v, level), n = T / hop;
    int32_t *codes = malloc((size_t)n * sizeof *codes);
    float *out = malloc((size_t)T * sizeof *out);
    double rt = 0;
    if (!codes || !out) {
        printf("  level %d: out of host memory\n", level);
    } else {
        double t0 = cn_bench_now();
        int rc = cn_vqvae_encode(v, audio, 1, T, level, codes, err, sizeof err);
        double t1 = cn_bench_now();
        if (rc == 0) rc = cn_vqvae_decode(v, codes, 1, n, level, out, err, sizeof err);
        double t2 = cn_bench_now();
        if (rc)
            printf("  level %d: %s\n", level, err);
        else if (!quiet) {
            printf("  level %d (hop %3lld, %6lld codes): encode %7.3f s = %6.1fx real time, "
                   "decode %7.3f s = %6.1fx real time\n", level, (long long)hop, (long long)n,
                   t1 - t0, secs / (t1 - t0), t2 - t1, secs / (t2 - t1));
        }
        if (rc == 0) rt = secs / (t2 - t1);
    }
    free(codes);
    free(out);
    return rt;
}

int cn_bench_vqvae(cn_backend *be, const cn_bench_opts *o, double decode_rt[3], char *err,
                   size_t errlen)
{
    cn_vqvae *v = NULL;
    cn_modelfile *mf = NULL;
    int rc = s_open(o, be, &v, &mf, err, errlen);
    cn_modelfile_close(&mf);
    if (rc) {
        cn_vqvae_close(&v);
        return -1;
    }
    int levels = cn_vqvae_levels(v);
    int64_t top = cn_vqvae_hop(v, levels - 1);
    int64_t T = (int64_t)(o->vq_seconds * 44100) / top * top;
    if (T < top) T = top;
    double secs = (double)T / 44100;
    float *audio = malloc((size_t)T * sizeof *audio);
    if (!audio) {
        cn_vqvae_close(&v);
        return snprintf(err, errlen, "out of host memory for %.1f s of audio", secs), -1;
    }
    for (int64_t i = 0; i < T; i++)
        audio[i] = 0.3f * sinf((float)i * 0.0627f) + 0.1f * (float)((i * 7919) % 2001 - 1000) / 1000;
    printf("VQ-VAE (released shape, random weights): %d levels, %.2f s of mono audio at 44.1 kHz"
           ", N = 1, one call per figure after a warm-up\n", levels, secs);
    s_level(v, audio, top, 0, (double)top / 44100, 1);    /* warm-up */
    for (int l = 0; l < levels && l < 3; l++) decode_rt[l] = s_level(v, audio, T, l, secs, 0);
    free(audio);
    cn_vqvae_close(&v);
    return 0;
}
