/* kz-test-link: kz_store */
/* test_store.c: the store's acceptance rules (attestation, node authority,
 * duplicates, replaceable slots, revocation, deletes and tombstones, blocks),
 * purging, batches, iteration orders and per-type statistics. Environment
 * matters (growth, backup, crashes, members, settings) are in
 * test_store_env.c. */
#include "kz_test.h"

#include "store_fixtures.h"

/* ---- Acceptance rules ------------------------------------------------------------ */

static void test_node_accepted(void **state)
{
    fx f;
    key n;
    kz_record r;
    uint8_t slot[KZ_SLOT_BYTES] = {'N'}, head[KZ_ID_BYTES];
    uint8_t buf[KZ_RECORD_MAX];
    size_t len;

    fx_open(&f);
    key_make(&n, 1);
    mk_node(&r, &n, T0);
    put_expect(f.s, &r, 0);
    assert_true(kz_store_has(f.s, r.id));
    assert_int_equal(kz_store_get(f.s, r.id, buf, sizeof buf, &len), 0);
    assert_int_equal(len, r.raw_len);
    assert_memory_equal(buf, r.raw, len);
    assert_int_equal(kz_store_get(f.s, r.id, buf, 3, &len), KZ_ETOOBIG);
    memcpy(slot + 1, n.pk, KZ_KEY_BYTES);
    assert_int_equal(kz_store_head(f.s, slot, head), 0);
    assert_memory_equal(head, r.id, KZ_ID_BYTES);
    kz_record_close(&r);
    fx_close(&f);
}

static void test_attest_needs_node(void **state)
{
    fx f;
    key n, m;
    kz_record node, att;
    uint8_t home[KZ_KEY_BYTES], aid[KZ_ID_BYTES];

    fx_open(&f);
    key_make(&n, 1);
    key_make(&m, 2);
    mk_attest(&att, &n, &m, T0 + 1);
    put_expect(f.s, &att, KZ_EPERM);
    assert_false(kz_store_has(f.s, att.id));
    assert_int_equal(kz_store_member_home(f.s, m.pk, home, aid), KZ_ENOATTEST);

    mk_node(&node, &n, T0);
    put_expect(f.s, &node, 0);
    put_expect(f.s, &att, 0);
    assert_int_equal(kz_store_member_home(f.s, m.pk, home, aid), 0);
    assert_memory_equal(home, n.pk, KZ_KEY_BYTES);
    assert_memory_equal(aid, att.id, KZ_ID_BYTES);
    kz_record_close(&node);
    kz_record_close(&att);
    fx_close(&f);
}

static void test_profile_needs_attest(void **state)
{
    fx f;
    key m;
    kz_record p;
    kz_store_stats st;

    fx_open(&f);
    key_make(&m, 2);
    mk_profile(&p, &m, T0, "Suzuki");
    put_expect(f.s, &p, KZ_ENOATTEST);
    assert_false(kz_store_has(f.s, p.id));
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 0);
    assert_false(in_author_index(f.s, m.pk, p.id));
    kz_record_close(&p);
    fx_close(&f);
}

static void test_duplicate(void **state)
{
    world w;
    kz_record p;
    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "hello");
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &p, KZ_EEXIST);
    kz_record_close(&p);
    fx_close(&w.f);
}

