/* gossip_recon.c: set reconciliation between peers: the in-memory
 * (created_ms, id) index and its snapshots, the kz_recon storage over a
 * snapshot, and RECON sessions on a link (ours as initiator, the peer's as
 * responder) whose differences become WANTs and queued RECORDS. */
#include "gossip_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define KZ__BLOCK 64u                       /* items per prefix-sum block */
#define KZ__SESSION_MAX_MS (5u * 60u * 1000u) /* a session silent this long is abandoned */
#define KZ__RECON_FRAME KZ_RECON_FRAME_DEFAULT

/* An immutable sorted view; pre[k] sums items [0, k * KZ__BLOCK). */
struct kz__snap {
    unsigned refs;
    kz_recon_item *v;
    size_t n;
    kz_recon_acc *pre;
    size_t npre;
};

/* ---- Snapshots ------------------------------------------------------------------ */

static int item_cmp(const void *a, const void *b)
{
    const kz_recon_item *x = a, *y = b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return memcmp(x->id, y->id, KZ_RECON_ID_BYTES);
}

static kz__snap *snap_make(kz_recon_item *v, size_t n)
{
    kz__snap *s = kz_xcalloc(1, sizeof *s);
    s->refs = 1;
    s->v = v;
    s->n = n;
    s->npre = n / KZ__BLOCK + 1;
    s->pre = kz_xmalloc(s->npre * sizeof *s->pre);
    kz_recon_acc acc;
    kz_recon_acc_init(&acc);
    for (size_t i = 0; i < n; i++) {
        if (i % KZ__BLOCK == 0)
            s->pre[i / KZ__BLOCK] = acc;
        kz_recon_acc_add(&acc, &v[i]);
    }
    if (n % KZ__BLOCK == 0)
        s->pre[n / KZ__BLOCK] = acc;
    return s;
}

static void snap_unref(kz__snap *s)
{
    if (s && --s->refs == 0) {
        free(s->v);
        free(s->pre);
        free(s);
    }
}

struct load_ctx {
    kz_recon_item *v;
    size_t n, cap;
};

static int load_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                   const uint8_t *raw, size_t len)
{
    (void)raw;
    (void)len;
    struct load_ctx *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->v = kz_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n].created_ms = created_ms;
    memcpy(c->v[c->n].id, id, KZ_ID_BYTES);
    c->n++;
    return 0;
}

static int snap_from_store(kz_gossip *g, kz__snap **out)
{
    struct load_ctx c = {0};
    int rc = kz_store_iter_order(g->node->store, 0, NULL, false, load_cb, &c);
    if (rc < 0) {
        free(c.v);
        return rc;
    }
    *out = snap_make(c.v, c.n);
    return 0;
}

/* Merge the sorted snapshot s with the unsorted tail into a new array. */
static kz__snap *snap_merge(const kz__snap *s, kz_recon_item *tail, size_t tn)
{
    qsort(tail, tn, sizeof *tail, item_cmp);
    size_t sn = s ? s->n : 0, i = 0, j = 0, k = 0;
    kz_recon_item *v = kz_xmalloc((sn + tn ? sn + tn : 1) * sizeof *v);
    while (i < sn || j < tn) {
        const kz_recon_item *x;
        if (j >= tn || (i < sn && item_cmp(&s->v[i], &tail[j]) <= 0))
            x = &s->v[i++];
        else
            x = &tail[j++];
        if (k == 0 || item_cmp(&v[k - 1], x) != 0)
            v[k++] = *x;
    }
    return snap_make(v, k);
}

int kz__order_load(kz_gossip *g)
{
    kz__snap *s;
    int rc = snap_from_store(g, &s);
    if (rc == 0) {
        snap_unref(g->order.snap);
        g->order.snap = s;
        g->order.tail_n = 0;
        g->order.stale = false;
    }
    return rc;
}

/* The current snapshot, with a reference for the caller. */
static kz__snap *order_snapshot(kz_gossip *g)
{
    kz__order *o = &g->order;
    if (o->stale) {
        uint64_t t0 = kz_now_ms();
        if (kz__order_load(g) != 0)
            kz_log_warn("gossip", "cannot re-read the reconciliation index; using the old one");
        else
            kz_log_debug("gossip", "reconciliation index rebuilt: %zu records in %llu ms",
                         o->snap->n, (unsigned long long)(kz_now_ms() - t0));
    }
    if (o->tail_n || !o->snap) {
        kz__snap *s = snap_merge(o->snap, o->tail, o->tail_n);
        snap_unref(o->snap);
        o->snap = s;
        o->tail_n = 0;
    }
    o->snap->refs++;
    return o->snap;
}

