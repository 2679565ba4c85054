/* kz-test-link: kz_store */
/* test_search_index.c: directory search ranking and paging, and the index
 * staying consistent with the store: replace, delete, revoke, re-attest,
 * block, node rename, batches, and rebuilds (also after a rules change). */
#include "kz_test.h"

#include "search_fixtures.h"

/* ---- Ranking ------------------------------------------------------------------- */

static void test_rank_by_field_class(void **state)
{
    sw w;
    key a, b, c, d, e;
    sw_open(&w);
    /* Oldest first, so recency alone would give the reverse order. */
    prof pa = {.name = "Tanaka Taro", .reading = "たなか たろう"};
    prof pe = {.name = "Tanakamura Emi", .reading = "えみ"};
    prof pb = {.name = "B", .reading = "び", .cc = "Tanaka Industries"};
    prof pc = {.name = "C", .reading = "し", .title = "Tanaka liaison"};
    prof pd = {.name = "D", .reading = "でぃ", .bio = "I worked with tanaka for years."};
    member(&w, &a, 60, &w.n1, &pa);
    member(&w, &e, 61, &w.n1, &pe);
    member(&w, &b, 62, &w.n1, &pb);
    member(&w, &c, 63, &w.n1, &pc);
    member(&w, &d, 64, &w.n1, &pd);
    kz_search_result *r = text(&w, "tanaka");
    assert_int_equal(r->n, 5);
    const key *want[] = {&a, &e, &b, &c, &d};
    for (size_t i = 0; i < 5; i++)
        assert_memory_equal(r->hits[i].member, want[i]->pk, KZ_KEY_BYTES);
    for (size_t i = 1; i < 5; i++)
        assert_true(r->hits[i - 1].score > r->hits[i].score);
    assert_true(r->hits[0].matched & KZ_SEARCH_F_NAME);
    assert_true(r->hits[2].matched & KZ_SEARCH_F_CURRENT_COMPANY);
    assert_true(r->hits[3].matched & KZ_SEARCH_F_TITLE);
    assert_int_equal(r->hits[4].matched, KZ_SEARCH_F_BIO);
    kz_store_search_free(r);
    fx_close(&w.f);
}

static void test_rank_whole_word_first(void **state)
{
    sw w;
    key ito, itoshima;
    sw_open(&w);
    prof p1 = {.name = "Ito Ken", .reading = "いとう けん"};
    prof p2 = {.name = "Itoshima Aya", .reading = "いとしま あや"};
    member(&w, &ito, 65, &w.n1, &p1);
    member(&w, &itoshima, 66, &w.n1, &p2); /* newer */
    kz_search_result *r = text(&w, "ito");
    assert_int_equal(r->n, 2);
    assert_memory_equal(r->hits[0].member, ito.pk, KZ_KEY_BYTES);
    kz_store_search_free(r);
    fx_close(&w.f);
}

static void test_rank_ties_newest_first(void **state)
{
    sw w;
    key m[4];
    sw_open(&w);
    for (uint8_t i = 0; i < 4; i++) {
        prof p = {.name = "Yamada", .reading = "やまだ"};
        member(&w, &m[i], (uint8_t)(70 + i), &w.n1, &p);
    }
    kz_search_result *r = text(&w, "yamada");
    assert_int_equal(r->n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_memory_equal(r->hits[i].member, m[3 - i].pk, KZ_KEY_BYTES);
        if (i)
            assert_true(r->hits[i - 1].updated_ms > r->hits[i].updated_ms);
    }
    kz_store_search_free(r);
    fx_close(&w.f);
}

/* ---- Paging ------------------------------------------------------------------------ */

/* Page through q, recording the member keys; returns the number of pages. */
static size_t page_all(sw *w, kz_search_query *q, uint8_t (*seen)[KZ_KEY_BYTES], size_t max,
                       size_t *n)
{
    char cursor[KZ_SEARCH_CURSOR_MAX] = "";
    size_t pages = 0;
    *n = 0;
    for (;;) {
        q->cursor = cursor[0] ? cursor : NULL;
        kz_search_result *r = run(w, q);
        pages++;
        for (size_t i = 0; i < r->n; i++) {
            for (size_t j = 0; j < *n; j++) {
                if (memcmp(seen[j], r->hits[i].member, KZ_KEY_BYTES) == 0)
                    fail_msg("duplicate across pages");
            }
            assert_true(*n < max);
            memcpy(seen[(*n)++], r->hits[i].member, KZ_KEY_BYTES);
        }
        bool more = r->more;
        if (more)
            memcpy(cursor, r->next_cursor, sizeof cursor);
        kz_store_search_free(r);
        if (!more || pages > 50)
            break;
    }
    q->cursor = NULL;
    return pages;
}

