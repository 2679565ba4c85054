/* kz_store.h: the LMDB store. The only module that touches LMDB.
 *
 * One kz_store per data directory and process; all writes happen on the
 * thread that created it (the node's loop thread), reads may happen anywhere.
 * Every record written goes through acceptance rules (kz_store_put*); a
 * rejected record leaves no trace. Commits are durable (no MDB_NOSYNC).
 *
 * Memory: kz_store is a heap object (kz_store_create / kz_store_free). Data
 * handed to iteration callbacks points into LMDB's map and is valid only
 * during the callback: do not modify or free it, copy what you keep. Getters
 * that return bytes copy them into caller-provided buffers. */
#ifndef KZ_STORE_H
#define KZ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_base.h"
#include "kz_record.h"

typedef struct kz_store kz_store;

typedef struct {
    size_t map_size;        /* initial map size in bytes; 0 = 64 MiB. Grows on demand. */
    size_t map_size_max;    /* upper bound for growth; 0 = 64 GiB */
    bool read_only;         /* open for reading only (tools, tests) */
} kz_store_opts;

/* Open (creating if needed) DIR/data.mdb. Clears stale reader slots left by
 * crashed processes. Does not take the one-kizunad-per-dir lock: that is the
 * node's (see node/). Returns KZ_EIO, KZ_ESTORE. */
int kz_store_create(kz_store **out, const char *dir, const kz_store_opts *opts) KZ_WARN_UNUSED;
/* Close the environment. NULL-safe. */
void kz_store_free(kz_store *s);

/* ---- Records -------------------------------------------------------------
 *
 * Acceptance rules applied by put, in this order (first failure wins):
 *  - id tombstoned                          -> KZ_EDELETED
 *  - already stored                         -> KZ_EEXIST
 *  - author is a blocked node, or a member whose only live attestations come
 *    from blocked nodes                     -> KZ_EBLOCKED
 *  - node/attest/revoke: author must be the node key of a stored `node`
 *    record (the node record itself is self-authored)   -> KZ_EPERM
 *  - member types: author needs a live attest (latest record in its
 *    membership slot is an attest, from a non-blocked node)  -> KZ_ENOATTEST
 *  - delete: the author must be a key the store knows: a node that has (or
 *    had) a node record, or a member with any membership entry (live,
 *    revoked or deleted) from a non-blocked node -> KZ_ENOATTEST otherwise
 *    (a stranger may not fill the store with tombstones; revoked members may
 *    still delete their own records).
 *    Then: author is target_author, or a node holding a live attestation
 *    of target_author                       -> KZ_EPERM. The target's content
 *    and index entries are purged; its id is tombstoned forever. If the
 *    target arrives later it is refused only when its author matches the
 *    tombstone's target_author (a forged tombstone cannot suppress others).
 *  - replaceable (kz_record_slot): older than the slot's head -> KZ_ESTALE;
 *    newer replaces it (old content and indexes removed). Deleting a slot's
 *    head empties the slot but keeps its (created_ms, id) as a high-water
 *    mark: later records of that slot not newer than the deleted head are
 *    KZ_ESTALE, so an old version held by a peer cannot come back; a newer
 *    one is accepted (a member who deleted their profile may publish a new
 *    one). A deleted record that arrives after its delete (KZ_EDELETED)
 *    still raises that mark and purges an older head of its slot, exactly
 *    as if it had arrived first; that refusal is the one that writes.
 *  - talk room (talk_rules.c, docs/talk_room.md): room names and company
 *    rooms, edits by their author, one-level replies, votes in range and
 *    before the close, articles by the secretariat, rooms and reports
 *    addressed to nodes; nothing new under a tombstoned id
 *                                           -> KZ_EINVAL, KZ_EPERM, KZ_EDELETED
 * Records must already be decoded and verified (kz_record_decode). */

