/* kz-test-link: kz_store */
/* test_store_delete.c: what deletion and blocking leave behind: deleted slot
 * heads keep their slot's high-water mark (old versions stay out, whatever
 * the arrival order), who may author a delete, and hiding the records of
 * blocked nodes and their members from readers. */
#include "kz_test.h"

#include "store_fixtures.h"

/* ---- Local builders ---------------------------------------------------------- */

static void mk_rsvp(kz_record *r, const key *m, uint64_t t, const uint8_t event[KZ_ID_BYTES],
                    uint8_t status)
{
    kz_record_init(r, KZ_T_RSVP, m->pk, t);
    memcpy(r->body.rsvp.event, event, KZ_ID_BYTES);
    r->body.rsvp.status = status;
    sign_ok(r, m);
}

/* The id of slot's head, asserting there is one. */
static void head_is(kz_store *s, const kz_record *like, const uint8_t want[KZ_ID_BYTES])
{
    uint8_t slot[KZ_SLOT_BYTES], id[KZ_ID_BYTES];
    assert_true(kz_record_slot(like, slot));
    assert_int_equal(kz_store_head(s, slot, id), 0);
    assert_memory_equal(id, want, KZ_ID_BYTES);
}

static void head_empty(kz_store *s, const kz_record *like)
{
    uint8_t slot[KZ_SLOT_BYTES], id[KZ_ID_BYTES];
    assert_true(kz_record_slot(like, slot));
    assert_int_equal(kz_store_head(s, slot, id), KZ_ENOTFOUND);
}

static uint64_t count_type(kz_store *s, int type)
{
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(s, &st), 0);
    return st.by_type[type];
}

/* ---- 1. A deleted head keeps its slot's high-water mark ------------------------ */

static void test_profile_old_version_refused(void **state)
{
    world w;
    kz_record p1, p2, d;

    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "Suzuki (2019)");
    mk_profile(&p2, &w.a, T0 + 20, "Suzuki (2024)");
    put_expect(w.f.s, &p1, 0);
    assert_true(put_expect(w.f.s, &p2, 0).replaced);
    mk_delete(&d, &w.a, T0 + 30, p2.id, w.a.pk);
    assert_true(put_expect(w.f.s, &d, 0).purged);

    /* The slot is empty ... */
    head_empty(w.f.s, &p2);
    assert_int_equal(count_type(w.f.s, KZ_T_PROFILE), 0);
    /* ... and a peer still holding either version cannot bring it back. */
    put_expect(w.f.s, &p1, KZ_ESTALE);
    put_expect(w.f.s, &p2, KZ_EDELETED);
    assert_false(kz_store_has(w.f.s, p1.id));
    assert_false(in_author_index(w.f.s, w.a.pk, p1.id));
    head_empty(w.f.s, &p1);
    /* It survives a reopen: the mark is on disk, not in memory. */
    fx_reopen(&w.f, NULL);
    put_expect(w.f.s, &p1, KZ_ESTALE);
    kz_record_close(&p1);
    kz_record_close(&p2);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_profile_newer_after_delete(void **state)
{
    world w;
    kz_record p1, d, p0, p3, p4;

    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "first");
    put_expect(w.f.s, &p1, 0);
    mk_delete(&d, &w.a, T0 + 11, p1.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    mk_profile(&p0, &w.a, T0 + 5, "older");
    put_expect(w.f.s, &p0, KZ_ESTALE);

    /* A member who deleted their profile may publish a new one. */
    mk_profile(&p3, &w.a, T0 + 12, "again");
    kz_put_result res = put_expect(w.f.s, &p3, 0);
    assert_false(res.replaced); /* nothing stored was superseded */
    head_is(w.f.s, &p3, p3.id);
    assert_int_equal(count_type(w.f.s, KZ_T_PROFILE), 1);
    /* From then on the slot works as before. */
    mk_profile(&p4, &w.a, T0 + 13, "and again");
    assert_true(put_expect(w.f.s, &p4, 0).replaced);
    head_is(w.f.s, &p4, p4.id);
    assert_false(kz_store_has(w.f.s, p3.id));
    kz_record_close(&p1);
    kz_record_close(&d);
    kz_record_close(&p0);
    kz_record_close(&p3);
    kz_record_close(&p4);
    fx_close(&w.f);
}

