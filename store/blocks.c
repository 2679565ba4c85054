/* blocks.c: defederated (blocked) nodes. Blocking refuses new records from
 * the node and its members; it does not purge what is already stored, so
 * unblocking restores the node's members without a resync. */
#include "store_internal.h"

int kz__is_blocked(kz_store *s, MDB_txn *txn, const uint8_t node[KZ_KEY_BYTES])
{
    MDB_val v;
    int rc = kz__get(txn, s->blocked, node, KZ_KEY_BYTES, &v);
    if (rc == 0)
        return 1;
    return rc == KZ_ENOTFOUND ? 0 : rc;
}

struct block_set {
    const uint8_t *node;
    bool blocked;
};

static int block_set_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    struct block_set *b = ud;
    if (b->blocked)
        return kz__put(txn, s->blocked, b->node, KZ_KEY_BYTES, "", 0, 0);
    int rc = kz__del(txn, s->blocked, b->node, KZ_KEY_BYTES);
    return rc == KZ_ENOTFOUND ? KZ__ABORT_OK : rc;
}

int kz_store_block_set(kz_store *s, const uint8_t node[KZ_KEY_BYTES], bool blocked)
{
    struct block_set b = {node, blocked};
    if (!node)
        return KZ_EINVAL;
    return kz__write(s, block_set_cb, &b);
}

bool kz_store_is_blocked(kz_store *s, const uint8_t node[KZ_KEY_BYTES])
{
    MDB_txn *txn;
    if (!node || kz__rd_begin(s, &txn) != 0)
        return false;
    int rc = kz__is_blocked(s, txn, node);
    kz__rd_end(s, txn);
    return rc == 1;
}
