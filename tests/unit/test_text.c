/* kz-test-link: kz_store */
/* test_text.c: search normalisation, index terms and query parsing (store/kz_text.h). */
#include "kz_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kz_text.h"

/* ---- Helpers ---------------------------------------------------------------- */

/* Normalise s and compare with want; fails the test on any error. */
static void assert_norm(const char *s, const char *want)
{
    char *out = NULL;
    size_t n = 0;
    int rc = kz_text_normalize(s, strlen(s), &out, &n);
    if (rc != 0)
        fail_msg("normalize(%s) failed: %s", s, kz_strerror(rc));
    if (strcmp(out, want) != 0)
        fail_msg("normalize(%s) = [%s], want [%s]", s, out, want);
    assert_int_equal(n, strlen(want));
    free(out);
}

static char *norm(const char *s)
{
    char *out = NULL;
    size_t n;
    assert_int_equal(kz_text_normalize(s, strlen(s), &out, &n), 0);
    return out;
}

/* All terms of one text, in emission order. */
typedef struct {
    size_t n;
    struct {
        uint8_t b[KZ_TEXT_KEY_MAX];
        size_t len;
        int cls;
        unsigned flags;
    } t[4096];
} termlist;

static int collect_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    termlist *tl = ud;
    assert_true(len >= 2 && len <= KZ_TEXT_KEY_MAX);
    if (tl->n == KZ_ARRAY_LEN(tl->t))
        return KZ_ETOOBIG;
    memcpy(tl->t[tl->n].b, key, len);
    tl->t[tl->n].len = len;
    tl->t[tl->n].cls = cls;
    tl->t[tl->n].flags = flags;
    tl->n++;
    return 0;
}

static termlist *terms_of(const char *s, int cls)
{
    termlist *tl = calloc(1, sizeof *tl);
    assert_non_null(tl);
    assert_int_equal(kz_text_terms(s, strlen(s), cls, collect_cb, tl), 0);
    return tl;
}

/* Index of the term kind+text in tl, or -1. */
static int find_term(const termlist *tl, char kind, const char *text)
{
    size_t len = 1 + strlen(text);
    for (size_t i = 0; i < tl->n; i++)
        if (tl->t[i].len == len && tl->t[i].b[0] == (uint8_t)kind &&
            memcmp(tl->t[i].b + 1, text, len - 1) == 0)
            return (int)i;
    return -1;
}

static bool has_term(const char *doc, char kind, const char *text)
{
    termlist *tl = terms_of(doc, KZ_TEXT_CLASS_OTHER);
    bool r = find_term(tl, kind, text) >= 0;
    free(tl);
    return r;
}

/* Does a document with this text match the query (every key present)? */
static bool matches(const char *doc, const char *query)
{
    kz_text_query q;
    int rc = kz_text_query_parse(query, strlen(query), &q);
    if (rc != 0)
        fail_msg("query_parse(%s): %s (%s)", query, kz_strerror(rc), q.reason);
    assert_true(q.n_keys > 0);
    termlist *tl = terms_of(doc, KZ_TEXT_CLASS_OTHER);
    bool all = true;
    for (size_t i = 0; i < q.n_keys; i++) {
        bool found = false;
        for (size_t j = 0; j < tl->n && !found; j++)
            found = tl->t[j].len == q.keys[i].len &&
                    memcmp(tl->t[j].b, q.keys[i].b, q.keys[i].len) == 0;
        all = all && found;
    }
    free(tl);
    kz_text_query_close(&q);
    return all;
}

/* The query's keys as "k:text k:text" for readable assertions. */
static void query_keys_str(const char *query, char *buf, size_t bufsz)
{
    kz_text_query q;
    assert_int_equal(kz_text_query_parse(query, strlen(query), &q), 0);
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < q.n_keys; i++) {
        int w = snprintf(buf + off, bufsz - off, "%s%c:%.*s", i ? " " : "", q.keys[i].b[0],
                         (int)q.keys[i].len - 1, (const char *)q.keys[i].b + 1);
        assert_true(w > 0 && (size_t)w < bufsz - off);
        off += (size_t)w;
    }
    kz_text_query_close(&q);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Normalisation ---------------------------------------------------------- */

static void test_norm_kana_forms_equal(void **st)
{
    (void)st;
    assert_norm("すずき", "すずき");
    assert_norm("スズキ", "すずき");
    assert_norm("ｽｽﾞｷ", "すずき");
    assert_norm("ｽｽ\xef\xbe\x9e\xef\xbd\xb7", "すずき"); /* same, spelled as bytes */
}

static void test_norm_latin_width_and_case(void **st)
{
    (void)st;
    assert_norm("SUZUKI", "suzuki");
    assert_norm("suzuki", "suzuki");
    assert_norm("Ｓｕｚｕｋｉ", "suzuki");
    assert_norm("ＳＵＺＵＫＩ", "suzuki");
    assert_norm("１２３", "123");
}

static void test_norm_voiced_kana_preserved(void **st)
{
    (void)st;
    assert_norm("がぎぐ", "がぎぐ");
    assert_norm("ガギグ", "がぎぐ");
    char *a = norm("が"), *b = norm("か");
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    /* は, ば and ぱ are three different sounds. */
    assert_norm("ハバパ", "はばぱ");
}

