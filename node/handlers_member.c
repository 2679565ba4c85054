/* handlers_member.c: control verbs for local members and profiles:
 * member.add, member.list, member.revoke, profile.set, profile.show. */
#include "internal.h"
#include "member_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kz_str kz_s(const char *s)
{
    return s ? (kz_str){s, (uint32_t)strlen(s)} : (kz_str){NULL, 0};
}

static int kz_check_tenure(uint16_t joined, uint16_t left, char *err, size_t errsz)
{
    if (joined && left && left < joined) {
        snprintf(err, errsz, "left (%u) is before joined (%u)", (unsigned)left, (unsigned)joined);
        return KZ_EINVAL;
    }
    return 0;
}

int kz__member_key(kz_node *n, const uint8_t pk[KZ_KEY_BYTES], kz_store_member *m,
                   uint8_t sk[KZ_SECKEY_BYTES], char *err, size_t errsz)
{
    kz_idstr id = kz_id_to_str(pk);
    int rc = kz_store_member_get(n->store, pk, m);
    if (rc == KZ_ENOTFOUND) {
        snprintf(err, errsz, "member %s is not held by this node (its key lives elsewhere)", id.s);
        return KZ_ENOTFOUND;
    }
    if (rc != 0) {
        snprintf(err, errsz, "cannot read member %s: %s", id.s, kz_strerror(rc));
        return rc;
    }
    if (m->revoked) {
        snprintf(err, errsz, "member %s is revoked", id.s);
        return KZ_EPERM;
    }
    if (m->sealed_sk_len == 0) {
        snprintf(err, errsz, "member %s holds their key alone; sign on their own machine", id.s);
        return KZ_EPERM;
    }
    rc = kz_member_sk_open(n->keys.storage, pk, m->sealed_sk, m->sealed_sk_len, sk);
    if (rc != 0) {
        snprintf(err, errsz, "cannot decrypt the key of member %s (wrong storage.key?)", id.s);
        kz_log_error("keys", "cannot decrypt the key of member %s: %s", id.s, kz_strerror(rc));
        return KZ_ECRYPTO;
    }
    return 0;
}

/* ---- member.add ------------------------------------------------------------------ */

static int kz_member_add_fn(void *ud, kz_store_txn *t)
{
    return kz__member_new_put(t, ud);
}

static int kz_h_member_add(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"name", "reading", "romaji", "role", "joined",
                                          "left", "department", NULL};
    const char *name, *reading, *romaji, *role_s, *dept;
    uint16_t joined, left;
    int role = KZ_ROLE_ALUMNI;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "name", true, KZ_NAME_MAX, false, &name, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "reading", true, KZ_NAME_MAX, false, &reading, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "romaji", false, KZ_NAME_MAX, false, &romaji, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "role", false, 32, false, &role_s, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "department", false, KZ_SHORT_MAX, false, &dept, err, errsz)) != 0 ||
        (rc = kz__arg_year(args, "joined", &joined, err, errsz)) != 0 ||
        (rc = kz__arg_year(args, "left", &left, err, errsz)) != 0 ||
        (rc = kz_check_tenure(joined, left, err, errsz)) != 0)
        return rc;
    if (role_s && (role = kz_role_parse(role_s)) < 0) {
        snprintf(err, errsz, "role must be alumni, employee or secretariat");
        return KZ_EINVAL;
    }
    if (romaji && !romaji[0])
        romaji = NULL;
    if (dept && !dept[0])
        dept = NULL;

    /* Key, attestation and first profile are one transaction: a failure or
     * a crash leaves no half-added member (node/member_new.c). */
    kz__member_spec spec = {name, reading, romaji, dept, role, joined, left, NULL};
    kz__member_new m;
    if ((rc = kz__member_create(n, &spec, kz_node_created_ms(n, 0), &m, err, errsz)) != 0)
        return rc;
    if ((rc = kz_store_atomic(n->store, kz_member_add_fn, &m)) != 0) {
        snprintf(err, errsz, "cannot store the member: %s", kz__refusal(rc));
        goto out;
    }
    kz_node_record_accepted(n, &m.attest, KZ_SRC_LOCAL);
    kz_node_record_accepted(n, &m.profile, KZ_SRC_LOCAL);
    *result = json_pack("{s:o, s:o, s:o}", "member_id", kz_json_hex(m.pk, KZ_KEY_BYTES),
                        "attest_id", kz_json_hex(m.attest.id, KZ_ID_BYTES), "profile_id",
                        kz_json_hex(m.profile.id, KZ_ID_BYTES));
