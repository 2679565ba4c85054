/* recon.c: the reconciliation state machine: answers the peer's ranges from local storage. */
#include "kz_recon.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(crypto_shorthash_BYTES == KZ_RECON_FP_BYTES, "fingerprint is one SipHash output");
_Static_assert(crypto_shorthash_BYTES == KZ_RECON_SHORT_BYTES, "short id is one SipHash output");
_Static_assert(crypto_shorthash_KEYBYTES == KZ_RECON_SALT_BYTES, "salt is the SipHash key");
_Static_assert(KZ_RECON_LEAF >= KZ_RECON_BUCKETS, "a split range must fill every bucket");
_Static_assert(KZ_RECON_IDLIST_MAX >= KZ_RECON_LEAF, "an honest list must pass the decoder");

enum { ST_NEW, ST_RUNNING, ST_DONE, ST_FAILED };

/* "The peer did not say how many items it holds" (the opening). */
#define THEIR_UNKNOWN UINT64_MAX
/* Bytes reserved for the message header: version, salt, limit, array header. */
#define HDR_OPENING (1 + 2 + KZ_RECON_SALT_BYTES + 5 + 5)
#define HDR_PLAIN (1 + 5)
/* Worst-case encoded sizes of a skip range and of an IDS range's framing. */
#define SKIP_MAX (1 + 9 + 2 + KZ_RECON_ID_BYTES + 1)
#define IDS_FRAME_MAX (1 + 9 + 2 + KZ_RECON_ID_BYTES + 1 + 5)
/* Carried-over work may take this many times the frame limit in memory. */
#define PENDING_FACTOR 32

struct kz_recon {
    kz_recon_storage st;
    kz_recon_role role;
    size_t own_limit;  /* cap on what we send */
    size_t limit;      /* session limit (the initiator's): cap on what we accept */
    uint8_t salt[KZ_RECON_SALT_BYTES];
    bool salt_set;
    kz_recon_id_cb cb;
    void *ud;
    int state;
    int err;
    bool last_sent_empty;
    size_t nitems;

    /* Ranges received but not answered yet (the budget ran out), sorted and
     * disjoint; their payloads live in pend_arena. */
    kz__recon_range *pend;
    size_t npend;
    uint8_t *pend_arena;

    /* The reply being built: ranges in key order, their payloads in scratch
     * (fixed capacity out_max, so pointers into it stay valid). */
    kz__recon_range *out;
    size_t nout, capout;
    uint8_t *scratch;
    size_t scratch_len;
    size_t out_bytes; /* exact encoded size so far, header reserve included */
    size_t out_max;
    kz__recon_bound out_last;

    /* Next round's carry-over, built while answering. */
    kz__recon_range *npl;
    size_t nnpl, capnpl;

    kz_recon_stats stats;
};

static int fail(kz_recon *r, int rc)
{
    r->state = ST_FAILED;
    r->err = rc;
    return rc;
}

/* ---- Storage access ---------------------------------------------------------- */

static int st_item(kz_recon *r, size_t i, kz_recon_item *it)
{
    return r->st.ops->item_at(r->st.ctx, i, it);
}

static int st_lower(kz_recon *r, const kz__recon_bound *b, size_t *idx)
{
    if (b->ts == KZ_RECON_TS_INF) {
        *idx = r->nitems;
        return 0;
    }
    int rc = r->st.ops->lower_bound(r->st.ctx, b->ts, b->prefix, idx);
    if (rc == 0 && *idx > r->nitems)
        rc = KZ_ESTORE;
    return rc;
}

static int st_acc(kz_recon *r, size_t lo, size_t hi, kz_recon_acc *acc)
{
    if (r->st.ops->sum)
        return r->st.ops->sum(r->st.ctx, lo, hi, acc);
    kz_recon_acc_init(acc);
    for (size_t i = lo; i < hi; i++) {
        kz_recon_item it;
        int rc = st_item(r, i, &it);
        if (rc)
            return rc;
        kz_recon_acc_add(acc, &it);
    }
    return 0;
}

/* ---- Fingerprints, short ids, bounds -------------------------------------------- */

/* SipHash-2-4 keyed with the session salt over sum || count (LE). The salt is
 * fresh per session and secret from third parties, so nobody can prepare
 * records whose 8-byte fingerprints collide in advance. */
static void fingerprint(const kz_recon *r, const kz_recon_acc *acc, uint8_t fp[KZ_RECON_FP_BYTES])
{
    uint8_t in[40];
    memcpy(in, acc->sum, 32);
    for (int i = 0; i < 8; i++)
        in[32 + i] = (uint8_t)(acc->count >> (8 * i));
    crypto_shorthash(fp, in, sizeof in, r->salt);
}

