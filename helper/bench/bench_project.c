/* SPDX-License-Identifier: MIT
 * From measured step, prime and begin times to audio: GPU seconds per second of audio at each
 * level and a whole song rendered by the engine's window planner (top prior + both upsamplers).
 * Never measures: a model missing or not at full depth means no projection, said so.
 */
#include "bench_impl.h"

#include <stdio.h>
#include <string.h>

#include "windows.h"

static const cn_bench_step *s_step_of(const cn_bench_model *m, int n)
{
    for (int i = 0; m && i < m->n_s; i++)
        if (m->s[i].n == n && m->s[i].ok) return &m->s[i];
    return NULL;
}

static const cn_bench_model *s_level(const cn_bench_model *ms, int k, int level)
{
    for (int i = 0; i < k; i++)
        if (ms[i].level == level && ms[i].depth == ms[i].full_depth) return &ms[i];
    return NULL;
}

/* Seconds the engine's plan for one level takes: begins, primes and steps, each summed. */
static int s_level_cost(const cn_bench_model *m, const cn_bench_step *s, int64_t sample_len,
                        int64_t above_len, double out[4], int64_t *windows, int64_t *tokens)
{
    cn_window_plan_cfg c = { 0 };
    c.level = m->level;
    c.n_ctx = m->n_ctx;
    c.raw_to_tokens = m->hop;
    c.total_length = sample_len / m->hop;
    c.hop_length = m->hop_length;
    c.cond_ratio = m->level < 2 ? 4 : 0;
    c.above_len = m->level < 2 ? above_len : -1;
    c.song_total_length = sample_len;
    c.n_tokens = m->n_tokens;
    c.n_lyric = m->n_tokens > 0 ? 4096 : 0;
    cn_window_plan p;
    char err[256];
    if (cn_window_plan_make(&c, &p, err, sizeof err)) {
        printf("  level %d: no plan: %s\n", m->level, err);
        return -1;
    }
    memset(out, 0, 4 * sizeof *out);
    int64_t primed = 0;
    for (int64_t i = 0; i < p.n; i++) {
        if (!p.w[i].sampled) continue;
        out[0] += s->begin_s;
        out[1] += (double)p.w[i].existing * s->prime_s_per_pos;
        out[2] += (double)p.w[i].new_tokens * s->step_mean_s;
        primed += p.w[i].existing;
    }
    out[3] = (double)p.new_total;
    *windows = p.n_sampled;
    *tokens = primed;
    cn_window_plan_free(&p);
    return 0;
}

static void s_per_audio_second(const cn_bench_model *ms, int k, const cn_bench_opts *o)
{
    printf("\nBackend seconds per second of audio = mean step time x tokens per audio second "
           "(44100/hop)"
           ";\n  each token is sampled once: windows overlap (hop fraction 0.5, 0.5, 0.125 at "
           "levels 0, 1, 2) but the overlap is primed, not re-sampled (priming: see the song)\n");
    for (int i = 0; i < k; i++) {
        const cn_bench_model *m = &ms[i];
        double tps = 44100.0 / m->hop;
        printf("  %-18s level %d, %7.1f tokens/s:", m->name, m->level, tps);
        for (int j = 0; j < o->n_n; j++) {
            const cn_bench_step *s = s_step_of(m, o->n_list[j]);
            if (s) printf("  N=%d %.2f s/s (%.2f per item)", s->n, s->step_mean_s * tps,
                          s->step_mean_s * tps / s->n);
        }
        printf("\n");
    }
}

static void s_song(const cn_bench_model *top, const cn_bench_model *u1,
                   const cn_bench_model *u0, int n, const cn_bench_opts *o,
                   const double decode_rt[3])
{
    const cn_bench_model *lv[3] = { top, u1, u0 };
    const cn_bench_step *st[3] = { s_step_of(top, n), s_step_of(u1, n), s_step_of(u0, n) };
    if (!st[0] || !st[1] || !st[2]) return;
    int64_t sample_len = (int64_t)(o->song_seconds * 44100) / 128 * 128;
    printf("\nProjected %.1f s song (%lld samples), N = %d, %s + upsampler_level_1 + "
           "upsampler_level_0, windows from the engine's planner:\n", o->song_seconds,
           (long long)sample_len, n, top->name);
    double total = 0, floor_total = 0;
    for (int l = 0; l < 3; l++) {
        double c[4];
        int64_t windows = 0, primed = 0;
        if (s_level_cost(lv[l], st[l], sample_len, sample_len / lv[l > 0 ? l - 1 : 0]->hop,
                         c, &windows, &primed))
            return;
        double t = c[0] + c[1] + c[2];
        printf("  %-18s %3lld windows, %7.0f tokens sampled, %8lld positions primed: steps "
               "%7.1f s + primes %6.1f s + begins %5.1f s = %7.1f s\n", lv[l]->name,
               (long long)windows, c[3], (long long)primed, c[2], c[1], c[0], t);
        total += t;
        floor_total += o->peak_gbs > 0 ? c[3] * lv[l]->step_bytes / (o->peak_gbs * 1e9) : 0;
    }
    double dec = decode_rt[0] > 0 ? n * (double)sample_len / 44100 / decode_rt[0] : 0;
    if (dec > 0) printf("  VQ-VAE decode of level 0 (%d item%s): %.1f s\n", n, n > 1 ? "s" : "",
                        dec);
    total += dec;
    printf("  total %.1f s = %.2f min", total, total / 60);
    if (floor_total > 0) printf(" (sampling steps at the weight-read floor alone: %.1f s)",
                                floor_total);
    printf("; issue 5's target for one 60 s song on an H100: under 6 min\n");
}

void cn_bench_project(const cn_bench_model *ms, int k, const cn_bench_opts *o,
                      const double decode_rt[3])
{
    s_per_audio_second(ms, k, o);
    const cn_bench_model *u1 = s_level(ms, k, 1), *u0 = s_level(ms, k, 0);
    int any = 0;
    for (int i = 0; i < k; i++) {
        if (ms[i].level != 2 || ms[i].depth != ms[i].full_depth || !u1 || !u0) continue;
        for (int j = 0; j < o->n_n; j++) s_song(&ms[i], u1, u0, o->n_list[j], o, decode_rt);
        any = 1;
    }
    if (!any)
        printf("\nNo song projection: it needs a top prior and both upsamplers at the released "
               "depth (--backend cuda measures them; --depth 0 = released depth)\n");
}
