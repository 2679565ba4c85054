/* net_connect.c: how a federation link comes to be: listening and dialling,
 * the Noise handshake with its budgets, HELLO and version negotiation, and
 * one link per node pair. The established link's frames live in net.c. */
#include "gossip_internal.h"

#include <stdio.h>
#include <string.h>

#define KZ__SKEW_WARN_MS 60000u

/* ---- Handshake ------------------------------------------------------------------ */

static void link_send_hello(kz__link *l)
{
    kz_gossip *g = l->g;
    kz_node *n = g->node;
    kz_record like, own;
    kz_wire_hello h;
    kz_wire_buf b = {0};
    memset(&h, 0, sizeof h);
    memset(&own, 0, sizeof own);
    h.version_min = KZ_WIRE_VERSION_MIN;
    h.version_max = KZ_WIRE_VERSION_MAX;
    memcpy(h.node_id, n->keys.node_pk, KZ_KEY_BYTES);
    h.features = KZ_WIRE_FEATURES_V1;
    h.clock_ms = kz_now_ms();
    kz_record_init(&like, KZ_T_NODE, n->keys.node_pk, 0);
    if (kz_node_slot_load(n, &like, &own) == 0)
        h.node_record = (kz_bytes){own.raw, (uint32_t)own.raw_len};
    int rc = kz_wire_encode_hello(&h, &b);
    kz_record_close(&own);
    if (rc != 0) {
        kz__link_drop(l, KZ_WERR_INTERNAL, "cannot encode HELLO: %s", kz_strerror(rc));
        return;
    }
    rc = kz__link_send(l, &b);
    kz_wire_buf_free(&b);
    if (rc != 0 && l->state != KZ__L_CLOSING)
        kz__link_drop(l, KZ_WERR_INTERNAL, "cannot send HELLO: %s", kz_strerror(rc));
}

/* The handshake is complete: open both frame streams, then apply policy
 * (blocked, listed-only, ourselves) and send HELLO. */
static void link_hs_done(kz__link *l)
{
    kz_gossip *g = l->g;
    kz_noise_result res;
    uint8_t header[KZ_FRAME_HEADER_BYTES];
    int rc = kz_noise_hs_result(l->hs, &res);
    kz_noise_hs_free(l->hs);
    l->hs = NULL;
    if (l->counted_hs) {
        l->counted_hs = false;
        g->n_handshaking--;
    }
    if (rc != 0) {
        kz__link_drop(l, 0, "handshake result unavailable: %s", kz_strerror(rc));
        return;
    }
    memcpy(l->peer_id, res.peer_id, KZ_KEY_BYTES);
    l->version = res.version;
    const uint8_t *txk = l->initiator ? res.i2r : res.r2i;
    const uint8_t *rxk = l->initiator ? res.r2i : res.i2r;
    if (kz_frame_tx_init(&l->tx, txk, header) != 0 || kz_frame_rx_init(&l->rx, rxk) != 0) {
        kz_noise_result_clear(&res);
        kz__link_drop(l, 0, "cannot start the frame streams");
        return;
    }
    kz_noise_result_clear(&res);
    l->tx_open = l->rx_open = true;
    l->state = KZ__L_HELLO;
    if (kz__link_write_raw(l, header, sizeof header) != 0)
        return;
    if (!l->peer)
        l->peer = kz__peer_find(g, l->peer_id);
    if (memcmp(l->peer_id, g->node->keys.node_pk, KZ_KEY_BYTES) == 0) {
        kz__link_drop(l, KZ_WERR_AUTH, "the peer is this node itself");
        return;
    }
    if (kz_store_is_blocked(g->node->store, l->peer_id)) {
        kz__link_drop(l, KZ_WERR_BLOCKED, "node is blocked here");
        return;
    }
    if (!l->initiator && g->opts.peering == KZ_PEERING_LISTED && !(l->peer && l->peer->listed)) {
        kz__link_drop(l, KZ_WERR_BLOCKED, "not a listed peer (peering = listed)");
        return;
    }
    link_send_hello(l);
}

