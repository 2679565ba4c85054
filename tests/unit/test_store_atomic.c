/* kz-test-link: kz_store */
/* test_store_atomic.c: all-or-nothing writes (kz_store_atomic: a refusal in
 * the middle leaves no trace, quiet aborts, member entries in the same
 * transaction) and the key rotation links (kz_store_member_successor /
 * _chain) as attests and revokes carrying hand-overs come and go. */
#include "kz_test.h"

#include "store_fixtures.h"

/* ---- kz_store_atomic --------------------------------------------------------- */

typedef struct {
    const kz_record *const *recs;
    size_t n;
    const kz_store_member *m;   /* put first when set */
    int ret;                    /* what fn returns after the puts */
    int runs;
    int put_rc;                 /* last put's code */
} job;

static int job_fn(void *ud, kz_store_txn *t)
{
    job *j = ud;
    j->runs++;
    j->put_rc = 0;
    if (j->m && (j->put_rc = kz_store_txn_member_put(t, j->m)) != 0)
        return j->put_rc;
    for (size_t i = 0; i < j->n; i++) {
        kz_put_result res;
        if ((j->put_rc = kz_store_txn_put(t, j->recs[i], &res)) != 0) {
            assert_int_equal(res.rc, j->put_rc);
            return j->ret == 0 ? 0 : j->put_rc; /* 0: pretend to ignore it */
        }
    }
    return j->ret;
}

static uint64_t nrecords(kz_store *s)
{
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(s, &st), 0);
    return st.records;
}

static void member_entry(kz_store_member *m, const key *k, const char *hr)
{
    memset(m, 0, sizeof *m);
    memcpy(m->pk, k->pk, KZ_KEY_BYTES);
    m->added_ms = T0;
    snprintf(m->hr_key, sizeof m->hr_key, "%s", hr);
}

static void test_commit_all(void **s)
{
    (void)s;
    world w;
    world_open(&w);
    key b;
    key_make(&b, 3);
    kz_record at, pr;
    mk_attest(&at, &w.node, &b, T0 + 10);
    mk_profile(&pr, &b, T0 + 10, "B");
    const kz_record *recs[] = {&at, &pr}; /* the profile needs the attest: same txn */
    kz_store_member m;
    member_entry(&m, &b, "E-3");
    uint64_t before = nrecords(w.f.s);
    job j = {recs, 2, &m, 0, 0, 0};
    assert_int_equal(kz_store_atomic(w.f.s, job_fn, &j), 0);
    assert_int_equal(j.runs, 1);
    assert_int_equal(nrecords(w.f.s), before + 2);
    kz_store_member got;
    assert_int_equal(kz_store_member_by_hrkey(w.f.s, "E-3", &got), 0);
    assert_memory_equal(got.pk, b.pk, KZ_KEY_BYTES);
    assert_true(kz_store_has(w.f.s, pr.id));
    kz_record_close(&at);
    kz_record_close(&pr);
    fx_close(&w.f);
}

/* One refused record among good ones: nothing at all is written, even when
 * the function ignores the refusal and returns 0. */
static void test_refusal_writes_nothing(void **s)
{
    (void)s;
    world w;
    world_open(&w);
    key b, stranger;
    key_make(&b, 3);
    key_make(&stranger, 9);
    kz_record at, pr, bad;
    mk_attest(&at, &w.node, &b, T0 + 10);
    mk_profile(&pr, &b, T0 + 10, "B");
    mk_profile(&bad, &stranger, T0 + 10, "nobody"); /* no attestation: KZ_ENOATTEST */
    const kz_record *recs[] = {&at, &pr, &bad};
    kz_store_member m;
    member_entry(&m, &b, "E-3");
    uint64_t before = nrecords(w.f.s);
    for (int ret = 0; ret <= 1; ret++) {
        job j = {recs, 3, &m, ret ? KZ_EINVAL : 0, 0, 0};
        int rc = kz_store_atomic(w.f.s, job_fn, &j);
        assert_int_equal(rc, KZ_ENOATTEST);
        assert_int_equal(j.put_rc, KZ_ENOATTEST);
        assert_int_equal(nrecords(w.f.s), before);
        assert_false(kz_store_has(w.f.s, at.id));
        kz_store_member got;
        assert_int_equal(kz_store_member_by_hrkey(w.f.s, "E-3", &got), KZ_ENOTFOUND);
        assert_int_equal(kz_store_member_get(w.f.s, b.pk, &got), KZ_ENOTFOUND);
    }
    /* A member entry whose HR key belongs to someone else dooms it too. */
    kz_store_member a;
    member_entry(&a, &w.a, "E-3");
    assert_int_equal(kz_store_member_put(w.f.s, &a), 0);
    job j = {recs, 2, &m, 0, 0, 0};
    assert_int_equal(kz_store_atomic(w.f.s, job_fn, &j), KZ_EINVAL);
    assert_false(kz_store_has(w.f.s, at.id));
    kz_record_close(&at);
    kz_record_close(&pr);
    kz_record_close(&bad);
    fx_close(&w.f);
}

