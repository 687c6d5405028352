/* SPDX-License-Identifier: MIT
 * continuo-bench: prints sampling and VQ-VAE speed figures for released model shapes with
 * random weights on the CPU or CUDA backend. A program that reports figures, never a test.
 */
#include "bench_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CN_BENCH_LAYOUTS
#define CN_BENCH_LAYOUTS "tests/golden/released_layouts"
#endif

static const char *s_priors[] = { "prior_5b", "prior_5b_lyrics", "prior_1b_lyrics",
                                  "upsampler_level_1", "upsampler_level_0" };

static void s_usage(FILE *f)
{
    fprintf(f,
        "usage: continuo-bench [--backend cpu|cuda] [--model NAME]... [--depth D] [--n LIST]\n"
        "                      [--steps K] [--pos P] [--layouts DIR] [--tmp DIR]\n"
        "                      [--peak-gbs X] [--vq-seconds S] [--song-seconds S] [--graphs 0|1]\n"
        "  cpu defaults:  --model prior_1b_lyrics --depth 4 --n 1,3\n"
        "  cuda defaults: every prior and upsampler at released depth (--depth 0), --n 1,3,8,16\n"
        "  both: --steps 64; --pos P = code position of the first timed step (default: the\n"
        "        first sampled position of a steady-state window, n_ctx - hop_length)\n"
        "  models: prior_5b prior_5b_lyrics prior_1b_lyrics upsampler_level_1 upsampler_level_0\n"
        "  --tmp: folder for the synthetic model files (default $TMPDIR or /tmp; up to 11.5 GB at once)\n"
        "  --vq-seconds: audio for the VQ-VAE figures (default 4; 0 skips them)\n"
        "  --graphs: 1 (default) replays recorded decode steps where the backend can, as the\n"
        "        engine's sampler does; 0 calls every op directly\n");
}

static int s_known(const char *m)
{
    for (size_t i = 0; i < sizeof s_priors / sizeof s_priors[0]; i++)
        if (strcmp(m, s_priors[i]) == 0) return 1;
    return 0;
}

static int s_n_list(const char *s, cn_bench_opts *o)
{
    o->n_n = 0;
    for (const char *p = s; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 256 || o->n_n == CN_BENCH_MAX_N) return -1;
        o->n_list[o->n_n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return o->n_n > 0 ? 0 : -1;
}

static void s_defaults(cn_bench_opts *o)
{
    int cuda = strcmp(o->backend, "cuda") == 0;
    if (o->n_models == 0) {
        if (cuda)
            for (size_t i = 0; i < sizeof s_priors / sizeof s_priors[0]; i++)
                o->models[o->n_models++] = s_priors[i];
        else
            o->models[o->n_models++] = "prior_1b_lyrics";
    }
    if (!o->depth_set) o->depth = cuda ? 0 : 4;
    if (o->n_n == 0) s_n_list(cuda ? "1,3,8,16" : "1,3", o);
}

/* Returns 0, 1 (--help) or -1 (bad option, message printed). */
static int s_parse(int argc, char **argv, cn_bench_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        if (!v) return fprintf(stderr, "continuo-bench: %s needs a value\n", a), -1;
        i++;
        if (!strcmp(a, "--backend")) o->backend = v;
        else if (!strcmp(a, "--model")) {
            if (!s_known(v))
                return fprintf(stderr, "continuo-bench: --model %s: not a prior this bench "
                               "knows (see --help; the VQ-VAE is always measured)\n", v), -1;
            if (o->n_models == CN_BENCH_MAX_MODELS)
                return fprintf(stderr, "continuo-bench: at most %d --model\n",
                               CN_BENCH_MAX_MODELS), -1;
            o->models[o->n_models++] = v;
        } else if (!strcmp(a, "--depth")) o->depth = atoi(v), o->depth_set = 1;
        else if (!strcmp(a, "--n")) {
            if (s_n_list(v, o))
                return fprintf(stderr, "continuo-bench: --n %s: want up to %d numbers 1..256, "
                               "comma-separated\n", v, CN_BENCH_MAX_N), -1;
        } else if (!strcmp(a, "--steps")) o->steps = atoi(v);
        else if (!strcmp(a, "--graphs")) o->graphs = atoi(v) != 0;
        else if (!strcmp(a, "--pos")) o->pos = atoi(v);
        else if (!strcmp(a, "--layouts")) o->layouts = v;
        else if (!strcmp(a, "--tmp")) o->tmp = v;
        else if (!strcmp(a, "--peak-gbs")) o->peak_gbs = atof(v);
        else if (!strcmp(a, "--vq-seconds")) o->vq_seconds = atof(v);
        else if (!strcmp(a, "--song-seconds")) o->song_seconds = atof(v);
        else return fprintf(stderr, "continuo-bench: unknown option %s\n", a), -1;
    }
    if (o->steps < 1 || o->steps > 4096 || o->depth < 0 || o->vq_seconds < 0 ||
        o->song_seconds < 6)
        return fprintf(stderr, "continuo-bench: --steps 1..4096, --depth >= 0, --vq-seconds "
                       ">= 0 and --song-seconds >= 6 (one level-1 window) please\n"), -1;
    return 0;
}