static void short_id(const kz_recon *r, const uint8_t id[KZ_RECON_ID_BYTES],
                     uint8_t out[KZ_RECON_SHORT_BYTES])
{
    crypto_shorthash(out, id, KZ_RECON_ID_BYTES, r->salt);
}

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
    int rc = st_item(r, j - 1, &a);
    if (!rc)
        rc = st_item(r, j, &c);
    if (!rc && memcmp(&a, &c, sizeof a) == 0)
        rc = KZ_ESTORE; /* storage returned a duplicate */
    if (!rc)
        bound_between(&a, &c, b);
    return rc;
}

/* ---- Building the reply ---------------------------------------------------------- */

typedef struct {
    size_t nout, scratch_len, out_bytes;
    kz__recon_bound out_last;
} out_mark;

static void out_reset(kz_recon *r, size_t hdr)
{
    r->nout = 0;
    r->scratch_len = 0;
    r->out_bytes = hdr;
    kz__recon_bound_min(&r->out_last);
}

static out_mark out_save(const kz_recon *r)
{
    out_mark m = {r->nout, r->scratch_len, r->out_bytes, r->out_last};
    return m;
}

static void out_restore(kz_recon *r, const out_mark *m)
{
    r->nout = m->nout;
    r->scratch_len = m->scratch_len;
    r->out_bytes = m->out_bytes;
    r->out_last = m->out_last;
}

static uint8_t *scratch_take(kz_recon *r, size_t n)
{
    if (n > r->out_max - r->scratch_len)
        return NULL;
    uint8_t *p = r->scratch + r->scratch_len;
    r->scratch_len += n;
    return p;
}

/* Appends x (x->lo >= the last range's hi) with its exact encoded cost,
 * counting the skip range a gap before it needs. KZ_ETOOBIG if over budget. */
static int out_add(kz_recon *r, const kz__recon_range *x)
{
    size_t cost = 0;
    uint64_t prev_ts = r->out_last.ts;
    if (kz__recon_bound_cmp(&x->lo, &r->out_last) != 0) {
        kz__recon_range skip = {.hi = x->lo, .mode = KZ__RECON_SKIP};
        cost += kz__recon_range_size(prev_ts, &skip);
        prev_ts = x->lo.ts;
    }
    cost += kz__recon_range_size(prev_ts, x);
    if (cost > r->out_max - r->out_bytes)
        return KZ_ETOOBIG;
    if (r->nout == r->capout) {
        r->capout = r->capout ? r->capout * 2 : 64;
        r->out = kz_xrealloc(r->out, r->capout * sizeof *r->out);
    }
    r->out[r->nout++] = *x;
    r->out_bytes += cost;
    r->out_last = x->hi;
    return 0;
}

static void pending_push(kz_recon *r, const kz__recon_range *w)
{
    if (r->nnpl == r->capnpl) {
        r->capnpl = r->capnpl ? r->capnpl * 2 : 64;
        r->npl = kz_xrealloc(r->npl, r->capnpl * sizeof *r->npl);
    }
    r->npl[r->nnpl++] = *w;
}

/* ---- Reply pieces ----------------------------------------------------------------- */

static int emit_fp(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                   const kz_recon_acc *acc)
{
    kz__recon_range x = {.lo = *lo, .hi = *hi, .mode = KZ__RECON_FP, .count = acc->count};
    fingerprint(r, acc, x.fp);
    return out_add(r, &x);
}

/* Short ids of all our items in [ilo, ihi); an empty list says "I have none". */
static int emit_idlist(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                       size_t ilo, size_t ihi)
{
    size_t c = ihi - ilo;
    uint8_t *p = scratch_take(r, c * KZ_RECON_SHORT_BYTES);
    if (!p)
        return KZ_ETOOBIG;
    for (size_t i = 0; i < c; i++) {
        kz_recon_item it;
        int rc = st_item(r, ilo + i, &it);
        if (rc)
            return rc;
        short_id(r, it.id, p + i * KZ_RECON_SHORT_BYTES);
    }
    kz__recon_range x = {.lo = *lo, .hi = *hi, .mode = KZ__RECON_IDLIST, .a = p,
                         .alen = c * KZ_RECON_SHORT_BYTES};
    return out_add(r, &x);
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
            rc = st_acc(r, jprev, j, &acc);
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
    uint8_t *p = scratch_take(r, k * KZ_RECON_ID_BYTES);
    if (!p)
        return KZ_ETOOBIG;
    for (size_t i = 0; i < k; i++) {
        kz_recon_item it;
        int rc = st_item(r, ilo + i, &it);
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
        fingerprint(r, &none, rest->fp);
        *has_rest = true;
    }
    return out_add(r, &x);
}