static void test_replace_newer(void **state)
{
    world w;
    kz_record p1, p2;
    uint8_t slot[KZ_SLOT_BYTES], head[KZ_ID_BYTES];
    kz_store_stats st;

    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "Suzuki");
    mk_profile(&p2, &w.a, T0 + 20, "Suzuki Ichiro");
    kz_put_result res = put_expect(w.f.s, &p1, 0);
    assert_false(res.replaced);
    res = put_expect(w.f.s, &p2, 0);
    assert_true(res.replaced);
    assert_false(kz_store_has(w.f.s, p1.id));
    assert_false(in_order_index(w.f.s, p1.id));
    assert_false(in_author_index(w.f.s, w.a.pk, p1.id));
    assert_false(in_type_index(w.f.s, KZ_T_PROFILE, p1.id));
    assert_true(kz_store_has(w.f.s, p2.id));
    assert_true(in_order_index(w.f.s, p2.id));
    assert_true(in_author_index(w.f.s, w.a.pk, p2.id));
    assert_true(kz_record_slot(&p2, slot));
    assert_int_equal(kz_store_head(w.f.s, slot, head), 0);
    assert_memory_equal(head, p2.id, KZ_ID_BYTES);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    /* The replaced version can never come back. */
    put_expect(w.f.s, &p1, KZ_ESTALE);
    kz_record_close(&p1);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_replace_older_stale(void **state)
{
    world w;
    kz_record p1, p2;
    uint8_t slot[KZ_SLOT_BYTES], head[KZ_ID_BYTES];

    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "Old");
    mk_profile(&p2, &w.a, T0 + 20, "New");
    put_expect(w.f.s, &p2, 0);
    put_expect(w.f.s, &p1, KZ_ESTALE);
    assert_false(kz_store_has(w.f.s, p1.id));
    assert_true(kz_record_slot(&p2, slot));
    assert_int_equal(kz_store_head(w.f.s, slot, head), 0);
    assert_memory_equal(head, p2.id, KZ_ID_BYTES);
    kz_record_close(&p1);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_revoke(void **state)
{
    world w;
    kz_record rv, p, att2, p2;

    world_open(&w);
    mk_revoke(&rv, &w.node, &w.a, T0 + 5);
    kz_put_result res = put_expect(w.f.s, &rv, 0);
    assert_true(res.replaced); /* the attest headed the membership slot */
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), KZ_ENOATTEST);
    mk_post(&p, &w.a, T0 + 6, "after revoke");
    put_expect(w.f.s, &p, KZ_ENOATTEST);

    mk_attest(&att2, &w.node, &w.a, T0 + 7);
    put_expect(w.f.s, &att2, 0);
    uint8_t aid[KZ_ID_BYTES];
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, aid), 0);
    assert_memory_equal(aid, att2.id, KZ_ID_BYTES);
    put_expect(w.f.s, &p, 0);
    /* A revoke older than the live attest is stale. */
    mk_revoke(&p2, &w.node, &w.a, T0 + 6);
    put_expect(w.f.s, &p2, KZ_ESTALE);
    kz_record_close(&rv);
    kz_record_close(&p);
    kz_record_close(&att2);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_tombstone_by_author(void **state)
{
    world w;
    kz_record p, d;
    kz_store_stats st;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "regrettable");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    kz_put_result res = put_expect(w.f.s, &d, 0);
    assert_true(res.purged);
    assert_false(kz_store_has(w.f.s, p.id));
    assert_false(in_order_index(w.f.s, p.id));
    assert_false(in_author_index(w.f.s, w.a.pk, p.id));
    assert_false(in_type_index(w.f.s, KZ_T_POST, p.id));
    assert_true(kz_store_is_tombstoned(w.f.s, p.id));
    assert_true(kz_store_has(w.f.s, d.id)); /* the tombstone record travels on */
    put_expect(w.f.s, &p, KZ_EDELETED);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.by_type[KZ_T_POST], 0);
    assert_int_equal(st.by_type[KZ_T_DELETE], 1);
    assert_int_equal(st.tombstones, 1);
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_tombstone_profile_head(void **state)
{
    world w;
    kz_record p, d;
    uint8_t slot[KZ_SLOT_BYTES], head[KZ_ID_BYTES];

    world_open(&w);
    mk_profile(&p, &w.a, T0 + 10, "Gone");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    assert_true(kz_record_slot(&p, slot));
    assert_int_equal(kz_store_head(w.f.s, slot, head), KZ_ENOTFOUND);
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_delete_by_other_member(void **state)
{
    world w;
    key b;
    kz_record att, p, d;

    world_open(&w);
    key_make(&b, 3);
    mk_attest(&att, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &att, 0);
    mk_post(&p, &w.a, T0 + 10, "mine");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &b, T0 + 11, p.id, w.a.pk);
    put_expect(w.f.s, &d, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, p.id));
    assert_false(kz_store_is_tombstoned(w.f.s, p.id));
    assert_false(kz_store_has(w.f.s, d.id));
    kz_record_close(&att);
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_delete_by_node(void **state)
{
    world w;
    key other;
    kz_record p, d, on, d2, p2;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "spam");
    put_expect(w.f.s, &p, 0);
    /* A node that does not attest A may not moderate A. */
    key_make(&other, 9);
    mk_node(&on, &other, T0);
    put_expect(w.f.s, &on, 0);
    mk_post(&p2, &w.a, T0 + 12, "more");
    put_expect(w.f.s, &p2, 0);
    mk_delete(&d2, &other, T0 + 13, p2.id, w.a.pk);
    put_expect(w.f.s, &d2, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, p2.id));

    mk_delete(&d, &w.node, T0 + 11, p.id, w.a.pk);
    kz_put_result res = put_expect(w.f.s, &d, 0);
    assert_true(res.purged);
    assert_false(kz_store_has(w.f.s, p.id));
    put_expect(w.f.s, &p, KZ_EDELETED);
    kz_record_close(&p);
    kz_record_close(&d);
    kz_record_close(&on);
    kz_record_close(&d2);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_tombstone_forged(void **state)
{
    world w;
    key b;
    kz_record att, p, forged, forged2, real;

    world_open(&w);
    key_make(&b, 3);
    mk_attest(&att, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &att, 0);
    mk_post(&p, &w.a, T0 + 10, "target");

    /* B claims the (not yet seen) post is its own and deletes it. */
    mk_delete(&forged, &b, T0 + 11, p.id, b.pk);
    put_expect(w.f.s, &forged, 0);
    assert_true(kz_store_is_tombstoned(w.f.s, p.id));
    /* The real author differs, so that tombstone does not apply. */
    put_expect(w.f.s, &p, 0);
    assert_true(kz_store_has(w.f.s, p.id));
    /* With the target present, the lie is caught at once. */
    mk_delete(&forged2, &b, T0 + 12, p.id, b.pk);
    put_expect(w.f.s, &forged2, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, p.id));
    /* The real author can still delete it, and then it stays deleted. */
    mk_delete(&real, &w.a, T0 + 13, p.id, w.a.pk);
    put_expect(w.f.s, &real, 0);
    assert_false(kz_store_has(w.f.s, p.id));
    put_expect(w.f.s, &p, KZ_EDELETED);
    kz_record_close(&att);
    kz_record_close(&p);
    kz_record_close(&forged);
    kz_record_close(&forged2);
    kz_record_close(&real);
    fx_close(&w.f);
}

