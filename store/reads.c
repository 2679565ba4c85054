/* reads.c: reading records: lookups by id, slot heads, tombstones, and the
 * three iteration orders (reconciliation order, by type, by author). */
#include "store_internal.h"

#include <string.h>

int kz_store_get(kz_store *s, const uint8_t id[KZ_ID_BYTES], uint8_t *buf, size_t bufsz,
                 size_t *len)
{
    MDB_txn *txn;
    MDB_val v;
    if (!id || !len || (!buf && bufsz))
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = kz__get(txn, s->records, id, KZ_ID_BYTES, &v);
    if (rc == 0) {
        *len = v.mv_size;
        if (v.mv_size > bufsz)
            rc = KZ_ETOOBIG;
        else
            memcpy(buf, v.mv_data, v.mv_size);
    }
    kz__rd_end(s, txn);
    return rc == KZ__EMAPFULL ? KZ_ESTORE : rc;
}

bool kz_store_has(kz_store *s, const uint8_t id[KZ_ID_BYTES])
{
    MDB_txn *txn;
    MDB_val v;
    if (!id || kz__rd_begin(s, &txn) != 0)
        return false;
    int rc = kz__get(txn, s->records, id, KZ_ID_BYTES, &v);
    kz__rd_end(s, txn);
    return rc == 0;
}

bool kz_store_is_tombstoned(kz_store *s, const uint8_t id[KZ_ID_BYTES])
{
    MDB_txn *txn;
    MDB_val v;
    if (!id || kz__rd_begin(s, &txn) != 0)
        return false;
    int rc = kz__get(txn, s->tombstones, id, KZ_ID_BYTES, &v);
    kz__rd_end(s, txn);
    return rc == 0;
}

int kz__head_get(kz_store *s, MDB_txn *txn, const uint8_t slot[KZ_SLOT_BYTES],
                 uint64_t *created, uint8_t id[KZ_ID_BYTES], bool *gone)
{
    MDB_val v;
    int rc = kz__get(txn, s->heads, slot, KZ_SLOT_BYTES, &v);
    if (rc)
        return rc;
    const uint8_t *p = v.mv_data;
    if (v.mv_size == KZ__HEAD_VAL)
        *gone = false;
    else if (v.mv_size == KZ__HEAD_GONE_VAL && p[KZ__HEAD_VAL] == KZ__HEAD_GONE)
        *gone = true;
    else
        return KZ_ESTORE;
    *created = kz__be64_get(p);
    memcpy(id, p + 8, KZ_ID_BYTES);
    return 0;
}

int kz_store_head(kz_store *s, const uint8_t slot[KZ_SLOT_BYTES], uint8_t id[KZ_ID_BYTES])
{
    MDB_txn *txn;
    uint8_t hid[KZ_ID_BYTES];
    uint64_t created;
    bool gone;
    if (!slot || !id)
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = kz__head_get(s, txn, slot, &created, hid, &gone);
    kz__rd_end(s, txn);
    if (rc == 0 && gone)
        rc = KZ_ENOTFOUND; /* its head was deleted: the slot is empty */
    if (rc == 0)
        memcpy(id, hid, KZ_ID_BYTES);
    return rc == KZ__EMAPFULL ? KZ_ESTORE : rc;
}

/* ---- Iteration ---------------------------------------------------------------
 * Every index key ends in created(8) || id(32) after a fixed-length prefix;
 * the record bytes are looked up in `records` for each entry. */

/* Authors seen during one iteration and whether a block hides them: records
 * by one author come in runs, and each check is a few B-tree lookups. */
#define SEEN_SLOTS 64

struct walk {
    kz_store *s;
    MDB_txn *txn;
    kz_store_rec_cb cb;
    void *ud;
    unsigned flags;
    struct {
        bool used, blocked;
        uint8_t author[KZ_KEY_BYTES];
    } seen[SEEN_SLOTS];
};

/* The author of stored record bytes. A version-1 record starts with
 * 96 01 TT c4 20 and then the 32 author bytes (docs/protocol.md); anything
 * else is decoded. */
static int stored_author(const uint8_t *raw, size_t len, uint8_t author[KZ_KEY_BYTES])
{
    kz_record r;
    if (len >= 5 + KZ_KEY_BYTES && raw[0] == 0x96 && raw[1] == 0x01 && raw[3] == 0xc4 &&
        raw[4] == KZ_KEY_BYTES) {
        memcpy(author, raw + 5, KZ_KEY_BYTES);
        return 0;
    }
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return KZ_ESTORE; /* it was verified when it came in */
    memcpy(author, r.author, KZ_KEY_BYTES);
    kz_record_close(&r);
    return 0;
}

/* 1 when KZ_STORE_ITER_VISIBLE hides these bytes, 0 when not, <0 error. */
static int hidden(struct walk *w, const uint8_t *raw, size_t len)
{
    uint8_t author[KZ_KEY_BYTES];
    int rc = stored_author(raw, len, author);
    if (rc)
        return rc;
    unsigned i = author[0] % SEEN_SLOTS; /* keys are uniformly random */
    if (w->seen[i].used && memcmp(w->seen[i].author, author, KZ_KEY_BYTES) == 0)
        return w->seen[i].blocked;
    if ((rc = kz__author_blocked(w->s, w->txn, author)) < 0)
        return rc;
    w->seen[i].used = true;
    w->seen[i].blocked = rc == 1;
    memcpy(w->seen[i].author, author, KZ_KEY_BYTES);
    return rc;
}

