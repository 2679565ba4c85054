/* kz-test-link: kz_protocol */
/* test_wire.c: wire messages: exact bytes, round trips, canonical forms and every rejection. */
#include "kz_test.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kz_wire.h"

/* Hex with optional spaces into out; returns the byte count. */
static size_t hx(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*h) {
        if (*h == ' ') {
            h++;
            continue;
        }
        char two[3] = {h[0], h[1], 0};
        assert_true(n < cap);
        assert_int_equal(kz_hex_decode(out + n, 1, two), 0);
        n++;
        h += 2;
    }
    return n;
}

static int dec_hex(const char *h, kz_wire_msg *m)
{
    static uint8_t b[4096];
    size_t n = hx(h, b, sizeof b);
    return kz_wire_decode(m, b, n);
}

static void expect_bytes(const kz_wire_buf *b, const char *h)
{
    uint8_t want[4096];
    size_t n = hx(h, want, sizeof want);
    assert_int_equal(b->len, n);
    assert_memory_equal(b->p, want, n);
}

/* Decode b, re-encode, and require identical bytes; returns the message. */
static kz_wire_msg reencode_same(const uint8_t *p, size_t n)
{
    kz_wire_msg m;
    kz_wire_buf again;
    assert_int_equal(kz_wire_decode(&m, p, n), 0);
    assert_int_equal(kz_wire_encode(&m, &again), 0);
    assert_int_equal(again.len, n);
    assert_memory_equal(again.p, p, n);
    kz_wire_buf_free(&again);
    return m;
}

static kz_wire_hello sample_hello(void)
{
    static const uint8_t rec[] = {'r', 'e', 'c'};
    kz_wire_hello h;
    memset(&h, 0, sizeof h);
    h.version_min = 1;
    h.version_max = 1;
    memset(h.node_id, 0x11, sizeof h.node_id);
    h.features = 0;
    h.clock_ms = 1700000000000ull;
    h.node_record.p = rec;
    h.node_record.n = sizeof rec;
    return h;
}

#define HELLO_HEX                                                                  \
    "97 01 01 01 c4 20"                                                            \
    "1111111111111111111111111111111111111111111111111111111111111111"             \
    "00 cf 0000018bcfe56800 c4 03 726563"

/* ---- Exact bytes ------------------------------------------------------ */

static void test_hello_exact_bytes(void **state)
{
    kz_wire_hello h = sample_hello();
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_hello(&h, &b), 0);
    expect_bytes(&b, HELLO_HEX);
    kz_wire_msg m = reencode_same(b.p, b.len);
    assert_int_equal(m.type, KZ_MSG_HELLO);
    assert_int_equal(m.u.hello.version_min, 1);
    assert_int_equal(m.u.hello.version_max, 1);
    assert_memory_equal(m.u.hello.node_id, h.node_id, 32);
    assert_int_equal(m.u.hello.clock_ms, 1700000000000ull);
    assert_int_equal(m.u.hello.node_record.n, 3);
    /* Zero-copy: the record points into the decoded buffer. */
    assert_ptr_equal(m.u.hello.node_record.p, b.p + b.len - 3);
    kz_wire_buf_free(&b);
}

static void test_small_messages_exact_bytes(void **state)
{
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_ping(1, &b), 0);
    expect_bytes(&b, "92 02 01");
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_pong(0x100000000ull, &b), 0);
    expect_bytes(&b, "92 03 cf 0000000100000000");
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_bye(&b), 0);
    expect_bytes(&b, "91 09");
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_error(KZ_WERR_VERSION, "no common version", &b), 0);
    expect_bytes(&b, "93 08 02 b1 6e6f20636f6d6d6f6e2076657273696f6e");
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_error(KZ_WERR_BUSY, NULL, &b), 0);
    expect_bytes(&b, "93 08 05 a0");
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_recon(1, 0, (const uint8_t *)"abc", 3, &b), 0);
    expect_bytes(&b, "94 07 01 00 c4 03 616263");
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_recon(70000, 300, NULL, 0, &b), 0);
    expect_bytes(&b, "94 07 ce 00011170 cd 012c c4 00");
    kz_wire_buf_free(&b);
}