static void test_norm_halfwidth_dakuten_composed(void **st)
{
    (void)st;
    assert_norm("ﾊﾟﾝ", "ぱん");
    assert_norm("ｶﾞｷﾞｸﾞ", "がぎぐ");
    assert_norm("ｳﾞｧｲｵﾘﾝ", "ゔぁいおりん");
    /* Spacing sound marks typed after a kana compose too. */
    assert_norm("か゛", "が");
    assert_norm("は゜", "ぱ");
}

static void test_norm_iteration_marks(void **st)
{
    (void)st;
    assert_norm("佐々木", "佐佐木");
    assert_norm("いすゞ", "いすず");
    assert_norm("すゝき", "すすき");
    assert_norm("ミスヾ", "みすず");
    assert_norm("ハヽ", "はは");
    /* With nothing to repeat the mark stays as it is. */
    assert_norm("々", "々");
    assert_norm("ゝ", "ゝ");
}

static void test_norm_small_ke(void **st)
{
    (void)st;
    char *a = norm("霞ヶ関"), *b = norm("霞ケ関");
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_norm("一ヵ月", "一か月");
    /* A sound mark after the small kana composes with the full-size one
     * the small one folds to, so a second pass finds nothing to do (a
     * fuzzer found ヵﾞ giving か + U+3099, which then became が). */
    assert_norm("ヵﾞ", "が");
    assert_norm("ヶ゛", "げ");
    assert_norm("ゕ\u3099", "が");
    assert_norm("ヵﾟ", "か\u309a"); /* no か with a semi-voiced mark: kept */
}

static void test_norm_long_vowel_mark(void **st)
{
    (void)st;
    assert_norm("コーヒー", "こーひー");
    assert_norm("ｺｰﾋｰ", "こーひー");
    assert_norm("サーバー", "さーばー");
}

static void test_norm_separators(void **st)
{
    (void)st;
    assert_norm("  Hello,   World! ", "hello world");
    assert_norm("ジョン・スミス", "じょん すみす");
    assert_norm("鈴木\xe3\x80\x80太郎", "鈴木 太郎"); /* ideographic space */
    assert_norm("node.js / C++", "node js c");
    assert_norm("㈱ABC", "株 abc");
    assert_norm("東京、大阪。", "東京 大阪");
    assert_norm("a\tb\nc\r\nd", "a b c d");
}

static void test_norm_romaji_long_vowels(void **st)
{
    (void)st;
    assert_norm("Satō", "sato");
    assert_norm("Sato", "sato");
    assert_norm("Satou", "sato");
    assert_norm("Satoh", "sato");
    assert_norm("SATOU", "sato");
    assert_norm("Ōno Ohno Oono Ono", "ono ono ono ono");
    assert_norm("Yūki Yuuki Yuki", "yuki yuki yuki");
    assert_norm("Kōhei Kouhei Kohei", "kohei kohei kohei");
    /* oh before a vowel is a real h. */
    assert_norm("Tohoku Ohara", "tohoku ohara");
    assert_norm("Tōkyō Toukyou Tokyo", "tokyo tokyo tokyo");
}

static void test_norm_latin_diacritics(void **st)
{
    (void)st;
    assert_norm("Müller José Søren Łukasz", "muller jose soren lukasz");
    assert_norm("Straße", "strasse");
    assert_norm("İstanbul", "istanbul");
    assert_norm("Nguyễn", "nguyen");
    /* Cyrillic and Greek keep their letters (only case folds). */
    assert_norm("Йошкар", "йошкар");
}

static void test_norm_ignorables_removed(void **st)
{
    (void)st;
    assert_norm("鈴\xe2\x80\x8b木", "鈴木");         /* zero width space */
    assert_norm("engi\xc2\xadneer", "engineer");     /* soft hyphen */
    assert_norm("辻\xf3\xa0\x84\x80", "辻");         /* ideographic variation selector */
}

static void test_norm_empty_and_blank(void **st)
{
    (void)st;
    assert_norm("", "");
    assert_norm("   ", "");
    assert_norm("!!!、。・", "");
    char *out = (char *)1;
    size_t n = 99;
    assert_int_equal(kz_text_normalize(NULL, 0, &out, &n), 0);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    free(out);
}

static void test_norm_rejects_bad_input(void **st)
{
    (void)st;
    char *out = (char *)1;
    size_t n;
    assert_int_equal(kz_text_normalize("\xff", 1, &out, &n), KZ_EINVAL);
    assert_null(out);
    assert_int_equal(kz_text_normalize("\xc0\xaf", 2, &out, &n), KZ_EINVAL);       /* overlong */
    assert_int_equal(kz_text_normalize("\xed\xa0\x80", 3, &out, &n), KZ_EINVAL);   /* surrogate */
    assert_int_equal(kz_text_normalize("\xe3\x81", 2, &out, &n), KZ_EINVAL);       /* truncated */
    assert_int_equal(kz_text_normalize("a\x01", 2, &out, &n), KZ_EINVAL);
    assert_int_equal(kz_text_normalize("a\0b", 3, &out, &n), KZ_EINVAL);
    assert_int_equal(kz_text_normalize("\xc2\x85", 2, &out, &n), KZ_EINVAL);       /* C1 NEL */
    assert_int_equal(kz_text_normalize("a", 1, NULL, &n), KZ_EINVAL);
    assert_int_equal(kz_text_normalize(NULL, 1, &out, &n), KZ_EINVAL);
}

