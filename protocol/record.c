/* record.c: the public record API: build and sign, strictly decode and verify,
 * ids, replaceable slots and type names. */
#include "kz_record.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_cursor.h"
#include "record_internal.h"

/* The only mutable state in the module: decode and verify run on libuv's
 * thread pool, so the reason for the last failure is kept per thread. */
static _Thread_local char last_error[192];

int kz__record_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

const char *kz_record_last_error(void)
{
    return last_error[0] ? last_error : "no error";
}

void kz_record_init(kz_record *r, kz_rtype type, const uint8_t author[KZ_KEY_BYTES],
                    uint64_t created_ms)
{
    memset(r, 0, sizeof *r);
    r->version = KZ_RECORD_VERSION;
    r->type = (uint8_t)type;
    memcpy(r->author, author, KZ_KEY_BYTES);
    r->created_ms = created_ms;
}

void kz_record_close(kz_record *r)
{
    if (!r)
        return;
    free(r->raw);
    memset(r, 0, sizeof *r);
}

void kz_record_id(uint8_t id[KZ_ID_BYTES], const uint8_t *raw, size_t len)
{
    crypto_generichash(id, KZ_ID_BYTES, raw, len, NULL, 0);
}

/* The signature covers domain || signed array. The signed array is the record
 * without its signature: the fixarray header 0x96 becomes 0x95 and the final
 * bin8 of 64 bytes is dropped. Returns a kz_xmalloc'd message. */
static uint8_t *sig_message(const uint8_t *signed_arr, size_t len, size_t *msg_len)
{
    uint8_t *msg = kz_xmalloc(KZ_RECORD_SIG_DOMAIN_LEN + len);
    memcpy(msg, KZ_RECORD_SIG_DOMAIN, KZ_RECORD_SIG_DOMAIN_LEN); /* includes the NUL */
    memcpy(msg + KZ_RECORD_SIG_DOMAIN_LEN, signed_arr, len);
    *msg_len = KZ_RECORD_SIG_DOMAIN_LEN + len;
    return msg;
}

/* An attest that moves a member to a new key carries the old key's consent
 * (and a revoke replacing it carries the same); it is part of what "the
 * record verifies" means. */
static int handover_verify(const kz_record *r)
{
    const uint8_t *member, *previous;
    kz_bytes h;
    if (r->type == KZ_T_ATTEST && r->body.attest.has_previous) {
        member = r->body.attest.member;
        previous = r->body.attest.previous;
        h = r->body.attest.handover;
    } else if (r->type == KZ_T_REVOKE && r->body.revoke.has_previous) {
        member = r->body.revoke.member;
        previous = r->body.revoke.previous;
        h = r->body.revoke.handover;
    } else {
        return 0;
    }
    if (h.n != KZ_SIG_BYTES || !h.p)
        return KZ_EBADSIG;
    return kz_handover_verify(h.p, previous, member, r->author);
}

int kz_record_verify(const kz_record *r)
{
    if (!r->raw || r->raw_len < 1 + KZ__SIG_TAIL || r->raw[0] != 0x96)
        return KZ_EBADSIG;
    size_t signed_len = r->raw_len - KZ__SIG_TAIL, msg_len;
    uint8_t *msg = sig_message(r->raw, signed_len, &msg_len);
    msg[KZ_RECORD_SIG_DOMAIN_LEN] = 0x95;
    int ok = crypto_sign_verify_detached(r->sig, msg, msg_len, r->author);
    free(msg);
    if (ok != 0)
        return KZ_EBADSIG;
    return handover_verify(r);
}

/* Validate, re-encode and compare: buf[0..len) has passed the prescan and
 * been mapped into r. Its bytes must be exactly what the encoder produces. */
