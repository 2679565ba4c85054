/* kz_wire.h: the messages peers exchange inside transport frames (msgpack, canonical, strictly decoded).
 *
 * Every frame plaintext (kz_frame.h) is exactly one message: a canonical
 * msgpack array whose first element is the message type. Canonical means the
 * shortest msgpack form for every integer, string, binary and array header,
 * unsigned integers only, no maps, floats, nil or extension types, and no
 * bytes after the array. docs/protocol.md ("Frames and messages") gives every byte.
 *
 *   type  name     elements after the type
 *   1     HELLO    vmin uint, vmax uint, node_id bin(32), features uint,
 *                  clock_ms uint, node_record bin(0..KZ_RECORD_MAX)
 *   2     PING     nonce uint
 *   3     PONG     nonce uint (echoes the PING's)
 *   4     HAVE     [bin(32) x 1..KZ_WIRE_IDS_MAX]   record ids the sender holds
 *   5     WANT     [bin(32) x 1..KZ_WIRE_IDS_MAX]   record ids the sender asks for
 *   6     RECORDS  [bin(1..KZ_RECORD_MAX) x 1..KZ_WIRE_RECORDS_MAX]  raw records
 *   7     RECON    session uint32, round uint32, payload bin(0..KZ_WIRE_RECON_MAX)
 *   8     ERROR    code uint32, reason str(0..KZ_WIRE_REASON_MAX, UTF-8, no controls)
 *   9     BYE      (nothing)
 *
 * Unknown message types are a protocol error in version 1: new messages come
 * with a new protocol version (or a feature bit both sides announced), which
 * HELLO negotiates, so a peer never receives a type it did not agree to.
 *
 * Conversation rules (enforced by the peer layer, helpers below): each side's
 * first frame is HELLO and no other frame carries HELLO; the agreed version
 * is the highest both support (kz_wire_negotiate()) and must equal the
 * version the Noise handshake already chose (kz_noise_result.version), else
 * ERROR KZ_WERR_PROTOCOL; ERROR and BYE are sent only as the FINAL frame of a
 * direction and a FINAL frame carries nothing else (kz_wire_final_ok()); the
 * HELLO node id must be the peer the handshake authenticated (equal to
 * kz_noise_result.peer_id, or kz_wire_hello_check_static() against the Noise
 * remote static key).
 *
 * Memory: decoding is zero-copy. Every pointer in a decoded kz_wire_msg
 * points into the buffer that was decoded (normally the frame plaintext from
 * kz_frame_rx_next()) and is valid exactly as long as that buffer: until the
 * next kz_frame_rx_feed(). Copy what must live longer (records handed to the
 * verifier thread, for instance). Encoders return heap bytes in a kz_wire_buf
 * that the caller releases with kz_wire_buf_free(). */
#ifndef KZ_WIRE_H
#define KZ_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_base.h"
#include "kz_frame.h"
#include "kz_record.h"

/* Protocol versions this build speaks. */
#define KZ_WIRE_VERSION_MIN 1u
#define KZ_WIRE_VERSION_MAX 1u

/* Limits, checked on encode and on decode. */
#define KZ_WIRE_IDS_MAX 4096u            /* ids per HAVE / WANT */
#define KZ_WIRE_RECORDS_MAX 4096u        /* records per RECORDS */
#define KZ_WIRE_RECON_MAX (512u * 1024u) /* RECON payload bytes */
#define KZ_WIRE_REASON_MAX 256u          /* ERROR reason bytes */
/* Every message must also fit one frame: at most KZ_FRAME_MAX bytes. A
 * RECORDS message costs at most KZ_WIRE_RECORDS_BASE bytes plus, per record,
 * its length plus KZ_WIRE_RECORD_ITEM_OVERHEAD; a sender can pack greedily
 * with these bounds. */
#define KZ_WIRE_RECORDS_BASE 7u          /* outer array, type, list header */
#define KZ_WIRE_RECORD_ITEM_OVERHEAD 3u  /* bin8 / bin16 header */

typedef enum {
    KZ_MSG_HELLO = 1,
    KZ_MSG_PING = 2,
    KZ_MSG_PONG = 3,
    KZ_MSG_HAVE = 4,
    KZ_MSG_WANT = 5,
    KZ_MSG_RECORDS = 6,
    KZ_MSG_RECON = 7,
    KZ_MSG_ERROR = 8,
    KZ_MSG_BYE = 9,
    KZ_MSG_MAX = 9
} kz_msg_type;

