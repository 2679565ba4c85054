/* search_index.c: the directory search index: keeps postings and documents
 * in step with profiles, attestations and node names inside the record
 * write transaction, and rebuilds them when the text rules change. Layout:
 * search_internal.h and docs/search.md. */
#include "search_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_SETTING "search.rules"
#define INDEX_FORMAT "search-index 3"  /* bumped when this file's layout changes */
#define REBUILD_BATCH 512              /* profiles per write transaction */
#define NORM_FIELD_MAX 512             /* stored normalised company/department/location */
#define NORM_SKILL_MAX 256
#define SDOC_MAX (KZ__SDOC_FIXED + 3 * (2 + NORM_FIELD_MAX) + 1 + \
                  KZ_SKILLS_MAX * (2 + NORM_SKILL_MAX) + \
                  KZ__SDOC_SHOW * (2 + KZ_NAME_MAX))

/* ---- Documents ----------------------------------------------------------------- */

static void put_str(uint8_t **p, const char *s, size_t n)
{
    kz__be16_put(*p, (uint16_t)n);
    memcpy(*p + 2, s, n);
    *p += 2 + n;
}

static int count_add(kz_store *s, MDB_txn *txn, int delta)
{
    uint8_t val[8];
    uint64_t n = 0;
    MDB_val v;
    int rc = kz__get(txn, s->search_docs, KZ__SDOC_COUNT_KEY, sizeof KZ__SDOC_COUNT_KEY - 1, &v);
    if (rc == 0 && v.mv_size == 8)
        n = kz__be64_get(v.mv_data);
    else if (rc && rc != KZ_ENOTFOUND)
        return rc;
    n = (delta < 0 && n == 0) ? 0 : n + (uint64_t)(int64_t)delta;
    kz__be64_put(val, n);
    return kz__put(txn, s->search_docs, KZ__SDOC_COUNT_KEY, sizeof KZ__SDOC_COUNT_KEY - 1, val, 8, 0);
}

/* ---- Postings ---------------------------------------------------------------- */

struct post_ctx {
    MDB_cursor *c;
    uint64_t doc;
    unsigned vis;
    bool del;
};

static int posting_put(MDB_cursor *c, const uint8_t *key, size_t klen, uint64_t doc, uint8_t cf)
{
    uint8_t val[KZ__SP_VAL];
    MDB_val k = {klen, (void *)key}, v = {sizeof val, val};
    kz__be64_put(val, doc);
    val[8] = cf;
    int rc = mdb_cursor_put(c, &k, &v, MDB_NODUPDATA);
    return rc == MDB_KEYEXIST ? 0 : kz__err(rc);
}

/* Delete doc's posting under key whatever its cf byte; absent is fine. */
static int posting_del(MDB_cursor *c, const uint8_t *key, size_t klen, uint64_t doc)
{
    uint8_t val[KZ__SP_VAL] = {0};
    MDB_val k = {klen, (void *)key}, v = {sizeof val, val};
    kz__be64_put(val, doc);
    int rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return kz__err(rc);
    if (v.mv_size != KZ__SP_VAL || kz__be64_get(v.mv_data) != doc)
        return 0;
    if ((rc = mdb_cursor_del(c, 0)) != 0)
        return kz__err(rc);
    /* A list left holding only its summary goes entirely. */
    size_t n = 0;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0)
        rc = mdb_cursor_count(c, &n);
    if (rc == 0 && n == 1 && v.mv_size == KZ__SP_VAL && kz__be64_get(v.mv_data) == KZ__DOC_SUMMARY)
        rc = mdb_cursor_del(c, 0);
    return kz__err(rc);
}

/* Raise the summary of the text key the cursor is on so that it bounds
 * rank, the best class * 2 + whole-word bit of any posting of the key.
 * The summary is the list's first value, where new (newest) documents are
 * inserted too, so keeping it costs no extra page. */
static int summary_raise(MDB_cursor *c, const uint8_t *key, size_t len, unsigned rank)
{
    uint8_t first[KZ__SP_VAL] = {0}, val[KZ__SP_VAL] = {0};
    MDB_val k = {len, (void *)key}, v = {sizeof first, first};
    int rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE); /* the list's first value */
    if (rc == 0 && v.mv_size == KZ__SP_VAL && kz__be64_get(v.mv_data) == KZ__DOC_SUMMARY) {
        if (((const uint8_t *)v.mv_data)[8] >= rank)
            return 0;
        rc = mdb_cursor_del(c, 0);
    }
    if (rc && rc != MDB_NOTFOUND)
        return kz__err(rc);
    val[8] = (uint8_t)rank;
    k.mv_size = len;
    k.mv_data = (void *)key;
    v.mv_size = sizeof val;
    v.mv_data = val;
    return kz__err(mdb_cursor_put(c, &k, &v, MDB_NODUPDATA));
}

