/* kz-test-link: kz_protocol */
/* test_record.c: records: round trips of every type, canonical and limit
 * rejections, signatures, clock, hostile lengths, slots, names, golden vectors. */
#include "kz_test.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kz_record.h"

#if defined(__SANITIZE_ADDRESS__)
#define KZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KZ_ASAN 1
#endif
#endif

#include "record_fixtures.h"

static bool inside(const kz_record *r, const void *p)
{
    const uint8_t *q = p;
    return q >= r->raw && q < r->raw + r->raw_len;
}

/* Sign one variant, decode the bytes with verification, compare everything. */
static void roundtrip(int type, int variant)
{
    keys k = kp(0x01);
    kz_record src, signed_r, dec;
    fill(&src, type, variant, &k, T0);
    fill(&signed_r, type, variant, &k, T0);
    int rc = kz_record_sign(&signed_r, k.sk);
    if (rc != 0)
        fail_msg("sign %s/%d: %s (%s)", kz_rtype_name(type), variant, kz_strerror(rc),
                 kz_record_last_error());
    assert_non_null(signed_r.raw);
    assert_true(signed_r.raw_len <= KZ_RECORD_MAX);
    expect_same(&src, &signed_r);

    rc = kz_record_decode(&dec, signed_r.raw, signed_r.raw_len, T0, 0);
    if (rc != 0)
        fail_msg("decode %s/%d: %s (%s)", kz_rtype_name(type), variant, kz_strerror(rc),
                 kz_record_last_error());
    expect_same(&src, &dec);
    assert_memory_equal(dec.sig, signed_r.sig, KZ_SIG_BYTES);
    assert_memory_equal(dec.id, signed_r.id, KZ_ID_BYTES);
    assert_int_equal(dec.raw_len, signed_r.raw_len);
    assert_memory_equal(dec.raw, signed_r.raw, dec.raw_len);
    assert_true(dec.raw != signed_r.raw);
    uint8_t id[KZ_ID_BYTES];
    kz_record_id(id, dec.raw, dec.raw_len);
    assert_memory_equal(id, dec.id, KZ_ID_BYTES);
    assert_int_equal(kz_record_verify(&dec), 0);
    kz_record_close(&dec);
    kz_record_close(&signed_r);
    assert_null(signed_r.raw);
}

static void roundtrip_both(int type)
{
    init_sodium();
    roundtrip(type, FULL);
    roundtrip(type, MIN);
}

static void test_roundtrip_node(void **s) { (void)s; roundtrip_both(KZ_T_NODE); }
static void test_roundtrip_attest(void **s) { (void)s; roundtrip_both(KZ_T_ATTEST); }
static void test_roundtrip_revoke(void **s) { (void)s; roundtrip_both(KZ_T_REVOKE); }
static void test_roundtrip_profile(void **s) { (void)s; roundtrip_both(KZ_T_PROFILE); }
static void test_roundtrip_reply(void **s) { (void)s; roundtrip_both(KZ_T_REPLY); }
static void test_roundtrip_reaction(void **s) { (void)s; roundtrip_both(KZ_T_REACTION); }
static void test_roundtrip_event(void **s) { (void)s; roundtrip_both(KZ_T_EVENT); }
static void test_roundtrip_rsvp(void **s) { (void)s; roundtrip_both(KZ_T_RSVP); }
static void test_roundtrip_delete(void **s) { (void)s; roundtrip_both(KZ_T_DELETE); }
static void test_roundtrip_contact(void **s) { (void)s; roundtrip_both(KZ_T_CONTACT); }

static void test_roundtrip_post(void **s)
{
    (void)s;
    roundtrip_both(KZ_T_POST);
    roundtrip(KZ_T_POST, POLL);
}

/* Signing re-points the caller's strings into raw, so they may be freed. */
static void test_sign_repoints_strings(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    kz_record_init(&r, KZ_T_PROFILE, k.pk, T0);
    char *name = kz_xstrdup("Heap Name");
    char *skill = kz_xstrdup("welding");
    r.body.profile.name = S(name);
    r.body.profile.n_skills = 1;
    r.body.profile.skills[0] = S(skill);
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    memset(name, 'X', strlen(name));
    memset(skill, 'X', strlen(skill));
    free(name);
    free(skill);
    assert_true(inside(&r, r.body.profile.name.p));
    assert_true(inside(&r, r.body.profile.skills[0].p));
    expect_str(r.body.profile.name, S("Heap Name"));
    expect_str(r.body.profile.skills[0], S("welding"));

    /* Re-signing a signed record (fields point into its own raw) works. */
    r.created_ms = T0 + 1;
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    expect_str(r.body.profile.name, S("Heap Name"));
    assert_true(inside(&r, r.body.profile.name.p));
    kz_record_close(&r);
    kz_record_close(&r); /* closing twice is safe */
}

static void test_sign_wrong_key(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01), other = kp(0x02);
    kz_record r;
    fill(&r, KZ_T_NODE, MIN, &k, T0);
    assert_int_equal(kz_record_sign(&r, other.sk), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "author"));
    assert_null(r.raw);
}

static void test_close_zeroed(void **s)
{
    (void)s;
    kz_record r;
    memset(&r, 0, sizeof r);
    kz_record_close(&r);
    kz_record_close(NULL);
    assert_null(r.raw);
}

/* ---- hand-made encodings ------------------------------------------------ */

