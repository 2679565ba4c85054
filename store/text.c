/* text.c: search text normalisation, index terms and query parsing (see kz_text.h). */
#include "kz_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- Code point classes ---------------------------------------------------- */

static bool is_han(int32_t c)
{
    return (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x323AF) ||
           c == 0x3006 || c == 0x3007; /* 〆 and 〇 are written like kanji */
}

static bool is_hiragana(int32_t c)
{
    return c >= 0x3041 && c <= 0x3096;
}

/* Characters that take part in unigrams and bigrams: scripts written without
 * spaces between words. Hangul is included because it costs nothing and
 * Korean names then match by substring too. */
static bool is_cjk(int32_t c)
{
    return is_han(c) || (c >= 0x3041 && c <= 0x3096) || (c >= 0x309D && c <= 0x309F) ||
           (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x30FC && c <= 0x30FF) || /* not ・ */
           (c >= 0x31F0 && c <= 0x31FF) || c == 0x3005 || c == 0x303B ||
           (c >= 0x1100 && c <= 0x11FF) || (c >= 0xA960 && c <= 0xA97F) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xD7B0 && c <= 0xD7FF);
}

static bool is_mark(int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ME;
}

/* Letters and numbers are kept; marks are kept or dropped by the caller;
 * everything else (spaces, punctuation, symbols, controls, unassigned and
 * private-use code points) separates words. */
