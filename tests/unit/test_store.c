/* kz-test-link: kz_store */
/* test_store.c: the LMDB store: acceptance rules, purging, batches, map
 * growth, iteration orders, members, settings, stats, backup and crashes. */
#include "kz_test.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kz_store.h"

#define T0 1700000000000ull /* 2023-11-14, a fixed creation time base */

/* ---- Fixtures ---------------------------------------------------------------- */

typedef struct {
    uint8_t pk[KZ_KEY_BYTES];
    uint8_t sk[KZ_SECKEY_BYTES];
} key;

static void key_make(key *k, uint8_t seed_byte)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, seed_byte, sizeof seed);
    assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, seed), 0);
}

typedef struct {
    char dir[64];
    kz_store *s;
} fx;

static void fx_open_opts(fx *f, const kz_store_opts *o)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/kz_test_store_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(kz_store_create(&f->s, f->dir, o), 0);
    assert_non_null(f->s);
}

static void fx_open(fx *f)
{
    fx_open_opts(f, NULL);
}

static void fx_reopen(fx *f, const kz_store_opts *o)
{
    kz_store_free(f->s);
    f->s = NULL;
    assert_int_equal(kz_store_create(&f->s, f->dir, o), 0);
}

/* Remove a test directory and the (flat) subdirectories a test made. */
static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void fx_close(fx *f)
{
    kz_store_free(f->s);
    f->s = NULL;
    rm_tree(f->dir);
}

/* ---- Record builders (each signs; the caller closes r) ------------------------ */

static void sign_ok(kz_record *r, const key *k)
{
    int rc = kz_record_sign(r, k->sk);
    if (rc)
        fail_msg("sign: %s (%s)", kz_strerror(rc), kz_record_last_error());
}

static void mk_node(kz_record *r, const key *node, uint64_t t)
{
    kz_record_init(r, KZ_T_NODE, node->pk, t);
    r->body.node.name = (kz_str){"Acme", 4};
    sign_ok(r, node);
}

static void mk_attest(kz_record *r, const key *node, const key *member, uint64_t t)
{
    kz_record_init(r, KZ_T_ATTEST, node->pk, t);
    memcpy(r->body.attest.member, member->pk, KZ_KEY_BYTES);
    r->body.attest.role = KZ_ROLE_ALUMNI;
    r->body.attest.joined = 2010;
    r->body.attest.left = 2020;
    sign_ok(r, node);
}

static void mk_revoke(kz_record *r, const key *node, const key *member, uint64_t t)
{
    kz_record_init(r, KZ_T_REVOKE, node->pk, t);
    memcpy(r->body.revoke.member, member->pk, KZ_KEY_BYTES);
    sign_ok(r, node);
}

static void mk_profile(kz_record *r, const key *m, uint64_t t, const char *name)
{
    kz_record_init(r, KZ_T_PROFILE, m->pk, t);
    r->body.profile.name = (kz_str){name, (uint32_t)strlen(name)};
    r->body.profile.current_company = (kz_str){"Initech", 7};
    sign_ok(r, m);
}

static void mk_post(kz_record *r, const key *m, uint64_t t, const char *text)
{
    kz_record_init(r, KZ_T_POST, m->pk, t);
    r->body.post.room = (kz_str){"general", 7};
    r->body.post.text = (kz_str){text, (uint32_t)strlen(text)};
    sign_ok(r, m);
}

static void mk_delete(kz_record *r, const key *by, uint64_t t, const uint8_t target[KZ_ID_BYTES],
                      const uint8_t target_author[KZ_KEY_BYTES])
{
    kz_record_init(r, KZ_T_DELETE, by->pk, t);
    memcpy(r->body.del.target, target, KZ_ID_BYTES);
    memcpy(r->body.del.target_author, target_author, KZ_KEY_BYTES);
    sign_ok(r, by);
}

/* Put and expect rc; returns the result for further checks. */
static kz_put_result put_expect(kz_store *s, const kz_record *r, int want)
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

static void world_open_opts(world *w, const kz_store_opts *o)
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

static void world_open(world *w)
{
    world_open_opts(w, NULL);
}

/* Collects ids from an iterator. */
typedef struct {
    size_t n, stop_after;
    uint8_t ids[64][KZ_ID_BYTES];
    uint64_t created[64];
} collect;

static int collect_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
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

static bool in_author_index(kz_store *s, const uint8_t author[KZ_KEY_BYTES],
                            const uint8_t id[KZ_ID_BYTES])
{
    collect c = {0};
    assert_int_equal(kz_store_iter_author(s, author, collect_cb, &c), 0);
    for (size_t i = 0; i < c.n && i < 64; i++)
        if (memcmp(c.ids[i], id, KZ_ID_BYTES) == 0)
            return true;
    return false;
}

static bool in_order_index(kz_store *s, const uint8_t id[KZ_ID_BYTES])
{
    collect c = {0};
    assert_int_equal(kz_store_iter_order(s, 0, NULL, false, collect_cb, &c), 0);
    for (size_t i = 0; i < c.n && i < 64; i++)
        if (memcmp(c.ids[i], id, KZ_ID_BYTES) == 0)
            return true;
    return false;
}

static bool in_type_index(kz_store *s, int type, const uint8_t id[KZ_ID_BYTES])
{
    collect c = {0};
    assert_int_equal(kz_store_iter_type(s, type, collect_cb, &c), 0);
    for (size_t i = 0; i < c.n && i < 64; i++)
        if (memcmp(c.ids[i], id, KZ_ID_BYTES) == 0)
            return true;
    return false;
}

/* ---- Opening ------------------------------------------------------------------ */

static void test_open_missing_dir(void **state)
{
    kz_store *s = (kz_store *)1;
    assert_int_equal(kz_store_create(&s, "/tmp/kz_test_store_does_not_exist/x", NULL), KZ_EIO);
    assert_null(s);
}