static void test_same_time_ordered_by_id(void **state)
{
    world w;
    kz_record x, y, d;

    /* Two versions made in the same millisecond: the id breaks the tie, for
     * the mark as for a live head. */
    world_open(&w);
    mk_profile(&x, &w.a, T0 + 10, "tie one");
    mk_profile(&y, &w.a, T0 + 10, "tie two");
    kz_record *lo = memcmp(x.id, y.id, KZ_ID_BYTES) < 0 ? &x : &y;
    kz_record *hi = lo == &x ? &y : &x;
    put_expect(w.f.s, hi, 0);
    mk_delete(&d, &w.a, T0 + 11, hi->id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    put_expect(w.f.s, lo, KZ_ESTALE);
    kz_record_close(&d);

    /* The other way round: the smaller id deleted, the larger one is newer. */
    fx_close(&w.f);
    world_open(&w);
    put_expect(w.f.s, lo, 0);
    mk_delete(&d, &w.a, T0 + 11, lo->id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    put_expect(w.f.s, hi, 0);
    head_is(w.f.s, hi, hi->id);
    kz_record_close(&x);
    kz_record_close(&y);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_reaction_and_rsvp_slots(void **state)
{
    world w;
    kz_record post, r1, r2, d1, ev1, ev2, d2;
    uint8_t event[KZ_ID_BYTES];

    world_open(&w);
    mk_post(&post, &w.a, T0 + 5, "hello");
    put_expect(w.f.s, &post, 0);
    mk_reaction(&r1, &w.a, T0 + 10, post.id, 0);
    mk_reaction(&r2, &w.a, T0 + 20, post.id, 1);
    put_expect(w.f.s, &r1, 0);
    put_expect(w.f.s, &r2, 0);
    mk_delete(&d1, &w.a, T0 + 21, r2.id, w.a.pk);
    put_expect(w.f.s, &d1, 0);
    head_empty(w.f.s, &r2);
    put_expect(w.f.s, &r1, KZ_ESTALE);

    /* An RSVP whose event is not here yet (accepted, see event_rules.c). */
    memset(event, 0x5e, sizeof event);
    mk_rsvp(&ev1, &w.a, T0 + 10, event, 0);
    mk_rsvp(&ev2, &w.a, T0 + 20, event, 2);
    put_expect(w.f.s, &ev1, 0);
    put_expect(w.f.s, &ev2, 0);
    mk_delete(&d2, &w.a, T0 + 22, ev2.id, w.a.pk);
    put_expect(w.f.s, &d2, 0);
    head_empty(w.f.s, &ev2);
    put_expect(w.f.s, &ev1, KZ_ESTALE);
    assert_int_equal(count_type(w.f.s, KZ_T_REACTION), 0);
    assert_int_equal(count_type(w.f.s, KZ_T_RSVP), 0);
    kz_record_close(&post);
    kz_record_close(&r1);
    kz_record_close(&r2);
    kz_record_close(&d1);
    kz_record_close(&ev1);
    kz_record_close(&ev2);
    kz_record_close(&d2);
    fx_close(&w.f);
}

/* The delete arrives before the version it deletes (that version was purged
 * everywhere the delete went first), and an older version arrives from a
 * peer that never saw either. */
static void test_late_deleted_version_purges_older(void **state)
{
    world w;
    kz_record p1, p2, d, p3;

    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "old");
    mk_profile(&p2, &w.a, T0 + 20, "new");
    mk_delete(&d, &w.a, T0 + 30, p2.id, w.a.pk);
    assert_false(put_expect(w.f.s, &d, 0).purged);
    put_expect(w.f.s, &p1, 0); /* nothing yet says it is old */
    head_is(w.f.s, &p1, p1.id);

    /* The deleted version turns up: refused, but it does what it would have
     * done on arrival, so this node ends where in-order nodes end. */
    kz_put_result res = put_expect(w.f.s, &p2, KZ_EDELETED);
    assert_true(res.purged);
    assert_false(res.replaced);
    assert_false(kz_store_has(w.f.s, p2.id));
    assert_false(kz_store_has(w.f.s, p1.id));
    assert_false(in_order_index(w.f.s, p1.id));
    assert_int_equal(count_type(w.f.s, KZ_T_PROFILE), 0);
    head_empty(w.f.s, &p1);
    put_expect(w.f.s, &p1, KZ_ESTALE);
    /* Seen again: nothing left to do, nothing purged. */
    assert_false(put_expect(w.f.s, &p2, KZ_EDELETED).purged);
    /* A newer version is still welcome. */
    mk_profile(&p3, &w.a, T0 + 40, "newest");
    put_expect(w.f.s, &p3, 0);
    /* A late deleted version older than the live head changes nothing. */
    assert_false(put_expect(w.f.s, &p2, KZ_EDELETED).purged);
    head_is(w.f.s, &p3, p3.id);
    kz_record_close(&p1);
    kz_record_close(&p2);
    kz_record_close(&d);
    kz_record_close(&p3);
    fx_close(&w.f);
}

static void test_late_deleted_version_durable(void **state)
{
    world w;
    kz_record p1, p2, d;

    /* Delete first, then the deleted version alone: its refusal writes the
     * mark durably (the one refusal that commits). */
    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "old");
    mk_profile(&p2, &w.a, T0 + 20, "new");
    mk_delete(&d, &w.a, T0 + 30, p2.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    assert_false(put_expect(w.f.s, &p2, KZ_EDELETED).purged);
    fx_reopen(&w.f, NULL);
    put_expect(w.f.s, &p1, KZ_ESTALE);
    head_empty(w.f.s, &p1);
    kz_record_close(&p1);
    kz_record_close(&p2);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_late_deleted_version_batch(void **state)
{
    world w;
    kz_record p1, p2, d, post;
    kz_put_result res[4];

    /* The same arrival order inside one batch (gossip's writer), mixed with
     * an ordinary record. */
    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "old");
    mk_profile(&p2, &w.a, T0 + 20, "new");
    mk_delete(&d, &w.a, T0 + 30, p2.id, w.a.pk);
    mk_post(&post, &w.a, T0 + 31, "still here");
    const kz_record *recs[4] = {&d, &p1, &p2, &post};
    assert_int_equal(kz_store_put_batch(w.f.s, recs, 4, res), 0);
    assert_int_equal(res[0].rc, 0);
    assert_int_equal(res[1].rc, 0);
    assert_int_equal(res[2].rc, KZ_EDELETED);
    assert_true(res[2].purged);
    assert_int_equal(res[3].rc, 0);
    assert_false(kz_store_has(w.f.s, p1.id));
    assert_true(kz_store_has(w.f.s, post.id));
    head_empty(w.f.s, &p1);

    /* A batch whose only effect is a raised mark still commits. */
    fx_close(&w.f);
    world_open(&w);
    const kz_record *one[1] = {&d};
    assert_int_equal(kz_store_put_batch(w.f.s, one, 1, res), 0);
    const kz_record *late[1] = {&p2};
    assert_int_equal(kz_store_put_batch(w.f.s, late, 1, res), 0);
    assert_int_equal(res[0].rc, KZ_EDELETED);
    fx_reopen(&w.f, NULL);
    put_expect(w.f.s, &p1, KZ_ESTALE);
    kz_record_close(&p1);
    kz_record_close(&p2);
    kz_record_close(&d);
    kz_record_close(&post);
    fx_close(&w.f);
}

static void test_deleted_attest(void **state)
{
    world w;
    kz_record att1, att2, d, p, att3;

    /* world_open stored N's attest of A at T0 + 1; N re-attests, then
     * deletes its own (newest) attest. */
    world_open(&w);
    mk_attest(&att1, &w.node, &w.a, T0 + 1); /* the same bytes world_open stored */
    mk_attest(&att2, &w.node, &w.a, T0 + 5);
    assert_true(put_expect(w.f.s, &att2, 0).replaced);
    mk_delete(&d, &w.node, T0 + 6, att2.id, w.node.pk);
    assert_true(put_expect(w.f.s, &d, 0).purged);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), KZ_ENOATTEST);
    head_empty(w.f.s, &att2);
    /* The older attest does not revive A's membership. */
    put_expect(w.f.s, &att1, KZ_ESTALE);
    mk_profile(&p, &w.a, T0 + 10, "A");
    put_expect(w.f.s, &p, KZ_ENOATTEST);
    /* A newer attest does. */
    mk_attest(&att3, &w.node, &w.a, T0 + 7);
    put_expect(w.f.s, &att3, 0);
    put_expect(w.f.s, &p, 0);
    kz_record_close(&att1);
    kz_record_close(&att2);
    kz_record_close(&d);
    kz_record_close(&p);
    kz_record_close(&att3);
    fx_close(&w.f);
}

