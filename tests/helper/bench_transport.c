/* SPDX-License-Identifier: MIT
 * cn-bench-helper: request round-trip time and audio throughput through a real helper (server
 * I/O thread, session log, store) and the client library, over ipc:// and tcp:// loopback, in
 * one run so the two are compared on the same machine. Not a test; prints figures.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htest.h"

typedef struct s_fig {
    double rtt_us_median, rtt_us_p99, mb_s;
} s_fig;

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static s_fig s_measure(const char *ep, const char *node, int n_rtt, int n_audio, int64_t bytes)
{
    s_fig f = {0};
    cn_client *c = ht_client(ep, "bench");
    if (!c) return f;
    char err[512];
    double *t = malloc((size_t)n_rtt * sizeof *t);
    for (int i = 0; i < n_rtt; i++) {   /* tree of an unknown composition: an error reply */
        ht_rec r;
        ht_rec_init(&r);
        double t0 = ht_now();
        ht_wait(c, cn_client_tree(c, "c0", err, sizeof err), &r, 5000);
        t[i] = (ht_now() - t0) * 1e6;
    }
    qsort(t, (size_t)n_rtt, sizeof *t, s_cmp);
    f.rtt_us_median = t[n_rtt / 2];
    f.rtt_us_p99 = t[n_rtt * 99 / 100];
    free(t);
    double t0 = ht_now();
    for (int i = 0; i < n_audio; i++) {
        ht_rec r;
        ht_rec_init(&r);
        ht_wait(c, cn_client_audio(c, node, 2, err, sizeof err), &r, 20000);
        if (r.n_audio * 4 != bytes) fprintf(stderr, "short audio: %lld\n", (long long)r.n_audio);
        ht_rec_free(&r);
    }
    f.mb_s = (double)bytes * n_audio / (ht_now() - t0) / 1e6;
    cn_client_close(&c);
    return f;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 60;
    char dir[512], store[600], err[512];
    ht_tmpdir(dir, sizeof dir, "bench");
    snprintf(store, sizeof store, "%s/store", dir);
    cn_store *st;
    if (cn_store_open(&st, store, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    cn_store_comp comp = {0};
    int32_t codes[4] = {1, 2, 3, 4};
    cn_store_new_composition(st, &comp, codes, 4, err, sizeof err);
    int64_t n = (int64_t)(seconds * 44100);
    float *audio = ht_sine(seconds, 44100, &n);
    cn_store_put_audio(st, comp.root, 2, audio, n, err, sizeof err);
    free(audio);
    cn_store_close(&st);
    fake_engine fe = {0};
    cn_runner run;
    fake_runner(&run, &fe);
    cn_server_config cfg = {0};
    cfg.max_message_bytes = 1u << 30;
    cfg.session_buffer_bytes = 64u << 20;
    cn_server *s = ht_server(&run, dir, store, &cfg);
    s_fig ipc = s_measure(cn_server_endpoint(s), comp.root, 2000, 20, n * 4);
    cn_server_stop(&s);
    cfg.endpoint = "tcp://127.0.0.1:0";
    s = ht_server(&run, dir, store, &cfg);
    s_fig tcp = s_measure(cn_server_endpoint(s), comp.root, 2000, 20, n * 4);
    cn_server_stop(&s);
    printf("helper round trip (request -> error event), 2000 requests; audio event of %.1f MB "
           "(%.0f s mono float at 44.1 kHz), 20 requests:\n", n * 4 / 1e6, seconds);
    printf("  ipc: median %.0f us, p99 %.0f us; audio %.0f MB/s\n", ipc.rtt_us_median,
           ipc.rtt_us_p99, ipc.mb_s);
    printf("  tcp: median %.0f us, p99 %.0f us; audio %.0f MB/s\n", tcp.rtt_us_median,
           tcp.rtt_us_p99, tcp.mb_s);
    printf("  tcp/ipc: round trip x%.2f, throughput x%.2f\n",
           tcp.rtt_us_median / ipc.rtt_us_median, tcp.mb_s / ipc.mb_s);
    return 0;
}
