/* keys.c: key files (node, storage, federation) and member secret keys
 * encrypted at rest under storage.key. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kz_key_magic[] = {
    [KZ_KEY_NODE] = "kizuna-node-key-v1",
    [KZ_KEY_STORAGE] = "kizuna-storage-key-v1",
    [KZ_KEY_FEDERATION] = "kizuna-federation-key-v1",
};
static const char *const kz_key_what[] = {
    [KZ_KEY_NODE] = "node key",
    [KZ_KEY_STORAGE] = "storage key",
    [KZ_KEY_FEDERATION] = "federation key",
};

const char *kz_keyfile_magic(kz_keykind kind)
{
    return kz_key_magic[kind];
}

int kz_keyfile_write(const char *path, kz_keykind kind, const uint8_t secret[KZ_KEY_SECRET_BYTES],
                     char *err, size_t errsz)
{
    char text[KZ_KEYFILE_MAX];
    char hex[2 * KZ_KEY_SECRET_BYTES + 1];
    kz_hex_encode(hex, sizeof hex, secret, KZ_KEY_SECRET_BYTES);
    int n = snprintf(text, sizeof text, "%s\n%s\n", kz_key_magic[kind], hex);
    int rc = kz__file_write_atomic(path, text, (size_t)n, 0600, true, err, errsz);
    sodium_memzero(hex, sizeof hex);
    sodium_memzero(text, sizeof text);
    return rc;
}

/* Parse the two-line format; text is NUL-terminated. */
static int kz_keyfile_parse(const char *path, kz_keykind kind, const char *text, size_t len,
                            uint8_t secret[KZ_KEY_SECRET_BYTES], char *err, size_t errsz)
{
    const char *nl = memchr(text, '\n', len);
    size_t l1 = nl ? (size_t)(nl - text) : len;
    const char *magic = kz_key_magic[kind];
    if (l1 != strlen(magic) || memcmp(text, magic, l1) != 0) {
        for (size_t k = 0; k < KZ_ARRAY_LEN(kz_key_magic); k++) {
            if (l1 == strlen(kz_key_magic[k]) && memcmp(text, kz_key_magic[k], l1) == 0) {
                snprintf(err, errsz, "%s holds a %s, not a %s", path, kz_key_what[k],
                         kz_key_what[kind]);
                return KZ_EINVAL;
            }
        }
        if (l1 > 7 && memcmp(text, "kizuna-", 7) == 0)
            snprintf(err, errsz, "%s: first line is not '%s' (unsupported key file kind or version)",
                     path, magic);
        else
            snprintf(err, errsz, "%s: first line is not '%s' (not a kizuna %s file)", path, magic,
                     kz_key_what[kind]);
        return KZ_EINVAL;
    }
    if (!nl) {
        snprintf(err, errsz, "%s: line 2 (the key, %d hex digits) is missing", path,
                 2 * KZ_KEY_SECRET_BYTES);
        return KZ_EINVAL;
    }
    const char *h = nl + 1;
    size_t rest = len - (size_t)(h - text);
    const char *nl2 = memchr(h, '\n', rest);
    size_t l2 = nl2 ? (size_t)(nl2 - h) : rest;
    if (l2 != 2 * KZ_KEY_SECRET_BYTES) {
        snprintf(err, errsz, "%s line 2: expected %d hex digits, found %zu characters", path,
                 2 * KZ_KEY_SECRET_BYTES, l2);
        return KZ_EINVAL;
    }
    for (size_t i = 0; i < l2; i++) {
        char c = h[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            snprintf(err, errsz, "%s line 2, column %zu: not a hex digit", path, i + 1);
            return KZ_EINVAL;
        }
    }
    if (nl2 && (size_t)(nl2 + 1 - text) != len) {
        snprintf(err, errsz, "%s: unexpected data after line 2", path);
        return KZ_EINVAL;
    }
    char hex[2 * KZ_KEY_SECRET_BYTES + 1];
    memcpy(hex, h, l2);
    hex[l2] = '\0';
    int rc = kz_hex_decode(secret, KZ_KEY_SECRET_BYTES, hex);
    sodium_memzero(hex, sizeof hex);
    if (rc != 0) {
        snprintf(err, errsz, "%s line 2: not valid hex", path);
        return KZ_EINVAL;
    }
    if (sodium_is_zero(secret, KZ_KEY_SECRET_BYTES)) {
        snprintf(err, errsz, "%s: the key is all zeros (damaged or placeholder file)", path);
        return KZ_EINVAL;
    }
    return 0;
}

int kz_keyfile_read(const char *path, kz_keykind kind, uint8_t secret[KZ_KEY_SECRET_BYTES],
                    char *err, size_t errsz)
{
    char text[KZ_KEYFILE_MAX + 1];
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            snprintf(err, errsz, "%s does not exist", path);
            return KZ_ENOTFOUND;
        }
        snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
        return KZ_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errsz, "cannot stat %s: %s", path, strerror(errno));
        rc = KZ_EIO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s is not a regular file", path);
        rc = KZ_EINVAL;
        goto out;
    }
    if (st.st_mode & 077) {
        snprintf(err, errsz, "permissions %04o on %s are too open; chmod 600 %s",
                 (unsigned)(st.st_mode & 07777), path, path);
        rc = KZ_EPERM;
        goto out;
    }
    if (st.st_size > KZ_KEYFILE_MAX) {
        snprintf(err, errsz, "%s: %lld bytes is too large for a %s file", path,
                 (long long)st.st_size, kz_key_what[kind]);
        rc = KZ_EINVAL;
        goto out;
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, text + len, sizeof text - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
            rc = KZ_EIO;
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof text - 1)
            break;
    }
    text[len] = '\0';
    if (len == 0) {
        snprintf(err, errsz, "%s is empty", path);
        rc = KZ_EINVAL;
        goto out;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, errsz, "%s: contains a NUL byte (not a kizuna %s file)", path, kz_key_what[kind]);
        rc = KZ_EINVAL;
        goto out;
    }
    rc = kz_keyfile_parse(path, kind, text, len, secret, err, errsz);
