/* kz-test-link: kz_protocol */
/* test_frame.c: secretstream frames: round trips at every chunk boundary, limits, tampering, golden vectors. */
#include "kz_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_frame.h"

#define TAG_PUSH crypto_secretstream_xchacha20poly1305_TAG_PUSH
#define TAG_REKEY crypto_secretstream_xchacha20poly1305_TAG_REKEY

static const uint8_t key_a[KZ_FRAME_KEY_BYTES] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* A growable byte string for building wire streams in tests. */
typedef struct {
    uint8_t *p;
    size_t len;
} buf;

static void buf_add(buf *b, const uint8_t *p, size_t n)
{
    b->p = realloc(b->p, b->len + n + 1);
    assert_non_null(b->p);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* Append one sealed frame of the given plaintext. */
static void add_frame(buf *b, kz_frame_tx *tx, const void *pt, size_t n, bool final)
{
    size_t cap = KZ_FRAME_WIRE_SIZE(n), len = 0;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    int rc = final ? kz_frame_seal_final(tx, pt, n, out, cap, &len)
                   : kz_frame_seal(tx, pt, n, out, cap, &len);
    assert_int_equal(rc, 0);
    assert_int_equal(len, cap);
    buf_add(b, out, len);
    free(out);
}

/* A stream: header, "alpha", an empty frame, 300 bytes, final "bye". */
static const char *const std_msgs[] = {"alpha", "", NULL, "bye"};
static uint8_t big300[300];

static buf std_stream(void)
{
    buf b = {0};
    kz_frame_tx tx;
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    assert_int_equal(kz_frame_tx_init(&tx, key_a, hdr), 0);
    buf_add(&b, hdr, sizeof hdr);
    for (size_t i = 0; i < sizeof big300; i++)
        big300[i] = (uint8_t)(i * 7);
    add_frame(&b, &tx, std_msgs[0], 5, false);
    add_frame(&b, &tx, std_msgs[1], 0, false);
    add_frame(&b, &tx, big300, sizeof big300, false);
    add_frame(&b, &tx, std_msgs[3], 3, true);
    kz_frame_tx_close(&tx);
    return b;
}

/* Collected frames from the receiver. */
typedef struct {
    int n;
    uint8_t data[8][512];
    size_t len[8];
    bool final[8];
} got;

static int collect_cb(void *arg, const uint8_t *pt, size_t len, bool final)
{
    got *g = arg;
    assert_true(g->n < 8);
    assert_true(len <= sizeof g->data[0]);
    if (len)
        memcpy(g->data[g->n], pt, len);
    g->len[g->n] = len;
    g->final[g->n] = final;
    g->n++;
    return 0;
}

static void check_std(const got *g)
{
    assert_int_equal(g->n, 4);
    assert_int_equal(g->len[0], 5);
    assert_memory_equal(g->data[0], "alpha", 5);
    assert_int_equal(g->len[1], 0);
    assert_int_equal(g->len[2], 300);
    assert_memory_equal(g->data[2], big300, 300);
    assert_int_equal(g->len[3], 3);
    assert_memory_equal(g->data[3], "bye", 3);
    assert_false(g->final[0] || g->final[1] || g->final[2]);
    assert_true(g->final[3]);
}

/* Feed bytes with kz_frame_rx_feed/kz_frame_rx_next, collecting frames;
 * returns the first error or 0. */
static int feed_collect(kz_frame_rx *rx, const uint8_t *p, size_t n, got *g)
{
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        int rc = kz_frame_rx_feed(rx, p + off, n - off, &used);
        if (rc < 0)
            return rc;
        assert_true(used <= n - off);
        off += used;
        if (rc == 1) {
            const uint8_t *pt;
            size_t len;
            bool final;
            assert_int_equal(kz_frame_rx_next(rx, &pt, &len, &final), 1);
            collect_cb(g, pt, len, final);
        } else {
            assert_int_equal(off, n);
        }
    }
    return 0;
}

