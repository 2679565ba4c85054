/* kz_frame.h: encrypted, length-prefixed frames of the post-handshake transport.
 *
 * After the Noise handshake each direction of a connection is one libsodium
 * crypto_secretstream_xchacha20poly1305 stream keyed by one of the two keys
 * from Noise Split(): the initiator's tx key is the responder's rx key and the
 * other way round. On the wire, per direction:
 *
 *     header (24 bytes, once)  then  frame, frame, ...
 *     frame = L (4 bytes, big-endian) || secretstream ciphertext (L bytes)
 *
 * where L = plaintext length + KZ_FRAME_ABYTES (17) and KZ_FRAME_ABYTES <= L
 * <= KZ_FRAME_MAX + KZ_FRAME_ABYTES. Every frame carries the secretstream tag
 * MESSAGE except the last one of a direction, which carries FINAL; nothing may
 * follow a FINAL frame. secretstream's internal counter makes every frame
 * authenticate only at its own position, so dropped, reordered, replayed or
 * truncated frames fail authentication. docs/protocol.md ("Frames and messages") gives every
 * byte.
 *
 * This module does no I/O: the sender produces wire bytes into a caller
 * buffer; the receiver is fed whatever chunks the socket delivered.
 *
 * Error policy: every receiver error is fatal. Once kz_frame_rx_feed() has
 * returned an error, every later call returns that same error and the caller
 * must drop the connection. Secrets (keys and derived stream state) are wiped
 * with sodium_memzero() by the close functions and on failure. */
#ifndef KZ_FRAME_H
#define KZ_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "kz_base.h"

#define KZ_FRAME_KEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES       /* 32 */
#define KZ_FRAME_HEADER_BYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES /* 24 */
#define KZ_FRAME_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES            /* 17 */
#define KZ_FRAME_LEN_BYTES 4
/* Hard maximum plaintext per frame. */
#define KZ_FRAME_MAX (1u << 20)
/* Wire bytes of one frame carrying n plaintext bytes (length prefix included). */
#define KZ_FRAME_WIRE_SIZE(n) ((size_t)(n) + KZ_FRAME_LEN_BYTES + KZ_FRAME_ABYTES)
/* The largest frame on the wire. */
#define KZ_FRAME_WIRE_MAX KZ_FRAME_WIRE_SIZE(KZ_FRAME_MAX)

/* ---- Sender ---------------------------------------------------------- */

/* Caller-allocated; treat as opaque. */
typedef struct {
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t phase; /* internal: 0 closed, 1 open, 2 final frame sealed */
} kz_frame_tx;

/* Start the sending stream of one direction with key (this side's tx key from
 * Split()). Writes the random stream header to header_out; the caller sends it
 * before any frame. The key is not kept (the caller wipes its own copy).
 * Returns 0, or KZ_EINVAL on NULL arguments. */
int kz_frame_tx_init(kz_frame_tx *tx, const uint8_t key[KZ_FRAME_KEY_BYTES],
                     uint8_t header_out[KZ_FRAME_HEADER_BYTES]) KZ_WARN_UNUSED;

/* TESTS AND GOLDEN VECTORS ONLY: like kz_frame_tx_init() but with a chosen
 * header instead of a random one, so that frame bytes are reproducible.
 * Reusing a (key, header) pair reuses nonces and destroys confidentiality;
 * production code must call kz_frame_tx_init(). */
int kz_frame_tx_init_with_header(kz_frame_tx *tx, const uint8_t key[KZ_FRAME_KEY_BYTES],
                                 const uint8_t header[KZ_FRAME_HEADER_BYTES]) KZ_WARN_UNUSED;

/* Seal len plaintext bytes (len <= KZ_FRAME_MAX; 0 is allowed) as the next
 * frame and write its complete wire bytes, length prefix included, to out
 * (outsz >= KZ_FRAME_WIRE_SIZE(len)); *outlen receives KZ_FRAME_WIRE_SIZE(len).
 * plaintext and out must not overlap.
 * Returns 0, KZ_ETOOBIG (len over KZ_FRAME_MAX), KZ_EINVAL (out too small,
 * NULL arguments, tx not open or already finished). On failure nothing is
 * written and the stream state is unchanged. */
int kz_frame_seal(kz_frame_tx *tx, const uint8_t *plaintext, size_t len, uint8_t *out,
                  size_t outsz, size_t *outlen) KZ_WARN_UNUSED;

/* As kz_frame_seal() but tags the frame FINAL: the last frame of this
 * direction (in kizuna it carries BYE or ERROR). Afterwards the tx refuses to
 * seal anything (KZ_EINVAL). */
int kz_frame_seal_final(kz_frame_tx *tx, const uint8_t *plaintext, size_t len, uint8_t *out,
                        size_t outsz, size_t *outlen) KZ_WARN_UNUSED;

