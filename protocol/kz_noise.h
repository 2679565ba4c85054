/* kz_noise.h: the Noise Protocol Framework handshake and kizuna's use of it.
 *
 * Two layers, both pure code (no I/O, no clock):
 *
 * 1. A generic Noise engine for the 25519 / ChaChaPoly / SHA256 suite:
 *    CipherState (kz_noise_cipher), SymmetricState (inside the state) and
 *    HandshakeState (kz_noise_state), driven by token patterns with
 *    pre-messages and the pskN modifiers. It implements revision 34 of the
 *    Noise specification for the patterns NN, NK, KK, XK, IK and XX with any
 *    combination of psk0..psk3, and passes the cacophony test vectors
 *    (tests/vectors/noise-vectors.txt). Pre-messages may only name static
 *    keys ("s"); none of the supported patterns has an "e" pre-message.
 *
 * 2. The kizuna handshake (kz_noise_hs): Noise_XXpsk0_25519_ChaChaPoly_SHA256
 *    with prologue "kizuna/1", the 32-byte federation key as PSK and each
 *    node's Ed25519 key converted to X25519 as its Noise static key. Three
 *    messages of fixed length; docs/protocol.md ("Handshake") gives every byte.
 *
 * Both layers fail closed: after any error (bad input, failed MAC, wrong
 * peer, or a call out of order) the object wipes its secrets and every later
 * call returns KZ_EINVAL. Only *_free remains useful.
 *
 * Secrets are wiped with sodium_memzero when they are no longer needed, on
 * every error path and in *_free / *_close. Objects are not thread-safe; use
 * one from one thread at a time. libsodium is initialised on first use. */
#ifndef KZ_NOISE_H
#define KZ_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "kz_base.h"

#define KZ_NOISE_KEYLEN 32   /* ChaChaPoly key, PSK */
#define KZ_NOISE_HASHLEN 32  /* SHA-256 */
#define KZ_NOISE_DHLEN 32    /* X25519 public and private keys */
#define KZ_NOISE_TAGLEN 16   /* Poly1305 tag */
#define KZ_NOISE_MSG_MAX 65535u /* any Noise message, handshake or transport */

/* ------------------------------------------------------------------------
 * CipherState: a key k (or none) and a 64-bit nonce n. The AEAD nonce is
 * four zero bytes followed by n in little-endian, as Noise specifies for
 * ChaChaPoly. Caller-allocated; the fields are read-only to callers.
 * ------------------------------------------------------------------------ */
typedef struct {
    uint8_t k[KZ_NOISE_KEYLEN];
    uint64_t n;
    int has_key;
} kz_noise_cipher;

/* Set the key (k may be NULL: no key, encryption is the identity) and n = 0. */
void kz_noise_cipher_init(kz_noise_cipher *c, const uint8_t k[KZ_NOISE_KEYLEN]);

/* Wipe the key. Safe on a zeroed or already closed cipher. */
void kz_noise_cipher_close(kz_noise_cipher *c);

/* EncryptWithAd: writes ptlen + KZ_NOISE_TAGLEN bytes (ptlen without a key)
 * to out and increments n. out must not overlap pt. ad may be NULL if adlen
 * is 0, pt may be NULL if ptlen is 0.
 * Returns 0; KZ_ETOOBIG if the result would exceed KZ_NOISE_MSG_MAX or outcap,
 * or the nonce is exhausted (n = 2^64-1). On error nothing is written and n
 * is unchanged. */
int kz_noise_cipher_encrypt(kz_noise_cipher *c, const uint8_t *ad, size_t adlen,
                            const uint8_t *pt, size_t ptlen, uint8_t *out,
                            size_t outcap, size_t *outlen) KZ_WARN_UNUSED;

/* DecryptWithAd: verifies the tag before writing anything, writes
 * ctlen - KZ_NOISE_TAGLEN bytes to out and increments n.
 * Returns 0; KZ_EAUTH if the tag does not verify (n unchanged, out untouched);
 * KZ_EPROTO if ctlen is shorter than a tag; KZ_ETOOBIG if ctlen exceeds
 * KZ_NOISE_MSG_MAX, the plaintext exceeds outcap or the nonce is exhausted. */