static void test_roundtrip_one_chunk(void **state)
{
    buf b = std_stream();
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_input(&rx, b.p, b.len, collect_cb, &g), 0);
    check_std(&g);
    assert_true(kz_frame_rx_finished(&rx));
    kz_frame_rx_close(&rx);
    free(b.p);
}

static void test_roundtrip_split_every_boundary(void **state)
{
    buf b = std_stream();
    for (size_t cut = 0; cut <= b.len; cut++) {
        kz_frame_rx rx;
        got g = {0};
        assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
        assert_int_equal(feed_collect(&rx, b.p, cut, &g), 0);
        assert_int_equal(feed_collect(&rx, b.p + cut, b.len - cut, &g), 0);
        check_std(&g);
        assert_true(kz_frame_rx_finished(&rx));
        kz_frame_rx_close(&rx);
    }
    free(b.p);
}

static void test_roundtrip_byte_by_byte(void **state)
{
    buf b = std_stream();
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    for (size_t i = 0; i < b.len; i++) {
        assert_int_equal(kz_frame_rx_input(&rx, b.p + i, 1, collect_cb, &g), 0);
        /* Nothing is delivered before the frame's last byte arrived. */
    }
    check_std(&g);
    kz_frame_rx_close(&rx);
    free(b.p);
}

static void test_roundtrip_random_chunks(void **state)
{
    buf b = std_stream();
    srand(7);
    for (int round = 0; round < 200; round++) {
        kz_frame_rx rx;
        got g = {0};
        assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
        size_t off = 0;
        while (off < b.len) {
            size_t n = 1 + (size_t)rand() % 64;
            if (n > b.len - off)
                n = b.len - off;
            assert_int_equal(kz_frame_rx_input(&rx, b.p + off, n, collect_cb, &g), 0);
            off += n;
        }
        check_std(&g);
        kz_frame_rx_close(&rx);
    }
    free(b.p);
}

static void test_feed_stops_after_each_frame(void **state)
{
    buf b = std_stream();
    kz_frame_rx rx;
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    size_t used = 0;
    /* Header + first frame ("alpha": 4 + 17 + 5 bytes) and nothing more. */
    assert_int_equal(kz_frame_rx_feed(&rx, b.p, b.len, &used), 1);
    assert_int_equal(used, KZ_FRAME_HEADER_BYTES + KZ_FRAME_WIRE_SIZE(5));
    /* Not taken yet: feeding again consumes nothing. */
    size_t used2 = 99;
    assert_int_equal(kz_frame_rx_feed(&rx, b.p + used, b.len - used, &used2), 1);
    assert_int_equal(used2, 0);
    const uint8_t *pt;
    size_t len;
    bool final = true;
    assert_int_equal(kz_frame_rx_next(&rx, &pt, &len, &final), 1);
    assert_int_equal(len, 5);
    assert_memory_equal(pt, "alpha", 5);
    assert_false(final);
    assert_int_equal(kz_frame_rx_next(&rx, &pt, &len, &final), 0);
    kz_frame_rx_close(&rx);
    free(b.p);
}

static void test_next_without_frame(void **state)
{
    kz_frame_rx rx;
    const uint8_t *pt;
    size_t len;
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_next(&rx, &pt, &len, NULL), 0);
    kz_frame_rx_close(&rx);
}

static void test_with_header_matches_push(void **state)
{
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    kz_frame_tx a, b;
    assert_int_equal(kz_frame_tx_init(&a, key_a, hdr), 0);
    assert_int_equal(kz_frame_tx_init_with_header(&b, key_a, hdr), 0);
    for (int i = 0; i < 3; i++) {
        uint8_t o1[64], o2[64];
        size_t l1, l2;
        assert_int_equal(kz_frame_seal(&a, (const uint8_t *)"same text", 9, o1, sizeof o1, &l1), 0);
        assert_int_equal(kz_frame_seal(&b, (const uint8_t *)"same text", 9, o2, sizeof o2, &l2), 0);
        assert_int_equal(l1, l2);
        assert_memory_equal(o1, o2, l1);
    }
    kz_frame_tx_close(&a);
    kz_frame_tx_close(&b);
}

