/* kz_record.h: signed records, the only data kizuna replicates.
 *
 * A record is a canonical msgpack array
 *     [version, type, author, created_ms, body, signature]
 * where body is a map with small unsigned integer keys in strictly ascending
 * order (optional fields are omitted, never encoded empty). The signature is
 * Ed25519 over KZ_RECORD_SIG_DOMAIN followed by the canonical encoding of the
 * five-element array [version, type, author, created_ms, body]. The record id
 * is BLAKE2b-256 (unkeyed) of the complete encoded record. docs/protocol.md
 * gives every byte.
 *
 * Memory: a kz_record is caller-allocated. After kz_record_sign() or
 * kz_record_decode() it owns a private copy of the encoded bytes (raw); every
 * kz_str / kz_bytes inside a *decoded* record points into that copy and is
 * valid until kz_record_close(). Before signing, the caller fills the body
 * with pointers to its own memory, which must stay valid until sign returns.
 * kz_record_close() is safe on a zeroed or already-closed record. */
#ifndef KZ_RECORD_H
#define KZ_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_base.h"

#define KZ_RECORD_VERSION 1
#define KZ_RECORD_SIG_DOMAIN "kizuna/record/v1"   /* 16 bytes, then one NUL */
#define KZ_RECORD_SIG_DOMAIN_LEN 17                 /* the NUL is signed too */

#define KZ_HANDOVER_DOMAIN "kizuna/handover/v1" /* 18 bytes, then one NUL */
#define KZ_HANDOVER_DOMAIN_LEN 19                  /* the NUL is signed too */

#define KZ_KEY_BYTES 32     /* Ed25519 public key, member id, node id */
#define KZ_SECKEY_BYTES 64  /* libsodium Ed25519 secret key (seed || pk) */
#define KZ_SIG_BYTES 64
#define KZ_ID_BYTES 32

/* Limits (bytes unless stated). Checked on encode and on decode. */
#define KZ_RECORD_MAX 16384             /* whole encoded record */
#define KZ_FUTURE_MAX_MS (5u * 60u * 1000u) /* created_ms <= now + this */
#define KZ_TIME_MIN_MS 1577836800000ull /* 2020-01-01T00:00:00Z */
#define KZ_NAME_MAX 128        /* names, readings, romaji, company names */
#define KZ_SHORT_MAX 128       /* title, department, location, room, tz */
#define KZ_TEXT_MAX 8000       /* post / reply / bio / event description */
#define KZ_BIO_MAX 2000
#define KZ_URL_MAX 512
#define KZ_ADDR_MAX 255        /* "host:port" */
#define KZ_NODE_ADDRS_MAX 8
#define KZ_SKILLS_MAX 32       /* each at most KZ_SKILL_MAX */
#define KZ_SKILL_MAX 64
#define KZ_LINKS_MAX 8         /* each at most KZ_URL_MAX */
#define KZ_POLL_OPTIONS_MAX 10 /* each at most KZ_SHORT_MAX */
#define KZ_SEALED_MAX 4096     /* contact ciphertext */
#define KZ_YEAR_MIN 1900
#define KZ_YEAR_MAX 2200

typedef enum {
    KZ_T_NODE = 1,     /* node's own description; author = node key */
    KZ_T_ATTEST = 2,   /* node says: this member key is one of ours */
    KZ_T_REVOKE = 3,   /* node withdraws a member's attestation */
    KZ_T_PROFILE = 4,  /* member's directory profile (replaceable) */
    KZ_T_POST = 5,     /* talk-room post */
    KZ_T_REPLY = 6,    /* reply to a post */
    KZ_T_REACTION = 7, /* reaction to a post or reply (replaceable per target) */
    KZ_T_EVENT = 8,    /* event announcement */
    KZ_T_RSVP = 9,     /* answer to an event (replaceable per event) */
    KZ_T_DELETE = 10,  /* tombstone */
    KZ_T_CONTACT = 11, /* private contact request sealed to the recipient */
    KZ_T_VOTE = 12,    /* vote in a poll (replaceable per poll) */
    KZ_T_REPORT = 13,  /* flag sealed to the target author's home node */
    KZ_T_ROOM = 14,    /* topic room, created by a node (replaceable per name) */
    KZ_T_MAX = 14
} kz_rtype;

typedef enum { KZ_ROLE_ALUMNI = 0, KZ_ROLE_EMPLOYEE = 1, KZ_ROLE_SECRETARIAT = 2 } kz_role;
typedef enum { KZ_VIS_FEDERATION = 0, KZ_VIS_COMPANY = 1, KZ_VIS_HIDDEN = 2 } kz_visibility;
/* open_to bits that may appear in a replicated profile. Re-hire interest is
 * deliberately absent: it is private to the home node and never signed into a
 * record that leaves it (see kz_store_member). */
