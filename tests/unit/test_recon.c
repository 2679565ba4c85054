/* kz-test-link: kz_protocol */
/* test_recon.c: range-based set reconciliation: exact have/need, limits, hostile messages. */
#include "kz_test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_recon.h"
#include "recon_int.h" /* sketch primitives */

/* ---- Helpers -------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_id(uint64_t *s, uint8_t id[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = rng_next(s);
        memcpy(id + 8 * i, &v, 8);
    }
}

typedef struct {
    uint8_t (*ids)[32];
    size_t n, cap;
} idset;

static void idset_push(idset *s, const uint8_t id[32])
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ids = realloc(s->ids, s->cap * 32);
        assert_non_null(s->ids);
    }
    memcpy(s->ids[s->n++], id, 32);
}

static int id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static void idset_sort(idset *s)
{
    if (s->n)
        qsort(s->ids, s->n, 32, id_cmp);
}

static void idset_free(idset *s)
{
    free(s->ids);
    memset(s, 0, sizeof *s);
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
    idset have, need;
} side;

static int collect_cb(void *ud, kz_recon_dir dir, const uint8_t id[32])
{
    side *s = ud;
    idset_push(dir == KZ_RECON_HAVE ? &s->have : &s->need, id);
    return 0;
}

static void side_free(side *s)
{
    idset_free(&s->have);
    idset_free(&s->need);
}

typedef struct {
    int msgs;              /* messages exchanged, both ways */
    size_t bytes;          /* total bytes, both ways */
    size_t max_msg;        /* largest message */
    bool done_i, done_r;
    size_t initiator_done_after; /* messages seen when the initiator finished */
} run_info;

static const uint8_t test_salt[KZ_RECON_SALT_BYTES] = "kizuna-test-salt";

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

static void add(kz_recon_vec *v, uint64_t ts, const uint8_t id[32])
{
    assert_int_equal(kz_recon_vec_add(v, ts, id), 0);
}

/* n shared items plus na items only in a and nb only in b, timestamps from
 * [t0, t0 + span). */
static void make_sets(uint64_t seed, size_t n, size_t na, size_t nb, uint64_t t0, uint64_t span,
                      kz_recon_vec *a, kz_recon_vec *b)
{
    uint64_t s = seed;
    uint8_t id[32];
    for (size_t i = 0; i < n + na + nb; i++) {
        uint64_t ts = t0 + (span ? rng_next(&s) % span : 0);
        rng_id(&s, id);
        if (i < n || i < n + na)
            add(a, ts, id);
        if (i < n || i >= n + na)
            add(b, ts, id);
    }
}

/* Two reconcilers, initiator over a and responder over b (or over *sb when
 * given), the opening already in m1. */
typedef struct {
    kz_recon_storage sa, sb;
    kz_recon *ri, *rr;
    kz_recon_buf m1, m2;
    side s1, s2;
} pair;

static void pair_open(pair *p, kz_recon_vec *a, kz_recon_vec *b, const kz_recon_storage *sb,
                      size_t limit, kz_recon_id_cb cb)
{
    memset(p, 0, sizeof *p);
    kz_recon_vec_seal(a);
    kz_recon_vec_seal(b);
    kz_recon_vec_storage(a, &p->sa);
    if (sb)
        p->sb = *sb;
    else
        kz_recon_vec_storage(b, &p->sb);
    cb = cb ? cb : collect_cb;
    assert_int_equal(kz_recon_create(&p->ri, &p->sa, KZ_RECON_INITIATOR, limit, cb, &p->s1), 0);
    assert_int_equal(kz_recon_create(&p->rr, &p->sb, KZ_RECON_RESPONDER, limit, cb, &p->s2), 0);
    kz_recon_buf_init(&p->m1, KZ_RECON_MSG_MAX);
    kz_recon_buf_init(&p->m2, KZ_RECON_MSG_MAX);
    assert_int_equal(kz_recon_initiate(p->ri, &p->m1), 0);
}

