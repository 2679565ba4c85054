/* handlers_record.c: control verbs for records: record.get, record.show,
 * record.import (post lives with the talk room, handlers_talk.c). */
#include "internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Base64 length of the largest input we look at (KZ_RECORD_MAX + 1 bytes, so
 * that "one byte too many" is reported as too large, not as garbage). */
#define KZ_B64_MAX (4 * ((KZ_RECORD_MAX + 1 + 2) / 3))

static int kz_load_by_arg(kz_node *n, json_t *args, kz_record *r, char *err, size_t errsz)
{
    static const char *const allowed[] = {"id", NULL};
    uint8_t id[KZ_ID_BYTES];
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "id", id, err, errsz)) != 0)
        return rc;
    rc = kz_node_record_load(n, id, true, r);
    if (rc == KZ_ENOTFOUND) {
        kz_idstr s = kz_id_to_str(id);
        snprintf(err, errsz, "no record %s in this node's store%s", s.s,
                 kz_store_is_tombstoned(n->store, id) ? " (it was deleted)" : "");
    } else if (rc != 0) {
        snprintf(err, errsz, "cannot read the record: %s", kz_strerror(rc));
    } else if (kz_store_author_blocked(n->store, r->author)) {
        kz_idstr s = kz_id_to_str(id);
        kz_record_close(r);
        snprintf(err, errsz,
                 "record %s is hidden: its author is a blocked node or one of its members", s.s);
        rc = KZ_EBLOCKED;
    }
    return rc;
}

static int kz_h_record_get(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    kz_record r;
    int rc = kz_load_by_arg(n, args, &r, err, errsz);
    if (rc != 0)
        return rc;
    size_t b64len = sodium_base64_encoded_len(r.raw_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = kz_xmalloc(b64len);
    sodium_bin2base64(b64, b64len, r.raw, r.raw_len, sodium_base64_VARIANT_ORIGINAL);
    *result = json_pack("{s:o, s:s, s:s}", "id", kz_json_hex(r.id, KZ_ID_BYTES), "type",
                        kz_rtype_name(r.type) ? kz_rtype_name(r.type) : "unknown", "raw_b64", b64);
    free(b64);
    kz_record_close(&r);
    return 0;
}

static int kz_h_record_show(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    kz_record r;
    int rc = kz_load_by_arg(n, args, &r, err, errsz);
    if (rc != 0)
        return rc;
    *result = kz_json_record(&r, kz_record_verify(&r) == 0);
    kz_record_close(&r);
    return 0;
}

static int kz_decode_refusal(int rc, uint64_t now, char *err, size_t errsz)
{
    const char *why = kz_record_last_error();
    switch (rc) {
    case KZ_ETOOBIG:
        snprintf(err, errsz, "record is larger than %d bytes", KZ_RECORD_MAX);
        break;
    case KZ_EDECODE:
        snprintf(err, errsz, "not a kizuna record (%s)", why);
        break;
    case KZ_ENONCANON:
        snprintf(err, errsz, "record is not in canonical form (%s)", why);
        break;
    case KZ_EINVAL:
        snprintf(err, errsz, "invalid record: %s", why);
        break;
    case KZ_EBADSIG:
        snprintf(err, errsz, "signature does not verify: the record was altered or not signed by its author");
        break;
    case KZ_EFUTURE: {
        char t[KZ_TIME_STR_MAX];
        kz_time_format(t, now);
        snprintf(err, errsz, "record is dated more than %u minutes in the future (this node's clock: %s)",
                 KZ_FUTURE_MAX_MS / 60000u, t);
        break;
    }
    default:
        snprintf(err, errsz, "cannot decode the record: %s", kz_strerror(rc));
        break;
    }
    return rc;
}

static int kz_h_record_import(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"raw_b64", NULL};
    json_t *v;
    kz_record r;
    size_t len = 0;
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc != 0)
        return rc;
    v = json_object_get(args, "raw_b64");
    if (!json_is_string(v)) {
        snprintf(err, errsz, "argument 'raw_b64' must be a base64 string");
        return KZ_EINVAL;
    }
    size_t slen = json_string_length(v);
    if (slen == 0) {
        snprintf(err, errsz, "empty input: not a kizuna record");
        return KZ_EDECODE;
    }
    if (slen > KZ_B64_MAX) {
        snprintf(err, errsz, "record is larger than %d bytes", KZ_RECORD_MAX);
        return KZ_ETOOBIG;
    }
    uint8_t *buf = kz_xmalloc(KZ_RECORD_MAX + 1);
    if (sodium_base642bin(buf, KZ_RECORD_MAX + 1, json_string_value(v), slen, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        snprintf(err, errsz, "argument 'raw_b64' is not valid base64");
        free(buf);
        return KZ_EINVAL;
    }
    uint64_t now = kz_now_ms();
    rc = kz_record_decode(&r, buf, len, now, 0);
    free(buf);
    if (rc != 0)
        return kz_decode_refusal(rc, now, err, errsz);
    rc = kz_node_put(n, &r, KZ_SRC_IMPORT, NULL);
    if (rc != 0) {
        snprintf(err, errsz, "refused: %s", kz__refusal(rc));
    } else {
        *result = json_pack("{s:o, s:s}", "id", kz_json_hex(r.id, KZ_ID_BYTES), "type",
                            kz_rtype_name(r.type) ? kz_rtype_name(r.type) : "unknown");
    }
    kz_record_close(&r);
    return rc;
}

static const kz_control_verb kz_verbs[] = {
    {"record.get", kz_h_record_get, "the raw bytes of record args.id, base64 (raw_b64)"},
    {"record.show", kz_h_record_show, "record args.id decoded, with its signature checked"},
    {"record.import", kz_h_record_import,
     "decode and fully verify args.raw_b64, then store it under the acceptance rules"},
};

const kz__verb_table kz__verbs_record = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
