/* peers.c: the peers this node knows (node id -> address, times, traffic
 * counters), kept in the `peers` named database for the gossip layer.
 *
 * Value layout, version 1 (big-endian integers, docs/storage.md):
 *   version u8 = 1 | added_ms u64 | last_contact_ms u64 | last_sync_ms u64 |
 *   sync_diffs u64 | records_in u64 | records_out u64 | bytes_in u64 |
 *   bytes_out u64 | addr_len u8 | addr (addr_len bytes, printable ASCII)
 * A value of any other shape is reported as KZ_ESTORE, never guessed at. */
#include "store_internal.h"

#include <string.h>

#define PEER_V1 1u
#define PEER_FIXED (1 + 8 * 8 + 1)
#define PEER_VAL_MAX (PEER_FIXED + KZ_ADDR_MAX)

static bool addr_ok(const char *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

static size_t peer_encode(const kz_store_peer *p, size_t alen, uint8_t out[PEER_VAL_MAX])
{
    const uint64_t f[8] = {p->added_ms,   p->last_contact_ms, p->last_sync_ms, p->sync_diffs,
                           p->records_in, p->records_out,     p->bytes_in,     p->bytes_out};
    uint8_t *w = out;
    *w++ = PEER_V1;
    for (size_t i = 0; i < KZ_ARRAY_LEN(f); i++, w += 8)
        kz__be64_put(w, f[i]);
    *w++ = (uint8_t)alen;
    memcpy(w, p->addr, alen);
    return PEER_FIXED + alen;
}

static int peer_decode(const uint8_t node[KZ_KEY_BYTES], const MDB_val *v, kz_store_peer *p)
{
    const uint8_t *r = v->mv_data;
    if (v->mv_size < PEER_FIXED || r[0] != PEER_V1)
        return KZ_ESTORE;
    size_t alen = r[PEER_FIXED - 1];
    if (v->mv_size != PEER_FIXED + alen || alen > KZ_ADDR_MAX ||
        !addr_ok((const char *)r + PEER_FIXED, alen))
        return KZ_ESTORE;
    uint64_t f[8];
    for (size_t i = 0; i < KZ_ARRAY_LEN(f); i++)
        f[i] = kz__be64_get(r + 1 + 8 * i);
    memset(p, 0, sizeof *p);
    memcpy(p->node, node, KZ_KEY_BYTES);
    p->added_ms = f[0];
    p->last_contact_ms = f[1];
    p->last_sync_ms = f[2];
    p->sync_diffs = f[3];
    p->records_in = f[4];
    p->records_out = f[5];
    p->bytes_in = f[6];
    p->bytes_out = f[7];
    memcpy(p->addr, r + PEER_FIXED, alen);
    p->addr[alen] = '\0';
    return 0;
}

struct peer_put {
    const uint8_t *node;
    uint8_t val[PEER_VAL_MAX];
    size_t len;
};

static int peer_put_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    struct peer_put *pp = ud;
    return kz__put(txn, s->peers, pp->node, KZ_KEY_BYTES, pp->val, pp->len, 0);
}

int kz_store_peer_put(kz_store *s, const kz_store_peer *p)
{
    struct peer_put pp;
    if (!s || !p)
        return KZ_EINVAL;
    size_t alen = strnlen(p->addr, sizeof p->addr);
    if (alen > KZ_ADDR_MAX || !addr_ok(p->addr, alen))
        return KZ_EINVAL;
    pp.node = p->node;
    pp.len = peer_encode(p, alen, pp.val);
    return kz__write(s, peer_put_cb, &pp);
}

int kz_store_peer_get(kz_store *s, const uint8_t node[KZ_KEY_BYTES], kz_store_peer *p)
{
    MDB_txn *txn;
    MDB_val v;
    if (!s || !node || !p)
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = kz__get(txn, s->peers, node, KZ_KEY_BYTES, &v);
    if (rc == 0)
        rc = peer_decode(node, &v, p);
    kz__rd_end(s, txn);
    return rc;
}

static int peer_del_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    return kz__del(txn, s->peers, ud, KZ_KEY_BYTES);
}

int kz_store_peer_del(kz_store *s, const uint8_t node[KZ_KEY_BYTES])
{
    if (!s || !node)
        return KZ_EINVAL;
    return kz__write(s, peer_del_cb, (void *)node);
}

int kz_store_peer_iter(kz_store *s, int (*cb)(void *ud, const kz_store_peer *p), void *ud)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    kz_store_peer p;
    if (!s || !cb)
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open(txn, s->peers, &c)) != 0) {
        kz__rd_end(s, txn);
        return kz__err(rc);
    }
    int out = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KZ_KEY_BYTES || peer_decode(k.mv_data, &v, &p) != 0) {
            out = KZ_ESTORE;
            break;
        }
        int r = cb(ud, &p);
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
