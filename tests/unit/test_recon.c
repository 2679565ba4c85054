/* kz-test-link: kz_protocol */
/* test_recon.c: range-based set reconciliation: exact have/need, round trips, limits, sketches. */
#include "kz_test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_recon.h"
#include "recon_fixtures.h"
#include "recon_int.h" /* sketch primitives */

/* ---- Helpers -------------------------------------------------------------- */

static int id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static void idset_sort(idset *s)
{
    if (s->n)
        qsort(s->ids, s->n, 32, id_cmp);
}

/* Sorted, and every id exactly once. */
static void assert_same_ids(idset *got, idset *want)
{
    idset_sort(got);
    idset_sort(want);
    for (size_t i = 1; i < got->n; i++)
        assert_true(memcmp(got->ids[i - 1], got->ids[i], 32) != 0);
    assert_int_equal(got->n, want->n);
    for (size_t i = 0; i < got->n; i++)
        assert_memory_equal(got->ids[i], want->ids[i], 32);
}

typedef struct {
    int msgs;              /* messages exchanged, both ways */
    size_t bytes;          /* total bytes, both ways */
    size_t max_msg;        /* largest message */
    bool done_i, done_r;
    size_t initiator_done_after; /* messages seen when the initiator finished */
} run_info;

/* Runs a whole session between a (initiator) and b (responder) in memory. */
static void run_session(kz_recon_vec *a, kz_recon_vec *b, size_t limit_a, size_t limit_b,
                        side *sa, side *sb, run_info *info)
{
    kz_recon_storage st_a, st_b;
    kz_recon *ra, *rb;
    kz_recon_buf m1, m2;
    memset(info, 0, sizeof *info);
    kz_recon_vec_storage(a, &st_a);
    kz_recon_vec_storage(b, &st_b);
    assert_int_equal(kz_recon_create(&ra, &st_a, KZ_RECON_INITIATOR, limit_a, collect_cb, sa), 0);
    assert_int_equal(kz_recon_create(&rb, &st_b, KZ_RECON_RESPONDER, limit_b, collect_cb, sb), 0);
    assert_int_equal(kz_recon_set_salt(ra, test_salt), 0);
    kz_recon_buf_init(&m1, KZ_RECON_MSG_MAX);
    kz_recon_buf_init(&m2, KZ_RECON_MSG_MAX);
    assert_int_equal(kz_recon_initiate(ra, &m1), 0);

    kz_recon_buf *msg = &m1, *reply = &m2;
    kz_recon *to = rb;
    size_t la = limit_a ? limit_a : KZ_RECON_FRAME_DEFAULT;
    size_t lb = limit_b ? limit_b : KZ_RECON_FRAME_DEFAULT;
    size_t cap = la < lb ? la : lb;
    while (msg->len > 0) {
        info->msgs++;
        info->bytes += msg->len;
        if (msg->len > info->max_msg)
            info->max_msg = msg->len;
        assert_true(msg->len <= (to == rb ? la : cap));
        assert_true(info->msgs < 100000);
        bool done = false;
        assert_int_equal(kz_recon_step(to, msg->data, msg->len, reply, &done), 0);
        if (done) {
            if (to == ra) {
                info->done_i = true;
                info->initiator_done_after = (size_t)info->msgs;
            } else {
                info->done_r = true;
            }
        }
        kz_recon_buf *t = msg;
        msg = reply;
        reply = t;
        to = to == ra ? rb : ra;
    }
    kz_recon_free(ra);
    kz_recon_free(rb);
    kz_recon_buf_close(&m1);
    kz_recon_buf_close(&m2);
}

