/* test_keys.c: key files (round trip, refusal of open permissions and of
 * every kind of malformed file, no overwrite) and member secret keys
 * encrypted under storage.key. */
#include "kz_test.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kz_node.h"

static char g_dir[64];

static int setup(void **state)
{
    if (sodium_init() < 0)
        return -1;
    snprintf(g_dir, sizeof g_dir, "/tmp/kz-test-keys-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g_dir, name);
}

static void write_raw(const char *path, const char *text, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_round_trip(void **state)
{
    static const kz_keykind kinds[] = {KZ_KEY_NODE, KZ_KEY_STORAGE, KZ_KEY_FEDERATION};
    for (size_t i = 0; i < 3; i++) {
        char path[128], err[KZ_ERR_MAX];
        uint8_t secret[32], back[32];
        struct stat st;
        snprintf(path, sizeof path, "%s/k%zu.key", g_dir, i);
        randombytes_buf(secret, sizeof secret);
        assert_int_equal(kz_keyfile_write(path, kinds[i], secret, err, sizeof err), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(kz_keyfile_read(path, kinds[i], back, err, sizeof err), 0);
        assert_memory_equal(secret, back, 32);
        /* the file starts with its recognisable magic line */
        FILE *f = fopen(path, "r");
        char line[64];
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        assert_string_equal(line, kz_keyfile_magic(kinds[i]));
        /* never overwritten */
        assert_int_equal(kz_keyfile_write(path, kinds[i], secret, err, sizeof err), KZ_EEXIST);
        assert_non_null(strstr(err, "already exists"));
        assert_int_equal(kz_keyfile_read(path, kinds[i], back, err, sizeof err), 0);
        assert_memory_equal(secret, back, 32);
    }
}

static void test_permissions_refused(void **state)
{
    char path[128], err[KZ_ERR_MAX], want[256];
    uint8_t secret[32], back[32];
    path_in(path, sizeof path, "node.key");
    unlink(path);
    randombytes_buf(secret, sizeof secret);
    assert_int_equal(kz_keyfile_write(path, KZ_KEY_NODE, secret, err, sizeof err), 0);
    assert_int_equal(chmod(path, 0644), 0);
    memset(back, 0xaa, sizeof back);
    assert_int_equal(kz_keyfile_read(path, KZ_KEY_NODE, back, err, sizeof err), KZ_EPERM);
    snprintf(want, sizeof want, "permissions 0644 on %s are too open; chmod 600", path);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    assert_true(sodium_is_zero(back, sizeof back)); /* wiped on failure */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(kz_keyfile_read(path, KZ_KEY_NODE, back, err, sizeof err), KZ_EPERM);
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(kz_keyfile_read(path, KZ_KEY_NODE, back, err, sizeof err), 0);
    assert_memory_equal(secret, back, 32);
}

static void expect_malformed(const char *text, size_t len, const char *needle)
{
    char path[128], err[KZ_ERR_MAX];
    uint8_t back[32];
    path_in(path, sizeof path, "bad.key");
    write_raw(path, text, len, 0600);
    err[0] = '\0';
    int rc = kz_keyfile_read(path, KZ_KEY_STORAGE, back, err, sizeof err);
    if (rc != KZ_EINVAL)
        fail_msg("accepted malformed key file (rc %d): %.*s", rc, (int)len, text);
    if (!strstr(err, needle))
        fail_msg("message '%s' lacks '%s'", err, needle);
    assert_true(sodium_is_zero(back, sizeof back));
}

static void test_malformed_refused(void **state)
{
    const char *hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char buf[256];
    snprintf(buf, sizeof buf, "kizuna-storage-key-v1\n%s\n", hex);
    char path[128], err[KZ_ERR_MAX];
    uint8_t back[32];
    path_in(path, sizeof path, "good.key");
    write_raw(path, buf, strlen(buf), 0600);
    assert_int_equal(kz_keyfile_read(path, KZ_KEY_STORAGE, back, err, sizeof err), 0);
    /* no trailing newline is fine too */
    write_raw(path, buf, strlen(buf) - 1, 0600);
    assert_int_equal(kz_keyfile_read(path, KZ_KEY_STORAGE, back, err, sizeof err), 0);

    expect_malformed("", 0, "is empty");
    expect_malformed("hello\n", 6, "first line is not 'kizuna-storage-key-v1'");
    snprintf(buf, sizeof buf, "kizuna-node-key-v1\n%s\n", hex);
    expect_malformed(buf, strlen(buf), "holds a node key, not a storage key");
    snprintf(buf, sizeof buf, "kizuna-storage-key-v9\n%s\n", hex);
    expect_malformed(buf, strlen(buf), "unsupported");
    expect_malformed("kizuna-storage-key-v1", 21, "line 2");
    snprintf(buf, sizeof buf, "kizuna-storage-key-v1\n%.63s\n", hex);
    expect_malformed(buf, strlen(buf), "expected 64 hex digits, found 63 characters");
    snprintf(buf, sizeof buf, "kizuna-storage-key-v1\n%s0\n", hex);
    expect_malformed(buf, strlen(buf), "found 65 characters");
    snprintf(buf, sizeof buf, "kizuna-storage-key-v1\n%.10sg%s\n", hex, hex + 11);
    expect_malformed(buf, strlen(buf), "column 11: not a hex digit");
    snprintf(buf, sizeof buf, "kizuna-storage-key-v1\n%s\nextra\n", hex);
    expect_malformed(buf, strlen(buf), "unexpected data after line 2");
    snprintf(buf, sizeof buf, "kizuna-storage-key-v1\n%064d\n", 0);
    expect_malformed(buf, strlen(buf), "all zeros");
    static const char nul[] = "kizuna-storage-key-v1\n\0\n";
    expect_malformed(nul, sizeof nul - 1, "NUL");
    char big[400];
    memset(big, 'a', sizeof big);
    expect_malformed(big, sizeof big, "too large");
}

static void test_missing_and_not_regular(void **state)
{
    char path[128], err[KZ_ERR_MAX];
    uint8_t back[32];
    path_in(path, sizeof path, "absent.key");
    assert_int_equal(kz_keyfile_read(path, KZ_KEY_NODE, back, err, sizeof err), KZ_ENOTFOUND);
    assert_non_null(strstr(err, "does not exist"));
    path_in(path, sizeof path, "adir");
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(kz_keyfile_read(path, KZ_KEY_NODE, back, err, sizeof err), KZ_EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_keys_load_dir(void **state)
{
    char dir[128], path[160], err[KZ_ERR_MAX];
    uint8_t seed[32], st[32], fed[32];
    kz_keys k;
    snprintf(dir, sizeof dir, "%s/node", g_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    randombytes_buf(seed, 32);
    randombytes_buf(st, 32);
    randombytes_buf(fed, 32);
    snprintf(path, sizeof path, "%s/node.key", dir);
    assert_int_equal(kz_keyfile_write(path, KZ_KEY_NODE, seed, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/storage.key", dir);
    assert_int_equal(kz_keyfile_write(path, KZ_KEY_STORAGE, st, err, sizeof err), 0);
    /* federation.key missing: the whole load fails and says which file */
    assert_int_equal(kz_keys_load(&k, dir, err, sizeof err), KZ_ENOTFOUND);
    assert_non_null(strstr(err, "federation.key"));
    assert_true(sodium_is_zero((uint8_t *)&k, sizeof k));
    snprintf(path, sizeof path, "%s/federation.key", dir);
    assert_int_equal(kz_keyfile_write(path, KZ_KEY_FEDERATION, fed, err, sizeof err), 0);
    assert_int_equal(kz_keys_load(&k, dir, err, sizeof err), 0);
    uint8_t pk[32], sk[64];
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
    assert_memory_equal(k.node_pk, pk, 32);
    assert_memory_equal(k.node_sk, sk, 64);
    assert_memory_equal(k.storage, st, 32);
    assert_memory_equal(k.federation, fed, 32);
    kz_keys_wipe(&k);
    assert_true(sodium_is_zero((uint8_t *)&k, sizeof k));
}

static void test_member_seal_round_trip(void **state)
{
    uint8_t storage[32], pk[32], sk[64], out[KZ_MEMBER_SEALED_LEN], back[64];
    randombytes_buf(storage, sizeof storage);
    crypto_sign_keypair(pk, sk);
    assert_int_equal(kz_member_sk_seal(storage, pk, sk, out), 0);
    /* the secret seed does not appear in the sealed bytes */
    for (size_t i = 0; i + 32 <= sizeof out; i++)
        assert_memory_not_equal(out + i, sk, 32);
    assert_int_equal(kz_member_sk_open(storage, pk, out, sizeof out, back), 0);
    assert_memory_equal(sk, back, 64);
    /* sealing twice uses fresh nonces */
    uint8_t out2[KZ_MEMBER_SEALED_LEN];
    assert_int_equal(kz_member_sk_seal(storage, pk, sk, out2), 0);
    assert_memory_not_equal(out, out2, sizeof out);
    /* a secret key that does not match pk is refused */
    uint8_t pk2[32], sk2[64];
    crypto_sign_keypair(pk2, sk2);
    assert_int_equal(kz_member_sk_seal(storage, pk2, sk, out2), KZ_EINVAL);
}

static void test_member_seal_wrong_ad(void **state)
{
    uint8_t storage[32], pk[32], sk[64], out[KZ_MEMBER_SEALED_LEN], back[64];
    uint8_t pk2[32], sk2[64];
    randombytes_buf(storage, sizeof storage);
    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    assert_int_equal(kz_member_sk_seal(storage, pk, sk, out), 0);
    /* moved to another member's entry: the associated data differs */
    memset(back, 0xaa, sizeof back);
    assert_int_equal(kz_member_sk_open(storage, pk2, out, sizeof out, back), KZ_ECRYPTO);
    assert_true(sodium_is_zero(back, sizeof back));
    /* wrong storage key */
    uint8_t other[32];
    randombytes_buf(other, sizeof other);
    assert_int_equal(kz_member_sk_open(other, pk, out, sizeof out, back), KZ_ECRYPTO);
    /* any flipped bit */
    for (size_t i = 1; i < sizeof out; i += 7) {
        out[i] ^= 0x01;
        assert_int_equal(kz_member_sk_open(storage, pk, out, sizeof out, back), KZ_ECRYPTO);
        out[i] ^= 0x01;
    }
    /* wrong version or length */
    out[0] = 2;
    assert_int_equal(kz_member_sk_open(storage, pk, out, sizeof out, back), KZ_EINVAL);
    out[0] = 1;
    assert_int_equal(kz_member_sk_open(storage, pk, out, sizeof out - 1, back), KZ_EINVAL);
    assert_int_equal(kz_member_sk_open(storage, pk, out, sizeof out, back), 0);
    assert_memory_equal(back, sk, 64);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_permissions_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_malformed_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_missing_and_not_regular, setup, teardown),
    cmocka_unit_test_setup_teardown(test_keys_load_dir, setup, teardown),
    cmocka_unit_test_setup_teardown(test_member_seal_round_trip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_member_seal_wrong_ad, setup, teardown),
};
KZ_TEST_MAIN(tests)
