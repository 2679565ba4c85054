/* handlers_contact.c: control verbs for private contact: contact.send,
 * contact.inbox, contact.accept, contact.ignore. Messages are sealed to the
 * recipient (kz_contact.h); only a node holding the recipient's key opens
 * them. Accepted/ignored marks are local settings, never replicated. */
#include "talk_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_contact.h"

#define KZ_STATE_PREFIX "contact/"

static void kz_state_key(char *out, size_t outsz, const uint8_t id[KZ_ID_BYTES])
{
    kz_idstr s = kz_id_to_str(id);
    snprintf(out, outsz, KZ_STATE_PREFIX "%s", s.s);
}

/* "new", "accepted" or "ignored" for a received request. */
static const char *kz_state_get(kz_node *n, const uint8_t id[KZ_ID_BYTES])
{
    char key[96], val[16];
    size_t len;
    kz_state_key(key, sizeof key, id);
    if (kz_store_setting_get(n->store, key, val, sizeof val - 1, &len) != 0)
        return "new";
    val[len] = '\0';
    return strcmp(val, "accepted") == 0 ? "accepted" : strcmp(val, "ignored") == 0 ? "ignored" : "new";
}

/* Seal m to `to`, sign as pk and store. The record id goes to id. */
static int kz_contact_put(kz_node *n, const uint8_t pk[KZ_KEY_BYTES], const uint8_t sk[KZ_SECKEY_BYTES],
                          const uint8_t to[KZ_KEY_BYTES], const kz_contact_msg *m,
                          uint8_t id[KZ_ID_BYTES], char *err, size_t errsz)
{
    uint8_t *sealed = kz_xmalloc(KZ_SEALED_MAX);
    size_t slen;
    kz_record rec;
    memset(&rec, 0, sizeof rec);
    int rc = kz_contact_seal(m, to, sealed, &slen);
    if (rc != 0) {
        snprintf(err, errsz, "cannot seal the message: %s", kz_strerror(rc));
        goto out;
    }
    kz_record_init(&rec, KZ_T_CONTACT, pk, kz_node_created_ms(n, 0));
    memcpy(rec.body.contact.to, to, KZ_KEY_BYTES);
    rec.body.contact.sealed = (kz_bytes){sealed, (uint32_t)slen};
    if ((rc = kz_record_sign(&rec, sk)) != 0) {
        snprintf(err, errsz, "invalid contact: %s", kz_record_last_error());
        goto out;
    }
    if ((rc = kz_node_put(n, &rec, KZ_SRC_LOCAL, NULL)) != 0) {
        snprintf(err, errsz, "cannot store the contact: %s", kz__refusal(rc));
        goto out;
    }
    memcpy(id, rec.id, KZ_ID_BYTES);
out:
    kz_record_close(&rec);
    free(sealed);
    return rc;
}

static int kz_copy_text(char *dst, size_t dstsz, const char *src, const char *what, char *err,
                        size_t errsz)
{
    size_t len = src ? strlen(src) : 0;
    if (len >= dstsz) {
        snprintf(err, errsz, "%s is longer than %zu bytes", what, dstsz - 1);
        return KZ_EINVAL;
    }
    memcpy(dst, src ? src : "", len + 1);
    return 0;
}

