/* kz-test-link: kz_store */
/* fuzz_text.c: search normalisation, index terms and query parsing on arbitrary bytes.
 *
 * The whole input is used as text three ways. Oracles:
 *  - normalize either fails with KZ_EINVAL/KZ_ETOOBIG or returns valid UTF-8
 *    with no control characters, no leading, trailing or double spaces, and
 *    is a fixed point (normalising the result changes nothing);
 *  - romanize gives lower-case ASCII letters, digits and single inner spaces;
 *  - every index term has a known kind byte, a length within
 *    KZ_TEXT_KEY_MAX, valid UTF-8 after the kind byte and the class asked for;
 *  - a query that parses stays within its limits, and a document holding
 *    exactly the query text matches it (every query key is among the
 *    document's terms): what you type always finds itself. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_text: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static int check_term_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    CHECK(cls == *(int *)ud);
    CHECK(len >= 2 && len <= KZ_TEXT_KEY_MAX);
    CHECK(key[0] == KZ_TEXT_KEY_UNIGRAM || key[0] == KZ_TEXT_KEY_BIGRAM ||
          key[0] == KZ_TEXT_KEY_PREFIX);
    CHECK(kz_utf8_valid((const char *)key + 1, len - 1, 0));
    CHECK(flags == 0 || (flags == KZ_TEXT_F_WHOLE && key[0] == KZ_TEXT_KEY_PREFIX));
    return 0;
}

static void check_normalize(const uint8_t *data, size_t size)
{
    char *out = NULL;
    size_t n = 0;
    int rc = kz_text_normalize((const char *)data, size, &out, &n);
    if (rc != 0) {
        CHECK(rc == KZ_EINVAL || rc == KZ_ETOOBIG);
        CHECK(out == NULL);
        return;
    }
    CHECK(out != NULL && strlen(out) == n);
    CHECK(kz_utf8_valid(out, n, 0));
    if (n > 0)
        CHECK(out[0] != ' ' && out[n - 1] != ' ');
    CHECK(strstr(out, "  ") == NULL);
    if (n <= KZ_TEXT_INPUT_MAX) {
        char *again = NULL;
        size_t n2 = 0;
        CHECK(kz_text_normalize(out, n, &again, &n2) == 0);
        if (n2 != n || memcmp(again, out, n) != 0) {
            fprintf(stderr, "not a fixed point:\n  [%s]\n  [%s]\n", out, again);
            abort();
        }
        free(again);
    }
    free(out);
}

/* Does the termset hold this key? */
typedef struct {
    const kz_text_key *key;
    bool found;
} find_ctx;

static int find_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    find_ctx *f = ud;
    if (len == f->key->len && memcmp(key, f->key->b, len) == 0)
        f->found = true;
    return 0;
}

static void check_query(const uint8_t *data, size_t size)
{
    kz_text_query q;
    int rc = kz_text_query_parse((const char *)data, size, &q);
    if (rc != 0) {
        CHECK(rc == KZ_EINVAL || rc == KZ_ETOOBIG);
        CHECK(q.reason != NULL && q.n_keys == 0 && q.n_words == 0);
        return;
    }
    CHECK(q.reason == NULL);
    CHECK(q.norm_len <= KZ_TEXT_QUERY_NORM_MAX && strlen(q.norm) == q.norm_len);
    CHECK(q.n_words <= KZ_TEXT_QUERY_WORDS_MAX && q.n_keys <= KZ_TEXT_QUERY_KEYS_MAX);
    CHECK((q.n_words == 0) == (q.n_keys == 0));
    size_t next = 0;
    for (size_t w = 0; w < q.n_words; w++) {
        CHECK(q.words[w].first_key == next && q.words[w].n_keys > 0);
        CHECK((size_t)q.words[w].off + q.words[w].len <= q.norm_len);
        next += q.words[w].n_keys;
    }
    CHECK(next == q.n_keys);

    kz_text_termset *ts = kz_text_termset_create();
    rc = kz_text_termset_add(ts, (const char *)data, size, KZ_TEXT_CLASS_NAME);
    CHECK(rc == 0);
    for (size_t i = 0; i < q.n_keys; i++) {
        CHECK(q.keys[i].word < q.n_words);
        find_ctx f = {.key = &q.keys[i]};
        CHECK(kz_text_termset_iter(ts, find_cb, &f) == 0);
        if (!f.found) {
            fprintf(stderr, "query key %zu [%.*s] not among the terms of its own text\n", i,
                    (int)q.keys[i].len, (const char *)q.keys[i].b);
            abort();
        }
    }
    kz_text_termset_free(ts);
    kz_text_query_close(&q);
}

static void check_romanize(const uint8_t *data, size_t size)
{
    char *out = NULL;
    size_t n = 0;
    int rc = kz_text_romanize((const char *)data, size, &out, &n);
    if (rc != 0) {
        CHECK(rc == KZ_EINVAL || rc == KZ_ETOOBIG);
        CHECK(out == NULL);
        return;
    }
    CHECK(strlen(out) == n);
    for (size_t i = 0; i < n; i++) {
        char c = out[i];
        CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ');
        if (c == ' ')
            CHECK(i > 0 && i + 1 < n && out[i + 1] != ' ');
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_normalize(data, size);
    check_romanize(data, size);
    int cls = size > 0 ? data[0] % (KZ_TEXT_CLASS_MAX + 1) : 0;
    int rc = kz_text_terms((const char *)data, size, cls, check_term_cb, &cls);
    CHECK(rc == 0 || rc == KZ_EINVAL || rc == KZ_ETOOBIG);
    check_query(data, size);
    return 0;
}