static bool is_kept(int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

static bool is_ascii_alnum(int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_ascii_vowel(int32_t c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* ---- Normalisation --------------------------------------------------------- */

/* Runs before NFKC: the spacing sound marks ゛゜ become the combining ones so
 * that か゛ composes to が instead of splitting into か and a separator. */
static utf8proc_int32_t premap_cb(utf8proc_int32_t c, void *ud)
{
    (void)ud;
    if (c == 0x309B)
        return 0x3099;
    if (c == 0x309C)
        return 0x309A;
    return c;
}

/* Katakana to hiragana. ヽヾ become ゝゞ. The small ヵヶ (and ゕゖ) are read
 * as full-size か/け in counters and place names (霞ヶ関 = 霞ケ関), so they fold
 * to か/け. ヷヸヹヺ and ヿ have no hiragana form and stay. */
static int32_t fold_kana(int32_t c)
{
    if ((c >= 0x30A1 && c <= 0x30F6) || c == 0x30FD || c == 0x30FE)
        c -= 0x60;
    if (c == 0x3095)
        return 0x304B;
    if (c == 0x3096)
        return 0x3051;
    return c;
}

/* Hiragana with the voiced mark added, or c itself when there is none. */
static int32_t hiragana_voiced(int32_t c)
{
    if (c >= 0x304B && c <= 0x3062 && (c - 0x304B) % 2 == 0)
        return c + 1; /* か..ぢ rows */
    if (c == 0x3064 || c == 0x3066 || c == 0x3068)
        return c + 1; /* つ て と */
    if (c >= 0x306F && c <= 0x307B && (c - 0x306F) % 3 == 0)
        return c + 1; /* は ひ ふ へ ほ */
    if (c == 0x3046)
        return 0x3094; /* う -> ゔ */
    return c;
}

/* The precomposed kana for hiragana h followed by the combining sound mark
 * m (U+3099 voiced, U+309A semi-voiced), or 0 when Unicode has none. */
static int32_t kana_compose(int32_t h, int32_t m)
{
    if (!is_hiragana(h))
        return 0;
    if (m == 0x3099) {
        int32_t v = hiragana_voiced(h);
        return v != h ? v : 0;
    }
    if (m == 0x309A && h >= 0x306F && h <= 0x307B && (h - 0x306F) % 3 == 0)
        return h + 2; /* は -> ぱ */
    return 0;
}

/* A Latin letter with diacritics becomes its ASCII base letter (ō -> o,
 * é -> e, ü -> u): names are routinely written both ways. Only letters whose
 * canonical decomposition is one ASCII letter plus combining marks qualify,
 * plus a few letters that have no decomposition but are commonly typed as
 * their base. Kana are never touched: が and か are different sounds. */
static int32_t latin_base(int32_t c)
{
    if (c < 0xC0 || c > 0x24F) {
        if (c < 0x1E00 || c > 0x1EFF)
            return c;
    }
    switch (c) {
    case 0xF8: return 'o';   /* ø */
    case 0x111: return 'd';  /* đ */
    case 0xF0: return 'd';   /* ð */
    case 0x131: return 'i';  /* ı */
    case 0x142: return 'l';  /* ł */
    default: break;
    }
    utf8proc_int32_t d[8];
    int bound = 0;
    utf8proc_ssize_t nd = utf8proc_decompose_char(c, d, 8, UTF8PROC_DECOMPOSE, &bound);
    if (nd < 2 || nd > 8 || d[0] < 'a' || d[0] > 'z')
        return c;
    for (utf8proc_ssize_t k = 1; k < nd; k++)
        if (!is_mark(d[k]))
            return c;
    return d[0];
}

typedef struct {
    uint8_t *b;
    size_t n, cap;
    int32_t prev;       /* last code point written; 0 at start and after a separator */
    bool pending_space; /* a separator was seen since the last code point */
} nbuf;

static void nbuf_put(nbuf *nb, int32_t c)
{
    if (nb->pending_space && nb->n > 0)
        nb->b[nb->n++] = ' ';
    nb->pending_space = false;
    nb->n += (size_t)utf8proc_encode_char(c, nb->b + nb->n);
    nb->prev = c;
}

static void nbuf_sep(nbuf *nb)
{
    nb->pending_space = true;
    nb->prev = 0;
}

/* The code point at m[i..] (m is valid UTF-8 from utf8proc), or 0 at the end. */
static int32_t peek_cp(const uint8_t *m, size_t mn, size_t i)
{
    utf8proc_int32_t c = 0;
    if (i < mn && utf8proc_iterate(m + i, (utf8proc_ssize_t)(mn - i), &c) <= 0)
        c = 0;
    return c;
}

/* Apply the kizuna-specific rules to utf8proc's output m. nb->b must hold
 * 4/3 * mn + 1 bytes: iteration-mark expansion can turn a 3-byte 々 into a
 * 4-byte kanji, and nothing else grows. */
static void post_fold(const uint8_t *m, size_t mn, nbuf *nb)
{
    size_t i = 0;
    while (i < mn) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(m + i, (utf8proc_ssize_t)(mn - i), &c);
        if (k <= 0)
            break; /* cannot happen: utf8proc wrote valid UTF-8 */
        i += (size_t)k;
        if (is_mark(c)) {
            /* A mark that did not compose onto an ASCII letter is an accent
             * to drop; after anything else (Devanagari, a stray kana sound
             * mark) it is kept and the tokeniser decides. */
            if (is_ascii_alnum(nb->prev))
                continue;
            int32_t v = kana_compose(nb->prev, c);
            if (v != 0) {
                /* Folding made a new pair (ヵ゙ -> が): compose it as NFC
                 * would on a second pass, so the result is a fixed point. */
                nb->n -= 3; /* hiragana and its voiced forms are 3 bytes */
                nbuf_put(nb, v);
                continue;
            }
            nbuf_put(nb, c);
            continue;
        }
        if (!is_kept(c)) {
            nbuf_sep(nb);
            continue;
        }
        c = fold_kana(c);
        if ((c == 0x309D || c == 0x309E) && is_hiragana(nb->prev)) {
            nbuf_put(nb, c == 0x309E ? hiragana_voiced(nb->prev) : nb->prev);
            continue;
        }
        if ((c == 0x3005 || c == 0x303B) && is_han(nb->prev)) {
            nbuf_put(nb, nb->prev); /* 佐々木 -> 佐佐木 */
            continue;
        }
        c = latin_base(c);
        /* Romaji long vowels: ou, oo and uu collapse, and oh before a
         * consonant or at the end of a word (Satoh, Ohno) drops the h, so
         * Satō, Sato, Satou and Satoh are all "sato". */
        if ((c == 'o' || c == 'u') && nb->prev == 'o')
            continue;
        if (c == 'u' && nb->prev == 'u')
            continue;
        if (c == 'h' && nb->prev == 'o' && !is_ascii_vowel(latin_base(peek_cp(m, mn, i))))
            continue;
        nbuf_put(nb, c);
    }
}

/* Why check_input refused its input; the query parser turns it into text. */
typedef enum { BAD_NONE, BAD_LONG, BAD_UTF8, BAD_CONTROL } bad_input;

/* Validate raw input: KZ_ETOOBIG over max, KZ_EINVAL for invalid UTF-8 or a
 * control character (tab, LF and CR allowed when allow_ws). *why says which. */
static int check_input(const char *in, size_t n, size_t max, bool allow_ws, bad_input *why)
{
    *why = BAD_NONE;
    if (n > max) {
        *why = BAD_LONG;
        return KZ_ETOOBIG;
    }
    const uint8_t *p = (const uint8_t *)in;
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0) {
            *why = BAD_UTF8;
            return KZ_EINVAL;
        }
        bool ws = c == '\t' || c == '\n' || c == '\r';
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) {
            if (!(ws && allow_ws)) {
                *why = BAD_CONTROL;
                return KZ_EINVAL;
            }
        }
        i += (size_t)k;
    }
    return 0;
}