static void test_deleted_node_record(void **state)
{
    world w;
    key b;
    kz_record n0, d, att, n2;

    world_open(&w);
    key_make(&b, 3);
    mk_node(&n0, &w.node, T0); /* the node record world_open stored */
    mk_delete(&d, &w.node, T0 + 50, n0.id, w.node.pk);
    put_expect(w.f.s, &d, 0);
    head_empty(w.f.s, &n0);
    /* A node without a node record vouches for no one. */
    mk_attest(&att, &w.node, &b, T0 + 51);
    put_expect(w.f.s, &att, KZ_EPERM);
    put_expect(w.f.s, &n0, KZ_EDELETED);
    /* Re-announcing itself (newer) brings the authority back. */
    mk_node(&n2, &w.node, T0 + 52);
    put_expect(w.f.s, &n2, 0);
    put_expect(w.f.s, &att, 0);
    kz_record_close(&n0);
    kz_record_close(&d);
    kz_record_close(&att);
    kz_record_close(&n2);
    fx_close(&w.f);
}

/* A member leaving deletes everything they wrote; a peer that still holds
 * older versions of any of it must not put it back. */
static void test_member_leaves(void **state)
{
    world w;
    kz_record p1, p2, post, r1, r2, rv, again;
    kz_record dp, dpost, dr;
    uint8_t event[KZ_ID_BYTES];

    world_open(&w);
    memset(event, 0x77, sizeof event);
    mk_profile(&p1, &w.a, T0 + 10, "v1");
    mk_profile(&p2, &w.a, T0 + 11, "v2");
    mk_post(&post, &w.a, T0 + 12, "bye soon");
    mk_rsvp(&r1, &w.a, T0 + 13, event, 0);
    mk_rsvp(&r2, &w.a, T0 + 14, event, 2);
    put_expect(w.f.s, &p1, 0);
    put_expect(w.f.s, &p2, 0);
    put_expect(w.f.s, &post, 0);
    put_expect(w.f.s, &r1, 0);
    put_expect(w.f.s, &r2, 0);

    /* The home node revokes first; leaving still works after that. */
    mk_revoke(&rv, &w.node, &w.a, T0 + 20);
    put_expect(w.f.s, &rv, 0);
    mk_delete(&dp, &w.a, T0 + 21, p2.id, w.a.pk);
    mk_delete(&dpost, &w.a, T0 + 22, post.id, w.a.pk);
    mk_delete(&dr, &w.a, T0 + 23, r2.id, w.a.pk);
    put_expect(w.f.s, &dp, 0);
    put_expect(w.f.s, &dpost, 0);
    put_expect(w.f.s, &dr, 0);

    collect c = {0};
    assert_int_equal(kz_store_iter_author(w.f.s, w.a.pk, collect_cb, &c), 0);
    assert_int_equal(c.n, 3); /* only the three deletes, which keep travelling */

    /* A peer still holding any version offers them again: the deleted ones
     * are tombstoned, the older ones wait for an attestation ... */
    put_expect(w.f.s, &p1, KZ_ENOATTEST);
    put_expect(w.f.s, &p2, KZ_EDELETED);
    put_expect(w.f.s, &post, KZ_EDELETED);
    put_expect(w.f.s, &r1, KZ_ENOATTEST);
    put_expect(w.f.s, &r2, KZ_EDELETED);
    /* ... and stay out even if A joins again later. */
    mk_attest(&again, &w.node, &w.a, T0 + 30);
    put_expect(w.f.s, &again, 0);
    put_expect(w.f.s, &p1, KZ_ESTALE);
    put_expect(w.f.s, &p2, KZ_EDELETED);
    put_expect(w.f.s, &post, KZ_EDELETED);
    put_expect(w.f.s, &r1, KZ_ESTALE);
    put_expect(w.f.s, &r2, KZ_EDELETED);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_author(w.f.s, w.a.pk, collect_cb, &c), 0);
    assert_int_equal(c.n, 3);
    kz_record *all[] = {&p1, &p2, &post, &r1, &r2, &rv, &dp, &dpost, &dr, &again};
    for (size_t i = 0; i < KZ_ARRAY_LEN(all); i++)
        kz_record_close(all[i]);
    fx_close(&w.f);
}

