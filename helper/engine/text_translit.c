/* SPDX-License-Identifier: MIT
 * Transliteration of one Unicode code point to ASCII, in the manner of Python's unidecode
 * (facts 7.1); only what text.c needs. Never allocates; NULL means "not covered here".
 *
 * Coverage (tables below): Latin-1, Latin Extended-A, most of Extended-B, Latin Extended
 * Additional (Vietnamese), combining marks (dropped), General Punctuation, fullwidth ASCII,
 * CJK punctuation (space, comma, full stop), Cyrillic (Russian/Ukrainian/Serbian letters),
 * Hiragana/Katakana (syllables), Hangul syllables (computed) and a small table of common Chinese
 * characters. The Latin tables were generated from Unicode decompositions (Python's
 * unicodedata, NFKD, ASCII part) with hand-written entries where unidecode differs (letters
 * without a decomposition, spacing accents, quotes, dashes, fractions). Emoji and other
 * symbols above U+FFFF give "" (unidecode has no data for them either).
 */
#include "text.h"

#include <stddef.h>

static const char *const s_latin[0x250 - 0xA0] = {
    " ", "!", "C/", "PS", "$?", "Y=", "|", "SS",  /* U+00A0 */
    "\"", "(c)", "a", "<<", "!", "", "(r)", "-",  /* U+00A8 */
    "deg", "+-", "2", "3", "'", "u", "P", "*",  /* U+00B0 */
    ",", "1", "o", ">>", " 1/4 ", " 1/2 ", " 3/4 ", "?",  /* U+00B8 */
    "A", "A", "A", "A", "A", "A", "AE", "C",  /* U+00C0 */
    "E", "E", "E", "E", "I", "I", "I", "I",  /* U+00C8 */
    "D", "N", "O", "O", "O", "O", "O", "x",  /* U+00D0 */
    "O", "U", "U", "U", "U", "Y", "Th", "ss",  /* U+00D8 */
    "a", "a", "a", "a", "a", "a", "ae", "c",  /* U+00E0 */
    "e", "e", "e", "e", "i", "i", "i", "i",  /* U+00E8 */
    "d", "n", "o", "o", "o", "o", "o", "/",  /* U+00F0 */
    "o", "u", "u", "u", "u", "y", "th", "y",  /* U+00F8 */
    "A", "a", "A", "a", "A", "a", "C", "c",  /* U+0100 */
    "C", "c", "C", "c", "C", "c", "D", "d",  /* U+0108 */
    "D", "d", "E", "e", "E", "e", "E", "e",  /* U+0110 */
    "E", "e", "E", "e", "G", "g", "G", "g",  /* U+0118 */
    "G", "g", "G", "g", "H", "h", "H", "h",  /* U+0120 */
    "I", "i", "I", "i", "I", "i", "I", "i",  /* U+0128 */
    "I", "i", "IJ", "ij", "J", "j", "K", "k",  /* U+0130 */
    "q", "L", "l", "L", "l", "L", "l", "L",  /* U+0138 */
    "l", "L", "l", "N", "n", "N", "n", "N",  /* U+0140 */
    "n", "'n", "NG", "ng", "O", "o", "O", "o",  /* U+0148 */
    "O", "o", "OE", "oe", "R", "r", "R", "r",  /* U+0150 */
    "R", "r", "S", "s", "S", "s", "S", "s",  /* U+0158 */
    "S", "s", "T", "t", "T", "t", "T", "t",  /* U+0160 */
    "U", "u", "U", "u", "U", "u", "U", "u",  /* U+0168 */
    "U", "u", "U", "u", "W", "w", "Y", "y",  /* U+0170 */
    "Y", "Z", "z", "Z", "z", "Z", "z", "s",  /* U+0178 */
    "b", NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+0180 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+0188 */
    NULL, "F", "f", NULL, NULL, NULL, NULL, "I",  /* U+0190 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+0198 */
    "O", "o", NULL, NULL, NULL, NULL, NULL, NULL,  /* U+01A0 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, "U",  /* U+01A8 */
    "u", NULL, NULL, NULL, NULL, "Z", "z", NULL,  /* U+01B0 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+01B8 */
    NULL, NULL, NULL, NULL, "DZ", "Dz", "dz", "LJ",  /* U+01C0 */
    "Lj", "lj", "NJ", "Nj", "nj", "A", "a", "I",  /* U+01C8 */
    "i", "O", "o", "U", "u", "U", "u", "U",  /* U+01D0 */
    "u", "U", "u", "U", "u", NULL, "A", "a",  /* U+01D8 */
    "A", "a", "AE", "ae", NULL, NULL, "G", "g",  /* U+01E0 */
    "K", "k", "O", "o", "O", "o", NULL, NULL,  /* U+01E8 */
    "j", "DZ", "Dz", "dz", "G", "g", NULL, NULL,  /* U+01F0 */
    "N", "n", "A", "a", "AE", "ae", "O", "o",  /* U+01F8 */
    "A", "a", "A", "a", "E", "e", "E", "e",  /* U+0200 */
    "I", "i", "I", "i", "O", "o", "O", "o",  /* U+0208 */
    "R", "r", "R", "r", "U", "u", "U", "u",  /* U+0210 */
    "S", "s", "T", "t", NULL, NULL, "H", "h",  /* U+0218 */
    NULL, NULL, NULL, NULL, NULL, NULL, "A", "a",  /* U+0220 */
    "E", "e", "O", "o", "O", "o", "O", "o",  /* U+0228 */
    "O", "o", "Y", "y", NULL, NULL, NULL, NULL,  /* U+0230 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+0238 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+0240 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+0248 */
};
static const char *const s_combining[0x370 - 0x300] = {
    "", "", "", "", "", "", "", "",  /* U+0300 */
    "", "", "", "", "", "", "", "",  /* U+0308 */
    "", "", "", "", "", "", "", "",  /* U+0310 */
    "", "", "", "", "", "", "", "",  /* U+0318 */
    "", "", "", "", "", "", "", "",  /* U+0320 */
    "", "", "", "", "", "", "", "",  /* U+0328 */
    "", "", "", "", "", "", "", "",  /* U+0330 */
    "", "", "", "", "", "", "", "",  /* U+0338 */
    "", "", "", "", "", "", "", "",  /* U+0340 */
    "", "", "", "", "", "", "", "",  /* U+0348 */
    "", "", "", "", "", "", "", "",  /* U+0350 */
    "", "", "", "", "", "", "", "",  /* U+0358 */
    "", "", "", "", "", "", "", "",  /* U+0360 */
    "", "", "", "", "", "", "", "",  /* U+0368 */
};
static const char *const s_latin_ext_add[0x1F00 - 0x1E00] = {
    "A", "a", "B", "b", "B", "b", "B", "b",  /* U+1E00 */
    "C", "c", "D", "d", "D", "d", "D", "d",  /* U+1E08 */
    "D", "d", "D", "d", "E", "e", "E", "e",  /* U+1E10 */
    "E", "e", "E", "e", "E", "e", "F", "f",  /* U+1E18 */
    "G", "g", "H", "h", "H", "h", "H", "h",  /* U+1E20 */
    "H", "h", "H", "h", "I", "i", "I", "i",  /* U+1E28 */
    "K", "k", "K", "k", "K", "k", "L", "l",  /* U+1E30 */
    "L", "l", "L", "l", "L", "l", "M", "m",  /* U+1E38 */
    "M", "m", "M", "m", "N", "n", "N", "n",  /* U+1E40 */
    "N", "n", "N", "n", "O", "o", "O", "o",  /* U+1E48 */
    "O", "o", "O", "o", "P", "p", "P", "p",  /* U+1E50 */
    "R", "r", "R", "r", "R", "r", "R", "r",  /* U+1E58 */
    "S", "s", "S", "s", "S", "s", "S", "s",  /* U+1E60 */
    "S", "s", "T", "t", "T", "t", "T", "t",  /* U+1E68 */
    "T", "t", "U", "u", "U", "u", "U", "u",  /* U+1E70 */
    "U", "u", "U", "u", "V", "v", "V", "v",  /* U+1E78 */
    "W", "w", "W", "w", "W", "w", "W", "w",  /* U+1E80 */
    "W", "w", "X", "x", "X", "x", "Y", "y",  /* U+1E88 */
    "Z", "z", "Z", "z", "Z", "z", "h", "t",  /* U+1E90 */
    "w", "y", "a", "s", NULL, NULL, "Ss", NULL,  /* U+1E98 */
    "A", "a", "A", "a", "A", "a", "A", "a",  /* U+1EA0 */
    "A", "a", "A", "a", "A", "a", "A", "a",  /* U+1EA8 */
    "A", "a", "A", "a", "A", "a", "A", "a",  /* U+1EB0 */
    "E", "e", "E", "e", "E", "e", "E", "e",  /* U+1EB8 */
    "E", "e", "E", "e", "E", "e", "E", "e",  /* U+1EC0 */
    "I", "i", "I", "i", "O", "o", "O", "o",  /* U+1EC8 */
    "O", "o", "O", "o", "O", "o", "O", "o",  /* U+1ED0 */
    "O", "o", "O", "o", "O", "o", "O", "o",  /* U+1ED8 */
    "O", "o", "O", "o", "U", "u", "U", "u",  /* U+1EE0 */
    "U", "u", "U", "u", "U", "u", "U", "u",  /* U+1EE8 */
    "U", "u", "Y", "y", "Y", "y", "Y", "y",  /* U+1EF0 */
    "Y", "y", NULL, NULL, NULL, NULL, NULL, NULL,  /* U+1EF8 */
};
static const char *const s_punct[0x2070 - 0x2000] = {
    " ", " ", " ", " ", " ", " ", " ", " ",  /* U+2000 */
    " ", " ", " ", "", "", "", "", "",  /* U+2008 */
    "-", "-", "-", "-", "--", "--", "||", "_",  /* U+2010 */
    "'", "'", ",", "'", "\"", "\"", ",,", "\"",  /* U+2018 */
    "+", "++", "*", "*>", ".", "..", "...", NULL,  /* U+2020 */
    "\n", "\n\n", "", "", "", "", "", " ",  /* U+2028 */
    "%0", "%00", "'", "''", "'''", "`", "``", "```",  /* U+2030 */
    NULL, "<", ">", NULL, "!!", NULL, " ", NULL,  /* U+2038 */
    NULL, NULL, NULL, NULL, "/", NULL, NULL, "??",  /* U+2040 */
    "?!", "!?", NULL, NULL, NULL, NULL, NULL, NULL,  /* U+2048 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  /* U+2050 */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, " ",  /* U+2058 */
    "", "", "", "", "", NULL, NULL, NULL,  /* U+2060 */
    NULL, NULL, "", "", "", "", "", "",  /* U+2068 */
};

