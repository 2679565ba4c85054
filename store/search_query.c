/* search_query.c: answering a directory query: turns words and filters into
 * posting lists, intersects them (leapfrog over sorted lists, newest profile
 * first), ranks the matches in score buckets, checks visibility, blocks and
 * field filters, and pages with an opaque cursor. docs/search.md. */
#include "search_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- Posting lists ----------------------------------------------------------- */

/* A posting list is read a page at a time: MDB_GET_MULTIPLE hands over the
 * whole leaf page of packed 9-byte values the cursor is on, so stepping and
 * most seeks are in-memory moves over blk; LMDB is asked again only to go
 * to the next page or to a document beyond the page. LMDB operations cost
 * STEP_LMDB units of the work budget, in-memory moves one. */
#define STEP_LMDB 16

static void blk_at(sq_src *x, size_t i)
{
    const uint8_t *p = x->blk + i * KZ__SP_VAL;
    x->blk_i = i;
    x->cur = kz__be64_get(p);
    x->cf = p[8];
}

/* Take the page the cursor is on (after rc from a positioning call). */
static int blk_load(sq_src *x, int rc, MDB_cursor_op op)
{
    MDB_val k, v = {0, NULL};
    if (rc == 0)
        rc = mdb_cursor_get(x->c, &k, &v, op);
    /* A key with a single value has no page of duplicates: LMDB then
     * succeeds without data, and the value is the cursor's current one. */
    if (rc == 0 && v.mv_size == 0 && op == MDB_GET_MULTIPLE)
        rc = mdb_cursor_get(x->c, &k, &v, MDB_GET_CURRENT);
    if (rc == MDB_NOTFOUND) {
        x->cur = KZ__DOC_END;
        x->blk_n = 0;
        return 0;
    }
    if (rc)
        return kz__err(rc);
    if (v.mv_size == 0 || v.mv_size % KZ__SP_VAL != 0)
        return KZ_ESTORE;
    x->blk = v.mv_data;
    x->blk_n = v.mv_size / KZ__SP_VAL;
    return 0;
}

/* First index in blk[from..n) whose document is >= target (n if none).
 * Galloping first: in an intersection the next match is usually a few
 * values ahead, so probe 1, 2, 4... ahead, then halve the last gap. */
static size_t blk_find(const sq_src *x, size_t from, uint64_t target)
{
    size_t lo = from, hi = x->blk_n, step = 1;
    while (lo + step < hi && kz__be64_get(x->blk + (lo + step) * KZ__SP_VAL) < target) {
        lo += step + 1;
        step *= 2;
    }
    if (lo + step < hi)
        hi = lo + step + 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kz__be64_get(x->blk + mid * KZ__SP_VAL) < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int kz__sq_src_open(sq_src *x)
{
    int rc = blk_load(x, 0, MDB_GET_MULTIPLE);
    if (rc == 0 && x->cur != KZ__DOC_END)
        blk_at(x, 0);
    return rc;
}

int kz__sq_src_next(sq_ctx *c, sq_src *x)
{
    c->steps++;
    if (x->blk_i + 1 < x->blk_n) {
        blk_at(x, x->blk_i + 1);
        return 0;
    }
    c->steps += STEP_LMDB;
    int rc = blk_load(x, 0, MDB_NEXT_MULTIPLE);
    if (rc == 0 && x->cur != KZ__DOC_END)
        blk_at(x, 0);
    return rc;
}

static int src_seek(sq_ctx *c, sq_src *x, uint64_t target)
{
    if (x->cur >= target)
        return 0;
    c->steps++;
    if (kz__be64_get(x->blk + (x->blk_n - 1) * KZ__SP_VAL) >= target) {
        blk_at(x, blk_find(x, x->blk_i + 1, target));
        return 0;
    }
    uint8_t val[KZ__SP_VAL] = {0};
    MDB_val k = {x->klen, x->key}, v = {sizeof val, val};
    kz__be64_put(val, target);
    c->steps += STEP_LMDB;
    int rc = blk_load(x, mdb_cursor_get(x->c, &k, &v, MDB_GET_BOTH_RANGE), MDB_GET_MULTIPLE);
    if (rc || x->cur == KZ__DOC_END)
        return rc;
    size_t i = blk_find(x, 0, target);
    if (i == x->blk_n)
        return KZ_ESTORE; /* LMDB found a value >= target on this page */
    blk_at(x, i);
    return 0;
}

void kz__sq_term_min(sq_ctx *c, sq_term *t)
{
    t->cur = KZ__DOC_END;
    for (size_t i = 0; i < t->n; i++) {
        if (c->srcs[t->first + i].cur < t->cur)
            t->cur = c->srcs[t->first + i].cur;
    }
}

static int term_seek(sq_ctx *c, sq_term *t, uint64_t target)
{
    if (t->cur >= target)
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        int rc = src_seek(c, &c->srcs[t->first + i], target);
        if (rc)
            return rc;
    }
    kz__sq_term_min(c, t);
    return 0;
}