static void s_heading(const cn_bench_opts *o, cn_backend *be, char *peak_src, size_t len,
                      cn_bench_opts *mut)
{
    char dev[256];
    cn_bench_device_name(o->backend, dev, sizeof dev);
    size_t fr = 0, tot = 0;
    be->ops->mem_info(be, &fr, &tot);
    printf("continuo-bench on %s (%s; %.1f GB free of %.1f GB)\n", o->backend, dev, fr / 1e9,
           tot / 1e9);
    if (!strcmp(o->backend, "cpu"))
        printf("host: %ld cores online, OPENBLAS_NUM_THREADS=%s\n", sysconf(_SC_NPROCESSORS_ONLN),
               getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)");
    static const char *envs[] = { "CN_CUDA_WEIGHTS", "CN_CUDA_GEMV_MAX_M",
                                  "CN_CUDA_WEIGHTS_MIN_ELEMS", "CN_CUDA_GEMV_BLOCKS_PER_SM",
                                  "CN_CUDA_FUSED", "CN_CUDA_GEMV_MIN_BYTES",
                                  "CN_CUDA_PERSISTENT", "CN_CUDA_PERSISTENT_BLOCKS_PER_SM",
                                  "CN_CUDA_PERSISTENT_PREFETCH_KB" };
    for (size_t i = 0; !strcmp(o->backend, "cuda") && i < sizeof envs / sizeof envs[0]; i++)
        if (getenv(envs[i])) printf("%s=%s\n", envs[i], getenv(envs[i]));
    if (o->peak_gbs > 0) snprintf(peak_src, len, "--peak-gbs");
    else mut->peak_gbs = cn_bench_device_peak(o->backend, peak_src, len);
    if (mut->peak_gbs > 0) printf("peak memory bandwidth: %.0f GB/s (%s)\n", mut->peak_gbs, peak_src);
    else printf("peak memory bandwidth: %s\n", peak_src);
    printf("random weights in the released layouts of %s; steps = cn_prior_step + device draw + "
           "token download, as the engine samples; %d timed steps after 2 untimed\n\n",
           o->layouts, o->steps);
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    cn_bench_opts o = { .backend = "cpu", .steps = 64, .pos = -1, .graphs = 1, .layouts = CN_BENCH_LAYOUTS,
                        .tmp = tmp && *tmp ? tmp : "/tmp", .vq_seconds = 4, .song_seconds = 60 };
    int rc = s_parse(argc, argv, &o);
    if (rc) {
        s_usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    s_defaults(&o);
    char err[512], peak_src[256];
    cn_backend *be = cn_backend_new(o.backend, err, sizeof err);
    if (!be) {
        fprintf(stderr, "continuo-bench: backend %s: %s\n", o.backend, err);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    s_heading(&o, be, peak_src, sizeof peak_src, &o);
    double decode_rt[3] = { 0 };
    int failed = 0;
    if (o.vq_seconds > 0 && cn_bench_vqvae(be, &o, decode_rt, err, sizeof err)) {
        printf("VQ-VAE: not measured: %s\n", err);
        failed++;
    }
    static cn_bench_model ms[CN_BENCH_MAX_MODELS];
    int k = 0;
    for (int i = 0; i < o.n_models; i++) {
        printf("\n== %s ==\n", o.models[i]);
        if (cn_bench_prior(be, &o, o.models[i], &ms[k], err, sizeof err)) {
            printf("  not measured: %s\n", err);
            failed++;
            continue;
        }
        cn_bench_print_model(&ms[k++], o.peak_gbs);
    }
    cn_bench_project(ms, k, &o, decode_rt);
    if (!strcmp(o.backend, "cpu")) printf("\npeak resident memory: %.2f GB\n", cn_bench_peak_rss() / 1e9);
    cn_backend_destroy(&be);
    return failed ? 1 : 0;
}