/* Hand one index entry to the callback. 0 continue, 1 stop, <0 error. */
static int emit(struct walk *w, const uint8_t *tail)
{
    MDB_val v;
    const uint8_t *id = tail + 8;
    int rc = kz__get(w->txn, w->s->records, id, KZ_ID_BYTES, &v);
    if (rc)
        return rc == KZ_ENOTFOUND ? KZ_ESTORE : rc; /* index out of step */
    if (w->flags & KZ_STORE_ITER_VISIBLE) {
        if ((rc = hidden(w, v.mv_data, v.mv_size)) != 0)
            return rc < 0 ? rc : 0;
    }
    rc = w->cb(w->ud, id, kz__be64_get(tail), v.mv_data, v.mv_size);
    return rc > 0 ? 1 : rc;
}

/* Walk the keys of dbi that start with prefix (plen bytes), newest first. */
static int walk_prefix_desc(struct walk *w, MDB_dbi dbi, const uint8_t *prefix, size_t plen)
{
    uint8_t seek[KZ_KEY_BYTES];
    MDB_cursor *c;
    MDB_val k, v;
    size_t klen = plen + 8 + KZ_ID_BYTES;
    int rc;

    if ((rc = mdb_cursor_open(w->txn, dbi, &c)) != 0)
        return kz__err(rc);
    /* Seek to the first key after the prefix range, then step back. */
    memcpy(seek, prefix, plen);
    size_t i = plen;
    while (i > 0 && seek[i - 1] == 0xff)
        seek[--i] = 0;
    if (i == 0) {
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    } else {
        seek[i - 1]++;
        k.mv_size = plen;
        k.mv_data = seek;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV)
                     : (rc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST) : rc);
    }
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
        if (k.mv_size != klen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        int r = emit(w, (const uint8_t *)k.mv_data + plen);
        if (r) {
            mdb_cursor_close(c);
            return r > 0 ? 0 : r;
        }
    }
    mdb_cursor_close(c);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
}

int kz_store_iter_order_ex(kz_store *s, uint64_t from_ms, const uint8_t *from_id, bool reverse,
                           unsigned flags, kz_store_rec_cb cb, void *ud)
{
    uint8_t key[KZ__ORDER_KEY] = {0};
    struct walk w = {.s = s, .cb = cb, .ud = ud, .flags = flags};
    MDB_cursor *c;
    MDB_val k, v;
    int rc;

    if (!cb || (flags & ~KZ_STORE_ITER_VISIBLE))
        return KZ_EINVAL;
    kz__be64_put(key, from_ms);
    if (from_id)
        memcpy(key + 8, from_id, KZ_ID_BYTES);
    if ((rc = kz__rd_begin(s, &w.txn)) != 0)
        return rc;
    if ((rc = mdb_cursor_open(w.txn, s->order, &c)) != 0) {
        kz__rd_end(s, w.txn);
        return kz__err(rc);
    }
    k.mv_size = sizeof key;
    k.mv_data = key;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    MDB_cursor_op step = reverse ? MDB_PREV : MDB_NEXT;
    if (reverse) {
        /* Start at the last key <= from: SET_RANGE found the first >= from. */
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
        else if (rc == 0 && (k.mv_size != sizeof key || memcmp(k.mv_data, key, sizeof key) != 0))
            rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    int out = 0;
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, step)) {
        if (k.mv_size != KZ__ORDER_KEY) {
            out = KZ_ESTORE;
            break;
        }
        int r = emit(&w, k.mv_data);
        if (r) {
            out = r > 0 ? 0 : r;
            break;
        }
    }
    if (out == 0 && rc != 0 && rc != MDB_NOTFOUND)
        out = kz__err(rc);
    mdb_cursor_close(c);
    kz__rd_end(s, w.txn);
    return out;
}

int kz_store_iter_order(kz_store *s, uint64_t from_ms, const uint8_t *from_id, bool reverse,
                        kz_store_rec_cb cb, void *ud)
{
    return kz_store_iter_order_ex(s, from_ms, from_id, reverse, 0, cb, ud);
}

int kz_store_iter_type_ex(kz_store *s, int type, unsigned flags, kz_store_rec_cb cb, void *ud)
{
    struct walk w = {.s = s, .cb = cb, .ud = ud, .flags = flags};
    uint8_t prefix = (uint8_t)type;
    if (!cb || type < 1 || type > KZ_T_MAX || (flags & ~KZ_STORE_ITER_VISIBLE))
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &w.txn);
    if (rc)
        return rc;
    rc = walk_prefix_desc(&w, s->by_type, &prefix, 1);
    kz__rd_end(s, w.txn);
    return rc;
}

int kz_store_iter_type(kz_store *s, int type, kz_store_rec_cb cb, void *ud)
{
    return kz_store_iter_type_ex(s, type, 0, cb, ud);
}

int kz_store_iter_author_ex(kz_store *s, const uint8_t author[KZ_KEY_BYTES], unsigned flags,
                            kz_store_rec_cb cb, void *ud)
{
    struct walk w = {.s = s, .cb = cb, .ud = ud};
    if (!cb || !author || (flags & ~KZ_STORE_ITER_VISIBLE))
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &w.txn);
    if (rc)
        return rc;
    /* One author: one check for the whole walk. */
    if (flags & KZ_STORE_ITER_VISIBLE)
        rc = kz__author_blocked(s, w.txn, author);
    if (rc == 0)
        rc = walk_prefix_desc(&w, s->by_author, author, KZ_KEY_BYTES);
    kz__rd_end(s, w.txn);
    return rc < 0 ? rc : 0;
}

int kz_store_iter_author(kz_store *s, const uint8_t author[KZ_KEY_BYTES], kz_store_rec_cb cb,
                         void *ud)
{
    return kz_store_iter_author_ex(s, author, 0, cb, ud);
}