static int term_next(sq_ctx *c, sq_term *t)
{
    uint64_t at = t->cur;
    for (size_t i = 0; i < t->n; i++) {
        sq_src *x = &c->srcs[t->first + i];
        if (x->cur == at) {
            int rc = kz__sq_src_next(c, x);
            if (rc)
                return rc;
        }
    }
    kz__sq_term_min(c, t);
    return 0;
}

/* ---- Scoring and the walk ----------------------------------------------------- */

/* Score doc (on every term's current document). *how gets, per word w,
 * its class in bits 2w..2w+1 and, in bit 16 + w, whether the home
 * company's name alone holds all its keys: what search_hits.c needs to say
 * which fields matched without re-reading them all. */
static unsigned score_at(sq_ctx *c, uint64_t doc, uint8_t *cf_any, uint32_t *how)
{
    int wcls[KZ_TEXT_QUERY_WORDS_MAX];
    bool whole[KZ_TEXT_QUERY_WORDS_MAX] = {false}, home[KZ_TEXT_QUERY_WORDS_MAX];
    for (size_t w = 0; w < c->tq.n_words; w++) {
        wcls[w] = 3;
        home[w] = true;
    }
    *cf_any = 0;
    for (size_t i = 0; i < c->nterm; i++) {
        const sq_term *t = &c->terms[i];
        int best = -1;
        bool wh = false, branch = false;
        for (size_t j = 0; j < t->n; j++) {
            const sq_src *x = &c->srcs[t->first + j];
            if (x->cur != doc)
                continue;
            *cf_any = x->cf; /* every posting of a document carries its visibility */
            unsigned cf = x->name_cf >= 0 ? (unsigned)x->name_cf : x->cf;
            branch |= x->name_cf >= 0;
            if ((int)KZ__CF_CLASS(cf) > best)
                best = (int)KZ__CF_CLASS(cf);
            if (cf & KZ__CF_WHOLE)
                wh = true;
        }
        if (t->word < 0 || best < 0)
            continue;
        if (best < wcls[t->word])
            wcls[t->word] = best;
        whole[t->word] = wh;
        home[t->word] = home[t->word] && branch;
    }
    unsigned s = 0;
    *how = 0;
    for (size_t w = 0; w < c->tq.n_words; w++) {
        const kz_text_word *wd = &c->tq.words[w];
        bool single_prefix = wd->n_keys == 1 && c->tq.keys[wd->first_key].b[0] == KZ_TEXT_KEY_PREFIX;
        s += (unsigned)wcls[w] * 2 + (single_prefix && whole[w] ? 1u : 0u);
        *how |= (uint32_t)wcls[w] << (2 * w) | (home[w] ? 1u << (16 + w) : 0u);
    }
    return s;
}

/* The best score any document can still reach: per word, the lowest over
 * its keys of the best class in each key's list (the summaries), doubled,
 * plus the whole-word bit when one of its lists has a whole word. */
