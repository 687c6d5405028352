/* SPDX-License-Identifier: MIT
 * bench_jack_probe: for the xrun benchmark, plays a 440 Hz tone into a JACK client's inputs
 * with the transport rolling from frame 0 for SECONDS, reads its outputs and prints one line:
 * cycles, xruns, the server's highest DSP load, the output's peak and non-finite samples.
 * usage: bench_jack_probe CLIENT|- SECONDS   (-: connected to nothing, the machine's baseline;
 * never judges, the caller does)
 */
#include <jack/transport.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jack_test_client.h"

static jt_client s_jt;
static atomic_llong s_cycles, s_nonfinite, s_frames;
static _Atomic float s_peak;
static double s_rate;

/* Realtime: a tone out, the client's output scanned; no I/O, no allocation. */
static int s_process(jack_nframes_t n, void *arg)
{
    jack_client_t *c = arg;
    jack_position_t pos;
    int rolling = jack_transport_query(c, &pos) == JackTransportRolling;
    float *o[2] = { jack_port_get_buffer(s_jt.out[0], n), jack_port_get_buffer(s_jt.out[1], n) };
    float *in[2] = { jack_port_get_buffer(s_jt.in[0], n), jack_port_get_buffer(s_jt.in[1], n) };
    float peak = atomic_load(&s_peak);
    long long bad = 0;
    for (jack_nframes_t i = 0; i < n; i++) {
        double t = (double)(pos.frame + i) / s_rate;
        o[0][i] = o[1][i] = rolling ? 0.3f * (float)sin(2 * M_PI * 440 * t) : 0.0f;
        for (int k = 0; k < 2; k++) {
            float v = in[k][i];
            if (!isfinite(v))
                bad++;
            else if (fabsf(v) > peak)
                peak = fabsf(v);
        }
    }
    atomic_store(&s_peak, peak);
    atomic_fetch_add(&s_nonfinite, bad);
    atomic_fetch_add(&s_cycles, 1);
    if (rolling)
        atomic_store(&s_frames, (long long)pos.frame + n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_jack_probe CLIENT SECONDS\n");
        return 2;
    }
    double secs = atof(argv[2]);
    if (jt_open(&s_jt, "probe", s_process))
        return 1;
    jack_client_t *c = s_jt.c;
    s_rate = jack_get_sample_rate(c);
    if (jack_activate(c) || (strcmp(argv[1], "-") && jt_connect(&s_jt, argv[1]))) {
        jack_client_close(c);
        return 1;
    }
    usleep(200000);
    jack_transport_start(c);
    float load = 0;
    for (int i = 0; i < (int)(secs * 20); i++) {
        usleep(50000);
        float l = jack_cpu_load(c);
        if (l > load)
            load = l;
    }
    jack_transport_stop(c);
    usleep(100000);
    jack_deactivate(c);
    printf("cycles %lld frames %lld period %u xruns %d max_dsp_load %.1f%% out_peak %.3f "
           "nonfinite %lld\n", atomic_load(&s_cycles), atomic_load(&s_frames),
           jack_get_buffer_size(c), atomic_load(&s_jt.xruns), load, atomic_load(&s_peak),
           atomic_load(&s_nonfinite));
    jack_client_close(c);
    return 0;
}
