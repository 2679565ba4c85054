/* wire.c: peer wire messages: strict zero-copy decoder, canonical encoders, version negotiation. */
#include "kz_wire.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Failure reasons -------------------------------------------------- */

static _Thread_local char wire_why[160];

KZ_PRINTF(2, 3) static int fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wire_why, sizeof wire_why, fmt, ap);
    va_end(ap);
    return err;
}

const char *kz_wire_last_error(void)
{
    return wire_why[0] ? wire_why : "no error";
}

static const char *const type_names[] = {
    [KZ_MSG_HELLO] = "HELLO", [KZ_MSG_PING] = "PING",     [KZ_MSG_PONG] = "PONG",
    [KZ_MSG_HAVE] = "HAVE",   [KZ_MSG_WANT] = "WANT",     [KZ_MSG_RECORDS] = "RECORDS",
    [KZ_MSG_RECON] = "RECON", [KZ_MSG_ERROR] = "ERROR",   [KZ_MSG_BYE] = "BYE",
};

const char *kz_wire_type_name(uint32_t type)
{
    if (type == 0 || type > KZ_MSG_MAX)
        return "unknown";
    return type_names[type];
}

static const char *const errcode_names[] = {
    [KZ_WERR_PROTOCOL] = "protocol", [KZ_WERR_VERSION] = "version",
    [KZ_WERR_AUTH] = "auth",         [KZ_WERR_BLOCKED] = "blocked",
    [KZ_WERR_BUSY] = "busy",         [KZ_WERR_DUPLICATE] = "duplicate",
    [KZ_WERR_TIMEOUT] = "timeout",   [KZ_WERR_INTERNAL] = "internal",
};

const char *kz_wire_errcode_name(uint32_t code)
{
    if (code == 0 || code > KZ_WERR_MAX)
        return "unknown";
    return errcode_names[code];
}

/* ---- Strict cursor -----------------------------------------------------
 * Reads exactly one msgpack object of an expected type from a bounded
 * buffer. Each reader checks that the object's header and every byte it
 * declares lie inside the buffer before moving, and accepts only the
 * shortest form (what msgpack-c's packer writes), so a decoded message
 * re-encodes to the same bytes. The cursor never moves on failure. */

typedef struct {
    const uint8_t *p;
    size_t len, off;
} cur;