static int kz_h_contact_send(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "to", "message", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], to[KZ_KEY_BYTES], home[KZ_KEY_BYTES];
    uint8_t id[KZ_ID_BYTES];
    const char *text;
    kz_store_member m;
    kz_contact_msg *msg;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "to", to, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "message", true, KZ_CONTACT_MSG_MAX, true, &text, err, errsz)) != 0)
        return rc;
    if (memcmp(pk, to, KZ_KEY_BYTES) == 0) {
        snprintf(err, errsz, "a member cannot contact themself");
        return KZ_EINVAL;
    }
    if (!kz__talk_home(n, to, home)) {
        kz_idstr s = kz_id_to_str(to);
        snprintf(err, errsz, "unknown member %s: no live attestation in this node's store", s.s);
        return KZ_ENOATTEST;
    }
    msg = kz_xcalloc(1, sizeof *msg);
    msg->kind = KZ_CONTACT_REQUEST;
    if ((rc = kz_copy_text(msg->message, sizeof msg->message, text, "message", err, errsz)) != 0)
        goto out_msg;
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        goto out_msg;
    rc = kz_contact_put(n, pk, sk, to, msg, id, err, errsz);
    if (rc == 0)
        *result = json_pack("{s:o}", "contact_id", kz_json_hex(id, KZ_ID_BYTES));
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
out_msg:
    sodium_memzero(msg, sizeof *msg);
    free(msg);
    return rc;
}

/* ---- contact.inbox ----------------------------------------------------------- */

json_t *kz__contact_inbox(kz_node *n, const uint8_t pk[KZ_KEY_BYTES], const uint8_t sk[KZ_SECKEY_BYTES],
                          uint64_t since_ms, int *rc_out)
{
    kz__recvec v = {0};
    kz_contact_msg *msg = kz_xcalloc(1, sizeof *msg);
    int rc = kz__talk_collect(n, KZ_T_CONTACT, since_ms, &v);
    json_t *list = NULL;
    *rc_out = rc;
    if (rc != 0)
        goto out;
    list = json_array();
    for (size_t i = 0; i < v.n; i++) {
        const kz_record *r = &v.items[i];
        char t[KZ_TIME_STR_MAX];
        if (memcmp(r->body.contact.to, pk, KZ_KEY_BYTES) != 0)
            continue;
        kz_time_format(t, r->created_ms);
        json_t *o = json_pack("{s:o, s:o, s:o, s:s}", "contact_id", kz_json_hex(r->id, KZ_ID_BYTES),
                              "from", kz_json_hex(r->author, KZ_KEY_BYTES),
                              "from_name", kz__talk_name(n, r->author), "received", t);
        if (kz_contact_open(r->body.contact.sealed.p, r->body.contact.sealed.n, pk, sk, msg) != 0) {
            json_object_set_new(o, "kind", json_string("unreadable"));
        } else {
            json_object_set_new(o, "kind", json_string(msg->kind == KZ_CONTACT_ACCEPT ? "accept" : "request"));
            json_object_set_new(o, "message", json_string(msg->message));
            json_object_set_new(o, "reveal", json_string(msg->reveal));
            json_object_set_new(o, "ref", msg->has_ref ? kz_json_hex(msg->ref, KZ_ID_BYTES) : json_null());
            if (msg->kind == KZ_CONTACT_REQUEST)
                json_object_set_new(o, "state", json_string(kz_state_get(n, r->id)));
        }
        json_array_append_new(list, o);
    }
out:
    sodium_memzero(msg, sizeof *msg);
    free(msg);
    kz__recvec_free(&v);
    return list;
}

static int kz_h_contact_inbox(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES];
    kz_store_member m;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    json_t *list = kz__contact_inbox(n, pk, sk, 0, &rc);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    if (!list) {
        snprintf(err, errsz, "cannot read contacts: %s", kz_strerror(rc));
        return rc;
    }
    *result = json_pack("{s:o}", "contacts", list);
    return 0;
}

/* ---- contact.accept / contact.ignore ----------------------------------------- */

