/* SPDX-License-Identifier: MIT
 * Unit test of labels, lyrics text, timing refusals and the window planner on small tables
 * made here: what a user sees when a name, a genre, a song length or a schedule is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "labels.h"
#include "text.h"
#include "timing.h"
#include "windows.h"

static const char s_artists_v2[] =
    "unknown;0\n;0\nalan_jackson;1\nthe_beatles;2\nthe_beach_boys;3\nbeatles_tribute;4\n"
    "ella_fitzgerald;5\nc_line_dion;6\n";
static const char s_genres_v2[] = "unknown;0\nrock;1\npop;2\ncountry;3\njazz;4\nblues;5\nn;6\nroll;7\n";
static const char s_artists_v3[] = "céline dion;10\nthe beatles;11\nspeaker;12\nspeaker;13\n";
static const char s_genres_v3[] = "pop rock;20\nacid rock;21\n";

/* ok when RC is -1 and the message contains every one of the NEEDLES (NULL-terminated). */
static void s_refused(cn_check *c, const char *what, int rc, const char *msg,
                      const char *const *needles)
{
    int ok = rc == -1;
    for (const char *const *n = needles; ok && *n; n++) ok = strstr(msg, *n) != NULL;
    char d[1200];
    snprintf(d, sizeof d, "rc %d, message: %s", rc, msg);
    cn_check_true(c, what, ok, d);
}

static void s_lookups(cn_check *c)
{
    cn_label_tables *t2 = NULL, *t3 = NULL;
    char err[1024] = "";
    int rc = cn_label_tables_new(&t2, s_artists_v2, s_genres_v2, 0, err, sizeof err);
    rc |= cn_label_tables_new(&t3, s_artists_v3, s_genres_v3, 1, err, sizeof err);
    if (!cn_check_true(c, "tables parse", rc == 0, rc ? err : NULL)) return;

    cn_label_ids ids;
    rc = cn_labels_lookup(t2, 5, "Céline Dion", "Rock n Roll / Pop-Rock", &ids, err, sizeof err);
    char d[256];
    snprintf(d, sizeof d, "artist %d, genres %d: %d %d %d %d %d", ids.artist, ids.n_genres,
             ids.genres[0], ids.genres[1], ids.genres[2], ids.genres[3], ids.genres[4]);
    cn_check_true(c, "v2 'Céline Dion' / 'Rock n Roll / Pop-Rock' -> 6 / 1 6 7 2 1", rc == 0 &&
                  ids.artist == 6 && ids.n_genres == 5 && ids.genres[0] == 1 &&
                  ids.genres[1] == 6 && ids.genres[2] == 7 && ids.genres[3] == 2 &&
                  ids.genres[4] == 1, rc ? err : d);

    rc = cn_labels_lookup(t2, 5, "The Beatle", "Rock", &ids, err, sizeof err);
    s_refused(c, "unknown artist is refused, named, with near matches", rc, err,
              (const char *const[]){ "The Beatle", "the_beatle", "near matches", "'the_beatles'",
                                     NULL });
    rc = cn_labels_lookup(t2, 5, "Beatles", "Rock", &ids, err, sizeof err);
    s_refused(c, "a partial name lists the names containing it first", rc, err,
              (const char *const[]){ "near matches: 'the_beatles', 'beatles_tribute'", NULL });
    rc = cn_labels_lookup_raw(t2, 5, "The Beatle", "Rock", &ids, err, sizeof err);
    cn_check_true(c, "reference lookup maps the unknown artist to 0", rc == 0 && ids.artist == 0,
                  rc ? err : "artist id 0");

    rc = cn_labels_lookup(t2, 5, "Alan Jackson", "rock pop jazz blues country rock", &ids, err,
                          sizeof err);
    s_refused(c, "six genre words are refused", rc, err,
              (const char *const[]){ "6 words", "at most 5", NULL });
    rc = cn_labels_lookup_raw(t2, 5, "Alan Jackson", "rock pop jazz blues country rock", &ids,
                              err, sizeof err);
    s_refused(c, "six genre words are refused by the reference lookup too", rc, err,
              (const char *const[]){ "6 words", NULL });

    rc = cn_labels_lookup(t2, 5, "Alan Jackson", "Rock Polka", &ids, err, sizeof err);
    s_refused(c, "unknown genre word is refused and named", rc, err,
              (const char *const[]){ "'polka'", "Rock Polka", "near matches", NULL });

    rc = cn_labels_lookup(t3, 1, "CÉLINE DION", "Pop Rock", &ids, err, sizeof err);
    snprintf(d, sizeof d, "artist %d genre %d", ids.artist, ids.genres[0]);
    cn_check_true(c, "v3 lowercases whole names (also É) -> 10 / 20", rc == 0 && ids.artist == 10 &&
                  ids.n_genres == 1 && ids.genres[0] == 20, rc ? err : d);
    rc = cn_labels_lookup(t3, 1, "speaker", "acid rock", &ids, err, sizeof err);
    cn_check_true(c, "a name listed twice takes the later id (13)", rc == 0 && ids.artist == 13,
                  rc ? err : NULL);
    rc = cn_labels_lookup(t3, 1, "The Beatles", "Rock", &ids, err, sizeof err);
    s_refused(c, "v3 unknown genre is refused with near matches", rc, err,
              (const char *const[]){ "genre 'rock'", "'acid rock'", NULL });

    cn_label_tables *bad = NULL;
    rc = cn_label_tables_new(&bad, "alan;1\nbroken line\n", s_genres_v2, 0, err, sizeof err);
    s_refused(c, "a malformed table line is refused with its line number", rc, err,
              (const char *const[]){ "artist table line 2", "broken line", NULL });
    cn_label_tables_destroy(&t2);
    cn_label_tables_destroy(&t3);
    cn_check_true(c, "destroy nulls the pointer", t2 == NULL && t3 == NULL, NULL);
}

