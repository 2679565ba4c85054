/* atomic.c: all-or-nothing writes: records and local member entries put by a
 * caller's function inside ONE write transaction (HR import, key rotation). */
#include "store_internal.h"

#include <string.h>

struct kz_store_txn {
    kz_store *s;
    MDB_txn *txn;
    int failed;            /* first failure; sticky, dooms the transaction */
    kz_store_txn_fn fn;
    void *ud;
};

static bool refusal(int rc)
{
    switch (rc) {
    case KZ_EINVAL:
    case KZ_EDELETED:
    case KZ_EEXIST:
    case KZ_EBLOCKED:
    case KZ_EPERM:
    case KZ_ENOATTEST:
    case KZ_ESTALE:
        return true;
    default:
        return false;
    }
}

static int atomic_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    kz_store_txn *t = ud;
    (void)s;
    t->txn = txn;
    t->failed = 0;
    int rc = t->fn(t->ud, t);
    if (rc > 0)
        rc = KZ__ABORT_OK; /* fn chose to write nothing */
    /* A failed put dooms the transaction even if fn ignored it; a map-full
     * failure makes kz__write grow the map and run fn again. */
    if (t->failed)
        rc = t->failed;
    t->txn = NULL;
    return rc;
}

int kz_store_atomic(kz_store *s, kz_store_txn_fn fn, void *ud)
{
    if (!s || !fn)
        return KZ_EINVAL;
    kz_store_txn t = {s, NULL, 0, fn, ud};
    int rc = kz__write(s, atomic_cb, &t);
    if (rc == KZ__ABORT_OK || rc == KZ__EMAPFULL)
        rc = KZ_ESTORE; /* never leak internal codes */
    return rc;
}

int kz_store_txn_put(kz_store_txn *t, const kz_record *r, kz_put_result *res)
{
    kz_put_result tmp;
    if (!res)
        res = &tmp;
    memset(res, 0, sizeof *res);
    if (!t || !t->txn)
        return KZ_EINVAL;
    if (t->failed)
        return t->failed;
    int rc = kz__record_apply(t->s, t->txn, r, res);
    if (rc) {
        t->failed = rc; /* kept as is: a full map makes kz__write grow it */
        if (!refusal(rc))
            rc = KZ_ESTORE;
        memset(res, 0, sizeof *res);
    }
    res->rc = rc;
    return rc;
}

int kz_store_txn_member_put(kz_store_txn *t, const kz_store_member *m)
{
    if (!t || !t->txn || !m)
        return KZ_EINVAL;
    if (t->failed)
        return t->failed;
    int rc = kz__member_put_txn(t->s, t->txn, m);
    if (rc) {
        t->failed = rc;
        return rc == KZ_EINVAL ? rc : KZ_ESTORE;
    }
    return 0;
}

int kz_store_txn_member_get(kz_store_txn *t, const uint8_t pk[KZ_KEY_BYTES], kz_store_member *m)
{
    if (!t || !t->txn || !pk || !m)
        return KZ_EINVAL;
    return kz__member_get_txn(t->s, t->txn, pk, m);
}
