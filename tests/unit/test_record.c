/* kz-test-link: kz_protocol */
/* test_record.c: records: round trips of every type, signing, field limits,
 * signatures, clock, size, threads, slots and type names. Strict decoding is
 * in test_record_canonical.c, golden vectors in test_record_vectors.c. */
#include "kz_test.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kz_record.h"

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
                           "reply", "reaction", "event", "rsvp", "delete", "contact",
                           "vote", "report", "room" };
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

typedef struct {
    const uint8_t *rec;
    size_t len;
    int ok;
    char err[192];
} worker;

/* Decode the same valid record many times and one bad input last, then keep
 * this thread's reason. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    w->ok = 1;
    for (int i = 0; i < 200; i++) {
        kz_record d;
        if (kz_record_decode(&d, w->rec, w->len, T0, 0) != 0)
            w->ok = 0;
        kz_record_close(&d);
    }
    const uint8_t junk[] = { 0x91, 0xc0 };
    if (kz_record_decode(&(kz_record){ 0 }, junk, sizeof junk, 0, 0) != KZ_EDECODE)
        w->ok = 0;
    snprintf(w->err, sizeof w->err, "%s", kz_record_last_error());
    return NULL;
}

/* Decode and verify run on thread pools: concurrent use is safe and each
 * thread sees only its own last error. */
static void test_threads_decode(void **s)
{
    (void)s;
    init_sodium();
    static buf r;
    signed_copy(KZ_T_PROFILE, FULL, T0, &r);
    kz_record d;
    const uint8_t big[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    expect_rc(kz_record_decode(&d, big, sizeof big, 0, 0), KZ_EDECODE);
    char mine[192];
    snprintf(mine, sizeof mine, "%s", kz_record_last_error());
    assert_non_null(strstr(mine, "array count exceeds the input"));

    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ .rec = r.b, .len = r.n };
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_true(w[i].ok);
        assert_non_null(strstr(w[i].err, "type not used"));
    }
    assert_string_equal(kz_record_last_error(), mine);
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
    cmocka_unit_test(test_slot_replaceable),
    cmocka_unit_test(test_slot_not_replaceable),
    cmocka_unit_test(test_newer_ordering),
    cmocka_unit_test(test_rtype_names),
    cmocka_unit_test(test_rtype_is_member),
    cmocka_unit_test(test_threads_decode),
};

KZ_TEST_MAIN(tests)