typedef struct {
    uint8_t b[KZ_RECORD_MAX + 64];
    size_t n;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put1(buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_fixstr(buf *b, const char *s)
{
    size_t n = strlen(s);
    assert_true(n < 32);
    put1(b, (uint8_t)(0xa0 | n));
    put(b, s, n);
}

static void put_str(buf *b, const char *s, size_t n)
{
    if (n < 32) {
        put1(b, (uint8_t)(0xa0 | n));
    } else if (n < 256) {
        put1(b, 0xd9);
        put1(b, (uint8_t)n);
    } else {
        put1(b, 0xda);
        put1(b, (uint8_t)(n >> 8));
        put1(b, (uint8_t)n);
    }
    put(b, s, n);
}

static void put_bin32(buf *b, uint8_t fillb)
{
    uint8_t k[32];
    memset(k, fillb, sizeof k);
    put1(b, 0xc4);
    put1(b, 32);
    put(b, k, 32);
}

/* Sign buf in place: it must be a fixarray-6 record ending in c4 40 <sig>. */
static void resign(buf *r, const keys *k)
{
    assert_true(r->n > 67);
    uint8_t *msg = kz_xmalloc(KZ_RECORD_SIG_DOMAIN_LEN + r->n);
    memcpy(msg, KZ_RECORD_SIG_DOMAIN, KZ_RECORD_SIG_DOMAIN_LEN);
    memcpy(msg + KZ_RECORD_SIG_DOMAIN_LEN, r->b, r->n - 66);
    msg[KZ_RECORD_SIG_DOMAIN_LEN] = 0x95;
    crypto_sign_detached(r->b + r->n - 64, NULL, msg, KZ_RECORD_SIG_DOMAIN_LEN + r->n - 66,
                         k->sk);
    free(msg);
}

/* A complete, correctly signed record of `type` around the given body bytes. */
static void craft(buf *r, int type, const buf *body, const keys *k)
{
    r->n = 0;
    put1(r, 0x96);
    put1(r, 0x01);
    put1(r, (uint8_t)type);
    put1(r, 0xc4);
    put1(r, 32);
    put(r, k->pk, 32);
    put1(r, 0xcf);
    for (int i = 7; i >= 0; i--)
        put1(r, (uint8_t)(T0 >> (8 * i)));
    put(r, body->b, body->n);
    put1(r, 0xc4);
    put1(r, 64);
    uint8_t zero[64] = { 0 };
    put(r, zero, 64);
    resign(r, k);
}

static int decode_buf(const buf *r)
{
    kz_record d;
    /* Exact-size copy so sanitizers see any read past the end. */
    uint8_t *copy = kz_xmalloc(r->n);
    memcpy(copy, r->b, r->n);
    int rc = kz_record_decode(&d, copy, r->n, T0, 0);
    free(copy);
    if (rc == 0)
        kz_record_close(&d);
    else
        assert_null(d.raw);
    return rc;
}

/* Decode a crafted body of `type`; return the decode result. */
static int try_body(int type, const buf *body)
{
    init_sodium();
    keys k = kp(0x01);
    static buf r; /* large; keep it off the stack */
    craft(&r, type, body, &k);
    return decode_buf(&r);
}

/* The canonical minimal post body: {1: "r", 3: "hi"}. */
static void post_min_body(buf *b)
{
    b->n = 0;
    put1(b, 0x82);
    put1(b, 0x01);
    put_fixstr(b, "r");
    put1(b, 0x03);
    put_fixstr(b, "hi");
}

static void test_canonical_crafted_ok(void **s)
{
    (void)s;
    static buf b;
    post_min_body(&b);
    assert_int_equal(try_body(KZ_T_POST, &b), 0);
    /* and the crafted bytes are exactly what the encoder makes */
    keys k = kp(0x01);
    kz_record r;
    kz_record_init(&r, KZ_T_POST, k.pk, T0);
    r.body.post.room = S("r");
    r.body.post.text = S("hi");
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    static buf c;
    craft(&c, KZ_T_POST, &b, &k);
    assert_int_equal(r.raw_len, c.n);
    assert_memory_equal(r.raw, c.b, c.n);
    kz_record_close(&r);
}

static void expect_rc(int got, int want)
{
    if (got != want)
        fail_msg("got %d (%s), want %d (%s); last error: %s", got, kz_strerror(got), want,
                 kz_strerror(want), kz_record_last_error());
}

static void test_canonical_nonminimal_uint(void **s)
{
    (void)s;
    static buf b;
    /* {1: "r", 2: 0xcc 0x02 (request, should be 0x02), 3: "hi"} */
    b.n = 0;
    put1(&b, 0x83);
    put1(&b, 0x01);
    put_fixstr(&b, "r");
    put1(&b, 0x02);
    put1(&b, 0xcc);
    put1(&b, 0x02);
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    expect_rc(try_body(KZ_T_POST, &b), KZ_ENONCANON);

    /* the key itself as uint8 */
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0xcc);
    put1(&b, 0x01);
    put_fixstr(&b, "r");
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    expect_rc(try_body(KZ_T_POST, &b), KZ_ENONCANON);
}

static void test_canonical_nonminimal_envelope(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    static buf b, r, t;
    post_min_body(&b);
    craft(&r, KZ_T_POST, &b, &k);
    /* version 1 as 0xcc 0x01 */
    t.n = 0;
    put1(&t, 0x96);
    put1(&t, 0xcc);
    put(&t, r.b + 1, r.n - 1);
    resign(&t, &k);
    expect_rc(decode_buf(&t), KZ_ENONCANON);
    /* created_ms fits in uint64 only, so try author as bin16 instead */
    t.n = 0;
    put(&t, r.b, 3);
    put1(&t, 0xc5);
    put1(&t, 0x00);
    put1(&t, 32);
    put(&t, r.b + 5, r.n - 5);
    resign(&t, &k);
    expect_rc(decode_buf(&t), KZ_ENONCANON);
    /* record header as array16 */
    t.n = 0;
    put1(&t, 0xdc);
    put1(&t, 0x00);
    put1(&t, 0x06);
    put(&t, r.b + 1, r.n - 1);
    expect_rc(decode_buf(&t), KZ_ENONCANON);
    /* signature as bin16 */
    t.n = 0;
    put(&t, r.b, r.n - 66);
    put1(&t, 0xc5);
    put1(&t, 0x00);
    put1(&t, 64);
    put(&t, r.b + r.n - 64, 64);
    expect_rc(decode_buf(&t), KZ_ENONCANON);
}

static void test_canonical_str8_short(void **s)
{
    (void)s;
    static buf b;
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put1(&b, 0xd9);
    put1(&b, 3);
    put(&b, "abc", 3);
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    expect_rc(try_body(KZ_T_POST, &b), KZ_ENONCANON);
}

static void test_canonical_map16_body(void **s)
{
    (void)s;
    static buf b, m;
    post_min_body(&b);
    m.n = 0;
    put1(&m, 0xde);
    put1(&m, 0x00);
    put1(&m, 0x02);
    put(&m, b.b + 1, b.n - 1);
    expect_rc(try_body(KZ_T_POST, &m), KZ_ENONCANON);
}

static void test_canonical_keys_out_of_order(void **s)
{
    (void)s;
    static buf b;
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    put1(&b, 0x01);
    put_fixstr(&b, "r");
    expect_rc(try_body(KZ_T_POST, &b), KZ_ENONCANON);
    assert_non_null(strstr(kz_record_last_error(), "order"));
}

static void test_canonical_duplicate_key(void **s)
{
    (void)s;
    static buf b;
    b.n = 0;
    put1(&b, 0x83);
    put1(&b, 0x01);
    put_fixstr(&b, "r");
    put1(&b, 0x01);
    put_fixstr(&b, "s");
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    expect_rc(try_body(KZ_T_POST, &b), KZ_ENONCANON);
    assert_non_null(strstr(kz_record_last_error(), "duplicate"));
}

static void test_canonical_unknown_key(void **s)
{
    (void)s;
    static buf b;
    post_min_body(&b);
    b.b[0] = 0x83;
    put1(&b, 0x08);
    put_fixstr(&b, "x");
    expect_rc(try_body(KZ_T_POST, &b), KZ_EDECODE);
    assert_non_null(strstr(kz_record_last_error(), "unknown key 8"));
    /* key 0 is never used either */
    b.n = 0;
    put1(&b, 0x83);
    put1(&b, 0x00);
    put_fixstr(&b, "x");
    put1(&b, 0x01);
    put_fixstr(&b, "r");
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    expect_rc(try_body(KZ_T_POST, &b), KZ_EDECODE);
}

static void test_canonical_trailing_byte(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    static buf b, r;
    post_min_body(&b);
    craft(&r, KZ_T_POST, &b, &k);
    assert_int_equal(decode_buf(&r), 0);
    put1(&r, 0x00);
    expect_rc(decode_buf(&r), KZ_EDECODE);
    assert_non_null(strstr(kz_record_last_error(), "trailing"));
}

static void test_canonical_empty_optional(void **s)
{
    (void)s;
    static buf b;
    /* profile {1: "n", 2: ""} */
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put_fixstr(&b, "n");
    put1(&b, 0x02);
    put_fixstr(&b, "");
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_ENONCANON);
    /* profile {1: "n", 11: []} */
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put_fixstr(&b, "n");
    put1(&b, 0x0b);
    put1(&b, 0x90);
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_ENONCANON);
    /* profile {1: "n", 6: 0} (zero year) */
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put_fixstr(&b, "n");
    put1(&b, 0x06);
    put1(&b, 0x00);
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_ENONCANON);
    /* post {1: "r", 2: 0 (text kind, omitted when text), 3: "hi"} */
    b.n = 0;
    put1(&b, 0x83);
    put1(&b, 0x01);
    put_fixstr(&b, "r");
    put1(&b, 0x02);
    put1(&b, 0x00);
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    expect_rc(try_body(KZ_T_POST, &b), KZ_ENONCANON);
    /* a required string present but empty is invalid, not just non-canonical */
    b.n = 0;
    put1(&b, 0x81);
    put1(&b, 0x01);
    put_fixstr(&b, "");
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_EINVAL);
}

