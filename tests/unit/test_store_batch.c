/* kz-test-link: kz_store */
/* test_store_batch.c: a batch (the gossip writer's path) must end in exactly
 * the state that putting the same records one at a time would, with the
 * same per-record outcome, whatever the order and whatever is refused:
 * the batch writes records straight into one transaction and relies on
 * every refusal being decided before a record writes anything. */
#include "kz_test.h"

#include "store_fixtures.h"

enum { NREC = 16 };

typedef struct {
    key node, a, b, stranger;
    kz_record r[NREC];
    size_t n;
} mix;

/* Records that exercise every refusal: stale slot versions, deletes of
 * stored and not-yet-stored targets, a delete of a delete, moderation by
 * the home node and by an unknown key, an unattested author, a duplicate,
 * records after a revocation, and the versions a delete leaves behind. */
static void mix_make(mix *m)
{
    memset(m, 0, sizeof *m);
    key_make(&m->node, 1);
    key_make(&m->a, 2);
    key_make(&m->b, 3);
    key_make(&m->stranger, 9);
    kz_record *r = m->r;
    mk_attest(&r[0], &m->node, &m->b, T0 + 2);
    mk_profile(&r[1], &m->a, T0 + 10, "old");
    mk_profile(&r[2], &m->a, T0 + 20, "new");
    mk_delete(&r[3], &m->a, T0 + 30, r[2].id, m->a.pk);
    mk_post(&r[4], &m->b, T0 + 31, "by b");
    mk_delete(&r[5], &m->node, T0 + 32, r[4].id, m->b.pk); /* moderation */
    mk_delete(&r[6], &m->stranger, T0 + 33, r[4].id, m->b.pk);
    mk_delete(&r[7], &m->a, T0 + 34, r[3].id, m->a.pk);    /* a delete of a delete */
    mk_post(&r[8], &m->stranger, T0 + 35, "unattested");
    mk_reaction(&r[9], &m->a, T0 + 40, r[4].id, 1);
    mk_reaction(&r[10], &m->a, T0 + 41, r[4].id, 2);
    mk_post(&r[11], &m->a, T0 + 42, "kept");
    mk_reaction(&r[12], &m->b, T0 + 43, r[11].id, 3);
    mk_revoke(&r[13], &m->node, &m->b, T0 + 50);
    mk_post(&r[14], &m->b, T0 + 60, "after revocation");
    r[15] = r[11]; /* a duplicate sharing r[11]'s bytes */
    m->n = NREC;
}

static void mix_close(mix *m)
{
    for (size_t i = 0; i + 1 < m->n; i++) /* r[15] shares r[11] */
        kz_record_close(&m->r[i]);
}

/* Everything a reader can see: every stored id in order, and the counts. */
typedef struct {
    collect c;
    kz_store_stats st;
} snapshot;

static void snap(kz_store *s, snapshot *out)
{
    memset(out, 0, sizeof *out);
    assert_int_equal(kz_store_iter_order(s, 0, NULL, false, collect_cb, &out->c), 0);
    assert_int_equal(kz_store_stats_get(s, &out->st), 0);
}

static void snap_equal(const snapshot *x, const snapshot *y)
{
    assert_int_equal(x->c.n, y->c.n);
    assert_memory_equal(x->c.ids, y->c.ids, x->c.n * KZ_ID_BYTES);
    assert_int_equal(x->st.records, y->st.records);
    assert_memory_equal(x->st.by_type, y->st.by_type, sizeof x->st.by_type);
}

/* Apply order[] to two fresh stores, one put at a time and as one batch
 * (or as batches of `chunk`), and compare outcomes and contents. Returns how
 * many records were refused, so a caller can check the mix refuses some. */
static size_t compare_orders(mix *m, const size_t *order, size_t chunk)
{
    world one, all;
    const kz_record *v[NREC];
    kz_put_result res[NREC], single;
    int want[NREC];
    size_t refused = 0;

    world_open(&one);
    world_open(&all);
    for (size_t i = 0; i < m->n; i++) {
        v[i] = &m->r[order[i]];
        want[i] = kz_store_put(one.f.s, v[i], &single);
        assert_int_equal(single.rc, want[i]);
        refused += want[i] != 0;
    }
    for (size_t i = 0; i < m->n; i += chunk) {
        size_t k = m->n - i < chunk ? m->n - i : chunk;
        assert_int_equal(kz_store_put_batch(all.f.s, v + i, k, res + i), 0);
    }
    for (size_t i = 0; i < m->n; i++) {
        if (res[i].rc != want[i])
            fail_msg("record %zu (%s): batch %s, one at a time %s", order[i],
                     kz_rtype_name(v[i]->type), kz_strerror(res[i].rc), kz_strerror(want[i]));
    }
    snapshot x, y;
    snap(one.f.s, &x);
    snap(all.f.s, &y);
    snap_equal(&x, &y);
    /* And after a reopen: what the batch committed is durable as a whole. */
    fx_reopen(&all.f, NULL);
    snap(all.f.s, &y);
    snap_equal(&x, &y);
    fx_close(&one.f);
    fx_close(&all.f);
    return refused;
}

static void test_in_order(void **state)
{
    mix m;
    size_t order[NREC];
    mix_make(&m);
    for (size_t i = 0; i < NREC; i++)
        order[i] = i;
    size_t refused = compare_orders(&m, order, NREC);
    assert_true(refused >= 6); /* stale, deleted, EPERM twice, unattested, duplicate, ... */
    mix_close(&m);
}

static void test_reversed(void **state)
{
    mix m;
    size_t order[NREC];
    mix_make(&m);
    for (size_t i = 0; i < NREC; i++)
        order[i] = NREC - 1 - i;
    assert_true(compare_orders(&m, order, NREC) > 0);
    mix_close(&m);
}

/* Shuffled orders (a fixed seed, so a failure reproduces), as one batch and
 * in batches of three. */
static void test_shuffled(void **state)
{
    mix m;
    size_t order[NREC];
    uint32_t seed = 12345;
    mix_make(&m);
    for (int round = 0; round < 24; round++) {
        for (size_t i = 0; i < NREC; i++)
            order[i] = i;
        for (size_t i = NREC - 1; i > 0; i--) {
            seed = seed * 1103515245u + 12345u;
            size_t j = (seed >> 8) % (i + 1);
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        compare_orders(&m, order, round % 2 ? 3 : NREC);
    }
    mix_close(&m);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_in_order),
    cmocka_unit_test(test_reversed),
    cmocka_unit_test(test_shuffled),
};

KZ_TEST_MAIN(tests)
