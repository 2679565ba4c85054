/* noise.c: generic Noise engine (CipherState, SymmetricState, HandshakeState)
 * for the 25519 / ChaChaPoly / SHA256 suite, on libsodium primitives only. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kz_noise.h"

/* ---- pattern tables ---------------------------------------------------- */

enum { T_END = 0, T_E, T_S, T_EE, T_ES, T_SE, T_SS, T_PSK };

#define MAX_MSGS 4
#define MAX_TOKENS 8 /* longest base message has 4 tokens; + psk at both ends */

typedef struct {
    const char *name;
    uint8_t pre_i_s;  /* initiator's static key is a pre-message */
    uint8_t pre_r_s;  /* responder's static key is a pre-message */
    uint8_t nmsgs;
    uint8_t msgs[MAX_MSGS][MAX_TOKENS];
} pattern_def;

/* The patterns of the Noise specification section 7.4 that the cacophony
 * vectors exercise. Adding one means adding a row here and a vector. */
static const pattern_def PATTERNS[] = {
    { "NN", 0, 0, 2, { { T_E }, { T_E, T_EE } } },
    { "NK", 0, 1, 2, { { T_E, T_ES }, { T_E, T_EE } } },
    { "KK", 1, 1, 2, { { T_E, T_ES, T_SS }, { T_E, T_EE, T_SE } } },
    { "XK", 0, 1, 3, { { T_E, T_ES }, { T_E, T_EE }, { T_S, T_SE } } },
    { "IK", 0, 1, 2, { { T_E, T_ES, T_S, T_SS }, { T_E, T_EE, T_SE } } },
    { "XX", 0, 0, 3, { { T_E }, { T_E, T_EE, T_S, T_ES }, { T_S, T_SE } } },
};

#define SUITE "_25519_ChaChaPoly_SHA256"
#define NAME_MAX_LEN 64

enum { ST_WRITE = 1, ST_READ = 2, ST_DONE = 3, ST_FAILED = 0 };

struct kz_noise_state {
    /* SymmetricState */
    kz_noise_cipher cs;
    uint8_t ck[KZ_NOISE_HASHLEN];
    uint8_t h[KZ_NOISE_HASHLEN];
    /* keys */
    uint8_t s[KZ_NOISE_DHLEN], s_pub[KZ_NOISE_DHLEN];
    uint8_t e[KZ_NOISE_DHLEN], e_pub[KZ_NOISE_DHLEN];
    uint8_t rs[KZ_NOISE_DHLEN], re[KZ_NOISE_DHLEN];
    uint8_t psk[KZ_NOISE_KEYLEN];
    uint8_t has_s, has_e, e_fixed, has_rs, has_re, has_psk;
    /* resolved pattern */
    uint8_t tokens[MAX_MSGS][MAX_TOKENS];
    uint8_t nmsgs, msg_index, initiator, psk_mode;
    /* result */
    uint8_t k1[KZ_NOISE_KEYLEN], k2[KZ_NOISE_KEYLEN];
    uint8_t split_taken;
    uint8_t status;
    unsigned dh_count;
};

/* ---- CipherState ------------------------------------------------------- */

void kz_noise_cipher_init(kz_noise_cipher *c, const uint8_t k[KZ_NOISE_KEYLEN])
{
    if (k) {
        memcpy(c->k, k, KZ_NOISE_KEYLEN);
        c->has_key = 1;
    } else {
        sodium_memzero(c->k, sizeof c->k);
        c->has_key = 0;
    }
    c->n = 0;
}

void kz_noise_cipher_close(kz_noise_cipher *c)
{
    if (c)
        sodium_memzero(c, sizeof *c);
}

static void nonce_make(uint8_t npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], uint64_t n)
{
    memset(npub, 0, 4);
    for (int i = 0; i < 8; i++)
        npub[4 + i] = (uint8_t)(n >> (8 * i));
}

