/* recon_int.h: internals shared by protocol/recon*.c only (wire types, the reconciler). */
#ifndef KZ_RECON_INT_H
#define KZ_RECON_INT_H

#include "kz_recon.h"

enum {
    KZ__RECON_SKIP = 0,    /* nothing to do in this range */
    KZ__RECON_FP = 1,      /* fingerprint and count of the sender's items */
    KZ__RECON_IDLIST = 2,  /* short ids of all the sender's items */
    KZ__RECON_DIFF = 3,    /* bitmap over the receiver's list + ids the receiver lacks */
    KZ__RECON_IDS = 4,     /* full ids the receiver lacks; nothing to answer */
    KZ__RECON_SKETCH = 5,  /* count and IBLT of the sender's items */
    KZ__RECON_WANT = 6,    /* full ids the receiver lacks + short ids the sender lacks */
    KZ__RECON_MODE_MAX = 6
};

/* A range bound: items < bound are below it. prefix is zero-padded to 32
 * bytes; len is how many bytes travel on the wire. ts == KZ_RECON_TS_INF
 * (with len 0) is the end of the key space. */
typedef struct kz__recon_bound {
    uint64_t ts;
    uint8_t len;
    uint8_t prefix[KZ_RECON_ID_BYTES];
} kz__recon_bound;

/* One non-skip range [lo, hi). Payload pointers are borrowed from whoever
 * built the range (the input message, the output scratch, the carry-over
 * arena). a: IDLIST short ids, DIFF bitmap, IDS ids, SKETCH cells, WANT ids.
 * b: DIFF ids, WANT short ids. count: FP and SKETCH. */
typedef struct kz__recon_range {
    kz__recon_bound lo, hi;
    uint8_t mode;
    uint8_t fp[KZ_RECON_FP_BYTES];
    uint64_t count;
    const uint8_t *a;
    size_t alen;
    const uint8_t *b;
    size_t blen;
} kz__recon_range;

typedef struct kz__recon_msg {
    bool opening;
    uint8_t salt[KZ_RECON_SALT_BYTES];
    uint64_t limit;
    size_t nall; /* ranges on the wire, skips included */
} kz__recon_msg;

/* A streaming decoder: nothing is allocated, ranges point into the bytes.
 * init reads the header into m (pass opening=true for the initiator's first
 * message); next returns 1 with the next non-skip range, 0 at the end of a
 * valid message, or an error. check runs a whole message through both, so
 * that a message is known valid before any of it is acted on. */
typedef struct kz__recon_reader {
    const uint8_t *p;
    size_t n;
    uint64_t left;
    kz__recon_bound prev;
    int prev_mode;
} kz__recon_reader;

int kz__recon_bound_cmp(const kz__recon_bound *a, const kz__recon_bound *b);
void kz__recon_bound_min(kz__recon_bound *b);
void kz__recon_bound_inf(kz__recon_bound *b);
/* Encoded size of a range following a bound at prev_ts; mode SKIP allowed. */
size_t kz__recon_range_size(uint64_t prev_ts, const kz__recon_range *r);
size_t kz__recon_uint_size(uint64_t v);
int kz__recon_reader_init(kz__recon_reader *rd, const uint8_t *p, size_t n, bool opening,
                          kz__recon_msg *m) KZ_WARN_UNUSED;
int kz__recon_reader_next(kz__recon_reader *rd, kz__recon_range *r) KZ_WARN_UNUSED;
int kz__recon_msg_check(const uint8_t *p, size_t n, bool opening, kz__recon_msg *m) KZ_WARN_UNUSED;
/* Encodes ranges (non-skip, ascending, disjoint) into out (reset first),
 * inserting skip ranges for the gaps. open: header of an opening or NULL. */
int kz__recon_msg_encode(kz_recon_buf *out, const kz__recon_msg *open, const kz__recon_range *rs,
                         size_t n) KZ_WARN_UNUSED;

/* Sketches (recon_sketch.c): cells is ncells * KZ_RECON_CELL_BYTES bytes,
 * ncells a multiple of 3. add puts one short id in; sub makes a -= b; decode
 * peels a difference sketch in place into at most max keys, sign +1 for ids
 * counted in a, -1 for ids from b, and returns how many, or -1 when it does
 * not peel to empty. */
void kz__recon_sketch_add(uint8_t *cells, size_t ncells, const uint8_t sid[KZ_RECON_SHORT_BYTES]);
void kz__recon_sketch_sub(uint8_t *a, const uint8_t *b, size_t ncells);
int kz__recon_sketch_decode(uint8_t *cells, size_t ncells, uint8_t (*keys)[KZ_RECON_SHORT_BYTES],
                            int8_t *signs, size_t max);

/* ---- The reconciler (recon.c: state machine; recon_answer.c: answers) ---- */

