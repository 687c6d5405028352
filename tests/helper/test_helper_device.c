/* SPDX-License-Identifier: MIT
 * A device lost mid-job (a sticky GPU error): a helper process over the engine double whose
 * second sampling call fails as after a CUDA illegal address. The failing job's error says the
 * device is unusable and that the helper exits; the helper exits with CN_EXIT_DEVICE_LOST
 * (what systemd's Restart=on-failure acts on) instead of failing every later job; the job
 * queued behind it stays journaled and completes in the helper started next on the same store.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "htest.h"

static cn_check chk;
static ht_fake g_fake;

static pid_t s_spawn(const char *lose_after)
{
    const char *extra[] = {"--lose-device-after", lose_after, NULL};
    return ht_fake_spawn(&g_fake, "20000", extra);
}

/* Waits up to `seconds` for pid to exit; returns its wait status, or -1 if it still runs. */
static int s_exit_status(pid_t pid, double seconds)
{
    int st = 0;
    for (double t0 = ht_now(); ht_now() - t0 < seconds; usleep(20000))
        if (waitpid(pid, &st, WNOHANG) == pid) return st;
    return -1;
}

int main(void)
{
    char err[512], msg[1400];
    ht_fake_init(&g_fake, "device");
    pid_t pid = s_spawn("1");
    cn_client *c = ht_client_wait(g_fake.ep, "device", g_fake.bin);
    if (!c) return 1;
    int64_t np;
    float *p = ht_sine(0.1, 44100, &np);
    const char *g[1] = {"country"};
    cn_generate_req req = {p, np, 44100, "unknown", g, 1, "", 1, 0.1, {1, 0, 0, 0, 5}};
    ht_rec a, b, cc;
    ht_rec_init(&a), ht_rec_init(&b), ht_rec_init(&cc);
    int rc = ht_wait(c, cn_client_generate(c, &req, err, sizeof err), &a, 20000);
    free(p);
    cn_check_true(&chk, "the first job completes on the healthy device", rc == 0 &&
                  a.candidates == 1, a.message);
    if (!a.candidates) return cn_check_finish(&chk);

    uint64_t id_b = cn_client_continue(c, a.nodes[0], -1, 0.1, NULL, err, sizeof err);
    uint64_t id_c = cn_client_continue(c, a.nodes[0], -1, 0.1, NULL, err, sizeof err);
    ht_wait(c, id_b, &b, 20000);
    snprintf(msg, sizeof msg, "code %d: %s", b.error_code, b.message);
    cn_check_true(&chk, "the job on the lost device fails with an engine error that says the "
                  "device is unusable and the helper exits with status 75",
                  b.errors == 1 && b.error_code == CN_ERR_ENGINE &&
                  strstr(b.message, "illegal memory access") &&
                  strstr(b.message, "unusable") && strstr(b.message, "status 75"), msg);
    int st = s_exit_status(pid, 10);
    snprintf(msg, sizeof msg, "wait status %d (exit %d)", st, st >= 0 && WIFEXITED(st) ?
             WEXITSTATUS(st) : -1);
    cn_check_true(&chk, "the helper exits by itself with CN_EXIT_DEVICE_LOST (75)",
                  st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == CN_EXIT_DEVICE_LOST, msg);
    if (st < 0) kill(pid, SIGKILL), waitpid(pid, NULL, 0);

    pid = s_spawn("0");
    rc = ht_wait(c, id_c, &cc, 30000);
    snprintf(msg, sizeof msg, "status %d, done %d, %d candidates, %d errors (%s)", rc,
             cc.done, cc.candidates, cc.errors, cc.message);
    cn_check_true(&chk, "the job queued behind it stayed journaled and completes in the next "
                  "helper", rc == 0 && cc.done == 1 && cc.candidates > 0 && cc.errors == 0, msg);
    cn_client_close(&c);
    kill(pid, SIGTERM);
    st = s_exit_status(pid, 10);
    snprintf(msg, sizeof msg, "wait status %d", st);
    cn_check_true(&chk, "the healthy helper still stops with status 0 on SIGTERM",
                  st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, msg);
    ht_rec_free(&a), ht_rec_free(&b), ht_rec_free(&cc);
    return cn_check_finish(&chk);
}
