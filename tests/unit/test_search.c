/* kz-test-link: kz_store */
/* test_search.c: directory search at the store level: every normalisation
 * rule end to end, filters, ranking, paging, visibility, the first-class
 * queries, index consistency after replace / delete / revoke / re-attest /
 * block / rename, rebuilds, and bad queries. */
#include "kz_test.h"

#include "search_fixtures.h"

/* ---- Normalisation, end to end ---------------------------------------------------- */

static const prof SUZUKI = {.name = "鈴木 一郎", .reading = "すずき いちろう",
                            .title = "Senior Engineer", .cc = "住友商事",
                            .loc = "東京都 港区", .skills = {"C", "LMDB"}, .joined = 2005,
                            .left = 2015, .dept = "開発部"};

static void one_suzuki(sw *w, key *m)
{
    sw_open(w);
    member(w, m, 10, &w->n2, &SUZUKI);
}

static void check_finds_suzuki(const char *query, uint32_t field)
{
    sw w;
    key m;
    one_suzuki(&w, &m);
    kz_search_result *r = text(&w, query);
    if (r->n != 1)
        fail_msg("'%s': %zu hits", query, r->n);
    assert_memory_equal(r->hits[0].member, m.pk, KZ_KEY_BYTES);
    assert_string_equal(r->hits[0].name, "鈴木 一郎");
    assert_string_equal(r->hits[0].reading, "すずき いちろう");
    if (field && !(r->hits[0].matched & field))
        fail_msg("'%s': matched 0x%x lacks 0x%x", query, r->hits[0].matched, field);
    kz_store_search_free(r);
    fx_close(&w.f);
}

static void test_hiragana_reading(void **state) { check_finds_suzuki("すずき", KZ_SEARCH_F_READING); }
static void test_katakana_reading(void **state) { check_finds_suzuki("スズキ", KZ_SEARCH_F_READING); }
static void test_halfwidth_katakana(void **state) { check_finds_suzuki("ｽｽﾞｷ", KZ_SEARCH_F_READING); }
static void test_romaji_lower(void **state) { check_finds_suzuki("suzuki", KZ_SEARCH_F_READING); }
static void test_romaji_upper(void **state) { check_finds_suzuki("SUZUKI", KZ_SEARCH_F_READING); }
static void test_romaji_fullwidth(void **state) { check_finds_suzuki("ｓｕｚｕｋｉ", KZ_SEARCH_F_READING); }
static void test_kanji_name(void **state) { check_finds_suzuki("鈴木", KZ_SEARCH_F_NAME); }
static void test_single_kanji(void **state) { check_finds_suzuki("鈴", KZ_SEARCH_F_NAME); }
static void test_name_without_space(void **state) { check_finds_suzuki("鈴木一郎", KZ_SEARCH_F_NAME); }
static void test_kanji_substring(void **state) { check_finds_suzuki("住友", KZ_SEARCH_F_CURRENT_COMPANY); }
static void test_latin_prefix(void **state) { check_finds_suzuki("eng", KZ_SEARCH_F_TITLE); }
static void test_latin_fullwidth_upper(void **state) { check_finds_suzuki("ＥＮＧ", KZ_SEARCH_F_TITLE); }
static void test_home_company_name(void **state) { check_finds_suzuki("acme", KZ_SEARCH_F_HOME_COMPANY); }
static void test_two_words_and(void **state) { check_finds_suzuki("suzuki eng", 0); }

static void test_no_false_matches(void **state)
{
    sw w;
    key m;
    one_suzuki(&w, &m);
    expect_hits(&w, "佐藤", 0);
    expect_hits(&w, "gineer", 0);      /* prefix, not substring */
    expect_hits(&w, "suzuki designer", 0); /* AND */
    expect_hits(&w, "すすき", 0);       /* voiced marks are not folded away */
    fx_close(&w.f);
}

static void test_romaji_long_vowels(void **state)
{
    sw w;
    key m;
    sw_open(&w);
    prof p = {.name = "佐藤 恭子", .reading = "さとう きょうこ"};
    member(&w, &m, 11, &w.n1, &p);
    expect_hits(&w, "sato", 1);
    expect_hits(&w, "Satou", 1);
    expect_hits(&w, "Satō", 1);
    expect_hits(&w, "satoh kyoko", 1);
    fx_close(&w.f);
}

/* ---- Filters --------------------------------------------------------------------- */

