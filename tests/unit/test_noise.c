/* kz-test-link: kz_protocol */
/* test_noise.c: the generic Noise engine against the cacophony vectors and its
 * own limits (kizuna's handshake is tested in test_noise_hs.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kz_test.h"
#include "kz_noise.h"

#define VEC_FIELD_MAX 256
#include "vector_fixtures.h"

/* ---- vector files --------------------------------------------------------- */

#define VEC_MSGS_MAX 8
#define VEC_MAX 32

typedef struct {
    char name[80];
    blob init_prologue, init_static, init_ephemeral, init_remote_static, init_psk;
    blob resp_prologue, resp_static, resp_ephemeral, resp_remote_static, resp_psk;
    blob handshake_hash;
    size_t nmsgs;
    blob payload[VEC_MSGS_MAX], ct[VEC_MSGS_MAX];
} vec;

static vec g_vecs[VEC_MAX];
static size_t g_nvecs;
static int g_loaded;

static void load_vectors(void)
{
    if (g_loaded)
        return;
    FILE *f = open_vectors("noise-vectors.txt");
    static char line[2048];
    vec *cur = NULL;
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strchr(line, '\n')); /* no line is longer than the buffer */
        char *w[3];
        int n = words(line, w);
        if (n == 0 || w[0][0] == '#')
            continue;
        if (strcmp(w[0], "vector") == 0) {
            assert_int_equal(n, 2);
            assert_null(cur);
            assert_true(g_nvecs < VEC_MAX);
            cur = &g_vecs[g_nvecs];
            memset(cur, 0, sizeof *cur);
            assert_true(strlen(w[1]) < sizeof cur->name);
            memcpy(cur->name, w[1], strlen(w[1]) + 1);
            continue;
        }
        assert_non_null(cur);
        if (strcmp(w[0], "end") == 0) {
            g_nvecs++;
            cur = NULL;
            continue;
        }
        if (strcmp(w[0], "msg") == 0) {
            assert_int_equal(n, 3);
            assert_true(cur->nmsgs < VEC_MSGS_MAX);
            hex_blob(&cur->payload[cur->nmsgs], w[1]);
            hex_blob(&cur->ct[cur->nmsgs], w[2]);
            cur->nmsgs++;
            continue;
        }
        assert_int_equal(n, 2);
        static const struct { const char *k; size_t off; } F[] = {
            { "init_prologue", offsetof(vec, init_prologue) },
            { "init_static", offsetof(vec, init_static) },
            { "init_ephemeral", offsetof(vec, init_ephemeral) },
            { "init_remote_static", offsetof(vec, init_remote_static) },
            { "init_psk", offsetof(vec, init_psk) },
            { "resp_prologue", offsetof(vec, resp_prologue) },
            { "resp_static", offsetof(vec, resp_static) },
            { "resp_ephemeral", offsetof(vec, resp_ephemeral) },
            { "resp_remote_static", offsetof(vec, resp_remote_static) },
            { "resp_psk", offsetof(vec, resp_psk) },
            { "handshake_hash", offsetof(vec, handshake_hash) },
        };
        size_t i;
        for (i = 0; i < KZ_ARRAY_LEN(F); i++)
            if (strcmp(w[0], F[i].k) == 0)
                break;
        if (i == KZ_ARRAY_LEN(F))
            fail_msg("unknown field %s", w[0]);
        hex_blob((blob *)((char *)cur + F[i].off), w[1]);
    }
    assert_null(cur);
    fclose(f);
    g_loaded = 1;
}

static const uint8_t *opt(const blob *b)
{
    return b->present ? b->b : NULL;
}

/* Run one cacophony vector: every handshake message both ways, the payloads,
 * the handshake hash on both sides, then every transport message through the
 * Split() cipher states. */
