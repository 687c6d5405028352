/* SPDX-License-Identifier: MIT
 * A TEST DOUBLE of the engine for the helper's tests: deterministic codes and audio from
 * hashes, tiny timing ranges like the golden 5b prior, and a settable delay per sampling step.
 * It is not the engine and must never be linked into continuo-helper.
 */
#ifndef CN_FAKE_RUNNER_H
#define CN_FAKE_RUNNER_H

#include "jobs.h"

typedef struct fake_engine {
    int step_us;          /* sleep per sampled code (to test cancel, kills, fairness) */
    int calls_sample;     /* how many sample_level calls ran */
    int lose_device_after;/* > 0: sample_level call N+1 fails after two steps as after a
                             sticky device error, and device_lost says so from then on */
    int lost;
} fake_engine;

/* Fills r with the double; hops 8/32/128, n_ctx 32/32/72, vocab 64, songs 0.25 to 2.0 s,
 * artists "unknown" and "alan_jackson", genres "unknown" and "country". */
void fake_runner(cn_runner *r, fake_engine *e);

#endif
