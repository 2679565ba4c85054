/* record_encode.c: validates a record against its limits and packs the canonical
 * signed array [version, type, author, created_ms, body] with msgpack-c. */
#include "record_internal.h"

#include <msgpack.h>
#include <stdio.h>
#include <string.h>

/* msgpack-c's packer always picks the shortest form for every uint, str,
 * bin, array and map header, which is exactly our canonical form. It writes
 * through this bounded sink rather than an msgpack_sbuffer so that encoding
 * never allocates and stops at the caller's limit. Overflow is sticky. */
typedef struct {
    uint8_t *p;
    size_t cap, len;
    bool full;
} sink;

static int sink_write(void *data, const char *buf, size_t n)
{
    sink *s = data;
    if (s->full || n > s->cap - s->len) {
        s->full = true;
        return -1;
    }
    memcpy(s->p + s->len, buf, n);
    s->len += n;
    return 0;
}

void kz__field_label(char *out, size_t outsz, const kz__body_desc *d, const kz__field *f,
                     long idx)
{
    const char *dot = strchr(f->name, '.');
    const char *leaf = dot ? dot + 1 : f->name;
    if (idx >= 0)
        snprintf(out, outsz, "%s.%s[%ld]", d->name, leaf, idx);
    else
        snprintf(out, outsz, "%s.%s", d->name, leaf);
}

static uint64_t uint_get(const kz_record *r, const kz__field *f)
{
    switch (f->width) {
    case 1: return *KZ__CAT(r, f->off, uint8_t);
    case 2: return *KZ__CAT(r, f->off, uint16_t);
    case 4: return *KZ__CAT(r, f->off, uint32_t);
    default: return *KZ__CAT(r, f->off, uint64_t);
    }
}

static int check_str(const kz__body_desc *d, const kz__field *f, const kz_str *s, long idx)
{
    char where[96];
    kz__field_label(where, sizeof where, d, f, idx);
    if (s->n == 0)
        return kz__record_fail(KZ_EINVAL, "%s: empty", where);
    if (!s->p)
        return kz__record_fail(KZ_EINVAL, "%s: NULL with non-zero length", where);
    if (s->n > f->max)
        return kz__record_fail(KZ_EINVAL, "%s: longer than %llu bytes", where,
                               (unsigned long long)f->max);
    bool nl = (f->flags & KZ__F_NEWLINES) != 0;
    if (!kz_utf8_valid(s->p, s->n, 1))
        return kz__record_fail(KZ_EINVAL, "%s: invalid UTF-8 or control character", where);
    if (!nl && !kz_utf8_valid(s->p, s->n, 0))
        return kz__record_fail(KZ_EINVAL, "%s: tab or line break not allowed", where);
    return 0;
}

/* Validate one field; *present says whether it is encoded. */
static int check_field(const kz_record *r, const kz__body_desc *d, const kz__field *f,
                       bool *present)
{
    char where[96];
    *present = false;
    switch (f->kind) {
    case KZ__F_STR: {
        const kz_str *s = KZ__CAT(r, f->off, kz_str);
        if (s->n == 0) {
            if (f->flags & KZ__F_REQUIRED) {
                kz__field_label(where, sizeof where, d, f, -1);
                return kz__record_fail(KZ_EINVAL, "%s: required", where);
            }
            return 0;
        }
        *present = true;
        return check_str(d, f, s, -1);
    }
    case KZ__F_STRLIST: {
        uint32_t n = *KZ__CAT(r, f->off_aux, uint32_t);
        const kz_str *items = KZ__CAT(r, f->off, kz_str);
        if (n == 0)
            return 0;
        if (n > f->max_items) {
            kz__field_label(where, sizeof where, d, f, -1);
            return kz__record_fail(KZ_EINVAL, "%s: more than %u items", where, f->max_items);
        }
        for (uint32_t i = 0; i < n; i++) {
            int rc = check_str(d, f, &items[i], (long)i);
            if (rc)
                return rc;
        }
        *present = true;
        return 0;
    }
    case KZ__F_KEY:
        *present = true;
        return 0;
    case KZ__F_OPTKEY:
        *present = *KZ__CAT(r, f->off_aux, bool);
        return 0;
    case KZ__F_BYTES: {
        const kz_bytes *b = KZ__CAT(r, f->off, kz_bytes);
        kz__field_label(where, sizeof where, d, f, -1);
        if (b->n == 0) {
            if (f->flags & KZ__F_REQUIRED)
                return kz__record_fail(KZ_EINVAL, "%s: required", where);
            return 0;
        }
        if (!b->p)
            return kz__record_fail(KZ_EINVAL, "%s: NULL with non-zero length", where);
        if (b->n > f->max)
            return kz__record_fail(KZ_EINVAL, "%s: longer than %llu bytes", where,
                                   (unsigned long long)f->max);
        *present = true;
        return 0;
    }
    case KZ__F_UINT: {
        uint64_t v = uint_get(r, f);
        kz__field_label(where, sizeof where, d, f, -1);
        if (v > f->max)
            return kz__record_fail(KZ_EINVAL, "%s: %llu is out of range", where,
                                   (unsigned long long)v);
        if (v == 0) {
            if (f->flags & KZ__F_REQUIRED)
                return kz__record_fail(KZ_EINVAL, "%s: required", where);
            *present = (f->flags & KZ__F_ALWAYS) != 0;
            return 0;
        }
        if ((f->flags & KZ__F_YEAR) && (v < KZ_YEAR_MIN || v > KZ_YEAR_MAX))
            return kz__record_fail(KZ_EINVAL, "%s: year %llu is outside %u..%u", where,
                                   (unsigned long long)v, KZ_YEAR_MIN, KZ_YEAR_MAX);
        *present = true;
        return 0;
    }
    case KZ__F_BOOL:
        *present = *KZ__CAT(r, f->off, bool);
        return 0;
    default:
        return kz__record_fail(KZ_EINVAL, "internal: bad field table");
    }
}