out:
    kz__member_new_close(&m);
    return rc;
}

/* ---- member.list --------------------------------------------------------------- */

typedef struct {
    kz_store_member *items;
    size_t n, cap;
} kz_member_vec;

/* Copy entries out: no other store call may run inside an iteration. */
static int kz_collect_cb(void *ud, const kz_store_member *m)
{
    kz_member_vec *v = ud;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 16;
        v->items = kz_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->n++] = *m;
    sodium_memzero(v->items[v->n - 1].sealed_sk, sizeof v->items[v->n - 1].sealed_sk);
    return 0;
}

static const char *kz_member_status(kz_node *n, const kz_store_member *m)
{
    uint8_t home[KZ_KEY_BYTES], aid[KZ_ID_BYTES];
    if (m->revoked)
        return "revoked";
    if (kz_store_member_home(n->store, m->pk, home, aid) == 0)
        return "live";
    return "pending"; /* no attestation stored (interrupted add) */
}

static int kz_h_member_list(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {NULL};
    kz_member_vec v = {0};
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc != 0)
        return rc;
    rc = kz_store_member_iter(n->store, kz_collect_cb, &v);
    if (rc < 0) {
        free(v.items);
        snprintf(err, errsz, "cannot list members: %s", kz_strerror(rc));
        return rc;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < v.n; i++) {
        const kz_store_member *m = &v.items[i];
        kz_record like, prof;
        char added[KZ_TIME_STR_MAX];
        kz_record_init(&like, KZ_T_PROFILE, m->pk, 0);
        bool have = kz_node_slot_load(n, &like, &prof) == 0;
        kz_time_format(added, m->added_ms);
        json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:s, s:s, s:b}",
                              "member_id", kz_json_hex(m->pk, KZ_KEY_BYTES),
                              "name", have ? kz_json_kzstr(prof.body.profile.name) : json_string(""),
                              "reading", have ? kz_json_kzstr(prof.body.profile.reading) : json_string(""),
                              "romaji", have ? kz_json_kzstr(prof.body.profile.romaji) : json_string(""),
                              "role", kz_role_name(m->role),
                              "joined", m->joined ? json_integer(m->joined) : json_null(),
                              "left", m->left ? json_integer(m->left) : json_null(),
                              "department", have ? kz_json_kzstr(prof.body.profile.department) : json_string(""),
                              "status", kz_member_status(n, m),
                              "added", added,
                              "holds_key", m->sealed_sk_len > 0);
        if (have)
            kz_record_close(&prof);
        json_array_append_new(list, o);
    }
    free(v.items);
    *result = json_pack("{s:o}", "members", list);
    return 0;
}

/* ---- member.revoke --------------------------------------------------------------- */

static int kz_h_member_revoke(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "reason", NULL};
    uint8_t pk[KZ_KEY_BYTES];
    const char *reason;
    kz_record like, head, rev;
    int rc;
    memset(&rev, 0, sizeof rev);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "reason", false, KZ_SHORT_MAX, false, &reason, err, errsz)) != 0)
        return rc;
    kz_idstr id = kz_id_to_str(pk);
    kz_record_init(&like, KZ_T_ATTEST, n->keys.node_pk, 0);
    memcpy(like.body.attest.member, pk, KZ_KEY_BYTES);
    rc = kz_node_slot_load(n, &like, &head);
    if (rc == KZ_ENOTFOUND) {
        snprintf(err, errsz, "member %s is not attested by this node", id.s);
        return KZ_ENOTFOUND;
    }
    if (rc != 0) {
        snprintf(err, errsz, "cannot read the membership of %s: %s", id.s, kz_strerror(rc));
        return rc;
    }
    uint64_t prev = head.created_ms;
    bool already = head.type == KZ_T_REVOKE;
    /* A rotated member's hand-over outlives the revocation (their history
     * stays theirs): it is carried from the attest into the revoke. */
    uint8_t carry_prev[KZ_KEY_BYTES], ho[KZ_SIG_BYTES];
    bool carry = !already && head.body.attest.has_previous;
    if (carry) {
        memcpy(carry_prev, head.body.attest.previous, KZ_KEY_BYTES);
        memcpy(ho, head.body.attest.handover.p, KZ_SIG_BYTES);
    }
    kz_record_close(&head);
    if (already) {
        snprintf(err, errsz, "member %s is already revoked", id.s);
        return KZ_EEXIST;
    }
    kz_record_init(&rev, KZ_T_REVOKE, n->keys.node_pk, kz_node_created_ms(n, prev));
    memcpy(rev.body.revoke.member, pk, KZ_KEY_BYTES);
    rev.body.revoke.reason = kz_s(reason && reason[0] ? reason : NULL);
    if (carry) {
        rev.body.revoke.has_previous = true;
        memcpy(rev.body.revoke.previous, carry_prev, KZ_KEY_BYTES);
        rev.body.revoke.handover = (kz_bytes){ho, KZ_SIG_BYTES};
    }
    if ((rc = kz_record_sign(&rev, n->keys.node_sk)) != 0) {
        snprintf(err, errsz, "cannot sign the revocation: %s", kz_record_last_error());
        goto out;
    }
    if ((rc = kz_node_put(n, &rev, KZ_SRC_LOCAL, NULL)) != 0) {
        snprintf(err, errsz, "cannot store the revocation: %s", kz__refusal(rc));
        goto out;
    }
    kz_store_member m;
    if (kz_store_member_get(n->store, pk, &m) == 0 && !m.revoked) {
        m.revoked = true;
        rc = kz_store_member_put(n->store, &m);
        sodium_memzero(&m, sizeof m);
        if (rc != 0) {
            snprintf(err, errsz, "revocation stored, but the local entry could not be marked: %s",
                     kz_strerror(rc));
            goto out;
        }
    }
    *result = json_pack("{s:o}", "revoke_id", kz_json_hex(rev.id, KZ_ID_BYTES));