/* Load contact args.id addressed to pk and open it into msg. */
static int kz_load_request(kz_node *n, const uint8_t id[KZ_ID_BYTES], const uint8_t pk[KZ_KEY_BYTES],
                           const uint8_t sk[KZ_SECKEY_BYTES], kz_record *r, kz_contact_msg *msg,
                           char *err, size_t errsz)
{
    kz_idstr s = kz_id_to_str(id);
    int rc = kz_node_record_load(n, id, true, r);
    if (rc != 0) {
        snprintf(err, errsz, "no contact %s in this node's store", s.s);
        return rc;
    }
    if (r->type != KZ_T_CONTACT || memcmp(r->body.contact.to, pk, KZ_KEY_BYTES) != 0) {
        snprintf(err, errsz, "record %s is not a contact request to this member", s.s);
        rc = KZ_EPERM;
    } else if (kz_contact_open(r->body.contact.sealed.p, r->body.contact.sealed.n, pk, sk, msg) != 0) {
        snprintf(err, errsz, "contact %s cannot be opened with this member's key", s.s);
        rc = KZ_ECRYPTO;
    } else if (msg->kind != KZ_CONTACT_REQUEST) {
        snprintf(err, errsz, "contact %s is an answer, not a request", s.s);
        rc = KZ_EINVAL;
    }
    if (rc != 0)
        kz_record_close(r);
    return rc;
}

static int kz_answer(kz_node *n, json_t *args, bool accept, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "id", "reveal", "message", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], id[KZ_ID_BYTES], out_id[KZ_ID_BYTES];
    const char *reveal = NULL, *text = NULL;
    char key[96];
    kz_store_member m;
    kz_record req;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "id", id, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "reveal", false, KZ_CONTACT_REVEAL_MAX, true, &reveal, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "message", false, KZ_CONTACT_MSG_MAX, true, &text, err, errsz)) != 0)
        return rc;
    if (!accept && (reveal || text)) {
        snprintf(err, errsz, "ignore takes no reveal or message");
        return KZ_EINVAL;
    }
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    kz_contact_msg *msg = kz_xcalloc(1, sizeof *msg);
    if ((rc = kz_load_request(n, id, pk, sk, &req, msg, err, errsz)) != 0)
        goto out;
    kz_state_key(key, sizeof key, id);
    if (accept) {
        uint8_t from[KZ_KEY_BYTES];
        memcpy(from, req.author, KZ_KEY_BYTES);
        memset(msg, 0, sizeof *msg);
        msg->kind = KZ_CONTACT_ACCEPT;
        msg->has_ref = true;
        memcpy(msg->ref, id, KZ_ID_BYTES);
        if ((rc = kz_copy_text(msg->message, sizeof msg->message,
                               text && text[0] ? text : "Accepted.", "message", err, errsz)) != 0 ||
            (rc = kz_copy_text(msg->reveal, sizeof msg->reveal, reveal, "reveal", err, errsz)) != 0 ||
            (rc = kz_contact_put(n, pk, sk, from, msg, out_id, err, errsz)) != 0)
            goto out_req;
    }
    const char *state = accept ? "accepted" : "ignored";
    if ((rc = kz_store_setting_put(n->store, key, state, strlen(state))) != 0) {
        snprintf(err, errsz, "cannot record the answer: %s", kz_strerror(rc));
        goto out_req;
    }
    *result = accept ? json_pack("{s:o, s:s}", "contact_id", kz_json_hex(out_id, KZ_ID_BYTES), "state", state)
                     : json_pack("{s:o, s:s}", "contact_id", kz_json_hex(id, KZ_ID_BYTES), "state", state);
out_req:
    kz_record_close(&req);
out:
    sodium_memzero(msg, sizeof *msg);
    free(msg);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    return rc;
}

static int kz_h_contact_accept(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    return kz_answer(n, args, true, result, err, errsz);
}

static int kz_h_contact_ignore(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    return kz_answer(n, args, false, result, err, errsz);
}

static const kz_control_verb kz_verbs[] = {
    {"contact.send", kz_h_contact_send,
     "seal args.message to member args.to and sign it as args.member"},
    {"contact.inbox", kz_h_contact_inbox, "contacts to args.member, opened with its key"},
    {"contact.accept", kz_h_contact_accept,
     "answer request args.id to args.member, sealed to its sender; args.reveal, args.message"},
    {"contact.ignore", kz_h_contact_ignore, "mark request args.id to args.member as ignored (local)"},
};

const kz__verb_table kz__verbs_contact = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