static int post_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    struct post_ctx *p = ud;
    if (p->del)
        return posting_del(p->c, key, len, p->doc);
    int rc = posting_put(p->c, key, len, p->doc, kz__cf_make(cls, flags, p->vis));
    if (rc == 0 && (key[0] == KZ_TEXT_KEY_UNIGRAM || key[0] == KZ_TEXT_KEY_BIGRAM ||
                    key[0] == KZ_TEXT_KEY_PREFIX)) {
        rc = summary_raise(p->c, key, len,
                           (unsigned)cls * 2 + ((flags & KZ_TEXT_F_WHOLE) ? 1u : 0u));
    }
    return rc;
}

/* Facet keys of a document, handed to fn one by one. */
static int facets_each(const uint8_t home[KZ_KEY_BYTES], uint16_t left, unsigned open_to,
                       struct post_ctx *p)
{
    uint8_t k[1 + KZ_KEY_BYTES];
    int rc;
    k[0] = KZ__SK_HOME;
    memcpy(k + 1, home, KZ_KEY_BYTES);
    if ((rc = post_cb(p, k, 1 + KZ_KEY_BYTES, 0, 0)) != 0)
        return rc;
    if (left) {
        k[0] = KZ__SK_LEFT;
        kz__be16_put(k + 1, left);
        if ((rc = post_cb(p, k, 3, 0, 0)) != 0)
            return rc;
    }
    for (unsigned bit = 0; bit < 8; bit++) {
        if (!(open_to & (1u << bit)))
            continue;
        k[0] = KZ__SK_OPEN;
        k[1] = (uint8_t)bit;
        if ((rc = post_cb(p, k, 2, 0, 0)) != 0)
            return rc;
    }
    return 0;
}

/* The text terms of a profile. A profile the text rules cannot take (it
 * passed record validation, so this means an internal limit) is indexed by
 * its facets only rather than refused: indexing must never block storage. */
static kz_text_termset *profile_terms(const kz_body_profile *p)
{
    kz_text_termset *ts = kz_text_termset_create();
    if (kz_text_termset_add_profile(ts, p) != 0) {
        kz_text_termset_free(ts);
        ts = kz_text_termset_create();
    }
    return ts;
}

/* Write (or, with del, remove) every posting of a document: the profile's
 * text, the department the index holds for it (the attestation's, which
 * the profile may not repeat), and the facets. */
static int doc_postings(kz_store *s, MDB_txn *txn, const kz_body_profile *p, const char *dept,
                        size_t dept_len, uint64_t doc, unsigned vis,
                        const uint8_t home[KZ_KEY_BYTES], uint16_t left, unsigned open_to,
                        bool del)
{
    struct post_ctx ctx = {NULL, doc, vis, del};
    int rc = mdb_cursor_open(txn, s->search_postings, &ctx.c);
    if (rc)
        return kz__err(rc);
    rc = 0;
    if (p) {
        kz_text_termset *ts = profile_terms(p);
        if (dept_len && kz_text_termset_add(ts, dept, dept_len, KZ_TEXT_CLASS_OTHER) != 0) {
            kz_text_termset_free(ts);
            ts = profile_terms(p);
        }
        rc = kz_text_termset_iter(ts, post_cb, &ctx);
        kz_text_termset_free(ts);
    }
    if (rc == 0)
        rc = facets_each(home, left, open_to, &ctx);
    mdb_cursor_close(ctx.c);
    return rc;
}

/* ---- Adding and removing one member's document ---------------------------------- */

static uint64_t doc_base(uint64_t updated_ms)
{
    const uint64_t tmax = ((uint64_t)1 << KZ__DOC_TIME_BITS) - 1;
    uint64_t t = updated_ms > tmax ? tmax : updated_ms;
    return (tmax - t) << KZ__DOC_SEQ_BITS;
}

