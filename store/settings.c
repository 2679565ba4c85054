/* settings.c: small key/value settings owned by the node (peers' sync
 * state, node options); keys are short text, values opaque bytes. */
#include "store_internal.h"

#include <string.h>

static int key_check(const char *key, size_t *n)
{
    if (!key)
        return KZ_EINVAL;
    *n = strnlen(key, KZ__SETTING_KEY_MAX + 1);
    if (*n == 0 || *n > KZ__SETTING_KEY_MAX)
        return KZ_EINVAL;
    return 0;
}

struct setting_put {
    const char *key;
    size_t klen;
    const void *val;
    size_t len;
};

static int setting_put_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    struct setting_put *p = ud;
    return kz__put(txn, s->settings, p->key, p->klen, p->len ? p->val : "", p->len, 0);
}

int kz_store_setting_put(kz_store *s, const char *key, const void *val, size_t len)
{
    struct setting_put p = {key, 0, val, len};
    int rc = key_check(key, &p.klen);
    if (rc)
        return rc;
    if (len > KZ_SETTING_MAX)
        return KZ_ETOOBIG;
    if (len && !val)
        return KZ_EINVAL;
    return kz__write(s, setting_put_cb, &p);
}

int kz_store_setting_get(kz_store *s, const char *key, void *buf, size_t bufsz, size_t *len)
{
    MDB_txn *txn;
    MDB_val v;
    size_t klen;
    int rc = key_check(key, &klen);
    if (rc)
        return rc;
    if (!len || (!buf && bufsz))
        return KZ_EINVAL;
    if ((rc = kz__rd_begin(s, &txn)) != 0)
        return rc;
    rc = kz__get(txn, s->settings, key, klen, &v);
    if (rc == 0) {
        *len = v.mv_size;
        if (v.mv_size > bufsz)
            rc = KZ_ETOOBIG;
        else if (v.mv_size)
            memcpy(buf, v.mv_data, v.mv_size);
    }
    kz__rd_end(s, txn);
    return rc;
}
