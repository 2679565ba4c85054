/* gossip_peers.c: the federation layer's life cycle (start, tick, stop,
 * free) and its peer list: loading and persisting peers, backoff, the
 * operator's add/remove/block, and the per-peer reports behind `peer list`
 * and `sync status`. */
#include "gossip_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define KZ__TICK_MS 250u
#define KZ__PERSIST_MS 10000u

kz_gossip *kz_gossip_get(const kz_node *n)
{
    return n ? n->gossip : NULL;
}

uint16_t kz_gossip_port(const kz_gossip *g)
{
    return g ? g->port : 0;
}

/* ---- Peers ------------------------------------------------------------------------ */

kz__peer *kz__peer_find(kz_gossip *g, const uint8_t id[KZ_KEY_BYTES])
{
    for (kz__peer *p = g->peers; p; p = p->next)
        if (memcmp(p->id, id, KZ_KEY_BYTES) == 0)
            return p;
    return NULL;
}

/* Peers are never freed while the layer runs: links keep pointers to them. */
kz__peer *kz__peer_get(kz_gossip *g, const uint8_t id[KZ_KEY_BYTES])
{
    kz__peer *p = kz__peer_find(g, id);
    if (p)
        return p;
    p = kz_xcalloc(1, sizeof *p);
    memcpy(p->id, id, KZ_KEY_BYTES);
    memcpy(p->st.node, id, KZ_KEY_BYTES);
    kz_idstr s = kz_id_to_str(id);
    memcpy(p->id8, s.s, 8);
    p->id8[8] = '\0';
    p->blocked = kz_store_is_blocked(g->node->store, id);
    p->next = g->peers;
    g->peers = p;
    return p;
}

struct load_ctx {
    kz_store_peer *v;
    size_t n, cap;
};

static int load_cb(void *ud, const kz_store_peer *sp)
{
    struct load_ctx *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = kz_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = *sp;
    return 0;
}

/* Copy every stored entry out first: the iteration holds a read transaction
 * during which nothing else may touch the store. */
static int peers_read_all(kz_store *s, struct load_ctx *c)
{
    memset(c, 0, sizeof *c);
    int rc = kz_store_peer_iter(s, load_cb, c);
    if (rc < 0) {
        free(c->v);
        memset(c, 0, sizeof *c);
    }
    return rc;
}

int kz__peers_load(kz_gossip *g)
{
    struct load_ctx c;
    int rc = peers_read_all(g->node->store, &c);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < c.n; i++) {
        kz__peer *p = kz__peer_get(g, c.v[i].node);
        p->st = c.v[i];
        p->listed = p->st.addr[0] != '\0';
    }
    free(c.v);
    return 0;
}

void kz__peers_persist(kz_gossip *g, bool all)
{
    for (kz__peer *p = g->peers; p; p = p->next) {
        if (!p->listed || !(p->dirty || all))
            continue;
        int rc = kz_store_peer_put(g->node->store, &p->st);
        if (rc != 0)
            kz_log_warn("peer", "peer %s: cannot save its entry: %s", p->id8, kz_strerror(rc));
        else
            p->dirty = false;
    }
}

void kz__peer_backoff(kz_gossip *g, kz__peer *p, uint64_t now)
{
    uint32_t b = p->backoff_ms ? p->backoff_ms : g->opts.backoff_min_ms;
    /* Jitter: 75% .. 125% of the step, so that many nodes restarting at
     * once do not dial in lockstep. */
    uint32_t delay = b - b / 4 + randombytes_uniform(b / 2 + 1);
    p->next_dial_ms = now + delay;
    p->failed = true;
    p->backoff_ms = b >= g->opts.backoff_max_ms / 2 ? g->opts.backoff_max_ms : b * 2;
    kz_log_debug("peer", "peer %s: next attempt in %u ms", p->id8, (unsigned)delay);
}

/* ---- Life cycle ---------------------------------------------------------------------- */