static void test_open_file_mode(void **state)
{
    fx f;
    struct stat st;
    char path[128];
    mode_t old = umask(022);
    fx_open(&f);
    umask(old);
    snprintf(path, sizeof path, "%s/data.mdb", f.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    fx_close(&f);
}

/* ---- Acceptance rules ------------------------------------------------------------ */

static void test_node_accepted(void **state)
{
    fx f;
    key n;
    kz_record r;
    uint8_t slot[KZ_SLOT_BYTES] = {'N'}, head[KZ_ID_BYTES];
    uint8_t buf[KZ_RECORD_MAX];
    size_t len;

    fx_open(&f);
    key_make(&n, 1);
    mk_node(&r, &n, T0);
    put_expect(f.s, &r, 0);
    assert_true(kz_store_has(f.s, r.id));
    assert_int_equal(kz_store_get(f.s, r.id, buf, sizeof buf, &len), 0);
    assert_int_equal(len, r.raw_len);
    assert_memory_equal(buf, r.raw, len);
    assert_int_equal(kz_store_get(f.s, r.id, buf, 3, &len), KZ_ETOOBIG);
    memcpy(slot + 1, n.pk, KZ_KEY_BYTES);
    assert_int_equal(kz_store_head(f.s, slot, head), 0);
    assert_memory_equal(head, r.id, KZ_ID_BYTES);
    kz_record_close(&r);
    fx_close(&f);
}

static void test_attest_needs_node(void **state)
{
    fx f;
    key n, m;
    kz_record node, att;
    uint8_t home[KZ_KEY_BYTES], aid[KZ_ID_BYTES];

    fx_open(&f);
    key_make(&n, 1);
    key_make(&m, 2);
    mk_attest(&att, &n, &m, T0 + 1);
    put_expect(f.s, &att, KZ_EPERM);
    assert_false(kz_store_has(f.s, att.id));
    assert_int_equal(kz_store_member_home(f.s, m.pk, home, aid), KZ_ENOATTEST);

    mk_node(&node, &n, T0);
    put_expect(f.s, &node, 0);
    put_expect(f.s, &att, 0);
    assert_int_equal(kz_store_member_home(f.s, m.pk, home, aid), 0);
    assert_memory_equal(home, n.pk, KZ_KEY_BYTES);
    assert_memory_equal(aid, att.id, KZ_ID_BYTES);
    kz_record_close(&node);
    kz_record_close(&att);
    fx_close(&f);
}

static void test_profile_needs_attest(void **state)
{
    fx f;
    key m;
    kz_record p;
    kz_store_stats st;

    fx_open(&f);
    key_make(&m, 2);
    mk_profile(&p, &m, T0, "Suzuki");
    put_expect(f.s, &p, KZ_ENOATTEST);
    assert_false(kz_store_has(f.s, p.id));
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 0);
    assert_false(in_author_index(f.s, m.pk, p.id));
    kz_record_close(&p);
    fx_close(&f);
}

static void test_duplicate(void **state)
{
    world w;
    kz_record p;
    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "hello");
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &p, KZ_EEXIST);
    kz_record_close(&p);
    fx_close(&w.f);
}