static void test_norm_size_limit(void **st)
{
    (void)st;
    char *big = malloc(KZ_TEXT_INPUT_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', KZ_TEXT_INPUT_MAX + 1);
    char *out = NULL;
    size_t n;
    assert_int_equal(kz_text_normalize(big, KZ_TEXT_INPUT_MAX + 1, &out, &n), KZ_ETOOBIG);
    assert_null(out);
    assert_int_equal(kz_text_normalize(big, KZ_TEXT_INPUT_MAX, &out, &n), 0);
    assert_int_equal(n, KZ_TEXT_INPUT_MAX);
    free(out);
    /* The worst expansion NFKC knows (U+FDFA, 3 bytes -> 33) stays bounded. */
    size_t reps = KZ_TEXT_INPUT_MAX / 3;
    for (size_t i = 0; i < reps; i++)
        memcpy(big + 3 * i, "\xef\xb7\xba", 3);
    assert_int_equal(kz_text_normalize(big, 3 * reps, &out, &n), 0);
    assert_true(n > 3 * reps);
    free(out);
    free(big);
}

static void test_norm_rules_id(void **st)
{
    (void)st;
    const char *id = kz_text_rules_id();
    assert_non_null(strstr(id, "kz-text 1"));
    assert_non_null(strstr(id, "Unicode "));
}

static void test_norm_idempotent(void **st)
{
    (void)st;
    const char *samples[] = {
        "ｽｽﾞｷ ﾀﾛｳ", "Satoh Ohno Tōkyō", "佐々木 いすゞ", "ソフトウェアEngineer at 株式会社ABC",
        "Müller Straße İstanbul", "ｺｰﾋｰ ㈱ ①②", "ohh ouh ohhu oho", "か゛ は゜",
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(samples); i++) {
        char *a = norm(samples[i]);
        char *b = norm(a);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
}

/* ---- Romaji ----------------------------------------------------------------- */

static void assert_roma(const char *s, const char *want)
{
    char *out = NULL;
    size_t n = 0;
    int rc = kz_text_romanize(s, strlen(s), &out, &n);
    if (rc != 0)
        fail_msg("romanize(%s) failed: %s", s, kz_strerror(rc));
    if (strcmp(out, want) != 0)
        fail_msg("romanize(%s) = [%s], want [%s]", s, out, want);
    assert_int_equal(n, strlen(want));
    free(out);
}

static void test_romanize_basic(void **st)
{
    (void)st;
    assert_roma("すずき", "suzuki");
    assert_roma("スズキ", "suzuki");
    assert_roma("ｽｽﾞｷ", "suzuki");
    assert_roma("すずき たろう", "suzuki tarou");
    assert_roma("ちば つじ ふじた", "chiba tsuji fujita");
    assert_roma("しんいち", "shinichi");
    assert_roma("", "");
}

static void test_romanize_contracted_and_geminate(void **st)
{
    (void)st;
    assert_roma("きょうこ", "kyouko");
    assert_roma("しょうへい", "shouhei");
    assert_roma("ちゃ じゅん りょう ひゃく", "cha jun ryou hyaku");
    assert_roma("はっとり", "hattori");
    assert_roma("まっちゃ", "matcha");
    assert_roma("ほっかいどう", "hokkaidou");
    assert_roma("ソフィア ヴァイオリン ウィリアム ティム シェリー", "sofia vaiorin wiriamu timu sheri");
    assert_roma("ジョージ", "joji");
    assert_roma("イェール", "yeru");
    assert_roma("ツァ", "tsa");
    assert_roma("ぁ", "a");
}

static void test_romanize_mixed_input(void **st)
{
    (void)st;
    assert_roma("鈴木 すずき", "suzuki");
    assert_roma("ABC株式会社 えーびーしー", "abc ebishi");
    assert_roma("佐藤", "");
    char *out = (char *)1;
    size_t n;
    assert_int_equal(kz_text_romanize("\xff", 1, &out, &n), KZ_EINVAL);
    assert_null(out);
}

static void test_romanized_reading_matches_romaji_queries(void **st)
{
    (void)st;
    /* The romanised reading goes through the same folding as typed romaji. */
    const char *pairs[][2] = {
        {"さとう", "Satō"}, {"さとう", "satoh"}, {"おおの", "Ohno"}, {"ゆうき", "yuuki"},
        {"きょうこ", "Kyoko"}, {"すずき", "SUZUKI"}, {"しょうへい", "shohei"}, {"いいだ", "iida"},
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(pairs); i++) {
        char *r;
        size_t rn;
        assert_int_equal(kz_text_romanize(pairs[i][0], strlen(pairs[i][0]), &r, &rn), 0);
        if (!matches(r, pairs[i][1]))
            fail_msg("reading %s (romanised %s) not found by %s", pairs[i][0], r, pairs[i][1]);
        free(r);
    }
}

/* ---- Index terms ------------------------------------------------------------ */

static void test_terms_cjk_unigrams_and_bigrams(void **st)
{
    (void)st;
    termlist *tl = terms_of("住友商事", KZ_TEXT_CLASS_COMPANY);
    const char *want[][2] = {
        {"u", "住"}, {"u", "友"}, {"b", "住友"}, {"u", "商"}, {"b", "友商"}, {"u", "事"}, {"b", "商事"},
    };
    assert_int_equal(tl->n, KZ_ARRAY_LEN(want));
    for (size_t i = 0; i < KZ_ARRAY_LEN(want); i++) {
        assert_int_equal(find_term(tl, want[i][0][0], want[i][1]), (int)i);
        assert_int_equal(tl->t[i].cls, KZ_TEXT_CLASS_COMPANY);
        assert_int_equal(tl->t[i].flags, 0);
    }
    free(tl);
}

static void test_terms_bigram_across_space_not_across_word(void **st)
{
    (void)st;
    assert_true(has_term("鈴木 太郎", 'b', "木太"));
    assert_true(has_term("鈴木、太郎", 'b', "木太"));
    assert_false(has_term("東京 abc 大阪", 'b', "京大"));
    assert_false(has_term("東京abc大阪", 'b', "京大"));
}

static void test_terms_latin_prefixes(void **st)
{
    (void)st;
    termlist *tl = terms_of("Engineer", KZ_TEXT_CLASS_OTHER);
    const char *want[] = {"e", "en", "eng", "engi", "engin", "engine", "enginee", "engineer"};
    assert_int_equal(tl->n, KZ_ARRAY_LEN(want));
    for (size_t i = 0; i < KZ_ARRAY_LEN(want); i++) {
        assert_int_equal(find_term(tl, 'p', want[i]), (int)i);
        assert_int_equal(tl->t[i].flags, i + 1 == KZ_ARRAY_LEN(want) ? KZ_TEXT_F_WHOLE : 0u);
    }
    free(tl);
}

static void test_terms_prefix_cap(void **st)
{
    (void)st;
    const char *w = "supercalifragilisticexpialidocious"; /* 34 letters */
    termlist *tl = terms_of(w, KZ_TEXT_CLASS_BIO);
    assert_int_equal(tl->n, KZ_TEXT_PREFIX_MAX);
    assert_true(find_term(tl, 'p', "supercalifragilistic") >= 0); /* 20 letters */
    for (size_t i = 0; i < tl->n; i++)
        assert_int_equal(tl->t[i].flags, 0); /* never the whole word */
    free(tl);
    /* Multi-byte letters are counted in code points, not bytes. */
    tl = terms_of("абвгдеёжзийклмнопрстуфхцчшщ", KZ_TEXT_CLASS_BIO);
    assert_int_equal(tl->n, KZ_TEXT_PREFIX_MAX);
    assert_int_equal(tl->t[tl->n - 1].len, 1 + 2 * KZ_TEXT_PREFIX_MAX);
    free(tl);
}

static void test_terms_field_class_passed(void **st)
{
    (void)st;
    for (int cls = 0; cls <= KZ_TEXT_CLASS_MAX; cls++) {
        termlist *tc = terms_of("鈴木 suzuki", cls);
        assert_true(tc->n > 0);
        for (size_t i = 0; i < tc->n; i++)
            assert_int_equal(tc->t[i].cls, cls);
        free(tc);
    }
    termlist *tl = calloc(1, sizeof *tl);
    assert_non_null(tl);
    assert_int_equal(kz_text_terms("a", 1, -1, collect_cb, tl), KZ_EINVAL);
    assert_int_equal(kz_text_terms("a", 1, KZ_TEXT_CLASS_MAX + 1, collect_cb, tl), KZ_EINVAL);
    assert_int_equal(kz_text_terms("a", 1, 0, NULL, NULL), KZ_EINVAL);
    assert_int_equal(tl->n, 0);
    free(tl);
}

static void test_terms_mixed_text(void **st)
{
    (void)st;
    termlist *tl = terms_of("ソフトウェアEngineer at 株式会社ABC", KZ_TEXT_CLASS_OTHER);
    assert_true(find_term(tl, 'b', "そふ") >= 0);
    assert_true(find_term(tl, 'u', "あ") >= 0);
    assert_true(find_term(tl, 'p', "engineer") >= 0);
    assert_true(find_term(tl, 'p', "eng") >= 0);
    assert_true(find_term(tl, 'p', "at") >= 0);
    assert_true(find_term(tl, 'b', "株式") >= 0);
    assert_true(find_term(tl, 'b', "会社") >= 0);
    assert_true(find_term(tl, 'p', "abc") >= 0);
    /* No bigram joins kana to kanji across the Latin words in between. */
    assert_int_equal(find_term(tl, 'b', "あ株"), -1);
    /* No key ever mixes scripts: Latin letters never appear in a CJK key. */
    for (size_t i = 0; i < tl->n; i++)
        if (tl->t[i].b[0] != 'p')
            for (size_t j = 1; j < tl->t[i].len; j++)
                assert_true(tl->t[i].b[j] >= 0x80);
    free(tl);
}

static int stop_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    int *calls = ud;
    return ++*calls == 3 ? 7 : 0;
}

static void test_terms_callback_stops(void **st)
{
    (void)st;
    int calls = 0;
    assert_int_equal(kz_text_terms("engineer", 8, 0, stop_cb, &calls), 7);
    assert_int_equal(calls, 3);
}

static void test_terms_bad_input(void **st)
{
    (void)st;
    termlist *tl = calloc(1, sizeof *tl);
    assert_non_null(tl);
    assert_int_equal(kz_text_terms("\xff", 1, 0, collect_cb, tl), KZ_EINVAL);
    assert_int_equal(kz_text_terms("a\x07", 2, 0, collect_cb, tl), KZ_EINVAL);
    assert_int_equal(tl->n, 0);
    assert_int_equal(kz_text_terms("", 0, 0, collect_cb, tl), 0);
    assert_int_equal(kz_text_terms("…!?", strlen("…!?"), 0, collect_cb, tl), 0);
    assert_int_equal(tl->n, 0);
    /* Bio text keeps its newlines: they separate words. */
    assert_int_equal(kz_text_terms("line one\nline two", 17, 0, collect_cb, tl), 0);
    assert_true(find_term(tl, 'p', "one") >= 0);
    assert_true(find_term(tl, 'p', "line") >= 0);
    free(tl);
}

/* ---- Queries ------------------------------------------------------------------ */

static void test_query_kana_and_width_variants_match(void **st)
{
    (void)st;
    const char *forms[] = {"すずき", "スズキ", "ｽｽﾞｷ"};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            assert_true(matches(forms[i], forms[j]));
    assert_true(matches("Suzuki", "SUZUKI"));
    assert_true(matches("SUZUKI", "Ｓｕｚｕｋｉ"));
    assert_true(matches("Ｓｕｚｕｋｉ", "suzuki"));
}

static void test_query_cjk_substring(void **st)
{
    (void)st;
    char keys[256];
    query_keys_str("住友", keys, sizeof keys);
    assert_string_equal(keys, "b:住友");
    assert_true(matches("住友商事", "住友"));
    assert_true(matches("住友商事", "商事"));
    assert_true(matches("住友商事", "友商"));
    assert_true(matches("三井住友銀行", "住友"));
    assert_false(matches("三井物産", "住友"));
    query_keys_str("住友商事", keys, sizeof keys);
    assert_string_equal(keys, "b:住友 b:友商 b:商事");
}

static void test_query_single_char_unigram(void **st)
{
    (void)st;
    char keys[256];
    query_keys_str("鈴", keys, sizeof keys);
    assert_string_equal(keys, "u:鈴");
    assert_true(matches("鈴木", "鈴"));
    assert_true(matches("鈴木", "木"));
    assert_false(matches("佐藤", "鈴"));
}

static void test_query_latin_prefix(void **st)
{
    (void)st;
    char keys[256];
    query_keys_str("eng", keys, sizeof keys);
    assert_string_equal(keys, "p:eng");
    assert_true(matches("Engineer", "eng"));
    assert_true(matches("Senior Software Engineer", "ENG"));
    assert_true(matches("Engineer", "engineer"));
    assert_false(matches("Engineer", "engineers"));
    assert_false(matches("Designer", "eng")); /* prefix, not substring */
}

static void test_query_romaji_variants(void **st)
{
    (void)st;
    const char *forms[] = {"Satō", "Sato", "Satou", "Satoh"};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            assert_true(matches(forms[i], forms[j]));
    /* A prefix still finds the folded word. */
    assert_true(matches("Kouhei", "koh"));
    assert_true(matches("Ōtani", "ohta"));
}

static void test_query_and_words(void **st)
{
    (void)st;
    kz_text_query q;
    assert_int_equal(kz_text_query_parse("suzuki engineer", 15, &q), 0);
    assert_int_equal(q.n_words, 2);
    assert_int_equal(q.n_keys, 2);
    assert_int_equal(q.keys[0].word, 0);
    assert_int_equal(q.keys[1].word, 1);
    assert_int_equal(q.words[1].off, 7);
    assert_int_equal(q.words[1].len, 8);
    kz_text_query_close(&q);
    assert_true(matches("Suzuki Taro, software engineer", "suzuki engineer"));
    assert_false(matches("Suzuki Taro, sales", "suzuki engineer"));
    assert_false(matches("Tanaka, engineer", "suzuki engineer"));
    assert_true(matches("鈴木 太郎 住友商事", "鈴木 住友"));
    assert_false(matches("鈴木 太郎 三井物産", "鈴木 住友"));
    assert_true(matches("ソフトウェアEngineer at 株式会社ABC", "ソフト eng abc"));
}

static void test_query_voiced_not_folded(void **st)
{
    (void)st;
    assert_false(matches("か", "が"));
    assert_false(matches("かき", "がぎ"));
    assert_false(matches("はし", "ばし"));
    assert_true(matches("がぎぐ", "ｶﾞｷﾞ"));
}

static void test_query_name_without_space(void **st)
{
    (void)st;
    assert_true(matches("鈴木 太郎", "鈴木太郎"));
    assert_true(matches("鈴木 太郎", "鈴木 太郎"));
    assert_true(matches("すずき たろう", "スズキタロウ"));
}

static void test_query_mixed_word(void **st)
{
    (void)st;
    char keys[256];
    query_keys_str("ABC株式会社", keys, sizeof keys);
    assert_string_equal(keys, "p:abc b:株式 b:式会 b:会社");
    query_keys_str("鈴abc", keys, sizeof keys);
    assert_string_equal(keys, "u:鈴 p:abc");
}

static void test_query_dedupes(void **st)
{
    (void)st;
    kz_text_query q;
    const char *s = "すすすす";
    assert_int_equal(kz_text_query_parse(s, strlen(s), &q), 0);
    assert_int_equal(q.n_keys, 1);
    s = "鈴木 鈴木 Sato satou";
    assert_int_equal(kz_text_query_parse(s, strlen(s), &q), 0);
    assert_int_equal(q.n_words, 2);
    assert_int_equal(q.n_keys, 2);
    assert_string_equal(q.norm, "鈴木 鈴木 sato sato");
    kz_text_query_close(&q);
}

static void test_query_long_word_truncated(void **st)
{
    (void)st;
    const char *w = "Internationalizationalist";
    kz_text_query q;
    assert_int_equal(kz_text_query_parse(w, strlen(w), &q), 0);
    assert_int_equal(q.n_keys, 1);
    assert_int_equal(q.keys[0].len, 1 + KZ_TEXT_PREFIX_MAX);
    assert_memory_equal(q.keys[0].b, "pinternationalization", 1 + KZ_TEXT_PREFIX_MAX);
    assert_true(matches(w, w));
    assert_true(matches("internationalization", w)); /* same first 20 letters */
}

static void test_query_only_punctuation(void **st)
{
    (void)st;
    const char *inputs[] = {"", "   ", "!!!", "、。・「」", "--- *** ???", "\xe3\x80\x80"};
    for (size_t i = 0; i < KZ_ARRAY_LEN(inputs); i++) {
        kz_text_query q;
        assert_int_equal(kz_text_query_parse(inputs[i], strlen(inputs[i]), &q), 0);
        assert_int_equal(q.n_words, 0);
        assert_int_equal(q.n_keys, 0);
        assert_null(q.reason);
        kz_text_query_close(&q);
    }
}

static void test_query_control_chars(void **st)
{
    (void)st;
    const char *inputs[] = {"a\tb", "a\nb", "\x01", "suzuki\x7f", "a\xc2\x9b"};
    for (size_t i = 0; i < KZ_ARRAY_LEN(inputs); i++) {
        kz_text_query q;
        assert_int_equal(kz_text_query_parse(inputs[i], strlen(inputs[i]), &q), KZ_EINVAL);
        assert_non_null(strstr(q.reason, "control"));
        assert_int_equal(q.n_keys, 0);
    }
    kz_text_query q;
    assert_int_equal(kz_text_query_parse("a\0b", 3, &q), KZ_EINVAL);
    assert_non_null(strstr(q.reason, "control"));
}

static void test_query_invalid_utf8(void **st)
{
    (void)st;
    const char *inputs[] = {"\xff", "a\xc0\xaf", "\xed\xa0\x80", "\xe9\x88", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < KZ_ARRAY_LEN(inputs); i++) {
        kz_text_query q;
        assert_int_equal(kz_text_query_parse(inputs[i], strlen(inputs[i]), &q), KZ_EINVAL);
        assert_non_null(strstr(q.reason, "UTF-8"));
    }
}

static void test_query_limits(void **st)
{
    (void)st;
    kz_text_query q;
    /* 10 KB: refused before any work, quickly. */
    char *big = malloc(10240);
    assert_non_null(big);
    memset(big, 'a', 10240);
    double t0 = now_s();
    for (int i = 0; i < 1000; i++)
        assert_int_equal(kz_text_query_parse(big, 10240, &q), KZ_ETOOBIG);
    assert_true(now_s() - t0 < 2.0);
    assert_non_null(strstr(q.reason, "1024"));
    free(big);

    /* 300 bytes of letters: under the raw limit, over 256 normalised. */
    char s[400];
    memset(s, 'x', 300);
    assert_int_equal(kz_text_query_parse(s, 300, &q), KZ_ETOOBIG);
    assert_non_null(strstr(q.reason, "256"));
    assert_int_equal(kz_text_query_parse(s, 256, &q), 0);
    /* Lots of punctuation shrinks away and is fine. */
    memset(s, '!', 400);
    memcpy(s + 100, "sato", 4);
    assert_int_equal(kz_text_query_parse(s, 400, &q), 0);
    assert_int_equal(q.n_keys, 1);

    /* 8 words are fine, 9 are not. */
    const char *w8 = "a b c d e f g h", *w9 = "a b c d e f g h i";
    assert_int_equal(kz_text_query_parse(w8, strlen(w8), &q), 0);
    assert_int_equal(q.n_words, 8);
    assert_int_equal(kz_text_query_parse(w9, strlen(w9), &q), KZ_ETOOBIG);
    assert_non_null(strstr(q.reason, "8 words"));

    /* 65 kanji in one word need 64 bigrams (ok); 66 need 65 (too many). */
    char cjk[300];
    for (int n = 65; n <= 66; n++) {
        for (int i = 0; i < n; i++) /* distinct kanji so no bigram repeats */
            memcpy(cjk + 3 * i, (const char[]){(char)0xe4, (char)(0xb8 + i / 64), (char)(0x80 + i % 64)}, 3);
        int rc = kz_text_query_parse(cjk, (size_t)(3 * n), &q);
        assert_int_equal(rc, n == 65 ? 0 : KZ_ETOOBIG);
        if (rc == 0)
            assert_int_equal(q.n_keys, 64);
        else
            assert_non_null(strstr(q.reason, "64"));
    }
    assert_int_equal(kz_text_query_parse(NULL, 0, &q), 0);
    assert_int_equal(kz_text_query_parse(NULL, 1, &q), KZ_EINVAL);
    assert_int_equal(kz_text_query_parse("a", 1, NULL), KZ_EINVAL);
}

/* ---- Term sets ---------------------------------------------------------------- */

static void test_termset_dedupes_with_max_class(void **st)
{
    (void)st;
    kz_text_termset *ts = kz_text_termset_create();
    assert_int_equal(kz_text_termset_add(ts, "Suzuki suzuki", 13, KZ_TEXT_CLASS_BIO), 0);
    assert_int_equal(kz_text_termset_count(ts), 6);
    assert_int_equal(kz_text_termset_add(ts, "Suzuki-san", 10, KZ_TEXT_CLASS_NAME), 0);
    /* "san" adds s(dup), sa, san. */
    assert_int_equal(kz_text_termset_count(ts), 8);
    termlist *tl = calloc(1, sizeof *tl);
    assert_non_null(tl);
    assert_int_equal(kz_text_termset_iter(ts, collect_cb, tl), 0);
    assert_int_equal(tl->n, 8);
    for (size_t i = 1; i < tl->n; i++) { /* ascending byte order */
        size_t m = tl->t[i - 1].len < tl->t[i].len ? tl->t[i - 1].len : tl->t[i].len;
        int c = memcmp(tl->t[i - 1].b, tl->t[i].b, m);
        assert_true(c < 0 || (c == 0 && tl->t[i - 1].len < tl->t[i].len));
    }
    int i = find_term(tl, 'p', "suzuki");
    assert_true(i >= 0);
    assert_int_equal(tl->t[i].cls, KZ_TEXT_CLASS_NAME);
    assert_int_equal(tl->t[i].flags, KZ_TEXT_F_WHOLE);
    i = find_term(tl, 'p', "suzu");
    assert_int_equal(tl->t[i].flags, 0);
    /* Adding after iterating still deduplicates (the table is rebuilt). */
    assert_int_equal(kz_text_termset_add(ts, "suzuki", 6, KZ_TEXT_CLASS_OTHER), 0);
    assert_int_equal(kz_text_termset_count(ts), 8);
    free(tl);
    kz_text_termset_free(ts);
    kz_text_termset_free(NULL);
}

static void kzs(kz_str *s, const char *v)
{
    s->p = v;
    s->n = (uint32_t)strlen(v);
}

static void sample_profile(kz_body_profile *p)
{
    memset(p, 0, sizeof *p);
    kzs(&p->name, "鈴木 太郎");
    kzs(&p->reading, "すずき たろう");
    kzs(&p->romaji, "Suzuki Taro");
    kzs(&p->department, "営業本部");
    kzs(&p->title, "課長");
    kzs(&p->current_company, "住友商事株式会社");
    kzs(&p->current_title, "Senior Software Engineer");
    kzs(&p->location, "東京都港区");
    p->n_skills = 4;
    kzs(&p->skills[0], "Python");
    kzs(&p->skills[1], "Go");
    kzs(&p->skills[2], "プロジェクト管理");
    kzs(&p->skills[3], "法人営業");
    kzs(&p->bio, "2005年に入社し、法人営業を10年担当しました。現在は住友商事でソフトウェア開発を"
                 "率いています。I lead a team of engineers building logistics software; happy to "
                 "talk about careers, mentoring and side projects.");
}

typedef struct {
    const char *key;
    int cls;
    bool found;
} want_term;

static int check_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    want_term *w = ud;
    for (; w->key; w++)
        if (strlen(w->key) == len && memcmp(w->key, key, len) == 0) {
            assert_int_equal(cls, w->cls);
            w->found = true;
        }
    return 0;
}