static void test_canonical_bool_false(void **s)
{
    (void)s;
    static buf b;
    post_min_body(&b);
    b.b[0] = 0x83;
    put1(&b, 0x07);
    put1(&b, 0xc2); /* closed: false */
    expect_rc(try_body(KZ_T_POST, &b), KZ_ENONCANON);
    b.b[b.n - 1] = 0xc3; /* closed: true is fine */
    expect_rc(try_body(KZ_T_POST, &b), 0);
}

static void test_canonical_always_encoded(void **s)
{
    (void)s;
    static buf b;
    /* rsvp {1: event} without the always-encoded status */
    b.n = 0;
    put1(&b, 0x81);
    put1(&b, 0x01);
    put_bin32(&b, 0xa3);
    expect_rc(try_body(KZ_T_RSVP, &b), KZ_ENONCANON);
    put1(&b, 0x02);
    put1(&b, 0x00);
    b.b[0] = 0x82;
    expect_rc(try_body(KZ_T_RSVP, &b), 0);
}

static void test_decode_wrong_types(void **s)
{
    (void)s;
    static buf b;
    /* room as bin */
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put1(&b, 0xc4);
    put1(&b, 1);
    put1(&b, 'r');
    put1(&b, 0x03);
    put_fixstr(&b, "hi");
    expect_rc(try_body(KZ_T_POST, &b), KZ_EDECODE);
    assert_non_null(strstr(kz_record_last_error(), "post.room"));
    /* a nil, a float, a negative int, an int8, an ext: not our types */
    static const struct {
        size_t n;
        uint8_t b[5];
    } bad[] = { { 1, { 0xc0 } },
                { 5, { 0xca, 0x3f, 0x80, 0, 0 } },
                { 1, { 0xff } },
                { 2, { 0xd0, 0x01 } },
                { 3, { 0xd4, 0x01, 0x00 } },
                { 1, { 0xc1 } } };
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        post_min_body(&b);
        b.b[0] = 0x83;
        put1(&b, 0x07);
        put(&b, bad[i].b, bad[i].n);
        expect_rc(try_body(KZ_T_POST, &b), KZ_EDECODE);
        assert_non_null(strstr(kz_record_last_error(), "type not used"));
    }
    /* a key that should be a bin 32 given 31 bytes */
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put1(&b, 0xc4);
    put1(&b, 31);
    uint8_t id[31] = { 1 };
    put(&b, id, 31);
    put1(&b, 0x02);
    put1(&b, 0x00);
    expect_rc(try_body(KZ_T_RSVP, &b), KZ_EDECODE);
    assert_non_null(strstr(kz_record_last_error(), "rsvp.event"));
}

static void test_decode_too_deep(void **s)
{
    (void)s;
    static buf b;
    /* profile {1: "n", 11: [["x"]]}: a list inside a list */
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put_fixstr(&b, "n");
    put1(&b, 0x0b);
    put1(&b, 0x91);
    put1(&b, 0x91);
    put_fixstr(&b, "x");
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_EDECODE);
    assert_non_null(strstr(kz_record_last_error(), "deep"));
}

static void test_decode_wrong_version(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    static buf b, r;
    post_min_body(&b);
    craft(&r, KZ_T_POST, &b, &k);
    r.b[1] = 0x02;
    resign(&r, &k);
    expect_rc(decode_buf(&r), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "version"));
    r.b[1] = 0x00;
    resign(&r, &k);
    expect_rc(decode_buf(&r), KZ_EINVAL);
}