static void test_replace_newer(void **state)
{
    world w;
    kz_record p1, p2;
    uint8_t slot[KZ_SLOT_BYTES], head[KZ_ID_BYTES];
    kz_store_stats st;

    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "Suzuki");
    mk_profile(&p2, &w.a, T0 + 20, "Suzuki Ichiro");
    kz_put_result res = put_expect(w.f.s, &p1, 0);
    assert_false(res.replaced);
    res = put_expect(w.f.s, &p2, 0);
    assert_true(res.replaced);
    assert_false(kz_store_has(w.f.s, p1.id));
    assert_false(in_order_index(w.f.s, p1.id));
    assert_false(in_author_index(w.f.s, w.a.pk, p1.id));
    assert_false(in_type_index(w.f.s, KZ_T_PROFILE, p1.id));
    assert_true(kz_store_has(w.f.s, p2.id));
    assert_true(in_order_index(w.f.s, p2.id));
    assert_true(in_author_index(w.f.s, w.a.pk, p2.id));
    assert_true(kz_record_slot(&p2, slot));
    assert_int_equal(kz_store_head(w.f.s, slot, head), 0);
    assert_memory_equal(head, p2.id, KZ_ID_BYTES);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    /* The replaced version can never come back. */
    put_expect(w.f.s, &p1, KZ_ESTALE);
    kz_record_close(&p1);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_replace_older_stale(void **state)
{
    world w;
    kz_record p1, p2;
    uint8_t slot[KZ_SLOT_BYTES], head[KZ_ID_BYTES];

    world_open(&w);
    mk_profile(&p1, &w.a, T0 + 10, "Old");
    mk_profile(&p2, &w.a, T0 + 20, "New");
    put_expect(w.f.s, &p2, 0);
    put_expect(w.f.s, &p1, KZ_ESTALE);
    assert_false(kz_store_has(w.f.s, p1.id));
    assert_true(kz_record_slot(&p2, slot));
    assert_int_equal(kz_store_head(w.f.s, slot, head), 0);
    assert_memory_equal(head, p2.id, KZ_ID_BYTES);
    kz_record_close(&p1);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_revoke(void **state)
{
    world w;
    kz_record rv, p, att2, p2;

    world_open(&w);
    mk_revoke(&rv, &w.node, &w.a, T0 + 5);
    kz_put_result res = put_expect(w.f.s, &rv, 0);
    assert_true(res.replaced); /* the attest headed the membership slot */
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), KZ_ENOATTEST);
    mk_post(&p, &w.a, T0 + 6, "after revoke");
    put_expect(w.f.s, &p, KZ_ENOATTEST);

    mk_attest(&att2, &w.node, &w.a, T0 + 7);
    put_expect(w.f.s, &att2, 0);
    uint8_t aid[KZ_ID_BYTES];
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, aid), 0);
    assert_memory_equal(aid, att2.id, KZ_ID_BYTES);
    put_expect(w.f.s, &p, 0);
    /* A revoke older than the live attest is stale. */
    mk_revoke(&p2, &w.node, &w.a, T0 + 6);
    put_expect(w.f.s, &p2, KZ_ESTALE);
    kz_record_close(&rv);
    kz_record_close(&p);
    kz_record_close(&att2);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_tombstone_by_author(void **state)
{
    world w;
    kz_record p, d;
    kz_store_stats st;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "regrettable");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    kz_put_result res = put_expect(w.f.s, &d, 0);
    assert_true(res.purged);
    assert_false(kz_store_has(w.f.s, p.id));
    assert_false(in_order_index(w.f.s, p.id));
    assert_false(in_author_index(w.f.s, w.a.pk, p.id));
    assert_false(in_type_index(w.f.s, KZ_T_POST, p.id));
    assert_true(kz_store_is_tombstoned(w.f.s, p.id));
    assert_true(kz_store_has(w.f.s, d.id)); /* the tombstone record travels on */
    put_expect(w.f.s, &p, KZ_EDELETED);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.by_type[KZ_T_POST], 0);
    assert_int_equal(st.by_type[KZ_T_DELETE], 1);
    assert_int_equal(st.tombstones, 1);
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_tombstone_profile_head(void **state)
{
    world w;
    kz_record p, d;
    uint8_t slot[KZ_SLOT_BYTES], head[KZ_ID_BYTES];

    world_open(&w);
    mk_profile(&p, &w.a, T0 + 10, "Gone");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    assert_true(kz_record_slot(&p, slot));
    assert_int_equal(kz_store_head(w.f.s, slot, head), KZ_ENOTFOUND);
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_delete_by_other_member(void **state)
{
    world w;
    key b;
    kz_record att, p, d;

    world_open(&w);
    key_make(&b, 3);
    mk_attest(&att, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &att, 0);
    mk_post(&p, &w.a, T0 + 10, "mine");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &b, T0 + 11, p.id, w.a.pk);
    put_expect(w.f.s, &d, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, p.id));
    assert_false(kz_store_is_tombstoned(w.f.s, p.id));
    assert_false(kz_store_has(w.f.s, d.id));
    kz_record_close(&att);
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_delete_by_node(void **state)
{
    world w;
    key other;
    kz_record p, d, on, d2, p2;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "spam");
    put_expect(w.f.s, &p, 0);
    /* A node that does not attest A may not moderate A. */
    key_make(&other, 9);
    mk_node(&on, &other, T0);
    put_expect(w.f.s, &on, 0);
    mk_post(&p2, &w.a, T0 + 12, "more");
    put_expect(w.f.s, &p2, 0);
    mk_delete(&d2, &other, T0 + 13, p2.id, w.a.pk);
    put_expect(w.f.s, &d2, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, p2.id));

    mk_delete(&d, &w.node, T0 + 11, p.id, w.a.pk);
    kz_put_result res = put_expect(w.f.s, &d, 0);
    assert_true(res.purged);
    assert_false(kz_store_has(w.f.s, p.id));
    put_expect(w.f.s, &p, KZ_EDELETED);
    kz_record_close(&p);
    kz_record_close(&d);
    kz_record_close(&on);
    kz_record_close(&d2);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_tombstone_forged(void **state)
{
    world w;
    key b;
    kz_record att, p, forged, forged2, real;

    world_open(&w);
    key_make(&b, 3);
    mk_attest(&att, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &att, 0);
    mk_post(&p, &w.a, T0 + 10, "target");

    /* B claims the (not yet seen) post is its own and deletes it. */
    mk_delete(&forged, &b, T0 + 11, p.id, b.pk);
    put_expect(w.f.s, &forged, 0);
    assert_true(kz_store_is_tombstoned(w.f.s, p.id));
    /* The real author differs, so that tombstone does not apply. */
    put_expect(w.f.s, &p, 0);
    assert_true(kz_store_has(w.f.s, p.id));
    /* With the target present, the lie is caught at once. */
    mk_delete(&forged2, &b, T0 + 12, p.id, b.pk);
    put_expect(w.f.s, &forged2, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, p.id));
    /* The real author can still delete it, and then it stays deleted. */
    mk_delete(&real, &w.a, T0 + 13, p.id, w.a.pk);
    put_expect(w.f.s, &real, 0);
    assert_false(kz_store_has(w.f.s, p.id));
    put_expect(w.f.s, &p, KZ_EDELETED);
    kz_record_close(&att);
    kz_record_close(&p);
    kz_record_close(&forged);
    kz_record_close(&forged2);
    kz_record_close(&real);
    fx_close(&w.f);
}

static void test_delete_before_target(void **state)
{
    world w;
    kz_record p, d;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "late");
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    kz_put_result res = put_expect(w.f.s, &d, 0);
    assert_false(res.purged);
    assert_true(kz_store_is_tombstoned(w.f.s, p.id));
    put_expect(w.f.s, &p, KZ_EDELETED);
    assert_false(kz_store_has(w.f.s, p.id));
    kz_record_close(&p);
    kz_record_close(&d);
    fx_close(&w.f);
}

static void test_delete_of_delete(void **state)
{
    world w;
    kz_record p, d, dd;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "x");
    put_expect(w.f.s, &p, 0);
    mk_delete(&d, &w.a, T0 + 11, p.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    /* Deletions are never undone: a delete of a stored delete is refused. */
    mk_delete(&dd, &w.a, T0 + 12, d.id, w.a.pk);
    put_expect(w.f.s, &dd, KZ_EPERM);
    assert_true(kz_store_has(w.f.s, d.id));
    kz_record_close(&p);
    kz_record_close(&d);
    kz_record_close(&dd);
    fx_close(&w.f);
}

