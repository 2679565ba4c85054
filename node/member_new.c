/* member_new.c: creating a member (key pair, sealed secret, attestation and
 * first profile) and passing atomically written records on to the node. */
#include "member_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static kz_str kz_opt(const char *s)
{
    return s && s[0] ? (kz_str){s, (uint32_t)strlen(s)} : (kz_str){NULL, 0};
}

void kz__member_new_close(kz__member_new *m)
{
    if (!m)
        return;
    kz_record_close(&m->attest);
    kz_record_close(&m->profile);
    sodium_memzero(&m->entry, sizeof m->entry);
}

int kz__member_create(kz_node *n, const kz__member_spec *spec, uint64_t created_ms,
                      kz__member_new *out, char *err, size_t errsz)
{
    uint8_t sk[KZ_SECKEY_BYTES];
    int rc;
    memset(out, 0, sizeof *out);
    crypto_sign_keypair(out->pk, sk);

    kz_record *a = &out->attest, *p = &out->profile;
    kz_record_init(a, KZ_T_ATTEST, n->keys.node_pk, created_ms);
    memcpy(a->body.attest.member, out->pk, KZ_KEY_BYTES);
    a->body.attest.role = (uint8_t)spec->role;
    a->body.attest.joined = spec->joined;
    a->body.attest.left = spec->left;
    a->body.attest.department = kz_opt(spec->department);
    kz_record_init(p, KZ_T_PROFILE, out->pk, created_ms);
    p->body.profile.name = kz_opt(spec->name);
    p->body.profile.reading = kz_opt(spec->reading);
    p->body.profile.romaji = kz_opt(spec->romaji);
    p->body.profile.department = kz_opt(spec->department);
    p->body.profile.joined = spec->joined;
    p->body.profile.left = spec->left;
    if ((rc = kz_record_sign(a, n->keys.node_sk)) != 0 || (rc = kz_record_sign(p, sk)) != 0) {
        snprintf(err, errsz, "invalid member: %s", kz_record_last_error());
        goto fail;
    }

    kz_store_member *m = &out->entry;
    memcpy(m->pk, out->pk, KZ_KEY_BYTES);
    m->role = (uint8_t)spec->role;
    m->joined = spec->joined;
    m->left = spec->left;
    m->added_ms = created_ms;
    if (spec->hr_key && spec->hr_key[0]) {
        size_t hl = strlen(spec->hr_key);
        if (hl > KZ_HRKEY_MAX) {
            snprintf(err, errsz, "employee number longer than %d bytes", KZ_HRKEY_MAX);
            rc = KZ_EINVAL;
            goto fail;
        }
        memcpy(m->hr_key, spec->hr_key, hl + 1);
    }
    m->sealed_sk_len = KZ_MEMBER_SEALED_LEN;
    if ((rc = kz_member_sk_seal(n->keys.storage, out->pk, sk, m->sealed_sk)) != 0) {
        snprintf(err, errsz, "cannot encrypt the member key: %s", kz_strerror(rc));
        goto fail;
    }
    sodium_memzero(sk, sizeof sk);
    return 0;
fail:
    sodium_memzero(sk, sizeof sk);
    kz__member_new_close(out);
    return rc;
}

int kz__member_new_put(kz_store_txn *t, const kz__member_new *m)
{
    int rc;
    /* The key first: within one transaction the order only matters to the
     * acceptance rules (the profile needs the attestation). */
    if ((rc = kz_store_txn_member_put(t, &m->entry)) != 0 ||
        (rc = kz_store_txn_put(t, &m->attest, NULL)) != 0 ||
        (rc = kz_store_txn_put(t, &m->profile, NULL)) != 0)
        return rc;
    return 0;
}

void kz__accepted_ids(kz_node *n, const uint8_t (*ids)[KZ_ID_BYTES], size_t count)
{
    for (size_t i = 0; i < count; i++) {
        kz_record r;
        int rc = kz_node_record_load(n, ids[i], true, &r);
        if (rc != 0) {
            kz_idstr id = kz_id_to_str(ids[i]);
            kz_log_warn("record", "stored %s but cannot read it back: %s", id.s, kz_strerror(rc));
            continue;
        }
        kz_node_record_accepted(n, &r, KZ_SRC_LOCAL);
        kz_record_close(&r);
    }
}
