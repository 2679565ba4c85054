/* kz-test-link: kz_protocol */
/* test_handover.c: member key rotation in the record layer: the hand-over
 * signature, attest fields 6 (previous) and 7 (handover), their pairing and
 * verification rules, and the golden vector tests/vectors/rotation.txt
 * (KZ_WRITE_VECTORS=1 rewrites it and its fuzz seed). */
#include "kz_test.h"

#include "record_fixtures.h"

#define ROTATION_PATH KZ_SOURCE_DIR "/tests/vectors/rotation.txt"
#define RECORDS_PATH KZ_SOURCE_DIR "/tests/vectors/records.txt"
#define CORPUS_FILE KZ_SOURCE_DIR "/tests/fuzz/corpus/record/attest_rotate.bin"
#define T_ROT (T0 + 100000u)

/* Seeds: 0x02 the node, 0x03 the old member key (the fixtures' member),
 * 0x04 the new one. */
typedef struct {
    keys node, old, neu;
    uint8_t sig[KZ_SIG_BYTES];
} rot;

static rot rot_make(void)
{
    init_sodium();
    rot r;
    r.node = kp(0x02);
    r.old = kp(0x03);
    r.neu = kp(0x04);
    assert_int_equal(kz_handover_sign(r.sig, r.old.sk, r.neu.pk, r.node.pk), 0);
    return r;
}

/* The attest a node signs when a member moves from old to neu. */
static void rot_attest(kz_record *a, const rot *r, const uint8_t *sig, uint32_t sig_len)
{
    kz_record_init(a, KZ_T_ATTEST, r->node.pk, T_ROT);
    memcpy(a->body.attest.member, r->neu.pk, KZ_KEY_BYTES);
    a->body.attest.role = KZ_ROLE_ALUMNI;
    a->body.attest.joined = 2001;
    a->body.attest.left = 2015;
    a->body.attest.department = S("営業部");
    a->body.attest.has_previous = true;
    memcpy(a->body.attest.previous, r->old.pk, KZ_KEY_BYTES);
    a->body.attest.handover = (kz_bytes){ sig, sig_len };
}

static void test_sign_verify(void **s)
{
    (void)s;
    rot r = rot_make();
    assert_int_equal(kz_handover_verify(r.sig, r.old.pk, r.neu.pk, r.node.pk), 0);
    /* Each input is bound: another successor, another node, another signer. */
    assert_int_equal(kz_handover_verify(r.sig, r.old.pk, r.old.pk, r.node.pk), KZ_EBADSIG);
    assert_int_equal(kz_handover_verify(r.sig, r.old.pk, r.neu.pk, r.neu.pk), KZ_EBADSIG);
    assert_int_equal(kz_handover_verify(r.sig, r.neu.pk, r.neu.pk, r.node.pk), KZ_EBADSIG);
    uint8_t bad[KZ_SIG_BYTES];
    memcpy(bad, r.sig, sizeof bad);
    bad[10] ^= 0x01;
    assert_int_equal(kz_handover_verify(bad, r.old.pk, r.neu.pk, r.node.pk), KZ_EBADSIG);
    /* The domain separates it from a record signature over the same bytes. */
    uint8_t msg[64];
    memcpy(msg, r.neu.pk, 32);
    memcpy(msg + 32, r.node.pk, 32);
    uint8_t plain[KZ_SIG_BYTES];
    crypto_sign_detached(plain, NULL, msg, sizeof msg, r.old.sk);
    assert_int_equal(kz_handover_verify(plain, r.old.pk, r.neu.pk, r.node.pk), KZ_EBADSIG);
}

static void test_attest_roundtrip(void **s)
{
    (void)s;
    rot r = rot_make();
    kz_record a, d;
    rot_attest(&a, &r, r.sig, sizeof r.sig);
    expect_rc(kz_record_sign(&a, r.node.sk), 0);
    expect_rc(kz_record_decode(&d, a.raw, a.raw_len, T_ROT, 0), 0);
    assert_true(d.body.attest.has_previous);
    assert_memory_equal(d.body.attest.previous, r.old.pk, KZ_KEY_BYTES);
    assert_int_equal(d.body.attest.handover.n, KZ_SIG_BYTES);
    assert_memory_equal(d.body.attest.handover.p, r.sig, KZ_SIG_BYTES);
    assert_memory_equal(d.body.attest.member, r.neu.pk, KZ_KEY_BYTES);
    assert_int_equal(kz_record_verify(&d), 0);
    /* The map holds 7 keys; 6 and 7 are the last ones, bin 32 and bin 64. */
    const uint8_t *body = d.raw + 46;
    assert_int_equal(body[0], 0x87);
    assert_int_equal(d.raw[d.raw_len - 66 - 67], 0x07);
    assert_int_equal(d.raw[d.raw_len - 66 - 66], 0xc4);
    assert_int_equal(d.raw[d.raw_len - 66 - 65], 64);
    kz_record_close(&d);
    kz_record_close(&a);
}

