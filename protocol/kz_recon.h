/* kz_recon.h: range-based set reconciliation of (created_ms, id) items.
 *
 * Two peers each hold a set of items ordered by (created_ms, id). They
 * exchange messages that describe sub-ranges of the key space by fingerprint,
 * by short-id list or by full ids, and narrow down the ranges that differ
 * until each side knows exactly
 *   - "have": ids it holds that the peer lacks, and
 *   - "need": ids the peer holds that it lacks.
 * Traffic grows with the number of differences, not with the set size. The
 * design follows negentropy (Doug Hoyte) and Aljoscha Meyer's range-based
 * reconciliation, with kizuna's own wire format (canonical msgpack), salted
 * 8-byte fingerprints, 8-byte short ids at the leaves, small invertible Bloom
 * lookup tables ("sketches") for ranges with few differences, and a
 * frame-size budget that carries unanswered ranges over to the next round
 * instead of dropping them. docs/protocol.md ("Set reconciliation") gives every byte.
 *
 * Pure code: no I/O. Items are read through kz_recon_storage, a small vtable
 * that kz_recon_vec (sorted in-memory array) implements here and that the
 * node can back with an LMDB cursor over the store's `order` database.
 *
 * A session is half-duplex: the initiator sends the opening message, then
 * the two sides alternate, each feeding the peer's message to
 * kz_recon_step() and sending what it writes. The storage must not change
 * during a session (use one LMDB read transaction or a snapshot): messages
 * refer to ranges the peer computed earlier. */
#ifndef KZ_RECON_H
#define KZ_RECON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_base.h"

#define KZ_RECON_VERSION 1          /* first byte of every message */
#define KZ_RECON_ID_BYTES 32
#define KZ_RECON_SALT_BYTES 16      /* session key of the fingerprint / short-id PRF */
#define KZ_RECON_FP_BYTES 8         /* range fingerprint on the wire */
#define KZ_RECON_SHORT_BYTES 8      /* short id in id lists */
#define KZ_RECON_MSG_MAX (512u * 1024u)      /* hard cap on any message */
#define KZ_RECON_FRAME_MIN (8u * 1024u)      /* smallest allowed frame budget */
#define KZ_RECON_FRAME_DEFAULT (256u * 1024u)
#define KZ_RECON_TS_INF UINT64_MAX  /* created_ms value reserved for "no upper bound" */

/* Decoder limits (part of the protocol). */
#define KZ_RECON_IDLIST_MAX 64      /* most entries in one short-id list / diff */
#define KZ_RECON_CELL_BYTES 13      /* one sketch cell: count, keysum, checksum */
#define KZ_RECON_SKETCH_CELLS_MAX 96 /* most cells in one sketch (a multiple of 3) */
#define KZ_RECON_WANT_MAX 96        /* most ids / short ids in one WANT range */
/* Tuning (free to change without breaking the protocol). */
#define KZ_RECON_LEAF 24            /* both sides <= this many items: list short ids */
#define KZ_RECON_BUCKETS 16         /* most sub-ranges one range is split into */

/* ---- Bounded byte buffer ---------------------------------------------------
 * Owns data (kz_xrealloc'd). Never grows past max: appends that would return
 * KZ_ETOOBIG and leave the buffer unchanged. kz_recon_buf_close frees data
 * and may be called on a zeroed buffer. */
typedef struct kz_recon_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
} kz_recon_buf;

void kz_recon_buf_init(kz_recon_buf *b, size_t max);
void kz_recon_buf_close(kz_recon_buf *b);
int kz_recon_buf_append(kz_recon_buf *b, const void *p, size_t n) KZ_WARN_UNUSED;

/* ---- Items and storage ----------------------------------------------------- */

typedef struct kz_recon_item {
    uint64_t created_ms;  /* < KZ_RECON_TS_INF */
    uint8_t id[KZ_RECON_ID_BYTES];
} kz_recon_item;

/* Additive range summary: the sum mod 2^256 of the item hashes (read as
 * little-endian 256-bit numbers) and the item count. The item hash is
 * BLAKE2b-256(id || created_ms as 8 bytes LE): hashing first means that ids
 * with structure (or an id seen with two timestamps) cannot make two
 * different ranges sum alike. Sums of disjoint ranges add, so an indexed
 * store can keep them per subtree (or as prefix sums) and answer any range
 * in O(log n) or O(1). The reconciler turns an accumulator into the wire
 * fingerprint with the session salt (see docs/protocol.md, "Set reconciliation"). */
typedef struct kz_recon_acc {
    uint8_t sum[32];
    uint64_t count;
} kz_recon_acc;

#define KZ_RECON_ITEM_HASH_BYTES 32
void kz_recon_item_hash(const kz_recon_item *it, uint8_t out[KZ_RECON_ITEM_HASH_BYTES]);
void kz_recon_acc_init(kz_recon_acc *a);
/* Adds one item (hashes it). */
void kz_recon_acc_add(kz_recon_acc *a, const kz_recon_item *it);
/* a += b, a -= b (sums mod 2^256 and counts; sub needs a->count >= b->count). */
void kz_recon_acc_merge(kz_recon_acc *a, const kz_recon_acc *b);
void kz_recon_acc_sub(kz_recon_acc *a, const kz_recon_acc *b);

/* Read access to one side's sorted set. Indexes run 0..size-1 in ascending
 * (created_ms, id) order with no duplicates. Every function returns 0 or a
 * negative KZ_E* code (an LMDB-backed store returns KZ_ESTORE), which aborts
 * the session.
 *   size:        number of items.
 *   item_at:     the item at index (index < size).
 *   lower_bound: index of the first item >= (created_ms, id); size if none.
 *   sum:         accumulator over indexes [begin, end). Optional: when NULL
 *                the reconciler iterates item_at, which costs O(end-begin). */