out:
    kz_record_close(&rev);
    return rc;
}

/* ---- profile.set ------------------------------------------------------------------- */

static int kz_h_profile_set(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "fields", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES];
    kz_store_member m;
    kz_profile p;
    kz_record like, head, rec;
    uint64_t prev = 0;
    int rc;
    memset(&rec, 0, sizeof rec);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0)
        return rc;
    json_t *fields = json_object_get(args, "fields");
    if (!json_is_object(fields) || json_object_size(fields) == 0) {
        snprintf(err, errsz, "argument 'fields' must be a non-empty object of FIELD: \"VALUE\"");
        return KZ_EINVAL;
    }
    kz_profile_init(&p);
    rc = kz__member_key(n, pk, &m, sk, err, errsz);
    if (rc != 0)
        return rc;
    kz_record_init(&like, KZ_T_PROFILE, pk, 0);
    rc = kz_node_slot_load(n, &like, &head);
    if (rc == 0) {
        kz_profile_from_body(&p, &head.body.profile);
        prev = head.created_ms;
        kz_record_close(&head);
    } else if (rc != KZ_ENOTFOUND) {
        snprintf(err, errsz, "cannot read the current profile: %s", kz_strerror(rc));
        goto out;
    }
    p.rehire = m.rehire;
    const char *key;
    json_t *val;
    json_object_foreach(fields, key, val) {
        if (!json_is_string(val)) {
            snprintf(err, errsz, "field '%.40s' must be given as a string", key);
            rc = KZ_EINVAL;
            goto out;
        }
        if (json_string_length(val) > KZ_TEXT_MAX) {
            snprintf(err, errsz, "field '%.40s' is too long", key);
            rc = KZ_ETOOBIG;
            goto out;
        }
        if ((rc = kz_profile_set(&p, key, json_string_value(val), err, errsz)) != 0)
            goto out;
    }
    if (!p.name) {
        snprintf(err, errsz, "the profile has no name; set name=...");
        rc = KZ_EINVAL;
        goto out;
    }
    if ((rc = kz_check_tenure(p.joined, p.left, err, errsz)) != 0)
        goto out;
    kz_record_init(&rec, KZ_T_PROFILE, pk, kz_node_created_ms(n, prev));
    kz_profile_to_body(&p, &rec.body.profile);
    if ((rc = kz_record_sign(&rec, sk)) != 0) {
        snprintf(err, errsz, "invalid profile: %s", kz_record_last_error());
        goto out;
    }
    if ((rc = kz_node_put(n, &rec, KZ_SRC_LOCAL, NULL)) != 0) {
        snprintf(err, errsz, "cannot store the profile: %s", kz__refusal(rc));
        goto out;
    }
    if (p.rehire != m.rehire) {
        m.rehire = p.rehire;
        if ((rc = kz_store_member_put(n->store, &m)) != 0) {
            snprintf(err, errsz, "profile stored, but the private re-hire flag was not: %s",
                     kz_strerror(rc));
            goto out;
        }
    }
    *result = json_pack("{s:o}", "profile_id", kz_json_hex(rec.id, KZ_ID_BYTES));