static void tick_cb(uv_timer_t *t)
{
    kz_gossip *g = t->data;
    uint64_t now = kz_now_ms();
    if (g->stopping) {
        /* Shutting down: the tick lives on until every socket is closed,
         * forcing shut the ones whose BYE cannot leave (a peer that stopped
         * reading would otherwise keep the loop, and kizunad, alive). */
        if (kz__net_drain(g, now))
            uv_close((uv_handle_t *)&g->tick, NULL);
        return;
    }
    kz__net_tick(g, now);
    for (kz__link *l = g->links; l; l = l->next) {
        if (l->state != KZ__L_OPEN)
            continue;
        kz__recon_tick(l, now);
        if (l->initiator && now >= l->next_sync_ms) {
            l->next_sync_ms = now + g->opts.sync_interval_ms;
            kz__recon_start(l);
        }
    }
    if (now - g->last_persist_ms > KZ__PERSIST_MS) {
        g->last_persist_ms = now;
        kz__peers_persist(g, false);
    }
}

static bool watcher_registered(const kz_node *n)
{
    for (size_t i = 0; i < n->n_watchers; i++)
        if (n->watchers[i].cb == kz__gossip_accept_cb)
            return true;
    return false;
}

/* Only on a failed start: the object frees itself once its handles close. */
static void start_fail_close_cb(uv_handle_t *h)
{
    kz_gossip *g = h->data;
    if (--g->open_handles == 0) {
        kz__order_free(&g->order);
        while (g->peers) {
            kz__peer *next = g->peers->next;
            free(g->peers);
            g->peers = next;
        }
        kz_noise_identity_close(&g->me);
        free(g);
    }
}

int kz_gossip_start(kz_node *n, const kz_gossip_opts *opts, char *err, size_t errsz)
{
    if (!n || !n->loop) {
        snprintf(err, errsz, "the node has no event loop");
        return KZ_EINVAL;
    }
    if (n->gossip) {
        snprintf(err, errsz, "the federation layer is already running");
        return KZ_EEXIST;
    }
    if (opts && opts->listen && strlen(opts->listen) > KZ_ADDR_MAX) {
        snprintf(err, errsz, "listen address too long");
        return KZ_EINVAL;
    }
    kz_gossip *g = kz_xcalloc(1, sizeof *g);
    g->node = n;
    g->loop = n->loop;
    if (opts)
        g->opts = *opts;
    if (opts && opts->listen)
        snprintf(g->listen, sizeof g->listen, "%s", opts->listen);
    g->opts.listen = g->listen;
#define KZ__DEF(f, v) if (!g->opts.f) g->opts.f = (v)
    KZ__DEF(sync_interval_ms, KZ_GOSSIP_SYNC_INTERVAL_MS);
    KZ__DEF(handshake_ms, KZ_GOSSIP_HANDSHAKE_MS);
    KZ__DEF(ping_ms, KZ_GOSSIP_PING_MS);
    KZ__DEF(idle_ms, KZ_GOSSIP_IDLE_MS);
    KZ__DEF(backoff_min_ms, KZ_GOSSIP_BACKOFF_MIN_MS);
    KZ__DEF(backoff_max_ms, KZ_GOSSIP_BACKOFF_MAX_MS);
#undef KZ__DEF
    if (g->opts.backoff_max_ms < g->opts.backoff_min_ms)
        g->opts.backoff_max_ms = g->opts.backoff_min_ms;
    int rc = kz_noise_identity_init(&g->me, n->keys.node_sk);
    if (rc != 0) {
        snprintf(err, errsz, "cannot derive the node's Noise identity: %s", kz_strerror(rc));
        goto fail_identity;
    }
    if ((rc = kz__peers_load(g)) != 0) {
        snprintf(err, errsz, "cannot read the peer list: %s", kz_strerror(rc));
        goto fail_data;
    }
    if ((rc = kz__order_load(g)) != 0) {
        snprintf(err, errsz, "cannot index the store for reconciliation: %s", kz_strerror(rc));
        goto fail_data;
    }
    if (!watcher_registered(n) && (rc = kz_node_accept_watch(n, kz__gossip_accept_cb, NULL)) != 0) {
        snprintf(err, errsz, "cannot watch accepted records: %s", kz_strerror(rc));
        goto fail_data;
    }
    uv_timer_init(g->loop, &g->tick);
    uv_timer_init(g->loop, &g->flush);
    g->tick.data = g->flush.data = g;
    if ((rc = kz__net_listen(g, err, errsz)) != 0) {
        /* Handles exist now: they close on the loop, then g frees itself. */
        g->stopping = true;
        g->open_handles = 2;
        uv_close((uv_handle_t *)&g->tick, start_fail_close_cb);
        uv_close((uv_handle_t *)&g->flush, start_fail_close_cb);
        if (g->listening) {
            g->open_handles++;
            uv_close((uv_handle_t *)&g->listener, start_fail_close_cb);
        }
        return rc;
    }
    g->last_persist_ms = kz_now_ms();
    uv_timer_start(&g->tick, tick_cb, 0, KZ__TICK_MS);
    n->gossip = g;
    return 0;

fail_data:
    kz__order_free(&g->order);
    while (g->peers) {
        kz__peer *next = g->peers->next;
        free(g->peers);
        g->peers = next;
    }
    kz_noise_identity_close(&g->me);
fail_identity:
    free(g);
    return rc;
}

