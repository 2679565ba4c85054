/* records.c: writing records: the acceptance rules, index maintenance,
 * purging (deletes and replacements), and single and batched puts. */
#include "store_internal.h"

#include <string.h>

/* ---- Index seam -------------------------------------------------------------
 * Called inside the write transaction for every record whose content enters
 * the store and for every record whose content leaves it (purged by a delete
 * or replaced in its slot). The search index hooks in here; a non-zero
 * return aborts the write like any LMDB failure. */

static int index_record_added(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    int rc;
    if ((rc = kz__social_added(s, txn, r)) != 0 || (rc = kz__search_added(s, txn, r)) != 0)
        return rc;
    if ((rc = kz__rotation_added(s, txn, r)) != 0)
        return rc;
    return 0;
}

static int index_record_removed(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    int rc;
    if ((rc = kz__social_removed(s, txn, r)) != 0 || (rc = kz__search_removed(s, txn, r)) != 0)
        return rc;
    if ((rc = kz__rotation_removed(s, txn, r)) != 0)
        return rc;
    return 0;
}

/* ---- Keys ------------------------------------------------------------------ */

static void order_key(uint8_t k[KZ__ORDER_KEY], const kz_record *r)
{
    kz__be64_put(k, r->created_ms);
    memcpy(k + 8, r->id, KZ_ID_BYTES);
}

static void author_key(uint8_t k[KZ__AUTHOR_KEY], const kz_record *r)
{
    memcpy(k, r->author, KZ_KEY_BYTES);
    kz__be64_put(k + KZ_KEY_BYTES, r->created_ms);
    memcpy(k + KZ_KEY_BYTES + 8, r->id, KZ_ID_BYTES);
}

static void type_key(uint8_t k[KZ__TYPE_KEY], const kz_record *r)
{
    k[0] = r->type;
    kz__be64_put(k + 1, r->created_ms);
    memcpy(k + 9, r->id, KZ_ID_BYTES);
}

static void memb_key(uint8_t k[KZ__MEMB_KEY], const uint8_t member[KZ_KEY_BYTES],
                     const uint8_t node[KZ_KEY_BYTES])
{
    memcpy(k, member, KZ_KEY_BYTES);
    memcpy(k + KZ_KEY_BYTES, node, KZ_KEY_BYTES);
}

static const uint8_t *subject_member(const kz_record *r)
{
    if (r->type == KZ_T_ATTEST)
        return r->body.attest.member;
    if (r->type == KZ_T_REVOKE)
        return r->body.revoke.member;
    return NULL;
}

/* Refusals are per-record outcomes; anything else is a store failure that
 * aborts the whole transaction. */
static bool is_refusal(int rc)
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

/* ---- Insert and purge ------------------------------------------------------- */

/* The reconciliation order is append-mostly (records arrive roughly in
 * creation order), and MDB_APPEND is LMDB's cheapest insert: no search and
 * full pages instead of half-split ones. */
static int order_put(kz_store *s, MDB_txn *txn, const uint8_t key[KZ__ORDER_KEY])
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, s->order, &c);
    if (rc)
        return kz__err(rc);
    unsigned flags = MDB_NOOVERWRITE;
    rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    if (rc == MDB_NOTFOUND ||
        (rc == 0 && k.mv_size == KZ__ORDER_KEY && memcmp(key, k.mv_data, KZ__ORDER_KEY) > 0))
        flags = MDB_APPEND;
    else if (rc)
        goto out;
    k.mv_size = KZ__ORDER_KEY;
    k.mv_data = (void *)key;
    v.mv_size = 0;
    v.mv_data = (void *)"";
    rc = mdb_cursor_put(c, &k, &v, flags);
out:
    mdb_cursor_close(c);
    return kz__err(rc);
}

static int insert(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    uint8_t ok[KZ__ORDER_KEY], ak[KZ__AUTHOR_KEY], tk[KZ__TYPE_KEY];
    int rc;

    order_key(ok, r);
    author_key(ak, r);
    type_key(tk, r);
    if ((rc = kz__put(txn, s->records, r->id, KZ_ID_BYTES, r->raw, r->raw_len,
                      MDB_NOOVERWRITE)) != 0 ||
        (rc = order_put(s, txn, ok)) != 0 ||
        (rc = kz__put(txn, s->by_author, ak, sizeof ak, "", 0, 0)) != 0 ||
        (rc = kz__put(txn, s->by_type, tk, sizeof tk, "", 0, 0)) != 0 ||
        (rc = kz__count_add(s, txn, r->type, 1)) != 0)
        return rc == KZ_EEXIST ? KZ_ESTORE : rc;
    return index_record_added(s, txn, r);
}

