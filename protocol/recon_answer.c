/* recon_answer.c: how one side answers each kind of range the peer sends. */
#include "recon_int.h"

#include <stdlib.h>
#include <string.h>

/* The smallest bound b with a < b <= c (a < c): the timestamp alone when the
 * timestamps differ, else the shortest prefix of c's id that exceeds a's. */
static void bound_between(const kz_recon_item *a, const kz_recon_item *c, kz__recon_bound *b)
{
    memset(b, 0, sizeof *b);
    b->ts = c->created_ms;
    if (a->created_ms < c->created_ms)
        return;
    size_t k = 0;
    while (k < KZ_RECON_ID_BYTES - 1 && a->id[k] == c->id[k])
        k++;
    b->len = (uint8_t)(k + 1);
    memcpy(b->prefix, c->id, k + 1);
}

static int bound_between_at(kz_recon *r, size_t j, kz__recon_bound *b)
{
    kz_recon_item a, c;
    int rc = kz__recon_item(r, j - 1, &a);
    if (!rc)
        rc = kz__recon_item(r, j, &c);
    if (!rc && memcmp(&a, &c, sizeof a) == 0)
        rc = KZ_ESTORE; /* storage returned a duplicate */
    if (!rc)
        bound_between(&a, &c, b);
    return rc;
}

/* ---- Reply pieces ----------------------------------------------------------------- */

static int emit_fp(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                   const kz_recon_acc *acc)
{
    kz__recon_range x = {.lo = *lo, .hi = *hi, .mode = KZ__RECON_FP, .count = acc->count};
    kz__recon_fingerprint(r, acc, x.fp);
    return kz__recon_out_add(r, &x);
}

/* Short ids of all our items in [ilo, ihi); an empty list says "I have none". */
static int emit_idlist(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                       size_t ilo, size_t ihi)
{
    size_t c = ihi - ilo;
    uint8_t *p = kz__recon_scratch_take(r, c * KZ_RECON_SHORT_BYTES);
    if (!p)
        return KZ_ETOOBIG;
    for (size_t i = 0; i < c; i++) {
        kz_recon_item it;
        int rc = kz__recon_item(r, ilo + i, &it);
        if (rc)
            return rc;
        kz__recon_short_id(r, it.id, p + i * KZ_RECON_SHORT_BYTES);
    }
    kz__recon_range x = {.lo = *lo, .hi = *hi, .mode = KZ__RECON_IDLIST, .a = p,
                         .alen = c * KZ_RECON_SHORT_BYTES};
    return kz__recon_out_add(r, &x);
}

static size_t bucket_count(size_t c)
{
    size_t nb = (c + KZ_RECON_LEAF - 1) / KZ_RECON_LEAF;
    if (nb < 2)
        nb = 2;
    return nb > KZ_RECON_BUCKETS ? KZ_RECON_BUCKETS : nb;
}

/* Splits [ilo, ihi) (more than KZ_RECON_LEAF items) into buckets of nearly
 * equal size, each sent with its fingerprint and count. */
static int emit_split(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                      size_t ilo, size_t ihi)
{
    size_t c = ihi - ilo, nb = bucket_count(c), jprev = ilo;
    kz__recon_bound cur = *lo, next;
    for (size_t k = 1; k <= nb; k++) {
        size_t j = k == nb ? ihi : ilo + (size_t)((uint64_t)c * k / nb);
        int rc = 0;
        if (k == nb)
            next = *hi;
        else
            rc = bound_between_at(r, j, &next);
        kz_recon_acc acc;
        if (!rc)
            rc = kz__recon_acc(r, jprev, j, &acc);
        if (!rc)
            rc = emit_fp(r, &cur, &next, &acc);
        if (rc)
            return rc;
        cur = next;
        jprev = j;
    }
    return 0;
}

/* The peer holds nothing in [lo, hi): send our ids, as many as fit. The rest
 * stays with us as a range the peer has "count 0" of, for the next round. */