static void test_blocked(void **state)
{
    world w;
    key m2;
    kz_record p, att, p2;

    world_open(&w);
    key_make(&m2, 4);
    assert_false(kz_store_is_blocked(w.f.s, w.node.pk));
    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, true), 0);
    assert_true(kz_store_is_blocked(w.f.s, w.node.pk));

    mk_post(&p, &w.a, T0 + 10, "from a blocked company");
    put_expect(w.f.s, &p, KZ_EBLOCKED);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), KZ_ENOATTEST);
    mk_attest(&att, &w.node, &m2, T0 + 11);
    put_expect(w.f.s, &att, KZ_EBLOCKED);
    /* A member with no attestation at all is still "not attested". */
    mk_post(&p2, &m2, T0 + 12, "who am I");
    put_expect(w.f.s, &p2, KZ_ENOATTEST);

    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, false), 0);
    assert_false(kz_store_is_blocked(w.f.s, w.node.pk));
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &att, 0);
    put_expect(w.f.s, &p2, 0);
    /* Unblocking twice is harmless. */
    assert_int_equal(kz_store_block_set(w.f.s, w.node.pk, false), 0);
    kz_record_close(&p);
    kz_record_close(&att);
    kz_record_close(&p2);
    fx_close(&w.f);
}

static void test_blocked_other_home(void **state)
{
    world w;
    key n2;
    kz_record node2, att2, p;
    uint8_t home[KZ_KEY_BYTES];

    /* A is attested by N and by N2; blocking N leaves N2 as A's home. */
    world_open(&w);
    key_make(&n2, 5);
    mk_node(&node2, &n2, T0);
    put_expect(w.f.s, &node2, 0);
    mk_attest(&att2, &n2, &w.a, T0 + 3);
    put_expect(w.f.s, &att2, 0);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, home, NULL), 0);
    assert_memory_equal(home, n2.pk, KZ_KEY_BYTES); /* newest attest wins */
    assert_int_equal(kz_store_block_set(w.f.s, n2.pk, true), 0);
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, home, NULL), 0);
    assert_memory_equal(home, w.node.pk, KZ_KEY_BYTES);
    mk_post(&p, &w.a, T0 + 10, "still here");
    put_expect(w.f.s, &p, 0);
    kz_record_close(&node2);
    kz_record_close(&att2);
    kz_record_close(&p);
    fx_close(&w.f);
}

static void test_invalid_record(void **state)
{
    world w;
    kz_record p;
    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "tampered");
    p.id[0] ^= 1; /* id no longer matches the bytes */
    put_expect(w.f.s, &p, KZ_EINVAL);
    kz_record_close(&p);
    kz_record z = {0};
    put_expect(w.f.s, &z, KZ_EINVAL);
    fx_close(&w.f);
}

/* ---- Batches and growth -------------------------------------------------------------- */

static void test_batch_mixed(void **state)
{
    world w;
    key stranger;
    kz_record r[6];
    kz_put_result res[6];
    const kz_record *v[6];

    world_open(&w);
    key_make(&stranger, 7);
    mk_post(&r[0], &w.a, T0 + 10, "one");
    mk_post(&r[1], &stranger, T0 + 11, "not attested");
    mk_profile(&r[2], &w.a, T0 + 12, "Old");
    mk_profile(&r[3], &w.a, T0 + 13, "New");
    mk_post(&r[4], &w.a, T0 + 14, "two");
    r[5] = r[0]; /* duplicate inside the batch (shares r[0]'s bytes) */
    for (int i = 0; i < 6; i++)
        v[i] = &r[i];
    assert_int_equal(kz_store_put_batch(w.f.s, v, 6, res), 0);
    assert_int_equal(res[0].rc, 0);
    assert_int_equal(res[1].rc, KZ_ENOATTEST);
    assert_int_equal(res[2].rc, 0);
    assert_int_equal(res[3].rc, 0);
    assert_true(res[3].replaced);
    assert_false(res[2].replaced);
    assert_int_equal(res[4].rc, 0);
    assert_int_equal(res[5].rc, KZ_EEXIST);
    assert_true(kz_store_has(w.f.s, r[0].id));
    assert_false(kz_store_has(w.f.s, r[1].id));
    assert_false(in_author_index(w.f.s, stranger.pk, r[1].id));
    assert_false(kz_store_has(w.f.s, r[2].id));
    assert_true(kz_store_has(w.f.s, r[3].id));
    assert_true(kz_store_has(w.f.s, r[4].id));
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 5); /* node, attest, post, profile, post */
    assert_int_equal(st.by_type[KZ_T_POST], 2);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    /* A batch where everything is refused commits nothing and still succeeds. */
    assert_int_equal(kz_store_put_batch(w.f.s, v, 1, res), 0);
    assert_int_equal(res[0].rc, KZ_EEXIST);
    for (int i = 0; i < 5; i++)
        kz_record_close(&r[i]);
    fx_close(&w.f);
}

static void test_map_growth(void **state)
{
    fx f;
    key n, m;
    kz_record r;
    enum { N = 3000, B = 100 };
    static kz_record recs[B];
    const kz_record *v[B];
    kz_put_result res[B];
    char text[64];

    kz_store_opts o = {.map_size = 64 * 1024};
    fx_open_opts(&f, &o);
    key_make(&n, 1);
    key_make(&m, 2);
    mk_node(&r, &n, T0);
    put_expect(f.s, &r, 0);
    kz_record_close(&r);
    mk_attest(&r, &n, &m, T0 + 1);
    put_expect(f.s, &r, 0);
    kz_record_close(&r);
    kz_store_stats st;

    for (int i = 0; i < N; i += B) {
        for (int j = 0; j < B; j++) {
            snprintf(text, sizeof text, "post number %d with some padding text", i + j);
            mk_post(&recs[j], &m, T0 + 100 + (uint64_t)(i + j), text);
            v[j] = &recs[j];
        }
        assert_int_equal(kz_store_put_batch(f.s, v, B, res), 0);
        for (int j = 0; j < B; j++) {
            assert_int_equal(res[j].rc, 0);
            kz_record_close(&recs[j]);
        }
    }
    /* Single puts grow the map too. */
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "single %d", i);
        mk_post(&r, &m, T0 + 100000 + (uint64_t)i, text);
        put_expect(f.s, &r, 0);
        kz_record_close(&r);
    }
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_int_equal(st.records, N + 22);
    assert_int_equal(st.by_type[KZ_T_POST], N + 20);
    assert_true(st.map_size >= 1024 * 1024); /* grew from 64 KiB by doubling */
    assert_true(st.used_bytes <= st.map_size);
    fx_close(&f);
}

