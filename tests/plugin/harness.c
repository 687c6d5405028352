/* SPDX-License-Identifier: MIT
 * The test harness: a cn_host with blocks of audio, transport and the rt guard. Only run()
 * is guarded; the harness itself allocates freely between blocks.
 */
#include "harness.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

static void s_on_prop(void *user, const char *uri, const char *val)
{
    th *t = user;
    if (!strcmp(uri, CN__statusText)) {
        snprintf(t->status, sizeof t->status, "%s", val);
        t->status_seq++;
    }
    snprintf(t->last_prop_uri, sizeof t->last_prop_uri, "%s", uri);
    snprintf(t->last_prop_val, sizeof t->last_prop_val, "%s", val);
}

int th_open(th *t, double rate, uint32_t block, const char *state_dir)
{
    memset(t, 0, sizeof *t);
    const char *bundle = getenv("CN_PLUGIN_BUNDLE");
    if (!bundle) {
        fprintf(stderr, "set CN_PLUGIN_BUNDLE to the built continuo.lv2 folder\n");
        return -1;
    }
    char so[1024], b[1024], err[1024];
    snprintf(so, sizeof so, "%s/continuo.so", bundle);
    snprintf(b, sizeof b, "%s/", bundle);
    cn_host_cfg cfg = { NULL, so, b, rate, block, state_dir, false };
    t->h = cn_host_new(&cfg, err, sizeof err);
    if (!t->h) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    t->rate = rate;
    t->block = block;
    t->guard = (void (*)(int))dlsym(RTLD_DEFAULT, "cn_rt_guard");
    for (int c = 0; c < 2; c++) {
        cn_host_connect_audio(t->h, CN_IN_L + c, t->in[c]);
        cn_host_connect_audio(t->h, CN_OUT_L + c, t->out[c]);
    }
    /* Defaults from the ttl. */
    th_set(t, CN_CANDIDATE, 1);
    th_set(t, CN_N, 3);
    th_set(t, CN_SECONDS, 4);
    th_set(t, CN_TEMPERATURE, 0.99f);
    th_set(t, CN_MIX, 0.5f);
    th_set(t, CN_SONG_SECONDS, 180);
    t->speed = 1;
    t->send_pos = true;
    return 0;
}

void th_close(th *t)
{
    cn_host_free(&t->h);
}

void th_locate(th *t, int64_t frame, float speed)
{
    t->frame = frame;
    t->speed = speed;
    t->send_pos = true;
}

void th_block(th *t)
{
    if (t->send_pos)
        cn_host_send_position(t->h, 0, t->frame, t->speed);
    t->send_pos = false;
    if (t->guard)
        t->guard(1);
    cn_host_run(t->h, t->block);
    if (t->guard)
        t->guard(0);
    t->guarded_runs++;
    if (t->speed > 0)
        t->frame += t->block;
    cn_host_idle(t->h, s_on_prop, t);
}

float th_get(th *t, int port) { return *cn_host_ctl(t->h, (uint32_t)port); }
void th_set(th *t, int port, float v) { *cn_host_ctl(t->h, (uint32_t)port) = v; }

bool th_wait(th *t, int port, float value, double seconds, long since, const char *text)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    memset(t->in, 0, sizeof t->in);
    for (;;) {
        th_block(t);
        if (th_get(t, port) >= value && t->status_seq > since && strstr(t->status, text))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &b);
        if ((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9 > seconds)
            return false;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
}

double th_freq(const float *x, int64_t n, double rate)
{
    int64_t z = 0;
    for (int64_t i = 1; i < n; i++)
        z += (x[i - 1] < 0) != (x[i] < 0);
    return n > 1 ? 0.5 * (double)z * rate / (double)(n - 1) : 0;
}

double th_peak(const float *x, int64_t n)
{
    double p = 0;
    for (int64_t i = 0; i < n; i++)
        p = fmax(p, fabs(x[i]));
    return p;
}
