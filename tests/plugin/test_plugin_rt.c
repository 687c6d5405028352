/* SPDX-License-Identifier: MIT
 * The whole loop through continuo.lv2 in a lilv-free host, with malloc/free/locks/sleeps/
 * I/O counted inside run() by the LD_PRELOAD shim: capture, Generate, candidates in place,
 * Audition, Continue, Back, Run again, Upsample, clip files. Uses the "test:" loopback helper.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core.h"
#include "harness.h"

#define RATE 48000.0
#define BLOCK 256

static int s_count_wavs(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, ".wav") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* Runs `blocks` blocks from the current position, keeping channel 0 of the output. */
static void s_record(th *t, float *dst, int blocks)
{
    memset(t->in, 0, sizeof t->in);
    for (int b = 0; b < blocks; b++) {
        th_block(t);
        memcpy(dst + (size_t)b * BLOCK, t->out[0], BLOCK * sizeof(float));
    }
}

static void s_tone_check(cn_check *c, const char *what, const float *x, int64_t n,
                         double hz, double peak)
{
    char d[200];
    double f = th_freq(x, n, RATE), p = th_peak(x, n);
    snprintf(d, sizeof d, "frequency %.1f Hz (want %.0f +-3%%), peak %.3f (want %.3f +-0.02)",
             f, hz, p, peak);
    cn_check_true(c, what, fabs(f - hz) < 0.03 * hz && fabs(p - peak) < 0.02, d);
}

static long s_trigger(th *t, int port)
{
    long since = t->status_seq;
    th_set(t, port, 1);
    th_block(t);
    th_set(t, port, 0);
    return since;
}