/* fn returning 1 aborts quietly (a dry run); reads see the transaction. */
static int dry_fn(void *ud, kz_store_txn *t)
{
    job *j = ud;
    kz_store_member got;
    assert_int_equal(kz_store_txn_member_put(t, j->m), 0);
    assert_int_equal(kz_store_txn_member_get(t, j->m->pk, &got), 0);
    assert_string_equal(got.hr_key, j->m->hr_key);
    assert_int_equal(kz_store_txn_put(t, j->recs[0], NULL), 0);
    return 1;
}

static void test_dry_run(void **s)
{
    (void)s;
    world w;
    world_open(&w);
    key b;
    key_make(&b, 3);
    kz_record at;
    mk_attest(&at, &w.node, &b, T0 + 10);
    const kz_record *recs[] = {&at};
    kz_store_member m, got;
    member_entry(&m, &b, "E-9");
    uint64_t before = nrecords(w.f.s);
    job j = {recs, 1, &m, 0, 0, 0};
    assert_int_equal(kz_store_atomic(w.f.s, dry_fn, &j), 0);
    assert_int_equal(nrecords(w.f.s), before);
    assert_int_equal(kz_store_member_get(w.f.s, b.pk, &got), KZ_ENOTFOUND);
    assert_int_equal(kz_store_atomic(w.f.s, NULL, NULL), KZ_EINVAL);
    kz_record_close(&at);
    fx_close(&w.f);
}

/* A batch larger than the initial map: the map grows, fn runs again from
 * scratch, and everything lands once. */
static void test_map_growth_reruns(void **s)
{
    (void)s;
    world w;
    kz_store_opts o = {.map_size = 1u << 20};
    world_open_opts(&w, &o);
    enum { N = 600 };
    static kz_record recs[2 * N];
    static const kz_record *ptrs[2 * N];
    static key keys[N];
    for (int i = 0; i < N; i++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)i;
        seed[1] = (uint8_t)(i >> 8);
        seed[2] = 0x77;
        assert_int_equal(crypto_sign_seed_keypair(keys[i].pk, keys[i].sk, seed), 0);
        mk_attest(&recs[2 * i], &w.node, &keys[i], T0 + 10);
        kz_record_init(&recs[2 * i + 1], KZ_T_PROFILE, keys[i].pk, T0 + 10);
        static char bio[1500];
        memset(bio, 'x', sizeof bio - 1);
        recs[2 * i + 1].body.profile.name = (kz_str){"Grow", 4};
        recs[2 * i + 1].body.profile.bio = (kz_str){bio, sizeof bio - 1};
        sign_ok(&recs[2 * i + 1], &keys[i]);
        ptrs[2 * i] = &recs[2 * i];
        ptrs[2 * i + 1] = &recs[2 * i + 1];
    }
    uint64_t before = nrecords(w.f.s);
    job j = {ptrs, 2 * N, NULL, 0, 0, 0};
    assert_int_equal(kz_store_atomic(w.f.s, job_fn, &j), 0);
    assert_true(j.runs >= 2);
    assert_int_equal(nrecords(w.f.s), before + 2 * N);
    for (int i = 0; i < 2 * N; i++)
        kz_record_close(&recs[i]);
    fx_close(&w.f);
}

/* ---- Rotation links ------------------------------------------------------------ */

static void attest_from(kz_record *r, const key *node, const key *member, const key *prev,
                        uint64_t t, uint8_t sig[KZ_SIG_BYTES])
{
    kz_record_init(r, KZ_T_ATTEST, node->pk, t);
    memcpy(r->body.attest.member, member->pk, KZ_KEY_BYTES);
    assert_int_equal(kz_handover_sign(sig, prev->sk, member->pk, node->pk), 0);
    r->body.attest.has_previous = true;
    memcpy(r->body.attest.previous, prev->pk, KZ_KEY_BYTES);
    r->body.attest.handover = (kz_bytes){sig, KZ_SIG_BYTES};
    sign_ok(r, node);
}

