/* store_internal.h: what the store's .c files share (kz__ names); not public.
 *
 * The on-disk layout (every named database, its keys and values) is
 * described in docs/storage.md; the byte-level constants live here so that
 * every file builds keys the same way. All integers in keys and values are
 * big-endian, so LMDB's memcmp order is the logical order. */
#ifndef KZ_STORE_INTERNAL_H
#define KZ_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kz_store.h"

/* Version of the layout described in docs/storage.md, kept in meta["format"]. */
#define KZ__FORMAT 1

/* Internal result codes. They never leave the store's public functions. */
#define KZ__EMAPFULL (-1000) /* LMDB ran out of map: grow and retry the txn */
#define KZ__ABORT_OK 1       /* write callback: nothing to keep, abort quietly */

/* Key and value sizes (bytes). */
#define KZ__ORDER_KEY (8 + KZ_ID_BYTES)                   /* created || id */
#define KZ__AUTHOR_KEY (KZ_KEY_BYTES + 8 + KZ_ID_BYTES)   /* author || created || id */
#define KZ__TYPE_KEY (1 + 8 + KZ_ID_BYTES)                /* type || created || id */
#define KZ__HEAD_VAL (8 + KZ_ID_BYTES)                    /* created || id */
/* A deleted head keeps its slot's high-water mark: created || id || 'D'.
 * Records of that slot not newer than it are stale (records.c). */
#define KZ__HEAD_GONE_VAL (KZ__HEAD_VAL + 1)
#define KZ__HEAD_GONE 'D'
/* Type byte of a membership entry whose attest or revoke was deleted. */
#define KZ__MEMB_GONE KZ_T_DELETE
#define KZ__MEMB_KEY (2 * KZ_KEY_BYTES)                   /* member || node */
#define KZ__MEMB_VAL (8 + KZ_ID_BYTES + 1)                /* created || id || type */
#define KZ__TOMB_VAL (KZ_ID_BYTES + KZ_KEY_BYTES)         /* delete id || target author */
#define KZ__MEMBER_VAL 210                                /* serialized kz_store_member */
#define KZ__SETTING_KEY_MAX 255

struct kz_store {
    MDB_env *env;
    MDB_dbi records, order, by_author, by_type, heads, membership, tombstones;
    MDB_dbi members, members_hr, settings, blocked, meta;
    MDB_dbi peers;                   /* node id -> kz_store_peer (peers.c) */
    MDB_dbi refs, rooms;             /* talk-room indexes (social_index.c) */
    MDB_dbi rotations;               /* key hand-over links (rotation.c) */
    MDB_dbi search_postings, search_docs; /* directory search (search_index.c) */
    /* Held shared by every transaction of this process, exclusively while the
     * map is resized: mdb_env_set_mapsize remaps, which would pull the pages
     * out from under a reader on another thread. */
    pthread_rwlock_t map_lock;
    size_t map_size_max;
    bool read_only;
};

/* LMDB (or errno) code -> KZ_E*. MDB_MAP_FULL becomes KZ__EMAPFULL. */
int kz__err(int mdb_rc);

/* A short read transaction: kz__rd_begin takes the map lock shared and begins
 * an MDB_RDONLY txn (adopting a map grown by another process); kz__rd_end
 * aborts it and drops the lock. Returns 0 or a KZ_E* code. */
int kz__rd_begin(kz_store *s, MDB_txn **txn);
void kz__rd_end(kz_store *s, MDB_txn *txn);

/* Run fn inside one write transaction. fn returns 0 to commit, KZ__ABORT_OK
 * to abort and report success, or a KZ_E* code to abort and report it. On
 * KZ__EMAPFULL (from fn or from the commit) the txn is aborted, the map is
 * doubled (up to map_size_max) and fn runs again from scratch, so fn must
 * reset anything it reports. Returns 0 or a KZ_E* code. */
typedef int (*kz__write_fn)(kz_store *s, MDB_txn *txn, void *ud);
int kz__write(kz_store *s, kz__write_fn fn, void *ud);

/* Single-key helpers; results translated with kz__err (KZ_ENOTFOUND when the
 * key is absent; kz__put returns KZ_EEXIST for a refused NOOVERWRITE). A value
 * from kz__get points into the map and is valid until the next write in txn. */