static void run_vector(const char *short_name)
{
    load_vectors();
    char full[96];
    snprintf(full, sizeof full, "Noise_%s_25519_ChaChaPoly_SHA256", short_name);
    const vec *v = NULL;
    for (size_t i = 0; i < g_nvecs; i++)
        if (strcmp(g_vecs[i].name, full) == 0)
            v = &g_vecs[i];
    if (!v)
        fail_msg("vector %s not in noise-vectors.txt", full);

    kz_noise_config ci = { .protocol = v->name, .initiator = 1,
                           .prologue = v->init_prologue.b, .prologue_len = v->init_prologue.n,
                           .s = opt(&v->init_static), .rs = opt(&v->init_remote_static),
                           .psk = opt(&v->init_psk) };
    kz_noise_config cr = { .protocol = v->name, .initiator = 0,
                           .prologue = v->resp_prologue.b, .prologue_len = v->resp_prologue.n,
                           .s = opt(&v->resp_static), .rs = opt(&v->resp_remote_static),
                           .psk = opt(&v->resp_psk) };
    kz_noise_state *ini = NULL, *res = NULL;
    assert_int_equal(kz_noise_state_create(&ini, &ci), 0);
    assert_int_equal(kz_noise_state_create(&res, &cr), 0);
    assert_int_equal(kz_noise_state_set_ephemeral(ini, v->init_ephemeral.b), 0);
    assert_int_equal(kz_noise_state_set_ephemeral(res, v->resp_ephemeral.b), 0);

    uint8_t out[KZ_NOISE_MSG_MAX], pt[KZ_NOISE_MSG_MAX];
    size_t k = 0, n = 0;
    while (kz_noise_state_action(ini) != KZ_NOISE_DONE) {
        assert_true(k < v->nmsgs);
        kz_noise_state *w = k % 2 == 0 ? ini : res, *r = k % 2 == 0 ? res : ini;
        assert_int_equal(kz_noise_state_action(w), KZ_NOISE_WRITE);
        assert_int_equal(kz_noise_state_action(r), KZ_NOISE_READ);
        assert_int_equal(kz_noise_state_msg_len(w, v->payload[k].n), v->ct[k].n);
        assert_int_equal(kz_noise_state_write(w, v->payload[k].b, v->payload[k].n, out,
                                              sizeof out, &n), 0);
        assert_int_equal(n, v->ct[k].n);
        assert_memory_equal(out, v->ct[k].b, n);
        assert_int_equal(kz_noise_state_read(r, v->ct[k].b, v->ct[k].n, pt, sizeof pt, &n), 0);
        assert_int_equal(n, v->payload[k].n);
        if (n)
            assert_memory_equal(pt, v->payload[k].b, n);
        k++;
    }
    assert_int_equal(kz_noise_state_action(res), KZ_NOISE_DONE);

    uint8_t h[KZ_NOISE_HASHLEN];
    assert_int_equal(v->handshake_hash.n, sizeof h);
    assert_int_equal(kz_noise_state_hash(ini, h), 0);
    assert_memory_equal(h, v->handshake_hash.b, sizeof h);
    assert_int_equal(kz_noise_state_hash(res, h), 0);
    assert_memory_equal(h, v->handshake_hash.b, sizeof h);

    /* Each side now knows the other's static key if the peer has one. */
    uint8_t rs[KZ_NOISE_DHLEN], pub[KZ_NOISE_DHLEN];
    if (v->resp_static.present) {
        assert_int_equal(crypto_scalarmult_base(pub, v->resp_static.b), 0);
        assert_int_equal(kz_noise_state_remote_static(ini, rs), 0);
        assert_memory_equal(rs, pub, sizeof rs);
    } else {
        assert_int_equal(kz_noise_state_remote_static(ini, rs), KZ_ENOTFOUND);
    }
    if (v->init_static.present) {
        assert_int_equal(crypto_scalarmult_base(pub, v->init_static.b), 0);
        assert_int_equal(kz_noise_state_remote_static(res, rs), 0);
        assert_memory_equal(rs, pub, sizeof rs);
    }

    kz_noise_cipher i_tx, i_rx, r_rx, r_tx;
    assert_int_equal(kz_noise_state_split(ini, &i_tx, &i_rx), 0);
    assert_int_equal(kz_noise_state_split(res, &r_rx, &r_tx), 0);
    assert_int_equal(kz_noise_state_split(ini, &i_tx, &i_rx), KZ_EINVAL); /* one-shot */
    assert_true(k < v->nmsgs); /* the vectors always carry transport messages */
    for (; k < v->nmsgs; k++) {
        int from_init = k % 2 == 0;
        kz_noise_cipher *enc = from_init ? &i_tx : &r_tx, *dec = from_init ? &r_rx : &i_rx;
        assert_int_equal(kz_noise_cipher_encrypt(enc, NULL, 0, v->payload[k].b, v->payload[k].n,
                                                 out, sizeof out, &n), 0);
        assert_int_equal(n, v->ct[k].n);
        assert_memory_equal(out, v->ct[k].b, n);
        assert_int_equal(kz_noise_cipher_decrypt(dec, NULL, 0, v->ct[k].b, v->ct[k].n, pt,
                                                 sizeof pt, &n), 0);
        assert_int_equal(n, v->payload[k].n);
        assert_memory_equal(pt, v->payload[k].b, n);
    }
    kz_noise_cipher_close(&i_tx);
    kz_noise_cipher_close(&i_rx);
    kz_noise_cipher_close(&r_tx);
    kz_noise_cipher_close(&r_rx);
    kz_noise_state_free(ini);
    kz_noise_state_free(res);
}