int main(void)
{
    cn_check c = { 0 };
    void (*reset)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "cn_rt_reset");
    long (*report)(char *, size_t) = (long (*)(char *, size_t))dlsym(RTLD_DEFAULT,
                                                                      "cn_rt_report");
    void (*guard)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "cn_rt_guard");
    if (!cn_check_true(&c, "rt shim preloaded", reset && report && guard,
                       "run with LD_PRELOAD=librt_shim.so"))
        return cn_check_finish(&c);
    /* Positive control: the shim does see a malloc and a lock under the guard. */
    char rep[512];
    reset();
    guard(1);
    void *volatile p = malloc(16);
    free(p);
    guard(0);
    long seen = report(rep, sizeof rep);
    cn_check_true(&c, "shim counts malloc+free under the guard", seen == 2, rep);
    reset();

    char dir[256], clips[300], state[300];
    snprintf(dir, sizeof dir, "/tmp/continuo-rt-%d", (int)getpid());
    snprintf(clips, sizeof clips, "%s/clips", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    th t;
    if (th_open(&t, RATE, BLOCK, state))
        return 1;
    cn_host_send_set(t.h, CN__endpoint, false, "test:20");
    cn_host_send_set(t.h, CN__clipsDir, true, clips);
    cn_host_send_set(t.h, CN__artist, false, "tester");
    cn_host_send_get(t.h);
    th_block(&t);
    cn_check_true(&c, "patch:Get answers with the properties",
                  strstr(t.last_prop_uri, "#clipsDir") || strstr(t.last_prop_uri, "#"),
                  t.last_prop_uri);

    /* Capture 2 s of a 440 Hz tone at 0.5 from frame 0. */
    th_locate(&t, 0, 1);
    th_set(&t, CN_CAPTURE, 1);
    int cap_blocks = (int)(2.0 * RATE / BLOCK);
    for (int b = 0; b < cap_blocks; b++) {
        for (int i = 0; i < BLOCK; i++)
            t.in[0][i] = t.in[1][i] = 0.5f * sinf(2 * (float)M_PI * 440.0f *
                                                  (float)(b * BLOCK + i) / (float)RATE);
        th_block(&t);
    }
    th_set(&t, CN_CAPTURE, 0);
    int64_t region_end = (int64_t)cap_blocks * BLOCK;
    char d[600];
    snprintf(d, sizeof d, "captured %.3f s", th_get(&t, CN_CAPTURED));
    cn_check_true(&c, "capture holds the 2 s region",
                  fabs(th_get(&t, CN_CAPTURED) - region_end / RATE) < 1e-3, d);

    long s0 = s_trigger(&t, CN_GENERATE);
    bool ok = th_wait(&t, CN_READY, 3, 30, s0, "ready at step 1");
    snprintf(d, sizeof d, "ready %.0f, status %.0f \"%s\"", th_get(&t, CN_READY),
             th_get(&t, CN_STATUS), t.status);
    cn_check_true(&c, "Generate: 3 candidates arrive", ok, d);

    /* In place: play from 0.5 s before the region end. */
    int pre = (int)(0.5 * RATE / BLOCK), blocks = pre + (int)(2.0 * RATE / BLOCK);
    float *rec = calloc((size_t)blocks * BLOCK, sizeof(float));
    int64_t start = region_end - (int64_t)pre * BLOCK;
    th_locate(&t, start, 1);
    s_record(&t, rec, blocks);
    int64_t first = -1;
    for (int64_t i = 0; i < (int64_t)blocks * BLOCK && first < 0; i++)
        if (fabsf(rec[i]) > 1e-3f)
            first = start + i;
    snprintf(d, sizeof d, "first sound at frame %lld, region end %lld", (long long)first,
             (long long)region_end);
    cn_check_true(&c, "candidate starts at the region end", first >= region_end &&
                  first <= region_end + 8, d);
    s_tone_check(&c, "candidate 1 in place is its 220 Hz tone at the host rate",
                 rec + pre * BLOCK + 4800, 48000, 220, 0.25);

    /* Audition candidate 2 with the transport stopped. */
    th_locate(&t, start, 0);
    th_set(&t, CN_CANDIDATE, 2);
    th_block(&t);
    th_set(&t, CN_AUDITION, 1);
    s_record(&t, rec, 100);
    th_set(&t, CN_AUDITION, 0);
    s_tone_check(&c, "Audition plays candidate 2 (440 Hz) at once", rec + 512, 100 * BLOCK - 512,
                 440, 0.25);

    /* Continue with candidate 2: the new path is candidate 2, then the new candidate. */
    s0 = s_trigger(&t, CN_CONTINUE);
    ok = th_wait(&t, CN_READY, 3, 30, s0, "ready at step 2");
    snprintf(d, sizeof d, "ready %.0f, \"%s\"", th_get(&t, CN_READY), t.status);
    cn_check_true(&c, "Continue: 3 new candidates", ok, d);
    th_set(&t, CN_CANDIDATE, 1);
    int long_blocks = (int)(6.0 * RATE / BLOCK);
    float *rec2 = calloc((size_t)long_blocks * BLOCK, sizeof(float));
    th_locate(&t, region_end, 1);
    s_record(&t, rec2, long_blocks);
    s_tone_check(&c, "continued path: chosen candidate 2 first", rec2 + 48000, 48000, 440,
                 0.25);
    s_tone_check(&c, "continued path: new candidate 1 after 4 s", rec2 + 4 * 48000 + 4800,
                 48000, 220, 0.25);

    s0 = s_trigger(&t, CN_BACK);
    ok = th_wait(&t, CN_READY, 3, 10, s0, "back at step 1");
    snprintf(d, sizeof d, "\"%s\"", t.status);
    cn_check_true(&c, "Back: the first step's candidates again", ok, d);

    s0 = s_trigger(&t, CN_RERUN);
    ok = th_wait(&t, CN_READY, 3, 30, s0, "ready at step 1");
    snprintf(d, sizeof d, "\"%s\"", t.status);
    cn_check_true(&c, "Run again: 3 new candidates", ok, d);

    s0 = t.status_seq;
    th_set(&t, CN_UPSAMPLE, 1);
    th_block(&t);
    ok = th_wait(&t, CN_READY, 1, 30, s0, "upsampled");
    snprintf(d, sizeof d, "\"%s\"", t.status);
    cn_check_true(&c, "Upsample to level 1 finishes", ok, d);
    th_locate(&t, region_end, 1);
    s_record(&t, rec2, 200);
    s_tone_check(&c, "upsampled result plays in place (330 Hz)", rec2 + 4800, 40000, 330, 0.2);

    cn_host_flush_worker(t.h);
    int in_state = s_count_wavs(state), in_clips = s_count_wavs(clips);
    snprintf(d, sizeof d, "%d WAVs in the state folder, %d in the clips folder (want >= 10)",
             in_state, in_clips);
    cn_check_true(&c, "every candidate and result is a clip file", in_state >= 10 &&
                  in_clips >= 10, d);

    long bad = report(rep, sizeof rep);
    snprintf(d, sizeof d, "%ld guarded run() calls; forbidden calls: %s", t.guarded_runs,
             bad ? rep : "none");
    cn_check_true(&c, "run() never allocates, frees, locks, sleeps, prints or does I/O",
                  bad == 0, d);
    printf("%s\n", d);
    th_close(&t);
    free(rec);
    free(rec2);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return cn_check_finish(&c);
}