typedef struct {
    int rc;                 /* 0 stored, or the KZ_E* reason it was refused */
    bool replaced;          /* it superseded an older record in its slot */
    bool purged;            /* (delete) the target was present and purged;
                               (KZ_EDELETED) an older head of the deleted
                               record's slot was purged */
} kz_put_result;

/* Store one record in its own durable transaction. Returns the same code as
 * res->rc (res may be NULL), or KZ_ESTORE for an LMDB failure. */
int kz_store_put(kz_store *s, const kz_record *r, kz_put_result *res) KZ_WARN_UNUSED;

/* Store n records in ONE durable transaction (the gossip writer's batch).
 * Every acceptance rule is decided before a record writes anything, so a
 * refused record leaves no trace and does not affect the others (a record
 * refused as deleted may still raise its slot's high-water mark, exactly as
 * kz_store_put would); later records see the earlier ones. res[i] says what happened to
 * recs[i]. Returns 0 when the batch committed (whatever the per-record
 * outcomes), KZ_ESTORE when nothing was written. MDB_MAP_FULL is handled by
 * growing the map and retrying the whole batch. */
int kz_store_put_batch(kz_store *s, const kz_record *const *recs, size_t n,
                       kz_put_result *res) KZ_WARN_UNUSED;

/* Copy the encoded record with this id into buf (bufsz >= KZ_RECORD_MAX is
 * always enough); *len gets its length. KZ_ENOTFOUND, KZ_ETOOBIG. */
int kz_store_get(kz_store *s, const uint8_t id[KZ_ID_BYTES], uint8_t *buf, size_t bufsz,
                 size_t *len) KZ_WARN_UNUSED;
bool kz_store_has(kz_store *s, const uint8_t id[KZ_ID_BYTES]);
bool kz_store_is_tombstoned(kz_store *s, const uint8_t id[KZ_ID_BYTES]);

/* Id of the current head of a replaceable slot (see kz_record_slot).
 * KZ_ENOTFOUND when the slot is empty, including when its head was deleted
 * (the slot's high-water mark is not a record). */
int kz_store_head(kz_store *s, const uint8_t slot[KZ_SLOT_BYTES], uint8_t id[KZ_ID_BYTES]) KZ_WARN_UNUSED;

/* Iteration. The callback returns 0 to continue, 1 to stop early, or a
 * negative KZ_E* to abort (returned by the iterator). raw/len are valid only
 * during the callback. */
typedef int (*kz_store_rec_cb)(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                               const uint8_t *raw, size_t len);

/* In (created_ms, id) order starting at (from_ms, from_id) inclusive;
 * from_id NULL = all-zero. Newest-first when reverse (then starting at the
 * last key <= (from_ms, from_id); pass UINT64_MAX to start at the end). */
int kz_store_iter_order(kz_store *s, uint64_t from_ms, const uint8_t *from_id, bool reverse,
                        kz_store_rec_cb cb, void *ud);
/* Records of one type, newest first. */
int kz_store_iter_type(kz_store *s, int type, kz_store_rec_cb cb, void *ud);
/* Records by one author, newest first. */
int kz_store_iter_author(kz_store *s, const uint8_t author[KZ_KEY_BYTES], kz_store_rec_cb cb,
                         void *ud);

/* Blocking a node refuses new records from it and its members but keeps what
 * is stored (unblocking shows it again, no resync). Readers that show or
 * relay records must hide the blocked ones: with the flag below, or by
 * asking kz_store_author_blocked for each author. */
#define KZ_STORE_ITER_VISIBLE 0x1u /* skip records kz_store_author_blocked hides */
/* The iterators above with flags (0 or KZ_STORE_ITER_VISIBLE; other bits are
 * KZ_EINVAL). Same callback contract. */
int kz_store_iter_order_ex(kz_store *s, uint64_t from_ms, const uint8_t *from_id, bool reverse,
                           unsigned flags, kz_store_rec_cb cb, void *ud);
