/* SPDX-License-Identifier: MIT
 * LD_PRELOAD shim for the xrun benchmark: wraps a JACK host's process callback (jalv's) to
 * time every cycle (wall and thread CPU time: a wall time far above the CPU time is time the
 * thread was not running) and count the server's xruns; a thread of its own writes the figures
 * to the file named by CN_BENCH_CYCLES. The callback never prints, locks or allocates.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <jack/jack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*s_set_process_fn)(jack_client_t *, JackProcessCallback, void *);
typedef int (*s_set_xrun_fn)(jack_client_t *, JackXRunCallback, void *);

static JackProcessCallback s_real_cb;
static void *s_real_arg;
static atomic_llong s_cycles, s_worst_ns, s_total_ns, s_over_half, s_worst_cpu_ns;
static atomic_llong s_first_ns, s_worst_cpu_at_ns, s_cpu_over_1ms;
static atomic_int s_xruns;
static atomic_uint s_period;   /* frames per cycle, read in the callback */
static atomic_uint s_rate;

static int64_t s_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Returns 1 when v became the new maximum. */
static int s_max(atomic_llong *m, long long v)
{
    long long w = atomic_load(m);
    while (v > w)
        if (atomic_compare_exchange_weak(m, &w, v))
            return 1;
    return 0;
}

/* Realtime: the host's callback plus two clock reads and a few atomics. */
static int s_process(jack_nframes_t n, void *arg)
{
    (void)arg;
    int64_t a = s_ns(CLOCK_MONOTONIC), ac = s_ns(CLOCK_THREAD_CPUTIME_ID);
    int r = s_real_cb(n, s_real_arg);
    int64_t dc = s_ns(CLOCK_THREAD_CPUTIME_ID) - ac, d = s_ns(CLOCK_MONOTONIC) - a;
    atomic_fetch_add(&s_cycles, 1);
    atomic_fetch_add(&s_total_ns, d);
    s_max(&s_worst_ns, d);
    long long zero = 0;
    atomic_compare_exchange_strong(&s_first_ns, &zero, a);
    if (s_max(&s_worst_cpu_ns, dc))
        atomic_store(&s_worst_cpu_at_ns, a - atomic_load(&s_first_ns));
    if (dc > 1000000)
        atomic_fetch_add(&s_cpu_over_1ms, 1);
    unsigned rate = atomic_load(&s_rate);
    if (rate && d * 2 > (int64_t)n * 1000000000 / rate)
        atomic_fetch_add(&s_over_half, 1);
    atomic_store(&s_period, n);
    return r;
}

static int s_xrun(void *arg)
{
    (void)arg;
    atomic_fetch_add(&s_xruns, 1);
    return 0;
}

static void s_write(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    long long c = atomic_load(&s_cycles);
    fprintf(f, "cycles %lld worst_us %.1f worst_cpu_us %.1f worst_cpu_at_s %.2f cpu_over_1ms %lld "
            "mean_us %.2f over_half_period %lld xruns %d period %u\n", c,
            atomic_load(&s_worst_ns) / 1e3, atomic_load(&s_worst_cpu_ns) / 1e3,
            atomic_load(&s_worst_cpu_at_ns) / 1e9, atomic_load(&s_cpu_over_1ms),
            c ? atomic_load(&s_total_ns) / 1e3 / c : 0.0,
            atomic_load(&s_over_half), atomic_load(&s_xruns), atomic_load(&s_period));
    fclose(f);
    rename(tmp, path);
}

static void *s_writer(void *arg)
{
    const char *path = arg;
    for (;;) {
        s_write(path);
        usleep(200000);
    }
    return NULL;
}

/* Wrapped: registers our timing callback around the host's, and an xrun counter. */
int jack_set_process_callback(jack_client_t *client, JackProcessCallback cb, void *arg)
{
    s_set_process_fn real = (s_set_process_fn)dlsym(RTLD_NEXT, "jack_set_process_callback");
    s_set_xrun_fn real_xrun = (s_set_xrun_fn)dlsym(RTLD_NEXT, "jack_set_xrun_callback");
    const char *path = getenv("CN_BENCH_CYCLES");
    if (!real || !path || s_real_cb)   /* one client per process is timed */
        return real ? real(client, cb, arg) : 1;
    s_real_cb = cb;
    s_real_arg = arg;
    atomic_store(&s_rate, jack_get_sample_rate(client));
    if (real_xrun)
        real_xrun(client, s_xrun, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, s_writer, (void *)path) == 0)
        pthread_detach(th);
    return real(client, s_process, NULL);
}