int kz_noise_cipher_encrypt(kz_noise_cipher *c, const uint8_t *ad, size_t adlen,
                            const uint8_t *pt, size_t ptlen, uint8_t *out,
                            size_t outcap, size_t *outlen)
{
    size_t need = ptlen + (c->has_key ? KZ_NOISE_TAGLEN : 0);
    if (ptlen > KZ_NOISE_MSG_MAX || need > KZ_NOISE_MSG_MAX || need > outcap)
        return KZ_ETOOBIG;
    if (!c->has_key) {
        if (ptlen)
            memcpy(out, pt, ptlen);
        *outlen = ptlen;
        return 0;
    }
    if (c->n == UINT64_MAX)
        return KZ_ETOOBIG;
    uint8_t npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
    unsigned long long clen = 0;
    nonce_make(npub, c->n);
    if (crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, ptlen, ad, adlen, NULL,
                                                  npub, c->k) != 0 || clen != need)
        return KZ_ECRYPTO;
    c->n++;
    *outlen = need;
    return 0;
}

int kz_noise_cipher_decrypt(kz_noise_cipher *c, const uint8_t *ad, size_t adlen,
                            const uint8_t *ct, size_t ctlen, uint8_t *out,
                            size_t outcap, size_t *outlen)
{
    if (ctlen > KZ_NOISE_MSG_MAX)
        return KZ_ETOOBIG;
    if (!c->has_key) {
        if (ctlen > outcap)
            return KZ_ETOOBIG;
        if (ctlen)
            memcpy(out, ct, ctlen);
        *outlen = ctlen;
        return 0;
    }
    if (ctlen < KZ_NOISE_TAGLEN)
        return KZ_EPROTO;
    if (ctlen - KZ_NOISE_TAGLEN > outcap || c->n == UINT64_MAX)
        return KZ_ETOOBIG;
    uint8_t npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
    unsigned long long mlen = 0;
    nonce_make(npub, c->n);
    /* libsodium verifies the tag before it writes any plaintext. */
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, ctlen, ad, adlen,
                                                  npub, c->k) != 0)
        return KZ_EAUTH;
    c->n++;
    *outlen = (size_t)mlen;
    return 0;
}

/* ---- SymmetricState ---------------------------------------------------- */

static void hmac2(uint8_t out[KZ_NOISE_HASHLEN], const uint8_t key[KZ_NOISE_HASHLEN],
                  const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    crypto_auth_hmacsha256_state hs;
    crypto_auth_hmacsha256_init(&hs, key, KZ_NOISE_HASHLEN);
    if (alen)
        crypto_auth_hmacsha256_update(&hs, a, alen);
    if (blen)
        crypto_auth_hmacsha256_update(&hs, b, blen);
    crypto_auth_hmacsha256_final(&hs, out);
    sodium_memzero(&hs, sizeof hs);
}

/* HKDF as Noise defines it (section 4.3), with 2 or 3 outputs. o3 may be NULL.
 * The outputs may alias ck. */
static void hkdf(const uint8_t ck[KZ_NOISE_HASHLEN], const uint8_t *ikm, size_t ikmlen,
                 uint8_t *o1, uint8_t *o2, uint8_t *o3)
{
    uint8_t tk[KZ_NOISE_HASHLEN], t1[KZ_NOISE_HASHLEN], t2[KZ_NOISE_HASHLEN];
    const uint8_t b1 = 1, b2 = 2, b3 = 3;
    hmac2(tk, ck, ikm, ikmlen, NULL, 0);
    hmac2(t1, tk, &b1, 1, NULL, 0);
    hmac2(t2, tk, t1, sizeof t1, &b2, 1);
    if (o3)
        hmac2(o3, tk, t2, sizeof t2, &b3, 1);
    memcpy(o1, t1, sizeof t1);
    memcpy(o2, t2, sizeof t2);
    sodium_memzero(tk, sizeof tk);
    sodium_memzero(t1, sizeof t1);
    sodium_memzero(t2, sizeof t2);
}

static void mix_hash(kz_noise_state *st, const uint8_t *data, size_t len)
{
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    crypto_hash_sha256_update(&hs, st->h, sizeof st->h);
    if (len)
        crypto_hash_sha256_update(&hs, data, len);
    crypto_hash_sha256_final(&hs, st->h);
    sodium_memzero(&hs, sizeof hs);
}

static void mix_key(kz_noise_state *st, const uint8_t *ikm, size_t len)
{
    uint8_t k[KZ_NOISE_KEYLEN];
    hkdf(st->ck, ikm, len, st->ck, k, NULL);
    kz_noise_cipher_init(&st->cs, k);
    sodium_memzero(k, sizeof k);
}

