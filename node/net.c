/* net.c: the federation layer's established TCP links: their lifetime,
 * secretstream frames in and out, pings, idle timeouts, and closing with BYE
 * or ERROR. Every failure drops only the link concerned. How a link is made
 * (listen, dial, handshake, HELLO) is in net_connect.c. */
#include "gossip_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define KZ__CLOSE_GRACE_MS 2000u /* time a final frame gets to leave */

typedef struct {
    uv_write_t req;
    kz__link *l;
    size_t len;
    bool final;
    uint8_t data[];
} kz__wreq;

/* ---- Lifetime ------------------------------------------------------------------ */

kz__link *kz__link_new(kz_gossip *g, bool initiator)
{
    kz__link *l = kz_xcalloc(1, sizeof *l);
    l->g = g;
    l->initiator = initiator;
    l->started_ms = l->last_rx_ms = kz_now_ms();
    l->next = g->links;
    g->links = l;
    g->n_links++;
    return l;
}

static void link_free(kz__link *l)
{
    kz_gossip *g = l->g;
    for (kz__link **pp = &g->links; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    g->n_links--;
    kz__recon_free(l);
    kz_noise_hs_free(l->hs);
    kz_frame_tx_close(&l->tx);
    kz_frame_rx_close(&l->rx);
    free(l->sendq);
    sodium_memzero(l->hsbuf, sizeof l->hsbuf);
    free(l);
}

static void link_maybe_free(kz__link *l)
{
    if (l->closed && l->refs == 0)
        link_free(l);
}

void kz__link_ref(kz__link *l)
{
    l->refs++;
}

void kz__link_unref(kz__link *l)
{
    l->refs--;
    link_maybe_free(l);
}

static void link_close_cb(uv_handle_t *h)
{
    kz__link *l = h->data;
    l->closed = true;
    link_maybe_free(l);
}

void kz__link_close_handle(kz__link *l)
{
    l->state = KZ__L_CLOSING;
    if (l->tcp_init) {
        if (!uv_is_closing((uv_handle_t *)&l->tcp))
            uv_close((uv_handle_t *)&l->tcp, link_close_cb);
    } else if (!l->closed) {
        l->closed = true;
        link_maybe_free(l);
    }
}

void kz__link_who(const kz__link *l, char *out, size_t sz)
{
    char id8[9] = "?";
    if (l->peer)
        memcpy(id8, l->peer->id8, sizeof id8);
    else if (l->state >= KZ__L_HELLO) {
        kz_idstr s = kz_id_to_str(l->peer_id);
        memcpy(id8, s.s, 8);
        id8[8] = '\0';
    }
    const char *addr = l->remote[0] ? l->remote : (l->peer ? l->peer->st.addr : "?");
    snprintf(out, sz, "peer %s@%s", id8, addr);
}

/* ---- Writing ------------------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status)
{
    kz__wreq *w = (kz__wreq *)req;
    kz__link *l = w->l;
    bool final = w->final;
    l->wq_bytes -= w->len;
    free(w);
    if (status < 0 && l->state != KZ__L_CLOSING)
        kz__link_drop(l, 0, "write failed: %s", uv_strerror(status));
    else if (final)
        kz__link_close_handle(l);
    else if (l->state == KZ__L_OPEN)
        kz__gossip_pump(l);
    kz__link_unref(l);
}

/* Queue bytes already in w->data. */
static int link_write(kz__link *l, kz__wreq *w)
{
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
    w->l = l;
    int rc = uv_write(&w->req, (uv_stream_t *)&l->tcp, &b, 1, write_cb);
    if (rc != 0) {
        free(w);
        kz__link_drop(l, 0, "write failed: %s", uv_strerror(rc));
        return KZ_EIO;
    }
    l->refs++;
    l->wq_bytes += w->len;
    l->bytes_out += w->len;
    if (l->peer && l->state == KZ__L_OPEN) {
        l->peer->st.bytes_out += w->len;
        l->peer->dirty = true;
    }
    l->last_tx_ms = kz_now_ms();
    return 0;
}

int kz__link_write_raw(kz__link *l, const uint8_t *p, size_t n)
{
    kz__wreq *w = kz_xmalloc(sizeof *w + n);
    memcpy(w->data, p, n);
    w->len = n;
    w->final = false;
    return link_write(l, w);
}

static int link_seal(kz__link *l, const kz_wire_buf *b, bool final)
{
    if (!l->tx_open || l->final_sent)
        return KZ_EINVAL;
    size_t cap = KZ_FRAME_WIRE_SIZE(b->len);
    kz__wreq *w = malloc(sizeof *w + cap);
    if (!w)
        return KZ_ENOMEM;
    int rc = final ? kz_frame_seal_final(&l->tx, b->p, b->len, w->data, cap, &w->len)
                   : kz_frame_seal(&l->tx, b->p, b->len, w->data, cap, &w->len);
    if (rc != 0) {
        free(w);
        return rc;
    }
    w->final = final;
    if (final)
        l->final_sent = true;
    return link_write(l, w);
}

int kz__link_send(kz__link *l, const kz_wire_buf *b)
{
    if (l->state == KZ__L_CLOSING)
        return KZ_EINVAL;
    return link_seal(l, b, false);
}

/* ---- Dropping ------------------------------------------------------------------ */

static void link_detach(kz__link *l, const char *why, uint32_t code)
{
    kz_gossip *g = l->g;
    kz__peer *p = l->peer;
    uint64_t now = kz_now_ms();
    if (l->counted_hs) {
        l->counted_hs = false;
        g->n_handshaking--;
    }
    if (!p)
        return;
    bool was_link = p->link == l;
    if (was_link) {
        p->link = NULL;
        p->st.last_contact_ms = now;
        p->dirty = true;
    }
    if (p->dialing == l)
        p->dialing = NULL;
    /* A duplicate we lost is no failure when the other link lives on. */
    if (code == KZ_WERR_DUPLICATE && p->link)
        return;
    snprintf(p->last_error, sizeof p->last_error, "%s", why);
    if (p->listed && !p->link && !p->dialing && !g->stopping)
        kz__peer_backoff(g, p, now);
}

void kz__link_drop(kz__link *l, uint32_t code, const char *fmt, ...)
{
    char why[160], who[KZ__WHO_MAX];
    if (l->state == KZ__L_CLOSING)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    kz__link_who(l, who, sizeof who);
    bool quiet = l->g->stopping || code == KZ_WERR_DUPLICATE;
    kz_log(quiet ? KZ_LOG_INFO : KZ_LOG_WARN, "peer", "%s: %s", who, why);
    if (l->state == KZ__L_OPEN)
        kz__gossip_on_close(l);
    if (l->state == KZ__L_RESOLVE)
        uv_cancel((uv_req_t *)&l->gai);
    link_detach(l, why, code);
    if (l->reading) {
        uv_read_stop((uv_stream_t *)&l->tcp);
        l->reading = false;
    }
    if (l->tx_open && !l->final_sent) {
        kz_wire_buf b = {0};
        /* The reason travels truncated on a character boundary, ASCII-safe. */
        char reason[KZ_WIRE_REASON_MAX + 1];
        size_t n = 0;
        for (const char *s = why; *s && n < KZ_WIRE_REASON_MAX; s++)
            reason[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
        reason[n] = '\0';
        int rc = code ? kz_wire_encode_error(code, reason, &b) : kz_wire_encode_bye(&b);
        if (rc == 0 && link_seal(l, &b, true) == 0) {
            kz_wire_buf_free(&b);
            l->state = KZ__L_CLOSING;
            l->closing_ms = kz_now_ms();
            return;
        }
        kz_wire_buf_free(&b);
    }
    kz__link_close_handle(l);
}

/* ---- Frames ------------------------------------------------------------------- */

/* One authenticated frame. Returns 0 to go on reading, or an error once the
 * link is being dropped. */
static int link_on_frame(kz__link *l, const uint8_t *pt, size_t len, bool final)
{
    kz_wire_msg m;
    int rc = kz_wire_decode(&m, pt, len);
    if (rc != 0) {
        kz__link_drop(l, KZ_WERR_PROTOCOL, "undecodable message: %s", kz_wire_last_error());
        return rc;
    }
    if (!kz_wire_final_ok(m.type, final)) {
        kz__link_drop(l, KZ_WERR_PROTOCOL, "%s in a %sfinal frame", kz_wire_type_name(m.type),
                      final ? "" : "non-");
        return KZ_EPROTO;
    }
    if (m.type == KZ_MSG_BYE) {
        kz__link_drop(l, 0, "closed by the peer (BYE)");
        return KZ_EIO;
    }
    if (m.type == KZ_MSG_ERROR) {
        /* The peer's direction is over; answer with nothing but our BYE. */
        kz__link_drop(l, m.u.error.code == KZ_WERR_DUPLICATE ? KZ_WERR_DUPLICATE : 0,
                      "refused by the peer: ERROR %s: %.*s", kz_wire_errcode_name(m.u.error.code),
                      (int)m.u.error.reason.n, m.u.error.reason.p ? m.u.error.reason.p : "");
        return KZ_EIO;
    }
    if (l->state == KZ__L_HELLO) {
        if (m.type != KZ_MSG_HELLO) {
            kz__link_drop(l, KZ_WERR_PROTOCOL, "expected HELLO, got %s", kz_wire_type_name(m.type));
            return KZ_EPROTO;
        }
        return kz__link_on_hello(l, &m.u.hello);
    }
    switch (m.type) {
    case KZ_MSG_HELLO:
        kz__link_drop(l, KZ_WERR_PROTOCOL, "a second HELLO");
        return KZ_EPROTO;
    case KZ_MSG_PING: {
        kz_wire_buf b = {0};
        if (kz_wire_encode_pong(m.u.nonce, &b) == 0)
            (void)kz__link_send(l, &b);
        kz_wire_buf_free(&b);
        return l->state == KZ__L_CLOSING ? KZ_EIO : 0;
    }
    case KZ_MSG_PONG:
        l->ping_out = false;
        return 0;
    default:
        return kz__gossip_on_msg(l, &m);
    }
}

/* ---- Reading ---------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    kz__link *l = h->data;
    *buf = uv_buf_init((char *)l->g->rbuf, sizeof l->g->rbuf);
}

static void link_input(kz__link *l, const uint8_t *p, size_t n)
{
    while (n > 0 && l->state != KZ__L_CLOSING) {
        if (l->state == KZ__L_HS) {
            size_t take = l->hs_need - l->hs_have;
            if (take > n)
                take = n;
            memcpy(l->hsbuf + l->hs_have, p, take);
            l->hs_have += take;
            p += take;
            n -= take;
            if (l->hs_have == l->hs_need)
                kz__link_hs_step(l);
            continue;
        }
        if (l->state != KZ__L_HELLO && l->state != KZ__L_OPEN) {
            kz__link_drop(l, KZ_WERR_PROTOCOL, "data before the handshake finished");
            return;
        }
        size_t used = 0;
        int rc = kz_frame_rx_feed(&l->rx, p, n, &used);
        if (rc < 0) {
            kz__link_drop(l, KZ_WERR_PROTOCOL, "bad frame: %s", kz_strerror(rc));
            return;
        }
        p += used;
        n -= used;
        if (rc == 1) {
            const uint8_t *pt;
            size_t len;
            bool final;
            if (kz_frame_rx_next(&l->rx, &pt, &len, &final) != 1 ||
                link_on_frame(l, pt, len, final) != 0)
                return;
        }
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    kz__link *l = s->data;
    if (nread == 0 || l->state == KZ__L_CLOSING)
        return;
    if (nread < 0) {
        if (nread == UV_EOF && l->state == KZ__L_HS && l->initiator)
            /* The listener drops a dialer whose msg1 fails its PSK check
             * without a word: that is all a dialer with another key sees. */
            kz__link_drop(l, 0, "closed by the listener during the handshake "
                                "(a different federation key?)");
        else if (nread == UV_EOF)
            kz__link_drop(l, 0, "connection closed by the peer%s",
                          l->state < KZ__L_OPEN ? " during the handshake" : "");
        else
            kz__link_drop(l, 0, "read failed: %s", uv_strerror((int)nread));
        return;
    }
    l->last_rx_ms = kz_now_ms();
    l->bytes_in += (uint64_t)nread;
    if (l->peer && l->state == KZ__L_OPEN) {
        l->peer->st.bytes_in += (uint64_t)nread;
        l->peer->dirty = true;
    }
    link_input(l, (const uint8_t *)buf->base, (size_t)nread);
}

