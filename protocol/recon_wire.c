/* recon_wire.c: reconciliation messages on the wire: canonical msgpack out, strict cursor in. */
#include "recon_int.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* ---- Bounded buffer ------------------------------------------------------ */

void kz_recon_buf_init(kz_recon_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void kz_recon_buf_close(kz_recon_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int kz_recon_buf_append(kz_recon_buf *b, const void *p, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return KZ_ETOOBIG;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap = cap > b->max / 2 ? b->max : cap * 2;
        b->data = kz_xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* ---- Bounds and sizes ---------------------------------------------------- */

int kz__recon_bound_cmp(const kz__recon_bound *a, const kz__recon_bound *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return memcmp(a->prefix, b->prefix, KZ_RECON_ID_BYTES);
}

void kz__recon_bound_min(kz__recon_bound *b)
{
    memset(b, 0, sizeof *b);
}

void kz__recon_bound_inf(kz__recon_bound *b)
{
    memset(b, 0, sizeof *b);
    b->ts = KZ_RECON_TS_INF;
}

size_t kz__recon_uint_size(uint64_t v)
{
    if (v < 128)
        return 1;
    if (v < 256)
        return 2;
    if (v < 65536)
        return 3;
    if (v <= UINT32_MAX)
        return 5;
    return 9;
}

static size_t bin_size(size_t n)
{
    if (n < 256)
        return 2 + n;
    if (n < 65536)
        return 3 + n;
    return 5 + n;
}

/* The wire form of a bound's timestamp: 0 is infinity, otherwise one more
 * than the distance from the previous bound's timestamp. */
static uint64_t ts_encode(uint64_t prev_ts, const kz__recon_bound *b)
{
    return b->ts == KZ_RECON_TS_INF ? 0 : b->ts - prev_ts + 1;
}

static size_t payload_size(const kz__recon_range *r)
{
    switch (r->mode) {
    case KZ__RECON_FP:
        return bin_size(KZ_RECON_FP_BYTES) + kz__recon_uint_size(r->count);
    case KZ__RECON_IDLIST:
    case KZ__RECON_IDS:
        return bin_size(r->alen);
    case KZ__RECON_DIFF:
    case KZ__RECON_WANT:
        return bin_size(r->alen) + bin_size(r->blen);
    case KZ__RECON_SKETCH:
        return kz__recon_uint_size(r->count) + bin_size(r->alen);
    default:
        return 0;
    }
}

size_t kz__recon_range_size(uint64_t prev_ts, const kz__recon_range *r)
{
    /* fixarray header + ts + prefix + mode (a fixint) + payload */
    return 1 + kz__recon_uint_size(ts_encode(prev_ts, &r->hi)) + bin_size(r->hi.len) + 1 +
           payload_size(r);
}

/* ---- Encoder ------------------------------------------------------------- */

static int buf_write_cb(void *data, const char *p, size_t n)
{
    return kz_recon_buf_append(data, p, n) == 0 ? 0 : -1;
}

static int pack_bin(msgpack_packer *pk, const uint8_t *p, size_t n)
{
    if (msgpack_pack_bin(pk, n) != 0)
        return -1;
    return n ? msgpack_pack_bin_body(pk, p, n) : 0;
}

static int pack_range(msgpack_packer *pk, uint64_t prev_ts, const kz__recon_range *r)
{
    static const unsigned nelem[] = {3, 5, 4, 5, 4, 5, 5};
    int rc = msgpack_pack_array(pk, nelem[r->mode]);
    rc |= msgpack_pack_uint64(pk, ts_encode(prev_ts, &r->hi));
    rc |= pack_bin(pk, r->hi.prefix, r->hi.len);
    rc |= msgpack_pack_uint64(pk, r->mode);
    switch (r->mode) {
    case KZ__RECON_FP:
        rc |= pack_bin(pk, r->fp, KZ_RECON_FP_BYTES);
        rc |= msgpack_pack_uint64(pk, r->count);
        break;
    case KZ__RECON_IDLIST:
    case KZ__RECON_IDS:
        rc |= pack_bin(pk, r->a, r->alen);
        break;
    case KZ__RECON_DIFF:
    case KZ__RECON_WANT:
        rc |= pack_bin(pk, r->a, r->alen);
        rc |= pack_bin(pk, r->b, r->blen);
        break;
    case KZ__RECON_SKETCH:
        rc |= msgpack_pack_uint64(pk, r->count);
        rc |= pack_bin(pk, r->a, r->alen);
        break;
    default:
        break;
    }
    return rc ? KZ_ETOOBIG : 0;
}

int kz__recon_msg_encode(kz_recon_buf *out, const kz__recon_msg *open, const kz__recon_range *rs,
                         size_t n)
{
    msgpack_packer pk;
    kz__recon_bound prev;
    size_t total = n;

    out->len = 0;
    kz__recon_bound_min(&prev);
    for (size_t i = 0; i < n; i++) {
        if (kz__recon_bound_cmp(&rs[i].lo, &prev) != 0)
            total++;
        prev = rs[i].hi;
    }
    uint8_t version = KZ_RECON_VERSION;
    if (kz_recon_buf_append(out, &version, 1) != 0)
        return KZ_ETOOBIG;
    msgpack_packer_init(&pk, out, buf_write_cb);
    if (open) {
        if (pack_bin(&pk, open->salt, KZ_RECON_SALT_BYTES) != 0 ||
            msgpack_pack_uint64(&pk, open->limit) != 0)
            return KZ_ETOOBIG;
    }
    if (msgpack_pack_array(&pk, total) != 0)
        return KZ_ETOOBIG;
    kz__recon_bound_min(&prev);
    for (size_t i = 0; i < n; i++) {
        if (kz__recon_bound_cmp(&rs[i].lo, &prev) != 0) {
            kz__recon_range skip = {.hi = rs[i].lo, .mode = KZ__RECON_SKIP};
            int rc = pack_range(&pk, prev.ts, &skip);
            if (rc)
                return rc;
            prev = rs[i].lo;
        }
        int rc = pack_range(&pk, prev.ts, &rs[i]);
        if (rc)
            return rc;
        prev = rs[i].hi;
    }
    return 0;
}

/* ---- Strict decoder ---------------------------------------------------------
 * A cursor over the received bytes. Every length is checked against the bytes
 * left before it is used, and every integer and header must use msgpack's
 * shortest form, so each message has exactly one encoding. */

typedef struct {
    const uint8_t *p;
    size_t n;
} cursor;

static uint64_t be_read(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads a type byte and an n-byte big-endian length/value after it. */
static int cur_take(cursor *c, size_t n, uint64_t *v)
{
    if (c->n < 1 + n)
        return KZ_EDECODE;
    *v = be_read(c->p + 1, n);
    c->p += 1 + n;
    c->n -= 1 + n;
    return 0;
}

static int cur_uint(cursor *c, uint64_t *v)
{
    if (c->n < 1)
        return KZ_EDECODE;
    uint8_t t = c->p[0];
    int rc;
    uint64_t min;
    if (t <= 0x7f) {
        c->p++;
        c->n--;
        *v = t;
        return 0;
    }
    switch (t) {
    case 0xcc: rc = cur_take(c, 1, v); min = 128; break;
    case 0xcd: rc = cur_take(c, 2, v); min = 256; break;
    case 0xce: rc = cur_take(c, 4, v); min = 65536; break;
    case 0xcf: rc = cur_take(c, 8, v); min = (uint64_t)UINT32_MAX + 1; break;
    default: return KZ_EDECODE;
    }
    if (rc)
        return rc;
    return *v < min ? KZ_EDECODE : 0;
}

static int cur_bin(cursor *c, const uint8_t **p, size_t *len)
{
    if (c->n < 1)
        return KZ_EDECODE;
    uint64_t v, min;
    int rc;
    switch (c->p[0]) {
    case 0xc4: rc = cur_take(c, 1, &v); min = 0; break;
    case 0xc5: rc = cur_take(c, 2, &v); min = 256; break;
    case 0xc6: rc = cur_take(c, 4, &v); min = 65536; break;
    default: return KZ_EDECODE;
    }
    if (rc)
        return rc;
    if (v < min || v > c->n)
        return KZ_EDECODE;
    *p = c->p;
    *len = (size_t)v;
    c->p += v;
    c->n -= v;
    return 0;
}

static int cur_array(cursor *c, uint64_t *count)
{
    if (c->n < 1)
        return KZ_EDECODE;
    uint8_t t = c->p[0];
    if (t >= 0x90 && t <= 0x9f) {
        c->p++;
        c->n--;
        *count = t & 0x0f;
        return 0;
    }
    uint64_t min;
    int rc;
    switch (t) {
    case 0xdc: rc = cur_take(c, 2, count); min = 16; break;
    case 0xdd: rc = cur_take(c, 4, count); min = 65536; break;
    default: return KZ_EDECODE;
    }
    if (rc)
        return rc;
    return *count < min ? KZ_EDECODE : 0;
}

static int decode_bound(cursor *c, const kz__recon_bound *prev, kz__recon_bound *b)
{
    uint64_t enc;
    const uint8_t *pre;
    size_t len;
    int rc = cur_uint(c, &enc);
    if (!rc)
        rc = cur_bin(c, &pre, &len);
    if (rc)
        return rc;
    if (len > KZ_RECON_ID_BYTES)
        return KZ_EPROTO;
    /* A trailing zero byte would not change the bound: not canonical. */
    if (len > 0 && pre[len - 1] == 0)
        return KZ_EPROTO;
    memset(b, 0, sizeof *b);
    if (enc == 0) {
        if (len != 0)
            return KZ_EPROTO;
        b->ts = KZ_RECON_TS_INF;
    } else {
        if (enc - 1 >= KZ_RECON_TS_INF - prev->ts)
            return KZ_EPROTO;
        b->ts = prev->ts + (enc - 1);
        b->len = (uint8_t)len;
        if (len)
            memcpy(b->prefix, pre, len);
    }
    if (kz__recon_bound_cmp(b, prev) <= 0)
        return KZ_EPROTO;
    return 0;
}

/* Mode-specific payload checks; the element count was checked by the caller. */
static int decode_payload(cursor *c, kz__recon_range *r)
{
    const uint8_t *fp;
    size_t len;
    int rc;
    switch (r->mode) {
    case KZ__RECON_FP:
        if ((rc = cur_bin(c, &fp, &len)) != 0 || (rc = cur_uint(c, &r->count)) != 0)
            return rc;
        if (len != KZ_RECON_FP_BYTES)
            return KZ_EPROTO;
        memcpy(r->fp, fp, KZ_RECON_FP_BYTES);
        return 0;
    case KZ__RECON_IDLIST:
        if ((rc = cur_bin(c, &r->a, &r->alen)) != 0)
            return rc;
        if (r->alen % KZ_RECON_SHORT_BYTES != 0 ||
            r->alen / KZ_RECON_SHORT_BYTES > KZ_RECON_IDLIST_MAX)
            return KZ_EPROTO;
        return 0;
    case KZ__RECON_DIFF:
        if ((rc = cur_bin(c, &r->a, &r->alen)) != 0 || (rc = cur_bin(c, &r->b, &r->blen)) != 0)
            return rc;
        if (r->alen == 0 || r->alen > (KZ_RECON_IDLIST_MAX + 7) / 8)
            return KZ_EPROTO;
        if (r->blen % KZ_RECON_ID_BYTES != 0 || r->blen / KZ_RECON_ID_BYTES > KZ_RECON_IDLIST_MAX)
            return KZ_EPROTO;
        return 0;
    case KZ__RECON_IDS:
        if ((rc = cur_bin(c, &r->a, &r->alen)) != 0)
            return rc;
        if (r->alen == 0 || r->alen % KZ_RECON_ID_BYTES != 0)
            return KZ_EPROTO;
        return 0;
    case KZ__RECON_SKETCH:
        if ((rc = cur_uint(c, &r->count)) != 0 || (rc = cur_bin(c, &r->a, &r->alen)) != 0)
            return rc;
        if (r->alen % (3 * KZ_RECON_CELL_BYTES) != 0 || r->alen == 0 ||
            r->alen / KZ_RECON_CELL_BYTES > KZ_RECON_SKETCH_CELLS_MAX)
            return KZ_EPROTO;
        return 0;
    case KZ__RECON_WANT:
        if ((rc = cur_bin(c, &r->a, &r->alen)) != 0 || (rc = cur_bin(c, &r->b, &r->blen)) != 0)
            return rc;
        if (r->alen % KZ_RECON_ID_BYTES != 0 || r->alen / KZ_RECON_ID_BYTES > KZ_RECON_WANT_MAX)
            return KZ_EPROTO;
        if (r->blen == 0 || r->blen % KZ_RECON_SHORT_BYTES != 0 ||
            r->blen / KZ_RECON_SHORT_BYTES > KZ_RECON_WANT_MAX)
            return KZ_EPROTO;
        return 0;
    default:
        return 0;
    }
}

int kz__recon_reader_init(kz__recon_reader *rd, const uint8_t *p, size_t n, bool opening,
                          kz__recon_msg *m)
{
    cursor c = {p, n};
    uint64_t count;
    const uint8_t *salt;
    size_t saltlen;
    int rc;

    memset(m, 0, sizeof *m);
    memset(rd, 0, sizeof *rd);
    if (n < 1)
        return KZ_EDECODE;
    if (p[0] != KZ_RECON_VERSION)
        return KZ_EPROTO;
    c.p++;
    c.n--;
    m->opening = opening;
    if (opening) {
        if ((rc = cur_bin(&c, &salt, &saltlen)) != 0 || (rc = cur_uint(&c, &m->limit)) != 0)
            return rc;
        if (saltlen != KZ_RECON_SALT_BYTES)
            return KZ_EPROTO;
        memcpy(m->salt, salt, KZ_RECON_SALT_BYTES);
        if (m->limit < KZ_RECON_FRAME_MIN || m->limit > KZ_RECON_MSG_MAX)
            return KZ_EPROTO;
    }
    if ((rc = cur_array(&c, &count)) != 0)
        return rc;
    /* The smallest range takes 5 bytes. */
    if (count > c.n / 5)
        return KZ_EDECODE;
    m->nall = (size_t)count;
    rd->p = c.p;
    rd->n = c.n;
    rd->left = count;
    kz__recon_bound_min(&rd->prev);
    rd->prev_mode = -1;
    return 0;
}

int kz__recon_reader_next(kz__recon_reader *rd, kz__recon_range *out)
{
    static const uint64_t nelem[] = {3, 5, 4, 5, 4, 5, 5};
    cursor c = {rd->p, rd->n};
    uint64_t k, mode;
    int rc;

    while (rd->left > 0) {
        kz__recon_range r;
        memset(&r, 0, sizeof r);
        /* nothing can follow the end of the key space */
        if (rd->prev.ts == KZ_RECON_TS_INF)
            return KZ_EPROTO;
        if ((rc = cur_array(&c, &k)) != 0)
            return rc;
        if (k < 3 || k > 5)
            return KZ_EPROTO;
        r.lo = rd->prev;
        if ((rc = decode_bound(&c, &rd->prev, &r.hi)) != 0 || (rc = cur_uint(&c, &mode)) != 0)
            return rc;
        if (mode > KZ__RECON_MODE_MAX || nelem[mode] != k)
            return KZ_EPROTO;
        r.mode = (uint8_t)mode;
        if ((rc = decode_payload(&c, &r)) != 0)
            return rc;
        /* Canonical messages merge neighbouring skips and leave out a
         * trailing one. */
        if (r.mode == KZ__RECON_SKIP && (rd->prev_mode == KZ__RECON_SKIP || rd->left == 1))
            return KZ_EPROTO;
        rd->prev_mode = r.mode;
        rd->prev = r.hi;
        rd->left--;
        rd->p = c.p;
        rd->n = c.n;
        if (r.mode != KZ__RECON_SKIP) {
            *out = r;
            return 1;
        }
    }
    return c.n != 0 ? KZ_EDECODE : 0;
}

int kz__recon_msg_check(const uint8_t *p, size_t n, bool opening, kz__recon_msg *m)
{
    kz__recon_reader rd;
    kz__recon_range r;
    int rc = kz__recon_reader_init(&rd, p, n, opening, m);
    while (rc == 0 && (rc = kz__recon_reader_next(&rd, &r)) == 1)
        rc = 0;
    return rc;
}