static void pack_field(msgpack_packer *pk, const kz_record *r, const kz__field *f)
{
    msgpack_pack_uint8(pk, f->key);
    switch (f->kind) {
    case KZ__F_STR: {
        const kz_str *s = KZ__CAT(r, f->off, kz_str);
        msgpack_pack_str_with_body(pk, s->p, s->n);
        break;
    }
    case KZ__F_STRLIST: {
        uint32_t n = *KZ__CAT(r, f->off_aux, uint32_t);
        const kz_str *items = KZ__CAT(r, f->off, kz_str);
        msgpack_pack_array(pk, n);
        for (uint32_t i = 0; i < n; i++)
            msgpack_pack_str_with_body(pk, items[i].p, items[i].n);
        break;
    }
    case KZ__F_KEY:
    case KZ__F_OPTKEY:
        msgpack_pack_bin_with_body(pk, KZ__CAT(r, f->off, uint8_t), KZ_KEY_BYTES);
        break;
    case KZ__F_BYTES: {
        const kz_bytes *b = KZ__CAT(r, f->off, kz_bytes);
        msgpack_pack_bin_with_body(pk, b->p, b->n);
        break;
    }
    case KZ__F_UINT:
        msgpack_pack_uint64(pk, uint_get(r, f));
        break;
    case KZ__F_BOOL:
        msgpack_pack_true(pk);
        break;
    default:
        break;
    }
}

int kz__record_encode_signed(const kz_record *r, uint8_t *out, size_t cap, size_t *len)
{
    const kz__body_desc *d = kz__body_desc_get(r->type);
    if (r->version != KZ_RECORD_VERSION)
        return kz__record_fail(KZ_EINVAL, "record.version: unsupported version %u",
                               (unsigned)r->version);
    if (!d)
        return kz__record_fail(KZ_EINVAL, "record.type: unknown type %u", (unsigned)r->type);
    if (r->created_ms < KZ_TIME_MIN_MS)
        return kz__record_fail(KZ_EINVAL, "record.created_ms: before 2020-01-01");

    bool present[16]; /* no body has more than 15 fields */
    uint32_t n_present = 0;
    if (d->n_fields > KZ_ARRAY_LEN(present))
        return kz__record_fail(KZ_EINVAL, "internal: field table too long");
    for (size_t i = 0; i < d->n_fields; i++) {
        int rc = check_field(r, d, &d->fields[i], &present[i]);
        if (rc)
            return rc;
        n_present += present[i];
    }
    int rc = d->check(r);
    if (rc)
        return rc;

    sink s = { .p = out, .cap = cap };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s, sink_write);
    msgpack_pack_array(&pk, 5);
    msgpack_pack_uint8(&pk, r->version);
    msgpack_pack_uint8(&pk, r->type);
    msgpack_pack_bin_with_body(&pk, r->author, KZ_KEY_BYTES);
    msgpack_pack_uint64(&pk, r->created_ms);
    msgpack_pack_map(&pk, n_present);
    for (size_t i = 0; i < d->n_fields; i++)
        if (present[i])
            pack_field(&pk, r, &d->fields[i]);
    if (s.full)
        return kz__record_fail(KZ_ETOOBIG, "record: encoding is larger than %u bytes",
                               (unsigned)KZ_RECORD_MAX);
    *len = s.len;
    return 0;
}
