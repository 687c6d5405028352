/* SPDX-License-Identifier: MIT
 * Lyrics text: transliteration to ASCII, cleaning and the v2/v3 character vocabularies
 * (facts 7.1). Pure functions over caller memory or malloc'd results the caller frees.
 */
#ifndef CN_TEXT_H
#define CN_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Vocabulary sizes (ids 0 .. n-1; 0 = unknown/padding). */
#define CN_TEXT_N_VOCAB_V2 80
#define CN_TEXT_N_VOCAB_V3 79

/* What cleaning could not do exactly like the reference: code points this build has no
 * transliteration for (they are dropped; the reference would have romanised them). */
typedef struct cn_text_report {
    int64_t n_untransliterated;     /* count of such code points */
    unsigned first_untransliterated; /* the first of them (e.g. 0x4E2D), 0 if none */
} cn_text_report;

/* ASCII text of one code point (unidecode-like), "" for characters that vanish, or NULL when
 * this build has no table entry for it. BUF (>= 16 bytes) may be used for computed results. */
const char *cn_text_translit_cp(unsigned cp, char *buf, size_t len);

/* Number of ids of the vocabulary (80 for v2, 79 for v3). */
int cn_text_n_vocab(int v3);
/* Id of ASCII character CH in the vocabulary, 0 if CH is not in it. */
int cn_text_char_id(int v3, int ch);
/* Character of id (1 .. n_vocab-1), or 0 for id 0 / out of range. */
int cn_text_id_char(int v3, int id);

/* Cleaning (TextProcessor.clean): transliterate UTF-8 to ASCII, turn every backslash into a
 * newline, delete every character outside the vocabulary. *out is malloc'd, NUL-terminated.
 * REP (may be NULL) receives what could not be transliterated. Returns 0, or -1 with a
 * message naming the byte offset when UTF8 is not valid UTF-8. */
int cn_text_clean(const char *utf8, int v3, char **out, cn_text_report *rep, char *err,
                  size_t errlen);

/* Clean and tokenise: *ids (malloc'd, may be NULL when *n is 0) gets one id per cleaned
 * character. Same errors as cn_text_clean. */
int cn_text_tokens(const char *utf8, int v3, int32_t **ids, int64_t *n, cn_text_report *rep,
                   char *err, size_t errlen);

/* Decodes one UTF-8 sequence at S (N bytes left): code point in *cp, returns its length, or
 * 0 when the bytes are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF). */
int cn_text_utf8_next(const unsigned char *s, size_t n, unsigned *cp);

#endif