int kz_store_iter_type_ex(kz_store *s, int type, unsigned flags, kz_store_rec_cb cb, void *ud);
int kz_store_iter_author_ex(kz_store *s, const uint8_t author[KZ_KEY_BYTES], unsigned flags,
                            kz_store_rec_cb cb, void *ud);

/* Are records by author hidden by a block? True when author is a blocked
 * node, or a member whose live attestations all come from blocked nodes
 * (the same test that refuses their new records, KZ_EBLOCKED). A member
 * with no live attestation at all is not "blocked" (see
 * kz_store_member_home). False as well when the store cannot be read. */
bool kz_store_author_blocked(kz_store *s, const uint8_t author[KZ_KEY_BYTES]);

/* Home node of a member: fills node (the attesting node key) and the attest
 * record id when the member has a live attestation from a non-blocked node.
 * KZ_ENOATTEST otherwise. If several nodes attest, the newest wins. */
int kz_store_member_home(kz_store *s, const uint8_t member[KZ_KEY_BYTES],
                         uint8_t node[KZ_KEY_BYTES], uint8_t attest_id[KZ_ID_BYTES]) KZ_WARN_UNUSED;

/* ---- Local members (keys this node holds for its own members) ------------ */

#define KZ_SEALED_SK_MAX 128 /* encrypted Ed25519 secret key + nonce + MAC */
#define KZ_HRKEY_MAX 64
typedef struct {
    uint8_t pk[KZ_KEY_BYTES];
    uint8_t role;                       /* kz_role */
    uint16_t joined, left;
    bool revoked;
    bool rehire;                        /* private re-hire interest: never replicated */
    uint64_t added_ms;
    uint32_t sealed_sk_len;             /* 0 when the member holds the key alone */
    uint8_t sealed_sk[KZ_SEALED_SK_MAX];/* opaque to the store (node/ encrypts) */
    char hr_key[KZ_HRKEY_MAX + 1];      /* stable HR id for idempotent import; "" = none */
} kz_store_member;

/* Insert or replace the local member entry for m->pk. KZ_EINVAL if hr_key is
 * taken by another member. */
int kz_store_member_put(kz_store *s, const kz_store_member *m) KZ_WARN_UNUSED;
/* KZ_ENOTFOUND when this node holds no entry for pk. */
int kz_store_member_get(kz_store *s, const uint8_t pk[KZ_KEY_BYTES], kz_store_member *m) KZ_WARN_UNUSED;
/* Look up by HR key. KZ_ENOTFOUND. */
int kz_store_member_by_hrkey(kz_store *s, const char *hr_key, kz_store_member *m) KZ_WARN_UNUSED;
/* All local members in key order. cb returns 0 continue, 1 stop, <0 abort.
 * m is valid only during the callback. */
int kz_store_member_iter(kz_store *s, int (*cb)(void *ud, const kz_store_member *m), void *ud);

/* ---- Key rotation links (store/rotation.c) -------------------------------
 *
 * An attest carrying a hand-over (previous + handover, verified when it was
 * decoded) links previous -> member. The links exist while such a record is
 * stored: the home node carries the hand-over into every later attest of
 * the new key and into the revoke that ends it, so the chain outlives
 * further rotations and the member leaving. */
#define KZ_ROTATION_CHAIN_MAX 16
/* The newest key member handed over to. KZ_ENOTFOUND when none. */
int kz_store_member_successor(kz_store *s, const uint8_t member[KZ_KEY_BYTES],
                              uint8_t next[KZ_KEY_BYTES]) KZ_WARN_UNUSED;
/* Every key of the person behind member: keys[0] is the current key (member
 * followed forward through its newest successors), then the keys before it,
 * member itself always included. Fills at most max keys; *n gets the count.
 * KZ_ETOOBIG (with the first max keys filled) when there are more. */
int kz_store_member_chain(kz_store *s, const uint8_t member[KZ_KEY_BYTES],
                          uint8_t (*keys)[KZ_KEY_BYTES], size_t max, size_t *n) KZ_WARN_UNUSED;