static void three_members(sw *w, key m[3])
{
    sw_open(w);
    prof a = {.name = "Alice Tanaka", .reading = "たなか ありす", .cc = "Initech KK",
              .loc = "大阪府 大阪市", .skills = {"Rust", "Go"}, .joined = 2001, .left = 2010,
              .open_to = KZ_OPEN_MENTORING};
    prof b = {.name = "Bob Tanaka", .reading = "たなか ぼぶ", .cc = "住友商事株式会社",
              .loc = "東京都 港区", .skills = {"Go"}, .joined = 2008, .left = 2018,
              .open_to = KZ_OPEN_BUSINESS | KZ_OPEN_MENTORING};
    prof c = {.name = "Carol Tanaka", .reading = "たなか きゃろる", .cc = "Initech KK",
              .loc = "東京都 新宿区", .skills = {"Python"}, .joined = 2015, .left = 2020};
    member(w, &m[0], 20, &w->n1, &a);
    member(w, &m[1], 21, &w->n2, &b);
    member(w, &m[2], 22, &w->n2, &c);
}

static void test_filter_home_node(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.text = "tanaka", .home_node = w.n2.pk};
    assert_int_equal(count(&w, &q), 2);
    q.text = "";
    assert_int_equal(count(&w, &q), 2); /* a filter alone is a query */
    q.home_node = w.n1.pk;
    kz_search_result *r = run(&w, &q);
    assert_int_equal(r->n, 1);
    assert_memory_equal(r->hits[0].member, m[0].pk, KZ_KEY_BYTES);
    assert_memory_equal(r->hits[0].home_node, w.n1.pk, KZ_KEY_BYTES);
    assert_string_equal(r->hits[0].home_company, "住友商事");
    assert_true(r->hits[0].matched & KZ_SEARCH_F_HOME_COMPANY);
    kz_store_search_free(r);
    fx_close(&w.f);
}

static void test_filter_home_company_name(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.home_company = "住友"};
    assert_int_equal(count(&w, &q), 1);
    q.home_company = "ACME";
    assert_int_equal(count(&w, &q), 2);
    q.home_company = "Nobody Inc";
    assert_int_equal(count(&w, &q), 0);
    fx_close(&w.f);
}

static void test_filter_current_company(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.current_company = "initech"};
    assert_int_equal(count(&w, &q), 2);
    q.current_company = "住友商事";
    kz_search_result *r = run(&w, &q);
    assert_int_equal(r->n, 1);
    assert_memory_equal(r->hits[0].member, m[1].pk, KZ_KEY_BYTES);
    assert_string_equal(r->hits[0].current_company, "住友商事株式会社");
    kz_store_search_free(r);
    /* The word must be in that field: "tanaka" is a name, not a company. */
    q.current_company = "tanaka";
    assert_int_equal(count(&w, &q), 0);
    fx_close(&w.f);
}

static void test_filter_skill(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.skill = "go"};
    assert_int_equal(count(&w, &q), 2);
    q.skill = "PYTHON";
    assert_int_equal(count(&w, &q), 1);
    q.text = "alice";
    assert_int_equal(count(&w, &q), 0);
    fx_close(&w.f);
}

static void test_filter_location(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.location = "東京"};
    assert_int_equal(count(&w, &q), 2);
    q.location = "大阪";
    assert_int_equal(count(&w, &q), 1);
    fx_close(&w.f);
}

static void test_filter_left_years(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.left_from = 2010, .left_to = 2018};
    assert_int_equal(count(&w, &q), 2);
    q.left_from = 2019;
    q.left_to = 0;
    assert_int_equal(count(&w, &q), 1);
    q.left_from = 0;
    q.left_to = 2009;
    assert_int_equal(count(&w, &q), 0);
    q.left_to = 2010;
    q.text = "tanaka";
    assert_int_equal(count(&w, &q), 1);
    fx_close(&w.f);
}

static void test_filter_open_to(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.open_to = KZ_OPEN_MENTORING};
    assert_int_equal(count(&w, &q), 2);
    q.open_to = KZ_OPEN_MENTORING | KZ_OPEN_BUSINESS;
    assert_int_equal(count(&w, &q), 1);
    q.open_to = KZ_OPEN_RECONNECT;
    assert_int_equal(count(&w, &q), 0);
    fx_close(&w.f);
}