void kz_gossip_stop(kz_node *n)
{
    kz_gossip *g = kz_gossip_get(n);
    if (!g || g->stopping)
        return;
    g->stopping = true;
    kz__net_stop(g);
    uv_close((uv_handle_t *)&g->flush, NULL);
    if (kz__net_drain(g, kz_now_ms()))
        uv_close((uv_handle_t *)&g->tick, NULL);
    kz__peers_persist(g, false);
}

void kz_gossip_free(kz_node *n)
{
    kz_gossip *g = kz_gossip_get(n);
    if (!g)
        return;
    n->gossip = NULL;
    kz__gossip_free_queues(g);
    if (g->links)
        kz_log_warn("gossip", "freed with %u link(s) still open; the loop did not run dry",
                    g->n_links);
    while (g->peers) {
        kz__peer *next = g->peers->next;
        free(g->peers);
        g->peers = next;
    }
    kz__order_free(&g->order);
    kz_noise_identity_close(&g->me);
    free(g);
}

/* ---- Operator actions ----------------------------------------------------------------- */

static int check_peer_id(kz_node *n, const uint8_t id[KZ_KEY_BYTES], char *err, size_t errsz)
{
    if (memcmp(id, n->keys.node_pk, KZ_KEY_BYTES) == 0) {
        snprintf(err, errsz, "that is this node's own id");
        return KZ_EINVAL;
    }
    if (!crypto_core_ed25519_is_valid_point(id)) {
        snprintf(err, errsz, "not a node id: not a valid Ed25519 public key");
        return KZ_EINVAL;
    }
    return 0;
}

int kz_gossip_peer_add(kz_node *n, const uint8_t node_id[KZ_KEY_BYTES], const char *addr,
                       char *err, size_t errsz)
{
    kz_store_peer st;
    int rc = check_peer_id(n, node_id, err, errsz);
    if (rc != 0)
        return rc;
    if (!addr || kz_addr_parse(addr, NULL, 0, NULL, err, errsz) != 0) {
        if (!addr)
            snprintf(err, errsz, "missing address");
        return KZ_EINVAL;
    }
    rc = kz_store_peer_get(n->store, node_id, &st);
    if (rc == KZ_ENOTFOUND) {
        memset(&st, 0, sizeof st);
        memcpy(st.node, node_id, KZ_KEY_BYTES);
        st.added_ms = kz_now_ms();
    } else if (rc != 0) {
        snprintf(err, errsz, "cannot read the peer list: %s", kz_strerror(rc));
        return rc;
    }
    kz_gossip *g = kz_gossip_get(n);
    kz__peer *p = g ? kz__peer_get(g, node_id) : NULL;
    if (p && rc == KZ_ENOTFOUND) {
        /* Keep the counters of an inbound-only peer becoming listed. */
        uint64_t added = st.added_ms;
        st = p->st;
        st.added_ms = added;
    }
    snprintf(st.addr, sizeof st.addr, "%s", addr);
    rc = kz_store_peer_put(n->store, &st);
    if (rc != 0) {
        snprintf(err, errsz, "cannot save the peer: %s", kz_strerror(rc));
        return rc;
    }
    kz_log_info("peer", "peer %.8s@%s: added by the operator", kz_id_to_str(node_id).s, addr);
    if (!p || g->stopping)
        return 0;
    p->st = st;
    p->listed = true;
    p->dirty = false;
    p->backoff_ms = 0;
    p->next_dial_ms = 0;
    p->failed = false;
    kz__net_dial(g, p);
    return 0;
}