/* Codes carried by ERROR. A receiver logs unknown codes as "unknown" and
 * treats them like any other error: the connection is over. */
typedef enum {
    KZ_WERR_PROTOCOL = 1,  /* malformed frame or message, or one out of order */
    KZ_WERR_VERSION = 2,   /* no protocol version in common */
    KZ_WERR_AUTH = 3,      /* HELLO node id is not the handshake's key */
    KZ_WERR_BLOCKED = 4,   /* the receiver's operator blocked the sender's node */
    KZ_WERR_BUSY = 5,      /* too many connections; retry later with backoff */
    KZ_WERR_DUPLICATE = 6, /* a connection between these two nodes already exists */
    KZ_WERR_TIMEOUT = 7,   /* the peer was silent for too long */
    KZ_WERR_INTERNAL = 8,  /* the sender hit a local failure (storage, memory) */
    KZ_WERR_MAX = 8
} kz_wire_errcode;

/* HELLO. node_record may be empty (n == 0): the sender has none yet. */
typedef struct {
    uint32_t version_min, version_max; /* 1 <= min <= max */
    uint8_t node_id[KZ_KEY_BYTES];     /* sender's Ed25519 node key */
    uint64_t features;                 /* KZ_WIRE_F_* bits; unknown bits ignored */
    uint64_t clock_ms;                 /* sender's wall clock, for skew warnings */
    kz_bytes node_record;              /* raw signed `node` record of the sender */
} kz_wire_hello;

/* No feature bits are defined in version 1; senders send 0. */
#define KZ_WIRE_FEATURES_V1 0u

/* A decoded message. Only the member that matches type is set. */
typedef struct {
    kz_msg_type type;
    union {
        kz_wire_hello hello;                   /* HELLO */
        uint64_t nonce;                        /* PING, PONG */
        struct {                               /* HAVE, WANT, RECORDS */
            uint32_t n;                        /* 1 .. the type's limit */
            const uint8_t *items;              /* first element, inside the buffer */
            size_t items_len;                  /* bytes of all elements */
        } list;
        struct {
            uint32_t session, round;
            kz_bytes payload;                  /* opaque to this layer */
        } recon;                               /* RECON */
        struct {
            uint32_t code;                     /* kz_wire_errcode, or unknown */
            kz_str reason;                     /* n == 0: none */
        } error;                               /* ERROR */
    } u;
} kz_wire_msg;

/* Encoded bytes, owned by the caller. */
typedef struct {
    uint8_t *p;
    size_t len;
} kz_wire_buf;

/* Free b->p and zero b. Safe on a zeroed buffer. */
void kz_wire_buf_free(kz_wire_buf *b);

/* ---- Decoding -------------------------------------------------------- */

/* Strictly decode one message from buf[0..len) into *m, zero-copy (see the
 * lifetime note above). Checks every declared count and length against the
 * bytes that remain before using it and allocates nothing. Returns 0 or:
 *   KZ_ETOOBIG    len > KZ_FRAME_MAX, or a count/length over its limit
 *   KZ_EDECODE    not msgpack, truncated, wrong element type or arity,
 *                 bytes after the message, invalid UTF-8 in a reason,
 *                 versions out of order, a bin of the wrong size
 *   KZ_ENONCANON  well-formed but not the shortest encoding
 *   KZ_EPROTO     a message type this version does not know
 * On failure *m is zeroed; kz_wire_last_error() says why. */
int kz_wire_decode(kz_wire_msg *m, const uint8_t *buf, size_t len) KZ_WARN_UNUSED;

/* A short English reason for the last decode or encode failure on this
 * thread, e.g. "WANT: 5000 ids, limit 4096". Static or thread-local storage. */
const char *kz_wire_last_error(void);

/* The i-th id of a decoded HAVE or WANT (i < m->u.list.n): 32 bytes inside
 * the decoded buffer. NULL for other types or i out of range. */
const uint8_t *kz_wire_id_at(const kz_wire_msg *m, uint32_t i);

/* Walks the records of a decoded RECORDS message. */
typedef struct {
    const uint8_t *p, *end;
    uint32_t left;
} kz_wire_iter;