/* Delete that tolerates an already-missing key (indexes are kept in step, but
 * a purge must not fail half-way over an entry that is already gone). */
static int del_quiet(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen)
{
    int rc = kz__del(txn, dbi, key, klen);
    return rc == KZ_ENOTFOUND ? 0 : rc;
}

/* Point slot (and, for attest/revoke, its membership entry) at r: as the
 * live head, or when gone as the high-water mark r leaves when it is
 * deleted, so that nothing not newer than r can take the slot again. */
static int slot_mark(kz_store *s, MDB_txn *txn, const uint8_t slot[KZ_SLOT_BYTES],
                     const kz_record *r, bool gone)
{
    uint8_t hv[KZ__HEAD_GONE_VAL];
    int rc;

    kz__be64_put(hv, r->created_ms);
    memcpy(hv + 8, r->id, KZ_ID_BYTES);
    hv[KZ__HEAD_VAL] = KZ__HEAD_GONE;
    if ((rc = kz__put(txn, s->heads, slot, KZ_SLOT_BYTES, hv,
                      gone ? KZ__HEAD_GONE_VAL : KZ__HEAD_VAL, 0)) != 0)
        return rc;
    const uint8_t *member = subject_member(r);
    if (member) {
        uint8_t mk[KZ__MEMB_KEY], mv[KZ__MEMB_VAL];
        memb_key(mk, member, r->author);
        memcpy(mv, hv, KZ__HEAD_VAL);
        mv[KZ__HEAD_VAL] = gone ? KZ__MEMB_GONE : r->type;
        if ((rc = kz__put(txn, s->membership, mk, sizeof mk, mv, sizeof mv, 0)) != 0)
            return rc;
    }
    return 0;
}

/* Remove t's content and every index entry that points at it. When t heads
 * its slot, the slot keeps t as its high-water mark (a replacement then
 * overwrites it with the new head). */
static int purge(kz_store *s, MDB_txn *txn, const kz_record *t)
{
    uint8_t ok[KZ__ORDER_KEY], ak[KZ__AUTHOR_KEY], tk[KZ__TYPE_KEY];
    uint8_t slot[KZ_SLOT_BYTES], head_id[KZ_ID_BYTES];
    uint64_t head_created;
    bool gone;
    int rc;

    order_key(ok, t);
    author_key(ak, t);
    type_key(tk, t);
    if ((rc = del_quiet(txn, s->records, t->id, KZ_ID_BYTES)) != 0 ||
        (rc = del_quiet(txn, s->order, ok, sizeof ok)) != 0 ||
        (rc = del_quiet(txn, s->by_author, ak, sizeof ak)) != 0 ||
        (rc = del_quiet(txn, s->by_type, tk, sizeof tk)) != 0 ||
        (rc = kz__count_add(s, txn, t->type, -1)) != 0)
        return rc;
    if (kz_record_slot(t, slot)) {
        rc = kz__head_get(s, txn, slot, &head_created, head_id, &gone);
        if (rc == 0 && !gone && memcmp(head_id, t->id, KZ_ID_BYTES) == 0)
            rc = slot_mark(s, txn, slot, t, true);
        if (rc && rc != KZ_ENOTFOUND)
            return rc;
    }
    return index_record_removed(s, txn, t);
}

/* Decode the stored record id into out (caller closes). KZ_ENOTFOUND when
 * absent; a stored record that no longer decodes is a store failure. */
static int load(kz_store *s, MDB_txn *txn, const uint8_t id[KZ_ID_BYTES], kz_record *out)
{
    MDB_val v;
    int rc = kz__get(txn, s->records, id, KZ_ID_BYTES, &v);
    if (rc)
        return rc;
    if (kz_record_decode(out, v.mv_data, v.mv_size, 0, KZ_DECODE_NOVERIFY) != 0)
        return KZ_ESTORE;
    return 0;
}

/* ---- Acceptance rules ------------------------------------------------------- */

/* Does a tombstone for id apply to a record by author? Only tombstones whose
 * target_author is that author count, so a forged delete cannot suppress
 * someone else's record. 1 yes, 0 no, or a KZ_E* code. */