static void test_termset_profile_classes(void **st)
{
    (void)st;
    kz_body_profile p;
    sample_profile(&p);
    kz_text_termset *ts = kz_text_termset_create();
    assert_int_equal(kz_text_termset_add_profile(ts, &p), 0);
    want_term want[] = {
        {"b鈴木", KZ_TEXT_CLASS_NAME, false},   {"bすず", KZ_TEXT_CLASS_NAME, false},
        {"psuzuki", KZ_TEXT_CLASS_NAME, false}, {"b住友", KZ_TEXT_CLASS_COMPANY, false},
        {"b課長", KZ_TEXT_CLASS_OTHER, false},  {"ppython", KZ_TEXT_CLASS_OTHER, false},
        {"b管理", KZ_TEXT_CLASS_OTHER, false},  {"b港区", KZ_TEXT_CLASS_OTHER, false},
        /* 営業 is in the department (1) and the bio (0): the higher class wins. */
        {"b営業", KZ_TEXT_CLASS_OTHER, false},  {"pmentoring", KZ_TEXT_CLASS_BIO, false},
        {"pteam", KZ_TEXT_CLASS_BIO, false},    {NULL, 0, false},
    };
    assert_int_equal(kz_text_termset_iter(ts, check_cb, want), 0);
    for (want_term *w = want; w->key; w++)
        if (!w->found)
            fail_msg("profile term %s missing", w->key);
    /* Skills are added one by one: no bigram joins two skills. */
    want_term none[] = {{"b理法", 0, false}, {NULL, 0, false}};
    assert_int_equal(kz_text_termset_iter(ts, check_cb, none), 0);
    assert_false(none[0].found);
    kz_text_termset_free(ts);

    /* Without a romaji field the romanised reading still finds the name. */
    p.romaji.n = 0;
    ts = kz_text_termset_create();
    assert_int_equal(kz_text_termset_add_profile(ts, &p), 0);
    want_term roma[] = {{"psuzuki", KZ_TEXT_CLASS_NAME, false},
                        {"ptaro", KZ_TEXT_CLASS_NAME, false}, {NULL, 0, false}};
    assert_int_equal(kz_text_termset_iter(ts, check_cb, roma), 0);
    assert_true(roma[0].found && roma[1].found);
    kz_text_termset_free(ts);

    p.n_skills = KZ_SKILLS_MAX + 1;
    ts = kz_text_termset_create();
    assert_int_equal(kz_text_termset_add_profile(ts, &p), KZ_EINVAL);
    kz_text_termset_free(ts);
}

