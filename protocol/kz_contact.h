/* kz_contact.h: the sealed payload of a `contact` record: a small versioned
 * msgpack message sealed to the recipient's X25519 key with crypto_box_seal.
 *
 * Plaintext (canonical msgpack map, keys ascending, optional keys omitted):
 *   1: version  uint, always 1
 *   2: kind     uint, 0 = request, 1 = accept
 *   3: message  str, 1..KZ_CONTACT_MSG_MAX bytes of UTF-8 (required)
 *   4: reveal   str, optional: contact details the sender chooses to show
 *   5: ref      bin 32, required for accept: id of the request it answers
 * The ciphertext is crypto_box_seal(plaintext, X25519(to)) where X25519(to)
 * is crypto_sign_ed25519_pk_to_curve25519 of the recipient's member key; it
 * goes into kz_body_contact.sealed. docs/talk.md describes what other nodes
 * can see. */
#ifndef KZ_CONTACT_H
#define KZ_CONTACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_record.h"

#define KZ_CONTACT_VERSION 1
#define KZ_CONTACT_MSG_MAX 2000
#define KZ_CONTACT_REVEAL_MAX 1000
typedef enum { KZ_CONTACT_REQUEST = 0, KZ_CONTACT_ACCEPT = 1 } kz_contact_kind;

/* An opened or to-be-sealed message. Strings are NUL-terminated and owned
 * by the struct (fixed buffers): nothing to free. */
typedef struct {
    uint8_t kind;                            /* kz_contact_kind */
    char message[KZ_CONTACT_MSG_MAX + 1];
    char reveal[KZ_CONTACT_REVEAL_MAX + 1];  /* "" = none */
    bool has_ref;
    uint8_t ref[KZ_ID_BYTES];
} kz_contact_msg;

/* Encode m canonically and seal it to the member key `to`. out must hold
 * KZ_SEALED_MAX bytes; *outlen gets the ciphertext length. Returns KZ_EINVAL
 * (empty or oversized or non-UTF-8 message, accept without ref, request with
 * ref, unknown kind), KZ_ECRYPTO (to is not a valid Ed25519 point). */
int kz_contact_seal(const kz_contact_msg *m, const uint8_t to[KZ_KEY_BYTES],
                    uint8_t out[KZ_SEALED_MAX], size_t *outlen) KZ_WARN_UNUSED;

/* Open a sealed payload with the recipient's Ed25519 key pair (pk, sk as
 * libsodium makes them) and strictly decode it into m. The X25519 secret is
 * wiped before returning. Returns KZ_ECRYPTO (not sealed to this key, or
 * altered), KZ_EDECODE (not a well-formed canonical message of this version);
 * m is zeroed on failure. */
int kz_contact_open(const uint8_t *sealed, size_t len, const uint8_t pk[KZ_KEY_BYTES],
                    const uint8_t sk[KZ_SECKEY_BYTES], kz_contact_msg *m) KZ_WARN_UNUSED;

/* Encode / decode the plaintext alone (exposed for tests and fuzzing).
 * encode: out holds bufsz bytes, *len gets the length; KZ_EINVAL, KZ_ETOOBIG.
 * decode: KZ_EDECODE on anything but the exact canonical form. */
int kz_contact_msg_encode(const kz_contact_msg *m, uint8_t *out, size_t bufsz,
                          size_t *len) KZ_WARN_UNUSED;
int kz_contact_msg_decode(const uint8_t *p, size_t len, kz_contact_msg *m) KZ_WARN_UNUSED;

#endif