static void test_headers_are_random(void **state)
{
    uint8_t h1[KZ_FRAME_HEADER_BYTES], h2[KZ_FRAME_HEADER_BYTES];
    kz_frame_tx a, b;
    assert_int_equal(kz_frame_tx_init(&a, key_a, h1), 0);
    assert_int_equal(kz_frame_tx_init(&b, key_a, h2), 0);
    assert_memory_not_equal(h1, h2, sizeof h1);
    kz_frame_tx_close(&a);
    kz_frame_tx_close(&b);
}

/* Header plus a 4-byte length prefix declaring L. */
static size_t stream_with_len(uint8_t *out, uint32_t L)
{
    kz_frame_tx tx;
    assert_int_equal(kz_frame_tx_init(&tx, key_a, out), 0);
    kz_frame_tx_close(&tx);
    out[24] = (uint8_t)(L >> 24);
    out[25] = (uint8_t)(L >> 16);
    out[26] = (uint8_t)(L >> 8);
    out[27] = (uint8_t)L;
    return 28;
}

static void expect_len_error(uint32_t L, int want)
{
    uint8_t s[28 + 64];
    memset(s, 0xab, sizeof s);
    stream_with_len(s, L);
    kz_frame_rx rx;
    size_t used = 0;
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    /* The error comes with the 4th length byte, before any body byte is read
     * and before any buffer exists. */
    assert_int_equal(kz_frame_rx_feed(&rx, s, 27, &used), 0);
    assert_int_equal(kz_frame_rx_feed(&rx, s + 27, sizeof s - 27, &used), want);
    assert_int_equal(used, 1);
    assert_null(rx.ct);
    assert_null(rx.pt);
    kz_frame_rx_close(&rx);
}

static void test_oversize_length_rejected_before_alloc(void **state)
{
    expect_len_error(KZ_FRAME_MAX + KZ_FRAME_ABYTES + 1, KZ_ETOOBIG);
    expect_len_error(0x7fffffffu, KZ_ETOOBIG);
    expect_len_error(0xffffffffu, KZ_ETOOBIG);
}

static void test_undersize_length_rejected(void **state)
{
    expect_len_error(0, KZ_EPROTO);
    expect_len_error(KZ_FRAME_ABYTES - 1, KZ_EPROTO);
}

static void test_max_length_accepted(void **state)
{
    uint8_t s[28];
    stream_with_len(s, KZ_FRAME_MAX + KZ_FRAME_ABYTES);
    kz_frame_rx rx;
    size_t used = 0;
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_feed(&rx, s, sizeof s, &used), 0);
    assert_int_equal(used, sizeof s);
    kz_frame_rx_close(&rx);
}

static void test_max_frame_roundtrip(void **state)
{
    uint8_t *pt = malloc(KZ_FRAME_MAX);
    assert_non_null(pt);
    randombytes_buf(pt, KZ_FRAME_MAX);
    buf b = {0};
    kz_frame_tx tx;
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    assert_int_equal(kz_frame_tx_init(&tx, key_a, hdr), 0);
    buf_add(&b, hdr, sizeof hdr);
    add_frame(&b, &tx, pt, KZ_FRAME_MAX, false);
    add_frame(&b, &tx, "x", 1, false);
    kz_frame_tx_close(&tx);
    assert_int_equal(b.len, 24 + KZ_FRAME_WIRE_MAX + KZ_FRAME_WIRE_SIZE(1));

    /* Split inside the big frame so it goes through the rx buffer. */
    kz_frame_rx rx;
    size_t used = 0;
    const uint8_t *out;
    size_t len;
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_feed(&rx, b.p, 1000, &used), 0);
    assert_int_equal(kz_frame_rx_feed(&rx, b.p + 1000, b.len - 1000, &used), 1);
    assert_int_equal(kz_frame_rx_next(&rx, &out, &len, NULL), 1);
    assert_int_equal(len, KZ_FRAME_MAX);
    assert_memory_equal(out, pt, KZ_FRAME_MAX);
    size_t off = 1000 + used;
    assert_int_equal(kz_frame_rx_feed(&rx, b.p + off, b.len - off, &used), 1);
    /* The megabyte buffers were released when the big frame was done. */
    assert_true(rx.ct_cap <= 64 * 1024);
    assert_true(rx.pt_cap <= 64 * 1024);
    assert_int_equal(kz_frame_rx_next(&rx, &out, &len, NULL), 1);
    assert_int_equal(len, 1);
    kz_frame_rx_close(&rx);
    free(b.p);
    free(pt);
}