/* Our fingerprint of [lo, hi) differs from the peer's, who holds `their`
 * items there (THEIR_UNKNOWN in the opening). */
static int answer_mismatch(kz_recon *r, const kz__recon_bound *lo, const kz__recon_bound *hi,
                           size_t ilo, size_t ihi, const kz_recon_acc *acc, uint64_t their,
                           kz__recon_range *rest, bool *has_rest)
{
    size_t c = ihi - ilo;
    if (c == 0)
        return emit_idlist(r, lo, hi, ilo, ihi);
    if (their == 0)
        return emit_ship(r, lo, hi, ilo, ihi, rest, has_rest);
    if (c <= KZ_RECON_LEAF && (their <= KZ_RECON_LEAF || their == THEIR_UNKNOWN))
        return emit_idlist(r, lo, hi, ilo, ihi);
    if (c > KZ_RECON_LEAF)
        return emit_split(r, lo, hi, ilo, ihi);
    /* We hold few, the peer many: send our fingerprint back so the peer,
     * which can cut its side finer, splits the range. */
    return emit_fp(r, lo, hi, acc);
}

static int answer_fp(kz_recon *r, const kz__recon_range *w, size_t ilo, size_t ihi,
                     kz__recon_range *rest, bool *has_rest)
{
    kz_recon_acc acc;
    uint8_t fp[KZ_RECON_FP_BYTES];
    int rc = st_acc(r, ilo, ihi, &acc);
    if (rc)
        return rc;
    fingerprint(r, &acc, fp);
    if (acc.count == w->count && memcmp(fp, w->fp, sizeof fp) == 0)
        return 0;
    return answer_mismatch(r, &w->lo, &w->hi, ilo, ihi, &acc, w->count, rest, has_rest);
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
        int rc = st_item(r, ilo + i, &items[i]);
        if (rc)
            return rc;
        short_id(r, items[i].id, mine[i]);
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
        uint8_t *p = scratch_take(r, KZ_RECON_ID_BYTES);
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
        return out_add(r, &x);
    }
    size_t blen = (m + 7) / 8;
    uint8_t *bm = scratch_take(r, blen);
    if (!bm)
        return KZ_ETOOBIG;
    memcpy(bm, bitmap, blen);
    x.mode = KZ__RECON_DIFF;
    x.a = bm;
    x.alen = blen;
    x.b = ids;
    x.blen = nids * KZ_RECON_ID_BYTES;
    return out_add(r, &x);
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
        int rc = st_item(r, ilo + j, &it);
        if (rc)
            return rc;
        uint8_t *p = scratch_take(r, KZ_RECON_ID_BYTES);
        if (!p)
            return KZ_ETOOBIG;
        memcpy(p, it.id, KZ_RECON_ID_BYTES);
        n++;
    }
    if (n == 0)
        return 0;
    kz__recon_range x = {.lo = w->lo, .hi = w->hi, .mode = KZ__RECON_IDS, .a = ids,
                         .alen = n * KZ_RECON_ID_BYTES};
    return out_add(r, &x);
}

static int answer(kz_recon *r, const kz__recon_range *w, kz__recon_range *rest, bool *has_rest)
{
    size_t ilo, ihi;
    int rc = st_lower(r, &w->lo, &ilo);
    if (!rc)
        rc = st_lower(r, &w->hi, &ihi);
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
    default:
        return KZ_EPROTO;
    }
}

static int report(kz_recon *r, kz_recon_dir dir, const uint8_t *ids, size_t len)
{
    for (size_t off = 0; off < len; off += KZ_RECON_ID_BYTES) {
        int rc = r->cb(r->ud, dir, ids + off);
        if (rc)
            return rc < 0 ? rc : KZ_EINVAL;
        if (dir == KZ_RECON_HAVE)
            r->stats.have++;
        else
            r->stats.need++;
    }
    return 0;
}

/* Moves next round's carry-over into its own arena (payloads may point into
 * the input message or the old arena, both about to go away). */