/* ---- All-or-nothing writes (store/atomic.c) ------------------------------
 *
 * kz_store_atomic runs fn inside ONE durable write transaction; fn stores
 * records (same acceptance rules as kz_store_put) and local member entries
 * through t. fn returns 0 to commit, 1 to abort and return 0 (nothing is
 * written: a dry run), or a KZ_E* code to abort and return it. The first
 * failed put dooms the transaction (kz_store_atomic returns that failure
 * even if fn ignores it), so a single refusal writes nothing at all. fn may
 * run more than once (after the map grows), each time from scratch: it must
 * reset whatever it reports. t is valid only during fn. Only on the store's
 * writing thread. */
typedef struct kz_store_txn kz_store_txn;
typedef int (*kz_store_txn_fn)(void *ud, kz_store_txn *t);
int kz_store_atomic(kz_store *s, kz_store_txn_fn fn, void *ud) KZ_WARN_UNUSED;
/* Store r: 0, a refusal code (kz_store_put's), or KZ_ESTORE. res may be NULL. */
int kz_store_txn_put(kz_store_txn *t, const kz_record *r, kz_put_result *res) KZ_WARN_UNUSED;
/* Insert or replace a local member entry (kz_store_member_put's rules). */
int kz_store_txn_member_put(kz_store_txn *t, const kz_store_member *m) KZ_WARN_UNUSED;
/* Read a local member entry as this transaction sees it. KZ_ENOTFOUND. */
int kz_store_txn_member_get(kz_store_txn *t, const uint8_t pk[KZ_KEY_BYTES],
                            kz_store_member *m) KZ_WARN_UNUSED;

/* ---- Settings (small key/value pairs owned by the node) -------------------- */

#define KZ_SETTING_MAX 4096
int kz_store_setting_put(kz_store *s, const char *key, const void *val, size_t len) KZ_WARN_UNUSED;
/* Copies into buf; *len gets the length. KZ_ENOTFOUND, KZ_ETOOBIG. */
int kz_store_setting_get(kz_store *s, const char *key, void *buf, size_t bufsz, size_t *len) KZ_WARN_UNUSED;

/* ---- Blocked nodes (defederation) ------------------------------------------ */

int kz_store_block_set(kz_store *s, const uint8_t node[KZ_KEY_BYTES], bool blocked) KZ_WARN_UNUSED;
bool kz_store_is_blocked(kz_store *s, const uint8_t node[KZ_KEY_BYTES]);

/* ---- Peers (the gossip layer's list of known nodes) ------------------------
 *
 * One entry per peer node id: the address to dial ("" for a node that only
 * ever dialled in), when it was added, the last contact and reconciliation,
 * and traffic counters the gossip layer flushes now and then. Stored in the
 * `peers` named database with a versioned value (docs/storage.md). */
typedef struct {
    uint8_t node[KZ_KEY_BYTES];         /* peer node id (Ed25519 public key) */
    char addr[KZ_ADDR_MAX + 1];         /* "host:port", printable ASCII; "" = none */
    uint64_t added_ms;
    uint64_t last_contact_ms;           /* 0 = never */
    uint64_t last_sync_ms;              /* last completed reconciliation; 0 = never */
    uint64_t sync_diffs;                /* differences found by that reconciliation */
    uint64_t records_in, records_out;   /* records received / sent, all time */
    uint64_t bytes_in, bytes_out;       /* wire bytes received / sent, all time */
} kz_store_peer;

/* Insert or replace the entry for p->node. KZ_EINVAL when addr is longer
 * than KZ_ADDR_MAX or holds spaces or non-ASCII bytes. */
int kz_store_peer_put(kz_store *s, const kz_store_peer *p) KZ_WARN_UNUSED;
/* Copy the entry for node into *p. KZ_ENOTFOUND; KZ_ESTORE for a value this
 * build cannot read. */
