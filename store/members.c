/* members.c: the local members this node holds keys for (never replicated),
 * with their stable HR keys for idempotent imports. */
#include "store_internal.h"

#include <string.h>

#define MEMBER_FORMAT 1
#define F_REVOKED 0x1u
#define F_REHIRE 0x2u

/* Serialized kz_store_member, format 1 (KZ__MEMBER_VAL bytes; see
 * docs/storage.md):
 *   0 version  1 role  2 joined(2)  4 left(2)  6 flags  7 added_ms(8)
 *   15 sealed_sk_len(2)  17 sealed_sk(128, zero padded)
 *   145 hr_key_len(1)  146 hr_key(64, zero padded) */
enum {
    O_VER = 0, O_ROLE = 1, O_JOINED = 2, O_LEFT = 4, O_FLAGS = 6, O_ADDED = 7,
    O_SKLEN = 15, O_SK = 17, O_HRLEN = O_SK + KZ_SEALED_SK_MAX, O_HR = O_HRLEN + 1,
    O_END = O_HR + KZ_HRKEY_MAX
};
_Static_assert(O_END == KZ__MEMBER_VAL, "member layout size");

static int member_check(const kz_store_member *m, size_t *hr_len)
{
    size_t n = strnlen(m->hr_key, sizeof m->hr_key);
    if (n > KZ_HRKEY_MAX || m->role > KZ_ROLE_SECRETARIAT ||
        m->sealed_sk_len > KZ_SEALED_SK_MAX)
        return KZ_EINVAL;
    if ((m->joined && (m->joined < KZ_YEAR_MIN || m->joined > KZ_YEAR_MAX)) ||
        (m->left && (m->left < KZ_YEAR_MIN || m->left > KZ_YEAR_MAX)))
        return KZ_EINVAL;
    if (n && !kz_utf8_valid(m->hr_key, n, 0))
        return KZ_EINVAL;
    *hr_len = n;
    return 0;
}

static void member_encode(uint8_t out[KZ__MEMBER_VAL], const kz_store_member *m, size_t hr_len)
{
    memset(out, 0, KZ__MEMBER_VAL);
    out[O_VER] = MEMBER_FORMAT;
    out[O_ROLE] = m->role;
    kz__be16_put(out + O_JOINED, m->joined);
    kz__be16_put(out + O_LEFT, m->left);
    out[O_FLAGS] = (uint8_t)((m->revoked ? F_REVOKED : 0) | (m->rehire ? F_REHIRE : 0));
    kz__be64_put(out + O_ADDED, m->added_ms);
    kz__be16_put(out + O_SKLEN, (uint16_t)m->sealed_sk_len);
    memcpy(out + O_SK, m->sealed_sk, m->sealed_sk_len);
    out[O_HRLEN] = (uint8_t)hr_len;
    memcpy(out + O_HR, m->hr_key, hr_len);
}

static int member_decode(kz_store_member *m, const uint8_t pk[KZ_KEY_BYTES], const MDB_val *v)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size != KZ__MEMBER_VAL || p[O_VER] != MEMBER_FORMAT)
        return KZ_ESTORE;
    unsigned sklen = kz__be16_get(p + O_SKLEN), hrlen = p[O_HRLEN];
    if (sklen > KZ_SEALED_SK_MAX || hrlen > KZ_HRKEY_MAX)
        return KZ_ESTORE;
    memset(m, 0, sizeof *m);
    memcpy(m->pk, pk, KZ_KEY_BYTES);
    m->role = p[O_ROLE];
    m->joined = kz__be16_get(p + O_JOINED);
    m->left = kz__be16_get(p + O_LEFT);
    m->revoked = (p[O_FLAGS] & F_REVOKED) != 0;
    m->rehire = (p[O_FLAGS] & F_REHIRE) != 0;
    m->added_ms = kz__be64_get(p + O_ADDED);
    m->sealed_sk_len = sklen;
    memcpy(m->sealed_sk, p + O_SK, sklen);
    memcpy(m->hr_key, p + O_HR, hrlen);
    m->hr_key[hrlen] = '\0';
    return 0;
}

struct member_put {
    const kz_store_member *m;
    size_t hr_len;
};

