/* record_decode.c: maps a prescanned msgpack record into a kz_record using the
 * body tables; limits are left to the re-encode that follows (record.c).
 *
 * We walk the bytes with our own cursor (mp_cursor.c) instead of
 * msgpack_unpack_next: the cursor allocates nothing, hands out pointers into
 * the record's own copy of the bytes (which kz_record's string fields must
 * point into anyway), and lets every type error carry a precise field name.
 * msgpack-c is used for the encoding side, whose output is then the
 * reference the decoded bytes must equal. */
#include "mp_cursor.h"
#include "record_internal.h"

#include <string.h>

static int map_fail(int code, const kz__body_desc *d, const kz__field *f, long idx,
                    const char *what)
{
    char where[96];
    kz__field_label(where, sizeof where, d, f, idx);
    return kz__record_fail(code, "%s: %s", where, what);
}

static int map_uint(kz__mp_cur *c, kz_record *r, const kz__body_desc *d, const kz__field *f)
{
    uint64_t v;
    if (kz__mp_read_uint(c, &v) != 0)
        return map_fail(KZ_EDECODE, d, f, -1, "expected an unsigned integer");
    /* Refuse values the C field cannot hold rather than truncating them. */
    uint64_t lim = f->width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * f->width)) - 1;
    if (v > lim)
        return map_fail(KZ_EINVAL, d, f, -1, "value is out of range");
    switch (f->width) {
    case 1: *KZ__AT(r, f->off, uint8_t) = (uint8_t)v; break;
    case 2: *KZ__AT(r, f->off, uint16_t) = (uint16_t)v; break;
    case 4: *KZ__AT(r, f->off, uint32_t) = (uint32_t)v; break;
    default: *KZ__AT(r, f->off, uint64_t) = v; break;
    }
    return 0;
}

static int map_key(kz__mp_cur *c, kz_record *r, const kz__body_desc *d, const kz__field *f)
{
    const uint8_t *b;
    uint32_t n;
    if (kz__mp_read_bin(c, &b, &n) != 0 || n != KZ_KEY_BYTES)
        return map_fail(KZ_EDECODE, d, f, -1, "expected bin of 32 bytes");
    memcpy(KZ__AT(r, f->off, uint8_t), b, KZ_KEY_BYTES);
    if (f->kind == KZ__F_OPTKEY)
        *KZ__AT(r, f->off_aux, bool) = true;
    return 0;
}

static int map_field(kz__mp_cur *c, kz_record *r, const kz__body_desc *d, const kz__field *f)
{
    switch (f->kind) {
    case KZ__F_STR: {
        kz_str *s = KZ__AT(r, f->off, kz_str);
        if (kz__mp_read_str(c, &s->p, &s->n) != 0)
            return map_fail(KZ_EDECODE, d, f, -1, "expected str");
        return 0;
    }
    case KZ__F_STRLIST: {
        uint32_t n;
        kz_str *items = KZ__AT(r, f->off, kz_str);
        if (kz__mp_read_array(c, &n) != 0)
            return map_fail(KZ_EDECODE, d, f, -1, "expected array");
        if (n > f->max_items) /* before writing into the fixed array */
            return map_fail(KZ_EINVAL, d, f, -1, "too many items");
        for (uint32_t i = 0; i < n; i++)
            if (kz__mp_read_str(c, &items[i].p, &items[i].n) != 0)
                return map_fail(KZ_EDECODE, d, f, (long)i, "expected str");
        *KZ__AT(r, f->off_aux, uint32_t) = n;
        return 0;
    }
    case KZ__F_KEY:
    case KZ__F_OPTKEY:
        return map_key(c, r, d, f);
    case KZ__F_BYTES: {
        kz_bytes *b = KZ__AT(r, f->off, kz_bytes);
        if (kz__mp_read_bin(c, &b->p, &b->n) != 0)
            return map_fail(KZ_EDECODE, d, f, -1, "expected bin");
        return 0;
    }
    case KZ__F_UINT:
        return map_uint(c, r, d, f);
    case KZ__F_BOOL: {
        bool v;
        if (kz__mp_read_bool(c, &v) != 0)
            return map_fail(KZ_EDECODE, d, f, -1, "expected true");
        *KZ__AT(r, f->off, bool) = v;
        return 0;
    }
    default:
        return kz__record_fail(KZ_EDECODE, "internal: bad field table");
    }
}

