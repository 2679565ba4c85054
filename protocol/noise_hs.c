/* noise_hs.c: kizuna's handshake, Noise_XXpsk0_25519_ChaChaPoly_SHA256 with
 * the federation key as PSK and Ed25519 node keys converted to X25519. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kz_noise.h"

/* The step a handshake object is at; the next message is numbered 1..3. */
enum { HS_FAILED = 0, HS_MSG1 = 1, HS_MSG2 = 2, HS_MSG3 = 3, HS_DONE = 4, HS_TAKEN = 5 };

#define MSG2_PAYLOAD_LEN 1                         /* version */
#define MSG3_PAYLOAD_LEN (1 + KZ_NOISE_NODE_ID_LEN) /* version, node id */

struct kz_noise_hs {
    kz_noise_state *st;      /* NULL once failed or the result is taken */
    uint8_t initiator;
    uint8_t step;
    uint8_t version;         /* negotiated wire version, set by msg2/msg3 */
    uint8_t my_id[KZ_NOISE_NODE_ID_LEN];
    uint8_t peer_id[KZ_NOISE_NODE_ID_LEN]; /* initiator: expected; responder: from msg3 */
    uint8_t peer_x[KZ_NOISE_DHLEN];        /* initiator: the static key peer_id implies */
    unsigned dh_count;       /* kept once st is gone */
};

int kz_noise_static_from_node(uint8_t x25519[KZ_NOISE_DHLEN],
                              const uint8_t node_id[KZ_NOISE_NODE_ID_LEN])
{
    /* libsodium refuses points that are not on the curve or of small order. */
    if (crypto_sign_ed25519_pk_to_curve25519(x25519, node_id) != 0) {
        sodium_memzero(x25519, KZ_NOISE_DHLEN);
        return KZ_EINVAL;
    }
    return 0;
}

int kz_noise_static_matches_node(const uint8_t x25519[KZ_NOISE_DHLEN],
                                 const uint8_t node_id[KZ_NOISE_NODE_ID_LEN])
{
    uint8_t want[KZ_NOISE_DHLEN];
    if (kz_noise_static_from_node(want, node_id) != 0)
        return 0;
    return sodium_memcmp(want, x25519, KZ_NOISE_DHLEN) == 0;
}

/* Fail closed: drop the Noise state (which wipes itself) and refuse the rest. */
static int hs_fail(kz_noise_hs *hs, int rc)
{
    if (hs->st) {
        hs->dh_count = kz_noise_state_dh_count(hs->st);
        kz_noise_state_free(hs->st);
        hs->st = NULL;
    }
    hs->step = HS_FAILED;
    sodium_memzero(hs->peer_id, sizeof hs->peer_id);
    return rc;
}

