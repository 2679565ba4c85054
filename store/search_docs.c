/* search_docs.c: reading the search index: documents, live slot heads and
 * profiles, the home the index gives a member, node names, normalised
 * copies for equality tests, and the index's size. Shared by the other
 * search files (search_internal.h). */
#include "search_internal.h"

#include <stdlib.h>
#include <string.h>


/* ---- Small readers shared by the search files ---------------------------------- */

int kz__search_head(kz_store *s, MDB_txn *txn, const uint8_t slot[KZ_SLOT_BYTES],
                    uint8_t id[KZ_ID_BYTES])
{
    MDB_val v;
    int rc = kz__get(txn, s->heads, slot, KZ_SLOT_BYTES, &v);
    if (rc)
        return rc;
    /* Only a value of exactly created || id is a live head; a deleted
     * head's high-water mark is longer and names no stored record. */
    if (v.mv_size != KZ__HEAD_VAL)
        return KZ_ENOTFOUND;
    memcpy(id, (const uint8_t *)v.mv_data + 8, KZ_ID_BYTES);
    return 0;
}

int kz__search_load(kz_store *s, MDB_txn *txn, const uint8_t id[KZ_ID_BYTES], kz_record *r)
{
    MDB_val v;
    int rc = kz__get(txn, s->records, id, KZ_ID_BYTES, &v);
    if (rc)
        return rc;
    if (kz_record_decode(r, v.mv_data, v.mv_size, 0, KZ_DECODE_NOVERIFY) != 0)
        return KZ_ESTORE;
    return 0;
}

int kz__search_profile(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                       kz_record *r)
{
    uint8_t slot[KZ_SLOT_BYTES] = {'P'}, id[KZ_ID_BYTES];
    memcpy(slot + 1, member, KZ_KEY_BYTES);
    int rc = kz__search_head(s, txn, slot, id);
    if (rc)
        return rc;
    rc = kz__search_load(s, txn, id, r);
    if (rc == 0 && r->type != KZ_T_PROFILE) {
        kz_record_close(r);
        return KZ_ESTORE;
    }
    return rc;
}

int kz__search_home(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                    kz__shome *h)
{
    MDB_cursor *c;
    MDB_val k = {KZ_KEY_BYTES, (void *)member}, v;
    uint64_t best_created = 0;
    bool best_blocked = true;
    int rc;

    memset(h, 0, sizeof *h);
    if ((rc = mdb_cursor_open(txn, s->membership, &c)) != 0)
        return kz__err(rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data, *val = v.mv_data;
        if (k.mv_size != KZ__MEMB_KEY || memcmp(key, member, KZ_KEY_BYTES) != 0)
            break;
        if (v.mv_size != KZ__MEMB_VAL || val[KZ__MEMB_VAL - 1] != KZ_T_ATTEST)
            continue; /* revoked or deleted */
        int b = kz__is_blocked(s, txn, key + KZ_KEY_BYTES);
        if (b < 0) {
            mdb_cursor_close(c);
            return b;
        }
        uint64_t created = kz__be64_get(val);
        bool better = !h->found || (best_blocked && !b) ||
                      (best_blocked == (bool)b &&
                       kz_record_newer(created, val + 8, best_created, h->attest_id));
        if (better) {
            h->found = true;
            best_blocked = b;
            best_created = created;
            memcpy(h->node, key + KZ_KEY_BYTES, KZ_KEY_BYTES);
            memcpy(h->attest_id, val + 8, KZ_ID_BYTES);
        }
    }
    mdb_cursor_close(c);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
}

size_t kz__search_norm(const char *in, size_t n, char *out, size_t outsz)
{
    char *norm;
    size_t len;
    if (outsz == 0)
        return 0;
    out[0] = 0;
    if (!in || n == 0 || kz_text_normalize(in, n, &norm, &len) != 0)
        return 0;
    if (len >= outsz) {
        len = outsz - 1;
        while (len > 0 && ((unsigned char)norm[len] & 0xC0) == 0x80)
            len--; /* never cut a character in half */
    }
    memcpy(out, norm, len);
    out[len] = 0;
    free(norm);
    return len;
}