static size_t left(const cur *c)
{
    return c->len - c->off;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Header of a variable-length object: returns its size field width for the
 * marker b (0 when b is not one of the three markers m8/m16/m32). */
static unsigned width(uint8_t b, uint8_t m8, uint8_t m16, uint8_t m32)
{
    return b == m8 ? 1 : b == m16 ? 2 : b == m32 ? 4 : 0;
}

static int rd_uint(cur *c, uint64_t *v, const char *what)
{
    if (left(c) < 1)
        return fail(KZ_EDECODE, "%s: truncated", what);
    uint8_t b = c->p[c->off];
    if (b <= 0x7f) {
        *v = b;
        c->off++;
        return 0;
    }
    unsigned n;
    uint64_t min;
    switch (b) {
    case 0xcc: n = 1, min = 0x80; break;
    case 0xcd: n = 2, min = 0x100; break;
    case 0xce: n = 4, min = 0x10000; break;
    case 0xcf: n = 8, min = 0x100000000ull; break;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3:
        /* Signed forms: never canonical for our (unsigned) fields. */
        return fail(KZ_ENONCANON, "%s: signed integer form", what);
    default:
        if (b >= 0xe0)
            return fail(KZ_EDECODE, "%s: negative integer", what);
        return fail(KZ_EDECODE, "%s: expected an unsigned integer (0x%02x)", what, b);
    }
    if (left(c) < 1 + (size_t)n)
        return fail(KZ_EDECODE, "%s: truncated", what);
    uint64_t x = be(c->p + c->off + 1, n);
    if (x < min)
        return fail(KZ_ENONCANON, "%s: integer %llu not in its shortest form", what,
                    (unsigned long long)x);
    *v = x;
    c->off += 1 + n;
    return 0;
}

static int rd_u32(cur *c, uint32_t *v, const char *what)
{
    uint64_t x = 0;
    int rc = rd_uint(c, &x, what);
    if (rc)
        return rc;
    if (x > UINT32_MAX)
        return fail(KZ_EDECODE, "%s: %llu out of range", what, (unsigned long long)x);
    *v = (uint32_t)x;
    return 0;
}

/* An array header whose count is checked against the bytes that remain
 * (every element takes at least one byte). */
static int rd_array(cur *c, uint32_t *count, const char *what)
{
    if (left(c) < 1)
        return fail(KZ_EDECODE, "%s: truncated", what);
    uint8_t b = c->p[c->off];
    uint64_t n;
    size_t hdr;
    if ((b & 0xf0) == 0x90) {
        n = b & 0x0f, hdr = 1;
    } else if (b == 0xdc || b == 0xdd) {
        unsigned w = b == 0xdc ? 2 : 4;
        if (left(c) < 1 + (size_t)w)
            return fail(KZ_EDECODE, "%s: truncated", what);
        n = be(c->p + c->off + 1, w), hdr = 1 + w;
        if (n < (w == 2 ? 16u : 0x10000u))
            return fail(KZ_ENONCANON, "%s: array header not in its shortest form", what);
    } else {
        return fail(KZ_EDECODE, "%s: expected an array (0x%02x)", what, b);
    }
    if (n > left(c) - hdr)
        return fail(KZ_EDECODE, "%s: %llu elements declared, %zu bytes left", what,
                    (unsigned long long)n, left(c) - hdr);
    c->off += hdr;
    *count = (uint32_t)n;
    return 0;
}

/* A bin (is_str false) or str (is_str true) with its length checked against
 * the bytes that remain. */
static int rd_blob(cur *c, bool is_str, const uint8_t **p, uint32_t *len, const char *what)
{
    if (left(c) < 1)
        return fail(KZ_EDECODE, "%s: truncated", what);
    uint8_t b = c->p[c->off];
    uint64_t n;
    size_t hdr;
    unsigned w = is_str ? width(b, 0xd9, 0xda, 0xdb) : width(b, 0xc4, 0xc5, 0xc6);
    if (is_str && (b & 0xe0) == 0xa0) {
        n = b & 0x1f, hdr = 1;
    } else if (w) {
        if (left(c) < 1 + (size_t)w)
            return fail(KZ_EDECODE, "%s: truncated", what);
        n = be(c->p + c->off + 1, w), hdr = 1 + w;
        /* Shortest form: str8 starts at 32 (fixstr below), bin8 at 0. */
        uint64_t min = w == 1 ? (is_str ? 32u : 0u) : w == 2 ? 0x100u : 0x10000u;
        if (n < min)
            return fail(KZ_ENONCANON, "%s: length header not in its shortest form", what);
    } else {
        return fail(KZ_EDECODE, "%s: expected %s (0x%02x)", what, is_str ? "a string" : "binary",
                    b);
    }
    if (n > left(c) - hdr)
        return fail(KZ_EDECODE, "%s: %llu bytes declared, %zu left", what,
                    (unsigned long long)n, left(c) - hdr);
    *p = c->p + c->off + hdr;
    *len = (uint32_t)n;
    c->off += hdr + (size_t)n;
    return 0;
}

static int rd_bin(cur *c, const uint8_t **p, uint32_t *len, uint32_t min, uint32_t max,
                  const char *what)
{
    cur save = *c;
    int rc = rd_blob(c, false, p, len, what);
    if (rc)
        return rc;
    if (*len > max) {
        *c = save;
        return fail(min == max ? KZ_EDECODE : KZ_ETOOBIG, "%s: %u bytes, limit %u", what, *len,
                    max);
    }
    if (*len < min) {
        *c = save;
        return fail(KZ_EDECODE, "%s: %u bytes, need %u", what, *len, min);
    }
    return 0;
}

/* ---- Decoding --------------------------------------------------------- */

/* Elements after the type, per message type (index = type). */
static const uint8_t arity[] = {
    [KZ_MSG_HELLO] = 6, [KZ_MSG_PING] = 1,    [KZ_MSG_PONG] = 1,
    [KZ_MSG_HAVE] = 1,  [KZ_MSG_WANT] = 1,    [KZ_MSG_RECORDS] = 1,
    [KZ_MSG_RECON] = 3, [KZ_MSG_ERROR] = 2,   [KZ_MSG_BYE] = 0,
};

/* The list of a HAVE, WANT or RECORDS: walks n elements from c and records
 * where they lie. */
static int rd_items(cur *c, kz_msg_type type, uint32_t n, const uint8_t **items,
                    size_t *items_len)
{
    const char *name = kz_wire_type_name(type);
    size_t start = c->off;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p;
        uint32_t len = 0;
        int rc = type == KZ_MSG_RECORDS
                     ? rd_bin(c, &p, &len, 1, KZ_RECORD_MAX, "RECORDS: record")
                     : rd_bin(c, &p, &len, KZ_ID_BYTES, KZ_ID_BYTES, "id");
        if (rc) {
            char inner[sizeof wire_why];
            memcpy(inner, wire_why, sizeof inner);
            return fail(rc, "%s: item %u: %s", name, i, inner);
        }
    }
    *items = c->p + start;
    *items_len = c->off - start;
    return 0;
}