static void mix_key_and_hash(kz_noise_state *st, const uint8_t *ikm, size_t len)
{
    uint8_t th[KZ_NOISE_HASHLEN], k[KZ_NOISE_KEYLEN];
    hkdf(st->ck, ikm, len, st->ck, th, k);
    mix_hash(st, th, sizeof th);
    kz_noise_cipher_init(&st->cs, k);
    sodium_memzero(th, sizeof th);
    sodium_memzero(k, sizeof k);
}

/* EncryptAndHash into out; the caller has checked the room. */
static int encrypt_and_hash(kz_noise_state *st, const uint8_t *pt, size_t ptlen,
                            uint8_t *out, size_t outcap, size_t *outlen)
{
    int rc = kz_noise_cipher_encrypt(&st->cs, st->h, sizeof st->h, pt, ptlen, out, outcap, outlen);
    if (rc == 0)
        mix_hash(st, out, *outlen);
    return rc;
}

static int decrypt_and_hash(kz_noise_state *st, const uint8_t *ct, size_t ctlen,
                            uint8_t *out, size_t outcap, size_t *outlen)
{
    int rc = kz_noise_cipher_decrypt(&st->cs, st->h, sizeof st->h, ct, ctlen, out, outcap, outlen);
    if (rc == 0)
        mix_hash(st, ct, ctlen);
    return rc;
}

/* ---- HandshakeState ---------------------------------------------------- */

/* Wipe every secret and refuse further use. The DH counter survives so that
 * tests can see how far a failed handshake went. */
static int fail(kz_noise_state *st, int rc)
{
    unsigned dh = st->dh_count;
    sodium_memzero(st, sizeof *st);
    st->status = ST_FAILED;
    st->dh_count = dh;
    return rc;
}

static int dh(kz_noise_state *st, const uint8_t priv[KZ_NOISE_DHLEN],
              const uint8_t pub[KZ_NOISE_DHLEN])
{
    uint8_t shared[KZ_NOISE_DHLEN];
    st->dh_count++;
    /* libsodium refuses an all-zero result (low-order peer key). */
    if (crypto_scalarmult(shared, priv, pub) != 0) {
        sodium_memzero(shared, sizeof shared);
        return KZ_EAUTH;
    }
    mix_key(st, shared, sizeof shared);
    sodium_memzero(shared, sizeof shared);
    return 0;
}

/* Parse "Noise_<pattern><mods>" SUITE into st's token table. */
static int parse_protocol(kz_noise_state *st, const char *name)
{
    size_t len = strnlen(name, NAME_MAX_LEN + 1);
    size_t suite_len = strlen(SUITE);
    if (len > NAME_MAX_LEN || len < 6 + suite_len || memcmp(name, "Noise_", 6) != 0 ||
        memcmp(name + len - suite_len, SUITE, suite_len) != 0)
        return KZ_EINVAL;
    const char *p = name + 6, *end = name + len - suite_len;
    const pattern_def *pd = NULL;
    size_t blen = 0;
    while (p + blen < end && p[blen] >= 'A' && p[blen] <= 'Z')
        blen++;
    for (size_t i = 0; i < KZ_ARRAY_LEN(PATTERNS); i++)
        if (strlen(PATTERNS[i].name) == blen && memcmp(PATTERNS[i].name, p, blen) == 0)
            pd = &PATTERNS[i];
    if (!pd)
        return KZ_EINVAL;
    p += blen;

    uint8_t lens[MAX_MSGS] = { 0 };
    uint8_t pre_psk = 0, post_psk[MAX_MSGS] = { 0 };
    unsigned seen = 0;
    /* Modifiers: "psk<d>" separated by '+', each at most once. */
    while (p < end) {
        if (end - p < 4 || memcmp(p, "psk", 3) != 0 || p[3] < '0' || p[3] > '9')
            return KZ_EINVAL;
        unsigned n = (unsigned)(p[3] - '0');
        if (n > pd->nmsgs || (seen & (1u << n)))
            return KZ_EINVAL;
        seen |= 1u << n;
        if (n == 0)
            pre_psk = 1;
        else
            post_psk[n - 1] = 1;
        p += 4;
        if (p < end) {
            if (*p != '+' || p + 1 == end)
                return KZ_EINVAL;
            p++;
        }
    }

    memset(st->tokens, 0, sizeof st->tokens);
    for (uint8_t m = 0; m < pd->nmsgs; m++) {
        uint8_t *t = st->tokens[m];
        if (m == 0 && pre_psk)
            t[lens[m]++] = T_PSK;
        for (size_t i = 0; i < MAX_TOKENS && pd->msgs[m][i] != T_END; i++)
            t[lens[m]++] = pd->msgs[m][i];
        if (post_psk[m])
            t[lens[m]++] = T_PSK;
    }
    st->nmsgs = pd->nmsgs;
    st->psk_mode = seen != 0;
    return pd->pre_i_s | (pd->pre_r_s << 1);
}

