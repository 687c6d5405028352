/* SPDX-License-Identifier: MIT
 * Benchmark: thread CPU time spent in continuo.lv2's run() per second of 48 kHz stereo audio,
 * block 256, while passing through, capturing, and playing a candidate in place (test link).
 * Prints a ratio (CPU time / audio time) measured in one run; not a pass/fail test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "harness.h"

#define RATE 48000.0
#define BLOCK 256

static double s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Seconds of audio through run() only (idle and worker excluded), returns CPU s per audio s;
 * *worst gets the longest single run() call in CPU seconds. */
static double s_measure(th *t, double seconds, double *worst)
{
    int blocks = (int)(seconds * RATE / BLOCK);
    double cpu = 0;
    *worst = 0;
    for (int b = 0; b < blocks; b++) {
        for (int i = 0; i < BLOCK; i++)
            t->in[0][i] = t->in[1][i] = 0.1f * (float)((b * BLOCK + i) % 100) / 100.0f;
        cn_host_send_position(t->h, 0, t->frame, 1);
        double a = s_cpu();
        cn_host_run(t->h, BLOCK);
        double d = s_cpu() - a;
        cpu += d;
        if (d > *worst)
            *worst = d;
        t->frame += BLOCK;
        cn_host_idle(t->h, NULL, NULL);
    }
    return cpu / ((double)blocks * BLOCK / RATE);
}

int main(void)
{
    th t;
    if (th_open(&t, RATE, BLOCK, "/tmp/continuo-bench"))
        return 1;
    cn_host_send_set(t.h, CN__endpoint, false, "test:1");
    th_block(&t);
    double wp, wc, wq;
    double pass = s_measure(&t, 20, &wp);
    th_locate(&t, 0, 1);
    th_set(&t, CN_CAPTURE, 1);
    th_block(&t);
    double cap = s_measure(&t, 10, &wc);
    th_set(&t, CN_CAPTURE, 0);
    th_set(&t, CN_GENERATE, 1);
    th_block(&t);
    th_set(&t, CN_GENERATE, 0);
    th_wait(&t, CN_READY, 3, 30, 0, "ready at step 1");
    th_set(&t, CN_SECONDS, 4);
    t.frame = (int64_t)(10 * RATE / BLOCK) * BLOCK;   /* the region end */
    double play = s_measure(&t, 4, &wq);
    printf("run() CPU time per second of 48 kHz stereo (block %d):\n", BLOCK);
    printf("  passthrough        %8.3f ms/s  (%.4f%% of one core)  longest call %.1f us\n",
           pass * 1e3, pass * 100, wp * 1e6);
    printf("  capturing          %8.3f ms/s  (%.4f%%)  longest call %.1f us\n", cap * 1e3,
           cap * 100, wc * 1e6);
    printf("  candidate in place %8.3f ms/s  (%.4f%%)  longest call %.1f us\n", play * 1e3,
           play * 100, wq * 1e6);
    printf("  (one block of %d frames lasts %.0f us)\n", BLOCK, BLOCK / RATE * 1e6);
    th_close(&t);
    if (system("rm -rf /tmp/continuo-bench")) {}
    return 0;
}