/* ---- 2. Who may author a delete ---------------------------------------------------- */

static void test_delete_by_stranger(void **state)
{
    world w;
    key x;
    kz_record d, att;
    uint8_t target[KZ_ID_BYTES];
    kz_store_stats st;
    kz_put_result res[1];

    /* Any key could sign "I delete my own record <random id>". */
    world_open(&w);
    key_make(&x, 0x33);
    memset(target, 0xab, sizeof target);
    mk_delete(&d, &x, T0 + 10, target, x.pk);
    put_expect(w.f.s, &d, KZ_ENOATTEST);
    const kz_record *recs[1] = {&d};
    assert_int_equal(kz_store_put_batch(w.f.s, recs, 1, res), 0);
    assert_int_equal(res[0].rc, KZ_ENOATTEST);
    assert_false(kz_store_has(w.f.s, d.id));
    assert_false(kz_store_is_tombstoned(w.f.s, target));
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.tombstones, 0);
    assert_int_equal(st.by_type[KZ_T_DELETE], 0);

    /* Held until its attestation arrives, it is then accepted. */
    mk_attest(&att, &w.node, &x, T0 + 2);
    put_expect(w.f.s, &att, 0);
    put_expect(w.f.s, &d, 0);
    assert_true(kz_store_is_tombstoned(w.f.s, target));
    kz_record_close(&d);
    kz_record_close(&att);
    fx_close(&w.f);
}