static void pair_close(pair *p)
{
    kz_recon_free(p->ri);
    kz_recon_free(p->rr);
    kz_recon_buf_close(&p->m1);
    kz_recon_buf_close(&p->m2);
    side_free(&p->s1);
    side_free(&p->s2);
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

/* ---- Misuse -------------------------------------------------------------------- */

static void test_api_misuse(void **state)
{
    (void)state;
    kz_recon_vec *v = kz_recon_vec_create();
    kz_recon_vec_seal(v);
    kz_recon_storage st;
    kz_recon_vec_storage(v, &st);
    side s = {0};
    kz_recon *r;
    kz_recon_buf out, small;
    kz_recon_buf_init(&out, KZ_RECON_MSG_MAX);
    kz_recon_buf_init(&small, 100);
    bool done;
    assert_int_equal(kz_recon_create(&r, &st, KZ_RECON_INITIATOR, 100, collect_cb, &s), KZ_EINVAL);
    assert_int_equal(kz_recon_create(&r, &st, KZ_RECON_INITIATOR, KZ_RECON_MSG_MAX + 1, collect_cb, &s),
                     KZ_EINVAL);
    assert_int_equal(kz_recon_create(&r, &st, KZ_RECON_INITIATOR, 0, NULL, &s), KZ_EINVAL);
    assert_int_equal(kz_recon_create(&r, &st, 7, 0, collect_cb, &s), KZ_EINVAL);

    assert_int_equal(kz_recon_create(&r, &st, KZ_RECON_INITIATOR, 0, collect_cb, &s), 0);
    assert_int_equal(kz_recon_step(r, (const uint8_t *)"\x01\x90", 2, &out, &done), KZ_EINVAL);
    assert_int_equal(kz_recon_initiate(r, &small), KZ_EINVAL);
    assert_int_equal(kz_recon_initiate(r, &out), 0);
    assert_int_equal(kz_recon_initiate(r, &out), KZ_EINVAL);
    assert_int_equal(kz_recon_set_salt(r, test_salt), KZ_EINVAL);
    kz_recon_free(r);

    assert_int_equal(kz_recon_create(&r, &st, KZ_RECON_RESPONDER, 0, collect_cb, &s), 0);
    assert_int_equal(kz_recon_initiate(r, &out), KZ_EINVAL);
    assert_int_equal(kz_recon_set_salt(r, test_salt), KZ_EINVAL);
    kz_recon_free(r);
    kz_recon_free(NULL);
    kz_recon_buf_close(&out);
    kz_recon_buf_close(&small);
    kz_recon_vec_free(v);
}

static void test_buf_bounded(void **state)
{
    (void)state;
    kz_recon_buf b;
    kz_recon_buf_init(&b, 10);
    assert_int_equal(kz_recon_buf_append(&b, "123456", 6), 0);
    assert_int_equal(kz_recon_buf_append(&b, "12345", 5), KZ_ETOOBIG);
    assert_int_equal(b.len, 6);
    assert_int_equal(kz_recon_buf_append(&b, "1234", 4), 0);
    assert_int_equal(b.len, 10);
    assert_int_equal(kz_recon_buf_append(&b, "", 0), 0);
    assert_int_equal(kz_recon_buf_append(&b, "x", 1), KZ_ETOOBIG);
    kz_recon_buf_close(&b);
    kz_recon_buf_close(&b);
}

/* ---- Hostile messages ------------------------------------------------------------- */

/* A responder over a small set fed one opening message. */
static int feed_opening(const uint8_t *msg, size_t len, size_t *out_len)
{
    kz_recon_vec *v = kz_recon_vec_create();
    make_sets(20, 100, 0, 0, 1000, 100000, v, v);
    kz_recon_vec_seal(v);
    kz_recon_storage st;
    kz_recon_vec_storage(v, &st);
    side s = {0};
    kz_recon *r;
    kz_recon_buf out;
    kz_recon_buf_init(&out, KZ_RECON_MSG_MAX);
    bool done = false;
    assert_int_equal(kz_recon_create(&r, &st, KZ_RECON_RESPONDER, 0, collect_cb, &s), 0);
    int rc = kz_recon_step(r, msg, len, &out, &done);
    if (rc != 0) {
        assert_int_equal(out.len, 0);
        /* dead after an error */
        assert_int_equal(kz_recon_step(r, msg, len, &out, &done), rc);
    }
    if (out_len)
        *out_len = out.len;
    kz_recon_free(r);
    kz_recon_buf_close(&out);
    side_free(&s);
    kz_recon_vec_free(v);
    return rc;
}

/* Opening header: version, bin8(16) salt, uint16 8192. */
#define OPEN_HDR 0x01, 0xc4, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcd, 0x20, 0x00
#define FP8 0xc4, 0x08, 1, 2, 3, 4, 5, 6, 7, 8

#define EXPECT(rc_want, ...)                                                                        \
    do {                                                                                             \
        static const uint8_t m_[] = {__VA_ARGS__};                                                   \
        assert_int_equal(feed_opening(m_, sizeof m_, NULL), rc_want);                                \
    } while (0)

static void test_valid_openings_accepted(void **state)
{
    (void)state;
    size_t len;
    static const uint8_t empty[] = {OPEN_HDR, 0x90};
    /* Valid but says nothing: we answer with the empty message and stop. */
    assert_int_equal(feed_opening(empty, sizeof empty, &len), 0);
    assert_int_equal(len, 2);
    static const uint8_t fp[] = {OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x01, FP8, 0x05};
    assert_int_equal(feed_opening(fp, sizeof fp, &len), 0);
    assert_true(len > 2);
}

static void test_reject_bad_version(void **state)
{
    (void)state;
    EXPECT(KZ_EPROTO, 0x02, 0xc4, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcd, 0x20,
           0x00, 0x90);
    static const uint8_t none[1] = {0};
    assert_int_equal(feed_opening(none, 0, NULL), KZ_EDECODE);
}

static void test_reject_bad_opening_header(void **state)
{
    (void)state;
    /* salt of 15 bytes */
    EXPECT(KZ_EPROTO, 0x01, 0xc4, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcd, 0x20,
           0x00, 0x90);
    /* frame limit below the minimum */
    EXPECT(KZ_EPROTO, 0x01, 0xc4, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcd, 0x10,
           0x00, 0x90);
    /* frame limit as a non-minimal uint32 */
    EXPECT(KZ_EDECODE, 0x01, 0xc4, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xce, 0,
           0, 0x20, 0x00, 0x90);
}

static void test_reject_unknown_mode(void **state)
{
    (void)state;
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x93, 0x00, 0xc4, 0x00, 0x05);
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x93, 0x00, 0xc4, 0x00, 0x7f);
    /* mode 1 with the element count of a skip */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x93, 0x00, 0xc4, 0x00, 0x01);
}