int kz_gossip_peer_remove(kz_node *n, const uint8_t node_id[KZ_KEY_BYTES], char *err,
                          size_t errsz)
{
    kz_gossip *g = kz_gossip_get(n);
    kz__peer *p = g ? kz__peer_find(g, node_id) : NULL;
    int rc = kz_store_peer_del(n->store, node_id);
    if (rc != 0 && rc != KZ_ENOTFOUND) {
        snprintf(err, errsz, "cannot remove the peer: %s", kz_strerror(rc));
        return rc;
    }
    if (rc == KZ_ENOTFOUND && !(p && (p->listed || p->link))) {
        snprintf(err, errsz, "no such peer");
        return KZ_ENOTFOUND;
    }
    kz_log_info("peer", "peer %.8s: removed by the operator", kz_id_to_str(node_id).s);
    if (!p)
        return 0;
    p->listed = false;
    p->st.addr[0] = '\0';
    p->st.last_contact_ms = 0; /* off the list unless it links again */
    p->dirty = false;
    if (p->dialing)
        kz__link_drop(p->dialing, 0, "removed by the operator");
    if (p->link)
        kz__link_drop(p->link, 0, "removed by the operator");
    return 0;
}

int kz_gossip_peer_block(kz_node *n, const uint8_t node_id[KZ_KEY_BYTES], bool blocked,
                         char *err, size_t errsz)
{
    int rc = check_peer_id(n, node_id, err, errsz);
    if (rc != 0)
        return rc;
    rc = kz_store_block_set(n->store, node_id, blocked);
    if (rc != 0) {
        snprintf(err, errsz, "cannot %s the node: %s", blocked ? "block" : "unblock",
                 kz_strerror(rc));
        return rc;
    }
    kz_log_info("peer", "node %.8s: %s by the operator", kz_id_to_str(node_id).s,
                blocked ? "blocked" : "unblocked");
    kz_gossip *g = kz_gossip_get(n);
    if (!g || g->stopping)
        return 0;
    kz__peer *p = kz__peer_get(g, node_id);
    p->blocked = blocked;
    if (blocked) {
        if (p->dialing)
            kz__link_drop(p->dialing, 0, "blocked by the operator");
        if (p->link)
            kz__link_drop(p->link, KZ_WERR_BLOCKED, "blocked by the operator");
        snprintf(p->last_error, sizeof p->last_error, "blocked by the operator");
    } else {
        p->backoff_ms = 0;
        p->next_dial_ms = 0;
        p->failed = false;
        p->last_error[0] = '\0';
        if (p->listed)
            kz__net_dial(g, p);
    }
    return 0;
}

/* ---- Reports ------------------------------------------------------------------------- */

static void info_fill(kz_gossip_peer_info *in, const kz__peer *p, uint64_t now)
{
    memset(in, 0, sizeof *in);
    memcpy(in->node, p->id, KZ_KEY_BYTES);
    in->st = p->st;
    snprintf(in->addr, sizeof in->addr, "%s", p->st.addr);
    snprintf(in->name, sizeof in->name, "%s", p->name);
    snprintf(in->last_error, sizeof in->last_error, "%s", p->last_error);
    in->listed = p->listed;
    in->syncs = p->syncs;
    in->sync_rounds = p->sync_rounds;
    if (p->blocked) {
        in->state = "blocked";
    } else if (p->link) {
        in->state = "connected";
        in->inbound = !p->link->initiator;
        in->connected_since_ms = p->link->open_ms;
        in->sync_running = kz__recon_running(p->link);
        in->tx_backlog = p->link->wq_bytes;
        in->rx_backlog = p->link->vq_bytes;
        snprintf(in->remote, sizeof in->remote, "%s", p->link->remote);
    } else if (p->dialing) {
        in->state = "connecting";
    } else if (p->listed && p->failed && p->next_dial_ms > now) {
        in->state = "backoff";
        in->next_dial_ms = p->next_dial_ms;
    } else if (p->listed) {
        in->state = "connecting";
    } else {
        in->state = "idle";
    }
}