static const char *const VECTOR_NAMES[] = {
    "NN", "KK", "XK", "IK", "XX", "NNpsk0", "NNpsk2", "NKpsk0", "XKpsk3", "XXpsk3",
    "KKpsk0", "IKpsk2",
};

#define VECTOR_TEST(p) \
    static void test_vector_##p(void **state) { (void)state; run_vector(#p); }
VECTOR_TEST(NN)
VECTOR_TEST(KK)
VECTOR_TEST(XK)
VECTOR_TEST(IK)
VECTOR_TEST(XX)
VECTOR_TEST(NNpsk0)
VECTOR_TEST(NNpsk2)
VECTOR_TEST(NKpsk0)
VECTOR_TEST(XKpsk3)
VECTOR_TEST(XXpsk3)
VECTOR_TEST(KKpsk0)
VECTOR_TEST(IKpsk2)

/* Every vector in the file has its named test above, so a regenerated file
 * with more vectors cannot pass unnoticed. */
static void test_vectors_file_complete(void **state)
{
    (void)state;
    load_vectors();
    assert_int_equal(g_nvecs, KZ_ARRAY_LEN(VECTOR_NAMES));
    for (size_t i = 0; i < g_nvecs; i++) {
        int found = 0;
        for (size_t j = 0; j < KZ_ARRAY_LEN(VECTOR_NAMES); j++) {
            char full[96];
            snprintf(full, sizeof full, "Noise_%s_25519_ChaChaPoly_SHA256", VECTOR_NAMES[j]);
            found |= strcmp(full, g_vecs[i].name) == 0;
        }
        if (!found)
            fail_msg("vector %s has no named test", g_vecs[i].name);
    }
}

/* ---- CipherState ------------------------------------------------------------ */

static void test_cipher_nonce_layout(void **state)
{
    (void)state;
    uint8_t key[32], pt[5] = "hello", ad[3] = "abc", out[64], ref[64];
    size_t n = 0;
    unsigned long long rn = 0;
    randombytes_buf(key, sizeof key);
    kz_noise_cipher c;
    kz_noise_cipher_init(&c, key);
    c.n = 0x0102030405060708ull;
    assert_int_equal(kz_noise_cipher_encrypt(&c, ad, sizeof ad, pt, sizeof pt, out, sizeof out, &n), 0);
    assert_int_equal(n, sizeof pt + KZ_NOISE_TAGLEN);
    assert_true(c.n == 0x0102030405060709ull);
    /* Noise: 32 bits of zeros, then the counter little-endian. */
    const uint8_t npub[12] = { 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1 };
    assert_int_equal(crypto_aead_chacha20poly1305_ietf_encrypt(ref, &rn, pt, sizeof pt, ad, sizeof ad,
                                                               NULL, npub, key), 0);
    assert_int_equal(rn, n);
    assert_memory_equal(out, ref, n);
    kz_noise_cipher_close(&c);
    assert_int_equal(c.has_key, 0);
}