static unsigned score_max(const sq_ctx *c)
{
    unsigned cls[KZ_TEXT_QUERY_WORDS_MAX], whole[KZ_TEXT_QUERY_WORDS_MAX] = {0}, s = 0;
    for (size_t w = 0; w < c->tq.n_words; w++)
        cls[w] = 3;
    for (size_t i = 0; i < c->nterm; i++) {
        const sq_term *t = &c->terms[i];
        if (t->word < 0)
            continue;
        unsigned best = 0, wh = 0;
        for (size_t j = 0; j < t->n; j++) {
            unsigned b = c->srcs[t->first + j].bound;
            if (b / 2 > best)
                best = b / 2;
            wh |= b & 1u;
        }
        if (best < cls[t->word])
            cls[t->word] = best;
        whole[t->word] |= wh;
    }
    for (size_t w = 0; w < c->tq.n_words; w++) {
        const kz_text_word *wd = &c->tq.words[w];
        bool single_prefix = wd->n_keys == 1 && c->tq.keys[wd->first_key].b[0] == KZ_TEXT_KEY_PREFIX;
        s += cls[w] * 2 + (single_prefix && whole[w] ? 1u : 0u);
    }
    return s;
}

/* A candidate that matched every term. 1 = the page is complete (stop),
 * 0 = continue, or a KZ_E* code. */
static int consider(sq_ctx *c, uint64_t doc)
{
    uint8_t cf;
    uint32_t how;
    unsigned s = score_at(c, doc, &cf, &how);
    c->examined++;
    if (c->has_cursor && (s > c->cur_score || (s == c->cur_score && doc <= c->cur_doc)))
        return 0;
    sq_bucket *b = &c->buckets[s];
    if (b->n >= c->need)
        return 0; /* newer profiles with this score already fill the page */
    if (KZ__CF_VIS(cf) == KZ_VIS_COMPANY && !c->q->viewer_home)
        return 0;
    if (c->post || KZ__CF_VIS(cf) != KZ_VIS_FEDERATION) {
        kz__sdoc d;
        if (++c->verifies > VERIFY_MAX) {
            c->truncated = true;
            c->resume = doc; /* not handled: a resumed walk starts here */
            return 1;
        }
        int rc = kz__sdoc_get(c->s, c->txn, doc, &d);
        if (rc == KZ_ENOTFOUND)
            return 0;
        if (rc)
            return rc;
        if ((rc = kz__sq_doc_passes(c, &d)) <= 0)
            return rc;
    }
    if (!b->docs) {
        b->docs = kz_xmalloc(c->need * sizeof *b->docs);
        b->how = kz_xmalloc(c->need * sizeof *b->how);
    }
    b->how[b->n] = how;
    b->docs[b->n++] = doc;
    return (s == c->eff_max && b->n >= c->need) ? 1 : 0;
}

static int term_cmp(const void *a, const void *b)
{
    const sq_term *x = a, *y = b;
    return x->est < y->est ? -1 : x->est > y->est;
}

/* Leapfrog: the shortest list drives, the others are sought forward to its
 * document; a miss moves the driver to where the other list landed. */
static int walk(sq_ctx *c)
{
    qsort(c->terms, c->nterm, sizeof *c->terms, term_cmp);
    sq_term *drv = &c->terms[0];
    int rc = 0;
    if (c->has_cursor && c->tq.n_words == 0 && c->cur_doc < KZ__DOC_END)
        rc = term_seek(c, drv, c->cur_doc + 1); /* one score: resume after the cursor */
    while (rc == 0 && drv->cur != KZ__DOC_END) {
        c->resume = drv->cur; /* every document before it is handled */
        if (c->steps > STEPS_MAX) {
            c->truncated = true;
            return 0;
        }
        uint64_t d = drv->cur;
        bool all = true;
        for (size_t i = 1; i < c->nterm && all; i++) {
            sq_term *t = &c->terms[i];
            if ((rc = term_seek(c, t, d)) != 0)
                return rc;
            if (t->cur != d) {
                all = false;
                if (t->cur == KZ__DOC_END)
                    drv->cur = KZ__DOC_END; /* another list is exhausted: done */
                else
                    rc = term_seek(c, drv, t->cur);
            }
        }
        if (!all)
            continue;
        if ((rc = consider(c, d)) != 0)
            return rc < 0 ? rc : 0;
        rc = term_next(c, drv);
    }
    return rc;
}