/* Reference answer: a's have is a \ b, a's need is b \ a (and the reverse for b). */
static void expected_diff(const kz_recon_vec *a, const kz_recon_vec *b, idset *a_only, idset *b_only)
{
    size_t i = 0, j = 0, na = kz_recon_vec_size(a), nb = kz_recon_vec_size(b);
    while (i < na || j < nb) {
        const kz_recon_item *x = i < na ? kz_recon_vec_item(a, i) : NULL;
        const kz_recon_item *y = j < nb ? kz_recon_vec_item(b, j) : NULL;
        int c;
        if (!x)
            c = 1;
        else if (!y)
            c = -1;
        else if (x->created_ms != y->created_ms)
            c = x->created_ms < y->created_ms ? -1 : 1;
        else
            c = memcmp(x->id, y->id, 32);
        if (c < 0) {
            idset_push(a_only, x->id);
            i++;
        } else if (c > 0) {
            idset_push(b_only, y->id);
            j++;
        } else {
            i++;
            j++;
        }
    }
}

/* Runs a session and checks both sides learned exactly the set differences. */
static run_info check_session(kz_recon_vec *a, kz_recon_vec *b, size_t limit_a, size_t limit_b)
{
    side sa = {0}, sb = {0};
    idset a_only = {0}, b_only = {0};
    run_info info;
    kz_recon_vec_seal(a);
    kz_recon_vec_seal(b);
    run_session(a, b, limit_a, limit_b, &sa, &sb, &info);
    assert_true(info.done_i);
    assert_true(info.done_r);
    expected_diff(a, b, &a_only, &b_only);
    assert_same_ids(&sa.have, &a_only);
    assert_same_ids(&sa.need, &b_only);
    assert_same_ids(&sb.have, &b_only);
    assert_same_ids(&sb.need, &a_only);
    side_free(&sa);
    side_free(&sb);
    idset_free(&a_only);
    idset_free(&b_only);
    return info;
}

/* ---- Storage ----------------------------------------------------------------- */

static void test_vec_sorts_and_dedups(void **state)
{
    (void)state;
    kz_recon_vec *v = kz_recon_vec_create();
    uint8_t id1[32] = {1}, id2[32] = {2};
    add(v, 5, id2);
    add(v, 5, id1);
    add(v, 3, id2);
    add(v, 5, id1);
    assert_int_equal(kz_recon_vec_add(v, KZ_RECON_TS_INF, id1), KZ_EINVAL);
    kz_recon_storage st;
    kz_recon_vec_storage(v, &st);
    size_t n;
    assert_int_equal(st.ops->size(st.ctx, &n), KZ_EINVAL); /* not sealed */
    kz_recon_vec_seal(v);
    assert_int_equal(st.ops->size(st.ctx, &n), 0);
    assert_int_equal(n, 3);
    kz_recon_item it;
    assert_int_equal(st.ops->item_at(st.ctx, 0, &it), 0);
    assert_int_equal(it.created_ms, 3);
    assert_int_equal(st.ops->item_at(st.ctx, 1, &it), 0);
    assert_memory_equal(it.id, id1, 32);
    assert_int_equal(st.ops->item_at(st.ctx, 3, &it), KZ_EINVAL);
    size_t idx;
    assert_int_equal(st.ops->lower_bound(st.ctx, 5, id2, &idx), 0);
    assert_int_equal(idx, 2);
    assert_int_equal(st.ops->lower_bound(st.ctx, 4, id1, &idx), 0);
    assert_int_equal(idx, 1);
    assert_int_equal(st.ops->lower_bound(st.ctx, 6, id1, &idx), 0);
    assert_int_equal(idx, 3);
    kz_recon_vec_free(v);
}

