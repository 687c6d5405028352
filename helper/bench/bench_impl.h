/* SPDX-License-Identifier: MIT
 * continuo-bench internals shared by its files (the engine's prior API plus the loop timer).
 * Never included outside helper/bench.
 */
#ifndef CN_BENCH_IMPL_H
#define CN_BENCH_IMPL_H

#include "bench.h"
#include "prior.h"

/* Times N items (on the wrapped backend the prior was opened on) at code position pos0 for `steps` steps (cn_bench_step filled; ok = 0 with
 * the reason when the state does not fit or a call fails). base_free: backend free bytes
 * before the model was loaded (memory figures are relative to it). */
void cn_bench_loop(cn_bench_wrap *w, cn_prior *p, int N, int pos0, int steps, int graphs,
                   double base_free,
                   cn_bench_step *r);

/* hop_fraction of the reference's sampling command lines (levels 0, 1, 2). */
static inline double cn_bench_hop_fraction(int level)
{
    return level >= 2 ? 0.125 : 0.5;
}

#endif