static void test_reject_non_ascending_bounds(void **state)
{
    (void)state;
    /* second bound equal to the first (ts delta 1 = same ts, same prefix) */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x92, 0x95, 0x0a, 0xc4, 0x00, 0x01, FP8, 0x01, 0x95, 0x01, 0xc4,
           0x00, 0x01, FP8, 0x01);
    /* same ts, smaller prefix */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x92, 0x95, 0x0a, 0xc4, 0x01, 0x50, 0x01, FP8, 0x01, 0x95, 0x01,
           0xc4, 0x01, 0x40, 0x01, FP8, 0x01);
    /* a range after the infinite bound */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x92, 0x95, 0x00, 0xc4, 0x00, 0x01, FP8, 0x01, 0x95, 0x01, 0xc4,
           0x00, 0x01, FP8, 0x01);
    /* first bound equal to the minimum (0, empty): an empty range */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x01, 0xc4, 0x00, 0x01, FP8, 0x01);
    /* ts overflow past the infinity value */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x92, 0x95, 0x0b, 0xc4, 0x00, 0x01, FP8, 0x01, 0x95, 0xcf, 0xff,
           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc4, 0x00, 0x01, FP8, 0x01);
}

static void test_reject_bad_prefixes(void **state)
{
    (void)state;
    /* prefix ending in a zero byte */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x05, 0xc4, 0x02, 0x10, 0x00, 0x01, FP8, 0x01);
    /* prefix longer than an id */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x05, 0xc4, 0x21, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
           1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0x01, FP8, 0x01);
    /* infinity with a prefix */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x01, 0x10, 0x01, FP8, 0x01);
}