/* Does this side send an "s" token, or is its static a pre-message? */
static int needs_local_static(const kz_noise_state *st, int pre_flags)
{
    if (pre_flags & (st->initiator ? 1 : 2))
        return 1;
    for (uint8_t m = 0; m < st->nmsgs; m++) {
        int mine = (m % 2 == 0) == (st->initiator != 0);
        for (size_t i = 0; i < MAX_TOKENS; i++) {
            uint8_t t = st->tokens[m][i];
            if (t == T_S && mine)
                return 1;
            /* DH tokens that use our static key. */
            if ((t == T_SS) || (t == T_ES && !st->initiator) || (t == T_SE && st->initiator))
                return 1;
        }
    }
    return 0;
}

int kz_noise_state_create(kz_noise_state **out, const kz_noise_config *cfg)
{
    *out = NULL;
    if (sodium_init() < 0)
        return KZ_ECRYPTO;
    if (!cfg || !cfg->protocol || (cfg->prologue_len && !cfg->prologue))
        return KZ_EINVAL;
    if (cfg->prologue_len > KZ_NOISE_MSG_MAX)
        return KZ_ETOOBIG;

    kz_noise_state *st = kz_xcalloc(1, sizeof *st);
    int rc;
    st->initiator = cfg->initiator ? 1 : 0;
    int pre = parse_protocol(st, cfg->protocol);
    if (pre < 0) {
        rc = pre;
        goto fail_free;
    }
    int remote_pre = pre & (st->initiator ? 2 : 1);
    rc = KZ_EINVAL;
    if ((cfg->s != NULL) != needs_local_static(st, pre) ||
        (cfg->rs != NULL) != (remote_pre != 0) || (cfg->psk != NULL) != st->psk_mode ||
        (cfg->s_pub && !cfg->s))
        goto fail_free;

    if (cfg->s) {
        memcpy(st->s, cfg->s, KZ_NOISE_DHLEN);
        if (cfg->s_pub) {
            memcpy(st->s_pub, cfg->s_pub, KZ_NOISE_DHLEN);
        } else if (crypto_scalarmult_base(st->s_pub, st->s) != 0) {
            rc = KZ_ECRYPTO;
            goto fail_free;
        }
        st->has_s = 1;
    }
    if (cfg->rs) {
        memcpy(st->rs, cfg->rs, KZ_NOISE_DHLEN);
        st->has_rs = 1;
    }
    if (cfg->psk) {
        memcpy(st->psk, cfg->psk, KZ_NOISE_KEYLEN);
        st->has_psk = 1;
    }

    /* InitializeSymmetric(protocol_name) */
    size_t nlen = strlen(cfg->protocol);
    if (nlen <= KZ_NOISE_HASHLEN)
        memcpy(st->h, cfg->protocol, nlen); /* zero-padded by calloc */
    else
        crypto_hash_sha256(st->h, (const uint8_t *)cfg->protocol, nlen);
    memcpy(st->ck, st->h, sizeof st->ck);
    kz_noise_cipher_init(&st->cs, NULL);
    mix_hash(st, cfg->prologue, cfg->prologue_len);
    /* Pre-messages: the initiator's, then the responder's. */
    if (pre & 1)
        mix_hash(st, st->initiator ? st->s_pub : st->rs, KZ_NOISE_DHLEN);
    if (pre & 2)
        mix_hash(st, st->initiator ? st->rs : st->s_pub, KZ_NOISE_DHLEN);

    st->msg_index = 0;
    st->status = st->initiator ? ST_WRITE : ST_READ;
    *out = st;
    return 0;

fail_free:
    sodium_memzero(st, sizeof *st);
    free(st);
    return rc;
}

void kz_noise_state_free(kz_noise_state *st)
{
    if (!st)
        return;
    sodium_memzero(st, sizeof *st);
    free(st);
}

