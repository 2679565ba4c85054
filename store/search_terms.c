/* search_terms.c: turning a directory query into posting-list terms (query
 * words with their home-company branches, filters, the two first-class
 * queries) after checking every argument, and the per-candidate checks
 * (visibility, blocks, field filters) the walk applies. docs/search.md. */
#include "search_internal.h"

#include <stdlib.h>
#include <string.h>

/* Add a posting list for key; its length goes into *est. A list that does
 * not exist is not added (est 0). */
static int src_add(sq_ctx *c, const uint8_t *key, size_t klen, int name_cf, uint64_t *est)
{
    MDB_val k = {klen, (void *)key}, v;
    size_t count = 0;
    if (c->nsrc == SRCS_MAX) {
        c->truncated = true;
        return 0;
    }
    sq_src *x = &c->srcs[c->nsrc];
    memset(x, 0, sizeof *x);
    int rc = mdb_cursor_open(c->txn, c->s->search_postings, &x->c);
    if (rc)
        return kz__err(rc);
    rc = mdb_cursor_get(x->c, &k, &v, MDB_SET_KEY);
    if (rc == 0)
        rc = mdb_cursor_count(x->c, &count);
    if (rc == 0)
        rc = kz__sq_src_open(x);
    else
        rc = rc == MDB_NOTFOUND ? 0 : kz__err(rc);
    memcpy(x->key, key, klen);
    x->klen = klen;
    /* A text key's list starts with its summary: the best rank in it. */
    x->bound = 7;
    if (rc == 0 && count && x->cur == KZ__DOC_SUMMARY) {
        x->bound = x->cf & 7u;
        count--;
        rc = kz__sq_src_next(c, x);
    }
    if (rc || count == 0 || x->cur == KZ__DOC_END) {
        mdb_cursor_close(x->c); /* absent or empty: not a source */
        return rc;
    }
    x->name_cf = name_cf;
    if (name_cf >= 0)
        x->bound = KZ__CF_CLASS(name_cf) * 2 + ((name_cf & KZ__CF_WHOLE) ? 1u : 0u);
    *est += count;
    c->nsrc++;
    return 0;
}

/* Start a term; its sources are added next. */
static sq_term *term_begin(sq_ctx *c, int word)
{
    if (c->nterm == TERMS_MAX)
        return NULL;
    sq_term *t = &c->terms[c->nterm];
    memset(t, 0, sizeof *t);
    t->first = c->nsrc;
    t->word = word;
    return t;
}

/* Finish a term: a term with no list at all means no document can match. */
static void term_end(sq_ctx *c, sq_term *t)
{
    t->n = c->nsrc - t->first;
    if (t->n == 0) {
        c->empty = true;
        return;
    }
    kz__sq_term_min(c, t);
    c->nterm++;
}

/* ---- Building the terms ------------------------------------------------------- */

/* The nodes whose indexed name holds key, as 'H' branches of t. */
static int name_branches(sq_ctx *c, sq_term *t, const uint8_t *key, size_t len)
{
    uint8_t pfx[2 + KZ_TEXT_KEY_MAX];
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned found = 0;
    pfx[0] = 'k';
    pfx[1] = (uint8_t)len;
    memcpy(pfx + 2, key, len);
    int rc = mdb_cursor_open(c->txn, c->s->search_docs, &cur);
    if (rc)
        return kz__err(rc);
    k.mv_size = 2 + len;
    k.mv_data = pfx;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 2 + len + KZ_KEY_BYTES || memcmp(k.mv_data, pfx, 2 + len) != 0)
            break;
        if (++found > KZ_SEARCH_NODES_MAX) {
            c->truncated = true;
            break;
        }
        uint8_t hk[1 + KZ_KEY_BYTES] = {KZ__SK_HOME};
        memcpy(hk + 1, (const uint8_t *)k.mv_data + 2 + len, KZ_KEY_BYTES);
        int cf = v.mv_size == 1 ? *(const uint8_t *)v.mv_data : 0;
        int arc = src_add(c, hk, sizeof hk, cf, &t->est);
        if (arc) {
            mdb_cursor_close(cur);
            return arc;
        }
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
}

static int add_key_term(sq_ctx *c, const uint8_t *key, size_t len, int word, bool names)
{
    sq_term *t = term_begin(c, word);
    if (!t) {
        c->reason = "the query has too many terms";
        return KZ_ETOOBIG;
    }
    int rc = src_add(c, key, len, -1, &t->est);
    if (rc == 0 && names)
        rc = name_branches(c, t, key, len);
    if (rc == 0)
        term_end(c, t);
    return rc;
}

