/* SPDX-License-Identifier: MIT
 * Prints a model's measured table (step time, bandwidth against the weight-read floor, memory)
 * and turns step times into GPU seconds per audio second. Never measures anything itself.
 */
#include "bench_impl.h"

#include <stdio.h>
#include <string.h>

void cn_bench_print_model(const cn_bench_model *m, double peak_gbs)
{
    printf("%s: level %d, n_ctx %d", m->name, m->level, m->n_ctx);
    if (m->prefix > 0) printf(" + %d lyric-prefix positions", m->prefix);
    else if (m->n_tokens > 0) printf(", %d lyric tokens (encoder)", m->n_tokens);
    printf(", width %d, heads %d, depth %d", m->width, m->heads, m->depth);
    if (m->full_depth && m->depth != m->full_depth) printf(" (released: %d)", m->full_depth);
    printf(", prime chunk %d\n", m->chunk);
    printf("  backend memory after loading %.3f GB (load %.1f s); one decode step reads %.3f GB "
           "of weights (transformer layers + output matrix, as stored on the backend)\n",
           m->weight_bytes / 1e9, m->load_s, m->step_bytes / 1e9);
    double floor_s = peak_gbs > 0 ? m->step_bytes / (peak_gbs * 1e9) : 0;
    if (floor_s > 0) printf("  weight-read floor: %.3f ms per step at %.0f GB/s\n", floor_s * 1e3,
                            peak_gbs);
    int dev = m->n_s > 0 && m->s[0].dev_used_bytes > 0;
    printf("     N  at pos  step ms  mean ms  tokens/s  read GB/s%s  begin s  prime tok/s  state GB"
           "  peak GB%s\n", floor_s > 0 ? "  %peak  x floor" : "", dev ? "  device GB" : "");
    for (int i = 0; i < m->n_s; i++) {
        const cn_bench_step *s = &m->s[i];
        if (!s->ok) {
            printf("  %4d  not measured: %s\n", s->n, s->why);
            continue;
        }
        double gbs = m->step_bytes / s->step_s / 1e9;
        printf("  %4d  %6d  %7.3f  %7.3f  %8.1f  %9.1f", s->n, s->pos0, s->step_s * 1e3,
               s->step_mean_s * 1e3, s->n / s->step_s, gbs);
        if (floor_s > 0)
            printf("  %5.1f  %6.2f%s", 100 * gbs / peak_gbs, s->step_s / floor_s,
                   s->step_s / floor_s <= 1.3 ? " " : "!");
        printf("  %7.3f", s->begin_s);
        if (s->prime_s_per_pos > 0) printf("  %11.0f", s->n / s->prime_s_per_pos);
        else printf("  %11s", "-");
        printf("  %8.3f  %7.3f", s->state_bytes / 1e9, s->peak_bytes / 1e9);
        if (dev) printf("  %9.3f", s->dev_used_bytes / 1e9);
        printf("\n");
    }
    printf("  (step ms = median step; tokens/s, bandwidth and floor from it; the audio figures "
           "and the song use the mean)\n");
    printf("  (state = cache + scratch of the sampling state; peak = most backend memory the "
           "model code held: weights + state + per-call scratch%s)\n",
           dev ? "; device = mem_info's used memory against free before loading" : "");
    if (floor_s > 0) printf("  (! = more than 1.3x the weight-read floor, the issue's target)\n");
}