static void test_cipher_without_key_is_identity(void **state)
{
    (void)state;
    kz_noise_cipher c;
    kz_noise_cipher_init(&c, NULL);
    uint8_t pt[4] = { 1, 2, 3, 4 }, out[8];
    size_t n = 0;
    assert_int_equal(kz_noise_cipher_encrypt(&c, NULL, 0, pt, sizeof pt, out, sizeof out, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, pt, 4);
    assert_true(c.n == 0);
}

static void test_cipher_rejects_tamper_and_keeps_nonce(void **state)
{
    (void)state;
    uint8_t key[32] = { 7 }, pt[10] = { 0 }, ct[64], back[64];
    size_t n = 0, m = 0;
    kz_noise_cipher a, b;
    kz_noise_cipher_init(&a, key);
    kz_noise_cipher_init(&b, key);
    assert_int_equal(kz_noise_cipher_encrypt(&a, NULL, 0, pt, sizeof pt, ct, sizeof ct, &n), 0);
    ct[3] ^= 0x40;
    assert_int_equal(kz_noise_cipher_decrypt(&b, NULL, 0, ct, n, back, sizeof back, &m), KZ_EAUTH);
    assert_true(b.n == 0);
    ct[3] ^= 0x40;
    assert_int_equal(kz_noise_cipher_decrypt(&b, NULL, 0, ct, 15, back, sizeof back, &m), KZ_EPROTO);
    assert_int_equal(kz_noise_cipher_decrypt(&b, NULL, 0, ct, n, back, 9, &m), KZ_ETOOBIG);
    assert_int_equal(kz_noise_cipher_decrypt(&b, NULL, 0, ct, n, back, sizeof back, &m), 0);
    assert_int_equal(m, sizeof pt);
    a.n = UINT64_MAX; /* the reserved nonce */
    assert_int_equal(kz_noise_cipher_encrypt(&a, NULL, 0, pt, sizeof pt, ct, sizeof ct, &n), KZ_ETOOBIG);
}

/* ---- generic HandshakeState -------------------------------------------------- */

static const uint8_t K_S1[32] = { 1, 2, 3 }, K_S2[32] = { 4, 5, 6 }, K_PSK[32] = { 9, 9, 9 };

static void test_protocol_names(void **state)
{
    (void)state;
    static const char *const good[] = {
        "Noise_XXpsk0_25519_ChaChaPoly_SHA256",
        "Noise_XXpsk0+psk3_25519_ChaChaPoly_SHA256",
        "Noise_XX_25519_ChaChaPoly_SHA256",
    };
    static const char *const bad[] = {
        "Noise_XX_448_ChaChaPoly_SHA256",      "Noise_XX_25519_AESGCM_SHA256",
        "Noise_XX_25519_ChaChaPoly_BLAKE2s",   "Noise_XXpsk4_25519_ChaChaPoly_SHA256",
        "Noise_XXpsk0+psk0_25519_ChaChaPoly_SHA256", "Noise_XXpsk_25519_ChaChaPoly_SHA256",
        "Noise_XXpsk0+_25519_ChaChaPoly_SHA256", "Noise_XXfallback_25519_ChaChaPoly_SHA256",
        "Noise_IX_25519_ChaChaPoly_SHA256",    "Noise__25519_ChaChaPoly_SHA256",
        "Noise_XX_25519_ChaChaPoly_SHA256x",   "noise_XX_25519_ChaChaPoly_SHA256",
        "Noise_XXpsk10_25519_ChaChaPoly_SHA256", "",
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(good); i++) {
        kz_noise_state *st = NULL;
        int psk = strstr(good[i], "psk") != NULL;
        kz_noise_config c = { .protocol = good[i], .initiator = 1, .s = K_S1,
                              .psk = psk ? K_PSK : NULL };
        assert_int_equal(kz_noise_state_create(&st, &c), 0);
        kz_noise_state_free(st);
    }
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        kz_noise_state *st = (kz_noise_state *)1;
        kz_noise_config c = { .protocol = bad[i], .initiator = 1, .s = K_S1, .psk = K_PSK };
        assert_int_equal(kz_noise_state_create(&st, &c), KZ_EINVAL);
        assert_null(st);
    }
}

static void test_create_key_requirements(void **state)
{
    (void)state;
    kz_noise_state *st = NULL;
    const char *xk = "Noise_XK_25519_ChaChaPoly_SHA256";
    kz_noise_config c = { .protocol = xk, .initiator = 1, .s = K_S1, .rs = K_S2 };
    assert_int_equal(kz_noise_state_create(&st, &c), 0);
    kz_noise_state_free(st);
    c.rs = NULL; /* XK initiator must know the responder's static key */
    assert_int_equal(kz_noise_state_create(&st, &c), KZ_EINVAL);
    c.rs = K_S2;
    c.s = NULL; /* and sends its own */
    assert_int_equal(kz_noise_state_create(&st, &c), KZ_EINVAL);
    c.s = K_S1;
    c.psk = K_PSK; /* no psk modifier: a PSK would be silently unused */
    assert_int_equal(kz_noise_state_create(&st, &c), KZ_EINVAL);
    kz_noise_config r = { .protocol = xk, .initiator = 0, .s = K_S2, .rs = K_S1 };
    assert_int_equal(kz_noise_state_create(&st, &r), KZ_EINVAL); /* responder learns rs */
    kz_noise_config p = { .protocol = "Noise_NNpsk0_25519_ChaChaPoly_SHA256", .initiator = 1 };
    assert_int_equal(kz_noise_state_create(&st, &p), KZ_EINVAL); /* psk missing */
    kz_noise_config big = { .protocol = "Noise_NN_25519_ChaChaPoly_SHA256", .initiator = 1,
                            .prologue = K_S1, .prologue_len = KZ_NOISE_MSG_MAX + 1 };
    assert_int_equal(kz_noise_state_create(&st, &big), KZ_ETOOBIG);
}