static void test_acc_sum_wraps_mod_2_256(void **state)
{
    (void)state;
    kz_recon_acc a, b, one;
    uint8_t zero[32] = {0};
    kz_recon_acc_init(&a);
    memset(a.sum, 0xff, sizeof a.sum);
    a.count = 1;
    kz_recon_acc_init(&one);
    one.sum[0] = 1;
    one.count = 1;
    kz_recon_acc_merge(&a, &one);
    assert_memory_equal(a.sum, zero, 32);
    assert_int_equal(a.count, 2);
    kz_recon_acc_sub(&a, &one);
    for (int i = 0; i < 32; i++)
        assert_int_equal(a.sum[i], 0xff);
    assert_int_equal(a.count, 1);

    /* Adding an item adds its hash; the vector's range sums agree. */
    kz_recon_item it = {.created_ms = 7};
    memset(it.id, 0x42, sizeof it.id);
    uint8_t h[KZ_RECON_ITEM_HASH_BYTES];
    kz_recon_item_hash(&it, h);
    kz_recon_acc_init(&b);
    kz_recon_acc_add(&b, &it);
    assert_memory_equal(b.sum, h, 32);
    it.created_ms = 8; /* the timestamp is part of the hash */
    kz_recon_item_hash(&it, h);
    assert_memory_not_equal(b.sum, h, 32);

    kz_recon_vec *v = kz_recon_vec_create();
    uint64_t s = 3;
    kz_recon_acc want;
    kz_recon_acc_init(&want);
    for (int i = 0; i < 50; i++) {
        rng_id(&s, it.id);
        it.created_ms = 1000 + (uint64_t)i;
        add(v, it.created_ms, it.id);
        if (i >= 10 && i < 30)
            kz_recon_acc_add(&want, &it);
    }
    kz_recon_vec_seal(v);
    kz_recon_storage st;
    kz_recon_vec_storage(v, &st);
    kz_recon_acc got;
    assert_int_equal(st.ops->sum(st.ctx, 10, 30, &got), 0);
    assert_memory_equal(got.sum, want.sum, 32);
    assert_int_equal(got.count, 20);
    assert_int_equal(st.ops->sum(st.ctx, 30, 10, &got), KZ_EINVAL);
    assert_int_equal(st.ops->sum(st.ctx, 0, 51, &got), KZ_EINVAL);
    kz_recon_vec_free(v);
}

/* ---- Whole sessions ------------------------------------------------------------ */