static void test_reject_counts_beyond_bytes(void **state)
{
    (void)state;
    /* array of 65535 ranges in a few bytes */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0xdc, 0xff, 0xff, 0x93, 0x00, 0xc4, 0x00, 0x00);
    /* array32 of 4 billion */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x93);
    /* bin32 claiming 4 GB */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0x91, 0x94, 0x00, 0xc4, 0x00, 0x04, 0xc6, 0xff, 0xff, 0xff, 0xf0,
           1, 2, 3);
    /* truncated fingerprint */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x01, 0xc4, 0x08, 1, 2, 3);
}

static void test_reject_id_lists_too_long(void **state)
{
    (void)state;
    /* 65 short ids */
    uint8_t m[32 + 3 + 65 * 8];
    static const uint8_t head[] = {OPEN_HDR, 0x91, 0x94, 0x00, 0xc4, 0x00, 0x02, 0xc5, 0x02, 0x08};
    memcpy(m, head, sizeof head);
    memset(m + sizeof head, 0x5a, 65 * 8);
    assert_int_equal(feed_opening(m, sizeof head + 65 * 8, NULL), KZ_EPROTO);
    /* short id list not a multiple of 8 */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x94, 0x00, 0xc4, 0x00, 0x02, 0xc4, 0x03, 1, 2, 3);
    /* ids not a multiple of 32, and empty ids */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x94, 0x00, 0xc4, 0x00, 0x04, 0xc4, 0x03, 1, 2, 3);
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x94, 0x00, 0xc4, 0x00, 0x04, 0xc4, 0x00);
    /* diff with an empty bitmap, and with a 9-byte bitmap */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x03, 0xc4, 0x00, 0xc4, 0x00);
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x03, 0xc4, 0x09, 1, 1, 1, 1, 1, 1,
           1, 1, 1, 0xc4, 0x00);
    /* fingerprint of 7 bytes */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x01, 0xc4, 0x07, 1, 2, 3, 4, 5, 6, 7,
           0x01);
}

static void test_reject_trailing_bytes(void **state)
{
    (void)state;
    EXPECT(KZ_EDECODE, OPEN_HDR, 0x90, 0x00);
    EXPECT(KZ_EDECODE, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x01, FP8, 0x05, 0xc0);
}

static void test_reject_non_canonical(void **state)
{
    (void)state;
    /* uint8 holding a fixint value */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x01, FP8, 0xcc, 0x05);
    /* array16 holding 1 */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0xdc, 0x00, 0x01, 0x95, 0x00, 0xc4, 0x00, 0x01, FP8, 0x05);
    /* bin16 holding 8 bytes */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x01, 0xc5, 0x00, 0x08, 1, 2, 3, 4,
           5, 6, 7, 8, 0x05);
    /* str instead of bin */
    EXPECT(KZ_EDECODE, OPEN_HDR, 0x91, 0x95, 0x00, 0xa0, 0x01, FP8, 0x05);
    /* neighbouring skips, a trailing skip */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x93, 0x93, 0x05, 0xc4, 0x00, 0x00, 0x93, 0x05, 0xc4, 0x00, 0x00,
           0x95, 0x00, 0xc4, 0x00, 0x01, FP8, 0x05);
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x92, 0x95, 0x05, 0xc4, 0x00, 0x01, FP8, 0x05, 0x93, 0x00, 0xc4, 0x00,
           0x00);
}