static int check_canonical(const kz_record *r, const uint8_t *buf, size_t len)
{
    uint8_t *enc = kz_xmalloc(KZ_RECORD_MAX);
    size_t enc_len = 0;
    int rc = kz__record_encode_signed(r, enc, KZ_RECORD_MAX - KZ__SIG_TAIL, &enc_len);
    if (rc)
        goto out;
    rc = KZ_ENONCANON;
    if (enc_len + KZ__SIG_TAIL != len) {
        kz__record_fail(rc, "record: %zu bytes, canonical encoding has %zu", len,
                        enc_len + KZ__SIG_TAIL);
        goto out;
    }
    /* enc[0] is 0x95 (five elements), buf[0] was mapped as a six-element
     * fixarray; a non-minimal array16 header would have changed the length. */
    if (buf[0] != 0x96) {
        kz__record_fail(rc, "record: array header is not minimal");
        goto out;
    }
    for (size_t i = 1; i < enc_len; i++) {
        if (buf[i] != enc[i]) {
            kz__record_fail(rc, "record: not canonical at byte %zu", i);
            goto out;
        }
    }
    if (buf[enc_len] != 0xc4 || buf[enc_len + 1] != KZ_SIG_BYTES) {
        kz__record_fail(rc, "record.sig: not encoded as bin 8");
        goto out;
    }
    rc = 0;
out:
    free(enc);
    return rc;
}

int kz_record_decode(kz_record *r, const uint8_t *buf, size_t len, uint64_t now_ms,
                     unsigned flags)
{
    const char *why;
    size_t at;
    int rc;
    /* r is an output: whatever it held before is not ours to free. */
    memset(r, 0, sizeof *r);
    if (len > KZ_RECORD_MAX)
        return kz__record_fail(KZ_ETOOBIG, "record: %zu bytes, more than %u", len,
                               (unsigned)KZ_RECORD_MAX);
    if (!buf || len == 0)
        return kz__record_fail(KZ_EDECODE, "record: empty input");
    /* Depth 3: record array > body map > list of strings. */
    if (kz__mp_prescan(buf, len, 3, &why, &at) != 0)
        return kz__record_fail(KZ_EDECODE, "record: %s at byte %zu", why, at);

    r->raw = kz_xmalloc(len); /* bounded by KZ_RECORD_MAX above */
    memcpy(r->raw, buf, len);
    r->raw_len = len;
    rc = kz__record_map(r, r->raw, len);
    if (rc)
        goto fail;
    rc = check_canonical(r, r->raw, len);
    if (rc)
        goto fail;
    kz_record_id(r->id, r->raw, len);
    if (now_ms != 0 && r->created_ms > now_ms && r->created_ms - now_ms > KZ_FUTURE_MAX_MS) {
        rc = kz__record_fail(KZ_EFUTURE, "record.created_ms: %llu ms ahead of now",
                             (unsigned long long)(r->created_ms - now_ms));
        goto fail;
    }
    if (!(flags & KZ_DECODE_NOVERIFY) && kz_record_verify(r) != 0) {
        rc = kz__record_fail(KZ_EBADSIG, "record.sig: does not verify");
        goto fail;
    }
    return 0;
fail:
    kz_record_close(r);
    return rc;
}

int kz_record_sign(kz_record *r, const uint8_t sk[KZ_SECKEY_BYTES])
{
    uint8_t pk[KZ_KEY_BYTES];
    size_t signed_len, msg_len;
    uint8_t *raw = NULL, *msg = NULL;
    kz_record out;
    int rc;

    if (crypto_sign_ed25519_sk_to_pk(pk, sk) != 0)
        return kz__record_fail(KZ_ECRYPTO, "record: cannot derive the public key");
    if (sodium_memcmp(pk, r->author, KZ_KEY_BYTES) != 0)
        return kz__record_fail(KZ_EINVAL, "record.author: does not match the signing key");

    /* r's strings may point into r->raw when re-signing a decoded record, so
     * the old bytes stay alive until the new record has replaced r. */
    raw = kz_xmalloc(KZ_RECORD_MAX);
    rc = kz__record_encode_signed(r, raw, KZ_RECORD_MAX - KZ__SIG_TAIL, &signed_len);
    if (rc)
        goto fail_raw;
    msg = sig_message(raw, signed_len, &msg_len);
    uint8_t sig[KZ_SIG_BYTES];
    if (crypto_sign_detached(sig, NULL, msg, msg_len, sk) != 0) {
        rc = kz__record_fail(KZ_ECRYPTO, "record: signing failed");
        goto fail_msg;
    }
    raw[0] = 0x96;
    raw[signed_len] = 0xc4;
    raw[signed_len + 1] = KZ_SIG_BYTES;
    memcpy(raw + signed_len + 2, sig, KZ_SIG_BYTES);

    /* Decoding our own output re-points every field into the new raw copy
     * and proves the encoder and decoder agree. */
    rc = kz_record_decode(&out, raw, signed_len + KZ__SIG_TAIL, 0, KZ_DECODE_NOVERIFY);
    if (rc) {
        rc = kz__record_fail(KZ_EINVAL, "internal: signed record does not decode (%s)",
                             kz_strerror(rc));
        goto fail_msg;
    }
    /* Never sign what every other node would refuse. */
    if (handover_verify(&out) != 0) {
        rc = kz__record_fail(KZ_EINVAL, "%s.handover: not a signature of previous",
                             kz_rtype_name(out.type));
        kz_record_close(&out);
        goto fail_msg;
    }
    kz_record_close(r);
    *r = out;
    rc = 0;
fail_msg:
    free(msg);
fail_raw:
    free(raw);
    return rc;
}