static void test_seal_limits(void **state)
{
    kz_frame_tx tx;
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    uint8_t out[64];
    size_t len = 12345;
    assert_int_equal(kz_frame_tx_init(&tx, key_a, hdr), 0);
    assert_int_equal(kz_frame_seal(&tx, out, KZ_FRAME_MAX + 1, out, SIZE_MAX, &len),
                     KZ_ETOOBIG);
    memset(out, 0x5a, sizeof out);
    /* One byte short of room: refused, nothing written. */
    assert_int_equal(kz_frame_seal(&tx, (const uint8_t *)"abc", 3, out,
                                   KZ_FRAME_WIRE_SIZE(3) - 1, &len), KZ_EINVAL);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0x5a);
    assert_int_equal(len, 12345);
    assert_int_equal(kz_frame_seal(NULL, out, 0, out, sizeof out, &len), KZ_EINVAL);
    assert_int_equal(kz_frame_seal(&tx, NULL, 1, out, sizeof out, &len), KZ_EINVAL);
    /* The refused calls did not advance the stream: the next frame is the
     * stream's first and decrypts. */
    uint8_t s[24 + 64];
    memcpy(s, hdr, 24);
    assert_int_equal(kz_frame_seal(&tx, (const uint8_t *)"abc", 3, s + 24, 64, &len), 0);
    assert_int_equal(len, 4 + 17 + 3);
    assert_int_equal(s[24], 0);
    assert_int_equal(s[27], 20);
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_input(&rx, s, 24 + len, collect_cb, &g), 0);
    assert_int_equal(g.n, 1);
    assert_memory_equal(g.data[0], "abc", 3);
    kz_frame_rx_close(&rx);
    kz_frame_tx_close(&tx);
}

static void test_seal_after_final_refused(void **state)
{
    kz_frame_tx tx;
    uint8_t hdr[KZ_FRAME_HEADER_BYTES], out[64];
    size_t len;
    assert_int_equal(kz_frame_tx_init(&tx, key_a, hdr), 0);
    assert_int_equal(kz_frame_seal_final(&tx, (const uint8_t *)"b", 1, out, sizeof out, &len), 0);
    assert_int_equal(kz_frame_seal(&tx, (const uint8_t *)"c", 1, out, sizeof out, &len),
                     KZ_EINVAL);
    assert_int_equal(kz_frame_seal_final(&tx, (const uint8_t *)"c", 1, out, sizeof out, &len),
                     KZ_EINVAL);
    kz_frame_tx_close(&tx);
    /* A zeroed (closed) tx refuses too. */
    assert_int_equal(kz_frame_seal(&tx, (const uint8_t *)"c", 1, out, sizeof out, &len),
                     KZ_EINVAL);
}

/* Feed s and expect err at some point, with no frame before frame index
 * `good` delivered. Returns number of frames seen. */