static void many(sw *w, key *m, size_t n, uint8_t seed0, const char *name, const char *cc)
{
    for (size_t i = 0; i < n; i++) {
        /* Company-only matches must not match "kato" by their reading. */
        prof p = {.name = name, .reading = cc ? "だれか" : "かとう", .cc = cc};
        member(w, &m[i], (uint8_t)(seed0 + i), &w->n1, &p);
    }
}

static void test_paging_complete(void **state)
{
    sw w;
    key m[25];
    uint8_t seen[40][KZ_KEY_BYTES];
    size_t n;
    sw_open(&w);
    many(&w, m, 25, 100, "Kato", NULL);
    kz_search_query q = {.text = "kato", .limit = 7};
    assert_int_equal(page_all(&w, &q, seen, 40, &n), 4);
    assert_int_equal(n, 25); /* no gaps, no duplicates (checked while paging) */
    for (size_t i = 0; i < 25; i++) /* newest first throughout */
        assert_memory_equal(seen[i], m[24 - i].pk, KZ_KEY_BYTES);
    /* The same with a filter and no words. */
    kz_search_query f = {.home_node = w.n1.pk, .limit = 10};
    assert_int_equal(page_all(&w, &f, seen, 40, &n), 3);
    assert_int_equal(n, 25);
    fx_close(&w.f);
}

static void test_paging_mixed_scores(void **state)
{
    sw w;
    key names[8], companies[8];
    uint8_t seen[40][KZ_KEY_BYTES];
    size_t n;
    sw_open(&w);
    many(&w, companies, 8, 130, "Someone", "Kato Shoji");
    many(&w, names, 8, 140, "Kato", NULL);
    kz_search_query q = {.text = "kato", .limit = 3};
    page_all(&w, &q, seen, 40, &n);
    assert_int_equal(n, 16);
    for (size_t i = 0; i < 8; i++) {
        assert_memory_equal(seen[i], names[7 - i].pk, KZ_KEY_BYTES);
        assert_memory_equal(seen[8 + i], companies[7 - i].pk, KZ_KEY_BYTES);
    }
    fx_close(&w.f);
}

/* Better matches that are older must not be cut off by newer weak ones:
 * the walk may stop early only at the best score the lists allow. */
static void test_paging_older_better_first(void **state)
{
    sw w;
    key names[4], companies[12];
    uint8_t seen[40][KZ_KEY_BYTES];
    size_t n;
    sw_open(&w);
    many(&w, names, 4, 150, "Kato", NULL);
    many(&w, companies, 12, 170, "Someone", "Kato Shoji");
    kz_search_query q = {.text = "kato", .limit = 3};
    page_all(&w, &q, seen, 40, &n);
    assert_int_equal(n, 16);
    for (size_t i = 0; i < 4; i++)
        assert_memory_equal(seen[i], names[3 - i].pk, KZ_KEY_BYTES);
    for (size_t i = 0; i < 12; i++)
        assert_memory_equal(seen[4 + i], companies[11 - i].pk, KZ_KEY_BYTES);
    fx_close(&w.f);
}