/* A free document number for a profile updated at updated_ms. */
static int doc_alloc(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                     uint64_t updated_ms, uint64_t *out)
{
    const uint64_t mask = ((uint64_t)1 << KZ__DOC_SEQ_BITS) - 1;
    uint64_t seq = ((uint64_t)member[0] << 16 | (uint64_t)member[1] << 8 | member[2]) & mask;
    uint8_t key[9] = {'d'};
    MDB_val v;
    for (uint64_t i = 0; i <= mask; i++) {
        uint64_t doc = doc_base(updated_ms) | ((seq + i) & mask);
        if (doc == KZ__DOC_SUMMARY)
            continue;
        kz__be64_put(key + 1, doc);
        int rc = kz__get(txn, s->search_docs, key, sizeof key, &v);
        if (rc == KZ_ENOTFOUND) {
            *out = doc;
            return 0;
        }
        if (rc)
            return rc;
    }
    return KZ_ESTORE;
}

static int doc_remove(kz_store *s, MDB_txn *txn, const kz__sdoc *cur, const kz_record *going)
{
    kz_record old = {0};
    const kz_body_profile *p = NULL;
    int rc;

    if (going && going->type == KZ_T_PROFILE && memcmp(going->id, cur->profile_id, KZ_ID_BYTES) == 0) {
        p = &going->body.profile;
    } else {
        rc = kz__search_load(s, txn, cur->profile_id, &old);
        if (rc == 0)
            p = &old.body.profile;
        else if (rc != KZ_ENOTFOUND)
            return rc;
        /* Not found cannot happen while the seam sees every purge; if it
         * did, the text postings stay behind, and queries skip them because
         * their document is gone. */
    }
    /* cur points into the map: keep the department before writing. */
    char dept[NORM_FIELD_MAX + 1];
    size_t dept_len = cur->dept.n < sizeof dept ? cur->dept.n : 0;
    memcpy(dept, cur->dept.p ? cur->dept.p : "", dept_len);
    rc = doc_postings(s, txn, p, dept, dept_len, cur->doc, cur->vis, cur->home, cur->left,
                      cur->open_to, true);
    kz_record_close(&old);
    if (rc)
        return rc;
    uint8_t dk[9] = {'d'}, mk[1 + KZ_KEY_BYTES] = {'m'};
    kz__be64_put(dk + 1, cur->doc);
    memcpy(mk + 1, cur->member, KZ_KEY_BYTES);
    if ((rc = kz__del(txn, s->search_docs, dk, sizeof dk)) != 0 ||
        (rc = kz__del(txn, s->search_docs, mk, sizeof mk)) != 0)
        return rc;
    return count_add(s, txn, -1);
}

static int doc_add(kz_store *s, MDB_txn *txn, const kz_record *prof, const kz__shome *h)
{
    const kz_body_profile *p = &prof->body.profile;
    kz_record att = {0};
    kz_str dept = p->department;
    uint16_t joined = p->joined, left = p->left;
    uint64_t doc;
    int rc = kz__search_load(s, txn, h->attest_id, &att);
    if (rc && rc != KZ_ENOTFOUND)
        return rc;
    if (rc == 0 && att.type == KZ_T_ATTEST) {
        /* The node's word on tenure and department outranks the member's. */
        if (att.body.attest.joined)
            joined = att.body.attest.joined;
        if (att.body.attest.left)
            left = att.body.attest.left;
        if (att.body.attest.department.n)
            dept = att.body.attest.department;
    }
    unsigned vis = p->visibility, open_to = p->open_to & KZ_OPEN_ALL;
    char norm[NORM_FIELD_MAX + 1], dnorm[NORM_FIELD_MAX + 1];
    size_t n, dn = kz__search_norm(dept.p, dept.n, dnorm, sizeof dnorm);
    if ((rc = doc_alloc(s, txn, prof->author, prof->created_ms, &doc)) != 0 ||
        (rc = doc_postings(s, txn, p, dnorm, dn, doc, vis, h->node, left, open_to, false)) != 0)
        goto out;

    uint8_t *buf = kz_xmalloc(SDOC_MAX), *w = buf;
    *w++ = KZ__SDOC_VERSION;
    memcpy(w, prof->author, 32);
    memcpy(w + 32, h->node, 32);
    memcpy(w + 64, prof->id, 32);
    memcpy(w + 96, h->attest_id, 32);
    w += 128;
    w[0] = (uint8_t)vis;
    w[1] = (uint8_t)open_to;
    kz__be16_put(w + 2, joined);
    kz__be16_put(w + 4, left);
    kz__be64_put(w + 6, prof->created_ms);
    w += 14;
    n = kz__search_norm(p->current_company.p, p->current_company.n, norm, sizeof norm);
    put_str(&w, norm, n);
    put_str(&w, dnorm, dn);
    n = kz__search_norm(p->location.p, p->location.n, norm, sizeof norm);
    put_str(&w, norm, n);
    uint32_t ns = p->n_skills > KZ_SKILLS_MAX ? KZ_SKILLS_MAX : p->n_skills;
    *w++ = (uint8_t)ns;
    for (uint32_t i = 0; i < ns; i++) {
        n = kz__search_norm(p->skills[i].p, p->skills[i].n, norm, NORM_SKILL_MAX + 1);
        put_str(&w, norm, n);
    }
    /* Hits are shown from the document alone, without decoding the record. */
    const kz_str show[KZ__SDOC_SHOW] = {p->name, p->reading, p->romaji, p->current_company,
                                        p->current_title, p->location};
    for (int i = 0; i < KZ__SDOC_SHOW; i++)
        put_str(&w, show[i].p ? show[i].p : "", show[i].n > KZ_NAME_MAX ? KZ_NAME_MAX : show[i].n);
    uint8_t dk[9] = {'d'}, mk[1 + KZ_KEY_BYTES] = {'m'}, dv[8];
    kz__be64_put(dk + 1, doc);
    kz__be64_put(dv, doc);
    memcpy(mk + 1, prof->author, KZ_KEY_BYTES);
    rc = kz__put(txn, s->search_docs, dk, sizeof dk, buf, (size_t)(w - buf), 0);
    free(buf);
    if (rc == 0)
        rc = kz__put(txn, s->search_docs, mk, sizeof mk, dv, sizeof dv, 0);
    if (rc == 0)
        rc = count_add(s, txn, 1);
out:
    kz_record_close(&att);
    return rc;
}

