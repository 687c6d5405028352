/* SPDX-License-Identifier: MIT
 * Scheduling against a real helper with a slow engine double: two clients at once both
 * complete; an interactive job overtakes a running upsample (which yields between windows);
 * cancel stops a job within one sampling step; a client rides out a helper restart, resumes
 * its session and receives the events of its resumed job.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htest.h"

static cn_check chk;

static uint64_t s_gen(cn_client *c, double seconds, int n)
{
    int64_t np;
    float *p = ht_sine(0.05, 44100, &np);
    const char *g[1] = {"country"};
    char err[256];
    cn_generate_req r = {p, np, 44100, "unknown", g, 1, "", 1.5, seconds, {n, 0, 0, 0, 3}};
    uint64_t id = cn_client_generate(c, &r, err, sizeof err);
    free(p);
    return id;
}

typedef struct s_two {
    cn_client *c;
    uint64_t id;
    ht_rec r;
    int finished;
} s_two;

static void s_cb(void *user, const cn_event *ev)
{
    s_two *t = user;
    ht_on_event(&t->r, ev);
    if (ev->request_id == t->id && (ev->type == CN_EV_DONE || ev->type == CN_EV_ERROR))
        t->finished = 1;
}

/* Polls both clients until both requests end; returns when or after timeout_s. */
static void s_both(s_two *a, s_two *b, double timeout_s)
{
    char err[256];
    double end = ht_now() + timeout_s;
    while ((!a->finished || !b->finished) && ht_now() < end) {
        cn_client_poll(a->c, 10, s_cb, a, err, sizeof err);
        cn_client_poll(b->c, 10, s_cb, b, err, sizeof err);
    }
}

static void s_two_clients(const char *ep, fake_engine *fe)
{
    fe->step_us = 2000;
    s_two a = {ht_client(ep, "one"), 0, {0}, 0}, b = {ht_client(ep, "two"), 0, {0}, 0};
    a.id = s_gen(a.c, 0.2, 2);
    b.id = s_gen(b.c, 0.2, 3);
    s_both(&a, &b, 30);
    char msg[256];
    snprintf(msg, sizeof msg, "client one: %d candidates, done %d; client two: %d, done %d",
             a.r.candidates, a.r.done, b.r.candidates, b.r.done);
    cn_check_true(&chk, "two clients at once both complete", a.r.candidates == 2 &&
                  b.r.candidates == 3 && a.r.done == 1 && b.r.done == 1, msg);
    /* Fairness: an upsample is running (one window per turn); a generate from another
       client must finish before it. */
    char err[256];
    a.finished = b.finished = 0;
    a.id = cn_client_upsample(a.c, a.r.nodes[0], 0, err, sizeof err);
    double t0 = ht_now();
    while (a.r.windows < 2 && ht_now() - t0 < 10) cn_client_poll(a.c, 10, s_cb, &a, err, 256);
    b.id = s_gen(b.c, 0.1, 1);
    double t_b = 0, t_a = 0;
    while ((!a.finished || !b.finished) && ht_now() - t0 < 60) {
        cn_client_poll(a.c, 5, s_cb, &a, err, sizeof err);
        cn_client_poll(b.c, 5, s_cb, &b, err, sizeof err);
        if (b.finished && !t_b) t_b = ht_now();
        if (a.finished && !t_a) t_a = ht_now();
    }
    snprintf(msg, sizeof msg, "generate finished %.2f s after the upsample started, upsample "
             "at %.2f s (%d windows)", t_b - t0, t_a - t0, a.r.windows);
    cn_check_true(&chk, "an interactive job overtakes a running upsample", t_b > 0 && t_a > 0 &&
                  t_b < t_a, msg);
    ht_rec_free(&a.r), ht_rec_free(&b.r);
    cn_client_close(&a.c), cn_client_close(&b.c);
}