static void expect_chain(kz_store *s, const key *from, const key *const *want, size_t n)
{
    uint8_t keys[KZ_ROTATION_CHAIN_MAX][KZ_KEY_BYTES];
    size_t got = 0;
    assert_int_equal(kz_store_member_chain(s, from->pk, keys, KZ_ROTATION_CHAIN_MAX, &got), 0);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++)
        assert_memory_equal(keys[i], want[i]->pk, KZ_KEY_BYTES);
}

static void test_rotation_links(void **s)
{
    (void)s;
    world w; /* node N attests A */
    world_open(&w);
    key b, c;
    key_make(&b, 3);
    key_make(&c, 4);
    uint8_t next[KZ_KEY_BYTES], sig1[KZ_SIG_BYTES], sig2[KZ_SIG_BYTES];
    assert_int_equal(kz_store_member_successor(w.f.s, w.a.pk, next), KZ_ENOTFOUND);
    const key *alone[] = {&w.a};
    expect_chain(w.f.s, &w.a, alone, 1);

    kz_record ab, bc, rb, rc_, ab2;
    attest_from(&ab, &w.node, &b, &w.a, T0 + 10, sig1); /* A -> B */
    put_expect(w.f.s, &ab, 0);
    assert_int_equal(kz_store_member_successor(w.f.s, w.a.pk, next), 0);
    assert_memory_equal(next, b.pk, KZ_KEY_BYTES);
    const key *two[] = {&b, &w.a};
    expect_chain(w.f.s, &w.a, two, 2);
    expect_chain(w.f.s, &b, two, 2);

    /* B rotates to C: B's attest is replaced by a revoke carrying A -> B. */
    attest_from(&bc, &w.node, &c, &b, T0 + 20, sig2);
    put_expect(w.f.s, &bc, 0);
    kz_record_init(&rb, KZ_T_REVOKE, w.node.pk, T0 + 20);
    memcpy(rb.body.revoke.member, b.pk, KZ_KEY_BYTES);
    rb.body.revoke.has_previous = true;
    memcpy(rb.body.revoke.previous, w.a.pk, KZ_KEY_BYTES);
    rb.body.revoke.handover = (kz_bytes){sig1, KZ_SIG_BYTES};
    sign_ok(&rb, &w.node);
    put_expect(w.f.s, &rb, 0);
    const key *three[] = {&c, &b, &w.a};
    expect_chain(w.f.s, &w.a, three, 3);
    expect_chain(w.f.s, &b, three, 3);
    expect_chain(w.f.s, &c, three, 3);
    uint8_t one[1][KZ_KEY_BYTES];
    size_t n = 0;
    assert_int_equal(kz_store_member_chain(w.f.s, w.a.pk, one, 1, &n), KZ_ETOOBIG);
    assert_int_equal(n, 1);
    assert_memory_equal(one[0], c.pk, KZ_KEY_BYTES);

    /* A plain revoke of C (no hand-over carried) ends the B -> C link. */
    kz_record_init(&rc_, KZ_T_REVOKE, w.node.pk, T0 + 30);
    memcpy(rc_.body.revoke.member, c.pk, KZ_KEY_BYTES);
    sign_ok(&rc_, &w.node);
    put_expect(w.f.s, &rc_, 0);
    expect_chain(w.f.s, &w.a, two, 2);
    assert_int_equal(kz_store_member_successor(w.f.s, b.pk, next), KZ_ENOTFOUND);

    /* Deleting the revoke that carries A -> B drops that link too. */
    kz_record del;
    mk_delete(&del, &w.node, T0 + 40, rb.id, w.node.pk);
    kz_put_result res;
    assert_int_equal(kz_store_put(w.f.s, &del, &res), 0);
    assert_true(res.purged);
    assert_int_equal(kz_store_member_successor(w.f.s, w.a.pk, next), KZ_ENOTFOUND);
    expect_chain(w.f.s, &w.a, alone, 1);
    /* A newer attest of B carrying A -> B again restores it. */
    attest_from(&ab2, &w.node, &b, &w.a, T0 + 50, sig1);
    put_expect(w.f.s, &ab2, 0);
    expect_chain(w.f.s, &w.a, two, 2);
    kz_record_close(&ab);
    kz_record_close(&bc);
    kz_record_close(&rb);
    kz_record_close(&rc_);
    kz_record_close(&del);
    kz_record_close(&ab2);
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_commit_all),
    cmocka_unit_test(test_refusal_writes_nothing),
    cmocka_unit_test(test_dry_run),
    cmocka_unit_test(test_map_growth_reruns),
    cmocka_unit_test(test_rotation_links),
};

KZ_TEST_MAIN(tests)