/* Bring member's document in line with the store: indexed when the member
 * has a live attestation and a profile that is not hidden, with that
 * profile, home and attestation; absent otherwise. going is a record being
 * purged right now (already gone from `records`), or NULL. */
static int sync_member(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                       const kz_record *going)
{
    kz__sdoc cur;
    kz__shome h;
    kz_record prof = {0};
    bool have_prof = false;
    int rc = kz__sdoc_of_member(s, txn, member, &cur);
    bool have_cur = rc == 0;
    if (rc && rc != KZ_ENOTFOUND)
        return rc;
    if ((rc = kz__search_home(s, txn, member, &h)) != 0)
        return rc;
    if (h.found) {
        rc = kz__search_profile(s, txn, member, &prof);
        if (rc && rc != KZ_ENOTFOUND)
            return rc;
        have_prof = rc == 0;
    }
    bool want = have_prof && prof.body.profile.visibility != KZ_VIS_HIDDEN;
    rc = 0;
    if (have_cur && want && memcmp(cur.profile_id, prof.id, KZ_ID_BYTES) == 0 &&
        memcmp(cur.attest_id, h.attest_id, KZ_ID_BYTES) == 0 &&
        memcmp(cur.home, h.node, KZ_KEY_BYTES) == 0)
        goto out; /* already right */
    if (have_cur && (rc = doc_remove(s, txn, &cur, going)) != 0)
        goto out;
    if (want)
        rc = doc_add(s, txn, &prof, &h);
out:
    kz_record_close(&prof);
    return rc;
}

/* ---- Node names ---------------------------------------------------------------- */

struct name_ctx {
    kz_store *s;
    MDB_txn *txn;
    const uint8_t *node;
    bool del;
};

static int name_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    struct name_ctx *c = ud;
    uint8_t k[KZ__SKEY_MAX];
    uint8_t cf = kz__cf_make(cls, flags, 0);
    k[0] = 'k';
    k[1] = (uint8_t)len;
    memcpy(k + 2, key, len);
    memcpy(k + 2 + len, c->node, KZ_KEY_BYTES);
    size_t kl = 2 + len + KZ_KEY_BYTES;
    if (c->del) {
        int rc = kz__del(c->txn, c->s->search_docs, k, kl);
        return rc == KZ_ENOTFOUND ? 0 : rc;
    }
    return kz__put(c->txn, c->s->search_docs, k, kl, &cf, 1, 0);
}

static int name_terms(kz_store *s, MDB_txn *txn, const uint8_t node[KZ_KEY_BYTES],
                      const char *name, size_t n, bool del)
{
    struct name_ctx c = {s, txn, node, del};
    kz_text_termset *ts = kz_text_termset_create();
    int rc = kz_text_termset_add(ts, name, n, KZ_TEXT_CLASS_COMPANY);
    if (rc == 0)
        rc = kz_text_termset_iter(ts, name_cb, &c);
    else
        rc = 0; /* a name the rules cannot take is simply not searchable */
    kz_text_termset_free(ts);
    return rc;
}