static int tombstoned_for(kz_store *s, MDB_txn *txn, const uint8_t id[KZ_ID_BYTES],
                          const uint8_t author[KZ_KEY_BYTES])
{
    MDB_cursor *c;
    MDB_val k = {KZ_ID_BYTES, (void *)id}, v;
    int found = 0;
    int rc = mdb_cursor_open(txn, s->tombstones, &c);
    if (rc)
        return kz__err(rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
        if (v.mv_size == KZ__TOMB_VAL &&
            memcmp((const uint8_t *)v.mv_data + KZ_ID_BYTES, author, KZ_KEY_BYTES) == 0) {
            found = 1;
            break;
        }
    }
    mdb_cursor_close(c);
    if (found)
        return 1;
    return rc == MDB_NOTFOUND ? 0 : kz__err(rc);
}

static int check_input(const kz_record *r)
{
    uint8_t id[KZ_ID_BYTES];
    if (!r || !r->raw || r->raw_len == 0 || r->raw_len > KZ_RECORD_MAX || r->type < 1 ||
        r->type > KZ_T_MAX)
        return KZ_EINVAL;
    kz_record_id(id, r->raw, r->raw_len);
    if (memcmp(id, r->id, KZ_ID_BYTES) != 0)
        return KZ_EINVAL; /* the indexes would point at the wrong bytes */
    return 0;
}

/* May r (a delete) take its target? Read-only: 0 or a refusal. A delete by
 * someone other than the target's author is moderation: its author must be
 * a node with a live attestation of that author. A stored target must be
 * by the named author, and never itself a delete (deletions are never
 * undone: they must keep travelling). */
static int delete_check(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    const kz_body_delete *d = &r->body.del;
    MDB_val v;
    int rc;

    if (memcmp(r->author, d->target_author, KZ_KEY_BYTES) != 0) {
        uint8_t mk[KZ__MEMB_KEY];
        memb_key(mk, d->target_author, r->author);
        rc = kz__get(txn, s->membership, mk, sizeof mk, &v);
        if (rc == KZ_ENOTFOUND)
            return KZ_EPERM;
        if (rc)
            return rc;
        if (v.mv_size != KZ__MEMB_VAL || ((const uint8_t *)v.mv_data)[KZ__MEMB_VAL - 1] != KZ_T_ATTEST)
            return KZ_EPERM;
    }
    kz_record t = {0};
    rc = load(s, txn, d->target, &t);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (memcmp(t.author, d->target_author, KZ_KEY_BYTES) != 0 || t.type == KZ_T_DELETE)
        rc = KZ_EPERM;
    kz_record_close(&t);
    return rc;
}

/* Carry out a delete that delete_check allowed: purge the target if held,
 * then record the tombstone. Store failures only. */
static int delete_apply(kz_store *s, MDB_txn *txn, const kz_record *r, kz_put_result *res)
{
    const kz_body_delete *d = &r->body.del;
    kz_record t = {0};
    int rc = load(s, txn, d->target, &t);
    if (rc == 0) {
        rc = purge(s, txn, &t);
        kz_record_close(&t);
        if (rc)
            return rc;
        res->purged = true;
    } else if (rc != KZ_ENOTFOUND) {
        return rc;
    }
    uint8_t tv[KZ__TOMB_VAL];
    memcpy(tv, r->id, KZ_ID_BYTES);
    memcpy(tv + KZ_ID_BYTES, d->target_author, KZ_KEY_BYTES);
    rc = kz__put(txn, s->tombstones, d->target, KZ_ID_BYTES, tv, sizeof tv, MDB_NODUPDATA);
    return rc == KZ_EEXIST ? 0 : rc;
}

/* r's replaceable slot, and its head or high-water mark when it has one. */
typedef struct {
    bool has;                   /* r is replaceable (kz_record_slot) */
    bool headed;                /* the slot has a head or a mark */
    bool gone;                  /* ... and it is a deleted head's mark */
    uint64_t created;
    uint8_t slot[KZ_SLOT_BYTES];
    uint8_t id[KZ_ID_BYTES];
} slot_state;

/* Read r's slot into *st and decide whether r may move it forward.
 * Read-only: 0 (also when r has no slot), KZ_ESTALE when the head or mark
 * is not older than r, or a store failure. */