int kz_noise_state_set_ephemeral(kz_noise_state *st, const uint8_t e[KZ_NOISE_DHLEN])
{
    if (st->status == ST_FAILED || st->status == ST_DONE || st->has_e)
        return KZ_EINVAL;
    memcpy(st->e, e, KZ_NOISE_DHLEN);
    st->e_fixed = 1;
    return 0;
}

int kz_noise_state_action(const kz_noise_state *st)
{
    return st->status;
}

/* Message length for the current message given the payload length, by
 * walking the tokens with the has-key state they would produce. 0 if none. */
static size_t msg_len(const kz_noise_state *st, size_t payload_len)
{
    if (st->status != ST_WRITE && st->status != ST_READ)
        return 0;
    int has_key = st->cs.has_key;
    size_t len = 0;
    const uint8_t *t = st->tokens[st->msg_index];
    for (size_t i = 0; i < MAX_TOKENS && t[i] != T_END; i++) {
        switch (t[i]) {
        case T_E:
            len += KZ_NOISE_DHLEN;
            if (st->psk_mode)
                has_key = 1;
            break;
        case T_S:
            len += KZ_NOISE_DHLEN + (has_key ? KZ_NOISE_TAGLEN : 0);
            break;
        default: /* ee, es, se, ss, psk all call MixKey */
            has_key = 1;
            break;
        }
    }
    if (payload_len > KZ_NOISE_MSG_MAX)
        return 0;
    len += payload_len + (has_key ? KZ_NOISE_TAGLEN : 0);
    return len > KZ_NOISE_MSG_MAX ? 0 : len;
}

size_t kz_noise_state_msg_len(const kz_noise_state *st, size_t payload_len)
{
    return msg_len(st, payload_len);
}

/* The private/public pair for a DH token, from this side's point of view. */
static int dh_token(kz_noise_state *st, uint8_t t)
{
    int ini = st->initiator;
    switch (t) {
    case T_EE:
        return dh(st, st->e, st->re);
    case T_ES: /* initiator's e with responder's s */
        return ini ? dh(st, st->e, st->rs) : dh(st, st->s, st->re);
    case T_SE: /* initiator's s with responder's e */
        return ini ? dh(st, st->s, st->re) : dh(st, st->e, st->rs);
    case T_SS:
        return dh(st, st->s, st->rs);
    default:
        return KZ_EINVAL;
    }
}

/* After the last message: derive the transport keys and drop the rest. */
static void finish(kz_noise_state *st)
{
    hkdf(st->ck, NULL, 0, st->k1, st->k2, NULL);
    sodium_memzero(st->ck, sizeof st->ck);
    kz_noise_cipher_close(&st->cs);
    sodium_memzero(st->s, sizeof st->s);
    sodium_memzero(st->e, sizeof st->e);
    sodium_memzero(st->psk, sizeof st->psk);
    st->status = ST_DONE;
}

static void advance(kz_noise_state *st)
{
    st->msg_index++;
    if (st->msg_index == st->nmsgs)
        finish(st);
    else
        st->status = st->status == ST_WRITE ? ST_READ : ST_WRITE;
}

int kz_noise_state_write(kz_noise_state *st, const uint8_t *payload, size_t payload_len,
                         uint8_t *out, size_t outcap, size_t *outlen)
{
    if (st->status != ST_WRITE)
        return fail(st, KZ_EINVAL);
    size_t total = msg_len(st, payload_len);
    if (total == 0 || total > outcap)
        return fail(st, KZ_ETOOBIG);

    size_t pos = 0, n = 0;
    int rc;
    const uint8_t *t = st->tokens[st->msg_index];
    for (size_t i = 0; i < MAX_TOKENS && t[i] != T_END; i++) {
        switch (t[i]) {
        case T_E:
            if (!st->e_fixed)
                randombytes_buf(st->e, sizeof st->e);
            if (crypto_scalarmult_base(st->e_pub, st->e) != 0)
                return fail(st, KZ_ECRYPTO);
            st->has_e = 1;
            memcpy(out + pos, st->e_pub, KZ_NOISE_DHLEN);
            pos += KZ_NOISE_DHLEN;
            mix_hash(st, st->e_pub, KZ_NOISE_DHLEN);
            if (st->psk_mode)
                mix_key(st, st->e_pub, KZ_NOISE_DHLEN);
            break;
        case T_S:
            rc = encrypt_and_hash(st, st->s_pub, KZ_NOISE_DHLEN, out + pos, total - pos, &n);
            if (rc != 0)
                return fail(st, rc);
            pos += n;
            break;
        case T_PSK:
            mix_key_and_hash(st, st->psk, sizeof st->psk);
            break;
        default:
            if ((rc = dh_token(st, t[i])) != 0)
                return fail(st, rc);
            break;
        }
    }
    rc = encrypt_and_hash(st, payload, payload_len, out + pos, total - pos, &n);
    if (rc != 0)
        return fail(st, rc);
    pos += n;
    if (pos != total)
        return fail(st, KZ_ECRYPTO); /* cannot happen: msg_len mirrors the tokens */
    *outlen = pos;
    advance(st);
    return 0;
}

