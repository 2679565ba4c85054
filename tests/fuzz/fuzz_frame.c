/* kz-test-link: kz_protocol */
/* fuzz_frame.c: frame receiver fed hostile or damaged streams in arbitrary chunks; frames it delivers decode as wire messages.
 *
 * Input byte 0 picks a mode:
 *   even: the rest is raw socket bytes (chunk sizes from byte 1) for a
 *         receiver with a fixed key: exercises header and length handling
 *         and the authentication failure paths.
 *   odd:  the rest describes a genuine stream (frame lengths and contents),
 *         an optional damage (xor one byte, or cut the stream) and chunk
 *         sizes. Oracle: the receiver delivers exactly a prefix of the
 *         genuine frames, in order, and all of them when nothing was damaged. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_frame.h"
#include "kz_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fkey[KZ_FRAME_KEY_BYTES] = {
    0x6b, 0x69, 0x7a, 0x75, 0x6e, 0x61, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x31,
    0x6b, 0x69, 0x7a, 0x75, 0x6e, 0x61, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x32};
static const uint8_t fhdr[KZ_FRAME_HEADER_BYTES] = {
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27};

#define MAX_FRAMES 8
#define MAX_PT 600

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_frame: %s\n", what);
        abort();
    }
}

/* Whatever a frame holds, the wire decoder must cope with it. */
static void decode_frame(const uint8_t *pt, size_t len)
{
    kz_wire_msg m;
    if (kz_wire_decode(&m, pt, len) == 0)
        check(m.type >= KZ_MSG_HELLO && m.type <= KZ_MSG_MAX, "decoded type");
}

static int raw_cb(void *arg, const uint8_t *pt, size_t len, bool final)
{
    check(len <= KZ_FRAME_MAX, "frame too large");
    decode_frame(pt, len);
    return 0;
}

static void run_raw(const uint8_t *d, size_t n)
{
    if (n < 1)
        return;
    size_t step = 1 + d[0] % 97;
    d++, n--;
    kz_frame_rx rx;
    check(kz_frame_rx_init(&rx, fkey) == 0, "rx init");
    for (size_t off = 0; off < n; off += step) {
        size_t k = n - off < step ? n - off : step;
        int rc = kz_frame_rx_input(&rx, d + off, k, raw_cb, NULL);
        if (rc != 0) {
            check(rc == KZ_ETOOBIG || rc == KZ_EPROTO || rc == KZ_EAUTH, "raw: error code");
            check(rx.ct == NULL && rx.pt == NULL, "raw: buffers kept after failure");
            break;
        }
        check(rx.ct_cap <= KZ_FRAME_MAX + KZ_FRAME_ABYTES, "raw: buffer over the bound");
    }
    kz_frame_rx_close(&rx);
}

typedef struct {
    uint8_t pt[MAX_FRAMES][MAX_PT];
    size_t len[MAX_FRAMES];
    int nframes, got;
    bool final_seen;
} oracle;

static int genuine_cb(void *arg, const uint8_t *pt, size_t len, bool final)
{
    oracle *o = arg;
    check(o->got < o->nframes, "more frames than were sent");
    check(len == o->len[o->got] && (len == 0 || memcmp(pt, o->pt[o->got], len) == 0),
          "delivered a frame that was not sent");
    check(final == (o->got == o->nframes - 1) && !o->final_seen, "final flag");
    o->final_seen = final;
    o->got++;
    decode_frame(pt, len);
    return 0;
}

static void run_genuine(const uint8_t *d, size_t n)
{
    static oracle o;
    static uint8_t wire[KZ_FRAME_HEADER_BYTES + MAX_FRAMES * KZ_FRAME_WIRE_SIZE(MAX_PT)];
    size_t i = 0;
    if (n < 4)
        return;
    memset(&o, 0, sizeof o);
    o.nframes = 1 + d[i++] % MAX_FRAMES;
    uint8_t damage = d[i++];   /* 0..84: none, 85..169: xor a byte, 170..: cut */
    uint16_t where = (uint16_t)(d[i] << 8 | d[i + 1]);
    i += 2;
    uint8_t xor = (uint8_t)(where | 1);

    kz_frame_tx tx;
    check(kz_frame_tx_init_with_header(&tx, fkey, fhdr) == 0, "tx init");
    size_t w = 0;
    memcpy(wire, fhdr, sizeof fhdr), w += sizeof fhdr;
    for (int f = 0; f < o.nframes; f++) {
        size_t len = i < n ? (size_t)d[i++] * 2 % (MAX_PT + 1) : 0;
        for (size_t k = 0; k < len; k++)
            o.pt[f][k] = i < n ? d[i++] : (uint8_t)k;
        o.len[f] = len;
        size_t out = 0;
        bool last = f == o.nframes - 1;
        int rc = last ? kz_frame_seal_final(&tx, o.pt[f], len, wire + w, sizeof wire - w, &out)
                      : kz_frame_seal(&tx, o.pt[f], len, wire + w, sizeof wire - w, &out);
        check(rc == 0, "seal");
        w += out;
    }
    kz_frame_tx_close(&tx);

    size_t total = w;
    bool damaged = false;
    if (damage >= 85 && damage < 170) {
        wire[where % total] ^= xor;
        damaged = true;
    } else if (damage >= 170) {
        total = where % total;
        damaged = true;
    }

    kz_frame_rx rx;
    check(kz_frame_rx_init(&rx, fkey) == 0, "rx init");
    int rc = 0;
    size_t off = 0;
    while (off < total && rc == 0) {
        size_t step = i < n ? 1 + (size_t)(d[i++] % 200) : total - off;
        if (step > total - off)
            step = total - off;
        rc = kz_frame_rx_input(&rx, wire + off, step, genuine_cb, &o);
        off += step;
    }
    if (!damaged) {
        check(rc == 0, "genuine stream refused");
        check(o.got == o.nframes && kz_frame_rx_finished(&rx), "genuine stream incomplete");
    } else {
        check(rc == 0 || rc == KZ_EAUTH || rc == KZ_EPROTO || rc == KZ_ETOOBIG,
              "damaged: error code");
        /* Every byte is either authenticated or a length prefix whose change
         * shifts frame boundaries, so damage can never go unnoticed: the
         * stream does not complete. */
        check(o.got < o.nframes && !kz_frame_rx_finished(&rx), "damage went unnoticed");
    }
    kz_frame_rx_close(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        run_genuine(data + 1, size - 1);
    else
        run_raw(data + 1, size - 1);
    return 0;
}
