/* gossip.c: records between peers: push of every accepted record, incoming
 * RECORDS verified on the thread pool and written in batches, WANT/HAVE
 * answers from a bounded per-link send queue, and the holding area for
 * records that arrive before their author's attestation. */
#include "gossip_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KZ__BATCH_RECORDS 4096u        /* records per durable commit */
#define KZ__PUMP_LOW (1u << 20)        /* answer WANTs while the backlog is below */
#define KZ__CHUNK_BYTES (512u << 10)   /* RECORDS frames we build: payload target */
#define KZ__FETCH_STALL_MS 30000u      /* a fetch with no records for this long is over */

/* ---- Packing RECORDS frames -------------------------------------------------- */

/* Send recs[0..n) in as many RECORDS frames as the wire limits need.
 * Returns the number of records handed to the link. */
static uint32_t send_records(kz__link *l, const kz_bytes *recs, size_t n)
{
    size_t i = 0;
    uint32_t sent = 0;
    while (i < n && l->state == KZ__L_OPEN) {
        size_t bytes = KZ_WIRE_RECORDS_BASE, k = 0;
        while (i + k < n && k < KZ_WIRE_RECORDS_MAX &&
               bytes + recs[i + k].n + KZ_WIRE_RECORD_ITEM_OVERHEAD <= KZ_FRAME_MAX) {
            bytes += recs[i + k].n + KZ_WIRE_RECORD_ITEM_OVERHEAD;
            k++;
        }
        if (k == 0)
            break; /* cannot happen: a record is far smaller than a frame */
        kz_wire_buf b = {0};
        int rc = kz_wire_encode_records(recs + i, (uint32_t)k, &b);
        if (rc == 0)
            rc = kz__link_send(l, &b);
        kz_wire_buf_free(&b);
        if (rc != 0)
            break;
        i += k;
        sent += (uint32_t)k;
    }
    l->rec_out += sent;
    l->g->records_out += sent;
    if (l->peer) {
        l->peer->st.records_out += sent;
        l->peer->dirty = true;
    }
    return sent;
}

/* ---- Relay policy -------------------------------------------------------------- */

/* May this stored record be sent to peers? Not when its author is a blocked
 * node or a member whose only live attestations come from blocked nodes
 * (blocking keeps what is stored, but stops showing and relaying it). */
static bool relay_ok(kz_gossip *g, const uint8_t *raw, size_t len)
{
    kz_record r;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return false;
    /* Neither a blocked node's records nor its members' leave this node. */
    bool ok = !kz_store_author_blocked(g->node->store, r.author);
    if (ok && kz_rtype_is_member(r.type)) {
        uint8_t node[KZ_KEY_BYTES], aid[KZ_ID_BYTES];
        ok = kz_store_member_home(g->node->store, r.author, node, aid) == 0;
    }
    kz_record_close(&r);
    return ok;
}

/* ---- Send queue (WANT answers and reconciliation haves) ------------------------ */

void kz__gossip_sendq_add(kz__link *l, const uint8_t (*ids)[KZ_ID_BYTES], size_t n)
{
    if (l->sendq_head > 0 && l->sendq_head + l->sendq_len + n > l->sendq_cap) {
        memmove(l->sendq, l->sendq + l->sendq_head, l->sendq_len * KZ_ID_BYTES);
        l->sendq_head = 0;
    }
    if (l->sendq_len + n > KZ_GOSSIP_SENDQ_MAX) {
        if (!l->sendq_dropped)
            kz_log_info("peer", "peer %s: send queue full; the next reconciliation sends the rest",
                        l->peer ? l->peer->id8 : "?");
        l->sendq_dropped = true;
        n = KZ_GOSSIP_SENDQ_MAX - l->sendq_len;
    }
    if (n == 0)
        return;
    if (l->sendq_len + n > l->sendq_cap) {
        size_t cap = l->sendq_cap ? l->sendq_cap : 1024;
        while (cap < l->sendq_len + n)
            cap *= 2;
        if (cap > KZ_GOSSIP_SENDQ_MAX)
            cap = KZ_GOSSIP_SENDQ_MAX;
        l->sendq = kz_xrealloc(l->sendq, cap * KZ_ID_BYTES);
        l->sendq_cap = cap;
    }
    memcpy(l->sendq + l->sendq_head + l->sendq_len, ids, n * KZ_ID_BYTES);
    l->sendq_len += n;
}

