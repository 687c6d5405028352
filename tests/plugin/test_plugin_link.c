/* SPDX-License-Identifier: MIT
 * The plugin's link to a real helper over CURVE (the user's default client key, as on a remote
 * GPU box): the right server key file generates; the wrong one, and a helper that speaks
 * another protocol version, each show a status text and the error control while run() keeps
 * passing audio through and nothing plays.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "harness.h"
#include "check.h"
#include "link_fixtures.h"

#define BLOCK 512

static cn_check chk;
static char g_state[700];   /* the plugin's state folder */

/* Captures a short region with the transport rolling, then presses Generate. */
static long s_capture_generate(th *t)
{
    th_locate(t, 0, 1);
    th_set(t, CN_CAPTURE, 1);
    for (int b = 0; b < 15; b++) {   /* 0.16 s: the test double takes at most 0.2 s */
        for (int i = 0; i < BLOCK; i++)
            t->in[0][i] = t->in[1][i] = 0.3f * sinf((float)(b * BLOCK + i) * 0.05f);
        th_block(t);
    }
    th_set(t, CN_CAPTURE, 0);
    long since = t->status_seq;
    th_set(t, CN_GENERATE, 1);
    th_block(t);
    th_set(t, CN_GENERATE, 0);
    return since;
}

/* Nothing but the dry input comes out while the link is bad. */
static bool s_dry(th *t, int blocks)
{
    float worst = 0;
    for (int b = 0; b < blocks; b++) {
        for (int i = 0; i < BLOCK; i++)
            t->in[0][i] = t->in[1][i] = 0.25f;
        th_block(t);
        for (int i = 0; i < BLOCK; i++)
            worst = fmaxf(worst, fabsf(t->out[0][i] - 0.25f));
    }
    return worst < 1e-6f;
}

/* Opens the plugin on `endpoint` with the server key file `key` (or none) and presses
 * Generate after a capture. Returns the status message count before Generate, or -1. */
static long s_open_generate(th *t, const char *what, const char *endpoint, const char *key)
{
    if (th_open(t, 48000, BLOCK, g_state)) {
        cn_check_true(&chk, what, false, "the plugin did not load");
        return -1;
    }
    if (key)
        cn_host_send_set(t->h, CN__serverKey, true, key);
    cn_host_send_set(t->h, CN__endpoint, false, endpoint);
    th_set(t, CN_SECONDS, 0.5f);   /* the test double's songs end before 2 s */
    th_block(t);
    return s_capture_generate(t);
}

static void s_status(th *t, char *msg, size_t len)
{
    snprintf(msg, len, "error %.0f, status %.0f, ready %.0f, \"%s\"", th_get(t, CN_ERROR),
             th_get(t, CN_STATUS), th_get(t, CN_READY), t->status);
}

/* A bad link: the status text holds `want`, the error control is set, nothing plays. */
static void s_bad(const char *what, const char *endpoint, const char *key, const char *want)
{
    th t;
    char msg[900];
    long since = s_open_generate(&t, what, endpoint, key);
    if (since < 0)
        return;
    bool seen = th_wait(&t, CN_ERROR, 1, 15, since, want);
    s_status(&t, msg, sizeof msg);
    cn_check_true(&chk, what, seen, msg);
    bool dry = s_dry(&t, 50);
    snprintf(msg, sizeof msg, "%s: output equals the dry input over 50 blocks", what);
    cn_check_true(&chk, "nothing plays while the link is bad", dry, msg);
    th_close(&t);
}

/* A good CURVE link: Generate brings candidates. */
static void s_good(const char *what, const char *endpoint, const char *key)
{
    th t;
    char msg[900];
    long since = s_open_generate(&t, what, endpoint, key);
    if (since < 0)
        return;
    bool ready = th_wait(&t, CN_READY, 1, 20, since, "candidates ready");
    s_status(&t, msg, sizeof msg);
    cn_check_true(&chk, what, ready && th_get(&t, CN_ERROR) == 0, msg);
    th_close(&t);
}

int main(void)
{
    char dir[512], err[512], right[700], wrong[700], mine[700];
    lf_tmpdir(dir, sizeof dir);
    snprintf(g_state, sizeof g_state, "%s/state", dir);
    snprintf(right, sizeof right, "%s/helper.pub", dir);
    snprintf(wrong, sizeof wrong, "%s/other.pub", dir);
    snprintf(mine, sizeof mine, "%s/allowed/client.key", dir);
    setenv("CONTINUO_CLIENT_KEY", mine, 1);   /* the user's default client key pair */
    lf_helper *h = lf_curve_helper(dir, err, sizeof err);
    if (h) {
        s_good("CURVE helper, right server key, listed client key: candidates arrive",
               lf_endpoint(h), right);
        s_bad("wrong server key: status names the key file", lf_endpoint(h), wrong,
              "other.pub");
        lf_stop(h);
    } else {
        cn_check_true(&chk, "a CURVE helper starts", false, err);
    }
    h = lf_other_version_helper(dir, err, sizeof err);
    if (h) {
        s_bad("protocol mismatch: status quotes the helper", lf_endpoint(h), NULL,
              "this helper speaks 99");
        lf_stop(h);
    } else {
        cn_check_true(&chk, "a helper of another version listens", false, err);
    }
    return cn_check_finish(&chk);
}