int kz_gossip_peer_each(kz_node *n, void (*cb)(void *ud, const kz_gossip_peer_info *info),
                        void *ud)
{
    kz_gossip_peer_info in;
    kz_gossip *g = kz_gossip_get(n);
    uint64_t now = kz_now_ms();
    if (g) {
        for (kz__peer *p = g->peers; p; p = p->next) {
            if (!p->listed && !p->link && !p->blocked && !p->st.last_contact_ms)
                continue;
            info_fill(&in, p, now);
            cb(ud, &in);
        }
        return 0;
    }
    struct load_ctx c;
    int rc = peers_read_all(n->store, &c);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < c.n; i++) {
        kz__peer p;
        memset(&p, 0, sizeof p);
        memcpy(p.id, c.v[i].node, KZ_KEY_BYTES);
        p.st = c.v[i];
        p.listed = p.st.addr[0] != '\0';
        p.blocked = kz_store_is_blocked(n->store, p.id);
        info_fill(&in, &p, now);
        if (!p.blocked)
            in.state = "idle";
        cb(ud, &in);
    }
    free(c.v);
    return 0;
}

void kz_gossip_stats_get(kz_node *n, kz_gossip_stats *st)
{
    memset(st, 0, sizeof *st);
    kz_gossip *g = kz_gossip_get(n);
    if (!g)
        return;
    st->links = g->n_links;
    st->handshaking = g->n_handshaking;
    for (kz__peer *p = g->peers; p; p = p->next)
        if (p->link)
            st->connected++;
    st->held_records = g->held_n;
    st->held_bytes = g->held_bytes;
    st->records_in = g->records_in;
    st->records_out = g->records_out;
    st->records_rejected = g->records_rejected;
    st->order_items = kz__order_size(&g->order);
}

/* ---- The node service ------------------------------------------------------------------ */

static int svc_start(kz_node *n, char *err, size_t errsz)
{
    kz_gossip_opts o;
    memset(&o, 0, sizeof o);
    o.listen = n->cfg.listen;
    o.peering = n->cfg.peering_listed ? KZ_PEERING_LISTED : KZ_PEERING_OPEN;
    o.sync_interval_ms = n->cfg.sync_interval_s * 1000u;
    return kz_gossip_start(n, &o, err, errsz);
}

static void svc_status_cb(void *ud, const kz_gossip_peer_info *in)
{
    json_t *st = ud;
    json_t *o = json_pack("{s:o, s:s, s:s}", "node_id", kz_json_hex(in->node, KZ_KEY_BYTES),
                          "name", in->name, "state", in->state);
    if (!o)
        return;
    json_array_append_new(json_object_get(st, "list"), o);
    json_object_set_new(st, "known", json_integer(json_integer_value(json_object_get(st, "known")) + 1));
}

static json_t *svc_status(kz_node *n)
{
    kz_gossip_stats gs;
    json_t *st = json_pack("{s:i, s:i, s:[]}", "known", 0, "connected", 0, "list");
    if (!st || kz_gossip_peer_each(n, svc_status_cb, st) != 0) {
        json_decref(st);
        return NULL;
    }
    kz_gossip_stats_get(n, &gs);
    json_object_set_new(st, "connected", json_integer((json_int_t)gs.connected));
    json_object_set_new(st, "held_records", json_integer((json_int_t)gs.held_records));
    return st;
}

const kz_node_service kz_gossip_service = {"peers", svc_start, kz_gossip_stop, kz_gossip_free,
                                           svc_status};