static int feed_expect(const uint8_t *s, size_t n, int err)
{
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(feed_collect(&rx, s, n, &g), err);
    /* Fail closed: everything afterwards gets the same error. */
    size_t used;
    const uint8_t *pt;
    size_t len;
    assert_int_equal(kz_frame_rx_feed(&rx, s, n, &used), err);
    assert_int_equal(kz_frame_rx_next(&rx, &pt, &len, NULL), err);
    assert_false(kz_frame_rx_finished(&rx));
    assert_null(rx.ct);
    assert_null(rx.pt);
    kz_frame_rx_close(&rx);
    return g.n;
}

static void test_tampered_ciphertext(void **state)
{
    buf b = std_stream();
    /* Every ciphertext byte of the first frame (after its length prefix). */
    size_t start = 24 + 4, end = 24 + KZ_FRAME_WIRE_SIZE(5);
    for (size_t i = start; i < end; i++) {
        b.p[i] ^= 0x01;
        assert_int_equal(feed_expect(b.p, b.len, KZ_EAUTH), 0);
        b.p[i] ^= 0x01;
    }
    /* A byte in the last (final) frame: the three before it are delivered. */
    b.p[b.len - 1] ^= 0x80;
    assert_int_equal(feed_expect(b.p, b.len, KZ_EAUTH), 3);
    free(b.p);
}

static void test_tampered_header(void **state)
{
    buf b = std_stream();
    for (size_t i = 0; i < KZ_FRAME_HEADER_BYTES; i++) {
        b.p[i] ^= 0x10;
        assert_int_equal(feed_expect(b.p, b.len, KZ_EAUTH), 0);
        b.p[i] ^= 0x10;
    }
    free(b.p);
}

static void test_tampered_length(void **state)
{
    buf b = std_stream();
    /* "alpha" frame: L = 22. One less: the frame is cut short and fails. */
    b.p[27] = 21;
    assert_int_equal(feed_expect(b.p, b.len, KZ_EAUTH), 0);
    /* One more: swallows the next frame's first byte and fails. */
    b.p[27] = 23;
    assert_int_equal(feed_expect(b.p, b.len, KZ_EAUTH), 0);
    free(b.p);
}

static void test_wrong_key(void **state)
{
    buf b = std_stream();
    uint8_t other[KZ_FRAME_KEY_BYTES];
    memcpy(other, key_a, sizeof other);
    other[31] ^= 1;
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, other), 0);
    assert_int_equal(kz_frame_rx_input(&rx, b.p, b.len, collect_cb, &g), KZ_EAUTH);
    assert_int_equal(g.n, 0);
    kz_frame_rx_close(&rx);
    free(b.p);
}

static void test_truncated_frame_not_delivered(void **state)
{
    buf b = std_stream();
    size_t first = 24 + KZ_FRAME_WIRE_SIZE(5);
    for (size_t n = 0; n < first; n++) {
        kz_frame_rx rx;
        got g = {0};
        assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
        assert_int_equal(kz_frame_rx_input(&rx, b.p, n, collect_cb, &g), 0);
        assert_int_equal(g.n, 0);
        assert_false(kz_frame_rx_finished(&rx));
        kz_frame_rx_close(&rx);
    }
    /* The whole stream but the final frame's last byte: not finished, so the
     * caller sees an unclean close. */
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_input(&rx, b.p, b.len - 1, collect_cb, &g), 0);
    assert_int_equal(g.n, 3);
    assert_false(kz_frame_rx_finished(&rx));
    kz_frame_rx_close(&rx);
    free(b.p);
}

/* header, f1 = "one", f2 = "two" as separate pieces. */
static void two_frames(buf *hdr, buf *f1, buf *f2)
{
    kz_frame_tx tx;
    uint8_t h[KZ_FRAME_HEADER_BYTES];
    assert_int_equal(kz_frame_tx_init(&tx, key_a, h), 0);
    buf_add(hdr, h, sizeof h);
    add_frame(f1, &tx, "one", 3, false);
    add_frame(f2, &tx, "two", 3, false);
    kz_frame_tx_close(&tx);
}