static void test_decode_wrong_type(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    static buf b, r;
    post_min_body(&b);
    const uint8_t bad[] = { 0x00, 0x0c, 0x7f };
    for (size_t i = 0; i < sizeof bad; i++) {
        craft(&r, KZ_T_POST, &b, &k);
        r.b[2] = bad[i];
        resign(&r, &k);
        expect_rc(decode_buf(&r), KZ_EINVAL);
        assert_non_null(strstr(kz_record_last_error(), "type"));
    }
    /* a post body under the reply type does not fit */
    craft(&r, KZ_T_REPLY, &b, &k);
    assert_int_not_equal(decode_buf(&r), 0);
}

static void test_decode_not_a_record(void **s)
{
    (void)s;
    kz_record d;
    const uint8_t five[] = { 0x95, 0x01, 0x05, 0x00, 0x80, 0x00 };
    expect_rc(kz_record_decode(&d, five, 1, 0, 0), KZ_EDECODE);
    expect_rc(kz_record_decode(&d, five, 0, 0, 0), KZ_EDECODE);
    expect_rc(kz_record_decode(&d, NULL, 0, 0, 0), KZ_EDECODE);
    const uint8_t map[] = { 0x80 };
    expect_rc(kz_record_decode(&d, map, sizeof map, 0, 0), KZ_EDECODE);
    const uint8_t arr7[] = { 0x97, 1, 1, 1, 1, 1, 1, 1 };
    expect_rc(kz_record_decode(&d, arr7, sizeof arr7, 0, 0), KZ_EDECODE);
    assert_null(d.raw);
}

/* ---- limits ------------------------------------------------------------- */

static char *repeat(char c, size_t n)
{
    char *s = kz_xmalloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Expect sign to fail with KZ_EINVAL and a message naming `field`. */
static void expect_sign_einval(kz_record *r, const keys *k, const char *field)
{
    int rc = kz_record_sign(r, k->sk);
    if (rc != KZ_EINVAL)
        fail_msg("%s: sign gave %d (%s), want EINVAL", field, rc, kz_strerror(rc));
    if (!strstr(kz_record_last_error(), field))
        fail_msg("message '%s' does not name %s", kz_record_last_error(), field);
    assert_null(r->raw);
}

static void test_limits_lengths(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    char *l129 = repeat('a', 129), *l128 = repeat('a', 128), *l256 = repeat('a', 256),
         *l2001 = repeat('b', 2001), *l8001 = repeat('c', 8001), *l513 = repeat('u', 513),
         *l65 = repeat('s', 65);

    fill(&r, KZ_T_NODE, MIN, &k, T0);
    r.body.node.name = S(l129);
    expect_sign_einval(&r, &k, "node.name");
    fill(&r, KZ_T_NODE, MIN, &k, T0);
    r.body.node.name = S(l128);
    assert_int_equal(kz_record_sign(&r, k.sk), 0); /* exactly at the limit is fine */
    kz_record_close(&r);
    fill(&r, KZ_T_NODE, FULL, &k, T0);
    r.body.node.addrs[1] = S(l256);
    expect_sign_einval(&r, &k, "node.addrs[1]");

    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.title = S(l129);
    expect_sign_einval(&r, &k, "profile.title");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.bio = S(l2001);
    expect_sign_einval(&r, &k, "profile.bio");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.skills[2] = S(l65);
    expect_sign_einval(&r, &k, "profile.skills[2]");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.links[0] = S(l513);
    expect_sign_einval(&r, &k, "profile.links[0]");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.skills[1] = S("");
    expect_sign_einval(&r, &k, "profile.skills[1]");

    fill(&r, KZ_T_POST, MIN, &k, T0);
    r.body.post.text = S(l8001);
    expect_sign_einval(&r, &k, "post.text");
    fill(&r, KZ_T_POST, POLL, &k, T0);
    r.body.post.options[1] = S(l129);
    expect_sign_einval(&r, &k, "post.options[1]");
    fill(&r, KZ_T_EVENT, FULL, &k, T0);
    r.body.event.description = S(l8001);
    expect_sign_einval(&r, &k, "event.description");
    fill(&r, KZ_T_EVENT, FULL, &k, T0);
    r.body.event.link = S(l513);
    expect_sign_einval(&r, &k, "event.link");
    fill(&r, KZ_T_DELETE, FULL, &k, T0);
    r.body.del.reason = S(l2001);
    expect_sign_einval(&r, &k, "delete.reason");

    uint8_t *big = kz_xcalloc(1, KZ_SEALED_MAX + 1);
    fill(&r, KZ_T_CONTACT, FULL, &k, T0);
    r.body.contact.sealed = (kz_bytes){ big, KZ_SEALED_MAX + 1 };
    expect_sign_einval(&r, &k, "contact.sealed");
    fill(&r, KZ_T_CONTACT, FULL, &k, T0);
    r.body.contact.sealed = (kz_bytes){ big, KZ_SEALED_MAX };
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    kz_record_close(&r);
    fill(&r, KZ_T_CONTACT, FULL, &k, T0);
    r.body.contact.sealed = (kz_bytes){ big, 0 };
    expect_sign_einval(&r, &k, "contact.sealed");
    fill(&r, KZ_T_CONTACT, FULL, &k, T0);
    r.body.contact.sealed = (kz_bytes){ big, 47 };
    expect_sign_einval(&r, &k, "contact.sealed");
    free(big);

    free(l129);
    free(l128);
    free(l256);
    free(l2001);
    free(l8001);
    free(l513);
    free(l65);
}

static void test_limits_counts(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    for (int i = 0; i < KZ_SKILLS_MAX; i++)
        r.body.profile.skills[i] = S("x");
    r.body.profile.n_skills = KZ_SKILLS_MAX;
    assert_int_equal(kz_record_sign(&r, k.sk), 0); /* 32 skills: array16 */
    kz_record_close(&r);
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.n_skills = KZ_SKILLS_MAX + 1;
    expect_sign_einval(&r, &k, "profile.skills");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.n_links = KZ_LINKS_MAX + 1;
    expect_sign_einval(&r, &k, "profile.links");
    fill(&r, KZ_T_NODE, FULL, &k, T0);
    r.body.node.n_addrs = KZ_NODE_ADDRS_MAX + 1;
    expect_sign_einval(&r, &k, "node.addrs");
    fill(&r, KZ_T_POST, POLL, &k, T0);
    r.body.post.n_options = KZ_POLL_OPTIONS_MAX + 1;
    expect_sign_einval(&r, &k, "post.options");
}

/* Too many skills on the wire: rejected before the fixed array overflows. */
static void test_limits_counts_decode(void **s)
{
    (void)s;
    static buf b;
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put_fixstr(&b, "n");
    put1(&b, 0x0b);
    put1(&b, 0xdc);
    put1(&b, 0x00);
    size_t count_at = b.n;
    put1(&b, KZ_SKILLS_MAX + 1);
    for (int i = 0; i < KZ_SKILLS_MAX + 1; i++)
        put_fixstr(&b, "x");
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "profile.skills"));
    b.b[count_at] = KZ_SKILLS_MAX; /* drop the last item: 32 is allowed */
    b.n -= 2;
    expect_rc(try_body(KZ_T_PROFILE, &b), 0);
}

