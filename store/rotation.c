/* rotation.c: member key rotation links: which key handed over to which
 * (attest fields 6 and 7, carried into revoke fields 3 and 4), kept in step
 * with the stored records, and the chain of keys one person has used. */
#include "store_internal.h"

#include <string.h>

/* `rotations` database (docs/storage.md):
 *   'n' || old(32) || new(32)  ->  created_ms(8) || attest id(32)
 *   'p' || new(32) || old(32)  ->  created_ms(8) || attest id(32)
 * One pair per stored attest or revoke that carries a hand-over. The
 * entries live and die with that record: a replacement in its slot that
 * carries the hand-over forward (the home node always does, revokes
 * included) puts them back with its own id. */
#define ROT_KEY (1 + 2 * KZ_KEY_BYTES)
#define FORWARD_MAX 64
#define ROT_VAL (8 + KZ_ID_BYTES)

static void rot_key(uint8_t k[ROT_KEY], char tag, const uint8_t a[KZ_KEY_BYTES],
                    const uint8_t b[KZ_KEY_BYTES])
{
    k[0] = (uint8_t)tag;
    memcpy(k + 1, a, KZ_KEY_BYTES);
    memcpy(k + 1 + KZ_KEY_BYTES, b, KZ_KEY_BYTES);
}

/* The (previous, member) pair of an attest or revoke carrying a hand-over. */
static bool handover_of(const kz_record *r, const uint8_t **prev, const uint8_t **member)
{
    if (r->type == KZ_T_ATTEST && r->body.attest.has_previous) {
        *prev = r->body.attest.previous;
        *member = r->body.attest.member;
        return true;
    }
    if (r->type == KZ_T_REVOKE && r->body.revoke.has_previous) {
        *prev = r->body.revoke.previous;
        *member = r->body.revoke.member;
        return true;
    }
    return false;
}

int kz__rotation_added(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    uint8_t k[ROT_KEY], v[ROT_VAL];
    const uint8_t *prev, *member;
    int rc;
    if (!handover_of(r, &prev, &member))
        return 0;
    kz__be64_put(v, r->created_ms);
    memcpy(v + 8, r->id, KZ_ID_BYTES);
    rot_key(k, 'n', prev, member);
    if ((rc = kz__put(txn, s->rotations, k, sizeof k, v, sizeof v, 0)) != 0)
        return rc;
    rot_key(k, 'p', member, prev);
    return kz__put(txn, s->rotations, k, sizeof k, v, sizeof v, 0);
}

/* Delete k when it still points at id (another attest may have re-put it). */
static int rot_del(kz_store *s, MDB_txn *txn, const uint8_t k[ROT_KEY], const uint8_t id[KZ_ID_BYTES])
{
    MDB_val v;
    int rc = kz__get(txn, s->rotations, k, ROT_KEY, &v);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (v.mv_size == ROT_VAL && memcmp((const uint8_t *)v.mv_data + 8, id, KZ_ID_BYTES) != 0)
        return 0;
    rc = kz__del(txn, s->rotations, k, ROT_KEY);
    return rc == KZ_ENOTFOUND ? 0 : rc;
}

int kz__rotation_removed(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    uint8_t k[ROT_KEY];
    const uint8_t *prev, *member;
    int rc;
    if (!handover_of(r, &prev, &member))
        return 0;
    rot_key(k, 'n', prev, member);
    if ((rc = rot_del(s, txn, k, r->id)) != 0)
        return rc;
    rot_key(k, 'p', member, prev);
    return rot_del(s, txn, k, r->id);
}

/* The other end of every link of kind tag from key: cb(ud, other, created).
 * Returns 0 or a KZ_E* code. */
static int rot_each(kz_store *s, MDB_txn *txn, char tag, const uint8_t key[KZ_KEY_BYTES],
                    void (*cb)(void *ud, const uint8_t other[KZ_KEY_BYTES], uint64_t created),
                    void *ud)
{
    uint8_t prefix[1 + KZ_KEY_BYTES];
    MDB_cursor *c;
    MDB_val k = {sizeof prefix, prefix}, v;
    prefix[0] = (uint8_t)tag;
    memcpy(prefix + 1, key, KZ_KEY_BYTES);
    int rc = mdb_cursor_open(txn, s->rotations, &c);
    if (rc)
        return kz__err(rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != ROT_KEY || memcmp(k.mv_data, prefix, sizeof prefix) != 0)
            break;
        if (v.mv_size != ROT_VAL) {
            rc = KZ_ESTORE;
            goto out;
        }
        cb(ud, (const uint8_t *)k.mv_data + 1 + KZ_KEY_BYTES, kz__be64_get(v.mv_data));
    }
    rc = (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
out:
    mdb_cursor_close(c);
    return rc;
}

