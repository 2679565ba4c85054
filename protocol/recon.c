/* recon.c: the reconciliation state machine: answers the peer's ranges from local storage. */
#include "recon_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(crypto_shorthash_BYTES == KZ_RECON_FP_BYTES, "fingerprint is one SipHash output");
_Static_assert(crypto_shorthash_BYTES == KZ_RECON_SHORT_BYTES, "short id is one SipHash output");
_Static_assert(crypto_shorthash_KEYBYTES == KZ_RECON_SALT_BYTES, "salt is the SipHash key");
_Static_assert(KZ_RECON_LEAF >= KZ_RECON_BUCKETS, "a split range must fill every bucket");
_Static_assert(KZ_RECON_IDLIST_MAX >= KZ_RECON_LEAF, "an honest list must pass the decoder");

enum { ST_NEW, ST_RUNNING, ST_DONE, ST_FAILED };

static int fail(kz_recon *r, int rc)
{
    r->state = ST_FAILED;
    r->err = rc;
    return rc;
}

/* ---- Storage access ---------------------------------------------------------- */

int kz__recon_item(kz_recon *r, size_t i, kz_recon_item *it)
{
    int rc = r->st.ops->item_at(r->st.ctx, i, it);
    /* The reserved timestamp cannot be a bound: a store must not hold it. */
    if (rc == 0 && it->created_ms == KZ_RECON_TS_INF)
        rc = KZ_ESTORE;
    return rc;
}

int kz__recon_lower(kz_recon *r, const kz__recon_bound *b, size_t *idx)
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

int kz__recon_acc(kz_recon *r, size_t lo, size_t hi, kz_recon_acc *acc)
{
    if (r->st.ops->sum)
        return r->st.ops->sum(r->st.ctx, lo, hi, acc);
    kz_recon_acc_init(acc);
    for (size_t i = lo; i < hi; i++) {
        kz_recon_item it;
        int rc = kz__recon_item(r, i, &it);
        if (rc)
            return rc;
        kz_recon_acc_add(acc, &it);
    }
    return 0;
}

/* ---- Fingerprints and short ids ------------------------------------------------- */

/* SipHash-2-4 keyed with the session salt over sum || count (LE). The salt is
 * fresh per session and secret from third parties, so nobody can prepare
 * records whose 8-byte fingerprints collide in advance. */
void kz__recon_fingerprint(const kz_recon *r, const kz_recon_acc *acc,
                           uint8_t fp[KZ_RECON_FP_BYTES])
{
    uint8_t in[40];
    memcpy(in, acc->sum, 32);
    for (int i = 0; i < 8; i++)
        in[32 + i] = (uint8_t)(acc->count >> (8 * i));
    crypto_shorthash(fp, in, sizeof in, r->salt);
}

void kz__recon_short_id(const kz_recon *r, const uint8_t id[KZ_RECON_ID_BYTES],
                        uint8_t out[KZ_RECON_SHORT_BYTES])
{
    crypto_shorthash(out, id, KZ_RECON_ID_BYTES, r->salt);
}

/* ---- Building the reply ---------------------------------------------------------- */

static void out_reset(kz_recon *r, size_t hdr)
{
    r->nout = 0;
    r->scratch_len = 0;
    r->out_bytes = hdr;
    kz__recon_bound_min(&r->out_last);
}

kz__recon_mark kz__recon_out_save(const kz_recon *r)
{
    kz__recon_mark m = {r->nout, r->scratch_len, r->out_bytes, r->out_last};
    return m;
}

void kz__recon_out_restore(kz_recon *r, const kz__recon_mark *m)
{
    r->nout = m->nout;
    r->scratch_len = m->scratch_len;
    r->out_bytes = m->out_bytes;
    r->out_last = m->out_last;
}

uint8_t *kz__recon_scratch_take(kz_recon *r, size_t n)
{
    if (n > r->out_max - r->scratch_len)
        return NULL;
    uint8_t *p = r->scratch + r->scratch_len;
    r->scratch_len += n;
    return p;
}

/* Appends x (x->lo >= the last range's hi) with its exact encoded cost,
 * counting the skip range a gap before it needs. KZ_ETOOBIG if over budget. */