/* Normalise already-validated text. */
static int normalize_valid(const char *in, size_t n, char **out, size_t *outn)
{
    *out = NULL;
    *outn = 0;
    utf8proc_uint8_t *m = NULL;
    utf8proc_ssize_t mn = 0;
    if (n > 0) {
        mn = utf8proc_map_custom((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)n, &m,
                                 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                     UTF8PROC_CASEFOLD | UTF8PROC_IGNORE,
                                 premap_cb, NULL);
        if (mn < 0)
            return mn == UTF8PROC_ERROR_NOMEM ? KZ_ENOMEM : KZ_EINVAL;
    }
    /* mn is bounded: at most 18 code points out per code point in, and n is
     * at most KZ_TEXT_INPUT_MAX. */
    size_t cap = (size_t)mn / 3 * 4 + 8;
    nbuf nb = {.b = malloc(cap), .cap = cap};
    if (!nb.b) {
        free(m);
        return KZ_ENOMEM;
    }
    post_fold(m, (size_t)mn, &nb);
    free(m);
    nb.b[nb.n] = '\0';
    *out = (char *)nb.b;
    *outn = nb.n;
    return 0;
}

const char *kz_text_rules_id(void)
{
    /* Per thread, so concurrent callers never see a half-written string. */
    static _Thread_local char id[64];
    snprintf(id, sizeof id, "kz-text %d, Unicode %s", KZ_TEXT_RULES_VERSION,
             utf8proc_unicode_version());
    return id;
}

int kz_text_normalize(const char *in, size_t n, char **out, size_t *outn)
{
    bad_input why;
    if (!out || !outn || (!in && n > 0))
        return KZ_EINVAL;
    *out = NULL;
    *outn = 0;
    int rc = check_input(in, n, KZ_TEXT_INPUT_MAX, true, &why);
    if (rc != 0)
        return rc;
    return normalize_valid(in, n, out, outn);
}

/* ---- Tokeniser ------------------------------------------------------------- */

/* Walks normalised text (only spaces, letters, numbers, marks) as tokens:
 * one CJK character at a time, or one whole word of other scripts. */
typedef struct {
    const uint8_t *s;
    size_t n, i;
    bool last_cjk; /* the previous token was a CJK character (no word since) */
} scanner;

typedef struct {
    enum { TOK_END, TOK_CJK, TOK_WORD } kind;
    const uint8_t *p;
    size_t len;   /* bytes */
    size_t ncp;   /* code points (words) */
    bool joined;  /* CJK: the previous token was CJK, so they form a bigram */
} token;

static int32_t scan_cp(const scanner *sc, size_t at, size_t *len)
{
    utf8proc_int32_t c = 0;
    utf8proc_ssize_t k = utf8proc_iterate(sc->s + at, (utf8proc_ssize_t)(sc->n - at), &c);
    *len = k > 0 ? (size_t)k : 1;
    return k > 0 ? c : 0;
}