static int emit_ship(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                     size_t ilo, size_t ihi, kz__recon_range *rest, bool *has_rest)
{
    size_t c = ihi - ilo, avail = r->out_max - r->out_bytes;
    if (avail < SKIP_MAX + IDS_FRAME_MAX + KZ_RECON_ID_BYTES)
        return KZ_ETOOBIG;
    size_t k = (avail - SKIP_MAX - IDS_FRAME_MAX) / KZ_RECON_ID_BYTES;
    if (k > c)
        k = c;
    uint8_t *p = kz__recon_scratch_take(r, k * KZ_RECON_ID_BYTES);
    if (!p)
        return KZ_ETOOBIG;
    for (size_t i = 0; i < k; i++) {
        kz_recon_item it;
        int rc = kz__recon_item(r, ilo + i, &it);
        if (rc)
            return rc;
        memcpy(p + i * KZ_RECON_ID_BYTES, it.id, KZ_RECON_ID_BYTES);
    }
    kz__recon_range x = {.lo = *lo, .hi = *hi, .mode = KZ__RECON_IDS, .a = p,
                         .alen = k * KZ_RECON_ID_BYTES};
    if (k < c) {
        int rc = bound_between_at(r, ilo + k, &x.hi);
        if (rc)
            return rc;
        kz_recon_acc none;
        kz_recon_acc_init(&none);
        memset(rest, 0, sizeof *rest);
        rest->lo = x.hi;
        rest->hi = *hi;
        rest->mode = KZ__RECON_FP;
        kz__recon_fingerprint(r, &none, rest->fp);
        *has_rest = true;
    }
    return kz__recon_out_add(r, &x);
}

/* Natural logarithm for x > 0 (the protocol library does not link libm). */
static double ln_pos(double x)
{
    int k = 0;
    while (x < 0.5) {
        x *= 2;
        k--;
    }
    while (x >= 1) {
        x /= 2;
        k++;
    }
    double y = (x - 1) / (x + 1), y2 = y * y, t = y, sum = 0;
    for (int i = 1; i < 40; i += 2) {
        sum += t / i;
        t *= y2;
    }
    return 2 * sum + k * 0.69314718055994531;
}

/* Cells for a sketch of a mismatched range of c items (the peer holds
 * `their`), or 0 to split instead. Differences are read as Poisson with
 * rate lambda per range: the share of matching fingerprints q estimates
 * e^-lambda (smoothed, so that q > 0), and a range known to differ holds
 * E = lambda / (1 - q) of them on average. When every fingerprint differed
 * the rate is unknown and we split. */
static size_t sketch_cells(const kz_recon *r, size_t c, uint64_t their)
{
    if (their == KZ__RECON_THEIR_UNKNOWN)
        return OPEN_CELLS;
    if (r->fp_seen == 0 || r->fp_missed >= r->fp_seen)
        return 0;
    double q = ((double)(r->fp_seen - r->fp_missed) + 0.5) / ((double)r->fp_seen + 1);
    double e = q < 1 ? -ln_pos(q) / (1 - q) : 1.0;
    double gap = their > c ? (double)(their - c) : (double)(c - their);
    if (gap > e)
        e = gap;
    if (e > SKETCH_T_MAX)
        return 0;
    size_t cells = 3 * (size_t)((SKETCH_CELL_K * e + SKETCH_CELL_C) / 3.0 + 0.999);
    return cells < 9 ? 9 : cells > KZ_RECON_SKETCH_CELLS_MAX ? KZ_RECON_SKETCH_CELLS_MAX : cells;
}

/* Our sketch of [ilo, ihi) and our count. */
static int emit_sketch(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                       size_t ilo, size_t ihi, size_t ncells)
{
    uint8_t *cells = kz__recon_scratch_take(r, ncells * KZ_RECON_CELL_BYTES);
    if (!cells)
        return KZ_ETOOBIG;
    memset(cells, 0, ncells * KZ_RECON_CELL_BYTES);
    for (size_t i = ilo; i < ihi; i++) {
        kz_recon_item it;
        uint8_t sid[KZ_RECON_SHORT_BYTES];
        int rc = kz__recon_item(r, i, &it);
        if (rc)
            return rc;
        kz__recon_short_id(r, it.id, sid);
        kz__recon_sketch_add(cells, ncells, sid);
    }
    kz__recon_range x = {.lo = *lo, .hi = *hi, .mode = KZ__RECON_SKETCH, .count = ihi - ilo,
                         .a = cells, .alen = ncells * KZ_RECON_CELL_BYTES};
    return kz__recon_out_add(r, &x);
}

/* Our fingerprint of [lo, hi) differs from the peer's, who holds `their`
 * items there (KZ__RECON_THEIR_UNKNOWN in the opening). allow_sketch is false when a
 * sketch of this range just failed, so that we do not ping-pong. */