int kz_noise_cipher_decrypt(kz_noise_cipher *c, const uint8_t *ad, size_t adlen,
                            const uint8_t *ct, size_t ctlen, uint8_t *out,
                            size_t outcap, size_t *outlen) KZ_WARN_UNUSED;

/* ------------------------------------------------------------------------
 * HandshakeState (generic). Heap object: kz_noise_state_create / _free.
 * ------------------------------------------------------------------------ */
typedef struct kz_noise_state kz_noise_state;

typedef struct {
    /* Full protocol name, e.g. "Noise_XXpsk0_25519_ChaChaPoly_SHA256".
     * Only the 25519_ChaChaPoly_SHA256 suite is accepted. */
    const char *protocol;
    int initiator;            /* nonzero: this side sends the first message */
    const uint8_t *prologue;  /* may be NULL when prologue_len is 0 */
    size_t prologue_len;      /* at most KZ_NOISE_MSG_MAX */
    /* Local static X25519 private key. Required exactly when the pattern
     * uses this side's static key (an "s" token it sends or a pre-message). */
    const uint8_t *s;
    /* Public key matching s. Optional: when NULL it is computed with
     * crypto_scalarmult_base. kizuna passes the Ed25519-converted key. */
    const uint8_t *s_pub;
    /* Remote static public key. Required exactly when the pattern has the
     * peer's static key as a pre-message (e.g. the initiator in IK). */
    const uint8_t *rs;
    /* 32-byte pre-shared key. Required exactly when the pattern has a pskN
     * modifier. */
    const uint8_t *psk;
} kz_noise_config;

/* Parse cfg->protocol, run Initialize() (protocol name, prologue,
 * pre-messages) and return a new state in *out, owned by the caller (free
 * with kz_noise_state_free). The config's buffers are copied; they need not
 * outlive the call.
 * Returns 0; KZ_EINVAL for an unsupported name, a missing key the pattern
 * needs or a key it cannot use; KZ_ETOOBIG for an over-long prologue;
 * KZ_ECRYPTO if libsodium cannot initialise or a static key is unusable. */
int kz_noise_state_create(kz_noise_state **out, const kz_noise_config *cfg) KZ_WARN_UNUSED;

/* Wipe and free. NULL-safe. */
void kz_noise_state_free(kz_noise_state *st);

/* FOR TESTS AND TEST VECTORS ONLY: use e (an X25519 private key) as this
 * side's ephemeral key instead of a random one. Must be called before this
 * side sends its "e" token. Returns 0 or KZ_EINVAL (too late, or failed). */
int kz_noise_state_set_ephemeral(kz_noise_state *st, const uint8_t e[KZ_NOISE_DHLEN]) KZ_WARN_UNUSED;

/* What the state expects next. */
enum {
    KZ_NOISE_FAILED = 0,  /* an error occurred; the state refuses everything */
    KZ_NOISE_WRITE = 1,   /* call kz_noise_state_write */
    KZ_NOISE_READ = 2,    /* call kz_noise_state_read */
    KZ_NOISE_DONE = 3     /* handshake complete: split and hash available */
};
int kz_noise_state_action(const kz_noise_state *st);

/* Length of the next handshake message (the one this side is about to write
 * or read) when it carries payload_len bytes of payload, or 0 if no message
 * is expected (done, failed) or the message would exceed KZ_NOISE_MSG_MAX. */
size_t kz_noise_state_msg_len(const kz_noise_state *st, size_t payload_len);

/* WriteMessage: process the next message's tokens and encrypt payload into
 * out (which must not overlap payload). Sizes are checked before any work.
 * Returns 0 with *outlen set; KZ_EINVAL if it is not this side's turn;
 * KZ_ETOOBIG if the message would not fit outcap or KZ_NOISE_MSG_MAX;
 * KZ_EAUTH if a DH yields the all-zero output (peer sent a low-order key);
 * KZ_ECRYPTO if libsodium fails. Any error fails the state. */