void kz__gossip_pump(kz__link *l)
{
    kz_gossip *g = l->g;
    if (l->state != KZ__L_OPEN)
        return;
    if (l->sendq_len > 0 && l->wq_bytes < KZ__PUMP_LOW) {
        size_t cap = KZ__CHUNK_BYTES + KZ_RECORD_MAX;
        uint8_t *buf = kz_xmalloc(cap);
        kz_bytes *recs = kz_xmalloc(KZ_WIRE_RECORDS_MAX * sizeof *recs);
        while (l->sendq_len > 0 && l->wq_bytes < KZ__PUMP_LOW && l->state == KZ__L_OPEN) {
            size_t used = 0;
            uint32_t k = 0;
            while (l->sendq_len > 0 && used < KZ__CHUNK_BYTES && k < KZ_WIRE_RECORDS_MAX) {
                const uint8_t *id = l->sendq[l->sendq_head];
                size_t len = 0;
                int rc = kz_store_get(g->node->store, id, buf + used, cap - used, &len);
                l->sendq_head++;
                l->sendq_len--;
                if (rc != 0 || !relay_ok(g, buf + used, len))
                    continue;
                recs[k++] = (kz_bytes){buf + used, (uint32_t)len};
                used += len;
            }
            if (k)
                send_records(l, recs, k);
        }
        free(recs);
        free(buf);
        if (l->sendq_len == 0) {
            l->sendq_head = 0;
            l->sendq_dropped = false;
        }
    }
    if (l->behind && l->wq_bytes < KZ__PUMP_LOW && l->sendq_len == 0 && l->state == KZ__L_OPEN) {
        l->behind = false;
        kz__recon_start(l);
    }
}

/* ---- Incoming records ---------------------------------------------------------- */

static void job_free(kz__vjob *j)
{
    if (j->recs)
        for (uint32_t i = 0; i < j->n; i++)
            kz_record_close(&j->recs[i]);
    free(j->recs);
    free(j->items);
    free(j->buf);
    free(j);
}

/* Thread pool: decode and verify every record of the job. Touches only j. */
static void job_work_cb(uv_work_t *req)
{
    kz__vjob *j = req->data;
    for (uint32_t i = 0; i < j->n; i++) {
        int rc = kz_record_decode(&j->recs[i], j->buf + j->items[i].off, j->items[i].len,
                                  j->now_ms, 0);
        if (rc == KZ_EFUTURE) {
            j->n_future++; /* a clock problem, not misbehaviour: skip the record */
            continue;
        }
        if (rc != 0) {
            j->bad_rc = rc;
            j->bad_idx = i;
            snprintf(j->bad_why, sizeof j->bad_why, "%s", kz_record_last_error());
            break;
        }
    }
}

static void job_after_cb(uv_work_t *req, int status)
{
    kz__vjob *j = req->data;
    kz_gossip *g = j->g;
    kz__link *l = j->l;
    g->jobs_running--;
    l->vq_bytes -= j->buflen;
    j->done = true; /* it stays in the write queue; the writer frees it */
    kz__link_flow(l);
    if (status != 0 || g->stopping || l->bad)
        return;
    if (j->bad_rc) {
        /* The peer relayed or forged a record that does not verify: it is
         * misbehaving. Nothing from this frame or its later ones is stored. */
        l->bad = true;
        g->records_rejected += j->n;
        kz__link_drop(l, KZ_WERR_PROTOCOL, "sent an invalid record (%s%s%s)",
                      kz_strerror(j->bad_rc), j->bad_why[0] ? ": " : "", j->bad_why);
        kz__gossip_flush_arm(g);
        return;
    }
    if (j->n_future) {
        char who[16];
        snprintf(who, sizeof who, "%s", l->peer ? l->peer->id8 : "?");
        kz_log_warn("peer", "peer %s: skipped %u record(s) created in the future; check the clocks",
                    who, (unsigned)j->n_future);
    }
    kz__gossip_flush_arm(g);
}