static void test_lists_exact_bytes(void **state)
{
    uint8_t ids[2][KZ_ID_BYTES];
    memset(ids[0], 0xaa, 32);
    memset(ids[1], 0xbb, 32);
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_ids(KZ_MSG_WANT, (const uint8_t(*)[32])ids, 2, &b), 0);
    expect_bytes(&b, "92 05 92 c4 20 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "c4 20 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    kz_wire_msg m = reencode_same(b.p, b.len);
    assert_int_equal(m.type, KZ_MSG_WANT);
    assert_int_equal(m.u.list.n, 2);
    assert_memory_equal(kz_wire_id_at(&m, 0), ids[0], 32);
    assert_memory_equal(kz_wire_id_at(&m, 1), ids[1], 32);
    assert_null(kz_wire_id_at(&m, 2));
    kz_wire_buf_free(&b);

    kz_bytes recs[2] = {{(const uint8_t *)"\x01\x02\x03", 3}, {(const uint8_t *)"z", 1}};
    assert_int_equal(kz_wire_encode_records(recs, 2, &b), 0);
    expect_bytes(&b, "92 06 92 c4 03 010203 c4 01 7a");
    m = reencode_same(b.p, b.len);
    assert_null(kz_wire_id_at(&m, 0)); /* RECORDS has no ids */
    kz_wire_buf_free(&b);
}

/* ---- Round trips -------------------------------------------------------- */

static void test_nonce_boundaries_roundtrip(void **state)
{
    static const struct { uint64_t v; size_t len; } cases[] = {
        {0, 3}, {127, 3}, {128, 4}, {255, 4}, {256, 5}, {65535, 5}, {65536, 7},
        {0xffffffffull, 7}, {0x100000000ull, 11}, {UINT64_MAX, 11},
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(cases); i++) {
        kz_wire_buf b;
        assert_int_equal(kz_wire_encode_ping(cases[i].v, &b), 0);
        assert_int_equal(b.len, cases[i].len);
        kz_wire_msg m = reencode_same(b.p, b.len);
        assert_int_equal(m.type, KZ_MSG_PING);
        assert_true(m.u.nonce == cases[i].v);
        kz_wire_buf_free(&b);
    }
}

static void test_hello_roundtrip_limits(void **state)
{
    static uint8_t rec[KZ_RECORD_MAX];
    memset(rec, 0x42, sizeof rec);
    kz_wire_hello h = sample_hello();
    h.version_min = 1;
    h.version_max = 0xffffffffu;
    h.features = UINT64_MAX;
    h.node_record.p = rec;
    for (uint32_t n = 0; n <= KZ_RECORD_MAX; n += (n < 300 ? 1 : 4001)) {
        h.node_record.n = n;
        kz_wire_buf b;
        assert_int_equal(kz_wire_encode_hello(&h, &b), 0);
        kz_wire_msg m = reencode_same(b.p, b.len);
        assert_int_equal(m.u.hello.node_record.n, n);
        assert_true(m.u.hello.features == UINT64_MAX);
        assert_int_equal(m.u.hello.version_max, 0xffffffffu);
        kz_wire_buf_free(&b);
    }
    h.node_record.n = KZ_RECORD_MAX;
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_hello(&h, &b), 0);
    reencode_same(b.p, b.len);
    kz_wire_buf_free(&b);
}

static void test_ids_roundtrip_max(void **state)
{
    uint8_t (*ids)[KZ_ID_BYTES] = malloc((size_t)KZ_WIRE_IDS_MAX * KZ_ID_BYTES);
    assert_non_null(ids);
    randombytes_buf(ids, (size_t)KZ_WIRE_IDS_MAX * KZ_ID_BYTES);
    static const uint32_t counts[] = {1, 15, 16, 4095, KZ_WIRE_IDS_MAX};
    for (size_t k = 0; k < KZ_ARRAY_LEN(counts); k++) {
        kz_wire_buf b;
        assert_int_equal(kz_wire_encode_ids(KZ_MSG_HAVE, (const uint8_t(*)[32])ids, counts[k], &b),
                         0);
        kz_wire_msg m = reencode_same(b.p, b.len);
        assert_int_equal(m.type, KZ_MSG_HAVE);
        assert_int_equal(m.u.list.n, counts[k]);
        for (uint32_t i = 0; i < counts[k]; i++)
            assert_memory_equal(kz_wire_id_at(&m, i), ids[i], 32);
        kz_wire_buf_free(&b);
    }
    free(ids);
}

static void test_records_roundtrip_sizes(void **state)
{
    static uint8_t data[KZ_RECORD_MAX];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31);
    static const uint32_t sizes[] = {1, 31, 32, 255, 256, 65, KZ_RECORD_MAX};
    kz_bytes recs[KZ_ARRAY_LEN(sizes)];
    for (size_t i = 0; i < KZ_ARRAY_LEN(sizes); i++)
        recs[i] = (kz_bytes){data, sizes[i]};
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_records(recs, KZ_ARRAY_LEN(sizes), &b), 0);
    kz_wire_msg m = reencode_same(b.p, b.len);
    assert_int_equal(m.u.list.n, KZ_ARRAY_LEN(sizes));
    kz_wire_iter it;
    kz_bytes r;
    size_t k = 0;
    kz_wire_records_begin(&m, &it);
    while (kz_wire_records_next(&it, &r)) {
        assert_true(k < KZ_ARRAY_LEN(sizes));
        assert_int_equal(r.n, sizes[k]);
        assert_memory_equal(r.p, data, sizes[k]);
        assert_true(r.p > b.p && r.p + r.n <= b.p + b.len);
        k++;
    }
    assert_int_equal(k, KZ_ARRAY_LEN(sizes));
    kz_wire_buf_free(&b);
}