#define KZ_OPEN_RECONNECT 0x1u
#define KZ_OPEN_BUSINESS 0x2u
#define KZ_OPEN_MENTORING 0x4u
#define KZ_OPEN_ALL 0x7u
typedef enum {
    KZ_POST_TEXT = 0, KZ_POST_INTRO = 1, KZ_POST_REQUEST = 2,
    KZ_POST_PROMO = 3, KZ_POST_ARTICLE = 4, KZ_POST_POLL = 5, KZ_POST_KIND_MAX = 5
} kz_post_kind;
typedef enum { KZ_RSVP_GOING = 0, KZ_RSVP_MAYBE = 1, KZ_RSVP_NO = 2 } kz_rsvp_status;
#define KZ_REACTION_KINDS 6 /* like, thanks, celebrate, insightful, support, funny */

/* A string inside a record: UTF-8, not NUL-terminated. n == 0 means absent. */
typedef struct { const char *p; uint32_t n; } kz_str;
typedef struct { const uint8_t *p; uint32_t n; } kz_bytes;

/* Bodies. Map keys are given as "key N". Optional means omitted when
 * empty / zero / false. Years are 0 when absent. */
typedef struct {
    kz_str name;                          /* 1: company display name, required */
    uint32_t n_addrs;                     /* 2: gossip addresses, optional */
    kz_str addrs[KZ_NODE_ADDRS_MAX];
} kz_body_node;

typedef struct {
    uint8_t member[KZ_KEY_BYTES];         /* 1: subject member key, required */
    uint8_t role;                         /* 2: kz_role, always encoded */
    uint16_t joined, left;                /* 3, 4: years, optional */
    kz_str department;                    /* 5: optional */
    /* Key rotation (docs/protocol.md "Member key rotation"): 6 and 7 appear
     * together or not at all. previous is the member's old key; handover is
     * the old key's Ed25519 signature over KZ_HANDOVER_DOMAIN || member ||
     * author (the attesting node), checked by kz_record_verify. */
    bool has_previous;                    /* 6: bin 32, optional */
    uint8_t previous[KZ_KEY_BYTES];
    kz_bytes handover;                    /* 7: bin 64, with 6 */
} kz_body_attest;

typedef struct {
    uint8_t member[KZ_KEY_BYTES];         /* 1: subject member key, required */
    kz_str reason;                        /* 2: optional */
    /* 3 and 4: the hand-over of the attest this revoke replaces, carried
     * over so that the member's chain of keys outlives the revocation
     * (same rules and signature as attest fields 6 and 7). */
    bool has_previous;                    /* 3: bin 32, optional */
    uint8_t previous[KZ_KEY_BYTES];
    kz_bytes handover;                    /* 4: bin 64, with 3 */
} kz_body_revoke;

typedef struct {
    kz_str name;                          /* 1: required */
    kz_str reading;                       /* 2: yomigana, optional */
    kz_str romaji;                        /* 3 */
    kz_str department;                    /* 4 */
    kz_str title;                         /* 5 */
    uint16_t joined, left;                /* 6, 7 */
    kz_str current_company;               /* 8 */
    kz_str current_title;                 /* 9 */
    kz_str location;                      /* 10 */
    uint32_t n_skills;                    /* 11: array of str */
    kz_str skills[KZ_SKILLS_MAX];
    kz_str bio;                           /* 12 */
    uint32_t n_links;                     /* 13: array of str */
    kz_str links[KZ_LINKS_MAX];
    uint32_t open_to;                     /* 14: KZ_OPEN_* bits */
    uint8_t visibility;                   /* 15: kz_visibility, omitted when federation */
} kz_body_profile;

typedef struct {
    kz_str room;                          /* 1: required */
    uint8_t kind;                         /* 2: kz_post_kind, omitted when text */
    kz_str text;                          /* 3: required, newlines allowed */
    bool has_nominate;                    /* 4: intro only: next member to introduce themself */
    uint8_t nominate[KZ_KEY_BYTES];
    bool has_edit_of;                     /* 5: id of the post this edits */
    uint8_t edit_of[KZ_ID_BYTES];
    uint32_t n_options;                   /* 6: poll options (poll only, 2..10) */
    kz_str options[KZ_POLL_OPTIONS_MAX];
    bool closed;                          /* 7: request resolved / poll closed */
    bool has_event;                       /* 8: the event this post reports on, optional */
    uint8_t event[KZ_ID_BYTES];
} kz_body_post;

typedef struct {
    uint8_t parent[KZ_ID_BYTES];          /* 1: post id, required */
    kz_str text;                          /* 2: required */
    bool has_edit_of;                     /* 3 */
    uint8_t edit_of[KZ_ID_BYTES];
} kz_body_reply;

