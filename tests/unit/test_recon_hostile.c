/* kz-test-link: kz_protocol */
/* test_recon_hostile.c: reconciliation against what it must not trust: API misuse, malformed
 * and hostile messages, failing storage and callbacks. */
#include "kz_test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_recon.h"
#include "recon_fixtures.h"

/* ---- Helpers -------------------------------------------------------------- */

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

/* ---- Failing storage and callbacks ---------------------------------------------- */

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
