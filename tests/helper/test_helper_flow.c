/* SPDX-License-Identifier: MIT
 * The co-composition loop through a real helper (ROUTER, store, scheduler) and the client
 * library over ipc://, with the engine test double: generate, continue, rerun, back to an
 * earlier node, upsample, export; then a restart of the helper over the same store.
 */
#define _GNU_SOURCE
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htest.h"

static cn_check chk;

static uint64_t s_generate(cn_client *c, double seconds, int n, const char *artist, char *err)
{
    int64_t np;
    float *p = ht_sine(0.1, 22050, &np);
    const char *genres[1] = {"country"};
    cn_generate_req r = {p, np, 22050, artist, genres, 1, "la la", 1.0, seconds,
                         {n, 0.99f, 0, 0, 42}};
    uint64_t id = cn_client_generate(c, &r, err, 256);
    free(p);
    return id;
}

static int s_prefix(const int32_t *a, const int32_t *b, int64_t n)
{
    return !memcmp(a, b, (size_t)n * 4);
}

static void s_loop(cn_client *c, const char *dir)
{
    char err[256], msg[512];
    ht_rec g, k, r, b, u, t, x;
    ht_rec_init(&g);
    int rc = ht_wait(c, s_generate(c, 0.2, 3, "alan_jackson", err), &g, 20000);
    snprintf(msg, sizeof msg, "status %d, %d accepted, %d candidates, %d done, error \"%.300s\"",
             rc, g.accepted, g.candidates, g.done, g.message);
    cn_check_true(&chk, "generate: 3 candidates then done", rc == 0 && g.candidates == 3 &&
                  g.done == 1 && g.accepted == 1, msg);
    snprintf(msg, sizeof msg, "%d preview events", g.previews);
    cn_check_true(&chk, "previews of the candidates arrive while sampling", g.previews >= 3,
                  msg);
    if (g.candidates != 3) return;
    /* prompt 0.1 s at 22.05 kHz = 4410 samples at 44.1 kHz = 34 codes; + round(0.2 s) = 69 */
    int64_t root_codes = (int64_t)(0.1 * 44100) / 128, add = (int64_t)llround(0.2 * 44100 / 128);
    snprintf(msg, sizeof msg, "codes %lld (want %lld), new audio %lld samples (want %lld)",
             (long long)g.n_codes[0], (long long)(root_codes + add), (long long)g.audio_len[0],
             (long long)(add * 128));
    cn_check_true(&chk, "candidate = prompt codes + continuation", g.n_codes[0] ==
                  root_codes + add && g.audio_len[0] == add * 128, msg);
    cn_check_true(&chk, "candidates differ", !s_prefix(g.codes[0], g.codes[1], g.n_codes[0]),
                  "candidate 0 and 1 codes");
    char root[64];
    snprintf(root, sizeof root, "%.*s.0", (int)(strchr(g.nodes[0], '.') - g.nodes[0]),
             g.nodes[0]);

    ht_rec_init(&k);
    rc = ht_wait(c, cn_client_continue(c, root, 1, 0.2, NULL, err, sizeof err), &k, 20000);
    snprintf(msg, sizeof msg, "status %d, %d candidates of %lld codes; chose %s", rc,
             k.candidates, (long long)k.n_codes[0], g.nodes[1]);
    cn_check_true(&chk, "continue choice 1: 3 candidates extending candidate 1",
                  rc == 0 && k.candidates == 3 && k.n_codes[0] == g.n_codes[1] + add &&
                  s_prefix(k.codes[0], g.codes[1], g.n_codes[1]) &&
                  s_prefix(k.codes[2], g.codes[1], g.n_codes[1]), msg);

    ht_rec_init(&r);
    rc = ht_wait(c, cn_client_rerun(c, root, NULL, err, sizeof err), &r, 20000);
    snprintf(msg, sizeof msg, "status %d, %d candidates; first %s", rc, r.candidates, r.nodes[0]);
    cn_check_true(&chk, "rerun root: 3 new candidates of the prompt, same length, new codes",
                  rc == 0 && r.candidates == 3 && r.n_codes[0] == g.n_codes[0] &&
                  s_prefix(r.codes[0], g.codes[0], root_codes) &&
                  !s_prefix(r.codes[0], g.codes[0], g.n_codes[0]), msg);

    ht_rec_init(&b);   /* back to an earlier node: candidate 0 of the first batch */
    rc = ht_wait(c, cn_client_continue(c, g.nodes[0], -1, 0.3, NULL, err, sizeof err), &b,
                 20000);
    cn_check_true(&chk, "continue an earlier node (first batch, candidate 0) itself",
                  rc == 0 && b.candidates == 3 && s_prefix(b.codes[1], g.codes[0], g.n_codes[0]),
                  b.message);

    ht_rec_init(&t);
    rc = ht_wait(c, cn_client_tree(c, strtok(strdup(root), "."), err, sizeof err), &t, 5000);
    snprintf(msg, sizeof msg, "%d nodes (want 1 + 3 + 3 + 3 + 3 = 13), root %s has %d children "
             "(want 6)", t.tree_nodes, t.tree_root, t.root_children);
    cn_check_true(&chk, "tree of the composition", rc == 0 && t.tree_nodes == 13 &&
                  t.root_children == 6, msg);

    ht_rec_init(&u);
    rc = ht_wait(c, cn_client_upsample(c, k.nodes[2], 0, err, sizeof err), &u, 60000);
    /* level 1: 103 top codes -> 412 codes in windows of 32 hop 16: 25 windows; level 0:
       1648 codes: 102 windows */
    snprintf(msg, sizeof msg, "status %d, %d windows, done %d, error \"%.300s\"", rc, u.windows,
             u.done, u.message);
    cn_check_true(&chk, "upsample to level 0: windows of level 1 then level 0, then done",
                  rc == 0 && u.windows > 2 && u.done == 1, msg);

    ht_rec_init(&x);
    rc = ht_wait(c, cn_client_audio(c, k.nodes[2], 0, err, sizeof err), &x, 5000);
    int64_t want = k.n_codes[2] * 128;
    snprintf(msg, sizeof msg, "%lld samples at level 0 (want %lld)", (long long)x.n_audio,
             (long long)want);
    cn_check_true(&chk, "level-0 audio covers the whole path", rc == 0 && x.n_audio == want, msg);
    char path[4200];
    snprintf(path, sizeof path, "%s/out.flac", dir);
    if (x.audio && !cn_audio_write(path, x.audio, x.n_audio, 44100, 48000, err, sizeof err)) {
        SF_INFO info = {0};
        SNDFILE *f = sf_open(path, SFM_READ, &info);
        double secs = f ? (double)info.frames / info.samplerate : 0;
        snprintf(msg, sizeof msg, "%.300s: %d Hz, %.4f s (want 48000 Hz, %.4f s)", path,
                 info.samplerate, secs, (double)want / 44100);
        cn_check_true(&chk, "export FLAC at 48 kHz", f && info.samplerate == 48000 &&
                      fabs(secs - (double)want / 44100) < 0.002, msg);
        if (f) sf_close(f);
    } else {
        cn_check_true(&chk, "export FLAC at 48 kHz", 0, err);
    }
    ht_rec_free(&g), ht_rec_free(&k), ht_rec_free(&r), ht_rec_free(&b), ht_rec_free(&u);
    ht_rec_free(&x);
}