static void make_xxpsk0_pair(kz_noise_state **i, kz_noise_state **r)
{
    kz_noise_config ci = { .protocol = KZ_NOISE_PROTOCOL, .initiator = 1, .s = K_S1, .psk = K_PSK };
    kz_noise_config cr = { .protocol = KZ_NOISE_PROTOCOL, .initiator = 0, .s = K_S2, .psk = K_PSK };
    assert_int_equal(kz_noise_state_create(i, &ci), 0);
    assert_int_equal(kz_noise_state_create(r, &cr), 0);
}

static void test_generic_out_of_turn_fails_closed(void **state)
{
    (void)state;
    kz_noise_state *i, *r;
    make_xxpsk0_pair(&i, &r);
    uint8_t buf[256];
    size_t n;
    /* The responder may not speak first; the misuse kills the state. */
    assert_int_equal(kz_noise_state_write(r, NULL, 0, buf, sizeof buf, &n), KZ_EINVAL);
    assert_int_equal(kz_noise_state_action(r), KZ_NOISE_FAILED);
    assert_int_equal(kz_noise_state_write(i, NULL, 0, buf, sizeof buf, &n), 0);
    assert_int_equal(kz_noise_state_read(r, buf, n, NULL, 0, &n), KZ_EINVAL);
    assert_int_equal(kz_noise_state_remote_static(r, buf), KZ_EINVAL);
    assert_int_equal(kz_noise_state_set_ephemeral(r, K_S1), KZ_EINVAL);
    /* The initiator may not write twice. */
    assert_int_equal(kz_noise_state_write(i, NULL, 0, buf, sizeof buf, &n), KZ_EINVAL);
    assert_int_equal(kz_noise_state_action(i), KZ_NOISE_FAILED);
    assert_int_equal(kz_noise_state_hash(i, buf), KZ_EINVAL);
    kz_noise_state_free(i);
    kz_noise_state_free(r);
}

static void test_generic_size_limits(void **state)
{
    (void)state;
    kz_noise_state *i, *r;
    static uint8_t big[KZ_NOISE_MSG_MAX + 2], out[KZ_NOISE_MSG_MAX + 2], pt[KZ_NOISE_MSG_MAX];
    size_t n;
    /* msg1 of XXpsk0 is e (32) + payload + tag (16). */
    make_xxpsk0_pair(&i, &r);
    assert_int_equal(kz_noise_state_msg_len(i, 0), 48);
    assert_int_equal(kz_noise_state_msg_len(i, KZ_NOISE_MSG_MAX - 48), KZ_NOISE_MSG_MAX);
    assert_int_equal(kz_noise_state_msg_len(i, KZ_NOISE_MSG_MAX - 47), 0);
    assert_int_equal(kz_noise_state_write(i, big, KZ_NOISE_MSG_MAX - 47, out, sizeof out, &n),
                     KZ_ETOOBIG);
    assert_int_equal(kz_noise_state_action(i), KZ_NOISE_FAILED);
    kz_noise_state_free(i);
    kz_noise_state_free(r);

    /* Too small an output buffer is refused before any work. */
    make_xxpsk0_pair(&i, &r);
    assert_int_equal(kz_noise_state_write(i, NULL, 0, out, 47, &n), KZ_ETOOBIG);
    kz_noise_state_free(i);
    kz_noise_state_free(r);

    /* The largest message round-trips. */
    make_xxpsk0_pair(&i, &r);
    randombytes_buf(big, KZ_NOISE_MSG_MAX - 48);
    assert_int_equal(kz_noise_state_write(i, big, KZ_NOISE_MSG_MAX - 48, out, sizeof out, &n), 0);
    assert_int_equal(n, KZ_NOISE_MSG_MAX);
    assert_int_equal(kz_noise_state_read(r, out, n, pt, sizeof pt, &n), 0);
    assert_int_equal(n, KZ_NOISE_MSG_MAX - 48);
    assert_memory_equal(pt, big, n);
    kz_noise_state_free(i);
    kz_noise_state_free(r);

    /* Reads: over the limit, shorter than the tokens, payload over capacity. */
    make_xxpsk0_pair(&i, &r);
    assert_int_equal(kz_noise_state_read(r, big, KZ_NOISE_MSG_MAX + 1, pt, sizeof pt, &n), KZ_ETOOBIG);
    kz_noise_state_free(r);
    kz_noise_config cr = { .protocol = KZ_NOISE_PROTOCOL, .initiator = 0, .s = K_S2, .psk = K_PSK };
    assert_int_equal(kz_noise_state_create(&r, &cr), 0);
    assert_int_equal(kz_noise_state_read(r, big, 47, pt, sizeof pt, &n), KZ_EPROTO);
    kz_noise_state_free(r);
    assert_int_equal(kz_noise_state_create(&r, &cr), 0);
    assert_int_equal(kz_noise_state_write(i, (const uint8_t *)"xyz", 3, out, sizeof out, &n), 0);
    assert_int_equal(kz_noise_state_read(r, out, n, pt, 2, &n), KZ_ETOOBIG);
    assert_int_equal(kz_noise_state_action(r), KZ_NOISE_FAILED);
    kz_noise_state_free(i);
    kz_noise_state_free(r);
}

