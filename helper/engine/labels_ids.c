/* SPDX-License-Identifier: MIT
 * Artist/genre names to ids (data/artist_genre_processor.py, facts 5): table parsing, v2/v3
 * normalisation, strict lookup with near matches, and the reference's unknown-is-0 lookup.
 * Never reads files itself: the caller hands the table text in.
 */
#include "labels.h"
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME_MAX 512

typedef struct s_table {
    char **names;       /* lowercased */
    int *ids;
    int n;
} s_table;

struct cn_label_tables {
    s_table artists, genres;
    int v3;
};

/* ---- lowercase and normalisation ---- */

static unsigned s_lower_cp(unsigned c)
{
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
    if (c >= 0x100 && c <= 0x137) return c | 1;                          /* pairs */
    if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return c | 1;
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;           /* Greek */
    if (c >= 0x410 && c <= 0x42F) return c + 32;                         /* Cyrillic */
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

static size_t s_put_utf8(unsigned c, char *o)
{
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

void cn_labels_lower_utf8(const char *name, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t len = strlen(name), n = 0;
    for (size_t i = 0; i < len;) {
        unsigned c;
        int k = cn_text_utf8_next(s + i, len - i, &c);
        if (k == 0) { c = s[i]; k = 1; }              /* invalid byte: keep it as is */
        char tmp[4];
        size_t m = k == 1 && c >= 0x80 ? (tmp[0] = (char)c, 1) : s_put_utf8(s_lower_cp(c), tmp);
        if (n + m >= outlen) break;
        memcpy(out + n, tmp, m);
        n += m;
        i += (size_t)k;
    }
    if (outlen) out[n] = 0;
}

void cn_labels_norm_v2(const char *name, char *out, size_t outlen)
{
    size_t n = 0;
    int pending = 0;                                 /* a '_' run waiting for a next char */
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 2 < outlen; p++) {
        int c = tolower(*p < 0x80 ? *p : 0);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (pending && n > 0) out[n++] = '_';
            out[n++] = (char)c;
            pending = 0;
        } else {
            pending = 1;
        }
    }
    if (outlen) out[n] = 0;
}

/* ---- tables ---- */

static void s_table_free(s_table *t)
{
    for (int i = 0; i < t->n; i++) free(t->names[i]);
    free(t->names);
    free(t->ids);
    memset(t, 0, sizeof *t);
}

/* Strips Python-style whitespace at both ends of [b, e). */
static void s_strip(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b)) (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1])) (*e)--;
}

static int s_table_add(s_table *t, const char *b, const char *e, const char *what, int line,
                       char *err, size_t errlen)
{
    const char *semi = memchr(b, ';', (size_t)(e - b));
    if (!semi || memchr(semi + 1, ';', (size_t)(e - semi - 1))) {
        snprintf(err, errlen, "%s table line %d is not `name;id`: '%.*s'", what, line,
                 (int)(e - b > 60 ? 60 : e - b), b);
        return -1;
    }
    char num[32], *end;
    size_t nl = (size_t)(e - semi - 1);
    if (nl == 0 || nl >= sizeof num) goto bad_id;
    memcpy(num, semi + 1, nl);
    num[nl] = 0;
    long id = strtol(num, &end, 10);
    if (*end || id < 0 || id > 1000000) goto bad_id;
    char raw[S_NAME_MAX], low[S_NAME_MAX];
    size_t len = (size_t)(semi - b) < sizeof raw - 1 ? (size_t)(semi - b) : sizeof raw - 1;
    memcpy(raw, b, len);
    raw[len] = 0;
    cn_labels_lower_utf8(raw, low, sizeof low);
    char **nn = realloc(t->names, (size_t)(t->n + 1) * sizeof *nn);
    if (nn) t->names = nn;
    int *ni = nn ? realloc(t->ids, (size_t)(t->n + 1) * sizeof *ni) : NULL;
    if (ni) t->ids = ni;
    char *copy = ni ? strdup(low) : NULL;
    if (!copy) {
        snprintf(err, errlen, "out of memory loading the %s table at line %d", what, line);
        return -1;
    }
    t->names[t->n] = copy;
    t->ids[t->n++] = (int)id;
    return 0;
bad_id:
    snprintf(err, errlen, "%s table line %d: id '%.*s' is not a number in 0..1000000", what,
             line, (int)(e - semi - 1 > 20 ? 20 : e - semi - 1), semi + 1);
    return -1;
}

static int s_table_parse(s_table *t, const char *text, const char *what, char *err,
                         size_t errlen)
{
    if (!text) {
        snprintf(err, errlen, "no %s table given", what);
        return -1;
    }
    int line = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        const char *e = nl ? nl : p + strlen(p), *b = p;
        line++;
        s_strip(&b, &e);
        if (b < e && s_table_add(t, b, e, what, line, err, errlen) != 0) return -1;
        p = nl ? nl + 1 : e;
    }
    if (t->n == 0) {
        snprintf(err, errlen, "the %s table is empty", what);
        return -1;
    }
    return 0;
}

int cn_label_tables_new(cn_label_tables **out, const char *artist_text, const char *genre_text,
                        int v3, char *err, size_t errlen)
{
    cn_label_tables *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory for label tables");
        return -1;
    }
    t->v3 = v3;
    if (s_table_parse(&t->artists, artist_text, "artist", err, errlen) != 0 ||
        s_table_parse(&t->genres, genre_text, "genre", err, errlen) != 0) {
        cn_label_tables_destroy(&t);
        return -1;
    }
    *out = t;
    return 0;
}