static void test_delete_before_target(void **state)
{
    world w;
    kz_record p, d;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "late");
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    kz_put_result res = put_expect(w.f.s, &d, 0);
    assert_false(res.purged);
    assert_true(kz_store_is_tombstoned(w.f.s, p.id));
    put_expect(w.f.s, &p, KZ_EDELETED);
    assert_false(kz_store_has(w.f.s, p.id));
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_delete_of_delete(void **state)
{
    world w;
    kz_record p, d, dd;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "x");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    /* Deletions are never undone: a delete of a stored delete is refused. */
    mk_delete(&dd, &w.a, T0 + 12, d.id, w.a.pk);
    put_expect(w.f.s, &dd, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, d.id));
    kz_record_close(&p);
    kz_record_close(&d);
    kz_record_close(&dd);
    fx_close(&w.f);
}

static void test_blocked(void **state)
{
    world w;
    key m2;
    kz_record p, att, p2;

    world_open(&w);
    key_make(&m2, 4);
    assert_false(kz_store_is_blocked(w.f.s, w.node.pk));
    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, true), 0);
    assert_true(kz_store_is_blocked(w.f.s, w.node.pk));

    mk_post(&p, &w.a, T0 + 10, "from a blocked company");
    put_expect(w.f.s, &p, KZ_EBLOCKED);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), KZ_ENOATTEST);
    mk_attest(&att, &w.node, &m2, T0 + 11);
    put_expect(w.f.s, &att, KZ_EBLOCKED);
    /* A member with no attestation at all is still "not attested". */
    mk_post(&p2, &m2, T0 + 12, "who am I");
    put_expect(w.f.s, &p2, KZ_ENOATTEST);

    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, false), 0);
    assert_false(kz_store_is_blocked(w.f.s, w.node.pk));
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &att, 0);
    put_expect(w.f.s, &p2, 0);
    /* Unblocking twice is harmless. */
    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, false), 0);
    kz_record_close(&p);
    kz_record_close(&att);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_blocked_other_home(void **state)
{
    world w;
    key n2;
    kz_record node2, att2, p;
    uint8_t home[KZ_KEY_BYTES];

    /* A is attested by N and by N2; blocking N leaves N2 as A's home. */
    world_open(&w);
    key_make(&n2, 5);
    mk_node(&node2, &n2, T0);
    put_expect(w.f.s, &node2, 0);
    mk_attest(&att2, &n2, &w.a, T0 + 3);
    put_expect(w.f.s, &att2, 0);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, home, NULL), 0);
    assert_memory_equal(home, n2.pk, KZ_KEY_BYTES); /* newest attest wins */
    assert_int_equal(kz_store_block_set(w.f.s, n2.pk, true), 0);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, home, NULL), 0);
    assert_memory_equal(home, w.node.pk, KZ_KEY_BYTES);
    mk_post(&p, &w.a, T0 + 10, "still here");
    put_expect(w.f.s, &p, 0);
    kz_record_close(&node2);
    kz_record_close(&att2);
    kz_record_close(&p);
    fx_close(&w.f);
}