out:
    sodium_memzero(text, sizeof text);
    close(fd);
    if (rc != 0)
        sodium_memzero(secret, KZ_KEY_SECRET_BYTES);
    return rc;
}

void kz_keys_wipe(kz_keys *k)
{
    sodium_memzero(k, sizeof *k);
}

static int kz_keys_read_in(const char *dir, const char *name, kz_keykind kind,
                           uint8_t secret[KZ_KEY_SECRET_BYTES], char *err, size_t errsz)
{
    char path[KZ_PATH_MAX];
    if (kz_path_join(path, sizeof path, dir, name) != 0) {
        snprintf(err, errsz, "%s: path too long", dir);
        return KZ_ETOOBIG;
    }
    return kz_keyfile_read(path, kind, secret, err, errsz);
}

int kz_keys_load_node(kz_keys *k, const char *dir, char *err, size_t errsz)
{
    uint8_t seed[KZ_KEY_SECRET_BYTES];
    kz_keys_wipe(k);
    int rc = kz_keys_read_in(dir, KZ_FILE_NODE_KEY, KZ_KEY_NODE, seed, err, errsz);
    if (rc != 0)
        return rc;
    if (crypto_sign_seed_keypair(k->node_pk, k->node_sk, seed) != 0) {
        snprintf(err, errsz, "cannot derive the node key pair");
        rc = KZ_ECRYPTO;
    }
    sodium_memzero(seed, sizeof seed);
    if (rc != 0)
        kz_keys_wipe(k);
    return rc;
}

int kz_keys_load(kz_keys *k, const char *dir, char *err, size_t errsz)
{
    int rc = kz_keys_load_node(k, dir, err, errsz);
    if (rc != 0)
        return rc;
    rc = kz_keys_read_in(dir, KZ_FILE_STORAGE_KEY, KZ_KEY_STORAGE, k->storage, err, errsz);
    if (rc == 0)
        rc = kz_keys_read_in(dir, KZ_FILE_FEDERATION_KEY, KZ_KEY_FEDERATION, k->federation, err,
                             errsz);
    if (rc != 0)
        kz_keys_wipe(k);
    return rc;
}

/* ---- Member secret keys at rest ------------------------------------------------ */

#define KZ_SEAL_VERSION 1

static void kz_seal_ad(uint8_t ad[1 + KZ_KEY_BYTES], const uint8_t pk[KZ_KEY_BYTES])
{
    ad[0] = KZ_SEAL_VERSION;
    memcpy(ad + 1, pk, KZ_KEY_BYTES);
}

int kz_member_sk_seal(const uint8_t storage_key[KZ_KEY_SECRET_BYTES],
                      const uint8_t pk[KZ_KEY_BYTES], const uint8_t sk[KZ_SECKEY_BYTES],
                      uint8_t out[KZ_MEMBER_SEALED_LEN])
{
    uint8_t ad[1 + KZ_KEY_BYTES];
    uint8_t *nonce = out + 1;
    uint8_t *ct = nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    unsigned long long ctlen = 0;
    /* libsodium's Ed25519 secret key is seed || pk: only the seed is secret. */
    if (memcmp(sk + 32, pk, KZ_KEY_BYTES) != 0)
        return KZ_EINVAL;
    kz_seal_ad(ad, pk);
    out[0] = KZ_SEAL_VERSION;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, sk, 32, ad, sizeof ad, NULL, nonce,
                                                   storage_key) != 0)
        return KZ_ECRYPTO;
    if (ctlen != 32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
        return KZ_ECRYPTO;
    return 0;
}

int kz_member_sk_open(const uint8_t storage_key[KZ_KEY_SECRET_BYTES],
                      const uint8_t pk[KZ_KEY_BYTES], const uint8_t *sealed, size_t len,
                      uint8_t sk[KZ_SECKEY_BYTES])
{
    uint8_t ad[1 + KZ_KEY_BYTES];
    uint8_t seed[32];
    uint8_t pk2[KZ_KEY_BYTES];
    unsigned long long mlen = 0;
    int rc = 0;
    if (len != KZ_MEMBER_SEALED_LEN || sealed[0] != KZ_SEAL_VERSION) {
        sodium_memzero(sk, KZ_SECKEY_BYTES);
        return KZ_EINVAL;
    }
    kz_seal_ad(ad, pk);
    const uint8_t *nonce = sealed + 1;
    const uint8_t *ct = nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, &mlen, NULL, ct,
                                                   32 + crypto_aead_xchacha20poly1305_ietf_ABYTES,
                                                   ad, sizeof ad, nonce, storage_key) != 0 ||
        mlen != 32) {
        rc = KZ_ECRYPTO;
        goto out;
    }
    if (crypto_sign_seed_keypair(pk2, sk, seed) != 0 || sodium_memcmp(pk2, pk, KZ_KEY_BYTES) != 0)
        rc = KZ_ECRYPTO;
out:
    sodium_memzero(seed, sizeof seed);
    if (rc != 0)
        sodium_memzero(sk, KZ_SECKEY_BYTES);
    return rc;
}