static void test_delete_by_node(void **state)
{
    world w;
    key k;
    kz_record d, dk, nk;
    uint8_t target[KZ_ID_BYTES];

    world_open(&w);
    memset(target, 0xcd, sizeof target);
    /* A node with a stored node record may delete its own records. */
    mk_delete(&d, &w.node, T0 + 10, target, w.node.pk);
    put_expect(w.f.s, &d, 0);
    /* A key that only claims to be a node may not, until its node record
     * is here. */
    key_make(&k, 0x44);
    mk_delete(&dk, &k, T0 + 10, target, k.pk);
    put_expect(w.f.s, &dk, KZ_ENOATTEST);
    mk_node(&nk, &k, T0 + 5);
    put_expect(w.f.s, &nk, 0);
    put_expect(w.f.s, &dk, 0);
    kz_record_close(&d);
    kz_record_close(&dk);
    kz_record_close(&nk);
    fx_close(&w.f);
}

static void test_delete_after_revoke(void **state)
{
    world w;
    kz_record p, rv, d, p2;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "before leaving");
    put_expect(w.f.s, &p, 0);
    mk_revoke(&rv, &w.node, &w.a, T0 + 11);
    put_expect(w.f.s, &rv, 0);
    /* Revoked: no new content ... */
    mk_post(&p2, &w.a, T0 + 12, "after");
    put_expect(w.f.s, &p2, KZ_ENOATTEST);
    /* ... but their own records can still go. */
    mk_delete(&d, &w.a, T0 + 13, p.id, w.a.pk);
    assert_true(put_expect(w.f.s, &d, 0).purged);
    assert_false(kz_store_has(w.f.s, p.id));
    kz_record_close(&p);
    kz_record_close(&rv);
    kz_record_close(&d);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_delete_after_attest_deleted(void **state)
{
    world w;
    kz_record att, da, p, d;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "mine");
    put_expect(w.f.s, &p, 0);
    mk_attest(&att, &w.node, &w.a, T0 + 1); /* world_open's attest */
    mk_delete(&da, &w.node, T0 + 11, att.id, w.node.pk);
    put_expect(w.f.s, &da, 0);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), KZ_ENOATTEST);
    /* The membership entry's mark still says A was a member. */
    mk_delete(&d, &w.a, T0 + 12, p.id, w.a.pk);
    assert_true(put_expect(w.f.s, &d, 0).purged);
    kz_record_close(&att);
    kz_record_close(&da);
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_delete_by_blocked_nodes_member(void **state)
{
    world w;
    key b;
    kz_record attb, rvb, d, db;
    uint8_t target[KZ_ID_BYTES];

    world_open(&w);
    key_make(&b, 0x55);
    memset(target, 0xef, sizeof target);
    mk_attest(&attb, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &attb, 0);
    mk_revoke(&rvb, &w.node, &b, T0 + 3);
    put_expect(w.f.s, &rvb, 0);
    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, true), 0);
    /* A is attested only by a blocked node: blocked. */
    mk_delete(&d, &w.a, T0 + 10, target, w.a.pk);
    put_expect(w.f.s, &d, KZ_EBLOCKED);
    /* B was revoked by that node: its entry no longer makes B known. */
    mk_delete(&db, &b, T0 + 10, target, b.pk);
    put_expect(w.f.s, &db, KZ_ENOATTEST);
    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, false), 0);
    put_expect(w.f.s, &d, 0);
    put_expect(w.f.s, &db, 0);
    kz_record_close(&attb);
    kz_record_close(&rvb);
    kz_record_close(&d);
    kz_record_close(&db);
    fx_close(&w.f);
}