static int rd_list(cur *c, kz_wire_msg *m)
{
    const char *name = kz_wire_type_name(m->type);
    uint32_t limit = m->type == KZ_MSG_RECORDS ? KZ_WIRE_RECORDS_MAX : KZ_WIRE_IDS_MAX;
    uint32_t n;
    int rc = rd_array(c, &n, name);
    if (rc)
        return rc;
    if (n == 0)
        return fail(KZ_EDECODE, "%s: empty list", name);
    if (n > limit)
        return fail(KZ_ETOOBIG, "%s: %u items, limit %u", name, n, limit);
    m->u.list.n = n;
    return rd_items(c, m->type, n, &m->u.list.items, &m->u.list.items_len);
}

static int rd_hello(cur *c, kz_wire_hello *h)
{
    const uint8_t *id;
    uint32_t idlen;
    int rc;
    if ((rc = rd_u32(c, &h->version_min, "HELLO: version_min")) ||
        (rc = rd_u32(c, &h->version_max, "HELLO: version_max")))
        return rc;
    if (h->version_min < 1 || h->version_min > h->version_max)
        return fail(KZ_EDECODE, "HELLO: bad version range %u..%u", h->version_min,
                    h->version_max);
    if ((rc = rd_bin(c, &id, &idlen, KZ_KEY_BYTES, KZ_KEY_BYTES, "HELLO: node_id")) ||
        (rc = rd_uint(c, &h->features, "HELLO: features")) ||
        (rc = rd_uint(c, &h->clock_ms, "HELLO: clock_ms")) ||
        (rc = rd_bin(c, &h->node_record.p, &h->node_record.n, 0, KZ_RECORD_MAX,
                     "HELLO: node_record")))
        return rc;
    memcpy(h->node_id, id, KZ_KEY_BYTES);
    return 0;
}

static int rd_body(cur *c, kz_wire_msg *m)
{
    int rc;
    switch (m->type) {
    case KZ_MSG_HELLO:
        return rd_hello(c, &m->u.hello);
    case KZ_MSG_PING:
    case KZ_MSG_PONG:
        return rd_uint(c, &m->u.nonce, m->type == KZ_MSG_PING ? "PING: nonce" : "PONG: nonce");
    case KZ_MSG_HAVE:
    case KZ_MSG_WANT:
    case KZ_MSG_RECORDS:
        return rd_list(c, m);
    case KZ_MSG_RECON:
        if ((rc = rd_u32(c, &m->u.recon.session, "RECON: session")) ||
            (rc = rd_u32(c, &m->u.recon.round, "RECON: round")))
            return rc;
        return rd_bin(c, &m->u.recon.payload.p, &m->u.recon.payload.n, 0, KZ_WIRE_RECON_MAX,
                      "RECON: payload");
    case KZ_MSG_ERROR: {
        const uint8_t *p;
        uint32_t n;
        if ((rc = rd_u32(c, &m->u.error.code, "ERROR: code")))
            return rc;
        cur save = *c;
        if ((rc = rd_blob(c, true, &p, &n, "ERROR: reason")))
            return rc;
        if (n > KZ_WIRE_REASON_MAX) {
            *c = save;
            return fail(KZ_ETOOBIG, "ERROR: reason of %u bytes, limit %u", n,
                        KZ_WIRE_REASON_MAX);
        }
        if (!kz_utf8_valid((const char *)p, n, 0))
            return fail(KZ_EDECODE, "ERROR: reason is not clean UTF-8");
        m->u.error.reason.p = (const char *)p;
        m->u.error.reason.n = n;
        return 0;
    }
    case KZ_MSG_BYE:
        return 0;
    }
    return fail(KZ_EPROTO, "unknown message type");
}