static int member_put_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    struct member_put *p = ud;
    const kz_store_member *m = p->m;
    uint8_t val[KZ__MEMBER_VAL];
    MDB_val v;
    int rc;

    if (p->hr_len) {
        rc = kz__get(txn, s->members_hr, m->hr_key, p->hr_len, &v);
        if (rc == 0 && (v.mv_size != KZ_KEY_BYTES || memcmp(v.mv_data, m->pk, KZ_KEY_BYTES) != 0))
            return KZ_EINVAL; /* that HR key belongs to another member */
        if (rc && rc != KZ_ENOTFOUND)
            return rc;
    }
    rc = kz__get(txn, s->members, m->pk, KZ_KEY_BYTES, &v);
    if (rc == 0) {
        kz_store_member old;
        if ((rc = member_decode(&old, m->pk, &v)) != 0)
            return rc;
        size_t old_len = strlen(old.hr_key);
        if (old_len && (old_len != p->hr_len || memcmp(old.hr_key, m->hr_key, old_len) != 0)) {
            rc = kz__del(txn, s->members_hr, old.hr_key, old_len);
            if (rc && rc != KZ_ENOTFOUND)
                return rc;
        }
    } else if (rc != KZ_ENOTFOUND) {
        return rc;
    }
    member_encode(val, m, p->hr_len);
    rc = kz__put(txn, s->members, m->pk, KZ_KEY_BYTES, val, sizeof val, 0);
    if (rc == 0 && p->hr_len)
        rc = kz__put(txn, s->members_hr, m->hr_key, p->hr_len, m->pk, KZ_KEY_BYTES, 0);
    return rc;
}

int kz_store_member_put(kz_store *s, const kz_store_member *m)
{
    struct member_put p = {m, 0};
    if (!m)
        return KZ_EINVAL;
    int rc = member_check(m, &p.hr_len);
    if (rc)
        return rc;
    return kz__write(s, member_put_cb, &p);
}

int kz_store_member_get(kz_store *s, const uint8_t pk[KZ_KEY_BYTES], kz_store_member *m)
{
    MDB_txn *txn;
    MDB_val v;
    if (!pk || !m)
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = kz__get(txn, s->members, pk, KZ_KEY_BYTES, &v);
    if (rc == 0)
        rc = member_decode(m, pk, &v);
    kz__rd_end(s, txn);
    return rc;
}

int kz_store_member_by_hrkey(kz_store *s, const char *hr_key, kz_store_member *m)
{
    MDB_txn *txn;
    MDB_val v;
    if (!hr_key || !m)
        return KZ_EINVAL;
    size_t n = strnlen(hr_key, KZ_HRKEY_MAX + 1);
    if (n == 0 || n > KZ_HRKEY_MAX)
        return KZ_ENOTFOUND; /* no stored member can have such a key */
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = kz__get(txn, s->members_hr, hr_key, n, &v);
    if (rc == 0 && v.mv_size != KZ_KEY_BYTES)
        rc = KZ_ESTORE;
    if (rc == 0) {
        uint8_t pk[KZ_KEY_BYTES];
        memcpy(pk, v.mv_data, KZ_KEY_BYTES);
        rc = kz__get(txn, s->members, pk, KZ_KEY_BYTES, &v);
        if (rc == 0)
            rc = member_decode(m, pk, &v);
        else if (rc == KZ_ENOTFOUND)
            rc = KZ_ESTORE; /* the HR index is out of step */
    }
    kz__rd_end(s, txn);
    return rc;
}

int kz_store_member_iter(kz_store *s, int (*cb)(void *ud, const kz_store_member *m), void *ud)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    kz_store_member m;
    if (!cb)
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open(txn, s->members, &c)) != 0) {
        kz__rd_end(s, txn);
        return kz__err(rc);
    }
    int out = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KZ_KEY_BYTES || member_decode(&m, k.mv_data, &v) != 0) {
            out = KZ_ESTORE;
            break;
        }
        int r = cb(ud, &m);
        if (r) {
            out = r > 0 ? 0 : r;
            break;
        }
    }
    if (out == 0 && rc != 0 && rc != MDB_NOTFOUND)
        out = kz__err(rc);
    mdb_cursor_close(c);
    kz__rd_end(s, txn);
    return out;
}

int kz__member_put_txn(kz_store *s, MDB_txn *txn, const kz_store_member *m)
{
    struct member_put p = {m, 0};
    int rc = member_check(m, &p.hr_len);
    if (rc)
        return rc;
    return member_put_cb(s, txn, &p);
}

int kz__member_get_txn(kz_store *s, MDB_txn *txn, const uint8_t pk[KZ_KEY_BYTES],
                       kz_store_member *m)
{
    MDB_val v;
    int rc = kz__get(txn, s->members, pk, KZ_KEY_BYTES, &v);
    if (rc == 0)
        rc = member_decode(m, pk, &v);
    return rc;
}
