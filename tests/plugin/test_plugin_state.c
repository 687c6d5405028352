/* SPDX-License-Identifier: MIT
 * State: a session saved after Generate, select and Continue reopens in a new instance with
 * the helper down, and still plays the chosen path in place from its clip files; the
 * properties, composition id and tree come back; paths are stored relative (mapPath).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core.h"
#include "harness.h"

#define RATE 48000.0
#define BLOCK 512

static long s_trigger(th *t, int port)
{
    long since = t->status_seq;
    th_set(t, port, 1);
    th_block(t);
    th_set(t, port, 0);
    return since;
}

static void s_capture(th *t, double seconds)
{
    th_locate(t, 0, 1);
    th_set(t, CN_CAPTURE, 1);
    for (int b = 0; b < (int)(seconds * RATE / BLOCK); b++) {
        for (int i = 0; i < BLOCK; i++)
            t->in[0][i] = t->in[1][i] = 0.3f * sinf((float)(b * BLOCK + i) * 0.05f);
        th_block(t);
    }
    th_set(t, CN_CAPTURE, 0);
}

static void s_play(th *t, int64_t from, float *dst, int blocks)
{
    th_locate(t, from, 1);
    memset(t->in, 0, sizeof t->in);
    for (int b = 0; b < blocks; b++) {
        th_block(t);
        memcpy(dst + (size_t)b * BLOCK, t->out[0], BLOCK * sizeof(float));
    }
}

int main(void)
{
    cn_check c = { 0 };
    char dir[256], d[700];
    snprintf(dir, sizeof dir, "/tmp/continuo-state-%d", (int)getpid());
    th a, b;
    if (th_open(&a, RATE, BLOCK, dir))
        return 1;
    cn_host_send_set(a.h, CN__endpoint, false, "test:5");
    cn_host_send_set(a.h, CN__artist, false, "The Testers");
    cn_host_send_set(a.h, CN__lyrics, false, "la la la\nsecond line");
    th_block(&a);
    s_capture(&a, 1.0);
    int64_t region_end = (int64_t)(1.0 * RATE / BLOCK) * BLOCK;
    long s0 = s_trigger(&a, CN_GENERATE);
    bool ok = th_wait(&a, CN_READY, 3, 30, s0, "ready at step 1");
    th_set(&a, CN_CANDIDATE, 2);
    th_block(&a);
    s0 = s_trigger(&a, CN_CONTINUE);
    ok = ok && th_wait(&a, CN_READY, 3, 30, s0, "ready at step 2");
    cn_check_true(&c, "session A: Generate, pick 2, Continue", ok, a.status);
    th_set(&a, CN_CANDIDATE, 3);
    th_block(&a);
    cn_host_send_set(a.h, CN__endpoint, false, "test:down");   /* the helper goes away */
    th_block(&a);
    usleep(100000);
    th_block(&a);
    cn_host_flush_worker(a.h);
    cn_check_true(&c, "save", cn_host_save(a.h) == 0, "");
    const char *comp = cn_host_saved_string(a.h, CN__composition);
    const char *clip = cn_host_saved_string(a.h, CN__clip "-1-0");
    const char *tree = cn_host_saved_string(a.h, CN__tree);
    snprintf(d, sizeof d, "composition \"%s\", clip-1-0 \"%s\"", comp ? comp : "(none)",
             clip ? clip : "(none)");
    cn_check_true(&c, "saved: composition id and a relative clip path",
                  comp && !strcmp(comp, "test-composition") && clip && clip[0] != '/' &&
                  strstr(clip, ".wav"), d);
    int lines = 0;
    for (const char *p = tree; p && *p; p++)
        lines += *p == '\n';
    snprintf(d, sizeof d, "%d tree lines", lines);
    cn_check_true(&c, "saved: the tree of both steps", lines == 6, d);

    if (th_open(&b, RATE, BLOCK, dir))
        return 1;
    cn_check_true(&c, "restore into a new instance", cn_host_restore(b.h, a.h) == 0, "");
    th_close(&a);
    long since = b.status_seq;
    ok = th_wait(&b, CN_READY, 3, 10, since, "restored");
    snprintf(d, sizeof d, "ready %.0f, status %.0f \"%s\"", th_get(&b, CN_READY),
             th_get(&b, CN_STATUS), b.status);
    cn_check_true(&c, "restored with the helper down: 3 candidates from disk",
                  ok && strstr(b.status, "helper down"), d);
    th_set(&b, CN_CANDIDATE, 1);
    int blocks = (int)(6.0 * RATE / BLOCK);
    float *rec = calloc((size_t)blocks * BLOCK, sizeof(float));
    s_play(&b, region_end, rec, blocks);
    double f1 = th_freq(rec + 24000, 48000, RATE), f2 = th_freq(rec + 4 * 48000 + 4800,
                                                                 40000, RATE);
    snprintf(d, sizeof d, "%.1f Hz then %.1f Hz (want 440 then 220)", f1, f2);
    cn_check_true(&c, "restored path plays in place: chosen candidate 2, then candidate 1",
                  fabs(f1 - 440) < 10 && fabs(f2 - 220) < 6, d);
    cn_host_send_get(b.h);
    b.last_prop_val[0] = '\0';
    char artist[256] = "";
    th_block(&b);
    /* The Get answer lists every property; the harness keeps the last, so ask the state. */
    cn_host_save(b.h);
    const char *ar = cn_host_saved_string(b.h, CN__artist);
    const char *ly = cn_host_saved_string(b.h, CN__lyrics);
    snprintf(artist, sizeof artist, "%s", ar ? ar : "(none)");
    snprintf(d, sizeof d, "artist \"%s\", lyrics %s", artist,
             ly && !strcmp(ly, "la la la\nsecond line") ? "kept" : "lost");
    cn_check_true(&c, "properties survive save/restore",
                  !strcmp(artist, "The Testers") && ly &&
                  !strcmp(ly, "la la la\nsecond line"), d);
    const char *sel = cn_host_saved_string(b.h, CN__tree);
    cn_check_true(&c, "re-saving the restored session keeps its tree", sel && !strcmp(sel, tree),
                  "");
    th_close(&b);
    free(rec);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return cn_check_finish(&c);
}