static void test_invalid_record(void **state)
{
    world w;
    kz_record p;
    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "tampered");
    p.id[0] ^= 1; /* id no longer matches the bytes */
    put_expect(w.f.s, &p, KZ_EINVAL);
    kz_record_close(&p);
    kz_record z = {0};
    put_expect(w.f.s, &z, KZ_EINVAL);
    fx_close(&w.f);
}

/* ---- Batches -------------------------------------------------------------- */

static void test_batch_mixed(void **state)
{
    world w;
    key stranger;
    kz_record r[6];
    kz_put_result res[6];
    const kz_record *v[6];

    world_open(&w);
    key_make(&stranger, 7);
    mk_post(&r[0], &w.a, T0 + 10, "one");
    mk_post(&r[1], &stranger, T0 + 11, "not attested");
    mk_profile(&r[2], &w.a, T0 + 12, "Old");
    mk_profile(&r[3], &w.a, T0 + 13, "New");
    mk_post(&r[4], &w.a, T0 + 14, "two");
    r[5] = r[0]; /* duplicate inside the batch (shares r[0]'s bytes) */
    for (int i = 0; i < 6; i++)
        v[i] = &r[i];
    assert_int_equal(kz_store_put_batch(w.f.s, v, 6, res), 0);
    assert_int_equal(res[0].rc, 0);
    assert_int_equal(res[1].rc, KZ_ENOATTEST);
    assert_int_equal(res[2].rc, 0);
    assert_int_equal(res[3].rc, 0);
    assert_true(res[3].replaced);
    assert_false(res[2].replaced);
    assert_int_equal(res[4].rc, 0);
    assert_int_equal(res[5].rc, KZ_EEXIST);
    assert_true(kz_store_has(w.f.s, r[0].id));
    assert_false(kz_store_has(w.f.s, r[1].id));
    assert_false(in_author_index(w.f.s, stranger.pk, r[1].id));
    assert_false(kz_store_has(w.f.s, r[2].id));
    assert_true(kz_store_has(w.f.s, r[3].id));
    assert_true(kz_store_has(w.f.s, r[4].id));
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 5); /* node, attest, post, profile, post */
    assert_int_equal(st.by_type[KZ_T_POST], 2);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    /* A batch where everything is refused commits nothing and still succeeds. */
    assert_int_equal(kz_store_put_batch(w.f.s, v, 1, res), 0);
    assert_int_equal(res[0].rc, KZ_EEXIST);
    for (int i = 0; i < 5; i++)
        kz_record_close(&r[i]);
    fx_close(&w.f);
}

/* ---- Iteration ------------------------------------------------------------------------ */

static void test_iter_order(void **state)
{
    world w;
    kz_record p[5];
    collect c;

    world_open(&w); /* node at T0, attest at T0+1 */
    for (int i = 0; i < 5; i++)
        mk_post(&p[i], &w.a, T0 + 100 + (uint64_t)(4 - i) * 10, "x"); /* inserted newest first */
    for (int i = 0; i < 5; i++)
        put_expect(w.f.s, &p[i], 0);

    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, 0, NULL, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 7);
    for (size_t i = 1; i < c.n; i++)
        assert_true(c.created[i - 1] <= c.created[i]);
    assert_int_equal(c.created[0], T0);
    assert_memory_equal(c.ids[6], p[0].id, KZ_ID_BYTES);

    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, UINT64_MAX, NULL, true, collect_cb, &c), 0);
    assert_int_equal(c.n, 7);
    assert_memory_equal(c.ids[0], p[0].id, KZ_ID_BYTES);
    assert_int_equal(c.created[6], T0);

    /* From the middle, inclusive of an exact (created, id) key. */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, p[2].created_ms, p[2].id, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 3);
    assert_memory_equal(c.ids[0], p[2].id, KZ_ID_BYTES);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, p[2].created_ms, p[2].id, true, collect_cb, &c), 0);
    assert_int_equal(c.n, 5); /* p[2], p[3], p[4], attest, node */
    assert_memory_equal(c.ids[0], p[2].id, KZ_ID_BYTES);
    /* Reverse from a time between records starts below it. */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, p[2].created_ms + 5, NULL, true, collect_cb, &c), 0);
    assert_memory_equal(c.ids[0], p[2].id, KZ_ID_BYTES);
    /* Early stop. */
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    assert_int_equal(kz_store_iter_order(w.f.s, 0, NULL, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    /* Past the end. */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, UINT64_MAX, NULL, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    for (int i = 0; i < 5; i++)
        kz_record_close(&p[i]);
    fx_close(&w.f);
}

static int abort_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                    const uint8_t *raw, size_t len)
{
    return KZ_EIO;
}