static void test_records_many_small(void **state)
{
    kz_bytes *recs = malloc(KZ_WIRE_RECORDS_MAX * sizeof *recs);
    assert_non_null(recs);
    for (uint32_t i = 0; i < KZ_WIRE_RECORDS_MAX; i++)
        recs[i] = (kz_bytes){(const uint8_t *)"abcdefgh", 8};
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_records(recs, KZ_WIRE_RECORDS_MAX, &b), 0);
    kz_wire_msg m = reencode_same(b.p, b.len);
    assert_int_equal(m.u.list.n, KZ_WIRE_RECORDS_MAX);
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_records(recs, KZ_WIRE_RECORDS_MAX + 1, &b), KZ_ETOOBIG);
    assert_null(b.p);
    free(recs);
}

static void test_records_frame_budget(void **state)
{
    static uint8_t data[KZ_RECORD_MAX];
    kz_bytes recs[64];
    for (int i = 0; i < 64; i++)
        recs[i] = (kz_bytes){data, KZ_RECORD_MAX};
    /* 63 full records fit one frame, 64 do not; the documented bound agrees. */
    kz_wire_buf b;
    assert_true(KZ_WIRE_RECORDS_BASE + 63 * (KZ_WIRE_RECORD_ITEM_OVERHEAD + KZ_RECORD_MAX) <=
                KZ_FRAME_MAX);
    assert_int_equal(kz_wire_encode_records(recs, 63, &b), 0);
    assert_true(b.len <= KZ_FRAME_MAX);
    reencode_same(b.p, b.len);
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_records(recs, 64, &b), KZ_ETOOBIG);
    assert_null(b.p);
}

static void test_recon_roundtrip_max(void **state)
{
    uint8_t *p = malloc(KZ_WIRE_RECON_MAX);
    assert_non_null(p);
    randombytes_buf(p, KZ_WIRE_RECON_MAX);
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_recon(7, 9, p, KZ_WIRE_RECON_MAX, &b), 0);
    kz_wire_msg m = reencode_same(b.p, b.len);
    assert_int_equal(m.u.recon.session, 7);
    assert_int_equal(m.u.recon.round, 9);
    assert_int_equal(m.u.recon.payload.n, KZ_WIRE_RECON_MAX);
    assert_memory_equal(m.u.recon.payload.p, p, KZ_WIRE_RECON_MAX);
    kz_wire_buf_free(&b);
    assert_int_equal(kz_wire_encode_recon(7, 9, p, KZ_WIRE_RECON_MAX + 1, &b), KZ_ETOOBIG);
    free(p);
}

static void test_error_roundtrip(void **state)
{
    char reason[KZ_WIRE_REASON_MAX + 2];
    memset(reason, 'r', sizeof reason);
    reason[KZ_WIRE_REASON_MAX] = 0;
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode_error(KZ_WERR_INTERNAL, reason, &b), 0);
    kz_wire_msg m = reencode_same(b.p, b.len);
    assert_int_equal(m.u.error.code, KZ_WERR_INTERNAL);
    assert_int_equal(m.u.error.reason.n, KZ_WIRE_REASON_MAX);
    kz_wire_buf_free(&b);
    /* Japanese text is fine. */
    assert_int_equal(kz_wire_encode_error(KZ_WERR_BLOCKED, "ブロック済み", &b), 0);
    m = reencode_same(b.p, b.len);
    assert_int_equal(m.u.error.reason.n, strlen("ブロック済み"));
    kz_wire_buf_free(&b);
    /* Unknown codes decode (they are informational). */
    assert_int_equal(kz_wire_encode_error(0xffffffffu, "x", &b), 0);
    m = reencode_same(b.p, b.len);
    assert_int_equal(m.u.error.code, 0xffffffffu);
    kz_wire_buf_free(&b);
}

/* ---- Decoder rejections ------------------------------------------------- */