/* A complete handshake message is in hsbuf. */
void kz__link_hs_step(kz__link *l)
{
    uint8_t out[KZ_NOISE_HS_MSG_MAX];
    int rc;
    size_t have = l->hs_have;
    l->hs_have = 0;
    if (!l->initiator && l->hs_need == KZ_NOISE_MSG1_LEN) {
        rc = kz_noise_hs_read_msg1(l->hs, l->hsbuf, have);
        if (rc == KZ_EAUTH) {
            kz__link_drop(l, 0, "handshake refused: the dialer does not hold our federation key");
            return;
        }
        if (rc == 0)
            rc = kz_noise_hs_write_msg2(l->hs, out);
        if (rc != 0) {
            kz__link_drop(l, 0, "handshake failed at message 1: %s", kz_strerror(rc));
            return;
        }
        l->hs_need = KZ_NOISE_MSG3_LEN;
        kz__link_write_raw(l, out, KZ_NOISE_MSG2_LEN);
        return;
    }
    if (!l->initiator) {
        rc = kz_noise_hs_read_msg3(l->hs, l->hsbuf, have);
        if (rc != 0) {
            kz__link_drop(l, 0, "handshake failed at message 3: %s", kz_strerror(rc));
            return;
        }
        link_hs_done(l);
        return;
    }
    rc = kz_noise_hs_read_msg2(l->hs, l->hsbuf, have);
    if (rc == KZ_EAUTH) {
        kz__link_drop(l, 0, "handshake refused: the listener is not node %s or does not hold our federation key",
                      l->peer ? l->peer->id8 : "?");
        return;
    }
    if (rc == 0)
        rc = kz_noise_hs_write_msg3(l->hs, out);
    if (rc != 0) {
        kz__link_drop(l, 0, "handshake failed at message 2: %s", kz_strerror(rc));
        return;
    }
    if (kz__link_write_raw(l, out, KZ_NOISE_MSG3_LEN) == 0)
        link_hs_done(l);
}

/* ---- Becoming established ------------------------------------------------------ */

/* Which node dialled l: 0 us, 1 the peer. */
static const uint8_t *link_dialer(const kz__link *l)
{
    return l->initiator ? l->g->node->keys.node_pk : l->peer_id;
}

static void link_open(kz__link *l)
{
    kz_gossip *g = l->g;
    kz__peer *p = l->peer ? l->peer : kz__peer_get(g, l->peer_id);
    l->peer = p;
    kz__link *e = p->link;
    if (e && e != l) {
        /* One link per node pair: the one dialled by the smaller node id
         * wins, or the newer when the same node dialled both. Both ends
         * decide alike, so they drop the same link. */
        const uint8_t *de = link_dialer(e), *dl = link_dialer(l);
        kz__link *lose;
        if (memcmp(de, dl, KZ_KEY_BYTES) == 0)
            lose = e;
        else
            lose = memcmp(dl, de, KZ_KEY_BYTES) < 0 ? e : l;
        if (lose == l) {
            kz__link_drop(l, KZ_WERR_DUPLICATE, "duplicate link (keeping the one dialled by %s)",
                          memcmp(de, g->node->keys.node_pk, KZ_KEY_BYTES) == 0 ? "us" : "the peer");
            return;
        }
        kz__link_drop(e, KZ_WERR_DUPLICATE, "duplicate link, replaced by a newer one");
    }
    if (p->dialing == l)
        p->dialing = NULL;
    p->link = l;
    p->failed = false;
    p->backoff_ms = 0;
    p->next_dial_ms = 0;
    p->last_error[0] = '\0';
    uint64_t now = kz_now_ms();
    p->st.last_contact_ms = now;
    /* Bytes are counted per peer from here on; add the handshake's. */
    p->st.bytes_in += l->bytes_in;
    p->st.bytes_out += l->bytes_out;
    p->dirty = true;
    l->state = KZ__L_OPEN;
    l->open_ms = now;
    char who[KZ__WHO_MAX];
    kz__link_who(l, who, sizeof who);
    kz_log_info("peer", "%s: connected (%s%s%s), protocol version %u", who,
                l->initiator ? "outbound" : "inbound", p->name[0] ? ", " : "", p->name,
                (unsigned)l->version);
    kz__gossip_on_open(l);
}