int kz_wire_decode(kz_wire_msg *m, const uint8_t *buf, size_t len)
{
    if (!m)
        return fail(KZ_EINVAL, "no message");
    memset(m, 0, sizeof *m);
    wire_why[0] = 0;
    if (!buf && len)
        return fail(KZ_EINVAL, "no buffer");
    if (len > KZ_FRAME_MAX)
        return fail(KZ_ETOOBIG, "message of %zu bytes, limit %u", len, KZ_FRAME_MAX);
    cur c = {buf, len, 0};
    uint32_t n;
    uint64_t type;
    int rc;
    if ((rc = rd_array(&c, &n, "message")))
        goto fail;
    if (n == 0) {
        rc = fail(KZ_EDECODE, "message: empty array");
        goto fail;
    }
    if ((rc = rd_uint(&c, &type, "message type")))
        goto fail;
    if (type == 0 || type > KZ_MSG_MAX) {
        rc = fail(KZ_EPROTO, "unknown message type %llu", (unsigned long long)type);
        goto fail;
    }
    m->type = (kz_msg_type)type;
    if (n - 1 != arity[type]) {
        rc = fail(KZ_EDECODE, "%s: %u elements, expected %u", kz_wire_type_name((uint32_t)type),
                  n - 1, arity[type]);
        goto fail;
    }
    if ((rc = rd_body(&c, m)))
        goto fail;
    if (c.off != len) {
        rc = fail(KZ_EDECODE, "%s: %zu bytes after the message", kz_wire_type_name(m->type),
                  len - c.off);
        goto fail;
    }
    return 0;
fail:
    memset(m, 0, sizeof *m);
    return rc;
}

const uint8_t *kz_wire_id_at(const kz_wire_msg *m, uint32_t i)
{
    if (!m || (m->type != KZ_MSG_HAVE && m->type != KZ_MSG_WANT) || i >= m->u.list.n)
        return NULL;
    /* Canonical ids are bin8 of 32 bytes: a fixed 34-byte stride. */
    return m->u.list.items + (size_t)i * (2 + KZ_ID_BYTES) + 2;
}

void kz_wire_records_begin(const kz_wire_msg *m, kz_wire_iter *it)
{
    memset(it, 0, sizeof *it);
    if (m && m->type == KZ_MSG_RECORDS) {
        it->p = m->u.list.items;
        it->end = m->u.list.items + m->u.list.items_len;
        it->left = m->u.list.n;
    }
}

bool kz_wire_records_next(kz_wire_iter *it, kz_bytes *rec)
{
    if (!it->left || !it->p)
        return false;
    /* Already validated by the decoder; the cursor re-checks bounds anyway
     * so that a hand-built message cannot walk out of its buffer. */
    cur c = {it->p, (size_t)(it->end - it->p), 0};
    if (rd_bin(&c, &rec->p, &rec->n, 1, KZ_RECORD_MAX, "record") != 0) {
        it->left = 0;
        return false;
    }
    it->p += c.off;
    it->left--;
    return true;
}

/* ---- Encoding ----------------------------------------------------------
 * msgpack-c's packer writes into a growable buffer that refuses to grow past
 * KZ_FRAME_MAX: a message that would not fit a frame fails with KZ_ETOOBIG
 * instead of being built. */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int err;
} wbuf;

static int wbuf_write(void *data, const char *src, size_t n)
{
    wbuf *w = data;
    if (w->err)
        return -1;
    if (n > KZ_FRAME_MAX - w->len) {
        w->err = KZ_ETOOBIG;
        return -1;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap < w->len + n)
            cap *= 2;
        if (cap > KZ_FRAME_MAX)
            cap = KZ_FRAME_MAX;
        uint8_t *q = realloc(w->p, cap);
        if (!q) {
            w->err = KZ_ENOMEM;
            return -1;
        }
        w->p = q, w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
    return 0;
}