bool kz_record_slot(const kz_record *r, uint8_t slot[KZ_SLOT_BYTES])
{
    const uint8_t *sub = NULL;
    char tag;
    switch (r->type) {
    case KZ_T_PROFILE: tag = 'P'; break;
    case KZ_T_NODE: tag = 'N'; break;
    case KZ_T_ATTEST: tag = 'M'; sub = r->body.attest.member; break;
    case KZ_T_REVOKE: tag = 'M'; sub = r->body.revoke.member; break;
    case KZ_T_RSVP: tag = 'R'; sub = r->body.rsvp.event; break;
    case KZ_T_REACTION: tag = 'X'; sub = r->body.reaction.target; break;
    case KZ_T_VOTE: tag = 'V'; sub = r->body.vote.poll; break;
    case KZ_T_ROOM: tag = 'O'; break;
    default: return false;
    }
    slot[0] = (uint8_t)tag;
    memcpy(slot + 1, r->author, KZ_KEY_BYTES);
    if (sub)
        memcpy(slot + 1 + KZ_KEY_BYTES, sub, KZ_ID_BYTES);
    else if (r->type == KZ_T_ROOM)
        crypto_generichash(slot + 1 + KZ_KEY_BYTES, KZ_ID_BYTES,
                           (const unsigned char *)r->body.room.name.p, r->body.room.name.n,
                           NULL, 0);
    else
        memset(slot + 1 + KZ_KEY_BYTES, 0, KZ_ID_BYTES);
    return true;
}

bool kz_record_newer(uint64_t a_created, const uint8_t a_id[KZ_ID_BYTES],
                     uint64_t b_created, const uint8_t b_id[KZ_ID_BYTES])
{
    if (a_created != b_created)
        return a_created > b_created;
    return memcmp(a_id, b_id, KZ_ID_BYTES) > 0;
}

bool kz_rtype_is_member(int type)
{
    switch (type) {
    case KZ_T_PROFILE:
    case KZ_T_POST:
    case KZ_T_REPLY:
    case KZ_T_REACTION:
    case KZ_T_EVENT:
    case KZ_T_RSVP:
    case KZ_T_CONTACT:
    case KZ_T_VOTE:
    case KZ_T_REPORT:
        return true;
    default:
        return false;
    }
}

static const char *const rtype_names[KZ_T_MAX + 1] = {
    [KZ_T_NODE] = "node",       [KZ_T_ATTEST] = "attest", [KZ_T_REVOKE] = "revoke",
    [KZ_T_PROFILE] = "profile", [KZ_T_POST] = "post",     [KZ_T_REPLY] = "reply",
    [KZ_T_REACTION] = "reaction", [KZ_T_EVENT] = "event", [KZ_T_RSVP] = "rsvp",
    [KZ_T_DELETE] = "delete",   [KZ_T_CONTACT] = "contact",
    [KZ_T_VOTE] = "vote",       [KZ_T_REPORT] = "report", [KZ_T_ROOM] = "room",
};

const char *kz_rtype_name(int type)
{
    if (type < 1 || type > KZ_T_MAX)
        return NULL;
    return rtype_names[type];
}

int kz_rtype_parse(const char *name)
{
    if (!name)
        return 0;
    for (int t = 1; t <= KZ_T_MAX; t++)
        if (strcmp(name, rtype_names[t]) == 0)
            return t;
    return 0;
}