int kz_noise_state_write(kz_noise_state *st, const uint8_t *payload, size_t payload_len,
                         uint8_t *out, size_t outcap, size_t *outlen) KZ_WARN_UNUSED;

/* ReadMessage: check msg_len against the pattern before touching any byte,
 * process the tokens and decrypt the payload into payload (which must not
 * overlap msg). The payload is written only after its tag has verified.
 * Returns 0 with *payload_len set; KZ_EINVAL if it is not this side's turn;
 * KZ_ETOOBIG if msg_len exceeds KZ_NOISE_MSG_MAX or the payload exceeds
 * payload_cap; KZ_EPROTO if msg_len is too short for the pattern; KZ_EAUTH
 * if a tag does not verify or a DH yields all zeros. Any error fails the state. */
int kz_noise_state_read(kz_noise_state *st, const uint8_t *msg, size_t msg_len,
                        uint8_t *payload, size_t payload_cap, size_t *payload_len) KZ_WARN_UNUSED;

/* Split(): once the handshake is done, hand out the two transport cipher
 * states: i2r encrypts initiator-to-responder, r2i responder-to-initiator.
 * Either pointer may be NULL. One-shot: the state keeps no copy afterwards.
 * The caller closes them with kz_noise_cipher_close.
 * Returns 0; KZ_EINVAL if not done or already split. */
int kz_noise_state_split(kz_noise_state *st, kz_noise_cipher *i2r, kz_noise_cipher *r2i) KZ_WARN_UNUSED;

/* The final handshake hash h (channel binding). Returns 0 or KZ_EINVAL if
 * the handshake is not done. */
int kz_noise_state_hash(const kz_noise_state *st, uint8_t h[KZ_NOISE_HASHLEN]) KZ_WARN_UNUSED;

/* The peer's static public key, once known (pre-message or received).
 * Returns 0; KZ_ENOTFOUND if not known yet; KZ_EINVAL if the state failed. */
int kz_noise_state_remote_static(const kz_noise_state *st, uint8_t rs[KZ_NOISE_DHLEN]) KZ_WARN_UNUSED;

/* Number of X25519 Diffie-Hellman computations (crypto_scalarmult with a
 * peer's key) this state has done; key generation is not counted. Kept
 * across failure so tests can show where a handshake stopped. */
unsigned kz_noise_state_dh_count(const kz_noise_state *st);

/* ------------------------------------------------------------------------
 * The kizuna handshake: Noise_XXpsk0_25519_ChaChaPoly_SHA256.
 *
 *   initiator (dialer)                      responder (listener)
 *   write_msg1  -> 48 bytes: psk, e      -> read_msg1   (PSK checked here)
 *   read_msg2   <- 97 bytes: e, ee, s, es <- write_msg2
 *      (node id checked here)
 *   write_msg3  -> 97 bytes: s, se        -> read_msg3
 *   result                                   result
 *
 * Payloads (inside the AEAD, so only peers with the federation key see them):
 *   msg1: empty (the 16-byte tag alone proves knowledge of the PSK).
 *   msg2: 1 byte, the highest wire version the responder speaks (>= 1).
 *   msg3: 1 byte, the version the initiator chose (>= 1 and <= the
 *         responder's highest), then the initiator's 32-byte Ed25519 node
 *         id, which must convert to the static key it authenticated with.
 * Any other message length is refused with KZ_EPROTO before a byte is read.
 * On TCP the messages go as they are, back to back, without a length prefix:
 * the reader always knows the one length it accepts next.
 * Bytes 0..31 of msg1 are the dialler's ephemeral key; a listener may keep
 * recent ones to refuse replayed msg1s (Noise does not prevent replay).
 * ------------------------------------------------------------------------ */