struct newest {
    bool found;
    uint64_t created;
    uint8_t key[KZ_KEY_BYTES];
};

static void newest_cb(void *ud, const uint8_t other[KZ_KEY_BYTES], uint64_t created)
{
    struct newest *nw = ud;
    if (!nw->found || created > nw->created ||
        (created == nw->created && memcmp(other, nw->key, KZ_KEY_BYTES) > 0)) {
        nw->found = true;
        nw->created = created;
        memcpy(nw->key, other, KZ_KEY_BYTES);
    }
}

int kz_store_member_successor(kz_store *s, const uint8_t member[KZ_KEY_BYTES],
                              uint8_t next[KZ_KEY_BYTES])
{
    MDB_txn *txn;
    struct newest nw = {0};
    if (!member || !next)
        return KZ_EINVAL;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = rot_each(s, txn, 'n', member, newest_cb, &nw);
    kz__rd_end(s, txn);
    if (rc)
        return rc;
    if (!nw.found)
        return KZ_ENOTFOUND;
    memcpy(next, nw.key, KZ_KEY_BYTES);
    return 0;
}

struct chain {
    uint8_t (*keys)[KZ_KEY_BYTES];
    size_t n, max;
    bool full;
};

static bool chain_has(const struct chain *ch, const uint8_t key[KZ_KEY_BYTES])
{
    for (size_t i = 0; i < ch->n; i++)
        if (memcmp(ch->keys[i], key, KZ_KEY_BYTES) == 0)
            return true;
    return false;
}

static void chain_add_cb(void *ud, const uint8_t other[KZ_KEY_BYTES], uint64_t created)
{
    struct chain *ch = ud;
    (void)created;
    if (chain_has(ch, other))
        return; /* a loop of hand-overs (only forgeable by the keys' holders) */
    if (ch->n == ch->max) {
        ch->full = true;
        return;
    }
    memcpy(ch->keys[ch->n++], other, KZ_KEY_BYTES);
}

int kz_store_member_chain(kz_store *s, const uint8_t member[KZ_KEY_BYTES],
                          uint8_t (*keys)[KZ_KEY_BYTES], size_t max, size_t *n)
{
    MDB_txn *txn;
    uint8_t cur[KZ_KEY_BYTES];
    if (!member || !keys || !n || max == 0)
        return KZ_EINVAL;
    *n = 0;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    /* Forward to the newest successor. A loop (only the keys' own holders
     * could sign one) stops at the first repeat, a long chain after
     * FORWARD_MAX steps. */
    uint8_t seen[FORWARD_MAX][KZ_KEY_BYTES];
    size_t n_seen = 1;
    memcpy(seen[0], member, KZ_KEY_BYTES);
    memcpy(cur, member, KZ_KEY_BYTES);
    while (n_seen < FORWARD_MAX) {
        struct newest nw = {0};
        if ((rc = rot_each(s, txn, 'n', cur, newest_cb, &nw)) != 0)
            goto out;
        bool again = false;
        for (size_t i = 0; nw.found && i < n_seen; i++)
            again |= memcmp(seen[i], nw.key, KZ_KEY_BYTES) == 0;
        if (!nw.found || again)
            break;
        memcpy(cur, nw.key, KZ_KEY_BYTES);
        memcpy(seen[n_seen++], cur, KZ_KEY_BYTES);
    }
    /* Then back from the current key through every previous one. */
    struct chain ch = {keys, 1, max, false};
    memcpy(keys[0], cur, KZ_KEY_BYTES);
    for (size_t i = 0; i < ch.n; i++) {
        if ((rc = rot_each(s, txn, 'p', keys[i], chain_add_cb, &ch)) != 0)
            goto out;
    }
    if (!chain_has(&ch, member)) {
        if (ch.n == max)
            ch.full = true;
        else
            memcpy(keys[ch.n++], member, KZ_KEY_BYTES);
    }
    *n = ch.n;
    rc = ch.full ? KZ_ETOOBIG : 0;
out:
    kz__rd_end(s, txn);
    return rc;
}
