/* social_index.c: the talk-room indexes: references between records (`refs`)
 * and posts/events per room (`rooms`), maintained inside the record write
 * transaction and walked by the feed, thread, poll and inbox readers. */
#include "store_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- Keys --------------------------------------------------------------------
 * refs:  target(32) || type(1) || created(8) || id(32)  -> ""
 * rooms: room key(16) || created(8) || id(32)           -> ""
 * The room key is BLAKE2b-128 of the room name bytes (as signed): fixed-width
 * so every room's range is one prefix, and names up to KZ_SHORT_MAX bytes do
 * not bloat every key. */

#define REF_PREFIX (KZ_ID_BYTES + 1)
#define REF_KEY (REF_PREFIX + 8 + KZ_ID_BYTES)
#define ROOM_KEY (KZ_STORE_ROOM_KEY_BYTES + 8 + KZ_ID_BYTES)

void kz_store_room_key(uint8_t key[KZ_STORE_ROOM_KEY_BYTES], const char *name, size_t len)
{
    crypto_generichash(key, KZ_STORE_ROOM_KEY_BYTES, (const unsigned char *)name, len, NULL, 0);
}

/* The record r points at, if any: fills target and returns true. */
static bool ref_target(const kz_record *r, const uint8_t **target)
{
    switch (r->type) {
    case KZ_T_POST:
        *target = r->body.post.edit_of;
        return r->body.post.has_edit_of;
    case KZ_T_REPLY:
        /* A reply edit points at the reply it edits; the original reply
         * carries the parent link. */
        *target = r->body.reply.has_edit_of ? r->body.reply.edit_of : r->body.reply.parent;
        return true;
    case KZ_T_REACTION:
        *target = r->body.reaction.target;
        return true;
    case KZ_T_EVENT:
        *target = r->body.event.edit_of;
        return r->body.event.has_edit_of;
    case KZ_T_RSVP:
        *target = r->body.rsvp.event;
        return true;
    case KZ_T_VOTE:
        *target = r->body.vote.poll;
        return true;
    default:
        return false;
    }
}

/* The room a record is listed in (original posts and events only: an edit
 * is found through refs of the original). */
static bool room_of(const kz_record *r, const kz_str **room)
{
    if (r->type == KZ_T_POST && !r->body.post.has_edit_of) {
        *room = &r->body.post.room;
        return true;
    }
    if (r->type == KZ_T_EVENT && !r->body.event.has_edit_of) {
        *room = &r->body.event.room;
        return true;
    }
    return false;
}

static void tail_put(uint8_t *p, const kz_record *r)
{
    kz__be64_put(p, r->created_ms);
    memcpy(p + 8, r->id, KZ_ID_BYTES);
}

static void ref_key(uint8_t k[REF_KEY], const uint8_t *target, const kz_record *r)
{
    memcpy(k, target, KZ_ID_BYTES);
    k[KZ_ID_BYTES] = r->type;
    tail_put(k + REF_PREFIX, r);
}

static void room_key(uint8_t k[ROOM_KEY], const kz_str *room, const kz_record *r)
{
    kz_store_room_key(k, room->p, room->n);
    tail_put(k + KZ_STORE_ROOM_KEY_BYTES, r);
}

int kz__social_added(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    const uint8_t *target;
    const kz_str *room;
    int rc;
    if (ref_target(r, &target)) {
        uint8_t k[REF_KEY];
        ref_key(k, target, r);
        if ((rc = kz__put(txn, s->refs, k, sizeof k, "", 0, 0)) != 0)
            return rc;
    }
    if (room_of(r, &room)) {
        uint8_t k[ROOM_KEY];
        room_key(k, room, r);
        if ((rc = kz__put(txn, s->rooms, k, sizeof k, "", 0, 0)) != 0)
            return rc;
    }
    return 0;
}

int kz__social_removed(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    const uint8_t *target;
    const kz_str *room;
    int rc;
    if (ref_target(r, &target)) {
        uint8_t k[REF_KEY];
        ref_key(k, target, r);
        rc = kz__del(txn, s->refs, k, sizeof k);
        if (rc && rc != KZ_ENOTFOUND)
            return rc;
    }
    if (room_of(r, &room)) {
        uint8_t k[ROOM_KEY];
        room_key(k, room, r);
        rc = kz__del(txn, s->rooms, k, sizeof k);
        if (rc && rc != KZ_ENOTFOUND)
            return rc;
    }
    return 0;
}

/* ---- Walks ------------------------------------------------------------------ */

/* Walk keys of dbi that start with prefix[0..plen) and are klen long, from
 * start (a full key; inclusive) downwards when desc, or upwards from the
 * prefix's first key when !desc. Each entry's record is handed to cb. */