/* ---- 3. Hiding what blocked nodes and their members wrote ----------------------------- */

/* N attests A; N2 attests B; both attest C; N revokes D. */
typedef struct {
    world w;
    key n2, b, c, d;
    kz_record recs[12];
    size_t n;
} fed;

static void fed_put(fed *f, kz_record *r)
{
    put_expect(f->w.f.s, r, 0);
    f->n++;
}

static void fed_open(fed *f)
{
    memset(f, 0, sizeof *f);
    world_open(&f->w);
    key_make(&f->n2, 0x61);
    key_make(&f->b, 0x62);
    key_make(&f->c, 0x63);
    key_make(&f->d, 0x64);
    mk_node(&f->recs[f->n], &f->n2, T0);
    fed_put(f, &f->recs[f->n]);
    mk_attest(&f->recs[f->n], &f->n2, &f->b, T0 + 2);
    fed_put(f, &f->recs[f->n]);
    mk_attest(&f->recs[f->n], &f->w.node, &f->c, T0 + 2);
    fed_put(f, &f->recs[f->n]);
    mk_attest(&f->recs[f->n], &f->n2, &f->c, T0 + 3);
    fed_put(f, &f->recs[f->n]);
    mk_attest(&f->recs[f->n], &f->w.node, &f->d, T0 + 2);
    fed_put(f, &f->recs[f->n]);
    mk_post(&f->recs[f->n], &f->w.a, T0 + 10, "by A");
    fed_put(f, &f->recs[f->n]);
    mk_post(&f->recs[f->n], &f->b, T0 + 11, "by B");
    fed_put(f, &f->recs[f->n]);
    mk_post(&f->recs[f->n], &f->c, T0 + 12, "by C");
    fed_put(f, &f->recs[f->n]);
    mk_post(&f->recs[f->n], &f->d, T0 + 13, "by D");
    fed_put(f, &f->recs[f->n]);
    mk_revoke(&f->recs[f->n], &f->w.node, &f->d, T0 + 14);
    fed_put(f, &f->recs[f->n]);
}