static void test_filters_combined(void **state)
{
    sw w;
    key m[3];
    three_members(&w, m);
    kz_search_query q = {.text = "tanaka", .home_company = "acme", .location = "東京",
                         .left_from = 2016, .skill = "python"};
    kz_search_result *r = run(&w, &q);
    assert_int_equal(r->n, 1);
    assert_memory_equal(r->hits[0].member, m[2].pk, KZ_KEY_BYTES);
    uint32_t want = KZ_SEARCH_F_NAME | KZ_SEARCH_F_HOME_COMPANY | KZ_SEARCH_F_LOCATION |
                    KZ_SEARCH_F_LEFT | KZ_SEARCH_F_SKILLS;
    assert_int_equal(r->hits[0].matched & want, want);
    kz_store_search_free(r);
    fx_close(&w.f);
}


/* ---- First-class queries ------------------------------------------------------------ */

static void test_same_current_company(void **state)
{
    sw w;
    key m[3], d;
    three_members(&w, m);
    /* Same company written another way: normalisation makes them equal. */
    prof p = {.name = "Dan Ito", .reading = "いとう だん", .cc = "ＩＮＩＴＥＣＨ kk"};
    member(&w, &d, 23, &w.n1, &p);
    kz_search_query q = {.same_current_company_as = m[0].pk};
    kz_search_result *r = run(&w, &q);
    assert_int_equal(r->n, 2); /* Carol and Dan, not Alice herself, not Bob */
    assert_true(find(r, &m[2]) >= 0);
    assert_true(find(r, &d) >= 0);
    assert_int_equal(find(r, &m[0]), -1);
    assert_true(r->hits[0].matched & KZ_SEARCH_F_CURRENT_COMPANY);
    kz_store_search_free(r);
    /* Equality, not containment: "Initech" alone is another company. */
    prof e = {.name = "Eve", .reading = "いぶ", .cc = "Initech"};
    key em;
    member(&w, &em, 24, &w.n1, &e);
    q.text = "";
    assert_int_equal(count(&w, &q), 2);
    q.text = "dan";
    assert_int_equal(count(&w, &q), 1);
    fx_close(&w.f);
}

static void test_same_company_needs_one(void **state)
{
    sw w;
    key m, none;
    const char *reason = NULL;
    sw_open(&w);
    prof p = {.name = "No Company", .reading = "のー"};
    member(&w, &m, 30, &w.n1, &p);
    key_make(&none, 31);
    kz_search_query q = {.same_current_company_as = m.pk};
    assert_int_equal(search_rc(&w, &q, &reason), KZ_EINVAL);
    assert_non_null(strstr(reason, "no current company"));
    q.same_current_company_as = none.pk;
    assert_int_equal(search_rc(&w, &q, &reason), KZ_ENOTFOUND);
    q.same_current_company_as = NULL;
    q.former_colleagues_of = none.pk;
    assert_int_equal(search_rc(&w, &q, &reason), KZ_ENOTFOUND);
    fx_close(&w.f);
}

static void test_former_colleagues(void **state)
{
    sw w;
    key me, a, b, c, d, e;
    sw_open(&w);
    prof base = {.name = "Me", .reading = "みー", .dept = "営業部"};
    /* Tenure and department come from the node's attestation. */
    key_make(&me, 40);
    attest(&w, &w.n1, &me, 2005, 2012, "営業部");
    profile(&w, &me, &base, NULL);
    struct {
        key *k;
        uint8_t seed;
        const key *node;
        uint16_t j, l;
        const char *dept;
    } people[] = {
        {&a, 41, &w.n1, 2010, 2015, "営業部"}, /* overlaps: yes */
        {&b, 42, &w.n1, 2013, 2016, "営業部"}, /* joined after I left */
        {&c, 43, &w.n1, 2000, 2006, "開発部"}, /* other department */
        {&d, 44, &w.n2, 2006, 2010, "営業部"}, /* other company */
        {&e, 45, &w.n1, 1999, 0, "営業部"},    /* still there: open end */
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(people); i++) {
        prof p = {.name = "Colleague", .reading = "こりーぐ"};
        key_make(people[i].k, people[i].seed);
        attest(&w, people[i].node, people[i].k, people[i].j, people[i].l, people[i].dept);
        profile(&w, people[i].k, &p, NULL);
    }
    kz_search_query q = {.former_colleagues_of = me.pk};
    kz_search_result *r = run(&w, &q);
    assert_int_equal(r->n, 2);
    assert_true(find(r, &a) >= 0);
    assert_true(find(r, &e) >= 0);
    assert_true(r->hits[0].matched & KZ_SEARCH_F_TENURE);
    kz_store_search_free(r);
    fx_close(&w.f);
}