int kz__link_on_hello(kz__link *l, const kz_wire_hello *h)
{
    kz_gossip *g = l->g;
    kz_wire_hello mine;
    uint32_t version;
    memset(&mine, 0, sizeof mine);
    mine.version_min = KZ_WIRE_VERSION_MIN;
    mine.version_max = KZ_WIRE_VERSION_MAX;
    if (memcmp(h->node_id, l->peer_id, KZ_KEY_BYTES) != 0) {
        kz__link_drop(l, KZ_WERR_AUTH, "HELLO names another node than the handshake authenticated");
        return KZ_EAUTH;
    }
    if (kz_wire_negotiate(&mine, h, &version) != 0) {
        kz__link_drop(l, KZ_WERR_VERSION, "no protocol version in common (peer speaks %u..%u)",
                      (unsigned)h->version_min, (unsigned)h->version_max);
        return KZ_EPROTO;
    }
    if (version != l->version) {
        kz__link_drop(l, KZ_WERR_PROTOCOL, "HELLO version %u differs from the handshake's %u",
                      (unsigned)version, (unsigned)l->version);
        return KZ_EPROTO;
    }
    uint64_t now = kz_now_ms();
    uint64_t skew = h->clock_ms > now ? h->clock_ms - now : now - h->clock_ms;
    if (skew > KZ__SKEW_WARN_MS) {
        char who[KZ__WHO_MAX];
        kz__link_who(l, who, sizeof who);
        kz_log_warn("peer", "%s: clock differs from ours by %llu s", who,
                    (unsigned long long)(skew / 1000));
    }
    char name[KZ_NAME_MAX + 1] = "";
    if (h->node_record.n) {
        kz_record r;
        int rc = kz_record_decode(&r, h->node_record.p, h->node_record.n, now, 0);
        if (rc == 0 && (r.type != KZ_T_NODE || memcmp(r.author, l->peer_id, KZ_KEY_BYTES) != 0)) {
            kz_record_close(&r);
            rc = KZ_EPERM;
        }
        if (rc != 0) {
            kz__link_drop(l, KZ_WERR_PROTOCOL, "bad node record in HELLO: %s", kz_strerror(rc));
            return KZ_EPROTO;
        }
        size_t nn = r.body.node.name.n < KZ_NAME_MAX ? r.body.node.name.n : KZ_NAME_MAX;
        memcpy(name, r.body.node.name.p, nn);
        name[nn] = '\0';
        kz__link *prev = g->cur_src;
        g->cur_src = l;
        kz_put_result pr;
        rc = kz_node_put(g->node, &r, KZ_SRC_PEER, &pr);
        g->cur_src = prev;
        kz_record_close(&r);
        if (rc != 0 && rc != KZ_EEXIST && rc != KZ_ESTALE && rc != KZ_EBLOCKED)
            kz_log_warn("peer", "cannot store the node record of %s: %s",
                        kz_id_to_str(l->peer_id).s, kz_strerror(rc));
    }
    link_open(l);
    if (l->state == KZ__L_OPEN && name[0])
        snprintf(l->peer->name, sizeof l->peer->name, "%s", name);
    return 0;
}

/* ---- Sockets ------------------------------------------------------------------- */

static void link_set_remote(kz__link *l)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, ip, sizeof ip);
            port = ntohs(a->sin6_port);
            snprintf(l->remote, sizeof l->remote, "[%s]:%d", ip, port);
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, ip, sizeof ip);
            port = ntohs(a->sin_port);
            snprintf(l->remote, sizeof l->remote, "%s:%d", ip, port);
        }
    }
    snprintf(l->host, sizeof l->host, "%s", ip);
}