/* Terms in a typical profile, for docs/search.md; also a guard that the
 * count stays in the expected range. */
static void test_termset_typical_profile_size(void **st)
{
    (void)st;
    kz_body_profile p;
    sample_profile(&p);
    kz_text_termset *ts = kz_text_termset_create();
    assert_int_equal(kz_text_termset_add_profile(ts, &p), 0);
    size_t n = kz_text_termset_count(ts);
    size_t raw = 0;
    termlist *tl = calloc(1, sizeof *tl);
    assert_non_null(tl);
    assert_int_equal(kz_text_terms(p.bio.p, p.bio.n, 0, collect_cb, tl), 0);
    raw = tl->n;
    free(tl);
    printf("typical profile: %zu distinct keys (bio alone emits %zu terms, %u bytes)\n", n, raw,
           p.bio.n);
    assert_true(n > 150 && n < 600);
    kz_text_termset_free(ts);
}

/* Pseudo-random distinct words, to push a set over its limit. */
static size_t random_words(char *buf, size_t cap, uint32_t *seed)
{
    size_t n = 0;
    while (n + 22 < cap) {
        for (int i = 0; i < 20; i++) {
            *seed = *seed * 1103515245u + 12345u;
            buf[n++] = (char)('a' + (*seed >> 16) % 26);
        }
        buf[n++] = ' ';
    }
    return n;
}