typedef struct kz_recon_storage_ops {
    int (*size)(void *ctx, size_t *n);
    int (*item_at)(void *ctx, size_t index, kz_recon_item *out);
    int (*lower_bound)(void *ctx, uint64_t created_ms, const uint8_t id[KZ_RECON_ID_BYTES],
                       size_t *index);
    int (*sum)(void *ctx, size_t begin, size_t end, kz_recon_acc *out);
} kz_recon_storage_ops;

/* ops and ctx are borrowed: they must outlive every reconciler using them. */
typedef struct kz_recon_storage {
    const kz_recon_storage_ops *ops;
    void *ctx;
} kz_recon_storage;

/* ---- kz_recon_vec: in-memory storage for tests, tools and benchmarks --------
 * Add items in any order, then seal (sort, drop exact duplicates). Adding
 * after seal unseals; the storage view refuses to work (KZ_EINVAL) until the
 * vector is sealed again. Sealing computes prefix sums of the item hashes
 * (O(n), 32 bytes per item), so lower_bound is O(log n) and sum O(1).
 * Allocation failures abort (kz_xrealloc): callers bound the item count. */
typedef struct kz_recon_vec kz_recon_vec;

kz_recon_vec *kz_recon_vec_create(void);
void kz_recon_vec_free(kz_recon_vec *v);
/* KZ_EINVAL if created_ms == KZ_RECON_TS_INF. */
int kz_recon_vec_add(kz_recon_vec *v, uint64_t created_ms,
                     const uint8_t id[KZ_RECON_ID_BYTES]) KZ_WARN_UNUSED;
void kz_recon_vec_seal(kz_recon_vec *v);
size_t kz_recon_vec_size(const kz_recon_vec *v);
/* Item i of a sealed vector (i < size); valid until the next add/seal/free. */
const kz_recon_item *kz_recon_vec_item(const kz_recon_vec *v, size_t i);
/* Fills st with a view of v; v must outlive its use. */
void kz_recon_vec_storage(kz_recon_vec *v, kz_recon_storage *st);

/* ---- The reconciler ---------------------------------------------------------- */

typedef enum {
    KZ_RECON_INITIATOR = 1,
    KZ_RECON_RESPONDER = 2,
} kz_recon_role;

typedef enum {
    KZ_RECON_HAVE = 1,  /* I hold id, the peer lacks it */
    KZ_RECON_NEED = 2,  /* the peer holds id, I lack it */
} kz_recon_dir;

/* Called once per difference, during kz_recon_initiate/kz_recon_step. id is
 * valid only during the call. Return 0 to go on; a negative KZ_E* code fails
 * the step with that code. For an honest peer every id is reported exactly
 * once and have/need are exactly the two set differences; a NEED id is the
 * peer's claim, to be checked when the record arrives. */
typedef int (*kz_recon_id_cb)(void *ud, kz_recon_dir dir, const uint8_t id[KZ_RECON_ID_BYTES]);

typedef struct kz_recon kz_recon;

typedef struct kz_recon_stats {
    uint64_t msgs_sent, msgs_recv;
    uint64_t bytes_sent, bytes_recv;
    uint64_t have, need;       /* ids reported so far */
    uint64_t pending;          /* ranges carried over to the next round now */
    uint64_t pending_peak;
} kz_recon_stats;

/* Creates a reconciler over st (borrowed; must stay valid and unchanged until
 * kz_recon_free). frame_limit caps every message this side sends: 0 means
 * KZ_RECON_FRAME_DEFAULT, otherwise it must lie in [KZ_RECON_FRAME_MIN,
 * KZ_RECON_MSG_MAX]. The initiator's frame_limit travels in the opening
 * message and bounds the messages both sides accept and send. cb (required)
 * and ud receive have/need ids. Returns 0 and sets *out (free with
 * kz_recon_free), or KZ_EINVAL. */
int kz_recon_create(kz_recon **out, const kz_recon_storage *st, kz_recon_role role,
                    size_t frame_limit, kz_recon_id_cb cb, void *ud) KZ_WARN_UNUSED;

/* Initiator only, before kz_recon_initiate: use this salt instead of a random
 * one (tests, golden vectors). KZ_EINVAL otherwise. */
int kz_recon_set_salt(kz_recon *r, const uint8_t salt[KZ_RECON_SALT_BYTES]) KZ_WARN_UNUSED;

/* Initiator: writes the opening message into out (reset first; out->max must
 * be >= the frame limit). KZ_EINVAL if not an initiator or called twice;
 * storage errors as returned by the storage. */
int kz_recon_initiate(kz_recon *r, kz_recon_buf *out) KZ_WARN_UNUSED;

/* Feeds one message from the peer and writes the reply into out (reset
 * first). When out->len == 0 nothing is to be sent. *done becomes true when
 * the session is complete for this side: all have/need ids have been
 * reported; send out if it is non-empty, then stop.
 * Errors: KZ_EDECODE (malformed msgpack), KZ_EPROTO (a well-formed message
 * that breaks the protocol: version, mode, bound order, sizes, a diff that
 * does not match our list, a message over the frame limit), KZ_ETOOBIG (the
 * carried-over work exceeds its bound), storage and callback errors, KZ_EINVAL
 * on misuse. After any error the reconciler is dead: further calls return
 * the same error, ids already reported stay reported. in is borrowed for the
 * call only. */
int kz_recon_step(kz_recon *r, const uint8_t *in, size_t in_len, kz_recon_buf *out,
                  bool *done) KZ_WARN_UNUSED;

void kz_recon_stats_get(const kz_recon *r, kz_recon_stats *s);

/* NULL-safe. */
void kz_recon_free(kz_recon *r);

#endif
