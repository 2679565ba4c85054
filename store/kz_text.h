/* kz_text.h: the text side of directory search: normalisation, index terms
 * (posting keys) and query parsing. Pure code: no LMDB, no I/O.
 *
 * The store turns a profile into a set of posting keys with
 * kz_text_termset_add_profile() and a query string into the keys that must
 * all match with kz_text_query_parse(); both run the same normalisation, so
 * a query key is found exactly when the indexed text contains what the user
 * typed (see docs/search.md for the rules and their reasons).
 *
 * Posting keys are byte strings. The first byte says what kind of key it is,
 * so kinds never collide; the rest is normalised UTF-8:
 *   'u' + one CJK character              (unigram)
 *   'b' + two CJK characters             (bigram)
 *   'p' + the first 1..20 code points of a word (word prefix; the whole word
 *         when it is 20 code points or shorter)
 * Keys are at most KZ_TEXT_KEY_MAX bytes and contain no NUL.
 *
 * Errors: KZ_EINVAL (invalid UTF-8, control characters, bad argument),
 * KZ_ETOOBIG (over a limit below), KZ_ENOMEM (a bounded allocation failed).
 * Nothing here keeps state between calls; every function is thread-safe. */
#ifndef KZ_TEXT_H
#define KZ_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "kz_base.h"
#include "kz_record.h"

/* ---- Limits ------------------------------------------------------------- */

#define KZ_TEXT_INPUT_MAX 16384       /* raw bytes per normalise/terms call */
#define KZ_TEXT_PREFIX_MAX 20         /* code points in the longest word prefix key */
#define KZ_TEXT_KEY_MAX (1 + 4 * KZ_TEXT_PREFIX_MAX) /* bytes in any posting key */
#define KZ_TEXT_QUERY_RAW_MAX 1024    /* raw query bytes */
#define KZ_TEXT_QUERY_NORM_MAX 256    /* query bytes after normalisation */
#define KZ_TEXT_QUERY_WORDS_MAX 8     /* whitespace-separated query words */
#define KZ_TEXT_QUERY_KEYS_MAX 64     /* distinct posting keys in one query */
#define KZ_TEXT_DOC_TERMS_MAX 32768   /* distinct keys in one kz_text_termset */

/* First byte of a posting key. */
enum {
    KZ_TEXT_KEY_UNIGRAM = 'u',
    KZ_TEXT_KEY_BIGRAM = 'b',
    KZ_TEXT_KEY_PREFIX = 'p'
};

/* Field classes, for ranking: a match in a higher class ranks higher. */
enum {
    KZ_TEXT_CLASS_BIO = 0,     /* bio, free text */
    KZ_TEXT_CLASS_OTHER = 1,   /* skills, title, department, location */
    KZ_TEXT_CLASS_COMPANY = 2, /* current and home company names */
    KZ_TEXT_CLASS_NAME = 3,    /* name, reading (yomigana), romaji */
    KZ_TEXT_CLASS_MAX = 3
};

/* Term flags. */
enum {
    /* A 'p' key that is a whole word, not only the start of a longer one
     * (lets ranking put "ito" above "itoshima" for the query "ito"). */
    KZ_TEXT_F_WHOLE = 1u
};

/* ---- Normalisation ------------------------------------------------------ */

/* Bumped whenever a rule below changes the keys some text produces. */
#define KZ_TEXT_RULES_VERSION 1

/* Identifies the rules and Unicode tables in use, e.g. "kz-text 1, Unicode
 * 15.0.0". Postings built under another id may not match new queries: the
 * store keeps this string and rebuilds its postings when it changes.
 * Never NULL; the string belongs to the calling thread and stays valid
 * until that thread ends. */
const char *kz_text_rules_id(void);

/* Normalise text for matching (not for display): NFKC, case folding, default
 * ignorables removed, katakana folded to hiragana, iteration marks expanded,
 * diacritics dropped from Latin letters, romaji long vowels folded
 * (ou/oo/oh/uu), and every run of whitespace, punctuation and symbols turned
 * into one ASCII space, with none at either end. Tab, LF and CR count as
 * whitespace; any other control character or NUL is KZ_EINVAL, as is
 * invalid UTF-8. Inputs over KZ_TEXT_INPUT_MAX bytes are KZ_ETOOBIG.
 *
 * On success *out is a NUL-terminated heap string owned by the caller (free
 * with free()), and *outn its length (0 for text with nothing searchable).
 * On failure *out is NULL. */
int kz_text_normalize(const char *in, size_t n, char **out, size_t *outn) KZ_WARN_UNUSED;

/* Spell the kana in text in Hepburn romaji (すずき -> "suzuki", しょうこ ->
 * "shouko", はっとり -> "hattori", ジョージ -> "joji"), after
 * kz_text_normalize, so katakana and half-width forms work too. Latin
 * letters and digits pass through; kanji and every other character become
 * word breaks. Gives lower-case ASCII words separated by single spaces, for
 * matching rather than display (ん before a vowel has no apostrophe).
 * Same errors and ownership as kz_text_normalize: *out is a heap string the
 * caller frees with free(). */
int kz_text_romanize(const char *in, size_t n, char **out, size_t *outn) KZ_WARN_UNUSED;

/* ---- Index terms -------------------------------------------------------- */

/* Receives one posting key. key/len are valid only during the call.
 * Return 0 to continue; any other value stops the walk and is returned by
 * the function that called back (a negative KZ_E* for an error, a positive
 * value for an early stop). */
typedef int (*kz_text_sink_cb)(void *ud, const uint8_t *key, size_t len, int field_class,
                               unsigned flags);