void kz__link_read_start(kz__link *l)
{
    if (uv_read_start((uv_stream_t *)&l->tcp, alloc_cb, read_cb) == 0)
        l->reading = true;
}

void kz__link_flow(kz__link *l)
{
    if (l->state == KZ__L_CLOSING)
        return;
    if (l->vq_bytes > KZ_GOSSIP_RX_BACKLOG && l->reading) {
        uv_read_stop((uv_stream_t *)&l->tcp);
        l->reading = false;
        l->read_paused = true;
    } else if (l->read_paused && l->vq_bytes <= KZ_GOSSIP_RX_BACKLOG / 2) {
        l->read_paused = false;
        kz__link_read_start(l);
    }
}

/* ---- Housekeeping ----------------------------------------------------------------- */

void kz__net_tick(kz_gossip *g, uint64_t now)
{
    kz__link *next;
    for (kz__link *l = g->links; l; l = next) {
        next = l->next;
        if (l->state == KZ__L_CLOSING) {
            if (l->closing_ms && now - l->closing_ms > KZ__CLOSE_GRACE_MS)
                kz__link_close_handle(l);
            continue;
        }
        if (l->state != KZ__L_OPEN) {
            if (now - l->started_ms > g->opts.handshake_ms)
                kz__link_drop(l, KZ_WERR_TIMEOUT, "handshake timed out after %u s",
                              (unsigned)(g->opts.handshake_ms / 1000));
            continue;
        }
        uint64_t quiet = now > l->last_rx_ms ? now - l->last_rx_ms : 0;
        if (quiet > g->opts.idle_ms) {
            kz__link_drop(l, KZ_WERR_TIMEOUT, "silent for %llu s",
                          (unsigned long long)(quiet / 1000));
            continue;
        }
        if (quiet > g->opts.ping_ms && !l->ping_out) {
            kz_wire_buf b = {0};
            randombytes_buf(&l->ping_nonce, sizeof l->ping_nonce);
            if (kz_wire_encode_ping(l->ping_nonce, &b) == 0 && kz__link_send(l, &b) == 0)
                l->ping_out = true;
            kz_wire_buf_free(&b);
        }
    }
    for (kz__peer *p = g->peers; p; p = p->next) {
        if (p->listed && !p->blocked && !p->link && !p->dialing && now >= p->next_dial_ms)
            kz__net_dial(g, p);
    }
}

void kz__net_stop(kz_gossip *g)
{
    if (g->listening && !uv_is_closing((uv_handle_t *)&g->listener))
        uv_close((uv_handle_t *)&g->listener, NULL);
    kz__link *next;
    for (kz__link *l = g->links; l; l = next) {
        next = l->next;
        kz__link_drop(l, 0, "this node is shutting down");
    }
}

bool kz__net_drain(kz_gossip *g, uint64_t now)
{
    bool all = true;
    kz__link *next;
    for (kz__link *l = g->links; l; l = next) {
        next = l->next;
        if (l->closed || (!l->tcp_init && l->state == KZ__L_CLOSING))
            continue;
        if (l->state != KZ__L_CLOSING || (l->closing_ms && now - l->closing_ms > KZ__CLOSE_GRACE_MS))
            kz__link_close_handle(l);
        all = false;
    }
    return all;
}