typedef struct {
    uint8_t target[KZ_ID_BYTES];          /* 1: post or reply id */
    uint8_t kind;                         /* 2: < KZ_REACTION_KINDS, always encoded */
    bool off;                             /* 3: reaction withdrawn */
} kz_body_reaction;

typedef struct {
    kz_str room;                          /* 1: required */
    kz_str title;                         /* 2: required */
    kz_str description;                   /* 3 */
    uint64_t start_ms, end_ms;            /* 4, 5: start required; end 0 = open */
    kz_str tz;                            /* 6: IANA zone, absent = Asia/Tokyo */
    kz_str place;                         /* 7 */
    kz_str link;                          /* 8 */
    uint32_t capacity;                    /* 9: 0 = unlimited */
    bool has_edit_of;                     /* 10 */
    uint8_t edit_of[KZ_ID_BYTES];
} kz_body_event;

typedef struct {
    uint8_t event[KZ_ID_BYTES];           /* 1: required */
    uint8_t status;                       /* 2: kz_rsvp_status, always encoded */
} kz_body_rsvp;

typedef struct {
    uint8_t target[KZ_ID_BYTES];          /* 1: id of the deleted record */
    uint8_t target_author[KZ_KEY_BYTES];  /* 2: its author (permission check) */
    kz_str reason;                        /* 3: optional */
} kz_body_delete;

typedef struct {
    uint8_t to[KZ_KEY_BYTES];             /* 1: recipient member key */
    kz_bytes sealed;                      /* 2: crypto_box_seal ciphertext */
} kz_body_contact;

typedef struct {
    uint8_t poll[KZ_ID_BYTES];            /* 1: id of the poll post, required */
    uint8_t option;                       /* 2: option index, always encoded */
} kz_body_vote;

/* Report plaintext (before sealing): target id (32 bytes) || reason (UTF-8,
 * 1..KZ_REPORT_REASON_MAX bytes, no control characters). */
#define KZ_REPORT_REASON_MAX 500
typedef struct {
    uint8_t to[KZ_KEY_BYTES];             /* 1: home node of the reported author */
    kz_bytes sealed;                      /* 2: crypto_box_seal to that node's X25519 key */
} kz_body_report;

typedef enum { KZ_SCOPE_FEDERATION = 0, KZ_SCOPE_COMPANY = 1 } kz_room_scope;
typedef struct {
    kz_str name;                          /* 1: required; see kz_room_name_valid */
    kz_str title;                         /* 2: optional */
    kz_str description;                   /* 3: optional, newlines allowed */
    uint8_t scope;                        /* 4: kz_room_scope, omitted when federation */
} kz_body_room;

typedef struct kz_record {
    uint8_t version;
    uint8_t type;                         /* kz_rtype */
    uint8_t author[KZ_KEY_BYTES];
    uint64_t created_ms;
    union {
        kz_body_node node;
        kz_body_attest attest;
        kz_body_revoke revoke;
        kz_body_profile profile;
        kz_body_post post;
        kz_body_reply reply;
        kz_body_reaction reaction;
        kz_body_event event;
        kz_body_rsvp rsvp;
        kz_body_delete del;
        kz_body_contact contact;
        kz_body_vote vote;
        kz_body_report report;
        kz_body_room room;
    } body;
    /* Set by kz_record_sign / kz_record_decode: */
    uint8_t sig[KZ_SIG_BYTES];
    uint8_t id[KZ_ID_BYTES];
    uint8_t *raw;                         /* owned encoded bytes */
    size_t raw_len;
} kz_record;

/* Prepare r for building: zeroes it and sets version, type, author (the
 * public key), created_ms. Fill r->body afterwards. */
void kz_record_init(kz_record *r, kz_rtype type, const uint8_t author[KZ_KEY_BYTES],
                    uint64_t created_ms);

/* Validate the body against its limits, encode canonically, sign with sk (whose
 * public half must equal r->author), and set sig, id and raw. On success the
 * string fields of r are re-pointed into raw, so the caller's buffers may be
 * released. Returns KZ_EINVAL (bad field; see kz_record_last_error()),
 * KZ_ETOOBIG, or KZ_ECRYPTO. */
int kz_record_sign(kz_record *r, const uint8_t sk[KZ_SECKEY_BYTES]) KZ_WARN_UNUSED;

/* Flags for kz_record_decode. */
#define KZ_DECODE_NOVERIFY 0x1u /* skip the signature check (caller verifies) */