int kz_store_peer_get(kz_store *s, const uint8_t node[KZ_KEY_BYTES], kz_store_peer *p) KZ_WARN_UNUSED;
/* Remove the entry. KZ_ENOTFOUND when there is none. */
int kz_store_peer_del(kz_store *s, const uint8_t node[KZ_KEY_BYTES]) KZ_WARN_UNUSED;
/* Every entry in node id order. cb returns 0 continue, 1 stop, <0 abort
 * (returned). p is valid only during the callback; cb must not write to the
 * store (a read transaction is open). KZ_ESTORE on an unreadable entry. */
int kz_store_peer_iter(kz_store *s, int (*cb)(void *ud, const kz_store_peer *p), void *ud);

/* ---- Social indexes (social_index.c) ---------------------------------------
 *
 * `refs` lists every record that points at another record: reply -> parent
 * post (a reply edit -> the reply it edits), reaction -> target, post/event
 * edit -> original, rsvp -> event, vote -> poll. `rooms` lists original posts
 * and events (not edits) per room. Both are kept in step with the records
 * (a purged or replaced record leaves them too). Callbacks follow
 * kz_store_rec_cb: return 0 to continue, 1 to stop, <0 to abort (returned);
 * raw/len are valid only during the callback and cb must not write to the
 * store (a read transaction is open). */

#define KZ_STORE_ROOM_KEY_BYTES 16
/* The fixed-width key of a room name: BLAKE2b-128 of its bytes. */
void kz_store_room_key(uint8_t key[KZ_STORE_ROOM_KEY_BYTES], const char *name, size_t len);

/* Records pointing at target, of one type (type = kz_rtype) or of every type
 * (type = 0), newest first or oldest first by (created_ms, id). KZ_EINVAL for
 * a bad argument, KZ_ESTORE on an LMDB failure. */
int kz_store_iter_refs(kz_store *s, const uint8_t target[KZ_ID_BYTES], int type,
                       bool newest_first, kz_store_rec_cb cb, void *ud);

/* Posts and events of one room (name bytes as signed, 1..KZ_SHORT_MAX),
 * newest first, starting at the cursor (from_ms, from_id) inclusive; from_id
 * NULL means "every id at from_ms"; pass UINT64_MAX, NULL to start at the
 * newest. To page, restart from the last item's (created_ms, id) and skip it.
 * KZ_EINVAL, KZ_ESTORE. */
int kz_store_iter_room(kz_store *s, const char *room, size_t room_len, uint64_t from_ms,
                       const uint8_t *from_id, kz_store_rec_cb cb, void *ud);

/* ---- Search (store/search_*.c, docs/search.md) ----------------------------
 *
 * The directory search index lives in the store and is kept in step with
 * profiles, attestations, revocations and node names inside the same write
 * transaction as the records. A member is indexed while they have a live
 * attestation and a profile whose visibility is not hidden; replacing,
 * deleting or revoking updates the index at once. Blocks are applied when
 * answering (a blocked home node's members are never returned), so
 * unblocking needs no reindex. The index is rebuilt at open when the text
 * rules (kz_text_rules_id) differ from the ones it was built with. */

#define KZ_SEARCH_LIMIT_DEFAULT 20
#define KZ_SEARCH_LIMIT_MAX 100
#define KZ_SEARCH_CURSOR_MAX 48       /* bytes of a cursor string with its NUL */
#define KZ_SEARCH_NODES_MAX 64        /* home nodes a company name may match */

/* Fields a hit matched in (kz_search_hit.matched); the last four name the
 * filters that selected it when the query has no words for them. */