/* XXpsk0 through the generic API with payloads of several sizes: lengths
 * follow the pattern and both sides agree on hash and keys. */
static void test_generic_xxpsk0_payload_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 0, 1, 33, 1000 };
    for (size_t s = 0; s < KZ_ARRAY_LEN(sizes); s++) {
        kz_noise_state *i, *r;
        make_xxpsk0_pair(&i, &r);
        uint8_t msg[2048], pl[1024], got[1024];
        size_t n, m;
        memset(pl, (int)s, sizeof pl);
        const size_t overhead[3] = { 48, 32 + 48 + 16, 48 + 16 };
        for (int k = 0; k < 3; k++) {
            kz_noise_state *w = k % 2 == 0 ? i : r, *rd = k % 2 == 0 ? r : i;
            assert_int_equal(kz_noise_state_write(w, pl, sizes[s], msg, sizeof msg, &n), 0);
            assert_int_equal(n, overhead[k] + sizes[s]);
            assert_int_equal(kz_noise_state_read(rd, msg, n, got, sizeof got, &m), 0);
            assert_int_equal(m, sizes[s]);
            assert_memory_equal(got, pl, m);
        }
        uint8_t h1[32], h2[32];
        assert_int_equal(kz_noise_state_hash(i, h1), 0);
        assert_int_equal(kz_noise_state_hash(r, h2), 0);
        assert_memory_equal(h1, h2, 32);
        kz_noise_cipher a1, b1, a2, b2;
        assert_int_equal(kz_noise_state_split(i, &a1, &b1), 0);
        assert_int_equal(kz_noise_state_split(r, &a2, &b2), 0);
        assert_memory_equal(a1.k, a2.k, 32);
        assert_memory_equal(b1.k, b2.k, 32);
        assert_memory_not_equal(a1.k, b1.k, 32);
        kz_noise_state_free(i);
        kz_noise_state_free(r);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vector_NN),
    cmocka_unit_test(test_vector_KK),
    cmocka_unit_test(test_vector_XK),
    cmocka_unit_test(test_vector_IK),
    cmocka_unit_test(test_vector_XX),
    cmocka_unit_test(test_vector_NNpsk0),
    cmocka_unit_test(test_vector_NNpsk2),
    cmocka_unit_test(test_vector_NKpsk0),
    cmocka_unit_test(test_vector_XKpsk3),
    cmocka_unit_test(test_vector_XXpsk3),
    cmocka_unit_test(test_vector_KKpsk0),
    cmocka_unit_test(test_vector_IKpsk2),
    cmocka_unit_test(test_vectors_file_complete),
    cmocka_unit_test(test_cipher_nonce_layout),
    cmocka_unit_test(test_cipher_without_key_is_identity),
    cmocka_unit_test(test_cipher_rejects_tamper_and_keeps_nonce),
    cmocka_unit_test(test_protocol_names),
    cmocka_unit_test(test_create_key_requirements),
    cmocka_unit_test(test_generic_out_of_turn_fails_closed),
    cmocka_unit_test(test_generic_size_limits),
    cmocka_unit_test(test_generic_xxpsk0_payload_sizes),
};

KZ_TEST_MAIN(tests)