int kz__search_node_name(kz_store *s, MDB_txn *txn, const uint8_t node[KZ_KEY_BYTES],
                         char *out, size_t outsz)
{
    uint8_t key[1 + KZ_KEY_BYTES] = {'n'};
    MDB_val v;
    memcpy(key + 1, node, KZ_KEY_BYTES);
    int rc = kz__get(txn, s->search_docs, key, sizeof key, &v);
    if (rc)
        return rc;
    size_t n = v.mv_size < outsz ? v.mv_size : outsz - 1;
    while (n > 0 && n < v.mv_size && (((const uint8_t *)v.mv_data)[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, v.mv_data, n);
    out[n] = 0;
    return 0;
}

/* ---- Documents --------------------------------------------------------------- */

static bool get_str(const uint8_t **p, const uint8_t *end, kz_str *out)
{
    if (end - *p < 2)
        return false;
    size_t n = kz__be16_get(*p);
    if ((size_t)(end - *p - 2) < n)
        return false;
    out->p = (const char *)*p + 2;
    out->n = (uint32_t)n;
    *p += 2 + n;
    return true;
}

static int sdoc_decode(uint64_t doc, const MDB_val *v, kz__sdoc *d)
{
    const uint8_t *p = v->mv_data, *end = p + v->mv_size;
    memset(d, 0, sizeof *d);
    if (v->mv_size < KZ__SDOC_FIXED || p[0] != KZ__SDOC_VERSION)
        return KZ_ESTORE;
    d->doc = doc;
    p++;
    memcpy(d->member, p, 32);
    memcpy(d->home, p + 32, 32);
    memcpy(d->profile_id, p + 64, 32);
    memcpy(d->attest_id, p + 96, 32);
    p += 128;
    d->vis = p[0];
    d->open_to = p[1];
    d->joined = kz__be16_get(p + 2);
    d->left = kz__be16_get(p + 4);
    d->updated_ms = kz__be64_get(p + 6);
    p += 14;
    if (!get_str(&p, end, &d->company) || !get_str(&p, end, &d->dept) ||
        !get_str(&p, end, &d->location) || p >= end)
        return KZ_ESTORE;
    d->n_skills = *p++;
    if (d->n_skills > KZ_SKILLS_MAX)
        return KZ_ESTORE;
    for (uint32_t i = 0; i < d->n_skills; i++) {
        if (!get_str(&p, end, &d->skills[i]))
            return KZ_ESTORE;
    }
    for (int i = 0; i < KZ__SDOC_SHOW; i++) {
        if (!get_str(&p, end, &d->show[i]))
            return KZ_ESTORE;
    }
    return p == end ? 0 : KZ_ESTORE;
}

int kz__sdoc_get(kz_store *s, MDB_txn *txn, uint64_t doc, kz__sdoc *d)
{
    uint8_t key[9] = {'d'};
    MDB_val v;
    kz__be64_put(key + 1, doc);
    int rc = kz__get(txn, s->search_docs, key, sizeof key, &v);
    if (rc)
        return rc;
    return sdoc_decode(doc, &v, d);
}

int kz__sdoc_of_member(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                       kz__sdoc *d)
{
    uint8_t key[1 + KZ_KEY_BYTES] = {'m'};
    MDB_val v;
    memcpy(key + 1, member, KZ_KEY_BYTES);
    int rc = kz__get(txn, s->search_docs, key, sizeof key, &v);
    if (rc)
        return rc;
    if (v.mv_size != 8)
        return KZ_ESTORE;
    return kz__sdoc_get(s, txn, kz__be64_get(v.mv_data), d);
}

/* ---- Statistics ----------------------------------------------------------------- */

/* Pages of every open database but the postings, plus free pages. A
 * DUPSORT database's own statistics leave out the pages of its values'
 * sub-databases, which is where nearly all postings live, so the postings'
 * size is what remains of the used pages (approximate: other DUPSORT
 * databases' sub-pages count as postings, and they are tiny). */
static uint64_t other_pages(kz_store *s, MDB_txn *txn)
{
    uint64_t pages = 0;
    MDB_stat st;
    for (MDB_dbi dbi = 1; dbi < 64; dbi++) {
        if (dbi == s->search_postings)
            continue;
        if (mdb_stat(txn, dbi, &st) != 0)
            break; /* past the last open handle */
        pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    }
    MDB_cursor *c;
    MDB_val k, v;
    if (mdb_cursor_open(txn, 0 /* FREE_DBI */, &c) == 0) {
        while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
            if (v.mv_size >= sizeof(size_t)) {
                size_t n;
                memcpy(&n, v.mv_data, sizeof n); /* an IDL: count, then page numbers */
                pages += n;
            }
        }
        mdb_cursor_close(c);
    }
    if (mdb_stat(txn, 0, &st) == 0)
        pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    return pages + 2; /* the two meta pages */
}

int kz_store_search_stats(kz_store *s, kz_search_stats *st)
{
    MDB_txn *txn;
    MDB_val v;
    MDB_stat ps, ds;
    MDB_envinfo info;
    if (!s || !st)
        return KZ_EINVAL;
    memset(st, 0, sizeof *st);
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    if (kz__get(txn, s->search_docs, KZ__SDOC_COUNT_KEY, sizeof KZ__SDOC_COUNT_KEY - 1, &v) == 0 &&
        v.mv_size == 8)
        st->docs = kz__be64_get(v.mv_data);
    if (mdb_stat(txn, s->search_postings, &ps) == 0 && mdb_stat(txn, s->search_docs, &ds) == 0 &&
        mdb_env_info(s->env, &info) == 0) {
        st->postings = ps.ms_entries; /* a DUPSORT database counts every value */
        st->docs_bytes = (uint64_t)(ds.ms_branch_pages + ds.ms_leaf_pages + ds.ms_overflow_pages) *
                         ds.ms_psize;
        uint64_t used = (uint64_t)info.me_last_pgno + 1, other = other_pages(s, txn);
        st->postings_bytes = used > other ? (used - other) * ps.ms_psize : 0;
    }
    kz__rd_end(s, txn);
    return 0;
}