/* Start walking m (RECORDS; for other types the walk is empty). */
void kz_wire_records_begin(const kz_wire_msg *m, kz_wire_iter *it);

/* Next raw record (not decoded or verified: that is the record codec's job);
 * returns false at the end. rec points into the decoded buffer. */
bool kz_wire_records_next(kz_wire_iter *it, kz_bytes *rec);

/* ---- Encoding ---------------------------------------------------------
 * Each encoder writes one canonical message (msgpack-c's packer) to a fresh
 * out->p. They validate their arguments against the same limits the decoder
 * enforces, so that anything encoded also decodes. Return 0, KZ_EINVAL (bad
 * argument), KZ_ETOOBIG (over a limit, or larger than KZ_FRAME_MAX) or
 * KZ_ENOMEM. On failure *out is zeroed. */

int kz_wire_encode_hello(const kz_wire_hello *h, kz_wire_buf *out) KZ_WARN_UNUSED;
int kz_wire_encode_ping(uint64_t nonce, kz_wire_buf *out) KZ_WARN_UNUSED;
int kz_wire_encode_pong(uint64_t nonce, kz_wire_buf *out) KZ_WARN_UNUSED;
/* type is KZ_MSG_HAVE or KZ_MSG_WANT; ids holds n ids of 32 bytes each. */
int kz_wire_encode_ids(kz_msg_type type, const uint8_t (*ids)[KZ_ID_BYTES], uint32_t n,
                       kz_wire_buf *out) KZ_WARN_UNUSED;
/* recs[0..n): raw records, each 1..KZ_RECORD_MAX bytes (not inspected). */
int kz_wire_encode_records(const kz_bytes *recs, uint32_t n, kz_wire_buf *out) KZ_WARN_UNUSED;
int kz_wire_encode_recon(uint32_t session, uint32_t round, const uint8_t *payload, size_t len,
                         kz_wire_buf *out) KZ_WARN_UNUSED;
/* reason may be NULL (none); it must be valid UTF-8 without control
 * characters and at most KZ_WIRE_REASON_MAX bytes (KZ_EINVAL otherwise:
 * callers truncate on a character boundary first). */
int kz_wire_encode_error(uint32_t code, const char *reason, kz_wire_buf *out) KZ_WARN_UNUSED;
int kz_wire_encode_bye(kz_wire_buf *out) KZ_WARN_UNUSED;

/* Re-encode a decoded (or hand-built) message. For a message that
 * kz_wire_decode() accepted the output equals the decoded bytes: the
 * canonical-form property the fuzz target checks. */
int kz_wire_encode(const kz_wire_msg *m, kz_wire_buf *out) KZ_WARN_UNUSED;

/* ---- Conversation helpers -------------------------------------------- */

/* Version negotiation from the two HELLOs: the highest version both support.
 * Returns 0 and sets *version, or KZ_EPROTO when the ranges do not meet (the
 * caller then sends ERROR KZ_WERR_VERSION as its final frame and closes). */
int kz_wire_negotiate(const kz_wire_hello *mine, const kz_wire_hello *theirs,
                      uint32_t *version) KZ_WARN_UNUSED;

/* Does the HELLO's node id belong to the handshake's authenticated remote
 * static key? Noise uses X25519 statics derived from the Ed25519 node keys, so
 * this converts node_id with crypto_sign_ed25519_pk_to_curve25519 and
 * compares in constant time. Returns 0, or KZ_EAUTH (mismatch or a node_id
 * that is not a valid Ed25519 point); the caller then sends ERROR
 * KZ_WERR_AUTH and closes. */
int kz_wire_hello_check_static(const kz_wire_hello *h,
                               const uint8_t remote_static[KZ_KEY_BYTES]) KZ_WARN_UNUSED;

/* Is a message of this type allowed in a frame whose FINAL flag is final?
 * ERROR and BYE travel only in the FINAL frame, everything else only in
 * non-final frames. */
bool kz_wire_final_ok(kz_msg_type type, bool final);

/* "HELLO", "PING", ...; "unknown" for anything else. Never NULL. */
const char *kz_wire_type_name(uint32_t type);
/* "protocol", "version", ...; "unknown" for anything else. Never NULL. */
const char *kz_wire_errcode_name(uint32_t code);

#endif