int kz__recon_answer_mismatch(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                           size_t ilo, size_t ihi, const kz_recon_acc *acc, uint64_t their,
                           bool allow_sketch, kz__recon_range *rest, bool *has_rest)
{
    size_t c = ihi - ilo;
    if (c == 0)
        return emit_idlist(r, lo, hi, ilo, ihi);
    if (their == 0)
        return emit_ship(r, lo, hi, ilo, ihi, rest, has_rest);
    if (c <= KZ_RECON_LEAF &&
        (their <= KZ_RECON_LEAF || their == KZ__RECON_THEIR_UNKNOWN || !allow_sketch))
        return emit_idlist(r, lo, hi, ilo, ihi);
    if (c > KZ_RECON_LEAF) {
        size_t ncells = allow_sketch ? sketch_cells(r, c, their) : 0;
        if (ncells)
            return emit_sketch(r, lo, hi, ilo, ihi, ncells);
        return emit_split(r, lo, hi, ilo, ihi);
    }
    /* We hold few, the peer many: send our fingerprint back so the peer,
     * which can cut its side finer, splits the range. */
    return emit_fp(r, lo, hi, acc);
}

static int answer_fp(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi,
                     kz__recon_range *rest, bool *has_rest)
{
    kz_recon_acc acc;
    uint8_t fp[KZ_RECON_FP_BYTES];
    int rc = kz__recon_acc(r, ilo, ihi, &acc);
    if (rc)
        return rc;
    kz__recon_fingerprint(r, &acc, fp);
    if (acc.count == w->count && memcmp(fp, w->fp, sizeof fp) == 0)
        return 0;
    return kz__recon_answer_mismatch(r, &w->lo, &w->hi, ilo, ihi, &acc, w->count, true, rest,
                                     has_rest);
}

/* The peer listed the short ids of its items in the range: answer with a
 * bitmap of its entries we lack and the full ids of ours it lacks. */
static int emit_diff(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi)
{
    size_t m = w->alen / KZ_RECON_SHORT_BYTES, c = ihi - ilo, nids = 0;
    uint8_t mine[KZ_RECON_IDLIST_MAX][KZ_RECON_SHORT_BYTES];
    kz_recon_item items[KZ_RECON_IDLIST_MAX];
    uint8_t bitmap[(KZ_RECON_IDLIST_MAX + 7) / 8] = {0};
    bool any_bit = false;

    for (size_t i = 0; i < c; i++) {
        int rc = kz__recon_item(r, ilo + i, &items[i]);
        if (rc)
            return rc;
        kz__recon_short_id(r, items[i].id, mine[i]);
    }
    for (size_t j = 0; j < m; j++) {
        const uint8_t *theirs = w->a + j * KZ_RECON_SHORT_BYTES;
        bool found = false;
        for (size_t i = 0; i < c && !found; i++)
            found = memcmp(mine[i], theirs, KZ_RECON_SHORT_BYTES) == 0;
        if (!found) {
            bitmap[j / 8] |= (uint8_t)(1u << (j % 8));
            any_bit = true;
        }
    }
    uint8_t *ids = r->scratch + r->scratch_len;
    for (size_t i = 0; i < c; i++) {
        bool found = false;
        for (size_t j = 0; j < m && !found; j++)
            found = memcmp(mine[i], w->a + j * KZ_RECON_SHORT_BYTES, KZ_RECON_SHORT_BYTES) == 0;
        if (found)
            continue;
        uint8_t *p = kz__recon_scratch_take(r, KZ_RECON_ID_BYTES);
        if (!p)
            return KZ_ETOOBIG;
        memcpy(p, items[i].id, KZ_RECON_ID_BYTES);
        nids++;
    }
    kz__recon_range x = {.lo = w->lo, .hi = w->hi};
    if (!any_bit) {
        if (nids == 0)
            return 0; /* same short ids: nothing to do */
        x.mode = KZ__RECON_IDS;
        x.a = ids;
        x.alen = nids * KZ_RECON_ID_BYTES;
        return kz__recon_out_add(r, &x);
    }
    size_t blen = (m + 7) / 8;
    uint8_t *bm = kz__recon_scratch_take(r, blen);
    if (!bm)
        return KZ_ETOOBIG;
    memcpy(bm, bitmap, blen);
    x.mode = KZ__RECON_DIFF;
    x.a = bm;
    x.alen = blen;
    x.b = ids;
    x.blen = nids * KZ_RECON_ID_BYTES;
    return kz__recon_out_add(r, &x);
}

static int answer_idlist(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi,
                         kz__recon_range *rest, bool *has_rest)
{
    size_t c = ihi - ilo;
    if (w->alen == 0)
        return c == 0 ? 0 : emit_ship(r, &w->lo, &w->hi, ilo, ihi, rest, has_rest);
    if (c > KZ_RECON_IDLIST_MAX)
        return emit_split(r, &w->lo, &w->hi, ilo, ihi);
    return emit_diff(r, w, ilo, ihi);
}