static void scan_next(scanner *sc, token *t)
{
    size_t len;
    int32_t c = 0;
    /* Skip separators and marks that do not belong to a word. */
    while (sc->i < sc->n) {
        c = scan_cp(sc, sc->i, &len);
        if (c != ' ' && !is_mark(c) && c != 0)
            break;
        sc->i += len;
    }
    if (sc->i >= sc->n) {
        t->kind = TOK_END;
        return;
    }
    t->p = sc->s + sc->i;
    if (is_cjk(c)) {
        t->kind = TOK_CJK;
        t->len = len;
        t->ncp = 1;
        t->joined = sc->last_cjk;
        sc->last_cjk = true;
        sc->i += len;
        return;
    }
    t->kind = TOK_WORD;
    t->ncp = 0;
    size_t start = sc->i;
    while (sc->i < sc->n) {
        c = scan_cp(sc, sc->i, &len);
        if (c == ' ' || c == 0 || is_cjk(c))
            break;
        sc->i += len;
        t->ncp++;
    }
    t->len = sc->i - start;
    sc->last_cjk = false;
}

/* Byte length of the first k code points of a word. */
static size_t prefix_bytes(const uint8_t *p, size_t len, size_t k)
{
    size_t i = 0;
    while (k-- > 0 && i < len) {
        i++;
        while (i < len && (p[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

/* ---- Index terms ----------------------------------------------------------- */

static int emit_terms(const uint8_t *s, size_t n, int cls, kz_text_sink_cb cb, void *ud)
{
    scanner sc = {.s = s, .n = n};
    token t;
    uint8_t key[KZ_TEXT_KEY_MAX];
    uint8_t prev[4];
    size_t prev_len = 0;
    for (;;) {
        scan_next(&sc, &t);
        if (t.kind == TOK_END)
            return 0;
        int rc;
        if (t.kind == TOK_CJK) {
            key[0] = KZ_TEXT_KEY_UNIGRAM;
            memcpy(key + 1, t.p, t.len);
            if ((rc = cb(ud, key, 1 + t.len, cls, 0)) != 0)
                return rc;
            if (t.joined) {
                key[0] = KZ_TEXT_KEY_BIGRAM;
                memcpy(key + 1, prev, prev_len);
                memcpy(key + 1 + prev_len, t.p, t.len);
                if ((rc = cb(ud, key, 1 + prev_len + t.len, cls, 0)) != 0)
                    return rc;
            }
            memcpy(prev, t.p, t.len);
            prev_len = t.len;
            continue;
        }
        size_t kmax = t.ncp < KZ_TEXT_PREFIX_MAX ? t.ncp : KZ_TEXT_PREFIX_MAX;
        key[0] = KZ_TEXT_KEY_PREFIX;
        memcpy(key + 1, t.p, prefix_bytes(t.p, t.len, kmax));
        size_t b = 0;
        for (size_t k = 1; k <= kmax; k++) {
            b += prefix_bytes(t.p + b, t.len - b, 1);
            unsigned flags = k == t.ncp ? KZ_TEXT_F_WHOLE : 0;
            if ((rc = cb(ud, key, 1 + b, cls, flags)) != 0)
                return rc;
        }
    }
}

int kz_text_terms(const char *text, size_t n, int field_class, kz_text_sink_cb cb, void *ud)
{
    if (!cb || field_class < 0 || field_class > KZ_TEXT_CLASS_MAX)
        return KZ_EINVAL;
    char *norm;
    size_t nn;
    int rc = kz_text_normalize(text, n, &norm, &nn);
    if (rc != 0)
        return rc;
    rc = emit_terms((const uint8_t *)norm, nn, field_class, cb, ud);
    free(norm);
    return rc;
}

/* ---- Queries --------------------------------------------------------------- */

static int query_fail(kz_text_query *q, int rc, const char *why)
{
    q->n_words = 0;
    q->n_keys = 0;
    q->reason = why;
    return rc;
}

/* Append a key unless an earlier word or this one already has it. */
static int query_add_key(kz_text_query *q, uint8_t kind, const uint8_t *a, size_t alen,
                         const uint8_t *b, size_t blen)
{
    size_t len = 1 + alen + blen;
    for (size_t i = 0; i < q->n_keys; i++) {
        const kz_text_key *k = &q->keys[i];
        if (k->len == len && k->b[0] == kind && memcmp(k->b + 1, a, alen) == 0 &&
            (blen == 0 || memcmp(k->b + 1 + alen, b, blen) == 0))
            return 0;
    }
    if (q->n_keys == KZ_TEXT_QUERY_KEYS_MAX)
        return KZ_ETOOBIG;
    kz_text_key *k = &q->keys[q->n_keys++];
    k->len = (uint8_t)len;
    k->word = (uint8_t)q->n_words;
    k->b[0] = kind;
    memcpy(k->b + 1, a, alen);
    if (blen > 0)
        memcpy(k->b + 1 + alen, b, blen);
    return 0;
}

/* The keys of one whitespace-free query word s[0..n). */
static int query_word(kz_text_query *q, const uint8_t *s, size_t n)
{
    scanner sc = {.s = s, .n = n};
    token t;
    const uint8_t *prev = NULL;
    size_t prev_len = 0, run = 0;
    int rc = 0;
    do {
        scan_next(&sc, &t);
        if (t.kind == TOK_CJK) {
            if (run > 0)
                rc = query_add_key(q, KZ_TEXT_KEY_BIGRAM, prev, prev_len, t.p, t.len);
            run++;
            prev = t.p;
            prev_len = t.len;
            continue;
        }
        /* A CJK run ended: a lone character is looked up by its unigram. */
        if (run == 1)
            rc = query_add_key(q, KZ_TEXT_KEY_UNIGRAM, prev, prev_len, NULL, 0);
        run = 0;
        if (rc == 0 && t.kind == TOK_WORD) {
            size_t k = t.ncp < KZ_TEXT_PREFIX_MAX ? t.ncp : KZ_TEXT_PREFIX_MAX;
            rc = query_add_key(q, KZ_TEXT_KEY_PREFIX, t.p, prefix_bytes(t.p, t.len, k), NULL, 0);
        }
    } while (rc == 0 && t.kind != TOK_END);
    return rc;
}

int kz_text_query_parse(const char *qs, size_t n, kz_text_query *q)
{
    if (!q)
        return KZ_EINVAL;
    memset(q, 0, sizeof *q);
    if (!qs && n > 0)
        return query_fail(q, KZ_EINVAL, "query is NULL");
    bad_input why;
    int rc = check_input(qs, n, KZ_TEXT_QUERY_RAW_MAX, false, &why);
    if (why == BAD_LONG)
        return query_fail(q, rc, "query is longer than 1024 bytes");
    if (why == BAD_UTF8)
        return query_fail(q, rc, "query is not valid UTF-8");
    if (why == BAD_CONTROL)
        return query_fail(q, rc, "query contains a control character (tab, newline...)");
    char *norm;
    size_t nn;
    rc = normalize_valid(qs, n, &norm, &nn);
    if (rc != 0)
        return query_fail(q, rc, "query could not be normalised");
    if (nn > KZ_TEXT_QUERY_NORM_MAX) {
        free(norm);
        return query_fail(q, KZ_ETOOBIG, "query is longer than 256 bytes after normalisation");
    }
    memcpy(q->norm, norm, nn + 1);
    q->norm_len = nn;
    free(norm);

    size_t words = nn > 0 ? 1 : 0;
    for (size_t i = 0; i < nn; i++)
        words += q->norm[i] == ' ';
    if (words > KZ_TEXT_QUERY_WORDS_MAX)
        return query_fail(q, KZ_ETOOBIG, "query has more than 8 words");

    const uint8_t *s = (const uint8_t *)q->norm;
    size_t start = 0;
    while (start < nn) {
        size_t end = start;
        while (end < nn && s[end] != ' ')
            end++;
        size_t before = q->n_keys;
        rc = query_word(q, s + start, end - start);
        if (rc != 0)
            return query_fail(q, rc, "query needs more than 64 index keys; shorten it");
        if (q->n_keys > before) {
            kz_text_word *w = &q->words[q->n_words++];
            w->off = (uint16_t)start;
            w->len = (uint16_t)(end - start);
            w->first_key = (uint8_t)before;
            w->n_keys = (uint8_t)(q->n_keys - before);
        }
        start = end + 1;
    }
    return 0;
}

void kz_text_query_close(kz_text_query *q)
{
    if (q)
        memset(q, 0, sizeof *q);
}