static void test_limits_utf8(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.n_skills = 4;
    r.body.profile.skills[3] = S("bad\xc3(");
    expect_sign_einval(&r, &k, "profile.skills[3]: invalid UTF-8");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.name = S("over\xc0\xaflong");
    expect_sign_einval(&r, &k, "profile.name");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.name = S("surrogate\xed\xa0\x80");
    expect_sign_einval(&r, &k, "profile.name");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.name = (kz_str){ "nul\0x", 5 };
    expect_sign_einval(&r, &k, "profile.name");

    /* Invalid UTF-8 on the wire is caught the same way on decode. */
    static buf b;
    b.n = 0;
    put1(&b, 0x81);
    put1(&b, 0x01);
    put_str(&b, "a\xff", 2);
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "profile.name: invalid UTF-8"));
}

static void test_limits_controls(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    const char *bad[] = { "a\nb", "a\tb", "a\rb", "a\x01" "b", "a\x7f" "b", "a\xc2\x85" "b" };
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        fill(&r, KZ_T_PROFILE, FULL, &k, T0);
        r.body.profile.name = S(bad[i]);
        expect_sign_einval(&r, &k, "profile.name");
        fill(&r, KZ_T_POST, MIN, &k, T0);
        r.body.post.room = S(bad[i]);
        expect_sign_einval(&r, &k, "post.room");
    }
    /* Newlines and tabs are fine in text fields, other controls are not. */
    const char *text_ok[] = { "a\nb", "a\tb", "a\r\nb" };
    for (size_t i = 0; i < KZ_ARRAY_LEN(text_ok); i++) {
        fill(&r, KZ_T_POST, MIN, &k, T0);
        r.body.post.text = S(text_ok[i]);
        assert_int_equal(kz_record_sign(&r, k.sk), 0);
        kz_record_close(&r);
        fill(&r, KZ_T_PROFILE, FULL, &k, T0);
        r.body.profile.bio = S(text_ok[i]);
        assert_int_equal(kz_record_sign(&r, k.sk), 0);
        kz_record_close(&r);
    }
    fill(&r, KZ_T_POST, MIN, &k, T0);
    r.body.post.text = S("a\x01" "b");
    expect_sign_einval(&r, &k, "post.text");
}

static void test_limits_years(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.joined = KZ_YEAR_MIN - 1;
    r.body.profile.left = 0;
    expect_sign_einval(&r, &k, "profile.joined");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.left = KZ_YEAR_MAX + 1;
    expect_sign_einval(&r, &k, "profile.left");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.joined = 2010;
    r.body.profile.left = 2009;
    expect_sign_einval(&r, &k, "profile.left");
    fill(&r, KZ_T_ATTEST, FULL, &k, T0);
    r.body.attest.joined = 2010;
    r.body.attest.left = 2009;
    expect_sign_einval(&r, &k, "attest.left");
    /* Same year and one-sided years are fine. */
    fill(&r, KZ_T_ATTEST, FULL, &k, T0);
    r.body.attest.joined = 2010;
    r.body.attest.left = 2010;
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    kz_record_close(&r);
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.joined = 0;
    r.body.profile.left = KZ_YEAR_MIN;
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    kz_record_close(&r);

    /* A year too large for uint16 on the wire is out of range, not truncated. */
    static buf b;
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put_fixstr(&b, "n");
    put1(&b, 0x06);
    const uint8_t y[] = { 0xce, 0x00, 0x01, 0x07, 0xd0 }; /* 65536 + 2000 */
    put(&b, y, sizeof y);
    expect_rc(try_body(KZ_T_PROFILE, &b), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "profile.joined"));
}

static void test_limits_enums(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    fill(&r, KZ_T_ATTEST, FULL, &k, T0);
    r.body.attest.role = 3;
    expect_sign_einval(&r, &k, "attest.role");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.visibility = 3;
    expect_sign_einval(&r, &k, "profile.visibility");
    fill(&r, KZ_T_PROFILE, FULL, &k, T0);
    r.body.profile.open_to = 0x8; /* re-hire interest never leaves the home node */
    expect_sign_einval(&r, &k, "profile.open_to");
    fill(&r, KZ_T_POST, MIN, &k, T0);
    r.body.post.kind = KZ_POST_KIND_MAX + 1;
    expect_sign_einval(&r, &k, "post.kind");
    fill(&r, KZ_T_REACTION, FULL, &k, T0);
    r.body.reaction.kind = KZ_REACTION_KINDS;
    expect_sign_einval(&r, &k, "reaction.kind");
    fill(&r, KZ_T_RSVP, FULL, &k, T0);
    r.body.rsvp.status = 3;
    expect_sign_einval(&r, &k, "rsvp.status");
}