static int on_records(kz__link *l, const kz_wire_msg *m)
{
    kz_gossip *g = l->g;
    kz_wire_iter it;
    kz_bytes rec;
    uint32_t n = m->u.list.n;
    kz__vjob *j = kz_xcalloc(1, sizeof *j);
    j->g = g;
    j->l = l;
    j->now_ms = kz_now_ms();
    j->items = kz_xcalloc(n, sizeof *j->items);
    j->recs = kz_xcalloc(n, sizeof *j->recs);
    /* m->u.list.items_len bounds the copy: it is inside one frame. */
    j->buf = kz_xmalloc(m->u.list.items_len ? m->u.list.items_len : 1);
    kz_wire_records_begin(m, &it);
    while (j->n < n && kz_wire_records_next(&it, &rec)) {
        memcpy(j->buf + j->buflen, rec.p, rec.n);
        j->items[j->n].off = (uint32_t)j->buflen;
        j->items[j->n].len = rec.n;
        j->buflen += rec.n;
        j->n++;
    }
    l->rec_in += j->n;
    l->want_pending -= l->want_pending < j->n ? l->want_pending : j->n;
    l->want_ms = j->now_ms;
    g->records_in += j->n;
    if (l->peer) {
        l->peer->st.records_in += j->n;
        l->peer->dirty = true;
    }
    j->req.data = j;
    int rc = uv_queue_work(g->loop, &j->req, job_work_cb, job_after_cb);
    if (rc != 0) {
        job_free(j);
        kz__link_drop(l, KZ_WERR_INTERNAL, "cannot queue verification: %s", uv_strerror(rc));
        return KZ_EIO;
    }
    kz__link_ref(l);
    g->jobs_running++;
    /* Jobs are written in the order their frames arrived, whatever order
     * the pool finishes them in: a peer's attestation stays ahead of the
     * posts it sent after it. */
    if (g->ready_tail)
        g->ready_tail->next = j;
    else
        g->ready = j;
    g->ready_tail = j;
    l->vq_bytes += j->buflen;
    kz__link_flow(l);
    return 0;
}

/* ---- Holding area ---------------------------------------------------------------- */

static void hold_add(kz_gossip *g, kz__peer *from, const uint8_t *raw, size_t len)
{
    kz__held *h = kz_xmalloc(sizeof *h + len);
    h->next = NULL;
    h->from = from;
    h->since_ms = kz_now_ms();
    h->len = len;
    memcpy(h->raw, raw, len);
    if (g->held_tail)
        g->held_tail->next = h;
    else
        g->held = h;
    g->held_tail = h;
    g->held_n++;
    g->held_bytes += len;
    while (g->held && (g->held_n > KZ_GOSSIP_HOLD_RECORDS || g->held_bytes > KZ_GOSSIP_HOLD_BYTES)) {
        kz__held *o = g->held;
        g->held = o->next;
        if (!g->held)
            g->held_tail = NULL;
        g->held_n--;
        g->held_bytes -= o->len;
        free(o);
    }
}

/* Should a refused record wait for an attestation or a node record? */
static bool hold_worthy(const kz_record *r, int rc)
{
    if (rc == KZ_ENOATTEST)
        return true;
    return rc == KZ_EPERM && (r->type == KZ_T_ATTEST || r->type == KZ_T_REVOKE ||
                              r->type == KZ_T_DELETE);
}

/* Store a batch and announce what was stored. srcs[i] is the link recs[i]
 * came from (NULL: the holding area). Returns how many were stored. */
static size_t write_batch(kz_gossip *g, kz_record **recs, kz__link **srcs, size_t n)
{
    kz_put_result *res = kz_xcalloc(n ? n : 1, sizeof *res);
    size_t stored = 0;
    int rc = kz_store_put_batch(g->node->store, (const kz_record *const *)recs, n, res);
    if (rc != 0) {
        /* Nothing was written; reconciliation fetches these again later. */
        kz_log_error("gossip", "cannot store %zu records from peers: %s", n, kz_strerror(rc));
        free(res);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i].rc == 0) {
            kz__link *prev = g->cur_src;
            g->cur_src = srcs[i];
            kz_node_record_accepted(g->node, recs[i], KZ_SRC_PEER);
            g->cur_src = prev;
            stored++;
        } else if (res[i].purged) {
            /* A late deleted version purged an older head: the store shrank. */
            g->order.stale = true;
        } else if (hold_worthy(recs[i], res[i].rc) && srcs[i]) {
            hold_add(g, srcs[i]->peer, recs[i]->raw, recs[i]->raw_len);
        }
    }
    free(res);
    return stored;
}

static void write_ready(kz_gossip *g)
{
    while (g->ready) {
        kz__vjob *first = g->ready, *j = first, *end;
        size_t total = 0;
        if (!first->done)
            break;
        for (end = first; end && end->done && (total == 0 || total + end->n <= KZ__BATCH_RECORDS);
             end = end->next)
            total += end->n;
        g->ready = end;
        if (!end)
            g->ready_tail = NULL;
        kz_record **recs = kz_xcalloc(total ? total : 1, sizeof *recs);
        kz__link **srcs = kz_xcalloc(total ? total : 1, sizeof *srcs);
        size_t k = 0;
        for (j = first; j != end; j = j->next) {
            if (j->l->bad || g->stopping)
                continue;
            for (uint32_t i = 0; i < j->n; i++) {
                if (!j->recs[i].raw)
                    continue; /* skipped by the worker */
                recs[k] = &j->recs[i];
                srcs[k++] = j->l;
            }
        }
        if (k)
            write_batch(g, recs, srcs, k);
        free(recs);
        free(srcs);
        for (j = first; j != end;) {
            kz__vjob *next = j->next;
            kz__link *l = j->l;
            job_free(j);
            kz__link_unref(l);
            j = next;
        }
    }
}