enum {
    KZ_SEARCH_F_NAME = 1u << 0,
    KZ_SEARCH_F_READING = 1u << 1,
    KZ_SEARCH_F_ROMAJI = 1u << 2,
    KZ_SEARCH_F_HOME_COMPANY = 1u << 3,
    KZ_SEARCH_F_CURRENT_COMPANY = 1u << 4,
    KZ_SEARCH_F_DEPARTMENT = 1u << 5,
    KZ_SEARCH_F_TITLE = 1u << 6,
    KZ_SEARCH_F_CURRENT_TITLE = 1u << 7,
    KZ_SEARCH_F_LOCATION = 1u << 8,
    KZ_SEARCH_F_SKILLS = 1u << 9,
    KZ_SEARCH_F_BIO = 1u << 10,
    KZ_SEARCH_F_LEFT = 1u << 11,
    KZ_SEARCH_F_OPEN_TO = 1u << 12,
    KZ_SEARCH_F_TENURE = 1u << 13,
    KZ_SEARCH_F_COUNT = 14
};
/* "name", "reading", ... for one KZ_SEARCH_F_* bit; NULL for anything else. */
const char *kz_search_field_name(uint32_t bit);

/* A query. Every string is NUL-terminated UTF-8 from outside and is checked
 * here (invalid UTF-8, control characters and over-long text are refused).
 * NULL pointers and zero numbers mean "not given". At least one of text
 * words and filters must be given. */
typedef struct {
    const char *text;                 /* query words, ANDed; may be "" with filters */
    /* Filters (ANDed with the words and each other). */
    const uint8_t *home_node;         /* attested by this node */
    const char *home_company;         /* attested by a node whose name holds these words */
    const char *current_company;      /* these words in current_company */
    const char *skill;                /* these words in one skill */
    const char *location;             /* these words in location */
    uint16_t left_from, left_to;      /* left the home company in [from, to] */
    uint32_t open_to;                 /* every one of these KZ_OPEN_* bits */
    bool rehire;                      /* open to re-hire: secretariat view only */
    /* First-class queries: members other than M with the same current
     * company (normalised equality) / the same home node and department
     * with overlapping tenure (years from the attestation, else the
     * profile; a missing year is open-ended). */
    const uint8_t *same_current_company_as;
    const uint8_t *former_colleagues_of;
    /* The viewer: profiles scoped to a company are shown only when
     * viewer_home is their home node. NULL viewer_home = an outsider who sees
     * federation-wide profiles only. secretariat: the viewer is this node's
     * own secretariat (viewer_home must be this node's id); only that view
     * sees the private re-hire flag, and only for members held here. */
    const uint8_t *viewer_home;
    bool secretariat;
    unsigned limit;                   /* 0 = KZ_SEARCH_LIMIT_DEFAULT; max KZ_SEARCH_LIMIT_MAX */
    const char *cursor;               /* a previous page's next_cursor, or NULL */
} kz_search_query;

typedef struct {
    uint8_t member[KZ_KEY_BYTES];
    uint8_t home_node[KZ_KEY_BYTES];  /* the attesting node */
    char name[KZ_NAME_MAX + 1];
    char reading[KZ_NAME_MAX + 1];
    char romaji[KZ_NAME_MAX + 1];
    char home_company[KZ_NAME_MAX + 1];    /* "" when the node's name is unknown */
    char current_company[KZ_NAME_MAX + 1];
    char current_title[KZ_SHORT_MAX + 1];
    char location[KZ_SHORT_MAX + 1];
    uint64_t updated_ms;              /* the profile's creation time */
    unsigned score;                   /* higher ranks first */
    uint32_t matched;                 /* KZ_SEARCH_F_* */
    bool rehire_known, rehire;        /* set only in the secretariat view of the member's home */
} kz_search_hit;

typedef struct {
    size_t n;
    kz_search_hit hits[KZ_SEARCH_LIMIT_MAX];
    bool more;                        /* another page exists: pass next_cursor */
    char next_cursor[KZ_SEARCH_CURSOR_MAX];
    /* The query reached its work limit: the hits are the best among the
     * candidates examined, not necessarily among all. Narrow the query. */
    bool truncated;
    uint32_t examined;                /* candidates that matched every word and filter */
} kz_search_result;