static void test_limits_rules(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    fill(&r, KZ_T_POST, FULL, &k, T0);
    r.body.post.kind = KZ_POST_REQUEST;
    expect_sign_einval(&r, &k, "post.nominate");
    fill(&r, KZ_T_POST, POLL, &k, T0);
    r.body.post.n_options = 1;
    expect_sign_einval(&r, &k, "post.options");
    fill(&r, KZ_T_POST, POLL, &k, T0);
    r.body.post.n_options = 0;
    expect_sign_einval(&r, &k, "post.options");
    fill(&r, KZ_T_POST, POLL, &k, T0);
    r.body.post.kind = KZ_POST_TEXT;
    expect_sign_einval(&r, &k, "post.options");
    fill(&r, KZ_T_EVENT, FULL, &k, T0);
    r.body.event.end_ms = r.body.event.start_ms - 1;
    expect_sign_einval(&r, &k, "event.end_ms");
    fill(&r, KZ_T_EVENT, FULL, &k, T0);
    r.body.event.start_ms = 0;
    r.body.event.end_ms = 0;
    expect_sign_einval(&r, &k, "event.start_ms");
    fill(&r, KZ_T_EVENT, MIN, &k, T0);
    r.body.event.title = S("");
    expect_sign_einval(&r, &k, "event.title");
    fill(&r, KZ_T_DELETE, FULL, &k, T0);
    memset(r.body.del.target, 0, KZ_ID_BYTES);
    expect_sign_einval(&r, &k, "delete.target");
    fill(&r, KZ_T_NODE, MIN, &k, T0);
    r.body.node.name = S("");
    expect_sign_einval(&r, &k, "node.name");
    fill(&r, KZ_T_REPLY, MIN, &k, T0);
    r.body.reply.text = S("");
    expect_sign_einval(&r, &k, "reply.text");
}

static void test_limits_envelope(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    fill(&r, KZ_T_NODE, MIN, &k, KZ_TIME_MIN_MS - 1);
    expect_sign_einval(&r, &k, "created_ms");
    fill(&r, KZ_T_NODE, MIN, &k, KZ_TIME_MIN_MS);
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    kz_record_close(&r);
    fill(&r, KZ_T_NODE, MIN, &k, T0);
    r.version = 2;
    expect_sign_einval(&r, &k, "version");
    fill(&r, KZ_T_NODE, MIN, &k, T0);
    r.type = KZ_T_MAX + 1;
    expect_sign_einval(&r, &k, "type");
}

/* ---- signatures, clock, size ------------------------------------------- */

static void signed_copy(int type, int variant, uint64_t created, buf *out)
{
    keys k = kp(0x01);
    kz_record r;
    fill(&r, type, variant, &k, created);
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    out->n = 0;
    put(out, r.raw, r.raw_len);
    kz_record_close(&r);
}

static void test_sig_tampered(void **s)
{
    (void)s;
    init_sodium();
    static buf r;
    signed_copy(KZ_T_POST, MIN, T0, &r);
    assert_int_equal(decode_buf(&r), 0);
    r.b[r.n - 1] ^= 0x01; /* signature byte */
    expect_rc(decode_buf(&r), KZ_EBADSIG);
    r.b[r.n - 1] ^= 0x01;
    r.b[r.n - 40] ^= 0x80;
    expect_rc(decode_buf(&r), KZ_EBADSIG);
    r.b[r.n - 40] ^= 0x80;
    assert_int_equal(decode_buf(&r), 0);

    /* A body byte that keeps the encoding canonical: the '!' of the text. */
    size_t at;
    for (at = 0; at < r.n && r.b[at] != '!'; at++)
        ;
    assert_true(at < r.n);
    r.b[at] = '?';
    expect_rc(decode_buf(&r), KZ_EBADSIG);
    r.b[at] = '!';
    /* The author key. */
    r.b[6] ^= 0x01;
    expect_rc(decode_buf(&r), KZ_EBADSIG);
    r.b[6] ^= 0x01;
    /* created_ms, still canonical */
    r.b[3 + 2 + 32 + 8] ^= 0x01;
    expect_rc(decode_buf(&r), KZ_EBADSIG);
    r.b[3 + 2 + 32 + 8] ^= 0x01;
    assert_int_equal(decode_buf(&r), 0);

    /* NOVERIFY decodes a bad signature; verify then says so. */
    r.b[r.n - 1] ^= 0x01;
    kz_record d;
    assert_int_equal(kz_record_decode(&d, r.b, r.n, T0, KZ_DECODE_NOVERIFY), 0);
    expect_rc(kz_record_verify(&d), KZ_EBADSIG);
    kz_record_close(&d);
}

/* The signature really covers the domain prefix and the five-element array. */
static void test_sig_input(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    static buf r;
    signed_copy(KZ_T_REACTION, FULL, T0, &r);
    size_t mlen = KZ_RECORD_SIG_DOMAIN_LEN + r.n - 66;
    uint8_t *m = kz_xmalloc(mlen);
    memcpy(m, "kizuna/record/v1", 16);
    m[16] = 0;
    memcpy(m + 17, r.b, r.n - 66);
    assert_int_equal(m[17], 0x96);
    m[17] = 0x95;
    assert_int_equal(crypto_sign_verify_detached(r.b + r.n - 64, m, mlen, k.pk), 0);
    m[16] = 'x';
    assert_int_not_equal(crypto_sign_verify_detached(r.b + r.n - 64, m, mlen, k.pk), 0);
    free(m);
    /* id = BLAKE2b-256 of the whole record */
    uint8_t id[32], id2[32];
    crypto_generichash(id, 32, r.b, r.n, NULL, 0);
    kz_record_id(id2, r.b, r.n);
    assert_memory_equal(id, id2, 32);
}

static void test_future_dated(void **s)
{
    (void)s;
    init_sodium();
    static buf r;
    uint64_t now = T0;
    kz_record d;
    signed_copy(KZ_T_NODE, MIN, now + KZ_FUTURE_MAX_MS, &r);
    assert_int_equal(kz_record_decode(&d, r.b, r.n, now, 0), 0);
    kz_record_close(&d);
    signed_copy(KZ_T_NODE, MIN, now + KZ_FUTURE_MAX_MS + 1, &r);
    expect_rc(kz_record_decode(&d, r.b, r.n, now, 0), KZ_EFUTURE);
    assert_null(d.raw);
    assert_int_equal(kz_record_decode(&d, r.b, r.n, 0, 0), 0); /* no clock: no check */
    kz_record_close(&d);
    assert_int_equal(kz_record_decode(&d, r.b, r.n, now + 1, 0), 0);
    kz_record_close(&d);
    /* a huge now does not overflow into a false positive */
    assert_int_equal(kz_record_decode(&d, r.b, r.n, UINT64_MAX, 0), 0);
    kz_record_close(&d);
}

