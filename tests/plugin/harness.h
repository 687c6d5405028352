/* SPDX-License-Identifier: MIT
 * Test harness for continuo.lv2 over cn_host: loads the built bundle, runs blocks with the
 * realtime guard around run() (when the rt shim is preloaded), and keeps the status text.
 */
#ifndef CN_HARNESS_H
#define CN_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "host.h"

#define TH_BLOCK_MAX 4096

typedef struct th {
    cn_host *h;
    double rate;
    uint32_t block;
    float in[2][TH_BLOCK_MAX], out[2][TH_BLOCK_MAX];
    char status[512];
    char last_prop_uri[256], last_prop_val[4096];
    int64_t frame;          /* transport frame at the next block */
    float speed;
    bool send_pos;          /* send time:Position with the next block */
    long guarded_runs;
    long status_seq;        /* statusText messages seen */
    void (*guard)(int);
} th;

/* Opens the bundle in $CN_PLUGIN_BUNDLE at rate/block with state in state_dir. */
int th_open(th *t, double rate, uint32_t block, const char *state_dir);
void th_close(th *t);
/* Sets the transport: position and speed sent with the next block. */
void th_locate(th *t, int64_t frame, float speed);
/* Runs one block: inputs from t->in, outputs to t->out; run() under the guard. */
void th_block(th *t);
float th_get(th *t, int port);
void th_set(th *t, int port, float v);
/* Runs blocks of silence until a status text containing `text` came after status message
 * number `since` and port `port` is >= value, or `seconds` of wall time pass. */
bool th_wait(th *t, int port, float value, double seconds, long since, const char *text);
/* Zero crossings per second of x[0..n) at rate: about the tone's frequency. */
double th_freq(const float *x, int64_t n, double rate);
double th_peak(const float *x, int64_t n);

#endif