void cn_label_tables_destroy(cn_label_tables **t)
{
    if (!t || !*t) return;
    s_table_free(&(*t)->artists);
    s_table_free(&(*t)->genres);
    free(*t);
    *t = NULL;
}

int cn_label_tables_count(const cn_label_tables *t, int genres)
{
    return genres ? t->genres.n : t->artists.n;
}

/* ---- lookup ---- */

/* Id of KEY, the last line with that name winning; -1 when absent. */
static int s_find(const s_table *t, const char *key)
{
    for (int i = t->n - 1; i >= 0; i--)
        if (strcmp(t->names[i], key) == 0) return t->ids[i];
    return -1;
}

static int s_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 200) la = 200;
    if (lb > 200) lb = 200;
    int row[201];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Longest run of at least 3 letters of A that is also in B (a shared word or stem). */
static int s_shared_run(const char *a, const char *b)
{
    int best = 0;
    for (const char *p = a; *p; p++) {
        int left = (int)strlen(p);
        for (int n = 3; n <= left && n < 64; n++) {
            char part[64];
            memcpy(part, p, (size_t)n);
            part[n] = 0;
            if (!strstr(b, part)) break;
            if (n > best) best = n;
        }
    }
    return best;
}

/* Smaller is nearer: edit distance, halved when the name contains what was typed, and
 * lowered by the length of the longest shared run of letters. */
static int s_score(const char *key, const char *name)
{
    int d = s_edit_distance(key, name);
    if (key[0] && strstr(name, key)) return d / 2;
    int run = s_shared_run(key, name);
    return run >= 3 ? d - run / 2 : d;
}

/* Appends "; near matches: 'a', 'b', ..." (up to 5, closest first) to MSG. */
static void s_near(const s_table *t, const char *key, char *msg, size_t len)
{
    int best[5], dist[5], nb = 0;
    for (int i = 0; i < t->n; i++) {
        if (!t->names[i][0]) continue;
        int d = s_score(key, t->names[i]);
        int dup = 0;
        for (int k = 0; k < nb; k++) dup |= strcmp(t->names[best[k]], t->names[i]) == 0;
        if (dup) continue;
        int pos = nb < 5 ? nb++ : 5;
        while (pos > 0 && dist[pos - 1] > d) {
            if (pos < 5) { best[pos] = best[pos - 1]; dist[pos] = dist[pos - 1]; }
            pos--;
        }
        if (pos < 5) { best[pos] = i; dist[pos] = d; }
    }
    size_t n = strlen(msg);
    for (int k = 0; k < nb && n < len; k++) {
        snprintf(msg + n, len - n, "%s'%s'", k ? ", " : "; near matches: ", t->names[best[k]]);
        n = strlen(msg);
    }
}

static int s_lookup(const cn_label_tables *t, int max_words, const char *artist,
                    const char *genre, int strict, cn_label_ids *ids, char *err, size_t errlen)
{
    char key[S_NAME_MAX], words[S_NAME_MAX];
    memset(ids, 0, sizeof *ids);
    if (t->v3) cn_labels_lower_utf8(artist ? artist : "", key, sizeof key);
    else cn_labels_norm_v2(artist ? artist : "", key, sizeof key);
    ids->artist = s_find(&t->artists, key);
    if (ids->artist < 0) {
        if (strict) {
            snprintf(err, errlen, "artist '%s' (looked up as '%s') is not in this model's "
                     "artist table", artist ? artist : "", key);
            s_near(&t->artists, key, err, errlen);
            return -1;
        }
        ids->artist = 0;
    }
    if (t->v3) cn_labels_lower_utf8(genre ? genre : "", words, sizeof words);
    else cn_labels_norm_v2(genre ? genre : "", words, sizeof words);
    int n = 1;
    if (!t->v3) for (const char *p = words; *p; p++) n += *p == '_';
    if (n > max_words || n > CN_LABELS_MAX_GENRES) {
        snprintf(err, errlen, "genre '%s' has %d words (%s); this model takes at most %d",
                 genre ? genre : "", n, words, max_words);
        return -1;
    }
    char *save = NULL, *w = t->v3 ? words : strtok_r(words, "_", &save);
    if (!w) w = words;                                /* empty genre: one empty word */
    for (int k = 0; k < n; k++) {
        int id = s_find(&t->genres, w);
        if (id < 0 && strict) {
            snprintf(err, errlen, "genre %s'%s'%s%s%s is not in this model's genre table",
                     t->v3 ? "" : "word ", w, t->v3 ? "" : " (from '", t->v3 ? "" : genre,
                     t->v3 ? "" : "')");
            s_near(&t->genres, w, err, errlen);
            return -1;
        }
        ids->genres[ids->n_genres++] = id < 0 ? 0 : id;
        w = t->v3 ? NULL : strtok_r(NULL, "_", &save);
        if (!w) w = "";
    }
    return 0;
}

int cn_labels_lookup(const cn_label_tables *t, int max_genre_words, const char *artist,
                     const char *genre, cn_label_ids *ids, char *err, size_t errlen)
{
    return s_lookup(t, max_genre_words, artist, genre, 1, ids, err, errlen);
}

int cn_labels_lookup_raw(const cn_label_tables *t, int max_genre_words, const char *artist,
                         const char *genre, cn_label_ids *ids, char *err, size_t errlen)
{
    return s_lookup(t, max_genre_words, artist, genre, 0, ids, err, errlen);
}