/* U+0400..U+045F: the romanisation unidecode uses (Ё = Io, Х = Kh, Ц = Ts, Щ = Shch, Ю = Iu,
 * Я = Ia, hard and soft signs = '). */
static const char *const s_cyrillic[0x60] = {
    "Ie", "Io", "Dj", "Gj", "Ie", "Dz", "I", "Yi", "J", "Lj", "Nj", "Tsh", "Kj", "I", "U", "Dzh",
    "A", "B", "V", "G", "D", "E", "Zh", "Z", "I", "I", "K", "L", "M", "N", "O", "P",
    "R", "S", "T", "U", "F", "Kh", "Ts", "Ch", "Sh", "Shch", "'", "Y", "'", "E", "Iu", "Ia",
    "a", "b", "v", "g", "d", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p",
    "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "'", "y", "'", "e", "iu", "ia",
    "ie", "io", "dj", "gj", "ie", "dz", "i", "yi", "j", "lj", "nj", "tsh", "kj", "i", "u", "dzh",
};

/* U+3041..U+3096 hiragana; katakana U+30A1..U+30F6 are the same syllables 0x60 higher. */
static const char *const s_kana[0x56] = {
    "a", "a", "i", "i", "u", "u", "e", "e", "o", "o", "ka", "ga", "ki", "gi", "ku",
    "gu", "ke", "ge", "ko", "go", "sa", "za", "shi", "zi", "su", "zu", "se", "ze", "so", "zo",
    "ta", "da", "chi", "di", "tsu", "tsu", "du", "te", "de", "to", "do", "na", "ni", "nu", "ne",
    "no", "ha", "ba", "pa", "hi", "bi", "pi", "hu", "bu", "pu", "he", "be", "pe", "ho", "bo",
    "po", "ma", "mi", "mu", "me", "mo", "ya", "ya", "yu", "yu", "yo", "yo", "ra", "ri", "ru",
    "re", "ro", "wa", "wa", "wi", "we", "wo", "n", "vu", "ka", "ke",
};