static void test_reject_not_a_message(void **state)
{
    kz_wire_msg m;
    assert_int_equal(kz_wire_decode(&m, (const uint8_t *)"", 0), KZ_EDECODE);
    assert_int_equal(dec_hex("02", &m), KZ_EDECODE);       /* not an array */
    assert_int_equal(dec_hex("90", &m), KZ_EDECODE);       /* empty array */
    assert_int_equal(dec_hex("80", &m), KZ_EDECODE);       /* a map */
    assert_int_equal(dec_hex("c0", &m), KZ_EDECODE);       /* nil */
    assert_int_equal(dec_hex("91 a1 50", &m), KZ_EDECODE); /* type is a string */
    assert_int_equal(dec_hex("91 c0", &m), KZ_EDECODE);    /* type is nil */
    assert_int_equal(dec_hex("91 c3", &m), KZ_EDECODE);    /* type is true */
    assert_int_equal(dec_hex("91 ca 3f800000", &m), KZ_EDECODE); /* float */
    assert_int_equal(dec_hex("91 ff", &m), KZ_EDECODE);    /* negative */
    assert_int_equal(kz_wire_decode(NULL, (const uint8_t *)"\x91\x09", 2), KZ_EINVAL);
    assert_int_equal(kz_wire_decode(&m, NULL, 2), KZ_EINVAL);
}

static void test_reject_unknown_type(void **state)
{
    kz_wire_msg m;
    assert_int_equal(dec_hex("91 00", &m), KZ_EPROTO);
    assert_int_equal(dec_hex("91 0a", &m), KZ_EPROTO);
    assert_int_equal(dec_hex("92 7f 01", &m), KZ_EPROTO);
    assert_int_equal(dec_hex("91 cf 0000000100000001", &m), KZ_EPROTO);
    assert_non_null(strstr(kz_wire_last_error(), "unknown message type"));
}

static void test_reject_wrong_arity(void **state)
{
    kz_wire_msg m;
    assert_int_equal(dec_hex("91 02", &m), KZ_EDECODE);       /* PING without nonce */
    assert_int_equal(dec_hex("93 02 01 01", &m), KZ_EDECODE); /* PING with two */
    assert_int_equal(dec_hex("92 09 00", &m), KZ_EDECODE);    /* BYE with an element */
    assert_int_equal(dec_hex("93 08 01", &m), KZ_EDECODE);    /* ERROR missing reason... */
    assert_int_equal(dec_hex("92 08 01", &m), KZ_EDECODE);    /* ...with the count to match */
    assert_int_equal(dec_hex("93 07 01 00", &m), KZ_EDECODE); /* RECON missing payload */
    assert_int_equal(dec_hex("93 05 91 c4", &m), KZ_EDECODE); /* WANT with extra */
}

static void test_reject_trailing_bytes(void **state)
{
    kz_wire_msg m;
    assert_int_equal(dec_hex("92 02 01 00", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("91 09 91 09", &m), KZ_EDECODE);
    assert_int_equal(m.type, 0); /* zeroed on failure */
}

static void test_reject_every_truncation(void **state)
{
    uint8_t full[256];
    size_t n = hx(HELLO_HEX, full, sizeof full);
    kz_wire_msg m;
    assert_int_equal(kz_wire_decode(&m, full, n), 0);
    for (size_t cut = 0; cut < n; cut++) {
        /* Exact-size copies so the sanitizer sees any read past the end. */
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, full, cut);
        assert_int_equal(kz_wire_decode(&m, p, cut), KZ_EDECODE);
        free(p);
    }
}

