/* store_fixtures.h: temporary stores, keys and signed records shared by the
 * store unit tests (test_store.c, test_store_env.c). Include after kz_test.h. */
#ifndef KZ_STORE_FIXTURES_H
#define KZ_STORE_FIXTURES_H

#include <dirent.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kz_store.h"

#define T0 1700000000000ull /* 2023-11-14, a fixed creation time base */

/* ---- Fixtures ---------------------------------------------------------------- */

typedef struct {
    uint8_t pk[KZ_KEY_BYTES];
    uint8_t sk[KZ_SECKEY_BYTES];
} key;

static inline void key_make(key *k, uint8_t seed_byte)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, seed_byte, sizeof seed);
    assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, seed), 0);
}

typedef struct {
    char dir[64];
    kz_store *s;
} fx;

static inline void fx_open_opts(fx *f, const kz_store_opts *o)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/kz_test_store_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(kz_store_create(&f->s, f->dir, o), 0);
    assert_non_null(f->s);
}

static inline void fx_open(fx *f)
{
    fx_open_opts(f, NULL);
}

static inline void fx_reopen(fx *f, const kz_store_opts *o)
{
    kz_store_free(f->s);
    f->s = NULL;
    assert_int_equal(kz_store_create(&f->s, f->dir, o), 0);
}

/* Remove a test directory and the (flat) subdirectories a test made. */
static inline void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static inline void fx_close(fx *f)
{
    kz_store_free(f->s);
    f->s = NULL;
    rm_tree(f->dir);
}

/* ---- Record builders (each signs; the caller closes r) ------------------------ */

static inline void sign_ok(kz_record *r, const key *k)
{
    int rc = kz_record_sign(r, k->sk);
    if (rc)
        fail_msg("sign: %s (%s)", kz_strerror(rc), kz_record_last_error());
}

static inline void mk_node(kz_record *r, const key *node, uint64_t t)
{
    kz_record_init(r, KZ_T_NODE, node->pk, t);
    r->body.node.name = (kz_str){"Acme", 4};
    sign_ok(r, node);
}

static inline void mk_attest(kz_record *r, const key *node, const key *member, uint64_t t)
{
    kz_record_init(r, KZ_T_ATTEST, node->pk, t);
    memcpy(r->body.attest.member, member->pk, KZ_KEY_BYTES);
    r->body.attest.role = KZ_ROLE_ALUMNI;
    r->body.attest.joined = 2010;
    r->body.attest.left = 2020;
    sign_ok(r, node);
}

static inline void mk_revoke(kz_record *r, const key *node, const key *member, uint64_t t)
{
    kz_record_init(r, KZ_T_REVOKE, node->pk, t);
    memcpy(r->body.revoke.member, member->pk, KZ_KEY_BYTES);
    sign_ok(r, node);
}

static inline void mk_profile(kz_record *r, const key *m, uint64_t t, const char *name)
{
    kz_record_init(r, KZ_T_PROFILE, m->pk, t);
    r->body.profile.name = (kz_str){name, (uint32_t)strlen(name)};
    r->body.profile.current_company = (kz_str){"Initech", 7};
    sign_ok(r, m);
}

static inline void mk_post(kz_record *r, const key *m, uint64_t t, const char *text)
{
    kz_record_init(r, KZ_T_POST, m->pk, t);
    r->body.post.room = (kz_str){"general", 7};
    r->body.post.text = (kz_str){text, (uint32_t)strlen(text)};
    sign_ok(r, m);
}

static inline void mk_delete(kz_record *r, const key *by, uint64_t t, const uint8_t target[KZ_ID_BYTES],
                      const uint8_t target_author[KZ_KEY_BYTES])
{
    kz_record_init(r, KZ_T_DELETE, by->pk, t);
    memcpy(r->body.del.target, target, KZ_ID_BYTES);
    memcpy(r->body.del.target_author, target_author, KZ_KEY_BYTES);
    sign_ok(r, by);
}

static inline void mk_reaction(kz_record *r, const key *m, uint64_t t, const uint8_t target[KZ_ID_BYTES],
                               uint8_t kind)
{
    kz_record_init(r, KZ_T_REACTION, m->pk, t);
    memcpy(r->body.reaction.target, target, KZ_ID_BYTES);
    r->body.reaction.kind = kind;
    sign_ok(r, m);
}

/* Put and expect rc; returns the result for further checks. */
static inline kz_put_result put_expect(kz_store *s, const kz_record *r, int want)
{
    kz_put_result res;
    int rc = kz_store_put(s, r, &res);
    if (rc != want)
        fail_msg("put %s: got %s, want %s", kz_rtype_name(r->type), kz_strerror(rc),
                 kz_strerror(want));
    assert_int_equal(res.rc, rc);
    return res;
}

/* A store with node N (seed 1) attesting member A (seed 2). */
typedef struct {
    fx f;
    key node, a;
} world;

static inline void world_open_opts(world *w, const kz_store_opts *o)
{
    kz_record r;
    fx_open_opts(&w->f, o);
    key_make(&w->node, 1);
    key_make(&w->a, 2);
    mk_node(&r, &w->node, T0);
    put_expect(w->f.s, &r, 0);
    kz_record_close(&r);
    mk_attest(&r, &w->node, &w->a, T0 + 1);
    put_expect(w->f.s, &r, 0);
    kz_record_close(&r);
}

static inline void world_open(world *w)
{
    world_open_opts(w, NULL);
}

/* Collects ids from an iterator. */
typedef struct {
    size_t n, stop_after;
    uint8_t ids[64][KZ_ID_BYTES];
    uint64_t created[64];
} collect;

static inline int collect_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                      const uint8_t *raw, size_t len)
{
    collect *c = ud;
    uint8_t check[KZ_ID_BYTES];
    kz_record_id(check, raw, len); /* the bytes handed over are the record's */
    assert_memory_equal(check, id, KZ_ID_BYTES);
    if (c->n < 64) {
        memcpy(c->ids[c->n], id, KZ_ID_BYTES);
        c->created[c->n] = created_ms;
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after ? 1 : 0;
}

static inline bool in_author_index(kz_store *s, const uint8_t author[KZ_KEY_BYTES],
                            const uint8_t id[KZ_ID_BYTES])
{
    collect c = {0};
    assert_int_equal(kz_store_iter_author(s, author, collect_cb, &c), 0);
    for (size_t i = 0; i < c.n && i < 64; i++)
        if (memcmp(c.ids[i], id, KZ_ID_BYTES) == 0)
            return true;
    return false;
}

static inline bool in_order_index(kz_store *s, const uint8_t id[KZ_ID_BYTES])
{
    collect c = {0};
    assert_int_equal(kz_store_iter_order(s, 0, NULL, false, collect_cb, &c), 0);
    for (size_t i = 0; i < c.n && i < 64; i++)
        if (memcmp(c.ids[i], id, KZ_ID_BYTES) == 0)
            return true;
    return false;
}

static inline bool in_type_index(kz_store *s, int type, const uint8_t id[KZ_ID_BYTES])
{
    collect c = {0};
    assert_int_equal(kz_store_iter_type(s, type, collect_cb, &c), 0);
    for (size_t i = 0; i < c.n && i < 64; i++)
        if (memcmp(c.ids[i], id, KZ_ID_BYTES) == 0)
            return true;
    return false;
}

#endif