static void fed_close(fed *f)
{
    for (size_t i = 0; i < f->n; i++)
        kz_record_close(&f->recs[i]);
    fx_close(&f->w.f);
}

static void test_author_blocked(void **state)
{
    fed f;
    key x;

    fed_open(&f);
    key_make(&x, 0x70);
    kz_store *s = f.w.f.s;
    assert_false(kz_store_author_blocked(s, f.w.node.pk));
    assert_false(kz_store_author_blocked(s, f.w.a.pk));

    assert_int_equal(kz_store_block_set(s, f.w.node.pk, true), 0);
    assert_true(kz_store_author_blocked(s, f.w.node.pk)); /* the node itself */
    assert_true(kz_store_author_blocked(s, f.w.a.pk));    /* its member */
    assert_false(kz_store_author_blocked(s, f.b.pk));     /* another node's member */
    assert_false(kz_store_author_blocked(s, f.c.pk));     /* still vouched for by N2 */
    assert_false(kz_store_author_blocked(s, f.n2.pk));
    assert_false(kz_store_author_blocked(s, f.d.pk));     /* revoked: not attested, not blocked */
    assert_false(kz_store_author_blocked(s, x.pk));       /* unknown */

    assert_int_equal(kz_store_block_set(s, f.n2.pk, true), 0);
    assert_true(kz_store_author_blocked(s, f.c.pk)); /* every live attest is blocked */
    assert_true(kz_store_author_blocked(s, f.b.pk));

    assert_int_equal(kz_store_block_set(s, f.w.node.pk, false), 0);
    assert_int_equal(kz_store_block_set(s, f.n2.pk, false), 0);
    assert_false(kz_store_author_blocked(s, f.w.node.pk));
    assert_false(kz_store_author_blocked(s, f.w.a.pk));
    assert_false(kz_store_author_blocked(s, f.c.pk));
    fed_close(&f);
}

static bool has_id(const collect *c, const uint8_t id[KZ_ID_BYTES])
{
    for (size_t i = 0; i < c->n && i < 64; i++)
        if (memcmp(c->ids[i], id, KZ_ID_BYTES) == 0)
            return true;
    return false;
}