/* The list of compositions has no cap: 70 more Generates, then all 71 are listed. */
static void s_many(cn_client *c)
{
    char err[256], msg[256];
    int ok = 0;
    for (int i = 0; c && i < 70; i++) {
        ht_rec g;
        ht_rec_init(&g);
        ok += ht_wait(c, s_generate(c, 0.01, 1, "unknown", err), &g, 20000) == 0 && g.done;
        ht_rec_free(&g);
    }
    ht_rec t;
    ht_rec_init(&t);
    int rc = c ? ht_wait(c, cn_client_tree(c, "", err, sizeof err), &t, 5000) : -1;
    snprintf(msg, sizeof msg, "%d of 70 Generates done; status %d, %d compositions listed "
             "(want 71)", ok, rc, t.tree_comps);
    cn_check_true(&chk, "the list of compositions holds all 71", ok == 70 && rc == 0 &&
                  t.tree_comps == 71, msg);
    ht_rec_free(&t);
}

int main(void)
{
    char dir[512], store[600];
    ht_tmpdir(dir, sizeof dir, "flow");
    snprintf(store, sizeof store, "%s/store", dir);
    fake_engine fe = {0};
    cn_runner run;
    fake_runner(&run, &fe);
    cn_server_config extra = {0};
    extra.preview_interval_s = 1e-6;
    cn_server *s = ht_server(&run, dir, store, &extra);
    if (!s) return 1;
    cn_client *c = ht_client(cn_server_endpoint(s), "flow");
    cn_check_true(&chk, "client says hello and gets a welcome", c != NULL, "");
    if (c) {
        const cn_helper_info *i = cn_client_info(c);
        char msg[256];
        snprintf(msg, sizeof msg, "model set %s, hops %u/%u/%u, songs %.2f-%.2f s", i->model_set,
                 i->hop[0], i->hop[1], i->hop[2], i->min_total_seconds, i->max_total_seconds);
        cn_check_true(&chk, "welcome carries the model's limits", !strcmp(i->model_set,
                      "fake-test-double") && i->hop[2] == 128 && i->max_total_seconds == 2.0,
                      msg);
        s_loop(c, dir);
        cn_client_close(&c);
    }
    cn_server_stop(&s);
    /* Everything finished is served again by a new helper over the same store. */
    s = ht_server(&run, dir, store, NULL);
    c = s ? ht_client(cn_server_endpoint(s), "flow2") : NULL;
    ht_rec t;
    ht_rec_init(&t);
    char err[256], msg[256];
    int rc = c ? ht_wait(c, cn_client_tree(c, "c1", err, sizeof err), &t, 5000) : -1;
    snprintf(msg, sizeof msg, "status %d, %d nodes", rc, t.tree_nodes);
    cn_check_true(&chk, "after a restart the store serves the same 13 nodes", rc == 0 &&
                  t.tree_nodes == 13, msg);
    s_many(c);
    cn_client_close(&c);
    cn_server_stop(&s);
    return cn_check_finish(&chk);
}
