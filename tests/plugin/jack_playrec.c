/* SPDX-License-Identifier: MIT
 * jack_playrec: plays a WAV into a JACK client's inputs from transport frame 0 and records
 * its outputs sample-aligned, rolling the transport; counts xruns. For the jalv host test.
 * usage: jack_playrec CLIENT IN.wav OUT.wav|- SECONDS   (SECONDS 0: stop at the end of IN)
 */
#include <jack/transport.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jack_test_client.h"

static jt_client s_jt;
static float *s_play, *s_rec;
static int64_t s_play_n, s_rec_n;
static atomic_int s_done;
static atomic_llong s_max_frame;

static int s_process(jack_nframes_t n, void *arg)
{
    jack_client_t *c = arg;
    jack_position_t pos;
    jack_transport_state_t st = jack_transport_query(c, &pos);
    float *o[2] = { jack_port_get_buffer(s_jt.out[0], n), jack_port_get_buffer(s_jt.out[1], n) };
    float *in[2] = { jack_port_get_buffer(s_jt.in[0], n), jack_port_get_buffer(s_jt.in[1], n) };
    for (jack_nframes_t i = 0; i < n; i++) {
        int64_t f = (int64_t)pos.frame + i;
        float v = st == JackTransportRolling && f < s_play_n ? s_play[f] : 0.0f;
        o[0][i] = o[1][i] = v;
        if (st == JackTransportRolling && s_rec && f < s_rec_n)
            s_rec[f] = 0.5f * (in[0][i] + in[1][i]);
    }
    if (st == JackTransportRolling) {
        int64_t end = (int64_t)pos.frame + n;
        atomic_store(&s_max_frame, end);
        if (end >= (s_rec ? s_rec_n : s_play_n)) {
            jack_transport_stop(c);
            atomic_store(&s_done, 1);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: jack_playrec CLIENT IN.wav OUT.wav|- SECONDS\n");
        return 2;
    }
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(argv[2], SFM_READ, &info);
    if (!f) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    float *inter = calloc((size_t)info.frames * info.channels, sizeof(float));
    s_play = calloc((size_t)info.frames, sizeof(float));
    sf_readf_float(f, inter, info.frames);
    sf_close(f);
    for (int64_t i = 0; i < info.frames; i++)
        s_play[i] = inter[i * info.channels];
    s_play_n = info.frames;
    if (jt_open(&s_jt, "playrec", s_process))
        return 1;
    jack_client_t *c = s_jt.c;
    double rate = jack_get_sample_rate(c);
    if (info.samplerate != (int)rate)
        fprintf(stderr, "note: %s is %d Hz, JACK runs at %.0f Hz (played as is)\n", argv[2],
                info.samplerate, rate);
    double secs = atof(argv[4]);
    if (strcmp(argv[3], "-")) {
        s_rec_n = (int64_t)(secs * rate);
        s_rec = calloc((size_t)s_rec_n, sizeof(float));
    }
    jack_activate(c);
    jt_connect(&s_jt, argv[1]);   /* a failed connection is reported; the take shows it */
    usleep(200000);
    jack_transport_start(c);
    double limit = (s_rec ? secs : (double)s_play_n / rate) + 20.0;
    for (int i = 0; i < (int)(limit * 100) && !atomic_load(&s_done); i++)
        usleep(10000);
    usleep(100000);
    jack_deactivate(c);
    printf("transport stopped at frame %lld; xruns %d\n", (long long)atomic_load(&s_max_frame),
           atomic_load(&s_jt.xruns));
    if (s_rec) {
        SF_INFO oi = { .samplerate = (int)rate, .channels = 1,
                       .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
        SNDFILE *o = sf_open(argv[3], SFM_WRITE, &oi);
        sf_writef_float(o, s_rec, s_rec_n);
        sf_close(o);
    }
    jack_client_close(c);
    return atomic_load(&s_done) ? 0 : 1;
}
