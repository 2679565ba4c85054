/* frame.c: secretstream frames of the post-handshake transport (sender and incremental receiver). */
#include "kz_frame.h"

#include <stdlib.h>
#include <string.h>

enum { TX_CLOSED = 0, TX_OPEN = 1, TX_FINISHED = 2 };
enum { RX_CLOSED = 0, RX_HEADER, RX_LEN, RX_BODY, RX_DONE, RX_FAILED };

/* Buffers larger than this are released after their frame has been taken, so
 * an idle connection does not pin a megabyte or two. */
#define RX_KEEP_BYTES (64u * 1024u)

#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

/* ---- Sender ---------------------------------------------------------- */

int kz_frame_tx_init(kz_frame_tx *tx, const uint8_t key[KZ_FRAME_KEY_BYTES],
                     uint8_t header_out[KZ_FRAME_HEADER_BYTES])
{
    if (!tx || !key || !header_out)
        return KZ_EINVAL;
    if (sodium_init() < 0)
        return KZ_ECRYPTO;
    memset(tx, 0, sizeof *tx);
    if (crypto_secretstream_xchacha20poly1305_init_push(&tx->st, header_out, key) != 0) {
        sodium_memzero(tx, sizeof *tx);
        return KZ_ECRYPTO;
    }
    tx->phase = TX_OPEN;
    return 0;
}