/* A node record became its slot's head: index its name when it changed.
 * Members are matched on their home company's name through these entries
 * (search_query.c), so a rename touches only the name's own keys. */
static int node_named(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    uint8_t key[1 + KZ_KEY_BYTES] = {'n'};
    const kz_str *name = &r->body.node.name;
    MDB_val v;
    memcpy(key + 1, r->author, KZ_KEY_BYTES);
    int rc = kz__get(txn, s->search_docs, key, sizeof key, &v);
    if (rc == 0) {
        if (v.mv_size == name->n && memcmp(v.mv_data, name->p, name->n) == 0)
            return 0;
        char *old = kz_xmalloc(v.mv_size + 1);
        size_t on = v.mv_size;
        memcpy(old, v.mv_data, on);
        rc = name_terms(s, txn, r->author, old, on, true);
        free(old);
        if (rc)
            return rc;
    } else if (rc != KZ_ENOTFOUND) {
        return rc;
    }
    if ((rc = name_terms(s, txn, r->author, name->p, name->n, false)) != 0)
        return rc;
    return kz__put(txn, s->search_docs, key, sizeof key, name->p, name->n, 0);
}

/* ---- The seam ------------------------------------------------------------------- */

int kz__search_added(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    switch (r->type) {
    case KZ_T_PROFILE:
        return sync_member(s, txn, r->author, NULL);
    case KZ_T_ATTEST:
        return sync_member(s, txn, r->body.attest.member, NULL);
    case KZ_T_REVOKE:
        return sync_member(s, txn, r->body.revoke.member, NULL);
    case KZ_T_NODE: {
        uint8_t slot[KZ_SLOT_BYTES] = {'N'}, id[KZ_ID_BYTES];
        memcpy(slot + 1, r->author, KZ_KEY_BYTES);
        int rc = kz__search_head(s, txn, slot, id);
        if (rc == KZ_ENOTFOUND || (rc == 0 && memcmp(id, r->id, KZ_ID_BYTES) != 0))
            return 0;
        return rc ? rc : node_named(s, txn, r);
    }
    default:
        return 0;
    }
}

int kz__search_removed(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    /* A removed node record keeps its name in the index: a replacement
     * follows at once (node_named), and a deleted node has no live
     * attestations left to match with it anyway. */
    switch (r->type) {
    case KZ_T_PROFILE:
        return sync_member(s, txn, r->author, r);
    case KZ_T_ATTEST:
        return sync_member(s, txn, r->body.attest.member, r);
    case KZ_T_REVOKE:
        return sync_member(s, txn, r->body.revoke.member, r);
    default:
        return 0;
    }
}

/* ---- Rebuild ---------------------------------------------------------------------- */

static const char *rules_value(size_t *n)
{
    static _Thread_local char buf[160];
    int k = snprintf(buf, sizeof buf, "%s; %s", INDEX_FORMAT, kz_text_rules_id());
    *n = k < 0 ? 0 : (size_t)k >= sizeof buf ? sizeof buf - 1 : (size_t)k;
    return buf;
}

struct kz_search_rebuild {
    uint8_t pos[KZ__TYPE_KEY];   /* by_type key to resume after */
    bool started, done;
    uint8_t next[KZ__TYPE_KEY];
    bool next_started;
    size_t batch;                /* profiles per write transaction */
    uint64_t n;                  /* profiles read by the last batch */
};

static int drop_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    int rc;
    if ((rc = kz__err(mdb_drop(txn, s->search_postings, 0))) != 0 ||
        (rc = kz__err(mdb_drop(txn, s->search_docs, 0))) != 0)
        return rc;
    rc = kz__del(txn, s->settings, RULES_SETTING, sizeof RULES_SETTING - 1);
    if (rc && rc != KZ_ENOTFOUND)
        return rc;
    /* Node names first, so that every member's home company is searchable. */
    MDB_cursor *c;
    MDB_val k, v;
    uint8_t first = KZ_T_NODE;
    if ((rc = mdb_cursor_open(txn, s->by_type, &c)) != 0)
        return kz__err(rc);
    k.mv_size = 1;
    k.mv_data = &first;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data;
        if (k.mv_size != KZ__TYPE_KEY || key[0] != KZ_T_NODE)
            break;
        kz_record r = {0};
        int lrc = kz__search_load(s, txn, key + 9, &r);
        if (lrc == 0)
            lrc = kz__search_added(s, txn, &r);
        kz_record_close(&r);
        if (lrc && lrc != KZ_ENOTFOUND) {
            mdb_cursor_close(c);
            return lrc;
        }
    }
    mdb_cursor_close(c);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
}