static void hold_retry(kz_gossip *g)
{
    for (int pass = 0; pass < 8 && g->hold_retry && g->held; pass++) {
        g->hold_retry = false;
        kz__held *list = g->held;
        size_t n = g->held_n;
        g->held = g->held_tail = NULL;
        g->held_n = 0;
        g->held_bytes = 0;
        kz_record *recs = kz_xcalloc(n, sizeof *recs);
        kz_record **ptrs = kz_xcalloc(n, sizeof *ptrs);
        kz__held **hs = kz_xcalloc(n, sizeof *hs);
        size_t k = 0;
        for (kz__held *h = list; h; h = h->next) {
            /* Verified when it arrived; only the acceptance rules remain. */
            if (k < n && kz_record_decode(&recs[k], h->raw, h->len, 0, KZ_DECODE_NOVERIFY) == 0) {
                ptrs[k] = &recs[k];
                hs[k] = h;
                k++;
            }
        }
        kz_put_result *res = kz_xcalloc(k ? k : 1, sizeof *res);
        int rc = k ? kz_store_put_batch(g->node->store, (const kz_record *const *)ptrs, k, res) : 0;
        for (size_t i = 0; i < k; i++) {
            if (rc == 0 && res[i].rc == 0) {
                /* Not back to the peer it came from, if that link lives. */
                kz__link *prev = g->cur_src;
                g->cur_src = hs[i]->from ? hs[i]->from->link : NULL;
                kz_node_record_accepted(g->node, &recs[i], KZ_SRC_PEER);
                g->cur_src = prev;
            } else if (rc == 0 && res[i].purged) {
                g->order.stale = true;
            } else if (rc != 0 || hold_worthy(&recs[i], res[i].rc)) {
                hold_add(g, hs[i]->from, hs[i]->raw, hs[i]->len);
            }
            kz_record_close(&recs[i]);
        }
        while (list) {
            kz__held *next = list->next;
            free(list);
            list = next;
        }
        free(res);
        free(hs);
        free(ptrs);
        free(recs);
    }
}

/* ---- Push -------------------------------------------------------------------------- */

static void push_flush(kz_gossip *g)
{
    size_t n = 0;
    for (kz__push *p = g->push; p; p = p->next)
        n++;
    if (n == 0)
        return;
    kz_bytes *recs = kz_xmalloc(n * sizeof *recs);
    for (kz__link *l = g->links; l; l = l->next) {
        if (l->state != KZ__L_OPEN)
            continue;
        if (l->wq_bytes > KZ_GOSSIP_TX_BACKLOG) {
            /* A slow peer: skip it; reconciliation catches it up later. */
            l->behind = true;
            continue;
        }
        size_t k = 0;
        for (kz__push *p = g->push; p; p = p->next)
            if (p->from != l)
                recs[k++] = (kz_bytes){p->raw, (uint32_t)p->len};
        if (k)
            send_records(l, recs, k);
    }
    free(recs);
    while (g->push) {
        kz__push *next = g->push->next;
        free(g->push);
        g->push = next;
    }
    g->push_tail = NULL;
    g->push_bytes = 0;
}

void kz__gossip_accept_cb(void *ud, kz_node *n, const kz_record *r, kz_record_source src)
{
    (void)ud;
    kz_gossip *g = kz_gossip_get(n);
    if (!g || g->stopping)
        return;
    kz__order_add(&g->order, r->created_ms, r->id);
    uint8_t slot[KZ_SLOT_BYTES];
    if (r->type == KZ_T_DELETE || kz_record_slot(r, slot))
        g->order.stale = true; /* something may have left the store */
    /* These can make a held record's author known (a revoke, too: a revoked
     * member may still delete their own records). */
    if ((r->type == KZ_T_ATTEST || r->type == KZ_T_NODE || r->type == KZ_T_REVOKE) && g->held)
        g->hold_retry = true;
    kz__push *p = kz_xmalloc(sizeof *p + r->raw_len);
    p->next = NULL;
    p->from = src == KZ_SRC_PEER ? g->cur_src : NULL;
    p->len = r->raw_len;
    memcpy(p->raw, r->raw, r->raw_len);
    if (g->push_tail)
        g->push_tail->next = p;
    else
        g->push = p;
    g->push_tail = p;
    g->push_bytes += r->raw_len;
    if (g->push_bytes > KZ__CHUNK_BYTES * 4)
        push_flush(g);
    kz__gossip_flush_arm(g);
}