static void test_iter_type(void **state)
{
    world w;
    kz_record p[3], pr;
    collect c = {0};

    world_open(&w);
    for (int i = 0; i < 3; i++) {
        mk_post(&p[i], &w.a, T0 + 100 + (uint64_t)i, "x");
        put_expect(w.f.s, &p[i], 0);
    }
    mk_profile(&pr, &w.a, T0 + 50, "A");
    put_expect(w.f.s, &pr, 0);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_POST, collect_cb, &c), 0);
    assert_int_equal(c.n, 3);
    for (int i = 0; i < 3; i++)
        assert_memory_equal(c.ids[i], p[2 - i].id, KZ_ID_BYTES); /* newest first */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_PROFILE, collect_cb, &c), 0);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_CONTACT, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_NODE, collect_cb, &c), 0);
    assert_int_equal(c.n, 1); /* the first type's range ends where attest begins */
    assert_int_equal(kz_store_iter_type(w.f.s, 0, collect_cb, &c), KZ_EINVAL);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_MAX + 1, collect_cb, &c), KZ_EINVAL);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_POST, abort_cb, NULL), KZ_EIO);
    for (int i = 0; i < 3; i++)
        kz_record_close(&p[i]);
    kz_record_close(&pr);
    fx_close(&w.f);
}

static void test_iter_author(void **state)
{
    world w;
    key b;
    kz_record att, pa[2], pb;
    collect c = {0};

    world_open(&w);
    key_make(&b, 3);
    mk_attest(&att, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &att, 0);
    mk_post(&pa[0], &w.a, T0 + 10, "a0");
    mk_post(&pa[1], &w.a, T0 + 30, "a1");
    mk_post(&pb, &b, T0 + 20, "b");
    put_expect(w.f.s, &pa[0], 0);
    put_expect(w.f.s, &pb, 0);
    put_expect(w.f.s, &pa[1], 0);
    assert_int_equal(kz_store_iter_author(w.f.s, w.a.pk, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.ids[0], pa[1].id, KZ_ID_BYTES);
    assert_memory_equal(c.ids[1], pa[0].id, KZ_ID_BYTES);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_author(w.f.s, w.node.pk, collect_cb, &c), 0);
    assert_int_equal(c.n, 3); /* node, attest A, attest B */
    uint8_t ff[KZ_KEY_BYTES];
    memset(ff, 0xff, sizeof ff);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_author(w.f.s, ff, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    kz_record_close(&att);
    kz_record_close(&pa[0]);
    kz_record_close(&pa[1]);
    kz_record_close(&pb);
    fx_close(&w.f);
}

static void test_stats(void **state)
{
    world w;
    kz_record p, pr, d;
    kz_store_stats st;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "x");
    mk_profile(&pr, &w.a, T0 + 11, "A");
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &pr, 0);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.by_type[KZ_T_NODE], 1);
    assert_int_equal(st.by_type[KZ_T_ATTEST], 1);
    assert_int_equal(st.by_type[KZ_T_POST], 1);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    assert_int_equal(st.tombstones, 0);
    assert_true(st.map_size >= 64u << 20);
    assert_true(st.used_bytes > 0 && st.used_bytes < st.map_size);
    mk_delete(&d, &w.a, T0 + 12, p.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.by_type[KZ_T_POST], 0);
    assert_int_equal(st.by_type[KZ_T_DELETE], 1);
    assert_int_equal(st.tombstones, 1);
    kz_record_close(&p);
    kz_record_close(&pr);
    kz_record_close(&d);
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_node_accepted),
    cmocka_unit_test(test_attest_needs_node),
    cmocka_unit_test(test_profile_needs_attest),
    cmocka_unit_test(test_duplicate),
    cmocka_unit_test(test_replace_newer),
    cmocka_unit_test(test_replace_older_stale),
    cmocka_unit_test(test_revoke),
    cmocka_unit_test(test_tombstone_by_author),
    cmocka_unit_test(test_tombstone_profile_head),
    cmocka_unit_test(test_delete_by_other_member),
    cmocka_unit_test(test_delete_by_node),
    cmocka_unit_test(test_tombstone_forged),
    cmocka_unit_test(test_delete_before_target),
    cmocka_unit_test(test_delete_of_delete),
    cmocka_unit_test(test_blocked),
    cmocka_unit_test(test_blocked_other_home),
    cmocka_unit_test(test_invalid_record),
    cmocka_unit_test(test_batch_mixed),
    cmocka_unit_test(test_iter_order),
    cmocka_unit_test(test_iter_type),
    cmocka_unit_test(test_iter_author),
    cmocka_unit_test(test_stats),
};

KZ_TEST_MAIN(tests)