/* Wipe the stream state. Safe on a zeroed or already-closed tx. */
void kz_frame_tx_close(kz_frame_tx *tx);

/* ---- Receiver -------------------------------------------------------- */

/* Caller-allocated; treat as opaque. Holds at most one frame: its ciphertext
 * buffer (at most KZ_FRAME_MAX + KZ_FRAME_ABYTES bytes) and its plaintext
 * buffer (at most KZ_FRAME_MAX bytes), both allocated only after the frame's
 * length prefix passed the limit check, and released again after a large
 * frame. */
typedef struct {
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t key[KZ_FRAME_KEY_BYTES]; /* until the header has arrived */
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    uint8_t lenbuf[KZ_FRAME_LEN_BYTES];
    uint8_t phase;                   /* internal state machine */
    bool ready;                      /* a frame is decrypted and not yet taken */
    bool taken;                      /* it was taken; freed at the next feed */
    bool final;                      /* that frame carried the FINAL tag */
    int err;                         /* sticky error, 0 while healthy */
    size_t have;                     /* bytes collected of the current part */
    size_t ct_len;                   /* declared ciphertext length L */
    uint8_t *ct;
    size_t ct_cap;
    uint8_t *pt;
    size_t pt_cap, pt_len;
} kz_frame_rx;

/* Start the receiving stream of one direction with key (this side's rx key
 * from Split()). A copy of the key is kept only until the peer's 24-byte
 * header has arrived, then wiped. Returns 0 or KZ_EINVAL. */
int kz_frame_rx_init(kz_frame_rx *rx, const uint8_t key[KZ_FRAME_KEY_BYTES]) KZ_WARN_UNUSED;

/* Feed socket bytes in [bytes, bytes+n), in chunks of any size. Consumes the
 * stream header, then frames; it stops right after the first frame that
 * completes, so that at most one frame is ever buffered, and sets *consumed
 * to the number of bytes used. The caller takes that frame with
 * kz_frame_rx_next() and feeds the rest of its chunk again.
 *
 * A frame is decrypted and authenticated whole before any of it is
 * available. A length prefix is checked before anything is allocated.
 *
 * Returns 1 when a frame is ready (also, consuming nothing, when the previous
 * frame has not been taken yet), 0 when all n bytes were consumed and more are
 * needed, or a fatal error:
 *   KZ_ETOOBIG  declared L > KZ_FRAME_MAX + KZ_FRAME_ABYTES
 *   KZ_EPROTO   declared L < KZ_FRAME_ABYTES; a tag other than MESSAGE or
 *               FINAL; any byte after the FINAL frame
 *   KZ_EAUTH    a frame failed authentication (tampered, truncated,
 *               reordered, replayed, wrong key)
 *   KZ_ENOMEM   the frame buffer could not be allocated
 *   KZ_EINVAL   NULL arguments or rx not initialised
 * After an error *consumed is unspecified; the rx is failed for good. */
int kz_frame_rx_feed(kz_frame_rx *rx, const uint8_t *bytes, size_t n,
                     size_t *consumed) KZ_WARN_UNUSED;

/* Take the ready frame: returns 1 and sets *pt, *len and *final (true for
 * the FINAL frame); returns 0 when no frame is ready; returns the sticky error
 * when the rx has failed. *pt is owned by rx and stays valid until the next
 * kz_frame_rx_feed(), kz_frame_rx_input() or kz_frame_rx_close(); anything
 * decoded from it in place (kz_wire_decode) has the same lifetime. final may
 * be NULL. */
int kz_frame_rx_next(kz_frame_rx *rx, const uint8_t **pt, size_t *len, bool *final);

/* Callback for kz_frame_rx_input(): one authenticated frame; pt is valid
 * only during the call. Return 0 to go on, or a negative KZ_E* code to stop. */
typedef int (*kz_frame_cb)(void *arg, const uint8_t *pt, size_t len, bool final);

/* Convenience loop over kz_frame_rx_feed()/kz_frame_rx_next(): consume all n
 * bytes, calling cb for each frame in order. Returns 0 when all bytes were
 * consumed, a feed error, or the first non-zero value cb returned; in both
 * error cases the rx is failed for good (the remaining bytes are lost). */
int kz_frame_rx_input(kz_frame_rx *rx, const uint8_t *bytes, size_t n, kz_frame_cb cb,
                      void *arg) KZ_WARN_UNUSED;

/* Has the peer's FINAL frame been received and taken? Then the peer closed
 * its direction deliberately (as opposed to a dropped connection). */
bool kz_frame_rx_finished(const kz_frame_rx *rx);

/* Wipe keys and stream state and free the buffers. Safe on a zeroed or
 * already-closed rx. */
void kz_frame_rx_close(kz_frame_rx *rx);

#endif