/* A node must not be able to sign a hand-over the old key never gave. */
static void test_sign_refuses_bad_handover(void **s)
{
    (void)s;
    rot r = rot_make();
    uint8_t forged[KZ_SIG_BYTES];
    assert_int_equal(kz_handover_sign(forged, r.node.sk, r.neu.pk, r.node.pk), 0);
    kz_record a;
    rot_attest(&a, &r, forged, sizeof forged);
    expect_rc(kz_record_sign(&a, r.node.sk), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "attest.handover"));
    assert_null(a.raw);
    kz_record_close(&a);
}

static void test_missing_half(void **s)
{
    (void)s;
    rot r = rot_make();
    kz_record a;
    rot_attest(&a, &r, r.sig, sizeof r.sig);
    a.body.attest.handover = (kz_bytes){ NULL, 0 };
    expect_rc(kz_record_sign(&a, r.node.sk), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "attest.handover"));
    kz_record_close(&a);

    rot_attest(&a, &r, r.sig, sizeof r.sig);
    a.body.attest.has_previous = false;
    expect_rc(kz_record_sign(&a, r.node.sk), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "attest.previous"));
    kz_record_close(&a);

    rot_attest(&a, &r, r.sig, 63);
    expect_rc(kz_record_sign(&a, r.node.sk), KZ_EINVAL);
    kz_record_close(&a);

    rot_attest(&a, &r, r.sig, sizeof r.sig);
    memcpy(a.body.attest.previous, r.neu.pk, KZ_KEY_BYTES);
    expect_rc(kz_record_sign(&a, r.node.sk), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "equals the member"));
    kz_record_close(&a);
}

/* Hand-made attest bodies {1: member, 2: 0, [6: previous], [7: handover]}. */
static void attest_body(buf *b, const rot *r, bool prev, const uint8_t *sig, size_t sig_len)
{
    b->n = 0;
    put1(b, (uint8_t)(0x80 | (2 + (prev ? 1 : 0) + (sig ? 1 : 0))));
    put1(b, 0x01);
    put1(b, 0xc4);
    put1(b, 32);
    put(b, r->neu.pk, 32);
    put1(b, 0x02);
    put1(b, 0x00);
    if (prev) {
        put1(b, 0x06);
        put1(b, 0xc4);
        put1(b, 32);
        put(b, r->old.pk, 32);
    }
    if (sig) {
        put1(b, 0x07);
        put1(b, 0xc4);
        put1(b, (uint8_t)sig_len);
        put(b, sig, sig_len);
    }
}

static int decode_crafted(const buf *body, const rot *r, unsigned flags)
{
    static buf rec;
    craft(&rec, KZ_T_ATTEST, body, &r->node);
    kz_record d;
    int rc = kz_record_decode(&d, rec.b, rec.n, T0, flags);
    if (rc == 0) {
        int v = kz_record_verify(&d);
        kz_record_close(&d);
        if (!(flags & KZ_DECODE_NOVERIFY))
            assert_int_equal(v, 0);
        else if (v != 0)
            return 1; /* decoded without checks, but does not verify */
    }
    return rc;
}

/* What arrives from a peer: the decoder enforces pairing and the signature. */
static void test_decode_rules(void **s)
{
    (void)s;
    rot r = rot_make();
    static buf body;
    attest_body(&body, &r, true, r.sig, sizeof r.sig);
    expect_rc(decode_crafted(&body, &r, 0), 0);

    uint8_t bad[KZ_SIG_BYTES];
    memcpy(bad, r.sig, sizeof bad);
    bad[0] ^= 0x80;
    attest_body(&body, &r, true, bad, sizeof bad);
    expect_rc(decode_crafted(&body, &r, 0), KZ_EBADSIG);
    /* NOVERIFY defers both signatures to kz_record_verify, which refuses. */
    assert_int_equal(decode_crafted(&body, &r, KZ_DECODE_NOVERIFY), 1);

    attest_body(&body, &r, true, NULL, 0);
    expect_rc(decode_crafted(&body, &r, 0), KZ_EINVAL);
    attest_body(&body, &r, false, r.sig, sizeof r.sig);
    expect_rc(decode_crafted(&body, &r, 0), KZ_EINVAL);
    attest_body(&body, &r, true, r.sig, 32);
    expect_rc(decode_crafted(&body, &r, 0), KZ_EINVAL);
    attest_body(&body, &r, true, r.sig, 0); /* bin 0 is an encoded empty field */
    assert_int_not_equal(decode_crafted(&body, &r, 0), 0);
}