static int add_home_term(sq_ctx *c, const uint8_t node[KZ_KEY_BYTES])
{
    uint8_t hk[1 + KZ_KEY_BYTES] = {KZ__SK_HOME};
    memcpy(hk + 1, node, KZ_KEY_BYTES);
    return add_key_term(c, hk, sizeof hk, -1, false);
}

/* Does normalisable text hold every key of fq? (field filters, names) */
struct has_ctx {
    const kz_text_query *fq;
    uint64_t seen;
};

static int has_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    struct has_ctx *h = ud;
    for (size_t i = 0; i < h->fq->n_keys; i++) {
        const kz_text_key *k = &h->fq->keys[i];
        if (k->len == len && memcmp(k->b, key, len) == 0)
            h->seen |= (uint64_t)1 << i;
    }
    return 0;
}

static bool text_has(const char *p, size_t n, const kz_text_query *fq)
{
    struct has_ctx h = {fq, 0};
    uint64_t all = fq->n_keys >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << fq->n_keys) - 1);
    if (n == 0 || kz_text_terms(p, n, 0, has_cb, &h) != 0)
        return false;
    return h.seen == all;
}

/* Parse a filter's text; names the filter in the error. */
static int parse_filter(sq_ctx *c, const char *text, kz_text_query *fq, const char *bad,
                        const char *empty)
{
    int rc = kz_text_query_parse(text, strlen(text), fq);
    if (rc) {
        c->reason = bad;
        return rc;
    }
    if (fq->n_keys == 0) {
        c->reason = empty;
        return KZ_EINVAL;
    }
    return 0;
}

static int add_filter_keys(sq_ctx *c, const kz_text_query *fq)
{
    for (size_t i = 0; i < fq->n_keys; i++) {
        int rc = add_key_term(c, fq->keys[i].b, fq->keys[i].len, -1, false);
        if (rc)
            return rc;
    }
    return 0;
}

/* Home company by name: every node whose indexed name holds the words. */
static int add_company_nodes(sq_ctx *c, const char *name)
{
    kz_text_query fq;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t first = 'n';
    unsigned scanned = 0;
    int rc = parse_filter(c, name, &fq, "company: invalid text or too long",
                          "company: nothing searchable in the name");
    if (rc)
        return rc;
    sq_term *t = term_begin(c, -1);
    if (!t) {
        c->reason = "the query has too many terms";
        return KZ_ETOOBIG;
    }
    if ((rc = mdb_cursor_open(c->txn, c->s->search_docs, &cur)) != 0)
        return kz__err(rc);
    k.mv_size = 1;
    k.mv_data = &first;
    size_t start = c->nsrc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data;
        if (k.mv_size != 1 + KZ_KEY_BYTES || key[0] != 'n')
            break;
        if (++scanned > NODE_SCAN_MAX) {
            c->truncated = true;
            break;
        }
        if (!text_has(v.mv_data, v.mv_size, &fq))
            continue;
        if (c->nsrc - start >= KZ_SEARCH_NODES_MAX) {
            mdb_cursor_close(cur);
            c->reason = "company: the name matches too many companies; give more of it";
            return KZ_ETOOBIG;
        }
        uint8_t hk[1 + KZ_KEY_BYTES] = {KZ__SK_HOME};
        memcpy(hk + 1, key + 1, KZ_KEY_BYTES);
        int arc = src_add(c, hk, sizeof hk, -1, &t->est);
        if (arc) {
            mdb_cursor_close(cur);
            return arc;
        }
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return kz__err(rc);
    term_end(c, t);
    return 0;
}

static int add_years(sq_ctx *c, uint16_t from, uint16_t to)
{
    MDB_cursor *cur;
    uint8_t lo[3] = {KZ__SK_LEFT};
    MDB_val k = {3, lo}, v;
    kz__be16_put(lo + 1, from ? from : KZ_YEAR_MIN);
    uint16_t hi = to ? to : KZ_YEAR_MAX;
    sq_term *t = term_begin(c, -1);
    if (!t) {
        c->reason = "the query has too many terms";
        return KZ_ETOOBIG;
    }
    int rc = mdb_cursor_open(c->txn, c->s->search_postings, &cur);
    if (rc)
        return kz__err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
        const uint8_t *key = k.mv_data;
        if (k.mv_size != 3 || key[0] != KZ__SK_LEFT || kz__be16_get(key + 1) > hi)
            break;
        uint8_t yk[3];
        memcpy(yk, key, 3);
        int arc = src_add(c, yk, 3, -1, &t->est);
        if (arc) {
            mdb_cursor_close(cur);
            return arc;
        }
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return kz__err(rc);
    term_end(c, t);
    return 0;
}