static int pending_commit(kz_recon *r)
{
    size_t bytes = 0;
    for (size_t i = 0; i < r->nnpl; i++)
        bytes += r->npl[i].alen + r->npl[i].blen;
    if (r->nnpl * sizeof(kz__recon_range) + bytes > (size_t)PENDING_FACTOR * r->limit)
        return KZ_ETOOBIG;
    uint8_t *arena = bytes ? kz_xmalloc(bytes) : NULL, *p = arena;
    for (size_t i = 0; i < r->nnpl; i++) {
        kz__recon_range *x = &r->npl[i];
        if (x->alen) {
            memcpy(p, x->a, x->alen);
            x->a = p;
            p += x->alen;
        }
        if (x->blen) {
            memcpy(p, x->b, x->blen);
            x->b = p;
            p += x->blen;
        }
    }
    free(r->pend_arena);
    r->pend_arena = arena;
    kz__recon_range *t = r->pend;
    size_t tcap = r->npend;
    r->pend = r->npl;
    r->npend = r->nnpl;
    /* Reuse the old list's memory for the next round's build. */
    r->npl = t;
    r->capnpl = t ? tcap : 0;
    r->nnpl = 0;
    r->stats.pending = r->npend;
    if (r->npend > r->stats.pending_peak)
        r->stats.pending_peak = r->npend;
    return 0;
}

/* Answers carried-over ranges and the peer's ranges together, in key order,
 * as far as the budget allows; what does not fit is carried over. */
static int answer_all(kz_recon *r, const kz__recon_msg *m)
{
    size_t i = 0, j = 0;
    kz__recon_bound last;
    kz__recon_bound_min(&last);
    out_reset(r, HDR_PLAIN);
    r->nnpl = 0;
    while (i < r->npend || j < m->n) {
        const kz__recon_range *w;
        if (j >= m->n || (i < r->npend && kz__recon_bound_cmp(&r->pend[i].lo, &m->ranges[j].lo) < 0))
            w = &r->pend[i++];
        else
            w = &m->ranges[j++];
        /* The peer may only speak about ranges it owns right now. */
        if (kz__recon_bound_cmp(&w->lo, &last) < 0)
            return KZ_EPROTO;
        last = w->hi;
        int rc;
        if (w->mode == KZ__RECON_IDS) {
            if ((rc = report(r, KZ_RECON_NEED, w->a, w->alen)) != 0)
                return rc;
            continue;
        }
        out_mark mark = out_save(r);
        kz__recon_range rest;
        bool has_rest = false;
        rc = answer(r, w, &rest, &has_rest);
        if (rc == KZ_ETOOBIG) {
            out_restore(r, &mark);
            pending_push(r, w);
            continue;
        }
        if (rc)
            return rc;
        if (w->mode == KZ__RECON_DIFF && (rc = report(r, KZ_RECON_NEED, w->b, w->blen)) != 0)
            return rc;
        if (has_rest)
            pending_push(r, &rest);
    }
    return pending_commit(r);
}

/* Encodes the reply built in r->out and reports the ids it carries as HAVE. */
static int send_reply(kz_recon *r, const kz__recon_msg *open, kz_recon_buf *out)
{
    int rc = kz__recon_msg_encode(out, open, r->out, r->nout);
    if (rc)
        return rc;
    if (out->len > r->out_max)
        return KZ_ETOOBIG; /* the size accounting is wrong: never send it */
    r->stats.msgs_sent++;
    r->stats.bytes_sent += out->len;
    r->last_sent_empty = r->nout == 0;
    for (size_t k = 0; k < r->nout; k++) {
        const kz__recon_range *x = &r->out[k];
        if (x->mode == KZ__RECON_IDS)
            rc = report(r, KZ_RECON_HAVE, x->a, x->alen);
        else if (x->mode == KZ__RECON_DIFF)
            rc = report(r, KZ_RECON_HAVE, x->b, x->blen);
        if (rc)
            return rc;
    }
    return 0;
}

/* Session limit known: size the reply budget and its scratch space. */
static int session_start(kz_recon *r)
{
    int rc = r->st.ops->size(r->st.ctx, &r->nitems);
    if (rc)
        return rc;
    r->out_max = r->own_limit < r->limit ? r->own_limit : r->limit;
    r->scratch = kz_xmalloc(r->out_max);
    r->state = ST_RUNNING;
    return 0;
}

/* ---- Public API ------------------------------------------------------------------ */

