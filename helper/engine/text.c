/* SPDX-License-Identifier: MIT
 * Lyrics cleaning and tokenising for the v2 and v3 vocabularies (facts 7.1).
 * Never keeps state; every result is malloc'd for the caller, every failure is a status.
 */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ids 1.. in order; v3 is the same without '+'. */
static const char s_vocab_v2[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                 ".,:;!?-+'\"()[] \t\n";
static const char s_vocab_v3[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                 ".,:;!?-'\"()[] \t\n";

static const char *s_vocab(int v3) { return v3 ? s_vocab_v3 : s_vocab_v2; }

int cn_text_n_vocab(int v3) { return (int)strlen(s_vocab(v3)) + 1; }

int cn_text_char_id(int v3, int ch)
{
    if (ch <= 0 || ch > 127) return 0;
    const char *p = strchr(s_vocab(v3), ch);
    return p ? (int)(p - s_vocab(v3)) + 1 : 0;
}

int cn_text_id_char(int v3, int id)
{
    if (id < 1 || id >= cn_text_n_vocab(v3)) return 0;
    return (unsigned char)s_vocab(v3)[id - 1];
}

int cn_text_utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
            : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || (size_t)len > n) return 0;
    unsigned v = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    static const unsigned min_of_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < min_of_len[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* Appends the kept characters of ASCII text A to out (capacity checked by the caller:
 * at most 16 bytes per code point, see cn_text_translit_cp). */
static size_t s_keep(const char *a, int v3, char *out, size_t n)
{
    for (; *a; a++) {
        int ch = *a == '\\' ? '\n' : (unsigned char)*a;
        if (cn_text_char_id(v3, ch)) out[n++] = (char)ch;
    }
    return n;
}

int cn_text_clean(const char *utf8, int v3, char **out, cn_text_report *rep, char *err,
                  size_t errlen)
{
    cn_text_report r = { 0, 0 };
    const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");
    size_t len = strlen((const char *)s), n = 0;
    /* No code point gives more than 3 bytes out per byte of its UTF-8 form (" 1/4 " from 2
     * bytes, a Hangul syllable of up to 7 from 3, "Shang " from 3), so 6 per byte is safe. */
    char *buf = malloc(len * 6 + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory cleaning %zu bytes of lyrics", len);
        return -1;
    }
    for (size_t i = 0; i < len;) {
        unsigned cp;
        int k = cn_text_utf8_next(s + i, len - i, &cp);
        if (k == 0) {
            snprintf(err, errlen, "lyrics are not valid UTF-8 at byte %zu (0x%02X)", i, s[i]);
            free(buf);
            return -1;
        }
        char tmp[16];
        const char *a = cn_text_translit_cp(cp, tmp, sizeof tmp);
        if (!a) {
            if (r.n_untransliterated++ == 0) r.first_untransliterated = cp;
            a = "";
        }
        n = s_keep(a, v3, buf, n);
        i += (size_t)k;
    }
    buf[n] = 0;
    *out = buf;
    if (rep) *rep = r;
    return 0;
}

int cn_text_tokens(const char *utf8, int v3, int32_t **ids, int64_t *n, cn_text_report *rep,
                   char *err, size_t errlen)
{
    char *clean;
    if (cn_text_clean(utf8, v3, &clean, rep, err, errlen) != 0) return -1;
    size_t len = strlen(clean);
    int32_t *t = len ? malloc(len * sizeof *t) : NULL;
    if (len && !t) {
        free(clean);
        snprintf(err, errlen, "out of memory tokenising %zu lyric characters", len);
        return -1;
    }
    for (size_t i = 0; i < len; i++) t[i] = cn_text_char_id(v3, (unsigned char)clean[i]);
    free(clean);
    *ids = t;
    *n = (int64_t)len;
    return 0;
}
