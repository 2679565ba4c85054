/* test_control_blocked.c: control verbs on a real node hide what a blocked
 * node and its members wrote (profile.show), and show it again once the node
 * is unblocked: blocking keeps the records, it only stops showing them. */
#include "kz_test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_node.h"

#include "control_fixtures.h"

static int node_setup(void **state)
{
    return ctl_node_setup(state, "/tmp/kz-test-blk-XXXXXX", "Home", "127.0.0.1:17431");
}

/* One request; returns the reply's "code" (0 when ok). */
static int call(kz_node *n, const char *line, char *msg, size_t msgsz)
{
    size_t outlen = 0;
    char *out = kz_control_handle(n, line, strlen(line), &outlen);
    assert_non_null(out);
    json_error_t jerr;
    json_t *rep = json_loadb(out, outlen, 0, &jerr);
    free(out);
    assert_non_null(rep);
    int code = 0;
    msg[0] = '\0';
    if (!json_is_true(json_object_get(rep, "ok"))) {
        code = (int)json_integer_value(json_object_get(rep, "code"));
        const char *e = json_string_value(json_object_get(rep, "error"));
        snprintf(msg, msgsz, "%s", e ? e : "");
    }
    json_decref(rep);
    return code;
}

static void put_signed(kz_node *n, kz_record *r, const uint8_t sk[KZ_SECKEY_BYTES])
{
    assert_int_equal(kz_record_sign(r, sk), 0);
    assert_int_equal(kz_store_put(n->store, r, NULL), 0);
}

/* A foreign node F attesting member X, with X's profile, and a local member. */
static void test_profile_hidden_while_blocked(void **state)
{
    fixture *f = *state;
    uint8_t fpk[KZ_KEY_BYTES], fsk[KZ_SECKEY_BYTES], xpk[KZ_KEY_BYTES], xsk[KZ_SECKEY_BYTES];
    uint8_t seed[crypto_sign_SEEDBYTES];
    char req[256], msg[512];
    kz_record node, att, prof;
    uint64_t t = kz_now_ms() - 60000;

    memset(seed, 0x21, sizeof seed);
    assert_int_equal(crypto_sign_seed_keypair(fpk, fsk, seed), 0);
    memset(seed, 0x22, sizeof seed);
    assert_int_equal(crypto_sign_seed_keypair(xpk, xsk, seed), 0);
    kz_record_init(&node, KZ_T_NODE, fpk, t);
    node.body.node.name = (kz_str){"Foreign", 7};
    put_signed(f->node, &node, fsk);
    kz_record_init(&att, KZ_T_ATTEST, fpk, t + 1);
    memcpy(att.body.attest.member, xpk, KZ_KEY_BYTES);
    att.body.attest.role = KZ_ROLE_ALUMNI;
    put_signed(f->node, &att, fsk);
    kz_record_init(&prof, KZ_T_PROFILE, xpk, t + 2);
    prof.body.profile.name = (kz_str){"Tanaka", 6};
    put_signed(f->node, &prof, xsk);

    kz_idstr x = kz_id_to_str(xpk);
    snprintf(req, sizeof req, "{\"cmd\": \"profile.show\", \"args\": {\"member\": \"%s\"}}", x.s);
    assert_int_equal(call(f->node, req, msg, sizeof msg), 0);

    kz_idstr pid = kz_id_to_str(prof.id);
    char show[256];
    snprintf(show, sizeof show, "{\"cmd\": \"record.show\", \"args\": {\"id\": \"%s\"}}", pid.s);
    assert_int_equal(call(f->node, show, msg, sizeof msg), 0);

    assert_int_equal(kz_store_block_set(f->node->store, fpk, true), 0);
    assert_int_equal(call(f->node, req, msg, sizeof msg), KZ_EBLOCKED);
    assert_non_null(strstr(msg, "hidden"));
    /* record.show hides the member's records too, not just the profile view. */
    assert_int_equal(call(f->node, show, msg, sizeof msg), KZ_EBLOCKED);
    assert_non_null(strstr(msg, "blocked node"));
    /* Blocking kept the record: it is hidden, not gone. */
    assert_true(kz_store_has(f->node->store, prof.id));

    /* A local member's profile is unaffected. */
    char add[] = "{\"cmd\": \"member.add\", \"args\": {\"name\": \"Local\", \"reading\": \"ろーかる\"}}";
    size_t outlen = 0;
    char *out = kz_control_handle(f->node, add, strlen(add), &outlen);
    json_error_t jerr;
    json_t *rep = json_loadb(out, outlen, 0, &jerr);
    free(out);
    assert_non_null(rep);
    const char *mid = json_string_value(json_object_get(json_object_get(rep, "result"), "member_id"));
    assert_non_null(mid);
    char req2[256];
    snprintf(req2, sizeof req2, "{\"cmd\": \"profile.show\", \"args\": {\"member\": \"%s\"}}", mid);
    json_decref(rep);
    assert_int_equal(call(f->node, req2, msg, sizeof msg), 0);

    assert_int_equal(kz_store_block_set(f->node->store, fpk, false), 0);
    assert_int_equal(call(f->node, req, msg, sizeof msg), 0);
    assert_int_equal(call(f->node, show, msg, sizeof msg), 0);
    kz_record_close(&node);
    kz_record_close(&att);
    kz_record_close(&prof);
    sodium_memzero(fsk, sizeof fsk);
    sodium_memzero(xsk, sizeof xsk);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_profile_hidden_while_blocked, node_setup, node_teardown),
};

KZ_TEST_MAIN(tests)
