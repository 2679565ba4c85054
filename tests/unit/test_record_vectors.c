/* kz-test-link: kz_protocol */
/* test_record_vectors.c: golden record vectors. Rebuilds every record in
 * tests/vectors/records.txt from fixed seeds and compares byte for byte, and
 * checks each committed record with libsodium directly and with the decoder.
 * KZ_WRITE_VECTORS=1 rewrites the file and the fuzz seed corpus instead. */
#include "kz_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_record.h"
#include "record_fixtures.h"

#define VECTORS_PATH KZ_SOURCE_DIR "/tests/vectors/records.txt"
#define CORPUS_DIR KZ_SOURCE_DIR "/tests/fuzz/corpus/record"

typedef struct {
    const char *name;
    int type;
    int variant;
    uint8_t seed; /* author seed byte: 0x01 a member, 0x02 a node */
    const char *about;
} vec;

static const vec vecs[] = {
    { "node_full", KZ_T_NODE, FULL, 0x02, "company name (Japanese) and two gossip addresses" },
    { "node_min", KZ_T_NODE, MIN, 0x02, "name only" },
    { "attest_full", KZ_T_ATTEST, FULL, 0x02, "employee, 2005-2019, department" },
    { "attest_min", KZ_T_ATTEST, MIN, 0x02, "member key and role alumni (0, always encoded)" },
    { "revoke_full", KZ_T_REVOKE, FULL, 0x02, "member key and a two-line reason" },
    { "revoke_min", KZ_T_REVOKE, MIN, 0x02, "member key only" },
    { "profile_full", KZ_T_PROFILE, FULL, 0x01, "all 15 profile fields" },
    { "profile_min", KZ_T_PROFILE, MIN, 0x01, "name only" },
    { "post_full", KZ_T_POST, FULL, 0x01, "intro post nominating a member, edit_of, closed" },
    { "post_min", KZ_T_POST, MIN, 0x01, "room and text (kind text, omitted)" },
    { "post_poll", KZ_T_POST, POLL, 0x01, "poll with three options, closed" },
    { "reply_full", KZ_T_REPLY, FULL, 0x01, "parent, text, edit_of" },
    { "reply_min", KZ_T_REPLY, MIN, 0x01, "parent and text" },
    { "reaction_full", KZ_T_REACTION, FULL, 0x01, "kind 2, withdrawn (off)" },
    { "reaction_min", KZ_T_REACTION, MIN, 0x01, "kind 0 (like, always encoded)" },
    { "event_full", KZ_T_EVENT, FULL, 0x01, "all 10 event fields" },
    { "event_min", KZ_T_EVENT, MIN, 0x01, "room, title, start" },
    { "rsvp_full", KZ_T_RSVP, FULL, 0x01, "maybe" },
    { "rsvp_min", KZ_T_RSVP, MIN, 0x01, "going (0, always encoded)" },
    { "delete_full", KZ_T_DELETE, FULL, 0x02, "node moderation: target, its author, reason" },
    { "delete_min", KZ_T_DELETE, MIN, 0x01, "target and its author" },
    { "contact_full", KZ_T_CONTACT, FULL, 0x01, "80 bytes of stand-in ciphertext" },
    { "contact_min", KZ_T_CONTACT, MIN, 0x01, "48 bytes, the shortest sealed box" },
    { "vote_full", KZ_T_VOTE, FULL, 0x01, "poll id, option 2" },
    { "vote_min", KZ_T_VOTE, MIN, 0x01, "poll id, option 0 (always encoded)" },
    { "report_full", KZ_T_REPORT, FULL, 0x01, "home node key, 120 bytes of stand-in ciphertext" },
    { "report_min", KZ_T_REPORT, MIN, 0x01, "81 bytes: sealed target id and a 1-byte reason" },
    { "room_full", KZ_T_ROOM, FULL, 0x02, "name, Japanese title, two-line description, company scope" },
    { "room_min", KZ_T_ROOM, MIN, 0x02, "name only (federation scope, omitted)" },
};

static const char header[] =
    "# kizuna record golden vectors (format 1).\n"
    "#\n"
    "# Written by tests/unit/test_record_vectors.c with KZ_WRITE_VECTORS=1; the\n"
    "# test record_vectors_golden rebuilds every record and compares it with this\n"
    "# file byte for byte. Do not edit by hand.\n"
    "#\n"
    "# Lines starting with '#' are comments. Each vector is a block of\n"
    "# \"key: value\" lines; blocks are separated by one empty line:\n"
    "#   name:       label; the fuzz seed corpus holds record as <name>.bin\n"
    "#   about:      what the body holds (the values are in record_fixtures.h)\n"
    "#   type:       record type name\n"
    "#   seed:       Ed25519 seed of the author, 32 bytes, hex\n"
    "#               (libsodium crypto_sign_seed_keypair)\n"
    "#   author:     the author's public key, hex\n"
    "#   created_ms: creation time, decimal milliseconds since the Unix epoch\n"
    "#   record:     the complete canonical encoded record, hex\n"
    "#   sig:        its Ed25519 signature (also the record's last 64 bytes), hex\n"
    "#   id:         BLAKE2b-256 of record, hex\n";

