/* talk_moderation.c: control verbs for reports (sealed to the reported
 * author's home node, opened there) and deletions (by the author, or by the
 * author's home node for moderation). */
#include "talk_view.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* ---- report ------------------------------------------------------------------------- */

int kz__h_report(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "target", "reason", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], target[KZ_ID_BYTES], home[KZ_KEY_BYTES];
    uint8_t xpk[crypto_box_PUBLICKEYBYTES];
    uint8_t plain[KZ_ID_BYTES + KZ_REPORT_REASON_MAX];
    uint8_t sealed[crypto_box_SEALBYTES + sizeof plain];
    const char *reason;
    kz_store_member m;
    kz_record t, rec;
    int rc;
    memset(&rec, 0, sizeof rec);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "target", target, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "reason", true, KZ_REPORT_REASON_MAX, false, &reason, err,
                          errsz)) != 0)
        return rc;
    if ((rc = kz__talk_load_target(n, target, "record", &t, err, errsz)) != 0)
        return rc;
    bool ok = t.type == KZ_T_POST || t.type == KZ_T_REPLY || t.type == KZ_T_EVENT ||
              t.type == KZ_T_PROFILE;
    bool homed = kz__talk_home(n, t.author, home);
    kz_record_close(&t);
    if (!ok) {
        snprintf(err, errsz, "only posts, replies, events and profiles can be reported");
        return KZ_EINVAL;
    }
    if (!homed) {
        snprintf(err, errsz, "the author of that record has no home node here");
        return KZ_ENOATTEST;
    }
    if (crypto_sign_ed25519_pk_to_curve25519(xpk, home) != 0) {
        snprintf(err, errsz, "the home node's key cannot receive sealed reports");
        return KZ_ECRYPTO;
    }
    size_t rlen = strlen(reason);
    memcpy(plain, target, KZ_ID_BYTES);
    memcpy(plain + KZ_ID_BYTES, reason, rlen);
    if (crypto_box_seal(sealed, plain, KZ_ID_BYTES + rlen, xpk) != 0)
        return KZ_ECRYPTO;
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    kz_record_init(&rec, KZ_T_REPORT, pk, kz_node_created_ms(n, 0));
    memcpy(rec.body.report.to, home, KZ_KEY_BYTES);
    rec.body.report.sealed = (kz_bytes){sealed, (uint32_t)(crypto_box_SEALBYTES + KZ_ID_BYTES + rlen)};
    rc = kz__talk_sign_put(n, &rec, sk, "report", "report_id", result, err, errsz);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    return rc;
}

/* The reports addressed to this node, opened with its key. */
typedef struct {
    kz_node *n;
    uint8_t xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
    json_t *list;
} kz_report_scan;

static int report_scan_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                          const uint8_t *raw, size_t len)
{
    kz_report_scan *s = ud;
    uint8_t plain[KZ_SEALED_MAX];
    kz_record r;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    if (memcmp(r.body.report.to, s->n->keys.node_pk, KZ_KEY_BYTES) != 0 ||
        r.body.report.sealed.n < crypto_box_SEALBYTES + KZ_ID_BYTES + 1) {
        kz_record_close(&r);
        return 0;
    }
    size_t plen = r.body.report.sealed.n - crypto_box_SEALBYTES;
    json_t *o = json_pack("{s:o, s:o, s:I}", "report_id", kz_json_hex(id, KZ_ID_BYTES), "from",
                          kz_json_hex(r.author, KZ_KEY_BYTES), "created_ms", (json_int_t)created_ms);
    if (crypto_box_seal_open(plain, r.body.report.sealed.p, r.body.report.sealed.n, s->xpk,
                             s->xsk) == 0 &&
        kz_utf8_valid((const char *)plain + KZ_ID_BYTES, plen - KZ_ID_BYTES, 0)) {
        json_object_set_new(o, "target", kz_json_hex(plain, KZ_ID_BYTES));
        json_object_set_new(o, "reason", json_stringn((const char *)plain + KZ_ID_BYTES,
                                                      plen - KZ_ID_BYTES));
        json_object_set_new(o, "target_deleted",
                            json_boolean(kz_store_is_tombstoned(s->n->store, plain)));
    } else {
        json_object_set_new(o, "unreadable", json_true());
    }
    sodium_memzero(plain, sizeof plain);
    json_array_append_new(s->list, o);
    kz_record_close(&r);
    return 0;
}

