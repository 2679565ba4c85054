/* kz-test-link: kz_protocol */
/* fuzz_noise.c: handshake readers fed arbitrary bytes: never crash, never accept anything but the genuine message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kz_noise.h"

/* Input: one selector byte, then the message.
 *   0: responder reads message 1      1: initiator reads message 2
 *   2: responder reads message 3      3: generic XXpsk0 responder reads a
 *                                        message 1 of any length
 * Keys, ephemerals and PSK are those of tests/vectors/kizuna-handshake.txt,
 * so the genuine messages (and the seed corpus) are the golden ones. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t sk_i[64], pk_i[32], sk_r[64], pk_r[32];
static kz_noise_identity id_i, id_r;
static uint8_t e_i[32], e_r[32], psk[32];
static uint8_t good1[KZ_NOISE_MSG1_LEN], good2[KZ_NOISE_MSG2_LEN], good3[KZ_NOISE_MSG3_LEN];

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_noise: %s\n", what);
        abort();
    }
}

static void fill(uint8_t *b, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(start + i);
}

static void new_pair(kz_noise_hs **i, kz_noise_hs **r)
{
    check(kz_noise_hs_create_initiator(i, &id_i, psk, pk_r) == 0, "create initiator");
    check(kz_noise_hs_create_responder(r, &id_r, psk) == 0, "create responder");
    check(kz_noise_hs_set_ephemeral(*i, e_i) == 0, "ephemeral i");
    check(kz_noise_hs_set_ephemeral(*r, e_r) == 0, "ephemeral r");
}

static void setup(void)
{
    static int done;
    if (done)
        return;
    check(sodium_init() >= 0, "sodium_init");
    uint8_t seed[32];
    fill(seed, 32, 0x10);
    check(crypto_sign_seed_keypair(pk_i, sk_i, seed) == 0, "keypair i");
    fill(seed, 32, 0x30);
    check(crypto_sign_seed_keypair(pk_r, sk_r, seed) == 0, "keypair r");
    check(kz_noise_identity_init(&id_i, sk_i) == 0, "identity i");
    check(kz_noise_identity_init(&id_r, sk_r) == 0, "identity r");
    fill(e_i, 32, 0x50);
    fill(e_r, 32, 0x70);
    fill(psk, 32, 0xa0);
    kz_noise_hs *i, *r;
    new_pair(&i, &r);
    check(kz_noise_hs_write_msg1(i, good1) == 0, "msg1");
    check(kz_noise_hs_read_msg1(r, good1, sizeof good1) == 0, "read msg1");
    check(kz_noise_hs_write_msg2(r, good2) == 0, "msg2");
    check(kz_noise_hs_read_msg2(i, good2, sizeof good2) == 0, "read msg2");
    check(kz_noise_hs_write_msg3(i, good3) == 0, "msg3");
    check(kz_noise_hs_read_msg3(r, good3, sizeof good3) == 0, "read msg3");
    kz_noise_hs_free(i);
    kz_noise_hs_free(r);
    done = 1;
}

static int genuine(const uint8_t *m, size_t n, const uint8_t *good, size_t good_len)
{
    return n == good_len && memcmp(m, good, n) == 0;
}

/* A rejected message is not the genuine one, and a failed handshake must
 * refuse even the genuine message afterwards. */
static void check_dead(int rc, kz_noise_hs *hs, int step, const uint8_t *m, size_t n)
{
    const uint8_t *good = step == 1 ? good1 : step == 2 ? good2 : good3;
    size_t good_len = step == 1 ? sizeof good1 : step == 2 ? sizeof good2 : sizeof good3;
    check(!genuine(m, n, good, good_len), "rejected the genuine message");
    check(rc == KZ_EPROTO || rc == KZ_EAUTH, "unexpected error code");
    check(!kz_noise_hs_done(hs), "failed handshake reports done");
    int again = step == 1 ? kz_noise_hs_read_msg1(hs, good1, sizeof good1)
              : step == 2 ? kz_noise_hs_read_msg2(hs, good2, sizeof good2)
                          : kz_noise_hs_read_msg3(hs, good3, sizeof good3);
    check(again == KZ_EINVAL, "failed handshake accepted more input");
}

static void fuzz_generic(const uint8_t *m, size_t n)
{
    kz_noise_config c = { .protocol = KZ_NOISE_PROTOCOL, .initiator = 0, .s = id_r.x_sk,
                          .s_pub = id_r.x_pub,
                          .prologue = (const uint8_t *)KZ_NOISE_PROLOGUE,
                          .prologue_len = KZ_NOISE_PROLOGUE_LEN, .psk = psk };
    kz_noise_state *st;
    check(kz_noise_state_create(&st, &c) == 0, "create generic");
    static uint8_t payload[KZ_NOISE_MSG_MAX];
    size_t plen = 0;
    int rc = kz_noise_state_read(st, m, n, payload, sizeof payload, &plen);
    if (rc == 0) {
        check(genuine(m, n, good1, sizeof good1) && plen == 0, "generic accepted garbage");
        check(kz_noise_state_action(st) == KZ_NOISE_WRITE, "wrong next action");
    } else {
        check(!genuine(m, n, good1, sizeof good1), "generic rejected the genuine msg1");
        check(rc == KZ_EPROTO || rc == KZ_EAUTH || rc == KZ_ETOOBIG, "unexpected generic error");
        check(kz_noise_state_action(st) == KZ_NOISE_FAILED, "generic state not failed");
        check(kz_noise_state_dh_count(st) == 0, "DH before the msg1 MAC check");
    }
    kz_noise_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size == 0)
        return 0;
    int mode = data[0] & 3;
    const uint8_t *m = data + 1;
    size_t n = size - 1;
    if (mode == 3) {
        fuzz_generic(m, n);
        return 0;
    }

    kz_noise_hs *i, *r;
    new_pair(&i, &r);
    uint8_t buf[KZ_NOISE_HS_MSG_MAX];
    int rc;
    if (mode == 0) {
        rc = kz_noise_hs_read_msg1(r, m, n);
        check(kz_noise_hs_dh_count(r) == 0, "DH before the msg1 MAC check");
        if (rc == 0)
            check(genuine(m, n, good1, sizeof good1), "accepted a forged msg1");
        else
            check_dead(rc, r, 1, m, n);
    } else if (mode == 1) {
        check(kz_noise_hs_write_msg1(i, buf) == 0, "write msg1");
        rc = kz_noise_hs_read_msg2(i, m, n);
        if (rc == 0)
            check(genuine(m, n, good2, sizeof good2), "accepted a forged msg2");
        else
            check_dead(rc, i, 2, m, n);
    } else {
        check(kz_noise_hs_read_msg1(r, good1, sizeof good1) == 0, "read msg1");
        check(kz_noise_hs_write_msg2(r, buf) == 0, "write msg2");
        rc = kz_noise_hs_read_msg3(r, m, n);
        if (rc == 0) {
            check(genuine(m, n, good3, sizeof good3), "accepted a forged msg3");
            kz_noise_result res;
            check(kz_noise_hs_result(r, &res) == 0, "no result");
            check(memcmp(res.peer_id, pk_i, 32) == 0, "wrong peer id");
            kz_noise_result_clear(&res);
        } else {
            check_dead(rc, r, 3, m, n);
        }
    }
    kz_noise_hs_free(i);
    kz_noise_hs_free(r);
    return 0;
}