/* ---- Visibility ------------------------------------------------------------------- */

static void test_hidden_never_returned(void **state)
{
    sw w;
    key m;
    sw_open(&w);
    prof p = {.name = "Hidden Hana", .reading = "はな", .vis = KZ_VIS_HIDDEN};
    member(&w, &m, 50, &w.n1, &p);
    kz_search_query q = {.text = "hana", .viewer_home = w.n1.pk, .secretariat = true};
    assert_int_equal(count(&w, &q), 0);
    q.text = NULL;
    q.home_node = w.n1.pk;
    assert_int_equal(count(&w, &q), 0);
    kz_search_stats st;
    assert_int_equal(kz_store_search_stats(w.f.s, &st), 0);
    assert_int_equal(st.docs, 0); /* not even indexed */
    fx_close(&w.f);
}

static void test_company_scope(void **state)
{
    sw w;
    key m, viewer;
    sw_open(&w);
    prof p = {.name = "Scoped Sato", .reading = "さとう", .vis = KZ_VIS_COMPANY};
    member(&w, &m, 51, &w.n1, &p);
    key_make(&viewer, 52);
    kz_search_query q = {.text = "sato"};
    assert_int_equal(count(&w, &q), 0);            /* outsider */
    q.viewer_home = w.n2.pk;
    assert_int_equal(count(&w, &q), 0);            /* another company */
    q.viewer_home = w.n1.pk;
    assert_int_equal(count(&w, &q), 1);            /* same home */
    q.secretariat = true;
    assert_int_equal(count(&w, &q), 1);            /* the home's secretariat */
    q.viewer_home = NULL;
    q.secretariat = false;
    q.home_node = w.n1.pk;
    q.text = NULL;
    assert_int_equal(count(&w, &q), 0);            /* filters cannot reveal it either */
    fx_close(&w.f);
}

static void test_rehire_private(void **state)
{
    sw w;
    key m;
    sw_open(&w);
    prof p = {.name = "Rehire Ren", .reading = "れん"};
    member(&w, &m, 53, &w.n1, &p);
    kz_store_member lm = {0};
    memcpy(lm.pk, m.pk, KZ_KEY_BYTES);
    lm.rehire = true;
    assert_int_equal(kz_store_member_put(w.f.s, &lm), 0);

    kz_search_query q = {.text = "ren", .viewer_home = w.n1.pk};
    kz_search_result *r = run(&w, &q);
    assert_int_equal(r->n, 1);
    assert_false(r->hits[0].rehire_known); /* a member of the same company: no */
    kz_store_search_free(r);
    q.secretariat = true;
    r = run(&w, &q);
    assert_true(r->hits[0].rehire_known);
    assert_true(r->hits[0].rehire);
    kz_store_search_free(r);
    q.rehire = true;
    assert_int_equal(count(&w, &q), 1);
    q.secretariat = false;
    const char *reason;
    assert_int_equal(search_rc(&w, &q, &reason), KZ_EPERM);
    q.secretariat = true;
    q.viewer_home = w.n2.pk; /* another node's secretariat view sees nothing of ours */
    assert_int_equal(count(&w, &q), 0);
    fx_close(&w.f);
}

/* ---- Bad queries ---------------------------------------------------------------- */

static void expect_refused(sw *w, kz_search_query *q, int want, const char *why)
{
    const char *reason = NULL;
    uint64_t t0 = kz_now_ms();
    int rc = search_rc(w, q, &reason);
    if (rc != want)
        fail_msg("got %s, want %s", kz_strerror(rc), kz_strerror(want));
    assert_non_null(reason);
    if (why && !strstr(reason, why))
        fail_msg("reason '%s' lacks '%s'", reason, why);
    assert_true(kz_now_ms() - t0 < 1000);
}