static void test_reject_bad_sketches_and_wants(void **state)
{
    (void)state;
    /* 13-byte cells, but not a multiple of three cells */
    uint8_t m[64 + 97 * KZ_RECON_CELL_BYTES];
    static const uint8_t h1[] = {OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x05, 0x10, 0xc4, 26};
    memcpy(m, h1, sizeof h1);
    memset(m + sizeof h1, 0, 26);
    assert_int_equal(feed_opening(m, sizeof h1 + 26, NULL), KZ_EPROTO);
    /* 99 cells: over the limit */
    static const uint8_t h2[] = {OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x05, 0x10, 0xc5, 0x05, 0x07};
    memcpy(m, h2, sizeof h2);
    memset(m + sizeof h2, 0, 0x507);
    assert_int_equal(feed_opening(m, sizeof h2 + 0x507, NULL), KZ_EPROTO);
    /* An all-zero sketch of 3 cells is well-formed: an empty peer, which we
     * cannot peel against our 100 items, so we fall back and answer. */
    static const uint8_t h3[] = {OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x05, 0x00, 0xc4, 39};
    memcpy(m, h3, sizeof h3);
    memset(m + sizeof h3, 0, 39);
    size_t len;
    assert_int_equal(feed_opening(m, sizeof h3 + 39, &len), 0);
    assert_true(len > 100);
    /* WANT without short ids, with a partial id, for an unknown id, twice */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x06, 0xc4, 0x00, 0xc4, 0x00);
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x06, 0xc4, 0x01, 0x00, 0xc4, 0x08,
           1, 2, 3, 4, 5, 6, 7, 8);
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x06, 0xc4, 0x00, 0xc4, 0x08, 1, 2,
           3, 4, 5, 6, 7, 8);
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x06, 0xc4, 0x00, 0xc4, 0x10, 1, 2,
           3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8);
}

static void test_reject_diff_not_matching_our_list(void **state)
{
    (void)state;
    /* We never sent a list here: the bitmap cannot cover our 100 items. */
    EXPECT(KZ_EPROTO, OPEN_HDR, 0x91, 0x95, 0x00, 0xc4, 0x00, 0x03, 0xc4, 0x01, 0x01, 0xc4, 0x00);
}

static void test_reject_oversized_message(void **state)
{
    (void)state;
    uint8_t *m = calloc(1, KZ_RECON_MSG_MAX + 1);
    assert_non_null(m);
    m[0] = 1;
    assert_int_equal(feed_opening(m, KZ_RECON_MSG_MAX + 1, NULL), KZ_EPROTO);
    free(m);
}

/* Every prefix and many single-byte corruptions of real messages fail
 * cleanly or succeed, never crash (ASan build checks the rest). */