int kz_frame_tx_init_with_header(kz_frame_tx *tx, const uint8_t key[KZ_FRAME_KEY_BYTES],
                                 const uint8_t header[KZ_FRAME_HEADER_BYTES])
{
    if (!tx || !key || !header)
        return KZ_EINVAL;
    if (sodium_init() < 0)
        return KZ_ECRYPTO;
    memset(tx, 0, sizeof *tx);
    /* secretstream's state is the same for both ends: init_push draws a
     * random header and derives the state from (key, header) exactly as
     * init_pull does for a received header. Deriving it with init_pull is
     * therefore how to push with a chosen header (test_frame checks that the
     * two agree), without touching libsodium's internals. */
    if (crypto_secretstream_xchacha20poly1305_init_pull(&tx->st, header, key) != 0) {
        sodium_memzero(tx, sizeof *tx);
        return KZ_ECRYPTO;
    }
    tx->phase = TX_OPEN;
    return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int seal(kz_frame_tx *tx, const uint8_t *pt, size_t len, uint8_t *out, size_t outsz,
                size_t *outlen, unsigned char tag)
{
    if (!tx || (!pt && len) || !out || !outlen)
        return KZ_EINVAL;
    if (tx->phase != TX_OPEN)
        return KZ_EINVAL;
    if (len > KZ_FRAME_MAX)
        return KZ_ETOOBIG;
    size_t wire = KZ_FRAME_WIRE_SIZE(len);
    if (outsz < wire)
        return KZ_EINVAL;
    unsigned long long clen = 0;
    if (crypto_secretstream_xchacha20poly1305_push(&tx->st, out + KZ_FRAME_LEN_BYTES, &clen,
                                                   pt, len, NULL, 0, tag) != 0 ||
        clen != len + KZ_FRAME_ABYTES)
        return KZ_ECRYPTO; /* cannot happen for len <= KZ_FRAME_MAX */
    put_be32(out, (uint32_t)clen);
    *outlen = wire;
    if (tag == TAG_FINAL) {
        /* Nothing may follow; drop the key material now. */
        sodium_memzero(&tx->st, sizeof tx->st);
        tx->phase = TX_FINISHED;
    }
    return 0;
}

int kz_frame_seal(kz_frame_tx *tx, const uint8_t *plaintext, size_t len, uint8_t *out,
                  size_t outsz, size_t *outlen)
{
    return seal(tx, plaintext, len, out, outsz, outlen, TAG_MESSAGE);
}

int kz_frame_seal_final(kz_frame_tx *tx, const uint8_t *plaintext, size_t len, uint8_t *out,
                        size_t outsz, size_t *outlen)
{
    return seal(tx, plaintext, len, out, outsz, outlen, TAG_FINAL);
}

void kz_frame_tx_close(kz_frame_tx *tx)
{
    if (tx)
        sodium_memzero(tx, sizeof *tx);
}

/* ---- Receiver -------------------------------------------------------- */

int kz_frame_rx_init(kz_frame_rx *rx, const uint8_t key[KZ_FRAME_KEY_BYTES])
{
    if (!rx || !key)
        return KZ_EINVAL;
    if (sodium_init() < 0)
        return KZ_ECRYPTO;
    memset(rx, 0, sizeof *rx);
    memcpy(rx->key, key, KZ_FRAME_KEY_BYTES);
    rx->phase = RX_HEADER;
    return 0;
}

static void rx_release(kz_frame_rx *rx, bool all)
{
    if (rx->ct && (all || rx->ct_cap > RX_KEEP_BYTES)) {
        free(rx->ct);
        rx->ct = NULL;
        rx->ct_cap = 0;
    }
    if (rx->pt && (all || rx->pt_cap > RX_KEEP_BYTES)) {
        free(rx->pt);
        rx->pt = NULL;
        rx->pt_cap = 0;
    }
    rx->pt_len = 0;
}

/* Fail closed: wipe every secret, free the buffers, remember why. */
static int rx_fail(kz_frame_rx *rx, int err)
{
    rx_release(rx, true);
    sodium_memzero(rx->key, sizeof rx->key);
    sodium_memzero(&rx->st, sizeof rx->st);
    rx->ready = false;
    rx->taken = false;
    rx->final = false;
    rx->phase = RX_FAILED;
    rx->err = err;
    return err;
}

/* Grow *buf to at least need bytes. need has already passed the frame limit
 * check, so this is a bounded allocation from outside: fail gracefully. */
static int ensure(uint8_t **buf, size_t *cap, size_t need)
{
    if (need == 0)
        need = 1;
    if (*cap >= need)
        return 0;
    free(*buf);
    *buf = malloc(need);
    if (!*buf) {
        *cap = 0;
        return KZ_ENOMEM;
    }
    *cap = need;
    return 0;
}

/* Decrypt and authenticate one whole frame of ct_len bytes at c. */
static int rx_open(kz_frame_rx *rx, const uint8_t *c)
{
    size_t mlen_max = rx->ct_len - KZ_FRAME_ABYTES;
    if (ensure(&rx->pt, &rx->pt_cap, mlen_max) != 0)
        return rx_fail(rx, KZ_ENOMEM);
    unsigned long long mlen = 0;
    unsigned char tag = 0xff;
    if (crypto_secretstream_xchacha20poly1305_pull(&rx->st, rx->pt, &mlen, &tag, c, rx->ct_len,
                                                   NULL, 0) != 0)
        return rx_fail(rx, KZ_EAUTH);
    if (mlen != mlen_max)
        return rx_fail(rx, KZ_EAUTH);
    if (tag != TAG_MESSAGE && tag != TAG_FINAL)
        return rx_fail(rx, KZ_EPROTO);
    rx->pt_len = (size_t)mlen;
    rx->final = tag == TAG_FINAL;
    rx->ready = true;
    rx->have = 0;
    if (rx->final) {
        /* The stream is over: nothing else will be decrypted. */
        sodium_memzero(&rx->st, sizeof rx->st);
        rx->phase = RX_DONE;
    } else {
        rx->phase = RX_LEN;
    }
    return 1;
}

int kz_frame_rx_feed(kz_frame_rx *rx, const uint8_t *bytes, size_t n, size_t *consumed)
{
    if (!rx || !consumed || (!bytes && n))
        return KZ_EINVAL;
    *consumed = 0;
    if (rx->phase == RX_FAILED)
        return rx->err;
    if (rx->phase == RX_CLOSED)
        return KZ_EINVAL;
    if (rx->ready)
        return 1; /* the caller has not taken the previous frame yet */
    if (rx->taken) { /* the previous frame's plaintext dies now */
        rx->taken = false;
        rx_release(rx, false);
    }

    size_t off = 0;
    while (off < n) {
        const uint8_t *p = bytes + off;
        size_t avail = n - off;
        switch (rx->phase) {
        case RX_HEADER: {
            size_t take = KZ_FRAME_HEADER_BYTES - rx->have;
            if (take > avail)
                take = avail;
            memcpy(rx->hdr + rx->have, p, take);
            rx->have += take;
            off += take;
            if (rx->have == KZ_FRAME_HEADER_BYTES) {
                int rc = crypto_secretstream_xchacha20poly1305_init_pull(&rx->st, rx->hdr,
                                                                         rx->key);
                sodium_memzero(rx->key, sizeof rx->key);
                if (rc != 0)
                    return rx_fail(rx, KZ_EAUTH);
                rx->have = 0;
                rx->phase = RX_LEN;
            }
            break;
        }
        case RX_LEN: {
            size_t take = KZ_FRAME_LEN_BYTES - rx->have;
            if (take > avail)
                take = avail;
            memcpy(rx->lenbuf + rx->have, p, take);
            rx->have += take;
            off += take;
            if (rx->have < KZ_FRAME_LEN_BYTES)
                break;
            uint32_t L = get_be32(rx->lenbuf);
            /* The limits are checked before a single byte is buffered. */
            if (L > KZ_FRAME_MAX + KZ_FRAME_ABYTES) {
                *consumed = off;
                return rx_fail(rx, KZ_ETOOBIG);
            }
            if (L < KZ_FRAME_ABYTES) {
                *consumed = off;
                return rx_fail(rx, KZ_EPROTO);
            }
            rx->ct_len = L;
            rx->have = 0;
            rx->phase = RX_BODY;
            break;
        }
        case RX_BODY:
            if (rx->have == 0 && avail >= rx->ct_len) {
                /* The whole frame is in this chunk: decrypt it in place
                 * of the caller's bytes, no copy. */
                off += rx->ct_len;
                *consumed = off;
                return rx_open(rx, p);
            } else {
                if (ensure(&rx->ct, &rx->ct_cap, rx->ct_len) != 0) {
                    *consumed = off;
                    return rx_fail(rx, KZ_ENOMEM);
                }
                size_t take = rx->ct_len - rx->have;
                if (take > avail)
                    take = avail;
                memcpy(rx->ct + rx->have, p, take);
                rx->have += take;
                off += take;
                if (rx->have == rx->ct_len) {
                    *consumed = off;
                    return rx_open(rx, rx->ct);
                }
            }
            break;
        case RX_DONE:
            /* Anything after the FINAL frame is a protocol violation. */
            *consumed = off;
            return rx_fail(rx, KZ_EPROTO);
        default:
            return rx_fail(rx, KZ_EINVAL);
        }
    }
    *consumed = off;
    return 0;
}

int kz_frame_rx_next(kz_frame_rx *rx, const uint8_t **pt, size_t *len, bool *final)
{
    if (!rx || !pt || !len)
        return KZ_EINVAL;
    if (rx->phase == RX_FAILED)
        return rx->err;
    if (!rx->ready)
        return 0;
    rx->ready = false;
    *pt = rx->pt;
    *len = rx->pt_len;
    if (final)
        *final = rx->final;
    rx->taken = true; /* stays alive until the next feed */
    return 1;
}

int kz_frame_rx_input(kz_frame_rx *rx, const uint8_t *bytes, size_t n, kz_frame_cb cb, void *arg)
{
    if (!rx || !cb || (!bytes && n))
        return KZ_EINVAL;
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        int rc = kz_frame_rx_feed(rx, bytes + off, n - off, &used);
        if (rc < 0)
            return rc;
        off += used;
        if (rc == 0)
            return 0;
        const uint8_t *pt = NULL;
        size_t len = 0;
        bool final = false;
        rc = kz_frame_rx_next(rx, &pt, &len, &final);
        if (rc < 0)
            return rc;
        rc = cb(arg, pt, len, final);
        if (rc != 0)
            return rx_fail(rx, rc < 0 ? rc : KZ_EINVAL);
        if (off == n)
            return 0;
    }
}

bool kz_frame_rx_finished(const kz_frame_rx *rx)
{
    return rx && rx->phase == RX_DONE && !rx->ready;
}

void kz_frame_rx_close(kz_frame_rx *rx)
{
    if (!rx)
        return;
    rx_release(rx, true);
    sodium_memzero(rx, sizeof *rx);
}