static void enc_begin(wbuf *w, msgpack_packer *pk, size_t hint)
{
    memset(w, 0, sizeof *w);
    if (hint > KZ_FRAME_MAX)
        hint = KZ_FRAME_MAX;
    w->p = malloc(hint ? hint : 64);
    w->cap = w->p ? (hint ? hint : 64) : 0;
    msgpack_packer_init(pk, w, wbuf_write);
}

/* Hand the bytes to out, or free them and report why the packer failed. */
static int enc_end(wbuf *w, int pack_rc, kz_wire_buf *out, const char *name)
{
    if (pack_rc == 0 && !w->err) {
        out->p = w->p;
        out->len = w->len;
        return 0;
    }
    free(w->p);
    if (w->err == KZ_ETOOBIG)
        return fail(KZ_ETOOBIG, "%s: larger than one frame", name);
    return fail(KZ_ENOMEM, "%s: out of memory", name);
}

static int pack_head(msgpack_packer *pk, kz_msg_type type)
{
    return msgpack_pack_array(pk, 1u + arity[type]) || msgpack_pack_uint32(pk, type);
}

static int pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
    return msgpack_pack_bin(pk, n) || (n && msgpack_pack_bin_body(pk, p, n));
}

int kz_wire_encode_hello(const kz_wire_hello *h, kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "HELLO: no output");
    memset(out, 0, sizeof *out);
    if (!h || (!h->node_record.p && h->node_record.n))
        return fail(KZ_EINVAL, "HELLO: missing argument");
    if (h->version_min < 1 || h->version_min > h->version_max)
        return fail(KZ_EINVAL, "HELLO: bad version range %u..%u", h->version_min,
                    h->version_max);
    if (h->node_record.n > KZ_RECORD_MAX)
        return fail(KZ_ETOOBIG, "HELLO: node_record of %u bytes", h->node_record.n);
    wbuf w;
    msgpack_packer pk;
    enc_begin(&w, &pk, 64 + h->node_record.n);
    int rc = pack_head(&pk, KZ_MSG_HELLO) || msgpack_pack_uint32(&pk, h->version_min) ||
             msgpack_pack_uint32(&pk, h->version_max) ||
             pack_bin(&pk, h->node_id, KZ_KEY_BYTES) || msgpack_pack_uint64(&pk, h->features) ||
             msgpack_pack_uint64(&pk, h->clock_ms) ||
             pack_bin(&pk, h->node_record.p, h->node_record.n);
    return enc_end(&w, rc, out, "HELLO");
}

static int encode_nonce(kz_msg_type type, uint64_t nonce, kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "no output");
    memset(out, 0, sizeof *out);
    wbuf w;
    msgpack_packer pk;
    enc_begin(&w, &pk, 16);
    int rc = pack_head(&pk, type) || msgpack_pack_uint64(&pk, nonce);
    return enc_end(&w, rc, out, kz_wire_type_name(type));
}

int kz_wire_encode_ping(uint64_t nonce, kz_wire_buf *out)
{
    return encode_nonce(KZ_MSG_PING, nonce, out);
}

int kz_wire_encode_pong(uint64_t nonce, kz_wire_buf *out)
{
    return encode_nonce(KZ_MSG_PONG, nonce, out);
}

/* ids come either from a caller's array (ids != NULL) or from a decoded
 * message (from != NULL). */
static int encode_ids(kz_msg_type type, const uint8_t (*ids)[KZ_ID_BYTES],
                      const kz_wire_msg *from, uint32_t n, kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "no output");
    memset(out, 0, sizeof *out);
    if (type != KZ_MSG_HAVE && type != KZ_MSG_WANT)
        return fail(KZ_EINVAL, "ids: type %u is neither HAVE nor WANT", (unsigned)type);
    const char *name = kz_wire_type_name(type);
    if ((!ids && !from) || n == 0)
        return fail(KZ_EINVAL, "%s: no ids", name);
    if (n > KZ_WIRE_IDS_MAX)
        return fail(KZ_ETOOBIG, "%s: %u ids, limit %u", name, n, KZ_WIRE_IDS_MAX);
    wbuf w;
    msgpack_packer pk;
    enc_begin(&w, &pk, 8 + (size_t)n * (2 + KZ_ID_BYTES));
    int rc = pack_head(&pk, type) || msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; !rc && i < n; i++)
        rc = pack_bin(&pk, ids ? ids[i] : kz_wire_id_at(from, i), KZ_ID_BYTES);
    return enc_end(&w, rc, out, name);
}