/* The revoke that ends a rotated key carries the same hand-over (fields 3
 * and 4), under the same rules. */
static void rot_revoke(kz_record *v, const rot *r, const uint8_t *sig, uint32_t sig_len)
{
    kz_record_init(v, KZ_T_REVOKE, r->node.pk, T_ROT + 1000);
    memcpy(v->body.revoke.member, r->neu.pk, KZ_KEY_BYTES);
    v->body.revoke.reason = S("left the network");
    v->body.revoke.has_previous = true;
    memcpy(v->body.revoke.previous, r->old.pk, KZ_KEY_BYTES);
    v->body.revoke.handover = (kz_bytes){ sig, sig_len };
}

static void test_revoke_carries_handover(void **s)
{
    (void)s;
    rot r = rot_make();
    kz_record v, d;
    rot_revoke(&v, &r, r.sig, sizeof r.sig);
    expect_rc(kz_record_sign(&v, r.node.sk), 0);
    expect_rc(kz_record_decode(&d, v.raw, v.raw_len, 0, 0), 0);
    assert_true(d.body.revoke.has_previous);
    assert_memory_equal(d.body.revoke.previous, r.old.pk, KZ_KEY_BYTES);
    assert_memory_equal(d.body.revoke.handover.p, r.sig, KZ_SIG_BYTES);
    kz_record_close(&d);
    kz_record_close(&v);

    uint8_t forged[KZ_SIG_BYTES];
    assert_int_equal(kz_handover_sign(forged, r.node.sk, r.neu.pk, r.node.pk), 0);
    rot_revoke(&v, &r, forged, sizeof forged);
    expect_rc(kz_record_sign(&v, r.node.sk), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "revoke.handover"));
    kz_record_close(&v);
    rot_revoke(&v, &r, r.sig, sizeof r.sig);
    v.body.revoke.has_previous = false;
    expect_rc(kz_record_sign(&v, r.node.sk), KZ_EINVAL);
    assert_non_null(strstr(kz_record_last_error(), "revoke.previous"));
    kz_record_close(&v);

    /* From a peer: a revoke whose carried hand-over is bad does not verify. */
    static buf body;
    uint8_t bad[KZ_SIG_BYTES];
    memcpy(bad, r.sig, sizeof bad);
    bad[63] ^= 0x01;
    body.n = 0;
    put1(&body, 0x83);
    put1(&body, 0x01);
    put1(&body, 0xc4);
    put1(&body, 32);
    put(&body, r.neu.pk, 32);
    put1(&body, 0x03);
    put1(&body, 0xc4);
    put1(&body, 32);
    put(&body, r.old.pk, 32);
    put1(&body, 0x04);
    put1(&body, 0xc4);
    put1(&body, 64);
    put(&body, bad, 64);
    static buf rec;
    craft(&rec, KZ_T_REVOKE, &body, &r.node);
    expect_rc(kz_record_decode(&d, rec.b, rec.n, T0, 0), KZ_EBADSIG);
    memcpy(rec.b + rec.n - 66 - 64, r.sig, 64); /* the real hand-over */
    resign(&rec, &r.node);
    expect_rc(kz_record_decode(&d, rec.b, rec.n, T0, 0), 0);
    kz_record_close(&d);
}

/* Adding the fields changed no existing encoding: the attest and revoke
 * vectors rebuild to the committed golden bytes. */
static void test_old_vectors_unchanged(void **s)
{
    (void)s;
    init_sodium();
    FILE *f = fopen(RECORDS_PATH, "r");
    assert_non_null(f);
    static char line[40000];
    const char *want[] = { "attest_full", "attest_min", "revoke_full", "revoke_min" };
    const int types[] = { KZ_T_ATTEST, KZ_T_ATTEST, KZ_T_REVOKE, KZ_T_REVOKE };
    const int variants[] = { FULL, MIN, FULL, MIN };
    const uint64_t created[] = { T0 + 2000, T0 + 3000, T0 + 4000, T0 + 5000 };
    int found = 0, cur = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "name: ", 6) == 0) {
            cur = -1;
            for (int i = 0; i < 4; i++)
                if (strcmp(line + 6, want[i]) == 0)
                    cur = i;
        } else if (cur >= 0 && strncmp(line, "record: ", 8) == 0) {
            keys node = kp(0x02);
            kz_record a;
            fill(&a, types[cur], variants[cur], &node, created[cur]);
            assert_int_equal(kz_record_sign(&a, node.sk), 0);
            char *hex = kz_xmalloc(2 * a.raw_len + 1);
            kz_hex_encode(hex, 2 * a.raw_len + 1, a.raw, a.raw_len);
            assert_string_equal(hex, line + 8);
            free(hex);
            kz_record_close(&a);
            found++;
        }
    }
    fclose(f);
    assert_int_equal(found, 4);
}

