/* SPDX-License-Identifier: MIT
 * The JACK side shared by the test clients that drive a plugin's track (jack_playrec,
 * bench_jack_probe): a client with stereo out_l/out_r and in_l/in_r, an xrun counter, the
 * transport parked at frame 0, and the connections to and from another client. Test code only.
 */
#ifndef CN_JACK_TEST_CLIENT_H
#define CN_JACK_TEST_CLIENT_H

#include <jack/jack.h>
#include <stdatomic.h>

typedef struct jt_client {
    jack_client_t *c;
    const char *name;
    jack_port_t *out[2], *in[2];
    atomic_int xruns;
} jt_client;

/* Opens `name` on the running server (never starts one), registers the four ports, sets
 * process (called with the jack_client_t *) and the xrun counter, stops the transport at
 * frame 0. Returns 0, or -1 with a message on stderr. Not activated yet. */
int jt_open(jt_client *t, const char *name, JackProcessCallback process);
/* Connects our outputs to other's in_l/in_r and other's out_l/out_r to our inputs. Returns
 * the number of connections that failed (each named on stderr). */
int jt_connect(jt_client *t, const char *other);

#endif