static void s_cancel(const char *ep, fake_engine *fe)
{
    fe->step_us = 20000;   /* 20 ms per sampling step */
    cn_client *c = ht_client(ep, "cancel");
    ht_rec r;
    ht_rec_init(&r);
    r.cancel_on_progress = c;
    int rc = ht_wait(c, s_gen(c, 1.0, 2), &r, 30000);
    double dt = r.t_error - r.t_cancel;
    char msg[600];
    snprintf(msg, sizeof msg, "status %d, code %d \"%s\", %.3f s after the cancel (a step is "
             "0.020 s), %d candidates", rc, r.error_code, r.message, dt, r.candidates);
    cn_check_true(&chk, "cancel stops a running job within about one sampling step",
                  rc == 1 && r.error_code == CN_ERR_CANCELLED && dt < 0.15 && r.candidates == 0,
                  msg);
    ht_rec_free(&r);
    cn_client_close(&c);
}

static int s_read(const char *path, void **data, size_t *n)
{
    char err[256];
    return cn_store_read_file(path, data, n, err, sizeof err);
}

static void s_restart(const char *dir, const char *store, cn_runner *run, fake_engine *fe)
{
    fe->step_us = 0;
    cn_server *s = ht_server(run, dir, store, NULL);
    const char *ep = cn_server_endpoint(s);
    cn_client *c = ht_client(ep, "survivor");
    ht_rec g;
    ht_rec_init(&g);
    ht_wait(c, s_gen(c, 0.3, 1), &g, 10000);
    if (g.candidates != 1) { cn_check_true(&chk, "restart: setup", 0, g.message); return; }
    fe->step_us = 3000;
    char err[256], path[1200], msg[400];
    ht_rec u;
    ht_rec_init(&u);
    uint64_t id = cn_client_upsample(c, g.nodes[0], 1, err, sizeof err);
    while (u.windows < 3) cn_client_poll(c, 10, ht_on_event, &u, err, sizeof err);
    int before = u.windows;
    cn_server_stop(&s);   /* the helper goes away mid-job; the job stays journaled */
    long k;
    char comp[64];
    sscanf(g.nodes[0], "c%ld", &k);
    snprintf(comp, sizeof comp, "%.*s", (int)strcspn(g.nodes[0], "."), g.nodes[0]);
    snprintf(path, sizeof path, "%s/compositions/%s/%s.l1.w00001.codes", store, comp,
             strchr(g.nodes[0], '.') + 1);
    void *w1 = NULL, *w1b = NULL;
    size_t n1 = 0, n1b = 0;
    s_read(path, &w1, &n1);
    usleep(300000);
    s = ht_server(run, dir, store, NULL);   /* same endpoint, same store */
    int rc = ht_wait(c, id, &u, 60000);
    int dup = 0;
    for (int i = 1; i < u.n_window_index; i++)
        if (u.window_index[i] <= u.window_index[i - 1]) dup = 1;
    snprintf(msg, sizeof msg, "status %d, reconnected %d, %d windows before the restart, %d in "
             "all, increasing %s, done %d", rc, u.reconnected, before, u.windows,
             dup ? "no" : "yes", u.done);
    cn_check_true(&chk, "a client rides out a helper restart and its job completes", rc == 0 &&
                  u.reconnected >= 1 && u.done == 1 && !dup && u.windows > before, msg);
    s_read(path, &w1b, &n1b);
    snprintf(msg, sizeof msg, "%.300s: %zu bytes before, %zu after", path, n1, n1b);
    cn_check_true(&chk, "a window finished before the restart is unchanged", n1 && n1 == n1b &&
                  !memcmp(w1, w1b, n1), msg);
    free(w1), free(w1b);
    ht_rec_free(&g), ht_rec_free(&u);
    cn_client_close(&c);
    cn_server_stop(&s);
}

int main(void)
{
    char dir[512], store[600];
    ht_tmpdir(dir, sizeof dir, "sched");
    snprintf(store, sizeof store, "%s/store", dir);
    fake_engine fe = {0};
    cn_runner run;
    fake_runner(&run, &fe);
    cn_server *s = ht_server(&run, dir, store, NULL);
    if (!s) return 1;
    s_two_clients(cn_server_endpoint(s), &fe);
    s_cancel(cn_server_endpoint(s), &fe);
    cn_server_stop(&s);
    s_restart(dir, store, &run, &fe);
    return cn_check_finish(&chk);
}