/* ---- Cursor ----------------------------------------------------------------------- */

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return (h ^ 0xFFu) * 16777619u; /* a field separator */
}

static uint32_t fnv_str(uint32_t h, const char *s)
{
    return s ? fnv(h, s, strlen(s)) : fnv(h, "", 0);
}

uint32_t kz__sq_query_hash(const sq_ctx *c)
{
    const kz_search_query *q = c->q;
    static const uint8_t none[KZ_KEY_BYTES] = {0};
    uint8_t nums[10];
    uint32_t h = 2166136261u;
    h = fnv(h, c->tq.norm, c->tq.norm_len);
    h = fnv(h, q->home_node ? q->home_node : none, KZ_KEY_BYTES);
    h = fnv_str(h, q->home_company);
    h = fnv_str(h, q->current_company);
    h = fnv_str(h, q->skill);
    h = fnv_str(h, q->location);
    kz__be16_put(nums, q->left_from);
    kz__be16_put(nums + 2, q->left_to);
    nums[4] = (uint8_t)q->open_to;
    nums[5] = q->rehire;
    nums[6] = q->secretariat;
    nums[7] = q->viewer_home != NULL;
    nums[8] = q->same_current_company_as != NULL;
    nums[9] = q->former_colleagues_of != NULL;
    h = fnv(h, nums, sizeof nums);
    h = fnv(h, q->same_current_company_as ? q->same_current_company_as : none, KZ_KEY_BYTES);
    h = fnv(h, q->former_colleagues_of ? q->former_colleagues_of : none, KZ_KEY_BYTES);
    return fnv(h, q->viewer_home ? q->viewer_home : none, KZ_KEY_BYTES);
}

static void cursor_encode(char out[KZ_SEARCH_CURSOR_MAX], unsigned score, uint64_t doc,
                          uint32_t qhash)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[CURSOR_BYTES];
    b[0] = CURSOR_VERSION;
    b[1] = (uint8_t)score;
    kz__be64_put(b + 2, doc);
    b[10] = (uint8_t)(qhash >> 24);
    b[11] = (uint8_t)(qhash >> 16);
    b[12] = (uint8_t)(qhash >> 8);
    b[13] = (uint8_t)qhash;
    for (size_t i = 0; i < CURSOR_BYTES; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * CURSOR_BYTES] = 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* A cursor is untrusted input: exact length, lower-case hex, known
 * version, a possible score, and the hash of this very query. */