static void test_map_max(void **state)
{
    fx f;
    key n;
    kz_record r;
    kz_store_opts o = {.map_size = 64 * 1024, .map_size_max = 256 * 1024};
    fx_open_opts(&f, &o);
    key_make(&n, 1);
    mk_node(&r, &n, T0);
    put_expect(f.s, &r, 0);
    kz_record_close(&r);
    /* Keep writing settings until the capped map refuses: it must fail
     * cleanly (KZ_ESTORE) and leave the store usable for reads. */
    static uint8_t val[KZ_SETTING_MAX];
    int rc = 0, i;
    for (i = 0; i < 1000 && rc == 0; i++) {
        char k[32];
        snprintf(k, sizeof k, "fill/%d", i);
        rc = kz_store_setting_put(f.s, k, val, sizeof val);
    }
    assert_int_equal(rc, KZ_ESTORE);
    assert_true(i > 1);
    size_t len;
    assert_int_equal(kz_store_setting_get(f.s, "fill/0", val, sizeof val, &len), 0);
    fx_close(&f);
}

/* ---- Iteration ------------------------------------------------------------------------ */

static void test_iter_order(void **state)
{
    world w;
    kz_record p[5];
    collect c;

    world_open(&w); /* node at T0, attest at T0+1 */
    for (int i = 0; i < 5; i++)
        mk_post(&p[i], &w.a, T0 + 100 + (uint64_t)(4 - i) * 10, "x"); /* inserted newest first */
    for (int i = 0; i < 5; i++)
        put_expect(w.f.s, &p[i], 0);

    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, 0, NULL, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 7);
    for (size_t i = 1; i < c.n; i++)
        assert_true(c.created[i - 1] <= c.created[i]);
    assert_int_equal(c.created[0], T0);
    assert_memory_equal(c.ids[6], p[0].id, KZ_ID_BYTES);

    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, UINT64_MAX, NULL, true, collect_cb, &c), 0);
    assert_int_equal(c.n, 7);
    assert_memory_equal(c.ids[0], p[0].id, KZ_ID_BYTES);
    assert_int_equal(c.created[6], T0);

    /* From the middle, inclusive of an exact (created, id) key. */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, p[2].created_ms, p[2].id, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 3);
    assert_memory_equal(c.ids[0], p[2].id, KZ_ID_BYTES);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, p[2].created_ms, p[2].id, true, collect_cb, &c), 0);
    assert_int_equal(c.n, 5); /* p[2], p[3], p[4], attest, node */
    assert_memory_equal(c.ids[0], p[2].id, KZ_ID_BYTES);
    /* Reverse from a time between records starts below it. */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, p[2].created_ms + 5, NULL, true, collect_cb, &c), 0);
    assert_memory_equal(c.ids[0], p[2].id, KZ_ID_BYTES);
    /* Early stop. */
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    assert_int_equal(kz_store_iter_order(w.f.s, 0, NULL, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    /* Past the end. */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_order(w.f.s, UINT64_MAX, NULL, false, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    for (int i = 0; i < 5; i++)
        kz_record_close(&p[i]);
    fx_close(&w.f);
}

static int abort_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                    const uint8_t *raw, size_t len)
{
    return KZ_EIO;
}

static void test_iter_type(void **state)
{
    world w;
    kz_record p[3], pr;
    collect c = {0};

    world_open(&w);
    for (int i = 0; i < 3; i++) {
        mk_post(&p[i], &w.a, T0 + 100 + (uint64_t)i, "x");
        put_expect(w.f.s, &p[i], 0);
    }
    mk_profile(&pr, &w.a, T0 + 50, "A");
    put_expect(w.f.s, &pr, 0);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_POST, collect_cb, &c), 0);
    assert_int_equal(c.n, 3);
    for (int i = 0; i < 3; i++)
        assert_memory_equal(c.ids[i], p[2 - i].id, KZ_ID_BYTES); /* newest first */
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_PROFILE, collect_cb, &c), 0);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_CONTACT, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_NODE, collect_cb, &c), 0);
    assert_int_equal(c.n, 1); /* the first type's range ends where attest begins */
    assert_int_equal(kz_store_iter_type(w.f.s, 0, collect_cb, &c), KZ_EINVAL);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_MAX + 1, collect_cb, &c), KZ_EINVAL);
    assert_int_equal(kz_store_iter_type(w.f.s, KZ_T_POST, abort_cb, NULL), KZ_EIO);
    for (int i = 0; i < 3; i++)
        kz_record_close(&p[i]);
    kz_record_close(&pr);
    fx_close(&w.f);
}