/* Keys every document holding exactly the normalised text norm holds:
 * its bigrams and whole words (unigrams only when there is nothing else),
 * at most 8; used to find candidates for an equality test. */
struct eq_ctx {
    sq_ctx *c;
    uint8_t keys[8][KZ_TEXT_KEY_MAX];
    uint8_t lens[8];
    size_t n;
    uint8_t uni[KZ_TEXT_KEY_MAX];
    size_t uni_len;
};

static int eq_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    struct eq_ctx *e = ud;
    if (key[0] == KZ_TEXT_KEY_UNIGRAM && e->uni_len == 0) {
        memcpy(e->uni, key, len);
        e->uni_len = len;
    }
    bool useful = key[0] == KZ_TEXT_KEY_BIGRAM ||
                  (key[0] == KZ_TEXT_KEY_PREFIX && (flags & KZ_TEXT_F_WHOLE));
    if (!useful || e->n == 8)
        return 0;
    for (size_t i = 0; i < e->n; i++) {
        if (e->lens[i] == len && memcmp(e->keys[i], key, len) == 0)
            return 0;
    }
    memcpy(e->keys[e->n], key, len);
    e->lens[e->n++] = (uint8_t)len;
    return 0;
}

static int add_equal_keys(sq_ctx *c, const char *norm, size_t n)
{
    struct eq_ctx e;
    memset(&e, 0, sizeof e);
    e.c = c;
    if (kz_text_terms(norm, n, 0, eq_cb, &e) != 0 || (e.n == 0 && e.uni_len == 0))
        return 0; /* nothing to narrow with: the other terms drive */
    if (e.n == 0) {
        memcpy(e.keys[0], e.uni, e.uni_len);
        e.lens[0] = (uint8_t)e.uni_len;
        e.n = 1;
    }
    for (size_t i = 0; i < e.n; i++) {
        int rc = add_key_term(c, e.keys[i], e.lens[i], -1, false);
        if (rc)
            return rc;
    }
    return 0;
}

static int add_same_company(sq_ctx *c, const uint8_t member[KZ_KEY_BYTES])
{
    kz_record p = {0};
    int rc = kz__search_profile(c->s, c->txn, member, &p);
    if (rc == KZ_ENOTFOUND) {
        c->reason = "same-current-company-as: that member has no profile here";
        return rc;
    }
    if (rc)
        return rc;
    const kz_str *cc = &p.body.profile.current_company;
    c->same_len = kz__search_norm(cc->p, cc->n, c->same_company, sizeof c->same_company);
    kz_record_close(&p);
    if (c->same_len == 0) {
        c->reason = "same-current-company-as: that member has no current company";
        return KZ_EINVAL;
    }
    c->has_same = true;
    memcpy(c->exclude, member, KZ_KEY_BYTES);
    c->filter_fields |= KZ_SEARCH_F_CURRENT_COMPANY;
    return add_equal_keys(c, c->same_company, c->same_len);
}

static int add_former(sq_ctx *c, const uint8_t member[KZ_KEY_BYTES])
{
    kz__shome h;
    kz_record a = {0}, p = {0};
    kz_str dept = {NULL, 0};
    int rc = kz__search_home(c->s, c->txn, member, &h);
    if (rc)
        return rc;
    if (!h.found) {
        c->reason = "former-colleagues-of: that member has no live attestation here";
        return KZ_ENOTFOUND;
    }
    rc = kz__search_profile(c->s, c->txn, member, &p);
    if (rc && rc != KZ_ENOTFOUND)
        return rc;
    if (rc == 0) {
        c->fc_joined = p.body.profile.joined;
        c->fc_left = p.body.profile.left;
        dept = p.body.profile.department;
    }
    rc = kz__search_load(c->s, c->txn, h.attest_id, &a);
    if (rc == 0 && a.type == KZ_T_ATTEST) {
        if (a.body.attest.joined)
            c->fc_joined = a.body.attest.joined;
        if (a.body.attest.left)
            c->fc_left = a.body.attest.left;
        if (a.body.attest.department.n)
            dept = a.body.attest.department;
    }
    c->fc_dept_len = kz__search_norm(dept.p, dept.n, c->fc_dept, sizeof c->fc_dept);
    kz_record_close(&a);
    kz_record_close(&p);
    c->has_former = true;
    memcpy(c->exclude, member, KZ_KEY_BYTES);
    memcpy(c->fc_home, h.node, KZ_KEY_BYTES);
    c->filter_fields |= KZ_SEARCH_F_HOME_COMPANY | KZ_SEARCH_F_TENURE |
                        (c->fc_dept_len ? KZ_SEARCH_F_DEPARTMENT : 0);
    if ((rc = add_home_term(c, h.node)) != 0)
        return rc;
    return c->fc_dept_len ? add_equal_keys(c, c->fc_dept, c->fc_dept_len) : 0;
}