#define KZ_NOISE_PROTOCOL "Noise_XXpsk0_25519_ChaChaPoly_SHA256"
#define KZ_NOISE_PROLOGUE "kizuna/1"  /* 8 ASCII bytes, no terminator */
#define KZ_NOISE_PROLOGUE_LEN 8
#define KZ_NOISE_WIRE_VERSION 1       /* highest wire version this build speaks */
#define KZ_NOISE_MSG1_LEN 48          /* e(32) + tag(16) */
#define KZ_NOISE_MSG2_LEN 97          /* e(32) + s(32+16) + version(1+16) */
#define KZ_NOISE_MSG3_LEN 97          /* s(32+16) + version,node id(33+16) */
#define KZ_NOISE_HS_MSG_MAX 97
#define KZ_NOISE_NODE_ID_LEN 32       /* Ed25519 public key */
#define KZ_NOISE_NODE_SK_LEN 64       /* libsodium Ed25519 secret key (seed || pk) */
#define KZ_NOISE_FEDKEY_LEN 32

/* A node's Noise identity, derived once from its Ed25519 key and shared by
 * all its handshakes. Caller-allocated: kz_noise_identity_init / _close. */
typedef struct {
    uint8_t node_id[KZ_NOISE_NODE_ID_LEN]; /* Ed25519 public key */
    uint8_t x_sk[KZ_NOISE_DHLEN];          /* X25519 static private key (secret) */
    uint8_t x_pub[KZ_NOISE_DHLEN];         /* X25519 static public key */
} kz_noise_identity;

/* Convert node_sk (libsodium Ed25519 secret key, seed || pk) with
 * crypto_sign_ed25519_sk_to_curve25519 / _pk_to_curve25519 and check that
 * the two halves form one X25519 key pair. This costs about two scalar
 * multiplications: do it once at start-up, not per connection.
 * Returns 0; KZ_EINVAL if the key is not a consistent Ed25519 key (me is
 * then zeroed); KZ_ECRYPTO if libsodium cannot initialise. */
int kz_noise_identity_init(kz_noise_identity *me,
                           const uint8_t node_sk[KZ_NOISE_NODE_SK_LEN]) KZ_WARN_UNUSED;

/* Wipe the identity. NULL-safe. */
void kz_noise_identity_close(kz_noise_identity *me);

typedef struct kz_noise_hs kz_noise_hs;

/* What a completed handshake yields. The caller owns it and must wipe it
 * with kz_noise_result_clear once the keys have been handed to
 * crypto_secretstream_xchacha20poly1305. */
typedef struct {
    uint8_t i2r[KZ_NOISE_KEYLEN];   /* key of the initiator -> responder stream */
    uint8_t r2i[KZ_NOISE_KEYLEN];   /* key of the responder -> initiator stream */
    uint8_t hash[KZ_NOISE_HASHLEN]; /* handshake hash, equal on both sides */
    uint8_t peer_id[KZ_NOISE_NODE_ID_LEN];  /* peer's Ed25519 node id */
    uint8_t peer_static[KZ_NOISE_DHLEN];    /* peer's X25519 static key */
    uint8_t version;                /* negotiated wire version (>= 1) */
    uint8_t initiator;              /* 1 if this side dialled */
} kz_noise_result;

/* Start a handshake as the dialer. me: this node's identity; fed_key: the
 * federation key; peer_id: the node id the operator configured for the
 * address being dialled. Everything is copied: none of the arguments need
 * outlive the call. The new object is owned by the caller (kz_noise_hs_free).
 * Returns 0; KZ_EINVAL if peer_id is not a valid Ed25519 public key. */
int kz_noise_hs_create_initiator(kz_noise_hs **out, const kz_noise_identity *me,
                                 const uint8_t fed_key[KZ_NOISE_FEDKEY_LEN],
                                 const uint8_t peer_id[KZ_NOISE_NODE_ID_LEN]) KZ_WARN_UNUSED;

/* Start a handshake as the listener; the peer's identity is learnt from
 * message 3. Costs no scalar multiplication: an outsider's connection costs
 * this, a few hashes and one failed AEAD check. Same ownership as above;
 * returns 0 (or KZ_ECRYPTO if libsodium cannot initialise). */
int kz_noise_hs_create_responder(kz_noise_hs **out, const kz_noise_identity *me,
                                 const uint8_t fed_key[KZ_NOISE_FEDKEY_LEN]) KZ_WARN_UNUSED;