static int walk(kz_store *s, MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen,
                const uint8_t *start, size_t klen, bool desc, kz_store_rec_cb cb, void *ud)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc, out = 0;

    if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
        return kz__err(rc);
    k.mv_size = desc ? klen : plen;
    k.mv_data = (void *)(desc ? start : prefix);
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (desc) {
        /* SET_RANGE found the first key >= start; step back unless equal. */
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
        else if (rc == 0 && (k.mv_size != klen || memcmp(k.mv_data, start, klen) != 0))
            rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, desc ? MDB_PREV : MDB_NEXT)) {
        if (k.mv_size != klen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        const uint8_t *tail = (const uint8_t *)k.mv_data + klen - 8 - KZ_ID_BYTES;
        MDB_val rv;
        int r = kz__get(txn, s->records, tail + 8, KZ_ID_BYTES, &rv);
        if (r) {
            out = r == KZ_ENOTFOUND ? KZ_ESTORE : r; /* index out of step */
            break;
        }
        r = cb(ud, tail + 8, kz__be64_get(tail), rv.mv_data, rv.mv_size);
        if (r) {
            out = r > 0 ? 0 : r;
            break;
        }
    }
    if (out == 0 && rc != 0 && rc != MDB_NOTFOUND)
        out = kz__err(rc);
    mdb_cursor_close(c);
    return out == KZ__EMAPFULL ? KZ_ESTORE : out;
}

/* All types of refs to one target in time order: the key groups them by
 * type first, so collect the (created, id) tails and sort them. */
static int tail_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 8 + KZ_ID_BYTES);
}

static int walk_all_types(kz_store *s, MDB_txn *txn, const uint8_t target[KZ_ID_BYTES],
                          bool desc, kz_store_rec_cb cb, void *ud)
{
    enum { TAIL = 8 + KZ_ID_BYTES };
    uint8_t *tails = NULL;
    size_t n = 0, cap = 0;
    MDB_cursor *c;
    MDB_val k, v;
    int rc, out = 0;

    if ((rc = mdb_cursor_open(txn, s->refs, &c)) != 0)
        return kz__err(rc);
    k.mv_size = KZ_ID_BYTES;
    k.mv_data = (void *)target;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != REF_KEY || memcmp(k.mv_data, target, KZ_ID_BYTES) != 0)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            tails = kz_xrealloc(tails, cap * TAIL);
        }
        memcpy(tails + n * TAIL, (const uint8_t *)k.mv_data + REF_PREFIX, TAIL);
        n++;
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        free(tails);
        return kz__err(rc) == KZ__EMAPFULL ? KZ_ESTORE : kz__err(rc);
    }
    if (n > 1)
        qsort(tails, n, TAIL, tail_cmp);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *t = tails + (desc ? n - 1 - i : i) * TAIL;
        MDB_val rv;
        int r = kz__get(txn, s->records, t + 8, KZ_ID_BYTES, &rv);
        if (r) {
            out = r == KZ_ENOTFOUND ? KZ_ESTORE : r;
            break;
        }
        r = cb(ud, t + 8, kz__be64_get(t), rv.mv_data, rv.mv_size);
        if (r) {
            out = r > 0 ? 0 : r;
            break;
        }
    }
    free(tails);
    return out == KZ__EMAPFULL ? KZ_ESTORE : out;
}

int kz_store_iter_refs(kz_store *s, const uint8_t target[KZ_ID_BYTES], int type,
                       bool newest_first, kz_store_rec_cb cb, void *ud)
{
    uint8_t prefix[REF_PREFIX], start[REF_KEY];
    MDB_txn *txn;
    int rc;

    if (!s || !target || !cb || type < 0 || type > 255)
        return KZ_EINVAL;
    memcpy(prefix, target, KZ_ID_BYTES);
    prefix[KZ_ID_BYTES] = (uint8_t)type;
    if ((rc = kz__rd_begin(s, &txn)) != 0)
        return rc;
    if (type) {
        memcpy(start, prefix, REF_PREFIX);
        memset(start + REF_PREFIX, 0xff, sizeof start - REF_PREFIX);
        rc = walk(s, txn, s->refs, prefix, REF_PREFIX, start, REF_KEY, newest_first, cb, ud);
    } else {
        rc = walk_all_types(s, txn, target, newest_first, cb, ud);
    }
    kz__rd_end(s, txn);
    return rc;
}

int kz_store_iter_room(kz_store *s, const char *room, size_t room_len, uint64_t from_ms,
                       const uint8_t *from_id, kz_store_rec_cb cb, void *ud)
{
    uint8_t start[ROOM_KEY];
    MDB_txn *txn;
    int rc;

    if (!s || !room || room_len == 0 || room_len > KZ_SHORT_MAX || !cb)
        return KZ_EINVAL;
    kz_store_room_key(start, room, room_len);
    kz__be64_put(start + KZ_STORE_ROOM_KEY_BYTES, from_ms);
    if (from_id)
        memcpy(start + KZ_STORE_ROOM_KEY_BYTES + 8, from_id, KZ_ID_BYTES);
    else
        memset(start + KZ_STORE_ROOM_KEY_BYTES + 8, 0xff, KZ_ID_BYTES);
    if ((rc = kz__rd_begin(s, &txn)) != 0)
        return rc;
    rc = walk(s, txn, s->rooms, start, KZ_STORE_ROOM_KEY_BYTES, start, ROOM_KEY, true, cb, ud);
    kz__rd_end(s, txn);
    return rc;
}