static int slot_check(kz_store *s, MDB_txn *txn, const kz_record *r, slot_state *st)
{
    memset(st, 0, sizeof *st);
    if (!kz_record_slot(r, st->slot))
        return 0;
    st->has = true;
    int rc = kz__head_get(s, txn, st->slot, &st->created, st->id, &st->gone);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    st->headed = true;
    return kz_record_newer(r->created_ms, r->id, st->created, st->id) ? 0 : KZ_ESTALE;
}

/* Move the slot slot_check allowed forward to r: a live older head is
 * purged (*purged_old set) and r becomes the live head or, when gone, the
 * high-water mark. Nothing to do for a record without a slot. */
static int slot_advance(kz_store *s, MDB_txn *txn, const slot_state *st, const kz_record *r,
                        bool gone, bool *purged_old)
{
    if (!st->has)
        return 0;
    if (st->headed && !st->gone) {
        kz_record old = {0};
        int rc = load(s, txn, st->id, &old);
        if (rc == 0) {
            rc = purge(s, txn, &old);
            kz_record_close(&old);
            if (rc)
                return rc;
            *purged_old = true;
        } else if (rc != KZ_ENOTFOUND) {
            return rc;
        }
    }
    return slot_mark(s, txn, st->slot, r, gone);
}

/* r arrived after its deletion. Had it come first it would have replaced
 * every older record of its slot before being purged, so do that now: the
 * outcome must not depend on arrival order, or a node that saw the delete
 * first would keep (and relay) a version every other node dropped. Sets
 * *wrote when the slot moved (the caller then commits despite refusing r)
 * and res->purged when an older head went. */
static int raise_floor(kz_store *s, MDB_txn *txn, const kz_record *r, kz_put_result *res,
                       bool *wrote)
{
    slot_state st;
    int rc = slot_check(s, txn, r, &st);
    if (rc == KZ_ESTALE || (rc == 0 && !st.has))
        return 0;
    if (rc == 0 && (rc = slot_advance(s, txn, &st, r, true, &res->purged)) == 0)
        *wrote = true;
    return rc;
}

/* May this key author a delete at all? Only keys the store knows: a node
 * that has (or had) a node record, or a member with some membership entry
 * from a non-blocked node (live, revoked, or deleted: leaving must work
 * after a revocation). Anyone else would fill the store with tombstones.
 * 0, KZ_ENOATTEST (the key may become known later), or a store failure. */
static int delete_author_known(kz_store *s, MDB_txn *txn, const kz_record *r,
                               const kz__home *home)
{
    uint8_t nslot[KZ_SLOT_BYTES] = {'N'}, id[KZ_ID_BYTES];
    uint64_t created;
    bool gone;
    if (home->n_known > 0)
        return 0;
    memcpy(nslot + 1, r->author, KZ_KEY_BYTES);
    int rc = kz__head_get(s, txn, nslot, &created, id, &gone);
    return rc == KZ_ENOTFOUND ? KZ_ENOATTEST : rc;
}

/* Apply the acceptance rules of kz_store.h in their documented order, then
 * store r. Returns 0, a refusal (is_refusal) or a store failure. *wrote is
 * set when a refused record still changed the store (raise_floor): the
 * caller commits that change and reports the refusal. */