static void test_reordered_frames(void **state)
{
    buf h = {0}, f1 = {0}, f2 = {0}, s = {0};
    two_frames(&h, &f1, &f2);
    buf_add(&s, h.p, h.len);
    buf_add(&s, f2.p, f2.len);
    buf_add(&s, f1.p, f1.len);
    assert_int_equal(feed_expect(s.p, s.len, KZ_EAUTH), 0);
    free(h.p), free(f1.p), free(f2.p), free(s.p);
}

static void test_replayed_frame(void **state)
{
    buf h = {0}, f1 = {0}, f2 = {0}, s = {0};
    two_frames(&h, &f1, &f2);
    buf_add(&s, h.p, h.len);
    buf_add(&s, f1.p, f1.len);
    buf_add(&s, f1.p, f1.len);
    assert_int_equal(feed_expect(s.p, s.len, KZ_EAUTH), 1);
    free(h.p), free(f1.p), free(f2.p), free(s.p);
}

static void test_dropped_frame(void **state)
{
    buf h = {0}, f1 = {0}, f2 = {0}, s = {0};
    two_frames(&h, &f1, &f2);
    buf_add(&s, h.p, h.len);
    buf_add(&s, f2.p, f2.len);
    assert_int_equal(feed_expect(s.p, s.len, KZ_EAUTH), 0);
    free(h.p), free(f1.p), free(f2.p), free(s.p);
}

static void test_data_after_final(void **state)
{
    buf b = std_stream();
    uint8_t extra = 0;
    buf_add(&b, &extra, 1);
    assert_int_equal(feed_expect(b.p, b.len, KZ_EPROTO), 4);
    /* Also when the extra byte arrives in a later chunk. */
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_input(&rx, b.p, b.len - 1, collect_cb, &g), 0);
    assert_true(kz_frame_rx_finished(&rx));
    size_t used;
    assert_int_equal(kz_frame_rx_feed(&rx, b.p, 0, &used), 0); /* nothing is fine */
    assert_int_equal(kz_frame_rx_feed(&rx, b.p + b.len - 1, 1, &used), KZ_EPROTO);
    assert_false(kz_frame_rx_finished(&rx));
    kz_frame_rx_close(&rx);
    free(b.p);
}

/* A frame pushed with a tag kizuna never sends (PUSH or REKEY). */
static void expect_tag_rejected(unsigned char tag)
{
    uint8_t hdr[KZ_FRAME_HEADER_BYTES], s[24 + 4 + 17 + 2];
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key_a);
    memcpy(s, hdr, 24);
    unsigned long long clen;
    crypto_secretstream_xchacha20poly1305_push(&st, s + 28, &clen, (const uint8_t *)"hi", 2,
                                               NULL, 0, tag);
    assert_int_equal(clen, 19);
    s[24] = s[25] = s[26] = 0;
    s[27] = 19;
    assert_int_equal(feed_expect(s, sizeof s, KZ_EPROTO), 0);
}

static void test_foreign_tags_rejected(void **state)
{
    expect_tag_rejected(TAG_PUSH);
    expect_tag_rejected(TAG_REKEY);
}

static int stop_cb(void *arg, const uint8_t *pt, size_t len, bool final)
{
    (*(int *)arg)++;
    return KZ_EPROTO;
}

static void test_callback_error_fails_rx(void **state)
{
    buf b = std_stream();
    kz_frame_rx rx;
    int calls = 0;
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_input(&rx, b.p, b.len, stop_cb, &calls), KZ_EPROTO);
    assert_int_equal(calls, 1);
    size_t used;
    assert_int_equal(kz_frame_rx_feed(&rx, b.p, b.len, &used), KZ_EPROTO);
    kz_frame_rx_close(&rx);
    free(b.p);
}