static void test_reject_noncanonical_ints(void **state)
{
    kz_wire_msg m;
    assert_int_equal(dec_hex("92 02 cc 05", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("92 02 cc 7f", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("92 02 cd 00ff", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("92 02 ce 0000ffff", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("92 02 cf 00000000ffffffff", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("92 02 d0 05", &m), KZ_ENONCANON); /* int8 */
    assert_int_equal(dec_hex("92 02 d3 0000000000000005", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("92 cc 02 01", &m), KZ_ENONCANON); /* the type itself */
    assert_int_equal(dec_hex("92 02 cc 80", &m), 0);             /* shortest: fine */
    assert_int_equal(m.u.nonce, 128);
}

static void test_reject_noncanonical_headers(void **state)
{
    kz_wire_msg m;
    /* PING in an array16 / array32. */
    assert_int_equal(dec_hex("dc 0002 02 01", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("dd 00000002 02 01", &m), KZ_ENONCANON);
    /* An id in bin16 / bin32 instead of bin8. */
    char h[512];
    const char *id = "0000000000000000000000000000000000000000000000000000000000000000";
    snprintf(h, sizeof h, "92 05 91 c5 0020 %s", id);
    assert_int_equal(dec_hex(h, &m), KZ_ENONCANON);
    snprintf(h, sizeof h, "92 05 91 c6 00000020 %s", id);
    assert_int_equal(dec_hex(h, &m), KZ_ENONCANON);
    snprintf(h, sizeof h, "92 05 91 c4 20 %s", id);
    assert_int_equal(dec_hex(h, &m), 0);
    /* A reason in str8 / str16 although it fits a fixstr. */
    assert_int_equal(dec_hex("93 08 01 d9 02 6f6b", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("93 08 01 da 0002 6f6b", &m), KZ_ENONCANON);
    assert_int_equal(dec_hex("93 08 01 a2 6f6b", &m), 0);
    /* The list in an array16 although it has one element. */
    snprintf(h, sizeof h, "92 05 dc 0001 c4 20 %s", id);
    assert_int_equal(dec_hex(h, &m), KZ_ENONCANON);
}

static void test_reject_wrong_element_types(void **state)
{
    kz_wire_msg m;
    const char *id = "1111111111111111111111111111111111111111111111111111111111111111";
    char h[512];
    /* node_id as a string, and of 31 / 33 bytes. */
    snprintf(h, sizeof h, "97 01 01 01 d9 20 %s 00 00 c4 00", id);
    assert_int_equal(dec_hex(h, &m), KZ_EDECODE);
    snprintf(h, sizeof h, "97 01 01 01 c4 1f %.62s 00 00 c4 00", id);
    assert_int_equal(dec_hex(h, &m), KZ_EDECODE);
    snprintf(h, sizeof h, "97 01 01 01 c4 21 %s11 00 00 c4 00", id);
    assert_int_equal(dec_hex(h, &m), KZ_EDECODE);
    snprintf(h, sizeof h, "97 01 01 01 c4 20 %s 00 00 c4 00", id);
    assert_int_equal(dec_hex(h, &m), 0);
    assert_int_equal(m.u.hello.node_record.n, 0);
    /* node_record as a string. */
    snprintf(h, sizeof h, "97 01 01 01 c4 20 %s 00 00 a0", id);
    assert_int_equal(dec_hex(h, &m), KZ_EDECODE);
    /* Nonce as bin, as nil, as bool. */
    assert_int_equal(dec_hex("92 02 c4 01 01", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("92 02 c0", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("92 03 c2", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("92 03 e0", &m), KZ_EDECODE); /* negative fixint */
    /* RECON payload as str; ERROR reason as bin. */
    assert_int_equal(dec_hex("94 07 01 00 a1 61", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("93 08 01 c4 01 61", &m), KZ_EDECODE);
    /* A WANT list that is a bin; a RECORDS item that is a string. */
    assert_int_equal(dec_hex("92 05 c4 01 00", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("92 06 91 a1 61", &m), KZ_EDECODE);
    /* A session number that does not fit 32 bits. */
    assert_int_equal(dec_hex("94 07 cf 0000000100000000 00 c4 00", &m), KZ_EDECODE);
}

static void test_reject_bad_versions(void **state)
{
    kz_wire_msg m;
    const char *id = "1111111111111111111111111111111111111111111111111111111111111111";
    char h[512];
    snprintf(h, sizeof h, "97 01 00 01 c4 20 %s 00 00 c4 00", id); /* min 0 */
    assert_int_equal(dec_hex(h, &m), KZ_EDECODE);
    snprintf(h, sizeof h, "97 01 03 02 c4 20 %s 00 00 c4 00", id); /* min > max */
    assert_int_equal(dec_hex(h, &m), KZ_EDECODE);
    snprintf(h, sizeof h, "97 01 01 cf 0000000100000000 c4 20 %s 00 00 c4 00", id);
    assert_int_equal(dec_hex(h, &m), KZ_EDECODE);
}

static void test_reject_counts_beyond_buffer(void **state)
{
    kz_wire_msg m;
    /* Declared counts and lengths far larger than the bytes present: refused
     * by the bounds check, nothing is reserved for them. */
    assert_int_equal(dec_hex("dd ffffffff 02 01", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("92 05 dd ffffffff c4 20", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("92 06 91 c6 ffffffff 00", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("94 07 01 00 c6 7fffffff 00", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("93 08 01 db ffffffff 61", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("9f 02", &m), KZ_EDECODE); /* 15 elements in 1 byte */
}

static void test_reject_over_limits(void **state)
{
    /* Build each over-limit message by hand (the encoders refuse them). */
    static uint8_t b[KZ_FRAME_MAX + 16];
    kz_wire_msg m;
    size_t n;

    /* HELLO with a node record of KZ_RECORD_MAX + 1 bytes. */
    n = hx("97 01 01 01 c4 20", b, sizeof b);
    memset(b + n, 0x11, 32), n += 32;
    n += hx("00 00 c5 4001", b + n, 16);
    memset(b + n, 0, KZ_RECORD_MAX + 1), n += KZ_RECORD_MAX + 1;
    assert_int_equal(kz_wire_decode(&m, b, n), KZ_ETOOBIG);

    /* WANT with KZ_WIRE_IDS_MAX + 1 ids. */
    n = hx("92 05 dc 1001", b, sizeof b);
    for (uint32_t i = 0; i < KZ_WIRE_IDS_MAX + 1; i++) {
        b[n++] = 0xc4, b[n++] = 0x20;
        memset(b + n, (int)i, 32), n += 32;
    }
    assert_int_equal(kz_wire_decode(&m, b, n), KZ_ETOOBIG);
    b[4] = 0x00; /* 4096 ids, one stray item left over: trailing bytes */
    assert_int_equal(kz_wire_decode(&m, b, n), KZ_EDECODE);
    assert_int_equal(kz_wire_decode(&m, b, n - 34), 0);
    assert_int_equal(m.u.list.n, KZ_WIRE_IDS_MAX);

    /* RECORDS with KZ_WIRE_RECORDS_MAX + 1 one-byte records. */
    n = hx("92 06 dc 1001", b, sizeof b);
    for (uint32_t i = 0; i < KZ_WIRE_RECORDS_MAX + 1; i++)
        b[n++] = 0xc4, b[n++] = 0x01, b[n++] = 0x00;
    assert_int_equal(kz_wire_decode(&m, b, n), KZ_ETOOBIG);

    /* A record of KZ_RECORD_MAX + 1 bytes; an empty record. */
    n = hx("92 06 91 c5 4001", b, sizeof b);
    memset(b + n, 0, KZ_RECORD_MAX + 1), n += KZ_RECORD_MAX + 1;
    assert_int_equal(kz_wire_decode(&m, b, n), KZ_ETOOBIG);
    assert_int_equal(dec_hex("92 06 91 c4 00", &m), KZ_EDECODE);
    assert_int_equal(dec_hex("92 06 90", &m), KZ_EDECODE); /* empty list */
    assert_int_equal(dec_hex("92 04 90", &m), KZ_EDECODE);

    /* RECON payload of KZ_WIRE_RECON_MAX + 1 bytes. */
    n = hx("94 07 01 00 c6 00080001", b, sizeof b);
    memset(b + n, 0, KZ_WIRE_RECON_MAX + 1), n += KZ_WIRE_RECON_MAX + 1;
    assert_int_equal(kz_wire_decode(&m, b, n), KZ_ETOOBIG);

    /* ERROR reason of 257 bytes. */
    n = hx("93 08 01 da 0101", b, sizeof b);
    memset(b + n, 'a', 257), n += 257;
    assert_int_equal(kz_wire_decode(&m, b, n), KZ_ETOOBIG);
    b[5] = 0x00; /* 256 bytes: the limit itself is fine (str16 is canonical) */
    assert_int_equal(kz_wire_decode(&m, b, n - 1), 0);
    assert_int_equal(m.u.error.reason.n, 256);
}

static void test_reject_oversize_input(void **state)
{
    static uint8_t b[KZ_FRAME_MAX + 1];
    kz_wire_msg m;
    size_t n = hx("94 07 01 00 c6 000ffff8", b, sizeof b);
    assert_int_equal(n + 0xffff8, KZ_FRAME_MAX + 1);
    assert_int_equal(kz_wire_decode(&m, b, sizeof b), KZ_ETOOBIG);
}

static void test_reject_bad_reason_text(void **state)
{
    kz_wire_msg m;
    assert_int_equal(dec_hex("93 08 01 a1 ff", &m), KZ_EDECODE);       /* not UTF-8 */
    assert_int_equal(dec_hex("93 08 01 a2 c0 80", &m), KZ_EDECODE);    /* overlong NUL */
    assert_int_equal(dec_hex("93 08 01 a3 61 0a 62", &m), KZ_EDECODE); /* newline */
    assert_int_equal(dec_hex("93 08 01 a1 00", &m), KZ_EDECODE);       /* NUL */
    assert_int_equal(dec_hex("93 08 01 a3 e3 81 82", &m), 0);          /* あ */
}

static void test_last_error_says_why(void **state)
{
    kz_wire_msg m;
    assert_int_equal(dec_hex("93 02 01 01", &m), KZ_EDECODE);
    assert_non_null(strstr(kz_wire_last_error(), "PING"));
    assert_int_equal(dec_hex("92 05 91 c4 1f 00", &m), KZ_EDECODE);
    assert_non_null(strstr(kz_wire_last_error(), "WANT: item 0"));
}

/* ---- Encoder rejections ------------------------------------------------- */

static void test_encoders_refuse_bad_input(void **state)
{
    kz_wire_buf b;
    kz_wire_hello h = sample_hello();
    h.version_min = 0;
    assert_int_equal(kz_wire_encode_hello(&h, &b), KZ_EINVAL);
    h = sample_hello();
    h.version_min = 3, h.version_max = 2;
    assert_int_equal(kz_wire_encode_hello(&h, &b), KZ_EINVAL);
    h = sample_hello();
    h.node_record.n = KZ_RECORD_MAX + 1;
    assert_int_equal(kz_wire_encode_hello(&h, &b), KZ_ETOOBIG);
    assert_null(b.p);
    assert_int_equal(kz_wire_encode_hello(NULL, &b), KZ_EINVAL);

    uint8_t ids[1][32] = {{0}};
    assert_int_equal(kz_wire_encode_ids(KZ_MSG_WANT, (const uint8_t(*)[32])ids, 0, &b),
                     KZ_EINVAL);
    assert_int_equal(kz_wire_encode_ids(KZ_MSG_RECORDS, (const uint8_t(*)[32])ids, 1, &b),
                     KZ_EINVAL);
    assert_int_equal(kz_wire_encode_ids(KZ_MSG_WANT, (const uint8_t(*)[32])ids,
                                        KZ_WIRE_IDS_MAX + 1, &b), KZ_ETOOBIG);
    assert_int_equal(kz_wire_encode_ids(KZ_MSG_WANT, NULL, 1, &b), KZ_EINVAL);

    kz_bytes recs[2] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"", 0}};
    assert_int_equal(kz_wire_encode_records(recs, 2, &b), KZ_EINVAL);
    assert_int_equal(kz_wire_encode_records(recs, 0, &b), KZ_EINVAL);
    recs[1] = (kz_bytes){(const uint8_t *)"a", KZ_RECORD_MAX + 1};
    assert_int_equal(kz_wire_encode_records(recs, 2, &b), KZ_ETOOBIG);

    assert_int_equal(kz_wire_encode_recon(1, 1, NULL, 5, &b), KZ_EINVAL);

    char big[KZ_WIRE_REASON_MAX + 2];
    memset(big, 'x', sizeof big);
    big[KZ_WIRE_REASON_MAX + 1] = 0;
    assert_int_equal(kz_wire_encode_error(1, big, &b), KZ_EINVAL);
    assert_int_equal(kz_wire_encode_error(1, "bad\xff", &b), KZ_EINVAL);
    assert_int_equal(kz_wire_encode_error(1, "two\nlines", &b), KZ_EINVAL);
    assert_null(b.p);
    assert_int_equal(kz_wire_encode_bye(NULL), KZ_EINVAL);
}

static void test_generic_encode_checks_lists(void **state)
{
    /* A hand-built list whose bytes are not what n says is refused, not walked. */
    static const uint8_t junk[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
    kz_wire_msg m;
    memset(&m, 0, sizeof m);
    m.type = KZ_MSG_RECORDS;
    m.u.list.n = 1;
    m.u.list.items = junk;
    m.u.list.items_len = sizeof junk;
    kz_wire_buf b;
    assert_int_equal(kz_wire_encode(&m, &b), KZ_EDECODE);
    m.type = KZ_MSG_WANT;
    assert_int_equal(kz_wire_encode(&m, &b), KZ_EDECODE);
    m.u.list.items = NULL;
    assert_int_equal(kz_wire_encode(&m, &b), KZ_EINVAL);
    m.type = (kz_msg_type)42;
    assert_int_equal(kz_wire_encode(&m, &b), KZ_EINVAL);
    assert_null(b.p);
    /* The iterator on a hand-built bad list stops instead of overrunning. */
    m.type = KZ_MSG_RECORDS;
    m.u.list.items = junk;
    kz_wire_iter it;
    kz_bytes r;
    kz_wire_records_begin(&m, &it);
    assert_false(kz_wire_records_next(&it, &r));
}

/* ---- Conversation helpers ---------------------------------------------- */

static void test_negotiate(void **state)
{
    kz_wire_hello a = sample_hello(), b = sample_hello();
    uint32_t v = 0;
    assert_int_equal(kz_wire_negotiate(&a, &b, &v), 0);
    assert_int_equal(v, 1);
    a.version_min = 1, a.version_max = 3;
    b.version_min = 2, b.version_max = 5;
    assert_int_equal(kz_wire_negotiate(&a, &b, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(kz_wire_negotiate(&b, &a, &v), 0);
    assert_int_equal(v, 3);
    b.version_min = 4;
    v = 77;
    assert_int_equal(kz_wire_negotiate(&a, &b, &v), KZ_EPROTO);
    assert_int_equal(v, 77);
    b.version_min = 3;
    assert_int_equal(kz_wire_negotiate(&a, &b, &v), 0);
    assert_int_equal(v, 3);
}

static void test_hello_check_static(void **state)
{
    uint8_t pk[32], sk[64], x[32], other_pk[32];
    assert_true(sodium_init() >= 0);
    crypto_sign_keypair(pk, sk);
    assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(x, pk), 0);
    kz_wire_hello h = sample_hello();
    memcpy(h.node_id, pk, 32);
    assert_int_equal(kz_wire_hello_check_static(&h, x), 0);
    x[0] ^= 1;
    assert_int_equal(kz_wire_hello_check_static(&h, x), KZ_EAUTH);
    x[0] ^= 1;
    crypto_sign_keypair(other_pk, sk);
    memcpy(h.node_id, other_pk, 32);
    assert_int_equal(kz_wire_hello_check_static(&h, x), KZ_EAUTH);
    /* Not a valid Ed25519 point (a small-order one): refused outright. */
    memset(h.node_id, 0, 32);
    h.node_id[0] = 1;
    assert_int_equal(kz_wire_hello_check_static(&h, x), KZ_EAUTH);
    sodium_memzero(sk, sizeof sk);
}

static void test_final_rules(void **state)
{
    for (uint32_t t = 1; t <= KZ_MSG_MAX; t++) {
        bool closing = t == KZ_MSG_ERROR || t == KZ_MSG_BYE;
        assert_int_equal(kz_wire_final_ok((kz_msg_type)t, true), closing);
        assert_int_equal(kz_wire_final_ok((kz_msg_type)t, false), !closing);
    }
}

static void test_names(void **state)
{
    assert_string_equal(kz_wire_type_name(KZ_MSG_HELLO), "HELLO");
    assert_string_equal(kz_wire_type_name(KZ_MSG_BYE), "BYE");
    assert_string_equal(kz_wire_type_name(0), "unknown");
    assert_string_equal(kz_wire_type_name(99), "unknown");
    assert_string_equal(kz_wire_errcode_name(KZ_WERR_VERSION), "version");
    assert_string_equal(kz_wire_errcode_name(KZ_WERR_INTERNAL), "internal");
    assert_string_equal(kz_wire_errcode_name(0), "unknown");
    assert_string_equal(kz_wire_errcode_name(1000), "unknown");
    for (uint32_t t = 1; t <= KZ_MSG_MAX; t++)
        assert_string_not_equal(kz_wire_type_name(t), "unknown");
    for (uint32_t c = 1; c <= KZ_WERR_MAX; c++)
        assert_string_not_equal(kz_wire_errcode_name(c), "unknown");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hello_exact_bytes),
    cmocka_unit_test(test_small_messages_exact_bytes),
    cmocka_unit_test(test_lists_exact_bytes),
    cmocka_unit_test(test_nonce_boundaries_roundtrip),
    cmocka_unit_test(test_hello_roundtrip_limits),
    cmocka_unit_test(test_ids_roundtrip_max),
    cmocka_unit_test(test_records_roundtrip_sizes),
    cmocka_unit_test(test_records_many_small),
    cmocka_unit_test(test_records_frame_budget),
    cmocka_unit_test(test_recon_roundtrip_max),
    cmocka_unit_test(test_error_roundtrip),
    cmocka_unit_test(test_reject_not_a_message),
    cmocka_unit_test(test_reject_unknown_type),
    cmocka_unit_test(test_reject_wrong_arity),
    cmocka_unit_test(test_reject_trailing_bytes),
    cmocka_unit_test(test_reject_every_truncation),
    cmocka_unit_test(test_reject_noncanonical_ints),
    cmocka_unit_test(test_reject_noncanonical_headers),
    cmocka_unit_test(test_reject_wrong_element_types),
    cmocka_unit_test(test_reject_bad_versions),
    cmocka_unit_test(test_reject_counts_beyond_buffer),
    cmocka_unit_test(test_reject_over_limits),
    cmocka_unit_test(test_reject_oversize_input),
    cmocka_unit_test(test_reject_bad_reason_text),
    cmocka_unit_test(test_last_error_says_why),
    cmocka_unit_test(test_encoders_refuse_bad_input),
    cmocka_unit_test(test_generic_encode_checks_lists),
    cmocka_unit_test(test_negotiate),
    cmocka_unit_test(test_hello_check_static),
    cmocka_unit_test(test_final_rules),
    cmocka_unit_test(test_names),
};

KZ_TEST_MAIN(tests)