static void test_truncated_and_corrupted_messages(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(21, 3000, 30, 30, 1000, 1000000, a, b);
    pair p;
    pair_open(&p, a, b, NULL, 0, NULL);
    const kz_recon_buf *open = &p.m1;
    bool done;
    assert_int_equal(kz_recon_step(p.rr, open->data, open->len, &p.m2, &done), 0);
    assert_true(p.m2.len > 2);

    uint64_t seed = 99;
    kz_recon *rr;
    for (size_t cut = 0; cut < open->len; cut++) {
        assert_int_equal(kz_recon_create(&rr, &p.sb, KZ_RECON_RESPONDER, 0, collect_cb, &p.s2), 0);
        int rc = kz_recon_step(rr, open->data, cut, &p.m2, &done);
        assert_true(rc == KZ_EDECODE || rc == KZ_EPROTO);
        kz_recon_free(rr);
    }
    uint8_t *copy = malloc(open->len);
    assert_non_null(copy);
    for (int k = 0; k < 500; k++) {
        memcpy(copy, open->data, open->len);
        copy[rng_next(&seed) % open->len] ^= (uint8_t)(1u << (rng_next(&seed) % 8));
        assert_int_equal(kz_recon_create(&rr, &p.sb, KZ_RECON_RESPONDER, 0, collect_cb, &p.s2), 0);
        int rc = kz_recon_step(rr, copy, open->len, &p.m2, &done);
        assert_true(rc == 0 || rc == KZ_EDECODE || rc == KZ_EPROTO);
        assert_true(p.m2.len <= KZ_RECON_FRAME_DEFAULT);
        kz_recon_free(rr);
    }
    free(copy);
    pair_close(&p);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_peer_overlapping_carried_over_range(void **state)
{
    (void)state;
    /* A later message that talks about a range we still carry over from the
     * previous round is a protocol violation. Run a session with a small
     * budget until one side carries work over, then feed it the same
     * message again: its ranges overlap what that side now holds. */
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(22, 100000, 4000, 4000, 1000, 1000000000, a, b);
    pair p;
    pair_open(&p, a, b, NULL, KZ_RECON_FRAME_MIN, NULL);
    kz_recon_buf *msg = &p.m1, *reply = &p.m2, again;
    kz_recon_buf_init(&again, KZ_RECON_MSG_MAX);
    kz_recon *to = p.rr;
    bool done, replayed = false;
    for (int k = 0; k < 200 && msg->len > 0 && !replayed; k++) {
        assert_int_equal(kz_recon_step(to, msg->data, msg->len, reply, &done), 0);
        kz_recon_stats st;
        kz_recon_stats_get(to, &st);
        if (st.pending > 0 && k > 0) {
            assert_int_equal(kz_recon_step(to, msg->data, msg->len, &again, &done), KZ_EPROTO);
            replayed = true;
        }
        kz_recon_buf *t = msg;
        msg = reply;
        reply = t;
        to = to == p.ri ? p.rr : p.ri;
    }
    assert_true(replayed);
    kz_recon_buf_close(&again);
    pair_close(&p);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

/* A storage that fails (or returns the reserved timestamp) from some index on. */
typedef struct {
    kz_recon_storage inner;
    size_t bad_from;
    bool reserved_ts;
} bad_store;

static int bad_size(void *ctx, size_t *n)
{
    bad_store *b = ctx;
    return b->inner.ops->size(b->inner.ctx, n);
}

static int bad_item_at(void *ctx, size_t i, kz_recon_item *out)
{
    bad_store *b = ctx;
    if (i >= b->bad_from && !b->reserved_ts)
        return KZ_ESTORE;
    int rc = b->inner.ops->item_at(b->inner.ctx, i, out);
    if (rc == 0 && i >= b->bad_from)
        out->created_ms = KZ_RECON_TS_INF;
    return rc;
}

static int bad_lower_bound(void *ctx, uint64_t ts, const uint8_t id[32], size_t *index)
{
    bad_store *b = ctx;
    return b->inner.ops->lower_bound(b->inner.ctx, ts, id, index);
}

static const kz_recon_storage_ops bad_ops = {
    .size = bad_size, .item_at = bad_item_at, .lower_bound = bad_lower_bound, .sum = NULL};

static void test_storage_errors_end_the_session(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(24, 2000, 30, 30, 1000, 1000000, a, b);
    kz_recon_vec_seal(b);
    for (int reserved = 0; reserved <= 1; reserved++) {
        bad_store bs = {.bad_from = 1000, .reserved_ts = reserved};
        kz_recon_vec_storage(b, &bs.inner);
        kz_recon_storage sb = {&bad_ops, &bs};
        pair p;
        bool done;
        pair_open(&p, a, b, &sb, 0, NULL);
        /* Answering the opening sketch reads every item. */
        assert_int_equal(kz_recon_step(p.rr, p.m1.data, p.m1.len, &p.m2, &done), KZ_ESTORE);
        assert_int_equal(p.m2.len, 0);
        assert_int_equal(kz_recon_step(p.rr, p.m1.data, p.m1.len, &p.m2, &done), KZ_ESTORE);
        pair_close(&p);
    }
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static void test_storage_without_sum_works(void **state)
{
    (void)state;
    /* The reconciler iterates items itself when the storage has no sum(). */
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(25, 3000, 40, 25, 1000, 1000000, a, b);
    kz_recon_vec_seal(b);
    bad_store bs = {.bad_from = SIZE_MAX};
    kz_recon_vec_storage(b, &bs.inner);
    kz_recon_storage sb = {&bad_ops, &bs};
    pair p;
    pair_open(&p, a, b, &sb, 0, NULL);
    kz_recon_buf *msg = &p.m1, *reply = &p.m2;
    kz_recon *to = p.rr;
    bool done = false;
    for (int k = 0; k < 100 && msg->len > 0; k++) {
        assert_int_equal(kz_recon_step(to, msg->data, msg->len, reply, &done), 0);
        kz_recon_buf *t = msg;
        msg = reply;
        reply = t;
        to = to == p.ri ? p.rr : p.ri;
    }
    assert_true(done);
    assert_int_equal(p.s1.have.n, 40);
    assert_int_equal(p.s1.need.n, 25);
    assert_int_equal(p.s2.have.n, 25);
    assert_int_equal(p.s2.need.n, 40);
    pair_close(&p);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
}

static int failing_cb(void *ud, kz_recon_dir dir, const uint8_t id[32])
{
    (void)ud;
    (void)dir;
    (void)id;
    return KZ_EAGAIN;
}

static void test_callback_error_fails_step(void **state)
{
    (void)state;
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    make_sets(23, 10, 0, 5, 1000, 1000, a, b);
    pair p;
    bool done;
    pair_open(&p, a, b, NULL, 0, failing_cb);
    /* The responder sends ids the initiator lacks: reporting them fails. */
    assert_int_equal(kz_recon_step(p.rr, p.m1.data, p.m1.len, &p.m2, &done), KZ_EAGAIN);
    assert_int_equal(p.m2.len, 0);
    assert_int_equal(kz_recon_step(p.rr, p.m1.data, p.m1.len, &p.m2, &done), KZ_EAGAIN);
    pair_close(&p);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
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
    cmocka_unit_test(test_api_misuse),
    cmocka_unit_test(test_buf_bounded),
    cmocka_unit_test(test_valid_openings_accepted),
    cmocka_unit_test(test_reject_bad_version),
    cmocka_unit_test(test_reject_bad_opening_header),
    cmocka_unit_test(test_reject_unknown_mode),
    cmocka_unit_test(test_reject_non_ascending_bounds),
    cmocka_unit_test(test_reject_bad_prefixes),
    cmocka_unit_test(test_reject_counts_beyond_bytes),
    cmocka_unit_test(test_reject_id_lists_too_long),
    cmocka_unit_test(test_reject_trailing_bytes),
    cmocka_unit_test(test_reject_non_canonical),
    cmocka_unit_test(test_reject_bad_sketches_and_wants),
    cmocka_unit_test(test_reject_diff_not_matching_our_list),
    cmocka_unit_test(test_reject_oversized_message),
    cmocka_unit_test(test_truncated_and_corrupted_messages),
    cmocka_unit_test(test_peer_overlapping_carried_over_range),
    cmocka_unit_test(test_callback_error_fails_step),
    cmocka_unit_test(test_storage_errors_end_the_session),
    cmocka_unit_test(test_storage_without_sum_works),
};

KZ_TEST_MAIN(tests)