static void test_iter_author(void **state)
{
    world w;
    key b;
    kz_record att, pa[2], pb;
    collect c = {0};

    world_open(&w);
    key_make(&b, 3);
    mk_attest(&att, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &att, 0);
    mk_post(&pa[0], &w.a, T0 + 10, "a0");
    mk_post(&pa[1], &w.a, T0 + 30, "a1");
    mk_post(&pb, &b, T0 + 20, "b");
    put_expect(w.f.s, &pa[0], 0);
    put_expect(w.f.s, &pb, 0);
    put_expect(w.f.s, &pa[1], 0);
    assert_int_equal(kz_store_iter_author(w.f.s, w.a.pk, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.ids[0], pa[1].id, KZ_ID_BYTES);
    assert_memory_equal(c.ids[1], pa[0].id, KZ_ID_BYTES);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_author(w.f.s, w.node.pk, collect_cb, &c), 0);
    assert_int_equal(c.n, 3); /* node, attest A, attest B */
    uint8_t ff[KZ_KEY_BYTES];
    memset(ff, 0xff, sizeof ff);
    memset(&c, 0, sizeof c);
    assert_int_equal(kz_store_iter_author(w.f.s, ff, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    kz_record_close(&att);
    kz_record_close(&pa[0]);
    kz_record_close(&pa[1]);
    kz_record_close(&pb);
    fx_close(&w.f);
}

/* ---- Members, settings, stats ------------------------------------------------------------ */

static void member_fill(kz_store_member *m, uint8_t b, const char *hr)
{
    memset(m, 0, sizeof *m);
    memset(m->pk, b, sizeof m->pk);
    m->role = KZ_ROLE_EMPLOYEE;
    m->joined = 2001;
    m->left = 2019;
    m->rehire = true;
    m->added_ms = T0 + b;
    m->sealed_sk_len = 72;
    memset(m->sealed_sk, b ^ 0x5a, m->sealed_sk_len);
    snprintf(m->hr_key, sizeof m->hr_key, "%s", hr);
}

static int count_members_cb(void *ud, const kz_store_member *m)
{
    unsigned *n = ud;
    (*n)++;
    return 0;
}

static void test_members(void **state)
{
    fx f;
    kz_store_member a, b, got;
    unsigned n = 0;

    fx_open(&f);
    member_fill(&a, 0x11, "EMP-001");
    member_fill(&b, 0x22, "EMP-002");
    assert_int_equal(kz_store_member_put(f.s, &a), 0);
    assert_int_equal(kz_store_member_put(f.s, &b), 0);
    assert_int_equal(kz_store_member_get(f.s, a.pk, &got), 0);
    assert_memory_equal(&got.pk, &a.pk, KZ_KEY_BYTES);
    assert_int_equal(got.role, a.role);
    assert_int_equal(got.joined, 2001);
    assert_int_equal(got.left, 2019);
    assert_true(got.rehire);
    assert_false(got.revoked);
    assert_int_equal(got.added_ms, a.added_ms);
    assert_int_equal(got.sealed_sk_len, 72);
    assert_memory_equal(got.sealed_sk, a.sealed_sk, 72);
    assert_string_equal(got.hr_key, "EMP-001");
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-002", &got), 0);
    assert_memory_equal(got.pk, b.pk, KZ_KEY_BYTES);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-404", &got), KZ_ENOTFOUND);

    /* hr_key conflict: b may not take a's key, and nothing changes. */
    kz_store_member b2 = b;
    snprintf(b2.hr_key, sizeof b2.hr_key, "EMP-001");
    assert_int_equal(kz_store_member_put(f.s, &b2), KZ_EINVAL);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-001", &got), 0);
    assert_memory_equal(got.pk, a.pk, KZ_KEY_BYTES);
    assert_int_equal(kz_store_member_get(f.s, b.pk, &got), 0);
    assert_string_equal(got.hr_key, "EMP-002");

    /* Changing one's own hr_key frees the old one. */
    snprintf(b2.hr_key, sizeof b2.hr_key, "EMP-003");
    b2.revoked = true;
    assert_int_equal(kz_store_member_put(f.s, &b2), 0);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-002", &got), KZ_ENOTFOUND);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-003", &got), 0);
    assert_true(got.revoked);
    assert_true(got.rehire);

    /* Bad input is refused. */
    kz_store_member bad = a;
    bad.sealed_sk_len = KZ_SEALED_SK_MAX + 1;
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);
    bad = a;
    bad.role = 9;
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);
    bad = a;
    memset(bad.hr_key, 'x', sizeof bad.hr_key); /* not NUL-terminated */
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);
    bad = a;
    snprintf(bad.hr_key, sizeof bad.hr_key, "tab\there");
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);

    uint8_t pk[KZ_KEY_BYTES] = {0};
    assert_int_equal(kz_store_member_get(f.s, pk, &got), KZ_ENOTFOUND);
    assert_int_equal(kz_store_member_iter(f.s, count_members_cb, &n), 0);
    assert_int_equal(n, 2);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_int_equal(st.members, 2);
    fx_close(&f);
}

static void test_settings(void **state)
{
    fx f;
    char buf[64];
    size_t len;

    fx_open(&f);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, sizeof buf, &len), KZ_ENOTFOUND);
    assert_int_equal(kz_store_setting_put(f.s, "node.name", "Acme", 4), 0);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "Acme", 4);
    assert_int_equal(kz_store_setting_put(f.s, "node.name", "Acme Group", 10), 0);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 10);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, 3, &len), KZ_ETOOBIG);
    assert_int_equal(kz_store_setting_put(f.s, "empty", NULL, 0), 0);
    assert_int_equal(kz_store_setting_get(f.s, "empty", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 0);
    static uint8_t big[KZ_SETTING_MAX + 1];
    assert_int_equal(kz_store_setting_put(f.s, "big", big, sizeof big), KZ_ETOOBIG);
    assert_int_equal(kz_store_setting_put(f.s, "big", big, KZ_SETTING_MAX), 0);
    assert_int_equal(kz_store_setting_put(f.s, "", "x", 1), KZ_EINVAL);
    fx_close(&f);
}

static void test_stats(void **state)
{
    world w;
    kz_record p, pr, d;
    kz_store_stats st;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "x");
    mk_profile(&pr, &w.a, T0 + 11, "A");
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &pr, 0);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.by_type[KZ_T_NODE], 1);
    assert_int_equal(st.by_type[KZ_T_ATTEST], 1);
    assert_int_equal(st.by_type[KZ_T_POST], 1);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    assert_int_equal(st.tombstones, 0);
    assert_true(st.map_size >= 64u << 20);
    assert_true(st.used_bytes > 0 && st.used_bytes < st.map_size);
    mk_delete(&d, &w.a, T0 + 12, p.id, w.a.pk);
    put_expect(w.f.s, &d, 0);
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.by_type[KZ_T_POST], 0);
    assert_int_equal(st.by_type[KZ_T_DELETE], 1);
    assert_int_equal(st.tombstones, 1);
    kz_record_close(&p);
    kz_record_close(&pr);
    kz_record_close(&d);
    fx_close(&w.f);
}