static void test_termset_limit(void **st)
{
    (void)st;
    char *buf = malloc(KZ_TEXT_INPUT_MAX);
    assert_non_null(buf);
    uint32_t seed = 1;
    kz_text_termset *ts = kz_text_termset_create();
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        size_t n = random_words(buf, KZ_TEXT_INPUT_MAX, &seed);
        rc = kz_text_termset_add(ts, buf, n, KZ_TEXT_CLASS_BIO);
    }
    assert_int_equal(rc, KZ_ETOOBIG);
    assert_int_equal(kz_text_termset_count(ts), KZ_TEXT_DOC_TERMS_MAX);
    kz_text_termset_free(ts);
    free(buf);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_norm_kana_forms_equal),
    cmocka_unit_test(test_norm_latin_width_and_case),
    cmocka_unit_test(test_norm_voiced_kana_preserved),
    cmocka_unit_test(test_norm_halfwidth_dakuten_composed),
    cmocka_unit_test(test_norm_iteration_marks),
    cmocka_unit_test(test_norm_small_ke),
    cmocka_unit_test(test_norm_long_vowel_mark),
    cmocka_unit_test(test_norm_separators),
    cmocka_unit_test(test_norm_romaji_long_vowels),
    cmocka_unit_test(test_norm_latin_diacritics),
    cmocka_unit_test(test_norm_ignorables_removed),
    cmocka_unit_test(test_norm_empty_and_blank),
    cmocka_unit_test(test_norm_rejects_bad_input),
    cmocka_unit_test(test_norm_size_limit),
    cmocka_unit_test(test_norm_idempotent),
    cmocka_unit_test(test_norm_rules_id),
    cmocka_unit_test(test_romanize_basic),
    cmocka_unit_test(test_romanize_contracted_and_geminate),
    cmocka_unit_test(test_romanize_mixed_input),
    cmocka_unit_test(test_romanized_reading_matches_romaji_queries),
    cmocka_unit_test(test_terms_cjk_unigrams_and_bigrams),
    cmocka_unit_test(test_terms_bigram_across_space_not_across_word),
    cmocka_unit_test(test_terms_latin_prefixes),
    cmocka_unit_test(test_terms_prefix_cap),
    cmocka_unit_test(test_terms_field_class_passed),
    cmocka_unit_test(test_terms_mixed_text),
    cmocka_unit_test(test_terms_callback_stops),
    cmocka_unit_test(test_terms_bad_input),
    cmocka_unit_test(test_query_kana_and_width_variants_match),
    cmocka_unit_test(test_query_cjk_substring),
    cmocka_unit_test(test_query_single_char_unigram),
    cmocka_unit_test(test_query_latin_prefix),
    cmocka_unit_test(test_query_romaji_variants),
    cmocka_unit_test(test_query_and_words),
    cmocka_unit_test(test_query_voiced_not_folded),
    cmocka_unit_test(test_query_name_without_space),
    cmocka_unit_test(test_query_mixed_word),
    cmocka_unit_test(test_query_dedupes),
    cmocka_unit_test(test_query_long_word_truncated),
    cmocka_unit_test(test_query_only_punctuation),
    cmocka_unit_test(test_query_control_chars),
    cmocka_unit_test(test_query_invalid_utf8),
    cmocka_unit_test(test_query_limits),
    cmocka_unit_test(test_termset_dedupes_with_max_class),
    cmocka_unit_test(test_termset_profile_classes),
    cmocka_unit_test(test_termset_typical_profile_size),
    cmocka_unit_test(test_termset_limit),
};

KZ_TEST_MAIN(tests)