/* "The peer did not say how many items it holds" (the opening). */
#define KZ__RECON_THEIR_UNKNOWN UINT64_MAX
/* Bytes reserved for the message header: version, salt, limit, array header. */
#define HDR_OPENING (1 + 2 + KZ_RECON_SALT_BYTES + 5 + 5)
#define HDR_PLAIN (1 + 5)
/* Worst-case encoded sizes of a skip range and of an IDS range's framing. */
#define SKIP_MAX (1 + 9 + 2 + KZ_RECON_ID_BYTES + 1)
#define IDS_FRAME_MAX (1 + 9 + 2 + KZ_RECON_ID_BYTES + 1 + 5)
/* Carried-over work (decoded ranges and their payloads) may take at most
 * this much memory. It grows with the differences still open, not with the
 * set size; a peer that pushes it further is refused with KZ_ETOOBIG. */
#define PENDING_MAX_BYTES (32u * 1024u * 1024u)
/* Once less than this is left of a reply's budget, remaining ranges are
 * carried over without trying them (most answers need more). */
#define NEAR_FULL 1024
/* Sketch sizing: cells for the opening (no idea of the distance yet); a
 * mismatched range is sketched when the expected number of differences in it
 * is at most SKETCH_T_MAX, and gets SKETCH_CELL_K * expected + SKETCH_CELL_C
 * cells (at least 9). */
#ifndef OPEN_CELLS
#define OPEN_CELLS 12
#endif
#ifndef SKETCH_ESCALATE_FROM
#define SKETCH_ESCALATE_FROM 12     /* a failed sketch this small is answered by a bigger one */
#endif
#ifndef SKETCH_T_MAX
#define SKETCH_T_MAX 40.0
#endif
#ifndef SKETCH_CELL_K
#define SKETCH_CELL_K 2.0
#endif
#ifndef SKETCH_CELL_C
#define SKETCH_CELL_C 4.0
#endif

struct kz_recon {
    kz_recon_storage st;
    kz_recon_role role;
    size_t own_limit;  /* cap on what we send */
    size_t limit;      /* session limit (the initiator's): cap on what we accept */
    uint8_t salt[KZ_RECON_SALT_BYTES];
    bool salt_set;
    kz_recon_id_cb cb;
    void *ud;
    int state;
    int err;
    bool last_sent_empty;
    size_t nitems;

    /* Ranges received but not answered yet (the budget ran out), sorted and
     * disjoint; their payloads live in pend_arena. */
    kz__recon_range *pend;
    size_t npend;
    uint8_t *pend_arena;

    /* The reply being built: ranges in key order, their payloads in scratch
     * (fixed capacity out_max, so pointers into it stay valid). */
    kz__recon_range *out;
    size_t nout, capout;
    uint8_t *scratch;
    size_t scratch_len;
    size_t out_bytes; /* exact encoded size so far, header reserve included */
    size_t out_max;
    kz__recon_bound out_last;

    /* Of the peer's fingerprints in the last message that had any: how many
     * there were and how many did not match ours. */
    size_t fp_seen, fp_missed;

    /* Next round's carry-over, built while answering. */
    kz__recon_range *npl;
    size_t nnpl, capnpl;

    kz_recon_stats stats;
};

/* Storage access; lower maps the infinite bound to the item count. */
int kz__recon_item(kz_recon *r, size_t i, kz_recon_item *it);
int kz__recon_lower(kz_recon *r, const kz__recon_bound *b, size_t *idx);
int kz__recon_acc(kz_recon *r, size_t lo, size_t hi, kz_recon_acc *acc);
void kz__recon_fingerprint(const kz_recon *r, const kz_recon_acc *acc,
                           uint8_t fp[KZ_RECON_FP_BYTES]);
void kz__recon_short_id(const kz_recon *r, const uint8_t id[KZ_RECON_ID_BYTES],
                        uint8_t out[KZ_RECON_SHORT_BYTES]);

/* The reply being built. scratch_take returns NULL when over budget;
 * out_add returns KZ_ETOOBIG when x does not fit. A mark rolls both back. */
typedef struct {
    size_t nout, scratch_len, out_bytes;
    kz__recon_bound out_last;
} kz__recon_mark;
uint8_t *kz__recon_scratch_take(kz_recon *r, size_t n);
int kz__recon_out_add(kz_recon *r, const kz__recon_range *x);
kz__recon_mark kz__recon_out_save(const kz_recon *r);
void kz__recon_out_restore(kz_recon *r, const kz__recon_mark *m);

/* Answers one of the peer's ranges (recon_answer.c): 0 with the reply
 * appended, KZ_ETOOBIG when it does not fit (the caller rolls back and
 * carries the range over), or a fatal error. *rest, when set, is the part of
 * the range still to be answered next round. */
int kz__recon_answer(kz_recon *r, const kz__recon_range *w, kz__recon_range *rest, bool *has_rest);
/* Our fingerprint of [lo, hi) differs from the peer's, who holds `their`
 * items there (KZ__RECON_THEIR_UNKNOWN in the opening). */
int kz__recon_answer_mismatch(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                              size_t ilo, size_t ihi, const kz_recon_acc *acc, uint64_t their,
                              bool allow_sketch, kz__recon_range *rest, bool *has_rest);

#endif