/* ---- Checks on a candidate ----------------------------------------------------- */

static bool overlaps(uint16_t j1, uint16_t l1, uint16_t j2, uint16_t l2)
{
    unsigned a1 = j1 ? j1 : 0, b1 = l1 ? l1 : 0xFFFF, a2 = j2 ? j2 : 0, b2 = l2 ? l2 : 0xFFFF;
    return a1 <= b2 && a2 <= b1;
}

/* 1 when the document passes every check, 0 when not, or a KZ_E* code. */
int kz__sq_doc_passes(sq_ctx *c, const kz__sdoc *d)
{
    const kz_search_query *q = c->q;
    if (d->vis == KZ_VIS_HIDDEN)
        return 0;
    if (d->vis == KZ_VIS_COMPANY &&
        (!q->viewer_home || memcmp(d->home, q->viewer_home, KZ_KEY_BYTES) != 0))
        return 0;
    if (c->blocks) {
        int b = kz__is_blocked(c->s, c->txn, d->home);
        if (b)
            return b < 0 ? b : 0;
    }
    if (c->has_fq[0] && !text_has(d->company.p, d->company.n, &c->fq[0]))
        return 0;
    if (c->has_fq[1] && !text_has(d->location.p, d->location.n, &c->fq[1]))
        return 0;
    if (c->has_fq[2]) {
        bool any = false;
        for (uint32_t i = 0; i < d->n_skills && !any; i++)
            any = text_has(d->skills[i].p, d->skills[i].n, &c->fq[2]);
        if (!any)
            return 0;
    }
    if ((c->has_same || c->has_former) && memcmp(d->member, c->exclude, KZ_KEY_BYTES) == 0)
        return 0;
    if (c->has_same &&
        (d->company.n != c->same_len || memcmp(d->company.p, c->same_company, c->same_len) != 0))
        return 0;
    if (c->has_former) {
        if (memcmp(d->home, c->fc_home, KZ_KEY_BYTES) != 0)
            return 0;
        if (c->fc_dept_len &&
            (d->dept.n != c->fc_dept_len || memcmp(d->dept.p, c->fc_dept, c->fc_dept_len) != 0))
            return 0;
        if (!overlaps(d->joined, d->left, c->fc_joined, c->fc_left))
            return 0;
    }
    if (q->rehire && !kz__search_rehire(c->s, c->txn, d->member))
        return 0;
    return 1;
}


static bool str_given(const char *s)
{
    return s && s[0];
}

static int check_text(sq_ctx *c, const char *s, const char *what)
{
    size_t n = strnlen(s, KZ_TEXT_QUERY_RAW_MAX + 1);
    if (n > KZ_TEXT_QUERY_RAW_MAX) {
        c->reason = what;
        return KZ_ETOOBIG;
    }
    return 0;
}