int kz_wire_encode_ids(kz_msg_type type, const uint8_t (*ids)[KZ_ID_BYTES], uint32_t n,
                       kz_wire_buf *out)
{
    if (!ids)
        return fail(KZ_EINVAL, "ids: none given");
    return encode_ids(type, ids, NULL, n, out);
}

int kz_wire_encode_records(const kz_bytes *recs, uint32_t n, kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "RECORDS: no output");
    memset(out, 0, sizeof *out);
    if (!recs || n == 0)
        return fail(KZ_EINVAL, "RECORDS: no records");
    if (n > KZ_WIRE_RECORDS_MAX)
        return fail(KZ_ETOOBIG, "RECORDS: %u records, limit %u", n, KZ_WIRE_RECORDS_MAX);
    size_t total = KZ_WIRE_RECORDS_BASE;
    for (uint32_t i = 0; i < n; i++) {
        if (!recs[i].p || recs[i].n == 0)
            return fail(KZ_EINVAL, "RECORDS: record %u is empty", i);
        if (recs[i].n > KZ_RECORD_MAX)
            return fail(KZ_ETOOBIG, "RECORDS: record %u has %u bytes", i, recs[i].n);
        total += KZ_WIRE_RECORD_ITEM_OVERHEAD + recs[i].n;
    }
    wbuf w;
    msgpack_packer pk;
    enc_begin(&w, &pk, total);
    int rc = pack_head(&pk, KZ_MSG_RECORDS) || msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; !rc && i < n; i++)
        rc = pack_bin(&pk, recs[i].p, recs[i].n);
    return enc_end(&w, rc, out, "RECORDS");
}

int kz_wire_encode_recon(uint32_t session, uint32_t round, const uint8_t *payload, size_t len,
                         kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "RECON: no output");
    memset(out, 0, sizeof *out);
    if (!payload && len)
        return fail(KZ_EINVAL, "RECON: no payload");
    if (len > KZ_WIRE_RECON_MAX)
        return fail(KZ_ETOOBIG, "RECON: payload of %zu bytes, limit %u", len,
                    KZ_WIRE_RECON_MAX);
    wbuf w;
    msgpack_packer pk;
    enc_begin(&w, &pk, 24 + len);
    int rc = pack_head(&pk, KZ_MSG_RECON) || msgpack_pack_uint32(&pk, session) ||
             msgpack_pack_uint32(&pk, round) || pack_bin(&pk, payload, len);
    return enc_end(&w, rc, out, "RECON");
}

static int encode_error(uint32_t code, const char *reason, size_t n, kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "ERROR: no output");
    memset(out, 0, sizeof *out);
    if (n > KZ_WIRE_REASON_MAX)
        return fail(KZ_EINVAL, "ERROR: reason of %zu bytes, limit %u", n, KZ_WIRE_REASON_MAX);
    if (!kz_utf8_valid(reason, n, 0))
        return fail(KZ_EINVAL, "ERROR: reason is not clean UTF-8");
    wbuf w;
    msgpack_packer pk;
    enc_begin(&w, &pk, 16 + n);
    int rc = pack_head(&pk, KZ_MSG_ERROR) || msgpack_pack_uint32(&pk, code) ||
             msgpack_pack_str(&pk, n) || (n && msgpack_pack_str_body(&pk, reason, n));
    return enc_end(&w, rc, out, "ERROR");
}

int kz_wire_encode_error(uint32_t code, const char *reason, kz_wire_buf *out)
{
    return encode_error(code, reason ? reason : "", reason ? strlen(reason) : 0, out);
}

int kz_wire_encode_bye(kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "BYE: no output");
    memset(out, 0, sizeof *out);
    wbuf w;
    msgpack_packer pk;
    enc_begin(&w, &pk, 4);
    return enc_end(&w, pack_head(&pk, KZ_MSG_BYE), out, "BYE");
}