static void test_oversize(void **s)
{
    (void)s;
    uint8_t *big = kz_xcalloc(1, KZ_RECORD_MAX + 1);
    kz_record d;
    expect_rc(kz_record_decode(&d, big, KZ_RECORD_MAX + 1, T0, 0), KZ_ETOOBIG);
    expect_rc(kz_record_decode(&d, big, SIZE_MAX, T0, 0), KZ_ETOOBIG);
    free(big);
    /* A record just at the limit built by hand: a contact whose body was
     * padded with a huge bin is over the sealed limit, but decodes far
     * enough to say so instead of failing on size. */
    static buf b;
    b.n = 0;
    put1(&b, 0x82);
    put1(&b, 0x01);
    put_bin32(&b, 0x03);
    put1(&b, 0x02);
    size_t room = KZ_RECORD_MAX - 46 - 66 - b.n - 3; /* 46: envelope head */
    put1(&b, 0xc5);
    put1(&b, (uint8_t)(room >> 8));
    put1(&b, (uint8_t)room);
    uint8_t *pad = kz_xcalloc(1, room);
    put(&b, pad, room);
    free(pad);
    init_sodium();
    keys k = kp(0x01);
    static buf r;
    craft(&r, KZ_T_CONTACT, &b, &k);
    assert_int_equal(r.n, KZ_RECORD_MAX);
    expect_rc(decode_buf(&r), KZ_EINVAL);
    put1(&r, 0);
    expect_rc(decode_buf(&r), KZ_ETOOBIG);
}

/* ~155-byte inputs that declare enormous containers or strings. */
static size_t hostile(uint8_t *out, int which)
{
    keys k = kp(0x01);
    size_t n = 0;
    out[n++] = 0x96;
    out[n++] = 0x01;
    out[n++] = KZ_T_PROFILE;
    out[n++] = 0xc4;
    out[n++] = 32;
    memcpy(out + n, k.pk, 32);
    n += 32;
    out[n++] = 0xcf;
    for (int i = 7; i >= 0; i--)
        out[n++] = (uint8_t)(T0 >> (8 * i));
    switch (which) {
    case 0: out[n++] = 0xdf; break; /* map32 */
    case 1: out[n++] = 0x81; out[n++] = 0x01; out[n++] = 0xdb; break; /* str32 */
    case 2: out[n++] = 0x81; out[n++] = 0x0b; out[n++] = 0xdd; break; /* array32 */
    case 3: out[n++] = 0x81; out[n++] = 0x01; out[n++] = 0xc6; break; /* bin32 */
    default: out[n++] = 0xdd; break; /* array32 in place of the body */
    }
    for (int i = 0; i < 4; i++)
        out[n++] = 0xff;
    while (n < 155)
        out[n++] = 0xa1;
    return n;
}

static void test_huge_declared_counts(void **s)
{
    (void)s;
    init_sodium();
    uint8_t in[160];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int which = 0; which < 5; which++) {
        size_t n = hostile(in, which);
        kz_record d;
        expect_rc(kz_record_decode(&d, in, n, T0, 0), KZ_EDECODE);
        assert_non_null(strstr(kz_record_last_error(), "exceeds the input"));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 100.0);

#ifndef KZ_ASAN
    /* In a child with address space capped at ~64 MiB above what it uses,
     * a decoder that reserved what the input declares would die. (Not under
     * ASan, which needs a huge address space of its own.) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1)
            _exit(3);
        fclose(f);
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (64u << 20);
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(4);
        for (int which = 0; which < 5; which++) {
            size_t n = hostile(in, which);
            kz_record d;
            if (kz_record_decode(&d, in, n, T0, 0) != KZ_EDECODE)
                _exit(5);
        }
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

static void test_truncation_every_prefix(void **s)
{
    (void)s;
    init_sodium();
    static buf r, t;
    for (int type = 1; type <= KZ_T_MAX; type++) {
        signed_copy(type, FULL, T0, &r);
        for (size_t n = 0; n < r.n; n++) {
            t.n = 0;
            put(&t, r.b, n);
            int rc = decode_buf(&t);
            if (rc == 0)
                fail_msg("%s: prefix of %zu/%zu bytes decoded", kz_rtype_name(type), n, r.n);
        }
        t.n = 0;
        put(&t, r.b, r.n);
        assert_int_equal(decode_buf(&t), 0);
    }
}

/* Flipping any single bit of a valid record never crashes and never yields
 * a different record that still verifies. */
static void test_bitflip_every_byte(void **s)
{
    (void)s;
    init_sodium();
    static buf r;
    signed_copy(KZ_T_PROFILE, FULL, T0, &r);
    for (size_t i = 0; i < r.n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            r.b[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(decode_buf(&r), 0);
            r.b[i] ^= (uint8_t)(1u << bit);
        }
    }
}

/* ---- slots, ordering, names -------------------------------------------- */

static void test_slot_replaceable(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01), member = kp(0x03);
    kz_record r;
    uint8_t slot[KZ_SLOT_BYTES], slot2[KZ_SLOT_BYTES], zero[KZ_ID_BYTES] = { 0 };

    fill(&r, KZ_T_PROFILE, MIN, &k, T0);
    assert_true(kz_record_slot(&r, slot));
    assert_int_equal(slot[0], 'P');
    assert_memory_equal(slot + 1, k.pk, 32);
    assert_memory_equal(slot + 33, zero, 32);

    fill(&r, KZ_T_NODE, MIN, &k, T0);
    assert_true(kz_record_slot(&r, slot));
    assert_int_equal(slot[0], 'N');
    assert_memory_equal(slot + 33, zero, 32);

    fill(&r, KZ_T_ATTEST, FULL, &k, T0);
    assert_true(kz_record_slot(&r, slot));
    fill(&r, KZ_T_REVOKE, FULL, &k, T0 + 5);
    assert_true(kz_record_slot(&r, slot2));
    assert_memory_equal(slot, slot2, KZ_SLOT_BYTES); /* revoke replaces attest */
    assert_int_equal(slot[0], 'M');
    assert_memory_equal(slot + 33, member.pk, 32);

    fill(&r, KZ_T_RSVP, FULL, &k, T0);
    assert_true(kz_record_slot(&r, slot));
    assert_int_equal(slot[0], 'R');
    assert_memory_equal(slot + 33, r.body.rsvp.event, 32);

    fill(&r, KZ_T_REACTION, FULL, &k, T0);
    assert_true(kz_record_slot(&r, slot));
    assert_int_equal(slot[0], 'X');
    assert_memory_equal(slot + 1, k.pk, 32);
    assert_memory_equal(slot + 33, r.body.reaction.target, 32);

    /* different authors never share a slot */
    keys k2 = kp(0x02);
    fill(&r, KZ_T_REACTION, FULL, &k2, T0);
    assert_true(kz_record_slot(&r, slot2));
    assert_memory_not_equal(slot, slot2, KZ_SLOT_BYTES);
}

