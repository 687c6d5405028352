/* SPDX-License-Identifier: MIT
 * Bad input: empty and too-long captures, helper unreachable or hung, an over-long property,
 * and host rates other than 44.1 kHz (the prompt and candidates are resampled). Each shows a
 * status text and the error control; the plugin never hangs and never plays garbage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core.h"
#include "harness.h"

#define BLOCK 512

static long s_trigger(th *t, int port)
{
    long since = t->status_seq;
    th_set(t, port, 1);
    th_block(t);
    th_set(t, port, 0);
    return since;
}

static void s_capture(th *t, double seconds)
{
    th_locate(t, 0, 1);
    th_set(t, CN_CAPTURE, 1);
    int n = (int)(seconds * t->rate / BLOCK);
    for (int b = 0; b < n; b++) {
        for (int i = 0; i < BLOCK; i++)
            t->in[0][i] = t->in[1][i] = 0.3f * sinf((float)(b * BLOCK + i) * 0.05f);
        th_block(t);
    }
    th_set(t, CN_CAPTURE, 0);
}

/* Output equals the dry input (silence here) over `blocks`: nothing is played. */
static bool s_silent(th *t, int blocks)
{
    memset(t->in, 0, sizeof t->in);
    double peak = 0;
    for (int b = 0; b < blocks; b++) {
        th_block(t);
        peak = fmax(peak, th_peak(t->out[0], BLOCK));
    }
    return peak == 0.0;
}

static void s_rate(cn_check *c, double rate, const char *dir)
{
    th t;
    char d[400], what[100];
    if (th_open(&t, rate, BLOCK, dir))
        return;
    cn_host_send_set(t.h, CN__endpoint, false, "test:1");
    th_block(&t);
    s_capture(&t, 1.0);
    int64_t end = (int64_t)(1.0 * rate / BLOCK) * BLOCK;
    long s0 = s_trigger(&t, CN_GENERATE);
    bool ok = th_wait(&t, CN_READY, 3, 30, s0, "ready at step 1");
    th_locate(&t, end, 1);
    int blocks = (int)(1.0 * rate / BLOCK);
    float *rec = calloc((size_t)blocks * BLOCK, sizeof(float));
    memset(t.in, 0, sizeof t.in);
    for (int b = 0; b < blocks; b++) {
        th_block(&t);
        memcpy(rec + (size_t)b * BLOCK, t.out[0], BLOCK * sizeof(float));
    }
    double f = th_freq(rec + BLOCK, (int64_t)(blocks - 1) * BLOCK, rate);
    snprintf(what, sizeof what, "host at %.0f Hz: prompt and candidate resampled", rate);
    snprintf(d, sizeof d, "candidate 1 plays at %.1f Hz (want 220), \"%.300s\"", f, t.status);
    cn_check_true(c, what, ok && fabs(f - 220) < 5, d);
    free(rec);
    th_close(&t);
}

int main(void)
{
    cn_check c = { 0 };
    char dir[256], d[700];
    snprintf(dir, sizeof dir, "/tmp/continuo-bad-%d", (int)getpid());
    th t;
    if (th_open(&t, 48000, BLOCK, dir))
        return 1;
    cn_host_send_set(t.h, CN__endpoint, false, "test:1");
    th_block(&t);

    long s0 = s_trigger(&t, CN_GENERATE);
    bool ok = th_wait(&t, CN_ERROR, 1, 5, s0, "capture is empty");
    snprintf(d, sizeof d, "error %.0f, \"%s\"", th_get(&t, CN_ERROR), t.status);
    cn_check_true(&c, "Generate with nothing captured: status and error", ok, d);

    s_capture(&t, 25.0);
    s0 = s_trigger(&t, CN_GENERATE);
    ok = th_wait(&t, CN_ERROR, 1, 10, s0, "the model takes at most 23.8 s");
    snprintf(d, sizeof d, "\"%s\"", t.status);
    cn_check_true(&c, "a 25 s capture is refused with both lengths named",
                  ok && strstr(t.status, "capture is 25.0 s"), d);
    cn_check_true(&c, "nothing plays after a refused capture", s_silent(&t, 50), "");

    s0 = t.status_seq;
    cn_host_send_set(t.h, CN__endpoint, false, "test:down");
    ok = th_wait(&t, CN_ERROR, 1, 10, s0, "helper down");
    snprintf(d, sizeof d, "status %.0f, \"%s\"", th_get(&t, CN_STATUS), t.status);
    cn_check_true(&c, "helper unreachable: status says so", ok &&
                  (int)th_get(&t, CN_STATUS) == CN_ST_HELPER_DOWN, d);
    s_capture(&t, 1.0);
    s0 = s_trigger(&t, CN_GENERATE);
    ok = th_wait(&t, CN_ERROR, 1, 10, s0, "did not answer");
    snprintf(d, sizeof d, "\"%s\"", t.status);
    cn_check_true(&c, "Generate with the helper down: refused, nothing hangs", ok, d);

    s0 = t.status_seq;
    cn_host_send_set(t.h, CN__endpoint, false, "test:hang");
    th_wait(&t, CN_STATUS, 0, 5, s0, "connected");
    s_capture(&t, 1.0);
    s0 = s_trigger(&t, CN_GENERATE);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    bool quiet = s_silent(&t, 200);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = ((double)(b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) * 1e-6) / 200;
    snprintf(d, sizeof d, "%.3f ms per block of %d frames while the helper hangs, \"%s\"",
             ms, BLOCK, t.status);
    cn_check_true(&c, "helper hung: run() goes on, plays nothing", quiet && ms < 5, d);

    char *big = malloc(5000);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    s0 = t.status_seq;
    cn_host_send_set(t.h, CN__lyrics, false, big);
    free(big);
    ok = th_wait(&t, CN_ERROR, 1, 5, s0, "lyrics is 4999 bytes; at most 4095");
    snprintf(d, sizeof d, "\"%s\"", t.status);
    cn_check_true(&c, "5000-byte lyrics refused (limit 4095)", ok, d);
    th_close(&t);

    s_rate(&c, 44100, dir);
    s_rate(&c, 96000, dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return cn_check_finish(&c);
}