/* Index the next rb->batch profiles after rb->pos. */
static int batch_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    kz_search_rebuild *rb = ud;
    MDB_cursor *c;
    MDB_val k, v;
    uint8_t first = KZ_T_PROFILE;
    int rc, n = 0;

    rb->done = false;
    rb->n = 0;
    rb->next_started = rb->started;
    memcpy(rb->next, rb->pos, sizeof rb->pos);
    if ((rc = mdb_cursor_open(txn, s->by_type, &c)) != 0)
        return kz__err(rc);
    if (rb->started) {
        k.mv_size = sizeof rb->pos;
        k.mv_data = rb->pos;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size == sizeof rb->pos && memcmp(k.mv_data, rb->pos, sizeof rb->pos) == 0)
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    } else {
        k.mv_size = 1;
        k.mv_data = &first;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    }
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data;
        if (k.mv_size != KZ__TYPE_KEY || key[0] != KZ_T_PROFILE)
            break;
        if ((size_t)n == rb->batch) {
            mdb_cursor_close(c);
            rb->n = (uint64_t)n;
            return 0;
        }
        kz_record r = {0};
        int lrc = kz__search_load(s, txn, key + 9, &r);
        if (lrc == 0)
            lrc = sync_member(s, txn, r.author, NULL);
        kz_record_close(&r);
        if (lrc && lrc != KZ_ENOTFOUND) {
            mdb_cursor_close(c);
            return lrc;
        }
        memcpy(rb->next, key, KZ__TYPE_KEY);
        rb->next_started = true;
        n++;
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return kz__err(rc);
    rb->done = true;
    rb->n = (uint64_t)n;
    size_t vn;
    const char *val = rules_value(&vn);
    return kz__put(txn, s->settings, RULES_SETTING, sizeof RULES_SETTING - 1, val, vn, 0);
}

int kz_store_search_rebuild_begin(kz_store *s, kz_search_rebuild **out)
{
    if (!s || !out)
        return KZ_EINVAL;
    *out = NULL;
    kz_search_rebuild *rb = calloc(1, sizeof *rb);
    if (!rb)
        return KZ_ENOMEM;
    int rc = kz__write(s, drop_cb, NULL);
    if (rc) {
        free(rb);
        return rc;
    }
    *out = rb;
    return 0;
}

int kz_store_search_rebuild_step(kz_store *s, kz_search_rebuild *rb, size_t max_profiles,
                                 uint64_t *scanned, bool *done)
{
    if (!s || !rb || !done || max_profiles == 0 || max_profiles > INT32_MAX)
        return KZ_EINVAL;
    *done = rb->done;
    if (rb->done)
        return 0;
    rb->batch = max_profiles;
    int rc = kz__write(s, batch_cb, rb);
    if (rc)
        return rc;
    memcpy(rb->pos, rb->next, sizeof rb->pos);
    rb->started = rb->next_started;
    if (scanned)
        *scanned += rb->n;
    *done = rb->done;
    return 0;
}

void kz_store_search_rebuild_end(kz_search_rebuild *rb)
{
    free(rb);
}

int kz_store_search_rebuild(kz_store *s)
{
    kz_search_rebuild *rb = NULL;
    bool done = false;
    int rc = kz_store_search_rebuild_begin(s, &rb);
    while (rc == 0 && !done)
        rc = kz_store_search_rebuild_step(s, rb, REBUILD_BATCH, NULL, &done);
    kz_store_search_rebuild_end(rb);
    return rc;
}

int kz__search_open(kz_store *s)
{
    MDB_txn *txn;
    MDB_val v;
    size_t n;
    const char *want = rules_value(&n);
    if (s->read_only)
        return 0;
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    rc = kz__get(txn, s->settings, RULES_SETTING, sizeof RULES_SETTING - 1, &v);
    bool same = rc == 0 && v.mv_size == n && memcmp(v.mv_data, want, n) == 0;
    kz__rd_end(s, txn);
    if (rc && rc != KZ_ENOTFOUND)
        return rc;
    /* Postings built under other rules might not match new queries. */
    return same ? 0 : kz_store_search_rebuild(s);
}