/* The peer answered our list: it lacks the entries whose bits are set. The
 * bitmap must cover exactly our items in the range. */
static int answer_diff(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi)
{
    size_t c = ihi - ilo, n = 0;
    if (c == 0 || w->alen != (c + 7) / 8)
        return KZ_EPROTO;
    for (size_t j = c; j < w->alen * 8; j++)
        if (w->a[j / 8] & (1u << (j % 8)))
            return KZ_EPROTO;
    uint8_t *ids = r->scratch + r->scratch_len;
    for (size_t j = 0; j < c; j++) {
        if (!(w->a[j / 8] & (1u << (j % 8))))
            continue;
        kz_recon_item it;
        int rc = kz__recon_item(r, ilo + j, &it);
        if (rc)
            return rc;
        uint8_t *p = kz__recon_scratch_take(r, KZ_RECON_ID_BYTES);
        if (!p)
            return KZ_ETOOBIG;
        memcpy(p, it.id, KZ_RECON_ID_BYTES);
        n++;
    }
    if (n == 0)
        return 0;
    kz__recon_range x = {.lo = w->lo, .hi = w->hi, .mode = KZ__RECON_IDS, .a = ids,
                         .alen = n * KZ_RECON_ID_BYTES};
    return kz__recon_out_add(r, &x);
}

static int sid_cmp(const void *a, const void *b)
{
    return memcmp(a, b, KZ_RECON_SHORT_BYTES);
}

/* Appends to scratch the full ids of our items in [ilo, ihi) whose short ids
 * are in keys (sorted, distinct), in key order. Sets *found. */
static int ids_for_shorts(kz_recon *r, size_t ilo, size_t ihi,
                          const uint8_t (*keys)[KZ_RECON_SHORT_BYTES], size_t nkeys, size_t *found)
{
    *found = 0;
    for (size_t i = ilo; i < ihi && *found < nkeys; i++) {
        kz_recon_item it;
        uint8_t sid[KZ_RECON_SHORT_BYTES];
        int rc = kz__recon_item(r, i, &it);
        if (rc)
            return rc;
        kz__recon_short_id(r, it.id, sid);
        if (!bsearch(sid, keys, nkeys, KZ_RECON_SHORT_BYTES, sid_cmp))
            continue;
        uint8_t *p = kz__recon_scratch_take(r, KZ_RECON_ID_BYTES);
        if (!p)
            return KZ_ETOOBIG;
        memcpy(p, it.id, KZ_RECON_ID_BYTES);
        (*found)++;
    }
    return 0;
}

/* A decoded sketch difference: ship our ids the peer lacks, ask for the
 * peer's by short id. Returns 1 if a key is not one of our items (the decode
 * was wrong): the caller falls back to splitting. */
static int sketch_reply(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi,
                        uint8_t (*keys)[KZ_RECON_SHORT_BYTES], const int8_t *signs, size_t n)
{
    uint8_t mine[KZ_RECON_WANT_MAX][KZ_RECON_SHORT_BYTES];
    size_t nmine = 0, ntheirs = 0, found;
    for (size_t k = 0; k < n; k++) {
        if (signs[k] > 0)
            memcpy(mine[nmine++], keys[k], KZ_RECON_SHORT_BYTES);
        else
            memcpy(keys[ntheirs++], keys[k], KZ_RECON_SHORT_BYTES);
    }
    if (n == 0)
        return 0; /* the sketches agree: same set */
    qsort(mine, nmine, KZ_RECON_SHORT_BYTES, sid_cmp);
    uint8_t *ids = r->scratch + r->scratch_len;
    int rc = ids_for_shorts(r, ilo, ihi, (const uint8_t(*)[KZ_RECON_SHORT_BYTES])mine, nmine,
                            &found);
    if (rc)
        return rc;
    if (found != nmine)
        return 1;
    kz__recon_range x = {.lo = w->lo, .hi = w->hi, .mode = KZ__RECON_IDS, .a = ids,
                         .alen = nmine * KZ_RECON_ID_BYTES};
    if (ntheirs > 0) {
        uint8_t *shorts = kz__recon_scratch_take(r, ntheirs * KZ_RECON_SHORT_BYTES);
        if (!shorts)
            return KZ_ETOOBIG;
        memcpy(shorts, keys, ntheirs * KZ_RECON_SHORT_BYTES);
        x.mode = KZ__RECON_WANT;
        x.b = shorts;
        x.blen = ntheirs * KZ_RECON_SHORT_BYTES;
    }
    return kz__recon_out_add(r, &x);
}