/* Wipe and free. NULL-safe. */
void kz_noise_hs_free(kz_noise_hs *hs);

/* FOR TESTS AND GOLDEN VECTORS ONLY: fix this side's ephemeral X25519
 * private key. Call before the side's first message. 0 or KZ_EINVAL. */
int kz_noise_hs_set_ephemeral(kz_noise_hs *hs, const uint8_t e[KZ_NOISE_DHLEN]) KZ_WARN_UNUSED;

/* The six steps. Each write fills exactly KZ_NOISE_MSGn_LEN bytes of out.
 * Each read refuses any msg_len other than KZ_NOISE_MSGn_LEN (KZ_EPROTO)
 * before reading a byte. Calling a step out of order or on the wrong side
 * returns KZ_EINVAL. Any error fails the handshake for good.
 *
 * read_msg1 returns KZ_EAUTH when the sender does not hold the federation
 * key (or uses another prologue): the only work done before that verdict is
 * hashing and one AEAD verification; no Diffie-Hellman.
 * read_msg2 returns KZ_EAUTH if the responder's static key is not the
 * conversion of the expected node id, or its MACs fail; KZ_EPROTO if the
 * version byte is 0.
 * read_msg3 returns KZ_EAUTH if a MAC fails or the claimed node id does not
 * convert to the static key the initiator proved; KZ_EPROTO if the version
 * is 0 or above what this side offered. */
int kz_noise_hs_write_msg1(kz_noise_hs *hs, uint8_t out[KZ_NOISE_MSG1_LEN]) KZ_WARN_UNUSED;
int kz_noise_hs_read_msg1(kz_noise_hs *hs, const uint8_t *msg, size_t msg_len) KZ_WARN_UNUSED;
int kz_noise_hs_write_msg2(kz_noise_hs *hs, uint8_t out[KZ_NOISE_MSG2_LEN]) KZ_WARN_UNUSED;
int kz_noise_hs_read_msg2(kz_noise_hs *hs, const uint8_t *msg, size_t msg_len) KZ_WARN_UNUSED;
int kz_noise_hs_write_msg3(kz_noise_hs *hs, uint8_t out[KZ_NOISE_MSG3_LEN]) KZ_WARN_UNUSED;
int kz_noise_hs_read_msg3(kz_noise_hs *hs, const uint8_t *msg, size_t msg_len) KZ_WARN_UNUSED;

/* Is the handshake complete (initiator: after write_msg3; responder: after
 * read_msg3)? 1 or 0. */
int kz_noise_hs_done(const kz_noise_hs *hs);

/* Copy out the result of a completed handshake (one-shot: the split keys
 * are wiped inside hs afterwards). Returns 0; KZ_EINVAL if not done, failed
 * or already taken. */
int kz_noise_hs_result(kz_noise_hs *hs, kz_noise_result *res) KZ_WARN_UNUSED;

/* Wipe a result (sodium_memzero). NULL-safe. */
void kz_noise_result_clear(kz_noise_result *res);

/* X25519 Diffie-Hellman computations done so far (see
 * kz_noise_state_dh_count); 0 after a failed read_msg1. */
unsigned kz_noise_hs_dh_count(const kz_noise_hs *hs);

/* The Noise static public key of a node: its Ed25519 id converted with
 * crypto_sign_ed25519_pk_to_curve25519. Returns 0 or KZ_EINVAL if the id is
 * not a usable Ed25519 point. */
int kz_noise_static_from_node(uint8_t x25519[KZ_NOISE_DHLEN],
                              const uint8_t node_id[KZ_NOISE_NODE_ID_LEN]) KZ_WARN_UNUSED;

/* Is x25519 the Noise static key of node_id? Compares in constant time
 * (sodium_memcmp). Returns 1 if it is, 0 if not or the id is invalid. */
int kz_noise_static_matches_node(const uint8_t x25519[KZ_NOISE_DHLEN],
                                 const uint8_t node_id[KZ_NOISE_NODE_ID_LEN]);

#endif
