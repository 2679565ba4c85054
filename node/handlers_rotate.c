/* handlers_rotate.c: control verbs for member key rotation and a member's
 * history across keys: member.rotate, member.history. */
#include "member_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- member.rotate ---------------------------------------------------------------- */

typedef struct {
    kz_store_member old_entry, new_entry;
    kz_record attest, revoke, profile;  /* profile.raw == NULL when there is none */
} kz_rot_write;

static int rot_write_fn(void *ud, kz_store_txn *t)
{
    kz_rot_write *w = ud;
    int rc;
    /* The old entry gives up its HR key first: it is unique per member. */
    if ((rc = kz_store_txn_member_put(t, &w->old_entry)) != 0 ||
        (rc = kz_store_txn_member_put(t, &w->new_entry)) != 0 ||
        (rc = kz_store_txn_put(t, &w->attest, NULL)) != 0 ||
        (rc = kz_store_txn_put(t, &w->revoke, NULL)) != 0)
        return rc;
    if (w->profile.raw && (rc = kz_store_txn_put(t, &w->profile, NULL)) != 0)
        return rc;
    return 0;
}

static int kz_h_member_rotate(kz_node *n, json_t *args, json_t **result, char *err,
                              size_t errsz)
{
    static const char *const allowed[] = {"member", NULL};
    uint8_t old_pk[KZ_KEY_BYTES], old_sk[KZ_SECKEY_BYTES], new_pk[KZ_KEY_BYTES],
        new_sk[KZ_SECKEY_BYTES], sig[KZ_SIG_BYTES];
    char reason[96];
    kz_record like, head, prof;
    kz_rot_write w;
    int rc;
    memset(&w, 0, sizeof w);
    memset(&prof, 0, sizeof prof);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", old_pk, err, errsz)) != 0)
        return rc;
    kz_idstr oid = kz_id_to_str(old_pk);
    if ((rc = kz__member_key(n, old_pk, &w.old_entry, old_sk, err, errsz)) != 0)
        return rc;
    kz_record_init(&like, KZ_T_ATTEST, n->keys.node_pk, 0);
    memcpy(like.body.attest.member, old_pk, KZ_KEY_BYTES);
    rc = kz_node_slot_load(n, &like, &head);
    if (rc == 0 && head.type != KZ_T_ATTEST) {
        kz_record_close(&head);
        rc = KZ_ENOTFOUND;
    }
    if (rc != 0) {
        snprintf(err, errsz, "member %s has no live attestation from this node", oid.s);
        goto out_keys;
    }
    kz_record_init(&like, KZ_T_PROFILE, old_pk, 0);
    rc = kz_node_slot_load(n, &like, &prof);
    if (rc != 0 && rc != KZ_ENOTFOUND) {
        snprintf(err, errsz, "cannot read the profile of %s: %s", oid.s, kz_strerror(rc));
        goto out_head;
    }

    crypto_sign_keypair(new_pk, new_sk);
    if ((rc = kz_handover_sign(sig, old_sk, new_pk, n->keys.node_pk)) != 0) {
        snprintf(err, errsz, "cannot sign the hand-over: %s", kz_strerror(rc));
        goto out_head;
    }
    uint64_t t0 = kz_node_created_ms(n, head.created_ms);
    const kz_body_attest *oa = &head.body.attest;
    kz_record_init(&w.attest, KZ_T_ATTEST, n->keys.node_pk, t0);
    kz_body_attest *na = &w.attest.body.attest;
    memcpy(na->member, new_pk, KZ_KEY_BYTES);
    na->role = oa->role;
    na->joined = oa->joined;
    na->left = oa->left;
    na->department = oa->department;
    na->has_previous = true;
    memcpy(na->previous, old_pk, KZ_KEY_BYTES);
    na->handover = (kz_bytes){sig, sizeof sig};
    kz_record_init(&w.revoke, KZ_T_REVOKE, n->keys.node_pk, t0);
    kz_idstr nid = kz_id_to_str(new_pk);
    snprintf(reason, sizeof reason, "key rotated to %.16s", nid.s);
    memcpy(w.revoke.body.revoke.member, old_pk, KZ_KEY_BYTES);
    w.revoke.body.revoke.reason = (kz_str){reason, (uint32_t)strlen(reason)};
    if (oa->has_previous) { /* the old key was itself a successor: keep that link */
        w.revoke.body.revoke.has_previous = true;
        memcpy(w.revoke.body.revoke.previous, oa->previous, KZ_KEY_BYTES);
        w.revoke.body.revoke.handover = oa->handover;
    }
    if ((rc = kz_record_sign(&w.attest, n->keys.node_sk)) != 0 ||
        (rc = kz_record_sign(&w.revoke, n->keys.node_sk)) != 0) {
        snprintf(err, errsz, "cannot sign the rotation: %s", kz_record_last_error());
        goto out_recs;
    }
    if (prof.raw) {
        /* The same profile, now signed by the new key. */
        kz_record copy = prof;
        copy.raw = NULL;
        copy.raw_len = 0;
        memcpy(copy.author, new_pk, KZ_KEY_BYTES);
        copy.created_ms = t0;
        if ((rc = kz_record_sign(&copy, new_sk)) != 0) {
            snprintf(err, errsz, "cannot copy the profile: %s", kz_record_last_error());
            goto out_recs;
        }
        w.profile = copy; /* owns its own bytes now; prof keeps its own */
    }

    w.new_entry = w.old_entry;
    memcpy(w.new_entry.pk, new_pk, KZ_KEY_BYTES);
    w.new_entry.added_ms = t0;
    w.new_entry.sealed_sk_len = KZ_MEMBER_SEALED_LEN;
    if ((rc = kz_member_sk_seal(n->keys.storage, new_pk, new_sk, w.new_entry.sealed_sk)) != 0) {
        snprintf(err, errsz, "cannot encrypt the new member key: %s", kz_strerror(rc));
        goto out_recs;
    }
    /* The old entry stays (revoked, key kept) so that the member can still
     * delete what they posted under it. */
    w.old_entry.revoked = true;
    w.old_entry.hr_key[0] = '\0';

    rc = kz_store_atomic(n->store, rot_write_fn, &w);
    if (rc != 0) {
        snprintf(err, errsz, "cannot store the rotation: %s", kz__refusal(rc));
        goto out_recs;
    }
    kz_node_record_accepted(n, &w.attest, KZ_SRC_LOCAL);
    kz_node_record_accepted(n, &w.revoke, KZ_SRC_LOCAL);
    if (w.profile.raw)
        kz_node_record_accepted(n, &w.profile, KZ_SRC_LOCAL);
    kz_log_info("member", "member %s rotated to key %s", oid.s, nid.s);
    *result = json_pack("{s:s, s:s, s:o, s:o}", "member_id", nid.s, "previous", oid.s,
                        "attest_id", kz_json_hex(w.attest.id, KZ_ID_BYTES), "revoke_id",
                        kz_json_hex(w.revoke.id, KZ_ID_BYTES));
    if (w.profile.raw)
        json_object_set_new(*result, "profile_id", kz_json_hex(w.profile.id, KZ_ID_BYTES));
out_recs:
    kz_record_close(&w.attest);
    kz_record_close(&w.revoke);
    kz_record_close(&w.profile);
    kz_record_close(&prof);
out_head:
    kz_record_close(&head);
out_keys:
    sodium_memzero(old_sk, sizeof old_sk);
    sodium_memzero(new_sk, sizeof new_sk);
    sodium_memzero(&w.old_entry, sizeof w.old_entry);
    sodium_memzero(&w.new_entry, sizeof w.new_entry);
    return rc;
}