/* Hangul syllables: initial, medial and final jamo romanised and joined. */
static const char *const s_hangul_l[19] = {
    "g", "gg", "n", "d", "dd", "r", "m", "b", "bb", "s", "ss", "", "j", "jj", "c", "k", "t",
    "p", "h",
};
static const char *const s_hangul_v[21] = {
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "weo",
    "we", "wi", "yu", "eu", "yi", "i",
};
static const char *const s_hangul_t[28] = {
    "", "g", "gg", "gs", "n", "nj", "nh", "d", "l", "lg", "lm", "lb", "ls", "lt", "lp", "lh",
    "m", "b", "bs", "s", "ss", "ng", "j", "c", "k", "t", "p", "h",
};

/* Common Chinese characters with one everyday reading, as unidecode writes them (capitalised
 * pinyin without tone, then a space). Readings with a common alternative
 * (了, 么, 没, 那, 谁, ...) are left out rather than guessed. */
static const struct { unsigned cp; const char *s; } s_hanzi[] = {
    { 0x4E00, "Yi " }, { 0x4E09, "San " }, { 0x4E0A, "Shang " }, { 0x4E0B, "Xia " },
    { 0x4E0D, "Bu " }, { 0x4E16, "Shi " }, { 0x4E2A, "Ge " }, { 0x4E2D, "Zhong " },
    { 0x4E3A, "Wei " }, { 0x4E4B, "Zhi " }, { 0x4E5F, "Ye " },
    { 0x4E8B, "Shi " }, { 0x4E8C, "Er " }, { 0x4EBA, "Ren " },
    { 0x4ECA, "Jin " }, { 0x4ED6, "Ta " }, { 0x4EEC, "Men " }, { 0x4F60, "Ni " },
    { 0x4F86, "Lai " }, { 0x513F, "Er " }, { 0x5929, "Tian " }, { 0x5973, "Nu " },
    { 0x597D, "Hao " }, { 0x5979, "Ta " }, { 0x5B50, "Zi " }, { 0x5BB6, "Jia " },
    { 0x5C0F, "Xiao " }, { 0x5FC3, "Xin " }, { 0x5FD8, "Wang " }, { 0x604B, "Lian " },
    { 0x60C5, "Qing " }, { 0x60F3, "Xiang " }, { 0x611B, "Ai " }, { 0x6211, "Wo " },
    { 0x660E, "Ming " }, { 0x661F, "Xing " }, { 0x662F, "Shi " }, { 0x6625, "Chun " },
    { 0x65E5, "Ri " }, { 0x6708, "Yue " }, { 0x6709, "You " }, { 0x6765, "Lai " },
    { 0x6B4C, "Ge " }, { 0x6C34, "Shui " }, { 0x6CEA, "Lei " }, { 0x6D77, "Hai " },
    { 0x706B, "Huo " }, { 0x7231, "Ai " }, { 0x7F8E, "Mei " }, { 0x82B1, "Hua " },
    { 0x98CE, "Feng " }, { 0x98DB, "Fei " }, { 0x98DE, "Fei " },
    { 0x96E8, "Yu " }, { 0x591C, "Ye " }, { 0x5922, "Meng " }, { 0x68A6, "Meng " },
    { 0x5149, "Guang " }, { 0x5531, "Chang " }, { 0x542C, "Ting " }, { 0x56DE, "Hui " },
    { 0x7B11, "Xiao " }, { 0x54ED, "Ku " }, { 0x6C38, "Yong " }, { 0x8FDC, "Yuan " },
    { 0x5728, "Zai " }, { 0x8FD9, "Zhe " }, { 0x9019, "Zhe " },
    { 0x4F46, "Dan " }, { 0x5F88, "Hen " }, { 0x518D, "Zai " },
    { 0x5417, "Ma " }, { 0x554A, "A " }, { 0x5427, "Ba " }, { 0x8D70, "Zou " },
};