static int map_body(kz__mp_cur *c, kz_record *r, const kz__body_desc *d)
{
    uint32_t n;
    if (kz__mp_read_map(c, &n) != 0)
        return kz__record_fail(KZ_EDECODE, "%s: body is not a map", d->name);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t key;
        if (kz__mp_read_uint(c, &key) != 0)
            return kz__record_fail(KZ_EDECODE, "%s: body key %u is not an unsigned integer",
                                   d->name, (unsigned)i);
        if (i > 0 && key == prev)
            return kz__record_fail(KZ_ENONCANON, "%s: duplicate key %llu", d->name,
                                   (unsigned long long)key);
        if (i > 0 && key < prev)
            return kz__record_fail(KZ_ENONCANON, "%s: key %llu out of order", d->name,
                                   (unsigned long long)key);
        prev = key;
        const kz__field *f = NULL;
        for (size_t k = 0; k < d->n_fields; k++)
            if (d->fields[k].key == key)
                f = &d->fields[k];
        if (!f)
            return kz__record_fail(KZ_EDECODE, "%s: unknown key %llu", d->name,
                                   (unsigned long long)key);
        int rc = map_field(c, r, d, f);
        if (rc)
            return rc;
    }
    return 0;
}

int kz__record_map(kz_record *r, const uint8_t *buf, size_t len)
{
    kz__mp_cur c = { .p = buf, .len = len, .off = 0 };
    uint32_t n;
    uint64_t v;
    const uint8_t *b;
    if (kz__mp_read_array(&c, &n) != 0 || n != 6)
        return kz__record_fail(KZ_EDECODE, "record: not an array of 6 elements");
    if (kz__mp_read_uint(&c, &v) != 0)
        return kz__record_fail(KZ_EDECODE, "record.version: expected an unsigned integer");
    if (v != KZ_RECORD_VERSION)
        return kz__record_fail(KZ_EINVAL, "record.version: unsupported version %llu",
                               (unsigned long long)v);
    r->version = (uint8_t)v;
    if (kz__mp_read_uint(&c, &v) != 0)
        return kz__record_fail(KZ_EDECODE, "record.type: expected an unsigned integer");
    const kz__body_desc *d = v <= KZ_T_MAX ? kz__body_desc_get((int)v) : NULL;
    if (!d)
        return kz__record_fail(KZ_EINVAL, "record.type: unknown type %llu",
                               (unsigned long long)v);
    r->type = (uint8_t)v;
    if (kz__mp_read_bin(&c, &b, &n) != 0 || n != KZ_KEY_BYTES)
        return kz__record_fail(KZ_EDECODE, "record.author: expected bin of 32 bytes");
    memcpy(r->author, b, KZ_KEY_BYTES);
    if (kz__mp_read_uint(&c, &r->created_ms) != 0)
        return kz__record_fail(KZ_EDECODE, "record.created_ms: expected an unsigned integer");
    int rc = map_body(&c, r, d);
    if (rc)
        return rc;
    if (kz__mp_read_bin(&c, &b, &n) != 0 || n != KZ_SIG_BYTES)
        return kz__record_fail(KZ_EDECODE, "record.sig: expected bin of 64 bytes");
    memcpy(r->sig, b, KZ_SIG_BYTES);
    if (c.off != len)
        return kz__record_fail(KZ_EDECODE, "record: trailing bytes");
    return 0;
}