/* Run a query in one read transaction (any thread). Ranking: per word the
 * best field class its keys share (name, reading, romaji > company > title,
 * department, skills, location > bio), doubled, plus one for a whole-word
 * match, summed over words; ties by most recently updated profile. Work is
 * bounded: no query scans the store.
 * On success *out is a heap result (free with kz_store_search_free) and 0 is
 * returned; a query with nothing searchable (only punctuation) and no
 * filter gives 0 hits. Errors, with *reason set to a static one-line
 * explanation: KZ_EINVAL (no words and no filter, bad UTF-8 or control
 * characters, a bad cursor or limit, a cursor from another query),
 * KZ_ETOOBIG (text over the kz_text.h limits), KZ_ENOTFOUND (the member of a
 * first-class query has no profile or home here), KZ_ESTORE. */
int kz_store_search(kz_store *s, const kz_search_query *q, kz_search_result **out,
                    const char **reason) KZ_WARN_UNUSED;
/* NULL-safe. */
void kz_store_search_free(kz_search_result *r);

/* Drop and rebuild the whole index from the stored records (in batches of
 * write transactions; the rules id is saved last, so an interrupted rebuild
 * runs again at the next open). For operators and tests. KZ_ESTORE. */
int kz_store_search_rebuild(kz_store *s) KZ_WARN_UNUSED;

/* The same rebuild in steps, so a node can keep serving between them:
 * _begin drops the index (and its rules id) and indexes the node names;
 * each _step reads up to max_profiles more profiles in one durable write
 * transaction (indexing those that are searchable), adds the number read to
 * *scanned (may be NULL) and sets *done after the last one
 * (which saves the rules id). Records stored between steps are indexed by
 * the ordinary hooks, and a profile indexed twice is indexed once, so the
 * end result is that of kz_store_search_rebuild. Abandoning a rebuild
 * (_end before *done) leaves the rules id missing: the next open rebuilds.
 * *out is the caller's, freed by _end (NULL-safe). KZ_EINVAL, KZ_ENOMEM,
 * KZ_ESTORE. */
typedef struct kz_search_rebuild kz_search_rebuild;
int kz_store_search_rebuild_begin(kz_store *s, kz_search_rebuild **out) KZ_WARN_UNUSED;
int kz_store_search_rebuild_step(kz_store *s, kz_search_rebuild *rb, size_t max_profiles,
                                 uint64_t *scanned, bool *done) KZ_WARN_UNUSED;
void kz_store_search_rebuild_end(kz_search_rebuild *rb);

typedef struct {
    uint64_t docs;                    /* indexed members */
    uint64_t postings;                /* (key, member) entries, facets included */
    uint64_t postings_bytes;          /* pages of the postings, their value sub-databases
                                         included (the store's used pages minus every
                                         other database's and the free list) */
    uint64_t docs_bytes;              /* pages of the documents database */
} kz_search_stats;
/* Sizes of the index, from LMDB's statistics (no walk). KZ_EINVAL, KZ_ESTORE. */
int kz_store_search_stats(kz_store *s, kz_search_stats *st) KZ_WARN_UNUSED;

/* ---- Whole-store operations ------------------------------------------------ */

typedef struct {
    uint64_t records;                   /* stored records */
    uint64_t by_type[KZ_T_MAX + 1];     /* per kz_rtype */
    uint64_t tombstones;
    uint64_t members;                   /* local members */
    uint64_t map_size;                  /* current LMDB map size */
    uint64_t used_bytes;                /* pages in use * page size */
} kz_store_stats;
int kz_store_stats_get(kz_store *s, kz_store_stats *st) KZ_WARN_UNUSED;

/* Consistent, compacted copy of the live database into out_dir/data.mdb
 * (mdb_env_copy2 with MDB_CP_COMPACT). out_dir must exist and must not
 * already hold a data.mdb (KZ_EEXIST). Safe while the node runs. */
int kz_store_backup(kz_store *s, const char *out_dir) KZ_WARN_UNUSED;

#endif