static void test_bad_arguments(void **state)
{
    kz_frame_rx rx;
    kz_frame_tx tx;
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    size_t used;
    assert_int_equal(kz_frame_tx_init(NULL, key_a, hdr), KZ_EINVAL);
    assert_int_equal(kz_frame_tx_init(&tx, NULL, hdr), KZ_EINVAL);
    assert_int_equal(kz_frame_tx_init(&tx, key_a, NULL), KZ_EINVAL);
    assert_int_equal(kz_frame_rx_init(NULL, key_a), KZ_EINVAL);
    assert_int_equal(kz_frame_rx_init(&rx, NULL), KZ_EINVAL);
    memset(&rx, 0, sizeof rx);
    assert_int_equal(kz_frame_rx_feed(&rx, hdr, 1, &used), KZ_EINVAL); /* never initialised */
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    assert_int_equal(kz_frame_rx_feed(&rx, NULL, 1, &used), KZ_EINVAL);
    assert_int_equal(kz_frame_rx_feed(&rx, hdr, 1, NULL), KZ_EINVAL);
    assert_int_equal(kz_frame_rx_input(&rx, hdr, 1, NULL, NULL), KZ_EINVAL);
    kz_frame_rx_close(&rx);
    kz_frame_rx_close(NULL);
    kz_frame_tx_close(NULL);
}

static void test_close_wipes(void **state)
{
    static const uint8_t zero[sizeof(kz_frame_rx)];
    buf b = std_stream();
    kz_frame_rx rx;
    got g = {0};
    assert_int_equal(kz_frame_rx_init(&rx, key_a), 0);
    /* Before the header the key copy is held... */
    assert_memory_equal(rx.key, key_a, sizeof key_a);
    assert_int_equal(kz_frame_rx_input(&rx, b.p, 30, collect_cb, &g), 0);
    /* ...and wiped once the header has arrived. */
    static const uint8_t zkey[KZ_FRAME_KEY_BYTES];
    assert_memory_equal(rx.key, zkey, sizeof zkey);
    kz_frame_rx_close(&rx);
    assert_memory_equal(&rx, zero, sizeof rx);
    kz_frame_rx_close(&rx); /* twice is fine */

    kz_frame_tx tx;
    static const uint8_t ztx[sizeof(kz_frame_tx)];
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    assert_int_equal(kz_frame_tx_init(&tx, key_a, hdr), 0);
    kz_frame_tx_close(&tx);
    assert_memory_equal(&tx, ztx, sizeof tx);
    free(b.p);
}

/* ---- Golden vectors: tests/vectors/frames.txt ------------------------ */

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    if (strcmp(h, "-") == 0)
        return 0;
    size_t n = strlen(h);
    assert_int_equal(n % 2, 0);
    assert_true(n / 2 <= cap);
    assert_int_equal(kz_hex_decode(out, n / 2, h), 0);
    return n / 2;
}