int kz_noise_identity_init(kz_noise_identity *me, const uint8_t node_sk[KZ_NOISE_NODE_SK_LEN])
{
    memset(me, 0, sizeof *me);
    if (sodium_init() < 0)
        return KZ_ECRYPTO;
    /* The Ed25519 secret key is seed || public key. The X25519 public key is
     * derived from the Ed25519 public key exactly as peers derive it from our
     * node id, and checked against the converted secret key, so a damaged
     * key file fails here rather than in every handshake. */
    const uint8_t *pk = node_sk + crypto_sign_SEEDBYTES;
    uint8_t check[KZ_NOISE_DHLEN];
    if (crypto_sign_ed25519_pk_to_curve25519(me->x_pub, pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(me->x_sk, node_sk) != 0 ||
        crypto_scalarmult_base(check, me->x_sk) != 0 ||
        sodium_memcmp(check, me->x_pub, sizeof check) != 0) {
        kz_noise_identity_close(me);
        return KZ_EINVAL;
    }
    memcpy(me->node_id, pk, KZ_NOISE_NODE_ID_LEN);
    return 0;
}

void kz_noise_identity_close(kz_noise_identity *me)
{
    if (me)
        sodium_memzero(me, sizeof *me);
}

/* Per connection: no key conversion and no scalar multiplication, so a
 * responder's cost before the msg1 MAC check is a few hashes. */
static int hs_create(kz_noise_hs **out, int initiator, const kz_noise_identity *me,
                     const uint8_t *fed_key, const uint8_t *peer_id)
{
    *out = NULL;
    kz_noise_hs *hs = kz_xcalloc(1, sizeof *hs);
    int rc = KZ_EINVAL;
    memcpy(hs->my_id, me->node_id, KZ_NOISE_NODE_ID_LEN);
    if (peer_id) {
        if (kz_noise_static_from_node(hs->peer_x, peer_id) != 0)
            goto fail_free;
        memcpy(hs->peer_id, peer_id, KZ_NOISE_NODE_ID_LEN);
    }
    kz_noise_config cfg = {
        .protocol = KZ_NOISE_PROTOCOL,
        .initiator = initiator,
        .prologue = (const uint8_t *)KZ_NOISE_PROLOGUE,
        .prologue_len = KZ_NOISE_PROLOGUE_LEN,
        .s = me->x_sk,
        .s_pub = me->x_pub,
        .psk = fed_key,
    };
    rc = kz_noise_state_create(&hs->st, &cfg);
    if (rc != 0)
        goto fail_free;
    hs->initiator = initiator ? 1 : 0;
    hs->step = HS_MSG1;
    *out = hs;
    return 0;

fail_free:
    sodium_memzero(hs, sizeof *hs);
    free(hs);
    return rc;
}

int kz_noise_hs_create_initiator(kz_noise_hs **out, const kz_noise_identity *me,
                                 const uint8_t fed_key[KZ_NOISE_FEDKEY_LEN],
                                 const uint8_t peer_id[KZ_NOISE_NODE_ID_LEN])
{
    if (!peer_id) {
        *out = NULL;
        return KZ_EINVAL;
    }
    return hs_create(out, 1, me, fed_key, peer_id);
}

int kz_noise_hs_create_responder(kz_noise_hs **out, const kz_noise_identity *me,
                                 const uint8_t fed_key[KZ_NOISE_FEDKEY_LEN])
{
    return hs_create(out, 0, me, fed_key, NULL);
}

void kz_noise_hs_free(kz_noise_hs *hs)
{
    if (!hs)
        return;
    kz_noise_state_free(hs->st);
    sodium_memzero(hs, sizeof *hs);
    free(hs);
}

int kz_noise_hs_set_ephemeral(kz_noise_hs *hs, const uint8_t e[KZ_NOISE_DHLEN])
{
    if (hs->step != HS_MSG1 && !(hs->step == HS_MSG2 && !hs->initiator))
        return hs_fail(hs, KZ_EINVAL);
    int rc = kz_noise_state_set_ephemeral(hs->st, e);
    return rc ? hs_fail(hs, rc) : 0;
}

/* Is it this side's turn for message `step`, in direction `writing`?
 * Odd messages go initiator -> responder. */
static int turn_ok(const kz_noise_hs *hs, int step, int writing)
{
    int initiator_sends = step % 2 == 1;
    return hs->step == step && hs->st && (hs->initiator == initiator_sends) == (writing != 0);
}

static int hs_write(kz_noise_hs *hs, int step, const uint8_t *payload, size_t plen,
                    uint8_t *out, size_t want)
{
    if (!turn_ok(hs, step, 1))
        return hs_fail(hs, KZ_EINVAL);
    size_t n = 0;
    int rc = kz_noise_state_write(hs->st, payload, plen, out, want, &n);
    if (rc == 0 && n != want)
        rc = KZ_ECRYPTO; /* cannot happen: the lengths are fixed by the pattern */
    if (rc != 0) {
        sodium_memzero(out, want);
        return hs_fail(hs, rc);
    }
    hs->step = (uint8_t)(step + 1);
    return 0;
}

/* Common part of the reads: turn, exact length, then Noise ReadMessage into
 * a payload buffer of exactly plen bytes. */
static int hs_read(kz_noise_hs *hs, int step, const uint8_t *msg, size_t msg_len,
                   size_t want, uint8_t *payload, size_t plen)
{
    if (!turn_ok(hs, step, 0))
        return hs_fail(hs, KZ_EINVAL);
    if (msg_len != want || (msg_len && !msg))
        return hs_fail(hs, KZ_EPROTO);
    size_t n = 0;
    int rc = kz_noise_state_read(hs->st, msg, msg_len, payload, plen, &n);
    if (rc == 0 && n != plen)
        rc = KZ_EPROTO; /* cannot happen: msg_len is fixed */
    if (rc != 0)
        return hs_fail(hs, rc);
    return 0;
}

int kz_noise_hs_write_msg1(kz_noise_hs *hs, uint8_t out[KZ_NOISE_MSG1_LEN])
{
    return hs_write(hs, 1, NULL, 0, out, KZ_NOISE_MSG1_LEN);
}

int kz_noise_hs_read_msg1(kz_noise_hs *hs, const uint8_t *msg, size_t msg_len)
{
    int rc = hs_read(hs, 1, msg, msg_len, KZ_NOISE_MSG1_LEN, NULL, 0);
    if (rc == 0)
        hs->step = HS_MSG2;
    return rc;
}

int kz_noise_hs_write_msg2(kz_noise_hs *hs, uint8_t out[KZ_NOISE_MSG2_LEN])
{
    const uint8_t payload[MSG2_PAYLOAD_LEN] = { KZ_NOISE_WIRE_VERSION };
    return hs_write(hs, 2, payload, sizeof payload, out, KZ_NOISE_MSG2_LEN);
}

int kz_noise_hs_read_msg2(kz_noise_hs *hs, const uint8_t *msg, size_t msg_len)
{
    uint8_t payload[MSG2_PAYLOAD_LEN];
    int rc = hs_read(hs, 2, msg, msg_len, KZ_NOISE_MSG2_LEN, payload, sizeof payload);
    if (rc != 0)
        return rc;
    /* The responder proved its static key (es); is it the node we dialled? */
    uint8_t rs[KZ_NOISE_DHLEN];
    if (kz_noise_state_remote_static(hs->st, rs) != 0 ||
        sodium_memcmp(rs, hs->peer_x, sizeof rs) != 0)
        return hs_fail(hs, KZ_EAUTH);
    if (payload[0] == 0)
        return hs_fail(hs, KZ_EPROTO);
    hs->version = payload[0] < KZ_NOISE_WIRE_VERSION ? payload[0] : KZ_NOISE_WIRE_VERSION;
    hs->step = HS_MSG3;
    return 0;
}

int kz_noise_hs_write_msg3(kz_noise_hs *hs, uint8_t out[KZ_NOISE_MSG3_LEN])
{
    uint8_t payload[MSG3_PAYLOAD_LEN];
    payload[0] = hs->version;
    memcpy(payload + 1, hs->my_id, KZ_NOISE_NODE_ID_LEN);
    int rc = hs_write(hs, 3, payload, sizeof payload, out, KZ_NOISE_MSG3_LEN);
    if (rc == 0)
        hs->step = HS_DONE;
    return rc;
}

int kz_noise_hs_read_msg3(kz_noise_hs *hs, const uint8_t *msg, size_t msg_len)
{
    uint8_t payload[MSG3_PAYLOAD_LEN];
    int rc = hs_read(hs, 3, msg, msg_len, KZ_NOISE_MSG3_LEN, payload, sizeof payload);
    if (rc != 0)
        return rc;
    /* The initiator proved its static key (se); it must be the conversion of
     * the node id it claims, which then names the peer exactly (the X25519
     * key alone would leave the sign of the Ed25519 point open). */
    uint8_t rs[KZ_NOISE_DHLEN];
    if (kz_noise_state_remote_static(hs->st, rs) != 0 ||
        !kz_noise_static_matches_node(rs, payload + 1))
        return hs_fail(hs, KZ_EAUTH);
    if (payload[0] == 0 || payload[0] > KZ_NOISE_WIRE_VERSION)
        return hs_fail(hs, KZ_EPROTO);
    hs->version = payload[0];
    memcpy(hs->peer_id, payload + 1, KZ_NOISE_NODE_ID_LEN);
    hs->step = HS_DONE;
    return 0;
}

int kz_noise_hs_done(const kz_noise_hs *hs)
{
    return hs->step == HS_DONE || hs->step == HS_TAKEN;
}

int kz_noise_hs_result(kz_noise_hs *hs, kz_noise_result *res)
{
    if (hs->step != HS_DONE || !hs->st)
        return hs_fail(hs, KZ_EINVAL);
    kz_noise_cipher i2r = { .has_key = 0 }, r2i = { .has_key = 0 };
    memset(res, 0, sizeof *res);
    if (kz_noise_state_split(hs->st, &i2r, &r2i) != 0 ||
        kz_noise_state_hash(hs->st, res->hash) != 0 ||
        kz_noise_state_remote_static(hs->st, res->peer_static) != 0) {
        kz_noise_cipher_close(&i2r);
        kz_noise_cipher_close(&r2i);
        kz_noise_result_clear(res);
        return hs_fail(hs, KZ_EINVAL);
    }
    memcpy(res->i2r, i2r.k, sizeof res->i2r);
    memcpy(res->r2i, r2i.k, sizeof res->r2i);
    kz_noise_cipher_close(&i2r);
    kz_noise_cipher_close(&r2i);
    memcpy(res->peer_id, hs->peer_id, sizeof res->peer_id);
    res->version = hs->version;
    res->initiator = hs->initiator;
    hs->dh_count = kz_noise_state_dh_count(hs->st);
    kz_noise_state_free(hs->st);
    hs->st = NULL;
    hs->step = HS_TAKEN;
    return 0;
}

void kz_noise_result_clear(kz_noise_result *res)
{
    if (res)
        sodium_memzero(res, sizeof *res);
}

unsigned kz_noise_hs_dh_count(const kz_noise_hs *hs)
{
    return hs->st ? kz_noise_state_dh_count(hs->st) : hs->dh_count;
}