static void test_paging_stable_when_added(void **state)
{
    sw w;
    key m[12], late;
    sw_open(&w);
    many(&w, m, 12, 160, "Kato", NULL);
    kz_search_query q = {.text = "kato", .limit = 5};
    kz_search_result *p1 = run(&w, &q);
    assert_int_equal(p1->n, 5);
    assert_true(p1->more);
    char cursor[KZ_SEARCH_CURSOR_MAX];
    memcpy(cursor, p1->next_cursor, sizeof cursor);
    kz_store_search_free(p1);
    /* A new profile arrives between pages: it ranks first, so it belongs on
     * page one and must not shift later pages. */
    prof p = {.name = "Kato", .reading = "かとう"};
    member(&w, &late, 190, &w.n1, &p);
    q.cursor = cursor;
    kz_search_result *p2 = run(&w, &q);
    assert_int_equal(p2->n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_memory_equal(p2->hits[i].member, m[11 - 5 - i].pk, KZ_KEY_BYTES);
    assert_int_equal(find(p2, &late), -1);
    memcpy(cursor, p2->next_cursor, sizeof cursor);
    kz_store_search_free(p2);
    kz_search_result *p3 = run(&w, &q);
    assert_int_equal(p3->n, 2);
    assert_false(p3->more);
    kz_store_search_free(p3);
    /* A cursor is bound to its query. */
    kz_search_query other = {.text = "kat", .cursor = cursor};
    const char *reason;
    assert_int_equal(search_rc(&w, &other, &reason), KZ_EINVAL);
    fx_close(&w.f);
}

static void test_limit_default_and_max(void **state)
{
    sw w;
    key m[30];
    sw_open(&w);
    many(&w, m, 30, 200, "Kato", NULL);
    kz_search_query q = {.text = "kato"};
    kz_search_result *r = run(&w, &q);
    assert_int_equal(r->n, KZ_SEARCH_LIMIT_DEFAULT);
    assert_true(r->more);
    kz_store_search_free(r);
    q.limit = KZ_SEARCH_LIMIT_MAX;
    r = run(&w, &q);
    assert_int_equal(r->n, 30);
    assert_false(r->more);
    assert_false(r->truncated);
    kz_store_search_free(r);
    fx_close(&w.f);
}

/* ---- Consistency with the store ------------------------------------------------------ */

static kz_search_stats stats(sw *w)
{
    kz_search_stats st;
    assert_int_equal(kz_store_search_stats(w->f.s, &st), 0);
    return st;
}

/* The index built incrementally equals one built from scratch. */
static void check_rebuild_same(sw *w)
{
    kz_search_stats a = stats(w);
    assert_int_equal(kz_store_search_rebuild(w->f.s), 0);
    kz_search_stats b = stats(w);
    assert_int_equal(a.docs, b.docs);
    assert_int_equal(a.postings, b.postings);
}

/* Lists longer than an LMDB page (about 450 postings): walking across
 * pages, seeking beyond the page in hand, and paging through all of it. */
static void test_large_lists(void **state)
{
    enum { N = 1500, BATCH_N = 250 };
    sw w;
    static key m[N];
    kz_record recs[2 * BATCH_N];
    const kz_record *ptr[2 * BATCH_N];
    kz_put_result res[2 * BATCH_N];
    static uint8_t seen[N + 10][KZ_KEY_BYTES];
    size_t n;
    sw_open(&w);
    for (size_t b = 0; b < N / BATCH_N; b++) {
        for (size_t j = 0; j < BATCH_N; j++) {
            size_t i = b * BATCH_N + j;
            uint8_t seed[crypto_sign_SEEDBYTES] = {0};
            memcpy(seed, &i, sizeof i);
            seed[31] = 0x5a;
            assert_int_equal(crypto_sign_seed_keypair(m[i].pk, m[i].sk, seed), 0);
            kz_record_init(&recs[2 * j], KZ_T_ATTEST, w.n1.pk, w.t++);
            memcpy(recs[2 * j].body.attest.member, m[i].pk, KZ_KEY_BYTES);
            sign_ok(&recs[2 * j], &w.n1);
            kz_record_init(&recs[2 * j + 1], KZ_T_PROFILE, m[i].pk, w.t++);
            recs[2 * j + 1].body.profile.name = S("Kato");
            /* Every seventh member also has a rare skill. */
            if (i % 7 == 3) {
                recs[2 * j + 1].body.profile.skills[0] = S("Zig");
                recs[2 * j + 1].body.profile.n_skills = 1;
            }
            sign_ok(&recs[2 * j + 1], &m[i]);
            ptr[2 * j] = &recs[2 * j];
            ptr[2 * j + 1] = &recs[2 * j + 1];
        }
        assert_int_equal(kz_store_put_batch(w.f.s, ptr, 2 * BATCH_N, res), 0);
        for (size_t j = 0; j < 2 * BATCH_N; j++) {
            assert_int_equal(res[j].rc, 0);
            kz_record_close(&recs[j]);
        }
    }
    kz_search_query q = {.text = "kato", .limit = 100};
    assert_int_equal(page_all(&w, &q, seen, N + 10, &n), N / 100);
    assert_int_equal(n, N);
    for (size_t i = 0; i < N; i++)
        assert_memory_equal(seen[i], m[N - 1 - i].pk, KZ_KEY_BYTES);
    /* AND with a sparse list: seeks jump across pages of the dense one. */
    kz_search_query z = {.text = "kato zig", .limit = 100};
    page_all(&w, &z, seen, N + 10, &n);
    size_t k = 0;
    for (size_t i = N; i-- > 0;) {
        if (i % 7 != 3)
            continue;
        assert_true(k < n);
        assert_memory_equal(seen[k], m[i].pk, KZ_KEY_BYTES);
        k++;
    }
    assert_int_equal(k, n);
    kz_search_query f = {.skill = "zig", .limit = 50};
    page_all(&w, &f, seen, N + 10, &n);
    assert_int_equal(n, k);
    check_rebuild_same(&w);
    fx_close(&w.f);
}

static void test_replace_profile(void **state)
{
    sw w;
    key m;
    sw_open(&w);
    prof p = {.name = "Old Name", .reading = "おーるど", .cc = "Oldco"};
    member(&w, &m, 80, &w.n1, &p);
    expect_hits(&w, "oldco", 1);
    prof q = {.name = "New Name", .reading = "にゅー", .cc = "Newco"};
    profile(&w, &m, &q, NULL);
    expect_hits(&w, "oldco", 0);
    expect_hits(&w, "おーるど", 0);
    expect_hits(&w, "newco", 1);
    expect_hits(&w, "name", 1);
    assert_int_equal(stats(&w).docs, 1);
    check_rebuild_same(&w);
    fx_close(&w.f);
}

static void test_hide_and_show(void **state)
{
    sw w;
    key m;
    sw_open(&w);
    prof p = {.name = "Toggle", .reading = "とぐる"};
    member(&w, &m, 81, &w.n1, &p);
    p.vis = KZ_VIS_HIDDEN;
    profile(&w, &m, &p, NULL);
    expect_hits(&w, "toggle", 0);
    assert_int_equal(stats(&w).postings, 0);
    p.vis = KZ_VIS_FEDERATION;
    profile(&w, &m, &p, NULL);
    expect_hits(&w, "toggle", 1);
    fx_close(&w.f);
}

static void test_delete_profile(void **state)
{
    sw w;
    key m;
    kz_record pr, del;
    sw_open(&w);
    prof p = {.name = "Leaving Lee", .reading = "りー", .skills = {"Go"}, .left = 2019,
              .open_to = KZ_OPEN_BUSINESS};
    key_make(&m, 82);
    attest(&w, &w.n1, &m, 0, 0, NULL);
    profile(&w, &m, &p, &pr);
    expect_hits(&w, "lee", 1);
    mk_delete(&del, &m, w.t++, pr.id, m.pk);
    put_expect(w.f.s, &del, 0);
    expect_hits(&w, "lee", 0);
    kz_search_stats st = stats(&w);
    assert_int_equal(st.docs, 0);
    assert_int_equal(st.postings, 0); /* text and facets alike */
    kz_record_close(&pr);
    kz_record_close(&del);
    fx_close(&w.f);
}

static void test_revoke_and_reattest(void **state)
{
    sw w;
    key m;
    kz_record rev;
    sw_open(&w);
    prof p = {.name = "Revoked Rui", .reading = "るい"};
    member(&w, &m, 83, &w.n1, &p);
    expect_hits(&w, "rui", 1);
    mk_revoke(&rev, &w.n1, &m, w.t++);
    put_expect(w.f.s, &rev, 0);
    kz_record_close(&rev);
    expect_hits(&w, "rui", 0);
    assert_int_equal(stats(&w).docs, 0);
    /* Re-attested with new tenure: found again, with the new years. */
    attest(&w, &w.n1, &m, 2001, 2011, "経理部");
    expect_hits(&w, "rui", 1);
    kz_search_query q = {.left_from = 2011, .left_to = 2011};
    assert_int_equal(count(&w, &q), 1);
    expect_hits(&w, "経理", 1); /* the attestation's department is searchable */
    attest(&w, &w.n1, &m, 2001, 2012, NULL);
    assert_int_equal(count(&w, &q), 0);
    q.left_from = q.left_to = 2012;
    assert_int_equal(count(&w, &q), 1);
    expect_hits(&w, "経理", 0);
    check_rebuild_same(&w);
    fx_close(&w.f);
}

static void test_block_hides(void **state)
{
    sw w;
    key a, b;
    sw_open(&w);
    prof p = {.name = "Blocked Ben", .reading = "べん"};
    member(&w, &a, 84, &w.n1, &p);
    member(&w, &b, 85, &w.n2, &p);
    expect_hits(&w, "ben", 2);
    assert_int_equal(kz_store_block_set(w.f.s, w.n1.pk, true), 0);
    kz_search_result *r = text(&w, "ben");
    assert_int_equal(r->n, 1);
    assert_memory_equal(r->hits[0].member, b.pk, KZ_KEY_BYTES);
    kz_store_search_free(r);
    kz_search_query q = {.home_node = w.n1.pk};
    assert_int_equal(count(&w, &q), 0);
    assert_int_equal(kz_store_block_set(w.f.s, w.n1.pk, false), 0);
    expect_hits(&w, "ben", 2); /* unblocking needs no reindex */
    fx_close(&w.f);
}

static void test_node_rename(void **state)
{
    sw w;
    key m;
    sw_open(&w);
    prof p = {.name = "Rina", .reading = "りな"};
    member(&w, &m, 86, &w.n2, &p);
    expect_hits(&w, "acme", 1);
    put_node(&w, &w.n2, "Globex 株式会社");
    expect_hits(&w, "acme", 0);
    expect_hits(&w, "globex", 1);
    expect_hits(&w, "株式", 1);
    kz_search_result *r = text(&w, "rina");
    assert_string_equal(r->hits[0].home_company, "Globex 株式会社");
    kz_store_search_free(r);
    kz_search_query q = {.home_company = "globex"};
    assert_int_equal(count(&w, &q), 1);
    fx_close(&w.f);
}

static void test_batch_puts(void **state)
{
    sw w;
    key m[3];
    kz_record recs[6];
    const kz_record *ptr[6];
    kz_put_result res[6];
    sw_open(&w);
    for (int i = 0; i < 3; i++) {
        key_make(&m[i], (uint8_t)(90 + i));
        kz_record_init(&recs[2 * i], KZ_T_ATTEST, w.n1.pk, w.t++);
        memcpy(recs[2 * i].body.attest.member, m[i].pk, KZ_KEY_BYTES);
        sign_ok(&recs[2 * i], &w.n1);
        kz_record_init(&recs[2 * i + 1], KZ_T_PROFILE, m[i].pk, w.t++);
        recs[2 * i + 1].body.profile.name = S("Batch Bea");
        sign_ok(&recs[2 * i + 1], &m[i]);
    }
    for (int i = 0; i < 6; i++)
        ptr[i] = &recs[i];
    assert_int_equal(kz_store_put_batch(w.f.s, ptr, 6, res), 0);
    expect_hits(&w, "bea", 3);
    for (int i = 0; i < 6; i++)
        kz_record_close(&recs[i]);
    check_rebuild_same(&w);
    fx_close(&w.f);
}

static void test_rebuild_on_rules_change(void **state)
{
    sw w;
    key m;
    char val[256];
    size_t len;
    sw_open(&w);
    prof p = {.name = "鈴木", .reading = "すずき"};
    member(&w, &m, 95, &w.n1, &p);
    kz_search_stats before = stats(&w);
    assert_int_equal(kz_store_setting_get(w.f.s, "search.rules", val, sizeof val - 1, &len), 0);
    val[len] = 0;
    assert_non_null(strstr(val, kz_text_rules_id()));
    /* Pretend the index was built under other rules. */
    assert_int_equal(kz_store_setting_put(w.f.s, "search.rules", "kz-text 0, Unicode 1.0", 22), 0);
    fx_reopen(&w.f, NULL);
    assert_int_equal(kz_store_setting_get(w.f.s, "search.rules", val, sizeof val - 1, &len), 0);
    val[len] = 0;
    assert_non_null(strstr(val, kz_text_rules_id()));
    kz_search_stats after = stats(&w);
    assert_int_equal(before.docs, after.docs);
    assert_int_equal(before.postings, after.postings);
    expect_hits(&w, "suzuki", 1);
    fx_close(&w.f);
}

/* A rebuild in small steps with changes between them (what a running node
 * does) ends with the index a one-shot rebuild makes, and an abandoned one
 * is redone at the next open. */
static void test_rebuild_in_steps(void **state)
{
    sw w;
    key m[12], late, gone;
    kz_record gone_prof;
    sw_open(&w);
    for (uint8_t i = 0; i < 12; i++) {
        prof p = {.name = i % 2 ? "鈴木" : "Kato", .reading = i % 2 ? "すずき" : "かとう"};
        member(&w, &m[i], (uint8_t)(100 + i), &w.n1, &p);
    }
    prof pg = {.name = "高橋", .reading = "たかはし"};
    key_make(&gone, 130);
    attest(&w, &w.n1, &gone, 0, 0, NULL);
    profile(&w, &gone, &pg, &gone_prof);
    kz_search_stats full = stats(&w);

    kz_search_rebuild *rb = NULL;
    uint64_t scanned = 0;
    bool done = false;
    assert_int_equal(kz_store_search_rebuild_begin(w.f.s, &rb), 0);
    expect_hits(&w, "suzuki", 0); /* dropped: nothing is found yet */
    assert_int_equal(kz_store_search_rebuild_step(w.f.s, rb, 5, &scanned, &done), 0);
    assert_false(done);
    assert_int_equal(scanned, 5);
    /* Between steps: a new member, and one already indexed gets deleted. */
    prof pl = {.name = "鈴木", .reading = "すずき"};
    member(&w, &late, 140, &w.n1, &pl);
    kz_record d;
    mk_delete(&d, &gone, w.t++, gone_prof.id, gone.pk);
    put_expect(w.f.s, &d, 0);
    kz_record_close(&d);
    kz_record_close(&gone_prof);
    int steps = 1;
    while (!done) {
        assert_int_equal(kz_store_search_rebuild_step(w.f.s, rb, 5, &scanned, &done), 0);
        steps++;
    }
    assert_true(steps >= 3);
    assert_true(scanned >= 12);
    kz_store_search_rebuild_end(rb);
    expect_hits(&w, "suzuki", 7);
    expect_hits(&w, "kato", 6);
    expect_hits(&w, "たかはし", 0);
    kz_search_stats after = stats(&w);
    assert_int_equal(after.docs, full.docs); /* one in, one out */
    check_rebuild_same(&w);                  /* and equal to a one-shot rebuild */

    /* Abandoned half-way: the next open rebuilds everything. */
    rb = NULL;
    assert_int_equal(kz_store_search_rebuild_begin(w.f.s, &rb), 0);
    assert_int_equal(kz_store_search_rebuild_step(w.f.s, rb, 2, NULL, &done), 0);
    assert_false(done);
    kz_store_search_rebuild_end(rb);
    kz_search_result *part = text(&w, "suzuki");
    assert_true(part->n < 7); /* only the first two profiles are back */
    kz_store_search_free(part);
    fx_reopen(&w.f, NULL);
    expect_hits(&w, "suzuki", 7);
    expect_hits(&w, "kato", 6);
    assert_int_equal(stats(&w).postings, after.postings);
    /* Bad arguments. */
    assert_int_equal(kz_store_search_rebuild_begin(NULL, &rb), KZ_EINVAL);
    assert_int_equal(kz_store_search_rebuild_step(w.f.s, NULL, 5, NULL, &done), KZ_EINVAL);
    kz_store_search_rebuild_end(NULL);
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rank_by_field_class),
    cmocka_unit_test(test_rank_whole_word_first),
    cmocka_unit_test(test_rank_ties_newest_first),
    cmocka_unit_test(test_paging_complete),
    cmocka_unit_test(test_paging_mixed_scores),
    cmocka_unit_test(test_paging_older_better_first),
    cmocka_unit_test(test_paging_stable_when_added),
    cmocka_unit_test(test_limit_default_and_max),
    cmocka_unit_test(test_large_lists),
    cmocka_unit_test(test_replace_profile),
    cmocka_unit_test(test_hide_and_show),
    cmocka_unit_test(test_delete_profile),
    cmocka_unit_test(test_revoke_and_reattest),
    cmocka_unit_test(test_block_hides),
    cmocka_unit_test(test_node_rename),
    cmocka_unit_test(test_batch_puts),
    cmocka_unit_test(test_rebuild_on_rules_change),
    cmocka_unit_test(test_rebuild_in_steps),
};

KZ_TEST_MAIN(tests)