static void s_lengths(cn_check *c)
{
    char err[512] = "";
    int rc = cn_labels_check_total(1323000, 60.0, 600.0, 44100, err, sizeof err);
    s_refused(c, "a 30 s song for prior_5b is refused with the value and range", rc, err,
              (const char *const[]){ "30.00 s", "60.00 s", "600.00 s", NULL });
    rc = cn_labels_check_total(26459999, 17.84, 600.0, 44100, err, sizeof err);
    s_refused(c, "600 s minus one sample is refused (float32 rounding)", rc, err,
              (const char *const[]){ "26459999", "float32", NULL });
    rc = cn_labels_check_total(2646000, 60.0, 600.0, 44100, err, sizeof err);
    cn_check_true(c, "a 60 s song for prior_5b is accepted", rc == 0, rc ? err : NULL);

    cn_timing_geom g = { .t_bins = 128, .min_duration = 60, .max_duration = 600, .sr = 44100 };
    int tb, ab[16], rb[16];
    rc = cn_timing_bins(&g, 1323000, 0, 1048576, 16, &tb, ab, rb, err, sizeof err);
    s_refused(c, "timing bins refuse a 30 s song for prior_5b", rc, err,
              (const char *const[]){ "30.00 s", "60.00 s", NULL });
    rc = cn_timing_bins(&g, 4410000, 4410000, 1048576, 16, &tb, ab, rb, err, sizeof err);
    s_refused(c, "timing bins refuse a window starting at the song's end", rc, err,
              (const char *const[]){ "100.00 s", NULL });

    cn_label_geom lg = { .v3 = 0, .max_genre_words = 5, .n_tokens = 4, .sample_length = 1000 };
    cn_label_song s = { .total_length = 10000, .offset = 0, .ids = { .artist = 1, .n_genres = 1 } };
    int32_t lyr[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, y[16];
    int64_t ix[4];
    s.lyric_ids = lyr;
    s.n_lyric = 10;
    rc = cn_labels_y(&lg, &s, 10000, 1, y, ix, err, sizeof err);
    s_refused(c, "a window starting at the song's end gets no label", rc, err,
              (const char *const[]){ "outside the song", NULL });
    rc = cn_labels_y(&lg, &s, 5000, 1, y, ix, err, sizeof err);
    char d[256];
    snprintf(d, sizeof d, "y = %d %d %d %d %d %d | %d %d %d %d, indices %lld..%lld", y[0], y[1],
             y[2], y[3], y[4], y[5], y[9], y[10], y[11], y[12], (long long)ix[0], (long long)ix[3]);
    /* midpoint int(10 * 5500 / 10000) = 5 -> slice 3..6 */
    cn_check_true(c, "label vector of a window in the middle of a 10-character lyric",
                  rc == 0 && y[0] == 10000 && y[1] == 5000 && y[2] == 1000 && y[3] == 1 &&
                  y[5] == -1 && y[9] == 4 && y[12] == 7 && ix[0] == 3 && ix[3] == 6, d);
}

static void s_text(cn_check *c)
{
    char *out = NULL, err[256] = "";
    cn_text_report rep;
    int rc = cn_text_clean("ok \xC3\x28 bad", 0, &out, &rep, err, sizeof err);
    s_refused(c, "invalid UTF-8 lyrics are refused with the byte offset", rc, err,
              (const char *const[]){ "byte 3", NULL });
    rc = cn_text_clean("na\xE0\xA4\x95me Привет 안녕", 0, &out, &rep, err, sizeof err);
    char d[256];
    snprintf(d, sizeof d, "'%s', %lld untransliterated, first U+%04X", out ? out : "",
             (long long)rep.n_untransliterated, rep.first_untransliterated);
    cn_check_true(c, "uncovered scripts are dropped and reported; Cyrillic and Hangul romanised",
                  rc == 0 && strcmp(out, "name Privet annyeong") == 0 &&
                  rep.n_untransliterated == 1 && rep.first_untransliterated == 0x915, d);
    free(out);
}

static void s_windows(cn_check *c)
{
    char err[512] = "";
    cn_window_plan p;
    cn_window_plan_cfg cfg = { .level = 1, .n_ctx = 8192, .total_length = 27560, .hop_length = 9000,
                               .raw_to_tokens = 32, .cond_ratio = 4, .above_len = -1,
                               .song_total_length = 10584000 };
    int rc = cn_window_plan_make(&cfg, &p, err, sizeof err);
    s_refused(c, "a hop longer than the window is refused", rc, err,
              (const char *const[]){ "9000", "8192", NULL });
    cfg.hop_length = 4096;
    cfg.above_len = 5000;
    rc = cn_window_plan_make(&cfg, &p, err, sizeof err);
    s_refused(c, "an upsampler window beyond the level-above codes is refused", rc, err,
              (const char *const[]){ "only 5000", NULL });
    /* The engine's own mode: a level of 1000 tokens holding 600 grows to 1000, not 1600. */
    cn_window_plan_cfg top = { .level = 2, .n_ctx = 8192, .total_length = 1000, .have = 600,
                               .hop_length = 1024, .raw_to_tokens = 128,
                               .song_total_length = 10584000 };
    rc = cn_window_plan_make(&top, &p, err, sizeof err);
    char d[256];
    snprintf(d, sizeof d, "%lld window(s), start %lld, existing %lld, new %lld, after %lld",
             (long long)p.n, p.n ? (long long)p.w[0].start : -1,
             p.n ? (long long)p.w[0].existing : -1, p.n ? (long long)p.w[0].new_tokens : -1,
             (long long)p.tokens_after);
    cn_check_true(c, "short level without the quirk grows to its target", rc == 0 && p.n == 1 &&
                  p.w[0].start == 0 && p.w[0].existing == 600 && p.w[0].new_tokens == 400 &&
                  p.tokens_after == 1000, rc ? err : d);
    cn_window_plan_free(&p);
    top.partial_quirk = 1;
    rc = cn_window_plan_make(&top, &p, err, sizeof err);
    snprintf(d, sizeof d, "after %lld", (long long)p.tokens_after);
    cn_check_true(c, "with the reference's quirk it grows to have + total (1600)",
                  rc == 0 && p.tokens_after == 1600, rc ? err : d);
    cn_window_plan_free(&p);
}

int main(void)
{
    cn_check c = { 0, 0 };
    s_lookups(&c);
    s_lengths(&c);
    s_text(&c);
    s_windows(&c);
    return cn_check_finish(&c);
}