/* ---- Inbound -------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    kz_gossip *g = server->data;
    if (status < 0 || g->stopping)
        return;
    kz__link *l = kz__link_new(g, false);
    uv_tcp_init(g->loop, &l->tcp);
    l->tcp.data = l;
    l->tcp_init = true;
    l->state = KZ__L_HS;
    if (uv_accept(server, (uv_stream_t *)&l->tcp) != 0) {
        kz__link_close_handle(l);
        return;
    }
    link_set_remote(l);
    unsigned from_host = 0;
    for (kz__link *o = g->links; o; o = o->next)
        if (o != l && o->counted_hs && strcmp(o->host, l->host) == 0)
            from_host++;
    if (g->n_handshaking >= KZ_GOSSIP_HS_TOTAL || from_host >= KZ_GOSSIP_HS_PER_SOURCE ||
        g->n_links > KZ_GOSSIP_LINKS_MAX) {
        kz_log_warn("peer", "peer ?@%s: refused: too many handshakes in flight (%u here, %u from this address)",
                    l->remote, g->n_handshaking, from_host);
        kz__link_close_handle(l);
        return;
    }
    if (kz_noise_hs_create_responder(&l->hs, &g->me, g->node->keys.federation) != 0) {
        kz__link_drop(l, 0, "cannot start a handshake");
        return;
    }
    l->counted_hs = true;
    g->n_handshaking++;
    l->hs_need = KZ_NOISE_MSG1_LEN;
    uv_tcp_nodelay(&l->tcp, 1);
    kz__link_read_start(l);
}

int kz__net_listen(kz_gossip *g, char *err, size_t errsz)
{
    char host[KZ_HOST_MAX + 1], portstr[8];
    uint16_t port;
    uv_getaddrinfo_t req;
    struct addrinfo hints;
    if (!g->listen[0])
        return 0;
    if (kz_addr_parse(g->listen, host, sizeof host, &port, err, errsz) != 0)
        return KZ_EINVAL;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = uv_getaddrinfo(g->loop, &req, NULL, host, portstr, &hints);
    if (rc != 0) {
        snprintf(err, errsz, "cannot resolve the listen address %s: %s", g->listen, uv_strerror(rc));
        return KZ_EIO;
    }
    uv_tcp_init(g->loop, &g->listener);
    g->listener.data = g;
    g->listening = true;
    rc = uv_tcp_bind(&g->listener, req.addrinfo->ai_addr, 0);
    uv_freeaddrinfo(req.addrinfo);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&g->listener, 128, on_connection);
    if (rc != 0) {
        snprintf(err, errsz, "cannot listen on %s: %s", g->listen, uv_strerror(rc));
        return KZ_EIO;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&g->listener, (struct sockaddr *)&ss, &len) == 0)
        g->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    kz_log_info("peer", "listening for peers on %s (port %u, peering %s)", g->listen,
                (unsigned)g->port, g->opts.peering == KZ_PEERING_LISTED ? "listed" : "open");
    return 0;
}

/* ---- Outbound -------------------------------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
    kz__link *l = req->data;
    kz_gossip *g = l->g;
    if (l->state == KZ__L_CLOSING) {
        kz__link_unref(l); /* the request's reference; frees a link dropped meanwhile */
        return;
    }
    l->refs--;
    if (status < 0) {
        kz__link_drop(l, 0, "cannot connect: %s", uv_strerror(status));
        return;
    }
    link_set_remote(l);
    uv_tcp_nodelay(&l->tcp, 1);
    uint8_t msg1[KZ_NOISE_MSG1_LEN];
    int rc = kz_noise_hs_create_initiator(&l->hs, &g->me, g->node->keys.federation, l->peer->id);
    if (rc == 0)
        rc = kz_noise_hs_write_msg1(l->hs, msg1);
    if (rc != 0) {
        kz__link_drop(l, 0, "cannot start a handshake: %s", kz_strerror(rc));
        return;
    }
    l->state = KZ__L_HS;
    l->hs_need = KZ_NOISE_MSG2_LEN;
    kz__link_read_start(l);
    kz__link_write_raw(l, msg1, sizeof msg1);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    kz__link *l = req->data;
    if (l->state == KZ__L_CLOSING || status == UV_ECANCELED) {
        uv_freeaddrinfo(res);
        kz__link_unref(l); /* the request's reference; frees a link dropped meanwhile */
        return;
    }
    l->refs--;
    if (status < 0 || !res) {
        uv_freeaddrinfo(res);
        kz__link_drop(l, 0, "cannot resolve %s: %s", l->peer->st.addr, uv_strerror(status));
        return;
    }
    uv_tcp_init(l->g->loop, &l->tcp);
    l->tcp.data = l;
    l->tcp_init = true;
    l->conn.data = l;
    int rc = uv_tcp_connect(&l->conn, &l->tcp, res->ai_addr, on_connect);
    uv_freeaddrinfo(res);
    if (rc != 0) {
        kz__link_drop(l, 0, "cannot connect: %s", uv_strerror(rc));
        return;
    }
    l->refs++;
    l->state = KZ__L_CONNECT;
}

void kz__net_dial(kz_gossip *g, kz__peer *p)
{
    char host[KZ_HOST_MAX + 1], portstr[8], err[KZ_ERR_MAX];
    uint16_t port;
    struct addrinfo hints;
    if (g->stopping || p->link || p->dialing || p->blocked || !p->st.addr[0])
        return;
    if (kz_addr_parse(p->st.addr, host, sizeof host, &port, err, sizeof err) != 0) {
        snprintf(p->last_error, sizeof p->last_error, "bad address: %.140s", err);
        kz__peer_backoff(g, p, kz_now_ms());
        return;
    }
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    kz__link *l = kz__link_new(g, true);
    l->peer = p;
    l->state = KZ__L_RESOLVE;
    p->dialing = l;
    l->gai.data = l;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    kz_log_debug("peer", "peer %s@%s: dialling", p->id8, p->st.addr);
    int rc = uv_getaddrinfo(g->loop, &l->gai, on_resolved, host, portstr, &hints);
    if (rc != 0) {
        kz__link_drop(l, 0, "cannot resolve %s: %s", p->st.addr, uv_strerror(rc));
        return;
    }
    l->refs++;
}