/* ---- member.history --------------------------------------------------------------- */

#define KZ_HISTORY_DEFAULT 100
#define KZ_HISTORY_MAX 1000

typedef struct {
    uint64_t created;
    uint8_t id[KZ_ID_BYTES];
    uint8_t author[KZ_KEY_BYTES];
    uint8_t type;
} kz_hist_item;

typedef struct {
    kz_hist_item *items;
    size_t n, max;
    const uint8_t *author;
} kz_hist;

static int hist_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                   const uint8_t *raw, size_t len)
{
    kz_hist *h = ud;
    if (h->n == h->max)
        return 1; /* newest first: the rest is older than what we keep */
    kz_hist_item *it = &h->items[h->n++];
    it->created = created_ms;
    memcpy(it->id, id, KZ_ID_BYTES);
    memcpy(it->author, h->author, KZ_KEY_BYTES);
    /* The type is the second element of the record array: 96 01 TT. */
    it->type = len > 2 ? raw[2] : 0;
    return 0;
}

static int hist_cmp(const void *a, const void *b)
{
    const kz_hist_item *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? 1 : -1;
    return -memcmp(x->id, y->id, KZ_ID_BYTES);
}

static int kz_h_member_history(kz_node *n, json_t *args, json_t **result, char *err,
                               size_t errsz)
{
    static const char *const allowed[] = {"member", "limit", NULL};
    uint8_t pk[KZ_KEY_BYTES];
    uint8_t keys[KZ_ROTATION_CHAIN_MAX][KZ_KEY_BYTES];
    size_t nk = 0;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0)
        return rc;
    json_int_t limit = KZ_HISTORY_DEFAULT;
    json_t *lj = json_object_get(args, "limit");
    if (lj) {
        if (!json_is_integer(lj) || json_integer_value(lj) < 1 ||
            json_integer_value(lj) > KZ_HISTORY_MAX) {
            snprintf(err, errsz, "argument 'limit' must be 1..%d", KZ_HISTORY_MAX);
            return KZ_EINVAL;
        }
        limit = json_integer_value(lj);
    }
    rc = kz_store_member_chain(n->store, pk, keys, KZ_ROTATION_CHAIN_MAX, &nk);
    if (rc != 0 && rc != KZ_ETOOBIG) {
        snprintf(err, errsz, "cannot follow the member's keys: %s", kz_strerror(rc));
        return rc;
    }
    /* Each key's newest `limit` records, merged newest first. */
    kz_hist h = {kz_xcalloc(nk * (size_t)limit, sizeof *h.items), 0, 0, NULL};
    for (size_t k = 0; k < nk; k++) {
        h.max = h.n + (size_t)limit;
        h.author = keys[k];
        rc = kz_store_iter_author(n->store, keys[k], hist_cb, &h);
        if (rc < 0) {
            free(h.items);
            snprintf(err, errsz, "cannot read the member's records: %s", kz_strerror(rc));
            return rc;
        }
    }
    qsort(h.items, h.n, sizeof *h.items, hist_cmp);
    if (h.n > (size_t)limit)
        h.n = (size_t)limit;
    json_t *list = json_array(), *kl = json_array();
    for (size_t i = 0; i < h.n; i++) {
        const kz_hist_item *it = &h.items[i];
        char when[KZ_TIME_STR_MAX];
        kz_time_format(when, it->created);
        const char *type = kz_rtype_name(it->type);
        json_array_append_new(list, json_pack("{s:o, s:s, s:o, s:s, s:I}", "id",
                                              kz_json_hex(it->id, KZ_ID_BYTES), "type",
                                              type ? type : "unknown", "author",
                                              kz_json_hex(it->author, KZ_KEY_BYTES), "created",
                                              when, "created_ms", (json_int_t)it->created));
    }
    for (size_t k = 0; k < nk; k++)
        json_array_append_new(kl, kz_json_hex(keys[k], KZ_KEY_BYTES));
    free(h.items);
    *result = json_pack("{s:o, s:o, s:o}", "member_id", kz_json_hex(keys[0], KZ_KEY_BYTES),
                        "keys", kl, "records", list);
    return 0;
}

static const kz_control_verb kz_verbs[] = {
    {"member.rotate", kz_h_member_rotate,
     "move args.member to a new key: hand-over signed by the old key, new attestation, old "
     "key revoked, profile copied; returns the new member_id"},
    {"member.history", kz_h_member_history,
     "records by every key of args.member's rotation chain, newest first (args.limit)"},
};

const kz__verb_table kz__verbs_rotate = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