int kz__get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val);
int kz__put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val,
            size_t vlen, unsigned flags);
int kz__del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen);

/* Adjust the per-type record counter kept in meta. */
int kz__count_add(kz_store *s, MDB_txn *txn, int type, int64_t delta);

/* Membership of one member, as seen through the membership database. */
typedef struct {
    unsigned n_live;                 /* slots whose head is an attest */
    unsigned n_known;                /* slots in any state (attest, revoke, deleted)
                                        from non-blocked nodes */
    bool found;                      /* a live attest from a non-blocked node */
    uint8_t node[KZ_KEY_BYTES];      /* newest such attest: its node ... */
    uint8_t attest_id[KZ_ID_BYTES];  /* ... and record id */
    uint64_t created_ms;
} kz__home;
int kz__home_find(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES], kz__home *h);

/* Talk-room index maintenance (social_index.c), called from the index seam
 * in records.c for every record added or removed. 0 or a KZ_E* code. */
int kz__social_added(kz_store *s, MDB_txn *txn, const kz_record *r);
int kz__social_removed(kz_store *s, MDB_txn *txn, const kz_record *r);

/* Search index maintenance (search_index.c), called from the same seam.
 * kz__search_open runs once after the store opens: it rebuilds the index
 * when the text rules changed. 0 or a KZ_E* code. */
int kz__search_added(kz_store *s, MDB_txn *txn, const kz_record *r);
int kz__search_removed(kz_store *s, MDB_txn *txn, const kz_record *r);
int kz__search_open(kz_store *s);

/* Acceptance rules for events, RSVPs and contact (event_rules.c), called by
 * apply() in records.c after the attestation check. 0 or a refusal. */
int kz__event_rules_accept(kz_store *s, MDB_txn *txn, const kz_record *r);

/* Acceptance rules for rooms, posts, edits, replies, reactions, votes and
 * reports (talk_rules.c), called by apply() in records.c right after
 * kz__event_rules_accept. 0 or a refusal. */
int kz__talk_rules_accept(kz_store *s, MDB_txn *txn, const kz_record *r);

/* Key rotation links (rotation.c), kept in step from the index seam in
 * records.c: an attest or revoke carrying a hand-over adds old->new links,
 * its removal drops them. 0 or a KZ_E* code. */
int kz__rotation_added(kz_store *s, MDB_txn *txn, const kz_record *r);
int kz__rotation_removed(kz_store *s, MDB_txn *txn, const kz_record *r);

/* Inside a caller's write transaction (atomic.c): apply the acceptance rules
 * and store r (records.c), or put / read a local member entry (members.c).
 * Same codes as kz_store_put / kz_store_member_put / kz_store_member_get,
 * plus KZ__EMAPFULL. */
int kz__record_apply(kz_store *s, MDB_txn *txn, const kz_record *r, kz_put_result *res);
int kz__member_put_txn(kz_store *s, MDB_txn *txn, const kz_store_member *m);
int kz__member_get_txn(kz_store *s, MDB_txn *txn, const uint8_t pk[KZ_KEY_BYTES],
                       kz_store_member *m);

/* 1 when node is blocked, 0 when not, or a KZ_E* code. */
int kz__is_blocked(kz_store *s, MDB_txn *txn, const uint8_t node[KZ_KEY_BYTES]);

/* 1 when records by author are hidden by a block (kz_store_author_blocked),
 * 0 when not, or a KZ_E* code (membership.c). */
int kz__author_blocked(kz_store *s, MDB_txn *txn, const uint8_t author[KZ_KEY_BYTES]);

/* Read the heads entry of slot (reads.c): *created and id get its (created,
 * id), *gone whether that record was deleted (the slot's high-water mark,
 * no stored record). KZ_ENOTFOUND when the slot never had a head, KZ_ESTORE
 * for a value of the wrong shape. */
int kz__head_get(kz_store *s, MDB_txn *txn, const uint8_t slot[KZ_SLOT_BYTES],
                 uint64_t *created, uint8_t id[KZ_ID_BYTES], bool *gone);

static inline void kz__be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static inline uint64_t kz__be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static inline void kz__be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint16_t kz__be16_get(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

#endif