static void test_iter_visible(void **state)
{
    fed f;
    collect all = {0}, vis = {0}, posts = {0}, by_a = {0}, by_b = {0}, rev = {0};
    kz_record node0, att0;

    fed_open(&f);
    kz_store *s = f.w.f.s;
    mk_node(&node0, &f.w.node, T0);         /* world_open's records */
    mk_attest(&att0, &f.w.node, &f.w.a, T0 + 1);
    const kz_record *post_a = &f.recs[5], *post_b = &f.recs[6], *post_c = &f.recs[7];

    assert_int_equal(kz_store_block_set(s, f.w.node.pk, true), 0);
    assert_int_equal(kz_store_iter_order(s, 0, NULL, false, collect_cb, &all), 0);
    assert_int_equal(kz_store_iter_order_ex(s, 0, NULL, false, KZ_STORE_ITER_VISIBLE, collect_cb,
                                            &vis), 0);
    /* world_open's two records, fed_open's ten but D's attest, which the
     * revoke replaced: blocking purged nothing. */
    assert_int_equal(all.n, f.n + 1);
    /* Hidden: N's node record, its attests of A and C, its revoke of D, and
     * A's post; shown: N2's, B's, C's and D's records. */
    assert_int_equal(vis.n, all.n - 5);
    assert_false(has_id(&vis, node0.id));
    assert_false(has_id(&vis, att0.id));
    assert_false(has_id(&vis, post_a->id));
    assert_true(has_id(&vis, post_b->id));
    assert_true(has_id(&vis, post_c->id));
    assert_true(has_id(&vis, f.recs[0].id)); /* N2's node record */

    assert_int_equal(kz_store_iter_order_ex(s, UINT64_MAX, NULL, true, KZ_STORE_ITER_VISIBLE,
                                            collect_cb, &rev), 0);
    assert_int_equal(rev.n, vis.n);
    assert_int_equal(kz_store_iter_type_ex(s, KZ_T_POST, KZ_STORE_ITER_VISIBLE, collect_cb, &posts),
                     0);
    assert_int_equal(posts.n, 3);
    assert_false(has_id(&posts, post_a->id));
    assert_int_equal(kz_store_iter_author_ex(s, f.w.a.pk, KZ_STORE_ITER_VISIBLE, collect_cb, &by_a),
                     0);
    assert_int_equal(by_a.n, 0);
    assert_int_equal(kz_store_iter_author_ex(s, f.b.pk, KZ_STORE_ITER_VISIBLE, collect_cb, &by_b),
                     0);
    assert_int_equal(by_b.n, 1);
    /* Without the flag, the by-author walk still shows everything. */
    memset(&by_a, 0, sizeof by_a);
    assert_int_equal(kz_store_iter_author_ex(s, f.w.a.pk, 0, collect_cb, &by_a), 0);
    assert_int_equal(by_a.n, 1);

    /* Stopping early still works through the filter. */
    collect one = {.stop_after = 1};
    assert_int_equal(kz_store_iter_type_ex(s, KZ_T_POST, KZ_STORE_ITER_VISIBLE, collect_cb, &one),
                     0);
    assert_int_equal(one.n, 1);

    /* Unblocked, everything shows again: nothing was purged. */
    assert_int_equal(kz_store_block_set(s, f.w.node.pk, false), 0);
    memset(&vis, 0, sizeof vis);
    assert_int_equal(kz_store_iter_order_ex(s, 0, NULL, false, KZ_STORE_ITER_VISIBLE, collect_cb,
                                            &vis), 0);
    assert_int_equal(vis.n, all.n);
    for (size_t i = 0; i < all.n; i++)
        assert_memory_equal(vis.ids[i], all.ids[i], KZ_ID_BYTES);
    kz_record_close(&node0);
    kz_record_close(&att0);
    fed_close(&f);
}

static void test_iter_flags_invalid(void **state)
{
    world w;
    collect c = {0};
    world_open(&w);
    assert_int_equal(kz_store_iter_order_ex(w.f.s, 0, NULL, false, 0x2, collect_cb, &c), KZ_EINVAL);
    assert_int_equal(kz_store_iter_type_ex(w.f.s, KZ_T_POST, 0x80, collect_cb, &c), KZ_EINVAL);
    assert_int_equal(kz_store_iter_author_ex(w.f.s, w.a.pk, 0x4, collect_cb, &c), KZ_EINVAL);
    assert_int_equal(c.n, 0);
    assert_false(kz_store_author_blocked(w.f.s, NULL));
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_profile_old_version_refused),
    cmocka_unit_test(test_profile_newer_after_delete),
    cmocka_unit_test(test_same_time_ordered_by_id),
    cmocka_unit_test(test_reaction_and_rsvp_slots),
    cmocka_unit_test(test_late_deleted_version_purges_older),
    cmocka_unit_test(test_late_deleted_version_durable),
    cmocka_unit_test(test_late_deleted_version_batch),
    cmocka_unit_test(test_deleted_attest),
    cmocka_unit_test(test_deleted_node_record),
    cmocka_unit_test(test_member_leaves),
    cmocka_unit_test(test_delete_by_stranger),
    cmocka_unit_test(test_delete_by_node),
    cmocka_unit_test(test_delete_after_revoke),
    cmocka_unit_test(test_delete_after_attest_deleted),
    cmocka_unit_test(test_delete_by_blocked_nodes_member),
    cmocka_unit_test(test_author_blocked),
    cmocka_unit_test(test_iter_visible),
    cmocka_unit_test(test_iter_flags_invalid),
};

KZ_TEST_MAIN(tests)
