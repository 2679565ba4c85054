/* membership.c: who vouches for a member: the membership database (one
 * entry per (member, node) slot, holding that slot's latest attest or
 * revoke, or the mark a deleted one left), the member's home node derived
 * from it, and whether a block hides an author's records. */
#include "store_internal.h"

#include <string.h>

int kz__home_find(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES], kz__home *h)
{
    MDB_cursor *c;
    MDB_val k = {KZ_KEY_BYTES, (void *)member}, v;
    int rc;

    memset(h, 0, sizeof *h);
    if ((rc = mdb_cursor_open(txn, s->membership, &c)) != 0)
        return kz__err(rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data, *val = v.mv_data;
        if (k.mv_size != KZ__MEMB_KEY || memcmp(key, member, KZ_KEY_BYTES) != 0)
            break;
        if (v.mv_size != KZ__MEMB_VAL)
            continue;
        bool live = val[KZ__MEMB_VAL - 1] == KZ_T_ATTEST; /* else revoked or deleted */
        if (live)
            h->n_live++;
        const uint8_t *node = key + KZ_KEY_BYTES;
        int b = kz__is_blocked(s, txn, node);
        if (b < 0) {
            rc = b;
            goto out;
        }
        if (b)
            continue;
        h->n_known++;
        if (!live)
            continue;
        uint64_t created = kz__be64_get(val);
        if (!h->found || kz_record_newer(created, val + 8, h->created_ms, h->attest_id)) {
            h->found = true;
            h->created_ms = created;
            memcpy(h->node, node, KZ_KEY_BYTES);
            memcpy(h->attest_id, val + 8, KZ_ID_BYTES);
        }
    }
    rc = (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
out:
    mdb_cursor_close(c);
    return rc;
}

int kz_store_member_home(kz_store *s, const uint8_t member[KZ_KEY_BYTES],
                         uint8_t node[KZ_KEY_BYTES], uint8_t attest_id[KZ_ID_BYTES])
{
    MDB_txn *txn;
    kz__home h;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = kz__home_find(s, txn, member, &h);
    kz__rd_end(s, txn);
    if (rc)
        return rc;
    if (!h.found)
        return KZ_ENOATTEST;
    if (node)
        memcpy(node, h.node, KZ_KEY_BYTES);
    if (attest_id)
        memcpy(attest_id, h.attest_id, KZ_ID_BYTES);
    return 0;
}

int kz__author_blocked(kz_store *s, MDB_txn *txn, const uint8_t author[KZ_KEY_BYTES])
{
    kz__home h;
    int rc = kz__is_blocked(s, txn, author);
    if (rc != 0)
        return rc;
    if ((rc = kz__home_find(s, txn, author, &h)) != 0)
        return rc;
    return h.n_live > 0 && !h.found; /* attested, but only by blocked nodes */
}

bool kz_store_author_blocked(kz_store *s, const uint8_t author[KZ_KEY_BYTES])
{
    MDB_txn *txn;
    if (!s || !author || kz__rd_begin(s, &txn) != 0)
        return false;
    int rc = kz__author_blocked(s, txn, author);
    kz__rd_end(s, txn);
    return rc == 1;
}