int kz__h_report_list(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {NULL};
    kz_report_scan s = {.n = n};
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0)
        return rc;
    if (crypto_sign_ed25519_pk_to_curve25519(s.xpk, n->keys.node_pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(s.xsk, n->keys.node_sk) != 0) {
        snprintf(err, errsz, "the node key cannot open sealed reports");
        return KZ_ECRYPTO;
    }
    s.list = json_array();
    rc = kz_store_iter_type(n->store, KZ_T_REPORT, report_scan_cb, &s);
    sodium_memzero(s.xsk, sizeof s.xsk);
    if (rc < 0) {
        json_decref(s.list);
        snprintf(err, errsz, "cannot read the reports: %s", kz_strerror(rc));
        return rc;
    }
    *result = json_pack("{s:o}", "reports", s.list);
    return 0;
}

/* ---- delete and moderation ---------------------------------------------------------- */

static int delete_common(kz_node *n, json_t *args, bool moderate, json_t **result, char *err,
                         size_t errsz)
{
    static const char *const allowed_m[] = {"record", "reason", NULL};
    static const char *const allowed_a[] = {"member", "record", "reason", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], target[KZ_ID_BYTES], home[KZ_KEY_BYTES];
    const char *reason;
    kz_store_member m;
    kz_record t, rec;
    int rc;
    memset(&rec, 0, sizeof rec);
    memset(&m, 0, sizeof m);
    if ((rc = kz__arg_only(args, moderate ? allowed_m : allowed_a, err, errsz)) != 0 ||
        (!moderate && (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0) ||
        (rc = kz__arg_id(args, "record", target, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "reason", false, KZ_BIO_MAX, true, &reason, err, errsz)) != 0)
        return rc;
    if ((rc = kz__talk_load_target(n, target, "record", &t, err, errsz)) != 0)
        return rc;
    kz_idstr s = kz_id_to_str(target);
    uint8_t author[KZ_KEY_BYTES];
    memcpy(author, t.author, KZ_KEY_BYTES);
    bool member_type = kz_rtype_is_member(t.type);
    kz_record_close(&t);
    if (!member_type) {
        snprintf(err, errsz, "%s is not a member's record", s.s);
        return KZ_EINVAL;
    }
    if (moderate) {
        if (!kz__talk_home(n, author, home) || memcmp(home, n->keys.node_pk, KZ_KEY_BYTES) != 0) {
            snprintf(err, errsz, "%s was written by a member of another company; report it "
                                 "to them instead", s.s);
            return KZ_EPERM;
        }
        memcpy(pk, n->keys.node_pk, KZ_KEY_BYTES);
        memcpy(sk, n->keys.node_sk, KZ_SECKEY_BYTES);
    } else {
        if (memcmp(author, pk, KZ_KEY_BYTES) != 0) {
            snprintf(err, errsz, "%s is not by this member (the secretariat uses `kizuna "
                                 "moderate delete`)", s.s);
            return KZ_EPERM;
        }
        if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
            return rc;
    }
    kz_record_init(&rec, KZ_T_DELETE, pk, kz_node_created_ms(n, 0));
    memcpy(rec.body.del.target, target, KZ_ID_BYTES);
    memcpy(rec.body.del.target_author, author, KZ_KEY_BYTES);
    if (reason)
        rec.body.del.reason = (kz_str){reason, (uint32_t)strlen(reason)};
    rc = kz__talk_sign_put(n, &rec, sk, "deletion", "delete_id", result, err, errsz);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    return rc;
}

int kz__h_delete(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    return delete_common(n, args, false, result, err, errsz);
}

int kz__h_moderate_delete(kz_node *n, json_t *args, json_t **result, char *err,
                                size_t errsz)
{
    return delete_common(n, args, true, result, err, errsz);
}