static void test_bad_queries(void **state)
{
    sw w;
    key m;
    one_suzuki(&w, &m);
    kz_search_query q = {0};
    expect_refused(&w, &q, KZ_EINVAL, "give a query or a filter");
    q.text = "";
    expect_refused(&w, &q, KZ_EINVAL, "give a query or a filter");
    char *big = malloc(10241);
    memset(big, 'a', 10240);
    big[10240] = 0;
    q.text = big;
    expect_refused(&w, &q, KZ_ETOOBIG, NULL);
    q.text = "suzuki\x01";
    expect_refused(&w, &q, KZ_EINVAL, NULL);
    q.text = "tab\there";
    expect_refused(&w, &q, KZ_EINVAL, NULL);
    q.text = "bad \xC3\x28 utf8";
    expect_refused(&w, &q, KZ_EINVAL, NULL);
    q.text = "\xED\xA0\x80"; /* a surrogate */
    expect_refused(&w, &q, KZ_EINVAL, NULL);
    q.text = "a b c d e f g h i"; /* nine words */
    expect_refused(&w, &q, KZ_ETOOBIG, NULL);
    q.text = "suzuki";
    q.limit = 101;
    expect_refused(&w, &q, KZ_EINVAL, "limit");
    q.limit = 0;
    q.left_from = 2020;
    q.left_to = 2010;
    expect_refused(&w, &q, KZ_EINVAL, "left");
    q.left_from = 1800;
    q.left_to = 0;
    expect_refused(&w, &q, KZ_EINVAL, "left");
    q.left_from = 0;
    q.open_to = 0x80;
    expect_refused(&w, &q, KZ_EINVAL, "open_to");
    q.open_to = 0;
    q.current_company = "!!!";
    expect_refused(&w, &q, KZ_EINVAL, "current_company");
    q.current_company = big;
    expect_refused(&w, &q, KZ_ETOOBIG, "current_company");
    q.current_company = NULL;
    q.skill = "\x7f";
    expect_refused(&w, &q, KZ_EINVAL, "skill");
    free(big);
    fx_close(&w.f);
}

static void test_punctuation_only_is_empty(void **state)
{
    sw w;
    key m;
    one_suzuki(&w, &m);
    expect_hits(&w, "!!! ... ・・・ ？", 0);
    expect_hits(&w, "   ", 0);
    /* With a filter, punctuation is simply no words. */
    kz_search_query q = {.text = "!!!", .home_node = w.n2.pk};
    assert_int_equal(count(&w, &q), 1);
    fx_close(&w.f);
}

static void test_bad_cursors(void **state)
{
    sw w;
    key m;
    one_suzuki(&w, &m);
    const char *bad[] = {"", "zz", "0102", "not a cursor at all",
                         "01ff0000000000000000000000000", /* 29 chars */
                         "01FF000000000000000000000000",  /* upper case */
                         "09000000000000000000deadbeef",  /* version */
                         "01ff0000000000000000deadbeef"}; /* score out of range */
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        kz_search_query q = {.text = "suzuki", .cursor = bad[i]};
        expect_refused(&w, &q, KZ_EINVAL, "cursor");
    }
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hiragana_reading),
    cmocka_unit_test(test_katakana_reading),
    cmocka_unit_test(test_halfwidth_katakana),
    cmocka_unit_test(test_romaji_lower),
    cmocka_unit_test(test_romaji_upper),
    cmocka_unit_test(test_romaji_fullwidth),
    cmocka_unit_test(test_kanji_name),
    cmocka_unit_test(test_single_kanji),
    cmocka_unit_test(test_name_without_space),
    cmocka_unit_test(test_kanji_substring),
    cmocka_unit_test(test_latin_prefix),
    cmocka_unit_test(test_latin_fullwidth_upper),
    cmocka_unit_test(test_home_company_name),
    cmocka_unit_test(test_two_words_and),
    cmocka_unit_test(test_no_false_matches),
    cmocka_unit_test(test_romaji_long_vowels),
    cmocka_unit_test(test_filter_home_node),
    cmocka_unit_test(test_filter_home_company_name),
    cmocka_unit_test(test_filter_current_company),
    cmocka_unit_test(test_filter_skill),
    cmocka_unit_test(test_filter_location),
    cmocka_unit_test(test_filter_left_years),
    cmocka_unit_test(test_filter_open_to),
    cmocka_unit_test(test_filters_combined),
    cmocka_unit_test(test_same_current_company),
    cmocka_unit_test(test_same_company_needs_one),
    cmocka_unit_test(test_former_colleagues),
    cmocka_unit_test(test_hidden_never_returned),
    cmocka_unit_test(test_company_scope),
    cmocka_unit_test(test_rehire_private),
    cmocka_unit_test(test_bad_queries),
    cmocka_unit_test(test_punctuation_only_is_empty),
    cmocka_unit_test(test_bad_cursors),
};

KZ_TEST_MAIN(tests)