/* Normalise text and pass every index term to cb, in text order, tagged
 * with field_class (0..KZ_TEXT_CLASS_MAX) and KZ_TEXT_F_* flags:
 *  - every CJK character (kanji, kana, the long vowel mark ー, hangul) as a
 *    unigram, and every two CJK characters next to each other as a bigram;
 *    CJK characters separated only by whitespace or punctuation count as
 *    next to each other ("鈴木 太郎" yields the bigram 木太, so the query
 *    鈴木太郎 finds it); a word of another script in between breaks the chain;
 *  - every other word (Latin, digits, Cyrillic...) as its prefixes of
 *    1..min(length, KZ_TEXT_PREFIX_MAX) code points.
 * Terms may repeat; kz_text_termset removes duplicates. Returns 0, the
 * errors of kz_text_normalize, KZ_EINVAL for a bad field_class, or the
 * non-zero value cb returned. */
int kz_text_terms(const char *text, size_t n, int field_class, kz_text_sink_cb cb,
                  void *ud) KZ_WARN_UNUSED;

/* A document's distinct terms: each key once, with the highest field class
 * it was seen in and the union of its flags. Heap object. */
typedef struct kz_text_termset kz_text_termset;

/* Never returns NULL (small allocation; aborts on OOM). */
kz_text_termset *kz_text_termset_create(void);
/* NULL-safe. */
void kz_text_termset_free(kz_text_termset *ts);
/* Add the terms of one field (kz_text_terms). KZ_ETOOBIG when the set would
 * exceed KZ_TEXT_DOC_TERMS_MAX distinct keys. On any failure the set holds
 * part of the text: free it rather than index it. */
int kz_text_termset_add(kz_text_termset *ts, const char *text, size_t n,
                        int field_class) KZ_WARN_UNUSED;
/* Add every searchable field of a profile with its class: name, reading and
 * romaji, and the kana of name and reading spelled in romaji by
 * kz_text_romanize, so "suzuki" finds すずき even without a romaji field
 * (NAME); current_company (COMPANY); department, title, current_title,
 * location and each skill (OTHER); bio (BIO). Links, years,
 * open_to and visibility are not text terms. The home company's name comes
 * from its node record: add it with KZ_TEXT_CLASS_COMPANY. Same failure
 * contract as kz_text_termset_add. */
int kz_text_termset_add_profile(kz_text_termset *ts, const kz_body_profile *p) KZ_WARN_UNUSED;
/* Number of distinct keys. */
size_t kz_text_termset_count(const kz_text_termset *ts);
/* Call cb once per distinct key in ascending byte order (memcmp, shorter
 * first on a tie), which is LMDB's default key order. Returns 0 or the
 * non-zero value cb returned. */
int kz_text_termset_iter(kz_text_termset *ts, kz_text_sink_cb cb, void *ud);

/* ---- Queries ------------------------------------------------------------ */

typedef struct {
    uint8_t len;                   /* bytes in b, 2..KZ_TEXT_KEY_MAX */
    uint8_t word;                  /* index into kz_text_query.words */
    uint8_t b[KZ_TEXT_KEY_MAX];    /* the posting key (not NUL-terminated) */
} kz_text_key;

typedef struct {
    uint16_t off, len;             /* the word's bytes in kz_text_query.norm */
    uint8_t first_key, n_keys;     /* its keys: keys[first_key .. +n_keys) */
} kz_text_word;

/* A parsed query. Caller-allocated (about 5.5 KiB, fine on the stack); all
 * storage is inside it, so nothing needs freeing, but call
 * kz_text_query_close() when done so that may change. */
typedef struct {
    char norm[KZ_TEXT_QUERY_NORM_MAX + 1]; /* normalised query, NUL-terminated */
    size_t norm_len;
    size_t n_words;
    kz_text_word words[KZ_TEXT_QUERY_WORDS_MAX];
    size_t n_keys;                 /* distinct keys; a document matches when it has all */
    kz_text_key keys[KZ_TEXT_QUERY_KEYS_MAX];
    const char *reason;            /* on failure: static one-line reason; else NULL */
} kz_text_query;

/* Parse a user query. It is normalised exactly like indexed text and split
 * into words at whitespace (punctuation counts as whitespace after
 * normalisation). Each word contributes the keys that must all match:
 *  - a CJK run of 2+ characters: its bigrams (substring match, so 住友 finds
 *    住友商事); a lone CJK character: its unigram (鈴 finds 鈴木);
 *  - any other word: its prefix key (eng finds engineer), the word cut to
 *    KZ_TEXT_PREFIX_MAX code points.
 * The document must hold every key of every word (AND). Duplicate keys are
 * dropped, and a word whose keys are all duplicates is dropped.
 *
 * Returns 0 with n_words == n_keys == 0 for a query with nothing searchable
 * (only punctuation, empty): the caller shows no results.
 * Fails, with out->reason set, on: invalid UTF-8 or any control character
 * (KZ_EINVAL), more than KZ_TEXT_QUERY_RAW_MAX raw bytes,
 * KZ_TEXT_QUERY_NORM_MAX normalised bytes, KZ_TEXT_QUERY_WORDS_MAX words or
 * KZ_TEXT_QUERY_KEYS_MAX keys (KZ_ETOOBIG), or KZ_ENOMEM. */
int kz_text_query_parse(const char *q, size_t n, kz_text_query *out) KZ_WARN_UNUSED;
/* Release what a parsed query holds (currently nothing). NULL-safe. */
void kz_text_query_close(kz_text_query *q);

#endif
