/* SPDX-License-Identifier: MIT
 * bench_jack_probe: for the xrun benchmark, plays a 440 Hz tone into a JACK client's inputs
 * with the transport rolling from frame 0 for SECONDS, reads its outputs and prints one line:
 * cycles, xruns, the server's highest DSP load, the output's peak and non-finite samples.
 * usage: bench_jack_probe CLIENT|- SECONDS   (-: connected to nothing, the machine's baseline;
 * never judges, the caller does)
 */
#include <jack/jack.h>
#include <jack/transport.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static jack_port_t *s_out[2], *s_in[2];
static atomic_llong s_cycles, s_nonfinite, s_frames;
static atomic_int s_xruns;
static _Atomic float s_peak;
static double s_rate;

static int s_xrun(void *arg)
{
    (void)arg;
    atomic_fetch_add(&s_xruns, 1);
    return 0;
}

/* Realtime: a tone out, the client's output scanned; no I/O, no allocation. */
static int s_process(jack_nframes_t n, void *arg)
{
    jack_client_t *c = arg;
    jack_position_t pos;
    int rolling = jack_transport_query(c, &pos) == JackTransportRolling;
    float *o[2] = { jack_port_get_buffer(s_out[0], n), jack_port_get_buffer(s_out[1], n) };
    float *in[2] = { jack_port_get_buffer(s_in[0], n), jack_port_get_buffer(s_in[1], n) };
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

static int s_connect(jack_client_t *c, const char *client)
{
    const char *outs[2] = { "probe:out_l", "probe:out_r" }, *ins[2] = { "probe:in_l", "probe:in_r" };
    const char *theirs_in[2] = { "in_l", "in_r" }, *theirs_out[2] = { "out_l", "out_r" };
    char name[256];
    for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, "%s:%s", client, theirs_in[k]);
        if (jack_connect(c, outs[k], name)) {
            fprintf(stderr, "cannot connect %s -> %s\n", outs[k], name);
            return 1;
        }
        snprintf(name, sizeof name, "%s:%s", client, theirs_out[k]);
        if (jack_connect(c, name, ins[k])) {
            fprintf(stderr, "cannot connect %s -> %s\n", name, ins[k]);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_jack_probe CLIENT SECONDS\n");
        return 2;
    }
    double secs = atof(argv[2]);
    jack_client_t *c = jack_client_open("probe", JackNoStartServer, NULL);
    if (!c) {
        fprintf(stderr, "no JACK server\n");
        return 1;
    }
    s_rate = jack_get_sample_rate(c);
    const char *names[4] = { "out_l", "out_r", "in_l", "in_r" };
    for (int k = 0; k < 2; k++) {
        s_out[k] = jack_port_register(c, names[k], JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
        s_in[k] = jack_port_register(c, names[2 + k], JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    }
    jack_set_process_callback(c, s_process, c);
    jack_set_xrun_callback(c, s_xrun, NULL);
    jack_transport_stop(c);
    jack_transport_locate(c, 0);
    if (jack_activate(c) || (strcmp(argv[1], "-") && s_connect(c, argv[1]))) {
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
           jack_get_buffer_size(c), atomic_load(&s_xruns), load, atomic_load(&s_peak),
           atomic_load(&s_nonfinite));
    jack_client_close(c);
    return 0;
}