static void test_identical_one_round_trip(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(1, 5000, 0, 0, 1700000000000ull, 86400000ull * 365, a, b);
    run_info info = check_session(a, b, 0, 0);
    /* opening, empty reply (the initiator is done), empty acknowledgement */
    assert_int_equal(info.initiator_done_after, 2);
    assert_int_equal(info.msgs, 3);
    assert_true(info.bytes < 1024);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_both_empty(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    run_info info = check_session(a, b, 0, 0);
    assert_int_equal(info.msgs, 3);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_disjoint_sets(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(2, 0, 700, 900, 1000, 100000, a, b);
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_initiator_empty(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(3, 0, 0, 3000, 1000, 1000000, a, b);
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_responder_empty(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(4, 0, 3000, 0, 1000, 1000000, a, b);
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_one_item_each_side(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(5, 0, 1, 1, 1000, 10, a, b);
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_random_sets_exact(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 23, 24, 25, 63, 64, 65, 300, 2000, 20000};
    uint64_t s = 77;
    for (int round = 0; round < 60; round++) {
        size_t n = sizes[rng_next(&s) % KZ_ARRAY_LEN(sizes)];
        size_t na = rng_next(&s) % 3 == 0 ? 0 : rng_next(&s) % (n / 4 + 3);
        size_t nb = rng_next(&s) % 3 == 0 ? 0 : rng_next(&s) % (n / 4 + 3);
        uint64_t span = rng_next(&s) % 2 ? 1000000 : 50; /* 50: many equal timestamps */
        kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
        make_sets(rng_next(&s), n, na, nb, 1000, span, a, b);
        check_session(a, b, 0, 0);
        kz_recon_vec_free(a);
        kz_recon_vec_free(b);
    }
}

/* One item missing on one side at a chosen position of an otherwise equal set. */
static void diff_at(size_t n, size_t pos, bool missing_in_a, uint64_t span)
{
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    kz_recon_vec *all = kz_recon_vec_create();
    make_sets(9, n, 0, 0, 5000, span, all, all);
    kz_recon_vec_seal(all);
    for (size_t i = 0; i < kz_recon_vec_size(all); i++) {
        const kz_recon_item *it = kz_recon_vec_item(all, i);
        if (i != pos || !missing_in_a)
            add(a, it->created_ms, it->id);
        if (i != pos || missing_in_a)
            add(b, it->created_ms, it->id);
    }
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
    kz_recon_vec_free(all);
}

static void test_first_item_differs(void **state)
{
    (void)state;
    diff_at(10000, 0, true, 1000000);
    diff_at(10000, 0, false, 1000000);
}

static void test_last_item_differs(void **state)
{
    (void)state;
    diff_at(10000, 9999, true, 1000000);
    diff_at(10000, 9999, false, 1000000);
}

static void test_equal_created_ms_different_ids(void **state)
{
    (void)state;
    /* All items share one timestamp: every bound needs an id prefix. */
    diff_at(3000, 1234, true, 0);
    diff_at(3000, 2999, false, 0);
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(11, 2000, 40, 60, 777, 0, a, b);
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_ids_sharing_long_prefixes(void **state)
{
    (void)state;
    /* Same timestamp, ids equal except in their last bytes: bounds of 32 bytes. */
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    uint8_t id[32];
    memset(id, 0xab, sizeof id);
    for (int i = 0; i < 200; i++) {
        id[30] = (uint8_t)(i / 16);
        id[31] = (uint8_t)(i % 16 + 1);
        if (i % 17 != 3)
            add(a, 42, id);
        if (i % 23 != 5)
            add(b, 42, id);
    }
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_extreme_timestamps(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    uint8_t id[32];
    uint64_t s = 5;
    static const uint64_t ts[] = {0, 1, 2, UINT32_MAX, (uint64_t)UINT32_MAX + 1, KZ_RECON_TS_INF - 2,
                                  KZ_RECON_TS_INF - 1};
    for (size_t i = 0; i < KZ_ARRAY_LEN(ts); i++) {
        for (int k = 0; k < 30; k++) {
            rng_id(&s, id);
            if (k != 3)
                add(a, ts[i], id);
            if (k != 7)
                add(b, ts[i], id);
        }
    }
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_small_frame_limit_converges(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(12, 30000, 2500, 2500, 1000, 100000000, a, b);
    run_info info = check_session(a, b, KZ_RECON_FRAME_MIN, KZ_RECON_FRAME_MIN);
    assert_true(info.max_msg <= KZ_RECON_FRAME_MIN);
    assert_true(info.msgs > 10); /* it really had to defer work */
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_responder_smaller_limit(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(13, 5000, 800, 1200, 1000, 100000000, a, b);
    check_session(a, b, 64 * 1024, KZ_RECON_FRAME_MIN);
    check_session(b, a, KZ_RECON_FRAME_MIN, 64 * 1024);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_one_side_large_ships_in_chunks(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(14, 0, 0, 5000, 1000, 10000000, a, b);
    run_info info = check_session(a, b, KZ_RECON_FRAME_MIN, KZ_RECON_FRAME_MIN);
    /* 5000 ids of 32 bytes cannot fit in fewer than 20 messages of 8 KiB. */
    assert_true(info.msgs >= 20);
    assert_true(info.max_msg <= KZ_RECON_FRAME_MIN);
    info = check_session(b, a, KZ_RECON_FRAME_MIN, KZ_RECON_FRAME_MIN);
    assert_true(info.max_msg <= KZ_RECON_FRAME_MIN);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_few_differences_cost_little(void **state)
{
    (void)state;
    /* The opening sketch finds a lone difference on either side directly. */
    for (int side_b = 0; side_b <= 1; side_b++) {
        kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
        make_sets(15, 100000, side_b ? 0 : 1, side_b ? 1 : 0, 1000, 100000000, a, b);
        run_info info = check_session(a, b, 0, 0);
        assert_true(info.bytes < 400);
        assert_true(info.msgs <= 5);
        kz_recon_vec_free(a);
        kz_recon_vec_free(b);
    }
    /* Three on each side still fit the opening sketch. */
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(16, 100000, 3, 3, 1000, 100000000, a, b);
    run_info info = check_session(a, b, 0, 0);
    assert_true(info.bytes < 900);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_sketch_failure_falls_back(void **state)
{
    (void)state;
    /* Far more differences than the opening sketch can hold: it fails to
     * peel and the responder splits instead; the result is still exact. */
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(17, 20000, 150, 150, 1000, 100000000, a, b);
    check_session(a, b, 0, 0);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void sid_of(uint64_t *s, uint8_t sid[8])
{
    uint64_t v = rng_next(s);
    memcpy(sid, &v, 8);
}

static void test_sketch_peels_small_differences(void **state)
{
    (void)state;
    enum { CELLS = 12 };
    uint8_t x[CELLS * KZ_RECON_CELL_BYTES] = {0}, y[CELLS * KZ_RECON_CELL_BYTES] = {0};
    uint8_t sid[8], keys[KZ_RECON_WANT_MAX][8], only_x[2][8], only_y[3][8];
    int8_t signs[KZ_RECON_WANT_MAX];
    uint64_t s = 31;
    for (int i = 0; i < 500; i++) {
        sid_of(&s, sid);
        kz__recon_sketch_add(x, CELLS, sid);
        kz__recon_sketch_add(y, CELLS, sid);
    }
    uint8_t same[sizeof x];
    memcpy(same, x, sizeof x);
    kz__recon_sketch_sub(same, y, CELLS);
    assert_int_equal(kz__recon_sketch_decode(same, CELLS, keys, signs, KZ_RECON_WANT_MAX), 0);
    for (int i = 0; i < 2; i++) {
        sid_of(&s, only_x[i]);
        kz__recon_sketch_add(x, CELLS, only_x[i]);
    }
    for (int i = 0; i < 3; i++) {
        sid_of(&s, only_y[i]);
        kz__recon_sketch_add(y, CELLS, only_y[i]);
    }
    uint8_t d[sizeof x];
    memcpy(d, x, sizeof x);
    kz__recon_sketch_sub(d, y, CELLS);
    int n = kz__recon_sketch_decode(d, CELLS, keys, signs, KZ_RECON_WANT_MAX);
    assert_int_equal(n, 5);
    int found = 0;
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < 2; i++)
            found += signs[k] == 1 && memcmp(keys[k], only_x[i], 8) == 0;
        for (int i = 0; i < 3; i++)
            found += signs[k] == -1 && memcmp(keys[k], only_y[i], 8) == 0;
    }
    assert_int_equal(found, 5);
    /* Asking for fewer keys than the difference holds fails. */
    memcpy(d, x, sizeof x);
    kz__recon_sketch_sub(d, y, CELLS);
    assert_int_equal(kz__recon_sketch_decode(d, CELLS, keys, signs, 4), -1);
    /* Forty differences do not peel out of twelve cells. */
    for (int i = 0; i < 40; i++) {
        sid_of(&s, sid);
        kz__recon_sketch_add(x, CELLS, sid);
    }
    memcpy(d, x, sizeof x);
    kz__recon_sketch_sub(d, y, CELLS);
    assert_int_equal(kz__recon_sketch_decode(d, CELLS, keys, signs, KZ_RECON_WANT_MAX), -1);
}

static void test_same_salt_same_bytes(void **state)
{
    (void)state;
    kz_recon_vec *v = kz_recon_vec_create();
    make_sets(16, 500, 0, 0, 1000, 100000, v, v);
    kz_recon_vec_seal(v);
    kz_recon_storage st;
    kz_recon_vec_storage(v, &st);
    kz_recon_buf b1, b2;
    kz_recon_buf_init(&b1, KZ_RECON_MSG_MAX);
    kz_recon_buf_init(&b2, KZ_RECON_MSG_MAX);
    side s = {0};
    kz_recon *r1, *r2, *r3;
    assert_int_equal(kz_recon_create(&r1, &st, KZ_RECON_INITIATOR, 0, collect_cb, &s), 0);
    assert_int_equal(kz_recon_create(&r2, &st, KZ_RECON_INITIATOR, 0, collect_cb, &s), 0);
    assert_int_equal(kz_recon_create(&r3, &st, KZ_RECON_INITIATOR, 0, collect_cb, &s), 0);
    assert_int_equal(kz_recon_set_salt(r1, test_salt), 0);
    assert_int_equal(kz_recon_set_salt(r2, test_salt), 0);
    assert_int_equal(kz_recon_initiate(r1, &b1), 0);
    assert_int_equal(kz_recon_initiate(r2, &b2), 0);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    assert_int_equal(kz_recon_initiate(r3, &b2), 0); /* random salt */
    assert_true(b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0);
    kz_recon_free(r1);
    kz_recon_free(r2);
    kz_recon_free(r3);
    kz_recon_buf_close(&b1);
    kz_recon_buf_close(&b2);
    side_free(&s);
    kz_recon_vec_free(v);
}

/* The opening for three items (ts 1000, 2000, 3000; ids 0x11.., 0x22.., 0x33..)
 * is one IDLIST range over everything, byte for byte. */
static void test_opening_golden_bytes(void **state)
{
    (void)state;
    kz_recon_vec *v = kz_recon_vec_create();
    uint8_t id[32];
    for (int i = 1; i <= 3; i++) {
        memset(id, 0x11 * i, sizeof id);
        add(v, 1000u * (unsigned)i, id);
    }
    kz_recon_vec_seal(v);
    kz_recon_storage st;
    kz_recon_vec_storage(v, &st);
    kz_recon_buf out;
    kz_recon_buf_init(&out, KZ_RECON_MSG_MAX);
    side s = {0};
    kz_recon *r;
    assert_int_equal(kz_recon_create(&r, &st, KZ_RECON_INITIATOR, 65536, collect_cb, &s), 0);
    assert_int_equal(kz_recon_set_salt(r, test_salt), 0);
    assert_int_equal(kz_recon_initiate(r, &out), 0);
    /* version, bin8(16) salt, uint32 65536, array of 1 range:
     * [ts 0 = infinity, empty prefix, mode 2, bin8(24) short ids] */
    static const uint8_t head[] = {0x01, 0xc4, 0x10, 'k', 'i', 'z', 'u', 'n', 'a', '-', 't', 'e',
                                   's', 't', '-', 's', 'a', 'l', 't', 0xce, 0x00, 0x01, 0x00,
                                   0x00, 0x91, 0x94, 0x00, 0xc4, 0x00, 0x02, 0xc4, 0x18};
    assert_int_equal(out.len, sizeof head + 24);
    assert_memory_equal(out.data, head, sizeof head);
    kz_recon_free(r);
    kz_recon_buf_close(&out);
    side_free(&s);
    kz_recon_vec_free(v);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vec_sorts_and_dedups),
    cmocka_unit_test(test_acc_sum_wraps_mod_2_256),
    cmocka_unit_test(test_identical_one_round_trip),
    cmocka_unit_test(test_both_empty),
    cmocka_unit_test(test_disjoint_sets),
    cmocka_unit_test(test_initiator_empty),
    cmocka_unit_test(test_responder_empty),
    cmocka_unit_test(test_one_item_each_side),
    cmocka_unit_test(test_random_sets_exact),
    cmocka_unit_test(test_first_item_differs),
    cmocka_unit_test(test_last_item_differs),
    cmocka_unit_test(test_equal_created_ms_different_ids),
    cmocka_unit_test(test_ids_sharing_long_prefixes),
    cmocka_unit_test(test_extreme_timestamps),
    cmocka_unit_test(test_small_frame_limit_converges),
    cmocka_unit_test(test_responder_smaller_limit),
    cmocka_unit_test(test_one_side_large_ships_in_chunks),
    cmocka_unit_test(test_few_differences_cost_little),
    cmocka_unit_test(test_sketch_failure_falls_back),
    cmocka_unit_test(test_sketch_peels_small_differences),
    cmocka_unit_test(test_same_salt_same_bytes),
    cmocka_unit_test(test_opening_golden_bytes),
};

KZ_TEST_MAIN(tests)