static void test_golden_vectors(void **state)
{
    FILE *f = fopen(KZ_SOURCE_DIR "/tests/vectors/frames.txt", "r");
    assert_non_null(f);
    static char line[16384];
    static uint8_t key[32], hdr[24], pt[4096], wire[4200], out[4200];
    kz_frame_tx tx;
    kz_frame_rx rx;
    crypto_secretstream_xchacha20poly1305_state pull;
    int streams = 0, frames = 0;
    bool have_key = false;
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0)
            continue;
        char *sp = strchr(line, ' ');
        assert_non_null(sp);
        *sp = 0;
        char *arg = sp + 1;
        if (strcmp(line, "key") == 0) {
            assert_int_equal(unhex(arg, key, sizeof key), 32);
            have_key = true;
        } else if (strcmp(line, "header") == 0) {
            assert_true(have_key);
            assert_int_equal(unhex(arg, hdr, sizeof hdr), 24);
            kz_frame_tx_close(&tx);
            kz_frame_rx_close(&rx);
            assert_int_equal(kz_frame_tx_init_with_header(&tx, key, hdr), 0);
            assert_int_equal(kz_frame_rx_init(&rx, key), 0);
            size_t used;
            assert_int_equal(kz_frame_rx_feed(&rx, hdr, 24, &used), 0);
            /* Independent check with libsodium's own receiving side. */
            assert_int_equal(crypto_secretstream_xchacha20poly1305_init_pull(&pull, hdr, key), 0);
            streams++;
        } else if (strcmp(line, "message") == 0 || strcmp(line, "final") == 0) {
            bool final = line[0] == 'f';
            char *w = strchr(arg, ' ');
            assert_non_null(w);
            *w++ = 0;
            size_t ptlen = unhex(arg, pt, sizeof pt);
            size_t wlen = unhex(w, wire, sizeof wire);
            size_t olen;
            int rc = final ? kz_frame_seal_final(&tx, pt, ptlen, out, sizeof out, &olen)
                           : kz_frame_seal(&tx, pt, ptlen, out, sizeof out, &olen);
            assert_int_equal(rc, 0);
            assert_int_equal(olen, wlen);
            assert_memory_equal(out, wire, wlen);

            size_t used;
            const uint8_t *got_pt;
            size_t got_len;
            bool got_final;
            assert_int_equal(kz_frame_rx_feed(&rx, wire, wlen, &used), 1);
            assert_int_equal(used, wlen);
            assert_int_equal(kz_frame_rx_next(&rx, &got_pt, &got_len, &got_final), 1);
            assert_int_equal(got_len, ptlen);
            assert_memory_equal(got_pt, pt, ptlen);
            assert_int_equal(got_final, final);

            uint8_t m[4096];
            unsigned long long mlen;
            unsigned char tag;
            uint32_t L = (uint32_t)wire[0] << 24 | (uint32_t)wire[1] << 16 |
                         (uint32_t)wire[2] << 8 | wire[3];
            assert_int_equal(L, wlen - 4);
            assert_int_equal(crypto_secretstream_xchacha20poly1305_pull(&pull, m, &mlen, &tag,
                                                                        wire + 4, L, NULL, 0), 0);
            assert_int_equal(mlen, ptlen);
            assert_memory_equal(m, pt, ptlen);
            assert_int_equal(tag, final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                        : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
            frames++;
        } else {
            fail_msg("frames.txt: unknown line kind '%s'", line);
        }
    }
    fclose(f);
    kz_frame_tx_close(&tx);
    kz_frame_rx_close(&rx);
    assert_true(streams >= 2);
    assert_true(frames >= 6);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip_one_chunk),
    cmocka_unit_test(test_roundtrip_split_every_boundary),
    cmocka_unit_test(test_roundtrip_byte_by_byte),
    cmocka_unit_test(test_roundtrip_random_chunks),
    cmocka_unit_test(test_feed_stops_after_each_frame),
    cmocka_unit_test(test_next_without_frame),
    cmocka_unit_test(test_with_header_matches_push),
    cmocka_unit_test(test_headers_are_random),
    cmocka_unit_test(test_oversize_length_rejected_before_alloc),
    cmocka_unit_test(test_undersize_length_rejected),
    cmocka_unit_test(test_max_length_accepted),
    cmocka_unit_test(test_max_frame_roundtrip),
    cmocka_unit_test(test_seal_limits),
    cmocka_unit_test(test_seal_after_final_refused),
    cmocka_unit_test(test_tampered_ciphertext),
    cmocka_unit_test(test_tampered_header),
    cmocka_unit_test(test_tampered_length),
    cmocka_unit_test(test_wrong_key),
    cmocka_unit_test(test_truncated_frame_not_delivered),
    cmocka_unit_test(test_reordered_frames),
    cmocka_unit_test(test_replayed_frame),
    cmocka_unit_test(test_dropped_frame),
    cmocka_unit_test(test_data_after_final),
    cmocka_unit_test(test_foreign_tags_rejected),
    cmocka_unit_test(test_callback_error_fails_rx),
    cmocka_unit_test(test_bad_arguments),
    cmocka_unit_test(test_close_wipes),
    cmocka_unit_test(test_golden_vectors),
};

KZ_TEST_MAIN(tests)