/* Strictly decode buf[0..len) into r: reject oversize input, malformed or
 * non-canonical msgpack (the bytes are re-encoded and compared), unknown
 * versions, types or body keys, field values outside their limits, and
 * invalid UTF-8; then verify the signature unless KZ_DECODE_NOVERIFY. When
 * now_ms != 0, records created more than KZ_FUTURE_MAX_MS after now_ms are
 * KZ_EFUTURE. No allocation is sized by a length read from buf before it is
 * checked against the bytes that remain. On failure r is left closed.
 * Returns KZ_ETOOBIG, KZ_EDECODE, KZ_ENONCANON, KZ_EINVAL, KZ_EBADSIG or
 * KZ_EFUTURE. */
int kz_record_decode(kz_record *r, const uint8_t *buf, size_t len, uint64_t now_ms,
                     unsigned flags) KZ_WARN_UNUSED;

/* Verify r->sig over r's signed bytes and, for an attest or revoke carrying
 * a key hand-over, the hand-over signature too. 0 or KZ_EBADSIG.
 * Thread-safe. */
int kz_record_verify(const kz_record *r) KZ_WARN_UNUSED;

/* Key hand-over (record_handover.c). The old member key signs
 * KZ_HANDOVER_DOMAIN || new_member || node (19 + 32 + 32 bytes): "my
 * successor is new_member, attested by node". sign returns 0 or KZ_ECRYPTO;
 * verify returns 0 or KZ_EBADSIG. Thread-safe. */
int kz_handover_sign(uint8_t sig[KZ_SIG_BYTES], const uint8_t old_sk[KZ_SECKEY_BYTES],
                     const uint8_t new_member[KZ_KEY_BYTES],
                     const uint8_t node[KZ_KEY_BYTES]) KZ_WARN_UNUSED;
int kz_handover_verify(const uint8_t sig[KZ_SIG_BYTES], const uint8_t old_pk[KZ_KEY_BYTES],
                       const uint8_t new_member[KZ_KEY_BYTES],
                       const uint8_t node[KZ_KEY_BYTES]) KZ_WARN_UNUSED;

/* Release what r owns and zero it. */
void kz_record_close(kz_record *r);

/* BLAKE2b-256 of an encoded record. */
void kz_record_id(uint8_t id[KZ_ID_BYTES], const uint8_t *raw, size_t len);

/* A short English reason for the last KZ_EINVAL/KZ_EDECODE from sign/decode
 * on this thread (e.g. "profile.name: longer than 128 bytes"). */
const char *kz_record_last_error(void);

/* Replaceable records share a slot: the newest record in a slot wins
 * (ordered by created_ms, then by id bytes; larger wins).
 *   profile            -> ('P', author, zero)
 *   node               -> ('N', author, zero)
 *   attest and revoke  -> ('M', author, member)   (membership, latest wins)
 *   rsvp               -> ('R', author, event)
 *   reaction           -> ('X', author, target)
 *   vote               -> ('V', author, poll)
 *   room               -> ('O', author, BLAKE2b-256(name))
 * Returns true and fills slot for replaceable types, false otherwise. */
#define KZ_SLOT_BYTES (1 + KZ_KEY_BYTES + KZ_ID_BYTES)
bool kz_record_slot(const kz_record *r, uint8_t slot[KZ_SLOT_BYTES]);

/* Does (a_created, a_id) sort after (b_created, b_id)? */
bool kz_record_newer(uint64_t a_created, const uint8_t a_id[KZ_ID_BYTES],
                     uint64_t b_created, const uint8_t b_id[KZ_ID_BYTES]);

/* Room names. "lounge" is the federation-wide room; "company:<node id hex>"
 * is the room of that node's company; any other name is a topic room that
 * needs a `room` record. A topic room name is 1..64 bytes of [a-z0-9_-] and
 * is neither "lounge" nor starts with "company:". kz_room_name_valid accepts
 * all three forms; kz_room_topic_valid only topic names. */
#define KZ_ROOM_LOUNGE "lounge"
#define KZ_ROOM_COMPANY_PREFIX "company:"
#define KZ_ROOM_TOPIC_MAX 64
bool kz_room_name_valid(const char *name, size_t len);
bool kz_room_topic_valid(const char *name, size_t len);
/* For "company:<hex>", fill node and return true. */
bool kz_room_company_node(const char *name, size_t len, uint8_t node[KZ_KEY_BYTES]);

/* Is this a member-authored type (profile, post, reply, reaction, event,
 * rsvp, contact, vote, report)? Those need a live attestation of their author. delete may
 * be authored by a member or a node. */
bool kz_rtype_is_member(int type);

/* "node", "attest", ... ; NULL for an unknown type. */
const char *kz_rtype_name(int type);
/* Inverse of kz_rtype_name; 0 when unknown. */
int kz_rtype_parse(const char *name);

#endif