void kz__order_add(kz__order *o, uint64_t created_ms, const uint8_t id[KZ_ID_BYTES])
{
    if (o->tail_n == o->tail_cap) {
        o->tail_cap = o->tail_cap ? o->tail_cap * 2 : 1024;
        o->tail = kz_xrealloc(o->tail, o->tail_cap * sizeof *o->tail);
    }
    o->tail[o->tail_n].created_ms = created_ms;
    memcpy(o->tail[o->tail_n].id, id, KZ_ID_BYTES);
    o->tail_n++;
}

size_t kz__order_size(const kz__order *o)
{
    return (o->snap ? o->snap->n : 0) + o->tail_n;
}

void kz__order_free(kz__order *o)
{
    snap_unref(o->snap);
    free(o->tail);
    memset(o, 0, sizeof *o);
}

/* ---- kz_recon storage over a snapshot ---------------------------------------------- */

static int st_size(void *ctx, size_t *n)
{
    *n = ((kz__snap *)ctx)->n;
    return 0;
}

static int st_item_at(void *ctx, size_t index, kz_recon_item *out)
{
    kz__snap *s = ctx;
    if (index >= s->n)
        return KZ_EINVAL;
    *out = s->v[index];
    return 0;
}

static int st_lower_bound(void *ctx, uint64_t created_ms, const uint8_t id[KZ_RECON_ID_BYTES],
                          size_t *index)
{
    kz__snap *s = ctx;
    kz_recon_item key;
    key.created_ms = created_ms;
    memcpy(key.id, id, KZ_RECON_ID_BYTES);
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (item_cmp(&s->v[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *index = lo;
    return 0;
}

/* Prefix sums make any range O(KZ__BLOCK): sum[b, e) = pre(e) - pre(b). */
static void prefix_at(const kz__snap *s, size_t i, kz_recon_acc *out)
{
    *out = s->pre[i / KZ__BLOCK];
    for (size_t k = i / KZ__BLOCK * KZ__BLOCK; k < i; k++)
        kz_recon_acc_add(out, &s->v[k]);
}

static int st_sum(void *ctx, size_t begin, size_t end, kz_recon_acc *out)
{
    kz__snap *s = ctx;
    if (begin > end || end > s->n)
        return KZ_EINVAL;
    kz_recon_acc b;
    prefix_at(s, end, out);
    prefix_at(s, begin, &b);
    kz_recon_acc_sub(out, &b);
    return 0;
}

static const kz_recon_storage_ops kz_snap_ops = {st_size, st_item_at, st_lower_bound, st_sum};

/* ---- Sessions ------------------------------------------------------------------------ */

typedef struct {
    kz_recon *r;                     /* NULL: slot free */
    kz__snap *snap;
    kz_recon_storage st;
    uint32_t session, round;
    uint64_t started_ms, last_ms;
    bool no_fetch;                   /* opened while a fetch was under way */
} kz__rsess;

typedef struct {
    kz__link *l;
    kz__rsess s[2];                  /* [0] we initiated, [1] the peer did */
    uint8_t (*want)[KZ_ID_BYTES];    /* NEED ids not sent as WANT yet */
    size_t nwant, capwant;
    uint64_t diffs;                  /* of the session being stepped */
    bool no_fetch;                   /* of the session being stepped */
} kz__rlink;

static void sess_close(kz__rsess *s)
{
    kz_recon_free(s->r);
    snap_unref(s->snap);
    memset(s, 0, sizeof *s);
}

void kz__recon_free(kz__link *l)
{
    kz__rlink *rl = l->recon;
    if (!rl)
        return;
    sess_close(&rl->s[0]);
    sess_close(&rl->s[1]);
    free(rl->want);
    free(rl);
    l->recon = NULL;
}

static kz__rlink *rlink_get(kz__link *l)
{
    if (!l->recon) {
        kz__rlink *rl = kz_xcalloc(1, sizeof *rl);
        rl->l = l;
        l->recon = rl;
    }
    return l->recon;
}

static void want_flush(kz__rlink *rl)
{
    kz__link *l = rl->l;
    size_t i = 0;
    while (i < rl->nwant && l->state == KZ__L_OPEN) {
        uint32_t k = rl->nwant - i > KZ_WIRE_IDS_MAX ? KZ_WIRE_IDS_MAX : (uint32_t)(rl->nwant - i);
        kz_wire_buf b = {0};
        if (kz_wire_encode_ids(KZ_MSG_WANT, (const uint8_t(*)[KZ_ID_BYTES])(rl->want + i), k, &b) == 0)
            (void)kz__link_send(l, &b);
        kz_wire_buf_free(&b);
        i += k;
        if (l->want_pending == 0)
            l->want_ms = kz_now_ms();
        l->want_pending += k;
    }
    rl->nwant = 0;
}

static int id_cb(void *ud, kz_recon_dir dir, const uint8_t id[KZ_RECON_ID_BYTES])
{
    kz__rlink *rl = ud;
    kz__link *l = rl->l;
    kz_store *st = l->g->node->store;
    rl->diffs++;
    /* Both ends learn both differences; only the receiving end acts (it
     * sends WANT), so each missing record travels once and the receiver
     * decides what it still wants. */
    if (dir == KZ_RECON_HAVE || rl->no_fetch)
        return 0;
    /* A NEED is the peer's claim: ask unless we know the id is dead. */
    if (kz_store_is_tombstoned(st, id) || kz_store_has(st, id))
        return 0;
    if (rl->nwant == rl->capwant) {
        rl->capwant = rl->capwant ? rl->capwant * 2 : 256;
        rl->want = kz_xrealloc(rl->want, rl->capwant * KZ_ID_BYTES);
    }
    memcpy(rl->want[rl->nwant++], id, KZ_ID_BYTES);
    if (rl->nwant >= KZ_WIRE_IDS_MAX)
        want_flush(rl);
    return 0;
}

static int send_recon(kz__link *l, uint32_t session, uint32_t round, const kz_recon_buf *out)
{
    kz_wire_buf b = {0};
    int rc = kz_wire_encode_recon(session, round, out->data, out->len, &b);
    if (rc == 0)
        rc = kz__link_send(l, &b);
    kz_wire_buf_free(&b);
    return rc;
}

static void sess_done(kz__rlink *rl, kz__rsess *s, bool ours)
{
    kz__link *l = rl->l;
    kz_recon_stats rs;
    kz_recon_stats_get(s->r, &rs);
    uint64_t now = kz_now_ms();
    kz__peer *p = l->peer;
    if (p) {
        p->st.last_sync_ms = now;
        p->st.sync_diffs = rs.have + rs.need;
        p->syncs++;
        p->sync_rounds = rs.msgs_sent + rs.msgs_recv;
        p->dirty = true;
    }
    kz_log((rs.have || rs.need) ? KZ_LOG_INFO : KZ_LOG_DEBUG, "gossip",
           "peer %s: reconciliation %s done in %llu ms: %llu to send, %llu to fetch, %llu messages, %llu bytes",
           p ? p->id8 : "?", ours ? "(ours)" : "(theirs)", (unsigned long long)(now - s->started_ms),
           (unsigned long long)rs.have, (unsigned long long)rs.need,
           (unsigned long long)(rs.msgs_sent + rs.msgs_recv),
           (unsigned long long)(rs.bytes_sent + rs.bytes_recv));
    sess_close(s);
}

static int sess_open(kz__rlink *rl, kz__rsess *s, kz_recon_role role)
{
    kz_gossip *g = rl->l->g;
    s->snap = order_snapshot(g);
    s->st.ops = &kz_snap_ops;
    s->st.ctx = s->snap;
    s->started_ms = s->last_ms = kz_now_ms();
    /* While records asked for earlier are still arriving, a new session
     * would find them missing and ask again: it only measures. */
    s->no_fetch = kz__link_fetching(rl->l, s->started_ms);
    int rc = kz_recon_create(&s->r, &s->st, role, KZ__RECON_FRAME, id_cb, rl);
    if (rc != 0)
        sess_close(s);
    return rc;
}

void kz__recon_start(kz__link *l)
{
    if (l->state != KZ__L_OPEN)
        return;
    kz__rlink *rl = rlink_get(l);
    kz__rsess *s = &rl->s[0];
    if (s->r || kz__link_fetching(l, kz_now_ms()))
        return;
    kz_recon_buf out;
    kz_recon_buf_init(&out, KZ__RECON_FRAME);
    int rc = sess_open(rl, s, KZ_RECON_INITIATOR);
    rl->no_fetch = s->no_fetch;
    if (rc == 0) {
        s->session = randombytes_random();
        s->round = 0;
        rc = kz_recon_initiate(s->r, &out);
    }
    if (rc == 0)
        rc = send_recon(l, s->session, s->round, &out);
    kz_recon_buf_close(&out);
    if (rc != 0) {
        kz_log_warn("gossip", "peer %s: cannot start a reconciliation: %s",
                    l->peer ? l->peer->id8 : "?", kz_strerror(rc));
        sess_close(s);
    }
}

int kz__recon_on_msg(kz__link *l, const kz_wire_msg *m)
{
    kz__rlink *rl = rlink_get(l);
    uint32_t sid = m->u.recon.session, round = m->u.recon.round;
    kz__rsess *s = NULL;
    bool ours = false;
    if (rl->s[0].r && rl->s[0].session == sid && round == rl->s[0].round + 1) {
        s = &rl->s[0];
        ours = true;
    } else if (round == 0) {
        /* The peer opens a session; a new one replaces any stale one. */
        sess_close(&rl->s[1]);
        s = &rl->s[1];
        if (sess_open(rl, s, KZ_RECON_RESPONDER) != 0) {
            kz__link_drop(l, KZ_WERR_INTERNAL, "cannot answer a reconciliation");
            return KZ_EIO;
        }
        s->session = sid;
    } else if (rl->s[1].r && rl->s[1].session == sid && round == rl->s[1].round + 1) {
        s = &rl->s[1];
    } else {
        /* A session we abandoned, or out of step: ignore it quietly; the
         * next scheduled reconciliation starts afresh. */
        kz_log_debug("gossip", "peer %s: RECON for unknown session %u round %u ignored",
                     l->peer ? l->peer->id8 : "?", (unsigned)sid, (unsigned)round);
        return 0;
    }
    s->round = round;
    s->last_ms = kz_now_ms();
    kz_recon_buf out;
    kz_recon_buf_init(&out, KZ__RECON_FRAME);
    bool done = false;
    rl->diffs = 0;
    rl->no_fetch = s->no_fetch;
    int rc = kz_recon_step(s->r, m->u.recon.payload.p, m->u.recon.payload.n, &out, &done);
    want_flush(rl);
    if (rc == 0 && out.len > 0 && l->state == KZ__L_OPEN) {
        s->round++;
        rc = send_recon(l, sid, s->round, &out);
    }
    kz_recon_buf_close(&out);
    if (rc == KZ_EDECODE || rc == KZ_EPROTO) {
        kz__link_drop(l, KZ_WERR_PROTOCOL, "bad reconciliation message: %s", kz_strerror(rc));
        return rc;
    }
    if (rc != 0) {
        kz_log_warn("gossip", "peer %s: reconciliation abandoned: %s", l->peer ? l->peer->id8 : "?",
                    kz_strerror(rc));
        sess_close(s);
        return l->state == KZ__L_OPEN ? 0 : KZ_EIO;
    }
    if (done)
        sess_done(rl, s, ours);
    kz__gossip_pump(l);
    return l->state == KZ__L_OPEN ? 0 : KZ_EIO;
}

void kz__recon_tick(kz__link *l, uint64_t now)
{
    kz__rlink *rl = l->recon;
    if (!rl)
        return;
    for (int i = 0; i < 2; i++) {
        if (rl->s[i].r && now - rl->s[i].last_ms > KZ__SESSION_MAX_MS) {
            kz_log_warn("gossip", "peer %s: reconciliation stalled; abandoned",
                        l->peer ? l->peer->id8 : "?");
            sess_close(&rl->s[i]);
        }
    }
}

bool kz__recon_running(const kz__link *l)
{
    const kz__rlink *rl = l->recon;
    return rl && (rl->s[0].r || rl->s[1].r);
}