/* ---- Whole store: backup, reopen, crash --------------------------------------------------- */

static void test_backup(void **state)
{
    world w;
    kz_record p[10];
    char out[128];
    kz_store *b;

    world_open(&w);
    for (int i = 0; i < 10; i++) {
        mk_post(&p[i], &w.a, T0 + 10 + (uint64_t)i, "backed up");
        put_expect(w.f.s, &p[i], 0);
    }
    assert_int_equal(kz_store_setting_put(w.f.s, "k", "v", 1), 0);
    snprintf(out, sizeof out, "%s/bk", w.f.dir);
    assert_int_equal(kz_store_backup(w.f.s, out), KZ_EIO); /* out dir must exist */
    assert_int_equal(mkdir(out, 0700), 0);
    assert_int_equal(kz_store_backup(w.f.s, out), 0);
    assert_int_equal(kz_store_backup(w.f.s, out), KZ_EEXIST);

    kz_store_opts ro = {.read_only = true};
    assert_int_equal(kz_store_create(&b, out, &ro), 0);
    for (int i = 0; i < 10; i++)
        assert_true(kz_store_has(b, p[i].id));
    assert_int_equal(kz_store_member_home(b, w.a.pk, NULL, NULL), 0);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(b, &st), 0);
    assert_int_equal(st.records, 12);
    assert_int_equal(st.by_type[KZ_T_POST], 10);
    char v;
    size_t len;
    assert_int_equal(kz_store_setting_get(b, "k", &v, 1, &len), 0);
    /* Read-only means read-only. */
    kz_record extra;
    mk_post(&extra, &w.a, T0 + 99, "no");
    put_expect(b, &extra, KZ_EPERM);
    kz_record_close(&extra);
    kz_store_free(b);
    for (int i = 0; i < 10; i++)
        kz_record_close(&p[i]);
    fx_close(&w.f);
}

static void test_reopen(void **state)
{
    world w;
    kz_record p, pr;
    kz_store_member m, got;
    char buf[8];
    size_t len;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "persist");
    mk_profile(&pr, &w.a, T0 + 11, "A");
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &pr, 0);
    member_fill(&m, 0x33, "HR-9");
    assert_int_equal(kz_store_member_put(w.f.s, &m), 0);
    assert_int_equal(kz_store_setting_put(w.f.s, "x", "yz", 2), 0);
    assert_int_equal(kz_store_block_set(w.f.s, m.pk, true), 0);

    fx_reopen(&w.f, NULL);
    assert_true(kz_store_has(w.f.s, p.id));
    assert_true(kz_store_has(w.f.s, pr.id));
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), 0);
    assert_int_equal(kz_store_member_by_hrkey(w.f.s, "HR-9", &got), 0);
    assert_int_equal(kz_store_setting_get(w.f.s, "x", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 2);
    assert_true(kz_store_is_blocked(w.f.s, m.pk));
    put_expect(w.f.s, &p, KZ_EEXIST);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    kz_record_close(&p);
    kz_record_close(&pr);
    fx_close(&w.f);
}

static void test_reopen_keeps_grown_map(void **state)
{
    fx f;
    kz_store_stats st;
    kz_store_opts big = {.map_size = 8u << 20}, small = {.map_size = 1u << 20};
    fx_open_opts(&f, &big);
    fx_reopen(&f, &small);
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_true(st.map_size >= (8u << 20));
    fx_close(&f);
}

/* The child writes posts forever and reports each acknowledged id. */
static void crash_child(const char *dir, int wfd, const key *m)
{
    kz_store *s;
    char text[32];
    if (kz_store_create(&s, dir, NULL) != 0)
        _exit(2);
    for (uint64_t i = 0;; i++) {
        kz_record r;
        kz_record_init(&r, KZ_T_POST, m->pk, T0 + 1000 + i);
        snprintf(text, sizeof text, "crash %llu", (unsigned long long)i);
        r.body.post.room = (kz_str){"general", 7};
        r.body.post.text = (kz_str){text, (uint32_t)strlen(text)};
        if (kz_record_sign(&r, m->sk) != 0)
            _exit(3);
        if (kz_store_put(s, &r, NULL) != 0)
            _exit(4);
        if (write(wfd, r.id, KZ_ID_BYTES) != KZ_ID_BYTES)
            _exit(5);
        kz_record_close(&r);
    }
}

static void test_crash_keeps_acknowledged(void **state)
{
    world w;
    int fds[2];
    enum { MAX_IDS = 4096 };
    static uint8_t ids[MAX_IDS][KZ_ID_BYTES];
    size_t n = 0;

    world_open(&w);
    kz_store_free(w.f.s); /* no LMDB environment may cross fork() */
    w.f.s = NULL;
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(w.f.dir, fds[1], &w.a);
    }
    close(fds[1]);
    /* Let it commit a few dozen records, then kill it mid-stride. */
    while (n < 40) {
        ssize_t got = read(fds[0], ids[n], KZ_ID_BYTES);
        assert_int_equal(got, KZ_ID_BYTES);
        n++;
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    /* Ids already in the pipe were acknowledged before the kill too. */
    for (;;) {
        size_t off = 0;
        ssize_t got = 0;
        while (off < KZ_ID_BYTES && (got = read(fds[0], ids[n] + off, KZ_ID_BYTES - off)) > 0)
            off += (size_t)got;
        if (off < KZ_ID_BYTES || n + 1 >= MAX_IDS)
            break;
        n++;
    }
    close(fds[0]);

    assert_int_equal(kz_store_create(&w.f.s, w.f.dir, NULL), 0);
    for (size_t i = 0; i < n; i++)
        assert_true(kz_store_has(w.f.s, ids[i]));
    /* The store still takes writes after the crash. */
    kz_record p;
    mk_post(&p, &w.a, T0 + 5, "after the crash");
    put_expect(w.f.s, &p, 0);
    kz_record_close(&p);
    fx_close(&w.f);
}