int kz__sq_cursor_decode(sq_ctx *c, const char *s)
{
    uint8_t b[CURSOR_BYTES];
    if (strnlen(s, 2 * CURSOR_BYTES + 1) != 2 * CURSOR_BYTES) {
        c->reason = "cursor: not a cursor from a previous page";
        return KZ_EINVAL;
    }
    for (size_t i = 0; i < CURSOR_BYTES; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            c->reason = "cursor: not a cursor from a previous page";
            return KZ_EINVAL;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    uint32_t h = (uint32_t)b[10] << 24 | (uint32_t)b[11] << 16 | (uint32_t)b[12] << 8 | b[13];
    if (b[0] != CURSOR_VERSION || b[1] > SCORE_MAX) {
        c->reason = "cursor: not a cursor from a previous page";
        return KZ_EINVAL;
    }
    if (h != c->qhash) {
        c->reason = "cursor: it belongs to another query (repeat the same words and filters)";
        return KZ_EINVAL;
    }
    c->has_cursor = true;
    c->cur_score = b[1];
    c->cur_doc = kz__be64_get(b + 2);
    return 0;
}

/* ---- The query ------------------------------------------------------------------- */
/* Fill the page from the buckets, best score first. */
static int collect(sq_ctx *c, kz_search_result *res)
{
    size_t taken = 0;
    unsigned last_score = 0;
    uint64_t last_doc = 0;
    for (int s = SCORE_MAX; s >= 0; s--) {
        sq_bucket *b = &c->buckets[s];
        for (size_t i = 0; i < b->n; i++) {
            if (taken == c->limit) {
                res->more = true;
                goto done;
            }
            kz__sdoc d;
            int rc = kz__sdoc_get(c->s, c->txn, b->docs[i], &d);
            if (rc == KZ_ENOTFOUND)
                continue;
            if (rc == 0)
                rc = kz__search_hit_fill(c->s, c->txn, &d, &c->tq, b->how[i], c->filter_fields,
                                         c->q, &c->names, &res->hits[res->n]);
            if (rc == KZ_ENOTFOUND)
                continue;
            if (rc)
                return rc;
            res->hits[res->n++].score = (unsigned)s;
            last_score = (unsigned)s;
            last_doc = b->docs[i];
            taken++;
        }
    }
done:
    if (res->more) {
        cursor_encode(res->next_cursor, last_score, last_doc, c->qhash);
    } else if (c->truncated && c->tq.n_words == 0 && c->resume > 0 &&
               c->resume != KZ__DOC_END) {
        /* One score for all: the walk can resume where it stopped. */
        res->more = true;
        cursor_encode(res->next_cursor, 0, c->resume - 1, c->qhash);
    }
    return 0;
}

int kz_store_search(kz_store *s, const kz_search_query *q, kz_search_result **out,
                    const char **reason)
{
    static const char *const store_fail = "the store could not be read";
    const char *dummy;
    if (!reason)
        reason = &dummy;
    *reason = NULL;
    if (!out) {
        *reason = "bad arguments";
        return KZ_EINVAL;
    }
    *out = NULL;
    if (!s || !q) {
        *reason = "bad arguments";
        return KZ_EINVAL;
    }
    sq_ctx *c = kz_xcalloc(1, sizeof *c);
    c->s = s;
    c->q = q;
    c->limit = q->limit ? q->limit : KZ_SEARCH_LIMIT_DEFAULT;
    c->need = c->limit + 1;
    kz_search_result *res = NULL;
    int rc = kz__rd_begin(s, &c->txn);
    if (rc) {
        *reason = store_fail;
        free(c);
        return rc;
    }
    rc = kz__sq_build(c);
    if (rc == 0) {
        res = kz_xcalloc(1, sizeof *res);
        c->eff_max = score_max(c);
        if (c->has_cursor && c->cur_score < c->eff_max)
            c->eff_max = c->cur_score;
        if (!c->empty && c->nterm > 0)
            rc = walk(c);
        if (rc == 0)
            rc = collect(c, res);
        res->truncated = c->truncated;
        res->examined = c->examined;
    }
    for (size_t i = 0; i < c->nsrc; i++)
        mdb_cursor_close(c->srcs[i].c);
    kz__rd_end(s, c->txn);
    for (size_t i = 0; i <= SCORE_MAX; i++) {
        free(c->buckets[i].docs);
        free(c->buckets[i].how);
    }
    if (rc) {
        *reason = c->reason ? c->reason : (rc == KZ_ESTORE || rc == KZ_EIO ? store_fail : kz_strerror(rc));
        free(res);
        res = NULL;
    }
    for (size_t i = 0; i < 3; i++)
        kz_text_query_close(&c->fq[i]);
    kz_text_query_close(&c->tq);
    free(c);
    *out = res;
    return rc;
}

void kz_store_search_free(kz_search_result *r)
{
    free(r);
}
