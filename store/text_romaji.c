/* text_romaji.c: kana readings spelled in Hepburn romaji, so "suzuki" finds a profile that only has すずき. */
#include "kz_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Hepburn for hiragana U+3041..U+3096, in code point order. Small kana are
 * given their full-size sound; the walker below applies them to the
 * syllable before. っ is "" (handled as gemination). */
static const char *const hira[] = {
    "a",  "a",  "i",   "i",  "u",   "u",  "e",  "e",  "o",  "o",  "ka", "ga", "ki", "gi", "ku",
    "gu", "ke", "ge",  "ko", "go",  "sa", "za", "shi", "ji", "su", "zu", "se", "ze", "so", "zo",
    "ta", "da", "chi", "ji", "",    "tsu", "zu", "te", "de", "to", "do", "na", "ni", "nu", "ne",
    "no", "ha", "ba",  "pa", "hi",  "bi", "pi", "fu", "bu", "pu", "he", "be", "pe", "ho", "bo",
    "po", "ma", "mi",  "mu", "me",  "mo", "ya", "ya", "yu", "yu", "yo", "yo", "ra", "ri", "ru",
    "re", "ro", "wa",  "wa", "i",   "e",  "o",  "n",  "vu", "ka", "ke",
};
_Static_assert(KZ_ARRAY_LEN(hira) == 0x3096 - 0x3041 + 1, "one entry per hiragana");

typedef struct {
    char *b;
    size_t n;
    size_t syl;     /* start of the last syllable in b, or SIZE_MAX when none */
    bool geminate;  /* a っ is waiting for the next syllable */
} rbuf;

static bool is_small_vowel(int32_t c)
{
    return c == 0x3041 || c == 0x3043 || c == 0x3045 || c == 0x3047 || c == 0x3049 || c == 0x308E;
}

static bool is_small_y(int32_t c)
{
    return c == 0x3083 || c == 0x3085 || c == 0x3087;
}

static void rb_space(rbuf *r)
{
    if (r->n > 0 && r->b[r->n - 1] != ' ')
        r->b[r->n++] = ' ';
    r->syl = SIZE_MAX;
    r->geminate = false;
}

static void rb_syllable(rbuf *r, const char *s)
{
    size_t len = strlen(s);
    if (r->geminate && len > 0 && !strchr("aeioun", s[0]))
        r->b[r->n++] = s[0] == 'c' ? 't' : s[0]; /* まっちゃ -> matcha */
    r->geminate = false;
    r->syl = r->n;
    memcpy(r->b + r->n, s, len);
    r->n += len;
}

/* Small ゃゅょ: き+ゃ -> kya, し+ゃ -> sha, ち+ょ -> cho, じ+ゅ -> ju. */
static void rb_small_y(rbuf *r, int32_t c)
{
    char v = hira[c - 0x3041][1];
    size_t len = r->syl == SIZE_MAX ? 0 : r->n - r->syl;
    if (len < 2 || r->b[r->n - 1] != 'i') {
        char s[3] = {'y', v, '\0'};
        rb_syllable(r, s);
        return;
    }
    const char *syl = r->b + r->syl;
    bool palatal = (len == 3 && (syl[0] == 's' || syl[0] == 'c') && syl[1] == 'h') ||
                   (len == 2 && syl[0] == 'j');
    r->n--; /* drop the i */
    if (!palatal)
        r->b[r->n++] = 'y';
    r->b[r->n++] = v;
}

/* Small vowels: ふぁ -> fa, てぃ -> ti, しぇ -> she, うぃ -> wi, いぇ -> ye. */
static void rb_small_vowel(rbuf *r, int32_t c)
{
    char v = c == 0x308E ? 'a' : hira[c - 0x3041][0];
    size_t len = r->syl == SIZE_MAX ? 0 : r->n - r->syl;
    char last = len > 0 ? r->b[r->n - 1] : 0;
    if (len >= 2) {
        r->b[r->n - 1] = v; /* replace the syllable's vowel */
    } else if (len == 1 && (last == 'u' || last == 'i')) {
        r->b[r->n - 1] = last == 'u' ? 'w' : 'y';
        r->b[r->n++] = v;
    } else {
        char s[2] = {v, '\0'};
        rb_syllable(r, s);
    }
}

int kz_text_romanize(const char *in, size_t n, char **out, size_t *outn)
{
    if (!out || !outn)
        return KZ_EINVAL;
    *out = NULL;
    *outn = 0;
    char *norm;
    size_t nn;
    int rc = kz_text_normalize(in, n, &norm, &nn);
    if (rc != 0)
        return rc;
    /* Each kana (3 bytes) becomes at most 3 letters plus one for a preceding
     * っ (itself 3 bytes); anything else becomes at most itself. */
    rbuf r = {.b = malloc(nn + 1), .syl = SIZE_MAX};
    if (!r.b) {
        free(norm);
        return KZ_ENOMEM;
    }
    const uint8_t *p = (const uint8_t *)norm;
    size_t i = 0;
    while (i < nn) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(nn - i), &c);
        if (k <= 0)
            break; /* cannot happen: kz_text_normalize returns valid UTF-8 */
        i += (size_t)k;
        if (c >= 0x3041 && c <= 0x3096) {
            if (c == 0x3063)
                r.geminate = true;
            else if (is_small_y(c))
                rb_small_y(&r, c);
            else if (is_small_vowel(c))
                rb_small_vowel(&r, c);
            else
                rb_syllable(&r, hira[c - 0x3041]);
        } else if (c == 0x30FC) {
            continue; /* ー: the long vowel is folded away in romaji anyway */
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            r.b[r.n++] = (char)c;
            r.syl = SIZE_MAX;
            r.geminate = false;
        } else {
            rb_space(&r); /* kanji, other scripts, separators */
        }
    }
    free(norm);
    while (r.n > 0 && r.b[r.n - 1] == ' ')
        r.n--;
    r.b[r.n] = '\0';
    *out = r.b;
    *outn = r.n;
    return 0;
}