int kz__recon_out_add(kz_recon *r, const kz__recon_range *x)
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
    if (r->nnpl * sizeof(kz__recon_range) + bytes > PENDING_MAX_BYTES)
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
/* How many of the peer's fingerprints in m differ from ours: the density
 * of differences at this depth, which decides sketch or split. */
static int measure_misses(kz_recon *r, const uint8_t *in, size_t in_len, bool opening)
{
    size_t nfp = 0, nmiss = 0;
    kz__recon_reader rd;
    kz__recon_msg m;
    kz__recon_range range;
    const kz__recon_range *w = &range;
    int more = kz__recon_reader_init(&rd, in, in_len, opening, &m);
    while (more == 0 && (more = kz__recon_reader_next(&rd, &range)) == 1) {
        more = 0;
        if (w->mode != KZ__RECON_FP)
            continue;
        size_t ilo, ihi;
        kz_recon_acc acc;
        uint8_t fp[KZ_RECON_FP_BYTES];
        int rc = kz__recon_lower(r, &w->lo, &ilo);
        if (!rc)
            rc = kz__recon_lower(r, &w->hi, &ihi);
        if (!rc && ilo > ihi)
            rc = KZ_ESTORE;
        if (!rc)
            rc = kz__recon_acc(r, ilo, ihi, &acc);
        if (rc)
            return rc;
        kz__recon_fingerprint(r, &acc, fp);
        nfp++;
        nmiss += acc.count != w->count || memcmp(fp, w->fp, sizeof fp) != 0;
    }
    if (more < 0)
        return more;
    if (nfp) {
        r->fp_seen = nfp;
        r->fp_missed = nmiss;
    }
    return 0;
}

static int answer_all(kz_recon *r, const uint8_t *in, size_t in_len, bool opening)
{
    size_t i = 0;
    int rc0 = measure_misses(r, in, in_len, opening);
    if (rc0)
        return rc0;
    /* The message was checked whole before: reading it again cannot fail. */
    kz__recon_reader rd;
    kz__recon_msg m;
    kz__recon_range next;
    int have_next = kz__recon_reader_init(&rd, in, in_len, opening, &m);
    if (have_next == 0)
        have_next = kz__recon_reader_next(&rd, &next);
    if (have_next < 0)
        return have_next;
    kz__recon_bound last;
    kz__recon_bound_min(&last);
    out_reset(r, HDR_PLAIN);
    r->nnpl = 0;
    while (i < r->npend || have_next) {
        kz__recon_range cur;
        const kz__recon_range *w = &cur;
        if (!have_next || (i < r->npend && kz__recon_bound_cmp(&r->pend[i].lo, &next.lo) < 0)) {
            w = &r->pend[i++];
        } else {
            cur = next;
            if ((have_next = kz__recon_reader_next(&rd, &next)) < 0)
                return have_next;
        }
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
        /* Nearly full: do not compute answers that will not fit anyway. */
        if (r->out_max - r->out_bytes < NEAR_FULL) {
            pending_push(r, w);
            continue;
        }
        kz__recon_mark mark = kz__recon_out_save(r);
        kz__recon_range rest;
        bool has_rest = false;
        rc = kz__recon_answer(r, w, &rest, &has_rest);
        if (rc == KZ_ETOOBIG) {
            kz__recon_out_restore(r, &mark);
            pending_push(r, w);
            continue;
        }
        if (rc)
            return rc;
        if (w->mode == KZ__RECON_DIFF && (rc = report(r, KZ_RECON_NEED, w->b, w->blen)) != 0)
            return rc;
        if (w->mode == KZ__RECON_WANT && (rc = report(r, KZ_RECON_NEED, w->a, w->alen)) != 0)
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
        if (x->mode == KZ__RECON_IDS || x->mode == KZ__RECON_WANT)
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
    rc = kz__recon_answer_mismatch(r, &lo, &hi, 0, r->nitems, &acc, KZ__RECON_THEIR_UNKNOWN, true,
                                   &rest, &has_rest);
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
    int rc = kz__recon_msg_check(in, in_len, opening, &m);
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
    if ((rc = answer_all(r, in, in_len, opening)) != 0)
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
