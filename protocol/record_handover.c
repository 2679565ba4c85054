/* record_handover.c: the key hand-over signature an old member key gives its
 * successor (attest fields 6 and 7; docs/protocol.md "Member key rotation"). */
#include "kz_record.h"

#include <sodium.h>
#include <string.h>

#define HANDOVER_MSG_LEN (KZ_HANDOVER_DOMAIN_LEN + 2 * KZ_KEY_BYTES)

static void handover_msg(uint8_t msg[HANDOVER_MSG_LEN], const uint8_t new_member[KZ_KEY_BYTES],
                         const uint8_t node[KZ_KEY_BYTES])
{
    memcpy(msg, KZ_HANDOVER_DOMAIN, KZ_HANDOVER_DOMAIN_LEN); /* includes the NUL */
    memcpy(msg + KZ_HANDOVER_DOMAIN_LEN, new_member, KZ_KEY_BYTES);
    memcpy(msg + KZ_HANDOVER_DOMAIN_LEN + KZ_KEY_BYTES, node, KZ_KEY_BYTES);
}

int kz_handover_sign(uint8_t sig[KZ_SIG_BYTES], const uint8_t old_sk[KZ_SECKEY_BYTES],
                     const uint8_t new_member[KZ_KEY_BYTES], const uint8_t node[KZ_KEY_BYTES])
{
    uint8_t msg[HANDOVER_MSG_LEN];
    handover_msg(msg, new_member, node);
    return crypto_sign_detached(sig, NULL, msg, sizeof msg, old_sk) == 0 ? 0 : KZ_ECRYPTO;
}

int kz_handover_verify(const uint8_t sig[KZ_SIG_BYTES], const uint8_t old_pk[KZ_KEY_BYTES],
                       const uint8_t new_member[KZ_KEY_BYTES], const uint8_t node[KZ_KEY_BYTES])
{
    uint8_t msg[HANDOVER_MSG_LEN];
    handover_msg(msg, new_member, node);
    return crypto_sign_verify_detached(sig, msg, sizeof msg, old_pk) == 0 ? 0 : KZ_EBADSIG;
}
