/* SPDX-License-Identifier: MIT
 * Times the sampling loop of one opened prior for one batch size N: begin, prime to the timed
 * position, then decode steps exactly as the engine samples (step, device draw, token download).
 * Never judges the figures: it measures and fills a cn_bench_step.
 */
#include "bench_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_WARM = 2 };

/* Device memory in use against the free memory before loading; 0 on the CPU, where
 * mem_info is the machine's and says nothing about this process. */
static double s_dev_used(cn_backend *be, double base_free)
{
    size_t fr = 0, tot = 0;
    if (strcmp(be->ops->name, "cpu") == 0 || be->ops->mem_info(be, &fr, &tot) != 0) return 0;
    return base_free - (double)fr;
}

/* Label vectors and level-above codes that every model accepts (values do not matter). */
static void s_inputs(const cn_prior_info *in, int N, int32_t *y, int32_t *above)
{
    for (int n = 0; n < N; n++) {
        int32_t *r = y + (int64_t)n * in->label_len;
        for (int j = 0; j < in->label_len; j++) r[j] = -1;
        if (in->label_len >= 4) {
            double secs = in->min_duration + 0.25 * (in->max_duration - in->min_duration);
            r[0] = (int32_t)(secs > 0 ? secs * in->sr : 4.0 * in->n_ctx * in->hop);
            r[1] = 0;
            r[2] = in->n_ctx * in->hop;
            r[3] = n % (in->artist_bins > 0 ? in->artist_bins : 1);
        }
        for (int g = 0; g < in->genre_slots; g++) r[4 + g] = g == 0 ? n : -1;
        for (int j = 0; j < in->n_tokens; j++)
            r[4 + in->genre_slots + j] = 1 + (j * 7 + n) % (in->lyric_vocab > 1 ? in->lyric_vocab - 1 : 1);
    }
    for (int64_t i = 0; i < (int64_t)N * in->above_len; i++)
        above[i] = (int32_t)((i * 2654435761u) % (uint32_t)in->vocab);
}

/* begin + prime to pos0; fills begin_s and prime_s_per_pos. */
static int s_start(cn_backend *be, cn_prior_state *st, const cn_prior_info *in, int N, int pos0,
                   cn_bench_step *r, char *err, size_t errlen)
{
    int32_t *y = calloc((size_t)N * (in->label_len + 1), sizeof *y);
    int32_t *above = calloc((size_t)N * (in->above_len + 1), sizeof *above);
    int32_t *prime = calloc((size_t)N * (pos0 + 1), sizeof *prime);
    int rc = -1;
    if (!y || !above || !prime) {
        snprintf(err, errlen, "out of host memory for N = %d", N);
        goto done;
    }
    s_inputs(in, N, y, above);
    for (int64_t i = 0; i < (int64_t)N * pos0; i++)
        prime[i] = (int32_t)((i * 40503u) % (uint32_t)in->vocab) + in->code_offset;
    double t0 = cn_bench_now();
    if (cn_prior_begin(st, in->label_len ? y : NULL, in->above_len ? above : NULL, err, errlen) ||
        be->ops->sync(be))
        goto done;
    double t1 = cn_bench_now();
    if (pos0 > 0 && (cn_prior_prime(st, prime, pos0, 0, err, errlen) || be->ops->sync(be)))
        goto done;
    double t2 = cn_bench_now();
    r->begin_s = t1 - t0;
    r->prime_s_per_pos = pos0 > 0 ? (t2 - t1) / pos0 : 0;
    rc = 0;
done:
    free(y);
    free(above);
    free(prime);
    return rc;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* S_WARM untimed steps, then `steps` timed ones, each on its own clock: step, sample on the
 * backend, download of the tokens (which waits for the device). Median and mean. */
static int s_steps(cn_backend *be, cn_prior_state *st, const cn_prior_info *in, int N,
                   int steps, double *median_s, double *mean_s, char *err, size_t errlen)
{
    cn_tensor tok = cn_tensor_2d(be->ops->alloc(be, (size_t)N * 4), CN_I32, N, 1);
    cn_tensor logits = cn_tensor_2d(be->ops->alloc(be, (size_t)N * in->seq_vocab * 4), CN_F32,
                                    N, in->seq_vocab);
    int32_t *host = malloc((size_t)N * sizeof *host);
    double *dt = malloc((size_t)steps * sizeof *dt);
    cn_sample_desc sd = { 0.99f, 0, 0.0f, 12345, 0, 0 };
    int rc = -1;
    if (!tok.data || !logits.data || !host || !dt) {
        snprintf(err, errlen, "out of memory for the logits of N = %d", N);
        goto done;
    }
    for (int k = 0; k < S_WARM + steps; k++) {
        double t0 = cn_bench_now();
        sd.step = (uint64_t)cn_prior_state_pos(st);
        if (cn_prior_step(st, k == 0 ? NULL : &tok, &logits, err, errlen)) goto done;
        if (be->ops->sample(be, &tok, &logits, &sd) ||
            be->ops->download(be, host, tok.data, (size_t)N * sizeof *host)) {
            snprintf(err, errlen, "sampling step %d: %s", k, be->ops->last_error(be));
            goto done;
        }
        if (k >= S_WARM) dt[k - S_WARM] = cn_bench_now() - t0;
    }
    double sum = 0;
    for (int k = 0; k < steps; k++) sum += dt[k];
    qsort(dt, (size_t)steps, sizeof *dt, s_cmp);
    *median_s = steps % 2 ? dt[steps / 2] : 0.5 * (dt[steps / 2 - 1] + dt[steps / 2]);
    *mean_s = sum / steps;
    rc = 0;
done:
    be->ops->release(be, tok.data);
    be->ops->release(be, logits.data);
    free(host);
    free(dt);
    return rc;
}

void cn_bench_loop(cn_bench_wrap *w, cn_prior *p, int N, int pos0, int steps, int graphs,
                   double base_free,
                   cn_bench_step *r)
{
    cn_backend *be = cn_bench_wrap_backend(w);
    const cn_prior_info *in = cn_prior_info_get(p);
    memset(r, 0, sizeof *r);
    r->n = N;
    if (pos0 > in->n_ctx - S_WARM - steps) pos0 = in->n_ctx - S_WARM - steps;
    if (pos0 < 0) pos0 = 0;
    r->pos0 = pos0 + S_WARM;
    double before = cn_bench_wrap_live(w);
    cn_bench_wrap_peak(w, 1);
    cn_prior_state *st = NULL;
    char err[256] = "";
    if (cn_prior_state_new(&st, p, N, 0, err, sizeof err)) {
        snprintf(r->why, sizeof r->why, "%s", err);
        return;
    }
    r->state_bytes = cn_bench_wrap_live(w) - before;
    r->graphs = cn_prior_state_use_graphs(st, graphs);   /* as engine_sample.c does */
    r->fused = cn_prior_state_fused(st);
    snprintf(r->fused_why, sizeof r->fused_why, "%s", cn_prior_state_fused_why(st));
    r->ok = s_start(be, st, in, N, pos0, r, err, sizeof err) == 0 &&
            s_steps(be, st, in, N, steps, &r->step_s, &r->step_mean_s, err, sizeof err) == 0;
    if (!r->ok) snprintf(r->why, sizeof r->why, "%s", err);
    r->peak_bytes = cn_bench_wrap_peak(w, 0);
    r->dev_used_bytes = s_dev_used(be, base_free);
    cn_prior_state_free(&st);
}
