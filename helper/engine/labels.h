/* SPDX-License-Identifier: MIT
 * Labels of the priors (facts 5, 7.2): artist/genre ids from `name;id` tables, the lyric window
 * chooser (exact and float32 arithmetic) and the label vector y of a window. No I/O, no globals.
 */
#ifndef CN_LABELS_H
#define CN_LABELS_H

#include <stddef.h>
#include <stdint.h>

#define CN_LABELS_MAX_GENRES 16   /* storage cap; the model's max_genre_words (5 or 1) rules */

/* What a model's labeller looks like (hparams labels / labels_v3, n_tokens, window). */
typedef struct cn_label_geom {
    int v3;                 /* 1: prior_1b_lyrics tables and vocabulary; 0: v2 */
    int max_genre_words;    /* genre slots: 5 (v2) or 1 (v3) */
    int n_tokens;           /* lyric slots per window (0 = no lyrics) */
    int64_t sample_length;  /* window length in audio samples: n_ctx x hop of the level */
} cn_label_geom;

/* Length of y: 4 + max_genre_words + n_tokens (9, 521, 389 for the released models). */
int cn_labels_y_len(const cn_label_geom *g);

/* ---- artist / genre tables ---- */

typedef struct cn_label_tables cn_label_tables;   /* opaque; owner: whoever made it */

/* Parses the two tables (text of `name;id` lines, as in jukebox/data/ids or the model-file
 * metadata continuo.artist_ids / continuo.genre_ids). Names are lowercased on load; when a name
 * occurs twice the later line wins (as the reference's dict does). Returns 0, or -1 with a
 * message naming the table and line. */
int cn_label_tables_new(cn_label_tables **t, const char *artist_text, const char *genre_text,
                        int v3, char *err, size_t errlen);
void cn_label_tables_destroy(cn_label_tables **t);
/* Entries loaded (lines), for messages and tests. */
int cn_label_tables_count(const cn_label_tables *t, int genres);

typedef struct cn_label_ids {
    int artist;
    int n_genres;           /* words of a v2 genre, 1 for v3 */
    int genres[CN_LABELS_MAX_GENRES];
} cn_label_ids;

/* Artist and genre to ids, refusing unknown names: v2 looks up norm(artist) and each word of
 * norm(genre) (norm: lowercase, runs of characters outside a-z0-9 become one '_', stripped at
 * both ends; genre words are split at '_'); v3 looks up the lowercased strings whole.
 * Returns 0, or -1 with a message naming the unknown name (and what it was looked up as) and
 * up to 5 near matches, or the word count when there are more than MAX_GENRE_WORDS. */
int cn_labels_lookup(const cn_label_tables *t, int max_genre_words, const char *artist,
                     const char *genre, cn_label_ids *ids, char *err, size_t errlen);
/* The reference's lookup: unknown names map to id 0. Still refuses more genre words than
 * MAX_GENRE_WORDS (the reference asserts). */
int cn_labels_lookup_raw(const cn_label_tables *t, int max_genre_words, const char *artist,
                         const char *genre, cn_label_ids *ids, char *err, size_t errlen);

/* v2 normalisation of NAME into OUT (at most outlen-1 bytes, always terminated). */
void cn_labels_norm_v2(const char *name, char *out, size_t outlen);
/* Unicode lowercase (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic) of UTF-8 NAME into
 * OUT; other characters are copied unchanged. */
void cn_labels_lower_utf8(const char *name, char *out, size_t outlen);

/* ---- lyric window (data/labels.py get_relevant_lyric_tokens) ---- */

/* Index into the song's full lyric id list of the window's first lyric slot; slot k holds
 * index first + k, and an index < 0 is left padding (id 0). N_FULL < N_TOKENS gives
 * first = n_full - n_tokens. Otherwise midpoint = int(n_full * (offset + duration/2) / total)
 * clamped to [n_tokens/2, n_full - n_tokens/2], first = midpoint - n_tokens/2, where
 * FLOAT32_PATH selects the per-window sampler arithmetic (every step rounded to float32) and 0
 * the exact arithmetic of get_label. Returns 0, or -1 when offset is outside [0, total). */
int cn_lyric_window_first(int64_t n_full, int n_tokens, int64_t total_length, int64_t offset,
                          int64_t duration, int float32_path, int64_t *first, char *err,
                          size_t errlen);

/* ---- the label vector ---- */

typedef struct cn_label_song {
    int64_t total_length;   /* whole song, audio samples */
    int64_t offset;         /* song-level offset in samples (0 when sampling) */
    cn_label_ids ids;
    const int32_t *lyric_ids;   /* the full cleaned lyric ids (cn_text_tokens); may be NULL */
    int64_t n_lyric;
} cn_label_song;

/* y = [total_length, offset + add_offset, sample_length, artist, genres (-1 = empty slot),
 * lyric ids of the window] into Y (cn_labels_y_len ints). ADD_OFFSET is start x hop for a
 * window at token START (SimplePrior.get_y); FLOAT32_PATH as for cn_lyric_window_first (1 for
 * the sampler's windows, 0 for Labeller.get_label). LYRIC_INDEX (n_tokens ints, may be NULL)
 * receives each slot's index into the full list, -1 for padding. Returns 0, or -1 when the
 * window starts at or after the song's end (the reference refuses it), a value does not fit
 * int32, or there are more genres than slots. */
int cn_labels_y(const cn_label_geom *g, const cn_label_song *s, int64_t add_offset,
                int float32_path, int32_t *y, int64_t *lyric_index, char *err, size_t errlen);

/* The song length a top-level prior accepts (its timing signal, facts 5), checked with the
 * reference's float32 rounding: min_duration*sr <= total_length < max_duration*sr. Returns 0,
 * or -1 with "song is 30.00 s (1323000 samples); this model takes 60.00 s to under 600.00 s". */
int cn_labels_check_total(int64_t total_length, double min_duration, double max_duration,
                          int sr, char *err, size_t errlen);

#endif