static const char *s_hanzi_find(unsigned cp)
{
    for (size_t i = 0; i < sizeof s_hanzi / sizeof s_hanzi[0]; i++)
        if (s_hanzi[i].cp == cp) return s_hanzi[i].s;
    return NULL;
}

/* Hangul syllable U+AC00..U+D7A3 into buf (at most 10 bytes). */
static const char *s_hangul(unsigned cp, char *buf, size_t len)
{
    unsigned s = cp - 0xAC00, l = s / (21 * 28), v = (s / 28) % 21, t = s % 28;
    size_t n = 0;
    const char *parts[3] = { s_hangul_l[l], s_hangul_v[v], s_hangul_t[t] };
    for (int k = 0; k < 3; k++)
        for (const char *p = parts[k]; *p && n + 1 < len; p++) buf[n++] = *p;
    buf[n] = 0;
    return buf;
}

const char *cn_text_translit_cp(unsigned cp, char *buf, size_t len)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        buf[1] = 0;
        return buf;
    }
    if (cp < 0xA0) return "";                      /* C1 controls */
    if (cp < 0x250) return s_latin[cp - 0xA0];
    if (cp >= 0x300 && cp < 0x370) return s_combining[cp - 0x300];
    if (cp >= 0x400 && cp < 0x460) return s_cyrillic[cp - 0x400];
    if (cp == 0x490) return "G";
    if (cp == 0x491) return "g";
    if (cp >= 0x1E00 && cp < 0x1F00) return s_latin_ext_add[cp - 0x1E00];
    if (cp >= 0x2000 && cp < 0x2070) return s_punct[cp - 0x2000];
    if (cp == 0x3000) return " ";
    if (cp == 0x3001) return ",";
    if (cp == 0x3002) return ".";
    if (cp >= 0x3041 && cp < 0x3097) return s_kana[cp - 0x3041];
    if (cp >= 0x30A1 && cp < 0x30F7) return s_kana[cp - 0x30A1];
    if (cp >= 0xAC00 && cp <= 0xD7A3) return s_hangul(cp, buf, len);
    if (cp >= 0xFF01 && cp <= 0xFF5E) {             /* fullwidth ASCII */
        buf[0] = (char)(cp - 0xFEE0);
        buf[1] = 0;
        return buf;
    }
    if (cp >= 0xFE00 && cp <= 0xFE0F) return "";    /* variation selectors */
    if (cp > 0xFFFF) return "";                     /* emoji and other astral symbols */
    if (cp >= 0x4E00 && cp <= 0x9FFF) return s_hanzi_find(cp);
    return NULL;
}
