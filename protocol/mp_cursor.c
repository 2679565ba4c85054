/* mp_cursor.c: strict msgpack prescan and bounded cursor reads (see mp_cursor.h). */
#include "mp_cursor.h"

enum mp_kind { MP_BAD, MP_UINT, MP_BOOL, MP_STR, MP_BIN, MP_ARRAY, MP_MAP };

/* One decoded object header: its kind, the value (uint, bool) or declared
 * length / count (str, bin, array, map), and how many header bytes it took. */
typedef struct {
    enum mp_kind kind;
    uint64_t val;
    size_t hdr;
} mp_head;

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Decode the header at p[off]; KZ_EDECODE when truncated or of a type our
 * formats never use (nil, floats, signed ints, ext, the reserved 0xc1). */
static int head_parse(const uint8_t *p, size_t len, size_t off, mp_head *h, const char **why)
{
    if (off >= len) {
        *why = "truncated";
        return KZ_EDECODE;
    }
    uint8_t b = p[off];
    size_t extra = 0; /* bytes of length / value after the type byte */
    h->hdr = 1;
    if (b <= 0x7f) {
        h->kind = MP_UINT;
        h->val = b;
        return 0;
    } else if (b <= 0x8f) {
        h->kind = MP_MAP;
        h->val = b & 0x0f;
        return 0;
    } else if (b <= 0x9f) {
        h->kind = MP_ARRAY;
        h->val = b & 0x0f;
        return 0;
    } else if (b <= 0xbf) {
        h->kind = MP_STR;
        h->val = b & 0x1f;
        return 0;
    }
    switch (b) {
    case 0xc2:
    case 0xc3:
        h->kind = MP_BOOL;
        h->val = b == 0xc3;
        return 0;
    case 0xc4: h->kind = MP_BIN; extra = 1; break;
    case 0xc5: h->kind = MP_BIN; extra = 2; break;
    case 0xc6: h->kind = MP_BIN; extra = 4; break;
    case 0xcc: h->kind = MP_UINT; extra = 1; break;
    case 0xcd: h->kind = MP_UINT; extra = 2; break;
    case 0xce: h->kind = MP_UINT; extra = 4; break;
    case 0xcf: h->kind = MP_UINT; extra = 8; break;
    case 0xd9: h->kind = MP_STR; extra = 1; break;
    case 0xda: h->kind = MP_STR; extra = 2; break;
    case 0xdb: h->kind = MP_STR; extra = 4; break;
    case 0xdc: h->kind = MP_ARRAY; extra = 2; break;
    case 0xdd: h->kind = MP_ARRAY; extra = 4; break;
    case 0xde: h->kind = MP_MAP; extra = 2; break;
    case 0xdf: h->kind = MP_MAP; extra = 4; break;
    default:
        h->kind = MP_BAD;
        *why = "msgpack type not used by this format";
        return KZ_EDECODE;
    }
    if (len - off - 1 < extra) {
        *why = "truncated";
        return KZ_EDECODE;
    }
    h->val = be(p + off + 1, extra);
    h->hdr = 1 + extra;
    return 0;
}

int kz__mp_prescan(const uint8_t *p, size_t len, unsigned max_depth, const char **why,
                   size_t *at)
{
    /* left[d] = objects still expected in the container open at depth d;
     * depth 0 is the single top-level object. 8 levels is more than any
     * caller may ask for. */
    uint64_t left[9];
    unsigned depth = 0;
    size_t off = 0;
    const char *dummy_why;
    size_t dummy_at;
    if (!why)
        why = &dummy_why;
    if (!at)
        at = &dummy_at;
    if (max_depth > 8)
        max_depth = 8;
    *why = "ok";
    *at = 0;
    left[0] = 1;
    while (left[depth] > 0) {
        mp_head h;
        *at = off;
        if (head_parse(p, len, off, &h, why) != 0)
            return KZ_EDECODE;
        off += h.hdr;
        left[depth]--;
        size_t remain = len - off;
        switch (h.kind) {
        case MP_STR:
        case MP_BIN:
            if (h.val > remain) {
                *why = h.kind == MP_STR ? "str length exceeds the input"
                                        : "bin length exceeds the input";
                return KZ_EDECODE;
            }
            off += (size_t)h.val;
            break;
        case MP_ARRAY:
        case MP_MAP: {
            /* Every element takes at least one byte, so a count larger than
             * the bytes left is a lie; h.val < 2^32 so doubling is safe. */
            uint64_t items = h.kind == MP_MAP ? 2 * h.val : h.val;
            if (items > remain) {
                *why = h.kind == MP_MAP ? "map count exceeds the input"
                                        : "array count exceeds the input";
                return KZ_EDECODE;
            }
            if (items == 0)
                break;
            if (depth + 1 > max_depth) {
                *why = "nested too deeply";
                return KZ_EDECODE;
            }
            left[++depth] = items;
            break;
        }
        default:
            break;
        }
        while (depth > 0 && left[depth] == 0)
            depth--;
    }
    if (off != len) {
        *at = off;
        *why = "trailing bytes after the object";
        return KZ_EDECODE;
    }
    return 0;
}

/* Parse the next header and insist on kind k; the cursor moves past the
 * header only on success. */
static int read_head(kz__mp_cur *c, enum mp_kind k, mp_head *h)
{
    const char *why;
    if (head_parse(c->p, c->len, c->off, h, &why) != 0 || h->kind != k)
        return KZ_EDECODE;
    return 0;
}

int kz__mp_read_uint(kz__mp_cur *c, uint64_t *v)
{
    mp_head h;
    if (read_head(c, MP_UINT, &h) != 0)
        return KZ_EDECODE;
    c->off += h.hdr;
    *v = h.val;
    return 0;
}

int kz__mp_read_bool(kz__mp_cur *c, bool *v)
{
    mp_head h;
    if (read_head(c, MP_BOOL, &h) != 0)
        return KZ_EDECODE;
    c->off += h.hdr;
    *v = h.val != 0;
    return 0;
}

static int read_bytes(kz__mp_cur *c, enum mp_kind k, const uint8_t **b, uint32_t *n)
{
    mp_head h;
    if (read_head(c, k, &h) != 0)
        return KZ_EDECODE;
    if (h.val > c->len - c->off - h.hdr || h.val > UINT32_MAX)
        return KZ_EDECODE;
    *b = c->p + c->off + h.hdr;
    *n = (uint32_t)h.val;
    c->off += h.hdr + (size_t)h.val;
    return 0;
}

int kz__mp_read_str(kz__mp_cur *c, const char **s, uint32_t *n)
{
    const uint8_t *b;
    int rc = read_bytes(c, MP_STR, &b, n);
    if (rc == 0)
        *s = (const char *)b;
    return rc;
}

int kz__mp_read_bin(kz__mp_cur *c, const uint8_t **b, uint32_t *n)
{
    return read_bytes(c, MP_BIN, b, n);
}

static int read_container(kz__mp_cur *c, enum mp_kind k, uint32_t *count)
{
    mp_head h;
    if (read_head(c, k, &h) != 0)
        return KZ_EDECODE;
    uint64_t items = k == MP_MAP ? 2 * h.val : h.val;
    if (items > c->len - c->off - h.hdr)
        return KZ_EDECODE;
    c->off += h.hdr;
    *count = (uint32_t)h.val;
    return 0;
}

int kz__mp_read_array(kz__mp_cur *c, uint32_t *count)
{
    return read_container(c, MP_ARRAY, count);
}

int kz__mp_read_map(kz__mp_cur *c, uint32_t *count)
{
    return read_container(c, MP_MAP, count);
}