out:
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    kz_profile_close(&p);
    return rc;
}

/* ---- profile.show ----------------------------------------------------------------- */

static int kz_h_profile_show(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "as", NULL};
    uint8_t pk[KZ_KEY_BYTES], home[KZ_KEY_BYTES], aid[KZ_ID_BYTES], viewer[KZ_KEY_BYTES];
    kz_record like, prof, attest, noderec;
    kz_profile p;
    kz_store_member m;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (json_object_get(args, "as") && (rc = kz__arg_id(args, "as", viewer, err, errsz)) != 0))
        return rc;
    kz_idstr id = kz_id_to_str(pk);
    kz_record_init(&like, KZ_T_PROFILE, pk, 0);
    rc = kz_node_slot_load(n, &like, &prof);
    if (rc == KZ_ENOTFOUND) {
        snprintf(err, errsz, "no profile of member %s in this node's store", id.s);
        return rc;
    }
    if (rc != 0) {
        snprintf(err, errsz, "cannot read the profile of %s: %s", id.s, kz_strerror(rc));
        return rc;
    }
    if (kz_store_author_blocked(n->store, pk)) {
        kz_record_close(&prof);
        snprintf(err, errsz, "the profile of %s is hidden: the member's home node is blocked", id.s);
        return KZ_EBLOCKED;
    }
    bool local = kz_store_member_get(n->store, pk, &m) == 0;
    kz_profile_init(&p);
    p.rehire = local && m.rehire;
    kz_profile_from_body(&p, &prof.body.profile);
    json_t *o = kz_profile_to_json(&p, local);
    kz_profile_close(&p);
    char updated[KZ_TIME_STR_MAX];
    kz_time_format(updated, prof.created_ms);
    json_object_set_new(o, "member_id", json_string(id.s));
    json_object_set_new(o, "profile_id", kz_json_hex(prof.id, KZ_ID_BYTES));
    json_object_set_new(o, "updated", json_string(updated));
    json_object_set_new(o, "updated_ms", json_integer((json_int_t)prof.created_ms));
    kz_record_close(&prof);

    json_t *home_company = json_null(), *home_node = json_null(), *role = json_null();
    json_t *tj = json_null(), *tl = json_null();
    const char *status = local && m.revoked ? "revoked" : "no live attestation";
    if (kz_store_member_home(n->store, pk, home, aid) == 0) {
        status = "live";
        json_decref(home_node);
        home_node = kz_json_hex(home, KZ_KEY_BYTES);
        if (kz_node_record_load(n, aid, true, &attest) == 0) {
            json_decref(role);
            role = json_string(kz_role_name(attest.body.attest.role));
            if (attest.body.attest.joined) {
                json_decref(tj);
                tj = json_integer(attest.body.attest.joined);
            }
            if (attest.body.attest.left) {
                json_decref(tl);
                tl = json_integer(attest.body.attest.left);
            }
            kz_record_close(&attest);
        }
        kz_record_init(&like, KZ_T_NODE, home, 0);
        if (kz_node_slot_load(n, &like, &noderec) == 0) {
            json_decref(home_company);
            home_company = kz_json_kzstr(noderec.body.node.name);
            kz_record_close(&noderec);
        }
    }
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "home_company", home_company);
    json_object_set_new(o, "home_node_id", home_node);
    json_object_set_new(o, "role", role);
    json_object_set_new(o, "tenure_joined", tj);
    json_object_set_new(o, "tenure_left", tl);
    json_object_set_new(o, "local", json_boolean(local));
    if (local)
        sodium_memzero(&m, sizeof m);
    kz__profile_show_rotation(n, pk, o);
    /* --as: the same object, trimmed to what that viewer may see. */
    if (json_object_get(args, "as") &&
        (rc = kz__profile_view_filter(n, pk, viewer, o, err, errsz)) != 0) {
        json_decref(o);
        return rc;
    }
    *result = o;
    return 0;
}

static const kz_control_verb kz_verbs[] = {
    {"member.add", kz_h_member_add,
     "create a member key pair, attest it and sign the first profile; args name, reading, "
     "romaji, role, joined, left, department"},
    {"member.list", kz_h_member_list, "the members this node holds"},
    {"member.revoke", kz_h_member_revoke, "sign a revocation of args.member's attestation"},
    {"profile.set", kz_h_profile_set,
     "sign a new profile for args.member with args.fields {FIELD: \"VALUE\"} applied"},
    {"profile.show", kz_h_profile_show, "the current profile of any member in the store"},
};

const kz__verb_table kz__verbs_member = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