int kz__sq_build(sq_ctx *c)
{
    const kz_search_query *q = c->q;
    const char *text = q->text ? q->text : "";
    int rc;
    if ((rc = check_text(c, text, "query: longer than 1024 bytes")) != 0)
        return rc;
    if ((rc = kz_text_query_parse(text, strlen(text), &c->tq)) != 0) {
        c->reason = c->tq.reason ? c->tq.reason : "query: not valid text";
        return rc;
    }
    if (q->open_to & ~KZ_OPEN_ALL) {
        c->reason = "open_to: unknown bits";
        return KZ_EINVAL;
    }
    if ((q->left_from && (q->left_from < KZ_YEAR_MIN || q->left_from > KZ_YEAR_MAX)) ||
        (q->left_to && (q->left_to < KZ_YEAR_MIN || q->left_to > KZ_YEAR_MAX)) ||
        (q->left_from && q->left_to && q->left_from > q->left_to)) {
        c->reason = "left: years must be 1900-2200 with left_from <= left_to";
        return KZ_EINVAL;
    }
    if (q->rehire && (!q->secretariat || !q->viewer_home)) {
        c->reason = "rehire: only the home company's secretariat may filter on re-hire interest";
        return KZ_EPERM;
    }
    if (q->limit > KZ_SEARCH_LIMIT_MAX) {
        c->reason = "limit: at most 100 hits per page";
        return KZ_EINVAL;
    }
    const char *ftext[3] = {q->current_company, q->location, q->skill};
    static const char *const fbad[3] = {"current_company: invalid text or too long",
                                        "location: invalid text or too long",
                                        "skill: invalid text or too long"};
    static const char *const fempty[3] = {"current_company: nothing searchable",
                                          "location: nothing searchable",
                                          "skill: nothing searchable"};
    static const uint32_t fbits[3] = {KZ_SEARCH_F_CURRENT_COMPANY, KZ_SEARCH_F_LOCATION,
                                      KZ_SEARCH_F_SKILLS};
    for (int i = 0; i < 3; i++) {
        if (!str_given(ftext[i]))
            continue;
        if ((rc = check_text(c, ftext[i], fbad[i])) != 0 ||
            (rc = parse_filter(c, ftext[i], &c->fq[i], fbad[i], fempty[i])) != 0)
            return rc;
        c->has_fq[i] = true;
        c->filter_fields |= fbits[i];
    }
    if (str_given(q->home_company) &&
        (rc = check_text(c, q->home_company, "company: longer than 1024 bytes")) != 0)
        return rc;
    bool filters = q->home_node || str_given(q->home_company) || c->has_fq[0] || c->has_fq[1] ||
                   c->has_fq[2] || q->left_from || q->left_to || q->open_to || q->rehire ||
                   q->same_current_company_as || q->former_colleagues_of;
    if (!filters && text[0] == 0) {
        c->reason = "give a query or a filter";
        return KZ_EINVAL;
    }
    c->qhash = kz__sq_query_hash(c);
    if (q->cursor && (rc = kz__sq_cursor_decode(c, q->cursor)) != 0)
        return rc;
    if (!filters && c->tq.n_keys == 0) {
        c->empty = true; /* only punctuation: nothing to look for */
        return 0;
    }

    /* Filters first: they are often the shortest lists. */
    if (q->home_node && (rc = add_home_term(c, q->home_node)) != 0)
        return rc;
    if (str_given(q->home_company) && (rc = add_company_nodes(c, q->home_company)) != 0)
        return rc;
    if (q->home_node || str_given(q->home_company))
        c->filter_fields |= KZ_SEARCH_F_HOME_COMPANY;
    if (q->left_from || q->left_to) {
        if ((rc = add_years(c, q->left_from, q->left_to)) != 0)
            return rc;
        c->filter_fields |= KZ_SEARCH_F_LEFT;
    }
    for (unsigned bit = 0; bit < 3; bit++) {
        if (!(q->open_to & (1u << bit)))
            continue;
        uint8_t ok[2] = {KZ__SK_OPEN, (uint8_t)bit};
        if ((rc = add_key_term(c, ok, 2, -1, false)) != 0)
            return rc;
        c->filter_fields |= KZ_SEARCH_F_OPEN_TO;
    }
    if (q->rehire) {
        if ((rc = add_home_term(c, q->viewer_home)) != 0)
            return rc;
        c->filter_fields |= KZ_SEARCH_F_OPEN_TO;
    }
    for (int i = 0; i < 3; i++) {
        if (c->has_fq[i] && (rc = add_filter_keys(c, &c->fq[i])) != 0)
            return rc;
    }
    if (q->same_current_company_as && (rc = add_same_company(c, q->same_current_company_as)) != 0)
        return rc;
    if (q->former_colleagues_of && (rc = add_former(c, q->former_colleagues_of)) != 0)
        return rc;
    for (size_t i = 0; i < c->tq.n_keys; i++) {
        const kz_text_key *k = &c->tq.keys[i];
        if ((rc = add_key_term(c, k->b, k->len, k->word, true)) != 0)
            return rc;
    }
    c->post = c->has_fq[0] || c->has_fq[1] || c->has_fq[2] || c->has_same || c->has_former ||
              q->rehire;
    MDB_stat st;
    c->blocks = mdb_stat(c->txn, c->s->blocked, &st) != 0 || st.ms_entries > 0;
    c->post = c->post || c->blocks;
    return 0;
}
