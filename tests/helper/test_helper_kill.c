/* SPDX-License-Identifier: MIT
 * SIGKILL during an upsample: a helper process (the real server over the engine double) is
 * killed mid-job and started again on the same store; the client resumes its session, the
 * job continues at the first unfinished window, the windows finished before the kill are
 * byte-identical afterwards, and the finished audio covers the whole path.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "htest.h"

static cn_check chk;
static ht_fake g_fake;

static pid_t s_spawn(void) { return ht_fake_spawn(&g_fake, "1500", NULL); }

typedef struct s_files {
    char name[512][128];
    void *data[512];
    size_t len[512];
    int n;
} s_files;

/* Every finished window file of the composition directory. */
static void s_snapshot(const char *comp_dir, s_files *f)
{
    DIR *d = opendir(comp_dir);
    struct dirent *de;
    char err[256], path[1200];
    f->n = 0;
    while (d && (de = readdir(d)) && f->n < 512) {
        if (!strstr(de->d_name, ".w") || strstr(de->d_name, ".tmp")) continue;
        snprintf(f->name[f->n], 128, "%.127s", de->d_name);
        snprintf(path, sizeof path, "%s/%s", comp_dir, de->d_name);
        if (!cn_store_read_file(path, &f->data[f->n], &f->len[f->n], err, sizeof err)) f->n++;
    }
    if (d) closedir(d);
}

typedef struct s_track {
    ht_rec r;
    int restarted;
    int first_after[2];   /* first window index of each level after the restart, -1 none */
    int windows_before;
} s_track;

static void s_cb(void *user, const cn_event *ev)
{
    s_track *t = user;
    ht_on_event(&t->r, ev);
    if (getenv("CN_TEST_VERBOSE") && ev->type == CN_EV_WINDOW)
        fprintf(stderr, "window level %d index %d restarted %d\n", ev->level, ev->index,
                t->restarted);
    if (ev->type == CN_EV_WINDOW && t->restarted && t->first_after[ev->level] < 0)
        t->first_after[ev->level] = ev->index;
}

int main(void)
{
    char err[512], msg[900];
    ht_fake_init(&g_fake, "kill");
    pid_t pid = s_spawn();
    cn_client *c = ht_client_wait(g_fake.ep, "killer", g_fake.bin);
    if (!c) return 1;
    int64_t np;
    float *p = ht_sine(0.1, 44100, &np);
    const char *g[1] = {"country"};
    cn_generate_req req = {p, np, 44100, "unknown", g, 1, "", 1, 0.2, {1, 0, 0, 0, 9}};
    ht_rec gen;
    ht_rec_init(&gen);
    int rc = ht_wait(c, cn_client_generate(c, &req, err, sizeof err), &gen, 20000);
    free(p);
    if (rc || !gen.candidates) { fprintf(stderr, "generate: %s\n", gen.message); return 1; }
    const char *node = gen.nodes[0];
    s_track t = {0};
    t.first_after[0] = t.first_after[1] = -1;
    uint64_t id = cn_client_upsample(c, node, 0, err, sizeof err);
    while (t.r.windows < 6) cn_client_poll(c, 10, s_cb, &t, err, sizeof err);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char comp_dir[1200];
    snprintf(comp_dir, sizeof comp_dir, "%s/compositions/%.*s", g_fake.store,
             (int)strcspn(node, "."), node);
    s_files before, after;
    s_snapshot(comp_dir, &before);
    int on_disk = 0;
    for (int i = 0; i < before.n; i++)
        if (strstr(before.name[i], ".l1.w") && strstr(before.name[i], ".codes")) on_disk++;
    t.windows_before = t.r.windows;
    t.restarted = 1;
    pid = s_spawn();
    rc = cn_client_wait(c, id, 120000, s_cb, &t, err, sizeof err);
    const cn_helper_info *info = cn_client_info(c);
    (void)info;
    snprintf(msg, sizeof msg, "status %d, %d window events before the kill, %d level-1 windows "
             "on disk, first level-1 window after the restart %d, done %d, reconnected %d", rc,
             t.windows_before, on_disk, t.first_after[1], t.r.done, t.r.reconnected);
    cn_check_true(&chk, "the killed job resumes at the first unfinished window and completes",
                  rc == 0 && t.r.done == 1 && t.first_after[1] == on_disk, msg);
    s_snapshot(comp_dir, &after);
    int same = 0;
    for (int i = 0; i < before.n; i++)
        for (int k = 0; k < after.n; k++)
            if (!strcmp(before.name[i], after.name[k]) && before.len[i] == after.len[k] &&
                !memcmp(before.data[i], after.data[k], before.len[i]))
                same++;
    snprintf(msg, sizeof msg, "%d of %d window files written before the kill unchanged "
             "(%d files after)", same, before.n, after.n);
    cn_check_true(&chk, "windows finished before the kill are byte-identical", before.n > 0 &&
                  same == before.n && after.n > before.n, msg);
    ht_rec a;
    ht_rec_init(&a);
    rc = ht_wait(c, cn_client_audio(c, node, 0, err, sizeof err), &a, 10000);
    snprintf(msg, sizeof msg, "%lld samples (want %lld)", (long long)a.n_audio,
             (long long)gen.n_codes[0] * 128);
    cn_check_true(&chk, "level-0 audio of the resumed job covers the whole path", rc == 0 &&
                  a.n_audio == gen.n_codes[0] * 128, msg);
    cn_client_close(&c);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(status));
    cn_check_true(&chk, "the helper stops cleanly on SIGTERM", WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0, msg);
    for (int i = 0; i < before.n; i++) free(before.data[i]);
    for (int i = 0; i < after.n; i++) free(after.data[i]);
    ht_rec_free(&gen), ht_rec_free(&t.r), ht_rec_free(&a);
    return cn_check_finish(&chk);
}
