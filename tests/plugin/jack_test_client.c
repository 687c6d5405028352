/* SPDX-License-Identifier: MIT
 * jack_test_client.h: the test clients' ports, xrun counter, transport and connections.
 */
#include "jack_test_client.h"

#include <jack/transport.h>
#include <stdio.h>

static int s_xrun(void *arg)
{
    atomic_fetch_add(&((jt_client *)arg)->xruns, 1);
    return 0;
}

int jt_open(jt_client *t, const char *name, JackProcessCallback process)
{
    static const char *const outs[2] = { "out_l", "out_r" }, *const ins[2] = { "in_l", "in_r" };
    t->name = name;
    atomic_init(&t->xruns, 0);
    t->c = jack_client_open(name, JackNoStartServer, NULL);
    if (!t->c) {
        fprintf(stderr, "no JACK server\n");
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        t->out[k] = jack_port_register(t->c, outs[k], JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
        t->in[k] = jack_port_register(t->c, ins[k], JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    }
    jack_set_process_callback(t->c, process, t->c);
    jack_set_xrun_callback(t->c, s_xrun, t);
    jack_transport_stop(t->c);
    jack_transport_locate(t->c, 0);
    return 0;
}

static int s_link(jt_client *t, const char *from, const char *to)
{
    if (!jack_connect(t->c, from, to))
        return 0;
    fprintf(stderr, "cannot connect %s -> %s\n", from, to);
    return 1;
}

int jt_connect(jt_client *t, const char *other)
{
    static const char *const outs[2] = { "out_l", "out_r" }, *const ins[2] = { "in_l", "in_r" };
    char a[256], b[256];
    int failed = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(a, sizeof a, "%s:%s", t->name, outs[k]);
        snprintf(b, sizeof b, "%s:%s", other, ins[k]);
        failed += s_link(t, a, b);
        snprintf(a, sizeof a, "%s:%s", other, outs[k]);
        snprintf(b, sizeof b, "%s:%s", t->name, ins[k]);
        failed += s_link(t, a, b);
    }
    return failed;
}