static void test_slot_not_replaceable(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    kz_record r;
    uint8_t slot[KZ_SLOT_BYTES];
    const int types[] = { KZ_T_POST, KZ_T_REPLY, KZ_T_EVENT, KZ_T_DELETE, KZ_T_CONTACT };
    for (size_t i = 0; i < KZ_ARRAY_LEN(types); i++) {
        fill(&r, types[i], FULL, &k, T0);
        assert_false(kz_record_slot(&r, slot));
    }
}

static void test_newer_ordering(void **s)
{
    (void)s;
    uint8_t lo[32], hi[32];
    memset(lo, 0x10, 32);
    memset(hi, 0x10, 32);
    hi[31] = 0x11;
    assert_true(kz_record_newer(T0 + 1, lo, T0, hi));
    assert_false(kz_record_newer(T0, hi, T0 + 1, lo));
    assert_true(kz_record_newer(T0, hi, T0, lo));
    assert_false(kz_record_newer(T0, lo, T0, hi));
    assert_false(kz_record_newer(T0, lo, T0, lo));
    uint8_t first[32] = { 0xff }, second[32] = { 0x00, 0xff };
    assert_true(kz_record_newer(T0, first, T0, second)); /* first byte decides */
}

static void test_rtype_names(void **s)
{
    (void)s;
    const char *want[] = { NULL,    "node",  "attest", "revoke", "profile", "post",
                           "reply", "reaction", "event", "rsvp", "delete", "contact" };
    for (int t = 1; t <= KZ_T_MAX; t++) {
        assert_string_equal(kz_rtype_name(t), want[t]);
        assert_int_equal(kz_rtype_parse(want[t]), t);
    }
    assert_null(kz_rtype_name(0));
    assert_null(kz_rtype_name(KZ_T_MAX + 1));
    assert_null(kz_rtype_name(-1));
    assert_int_equal(kz_rtype_parse("bogus"), 0);
    assert_int_equal(kz_rtype_parse(""), 0);
    assert_int_equal(kz_rtype_parse("Node"), 0);
    assert_int_equal(kz_rtype_parse("nodes"), 0);
    assert_int_equal(kz_rtype_parse(NULL), 0);
}

static void test_rtype_is_member(void **s)
{
    (void)s;
    const int yes[] = { KZ_T_PROFILE, KZ_T_POST,  KZ_T_REPLY,  KZ_T_REACTION,
                        KZ_T_EVENT,   KZ_T_RSVP, KZ_T_CONTACT };
    const int no[] = { KZ_T_NODE, KZ_T_ATTEST, KZ_T_REVOKE, KZ_T_DELETE, 0, 99 };
    for (size_t i = 0; i < KZ_ARRAY_LEN(yes); i++)
        assert_true(kz_rtype_is_member(yes[i]));
    for (size_t i = 0; i < KZ_ARRAY_LEN(no); i++)
        assert_false(kz_rtype_is_member(no[i]));
}

static void test_last_error_thread_local(void **s)
{
    (void)s;
    kz_record d;
    const uint8_t junk[] = { 0xc0 };
    expect_rc(kz_record_decode(&d, junk, 1, 0, 0), KZ_EDECODE);
    assert_non_null(strstr(kz_record_last_error(), "record"));
    assert_non_null(kz_record_last_error());
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip_node),
    cmocka_unit_test(test_roundtrip_attest),
    cmocka_unit_test(test_roundtrip_revoke),
    cmocka_unit_test(test_roundtrip_profile),
    cmocka_unit_test(test_roundtrip_post),
    cmocka_unit_test(test_roundtrip_reply),
    cmocka_unit_test(test_roundtrip_reaction),
    cmocka_unit_test(test_roundtrip_event),
    cmocka_unit_test(test_roundtrip_rsvp),
    cmocka_unit_test(test_roundtrip_delete),
    cmocka_unit_test(test_roundtrip_contact),
    cmocka_unit_test(test_sign_repoints_strings),
    cmocka_unit_test(test_sign_wrong_key),
    cmocka_unit_test(test_close_zeroed),
    cmocka_unit_test(test_canonical_crafted_ok),
    cmocka_unit_test(test_canonical_nonminimal_uint),
    cmocka_unit_test(test_canonical_nonminimal_envelope),
    cmocka_unit_test(test_canonical_str8_short),
    cmocka_unit_test(test_canonical_map16_body),
    cmocka_unit_test(test_canonical_keys_out_of_order),
    cmocka_unit_test(test_canonical_duplicate_key),
    cmocka_unit_test(test_canonical_unknown_key),
    cmocka_unit_test(test_canonical_trailing_byte),
    cmocka_unit_test(test_canonical_empty_optional),
    cmocka_unit_test(test_canonical_bool_false),
    cmocka_unit_test(test_canonical_always_encoded),
    cmocka_unit_test(test_decode_wrong_types),
    cmocka_unit_test(test_decode_too_deep),
    cmocka_unit_test(test_decode_wrong_version),
    cmocka_unit_test(test_decode_wrong_type),
    cmocka_unit_test(test_decode_not_a_record),
    cmocka_unit_test(test_limits_lengths),
    cmocka_unit_test(test_limits_counts),
    cmocka_unit_test(test_limits_counts_decode),
    cmocka_unit_test(test_limits_utf8),
    cmocka_unit_test(test_limits_controls),
    cmocka_unit_test(test_limits_years),
    cmocka_unit_test(test_limits_enums),
    cmocka_unit_test(test_limits_rules),
    cmocka_unit_test(test_limits_envelope),
    cmocka_unit_test(test_sig_tampered),
    cmocka_unit_test(test_sig_input),
    cmocka_unit_test(test_future_dated),
    cmocka_unit_test(test_oversize),
    cmocka_unit_test(test_huge_declared_counts),
    cmocka_unit_test(test_truncation_every_prefix),
    cmocka_unit_test(test_bitflip_every_byte),
    cmocka_unit_test(test_slot_replaceable),
    cmocka_unit_test(test_slot_not_replaceable),
    cmocka_unit_test(test_newer_ordering),
    cmocka_unit_test(test_rtype_names),
    cmocka_unit_test(test_rtype_is_member),
    cmocka_unit_test(test_last_error_thread_local),
};

KZ_TEST_MAIN(tests)