/* A read-only opener in another process follows the writer's map growth. */
static void test_reader_follows_growth(void **state)
{
    world w;
    int ready[2], go[2];
    enum { N = 1500, B = 100 };
    char text[32];
    kz_store_opts small = {.map_size = 64 * 1024};

    world_open_opts(&w, &small);
    kz_store_free(w.f.s);
    w.f.s = NULL;
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]); /* a parent that fails early closes go: we see EOF */
        kz_store *ro;
        kz_store_opts o = {.read_only = true};
        kz_store_stats st;
        char c = 'r';
        if (kz_store_create(&ro, w.f.dir, &o) != 0)
            _exit(2);
        if (kz_store_stats_get(ro, &st) != 0 || st.records != 2)
            _exit(3);
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(4);
        if (kz_store_stats_get(ro, &st) != 0 || st.records != 2 + N)
            _exit(5);
        collect col = {0};
        if (kz_store_iter_order(ro, 0, NULL, false, collect_cb, &col) != 0 || col.n != 2 + N)
            _exit(6);
        kz_store_free(ro);
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(kz_store_create(&w.f.s, w.f.dir, &small), 0);
    static kz_record recs[B];
    const kz_record *v[B];
    kz_put_result res[B];
    kz_store_stats st0, st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st0), 0);
    for (int i = 0; i < N; i += B) {
        for (int j = 0; j < B; j++) {
            snprintf(text, sizeof text, "grow %d", i + j);
            mk_post(&recs[j], &w.a, T0 + 100 + (uint64_t)(i + j), text);
            v[j] = &recs[j];
        }
        assert_int_equal(kz_store_put_batch(w.f.s, v, B, res), 0);
        for (int j = 0; j < B; j++)
            kz_record_close(&recs[j]);
    }
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_true(st.map_size > st0.map_size);
    assert_int_equal(write(go[1], "g", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(ready[0]);
    close(go[1]);
    fx_close(&w.f);
}

/* Readers on other threads while the writer grows (remaps) the map: every
 * record a reader is handed must hash to its id. */
typedef struct {
    kz_store *s;
    atomic_bool stop;
    atomic_uint bad, seen, passes;
} readers;

static int hash_check_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                         const uint8_t *raw, size_t len)
{
    readers *r = ud;
    uint8_t check[KZ_ID_BYTES];
    kz_record_id(check, raw, len);
    if (memcmp(check, id, KZ_ID_BYTES) != 0)
        atomic_fetch_add(&r->bad, 1);
    atomic_fetch_add(&r->seen, 1);
    return 0;
}

static void *reader_main(void *arg)
{
    readers *r = arg;
    while (!atomic_load(&r->stop)) {
        if (kz_store_iter_order(r->s, 0, NULL, false, hash_check_cb, r) != 0)
            atomic_fetch_add(&r->bad, 1);
        kz_store_stats st;
        if (kz_store_stats_get(r->s, &st) != 0)
            atomic_fetch_add(&r->bad, 1);
        atomic_fetch_add(&r->passes, 1);
    }
    return NULL;
}

static void test_reads_during_growth(void **state)
{
    world w;
    enum { N = 2000, B = 50, THREADS = 2 };
    static kz_record recs[B];
    const kz_record *v[B];
    kz_put_result res[B];
    char text[32];
    pthread_t th[THREADS];
    kz_store_opts small = {.map_size = 64 * 1024};

    world_open_opts(&w, &small);
    readers rd = {.s = w.f.s};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd), 0);
    for (int i = 0; i < N; i += B) {
        for (int j = 0; j < B; j++) {
            snprintf(text, sizeof text, "concurrent %d", i + j);
            mk_post(&recs[j], &w.a, T0 + 100 + (uint64_t)(i + j), text);
            v[j] = &recs[j];
        }
        assert_int_equal(kz_store_put_batch(w.f.s, v, B, res), 0);
        for (int j = 0; j < B; j++) {
            assert_int_equal(res[j].rc, 0);
            kz_record_close(&recs[j]);
        }
    }
    atomic_store(&rd.stop, true);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, N + 2);
    assert_true(st.map_size >= 1024 * 1024);
    assert_int_equal(atomic_load(&rd.bad), 0);
    assert_true(atomic_load(&rd.passes) > 0);
    assert_true(atomic_load(&rd.seen) > 0);
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_open_missing_dir),
    cmocka_unit_test(test_open_file_mode),
    cmocka_unit_test(test_node_accepted),
    cmocka_unit_test(test_attest_needs_node),
    cmocka_unit_test(test_profile_needs_attest),
    cmocka_unit_test(test_duplicate),
    cmocka_unit_test(test_replace_newer),
    cmocka_unit_test(test_replace_older_stale),
    cmocka_unit_test(test_revoke),
    cmocka_unit_test(test_tombstone_by_author),
    cmocka_unit_test(test_tombstone_profile_head),
    cmocka_unit_test(test_delete_by_other_member),
    cmocka_unit_test(test_delete_by_node),
    cmocka_unit_test(test_tombstone_forged),
    cmocka_unit_test(test_delete_before_target),
    cmocka_unit_test(test_delete_of_delete),
    cmocka_unit_test(test_blocked),
    cmocka_unit_test(test_blocked_other_home),
    cmocka_unit_test(test_invalid_record),
    cmocka_unit_test(test_batch_mixed),
    cmocka_unit_test(test_map_growth),
    cmocka_unit_test(test_map_max),
    cmocka_unit_test(test_iter_order),
    cmocka_unit_test(test_iter_type),
    cmocka_unit_test(test_iter_author),
    cmocka_unit_test(test_members),
    cmocka_unit_test(test_settings),
    cmocka_unit_test(test_stats),
    cmocka_unit_test(test_backup),
    cmocka_unit_test(test_reopen),
    cmocka_unit_test(test_reopen_keeps_grown_map),
    cmocka_unit_test(test_crash_keeps_acknowledged),
    cmocka_unit_test(test_reader_follows_growth),
    cmocka_unit_test(test_reads_during_growth),
};

KZ_TEST_MAIN(tests)