int kz_noise_state_read(kz_noise_state *st, const uint8_t *msg, size_t mlen,
                        uint8_t *payload, size_t payload_cap, size_t *payload_len)
{
    if (st->status != ST_READ)
        return fail(st, KZ_EINVAL);
    if (mlen > KZ_NOISE_MSG_MAX)
        return fail(st, KZ_ETOOBIG);
    size_t fixed = msg_len(st, 0); /* everything but the payload plaintext */
    if (fixed == 0 || mlen < fixed)
        return fail(st, KZ_EPROTO);
    if (mlen - fixed > payload_cap)
        return fail(st, KZ_ETOOBIG);

    size_t pos = 0, n = 0;
    int rc;
    uint8_t rs[KZ_NOISE_DHLEN];
    const uint8_t *t = st->tokens[st->msg_index];
    for (size_t i = 0; i < MAX_TOKENS && t[i] != T_END; i++) {
        switch (t[i]) {
        case T_E:
            memcpy(st->re, msg + pos, KZ_NOISE_DHLEN);
            st->has_re = 1;
            pos += KZ_NOISE_DHLEN;
            mix_hash(st, st->re, KZ_NOISE_DHLEN);
            if (st->psk_mode)
                mix_key(st, st->re, KZ_NOISE_DHLEN);
            break;
        case T_S: {
            size_t clen = KZ_NOISE_DHLEN + (st->cs.has_key ? KZ_NOISE_TAGLEN : 0);
            rc = decrypt_and_hash(st, msg + pos, clen, rs, sizeof rs, &n);
            if (rc != 0)
                return fail(st, rc);
            memcpy(st->rs, rs, sizeof rs);
            st->has_rs = 1;
            pos += clen;
            break;
        }
        case T_PSK:
            mix_key_and_hash(st, st->psk, sizeof st->psk);
            break;
        default:
            if ((rc = dh_token(st, t[i])) != 0)
                return fail(st, rc);
            break;
        }
    }
    rc = decrypt_and_hash(st, msg + pos, mlen - pos, payload, payload_cap, &n);
    if (rc != 0)
        return fail(st, rc);
    *payload_len = n;
    advance(st);
    return 0;
}

int kz_noise_state_split(kz_noise_state *st, kz_noise_cipher *i2r, kz_noise_cipher *r2i)
{
    if (st->status != ST_DONE || st->split_taken)
        return KZ_EINVAL;
    if (i2r)
        kz_noise_cipher_init(i2r, st->k1);
    if (r2i)
        kz_noise_cipher_init(r2i, st->k2);
    sodium_memzero(st->k1, sizeof st->k1);
    sodium_memzero(st->k2, sizeof st->k2);
    st->split_taken = 1;
    return 0;
}

int kz_noise_state_hash(const kz_noise_state *st, uint8_t h[KZ_NOISE_HASHLEN])
{
    if (st->status != ST_DONE)
        return KZ_EINVAL;
    memcpy(h, st->h, KZ_NOISE_HASHLEN);
    return 0;
}

int kz_noise_state_remote_static(const kz_noise_state *st, uint8_t rs[KZ_NOISE_DHLEN])
{
    if (st->status == ST_FAILED)
        return KZ_EINVAL;
    if (!st->has_rs)
        return KZ_ENOTFOUND;
    memcpy(rs, st->rs, KZ_NOISE_DHLEN);
    return 0;
}

unsigned kz_noise_state_dh_count(const kz_noise_state *st)
{
    return st->dh_count;
}