int kz_wire_encode(const kz_wire_msg *m, kz_wire_buf *out)
{
    if (!out)
        return fail(KZ_EINVAL, "no output");
    memset(out, 0, sizeof *out);
    if (!m)
        return fail(KZ_EINVAL, "no message");
    switch (m->type) {
    case KZ_MSG_HELLO:
        return kz_wire_encode_hello(&m->u.hello, out);
    case KZ_MSG_PING:
    case KZ_MSG_PONG:
        return encode_nonce(m->type, m->u.nonce, out);
    case KZ_MSG_HAVE:
    case KZ_MSG_WANT:
    case KZ_MSG_RECORDS: {
        /* A list is trusted only after the strict cursor has walked it. */
        if (!m->u.list.items)
            return fail(KZ_EINVAL, "%s: no items", kz_wire_type_name(m->type));
        cur c = {m->u.list.items, m->u.list.items_len, 0};
        const uint8_t *items;
        size_t items_len;
        int rc = rd_items(&c, m->type, m->u.list.n, &items, &items_len);
        if (rc)
            return rc;
        if (c.off != c.len)
            return fail(KZ_EINVAL, "%s: bytes after the last item", kz_wire_type_name(m->type));
        if (m->type != KZ_MSG_RECORDS)
            return encode_ids(m->type, NULL, m, m->u.list.n, out);
        if (m->u.list.n == 0)
            return fail(KZ_EINVAL, "RECORDS: no records");
        if (m->u.list.n > KZ_WIRE_RECORDS_MAX)
            return fail(KZ_ETOOBIG, "RECORDS: %u records", m->u.list.n);
        wbuf w;
        msgpack_packer pk;
        enc_begin(&w, &pk, KZ_WIRE_RECORDS_BASE + m->u.list.items_len);
        rc = pack_head(&pk, KZ_MSG_RECORDS) || msgpack_pack_array(&pk, m->u.list.n);
        kz_wire_iter it;
        kz_bytes rec;
        kz_wire_records_begin(m, &it);
        while (!rc && kz_wire_records_next(&it, &rec))
            rc = pack_bin(&pk, rec.p, rec.n);
        return enc_end(&w, rc, out, "RECORDS");
    }
    case KZ_MSG_RECON:
        return kz_wire_encode_recon(m->u.recon.session, m->u.recon.round, m->u.recon.payload.p,
                                    m->u.recon.payload.n, out);
    case KZ_MSG_ERROR:
        if (!m->u.error.reason.p && m->u.error.reason.n)
            return fail(KZ_EINVAL, "ERROR: no reason bytes");
        return encode_error(m->u.error.code, m->u.error.reason.n ? m->u.error.reason.p : "",
                            m->u.error.reason.n, out);
    case KZ_MSG_BYE:
        return kz_wire_encode_bye(out);
    }
    return fail(KZ_EINVAL, "unknown message type %u", (unsigned)m->type);
}

void kz_wire_buf_free(kz_wire_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

/* ---- Conversation helpers --------------------------------------------- */

int kz_wire_negotiate(const kz_wire_hello *mine, const kz_wire_hello *theirs, uint32_t *version)
{
    if (!mine || !theirs || !version)
        return KZ_EINVAL;
    uint32_t lo = mine->version_min > theirs->version_min ? mine->version_min
                                                          : theirs->version_min;
    uint32_t hi = mine->version_max < theirs->version_max ? mine->version_max
                                                          : theirs->version_max;
    if (lo > hi || lo == 0)
        return KZ_EPROTO;
    *version = hi;
    return 0;
}

int kz_wire_hello_check_static(const kz_wire_hello *h, const uint8_t remote_static[KZ_KEY_BYTES])
{
    if (!h || !remote_static)
        return KZ_EINVAL;
    uint8_t x[crypto_scalarmult_curve25519_BYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x, h->node_id) != 0)
        return KZ_EAUTH;
    int same = sodium_memcmp(x, remote_static, sizeof x) == 0;
    sodium_memzero(x, sizeof x);
    return same ? 0 : KZ_EAUTH;
}

bool kz_wire_final_ok(kz_msg_type type, bool final)
{
    bool closing = type == KZ_MSG_ERROR || type == KZ_MSG_BYE;
    return closing == final;
}