int kz_recon_create(kz_recon **out, const kz_recon_storage *st, kz_recon_role role,
                    size_t frame_limit, kz_recon_id_cb cb, void *ud)
{
    if (!out)
        return KZ_EINVAL;
    *out = NULL;
    if (!st || !st->ops || !st->ops->size || !st->ops->item_at || !st->ops->lower_bound || !cb)
        return KZ_EINVAL;
    if (role != KZ_RECON_INITIATOR && role != KZ_RECON_RESPONDER)
        return KZ_EINVAL;
    if (frame_limit == 0)
        frame_limit = KZ_RECON_FRAME_DEFAULT;
    if (frame_limit < KZ_RECON_FRAME_MIN || frame_limit > KZ_RECON_MSG_MAX)
        return KZ_EINVAL;
    if (sodium_init() < 0)
        return KZ_ECRYPTO;
    kz_recon *r = kz_xcalloc(1, sizeof *r);
    r->st = *st;
    r->role = role;
    r->own_limit = frame_limit;
    r->cb = cb;
    r->ud = ud;
    r->state = ST_NEW;
    *out = r;
    return 0;
}

int kz_recon_set_salt(kz_recon *r, const uint8_t salt[KZ_RECON_SALT_BYTES])
{
    if (!r || !salt || r->role != KZ_RECON_INITIATOR || r->state != ST_NEW)
        return KZ_EINVAL;
    memcpy(r->salt, salt, KZ_RECON_SALT_BYTES);
    r->salt_set = true;
    return 0;
}

int kz_recon_initiate(kz_recon *r, kz_recon_buf *out)
{
    if (!r || !out || r->role != KZ_RECON_INITIATOR || r->state != ST_NEW ||
        out->max < r->own_limit)
        return KZ_EINVAL;
    out->len = 0;
    if (!r->salt_set)
        randombytes_buf(r->salt, sizeof r->salt);
    r->limit = r->own_limit;
    int rc = session_start(r);
    if (rc)
        return fail(r, rc);

    /* Open as if the peer's fingerprint of everything had not matched. */
    kz__recon_bound lo, hi;
    kz_recon_acc acc;
    kz__recon_range rest;
    bool has_rest = false;
    kz__recon_bound_min(&lo);
    kz__recon_bound_inf(&hi);
    kz_recon_acc_init(&acc);
    out_reset(r, HDR_OPENING);
    rc = answer_mismatch(r, &lo, &hi, 0, r->nitems, &acc, THEIR_UNKNOWN, &rest, &has_rest);
    if (rc)
        return fail(r, rc);
    kz__recon_msg open = {.opening = true, .limit = r->limit};
    memcpy(open.salt, r->salt, sizeof open.salt);
    rc = send_reply(r, &open, out);
    return rc ? fail(r, rc) : 0;
}

int kz_recon_step(kz_recon *r, const uint8_t *in, size_t in_len, kz_recon_buf *out, bool *done)
{
    if (!r || !out || !done || (!in && in_len))
        return KZ_EINVAL;
    *done = false;
    if (r->state == ST_FAILED)
        return r->err;
    if (r->state == ST_DONE || (r->role == KZ_RECON_INITIATOR && r->state == ST_NEW) ||
        out->max < r->own_limit)
        return KZ_EINVAL;
    out->len = 0;

    bool opening = r->state == ST_NEW;
    if (in_len > (opening ? KZ_RECON_MSG_MAX : r->limit))
        return fail(r, KZ_EPROTO);
    kz__recon_msg m;
    int rc = kz__recon_msg_decode(in, in_len, opening, &m);
    if (rc)
        return fail(r, rc);
    r->stats.msgs_recv++;
    r->stats.bytes_recv += in_len;
    if (opening) {
        memcpy(r->salt, m.salt, sizeof r->salt);
        r->limit = (size_t)m.limit;
        if ((rc = session_start(r)) != 0)
            goto out;
    }
    if ((rc = answer_all(r, &m)) != 0)
        goto out;
    if (m.nall == 0 && r->nout == 0) {
        /* The peer is idle and so are we. If our last message was not the
         * empty one, the peer still waits for it; then we are both done. */
        if (!r->last_sent_empty)
            rc = send_reply(r, NULL, out);
        r->state = ST_DONE;
        *done = true;
    } else {
        rc = send_reply(r, NULL, out);
    }
out:
    kz__recon_msg_close(&m);
    if (rc) {
        out->len = 0;
        return fail(r, rc);
    }
    return 0;
}

void kz_recon_stats_get(const kz_recon *r, kz_recon_stats *s)
{
    *s = r->stats;
}

void kz_recon_free(kz_recon *r)
{
    if (!r)
        return;
    free(r->pend);
    free(r->pend_arena);
    free(r->out);
    free(r->scratch);
    free(r->npl);
    free(r);
}