/* ---- The flush step ------------------------------------------------------------------ */

static void flush_cb(uv_timer_t *t)
{
    kz_gossip *g = t->data;
    if (g->stopping)
        return;
    write_ready(g);
    if (g->hold_retry)
        hold_retry(g);
    push_flush(g);
}

void kz__gossip_flush_arm(kz_gossip *g)
{
    if (!g->stopping && !uv_is_active((uv_handle_t *)&g->flush))
        uv_timer_start(&g->flush, flush_cb, 0, 0);
}

void kz__gossip_free_queues(kz_gossip *g)
{
    while (g->push) {
        kz__push *next = g->push->next;
        free(g->push);
        g->push = next;
    }
    g->push_tail = NULL;
    while (g->held) {
        kz__held *next = g->held->next;
        free(g->held);
        g->held = next;
    }
    g->held_tail = NULL;
    g->held_n = g->held_bytes = 0;
    while (g->ready) {
        kz__vjob *next = g->ready->next;
        kz__link *l = g->ready->l;
        job_free(g->ready);
        kz__link_unref(l);
        g->ready = next;
    }
    g->ready_tail = NULL;
}

/* ---- Messages ------------------------------------------------------------------------ */

static int on_have(kz__link *l, const kz_wire_msg *m)
{
    kz_gossip *g = l->g;
    uint8_t(*want)[KZ_ID_BYTES] = kz_xmalloc((size_t)m->u.list.n * KZ_ID_BYTES);
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->u.list.n; i++) {
        const uint8_t *id = kz_wire_id_at(m, i);
        if (id && !kz_store_has(g->node->store, id) && !kz_store_is_tombstoned(g->node->store, id))
            memcpy(want[k++], id, KZ_ID_BYTES);
    }
    int rc = 0;
    if (k) {
        kz_wire_buf b = {0};
        rc = kz_wire_encode_ids(KZ_MSG_WANT, (const uint8_t(*)[KZ_ID_BYTES])want, k, &b);
        if (rc == 0)
            rc = kz__link_send(l, &b);
        kz_wire_buf_free(&b);
    }
    free(want);
    return l->state == KZ__L_CLOSING ? KZ_EIO : 0;
}

static int on_want(kz__link *l, const kz_wire_msg *m)
{
    /* Ids travel as bin(32) elements, not back to back: copy them out. */
    uint8_t(*ids)[KZ_ID_BYTES] = kz_xmalloc((size_t)m->u.list.n * KZ_ID_BYTES);
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->u.list.n; i++) {
        const uint8_t *id = kz_wire_id_at(m, i);
        if (id)
            memcpy(ids[k++], id, KZ_ID_BYTES);
    }
    kz__gossip_sendq_add(l, (const uint8_t(*)[KZ_ID_BYTES])ids, k);
    free(ids);
    kz__gossip_pump(l);
    return l->state == KZ__L_CLOSING ? KZ_EIO : 0;
}

int kz__gossip_on_msg(kz__link *l, const kz_wire_msg *m)
{
    switch (m->type) {
    case KZ_MSG_RECORDS:
        return on_records(l, m);
    case KZ_MSG_WANT:
        return on_want(l, m);
    case KZ_MSG_HAVE:
        return on_have(l, m);
    case KZ_MSG_RECON:
        return kz__recon_on_msg(l, m);
    default:
        kz__link_drop(l, KZ_WERR_PROTOCOL, "unexpected %s", kz_wire_type_name(m->type));
        return KZ_EPROTO;
    }
}

bool kz__link_fetching(const kz__link *l, uint64_t now)
{
    return l->want_pending > 0 && now - l->want_ms < KZ__FETCH_STALL_MS;
}

void kz__gossip_on_open(kz__link *l)
{
    kz_gossip *g = l->g;
    l->next_sync_ms = kz_now_ms() + g->opts.sync_interval_ms;
    if (l->initiator)
        kz__recon_start(l);
}

void kz__gossip_on_close(kz__link *l)
{
    kz__recon_free(l);
    l->sendq_len = 0;
    l->sendq_head = 0;
}