static int apply(kz_store *s, MDB_txn *txn, const kz_record *r, kz_put_result *res,
                 bool *wrote)
{
    MDB_val v;
    kz__home home;
    int rc;

    memset(res, 0, sizeof *res);
    *wrote = false;
    if ((rc = check_input(r)) != 0)
        return rc;

    if ((rc = tombstoned_for(s, txn, r->id, r->author)) != 0) {
        if (rc != 1)
            return rc;
        if ((rc = raise_floor(s, txn, r, res, wrote)) != 0)
            return rc;
        return KZ_EDELETED;
    }

    rc = kz__get(txn, s->records, r->id, KZ_ID_BYTES, &v);
    if (rc == 0)
        return KZ_EEXIST;
    if (rc != KZ_ENOTFOUND)
        return rc;

    if ((rc = kz__is_blocked(s, txn, r->author)) != 0)
        return rc == 1 ? KZ_EBLOCKED : rc;
    if ((rc = kz__home_find(s, txn, r->author, &home)) != 0)
        return rc;
    if (home.n_live > 0 && !home.found)
        return KZ_EBLOCKED; /* attested, but only by blocked nodes */

    if (r->type == KZ_T_ATTEST || r->type == KZ_T_REVOKE) {
        uint8_t nslot[KZ_SLOT_BYTES] = {'N'}, nid[KZ_ID_BYTES];
        uint64_t ncreated;
        bool gone;
        memcpy(nslot + 1, r->author, KZ_KEY_BYTES);
        rc = kz__head_get(s, txn, nslot, &ncreated, nid, &gone);
        if (rc == KZ_ENOTFOUND || (rc == 0 && gone))
            return KZ_EPERM; /* a node whose node record was deleted vouches for no one */
        if (rc)
            return rc;
    }

    if (kz_rtype_is_member(r->type) && !home.found)
        return KZ_ENOATTEST;
    if ((rc = kz__event_rules_accept(s, txn, r)) != 0)
        return rc;
    if ((rc = kz__talk_rules_accept(s, txn, r)) != 0)
        return rc;

    if (r->type == KZ_T_DELETE) {
        if ((rc = delete_author_known(s, txn, r, &home)) != 0 ||
            (rc = delete_check(s, txn, r)) != 0)
            return rc;
    }
    slot_state st;
    if ((rc = slot_check(s, txn, r, &st)) != 0)
        return rc;

    /* Every refusal has been decided, before anything was written: from
     * here on only a store failure can stop r, and that abandons the whole
     * transaction. So a batch needs no nested transaction per record. A
     * refusal code from below would mean a check above is missing; it is
     * reported as a store failure so the partial writes are never kept. */
    if (r->type == KZ_T_DELETE) /* a delete has no slot: st stays valid */
        rc = delete_apply(s, txn, r, res);
    if (rc == 0)
        rc = slot_advance(s, txn, &st, r, false, &res->replaced);
    if (rc == 0)
        rc = insert(s, txn, r);
    return is_refusal(rc) ? KZ_ESTORE : rc;
}

/* ---- Puts ------------------------------------------------------------------ */

struct put_one {
    const kz_record *r;
    kz_put_result *res;
    int refused; /* a refusal whose side effect (raise_floor) was committed */
};

static int put_one_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    struct put_one *p = ud;
    bool wrote;
    p->refused = 0;
    int rc = apply(s, txn, p->r, p->res, &wrote);
    if (rc && wrote && is_refusal(rc)) {
        p->refused = rc;
        return 0;
    }
    return rc; /* a refusal aborts the txn */
}

int kz_store_put(kz_store *s, const kz_record *r, kz_put_result *res)
{
    kz_put_result tmp;
    struct put_one p = {r, res ? res : &tmp, 0};
    int rc = kz__write(s, put_one_cb, &p);
    if (rc) {
        memset(p.res, 0, sizeof *p.res);
        if (!is_refusal(rc))
            rc = KZ_ESTORE; /* the contract promises one code for failures */
    } else if (p.refused) {
        rc = p.refused;
    }
    p.res->rc = rc;
    return rc;
}

struct put_batch {
    const kz_record *const *recs;
    size_t n;
    kz_put_result *res;
};

static int put_batch_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    struct put_batch *b = ud;
    size_t stored = 0;

    /* apply decides every refusal before it writes (see there), so records
     * go straight into the one transaction; a store failure abandons it. */
    for (size_t i = 0; i < b->n; i++) {
        kz_put_result *res = &b->res[i];
        bool wrote;
        int rc = apply(s, txn, b->recs[i], res, &wrote);
        if (rc == 0 || wrote)
            stored++; /* something to make durable */
        else if (!is_refusal(rc))
            return rc;
        else
            memset(res, 0, sizeof *res);
        res->rc = rc;
    }
    return stored ? 0 : KZ__ABORT_OK; /* nothing to make durable: skip the sync */
}

int kz_store_put_batch(kz_store *s, const kz_record *const *recs, size_t n,
                       kz_put_result *res)
{
    if (n == 0)
        return 0;
    if (!recs || !res)
        return KZ_EINVAL;
    struct put_batch b = {recs, n, res};
    int rc = kz__write(s, put_batch_cb, &b);
    if (rc) {
        if (rc != KZ_EPERM) /* read-only store */
            rc = KZ_ESTORE;
        for (size_t i = 0; i < n; i++) {
            memset(&res[i], 0, sizeof res[i]);
            res[i].rc = rc;
        }
    }
    return rc;
}

int kz__record_apply(kz_store *s, MDB_txn *txn, const kz_record *r, kz_put_result *res)
{
    bool wrote; /* the caller's transaction commits or aborts as a whole */
    return apply(s, txn, r, res, &wrote);
}
