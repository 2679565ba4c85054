/* kz-test-link: kz_protocol */
/* test_record_canonical.c: strict record decoding: every non-canonical form,
 * malformed msgpack, wrong types and keys, hostile declared lengths,
 * truncation and bit flips are rejected without crashing. */
#include "kz_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define KZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KZ_ASAN 1
#endif
#endif

#include "kz_record.h"
#include "record_fixtures.h"

static void test_crafted_ok(void **s)
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

static void test_nonminimal_uint(void **s)
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

static void test_nonminimal_envelope(void **s)
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

static void test_str8_short(void **s)
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

static void test_map16_body(void **s)
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

static void test_keys_out_of_order(void **s)
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

static void test_duplicate_key(void **s)
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

static void test_unknown_key(void **s)
{
    (void)s;
    static buf b;
    post_min_body(&b);
    b.b[0] = 0x83;
    put1(&b, 0x7f); /* past every post key (8 is the event link) */
    put_fixstr(&b, "x");
    expect_rc(try_body(KZ_T_POST, &b), KZ_EDECODE);
    assert_non_null(strstr(kz_record_last_error(), "unknown key 127"));
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

static void test_trailing_byte(void **s)
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

static void test_empty_optional(void **s)
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

static void test_bool_false(void **s)
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

static void test_always_encoded(void **s)
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

static void test_wrong_types(void **s)
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

static void test_too_deep(void **s)
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

static void test_wrong_version(void **s)
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

static void test_wrong_type(void **s)
{
    (void)s;
    init_sodium();
    keys k = kp(0x01);
    static buf b, r;
    post_min_body(&b);
    const uint8_t bad[] = { 0x00, KZ_T_MAX + 1, 0x7f };
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

static void test_not_a_record(void **s)
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

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crafted_ok),
    cmocka_unit_test(test_nonminimal_uint),
    cmocka_unit_test(test_nonminimal_envelope),
    cmocka_unit_test(test_str8_short),
    cmocka_unit_test(test_map16_body),
    cmocka_unit_test(test_keys_out_of_order),
    cmocka_unit_test(test_duplicate_key),
    cmocka_unit_test(test_unknown_key),
    cmocka_unit_test(test_trailing_byte),
    cmocka_unit_test(test_empty_optional),
    cmocka_unit_test(test_bool_false),
    cmocka_unit_test(test_always_encoded),
    cmocka_unit_test(test_wrong_types),
    cmocka_unit_test(test_too_deep),
    cmocka_unit_test(test_wrong_version),
    cmocka_unit_test(test_wrong_type),
    cmocka_unit_test(test_not_a_record),
    cmocka_unit_test(test_huge_declared_counts),
    cmocka_unit_test(test_truncation_every_prefix),
    cmocka_unit_test(test_bitflip_every_byte),
};

KZ_TEST_MAIN(tests)