/* A growing text buffer (test-only; aborts on OOM via kz_xrealloc). */
typedef struct {
    char *p;
    size_t n, cap;
} text;

static void tput(text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = kz_xrealloc(t->p, t->cap);
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void tputs(text *t, const char *s)
{
    tput(t, s, strlen(s));
}

static void tput_hex(text *t, const uint8_t *b, size_t n)
{
    char *h = kz_xmalloc(2 * n + 1);
    kz_hex_encode(h, 2 * n + 1, b, n);
    tput(t, h, 2 * n);
    free(h);
}

static uint64_t vec_created(size_t i)
{
    return T0 + 1000u * i;
}

/* Sign vector i; the caller closes r. */
static void vec_build(size_t i, kz_record *r)
{
    keys k = kp(vecs[i].seed);
    fill(r, vecs[i].type, vecs[i].variant, &k, vec_created(i));
    int rc = kz_record_sign(r, k.sk);
    if (rc)
        fail_msg("%s: %s (%s)", vecs[i].name, kz_strerror(rc), kz_record_last_error());
}

static void generate(text *t)
{
    tputs(t, header);
    for (size_t i = 0; i < KZ_ARRAY_LEN(vecs); i++) {
        kz_record r;
        uint8_t seed[32];
        char line[128];
        vec_build(i, &r);
        memset(seed, vecs[i].seed, sizeof seed);
        tputs(t, "\nname: ");
        tputs(t, vecs[i].name);
        tputs(t, "\nabout: ");
        tputs(t, vecs[i].about);
        tputs(t, "\ntype: ");
        tputs(t, kz_rtype_name(vecs[i].type));
        tputs(t, "\nseed: ");
        tput_hex(t, seed, sizeof seed);
        tputs(t, "\nauthor: ");
        tput_hex(t, r.author, KZ_KEY_BYTES);
        snprintf(line, sizeof line, "\ncreated_ms: %llu", (unsigned long long)r.created_ms);
        tputs(t, line);
        tputs(t, "\nrecord: ");
        tput_hex(t, r.raw, r.raw_len);
        tputs(t, "\nsig: ");
        tput_hex(t, r.sig, KZ_SIG_BYTES);
        tputs(t, "\nid: ");
        tput_hex(t, r.id, KZ_ID_BYTES);
        tputs(t, "\n");
        kz_record_close(&r);
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    text t = { 0 };
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        tput(&t, chunk, n);
    fclose(f);
    if (!t.p)
        tput(&t, "", 0);
    *len = t.n;
    return t.p;
}

static void write_file(const char *path, const void *p, size_t n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void write_all(const text *t)
{
    write_file(VECTORS_PATH, t->p, t->n);
    for (size_t i = 0; i < KZ_ARRAY_LEN(vecs); i++) {
        kz_record r;
        char path[4096];
        vec_build(i, &r);
        snprintf(path, sizeof path, "%s/%s.bin", CORPUS_DIR, vecs[i].name);
        write_file(path, r.raw, r.raw_len);
        kz_record_close(&r);
    }
    printf("wrote %s and %zu corpus files\n", VECTORS_PATH, KZ_ARRAY_LEN(vecs));
}

/* Every record, rebuilt from its seed, equals the committed bytes. */
static void test_golden(void **s)
{
    (void)s;
    init_sodium();
    text t = { 0 };
    generate(&t);
    const char *w = getenv("KZ_WRITE_VECTORS");
    if (w && strcmp(w, "1") == 0)
        write_all(&t);
    size_t len = 0;
    char *file = slurp(VECTORS_PATH, &len);
    if (!file)
        fail_msg("cannot read %s", VECTORS_PATH);
    if (len != t.n || memcmp(file, t.p, len) != 0) {
        size_t line = 1, i;
        for (i = 0; i < len && i < t.n && file[i] == t.p[i]; i++)
            line += file[i] == '\n';
        fail_msg("%s differs from the rebuilt vectors at line %zu", VECTORS_PATH, line);
    }
    free(file);
    free(t.p);
}

typedef struct {
    char name[64], type[32];
    uint8_t seed[32], author[32], sig[64], id[32];
    uint64_t created;
    uint8_t *rec;
    size_t rec_len;
} parsed;

static void hex_field(const char *v, uint8_t *out, size_t n, const char *what)
{
    if (kz_hex_decode(out, n, v) != 0)
        fail_msg("bad hex in %s", what);
}

/* Parse one "key: value" line into p. */
static void parse_line(parsed *p, char *line)
{
    char *colon = strstr(line, ": ");
    assert_non_null(colon);
    *colon = '\0';
    const char *k = line, *v = colon + 2;
    if (strcmp(k, "name") == 0) {
        assert_true(strlen(v) < sizeof p->name);
        memcpy(p->name, v, strlen(v) + 1);
    } else if (strcmp(k, "type") == 0) {
        assert_true(strlen(v) < sizeof p->type);
        memcpy(p->type, v, strlen(v) + 1);
    } else if (strcmp(k, "seed") == 0) {
        hex_field(v, p->seed, 32, k);
    } else if (strcmp(k, "author") == 0) {
        hex_field(v, p->author, 32, k);
    } else if (strcmp(k, "sig") == 0) {
        hex_field(v, p->sig, 64, k);
    } else if (strcmp(k, "id") == 0) {
        hex_field(v, p->id, 32, k);
    } else if (strcmp(k, "created_ms") == 0) {
        char *end;
        p->created = strtoull(v, &end, 10);
        assert_true(*v && *end == '\0');
    } else if (strcmp(k, "record") == 0) {
        size_t n = strlen(v);
        assert_true(n % 2 == 0 && n / 2 <= KZ_RECORD_MAX);
        p->rec_len = n / 2;
        p->rec = kz_xmalloc(p->rec_len);
        hex_field(v, p->rec, p->rec_len, k);
    } else {
        assert_string_equal(k, "about");
    }
}

/* Check one committed vector with libsodium alone, then with the decoder. */
static void check_parsed(const parsed *p, size_t idx)
{
    assert_true(idx < KZ_ARRAY_LEN(vecs));
    assert_string_equal(p->name, vecs[idx].name);
    assert_int_equal(kz_rtype_parse(p->type), vecs[idx].type);
    assert_non_null(p->rec);
    assert_true(p->rec_len > 67);

    uint8_t pk[32], sk[64], id[32];
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, p->seed), 0);
    assert_memory_equal(pk, p->author, 32);
    crypto_generichash(id, sizeof id, p->rec, p->rec_len, NULL, 0);
    assert_memory_equal(id, p->id, 32);
    assert_memory_equal(p->rec + p->rec_len - 64, p->sig, 64);
    assert_int_equal(p->rec[0], 0x96);
    assert_int_equal(p->rec[p->rec_len - 66], 0xc4);
    assert_int_equal(p->rec[p->rec_len - 65], 64);
    size_t mlen = 17 + p->rec_len - 66;
    uint8_t *m = kz_xmalloc(mlen);
    memcpy(m, "kizuna/record/v1", 17); /* with its NUL */
    memcpy(m + 17, p->rec, p->rec_len - 66);
    m[17] = 0x95;
    assert_int_equal(crypto_sign_verify_detached(p->sig, m, mlen, pk), 0);
    free(m);

    kz_record d, want;
    int rc = kz_record_decode(&d, p->rec, p->rec_len, p->created, 0);
    if (rc)
        fail_msg("%s: %s (%s)", p->name, kz_strerror(rc), kz_record_last_error());
    assert_int_equal(d.created_ms, p->created);
    assert_memory_equal(d.id, p->id, 32);
    keys k = kp(vecs[idx].seed);
    fill(&want, vecs[idx].type, vecs[idx].variant, &k, p->created);
    expect_same(&want, &d);
    kz_record_close(&d);
}

/* The committed records verify with libsodium directly and decode. */
static void test_golden_decode(void **s)
{
    (void)s;
    init_sodium();
    size_t len = 0;
    char *file = slurp(VECTORS_PATH, &len);
    if (!file)
        fail_msg("cannot read %s", VECTORS_PATH);
    parsed p;
    memset(&p, 0, sizeof p);
    size_t count = 0;
    bool in_block = false, seen[KZ_T_MAX + 1] = { false };
    char *save = file;
    for (;;) {
        char *nl = strchr(save, '\n');
        char *line = save;
        if (nl)
            *nl = '\0';
        bool end = !nl;
        if (line[0] == '#') {
            /* comment */
        } else if (line[0] == '\0') {
            if (in_block) {
                check_parsed(&p, count);
                seen[vecs[count].type] = true;
                count++;
                free(p.rec);
                memset(&p, 0, sizeof p);
                in_block = false;
            }
        } else {
            parse_line(&p, line);
            in_block = true;
        }
        if (end)
            break;
        save = nl + 1;
    }
    if (in_block) {
        check_parsed(&p, count);
        seen[vecs[count].type] = true;
        count++;
        free(p.rec);
    }
    assert_int_equal(count, KZ_ARRAY_LEN(vecs));
    for (int t = 1; t <= KZ_T_MAX; t++)
        if (!seen[t])
            fail_msg("no vector of type %s", kz_rtype_name(t));
    free(file);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_golden),
    cmocka_unit_test(test_golden_decode),
};

KZ_TEST_MAIN(tests)