/* The peer sent its sketch of the range: subtract ours and peel. */
static int answer_sketch(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi,
                         kz__recon_range *rest, bool *has_rest)
{
    size_t ncells = w->alen / KZ_RECON_CELL_BYTES;
    uint8_t cells[KZ_RECON_SKETCH_CELLS_MAX * KZ_RECON_CELL_BYTES];
    uint8_t keys[KZ_RECON_WANT_MAX][KZ_RECON_SHORT_BYTES];
    int8_t signs[KZ_RECON_WANT_MAX];
    memset(cells, 0, ncells * KZ_RECON_CELL_BYTES);
    for (size_t i = ilo; i < ihi; i++) {
        kz_recon_item it;
        uint8_t sid[KZ_RECON_SHORT_BYTES];
        int rc = kz__recon_item(r, i, &it);
        if (rc)
            return rc;
        kz__recon_short_id(r, it.id, sid);
        kz__recon_sketch_add(cells, ncells, sid);
    }
    kz__recon_sketch_sub(cells, w->a, ncells);
    int n = kz__recon_sketch_decode(cells, ncells, keys, signs, KZ_RECON_WANT_MAX);
    if (n >= 0) {
        kz__recon_mark mark = kz__recon_out_save(r);
        int rc = sketch_reply(r, w, ilo, ihi, keys, signs, (size_t)n);
        if (rc <= 0)
            return rc;
        kz__recon_out_restore(r, &mark);
    } else if (ncells <= SKETCH_ESCALATE_FROM && ihi - ilo > KZ_RECON_LEAF &&
               !(w->lo.ts == 0 && w->lo.len == 0 && w->hi.ts == KZ_RECON_TS_INF)) {
        /* A small sketch overflowed: differences cluster here more than
         * guessed. One bigger sketch back (more than SKETCH_ESCALATE_FROM
         * cells, so the peer will not escalate again) is much cheaper than
         * splitting while the count stays moderate. Not for the opening's
         * sketch of everything: there a failure means a large distance. */
        return emit_sketch(r, &w->lo, &w->hi, ilo, ihi, 2 * ncells + 3);
    }
    kz_recon_acc acc;
    int rc = kz__recon_acc(r, ilo, ihi, &acc);
    if (rc)
        return rc;
    return kz__recon_answer_mismatch(r, &w->lo, &w->hi, ilo, ihi, &acc, w->count, false, rest,
                                     has_rest);
}

/* The peer decoded our sketch and asks for these short ids: ship the ids. */
static int answer_want(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi)
{
    uint8_t keys[KZ_RECON_WANT_MAX][KZ_RECON_SHORT_BYTES];
    size_t n = w->blen / KZ_RECON_SHORT_BYTES, found;
    memcpy(keys, w->b, w->blen);
    qsort(keys, n, KZ_RECON_SHORT_BYTES, sid_cmp);
    for (size_t k = 1; k < n; k++)
        if (memcmp(keys[k - 1], keys[k], KZ_RECON_SHORT_BYTES) == 0)
            return KZ_EPROTO;
    uint8_t *ids = r->scratch + r->scratch_len;
    int rc = ids_for_shorts(r, ilo, ihi, (const uint8_t(*)[KZ_RECON_SHORT_BYTES])keys, n, &found);
    if (rc)
        return rc;
    if (found != n)
        return KZ_EPROTO; /* asks for something we never had there */
    kz__recon_range x = {.lo = w->lo, .hi = w->hi, .mode = KZ__RECON_IDS, .a = ids,
                         .alen = n * KZ_RECON_ID_BYTES};
    return kz__recon_out_add(r, &x);
}

int kz__recon_answer(kz_recon *r, const kz__recon_range *w, kz__recon_range *rest, bool *has_rest)
{
    size_t ilo, ihi;
    int rc = kz__recon_lower(r, &w->lo, &ilo);
    if (!rc)
        rc = kz__recon_lower(r, &w->hi, &ihi);
    if (rc)
        return rc;
    if (ilo > ihi)
        return KZ_ESTORE;
    switch (w->mode) {
    case KZ__RECON_FP:
        return answer_fp(r, w, ilo, ihi, rest, has_rest);
    case KZ__RECON_IDLIST:
        return answer_idlist(r, w, ilo, ihi, rest, has_rest);
    case KZ__RECON_DIFF:
        return answer_diff(r, w, ilo, ihi);
    case KZ__RECON_SKETCH:
        return answer_sketch(r, w, ilo, ihi, rest, has_rest);
    case KZ__RECON_WANT:
        return answer_want(r, w, ilo, ihi);
    default:
        return KZ_EPROTO;
    }
}