static void hexline(FILE *f, const char *key, const uint8_t *b, size_t n)
{
    char *h = kz_xmalloc(2 * n + 1);
    kz_hex_encode(h, 2 * n + 1, b, n);
    fprintf(f, "%s: %s\n", key, h);
    free(h);
}

/* The golden rotation vector, written to a memory stream. */
static char *rotation_text(size_t *len, kz_record *a)
{
    rot r = rot_make();
    uint8_t seed[32];
    rot_attest(a, &r, r.sig, sizeof r.sig);
    expect_rc(kz_record_sign(a, r.node.sk), 0);
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    assert_non_null(f);
    fputs("# kizuna member key rotation golden vector (format 1).\n"
          "#\n"
          "# Written by tests/unit/test_handover.c with KZ_WRITE_VECTORS=1; the test\n"
          "# handover_golden rebuilds it and compares byte for byte. Keys come from\n"
          "# seeds of 32 equal bytes (libsodium crypto_sign_seed_keypair).\n"
          "#   handover_msg: \"kizuna/handover/v1\" NUL || new member key || node key\n"
          "#   handover:     Ed25519 signature of handover_msg by the old member key\n"
          "#   record:       the node's attest of the new key with fields 6 and 7\n"
          "#   revoke:       the node's later revoke of the new key, carrying the\n"
          "#                 same hand-over in its fields 3 and 4\n",
          f);
    memset(seed, 0x02, sizeof seed);
    hexline(f, "\nnode_seed", seed, 32);
    hexline(f, "node", r.node.pk, 32);
    memset(seed, 0x03, sizeof seed);
    hexline(f, "old_seed", seed, 32);
    hexline(f, "old_member", r.old.pk, 32);
    memset(seed, 0x04, sizeof seed);
    hexline(f, "new_seed", seed, 32);
    hexline(f, "new_member", r.neu.pk, 32);
    uint8_t msg[KZ_HANDOVER_DOMAIN_LEN + 64];
    memcpy(msg, KZ_HANDOVER_DOMAIN, KZ_HANDOVER_DOMAIN_LEN);
    memcpy(msg + KZ_HANDOVER_DOMAIN_LEN, r.neu.pk, 32);
    memcpy(msg + KZ_HANDOVER_DOMAIN_LEN + 32, r.node.pk, 32);
    hexline(f, "handover_msg", msg, sizeof msg);
    hexline(f, "handover", r.sig, sizeof r.sig);
    fprintf(f, "created_ms: %llu\n", (unsigned long long)a->created_ms);
    hexline(f, "record", a->raw, a->raw_len);
    hexline(f, "id", a->id, KZ_ID_BYTES);
    kz_record v;
    rot_revoke(&v, &r, r.sig, sizeof r.sig);
    expect_rc(kz_record_sign(&v, r.node.sk), 0);
    fprintf(f, "revoke_created_ms: %llu\n", (unsigned long long)v.created_ms);
    hexline(f, "revoke", v.raw, v.raw_len);
    hexline(f, "revoke_id", v.id, KZ_ID_BYTES);
    kz_record_close(&v);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void test_golden(void **s)
{
    (void)s;
    kz_record a;
    size_t len = 0;
    char *text = rotation_text(&len, &a);
    const char *w = getenv("KZ_WRITE_VECTORS");
    if (w && strcmp(w, "1") == 0) {
        FILE *f = fopen(ROTATION_PATH, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        f = fopen(CORPUS_FILE, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(a.raw, 1, a.raw_len, f), a.raw_len);
        assert_int_equal(fclose(f), 0);
    }
    FILE *f = fopen(ROTATION_PATH, "rb");
    if (!f)
        fail_msg("cannot read %s", ROTATION_PATH);
    char *file = kz_xmalloc(len + 2);
    size_t got = fread(file, 1, len + 1, f);
    fclose(f);
    assert_int_equal(got, len);
    assert_memory_equal(file, text, len);
    /* The vector decodes and verifies with the handover checked. */
    kz_record d;
    expect_rc(kz_record_decode(&d, a.raw, a.raw_len, 0, 0), 0);
    kz_record_close(&d);
    free(file);
    free(text);
    kz_record_close(&a);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sign_verify),
    cmocka_unit_test(test_attest_roundtrip),
    cmocka_unit_test(test_sign_refuses_bad_handover),
    cmocka_unit_test(test_missing_half),
    cmocka_unit_test(test_decode_rules),
    cmocka_unit_test(test_revoke_carries_handover),
    cmocka_unit_test(test_old_vectors_unchanged),
    cmocka_unit_test(test_golden),
};

KZ_TEST_MAIN(tests)
