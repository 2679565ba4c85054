/* contact.c: the sealed contact payload: canonical msgpack plaintext and
 * crypto_box_seal to the recipient's member key (see kz_contact.h). */
#include "kz_contact.h"

#include <msgpack.h>
#include <sodium.h>
#include <string.h>

#include "mp_cursor.h"

/* Largest plaintext: map header, five small keys, version, kind, the two
 * strings with 3-byte headers and the 34-byte ref. Leaves room in
 * KZ_SEALED_MAX for crypto_box_SEALBYTES. */
#define KZ_CONTACT_PLAIN_MAX (KZ_CONTACT_MSG_MAX + KZ_CONTACT_REVEAL_MAX + 64)

static bool kz_msg_valid(const kz_contact_msg *m)
{
    size_t ml = strnlen(m->message, sizeof m->message);
    size_t rl = strnlen(m->reveal, sizeof m->reveal);
    if (ml == 0 || ml > KZ_CONTACT_MSG_MAX || rl > KZ_CONTACT_REVEAL_MAX)
        return false;
    if (!kz_utf8_valid(m->message, ml, 1) || !kz_utf8_valid(m->reveal, rl, 1))
        return false;
    if (m->kind == KZ_CONTACT_REQUEST)
        return !m->has_ref;
    if (m->kind == KZ_CONTACT_ACCEPT)
        return m->has_ref;
    return false;
}

int kz_contact_msg_encode(const kz_contact_msg *m, uint8_t *out, size_t bufsz, size_t *len)
{
    if (!m || !out || !len || !kz_msg_valid(m))
        return KZ_EINVAL;
    size_t ml = strlen(m->message), rl = strlen(m->reveal);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3 + (rl > 0) + m->has_ref);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_uint8(&pk, KZ_CONTACT_VERSION);
    msgpack_pack_uint8(&pk, 2);
    msgpack_pack_uint8(&pk, m->kind);
    msgpack_pack_uint8(&pk, 3);
    msgpack_pack_str_with_body(&pk, m->message, ml);
    if (rl > 0) {
        msgpack_pack_uint8(&pk, 4);
        msgpack_pack_str_with_body(&pk, m->reveal, rl);
    }
    if (m->has_ref) {
        msgpack_pack_uint8(&pk, 5);
        msgpack_pack_bin_with_body(&pk, m->ref, KZ_ID_BYTES);
    }
    int rc = 0;
    if (!sb.data || sb.size > bufsz) {
        rc = KZ_ETOOBIG;
    } else {
        memcpy(out, sb.data, sb.size);
        *len = sb.size;
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

int kz_contact_msg_decode(const uint8_t *p, size_t len, kz_contact_msg *m)
{
    const char *why;
    size_t at, n;
    uint32_t count;
    kz__mp_cur c = {p, len, 0};
    memset(m, 0, sizeof *m);
    if (!p || len == 0 || len > KZ_CONTACT_PLAIN_MAX || kz__mp_prescan(p, len, 1, &why, &at) != 0)
        goto bad;
    if (kz__mp_read_map(&c, &count) != 0 || count < 3 || count > 5)
        goto bad;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t key, v;
        const char *s;
        const uint8_t *b;
        uint32_t sl;
        if (kz__mp_read_uint(&c, &key) != 0 || key <= prev)
            goto bad;
        prev = key;
        switch (key) {
        case 1:
            if (kz__mp_read_uint(&c, &v) != 0 || v != KZ_CONTACT_VERSION)
                goto bad;
            break;
        case 2:
            if (kz__mp_read_uint(&c, &v) != 0 || v > KZ_CONTACT_ACCEPT)
                goto bad;
            m->kind = (uint8_t)v;
            break;
        case 3:
        case 4: {
            size_t max = key == 3 ? KZ_CONTACT_MSG_MAX : KZ_CONTACT_REVEAL_MAX;
            if (kz__mp_read_str(&c, &s, &sl) != 0 || sl == 0 || sl > max ||
                !kz_utf8_valid(s, sl, 1))
                goto bad;
            memcpy(key == 3 ? m->message : m->reveal, s, sl);
            break;
        }
        case 5:
            if (kz__mp_read_bin(&c, &b, &sl) != 0 || sl != KZ_ID_BYTES)
                goto bad;
            memcpy(m->ref, b, KZ_ID_BYTES);
            m->has_ref = true;
            break;
        default:
            goto bad;
        }
    }
    if (c.off != len || prev < 3 || !kz_msg_valid(m))
        goto bad;
    /* One encoding per message: re-encode and compare. */
    uint8_t again[KZ_CONTACT_PLAIN_MAX];
    if (kz_contact_msg_encode(m, again, sizeof again, &n) != 0 || n != len ||
        memcmp(again, p, len) != 0)
        goto bad;
    return 0;
bad:
    memset(m, 0, sizeof *m);
    return KZ_EDECODE;
}

int kz_contact_seal(const kz_contact_msg *m, const uint8_t to[KZ_KEY_BYTES],
                    uint8_t out[KZ_SEALED_MAX], size_t *outlen)
{
    uint8_t plain[KZ_CONTACT_PLAIN_MAX], xpk[crypto_box_PUBLICKEYBYTES];
    size_t len;
    int rc = kz_contact_msg_encode(m, plain, sizeof plain, &len);
    if (rc != 0)
        return rc == KZ_ETOOBIG ? KZ_EINVAL : rc;
    if (len + crypto_box_SEALBYTES > KZ_SEALED_MAX) {
        rc = KZ_EINVAL;
    } else if (crypto_sign_ed25519_pk_to_curve25519(xpk, to) != 0 ||
               crypto_box_seal(out, plain, len, xpk) != 0) {
        rc = KZ_ECRYPTO;
    } else {
        *outlen = len + crypto_box_SEALBYTES;
    }
    sodium_memzero(plain, sizeof plain);
    return rc;
}

int kz_contact_open(const uint8_t *sealed, size_t len, const uint8_t pk[KZ_KEY_BYTES],
                    const uint8_t sk[KZ_SECKEY_BYTES], kz_contact_msg *m)
{
    uint8_t xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
    uint8_t plain[KZ_SEALED_MAX];
    int rc = KZ_ECRYPTO;
    memset(m, 0, sizeof *m);
    if (!sealed || len <= crypto_box_SEALBYTES || len > KZ_SEALED_MAX)
        return KZ_ECRYPTO;
    if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(xsk, sk) != 0)
        goto out;
    if (crypto_box_seal_open(plain, sealed, len, xpk, xsk) != 0)
        goto out;
    rc = kz_contact_msg_decode(plain, len - crypto_box_SEALBYTES, m);
out:
    sodium_memzero(xsk, sizeof xsk);
    sodium_memzero(plain, sizeof plain);
    return rc;
}
